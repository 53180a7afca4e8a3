from yiwang.core.documents import Document, cjk_font, qr_svg_data_uri, render_pdf


def test_pdf_renders_chinese_with_an_embedded_font():
    doc = Document(
        title="受理通知书",
        issuer="广州市天河区市场监督管理局",
        number="穗天市监受字〔2026〕第 0001 号",
        recipient="张三",
        paragraphs=["你（单位）提交的食品经营许可申请，经审查，申请材料齐全、符合法定形式，决定予以受理。"],
        fields=[("办件编号", "440106-20261122-000001"), ("承诺办结日期", "2026年12月07日")],
        table_header=["材料", "份数"],
        table_rows=[["营业执照", "1"], ["食品安全管理制度", "1"]],
        seal_text="（印章）",
        date_text="2026年11月22日",
        qr_payload="https://example.gov.cn/v/abc",
    )
    pdf = render_pdf(doc)
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000
    _name, embedded = cjk_font()
    if embedded:
        assert b"FontFile2" in pdf  # the TrueType subset is inside the file


def test_qr_data_uri():
    assert qr_svg_data_uri("hello").startswith("data:image/svg+xml")

"""The builder's document encoding (索引文档编码): the one-pass encoder gives the same JSON as the original."""

import base64
import json

from yiwang.search import index
from yiwang.search.documents import Action, SearchDocument

from .conftest import SAMPLE


def reference_encode(doc: SearchDocument, *, rep: bool = True) -> str:
    """The encoder as it was before ``encode_bucketed`` (commit 2ecf5a8), kept as the expected output, with the
    content digest and the representative flag of schema 4."""
    card = base64.b64encode(index.card_json(doc).encode()).decode("ascii")
    return (
        f'{{"key":{index._string(doc.key)}'
        + index._text_json(
            doc.title, doc.short_name, tuple(doc.aliases), tuple(doc.materials), doc.guide or "", doc.faq or ""
        )
        + index._department_json(doc.department)
        + index._region_json(doc.region_code)
        + index._facets_json(doc.kind, doc.level, tuple(doc.themes), tuple(doc.service_objects), bool(doc.online))
        + index._boost_json(float(doc.popularity))
        + f',"facet_id":{index.facet_id(index.doc_facets(doc))}'
        + f',"content":{index.content_digest(doc)}'
        + (',"rep":"1"' if rep else "")
        + f',"card":"{card}"}}'
    )


def variants() -> list[SearchDocument]:
    docs = list(SAMPLE)
    docs.append(
        SearchDocument(
            kind="department",
            code="D1",
            title="廣州市公安局",
            aliases=["市公安局", "公安局", ""],
            department="广州市公安局",
            region_code="440100000000",
            region_name="广州市",
            level=2,
            themes=["出境入境", "出境入境", "户籍"],
            service_objects=["自然人", "自然人"],
            url="/departments/D1/",
            actions=[Action("open", "查看", "/departments/D1/"), Action("book", "预约", "/book/D1/")],
            popularity=12.5,
            summary="负责……",
        )
    )
    docs.append(SearchDocument(kind="faq", code="F1", title="怎么补办护照？", faq="带身份证到出入境大厅。"))
    docs.append(
        SearchDocument(
            kind="bundle",
            code="B1",
            title="开办餐饮店一件事",
            aliases=["食品经营许可", "营业执照"],
            guide="一次提交，并联审批",
            department="广州市政务服务数据管理局",
            region_code="440106000000",
            level=3,
            online=True,
            item_type="一件事",
            actions=[Action("apply", "在线办理", "/apply/B1/")],
        )
    )
    return docs


def test_encode_bucketed_equals_the_original_encoding():
    for doc in variants():
        bucket, line = index.encode_bucketed(doc)
        assert line == reference_encode(doc), doc.code
        assert index.encode(doc) == line
        assert bucket == index._bucket(doc, rep=True)
        assert index.encode_bucketed(doc, {index.content_digest(doc)})[0] == index._bucket(doc) != bucket
        parsed = json.loads(line)
        assert json.loads(base64.b64decode(parsed["card"])) == doc.card()


def test_facet_ids_survive_the_bounded_cache_being_emptied(monkeypatch):
    monkeypatch.setattr(index, "_FACET_IDS_MAX", 2)
    index._FACET_IDS.clear()
    docs = variants()
    first = [index.encode_bucketed(d)[1] for d in docs]
    assert len(index._FACET_IDS) <= 2
    assert [index.encode_bucketed(d)[1] for d in docs] == first == [reference_encode(d) for d in docs]


def test_content_digest_names_what_text_scores_depend_on_but_the_department():
    fields = {"kind": "item", "title": "护照补办", "materials": ["身份证"], "guide": "带证件"}
    base = SearchDocument(code="A", department="甲局", **fields)
    same = SearchDocument(code="B", department="乙局", region_code="440106000000", **fields)
    assert index.content_digest(base) == index.content_digest(same)
    for change in ({"title": "护照"}, {"short_name": "护照"}, {"aliases": ["x"]}, {"materials": []}, {"faq": "问"}):
        other = SearchDocument(**{**base.__dict__, **change})
        assert index.content_digest(other) != index.content_digest(base), change
    assert 0 <= index.content_digest(base) < 2**63


def test_the_first_document_of_each_content_is_its_representative():
    docs = [SearchDocument(kind="item", code=f"C{i}", title="护照" if i % 2 else "签证") for i in range(5)]
    reps: set[int] = set()
    flags = ['"rep":"1"' in index.encode_bucketed(d, reps)[1] for d in docs]
    assert flags == [True, True, False, False, False]
    assert reps == {index.content_digest(docs[0]), index.content_digest(docs[1])}
    assert index.encode(docs[2], rep=False) == reference_encode(docs[2], rep=False)

"""The builder's document encoding (索引文档编码): the one-pass encoder gives the same JSON as the original."""

import base64
import json

from yiwang.search import index
from yiwang.search.documents import Action, SearchDocument

from .conftest import SAMPLE


def reference_filters(doc: SearchDocument, *, rep: bool) -> list[str]:
    """A document's filter terms in the order the encoder writes them, spelled out here (schema 5)."""
    terms = ["o:1" if doc.online else "o:0"]
    terms += [f"k:{doc.kind}"] if doc.kind else []
    terms += [f"l:{int(doc.level)}"] if doc.level else []
    terms += [f"t:{t}" for t in dict.fromkeys(doc.themes) if t]
    terms += [f"a:{a}" for a in dict.fromkeys(doc.service_objects) if a]
    terms += [f"d:{doc.department}"] if doc.department else []
    if doc.region_code:
        terms += [f"r:{doc.region_code}", *(f"ra:{p}" for p in index.region_prefixes(doc.region_code))]
    terms += ["p:popular"] if index.popularity_boost(doc.popularity) > 0 else []
    return terms + (["rep:1"] if rep else [])


def reference_encode(doc: SearchDocument, *, rep: bool = True) -> str:
    """The encoder as it was before ``encode_bucketed`` (commit 2ecf5a8), kept as the expected output, with the
    content digest of schema 4 and the filter terms of schema 5 (values without spaces or ``%``)."""
    card = base64.b64encode(index.card_json(doc).encode()).decode("ascii")
    department = index._short(doc.department) if doc.department else ""
    boost = index.popularity_boost(float(doc.popularity))
    return (
        f'{{"key":{index._string(doc.key)}'
        + index._text_json(
            doc.title, doc.short_name, tuple(doc.aliases), tuple(doc.materials), doc.guide or "", doc.faq or ""
        )
        + (f',"dept":{index._string(department)}' if department else "")
        + f',"filters":{index._string(" ".join(reference_filters(doc, rep=rep)))}'
        + f',"boost":{boost!r}'
        + f',"facet_id":{index.facet_id(index.doc_facets(doc))}'
        + f',"content":{index.content_digest(doc)}'
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
    flags = [" rep:1" in json.loads(index.encode_bucketed(d, reps)[1])["filters"] for d in docs]
    assert flags == [True, True, False, False, False]
    assert reps == {index.content_digest(docs[0]), index.content_digest(docs[1])}
    assert index.encode(docs[2], rep=False) == reference_encode(docs[2], rep=False)


def awkward() -> list[SearchDocument]:
    """Documents whose filter values hold what a term could be split at or confused by: spaces (ASCII, the
    ideographic one, a tab), ``%`` and a literal escape, upper case, a value that looks like another filter's term."""
    values = [
        ("X1", "广州 市 公安局", ["出境 入境"], ["自然人"]),
        ("X2", "广州市公安局", ["出境入境"], ["自然人\u3000企业"]),
        ("X3", "100%\t局", ["k:item"], ["%20;"]),
        ("X4", "Foshan PSB", ["VIP Service"], ["vip service"]),
        ("X5", "d:广州市公安局", ["出境入境"], [" 自然人 "]),
    ]
    return [
        SearchDocument(
            kind="item" if i % 2 else "department",
            code=code,
            title=f"测试事项{i}",
            department=department,
            region_code=("440106000000", "440100000000", "440000000000")[i % 3],
            region_name="",
            level=i % 4,
            themes=themes,
            service_objects=objects,
            online=bool(i % 2),
            popularity=float(i % 3 == 0) * 7,
        )
        for i, (code, department, themes, objects) in enumerate(values)
    ]


def filter_values(doc: SearchDocument) -> dict[str, set[str]]:
    """Every filter value of a document, from its fields (what a filter on that value must find)."""
    return {
        "kind": {doc.kind},
        "department": {doc.department},
        "level": {str(int(doc.level))} if doc.level else set(),
        "theme": set(doc.themes),
        "audience": set(doc.service_objects),
        "online": {"1" if doc.online else "0"},
        "region_code": {doc.region_code},
        "region_anc": set(index.region_prefixes(doc.region_code)),
        "tier": {"popular"} if index.popularity_boost(doc.popularity) > 0 else set(),
    }


def test_each_filter_value_finds_exactly_the_documents_that_hold_it(tmp_path):
    """Schema 5 writes every filter as a prefixed term in one field: a value split at a space, confused with
    another filter's value or escaped differently from the query would find other documents, or none."""
    docs = list({d.key: d for d in [*variants(), *awkward()]}.values())  # one document per key
    store = index.IndexStore(tmp_path / "ix")
    store.build(docs, num_threads=1)
    searcher = store.searcher()
    expected: dict[tuple[str, str], set[str]] = {}
    for d in docs:
        for name, values in filter_values(d).items():
            for value in values:
                if value:
                    expected.setdefault((name, value), set()).add(d.key)
    for name, value in [("department", "广州"), ("theme", "出境"), ("audience", "企业"), ("kind", "k:item")]:
        expected.setdefault((name, value), set())  # parts of values, another filter's term: nothing
    assert ("department", "广州 市 公安局") in expected and ("audience", "%20;") in expected
    assert {name for name, _ in expected} == set(index.FILTER_PREFIXES) - {"rep"}
    for (name, value), keys in expected.items():
        hits = searcher.search(index.filter_query(name, value), limit=100, count=True)
        found = {searcher.doc(address).get_first("key") for _, address in hits.hits}
        assert found == keys, (name, value)
        assert index.filter_doc_freq(searcher, name, value) == len(keys), (name, value)
    reps = searcher.search(index.filter_query("rep", "1"), limit=100, count=True).count
    assert reps == len({index.content_digest(d) for d in docs})
    assert index.filter_term("department", "a b%c") == "d:a%20;b%25;c"

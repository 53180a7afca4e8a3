"""Parallel analysis (并行分析): a forked worker encodes part of a large build, with the same result."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
from collections import defaultdict

import pytest

from yiwang.search import index, parallel
from yiwang.search.documents import Action, SearchDocument
from yiwang.search.engine import SearchEngine
from yiwang.search.index import IndexStore
from yiwang.search.synonyms import SynonymTable, load_seed

pytestmark = pytest.mark.skipif(not parallel.available(), reason="needs fork")

NAMES = [
    "办理普通护照",
    "换发普通护照",
    "办理往来港澳通行证",
    "辦理往來台灣通行證",
    "企业职工社会保险费断缴补缴申报",
    "企业职工基本养老金申领",
    "内资有限责任公司设立登记",
    "兼职律师执业许可",
    "住房公积金提取",
    "机动车驾驶证补证",
    "居民身份证挂失",
    "出生医学证明补发",
]
QUALIFIERS = ["", "（遗失补办）", "（跨省通办）", "（变更）", "（首次申请）"]
REGIONS = [
    ("440000000000", "广东省", 1),
    ("440100000000", "广州市", 2),
    ("440106000000", "天河区", 3),
    ("440106001000", "天河区五山街道", 4),
    ("440300000000", "深圳市", 2),
    ("440304000000", "福田区", 3),
    ("445100000000", "潮州市", 2),
]


def many(n: int, seed: int = 7) -> list[SearchDocument]:
    """``n`` documents: a few dozen contents, each implemented in many regions (as the province's catalogue)."""
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        name = rng.choice(NAMES)
        code, region, level = rng.choice(REGIONS)
        docs.append(
            SearchDocument(
                kind="item",
                code=f"T{i:06d}",
                title=name + rng.choice(QUALIFIERS),
                short_name=name[2:6],
                aliases=[name[:4]] if i % 3 else [],
                materials=["居民身份证", f"{name}申请表"],
                guide=f"{name}：申请人携带材料到窗口办理，{rng.randrange(3)}个工作日办结。",
                faq="问：能否网上办理？答：可以。" if i % 5 == 0 else "",
                department=f"{region}{'公安局' if '证' in name else '人力资源和社会保障局'}",
                department_id=rng.randrange(1, 50),
                region_code=code,
                region_name=region,
                level=level,
                themes=["出境入境"] if "通行证" in name else ["社会保障"],
                service_objects=["自然人", "企业法人"][: 1 + i % 2],
                online=bool(i % 2),
                item_type="行政许可",
                url=f"/items/T{i:06d}/",
                actions=[Action("guide", "查看指南", f"/items/T{i:06d}/")],
                popularity=float(rng.randrange(500)) if rng.random() < 0.05 else 0.0,
                summary=name,
            )
        )
    return docs


def spooled(tmp_path, docs, encode=index.encode_bucketed, **kwargs) -> list[tuple[str, str]]:
    """What the index builder reads: every bucket in order, each bucket's lines."""
    directory = tmp_path / f"spool-{len(list(tmp_path.iterdir()))}"
    directory.mkdir()
    spool = parallel.spool(docs, encode, directory, **kwargs)
    out = [(bucket, line.rstrip("\n")) for bucket in spool.buckets() for line in spool.lines(bucket)]
    assert spool.count == len(out)
    return out


def single(docs) -> list[tuple[str, str]]:
    by_bucket: dict[str, list[str]] = defaultdict(list)
    for doc in docs:
        bucket, line = index.encode_bucketed(doc)
        by_bucket[bucket].append(line)
    return [(bucket, line) for bucket in sorted(by_bucket) for line in by_bucket[bucket]]


def test_a_parallel_spool_is_the_single_process_spool_in_order(tmp_path):
    docs = many(3000)
    stats: dict = {}
    counted = []
    got = spooled(tmp_path, docs, parallel=True, min_documents=0, stats=stats, progress=counted.append)
    assert got == single(docs)
    assert sum(counted) == len(docs)
    assert stats["processes"] == 2
    assert stats["main_documents"] + stats["worker_documents"] == len(docs)
    assert stats["main_documents"] > 0 and stats["worker_documents"] > 0
    assert stats["worker_cpu_s"] >= 0 and stats["main_cpu_s"] > 0


def test_every_content_is_analysed_by_one_process_only(tmp_path):
    log = tmp_path.parent / f"{tmp_path.name}-who.txt"

    def encode(doc):
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"{os.getpid()}\t{doc.title}\n")
        return index.encode_bucketed(doc)

    docs = many(2000)
    assert spooled(tmp_path, docs, encode, parallel=True, min_documents=0, main_share=0.5) == single(docs)
    by_title: dict[str, set[str]] = defaultdict(set)
    for line in log.read_text(encoding="utf-8").splitlines():
        pid, title = line.split("\t")
        by_title[title].add(pid)
    assert sum(1 for _ in log.read_text(encoding="utf-8").splitlines()) == len(docs)
    assert {title for title in by_title} == {d.title for d in docs}
    assert all(len(pids) == 1 for pids in by_title.values())
    assert len(set().union(*by_title.values())) == 2  # both processes had a share


def test_small_builds_and_the_setting_use_one_process(tmp_path, monkeypatch):
    docs = many(50)
    for kwargs in ({"parallel": True, "min_documents": 51}, {"parallel": False, "min_documents": 0}):
        stats: dict = {}
        assert spooled(tmp_path, docs, stats=stats, **kwargs) == single(docs)
        assert stats["processes"] == 1
    monkeypatch.setattr(parallel, "available", lambda: False)  # no fork on this platform
    stats = {}
    assert spooled(tmp_path, docs, parallel=True, min_documents=0, stats=stats) == single(docs)
    assert stats["processes"] == 1


def _results(store: IndexStore, queries: list[str]) -> list[list[tuple[str, float]]]:
    table = SynonymTable(load_seed())
    engine = SearchEngine(store, synonyms=lambda: table)
    out = []
    for q in queries:
        for region in ("", "440106001000"):
            r = engine.search(q, region_code=region or None, limit=20)
            out.append([(h.card["code"], round(h.score, 5)) for h in r.hits] + [("total", r.total)])
    return out


def _stored_keys(store: IndexStore) -> list[tuple[int, int, str]]:
    import tantivy

    searcher = store.searcher()
    hits = searcher.search(tantivy.Query.all_query(), limit=searcher.num_docs, count=False).hits
    return sorted((a.segment_ord, a.doc, searcher.doc(a)["key"][0]) for _, a in hits)


def _representatives(store: IndexStore) -> list[str]:

    searcher = store.searcher()
    query = index.filter_query("rep", "1")
    return sorted(searcher.doc(a)["key"][0] for _, a in searcher.search(query, limit=10_000, count=False).hits)


def test_a_parallel_build_is_the_same_index(tmp_path, monkeypatch):
    docs = many(4000)
    one, two = IndexStore(tmp_path / "one"), IndexStore(tmp_path / "two")
    r1 = one.build(docs, parallel=False, num_threads=1)  # one writer thread: a deterministic doc order
    monkeypatch.setattr(parallel, "MIN_DOCUMENTS", 1000)
    r2 = two.build(iter(docs), parallel=True, num_threads=1)
    assert r1["analysis"]["processes"] == 1 and r2["analysis"]["processes"] == 2
    assert r2["documents"] == len(docs)
    assert _stored_keys(one) == _stored_keys(two)
    assert _representatives(one) == _representatives(two)  # the first document of each content, both times
    assert len(_representatives(one)) > 60  # (60 titles × guide variants)
    queries = ["护照", "港澳通行证", "台湾", "社保", "养老金", "公司设立", "律师", "gjj", "huzhao", "遗失补办"]
    assert _results(one, queries) == _results(two, queries)
    assert multiprocessing.active_children() == []


def _live(store: IndexStore) -> tuple[str | None, int]:
    store.refresh()
    return store.current_generation(), store.stats()["documents"]


@pytest.fixture
def built(tmp_path, monkeypatch):
    store = IndexStore(tmp_path / "index")
    store.build(many(100))
    monkeypatch.setattr(parallel, "MIN_DOCUMENTS", 500)
    return store


def _assert_clean(store: IndexStore, before: tuple[str | None, int]) -> None:
    assert _live(store) == before  # the previous generation is still the live one, whole
    assert sorted(p.name for p in store.path.glob("gen-*")) == [before[0]]
    assert not (store.path / "rebuilding").exists()
    assert not list(store.path.glob("spool-*"))
    assert multiprocessing.active_children() == []


def test_a_killed_worker_fails_the_build_and_keeps_the_live_index(built):
    before = _live(built)

    def documents():
        for i, doc in enumerate(many(3000)):
            if i == 1500:  # the worker runs by now (forked at the 500th document)
                for child in multiprocessing.active_children():
                    os.kill(child.pid, signal.SIGKILL)
            yield doc

    with pytest.raises(parallel.AnalysisWorkerError, match="ended unexpectedly"):
        built.build(documents(), parallel=True)
    _assert_clean(built, before)


def test_an_exception_in_the_worker_fails_the_build_with_its_traceback(built, monkeypatch):
    before = _live(built)
    builder = os.getpid()
    encode = index.encode_bucketed

    def failing(doc, *args, **kwargs):
        if os.getpid() != builder and doc.code == "T002000":
            raise ValueError("cannot analyse T002000")
        return encode(doc, *args, **kwargs)

    monkeypatch.setattr(index, "encode_bucketed", failing)
    monkeypatch.setattr(parallel, "content_key", lambda doc: 999)  # every document goes to the worker
    with pytest.raises(parallel.AnalysisWorkerError, match="ValueError: cannot analyse T002000"):
        built.build(many(3000), parallel=True)
    _assert_clean(built, before)


def test_a_failing_source_fails_the_build_and_ends_the_worker(built):
    before = _live(built)

    def documents():
        yield from many(1200)
        raise ConnectionError("database went away")

    with pytest.raises(ConnectionError, match="database went away"):
        built.build(documents(), parallel=True)
    _assert_clean(built, before)


def test_state_kept_per_content_is_the_same_as_in_one_process(tmp_path):
    """An encoder that marks the first document of each content (as the index's representatives do) marks the
    same documents when a worker encodes part of them: a content's documents all go to one process."""

    def first_marked(doc, seen):
        content = (doc.title, doc.short_name, tuple(doc.aliases), tuple(doc.materials), doc.guide, doc.faq)
        bucket, line = index.encode_bucketed(doc)
        first = content not in seen
        seen.add(content)
        return ("0" if first else "1") + bucket, line + ("*" if first else "")

    docs = many(3000)
    alone = spooled(tmp_path, docs, lambda d, seen=set(): first_marked(d, seen), parallel=False)
    shared = spooled(tmp_path, docs, lambda d, seen=set(): first_marked(d, seen), parallel=True, min_documents=0)
    assert shared == alone
    assert 100 < sum(line.endswith("*") for _, line in alone) < len(docs)

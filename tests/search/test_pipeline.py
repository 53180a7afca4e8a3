"""Pipelined build (流水线构建): rounds analysed here and indexed by a forked process, each in build order."""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections import defaultdict

import pytest
import tantivy

from yiwang.search import index, pipeline
from yiwang.search.index import IndexStore

from .test_parallel import _assert_clean, _live, _representatives, _results, _stored_keys, many

pytestmark = pytest.mark.skipif(not pipeline.available(), reason="needs fork")
QUERIES = ["护照", "港澳通行证", "台湾", "社保", "养老金", "公司设立", "律师", "gjj", "huzhao", "遗失补办"]


def _round_order(docs, size: int) -> list[str]:
    """The keys in the order the pipeline indexes them: round by round, each round in build order (buckets),
    with one representative per content over the whole build (the first document of the content)."""
    reps: set[int] = set()
    keys = []
    for start in range(0, len(docs), size):
        by_bucket: dict[str, list[str]] = defaultdict(list)
        for doc in docs[start : start + size]:
            bucket, _ = index.encode_bucketed(doc, reps)
            by_bucket[bucket].append(doc.key)
        keys += [key for bucket in sorted(by_bucket) for key in by_bucket[bucket]]
    return keys


def _scores(store: IndexStore) -> list[list[float]]:
    """Per query and region: the scores of the top 20 and the total (tied documents may come in another order)."""
    return [[s for _, s in hits] for hits in _results(store, QUERIES)]


@pytest.mark.parametrize("count", [3000, 2500])
def test_a_pipelined_build_indexes_the_rounds_one_after_the_other_in_build_order(tmp_path, count):
    docs = many(count)
    one, rounds = IndexStore(tmp_path / "one"), IndexStore(tmp_path / "rounds")
    r1 = one.build(docs, pipeline=False, parallel=False, num_threads=1)
    r2 = rounds.build(iter(docs), pipeline=True, round_size=1000, num_threads=1)  # one writer thread: doc order
    assert r1["analysis"]["processes"] == 1
    assert r2["analysis"]["processes"] == 2 and r2["analysis"]["rounds"] == 3
    assert r2["documents"] == count and rounds.stats()["documents"] == count
    assert [key for _, _, key in _stored_keys(rounds)] == _round_order(docs, 1000)
    assert [key for _, _, key in _stored_keys(one)] == _round_order(docs, count)
    # one representative per content, the first document of each, as in a build of one round
    assert _representatives(rounds) == _representatives(one)
    # the same scores and totals (the same documents and statistics; ties may be ordered differently)
    assert _scores(rounds) == _scores(one)
    assert multiprocessing.active_children() == []
    assert not list(rounds.path.glob("spool-*"))


def test_a_build_of_one_round_is_indexed_here(tmp_path):
    docs = many(1000)
    store = IndexStore(tmp_path / "index")
    result = store.build(docs, pipeline=True, round_size=1000, num_threads=1)
    assert result["analysis"]["processes"] == 1 and result["documents"] == 1000
    assert [key for _, _, key in _stored_keys(store)] == _round_order(docs, 1000)


def test_a_pipelined_build_replays_updates_made_meanwhile(tmp_path):
    store = IndexStore(tmp_path / "index")
    store.build(many(100))
    late = many(1, seed=99)[0]
    late.code, late.title = "LATE", "迟到的事项"

    def documents():
        for i, doc in enumerate(many(2500)):
            if i == 1800:  # the indexing process runs: an update of the live generation is noted for the rebuild
                store.apply(upsert=[late])
            yield doc

    result = store.build(documents(), pipeline=True, round_size=1000, replay=lambda keys: [late])
    assert result["replayed"] == 1 and result["analysis"]["processes"] == 2
    assert store.stats()["documents"] == 2501
    searcher = store.searcher()
    hits = searcher.search(tantivy.Query.term_query(index.SCHEMA, "key", "item:LATE"), limit=2).hits
    assert len(hits) == 1


def test_a_killed_indexing_process_fails_the_build_and_keeps_the_live_index(tmp_path):
    store = IndexStore(tmp_path / "index")
    store.build(many(100))
    before = _live(store)

    def documents():
        for i, doc in enumerate(many(3000)):
            if i == 1500:  # the indexing process was forked at the end of the first round
                for child in multiprocessing.active_children():
                    os.kill(child.pid, signal.SIGKILL)
            yield doc

    with pytest.raises(pipeline.IndexingWorkerError, match="ended unexpectedly"):
        store.build(documents(), pipeline=True, round_size=1000)
    _assert_clean(store, before)


def test_an_error_in_the_indexing_process_fails_the_build_with_its_traceback(tmp_path, monkeypatch):
    store = IndexStore(tmp_path / "index")
    store.build(many(100))
    before = _live(store)
    encode = index.encode_bucketed

    def broken(doc, *args, **kwargs):
        bucket, line = encode(doc, *args, **kwargs)
        return bucket, line[:-2] if doc.code == "T000400" else line  # not JSON: tantivy refuses it

    monkeypatch.setattr(index, "encode_bucketed", broken)
    with pytest.raises(pipeline.IndexingWorkerError, match=r"(?s)indexing process failed:.*ValueError"):
        store.build(many(3000), pipeline=True, round_size=1000)
    _assert_clean(store, before)


def test_a_failing_source_fails_the_pipelined_build_and_ends_the_indexing_process(tmp_path):
    store = IndexStore(tmp_path / "index")
    store.build(many(100))
    before = _live(store)

    def documents():
        yield from many(1500)
        raise ConnectionError("database went away")

    with pytest.raises(ConnectionError, match="database went away"):
        store.build(documents(), pipeline=True, round_size=1000)
    _assert_clean(store, before)

"""The query log: batched, and written by a background thread when deferred (``yiwang serve``)."""

from __future__ import annotations

import threading

import pytest

from yiwang.search import querylog
from yiwang.search.models import SearchLog, ZeroResultQuery


@pytest.fixture(autouse=True)
def empty_buffer():
    querylog.clear()
    yield
    querylog._background.stop()
    querylog.clear()


def record(query: str, results: int = 3) -> None:
    querylog.record(query=query, raw=query, region_code="440106", results=results, channel="api", took_ms=1.0)


@pytest.mark.django_db
def test_inline_batches_are_written_when_full(settings):
    settings.SEARCH_LOG_DEFERRED = False
    settings.SEARCH_LOG_BATCH = 3
    settings.SEARCH_LOG_SECONDS = 3600
    record("护照")
    record("社保")
    assert querylog.pending() == 2 and SearchLog.objects.count() == 0
    record("无此事项", results=0)
    assert querylog.pending() == 0 and SearchLog.objects.count() == 3
    assert ZeroResultQuery.objects.get().query == "无此事项"


@pytest.mark.django_db(transaction=True)
def test_deferred_batches_are_written_by_a_background_thread(settings, monkeypatch):
    settings.SEARCH_LOG_DEFERRED = True
    settings.SEARCH_LOG_BATCH = 2
    settings.SEARCH_LOG_SECONDS = 3600
    writers = []
    written = threading.Event()
    original = querylog.flush

    def flush():
        writers.append(threading.current_thread().name)
        try:
            return original()
        finally:
            written.set()

    monkeypatch.setattr(querylog, "flush", flush)
    record("护照")
    record("无此事项", results=0)  # the batch is full: the background thread is woken, the caller goes on
    # wait for the thread's write before reading (SQLite's shared in-memory test database locks whole tables)
    assert written.wait(timeout=10)
    assert SearchLog.objects.count() == 2
    assert ZeroResultQuery.objects.get().count == 1
    assert writers and set(writers) == {"search-log-flusher"}

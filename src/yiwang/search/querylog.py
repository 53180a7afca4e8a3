"""Query log (搜索日志) with a small in-process buffer, so a search never waits on a database write.

Entries are written in batches (every ``SEARCH_LOG_BATCH`` searches or ``SEARCH_LOG_SECONDS`` seconds,
and at exit). Zero-result queries are also counted in :class:`~yiwang.search.models.ZeroResultQuery`.
Under ``yiwang serve`` (``SEARCH_LOG_DEFERRED``) a batch is written by a background thread of the worker,
so no search request waits on the database write (decision 0015); tests and the CLI write inline.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

log = logging.getLogger(__name__)


@dataclass
class Entry:
    query: str
    raw: str
    region_code: str
    results: int
    channel: str
    took_ms: float
    at: object


_buffer: list[Entry] = []
_lock = threading.Lock()
_last_flush = time.monotonic()


def record(*, query: str, raw: str, region_code: str | None, results: int, channel: str, took_ms: float) -> None:
    global _last_flush
    if not query:
        return
    raw = "".join(ch if ch.isprintable() else " " for ch in raw[:200])  # no NUL or control characters stored
    entry = Entry(query[:100], raw, (region_code or "")[:12], results, channel[:16], took_ms, timezone.now())
    with _lock:
        _buffer.append(entry)
        due = len(_buffer) >= getattr(settings, "SEARCH_LOG_BATCH", 50) or (
            time.monotonic() - _last_flush >= getattr(settings, "SEARCH_LOG_SECONDS", 5.0)
        )
    if due:
        if getattr(settings, "SEARCH_LOG_DEFERRED", False):
            _background.wake()
        else:
            flush()


class _Flusher:
    """One daemon thread per process that writes the buffered entries when woken."""

    idle = 30.0  # seconds without a wake after which the thread closes its database connection

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._stop = False

    def wake(self) -> None:
        if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                    self._wake = threading.Event()
                    self._thread = threading.Thread(target=self._run, name="search-log-flusher", daemon=True)
                    self._pid = os.getpid()
                    self._stop = False
                    self._thread.start()
        self._wake.set()

    def stop(self) -> None:
        """Write what is buffered, close the thread's connection and end the thread (tests)."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._stop = True
            self._wake.set()
            thread.join(timeout=10)
        self._thread = None

    def _run(self) -> None:
        from django.db import connection

        while True:
            if not self._wake.wait(timeout=self.idle):
                connection.close()
                continue
            self._wake.clear()
            if self._stop:
                flush()
                connection.close()
                return
            if flush() == 0 and _buffer:  # failed (logged): reconnect before the next batch
                connection.close()


_background = _Flusher()


def flush() -> int:
    """Write the buffered entries; returns how many."""
    global _last_flush
    with _lock:
        entries = list(_buffer)
        _buffer.clear()
        _last_flush = time.monotonic()
    if not entries:
        return 0
    from .models import SearchLog, ZeroResultQuery

    try:
        with transaction.atomic():
            SearchLog.objects.bulk_create(
                [
                    SearchLog(
                        query=e.query,
                        raw=e.raw,
                        region_code=e.region_code,
                        results=e.results,
                        channel=e.channel,
                        took_ms=e.took_ms,
                        created_at=e.at,
                    )
                    for e in entries
                ]
            )
            zero: dict[str, list[Entry]] = {}
            for e in entries:
                if e.results == 0:
                    zero.setdefault(e.query, []).append(e)
            for query, hits in zero.items():
                last = hits[-1]
                updated = ZeroResultQuery.objects.filter(query=query).update(
                    count=F("count") + len(hits), last_seen=last.at, last_region=last.region_code
                )
                if not updated:
                    ZeroResultQuery.objects.create(
                        query=query,
                        count=len(hits),
                        first_seen=hits[0].at,
                        last_seen=last.at,
                        last_region=last.region_code,
                    )
    except Exception:  # the log must never break a search
        log.exception("could not write %d search log entries", len(entries))
        return 0
    return len(entries)


def pending() -> int:
    return len(_buffer)


def clear() -> None:
    with _lock:
        _buffer.clear()


def _flush_at_exit() -> None:
    if not _buffer:
        return
    try:
        logging.disable(logging.CRITICAL)  # the database may be gone already (tests); never a traceback at exit
        flush()
    finally:
        logging.disable(logging.NOTSET)


atexit.register(_flush_at_exit)

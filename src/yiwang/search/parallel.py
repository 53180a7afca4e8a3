"""Parallel analysis for index builds (并行分析): a forked worker process encodes part of the documents.

A rebuild's analysis pass (segmentation, pinyin, JSON assembly: ``index.encode_bucketed``) is Python and
ran on one core while the second idled (decision 0019). Here, for large builds, one worker process forked
from the builder after its dictionaries are loaded encodes the documents whose *content* hashes into its
share; the builder keeps the rest (it also reads the documents and writes the spool, so its share is
smaller). Every document of one content goes to the same process, so per-content state (the analysis
caches, and anything an encoder decides for "the first document of a content") is the same as in a
single-process build. The encoded documents come back in their input order: the index is the same one a
single process builds, document for document.

Threads in the builder: a feeder reads the documents (from the database in a rebuild) into a bounded queue
so that reading overlaps the analysis; a receiver reads the worker's results so that neither side can
block the other on a full pipe. The worker has a reader thread for the same reason.

Pure: no ORM (the feeder only closes the database connections its thread opened, when Django is loaded).
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import marshal
import multiprocessing
import operator
import os
import pickle
import queue
import signal
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

from .documents import Action, SearchDocument

Encoded = tuple[str, str]  # (bucket, JSON line)
Encoder = Callable[[SearchDocument], Encoded]

# YIWANG_SEARCH_BUILD_PARALLEL=0 turns the worker off; the other two are for measurements.
ENABLED = os.environ.get("YIWANG_SEARCH_BUILD_PARALLEL", "1") != "0"
MAIN_SHARE = float(os.environ.get("YIWANG_SEARCH_BUILD_MAIN_SHARE", "0.3"))  # of the contents, for the builder
MIN_DOCUMENTS = int(os.environ.get("YIWANG_SEARCH_BUILD_PARALLEL_MIN", "50000"))  # smaller builds: one process

BATCH = 250  # documents per message to the worker (and per feeder batch)
FEED_BATCHES = 200  # the feeder's queue, in batches
IN_FLIGHT = 16  # batches sent to the worker and not yet merged

# A document travels as a tuple of its fields (actions as tuples), in marshal's format: 2–3× cheaper for the
# builder than pickling (which memoises every object and rebuilds the Action dataclasses); pickle is the
# fallback for a batch holding a value marshal cannot carry.
_NAMES = [f.name for f in fields(SearchDocument)]
_ACTIONS = _NAMES.index("actions")
_head = operator.attrgetter(*_NAMES[:_ACTIONS])  # the fields before ``actions``, as a tuple (C)
_tail = operator.attrgetter(*_NAMES[_ACTIONS + 1 :])
_END = object()
Packed = tuple[tuple[Any, ...], tuple[tuple[str, str, str], ...], tuple[Any, ...]]


def _pack(doc: SearchDocument) -> Packed:
    return _head(doc), tuple([(a.kind, a.label, a.url) for a in doc.actions]), _tail(doc)


def _unpack(packed: Packed) -> SearchDocument:
    head, actions, tail = packed
    return SearchDocument(*head, [Action(*a) for a in actions], *tail)


def _dumps(value: object) -> bytes:
    try:
        return b"M" + marshal.dumps(value, 2)
    except ValueError:
        return b"P" + pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _loads(data: bytes) -> Any:
    body = memoryview(data)[1:]
    # our own pipe to our own fork: nothing untrusted is read here
    return marshal.loads(body) if data[:1] == b"M" else pickle.loads(body)  # noqa: S301, S302


class AnalysisWorkerError(RuntimeError):
    """The analysis worker failed or ended early: the build stops (the live generation is kept)."""


def available() -> bool:
    return "fork" in multiprocessing.get_all_start_methods() and sys.platform != "win32"


def content_key(doc: SearchDocument) -> int:
    """What decides the process of a document: its title (every content definition includes the title, so
    the documents of one content share it). Stable within a build (Python's ``hash``, computed here only)."""
    return hash(doc.title)


def encoded(
    documents: Iterable[SearchDocument],
    encode: Encoder,
    *,
    parallel: bool | None = None,
    main_share: float | None = None,
    min_documents: int | None = None,
    key: Callable[[SearchDocument], int] | None = None,
    stats: dict[str, Any] | None = None,
) -> Iterator[Encoded]:
    """``encode(doc)`` for every document, in order — by one process, or by this one and a forked worker.

    The worker is used when ``parallel`` (default: ``YIWANG_SEARCH_BUILD_PARALLEL``), the platform can fork,
    and there are at least ``min_documents`` documents. ``stats`` (if given) receives the processes, their
    documents and CPU seconds.
    """
    stats = stats if stats is not None else {}
    parallel = ENABLED if parallel is None else parallel
    min_documents = MIN_DOCUMENTS if min_documents is None else min_documents
    share = MAIN_SHARE if main_share is None else main_share
    source = iter(documents)
    head: list[SearchDocument] = []
    if parallel and available():
        head = list(itertools.islice(source, max(min_documents, 1)))
        if len(head) >= min_documents:
            yield from _parallel(itertools.chain(head, source), encode, key or content_key, share, stats)
            return
    started = time.process_time()
    stats.update(processes=1)
    count = 0
    for doc in itertools.chain(head, source):
        count += 1
        yield encode(doc)
    stats.update(main_documents=count, main_cpu_s=round(time.process_time() - started, 2))


def _warm() -> None:
    """Load what the text pipeline loads lazily (pypinyin's dictionaries) once, before the fork."""
    from . import text

    text.pinyin_full("办理")
    text.index_terms("办理")


def _grow_pipe(fd: int) -> None:
    """Raise a pipe's buffer to the system's limit (Linux: 1 MB for everyone): the reader on the other end is a
    thread that needs its interpreter lock to empty it, and the writer would wait meanwhile."""
    setsize = getattr(fcntl, "F_SETPIPE_SZ", None)
    if setsize is None:
        return
    try:
        size = int(Path("/proc/sys/fs/pipe-max-size").read_text())
    except (OSError, ValueError):
        size = 1 << 20
    with contextlib.suppress(OSError):
        fcntl.fcntl(fd, setsize, size)


def _chunks(source: Iterator[SearchDocument]) -> Iterator[list[SearchDocument]]:
    while chunk := list(itertools.islice(source, BATCH)):
        yield chunk


def _close_thread_connections() -> None:
    """Close the database connections the feeder thread opened (Django's are per thread)."""
    if "django.db" in sys.modules:
        with contextlib.suppress(Exception):
            sys.modules["django.db"].connections.close_all()


def _parallel(
    source: Iterator[SearchDocument],
    encode: Encoder,
    key: Callable[[SearchDocument], int],
    share: float,
    stats: dict[str, Any],
) -> Iterator[Encoded]:
    cut = round(min(max(share, 0.0), 1.0) * 1000)  # key % 1000 < cut: this process
    cpu_started = time.process_time()
    wall_started = time.perf_counter()
    _warm()
    ctx = multiprocessing.get_context("fork")
    batches_r, batches_w = ctx.Pipe(duplex=False)
    results_r, results_w = ctx.Pipe(duplex=False)
    # Forked before this process starts any thread of its own, with the dictionaries already loaded (the
    # caller's encoder has run on the first documents' names or loads them on import).
    worker = ctx.Process(
        target=_work,
        args=(batches_r, results_w, batches_w, results_r, encode),
        name="yiwang-search-analysis",
        daemon=True,
    )
    for conn in (batches_w, results_r):  # a whole batch fits: a write seldom waits for the reader's turn
        _grow_pipe(conn.fileno())
    worker.start()
    batches_r.close()
    results_w.close()

    inbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()

    def receive() -> None:
        try:
            while True:
                inbox.put(results_r.recv_bytes())
        except (EOFError, OSError):
            inbox.put(None)

    feed: queue.Queue[object] = queue.Queue(maxsize=FEED_BATCHES)
    stop = threading.Event()
    feeder_stats: dict[str, float] = {}

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                feed.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        started = time.thread_time()
        try:
            for chunk in _chunks(source):
                if not put(chunk):
                    return
            put(_END)
        except BaseException as exc:  # handed to the builder, raised there
            put(exc)
        finally:
            feeder_stats["cpu_s"] = time.thread_time() - started
            _close_thread_connections()

    receiver = threading.Thread(target=receive, name="yiwang-search-results", daemon=True)
    feeder = threading.Thread(target=read, name="yiwang-search-feeder", daemon=True)
    receiver.start()
    feeder.start()

    worker_done: dict[str, Any] = {}
    waited = 0.0

    def next_result() -> list[Encoded]:
        nonlocal waited
        t0 = time.perf_counter()
        data = inbox.get()
        waited += time.perf_counter() - t0
        if data is None:
            worker.join(timeout=5)
            raise AnalysisWorkerError(
                f"search index build: the analysis worker (pid {worker.pid}) ended unexpectedly"
                f" (exit code {worker.exitcode})"
            )
        message = _loads(data)
        if message.__class__ is list:
            return message
        if message[0] == "error":
            raise AnalysisWorkerError(f"search index build: the analysis worker failed:\n{message[1]}")
        raise AnalysisWorkerError(f"search index build: unexpected message from the analysis worker: {message[0]!r}")

    pending: deque[tuple[list[bool], list[Encoded], bool]] = deque()
    mine = theirs = 0
    try:
        while True:
            item = feed.get()
            if item is _END:
                break
            if isinstance(item, BaseException):
                raise item
            docs: list[SearchDocument] = item  # type: ignore[assignment]
            to_worker = [key(doc) % 1000 >= cut for doc in docs]
            packed = [_pack(doc) for doc, w in zip(docs, to_worker, strict=True) if w]
            if packed:
                try:
                    batches_w.send_bytes(_dumps(packed))
                except OSError as exc:
                    next_result()  # the worker's own error, if it sent one
                    raise AnalysisWorkerError("search index build: the analysis worker is gone") from exc
            own = [encode(doc) for doc, w in zip(docs, to_worker, strict=True) if not w]
            mine += len(own)
            theirs += len(packed)
            pending.append((to_worker, own, bool(packed)))
            # merge the oldest batches whose results are here (wait only when too many are in flight)
            while pending and (not pending[0][2] or len(pending) > IN_FLIGHT or not inbox.empty()):
                yield from _merge(pending.popleft(), next_result)
        batches_w.close()  # the worker finishes what it has, reports and exits
        while pending:
            yield from _merge(pending.popleft(), next_result)
        data = inbox.get()
        message = _loads(data) if data is not None else None
        if not message or message[0] != "done":
            if message and message[0] == "error":
                raise AnalysisWorkerError(f"search index build: the analysis worker failed:\n{message[1]}")
            raise AnalysisWorkerError("search index build: the analysis worker ended without reporting")
        worker_done = message[1]
        worker.join(timeout=30)
    finally:
        stop.set()
        with contextlib.suppress(OSError):
            batches_w.close()
        if worker.is_alive() and not worker_done:
            worker.kill()
        worker.join(timeout=10)
        if worker.is_alive():  # pragma: no cover - a worker that ignores SIGKILL
            worker.kill()
            worker.join()
        results_r.close()
        feeder.join(timeout=5)
        receiver.join(timeout=5)
        if worker.exitcode is not None:
            worker.close()
    stats.update(
        processes=2,
        main_share=cut / 1000,
        main_documents=mine,
        worker_documents=theirs,
        main_cpu_s=round(time.process_time() - cpu_started, 2),
        feeder_cpu_s=round(feeder_stats.get("cpu_s", 0.0), 2),
        worker_cpu_s=round(worker_done.get("cpu_s", 0.0), 2),
        main_waited_s=round(waited, 2),
        wall_s=round(time.perf_counter() - wall_started, 2),
    )


def _merge(
    batch: tuple[list[bool], list[Encoded], bool], next_result: Callable[[], list[Encoded]]
) -> Iterator[Encoded]:
    to_worker, own, expects = batch
    if not expects:
        yield from own
        return
    theirs, mine = iter(next_result()), iter(own)
    for w in to_worker:
        yield next(theirs) if w else next(mine)


def _work(batches_r, results_w, batches_w, results_r, encode: Encoder) -> None:
    """The worker: documents in, ``encode(doc)`` out, batch by batch, then ``("done", stats)``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the builder, which ends the worker
    batches_w.close()  # so that the builder's end (or death) reads as end of input here
    results_r.close()
    started = time.process_time()
    inbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()

    def read() -> None:
        try:
            while True:
                inbox.put(batches_r.recv_bytes())
        except (EOFError, OSError):
            inbox.put(None)

    threading.Thread(target=read, daemon=True).start()
    count = 0
    try:
        unpack = _unpack
        while (data := inbox.get()) is not None:
            out = [encode(unpack(packed)) for packed in _loads(data)]
            count += len(out)
            results_w.send_bytes(_dumps(out))
        done = {"pid": os.getpid(), "documents": count, "cpu_s": time.process_time() - started}
        results_w.send_bytes(_dumps(("done", done)))
    except BaseException:
        with contextlib.suppress(OSError):
            results_w.send_bytes(_dumps(("error", traceback.format_exc())))
        sys.exit(1)

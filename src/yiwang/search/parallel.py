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
MAIN_SHARE = float(os.environ.get("YIWANG_SEARCH_BUILD_MAIN_SHARE", "0.28"))  # of the titles, for the builder
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


class Spool:
    """The analysis pass's output (编码暂存): encoded documents per bucket, in files under ``directory``.

    Lines encoded here go to ``b<bucket>.jsonl``; a worker writes its own to ``w<bucket>.jsonl``, and
    ``order[bucket]`` then says, line by line in input order, whose line comes next (1: the worker's), so
    :meth:`lines` gives every bucket in the input order — the order a single process writes.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.count = 0
        self.files: dict[str, Any] = {}
        self.order: dict[str, bytearray] | None = None

    def file(self, bucket: str) -> Any:
        fh = self.files[bucket] = open(  # noqa: SIM115 - closed by close()
            self.directory / f"b{bucket}.jsonl", "w", encoding="utf-8", buffering=1 << 20
        )
        return fh

    def write(self, docs: Iterable, encode: Encoder, progress: Callable[[int], Any] | None) -> int:
        """Encode ``docs`` into this spool in one process, reporting progress every 1,000; returns how many."""
        files = self.files
        count = batch = 0
        for doc in docs:
            bucket, line = encode(doc)
            fh = files.get(bucket) or self.file(bucket)
            fh.write(line + "\n")
            count += 1
            batch += 1
            if progress and batch >= 1000:
                progress(batch)
                batch = 0
        if progress and batch:
            progress(batch)
        return count

    def close(self) -> None:
        for fh in self.files.values():
            fh.close()

    def buckets(self) -> list[str]:
        return sorted(set(self.files) | set(self.order or ()))

    def lines(self, bucket: str) -> Iterator[str]:
        """The bucket's encoded documents, in input order."""
        mine, theirs = self.directory / f"b{bucket}.jsonl", self.directory / f"w{bucket}.jsonl"
        # read as bytes and decoded line by line: a text file's newline translation cost ~2 µs more per line
        with contextlib.ExitStack() as stack:
            a = stack.enter_context(open(mine, "rb", buffering=1 << 20)) if mine.exists() else None
            b = stack.enter_context(open(theirs, "rb", buffering=1 << 20)) if theirs.exists() else None
            if a is None or b is None:
                for line in a if b is None else b:
                    yield line.decode()
                return
            assert self.order is not None
            for bit in self.order[bucket]:
                yield (next(b) if bit else next(a)).decode()


def spool(
    documents: Iterable[SearchDocument],
    encode: Encoder,
    directory: Path,
    *,
    parallel: bool | None = None,
    main_share: float | None = None,
    min_documents: int | None = None,
    key: Callable[[SearchDocument], int] | None = None,
    progress: Callable[[int], None] | None = None,
    stats: dict[str, Any] | None = None,
) -> Spool:
    """Encode every document into a :class:`Spool` — in this process, or here and in a forked worker.

    The worker is used when ``parallel`` (default: ``YIWANG_SEARCH_BUILD_PARALLEL``), the platform can fork,
    and there are at least ``min_documents`` documents. ``stats`` (if given) receives the processes, their
    documents and CPU seconds.
    """
    stats = stats if stats is not None else {}
    parallel = ENABLED if parallel is None else parallel
    min_documents = MIN_DOCUMENTS if min_documents is None else min_documents
    share = MAIN_SHARE if main_share is None else main_share
    out = Spool(directory)
    source = iter(documents)
    head: list[SearchDocument] = []
    try:
        if parallel and available():
            head = list(itertools.islice(source, max(min_documents, 1)))
            if len(head) >= min_documents:
                _parallel(itertools.chain(head, source), encode, key or content_key, share, out, progress, stats)
                return out
        started = time.process_time()
        out.count = count = out.write(itertools.chain(head, source), encode, progress)
        stats.update(processes=1, main_documents=count, main_cpu_s=round(time.process_time() - started, 2))
        return out
    finally:
        out.close()


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


def _pump(source: Any, inbox: queue.SimpleQueue) -> None:
    """A reader thread's loop: every message from the pipe ``source`` into ``inbox``, then ``None`` at its end
    (so that neither side of the pipe can block the other on a full buffer)."""
    try:
        while True:
            inbox.put(source.recv_bytes())
    except (EOFError, OSError):
        inbox.put(None)


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
    out: Spool,
    progress: Callable[[int], None] | None,
    stats: dict[str, Any],
) -> None:
    cut = round(min(max(share, 0.0), 1.0) * 1000)  # key % 1000 < cut: this process
    cpu_started = time.process_time()
    wall_started = time.perf_counter()
    _warm()
    ctx = multiprocessing.get_context("fork")
    batches_r, batches_w = ctx.Pipe(duplex=False)
    results_r, results_w = ctx.Pipe(duplex=False)
    for conn in (batches_w, results_r):  # a whole batch fits: a write seldom waits for the reader's turn
        _grow_pipe(conn.fileno())
    # Forked before this process starts any thread of its own (the index writer's start after the analysis).
    worker = ctx.Process(
        target=_work,
        args=(batches_r, results_w, batches_w, results_r, encode, out.directory),
        name="yiwang-search-analysis",
        daemon=True,
    )
    worker.start()
    batches_r.close()
    results_w.close()

    inbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()

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

    receiver = threading.Thread(target=_pump, args=(results_r, inbox), name="yiwang-search-results", daemon=True)
    feeder = threading.Thread(target=read, name="yiwang-search-feeder", daemon=True)
    receiver.start()
    feeder.start()

    worker_done: dict[str, Any] = {}
    waited = 0.0

    def next_result() -> list[str]:
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

    order: dict[str, bytearray] = {}
    out.order = order

    def merge(batch: tuple[list[bool], list[str], bool]) -> None:
        """Note whose line comes next in each bucket, in input order (the worker sends its batch's buckets)."""
        to_worker, own, expects = batch
        theirs, mine = iter(next_result() if expects else ()), iter(own)
        for w in to_worker:
            bucket = next(theirs) if w else next(mine)
            bits = order.get(bucket)
            if bits is None:
                bits = order[bucket] = bytearray()
            bits.append(w)

    files = out.files
    pending: deque[tuple[list[bool], list[str], bool]] = deque()
    mine = theirs = 0
    reported = 0
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
            own = []
            for doc, w in zip(docs, to_worker, strict=True):
                if not w:
                    bucket, line = encode(doc)
                    fh = files.get(bucket) or out.file(bucket)
                    fh.write(line + "\n")
                    own.append(bucket)
            mine += len(own)
            theirs += len(packed)
            pending.append((to_worker, own, bool(packed)))
            # the oldest batches whose results are here (wait only when too many are in flight)
            while pending and (not pending[0][2] or len(pending) > IN_FLIGHT or not inbox.empty()):
                merge(pending.popleft())
            if progress and mine + theirs - reported >= 1000:
                progress(mine + theirs - reported)
                reported = mine + theirs
        batches_w.close()  # the worker finishes what it has, closes its files, reports and exits
        while pending:
            merge(pending.popleft())
        data = inbox.get()
        message = _loads(data) if data is not None else None
        if not message or message[0] != "done":
            if message and message[0] == "error":
                raise AnalysisWorkerError(f"search index build: the analysis worker failed:\n{message[1]}")
            raise AnalysisWorkerError("search index build: the analysis worker ended without reporting")
        worker_done = message[1]
        worker.join(timeout=30)
        if progress and mine + theirs > reported:
            progress(mine + theirs - reported)
    finally:
        stop.set()
        with contextlib.suppress(OSError):
            batches_w.close()
        reap(worker, finished=bool(worker_done))
        results_r.close()
        feeder.join(timeout=5)
        receiver.join(timeout=5)
    out.count = mine + theirs
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


def _work(batches_r, results_w, batches_w, results_r, encode: Encoder, directory: Path) -> None:
    """The worker: documents in; ``encode(doc)`` into its own bucket files, the buckets out; then its stats."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the builder, which ends the worker
    batches_w.close()  # so that the builder's end (or death) reads as end of input here
    results_r.close()
    started = time.process_time()
    inbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()

    threading.Thread(target=_pump, args=(batches_r, inbox), daemon=True).start()
    count = 0
    files: dict[str, Any] = {}
    try:
        unpack = _unpack
        while (data := inbox.get()) is not None:
            buckets = []
            for packed in _loads(data):
                bucket, line = encode(unpack(packed))
                fh = files.get(bucket)
                if fh is None:
                    fh = files[bucket] = open(  # noqa: SIM115 - closed below
                        directory / f"w{bucket}.jsonl", "w", encoding="utf-8", buffering=1 << 18
                    )
                fh.write(line + "\n")
                buckets.append(bucket)
            count += len(buckets)
            results_w.send_bytes(_dumps(buckets))
        for fh in files.values():
            fh.close()
        done = {"pid": os.getpid(), "documents": count, "cpu_s": time.process_time() - started}
        results_w.send_bytes(_dumps(("done", done)))
    except BaseException:
        with contextlib.suppress(OSError):
            results_w.send_bytes(_dumps(("error", traceback.format_exc())))
        sys.exit(1)


def reap(worker, *, finished: bool) -> None:
    """Make sure a forked build process is gone: killed unless it reported its end, joined, its handle closed."""
    if worker.is_alive() and not finished:
        worker.kill()
    worker.join(timeout=10)
    if worker.is_alive():  # pragma: no cover - a process that ignores SIGKILL
        worker.kill()
        worker.join()
    if worker.exitcode is not None:
        worker.close()

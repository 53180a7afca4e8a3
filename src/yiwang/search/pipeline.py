"""Pipelined index build (流水线构建): analysis here, indexing in a forked process, round by round.

A rebuild used to run two passes one after the other: the analysis pass (every document encoded into a
spool file per bucket) and then the indexing pass (the spool read bucket by bucket into tantivy), because
the build order — representatives first, then popular documents, then county by county (decisions 0013 and
0022) — is only known once every document has been seen. At province scale the analysis pass is mostly
per-document assembly from cached pieces (~20 µs) and the indexing pass mostly tantivy (~50 µs of CPU), so
neither used both cores for long (decision 0028).

Here the documents are cut into **rounds** of ``round_size`` documents. Each round is encoded into its own
spool (the same encoder, the same per-content state: one representative per content over the whole build)
and handed to an **indexing process** forked at the start, which adds the round's buckets in build order to
one index writer while this process encodes the next round. The index then holds the rounds one after the
other, each in build order: a county's documents lie in one stretch per round instead of one stretch in
all, and a content's representative at the head of the round where the content first appears. A build of
at most one round is the single-pass build as before (the caller indexes it).

Pure: no ORM. The indexing process only reads spool files and writes the new generation.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .documents import SearchDocument
from .parallel import Encoder, Spool, available, reap

# YIWANG_SEARCH_BUILD_PIPELINE=0 turns it off (two passes in this process, or with the analysis worker)
ENABLED = os.environ.get("YIWANG_SEARCH_BUILD_PIPELINE", "1") != "0"
# documents per round: every round adds one stretch per county to the index (a search walks each), so few and
# large — 2.3 M documents make two rounds (decision 0028)
ROUND_SIZE = int(os.environ.get("YIWANG_SEARCH_BUILD_ROUND", "1200000"))


class IndexingWorkerError(RuntimeError):
    """The indexing process failed or ended early: the build stops (the live generation is kept)."""


def _encode_round(source, encode: Encoder, directory: Path, size: int, progress, counted: list[int]) -> Spool:
    out = Spool(directory)
    directory.mkdir()
    try:
        count = out.write(itertools.islice(source, size), encode, progress)
    finally:
        out.close()
    out.count = count
    counted.append(count)
    return out


def _paths(spool: Spool) -> list[str]:
    """The round's spool files in build order (buckets sorted: representatives, popular, counties)."""
    return [str(spool.directory / f"b{bucket}.jsonl") for bucket in spool.buckets()]


def build(
    documents: Iterable[SearchDocument],
    encode: Encoder,
    directory: Path,
    *,
    index_path: Path,
    schema: Any,
    heap_size: int,
    num_threads: int,
    round_size: int | None = None,
    progress: Callable[[int], None] | None = None,
    stats: dict[str, Any] | None = None,
) -> Spool | int:
    """Encode ``documents`` round by round; index the rounds in a forked process into ``index_path``.

    Returns the spool when the documents fit in one round (nothing was forked: the caller indexes it as
    before), else the number of documents indexed and committed (the indexing process has exited).
    """
    stats = stats if stats is not None else {}
    size = max(1, ROUND_SIZE if round_size is None else round_size)
    source = iter(documents)
    counted: list[int] = []
    cpu_started = time.process_time()
    wall_started = time.perf_counter()
    first = _encode_round(source, encode, directory / "r0", size, progress, counted)
    if first.count < size:  # one round: the two passes of a small build
        stats.update(processes=1, main_documents=first.count, main_cpu_s=round(time.process_time() - cpu_started, 2))
        return first
    # the next document decides whether there is a second round (the source may end exactly here)
    head = list(itertools.islice(source, 1))
    if not head:
        stats.update(processes=1, main_documents=first.count, main_cpu_s=round(time.process_time() - cpu_started, 2))
        return first
    source = itertools.chain(head, source)

    ctx = multiprocessing.get_context("fork")
    rounds_r, rounds_w = ctx.Pipe(duplex=False)
    results_r, results_w = ctx.Pipe(duplex=False)
    # Forked before this process starts any thread (the tantivy writer's threads start in the child).
    worker = ctx.Process(
        target=_index_rounds,
        args=(rounds_r, results_w, rounds_w, results_r, str(index_path), schema, heap_size, num_threads),
        name="yiwang-search-indexing",
        daemon=True,
    )
    worker.start()
    rounds_r.close()
    results_w.close()
    done: dict[str, Any] = {}
    waited = 0.0

    def check() -> None:
        """Raise the indexing process's error as soon as it has sent one."""
        if results_r.poll():
            _raise(_receive(results_r, worker))

    try:
        rounds_w.send(_paths(first))
        number = 1
        while True:
            spool = _encode_round(source, encode, directory / f"r{number}", size, progress, counted)
            check()
            if spool.count:
                rounds_w.send(_paths(spool))
                number += 1
            if spool.count < size:
                break
        rounds_w.send(None)  # commit
        parent_cpu = time.process_time() - cpu_started
        t0 = time.perf_counter()
        message = _receive(results_r, worker)
        waited = time.perf_counter() - t0
        if message[0] != "done":
            _raise(message)
        done = message[1]
        worker.join(timeout=30)
    finally:
        with contextlib.suppress(OSError):
            rounds_w.close()
        reap(worker, finished=bool(done))
        results_r.close()
    total = sum(counted)
    stats.update(
        processes=2,
        pipeline=True,
        rounds=number,
        round_size=size,
        main_documents=total,
        main_cpu_s=round(parent_cpu, 2),
        indexing_cpu_s=round(done.get("cpu_s", 0.0), 2),
        indexing_commit_s=round(done.get("commit_s", 0.0), 2),
        main_waited_s=round(waited, 2),
        wall_s=round(time.perf_counter() - wall_started, 2),
    )
    if done.get("documents") != total:
        raise IndexingWorkerError(f"search index build: {done.get('documents')} of {total} documents indexed")
    return total


def _receive(results_r, worker) -> tuple[str, Any]:
    try:
        return results_r.recv()
    except (EOFError, OSError):
        worker.join(timeout=5)
        raise IndexingWorkerError(
            f"search index build: the indexing process (pid {worker.pid}) ended unexpectedly"
            f" (exit code {worker.exitcode})"
        ) from None


def _raise(message: tuple[str, Any]) -> None:
    if message[0] == "error":
        raise IndexingWorkerError(f"search index build: the indexing process failed:\n{message[1]}")
    raise IndexingWorkerError(f"search index build: unexpected message from the indexing process: {message[0]!r}")


def _index_rounds(rounds_r, results_w, rounds_w, results_r, path: str, schema, heap_size: int, threads: int) -> None:
    """The indexing process: each round's spool files, in the order given, into one writer; then one commit."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the builder, which ends this process
    rounds_w.close()  # so that the builder's end (or death) reads as end of input here
    results_r.close()
    started = time.process_time()
    count = 0
    try:
        import tantivy

        writer = tantivy.Index(schema, path=path).writer(heap_size=heap_size, num_threads=threads)
        add = writer.add_json
        while True:
            paths = rounds_r.recv()  # EOFError: the builder is gone, nothing is committed
            if paths is None:
                break
            for name in paths:
                # bytes read and decoded line by line: cheaper than a text file's newline translation
                with open(name, "rb", buffering=1 << 20) as fh:
                    for line in fh:
                        add(line.decode())
                        count += 1
                os.unlink(name)
        t0 = time.perf_counter()
        writer.commit()
        writer.wait_merging_threads()
        results_w.send(
            ("done", {"documents": count, "cpu_s": time.process_time() - started, "commit_s": time.perf_counter() - t0})
        )
    except BaseException:
        with contextlib.suppress(OSError):
            results_w.send(("error", traceback.format_exc()))
        sys.exit(1)


__all__ = ["ENABLED", "ROUND_SIZE", "IndexingWorkerError", "available", "build"]

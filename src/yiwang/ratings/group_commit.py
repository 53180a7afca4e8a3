"""Group commit: concurrent submissions of one process written by one statement (decision 0027).

A request thread hands its prepared write to :meth:`GroupCommit.submit`. When no write is in flight it becomes
the **leader** and runs at once — alone, with the caller's own one-row statement, so an idle server adds no
latency and runs exactly what it ran before. Threads that arrive while a write is in flight queue and wait.
When the leader's write returns, the first queued thread is promoted to leader; it takes every queued
submission that fits (up to ``limit``; no two sharing a key — the same invitation or the same device — so
a batch never holds two rows whose rules depend on each other) and runs them as **one** statement. Each
follower is woken with its own row's outcome.

If the batch statement fails (any exception: a constraint, a value the database refuses, a deadlock, a lost
connection) it has written nothing — one statement in autocommit — and every member of the batch runs its
own one-row statement instead (:data:`ALONE`), so each gets exactly the answer it would have had without
group commit, and one bad row never fails the others.

Pure threading: no ORM here; the caller passes the two writes (``run_one``, ``run_many``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable, Sequence
from typing import Any

log = logging.getLogger(__name__)

ALONE: Any = type("Alone", (), {"__repr__": lambda self: "ALONE"})()  # run your own one-row write


class _Waiter:
    __slots__ = ("event", "item", "keys", "lead", "result")

    def __init__(self, item: Any, keys: tuple[Hashable, ...]):
        self.item, self.keys = item, keys
        self.event = threading.Event()
        self.lead = False
        self.result: Any = ALONE


class GroupCommit:
    """One per process (and per statement kind). ``limit``: most submissions in one statement."""

    def __init__(self, *, limit: int):
        self.limit = max(1, int(limit))
        self._lock = threading.Lock()
        self._queue: list[_Waiter] = []
        self._busy = False
        self.statements = 0  # writes run (alone or batched): observability and tests
        self.batched = 0  # submissions written by a batch statement of two or more

    def submit(
        self,
        item: Any,
        *,
        keys: tuple[Hashable, ...],
        run_one: Callable[[Any], Any],
        run_many: Callable[[Sequence[Any]], Sequence[Any]],
    ) -> Any:
        """``run_one(item)``'s result when this thread led a write alone (its exceptions propagate), else the
        batch's result for ``item`` (``run_many(items)[i]``), or :data:`ALONE` when the batch failed."""
        me = _Waiter(item, keys)
        with self._lock:
            if self._busy:
                self._queue.append(me)
            else:
                self._busy = True
                me.lead = True
        if not me.lead:
            me.event.wait()
            if not me.lead:  # a leader wrote this submission (or asks it to write alone)
                return me.result
        batch, results = [me], None
        try:  # whatever happens from here, the next queued submission leads (finally)
            batch = self._take(me)
            if len(batch) == 1:
                self.statements += 1
                return run_one(item)
            try:
                results = run_many([w.item for w in batch])
                if len(results) != len(batch):
                    raise RuntimeError(f"group commit: {len(results)} results for {len(batch)} submissions")
                self.statements += 1
                self.batched += len(batch)
            except Exception:
                # nothing was written (one statement, autocommit): each runs its own write and gets its answer
                log.warning("group commit of %d ratings failed; each is written alone", len(batch), exc_info=True)
                results = None
            return ALONE if results is None else results[0]
        finally:
            self._hand_over()
            for i, w in enumerate(batch[1:], 1):
                w.result = ALONE if results is None else results[i]
                w.event.set()

    def _take(self, leader: _Waiter) -> list[_Waiter]:
        """The leader and the queued submissions that join its write (in arrival order)."""
        batch, used = [leader], set(leader.keys)
        with self._lock:
            if not self._queue or self.limit == 1:
                return batch
            left = []
            for w in self._queue:
                if len(batch) < self.limit and used.isdisjoint(w.keys):
                    batch.append(w)
                    used.update(w.keys)
                else:
                    left.append(w)
            self._queue = left
        return batch

    def _hand_over(self) -> None:
        """The write is done: the first queued submission leads the next one (or nobody is busy)."""
        with self._lock:
            if self._queue:
                nxt = self._queue.pop(0)
                nxt.lead = True
                nxt.event.set()
            else:
                self._busy = False

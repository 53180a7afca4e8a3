"""A per-process daemon thread that runs a flush a moment after being woken (decisions 0008, 0018).

Used for work a request stages in its own transaction and that is cheaper done in batches after commit:
chaining deferred audit events (:mod:`yiwang.core.audit`), adding queued ratings to the rollups
(:mod:`yiwang.ratings.rollups`). A wake after a commit starts the thread if needed; the thread waits
``delay`` seconds so that the burst's other commits join the batch, then calls ``flush``. It may wait for
locks itself; requests never do.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable


class Flusher:
    """One daemon thread per process that calls ``flush()`` a moment after being woken."""

    def __init__(self, name: str, flush: Callable[[], object], *, logger: str) -> None:
        self.name = name
        self.flush = flush
        self.logger = logger
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self.delay = 0.05
        self.idle = 10.0  # seconds without a wake after which the thread closes its connection

    def wake(self, delay: float) -> None:
        self.delay = delay
        if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                    self._wake = threading.Event()
                    self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                    self._pid = os.getpid()
                    self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        from django.db import connection

        while True:
            if not self._wake.wait(timeout=self.idle):
                connection.close()  # idle: give the database connection back until the next burst
                continue
            time.sleep(self.delay)  # let the burst commit: one batch instead of one flush per request
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # the next wake (or the command line) picks the work up
                logging.getLogger(self.logger).exception("%s failed", self.name)
                connection.close()

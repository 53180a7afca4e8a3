"""办件的“今天” — the one place the cases app asks for the current date (China Standard Time).

Deadlines, warnings and pauses are counted in calendar days of Asia/Shanghai. Tests that need a fixed day
(a case accepted just before the National Day holiday) patch :func:`today` here, or use :func:`pinned`.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from django.utils import timezone

_pinned: contextvars.ContextVar[dt.date | None] = contextvars.ContextVar("yiwang_cases_today", default=None)


def today() -> dt.date:
    return _pinned.get() or timezone.localdate()


@contextmanager
def pinned(day: dt.date) -> Iterator[None]:
    """Act as if today were ``day`` (demo data with cases accepted in the past; this thread only)."""
    token = _pinned.set(day)
    try:
        yield
    finally:
        _pinned.reset(token)

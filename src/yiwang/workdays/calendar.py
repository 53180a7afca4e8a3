"""The calendar in use: chinesecalendar + published years + the editable table, cached per process.

Each process keeps the built calendars and checks the table's version at most every ``CHECK_SECONDS``
(another process's edit is seen within that time); services that edit the table call :func:`invalidate`
so the editing process sees the change at once. A transaction that edited the table (it called
:func:`invalidate` inside it) is the only one that can see rows other transactions cannot: until it ends it
reads the version on every call and uses calendars of its own, never the shared ones, so a change it rolls
back is never cached. Every other call — inside a transaction or not — uses the shared, committed calendars.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Max

from .engine import WorkCalendar
from .models import CalendarDay, CalendarYear
from .sources import package_schedule, package_years

CHECK_SECONDS = 30.0


@dataclass
class _State:
    version: str = ""
    checked: float = float("-inf")
    regional_codes: tuple[str, ...] = ()
    calendars: dict[tuple[str, ...], WorkCalendar] = field(default_factory=dict)


_state = _State()
_lock = threading.Lock()
_local = threading.local()  # the thread's editing transaction: its outermost atomic block, version, calendars


def _editing_transaction() -> object | None:
    """The outermost atomic block of this thread's transaction if it edited the table, else None."""
    block = getattr(_local, "block", None)
    if block is None:
        return None
    if connection.in_atomic_block and connection.atomic_blocks and connection.atomic_blocks[0] is block:
        return block
    _local.block = None  # that transaction has ended (committed or rolled back)
    _local.calendars = {}
    return None


def _version() -> str:
    days = CalendarDay.objects.aggregate(n=Count("id"), t=Max("updated_at"))
    years = CalendarYear.objects.aggregate(n=Count("id"), t=Max("updated_at"))
    return f"{days['n']}:{days['t']}:{years['n']}:{years['t']}"


def region_prefix(code: str) -> str:
    """Significant prefix of a 12-digit region code (省 2, 市 4, 县 6, 乡 9, 村 12 digits)."""
    code = code or ""
    for length in (2, 4, 6, 9):
        if code[length:].strip("0") == "":
            return code[:length]
    return code


def _build(regional: tuple[str, ...], version: str) -> WorkCalendar:
    overrides: dict[dt.date, bool] = {d.date: d.is_workday for d in package_schedule()}
    known = package_years()
    for year, published in CalendarYear.objects.values_list("year", "published"):
        (known.add if published else known.discard)(year)
    rows = CalendarDay.objects.filter(region_code__in=("", *regional)).values_list(
        "date", "is_workday", "region_code", "source"
    )
    # national before regional, imported before manual: later rows win
    for day, is_workday, _region, _source in sorted(
        rows, key=lambda r: (len(r[2]), r[3] == CalendarDay.Source.MANUAL, r[0])
    ):
        overrides[day] = is_workday
    return WorkCalendar(overrides=overrides, known_years=known, version=version)


def _regional_codes() -> tuple[str, ...]:
    return tuple(CalendarDay.objects.exclude(region_code="").values_list("region_code", flat=True).distinct())


def _key(regional_codes: tuple[str, ...], region_code: str) -> tuple[str, ...]:
    return tuple(sorted(c for c in regional_codes if region_code.startswith(region_prefix(c))))


def get_calendar(region_code: str = "") -> WorkCalendar:
    """The working-day calendar for a region (national when empty)."""
    if _editing_transaction() is not None:
        version = _version()
        if getattr(_local, "version", None) != version:
            _local.version, _local.calendars, _local.regional_codes = version, {}, _regional_codes()
        key = _key(_local.regional_codes, region_code)
        if key not in _local.calendars:
            _local.calendars[key] = _build(key, version)
        return _local.calendars[key]
    now = time.monotonic()
    with _lock:
        if now - _state.checked >= CHECK_SECONDS:
            version = _version()
            if version != _state.version:
                _state.version = version
                _state.calendars.clear()
                _state.regional_codes = _regional_codes()
            _state.checked = now
        key = _key(_state.regional_codes, region_code)
        calendar = _state.calendars.get(key)
        if calendar is None:
            calendar = _state.calendars[key] = _build(key, _state.version)
        return calendar


def invalidate() -> None:
    """Forget every built calendar (called by the services at once and again after commit). Called inside
    a transaction, it marks that transaction as editing the table (see the module's docstring)."""
    if connection.in_atomic_block and connection.atomic_blocks:
        _local.block, _local.version = connection.atomic_blocks[0], None
    with _lock:
        _state.version = ""
        _state.checked = float("-inf")
        _state.calendars.clear()

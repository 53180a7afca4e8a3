"""The calendar in use: chinesecalendar + published years + the editable table, cached per process.

Each process keeps the built calendars and checks the table's version at most every ``CHECK_SECONDS``;
services that edit the table call :func:`invalidate` so the editing process sees the change at once.
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


def get_calendar(region_code: str = "") -> WorkCalendar:
    """The working-day calendar for a region (national when empty)."""
    now = time.monotonic()
    with _lock:
        if now - _state.checked >= CHECK_SECONDS:
            version = _version()
            if version != _state.version:
                _state.version = version
                _state.calendars.clear()
                _state.regional_codes = tuple(
                    CalendarDay.objects.exclude(region_code="").values_list("region_code", flat=True).distinct()
                )
            _state.checked = now
        key = tuple(sorted(c for c in _state.regional_codes if region_code.startswith(region_prefix(c))))
        calendar = _state.calendars.get(key)
        if calendar is None:
            calendar = _state.calendars[key] = _build(key, _state.version)
        if connection.in_atomic_block:
            # Built or used inside a transaction that may still change (or roll back) the table: check the
            # version again on the next call instead of trusting it for CHECK_SECONDS.
            _state.checked = float("-inf")
        return calendar


def invalidate() -> None:
    """Forget every built calendar (called by the services at once and again after commit)."""
    with _lock:
        _state.version = ""
        _state.checked = float("-inf")
        _state.calendars.clear()

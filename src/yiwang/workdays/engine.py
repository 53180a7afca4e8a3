"""工作日计算 — the working-day engine. Pure Python: no Django, no ORM.

A :class:`WorkCalendar` knows, for every date from 1990 to 2199, whether it is a working day:
weekday/weekend by default, corrected by the official holiday schedule (法定节假日 off, 调休 weekend days
on) for the years whose schedule is *known*. For other years (2027 today) it falls back to Monday–Friday
and every answer that depended on such a year is marked ``provisional`` so callers can recompute it once
the State Council publishes the schedule.

Counting rules (行政许可法: 期限以工作日计算，不含法定节假日; 受理次日起算):

- ``add(start, n, WORKING)`` is the n-th working day *after* ``start`` (``n == 0`` → ``start``).
- ``add(start, n, NATURAL)`` is ``start + n`` days; when that day is not a working day the period ends on
  the next working day (期间届满的最后一日为法定节假日的，以节假日后的第一日为期间届满日).
- ``between(a, b)`` counts the working days in ``(a, b]``: the days after ``a`` up to and including ``b``
  (negative when ``b < a``). ``between(a, add(a, n)) == n``.
- Pauses (补正, 特别程序 …) are half-open date ranges ``[start, end)``: their days are not counted and push
  ``add`` further out.

Look-ups are O(log n) over a cumulative-count table, so recomputing a million deadlines takes seconds.
"""

from __future__ import annotations

import datetime as dt
import enum
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

FIRST_YEAR = 1990
LAST_YEAR = 2199
_EPOCH = dt.date(FIRST_YEAR, 1, 1)
_END = dt.date(LAST_YEAR, 12, 31)


class Unit(enum.StrEnum):
    """时限单位."""

    WORKING = "working"  # 工作日
    NATURAL = "natural"  # 自然日

    @classmethod
    def parse(cls, value: str | Unit) -> Unit:
        if isinstance(value, Unit):
            return value
        aliases = {
            "working": cls.WORKING,
            "w": cls.WORKING,
            "工作日": cls.WORKING,
            "workday": cls.WORKING,
            "natural": cls.NATURAL,
            "n": cls.NATURAL,
            "自然日": cls.NATURAL,
            "calendar": cls.NATURAL,
        }
        try:
            return aliases[str(value).strip().lower()]
        except KeyError:
            raise ValueError(f"unknown time-limit unit {value!r} (use working/工作日 or natural/自然日)") from None


@dataclass(frozen=True, slots=True)
class Pause:
    """A clock stop ``[start, end)``: days from ``start`` up to the day before ``end`` are not counted."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"pause ends ({self.end}) before it starts ({self.start})")


@dataclass(frozen=True, slots=True)
class DateResult:
    date: dt.date
    provisional: bool = False


@dataclass(frozen=True, slots=True)
class CountResult:
    days: int
    provisional: bool = False


class WorkCalendar:
    """Immutable working-day calendar.

    ``overrides`` maps dates to ``True`` (working, e.g. 调休上班) or ``False`` (day off, e.g. 国庆节);
    ``known_years`` are the years whose official schedule is in ``overrides`` (others are provisional).
    """

    def __init__(self, *, overrides: Mapping[dt.date, bool], known_years: Iterable[int], version: str = "") -> None:
        self.known_years = frozenset(known_years)
        self.version = version
        size = (_END - _EPOCH).days + 1
        work = bytearray(size)
        weekday = _EPOCH.weekday()
        for i in range(size):
            work[i] = 1 if (weekday + i) % 7 < 5 else 0
        for day, is_workday in overrides.items():
            if _EPOCH <= day <= _END and day.year in self.known_years:
                work[(day - _EPOCH).days] = 1 if is_workday else 0
        self._work = bytes(work)
        # _cum[i] = number of working days in [_EPOCH, _EPOCH + i)
        cum = array("i", [0]) * (size + 1)
        total = 0
        for i in range(size):
            total += work[i]
            cum[i + 1] = total
        self._cum = cum

    # -- primitives --------------------------------------------------------------------------------
    @staticmethod
    def _index(day: dt.date) -> int:
        if not (_EPOCH <= day <= _END):
            raise ValueError(f"date {day} is outside the supported range {FIRST_YEAR}–{LAST_YEAR}")
        return (day - _EPOCH).days

    def is_workday(self, day: dt.date) -> bool:
        return bool(self._work[self._index(day)])

    def is_known(self, day: dt.date) -> bool:
        return day.year in self.known_years

    def _span_provisional(self, a: dt.date, b: dt.date) -> bool:
        lo, hi = (a, b) if a <= b else (b, a)
        return any(year not in self.known_years for year in range(lo.year, hi.year + 1))

    def _count(self, a: dt.date, b: dt.date) -> int:
        """Working days in (a, b] for a <= b."""
        return self._cum[self._index(b) + 1] - self._cum[self._index(a) + 1]

    def _nth_after(self, a: dt.date, n: int) -> dt.date:
        """The n-th working day after a (n >= 1)."""
        target = self._cum[self._index(a) + 1] + n
        # smallest i with _cum[i] >= target; the day is i - 1
        i = bisect_left(self._cum, target)
        if i > len(self._cum) - 1:
            raise ValueError(f"{n} working days after {a} is beyond {LAST_YEAR}")
        return _EPOCH + dt.timedelta(days=i - 1)

    # -- public API --------------------------------------------------------------------------------
    def next_workday(self, day: dt.date, *, include_self: bool = False) -> DateResult:
        """The first working day after ``day`` (or ``day`` itself when ``include_self`` and it works)."""
        if include_self and self.is_workday(day):
            return DateResult(day, not self.is_known(day))
        result = self._nth_after(day, 1)
        return DateResult(result, self._span_provisional(day, result))

    def add(
        self,
        start: dt.date,
        n: int,
        unit: Unit | str = Unit.WORKING,
        *,
        pauses: Sequence[Pause] = (),
        roll_natural_to_workday: bool = True,
    ) -> DateResult:
        """The due date ``n`` units after ``start`` (not counting paused days)."""
        unit = Unit.parse(unit)
        if n < 0:
            raise ValueError("n must be >= 0")
        merged = merge_pauses(pauses)
        if unit is Unit.WORKING:
            if n == 0:
                return DateResult(start, not self.is_known(start))
            due = self._nth_after(start, n)
            while True:  # paused working days push the due date out until it settles
                paused = self._paused(start, due, merged, working=True)
                extended = self._nth_after(start, n + paused)
                if extended == due:
                    break
                due = extended
            return DateResult(due, self._span_provisional(start, due))
        due = start + dt.timedelta(days=n)
        while True:
            paused = self._paused(start, due, merged, working=False)
            extended = start + dt.timedelta(days=n + paused)
            if extended == due:
                break
            due = extended
        if not (roll_natural_to_workday and n > 0):
            return DateResult(due, False)
        provisional = not self.is_known(due)
        if not self.is_workday(due):
            rolled = self.next_workday(due)
            due, provisional = rolled.date, provisional or rolled.provisional
        return DateResult(due, provisional)

    def between(
        self, a: dt.date, b: dt.date, unit: Unit | str = Unit.WORKING, *, pauses: Sequence[Pause] = ()
    ) -> CountResult:
        """Units in ``(a, b]`` not inside a pause; negative when ``b`` is before ``a``."""
        unit = Unit.parse(unit)
        if b < a:
            result = self.between(b, a, unit, pauses=pauses)
            return CountResult(-result.days, result.provisional)
        merged = merge_pauses(pauses)
        if unit is Unit.WORKING:
            days = self._count(a, b) - self._paused(a, b, merged, working=True)
            return CountResult(days, self._span_provisional(a, b))
        days = (b - a).days - self._paused(a, b, merged, working=False)
        return CountResult(days, False)

    def _paused(self, a: dt.date, b: dt.date, pauses: Sequence[Pause], *, working: bool) -> int:
        """Days of (a, b] that fall inside the pauses (working days only when ``working``)."""
        total = 0
        for pause in pauses:
            lo = max(pause.start, a + dt.timedelta(days=1))
            hi = min(pause.end - dt.timedelta(days=1), b)  # inclusive end of the pause
            if lo > hi:
                continue
            if working:
                total += self._count(lo - dt.timedelta(days=1), hi)
            else:
                total += (hi - lo).days + 1
        return total

    def arrays(self) -> tuple[dt.date, bytes, array]:
        """``(first date, working-day flag per day, cumulative count)`` for vectorised bulk computations.

        ``flags[i]`` is 1 when ``first + i`` is a working day; ``cum[i]`` counts the working days before it.
        Read-only views of the calendar's own tables (do not modify).
        """
        return _EPOCH, self._work, self._cum

    def workdays_in(self, year: int) -> list[dt.date]:
        start = dt.date(year, 1, 1)
        return [
            start + dt.timedelta(days=i)
            for i in range((dt.date(year, 12, 31) - start).days + 1)
            if self._work[self._index(start) + i]
        ]


def merge_pauses(pauses: Sequence[Pause]) -> list[Pause]:
    """Sort and merge overlapping or touching pauses so no day is subtracted twice."""
    merged: list[Pause] = []
    for pause in sorted(pauses, key=lambda p: (p.start, p.end)):
        if pause.start == pause.end:
            continue
        if merged and pause.start <= merged[-1].end:
            if pause.end > merged[-1].end:
                merged[-1] = Pause(merged[-1].start, pause.end)
        else:
            merged.append(pause)
    return merged

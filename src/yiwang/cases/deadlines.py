"""办件时限 — the case deadline engine. Pure Python over the working-day calendar; no ORM.

Statutory clocks (行政许可法 §32, §42, §44, §45; domain-cn.md §3.1, §3.4):

- the decision clock starts the day after acceptance (受理次日起算) and runs in the item's unit
  (工作日 or 自然日) for the promised limit (承诺时限) and the legal limit (法定时限);
- 补正 (returned to the applicant) and 特别程序 (hearing, testing, expert review …) stop the clock: their
  days are :class:`Pause` ranges; a pause still running counts up to ``today``;
- an approved extension (延期) adds days to both limits (the legal maximum is checked by the caller);
- a case left without a 补正 notice or decision 5 working days after receipt is deemed accepted (§32(4));
- a result must be issued within 10 working days of the decision (§44).

Warnings (电子监察 green/yellow/red): red when overdue (any day after the due date), yellow when at most
``yellow_days`` working days or ``yellow_ratio`` of the limit remain, green otherwise. While the clock is
stopped the remaining time does not shrink.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass

from yiwang.workdays.engine import Pause, Unit, WorkCalendar

DEEMED_ACCEPTANCE_WORKDAYS = 5  # 行政许可法 §32(4)
DELIVERY_WORKDAYS = 10  # 行政许可法 §44


class Level(enum.IntEnum):
    """预警级别 (0 绿 / 1 黄 / 2 红, as exchanged with the electronic supervision system)."""

    GREEN = 0
    YELLOW = 1
    RED = 2

    @property
    def label(self) -> str:
        return {0: "正常", 1: "即将超期", 2: "已超期"}[self.value]


@dataclass(frozen=True, slots=True)
class Limit:
    """A time limit: ``days`` in ``unit``."""

    days: int
    unit: Unit = Unit.WORKING

    def __post_init__(self) -> None:
        if self.days < 0:
            raise ValueError("a time limit cannot be negative")


@dataclass(frozen=True, slots=True)
class OpenPause:
    """A clock stop that has started and not yet ended (补正中, 特别程序中)."""

    start: dt.date


@dataclass(frozen=True, slots=True)
class Clock:
    """Everything the deadlines of one case depend on."""

    accepted_on: dt.date
    promised: Limit
    legal: Limit
    pauses: tuple[Pause, ...] = ()
    open_pause: OpenPause | None = None
    extension_days: int = 0  # approved 延期, in the limits' units


@dataclass(frozen=True, slots=True)
class Deadlines:
    promised_due: dt.date
    legal_due: dt.date
    provisional: bool  # depends on a year whose holiday schedule is not published yet
    paused: bool


def _pauses(clock: Clock, today: dt.date) -> list[Pause]:
    pauses = list(clock.pauses)
    if clock.open_pause is not None:
        # days from the pause start up to and including today are stopped
        pauses.append(Pause(clock.open_pause.start, max(today, clock.open_pause.start) + dt.timedelta(days=1)))
    return pauses


def compute(calendar: WorkCalendar, clock: Clock, *, today: dt.date) -> Deadlines:
    """Promised and legal due dates of a case as of ``today``."""
    pauses = _pauses(clock, today)
    promised = calendar.add(
        clock.accepted_on, clock.promised.days + clock.extension_days, clock.promised.unit, pauses=pauses
    )
    legal = calendar.add(clock.accepted_on, clock.legal.days + clock.extension_days, clock.legal.unit, pauses=pauses)
    return Deadlines(promised.date, legal.date, promised.provisional or legal.provisional, clock.open_pause is not None)


def remaining(calendar: WorkCalendar, *, today: dt.date, due: dt.date, unit: Unit, pauses: Sequence[Pause] = ()) -> int:
    """Units left from ``today`` to ``due`` (0 on the due day, negative once overdue)."""
    return calendar.between(today, due, unit, pauses=pauses).days


def level(
    calendar: WorkCalendar,
    clock: Clock,
    *,
    today: dt.date,
    yellow_days: int = 2,
    yellow_ratio: float = 0.2,
) -> Level:
    """Warning level of the promised deadline as of ``today``."""
    due = compute(calendar, clock, today=today).promised_due
    limit = clock.promised.days + clock.extension_days
    as_of = clock.open_pause.start if clock.open_pause is not None else today  # a stopped clock does not run
    if as_of > due:  # overdue from the day after the due date, working day or not
        return Level.RED
    left = remaining(calendar, today=as_of, due=due, unit=clock.promised.unit, pauses=clock.pauses)
    if left <= yellow_days or left <= math.floor(limit * yellow_ratio):
        return Level.YELLOW
    return Level.GREEN


def deemed_acceptance_on(calendar: WorkCalendar, received_on: dt.date) -> dt.date:
    """The day a received case counts as accepted when nobody acted (行政许可法 §32(4))."""
    return calendar.add(received_on, DEEMED_ACCEPTANCE_WORKDAYS, Unit.WORKING).date


def delivery_due(calendar: WorkCalendar, decided_on: dt.date) -> dt.date:
    """Latest day to issue the result after an approval (行政许可法 §44)."""
    return calendar.add(decided_on, DELIVERY_WORKDAYS, Unit.WORKING).date


def elapsed(calendar: WorkCalendar, clock: Clock, *, until: dt.date) -> int:
    """Counted units used between acceptance and ``until`` (pauses excluded) — for 按时办结率 and reports."""
    return calendar.between(clock.accepted_on, until, clock.promised.unit, pauses=_pauses(clock, until)).days


def yellow_threshold(limit: int, *, yellow_days: int = 2, yellow_ratio: float = 0.2) -> int:
    """Units left at which a case turns yellow: ``yellow_days`` or ``yellow_ratio`` of the limit, the larger."""
    return max(yellow_days, math.floor(limit * yellow_ratio))


def yellow_from(calendar: WorkCalendar, due: dt.date, unit: Unit | str, threshold: int) -> dt.date:
    """The first day on which at most ``threshold`` units remain until ``due`` (the day the light turns yellow).

    Equivalent to :func:`level` turning yellow for a running clock: from this day on ``remaining`` ≤ threshold.
    """
    if Unit.parse(unit) is Unit.NATURAL:
        return due - dt.timedelta(days=threshold)
    # the (threshold + 1)-th working day counting back from ``due`` (``due`` itself first when it works)
    day, seen = due, 0
    while True:
        if calendar.is_workday(day):
            seen += 1
            if seen == threshold + 1:
                return day
        day -= dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class CaseDeadlines:
    """What a case stores: due dates, the yellow-light day, the level as of ``today`` and the flags."""

    promised_due: dt.date
    legal_due: dt.date
    yellow_on: dt.date
    provisional: bool
    paused: bool
    level: Level


def level_on(today: dt.date, *, promised_due: dt.date, yellow_on: dt.date) -> Level:
    """Warning level of a running clock from the stored dates (what the queues compare)."""
    if today > promised_due:
        return Level.RED
    if today >= yellow_on:
        return Level.YELLOW
    return Level.GREEN


def for_case(
    calendar: WorkCalendar,
    clock: Clock,
    *,
    today: dt.date,
    yellow_days: int = 2,
    yellow_ratio: float = 0.2,
) -> CaseDeadlines:
    """Everything stored on a case under the clock, as of ``today``."""
    d = compute(calendar, clock, today=today)
    threshold = yellow_threshold(
        clock.promised.days + clock.extension_days, yellow_days=yellow_days, yellow_ratio=yellow_ratio
    )
    yellow = yellow_from(calendar, d.promised_due, clock.promised.unit, threshold)
    if clock.open_pause is not None:
        lvl = level(calendar, clock, today=today, yellow_days=yellow_days, yellow_ratio=yellow_ratio)
    else:
        lvl = level_on(today, promised_due=d.promised_due, yellow_on=yellow)
    return CaseDeadlines(d.promised_due, d.legal_due, yellow, d.provisional, d.paused, lvl)

"""差评整改时限 — rectification deadlines in working days, with yellow/red warnings. Pure Python.

Local rules differ (domain-cn.md §4.5: 5, 7 or 15 working days), so every limit is configuration
(``settings.RATINGS``); the defaults are 回访核实 within 1 working day and 整改反馈 within 5 working days
of the 差评, the return visit within 3 working days of the feedback, an appeal reviewed within 5 working
days, and a 限期整改 ledger deadline at most 15 working days after the 差评. Periods start the day after
the event (次日起算), like every statutory clock.

Warnings are the cases' levels (green/yellow/red): red once the due day has passed, yellow on the due day
or when at most ``yellow_days`` working days remain.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from yiwang.cases.deadlines import Level
from yiwang.workdays.engine import Unit, WorkCalendar

from .transitions import Classification, State

__all__ = ["DeadlineConfig", "Dues", "Level", "dues", "ledger_bounds", "warning"]


@dataclass(frozen=True, slots=True)
class DeadlineConfig:
    verify_days: int = 1  # 回访核实
    rectify_days: int = 5  # 整改并反馈
    revisit_days: int = 3  # 整改回访
    appeal_days: int = 5  # 申诉复核
    ledger_max_days: int = 15  # 限期整改的最长期限
    yellow_days: int = 1  # 黄灯：剩余工作日不超过此数

    def __post_init__(self) -> None:
        for name in ("verify_days", "rectify_days", "revisit_days", "appeal_days", "ledger_max_days"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least one working day")
        if self.ledger_max_days < self.rectify_days:
            raise ValueError("ledger_max_days cannot be shorter than rectify_days")
        if self.yellow_days < 0:
            raise ValueError("yellow_days cannot be negative")

    @classmethod
    def from_mapping(cls, values: dict) -> DeadlineConfig:
        names = {f for f in cls.__dataclass_fields__}
        return cls(**{k.lower(): int(v) for k, v in values.items() if k.lower() in names})


@dataclass(frozen=True, slots=True)
class Dates:
    """When things happened to one rectification (dates in Asia/Shanghai)."""

    created_on: dt.date
    classification: Classification | None = None
    ledger_due: dt.date | None = None
    appealed_on: dt.date | None = None
    feedback_on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Dues:
    verify_due: dt.date
    feedback_due: dt.date  # the ledger deadline for 限期整改
    revisit_due: dt.date | None
    appeal_due: dt.date | None
    provisional: bool


def _add(calendar: WorkCalendar, start: dt.date, days: int) -> tuple[dt.date, bool]:
    result = calendar.add(start, days, Unit.WORKING)
    return result.date, result.provisional


def dues(calendar: WorkCalendar, config: DeadlineConfig, dates: Dates) -> Dues:
    verify, p1 = _add(calendar, dates.created_on, config.verify_days)
    feedback, p2 = _add(calendar, dates.created_on, config.rectify_days)
    if dates.classification is Classification.LEDGER and dates.ledger_due is not None:
        feedback = dates.ledger_due
    revisit, p3 = (None, False)
    if dates.feedback_on is not None:
        revisit, p3 = _add(calendar, dates.feedback_on, config.revisit_days)
    appeal, p4 = (None, False)
    if dates.appealed_on is not None:
        appeal, p4 = _add(calendar, dates.appealed_on, config.appeal_days)
    return Dues(verify, feedback, revisit, appeal, p1 or p2 or p3 or p4)


def current_due(state: State | str, due: Dues) -> dt.date | None:
    """The deadline that matters in ``state`` (None when nothing is running)."""
    state = State(state)
    if state in (State.PENDING, State.ASSIGNED):
        return due.verify_due
    if state in (State.VERIFIED, State.RECTIFYING):
        return due.feedback_due
    if state is State.APPEALING:
        return due.appeal_due
    if state is State.FEEDBACK:
        return due.revisit_due
    return None


def ledger_bounds(
    calendar: WorkCalendar, config: DeadlineConfig, *, created_on: dt.date, today: dt.date
) -> tuple[dt.date, dt.date]:
    """Earliest and latest deadline a 限期整改 ledger entry may set: from today up to ``ledger_max_days``
    working days after the 差评 (never before today)."""
    latest, _ = _add(calendar, created_on, config.ledger_max_days)
    return today, max(latest, today)


def warning(calendar: WorkCalendar, *, today: dt.date, due: dt.date | None, yellow_days: int = 1) -> Level:
    """Green, yellow (due today or within ``yellow_days`` working days) or red (overdue)."""
    if due is None:
        return Level.GREEN
    if today > due:
        return Level.RED
    left = calendar.between(today, due, Unit.WORKING).days
    if left <= yellow_days:
        return Level.YELLOW
    return Level.GREEN

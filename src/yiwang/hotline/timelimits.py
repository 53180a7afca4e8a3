"""工单时限 — sign and handling deadlines by urgency and demand type. Pure Python over the working-day calendar.

A limit is a number and a unit: minutes or hours of clock time (特急/紧急), working hours inside the working
day (签收 of ordinary orders), or working/natural days (办理). Working days come from the national
calendar (holidays and 调休 make-up days); working hours are the spans of :data:`WORK_HOURS` on working
days. A due date counted in days ends at the end of that day (local time).

Defaults follow domain-cn.md §5.3 (Beijing 接诉即办: emergencies 2 h, urgent utilities 24 h; ordinary
complaints 10 working days as in Pingtan); deployments override them in the ``TimeLimit`` table.
The warning level uses :class:`yiwang.cases.deadlines.Level` (green/yellow/red) like the case engine.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from yiwang.cases.deadlines import Level
from yiwang.workdays.engine import Unit, WorkCalendar

LOCAL = ZoneInfo("Asia/Shanghai")
#: Working-day spans (local time): morning and afternoon.
WORK_HOURS: tuple[tuple[dt.time, dt.time], ...] = ((dt.time(9, 0), dt.time(12, 0)), (dt.time(13, 30), dt.time(17, 30)))


class LimitUnit(enum.StrEnum):
    MINUTES = "minutes"  # 分钟（自然时间）
    HOURS = "hours"  # 小时（自然时间）
    WORK_HOURS = "work_hours"  # 工作小时
    WORKING_DAYS = "working_days"  # 工作日
    NATURAL_DAYS = "natural_days"  # 自然日

    @property
    def label(self) -> str:
        return {
            "minutes": "分钟",
            "hours": "小时",
            "work_hours": "工作小时",
            "working_days": "个工作日",
            "natural_days": "个自然日",
        }[self.value]


@dataclass(frozen=True, slots=True)
class Limit:
    value: int
    unit: LimitUnit

    def __post_init__(self) -> None:
        if self.value < 0:
            raise ValueError("a time limit cannot be negative")

    def __str__(self) -> str:
        return f"{self.value}{LimitUnit(self.unit).label}"


@dataclass(frozen=True, slots=True)
class Limits:
    sign: Limit  # 签收时限
    handle: Limit  # 办理时限（自派单起）


#: (kind, urgency) → limits; kind "" means any kind. Kinds: consult/help/complaint/report/suggestion/praise.
DEFAULTS: dict[tuple[str, str], Limits] = {
    ("", "critical"): Limits(Limit(30, LimitUnit.MINUTES), Limit(2, LimitUnit.HOURS)),
    ("", "urgent"): Limits(Limit(2, LimitUnit.HOURS), Limit(24, LimitUnit.HOURS)),
    ("", "normal"): Limits(Limit(4, LimitUnit.WORK_HOURS), Limit(10, LimitUnit.WORKING_DAYS)),
    ("consult", "normal"): Limits(Limit(4, LimitUnit.WORK_HOURS), Limit(3, LimitUnit.WORKING_DAYS)),
    ("help", "normal"): Limits(Limit(4, LimitUnit.WORK_HOURS), Limit(5, LimitUnit.WORKING_DAYS)),
    ("complaint", "normal"): Limits(Limit(4, LimitUnit.WORK_HOURS), Limit(10, LimitUnit.WORKING_DAYS)),
    ("report", "normal"): Limits(Limit(4, LimitUnit.WORK_HOURS), Limit(10, LimitUnit.WORKING_DAYS)),
    ("suggestion", "normal"): Limits(Limit(8, LimitUnit.WORK_HOURS), Limit(15, LimitUnit.WORKING_DAYS)),
    ("praise", "normal"): Limits(Limit(8, LimitUnit.WORK_HOURS), Limit(5, LimitUnit.WORKING_DAYS)),
}


def limits_for(kind: str, urgency: str, overrides: Mapping[tuple[str, str], Limits] | None = None) -> Limits:
    """The limits for a demand type and urgency: the table's exact row, its any-kind row, then the defaults."""
    for table in (overrides or {}, DEFAULTS):
        for key in ((kind, urgency), ("", urgency)):
            if key in table:
                return table[key]
    return DEFAULTS[("", "normal")]


def _end_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=LOCAL)


def _add_work_hours(
    calendar: WorkCalendar, start: dt.datetime, minutes: int, spans: Sequence[tuple[dt.time, dt.time]]
) -> dt.datetime:
    local = start.astimezone(LOCAL)
    day = local.date()
    remaining = minutes
    first = True
    while True:
        if calendar.is_workday(day):
            for begin, end in spans:
                span_start = dt.datetime.combine(day, begin, tzinfo=LOCAL)
                span_end = dt.datetime.combine(day, end, tzinfo=LOCAL)
                if first and local > span_start:
                    span_start = min(local, span_end)
                available = int((span_end - span_start).total_seconds() // 60)
                if remaining <= available:
                    return span_start + dt.timedelta(minutes=remaining)
                remaining -= available
        first = False
        day += dt.timedelta(days=1)


def due_at(
    calendar: WorkCalendar,
    start: dt.datetime,
    limit: Limit,
    *,
    spans: Sequence[tuple[dt.time, dt.time]] = WORK_HOURS,
) -> dt.datetime:
    """When a clock that starts at ``start`` (aware) runs out after ``limit``; aware, in Asia/Shanghai."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    unit = LimitUnit(limit.unit)
    if unit is LimitUnit.MINUTES:
        return (start + dt.timedelta(minutes=limit.value)).astimezone(LOCAL)
    if unit is LimitUnit.HOURS:
        return (start + dt.timedelta(hours=limit.value)).astimezone(LOCAL)
    if unit is LimitUnit.WORK_HOURS:
        return _add_work_hours(calendar, start, limit.value * 60, spans)
    day = start.astimezone(LOCAL).date()
    days_unit = Unit.WORKING if unit is LimitUnit.WORKING_DAYS else Unit.NATURAL
    return _end_of_day(calendar.add(day, limit.value, days_unit).date)


def extend(calendar: WorkCalendar, due: dt.datetime, working_days: int) -> dt.datetime:
    """The handling due date after an approved 延期 of ``working_days`` (counted from the old due day)."""
    if working_days <= 0:
        raise ValueError("an extension adds at least one working day")
    local = due.astimezone(LOCAL)
    return dt.datetime.combine(calendar.add(local.date(), working_days, Unit.WORKING).date, local.timetz())


def level(*, now: dt.datetime, start: dt.datetime, due: dt.datetime | None, yellow_ratio: float = 0.2) -> Level:
    """Warning level: red once past ``due``, yellow in the last ``yellow_ratio`` of the span, else green."""
    if due is None:
        return Level.GREEN
    if now > due:
        return Level.RED
    total = (due - start).total_seconds()
    left = (due - now).total_seconds()
    if total <= 0 or left <= total * yellow_ratio:
        return Level.YELLOW
    return Level.GREEN


def on_time(done: dt.datetime | None, due: dt.datetime | None) -> bool | None:
    """Finished by the due time? ``None`` when not finished or no due time."""
    if done is None or due is None:
        return None
    return done <= due

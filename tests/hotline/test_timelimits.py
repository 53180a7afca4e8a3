"""Sign and handling deadlines: clock time, working hours and working days over the holiday calendar."""

import datetime as dt

import pytest

from yiwang.cases.deadlines import Level
from yiwang.hotline import timelimits as tl
from yiwang.hotline.timelimits import LOCAL, Limit, LimitUnit
from yiwang.workdays.engine import WorkCalendar


@pytest.fixture(scope="module")
def cal():
    # 2026-10-01..07 National Day off; Sunday 2026-09-27 and Saturday 2026-10-10 are make-up working days
    off = {dt.date(2026, 10, d): False for d in range(1, 8)}
    on = {dt.date(2026, 9, 27): True, dt.date(2026, 10, 10): True}
    return WorkCalendar(overrides={**off, **on}, known_years=[2026])


def at(y, m, d, h=10, mi=0):
    return dt.datetime(y, m, d, h, mi, tzinfo=LOCAL)


def test_minutes_and_hours_are_clock_time(cal):
    start = at(2026, 10, 3, 23, 50)  # a holiday night: emergencies do not wait
    assert tl.due_at(cal, start, Limit(30, LimitUnit.MINUTES)) == at(2026, 10, 4, 0, 20)
    assert tl.due_at(cal, start, Limit(24, LimitUnit.HOURS)) == at(2026, 10, 4, 23, 50)


def test_work_hours_inside_one_morning(cal):
    assert tl.due_at(cal, at(2026, 9, 29, 9, 30), Limit(2, LimitUnit.WORK_HOURS)) == at(2026, 9, 29, 11, 30)


def test_work_hours_skip_lunch_and_night(cal):
    # 11:00 + 4 h: 1 h before lunch, 3 h from 13:30 → 16:30
    assert tl.due_at(cal, at(2026, 9, 29, 11, 0), Limit(4, LimitUnit.WORK_HOURS)) == at(2026, 9, 29, 16, 30)
    # 16:30 + 4 h: 1 h today, then 3 h next morning → 12:00 next day
    assert tl.due_at(cal, at(2026, 9, 29, 16, 30), Limit(4, LimitUnit.WORK_HOURS)) == at(2026, 9, 30, 12, 0)


def test_work_hours_skip_the_holiday_week(cal):
    # Wednesday 30 Sept 17:00: half an hour left, then the holiday; 3 h on Thursday 8 Oct morning, 30 min after lunch
    assert tl.due_at(cal, at(2026, 9, 30, 17, 0), Limit(4, LimitUnit.WORK_HOURS)) == at(2026, 10, 8, 14, 0)


def test_work_hours_start_before_opening_and_at_weekend(cal):
    assert tl.due_at(cal, at(2026, 9, 29, 7, 0), Limit(1, LimitUnit.WORK_HOURS)) == at(2026, 9, 29, 10, 0)
    # Saturday 26 Sept → Sunday 27 Sept is a make-up working day
    assert tl.due_at(cal, at(2026, 9, 26, 10, 0), Limit(1, LimitUnit.WORK_HOURS)) == at(2026, 9, 27, 10, 0)


def test_working_days_end_at_the_end_of_the_day(cal):
    due = tl.due_at(cal, at(2026, 9, 29, 15, 0), Limit(3, LimitUnit.WORKING_DAYS))
    # 30 Sept, then the holiday, 8 Oct, 9 Oct → third working day is 9 Oct
    assert due == dt.datetime(2026, 10, 9, 23, 59, 59, tzinfo=LOCAL)


def test_natural_days_roll_to_a_working_day(cal):
    due = tl.due_at(cal, at(2026, 9, 29), Limit(3, LimitUnit.NATURAL_DAYS))
    assert due.date() == dt.date(2026, 10, 8)


def test_naive_start_is_refused(cal):
    with pytest.raises(ValueError, match="aware"):
        tl.due_at(cal, dt.datetime(2026, 9, 29, 10), Limit(1, LimitUnit.HOURS))


def test_limits_table_lookup_prefers_exact_then_any_kind():
    assert tl.limits_for("consult", "normal").handle == Limit(3, LimitUnit.WORKING_DAYS)
    assert tl.limits_for("complaint", "critical").handle == Limit(2, LimitUnit.HOURS)
    custom = {("", "urgent"): tl.Limits(Limit(1, LimitUnit.HOURS), Limit(12, LimitUnit.HOURS))}
    assert tl.limits_for("help", "urgent", custom).handle == Limit(12, LimitUnit.HOURS)
    assert tl.limits_for("unknown", "unknown").handle == Limit(10, LimitUnit.WORKING_DAYS)
    assert str(Limit(4, LimitUnit.WORK_HOURS)) == "4工作小时"


def test_extension_adds_working_days_from_the_old_due_date(cal):
    due = dt.datetime(2026, 9, 30, 23, 59, 59, tzinfo=LOCAL)
    assert tl.extend(cal, due, 2) == dt.datetime(2026, 10, 9, 23, 59, 59, tzinfo=LOCAL)
    with pytest.raises(ValueError):
        tl.extend(cal, due, 0)


def test_warning_levels():
    start, due = at(2026, 9, 1, 0), at(2026, 9, 11, 0)
    assert tl.level(now=at(2026, 9, 2), start=start, due=due) == Level.GREEN
    assert tl.level(now=at(2026, 9, 9, 12), start=start, due=due) == Level.YELLOW
    assert tl.level(now=at(2026, 9, 12), start=start, due=due) == Level.RED
    assert tl.level(now=at(2026, 9, 12), start=start, due=None) == Level.GREEN


def test_on_time():
    assert tl.on_time(at(2026, 9, 1), at(2026, 9, 2)) is True
    assert tl.on_time(at(2026, 9, 3), at(2026, 9, 2)) is False
    assert tl.on_time(None, at(2026, 9, 2)) is None


def test_negative_limit_is_refused():
    with pytest.raises(ValueError):
        Limit(-1, LimitUnit.HOURS)

"""The pure working-day engine: exact cases, pauses, natural days, unknown years and properties."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yiwang.workdays.engine import Pause, Unit, WorkCalendar, merge_pauses
from yiwang.workdays.sources import package_schedule, package_years

D = dt.date


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar(overrides={d.date: d.is_workday for d in package_schedule()}, known_years=package_years())


def test_national_day_2026_and_its_make_up_saturday(cal):
    # 2026: 10-01..10-07 off, Saturday 10-10 is a make-up working day
    assert not cal.is_workday(D(2026, 10, 1))
    assert not cal.is_workday(D(2026, 10, 7))
    assert cal.is_workday(D(2026, 10, 10))
    assert cal.is_workday(D(2026, 9, 20))  # Sunday make-up day before the holiday
    result = cal.add(D(2026, 9, 30), 5, Unit.WORKING)
    # working days after 9-30: 10-08, 10-09, 10-10 (Sat, 调休), 10-12, 10-13
    assert result.date == D(2026, 10, 13)
    assert not result.provisional


def test_add_counts_from_the_next_day(cal):
    assert cal.add(D(2026, 11, 20), 1).date == D(2026, 11, 23)  # Friday + 1 → Monday
    assert cal.add(D(2026, 11, 21), 1).date == D(2026, 11, 23)  # Saturday + 1 → Monday
    assert cal.add(D(2026, 11, 23), 0).date == D(2026, 11, 23)


def test_spring_festival_2026(cal):
    assert cal.is_workday(D(2026, 2, 14))  # Saturday 调休
    assert not cal.is_workday(D(2026, 2, 17))  # 春节


def test_between_is_the_inverse_of_add(cal):
    start = D(2026, 9, 25)
    for n in range(40):
        due = cal.add(start, n).date
        assert cal.between(start, due).days == n


def test_between_negative_and_zero(cal):
    assert cal.between(D(2026, 11, 23), D(2026, 11, 23)).days == 0
    assert cal.between(D(2026, 11, 27), D(2026, 11, 23)).days == -4


def test_pause_pushes_the_due_date(cal):
    start = D(2026, 11, 2)  # Monday
    plain = cal.add(start, 10).date
    paused = cal.add(start, 10, pauses=[Pause(D(2026, 11, 4), D(2026, 11, 6))])  # Wed+Thu stopped
    assert plain == D(2026, 11, 16)
    assert paused.date == D(2026, 11, 18)
    assert cal.between(start, paused.date, pauses=[Pause(D(2026, 11, 4), D(2026, 11, 6))]).days == 10


def test_overlapping_pauses_count_once(cal):
    start = D(2026, 11, 2)
    one = cal.add(start, 10, pauses=[Pause(D(2026, 11, 4), D(2026, 11, 9))])
    two = cal.add(start, 10, pauses=[Pause(D(2026, 11, 4), D(2026, 11, 6)), Pause(D(2026, 11, 5), D(2026, 11, 9))])
    assert one == two
    assert merge_pauses([Pause(D(2026, 1, 5), D(2026, 1, 8)), Pause(D(2026, 1, 2), D(2026, 1, 6))]) == [
        Pause(D(2026, 1, 2), D(2026, 1, 8))
    ]


def test_pause_outside_the_period_changes_nothing(cal):
    start = D(2026, 11, 2)
    assert cal.add(start, 5, pauses=[Pause(D(2026, 12, 1), D(2026, 12, 10))]) == cal.add(start, 5)
    assert cal.add(start, 5, pauses=[Pause(D(2026, 10, 1), D(2026, 10, 20))]) == cal.add(start, 5)


def test_open_pause_covering_everything_is_rejected_if_reversed():
    with pytest.raises(ValueError):
        Pause(D(2026, 1, 5), D(2026, 1, 1))


def test_natural_days_roll_off_a_holiday(cal):
    # 2026-09-26 + 5 natural days = 10-01 (National Day) → first working day after the holiday is 10-08
    assert cal.add(D(2026, 9, 26), 5, Unit.NATURAL).date == D(2026, 10, 8)
    assert cal.add(D(2026, 9, 26), 5, Unit.NATURAL, roll_natural_to_workday=False).date == D(2026, 10, 1)
    assert cal.add(D(2026, 11, 2), 3, "自然日").date == D(2026, 11, 5)
    assert cal.between(D(2026, 11, 2), D(2026, 11, 12), Unit.NATURAL).days == 10


def test_natural_days_with_pause(cal):
    result = cal.add(D(2026, 11, 2), 3, Unit.NATURAL, pauses=[Pause(D(2026, 11, 3), D(2026, 11, 5))])
    assert result.date == D(2026, 11, 9)  # 11-05 + … = 11-07 (Sat) → rolls to Monday 11-09


def test_unknown_year_falls_back_to_weekdays_and_is_provisional(cal):
    assert 2027 not in cal.known_years
    result = cal.add(D(2026, 12, 25), 10)
    assert result.provisional
    assert result.date == D(2027, 1, 8)  # Monday–Friday only; 2027-01-01 not known as a holiday
    assert not cal.add(D(2026, 12, 1), 5).provisional
    assert cal.between(D(2026, 12, 28), D(2027, 1, 4)).provisional


def test_publishing_a_year_changes_provisional_results():
    overrides = {d.date: d.is_workday for d in package_schedule()}
    overrides[D(2027, 1, 1)] = False
    known = package_years() | {2027}
    cal = WorkCalendar(overrides=overrides, known_years=known)
    result = cal.add(D(2026, 12, 25), 10)
    assert not result.provisional
    assert result.date == D(2027, 1, 11)


def test_overrides_for_unknown_years_are_ignored():
    cal = WorkCalendar(overrides={D(2027, 1, 4): False}, known_years={2026})
    assert cal.is_workday(D(2027, 1, 4))


def test_unit_parsing():
    assert Unit.parse("工作日") is Unit.WORKING
    assert Unit.parse("natural") is Unit.NATURAL
    with pytest.raises(ValueError):
        Unit.parse("fortnights")


def test_dates_outside_the_supported_range(cal):
    with pytest.raises(ValueError):
        cal.is_workday(D(1980, 1, 1))
    with pytest.raises(ValueError):
        cal.add(D(2026, 1, 1), -1)


def test_next_workday(cal):
    assert cal.next_workday(D(2026, 9, 30)).date == D(2026, 10, 8)
    assert cal.next_workday(D(2026, 10, 8), include_self=True).date == D(2026, 10, 8)


dates = st.dates(min_value=D(2005, 1, 1), max_value=D(2030, 12, 31))
counts = st.integers(min_value=0, max_value=120)


@settings(max_examples=300, deadline=None)
@given(start=dates, n=counts)
def test_property_add_then_between_round_trips(cal, start, n):
    due = cal.add(start, n)
    assert cal.between(start, due.date).days == n
    if n > 0:
        assert cal.is_workday(due.date)
        assert due.date > start


@settings(max_examples=300, deadline=None)
@given(start=dates, n=counts, extra=st.integers(min_value=0, max_value=30))
def test_property_add_is_monotonic(cal, start, n, extra):
    assert cal.add(start, n).date <= cal.add(start, n + extra).date
    assert cal.add(start, n, Unit.NATURAL).date <= cal.add(start, n + extra, Unit.NATURAL).date


@settings(max_examples=200, deadline=None)
@given(a=dates, b=dates, c=dates)
def test_property_between_is_additive(cal, a, b, c):
    assert cal.between(a, b).days + cal.between(b, c).days == cal.between(a, c).days


@settings(max_examples=200, deadline=None)
@given(start=dates, n=counts, p0=st.integers(0, 60), plen=st.integers(0, 30))
def test_property_pauses_only_push_later_and_still_round_trip(cal, start, n, p0, plen):
    pause = Pause(start + dt.timedelta(days=p0), start + dt.timedelta(days=p0 + plen))
    plain = cal.add(start, n).date
    paused = cal.add(start, n, pauses=[pause]).date
    assert paused >= plain
    assert cal.between(start, paused, pauses=[pause]).days == n


@settings(max_examples=200, deadline=None)
@given(start=dates, n=counts)
def test_property_provisional_iff_an_unknown_year_is_touched(cal, start, n):
    due = cal.add(start, n)
    touched = set(range(start.year, due.date.year + 1))
    assert due.provisional == bool(touched - cal.known_years)

"""The case deadline engine over the real calendar: pauses, extensions, units, unknown years, warnings."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yiwang.cases import deadlines as dl
from yiwang.cases.deadlines import Clock, Level, Limit, OpenPause
from yiwang.workdays.engine import Pause, Unit, WorkCalendar
from yiwang.workdays.sources import package_schedule, package_years

D = dt.date


@pytest.fixture(scope="module")
def cal():
    return WorkCalendar(overrides={d.date: d.is_workday for d in package_schedule()}, known_years=package_years())


def clock(**kw):
    base = {"accepted_on": D(2026, 9, 28), "promised": Limit(10), "legal": Limit(20)}
    return Clock(**(base | kw))


def test_span_over_national_day_and_its_make_up_saturday(cal):
    # accepted Mon 2026-09-28: 09-29, 09-30, 10-08, 10-09, 10-10 (Sat 调休), 10-12 … 10-16 → 10 working days
    d = dl.compute(cal, clock(), today=D(2026, 9, 28))
    assert d.promised_due == D(2026, 10, 16)
    assert d.legal_due == D(2026, 10, 30)
    assert not d.provisional and not d.paused


def test_closed_pause_moves_both_deadlines(cal):
    supplement = Pause(D(2026, 10, 12), D(2026, 10, 14))  # 补正 Mon–Tue, resubmitted Wednesday
    d = dl.compute(cal, clock(pauses=(supplement,)), today=D(2026, 10, 20))
    assert d.promised_due == D(2026, 10, 20)
    assert d.legal_due == D(2026, 11, 3)


def test_open_pause_keeps_pushing_until_it_ends(cal):
    open_clock = clock(open_pause=OpenPause(D(2026, 10, 12)))
    day1 = dl.compute(cal, open_clock, today=D(2026, 10, 12)).promised_due
    day3 = dl.compute(cal, open_clock, today=D(2026, 10, 14)).promised_due
    assert day3 > day1
    closed = dl.compute(cal, clock(pauses=(Pause(D(2026, 10, 12), D(2026, 10, 15)),)), today=D(2026, 10, 20))
    assert closed.promised_due == day3
    assert dl.compute(cal, open_clock, today=D(2026, 10, 14)).paused


def test_extension_adds_days(cal):
    d = dl.compute(cal, clock(extension_days=10), today=D(2026, 9, 28))
    assert d.legal_due == D(2026, 11, 13)
    assert d.promised_due == D(2026, 10, 30)


def test_natural_day_limits(cal):
    c = clock(promised=Limit(15, Unit.NATURAL), legal=Limit(30, Unit.NATURAL), accepted_on=D(2026, 9, 20))
    d = dl.compute(cal, c, today=D(2026, 9, 20))
    assert d.promised_due == D(2026, 10, 8)  # 10-05 is a holiday → first working day after
    assert d.legal_due == D(2026, 10, 20)


def test_unknown_year_is_provisional(cal):
    d = dl.compute(cal, clock(accepted_on=D(2026, 12, 21)), today=D(2026, 12, 21))
    assert d.provisional
    assert d.promised_due == D(2027, 1, 4)


def test_immediate_items_are_due_the_same_day(cal):
    d = dl.compute(cal, clock(promised=Limit(0), legal=Limit(0)), today=D(2026, 9, 28))
    assert d.promised_due == d.legal_due == D(2026, 9, 28)


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (D(2026, 9, 29), Level.GREEN),
        (D(2026, 10, 13), Level.GREEN),  # 3 working days left of 10
        (D(2026, 10, 14), Level.YELLOW),  # 2 left
        (D(2026, 10, 16), Level.YELLOW),  # due today
        (D(2026, 10, 19), Level.RED),  # overdue
    ],
)
def test_warning_levels(cal, today, expected):
    assert dl.level(cal, clock(), today=today) is expected


def test_yellow_by_ratio_for_long_limits(cal):
    c = clock(promised=Limit(60))
    due = dl.compute(cal, c, today=D(2026, 9, 28)).promised_due
    twelve_before = cal.add(D(2026, 9, 28), 48).date  # 12 of 60 left = 20%
    assert dl.level(cal, c, today=twelve_before) is Level.YELLOW
    assert dl.level(cal, c, today=cal.add(D(2026, 9, 28), 47).date) is Level.GREEN
    assert due > twelve_before


def test_a_stopped_clock_does_not_turn_red(cal):
    c = clock(open_pause=OpenPause(D(2026, 10, 12)))
    assert dl.level(cal, c, today=D(2026, 12, 1)) is not Level.RED


def test_deemed_acceptance_and_delivery(cal):
    assert dl.deemed_acceptance_on(cal, D(2026, 9, 28)) == D(2026, 10, 10)  # the 调休 Saturday counts
    assert dl.delivery_due(cal, D(2026, 9, 30)) == D(2026, 10, 20)


def test_elapsed_excludes_pauses(cal):
    c = clock(pauses=(Pause(D(2026, 10, 12), D(2026, 10, 14)),))
    assert dl.elapsed(cal, c, until=D(2026, 10, 16)) == 8


def test_negative_limits_are_rejected():
    with pytest.raises(ValueError):
        Limit(-1)


dates = st.dates(min_value=D(2010, 1, 1), max_value=D(2026, 6, 30))


@settings(max_examples=200, deadline=None)
@given(
    start=dates,
    promised=st.integers(0, 60),
    extra=st.integers(0, 40),
    ext=st.integers(0, 15),
    p0=st.integers(0, 40),
    plen=st.integers(0, 20),
)
def test_properties(cal, start, promised, extra, ext, p0, plen):
    pause = Pause(start + dt.timedelta(days=p0), start + dt.timedelta(days=p0 + plen))
    c = Clock(
        accepted_on=start, promised=Limit(promised), legal=Limit(promised + extra), pauses=(pause,), extension_days=ext
    )
    d = dl.compute(cal, c, today=start)
    plain = dl.compute(
        cal, Clock(accepted_on=start, promised=Limit(promised), legal=Limit(promised + extra)), today=start
    )
    assert d.promised_due <= d.legal_due
    assert d.promised_due >= plain.promised_due
    assert dl.elapsed(cal, c, until=d.promised_due) == promised + ext
    after = cal.next_workday(d.promised_due).date
    while pause.start <= after < pause.end:  # a stopped day does not count against the applicant
        after = cal.next_workday(after).date
    assert dl.level(cal, c, today=after) is Level.RED


# --- what a case stores: the yellow-light day and the level from stored dates -------------------------


@pytest.mark.parametrize("today_offset", range(-2, 25))
def test_yellow_from_matches_level(cal, today_offset):
    c = clock()
    stored = dl.for_case(cal, c, today=D(2026, 9, 28))
    today = D(2026, 9, 28) + dt.timedelta(days=today_offset)
    assert dl.level_on(today, promised_due=stored.promised_due, yellow_on=stored.yellow_on) is dl.level(
        cal, c, today=today
    )


def test_yellow_day_over_national_day(cal):
    stored = dl.for_case(cal, clock(), today=D(2026, 9, 28))
    assert stored.promised_due == D(2026, 10, 16)
    assert stored.yellow_on == D(2026, 10, 14)  # 2 working days left
    long = dl.for_case(cal, clock(accepted_on=D(2026, 9, 21), promised=Limit(60)), today=D(2026, 9, 21))
    assert cal.between(long.yellow_on, long.promised_due).days == 12  # 20% of 60


def test_yellow_day_natural_units(cal):
    c = clock(promised=Limit(15, Unit.NATURAL), legal=Limit(30, Unit.NATURAL), accepted_on=D(2026, 9, 20))
    stored = dl.for_case(cal, c, today=D(2026, 9, 20))
    assert stored.yellow_on == stored.promised_due - dt.timedelta(days=3)


def test_for_case_while_paused_freezes_the_level(cal):
    c = clock(open_pause=OpenPause(D(2026, 10, 12)))
    stored = dl.for_case(cal, c, today=D(2026, 12, 1))
    assert stored.paused and stored.level is not Level.RED


@settings(max_examples=300, deadline=None)
@given(
    start=st.dates(min_value=D(2020, 1, 1), max_value=D(2027, 6, 30)),
    promised=st.integers(0, 60),
    extra=st.integers(0, 40),
    ext=st.integers(0, 15),
    p_nat=st.booleans(),
    l_nat=st.booleans(),
    today_offset=st.integers(0, 120),
)
def test_vectorised_batch_equals_the_engine(cal, start, promised, extra, ext, p_nat, l_nat, today_offset):
    import numpy as np

    from yiwang.cases import bulk

    unit = {True: Unit.NATURAL, False: Unit.WORKING}
    c = Clock(
        accepted_on=start,
        promised=Limit(promised, unit[p_nat]),
        legal=Limit(promised + extra, unit[l_nat]),
        extension_days=ext,
    )
    today = start + dt.timedelta(days=today_offset)
    one = dl.for_case(cal, c, today=today)
    t = bulk.tables(cal)
    b = bulk.compute(
        t,
        accepted_on=np.array([start], dtype="datetime64[D]"),
        promised_days=np.array([promised]),
        promised_natural=np.array([p_nat]),
        legal_days=np.array([promised + extra]),
        legal_natural=np.array([l_nat]),
        extension_days=np.array([ext]),
        today=today,
    )
    assert b.promised_due[0].astype(object) == one.promised_due
    assert b.legal_due[0].astype(object) == one.legal_due
    assert b.yellow_on[0].astype(object) == one.yellow_on
    assert bool(b.provisional[0]) is one.provisional
    assert int(b.level[0]) == one.level

"""Rectification deadlines on the real working-day calendar, and yellow/red warnings."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yiwang.ratings import deadlines as dl
from yiwang.ratings.deadlines import Dates, DeadlineConfig, Level
from yiwang.ratings.transitions import Classification, State
from yiwang.workdays.engine import Unit, WorkCalendar
from yiwang.workdays.sources import package_schedule, package_years

D = dt.date


CAL = WorkCalendar(overrides={d.date: d.is_workday for d in package_schedule()}, known_years=package_years())


@pytest.fixture
def cal():
    return CAL


def test_defaults_verify_one_rectify_five_working_days(cal):
    # 差评 on Wednesday 2026-09-30, before National Day: next working days 10-08, 10-09, 10-10 (Sat 调休) …
    due = dl.dues(cal, DeadlineConfig(), Dates(created_on=D(2026, 9, 30)))
    assert due.verify_due == D(2026, 10, 8)
    assert due.feedback_due == D(2026, 10, 13)
    assert due.revisit_due is None and due.appeal_due is None
    assert not due.provisional


def test_a_friday_bad_review_is_verified_on_monday(cal):
    assert dl.dues(cal, DeadlineConfig(), Dates(created_on=D(2026, 11, 20))).verify_due == D(2026, 11, 23)


def test_configurable_limits(cal):
    config = DeadlineConfig.from_mapping({"VERIFY_DAYS": 2, "RECTIFY_DAYS": 15, "LEDGER_MAX_DAYS": 20, "other": 1})
    assert config.verify_days == 2 and config.rectify_days == 15 and config.ledger_max_days == 20
    due = dl.dues(cal, config, Dates(created_on=D(2026, 11, 20)))
    assert due.verify_due == cal.add(D(2026, 11, 20), 2, Unit.WORKING).date
    assert due.feedback_due == cal.add(D(2026, 11, 20), 15, Unit.WORKING).date


@pytest.mark.parametrize(
    "kwargs",
    [{"verify_days": 0}, {"rectify_days": 0}, {"ledger_max_days": 3}, {"yellow_days": -1}, {"revisit_days": 0}],
)
def test_invalid_config(kwargs):
    with pytest.raises(ValueError):
        DeadlineConfig(**kwargs)


def test_ledger_deadline_replaces_the_feedback_due(cal):
    dates = Dates(created_on=D(2026, 11, 2), classification=Classification.LEDGER, ledger_due=D(2026, 11, 20))
    assert dl.dues(cal, DeadlineConfig(), dates).feedback_due == D(2026, 11, 20)
    # without a ledger classification the ledger date is ignored
    dates = Dates(created_on=D(2026, 11, 2), classification=Classification.RECTIFY_NOW, ledger_due=D(2026, 11, 20))
    assert dl.dues(cal, DeadlineConfig(), dates).feedback_due == D(2026, 11, 9)


def test_ledger_bounds(cal):
    lo, hi = dl.ledger_bounds(cal, DeadlineConfig(), created_on=D(2026, 11, 2), today=D(2026, 11, 4))
    assert lo == D(2026, 11, 4)
    assert hi == cal.add(D(2026, 11, 2), 15).date == D(2026, 11, 23)
    lo, hi = dl.ledger_bounds(cal, DeadlineConfig(), created_on=D(2026, 1, 5), today=D(2026, 11, 4))
    assert lo == hi == D(2026, 11, 4)


def test_revisit_and_appeal_dues(cal):
    dates = Dates(created_on=D(2026, 11, 2), feedback_on=D(2026, 11, 6), appealed_on=D(2026, 11, 3))
    due = dl.dues(cal, DeadlineConfig(), dates)
    assert due.revisit_due == D(2026, 11, 11)
    assert due.appeal_due == D(2026, 11, 10)


@pytest.mark.parametrize(
    ("state", "field"),
    [
        (State.PENDING, "verify_due"),
        (State.ASSIGNED, "verify_due"),
        (State.VERIFIED, "feedback_due"),
        (State.RECTIFYING, "feedback_due"),
        (State.APPEALING, "appeal_due"),
        (State.FEEDBACK, "revisit_due"),
        (State.CLOSED, None),
        (State.INVALIDATED, None),
    ],
)
def test_current_due_by_state(cal, state, field):
    dates = Dates(created_on=D(2026, 11, 2), feedback_on=D(2026, 11, 6), appealed_on=D(2026, 11, 3))
    due = dl.dues(cal, DeadlineConfig(), dates)
    assert dl.current_due(state, due) == (getattr(due, field) if field else None)


def test_warnings(cal):
    due = D(2026, 11, 13)  # Friday
    assert dl.warning(cal, today=D(2026, 11, 10), due=due) is Level.GREEN  # 3 working days left
    assert dl.warning(cal, today=D(2026, 11, 12), due=due) is Level.YELLOW  # 1 left
    assert dl.warning(cal, today=due, due=due) is Level.YELLOW  # due today
    assert dl.warning(cal, today=D(2026, 11, 14), due=due) is Level.RED
    assert dl.warning(cal, today=D(2026, 11, 10), due=due, yellow_days=3) is Level.YELLOW
    assert dl.warning(cal, today=D(2026, 11, 10), due=None) is Level.GREEN


def test_unknown_year_is_provisional(cal):
    due = dl.dues(cal, DeadlineConfig(), Dates(created_on=D(2031, 3, 3)))
    assert due.provisional


@given(st.dates(min_value=D(2020, 1, 1), max_value=D(2026, 12, 1)), st.integers(1, 10), st.integers(1, 10))
def test_dues_are_working_days_after_creation(created, verify, rectify):
    cal = CAL
    config = DeadlineConfig(verify_days=verify, rectify_days=rectify, ledger_max_days=max(rectify, 15))
    due = dl.dues(cal, config, Dates(created_on=created))
    assert cal.is_workday(due.verify_due) and cal.is_workday(due.feedback_due)
    assert cal.between(created, due.verify_due).days == verify
    assert cal.between(created, due.feedback_due).days == rectify

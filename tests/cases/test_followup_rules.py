"""Pure follow-up rules: every (state, event) pair of the delivery, gap-material and revocation tables."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from yiwang.cases import followup_rules as fr

DELIVERY_EVENTS = ("issue_window", "issue_post", "issue_online", "pickup", "deliver", "return")


@pytest.mark.parametrize(("status", "event"), list(itertools.product(fr.DeliveryStatus, DELIVERY_EVENTS)))
def test_delivery_table(status, event):
    if (status, event) in fr.DELIVERY_TRANSITIONS:
        assert fr.delivery_next(status, event) == fr.DELIVERY_TRANSITIONS[(status, event)]
    else:
        with pytest.raises(fr.RuleError):
            fr.delivery_next(status, event)


def test_delivered_is_final():
    assert not [k for k in fr.DELIVERY_TRANSITIONS if k[0] is fr.DeliveryStatus.DELIVERED]


@pytest.mark.parametrize(
    ("state", "event"), list(itertools.product(("deferred", "supplied", "accepted"), ("supply", "accept", "reject")))
)
def test_gap_item_table(state, event):
    if (state, event) in fr.GAP_ITEM_TRANSITIONS:
        assert fr.gap_item_next(state, event) == fr.GAP_ITEM_TRANSITIONS[(state, event)]
    else:
        with pytest.raises(fr.RuleError):
            fr.gap_item_next(state, event)


def test_gap_fulfilled_and_consequences():
    assert not fr.gap_fulfilled([])
    assert fr.gap_fulfilled(["accepted", "accepted"]) and not fr.gap_fulfilled(["accepted", "supplied"])
    assert fr.gap_consequence("suspend", "in_process") == "return"
    assert fr.gap_consequence("revoke", "in_process") == "reject"
    for state in ("review_supplement", "special", "decided", "completed", "received"):
        assert fr.gap_consequence("suspend", state) == fr.gap_consequence("revoke", state) == "flag"


def test_gap_reminder_window():
    due = dt.date(2026, 10, 20)
    assert not fr.warn_gap(dt.date(2026, 10, 17), due=due, warn_days_before=2, warned_on=None)
    assert fr.warn_gap(dt.date(2026, 10, 18), due=due, warn_days_before=2, warned_on=None)
    assert fr.warn_gap(due, due=due, warn_days_before=2, warned_on=None)
    assert not fr.warn_gap(dt.date(2026, 10, 21), due=due, warn_days_before=2, warned_on=None)
    assert not fr.warn_gap(due, due=due, warn_days_before=2, warned_on=dt.date(2026, 10, 18))


@pytest.mark.parametrize(
    ("state", "event"), list(itertools.product(fr.RevocationState, ("state_case", "revoke", "drop")))
)
def test_revocation_table(state, event):
    if state is fr.RevocationState.NOTICE:
        assert fr.revocation_next(state, event) in fr.RevocationState
    else:
        with pytest.raises(fr.RuleError):
            fr.revocation_next(state, event)


def test_escalation_levels():
    due, second = dt.date(2026, 10, 20), dt.date(2026, 10, 22)
    assert fr.escalation_due(today=due, feedback_due=due, second_on=second, current=0) == 0
    assert fr.escalation_due(today=dt.date(2026, 10, 21), feedback_due=due, second_on=second, current=0) == 1
    assert fr.escalation_due(today=second, feedback_due=due, second_on=second, current=0) == 2
    assert fr.escalation_due(today=due, feedback_due=due, second_on=second, current=2) == 2  # never lower

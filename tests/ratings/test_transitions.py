"""The rectification transition table, exhaustively."""

import itertools

import pytest

from yiwang.core.errors import InvalidTransition
from yiwang.ratings.transitions import (
    CLASSIFY_EVENTS,
    FINAL_STATES,
    TRANSITIONS,
    Classification,
    Event,
    State,
    allowed_events,
    next_state,
    reachable,
)

EXPECTED = {
    (State.PENDING, Event.ASSIGN): State.ASSIGNED,
    (State.ASSIGNED, Event.REASSIGN): State.ASSIGNED,
    (State.ASSIGNED, Event.VERIFY): State.VERIFIED,
    (State.VERIFIED, Event.REASSIGN): State.VERIFIED,
    (State.VERIFIED, Event.RECTIFY_NOW): State.RECTIFYING,
    (State.VERIFIED, Event.LEDGER): State.RECTIFYING,
    (State.VERIFIED, Event.EXPLAIN): State.RECTIFYING,
    (State.VERIFIED, Event.APPEAL): State.APPEALING,
    (State.APPEALING, Event.APPEAL_UPHELD): State.INVALIDATED,
    (State.APPEALING, Event.APPEAL_REJECTED): State.VERIFIED,
    (State.RECTIFYING, Event.REASSIGN): State.RECTIFYING,
    (State.RECTIFYING, Event.FEEDBACK): State.FEEDBACK,
    (State.FEEDBACK, Event.REASSIGN): State.FEEDBACK,
    (State.FEEDBACK, Event.RETURN_VISIT): State.CLOSED,
}


@pytest.mark.parametrize(("state", "event"), list(itertools.product(State, Event)))
def test_every_state_event_pair(state, event):
    expected = EXPECTED.get((state, event))
    if expected is None:
        with pytest.raises(InvalidTransition) as err:
            next_state(state, event)
        assert err.value.code == "rectification_not_in_state"
        assert err.value.details == {"state": state.value, "event": event.value}
    else:
        assert next_state(state, event) is expected
        assert next_state(state.value, event.value) is expected  # plain strings work too


def test_table_is_exactly_the_expected_one():
    flat = {(s, e): t for s, row in TRANSITIONS.items() for e, t in row.items()}
    assert flat == EXPECTED
    assert set(TRANSITIONS) == set(State)


def test_every_state_is_reachable_and_finals_are_dead_ends():
    assert reachable() == set(State)
    for state in FINAL_STATES:
        assert TRANSITIONS[state] == {}
        assert allowed_events(state) == []
    assert State.CLOSED.is_final and State.INVALIDATED.is_final and not State.FEEDBACK.is_final


def test_every_non_final_state_can_reach_a_final_state():
    for state in State:
        assert reachable(state) & FINAL_STATES


def test_a_rejected_appeal_cannot_be_filed_again():
    state = next_state(State.APPEALING, Event.APPEAL_REJECTED)
    assert state is State.VERIFIED
    assert Event.APPEAL not in allowed_events(state, appeal_rejected=True)
    assert Event.APPEAL in allowed_events(state)
    with pytest.raises(InvalidTransition) as err:
        next_state(state, Event.APPEAL, appeal_rejected=True)
    assert err.value.code == "rectification_appeal_already_rejected"
    for event in (Event.RECTIFY_NOW, Event.LEDGER, Event.EXPLAIN):
        assert next_state(state, event, appeal_rejected=True) is State.RECTIFYING


def test_each_classification_has_its_event():
    assert set(CLASSIFY_EVENTS) == set(Classification)
    assert Classification.LEDGER.label == "限期整改" and Classification.APPEAL.label == "申诉"


def test_labels():
    assert all(s.label for s in State) and all(e.label for e in Event)
    assert State.FEEDBACK.label == "待回访"


def test_happy_path_and_appeal_paths():
    path = [Event.ASSIGN, Event.VERIFY, Event.LEDGER, Event.FEEDBACK, Event.RETURN_VISIT]
    state = State.PENDING
    for event in path:
        state = next_state(state, event)
    assert state is State.CLOSED
    state = State.PENDING
    for event in [Event.ASSIGN, Event.VERIFY, Event.APPEAL, Event.APPEAL_UPHELD]:
        state = next_state(state, event)
    assert state is State.INVALIDATED

"""The work-order state machine: every (state, event) pair is either in the table or refused."""

import itertools

import pytest

from yiwang.core.errors import InvalidTransition
from yiwang.hotline import transitions as t
from yiwang.hotline.transitions import Event, State

ALLOWED = {
    (State.NEW, Event.ANSWER): State.ANSWERED,
    (State.NEW, Event.DISPATCH): State.DISPATCHED,
    (State.NEW, Event.MERGE): State.MERGED,
    (State.NEW, Event.REFUSE): State.REFUSED,
    (State.NEW, Event.SUPERVISE): State.NEW,
    (State.DISPATCHED, Event.SIGN): State.HANDLING,
    (State.DISPATCHED, Event.RETURN): State.RETURN_REVIEW,
    (State.DISPATCHED, Event.MERGE): State.MERGED,
    (State.DISPATCHED, Event.SUPERVISE): State.DISPATCHED,
    (State.RETURN_REVIEW, Event.APPROVE_RETURN): State.NEW,
    (State.RETURN_REVIEW, Event.REJECT_RETURN): State.DISPATCHED,
    (State.HANDLING, Event.EXTEND): State.HANDLING,
    (State.HANDLING, Event.SUPERVISE): State.HANDLING,
    (State.HANDLING, Event.REPLY): State.REPLIED,
    (State.REPLIED, Event.APPROVE_REPLY): State.VISITING,
    (State.REPLIED, Event.REJECT_REPLY): State.HANDLING,
    (State.VISITING, Event.VISIT_SATISFIED): State.CLOSED,
    (State.VISITING, Event.VISIT_UNSATISFIED): State.REOPENED,
    (State.VISITING, Event.CLOSE): State.CLOSED,
    (State.REOPENED, Event.SIGN): State.HANDLING,
    (State.REOPENED, Event.RETURN): State.RETURN_REVIEW,
    (State.REOPENED, Event.SUPERVISE): State.REOPENED,
    (State.ANSWERED, Event.VISIT_SATISFIED): State.ANSWERED,
    (State.ANSWERED, Event.VISIT_UNSATISFIED): State.NEW,
}


@pytest.mark.parametrize(("state", "event"), list(itertools.product(State, Event)))
def test_every_pair(state, event):
    if (state, event) in ALLOWED:
        assert t.can(state, event)
        assert t.next_state(state, event) == ALLOWED[(state, event)]
    else:
        assert not t.can(state, event)
        with pytest.raises(InvalidTransition) as exc:
            t.next_state(state, event)
        assert exc.value.code == "workorder_invalid_transition"
        assert exc.value.details == {"state": state.value, "event": event.value}


def test_table_is_exactly_the_documented_one():
    assert t.TRANSITIONS == ALLOWED


def test_terminal_states_have_no_way_out():
    for state in (State.CLOSED, State.MERGED, State.REFUSED):
        assert t.events_from(state) == []


def test_every_state_is_reachable_from_new():
    seen, frontier = {State.NEW}, [State.NEW]
    while frontier:
        state = frontier.pop()
        for event in t.events_from(state):
            nxt = t.next_state(state, event)
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    assert seen == set(State)


def test_labels_cover_every_state_and_event():
    assert set(t.LABELS) == set(State)
    assert set(t.EVENT_LABELS) == set(Event)
    assert State.HANDLING.label == "办理中"


def test_message_names_state_and_event_in_chinese():
    with pytest.raises(InvalidTransition, match=r"已办结.*签收"):
        t.next_state("closed", "sign")

"""The case transition table, checked exhaustively against an independent statement of the rules."""

from collections import deque

import pytest

from yiwang.cases import states as st
from yiwang.cases.states import Action as A
from yiwang.cases.states import Party as P
from yiwang.cases.states import State as S

# The rules written out once more, by hand, so a slip in the table fails a test.
EXPECTED = {
    S.DRAFT: {A.SAVE_DRAFT: S.DRAFT, A.SUBMIT: S.SUBMITTED, A.WINDOW_RECEIVE: S.RECEIVED, A.WITHDRAW: S.WITHDRAWN},
    S.SUBMITTED: {
        A.PRETRIAL_PASS: S.RECEIVED,
        A.PRETRIAL_RETURN: S.DRAFT,
        A.PRETRIAL_REJECT: S.PRETRIAL_REJECTED,
        A.WITHDRAW: S.WITHDRAWN,
    },
    S.RECEIVED: {
        A.REQUEST_SUPPLEMENT: S.SUPPLEMENT,
        A.ACCEPT: S.IN_PROCESS,
        A.NOT_ACCEPT: S.NOT_ACCEPTED,
        A.FLAG_DEEMED_ACCEPTED: S.RECEIVED,
        A.WITHDRAW: S.WITHDRAWN,
        A.SUPERVISE: S.RECEIVED,
        A.SUPERVISE_FEEDBACK: S.RECEIVED,
    },
    S.SUPPLEMENT: {
        A.RESUBMIT: S.RECEIVED,
        A.WITHDRAW: S.WITHDRAWN,
        A.SUPERVISE: S.SUPPLEMENT,
        A.SUPERVISE_FEEDBACK: S.SUPPLEMENT,
    },
    S.IN_PROCESS: {
        A.COMPLETE_STEP: S.IN_PROCESS,
        A.RETURN_FOR_SUPPLEMENT: S.REVIEW_SUPPLEMENT,
        A.START_SPECIAL: S.SPECIAL,
        A.REQUEST_EXTENSION: S.IN_PROCESS,
        A.APPROVE_EXTENSION: S.IN_PROCESS,
        A.REJECT_EXTENSION: S.IN_PROCESS,
        A.DECIDE_APPROVE: S.DECIDED,
        A.DECIDE_REJECT: S.DECIDED,
        A.WITHDRAW: S.WITHDRAWN,
        A.SUPERVISE: S.IN_PROCESS,
        A.SUPERVISE_FEEDBACK: S.IN_PROCESS,
    },
    S.REVIEW_SUPPLEMENT: {
        A.RESUBMIT: S.IN_PROCESS,
        A.APPROVE_EXTENSION: S.REVIEW_SUPPLEMENT,
        A.REJECT_EXTENSION: S.REVIEW_SUPPLEMENT,
        A.WITHDRAW: S.WITHDRAWN,
        A.SUPERVISE: S.REVIEW_SUPPLEMENT,
        A.SUPERVISE_FEEDBACK: S.REVIEW_SUPPLEMENT,
    },
    S.SPECIAL: {
        A.END_SPECIAL: S.IN_PROCESS,
        A.APPROVE_EXTENSION: S.SPECIAL,
        A.REJECT_EXTENSION: S.SPECIAL,
        A.WITHDRAW: S.WITHDRAWN,
        A.SUPERVISE: S.SPECIAL,
        A.SUPERVISE_FEEDBACK: S.SPECIAL,
    },
    S.DECIDED: {A.COMPLETE: S.COMPLETED, A.SUPERVISE: S.DECIDED, A.SUPERVISE_FEEDBACK: S.DECIDED},
    S.PRETRIAL_REJECTED: {},
    S.NOT_ACCEPTED: {},
    S.COMPLETED: {},
    S.WITHDRAWN: {},
}


def test_expected_covers_every_state():
    assert set(EXPECTED) == set(S)


@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize("action", list(A))
def test_every_state_action_pair(state, action):
    expected = EXPECTED[state].get(action)
    if expected is None:
        assert not st.allowed(state, action)
        with pytest.raises(st.TransitionError) as info:
            st.target(state, action)
        assert info.value.state is state and info.value.action is action
    else:
        assert st.allowed(state, action)
        assert st.target(state, action) is expected
        assert st.target(state.value, action.value) is expected  # plain strings from the database


def test_table_has_nothing_beyond_the_rules():
    flat = {(s, a): t for s, row in EXPECTED.items() for a, t in row.items()}
    assert flat == st.TRANSITIONS


def test_every_action_is_used_and_has_parties():
    used = {a for (_, a) in st.TRANSITIONS}
    assert used == set(A)
    assert set(st.ACTORS) == set(A)
    assert all(st.ACTORS[a] for a in A)


def test_every_state_and_action_has_a_label():
    assert all(s.label for s in S) and all(a.label for a in A)


def _reachable(start):
    seen, todo = {start}, deque([start])
    while todo:
        s = todo.popleft()
        for (frm, _), to in st.TRANSITIONS.items():
            if frm is s and to not in seen:
                seen.add(to)
                todo.append(to)
    return seen


def test_every_state_is_reachable_from_a_draft():
    assert _reachable(S.DRAFT) == set(S)


@pytest.mark.parametrize("state", sorted(set(S) - st.TERMINAL))
def test_every_open_state_can_end(state):
    assert _reachable(state) & st.TERMINAL


@pytest.mark.parametrize("state", sorted(st.TERMINAL))
def test_terminal_states_have_no_way_out(state):
    assert st.actions_from(state) == []
    assert st.is_terminal(state)


def test_withdrawal_only_before_the_decision():
    assert {s for s in S if st.allowed(s, A.WITHDRAW)} == {
        S.DRAFT,
        S.SUBMITTED,
        S.RECEIVED,
        S.SUPPLEMENT,
        S.IN_PROCESS,
        S.REVIEW_SUPPLEMENT,
        S.SPECIAL,
    }


def test_stopped_clock_states_can_be_resumed():
    for state in st.CLOCK_STOPPED:
        assert S.IN_PROCESS in {st.target(state, a) for a in st.actions_from(state)}


def test_open_states():
    assert set(S) - st.TERMINAL - {S.DRAFT} == st.OPEN
    assert {S.IN_PROCESS, S.REVIEW_SUPPLEMENT, S.SPECIAL} == st.UNDER_DEADLINE


@pytest.mark.parametrize(
    ("party", "action", "ok"),
    [
        (P.APPLICANT, A.SUBMIT, True),
        (P.CLERK, A.SUBMIT, False),
        (P.APPLICANT, A.ACCEPT, False),
        (P.CLERK, A.ACCEPT, True),
        (P.REVIEWER, A.ACCEPT, False),
        (P.REVIEWER, A.REQUEST_EXTENSION, True),
        (P.REVIEWER, A.APPROVE_EXTENSION, False),  # nobody approves their own extension
        (P.HEAD, A.APPROVE_EXTENSION, True),
        (P.SYSTEM, A.FLAG_DEEMED_ACCEPTED, True),
        (P.CLERK, A.FLAG_DEEMED_ACCEPTED, False),
        (P.SUPERVISOR, A.SUPERVISE, True),
        (P.SUPERVISOR, A.DECIDE_APPROVE, False),
        (P.APPLICANT, A.RESUBMIT, True),
        (P.CLERK, A.RESUBMIT, True),
        (P.APPLICANT, A.WITHDRAW, True),
        (P.CLERK, A.WITHDRAW, False),
    ],
)
def test_parties(party, action, ok):
    assert st.may(party, action) is ok


def test_actions_from_filters_by_party():
    assert st.actions_from(S.RECEIVED, [P.APPLICANT]) == [A.WITHDRAW]
    assert st.actions_from(S.RECEIVED, [P.CLERK]) == [
        A.REQUEST_SUPPLEMENT,
        A.ACCEPT,
        A.NOT_ACCEPT,
        A.SUPERVISE_FEEDBACK,
    ]
    assert A.DECIDE_APPROVE in st.actions_from(S.IN_PROCESS, [P.REVIEWER])
    assert st.actions_from("in_process", [P.HEAD])[0] is A.COMPLETE_STEP


def test_unknown_values_are_errors():
    with pytest.raises(ValueError):
        st.target("nonsense", A.SUBMIT)
    with pytest.raises(ValueError):
        st.allowed(S.DRAFT, "fly")

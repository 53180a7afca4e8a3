"""The pure 一件事 rules: child/parent transition tables, the stage plan (exhaustive), savings."""

from __future__ import annotations

import itertools

import pytest

from yiwang.cases import bundle_flow as flow
from yiwang.cases.bundle_flow import Child, ChildStatus, ParentState

C = ChildStatus
EVENTS = ("start", "cancel", "approve", "refuse")


@pytest.mark.parametrize(("status", "event"), list(itertools.product(ChildStatus, EVENTS)))
def test_child_table_is_the_only_truth(status, event):
    if (status, event) in flow.CHILD_TRANSITIONS:
        assert flow.child_next(status, event) == flow.CHILD_TRANSITIONS[(status, event)]
    else:
        with pytest.raises(flow.FlowError):
            flow.child_next(status, event)


@pytest.mark.parametrize(
    ("state", "event"),
    list(itertools.product(ParentState, ("all_approved", "some_approved", "none_approved", "withdrawn"))),
)
def test_parent_table(state, event):
    if state is ParentState.IN_PROGRESS:
        assert flow.parent_next(state, event) is not ParentState.IN_PROGRESS
    else:
        with pytest.raises(flow.FlowError):
            flow.parent_next(state, event)


def test_case_events():
    assert flow.case_event("completed", "approved") == "approve"
    assert flow.case_event("completed", "rejected") == "refuse"
    assert flow.case_event("decided", "rejected") == "refuse"
    assert flow.case_event("decided", "approved") is None  # approved but not issued yet
    for state in ("not_accepted", "pretrial_rejected", "withdrawn"):
        assert flow.case_event(state, "") == "refuse"
    for state in ("draft", "submitted", "received", "in_process", "special", "supplement"):
        assert flow.case_event(state, "") is None


STAGES = (1, 1, 2, 3)


@pytest.mark.parametrize("statuses", list(itertools.product(ChildStatus, repeat=len(STAGES))))
@pytest.mark.parametrize("withdrawn", [False, True])
def test_plan_invariants(statuses, withdrawn):
    children = [Child(s, st) for s, st in zip(STAGES, statuses, strict=True)]
    step = flow.plan(children, withdrawn=withdrawn)
    after = list(statuses)
    for i in step.cancel:
        assert statuses[i] is C.WAITING
        after[i] = C.CANCELLED
    for i in step.start:
        assert statuses[i] is C.WAITING and i not in step.cancel
        after[i] = C.RUNNING
    # a child starts only when every child of the earlier stages is approved, and a whole stage at once
    for i in step.start:
        assert all(after[j] is C.APPROVED for j, s in enumerate(STAGES) if s < STAGES[i])
        assert all(after[j] is not C.WAITING for j, s in enumerate(STAGES) if s == STAGES[i])
    # after a refusal nothing later waits; withdrawal cancels everything waiting
    failed = [STAGES[j] for j, st in enumerate(statuses) if st in (C.REFUSED, C.CANCELLED)]
    for j, st in enumerate(after):
        if st is C.WAITING:
            assert not withdrawn
            assert not failed or STAGES[j] <= min(failed)
    # the parent concludes exactly when nothing is open, with the right outcome
    open_left = any(st in (C.WAITING, C.RUNNING) for st in after)
    assert (step.conclusion is None) == open_left
    if step.conclusion:
        approved = sum(st is C.APPROVED for st in after)
        expected = (
            "all_approved"
            if approved == len(after)
            else "some_approved"
            if approved
            else ("withdrawn" if withdrawn else "none_approved")
        )
        assert step.conclusion == expected
    # applying the plan again changes nothing more than starting the next stage (idempotent cancels)
    again = flow.plan([Child(s, st) for s, st in zip(STAGES, after, strict=True)], withdrawn=withdrawn)
    assert not again.cancel


def test_stage_numbers_and_progress():
    assert flow.stage_numbers([3, 1, 3, 7]) == [2, 1, 2, 3]
    assert flow.progress([]) == 0
    assert flow.progress(["approved", "running", "cancelled", "waiting"]) == 50


def test_savings_one_by_one_versus_bundle():
    members = [
        flow.MemberFacts(stage=1, materials=4, form_fields=5, visits=1, promised_days=5),
        flow.MemberFacts(stage=1, materials=3, form_fields=5, visits=0, promised_days=3),
        flow.MemberFacts(stage=2, materials=2, form_fields=4, visits=0, promised_days=10),
    ]
    s = flow.savings(members, merged_materials=5, merged_fields=7, bundle_days=None)
    assert s["one_by_one"] == {"applications": 3, "materials": 9, "form_fields": 14, "visits": 3, "days": 18}
    assert s["bundle"] == {"applications": 1, "materials": 5, "form_fields": 7, "visits": 1, "days": 15}
    assert s["cut_percent"] == {"applications": 67, "materials": 44, "form_fields": 50, "visits": 67, "days": 17}
    assert flow.savings(members, merged_materials=5, merged_fields=7, bundle_days=5)["bundle"]["days"] == 5
    assert flow.critical_path_days(members) == 15

"""一件事办件的规则 — stages, the parent's outcome and what a bundle saves. Pure Python; no ORM.

A bundle application (一件事办件, the *parent*) has one *child* per applicable member item. Members with the
same order number form a *stage* and run in parallel; stages run one after another::

    stage 1: 出生医学证明签发 ─┐
             生育登记        ─┴─▶ stage 2: 出生登记（落户） ──▶ stage 3: 医保参保登记

Child statuses (:data:`CHILD_TRANSITIONS`)::

    waiting ──start──▶ running ──approve (办结，准予)──▶ approved ■
       │                  └──refuse (不予受理/预审不通过/不予许可/撤回)──▶ refused ■
       └──cancel (an earlier stage did not succeed)──▶ cancelled ■

A waiting stage starts when every child of the earlier stages is approved; when a child is refused every
waiting child after it is cancelled (it depended on the earlier stages). The parent concludes when no child
is waiting or running (:data:`PARENT_TRANSITIONS`): every child approved → 已办结; some → 部分办结; none →
未办成 (or 已撤回 when the applicant withdrew the bundle).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass


def _(text: str) -> str:
    return text


class ChildStatus(enum.StrEnum):
    """一件事子办件状态."""

    WAITING = "waiting"  # 等待前序事项办结
    RUNNING = "running"  # 已分送部门办理
    APPROVED = "approved"  # 已办结（准予）
    REFUSED = "refused"  # 未办成（不予受理/不予许可/撤回）
    CANCELLED = "cancelled"  # 未启动（前序事项未办成）


CHILD_LABELS: dict[ChildStatus, str] = {
    ChildStatus.WAITING: _("等待前序事项办结"),
    ChildStatus.RUNNING: _("办理中"),
    ChildStatus.APPROVED: _("已办结"),
    ChildStatus.REFUSED: _("未办成"),
    ChildStatus.CANCELLED: _("未启动"),
}


class ParentState(enum.StrEnum):
    """一件事办件状态."""

    IN_PROGRESS = "in_progress"  # 办理中
    COMPLETED = "completed"  # 已办结（全部准予）
    PARTIAL = "partial"  # 部分办结
    FAILED = "failed"  # 未办成
    WITHDRAWN = "withdrawn"  # 已撤回


PARENT_LABELS: dict[ParentState, str] = {
    ParentState.IN_PROGRESS: _("办理中"),
    ParentState.COMPLETED: _("已办结"),
    ParentState.PARTIAL: _("部分办结"),
    ParentState.FAILED: _("未办成"),
    ParentState.WITHDRAWN: _("已撤回"),
}

C, P = ChildStatus, ParentState

CHILD_TRANSITIONS: dict[tuple[ChildStatus, str], ChildStatus] = {
    (C.WAITING, "start"): C.RUNNING,
    (C.WAITING, "cancel"): C.CANCELLED,
    (C.RUNNING, "approve"): C.APPROVED,
    (C.RUNNING, "refuse"): C.REFUSED,
}

PARENT_TRANSITIONS: dict[tuple[ParentState, str], ParentState] = {
    (P.IN_PROGRESS, "all_approved"): P.COMPLETED,
    (P.IN_PROGRESS, "some_approved"): P.PARTIAL,
    (P.IN_PROGRESS, "none_approved"): P.FAILED,
    (P.IN_PROGRESS, "withdrawn"): P.WITHDRAWN,
}

OPEN_CHILD = frozenset({C.WAITING, C.RUNNING})


class FlowError(Exception):
    """A child or parent transition that is not in the table."""


def child_next(status: ChildStatus | str, event: str) -> ChildStatus:
    try:
        return CHILD_TRANSITIONS[(ChildStatus(status), event)]
    except KeyError:
        raise FlowError(f"child event {event!r} not allowed in {status!r}") from None


def parent_next(state: ParentState | str, event: str) -> ParentState:
    try:
        return PARENT_TRANSITIONS[(ParentState(state), event)]
    except KeyError:
        raise FlowError(f"parent event {event!r} not allowed in {state!r}") from None


# Case states (cases.states.State values) in which a child case has ended without approval.
REFUSING_STATES = frozenset({"not_accepted", "pretrial_rejected", "withdrawn"})


def case_event(state: str, decision: str) -> str | None:
    """What a child case's state means for its bundle: ``approve``, ``refuse`` or nothing yet.

    Approval counts when the case is completed (办结, the result issued); a refusal as soon as it is
    decided (不予许可), not accepted, rejected in pre-review or withdrawn.
    """
    if state == "completed":
        return "approve" if decision == "approved" else "refuse"
    if state == "decided" and decision == "rejected":
        return "refuse"
    if state in REFUSING_STATES:
        return "refuse"
    return None


@dataclass(frozen=True, slots=True)
class Child:
    stage: int
    status: ChildStatus


@dataclass(frozen=True, slots=True)
class Plan:
    """What to do next: children to start and to cancel (by position), and the parent's conclusion."""

    start: tuple[int, ...] = ()
    cancel: tuple[int, ...] = ()
    conclusion: str | None = None  # an event of PARENT_TRANSITIONS, or None while children are open


def plan(children: Sequence[Child], *, withdrawn: bool = False) -> Plan:
    """The next steps for a parent whose children are ``children`` (positions are list indexes)."""
    statuses = [ChildStatus(c.status) for c in children]
    failed_at = min((c.stage for c in children if ChildStatus(c.status) in (C.REFUSED, C.CANCELLED)), default=None)
    cancel: list[int] = []
    for i, c in enumerate(children):
        if statuses[i] is C.WAITING and (withdrawn or (failed_at is not None and c.stage > failed_at)):
            cancel.append(i)
            statuses[i] = C.CANCELLED
    start: list[int] = []
    waiting_stages = sorted({c.stage for i, c in enumerate(children) if statuses[i] is C.WAITING})
    if waiting_stages:
        first = waiting_stages[0]
        if all(statuses[i] is C.APPROVED for i, c in enumerate(children) if c.stage < first):
            start = [i for i, c in enumerate(children) if c.stage == first and statuses[i] is C.WAITING]
            for i in start:
                statuses[i] = C.RUNNING
    conclusion = None
    if children and not any(s in OPEN_CHILD for s in statuses):
        approved = sum(s is C.APPROVED for s in statuses)
        if approved == len(statuses):
            conclusion = "all_approved"
        elif approved:
            conclusion = "some_approved"
        else:
            conclusion = "withdrawn" if withdrawn else "none_approved"
    return Plan(tuple(start), tuple(cancel), conclusion)


def stage_numbers(orders: Sequence[int]) -> list[int]:
    """Member order numbers → stage numbers 1, 2, 3 … (equal orders share a stage)."""
    ranks = {o: n for n, o in enumerate(sorted(set(orders)), 1)}
    return [ranks[o] for o in orders]


def progress(statuses: Sequence[ChildStatus | str]) -> int:
    """Percent of children that have ended (approved, refused or cancelled)."""
    if not statuses:
        return 0
    done = sum(ChildStatus(s) not in OPEN_CHILD for s in statuses)
    return round(100 * done / len(statuses))


# --- what a bundle saves (省了什么) ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemberFacts:
    """One applicable member as filed on its own: its guide's numbers."""

    stage: int
    materials: int  # 申请材料份数
    form_fields: int  # 申请表字段数
    visits: int  # 到办事现场次数（指南）
    promised_days: int | None  # 承诺时限（工作日）


def critical_path_days(members: Sequence[MemberFacts]) -> int:
    """Working days when stages run one after another and members within a stage in parallel."""
    by_stage: dict[int, int] = {}
    for m in members:
        by_stage[m.stage] = max(by_stage.get(m.stage, 0), m.promised_days or 0)
    return sum(by_stage.values())


def savings(
    members: Sequence[MemberFacts],
    *,
    merged_materials: int,
    merged_fields: int,
    bundle_days: int | None,
) -> dict[str, dict[str, int]]:
    """Filing the members one by one versus once as a bundle (一次告知、一表申请、一套材料、一窗受理).

    - materials / form fields: the sum over members versus the merged (deduplicated) list and form;
    - visits to a window: each member on its own needs at least one trip to its department; the bundle
      needs one trip to one 一件事 window (more only when a member's guide requires more);
    - applications: one per member versus one;
    - promised days: the members one after another versus the bundle's own promise (or its critical
      path when it promises none).
    """
    one = {
        "applications": len(members),
        "materials": sum(m.materials for m in members),
        "form_fields": sum(m.form_fields for m in members),
        "visits": sum(max(1, m.visits) for m in members),
        "days": sum(m.promised_days or 0 for m in members),
    }
    days = bundle_days if bundle_days is not None else critical_path_days(members)
    together = {
        "applications": 1 if members else 0,
        "materials": merged_materials,
        "form_fields": merged_fields,
        "visits": max((max(1, m.visits) for m in members), default=0),
        "days": min(days, one["days"]) if one["days"] else days,
    }
    cut = {k: (round(100 * (one[k] - together[k]) / one[k]) if one[k] else 0) for k in one}
    return {"one_by_one": one, "bundle": together, "cut_percent": cut}

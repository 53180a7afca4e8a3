"""工单状态机 — the work-order state machine as one explicit table. Pure Python, no ORM.

domain-cn.md §5.3 (recommended ticket machine) turned into states and events::

    NEW ─answer (知识库直接答复)──────────────▶ ANSWERED ─visit 不满意─▶ NEW (重新派单)
    NEW ─dispatch (派单)─▶ DISPATCHED ─sign (签收)─▶ HANDLING
    DISPATCHED ─return (退单申请)─▶ RETURN_REVIEW ─approve_return (改派)─▶ NEW
                                                └reject_return (驳回退单)─▶ DISPATCHED
    NEW | DISPATCHED ─merge (并单)─▶ MERGED (follows its parent)
    NEW ─refuse (不予受理)─▶ REFUSED
    HANDLING ─extend / supervise─▶ HANDLING (new due date / 督办 noted)
    HANDLING ─reply (答复并反馈)─▶ REPLIED ─approve_reply─▶ VISITING ─visit 满意/基本满意─▶ CLOSED
                                          └reject_reply (审核退回)─▶ HANDLING
    VISITING ─visit 不满意─▶ REOPENED (重办) ─sign─▶ HANDLING
    VISITING ─close (无法回访, 归档)─▶ CLOSED

Each entry of :data:`TRANSITIONS` maps (state, event) to the next state; anything absent is refused.
"""

from __future__ import annotations

import enum

from yiwang.core.errors import InvalidTransition


class State(enum.StrEnum):
    NEW = "new"  # 受理登记，待派单
    ANSWERED = "answered"  # 直接办结（知识库答复）
    DISPATCHED = "dispatched"  # 已派单，待签收
    RETURN_REVIEW = "return_review"  # 退单审核中
    HANDLING = "handling"  # 办理中
    REPLIED = "replied"  # 已答复，待审核
    VISITING = "visiting"  # 待回访
    REOPENED = "reopened"  # 重办，待签收
    CLOSED = "closed"  # 已办结归档
    MERGED = "merged"  # 已并单
    REFUSED = "refused"  # 不予受理（已告知转介）

    @property
    def label(self) -> str:
        return LABELS[self]


LABELS = {
    State.NEW: "待派单",
    State.ANSWERED: "直接办结",
    State.DISPATCHED: "待签收",
    State.RETURN_REVIEW: "退单审核",
    State.HANDLING: "办理中",
    State.REPLIED: "待审核",
    State.VISITING: "待回访",
    State.REOPENED: "重办待签收",
    State.CLOSED: "已办结",
    State.MERGED: "已并单",
    State.REFUSED: "不予受理",
}


class Event(enum.StrEnum):
    ANSWER = "answer"  # 知识库直接答复并办结
    DISPATCH = "dispatch"  # 派单
    SIGN = "sign"  # 签收
    RETURN = "return"  # 退单申请
    APPROVE_RETURN = "approve_return"  # 同意退单（待改派）
    REJECT_RETURN = "reject_return"  # 驳回退单
    EXTEND = "extend"  # 延期（批准后）
    SUPERVISE = "supervise"  # 督办
    REPLY = "reply"  # 答复来电人并反馈
    APPROVE_REPLY = "approve_reply"  # 审核通过，转回访
    REJECT_REPLY = "reject_reply"  # 审核退回重新办理
    VISIT_SATISFIED = "visit_satisfied"  # 回访满意/基本满意
    VISIT_UNSATISFIED = "visit_unsatisfied"  # 回访不满意
    CLOSE = "close"  # 无法回访等，直接归档
    MERGE = "merge"  # 并单
    REFUSE = "refuse"  # 不予受理


EVENT_LABELS = {
    Event.ANSWER: "知识库答复办结",
    Event.DISPATCH: "派单",
    Event.SIGN: "签收",
    Event.RETURN: "退单申请",
    Event.APPROVE_RETURN: "同意退单",
    Event.REJECT_RETURN: "驳回退单",
    Event.EXTEND: "延期",
    Event.SUPERVISE: "督办",
    Event.REPLY: "答复反馈",
    Event.APPROVE_REPLY: "审核通过",
    Event.REJECT_REPLY: "审核退回",
    Event.VISIT_SATISFIED: "回访满意",
    Event.VISIT_UNSATISFIED: "回访不满意",
    Event.CLOSE: "归档",
    Event.MERGE: "并单",
    Event.REFUSE: "不予受理",
}

S, E = State, Event

TRANSITIONS: dict[tuple[State, Event], State] = {
    (S.NEW, E.ANSWER): S.ANSWERED,
    (S.NEW, E.DISPATCH): S.DISPATCHED,
    (S.NEW, E.MERGE): S.MERGED,
    (S.NEW, E.REFUSE): S.REFUSED,
    (S.NEW, E.SUPERVISE): S.NEW,
    (S.DISPATCHED, E.SIGN): S.HANDLING,
    (S.DISPATCHED, E.RETURN): S.RETURN_REVIEW,
    (S.DISPATCHED, E.MERGE): S.MERGED,
    (S.DISPATCHED, E.SUPERVISE): S.DISPATCHED,
    (S.RETURN_REVIEW, E.APPROVE_RETURN): S.NEW,
    (S.RETURN_REVIEW, E.REJECT_RETURN): S.DISPATCHED,
    (S.HANDLING, E.EXTEND): S.HANDLING,
    (S.HANDLING, E.SUPERVISE): S.HANDLING,
    (S.HANDLING, E.REPLY): S.REPLIED,
    (S.REPLIED, E.APPROVE_REPLY): S.VISITING,
    (S.REPLIED, E.REJECT_REPLY): S.HANDLING,
    (S.VISITING, E.VISIT_SATISFIED): S.CLOSED,
    (S.VISITING, E.VISIT_UNSATISFIED): S.REOPENED,
    (S.VISITING, E.CLOSE): S.CLOSED,
    (S.REOPENED, E.SIGN): S.HANDLING,
    (S.REOPENED, E.RETURN): S.RETURN_REVIEW,
    (S.REOPENED, E.SUPERVISE): S.REOPENED,
    (S.ANSWERED, E.VISIT_SATISFIED): S.ANSWERED,
    (S.ANSWERED, E.VISIT_UNSATISFIED): S.NEW,
}

#: States in which the order is still being worked on (counted in queues and for overdue checks).
OPEN_STATES = frozenset({S.NEW, S.DISPATCHED, S.RETURN_REVIEW, S.HANDLING, S.REPLIED, S.VISITING, S.REOPENED})
#: States in which a department holds the order.
DEPARTMENT_STATES = frozenset({S.DISPATCHED, S.HANDLING, S.REOPENED})
#: Finished: the citizen's matter is done (直接办结 or 办结归档).
DONE_STATES = frozenset({S.ANSWERED, S.CLOSED})
#: Not counted as demands of their own.
EXCLUDED_STATES = frozenset({S.MERGED, S.REFUSED})


def can(state: State | str, event: Event | str) -> bool:
    return (State(state), Event(event)) in TRANSITIONS


def next_state(state: State | str, event: Event | str) -> State:
    """The state after ``event``; :class:`InvalidTransition` (409, ``workorder_invalid_transition``) if refused."""
    key = (State(state), Event(event))
    try:
        return TRANSITIONS[key]
    except KeyError:
        raise InvalidTransition(
            f"工单当前状态“{LABELS[key[0]]}”不能执行“{EVENT_LABELS[key[1]]}”。",
            code="workorder_invalid_transition",
            details={"state": key[0].value, "event": key[1].value},
        ) from None


def events_from(state: State | str) -> list[Event]:
    """Events allowed in ``state`` (for buttons and the API)."""
    current = State(state)
    return [event for (s, event) in TRANSITIONS if s == current]

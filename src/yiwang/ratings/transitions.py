"""差评整改 — the rectification state machine as an explicit transition table. Pure Python.

domain-cn.md §4.5, "谁办理、谁负责": every 差评 opens a rectification owned by the responsible department::

    pending ─assign─▶ assigned ─verify(回访核实)─▶ verified ─classify─┬─ 立行立改 ─┐
                                                                     ├─ 限期整改 ─┼─▶ rectifying ─feedback─▶ feedback
                                                                     ├─ 解释说明 ─┘                            │
                                                                     └─ 申诉 ─▶ appealing                 return_visit
                                                    appeal rejected ◀───────┤                                   ▼
                                                    (back to verified,      └─ appeal upheld ─▶ invalidated   closed
                                                     no second appeal)

``reassign`` changes the handler without changing the state while the department is working on it.
"""

from __future__ import annotations

import enum

from yiwang.core.errors import InvalidTransition


class State(enum.StrEnum):
    PENDING = "pending"  # 待分派
    ASSIGNED = "assigned"  # 待核实
    VERIFIED = "verified"  # 待定性
    RECTIFYING = "rectifying"  # 整改中
    APPEALING = "appealing"  # 申诉复核中
    FEEDBACK = "feedback"  # 已反馈，待回访
    CLOSED = "closed"  # 已办结
    INVALIDATED = "invalidated"  # 申诉成立，差评不计

    @property
    def label(self) -> str:
        return STATE_LABELS[self]

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATES


STATE_LABELS = {
    State.PENDING: "待分派",
    State.ASSIGNED: "待核实",
    State.VERIFIED: "待定性",
    State.RECTIFYING: "整改中",
    State.APPEALING: "申诉复核中",
    State.FEEDBACK: "待回访",
    State.CLOSED: "已办结",
    State.INVALIDATED: "申诉成立",
}
FINAL_STATES = frozenset({State.CLOSED, State.INVALIDATED})


class Classification(enum.StrEnum):
    """定性处理."""

    RECTIFY_NOW = "rectify_now"  # 立行立改: 情况清楚、诉求合理
    LEDGER = "ledger"  # 限期整改: 情况复杂，建立台账
    EXPLAIN = "explain"  # 解释说明: 缺乏法定依据
    APPEAL = "appeal"  # 申诉: 误评、恶意差评

    @property
    def label(self) -> str:
        return CLASSIFICATION_LABELS[self]


CLASSIFICATION_LABELS = {
    Classification.RECTIFY_NOW: "立行立改",
    Classification.LEDGER: "限期整改",
    Classification.EXPLAIN: "解释说明",
    Classification.APPEAL: "申诉",
}


class Event(enum.StrEnum):
    ASSIGN = "assign"  # 分派
    REASSIGN = "reassign"  # 改派
    VERIFY = "verify"  # 回访核实
    RECTIFY_NOW = "classify_rectify_now"  # 定性：立行立改
    LEDGER = "classify_ledger"  # 定性：限期整改（建台账）
    EXPLAIN = "classify_explain"  # 定性：解释说明
    APPEAL = "classify_appeal"  # 定性：申诉
    APPEAL_UPHELD = "appeal_upheld"  # 复核：申诉成立
    APPEAL_REJECTED = "appeal_rejected"  # 复核：申诉驳回
    FEEDBACK = "feedback"  # 整改反馈
    RETURN_VISIT = "return_visit"  # 整改回访

    @property
    def label(self) -> str:
        return EVENT_LABELS[self]


EVENT_LABELS = {
    Event.ASSIGN: "分派",
    Event.REASSIGN: "改派",
    Event.VERIFY: "回访核实",
    Event.RECTIFY_NOW: "定性：立行立改",
    Event.LEDGER: "定性：限期整改",
    Event.EXPLAIN: "定性：解释说明",
    Event.APPEAL: "提出申诉",
    Event.APPEAL_UPHELD: "申诉成立",
    Event.APPEAL_REJECTED: "申诉驳回",
    Event.FEEDBACK: "整改反馈",
    Event.RETURN_VISIT: "整改回访",
}

CLASSIFY_EVENTS = {
    Classification.RECTIFY_NOW: Event.RECTIFY_NOW,
    Classification.LEDGER: Event.LEDGER,
    Classification.EXPLAIN: Event.EXPLAIN,
    Classification.APPEAL: Event.APPEAL,
}

# The table: state → {event → next state}. Anything not listed is not allowed.
TRANSITIONS: dict[State, dict[Event, State]] = {
    State.PENDING: {Event.ASSIGN: State.ASSIGNED},
    State.ASSIGNED: {Event.REASSIGN: State.ASSIGNED, Event.VERIFY: State.VERIFIED},
    State.VERIFIED: {
        Event.REASSIGN: State.VERIFIED,
        Event.RECTIFY_NOW: State.RECTIFYING,
        Event.LEDGER: State.RECTIFYING,
        Event.EXPLAIN: State.RECTIFYING,
        Event.APPEAL: State.APPEALING,
    },
    State.RECTIFYING: {Event.REASSIGN: State.RECTIFYING, Event.FEEDBACK: State.FEEDBACK},
    State.APPEALING: {Event.APPEAL_UPHELD: State.INVALIDATED, Event.APPEAL_REJECTED: State.VERIFIED},
    State.FEEDBACK: {Event.REASSIGN: State.FEEDBACK, Event.RETURN_VISIT: State.CLOSED},
    State.CLOSED: {},
    State.INVALIDATED: {},
}

# Who acts: the department that owns the rectification, or the supervisor who reviews appeals.
SUPERVISOR_EVENTS = frozenset({Event.APPEAL_UPHELD, Event.APPEAL_REJECTED})
MANAGER_EVENTS = frozenset({Event.ASSIGN, Event.REASSIGN})


def allowed_events(state: State | str, *, appeal_rejected: bool = False) -> list[Event]:
    """Events allowed in ``state`` (an appeal that was rejected cannot be filed again)."""
    events = list(TRANSITIONS[State(state)])
    if appeal_rejected:
        events = [e for e in events if e is not Event.APPEAL]
    return events


def next_state(state: State | str, event: Event | str, *, appeal_rejected: bool = False) -> State:
    """The state after ``event``; :class:`InvalidTransition` (code ``rectification_not_in_state``) otherwise."""
    state, event = State(state), Event(event)
    target = TRANSITIONS[state].get(event)
    if target is None:
        raise InvalidTransition(
            f"整改单当前为“{state.label}”，不能执行“{event.label}”。",
            code="rectification_not_in_state",
            details={"state": state.value, "event": event.value},
        )
    if event is Event.APPEAL and appeal_rejected:
        raise InvalidTransition(
            "申诉已被驳回，不能再次申诉，请选择立行立改、限期整改或解释说明。",
            code="rectification_appeal_already_rejected",
            details={"state": state.value, "event": event.value},
        )
    return target


def reachable(start: State = State.PENDING) -> set[State]:
    """States reachable from ``start`` (used by tests: every state is reachable, finals are dead ends)."""
    seen, todo = {start}, [start]
    while todo:
        for target in TRANSITIONS[todo.pop()].values():
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen

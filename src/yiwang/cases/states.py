"""办件状态机 — the case lifecycle as one explicit transition table. Pure Python; no ORM.

Every state change of a case is one *action* (``submit``, ``accept``, ``decide_approve`` …). The table
:data:`TRANSITIONS` maps ``(state, action)`` to the state after the action; an action that is not in the
table for the current state is not allowed. :data:`ACTORS` says which kind of party may take each action
(the permission policy in ``rules.py`` then checks *which* clerk, reviewer or applicant, by region,
department and ownership). Sources: domain-cn.md §3.1–§3.5 (行政许可法 §32, §42, §44, §45).

::

    draft ──submit──▶ submitted(待预审) ──pretrial_pass──▶ received(待受理)
      ▲  └─window_receive (综合窗口收件) ─────────────────────▶ received
      └──pretrial_return (退回修改) ─┘   └─pretrial_reject──▶ pretrial_rejected ■
    received ──request_supplement (一次性告知)──▶ supplement ──resubmit──▶ received
             ├─not_accept──▶ not_accepted ■
             └─accept──▶ in_process(在办: 审查 … 决定 steps; clock runs)
    in_process ──return_for_supplement──▶ review_supplement (clock stops) ──resubmit──▶ in_process
               ├─start_special──▶ special(特别程序, clock stops) ──end_special──▶ in_process
               ├─complete_step / request_extension / approve_extension / reject_extension (stay)
               └─decide_approve | decide_reject──▶ decided(待出件) ──complete──▶ completed(办结) ■
    withdraw (撤回) from every open state before the decision ──▶ withdrawn ■
"""

from __future__ import annotations

import enum
from collections.abc import Iterable


def _(text: str) -> str:
    """Marks a label for the message catalogue (xgettext's ``_`` keyword); translated where it is shown."""
    return text


class State(enum.StrEnum):
    """办件状态."""

    DRAFT = "draft"  # 草稿
    SUBMITTED = "submitted"  # 已提交（网上申报，待预审）
    PRETRIAL_REJECTED = "pretrial_rejected"  # 预审不通过
    RECEIVED = "received"  # 已收件，待受理
    SUPPLEMENT = "supplement"  # 补正中（受理前，一次性告知）
    NOT_ACCEPTED = "not_accepted"  # 不予受理
    IN_PROCESS = "in_process"  # 已受理，在办（审查/决定）
    REVIEW_SUPPLEMENT = "review_supplement"  # 补正中（审查中退回申请人，停止计时）
    SPECIAL = "special"  # 特别程序（听证/检验/检测/鉴定/专家评审，停止计时）
    DECIDED = "decided"  # 已决定，待出件
    COMPLETED = "completed"  # 办结
    WITHDRAWN = "withdrawn"  # 已撤回

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS: dict[State, str] = {
    State.DRAFT: _("草稿"),
    State.SUBMITTED: _("待预审"),
    State.PRETRIAL_REJECTED: _("预审不通过"),
    State.RECEIVED: _("待受理"),
    State.SUPPLEMENT: _("补正中"),
    State.NOT_ACCEPTED: _("不予受理"),
    State.IN_PROCESS: _("在办"),
    State.REVIEW_SUPPLEMENT: _("补正中（审查）"),
    State.SPECIAL: _("特别程序"),
    State.DECIDED: _("待出件"),
    State.COMPLETED: _("办结"),
    State.WITHDRAWN: _("已撤回"),
}


class Action(enum.StrEnum):
    """办件动作 — each one is a service in ``services.py``."""

    SAVE_DRAFT = "save_draft"  # 保存草稿
    SUBMIT = "submit"  # 网上提交
    WINDOW_RECEIVE = "window_receive"  # 综合窗口收件
    PRETRIAL_PASS = "pretrial_pass"  # noqa: S105 - 预审通过, not a password
    PRETRIAL_RETURN = "pretrial_return"  # 预审退回修改
    PRETRIAL_REJECT = "pretrial_reject"  # 预审不通过
    REQUEST_SUPPLEMENT = "request_supplement"  # 一次性告知补正
    RESUBMIT = "resubmit"  # 补正后重新提交
    ACCEPT = "accept"  # 受理
    NOT_ACCEPT = "not_accept"  # 不予受理
    FLAG_DEEMED_ACCEPTED = "flag_deemed_accepted"  # 逾期未告知，视为受理（标记）
    COMPLETE_STEP = "complete_step"  # 办理环节（审查/审核/决定）签署意见
    RETURN_FOR_SUPPLEMENT = "return_for_supplement"  # 审查中退回补正
    START_SPECIAL = "start_special"  # 启动特别程序
    END_SPECIAL = "end_special"  # 结束特别程序
    REQUEST_EXTENSION = "request_extension"  # 申请延期
    APPROVE_EXTENSION = "approve_extension"  # 批准延期
    REJECT_EXTENSION = "reject_extension"  # 不批准延期
    DECIDE_APPROVE = "decide_approve"  # 准予许可
    DECIDE_REJECT = "decide_reject"  # 不予许可
    COMPLETE = "complete"  # 出件办结
    WITHDRAW = "withdraw"  # 撤回
    SUPERVISE = "supervise"  # 督办
    SUPERVISE_FEEDBACK = "supervise_feedback"  # 督办反馈

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


ACTION_LABELS: dict[Action, str] = {
    Action.SAVE_DRAFT: _("保存草稿"),
    Action.SUBMIT: _("提交申请"),
    Action.WINDOW_RECEIVE: _("窗口收件"),
    Action.PRETRIAL_PASS: _("预审通过"),
    Action.PRETRIAL_RETURN: _("退回修改"),
    Action.PRETRIAL_REJECT: _("预审不通过"),
    Action.REQUEST_SUPPLEMENT: _("一次性告知补正"),
    Action.RESUBMIT: _("补正提交"),
    Action.ACCEPT: _("受理"),
    Action.NOT_ACCEPT: _("不予受理"),
    Action.FLAG_DEEMED_ACCEPTED: _("视为受理"),
    Action.COMPLETE_STEP: _("办理环节"),
    Action.RETURN_FOR_SUPPLEMENT: _("退回补正"),
    Action.START_SPECIAL: _("启动特别程序"),
    Action.END_SPECIAL: _("结束特别程序"),
    Action.REQUEST_EXTENSION: _("申请延期"),
    Action.APPROVE_EXTENSION: _("批准延期"),
    Action.REJECT_EXTENSION: _("不批准延期"),
    Action.DECIDE_APPROVE: _("准予许可"),
    Action.DECIDE_REJECT: _("不予许可"),
    Action.COMPLETE: _("出件办结"),
    Action.WITHDRAW: _("撤回"),
    Action.SUPERVISE: _("督办"),
    Action.SUPERVISE_FEEDBACK: _("督办反馈"),
}


class Party(enum.StrEnum):
    """Who takes an action (the policy narrows it further by ownership, region and department)."""

    APPLICANT = "applicant"  # 申请人（本人、法人或其授权经办人/代理人）
    CLERK = "clerk"  # 综窗受理员（预审、收件、受理、出件）
    REVIEWER = "reviewer"  # 审批人员（审查、决定）
    HEAD = "head"  # 部门负责人（批准延期，也可审查决定）
    SUPERVISOR = "supervisor"  # 督办
    SYSTEM = "system"  # 系统（定时任务）


S, A = State, Action

_OPEN_BEFORE_DECISION = (S.SUBMITTED, S.RECEIVED, S.SUPPLEMENT, S.IN_PROCESS, S.REVIEW_SUPPLEMENT, S.SPECIAL)
_UNDER_REVIEW = (S.IN_PROCESS, S.REVIEW_SUPPLEMENT, S.SPECIAL)

# (state, action) → state after the action. The one place that says what may happen when.
TRANSITIONS: dict[tuple[State, Action], State] = {
    # application (网上申报) and window receipt (综合窗口收件)
    (S.DRAFT, A.SAVE_DRAFT): S.DRAFT,  # resume and change a draft
    (S.DRAFT, A.SUBMIT): S.SUBMITTED,  # online submission goes to pre-review
    (S.DRAFT, A.WINDOW_RECEIVE): S.RECEIVED,  # a clerk checked the documents at the counter
    (S.DRAFT, A.WITHDRAW): S.WITHDRAWN,  # the applicant abandons the draft
    # pre-review (预审) of online submissions
    (S.SUBMITTED, A.PRETRIAL_PASS): S.RECEIVED,
    (S.SUBMITTED, A.PRETRIAL_RETURN): S.DRAFT,  # back to the applicant to change and submit again
    (S.SUBMITTED, A.PRETRIAL_REJECT): S.PRETRIAL_REJECTED,
    # acceptance decision (§32)
    (S.RECEIVED, A.REQUEST_SUPPLEMENT): S.SUPPLEMENT,  # one notice listing every missing material
    (S.RECEIVED, A.ACCEPT): S.IN_PROCESS,  # 受理: the decision clock starts the next day
    (S.RECEIVED, A.NOT_ACCEPT): S.NOT_ACCEPTED,  # with reason and referral
    (S.RECEIVED, A.FLAG_DEEMED_ACCEPTED): S.RECEIVED,  # §32(4): only a flag; the clerk still accepts
    (S.SUPPLEMENT, A.RESUBMIT): S.RECEIVED,
    # back office (审查 → 决定)
    (S.IN_PROCESS, A.COMPLETE_STEP): S.IN_PROCESS,
    (S.IN_PROCESS, A.RETURN_FOR_SUPPLEMENT): S.REVIEW_SUPPLEMENT,  # the clock stops
    (S.REVIEW_SUPPLEMENT, A.RESUBMIT): S.IN_PROCESS,
    (S.IN_PROCESS, A.START_SPECIAL): S.SPECIAL,  # §45: the clock stops, applicant told
    (S.SPECIAL, A.END_SPECIAL): S.IN_PROCESS,
    (S.IN_PROCESS, A.REQUEST_EXTENSION): S.IN_PROCESS,  # §42: +N days with the head's approval
    (S.IN_PROCESS, A.DECIDE_APPROVE): S.DECIDED,
    (S.IN_PROCESS, A.DECIDE_REJECT): S.DECIDED,
    (S.DECIDED, A.COMPLETE): S.COMPLETED,  # 统一窗口出件 / 邮寄 / 电子送达
}
for _state in _UNDER_REVIEW:  # a pending extension may be decided while the clock is stopped
    TRANSITIONS[(_state, A.APPROVE_EXTENSION)] = _state
    TRANSITIONS[(_state, A.REJECT_EXTENSION)] = _state
for _state in _OPEN_BEFORE_DECISION:  # 撤回: allowed until the decision is made
    TRANSITIONS[(_state, A.WITHDRAW)] = S.WITHDRAWN
for _state in (S.RECEIVED, S.SUPPLEMENT, *_UNDER_REVIEW, S.DECIDED):  # 督办 on any case someone must act on
    TRANSITIONS[(_state, A.SUPERVISE)] = _state
    TRANSITIONS[(_state, A.SUPERVISE_FEEDBACK)] = _state

# Who may take each action.
ACTORS: dict[Action, frozenset[Party]] = {
    A.SAVE_DRAFT: frozenset({Party.APPLICANT, Party.CLERK}),
    A.SUBMIT: frozenset({Party.APPLICANT}),
    A.WINDOW_RECEIVE: frozenset({Party.CLERK}),
    A.PRETRIAL_PASS: frozenset({Party.CLERK}),
    A.PRETRIAL_RETURN: frozenset({Party.CLERK}),
    A.PRETRIAL_REJECT: frozenset({Party.CLERK}),
    A.REQUEST_SUPPLEMENT: frozenset({Party.CLERK}),
    A.RESUBMIT: frozenset({Party.APPLICANT, Party.CLERK}),  # online, or at a window
    A.ACCEPT: frozenset({Party.CLERK}),
    A.NOT_ACCEPT: frozenset({Party.CLERK}),
    A.FLAG_DEEMED_ACCEPTED: frozenset({Party.SYSTEM}),
    A.COMPLETE_STEP: frozenset({Party.REVIEWER, Party.HEAD}),
    A.RETURN_FOR_SUPPLEMENT: frozenset({Party.REVIEWER, Party.HEAD}),
    A.START_SPECIAL: frozenset({Party.REVIEWER, Party.HEAD}),
    A.END_SPECIAL: frozenset({Party.REVIEWER, Party.HEAD}),
    A.REQUEST_EXTENSION: frozenset({Party.REVIEWER}),
    A.APPROVE_EXTENSION: frozenset({Party.HEAD}),
    A.REJECT_EXTENSION: frozenset({Party.HEAD}),
    A.DECIDE_APPROVE: frozenset({Party.REVIEWER, Party.HEAD}),
    A.DECIDE_REJECT: frozenset({Party.REVIEWER, Party.HEAD}),
    A.COMPLETE: frozenset({Party.CLERK, Party.REVIEWER}),
    A.WITHDRAW: frozenset({Party.APPLICANT}),
    A.SUPERVISE: frozenset({Party.SUPERVISOR}),
    A.SUPERVISE_FEEDBACK: frozenset({Party.REVIEWER, Party.HEAD, Party.CLERK}),
}

TERMINAL: frozenset[State] = frozenset({S.PRETRIAL_REJECTED, S.NOT_ACCEPTED, S.COMPLETED, S.WITHDRAWN})
# States in which the decision clock is stopped (补正, 特别程序).
CLOCK_STOPPED: frozenset[State] = frozenset({S.REVIEW_SUPPLEMENT, S.SPECIAL})
# States after acceptance and before the decision: the promised/legal deadlines apply.
UNDER_DEADLINE: frozenset[State] = frozenset(_UNDER_REVIEW)
# States that count as "open" for the deadline recompute and the queues.
OPEN: frozenset[State] = frozenset(set(State) - TERMINAL - {S.DRAFT})


class TransitionError(Exception):
    """The action is not allowed in the state (the services turn it into ``InvalidTransition``)."""

    def __init__(self, state: State, action: Action):
        self.state, self.action = state, action
        super().__init__(f"action {action.value!r} is not allowed in state {state.value!r}")


def target(state: State | str, action: Action | str) -> State:
    """The state after ``action`` from ``state``; :class:`TransitionError` when not allowed."""
    state, action = State(state), Action(action)
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise TransitionError(state, action) from None


def allowed(state: State | str, action: Action | str) -> bool:
    return (State(state), Action(action)) in TRANSITIONS


def actions_from(state: State | str, parties: Iterable[Party] | None = None) -> list[Action]:
    """Actions possible in ``state`` (for ``parties`` when given), in declaration order."""
    state = State(state)
    wanted = None if parties is None else set(parties)
    return [a for a in Action if (state, a) in TRANSITIONS and (wanted is None or ACTORS[a] & wanted)]


def may(party: Party | str, action: Action | str) -> bool:
    return Party(party) in ACTORS[Action(action)]


def is_terminal(state: State | str) -> bool:
    return State(state) in TERMINAL

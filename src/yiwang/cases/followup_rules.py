"""Rules of the follow-ups: delivery, commitments, revocation, escalation. Pure Python; no ORM.

**出件/送达** (行政许可法 §44: issue within 10 working days of an approval)::

    pending ──issue_window (取件码)──▶ ready ──pickup (签收)──────────▶ delivered ■
       │                                                              ▲
       ├──issue_post (运单号)──▶ posted ──deliver (妥投)───────────────┤
       │                          └──return (退回)──▶ returned ──issue_*──▶ ready | posted | delivered
       └──issue_online (电子送达)──────────────────────────────────────┘

The clock is met when the result is *issued* (ready at the window and the applicant told, posted, or sent
electronically) on or before the due date; yellow from ``yellow_on``, red after the due date.

**容缺受理**: each deferred material goes ``deferred → supplied → accepted`` (or back to ``deferred`` when
the check fails); the commitment is fulfilled when every material is accepted, overdue when the due date
passes first. The configured consequence depends on where the case is (:func:`gap_consequence`).

**撤销程序**: ``notice`` (撤销告知书; the holder may state their case until ``statement_due``) → ``revoked``
(撤销决定书) or ``dropped`` (不予撤销).

**督办升级**: a 督办单 unanswered after its feedback date is escalated to level 1 (the department head) and,
``second_after`` working days later, to level 2 (the supervisors of the region above).
"""

from __future__ import annotations

import datetime as dt
import enum


def _(text: str) -> str:
    return text


# --- delivery ------------------------------------------------------------------------------------------


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # 待出件
    READY = "ready"  # 待领取（已通知，取件码）
    POSTED = "posted"  # 已寄出
    DELIVERED = "delivered"  # 已送达
    RETURNED = "returned"  # 邮件退回


DELIVERY_LABELS: dict[DeliveryStatus, str] = {
    DeliveryStatus.PENDING: _("待出件"),
    DeliveryStatus.READY: _("待领取"),
    DeliveryStatus.POSTED: _("已寄出"),
    DeliveryStatus.DELIVERED: _("已送达"),
    DeliveryStatus.RETURNED: _("邮件退回"),
}

D = DeliveryStatus
DELIVERY_TRANSITIONS: dict[tuple[DeliveryStatus, str], DeliveryStatus] = {
    (D.PENDING, "issue_window"): D.READY,
    (D.PENDING, "issue_post"): D.POSTED,
    (D.PENDING, "issue_online"): D.DELIVERED,
    (D.READY, "pickup"): D.DELIVERED,
    (D.READY, "issue_post"): D.POSTED,  # the applicant asked to have it posted instead
    (D.POSTED, "deliver"): D.DELIVERED,
    (D.POSTED, "return"): D.RETURNED,
    (D.RETURNED, "issue_window"): D.READY,
    (D.RETURNED, "issue_post"): D.POSTED,
    (D.RETURNED, "issue_online"): D.DELIVERED,
}
ISSUE_EVENTS = {"window": "issue_window", "post": "issue_post", "online": "issue_online"}


class RuleError(Exception):
    """A transition that is not in the table."""


def delivery_next(status: DeliveryStatus | str, event: str) -> DeliveryStatus:
    try:
        return DELIVERY_TRANSITIONS[(DeliveryStatus(status), event)]
    except KeyError:
        raise RuleError(f"delivery event {event!r} not allowed in {status!r}") from None


def delivery_level(today: dt.date, *, due: dt.date, yellow_on: dt.date, issued_on: dt.date | None) -> int:
    """0 green / 1 yellow / 2 red for the §44 issue clock (an issued result is judged on its issue day)."""
    if issued_on is not None:
        return 2 if issued_on > due else 0
    if today > due:
        return 2
    if today >= yellow_on:
        return 1
    return 0


# --- commitments -----------------------------------------------------------------------------------------

GAP_ITEM_TRANSITIONS: dict[tuple[str, str], str] = {
    ("deferred", "supply"): "supplied",
    ("supplied", "supply"): "supplied",  # another file before the check
    ("supplied", "accept"): "accepted",
    ("supplied", "reject"): "deferred",
}


def gap_item_next(state: str, event: str) -> str:
    try:
        return GAP_ITEM_TRANSITIONS[(state, event)]
    except KeyError:
        raise RuleError(f"gap material event {event!r} not allowed in {state!r}") from None


def gap_fulfilled(states: list[str]) -> bool:
    return bool(states) and all(s == "accepted" for s in states)


def gap_consequence(consequence: str, case_state: str) -> str:
    """What an overdue 容缺 commitment does to the case.

    Under review (``in_process``): ``suspend`` → ``return`` (退回补正: the clock stops until the material
    arrives), ``revoke`` → ``reject`` (不予许可: the acceptance made on the commitment is undone). While
    the clock is already stopped (补正, 特别程序) or after the decision the case is only flagged and the
    handler warned (``flag``): a decision cannot approve while 容缺 materials are outstanding.
    """
    if case_state != "in_process":
        return "flag"
    return "reject" if consequence == "revoke" else "return"


def warn_gap(today: dt.date, *, due: dt.date, warn_days_before: int, warned_on: dt.date | None) -> bool:
    """Send the "due soon" reminder once, ``warn_days_before`` calendar days before the due date."""
    return warned_on is None and due - dt.timedelta(days=warn_days_before) <= today <= due


# --- revocation ------------------------------------------------------------------------------------------


class RevocationState(enum.StrEnum):
    NOTICE = "notice"  # 已告知，陈述申辩期
    REVOKED = "revoked"  # 已撤销
    DROPPED = "dropped"  # 不予撤销


REVOCATION_LABELS: dict[RevocationState, str] = {
    RevocationState.NOTICE: _("已告知（陈述申辩期）"),
    RevocationState.REVOKED: _("已撤销"),
    RevocationState.DROPPED: _("不予撤销"),
}

REVOCATION_TRANSITIONS: dict[tuple[RevocationState, str], RevocationState] = {
    (RevocationState.NOTICE, "state_case"): RevocationState.NOTICE,  # 陈述申辩 recorded
    (RevocationState.NOTICE, "revoke"): RevocationState.REVOKED,
    (RevocationState.NOTICE, "drop"): RevocationState.DROPPED,
}


def revocation_next(state: RevocationState | str, event: str) -> RevocationState:
    try:
        return REVOCATION_TRANSITIONS[(RevocationState(state), event)]
    except KeyError:
        raise RuleError(f"revocation event {event!r} not allowed in {state!r}") from None


# --- 督办 escalation ---------------------------------------------------------------------------------------


def escalation_due(*, today: dt.date, feedback_due: dt.date, second_on: dt.date, current: int) -> int:
    """The escalation level an unanswered 督办单 should have reached by ``today`` (never lower than now).

    Level 1 the first day after the feedback date; level 2 from ``second_on`` (a few working days later).
    """
    level = 0
    if today > feedback_due:
        level = 1
    if today >= second_on and today > feedback_due:
        level = 2
    return max(level, current)

"""Reads of 好差评: invitations, ratings, rectification queues with warnings, evaluator devices."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from yiwang.accounts.models import User
from yiwang.core.errors import NotFound
from yiwang.core.permissions import policy
from yiwang.workdays.calendar import get_calendar

from . import conf, rollups, scale, targets, tokens
from . import deadlines as dl
from .models import EvaluatorDevice, Rating, RatingInvitation, Rectification, ServiceContact
from .transitions import State, allowed_events

RECENT_CONTACT = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class InvitationView:
    invitation: RatingInvitation
    target: targets.Target
    existing: scale.Existing
    token: str

    @property
    def usable(self) -> bool:
        return self.invitation.used_at is None and self.invitation.expires_at >= timezone.now()

    @property
    def is_follow_up(self) -> bool:
        return self.invitation.purpose == scale.Kind.FOLLOW_UP


def invitation_view(token: str) -> InvitationView:
    """The invitation behind a token, its target and the ratings it has (no lock: for display)."""
    ident, nonce = tokens.parse(token)
    invitation = RatingInvitation.objects.filter(pk=ident).first()
    if invitation is None or invitation.nonce != nonce:
        raise NotFound("评价链接无效或已失效。", code="invitation_invalid")
    target = invitation.snapshot()
    return InvitationView(invitation, target, existing_for(target.kind, target.id), token)


def existing_for(kind: str, target_id: str) -> scale.Existing:
    """The ratings a target already has (for the one-rating-plus-one-追评 rule)."""
    first_at, follow = None, False
    for rating_kind, rated_at in Rating.objects.filter(target_kind=kind, target_id=target_id).values_list(
        "kind", "rated_at"
    ):
        if rating_kind == scale.Kind.FIRST:
            first_at = rated_at
        else:
            follow = True
    return scale.Existing(first_at=first_at, has_follow_up=follow)


def rating_of_invitation(invitation: RatingInvitation) -> Rating | None:
    return Rating.objects.filter(invitation=invitation).first()


# --- evaluator devices and window contacts ---------------------------------------------------------
def device_by_key(key: str) -> EvaluatorDevice | None:
    if not key or not str(key).startswith(tokens.DEVICE_PREFIX):
        return None
    return (
        EvaluatorDevice.objects.select_related("window__hall")
        .filter(key_hash=tokens.device_key_hash(key), revoked_at__isnull=True)
        .first()
    )


@dataclass(frozen=True)
class WindowNow:
    """What a window's evaluator shows: a service in progress, one waiting for its rating, or nothing."""

    contact: ServiceContact | None
    invitation: RatingInvitation | None
    token: str = ""

    @property
    def state(self) -> str:
        if self.contact is None:
            return "idle"
        if self.contact.ended_at is None:
            return "serving"
        return "rate" if self.token else "idle"


def window_now(window_id: int, *, now: dt.datetime | None = None) -> WindowNow:
    now = now or timezone.now()
    contact = (
        ServiceContact.objects.select_related("hall", "window", "staff")
        .filter(window_id=window_id)
        .order_by("-started_at", "-pk")
        .first()
    )
    if contact is None:
        return WindowNow(None, None)
    if contact.ended_at is None:
        return WindowNow(contact, None)
    if now - contact.ended_at > RECENT_CONTACT:
        return WindowNow(None, None)
    invitation = RatingInvitation.objects.filter(
        target_kind="contact", target_id=str(contact.pk), purpose=scale.Kind.FIRST, used_at__isnull=True
    ).first()
    if invitation is None:
        return WindowNow(contact, None)
    return WindowNow(contact, invitation, tokens.make(invitation.pk, invitation.nonce))


def contacts_for_window(actor: Any, window_id: int, *, limit: int = 20) -> QuerySet[ServiceContact]:
    return (
        ServiceContact.objects.select_related("department", "staff")
        .filter(window_id=window_id)
        .order_by("-started_at", "-pk")[:limit]
    )


def devices_for_window(window_id: int) -> QuerySet[EvaluatorDevice]:
    return EvaluatorDevice.objects.filter(window_id=window_id).order_by("-created_at")


# --- ratings ---------------------------------------------------------------------------------------
def ratings_for(
    actor: Any, *, department_id: int | None = None, level: int | None = None, bad_only: bool = False
) -> QuerySet[Rating]:
    qs = policy.filter(actor, "ratings.rating.view", Rating.objects.all())
    if department_id:
        qs = qs.filter(department_id=department_id)
    if level:
        qs = qs.filter(level=level)
    if bad_only:
        qs = qs.filter(level__lte=2)
    return qs.select_related("department", "window", "hall").order_by("-rated_at", "-pk")


def rating_for(actor: Any, rating_id: int) -> Rating:
    rating = Rating.objects.select_related("department", "window", "hall").filter(pk=rating_id).first()
    if rating is None or not policy.allows(actor, "ratings.rating.view", rating):
        raise NotFound("评价不存在或您无权查看。")
    return rating


# --- rectifications --------------------------------------------------------------------------------
def today_local(now: dt.datetime | None = None) -> dt.date:
    return rollups.local_date(now or timezone.now())


def current_due(rect: Rectification) -> dt.date | None:
    due = dl.Dues(rect.verify_due, rect.feedback_due, rect.revisit_due, rect.appeal_due, rect.due_provisional)
    return dl.current_due(rect.state, due)


def warning(rect: Rectification, *, today: dt.date | None = None) -> dl.Level:
    return dl.warning(
        get_calendar(rect.region_code),
        today=today or today_local(),
        due=current_due(rect),
        yellow_days=conf.get().deadlines.yellow_days,
    )


def rectifications_for(
    actor: Any,
    *,
    state: str | None = None,
    open_only: bool = False,
    mine: bool = False,
    department_id: int | None = None,
) -> QuerySet[Rectification]:
    qs = policy.filter(actor, "ratings.rectification.view", Rectification.objects.all())
    if state:
        qs = qs.filter(state=state)
    if open_only:
        qs = qs.exclude(state__in=[State.CLOSED, State.INVALIDATED])
    if mine:
        qs = qs.filter(assignee_id=getattr(actor, "pk", None))
    if department_id:
        qs = qs.filter(department_id=department_id)
    return qs.select_related("rating", "department", "assignee").order_by("created_at", "pk")


def with_warnings(rects, *, today: dt.date | None = None) -> list[tuple[Rectification, dl.Level, dt.date | None]]:
    today = today or today_local()
    return [(r, warning(r, today=today), current_due(r)) for r in rects]


def rectification_for(actor: Any, rectification_id: int) -> Rectification:
    rect = (
        Rectification.objects.select_related("rating", "department", "assignee", "appeal_decided_by")
        .filter(pk=rectification_id)
        .first()
    )
    if rect is None or not policy.allows(actor, "ratings.rectification.view", rect):
        raise NotFound("整改单不存在或您无权查看。")
    return rect


def available_actions(actor: Any, rect: Rectification) -> dict[str, bool]:
    """Which forms the detail page shows to ``actor``."""
    events = {e.value for e in allowed_events(rect.state, appeal_rejected=rect.appeal_rejected)}
    handle = policy.allows(actor, "ratings.rectification.handle", rect)
    return {
        "assign": ("assign" in events or "reassign" in events)
        and policy.allows(actor, "ratings.rectification.assign", rect),
        "verify": "verify" in events and handle,
        "classify": any(e.startswith("classify_") for e in events) and handle,
        "appeal": "classify_appeal" in events and handle,
        "review": "appeal_upheld" in events and policy.allows(actor, "ratings.rectification.review_appeal", rect),
        "feedback": "feedback" in events and handle,
        "return_visit": "return_visit" in events and handle,
        "reveal": policy.allows(actor, "ratings.evaluator.view", rect),
    }


def assignable_staff(rect: Rectification) -> QuerySet[User]:
    return (
        User.objects.filter(memberships__department_id=rect.department_id, memberships__is_active=True, is_active=True)
        .distinct()
        .order_by("username")
    )


def invitations_for_person(user: Any, *, now: dt.datetime | None = None) -> list[tuple[RatingInvitation, str]]:
    """The services a person may still rate (or 追评), newest first, with their tokens."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    now = now or timezone.now()
    rows = RatingInvitation.objects.filter(person_id=user.pk, used_at__isnull=True, expires_at__gte=now).order_by(
        "-served_at", "-pk"
    )[:100]
    return [(inv, tokens.make(inv.pk, inv.nonce)) for inv in rows]


def pending_invitation(user: Any, *, kind: str, target_id: str | int) -> tuple[RatingInvitation, str] | None:
    """The person's open first-rating invitation for one target (e.g. a 一件事 on its page), with its token."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    inv = RatingInvitation.objects.filter(
        target_kind=kind,
        target_id=str(target_id),
        purpose=scale.Kind.FIRST,
        person_id=user.pk,
        used_at__isnull=True,
        expires_at__gte=timezone.now(),
    ).first()
    return (inv, tokens.make(inv.pk, inv.nonce)) if inv is not None else None


def ratings_of_person(user: Any) -> QuerySet[Rating]:
    if user is None or not getattr(user, "is_authenticated", False):
        return Rating.objects.none()
    return Rating.objects.filter(evaluator_id=user.pk).order_by("-rated_at", "-pk")[:100]

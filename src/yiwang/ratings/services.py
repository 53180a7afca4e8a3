"""好差评 actions: window contacts, invitations, ratings, default ratings, the 差评 rectification loop,
evaluator devices. Every function here is one audited action (see ``yiwang.core.actions``)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import IntegrityError, connection
from django.urls import reverse
from django.utils import timezone

from yiwang.accounts.models import StaffMembership, User
from yiwang.core import audit, crypto
from yiwang.core.actions import action, lock, on_commit
from yiwang.core.actors import SYSTEM, is_system
from yiwang.core.errors import Conflict, NotFound, PermissionDenied, Throttled, ValidationFailed
from yiwang.core.ids import mask_identifiers_in_text, mask_phone, validate_mobile
from yiwang.core.permissions import policy
from yiwang.core.text import require_storable
from yiwang.directory.models import Department, Window
from yiwang.workdays.calendar import get_calendar

from . import conf, direct, rollups, scale, targets, tokens
from . import deadlines as dl
from .models import (
    EvaluatorDevice,
    LedgerEntry,
    RatedItem,
    Rating,
    RatingInvitation,
    Rectification,
    RectificationEvent,
    ServiceContact,
)
from .selectors import existing_for
from .transitions import Classification, Event, State, next_state

log = logging.getLogger(__name__)
MAX_NOTE = 2000


def _person_user(actor: Any) -> User | None:
    if actor is None or is_system(actor) or not getattr(actor, "is_authenticated", False):
        return None
    return actor if getattr(actor, "is_person", False) else None


def _clean(text: str | None, *, limit: int = MAX_NOTE) -> str:
    text = (text or "").strip()
    if len(text) > limit:
        raise ValidationFailed(f"内容不超过 {limit} 字。", code="text_too_long")
    return text


def _required(text: str | None, message: str, code: str) -> str:
    text = _clean(text)
    if not text:
        raise ValidationFailed(message, code=code)
    return text


def public_url(path: str) -> str:
    return conf.get().values.get("PUBLIC_URL", "").rstrip("/") + path


def rating_path(token: str) -> str:
    return reverse("ratings:rate", args=[token])


# --- window service contacts ------------------------------------------------------------------------
@action
def contact_start(
    *,
    actor: Any,
    window_id: int,
    department_id: int | None = None,
    item_code: str = "",
    item_name: str = "",
    person_id: int | None = None,
    phone: str = "",
    ticket_no: str = "",
) -> ServiceContact:
    """开始窗口服务 — record who is served at which window for which department and item."""
    window = Window.objects.select_related("hall").filter(pk=window_id, is_active=True).first()
    if window is None:
        raise NotFound("窗口不存在或已停用。", code="window_not_found")
    policy.require(actor, "ratings.contact.manage", window)
    served = set(window.departments.values_list("id", flat=True))
    if department_id is None:
        if len(served) != 1:
            raise ValidationFailed("请选择服务部门。", code="contact_department_required")
        department_id = next(iter(served))
    elif served and department_id not in served:
        raise ValidationFailed("该窗口不受理此部门的业务。", code="contact_department_invalid")
    elif not Department.objects.filter(pk=department_id, is_active=True).exists():
        raise ValidationFailed("部门不存在。", code="contact_department_invalid")
    person = None
    if person_id is not None:
        person = User.objects.filter(pk=person_id, kind=User.Kind.PERSON, is_active=True).first()
        if person is None:
            raise ValidationFailed("服务对象不存在。", code="contact_person_invalid")
    phone = validate_mobile(phone) if phone else (person.phone or "" if person else "")
    contact = ServiceContact.objects.create(
        window=window,
        hall=window.hall,
        department_id=department_id,
        staff=actor if isinstance(actor, User) else None,
        person=person,
        phone_encrypted=crypto.encrypt(phone) if phone else "",
        phone_masked=mask_phone(phone) if phone else "",
        item_code=_clean(item_code, limit=64),
        item_name=_clean(item_name, limit=200),
        ticket_no=_clean(ticket_no, limit=30),
        region_code=window.hall.region_id,
    )
    audit.record(
        actor=actor,
        action="ratings.contact.start",
        obj=contact,
        region_code=contact.region_code,
        summary={"window": window.pk, "department": department_id, "item": contact.item_code},
    )
    return contact


@action
def contact_end(*, actor: Any, contact_id: int) -> RatingInvitation:
    """结束窗口服务 — the service happened: invite the person to rate it (evaluator, QR code, SMS)."""
    contact = lock(ServiceContact.objects.filter(pk=contact_id), missing="服务记录不存在。")
    window = Window.objects.select_related("hall").get(pk=contact.window_id)
    policy.require(actor, "ratings.contact.manage", window)
    if contact.ended_at is not None:
        raise Conflict("该服务已结束。", code="contact_already_ended")
    contact.ended_at = timezone.now()
    contact.save(update_fields=["ended_at"])
    contact.window, contact.hall = window, window.hall
    invitation = _invite(targets.contact_target(contact))
    audit.record(actor=actor, action="ratings.contact.end", obj=contact, region_code=contact.region_code, summary={})
    return invitation


# --- invitations ------------------------------------------------------------------------------------
def _invite(
    target: targets.Target, *, purpose: scale.Kind = scale.Kind.FIRST, first_at: dt.datetime | None = None
) -> RatingInvitation:
    """The invitation of ``target`` for ``purpose`` (created once; later calls return the same one)."""
    config = conf.get()
    if purpose is scale.Kind.FIRST:  # idempotent; a follow-up invitation is only made by the first rating
        existing = RatingInvitation.objects.filter(
            target_kind=target.kind, target_id=target.id, purpose=purpose
        ).first()
        if existing is not None:
            existing.token = tokens.make(existing.pk, existing.nonce)
            return existing
    if target.served_at is None:
        raise Conflict("服务尚未完成，暂不能邀请评价。", code="rating_not_yet_rateable")
    if purpose is scale.Kind.FIRST:
        expires = target.served_at + dt.timedelta(days=config.INVITATION_DAYS)
    else:
        expires = (first_at or timezone.now()) + dt.timedelta(days=config.FOLLOW_UP_DAYS)
    invitation = RatingInvitation.objects.create(
        target_kind=target.kind,
        target_id=target.id,
        purpose=purpose.value,
        nonce=tokens.new_nonce(),
        person_id=target.person_id,
        phone_masked=mask_phone(target.phone) if target.phone else "",
        phone_encrypted=crypto.encrypt(target.phone) if target.phone else "",
        target_label=target.label[:300],
        mode=target.mode.value,
        service_state=target.state[:20],
        item_name=target.item_name[:200],
        region_code=target.region_code,
        department_id=target.department_id,
        hall_id=target.hall_id,
        window_id=target.window_id,
        staff_id=target.staff_id,
        item_code=target.item_code,
        served_at=target.served_at,
        expires_at=expires,
    )
    invitation.token = tokens.make(invitation.pk, invitation.nonce)
    if purpose is scale.Kind.FIRST:
        rollups.bump_service(target, target.served_at)
        if target.item_code and target.item_name:
            RatedItem.objects.update_or_create(code=target.item_code, defaults={"name": target.item_name[:200]})
        if target.phone and config.SMS_INVITATIONS:
            phone, link = target.phone, public_url(rating_path(invitation.token))
            text = f"【一网通办】您办理的“{target.label}”已完成，请对本次服务评价：{link}"
            on_commit(lambda: _send_sms(phone, text))
    return invitation


def _send_sms(phone: str, text: str) -> None:
    from yiwang.accounts.sms import send_sms

    send_sms(phone, text)


@action
def invite_after_service(*, actor: Any = SYSTEM, kind: str, target_id: str | int) -> RatingInvitation:
    """The service behind a target happened (a case completed, a work order closed): invite a rating.

    Idempotent: the target keeps its one invitation. Called by the on-commit hooks of other apps.
    """
    if not is_system(actor):
        raise PermissionDenied()
    target = targets.resolve(kind, target_id)
    invitation = _invite(target)
    audit.record(
        actor=actor,
        action="ratings.invitation.create",
        obj=invitation,
        region_code=target.region_code,
        summary={"target": f"{kind}:{target_id}"},
    )
    return invitation


def invitation_token(invitation: RatingInvitation) -> str:
    return tokens.make(invitation.pk, invitation.nonce)


# --- ratings ----------------------------------------------------------------------------------------
def _throttle(*, phone_hash: str, device_hash: str, now: dt.datetime) -> None:
    config = conf.get()
    if phone_hash:
        since = now - dt.timedelta(days=1)
        if Rating.objects.filter(phone_hash=phone_hash, rated_at__gte=since).count() >= config.MAX_PER_PHONE_PER_DAY:
            raise Throttled("该手机号今日评价次数过多，请明天再试。", code="rating_throttled_phone")
    if device_hash:
        since = now - dt.timedelta(hours=1)
        if (
            Rating.objects.filter(device_hash=device_hash, rated_at__gte=since).count()
            >= config.MAX_PER_DEVICE_PER_HOUR
        ):
            raise Throttled("本设备评价过于频繁，请稍后再试。", code="rating_throttled_device")


def _claim_invitation(token: str, now: dt.datetime) -> RatingInvitation:
    """Mark the invitation used and lock it, in one statement; explain why when it cannot be claimed.

    The row stays locked until the action commits, and a failing action rolls the claim back, so an
    invitation is used exactly once."""
    ident, nonce = tokens.parse(token)
    table = connection.ops.quote_name(RatingInvitation._meta.db_table)
    columns = [f.column for f in RatingInvitation._meta.concrete_fields]
    claimed = list(
        RatingInvitation.objects.raw(
            f"UPDATE {table} SET used_at = %s WHERE id = %s AND nonce = %s AND used_at IS NULL "  # noqa: S608
            f"AND expires_at >= %s RETURNING {', '.join(connection.ops.quote_name(c) for c in columns)}",
            [now, ident, nonce, now],
        )
    )
    if claimed:
        return claimed[0]
    invitation = RatingInvitation.objects.filter(pk=ident).first()
    if invitation is None or invitation.nonce != nonce:
        raise NotFound("评价链接无效或已失效。", code="invitation_invalid")
    if invitation.used_at is not None:
        raise Conflict("该评价链接已使用。", code="invitation_used")
    raise Conflict("评价链接已过期。", code="invitation_expired")


def rating_submit(**kwargs: Any) -> Rating:
    """提交评价 — see :func:`_rating_submit`; a rating that loses a race for its target is a 409, not a 500.

    On PostgreSQL a good first rating by token is written in one statement by :func:`direct.record`
    (decision 0021), a first 差评 by :func:`direct.submit` (decision 0014); everything else, and SQLite, takes
    the general path."""
    rating = _submit(kwargs)
    if isinstance(rating, direct.Recorded):
        recorded = rating
        rating = Rating.objects.get(pk=recorded.pk)
        rating.follow_up_token = recorded.follow_up_token
    return rating


def rating_submit_answer(**kwargs: Any) -> Rating | direct.Recorded:
    """提交评价 for a caller that answers only the rating's ``pk``, ``kind``, ``level``, ``is_bad`` and
    ``follow_up_token`` (the API): the one-statement path's rating is not read back (decision 0021)."""
    return _submit(kwargs)


def _submit(kwargs: dict[str, Any]) -> Rating | direct.Recorded:
    require_storable(
        channel=kwargs.get("channel", ""),
        text=kwargs.get("text", ""),
        contact_name=kwargs.get("contact_name", ""),
        contact_phone=kwargs.get("contact_phone", ""),
        reasons=kwargs.get("reasons", ()),
        indicators=list(kwargs.get("indicators") or {}),
    )
    try:
        recorded = direct.record(**kwargs)
        if recorded is not None:
            return recorded
        rating = direct.submit(**kwargs)
        return rating if rating is not None else _rating_submit(**kwargs)
    except IntegrityError:
        raise Conflict("该服务已评价。", code="rating_already_given") from None


@action
def _rating_submit(
    *,
    token: str,
    level: int,
    channel: str,
    indicators: Mapping[str, int] | None = None,
    reasons: Sequence[str] = (),
    text: str = "",
    anonymous: bool = False,
    actor: Any = None,
    contact_name: str = "",
    contact_phone: str = "",
    device: str = "",
    evaluator_device: EvaluatorDevice | None = None,
) -> Rating:
    """提交评价 — through a signed single-use invitation (link, QR code, SMS, the window evaluator).

    The token is the permission: whoever holds the invitation rates the service it names. A logged-in
    person is recorded as the evaluator unless they choose to be anonymous; otherwise the applicant the
    invitation was sent to. Every 差评 opens a rectification for the responsible department.
    """
    config = conf.get()
    now = timezone.now()
    invitation = _claim_invitation(token, now)
    target = invitation.snapshot()
    if scale.Channel.parse(channel) is scale.Channel.EVALUATOR:
        if evaluator_device is None or evaluator_device.revoked_at is not None:
            raise PermissionDenied("请使用窗口评价器评价。", code="evaluator_device_required")
        if evaluator_device.window_id != target.window_id:
            raise PermissionDenied("该评价器不属于此窗口。", code="evaluator_device_wrong_window")
    # Each target has one first invitation and every first rating uses it up, so an unused one means no
    # first rating yet (the unique constraint on ratings stays the last word).
    first = invitation.purpose == scale.Kind.FIRST
    existing = scale.Existing() if first else existing_for(target.kind, target.id)
    accepted = scale.check_submission(
        scale.Submission(
            level=level,
            channel=channel,
            kind=invitation.purpose,
            indicators=dict(indicators or {}),
            reasons=list(reasons or []),
            text=text,
            anonymous=anonymous,
        ),
        scale.TargetFacts(mode=target.mode, served_at=target.served_at),
        existing,
        now=now,
        follow_up_days=config.FOLLOW_UP_DAYS,
    )
    person = _person_user(actor)
    evaluator, name, phone = None, "", ""
    if not accepted.anonymous:
        evaluator = person or (User.objects.filter(pk=target.person_id).first() if target.person_id else None)
        name = _clean(contact_name, limit=100) or _real_name(evaluator)
        if contact_phone:
            phone = validate_mobile(contact_phone)
        else:
            phone = (evaluator.phone or "") if evaluator is not None else target.phone
    phone_hash = crypto.keyed_hash("phone:" + phone) if phone else ""
    device_hash = "" if evaluator_device is not None or not device else crypto.keyed_hash("device:" + device[:200])
    _throttle(phone_hash=phone_hash, device_hash=device_hash, now=now)

    rating = Rating.objects.create(
        target_kind=target.kind,
        target_id=target.id,
        target_label=target.label[:300],
        kind=accepted.kind.value,
        level=int(accepted.level),
        channel=accepted.channel.value,
        mode=accepted.mode.value,
        indicators=accepted.indicators,
        reasons=list(accepted.reasons),
        text=mask_identifiers_in_text(accepted.text),
        anonymous=accepted.anonymous,
        evaluator=evaluator,
        evaluator_name=name,
        evaluator_phone_encrypted=crypto.encrypt(phone) if phone else "",
        phone_hash=phone_hash,
        device_hash=device_hash,
        region_code=target.region_code,
        department_id=target.department_id,
        hall_id=target.hall_id,
        window_id=target.window_id,
        staff_id=target.staff_id,
        item_code=target.item_code,
        item_name=target.item_name,
        service_state=target.state,
        served_at=target.served_at,
        rated_at=now,
        rated_on=rollups.local_date(now),
        invitation=invitation,
    )
    rating.follow_up_token = ""
    if accepted.kind is scale.Kind.FIRST:
        rollups.bump_rating(rating, rated=1, active=1)
        rollups.bump_reasons(rating, rating.reasons)
        rating.follow_up_token = _invite(target, purpose=scale.Kind.FOLLOW_UP, first_at=now).token
    if accepted.is_bad:
        _open_rectification(rating, now=now)
    if evaluator_device is not None:
        EvaluatorDevice.objects.filter(pk=evaluator_device.pk).update(last_seen_at=now)
    audit.record(  # deferred: thousands a second must not queue on the chain head (core.audit)
        deferred=True,
        actor=person,
        action="ratings.rating.submit",
        obj=rating,
        region_code=rating.region_code,
        summary={
            "target": f"{target.kind}:{target.id}",
            "level": rating.level,
            "kind": rating.kind,
            "channel": rating.channel,
        },
    )
    return rating


def _real_name(user: User | None) -> str:
    if user is None:
        return ""
    person = getattr(user, "person", None) if hasattr(user, "person") else None
    return person.real_name if person is not None else (user.display_name or "")


@action
def default_rating_apply(*, actor: Any, invitation_id: int, now: dt.datetime | None = None) -> Rating | None:
    """默认评价 — record the configured default level for one invitation nobody used in time."""
    policy.require(actor, "ratings.default.apply")
    config = conf.get()
    policy_ = config.default_policy
    now = now or timezone.now()
    invitation = lock(RatingInvitation.objects.filter(pk=invitation_id))
    if invitation.used_at is not None or invitation.purpose != scale.Kind.FIRST:
        return None
    target = invitation.snapshot()
    existing = existing_for(target.kind, target.id)
    if not scale.default_applies(policy_, served_at=target.served_at, existing=existing, now=now):
        return None
    accepted = scale.check_submission(
        scale.Submission(level=int(policy_.level), channel=scale.Channel.SYSTEM),
        scale.TargetFacts(mode=target.mode, served_at=target.served_at),
        existing,
        now=now,
        allow_system=True,
    )
    rating = Rating.objects.create(
        target_kind=target.kind,
        target_id=target.id,
        target_label=target.label[:300],
        kind=scale.Kind.FIRST.value,
        level=int(accepted.level),
        channel=accepted.channel.value,
        mode=accepted.mode.value,
        is_default=True,
        region_code=target.region_code,
        department_id=target.department_id,
        hall_id=target.hall_id,
        window_id=target.window_id,
        staff_id=target.staff_id,
        item_code=target.item_code,
        item_name=target.item_name,
        service_state=target.state,
        served_at=target.served_at,
        rated_at=now,
        rated_on=rollups.local_date(now),
        invitation=invitation,
    )
    invitation.used_at = now
    invitation.save(update_fields=["used_at"])
    rollups.bump_rating(rating, rated=1, defaulted=1)
    audit.record(
        actor=actor,
        action="ratings.rating.default",
        obj=rating,
        region_code=rating.region_code,
        summary={"target": f"{target.kind}:{target.id}", "level": rating.level},
    )
    return rating


def default_ratings_due(now: dt.datetime | None = None) -> list[int]:
    """Invitations whose default rating is due: unused first invitations served at least N days ago
    (and at most N + INVITATION_DAYS days ago, so switching the policy on does not rate old history)."""
    config = conf.get()
    policy_ = config.default_policy
    if not policy_.enabled:
        return []
    now = now or timezone.now()
    latest = now - dt.timedelta(days=policy_.after_days)
    earliest = latest - dt.timedelta(days=config.INVITATION_DAYS)
    return list(
        RatingInvitation.objects.filter(
            purpose=scale.Kind.FIRST, used_at__isnull=True, served_at__lte=latest, served_at__gt=earliest
        )
        .order_by("served_at")
        .values_list("pk", flat=True)
    )


def default_ratings_run(*, actor: Any = SYSTEM, now: dt.datetime | None = None) -> int:
    """Apply every due default rating, one transaction each. Returns how many were recorded."""
    done = 0
    for pk in default_ratings_due(now):
        if default_rating_apply(actor=actor, invitation_id=pk, now=now) is not None:
            done += 1
    return done


# --- rectification ----------------------------------------------------------------------------------
def _dues(rect: Rectification) -> dl.Dues:
    ledger = getattr(rect, "ledger", None) if rect.pk else None
    return dl.dues(
        get_calendar(rect.region_code),
        conf.get().deadlines,
        dl.Dates(
            created_on=rect.created_on,
            classification=Classification(rect.classification) if rect.classification else None,
            ledger_due=ledger.deadline if ledger is not None else None,
            appealed_on=rollups.local_date(rect.appealed_at) if rect.appealed_at else None,
            feedback_on=rollups.local_date(rect.feedback_at) if rect.feedback_at else None,
        ),
    )


def _apply_dues(rect: Rectification) -> None:
    due = _dues(rect)
    rect.verify_due, rect.feedback_due = due.verify_due, due.feedback_due
    rect.revisit_due, rect.appeal_due, rect.due_provisional = due.revisit_due, due.appeal_due, due.provisional


def _event(rect: Rectification, *, event: str, old: str, actor: Any, note: str = "", data: dict | None = None) -> None:
    RectificationEvent.objects.create(
        rectification=rect,
        event=event,
        from_state=old,
        to_state=rect.state,
        actor=actor if isinstance(actor, User) else None,
        actor_label=(actor.get_username() if actor is not None else "anonymous")[:150],
        note=note,
        data=data or {},
    )


def _open_rectification(rating: Rating, *, now: dt.datetime) -> Rectification | None:
    """Every 差评 opens a rectification (a 追评 差评 only when the target has none open)."""
    if (
        rating.kind == scale.Kind.FOLLOW_UP
        and Rectification.objects.filter(rating__target_kind=rating.target_kind, rating__target_id=rating.target_id)
        .exclude(state__in=[State.CLOSED, State.INVALIDATED])
        .exists()
    ):
        return None
    rect = Rectification(
        rating=rating,
        department_id=rating.department_id,
        region_code=rating.region_code,
        created_at=now,
        created_on=rollups.local_date(now),
    )
    _apply_dues(rect)
    rect.save(force_insert=True)
    _event(rect, event="create", old="", actor=SYSTEM, data={"level": rating.level})
    audit.record(  # deferred like the rating that opens it: a citizen's submission never waits for the head
        deferred=True,
        actor=SYSTEM,
        action="ratings.rectification.create",
        obj=rect,
        region_code=rect.region_code,
        summary={"rating": rating.pk, "department": rating.department_id},
    )
    return rect


def _step(*, actor: Any, rectification_id: int, event: Event, permission: str) -> tuple[Rectification, str]:
    rect = lock(Rectification.objects.filter(pk=rectification_id), missing="整改单不存在或您无权查看。")
    if not policy.allows(actor, "ratings.rectification.view", rect) and not is_system(actor):
        raise NotFound("整改单不存在或您无权查看。")
    policy.require(actor, permission, rect)
    old = rect.state
    rect.state = next_state(rect.state, event, appeal_rejected=rect.appeal_rejected)
    return rect, old


def _finish(rect: Rectification, *, actor: Any, event: Event | str, old: str, note: str = "", data=None) -> None:
    rect.save()
    event_value = event.value if isinstance(event, Event) else event
    _event(rect, event=event_value, old=old, actor=actor, note=note, data=data)
    audit.record(
        actor=actor,
        action=f"ratings.rectification.{event_value}",
        obj=rect,
        region_code=rect.region_code,
        summary={"from": old, "to": rect.state, **(data or {})},
    )


@action
def rectification_assign(*, actor: Any, rectification_id: int, assignee_id: int, note: str = "") -> Rectification:
    """分派/改派 — give the rectification to a staff member of the responsible department."""
    current = Rectification.objects.filter(pk=rectification_id).values_list("state", flat=True).first()
    event = Event.ASSIGN if current == State.PENDING else Event.REASSIGN
    rect, old = _step(
        actor=actor, rectification_id=rectification_id, event=event, permission="ratings.rectification.assign"
    )
    if not StaffMembership.objects.filter(
        user_id=assignee_id, department_id=rect.department_id, is_active=True, user__is_active=True
    ).exists():
        raise ValidationFailed("承办人须为责任部门的在岗工作人员。", code="rectification_assignee_invalid")
    rect.assignee_id = assignee_id
    _finish(rect, actor=actor, event=event, old=old, note=_clean(note), data={"assignee": assignee_id})
    return rect


@action
def rectification_verify(*, actor: Any, rectification_id: int, reached: bool, note: str) -> Rectification:
    """回访核实 — call the evaluator and record what was found (or why they could not be reached)."""
    rect, old = _step(
        actor=actor, rectification_id=rectification_id, event=Event.VERIFY, permission="ratings.rectification.handle"
    )
    rect.verify_note = _required(note, "请填写核实情况。", "rectification_note_required")
    rect.verify_reached = bool(reached)
    rect.verified_at = timezone.now()
    _finish(rect, actor=actor, event=Event.VERIFY, old=old, note=rect.verify_note, data={"reached": bool(reached)})
    return rect


@action
def rectification_classify(
    *,
    actor: Any,
    rectification_id: int,
    classification: str,
    note: str = "",
    problem: str = "",
    measures: str = "",
    responsible: str = "",
    deadline: dt.date | None = None,
) -> Rectification:
    """定性 — 立行立改, 限期整改 (with a ledger entry and a deadline), 解释说明, or 申诉."""
    try:
        kind = Classification(classification)
    except ValueError:
        raise ValidationFailed("定性不正确。", code="rectification_classification_invalid") from None
    from .transitions import CLASSIFY_EVENTS

    event = CLASSIFY_EVENTS[kind]
    rect, old = _step(
        actor=actor, rectification_id=rectification_id, event=event, permission="ratings.rectification.handle"
    )
    now = timezone.now()
    data: dict[str, Any] = {"classification": kind.value}
    if kind is Classification.APPEAL:
        rect.appeal_reason = _required(note, "请填写申诉理由（误评或恶意差评的依据）。", "rectification_note_required")
        rect.appealed_at = now
    else:
        message = "请填写解释说明的内容。" if kind is Classification.EXPLAIN else "请填写定性说明。"
        rect.classification_note = _required(note, message, "rectification_note_required")
    if kind is Classification.LEDGER:
        if deadline is None:
            raise ValidationFailed("限期整改须设定整改期限。", code="ledger_deadline_required")
        earliest, latest = dl.ledger_bounds(
            get_calendar(rect.region_code),
            conf.get().deadlines,
            created_on=rect.created_on,
            today=rollups.local_date(now),
        )
        if not (earliest <= deadline <= latest):
            raise ValidationFailed(
                f"整改期限应在 {earliest:%Y-%m-%d} 至 {latest:%Y-%m-%d} 之间。",
                code="ledger_deadline_out_of_range",
                details={"earliest": earliest.isoformat(), "latest": latest.isoformat()},
            )
        LedgerEntry.objects.update_or_create(
            rectification=rect,
            defaults={
                "problem": _required(problem, "请填写存在问题。", "ledger_problem_required"),
                "measures": _required(measures, "请填写整改措施。", "ledger_measures_required"),
                "responsible": _required(responsible, "请填写责任人。", "ledger_responsible_required")[:100],
                "deadline": deadline,
            },
        )
        rect.ledger = LedgerEntry.objects.get(rectification=rect)
        data["deadline"] = deadline.isoformat()
    rect.classification = kind.value
    rect.classified_at = now
    _apply_dues(rect)
    _finish(rect, actor=actor, event=event, old=old, note=note.strip(), data=data)
    return rect


@action
def rectification_review_appeal(*, actor: Any, rectification_id: int, upheld: bool, note: str) -> Rectification:
    """申诉复核 — upheld: the 差评 is excluded from the figures (the reason is kept); rejected: back to
    rectification, and no second appeal."""
    event = Event.APPEAL_UPHELD if upheld else Event.APPEAL_REJECTED
    rect, old = _step(
        actor=actor,
        rectification_id=rectification_id,
        event=event,
        permission="ratings.rectification.review_appeal",
    )
    note = _required(note, "请填写复核意见。", "rectification_note_required")
    now = timezone.now()
    rect.appeal_decided_at, rect.appeal_decided_by_id = now, getattr(actor, "pk", None)
    rect.appeal_decision_note = note
    if upheld:
        rect.closed_at = now
        rating = lock(Rating.objects.filter(pk=rect.rating_id))
        rating.excluded_at = now
        rating.excluded_reason = f"申诉成立：{rect.appeal_reason}；复核意见：{note}"
        rating.save(update_fields=["excluded_at", "excluded_reason"])
        if rating.kind == scale.Kind.FIRST:
            measure = "defaulted" if rating.is_default else "active"
            rollups.bump_rating(rating, rated=-1, invalidated=1, **{measure: -1})
            rollups.bump_reasons(rating, rating.reasons, n=-1)
    else:
        rect.appeal_rejected = True
        rect.classification = ""
    _finish(rect, actor=actor, event=event, old=old, note=note, data={"upheld": bool(upheld)})
    return rect


def _public_text(text: str) -> str:
    """Public summaries carry no personal data: ID numbers, credit codes and phone numbers are masked."""
    import re

    text = mask_identifiers_in_text(text)
    return re.sub(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)", r"\1****\2", text)


@action
def rectification_feedback(*, actor: Any, rectification_id: int, text: str, public_summary: str = "") -> Rectification:
    """整改反馈 — what was done; ``public_summary`` is published on the portal without personal data."""
    rect, old = _step(
        actor=actor, rectification_id=rectification_id, event=Event.FEEDBACK, permission="ratings.rectification.handle"
    )
    now = timezone.now()
    rect.feedback_text = _required(text, "请填写整改情况。", "rectification_note_required")
    rect.public_summary = _public_text(_clean(public_summary, limit=500))
    rect.feedback_at = now
    LedgerEntry.objects.filter(rectification=rect, completed_at__isnull=True).update(completed_at=now)
    _apply_dues(rect)
    _finish(rect, actor=actor, event=Event.FEEDBACK, old=old, note=rect.feedback_text)
    return rect


@action
def rectification_return_visit(
    *, actor: Any, rectification_id: int, reached: bool, level: int | None = None, note: str = ""
) -> Rectification:
    """整改回访 — the evaluator rates the rectification (满意/基本满意/不满意…); then the case closes.

    When the evaluator cannot be reached (anonymous, no answer) the reason is required."""
    rect, old = _step(
        actor=actor,
        rectification_id=rectification_id,
        event=Event.RETURN_VISIT,
        permission="ratings.rectification.handle",
    )
    now = timezone.now()
    if reached:
        if level is None:
            raise ValidationFailed("请记录评价人对整改的满意程度。", code="revisit_level_required")
        rect.revisit_level = int(scale.Level.parse(level))
        rect.revisit_note = _clean(note)
    else:
        rect.revisit_level = None
        rect.revisit_note = _required(note, "未能回访的，请说明原因。", "rectification_note_required")
    rect.revisit_reached = bool(reached)
    rect.revisit_at = rect.closed_at = now
    rating = Rating.objects.get(pk=rect.rating_id)
    if rating.kind == scale.Kind.FIRST and rating.excluded_at is None:
        rollups.bump_rating(rating, rectified=1, revisited=1 if reached else 0)
    _finish(
        rect,
        actor=actor,
        event=Event.RETURN_VISIT,
        old=old,
        note=rect.revisit_note,
        data={"reached": bool(reached), "level": rect.revisit_level},
    )
    return rect


@action
def evaluator_reveal(*, actor: Any, rectification_id: int) -> dict[str, Any]:
    """查看评价人 — only the rectification's owner, and every view is audited."""
    rect = Rectification.objects.select_related("rating").filter(pk=rectification_id).first()
    if rect is None or not policy.allows(actor, "ratings.rectification.view", rect):
        raise NotFound("整改单不存在或您无权查看。")
    policy.require(actor, "ratings.evaluator.view", rect)
    rating = rect.rating
    audit.record(
        actor=actor,
        action="ratings.evaluator.view",
        obj=rect,
        region_code=rect.region_code,
        summary={"rating": rating.pk, "anonymous": rating.anonymous},
    )
    if rating.anonymous:
        return {"anonymous": True, "name": "", "phone": "", "account": ""}
    return {
        "anonymous": False,
        "name": rating.evaluator_name,
        "phone": crypto.decrypt(rating.evaluator_phone_encrypted),
        "account": str(rating.evaluator) if rating.evaluator_id else "",
    }


# --- evaluator devices ------------------------------------------------------------------------------
@action
def device_register(*, actor: Any, window_id: int, name: str = "") -> tuple[EvaluatorDevice, str]:
    """登记窗口评价器 — returns the device and its key (shown once)."""
    window = Window.objects.select_related("hall").filter(pk=window_id).first()
    if window is None:
        raise NotFound("窗口不存在。", code="window_not_found")
    policy.require(actor, "ratings.device.manage", window)
    plain, prefix, digest = tokens.new_device_key()
    device = EvaluatorDevice.objects.create(
        window=window,
        name=_clean(name, limit=100) or f"{window.number}号窗口评价器",
        key_prefix=prefix,
        key_hash=digest,
    )
    audit.record(
        actor=actor,
        action="ratings.device.register",
        obj=device,
        region_code=window.hall.region_id,
        summary={"window": window.pk},
    )
    return device, plain


@action
def device_revoke(*, actor: Any, device_id: int) -> EvaluatorDevice:
    device = lock(EvaluatorDevice.objects.filter(pk=device_id), missing="评价器不存在。")
    window = Window.objects.select_related("hall").get(pk=device.window_id)
    policy.require(actor, "ratings.device.manage", window)
    if device.revoked_at is None:
        device.revoked_at = timezone.now()
        device.save(update_fields=["revoked_at"])
    audit.record(actor=actor, action="ratings.device.revoke", obj=device, region_code=window.hall.region_id)
    return device

"""Writes of the 12345 hotline: every state change of a work order is one action (atomic, permission-checked,
audited, history row written, side effects on commit).

Intake (受理) → 知识库直接答复 | 派单 → 签收 | 退单 → 审核 → 改派 → 延期 → 督办 → 答复反馈 → 审核 → 回访
(不满意 → 重办) → 办结归档; 并单 and 不予受理 at intake.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from yiwang.accounts import sms
from yiwang.core import audit
from yiwang.core.actions import action, lock, lock_many, on_commit
from yiwang.core.actors import is_system
from yiwang.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from yiwang.core.ids import mask_identifiers_in_text
from yiwang.core.permissions import policy
from yiwang.directory.models import Department, Region
from yiwang.workdays.calendar import get_calendar

from . import events, screening, timelimits
from .models import (
    Assignment,
    Attachment,
    Category,
    ExtensionRequest,
    KnowledgeEntry,
    OrderEvent,
    TimeLimit,
    Visit,
    WorkOrder,
)
from .transitions import Event, State, next_state

STAFF_CHANNELS = {
    WorkOrder.Channel.PHONE,
    WorkOrder.Channel.WECHAT,
    WorkOrder.Channel.SMS,
    WorkOrder.Channel.MAILBOX,
}
CITIZEN_CHANNELS = {WorkOrder.Channel.WEB, WorkOrder.Channel.MOBILE}
MAX_CONTENT = 4000
_PHONE = re.compile(r"^[0-9+\-() ]{3,30}$")


class NotAccepted(ValidationFailed):
    """不予受理 — the matter belongs to 110/119/120/122 or to a legal procedure; the message is the referral."""

    default_code = "not_accepted"


# --- helpers ----------------------------------------------------------------------------------------
def _label(actor: Any) -> str:
    return (actor.get_username() if actor is not None and getattr(actor, "is_authenticated", False) else "")[:150]


def _event(
    order: WorkOrder,
    event: str,
    actor: Any,
    *,
    from_status: str = "",
    note: str = "",
    department: Department | None = None,
    at: dt.datetime | None = None,
) -> OrderEvent:
    return OrderEvent.objects.create(
        order=order,
        event=event,
        from_status=from_status,
        to_status=order.status,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=_label(actor),
        department=department,
        note=mask_identifiers_in_text(note)[:4000],
        at=at or timezone.now(),
    )


def _audit(actor: Any, name: str, order: WorkOrder, **summary: Any) -> None:
    audit.record(
        actor=actor,
        action=f"hotline.{name}",
        obj=order,
        region_code=order.region_id,
        summary={"number": order.number, "status": order.status, **summary},
    )


_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def _notify(order: WorkOrder, text: str) -> None:
    """Text the caller after commit (only to a mobile number; confidential orders too, they are the caller's)."""
    phone = (order.caller_phone or "").replace(" ", "").replace("-", "")
    if _MOBILE.match(phone):
        on_commit(lambda: sms.send_sms(phone, text))


def _lock_order(order_id: int) -> WorkOrder:
    return lock(WorkOrder.objects.filter(pk=order_id), missing="工单不存在。")


def _move(order: WorkOrder, event: Event) -> str:
    """Apply ``event`` to the order's state (raises InvalidTransition); returns the previous state."""
    previous = order.status
    order.status = next_state(order.status, event).value
    if order.status in (State.CLOSED, State.ANSWERED):
        order_id = order.pk
        on_commit(lambda: events.order_finished.send(sender=WorkOrder, order_id=order_id))
    return previous


def _text(value: str, field: str, label: str, *, required: bool = True, max_length: int = 200) -> str:
    value = (value or "").replace("\x00", "").strip()
    if required and not value:
        raise ValidationFailed(f"请填写{label}。", code=f"{field}_required", details={"field": field})
    if len(value) > max_length:
        raise ValidationFailed(
            f"{label}不能超过{max_length}字。", code=f"{field}_too_long", details={"field": field, "max": max_length}
        )
    return value


def limits_for(kind: str, urgency: str) -> timelimits.Limits:
    overrides = {
        (row.kind, row.urgency): timelimits.Limits(
            timelimits.Limit(row.sign_value, timelimits.LimitUnit(row.sign_unit)),
            timelimits.Limit(row.handle_value, timelimits.LimitUnit(row.handle_unit)),
        )
        for row in TimeLimit.objects.filter(urgency=urgency, kind__in=("", kind))
    }
    return timelimits.limits_for(kind, urgency, overrides)


def _choice(value: str, choices: type, field: str, label: str) -> str:
    if value not in choices.values:
        raise ValidationFailed(
            f"{label}取值无效。", code=f"invalid_{field}", details={"field": field, "allowed": list(choices.values)}
        )
    return value


def _category(code: str | None) -> Category | None:
    code = (code or "").replace("\x00", "")
    if not code:
        return None
    category = Category.objects.filter(code=code, is_active=True).select_related("parent__parent").first()
    if category is None:
        raise ValidationFailed("分类不存在。", code="invalid_category", details={"field": "category_code"})
    return category


_regions: dict[str, tuple[float, Region]] = {}
_REGION_TTL = 60.0


def _region(code: str) -> Region | None:
    """An active region by code, remembered per process for a minute (intake looks one up for every order)."""
    now = time.monotonic()
    hit = _regions.get(code)
    if hit is not None and now - hit[0] < _REGION_TTL:
        return hit[1]
    region = Region.objects.filter(code=code, is_active=True).first() if code else None
    if region is not None:
        if len(_regions) > 20_000:
            _regions.clear()
        _regions[code] = (now, region)
    return region


def forget_regions(**_kwargs: Any) -> None:
    _regions.clear()


post_save.connect(forget_regions, sender=Region, dispatch_uid="hotline-forget-regions-save")
post_delete.connect(forget_regions, sender=Region, dispatch_uid="hotline-forget-regions-delete")


# --- intake (受理) -----------------------------------------------------------------------------------
_ID_BLOCK = 32
_ids: dict[str, list[int]] = {}
_ids_lock = threading.Lock()


def _order_number(now: dt.datetime, pk: int) -> str:
    """工单编号: the local date and the order's id (unique because the id is)."""
    return f"{timezone.localtime(now):%Y%m%d}{pk:08d}"


def _new_order_id() -> int | None:
    """On PostgreSQL, the id of a new order, from a block of ``_ID_BLOCK`` values this process takes from the
    table's sequence at once: the number can then be written with the row, instead of by an UPDATE that
    (``number`` being indexed) rewrites every index entry of the order. ``None`` elsewhere.

    Sequence values are never handed out twice, so ids stay unique; across processes they are not in
    creation order (lists sort by ``created_at``), and a process that stops leaves a gap in the numbers.
    """
    if connection.vendor != "postgresql":
        return None
    database = connection.settings_dict["NAME"]
    with _ids_lock:
        free = _ids.setdefault(database, [])
        if not free:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence('hotline_workorder', 'id')) FROM generate_series(1, %s)",
                    [_ID_BLOCK],
                )
                free.extend(sorted((row[0] for row in cursor.fetchall()), reverse=True))
        return free.pop()


@action
def order_create(
    *,
    actor: Any,
    title: str,
    content: str,
    region_code: str,
    channel: str = WorkOrder.Channel.PHONE,
    kind: str = WorkOrder.Kind.CONSULT,
    urgency: str = WorkOrder.Urgency.NORMAL,
    cause: str = "",
    address: str = "",
    caller_name: str = "",
    caller_phone: str = "",
    caller_type: str = WorkOrder.CallerType.PERSON,
    is_confidential: bool = False,
    occurred_at: dt.datetime | None = None,
    category_code: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    accept_out_of_scope: bool = False,
    suggest: bool = True,
    open311: dict[str, Any] | None = None,
) -> WorkOrder:
    """受理登记 — record a demand with its five elements (来电人、时间、地点、起因、经过).

    Agents (and other staff channels) need ``hotline.order.create`` for the place; citizens submit through
    web/mobile for themselves; Open311 clients act as the system. Emergencies and matters in legal
    procedures are refused with the referral text (an agent may override a false alarm).
    """
    channel = _choice(channel, WorkOrder.Channel, "channel", "受理渠道")
    kind = _choice(kind, WorkOrder.Kind, "kind", "诉求类型")
    urgency = _choice(urgency, WorkOrder.Urgency, "urgency", "紧急程度")
    caller_type = _choice(caller_type, WorkOrder.CallerType, "caller_type", "诉求人类型")
    title = _text(title, "title", "主题")
    content = _text(content, "content", "诉求内容", max_length=MAX_CONTENT)
    cause = _text(cause, "cause", "起因", required=False, max_length=MAX_CONTENT)
    address = _text(address, "address", "详细地点", required=False, max_length=300)
    caller_name = _text(caller_name, "caller_name", "来电人", required=False, max_length=100)
    caller_phone = (caller_phone or "").replace("\x00", "").strip()
    if caller_phone and not _PHONE.match(caller_phone):
        raise ValidationFailed("联系电话格式不正确。", code="invalid_phone", details={"field": "caller_phone"})
    region = _region((region_code or "").replace("\x00", ""))
    if region is None:
        raise ValidationFailed("请选择有效的发生地区划。", code="invalid_region", details={"field": "region_code"})

    citizen = False
    if channel in CITIZEN_CHANNELS and not policy.allows(actor, "hotline.order.create", region):
        policy.require(actor, "hotline.order.submit")
        citizen = True
    elif channel == WorkOrder.Channel.OPEN311:
        if not is_system(actor):
            raise PermissionDenied(details={"action": "hotline.order.open311"})
    else:
        policy.require(actor, "hotline.order.create", region)
    if accept_out_of_scope and (citizen or channel == WorkOrder.Channel.OPEN311):
        accept_out_of_scope = False
    hit = screening.screen(title, cause, content)
    if hit is not None and not accept_out_of_scope:
        raise NotAccepted(hit.referral, code=f"not_accepted_{hit.reason.value}", details={"matched": hit.matched})
    category = _category(category_code)

    now = timezone.now()
    order = WorkOrder(
        channel=channel,
        kind=kind,
        urgency=urgency,
        title=title,
        content=content,
        cause=cause,
        address=address,
        caller_name=caller_name or (str(actor) if citizen else ""),
        caller_phone=caller_phone or ((getattr(actor, "phone", "") or "") if citizen else ""),
        caller_type=caller_type,
        caller_user=actor if citizen else None,
        is_confidential=bool(is_confidential),
        occurred_at=occurred_at,
        region=region,
        category=category,
        latitude=latitude,
        longitude=longitude,
        taken_by=actor if (getattr(actor, "pk", None) and not citizen) else None,
        created_at=now,
        updated_at=now,
    )
    if open311:
        for key in ("service_code", "media_url", "account_id", "device_id", "email", "open311_client"):
            if open311.get(key):
                setattr(order, key, open311[key])
        order.open311_token = secrets.token_hex(16)
    if suggest:
        _apply_suggestion(order)
    order.pk = _new_order_id()
    if order.pk is not None:  # PostgreSQL: id and number known before the row is written, one INSERT
        order.number = _order_number(now, order.pk)
        order.save(force_insert=True)
    else:
        order.save()
        order.number = _order_number(now, order.pk)
        with connection.cursor() as cursor:  # one plain statement: intake is the hot path
            cursor.execute("UPDATE hotline_workorder SET number = %s WHERE id = %s", [order.number, order.pk])
    _event(order, "create", actor, note=f"{order.get_channel_display()}受理", at=now)
    # Intake is the hotline's volume: its events (and those of the automatic dispatch below, so they stay
    # after the creation in the chain) are staged in this transaction and chained in batches after commit,
    # instead of every order queueing on the chain head (docs/decisions/0007, 0012).
    with audit.deferring():
        _audit(actor, "order.create", order, channel=channel, kind=kind, urgency=urgency)
        if hit is not None:
            _event(order, "screen_override", actor, note=f"坐席确认属于受理范围（疑似：{hit.label}）")
        auto = _auto_dispatch_target(order)
        if auto is not None:
            order_dispatch(
                actor=actor,
                order_id=order.pk,
                department_id=auto[0],
                assist_department_ids=auto[1],
                automatic=True,
                note="按派单目录自动派单",
            )
            order.refresh_from_db()
    return order


def _apply_suggestion(order: WorkOrder) -> None:
    """Fill the suggested category/department from the trained models (no-op when none is trained)."""
    from . import dispatching

    suggestion = dispatching.suggest(
        text=f"{order.title} {order.cause} {order.content}", title=order.title, region_code=order.region_id
    )
    if suggestion is None:
        return
    order.suggested_category = suggestion.category
    order.suggested_department = suggestion.department
    order.suggestion_confidence = suggestion.confidence
    if order.category_id is None and suggestion.category is not None:
        order.category = suggestion.category


def _auto_dispatch_target(order: WorkOrder) -> tuple[int, list[int]] | None:
    from . import dispatching

    return dispatching.auto_target(order)


@action
def order_refuse(*, actor: Any, order_id: int, reason: str, note: str = "") -> WorkOrder:
    """不予受理 — record the refusal and the referral given to the caller."""
    order = _lock_order(order_id)
    policy.require(actor, "hotline.order.refuse", order)
    try:
        referral = screening.referral(reason)
    except ValueError:
        raise ValidationFailed("不予受理原因无效。", code="invalid_refusal_reason") from None
    previous = _move(order, Event.REFUSE)
    now = timezone.now()
    order.refusal_reason = reason
    order.reply = referral
    order.closed_at = now
    order.updated_at = now
    order.save(update_fields=["status", "refusal_reason", "reply", "closed_at", "updated_at"])
    _event(order, Event.REFUSE, actor, from_status=previous, note=note or referral)
    _audit(actor, "order.refuse", order, reason=reason)
    return order


# --- knowledge-base answer (直接办结) ------------------------------------------------------------------
@action
def order_answer(*, actor: Any, order_id: int, entry_id: int | None = None, reply: str = "") -> WorkOrder:
    """知识库直接答复 — answer the caller from a knowledge entry (or a given reply) and close as 直接办结."""
    order = _lock_order(order_id)
    policy.require(actor, "hotline.order.answer", order)
    entry = None
    if entry_id is not None:
        entry = KnowledgeEntry.objects.filter(pk=entry_id, is_active=True).first()
        if entry is None:
            raise NotFound("知识库条目不存在或已停用。", code="kb_entry_not_found")
        if entry.is_stale():
            raise Conflict("该知识已过有效期，请联系责任部门更新后再使用。", code="kb_entry_stale")
    reply = (reply or "").strip() or (entry.answer if entry else "")
    if not reply:
        raise ValidationFailed("请选择知识或填写答复内容。", code="reply_required", details={"field": "reply"})
    previous = _move(order, Event.ANSWER)
    now = timezone.now()
    order.reply = reply[: MAX_CONTENT * 2]
    order.kb_entry = entry
    order.replied_at = order.closed_at = order.updated_at = now
    order.save(update_fields=["status", "reply", "kb_entry", "replied_at", "closed_at", "updated_at"])
    if entry is not None:
        KnowledgeEntry.objects.filter(pk=entry.pk).update(use_count=F("use_count") + 1)
    _event(
        order, Event.ANSWER, actor, from_status=previous, note=f"引用知识：{entry.question}" if entry else "直接答复"
    )
    _audit(actor, "order.answer", order, kb_entry=entry.pk if entry else None)
    _notify(order, f"【12345】您的诉求（工单{order.number}）已答复：{order.reply[:200]}")
    return order


# --- dispatch (派单), 签收, 退单 -----------------------------------------------------------------------
def _department(department_id: int, field: str = "department_id") -> Department:
    department = Department.objects.filter(pk=department_id, is_active=True).first()
    if department is None:
        raise ValidationFailed("承办单位不存在。", code="invalid_department", details={"field": field})
    return department


@action
def order_dispatch(
    *,
    actor: Any,
    order_id: int,
    department_id: int,
    assist_department_ids: Sequence[int] = (),
    category_code: str | None = None,
    note: str = "",
    automatic: bool = False,
) -> WorkOrder:
    """派单 — send the order to a 主办 department (and 协办 ones) with sign and handling deadlines."""
    order = _lock_order(order_id)
    policy.require(actor, "hotline.order.dispatch", order)
    lead = _department(department_id)
    assists = [_department(pk, "assist_department_ids") for pk in dict.fromkeys(assist_department_ids) if pk != lead.pk]
    category = _category(category_code) if category_code else None
    previous = _move(order, Event.DISPATCH)
    now = timezone.now()
    limits = limits_for(order.kind, order.urgency)
    calendar = get_calendar(order.region_id)
    sign_due = timelimits.due_at(calendar, now, limits.sign)
    order.department = lead
    order.dispatched_at = now
    order.sign_due_at = sign_due
    order.signed_at = None
    order.handle_due_at = timelimits.due_at(calendar, now, limits.handle)  # 改派: the new department's clock
    if category is not None:
        order.category = category
    order.updated_at = now
    order.save()
    for department, role in [(lead, Assignment.Role.LEAD), *[(d, Assignment.Role.ASSIST) for d in assists]]:
        Assignment.objects.create(
            order=order,
            department=department,
            role=role,
            dispatched_by=actor if getattr(actor, "pk", None) else None,
            dispatched_at=now,
            sign_due_at=sign_due,
            note=note[:500],
            automatic=automatic,
        )
    label = "自动派单" if automatic else "派单"
    extra = f"；协办：{'、'.join(d.name for d in assists)}" if assists else ""
    _event(
        order,
        Event.DISPATCH,
        actor,
        from_status=previous,
        department=lead,
        note=f"{label}至{lead.name}{extra}" + (f"。{note}" if note else ""),
    )
    _audit(actor, "order.dispatch", order, department=lead.pk, assists=[d.pk for d in assists], automatic=automatic)
    return order


def _lead_assignment(order: WorkOrder, *statuses: str) -> Assignment | None:
    return (
        Assignment.objects.filter(
            order=order,
            role=Assignment.Role.LEAD,
            department_id=order.department_id,
            status__in=statuses or [s.value for s in Assignment.Status],
        )
        .order_by("-dispatched_at", "-id")
        .first()
    )


@action
def order_sign(*, actor: Any, order_id: int) -> WorkOrder:
    """签收 — the 主办 department takes the order (also after 重办)."""
    order = _lock_order(order_id)
    policy.require(actor, "hotline.order.handle", order)
    previous = _move(order, Event.SIGN)
    now = timezone.now()
    order.signed_at = order.updated_at = now
    order.save(update_fields=["status", "signed_at", "updated_at"])
    Assignment.objects.filter(order=order, department_id=order.department_id, status=Assignment.Status.PENDING).update(
        status=Assignment.Status.SIGNED, signed_at=now
    )
    _event(order, Event.SIGN, actor, from_status=previous, department=order.department)
    _audit(actor, "order.sign", order, department=order.department_id)
    return order


@action
def order_return(*, actor: Any, order_id: int, reason: str) -> WorkOrder:
    """退单 — the department says the order is not theirs; the hotline reviews (派单异议审核)."""
    order = _lock_order(order_id)
    policy.require(actor, "hotline.order.handle", order)
    reason = _text(reason, "reason", "退单理由", max_length=500)
    if len(reason) < 5:
        raise ValidationFailed(
            "退单理由至少5个字，请说明依据（如三定职责）。", code="reason_too_short", details={"field": "reason"}
        )
    previous = _move(order, Event.RETURN)
    now = timezone.now()
    order.return_count += 1
    order.updated_at = now
    order.save(update_fields=["status", "return_count", "updated_at"])
    Assignment.objects.filter(
        order=order, department_id=order.department_id, status__in=[Assignment.Status.PENDING, Assignment.Status.SIGNED]
    ).update(status=Assignment.Status.RETURNED, returned_at=now, return_reason=reason)
    _event(order, Event.RETURN, actor, from_status=previous, department=order.department, note=reason)
    _audit(actor, "order.return", order, department=order.department_id)
    return order


@action
def order_review_return(*, actor: Any, order_id: int, approve: bool, note: str = "") -> WorkOrder:
    """退单审核 — approve (the order waits for 改派) or reject (back to the same department)."""
    order = _lock_order(order_id)
    policy.require(actor, "hotline.order.review", order)
    event = Event.APPROVE_RETURN if approve else Event.REJECT_RETURN
    previous = _move(order, event)
    now = timezone.now()
    department = order.department
    if approve:
        order.department = None
        order.sign_due_at = None
        order.signed_at = None
    else:
        if not (note or "").strip():
            raise ValidationFailed("驳回退单须说明理由。", code="note_required", details={"field": "note"})
        limits = limits_for(order.kind, order.urgency)
        order.sign_due_at = timelimits.due_at(get_calendar(order.region_id), now, limits.sign)
        order.signed_at = None
        Assignment.objects.create(
            order=order,
            department=department,
            role=Assignment.Role.LEAD,
            dispatched_by=actor if getattr(actor, "pk", None) else None,
            dispatched_at=now,
            sign_due_at=order.sign_due_at,
            note=f"驳回退单：{note}"[:500],
        )
    order.updated_at = now
    order.save()
    _event(order, event, actor, from_status=previous, department=department, note=note)
    _audit(actor, "order.review_return", order, approve=approve)
    return order


# --- 延期, 督办 -------------------------------------------------------------------------------------
@action
def extension_request(*, actor: Any, order_id: int, days: int, reason: str) -> ExtensionRequest:
    """延期申请 — the department asks for ``days`` more working days while handling."""
    order = _lock_order(order_id)
    policy.require(actor, "hotline.order.handle", order)
    if order.status != State.HANDLING:
        raise Conflict(
            "只有办理中的工单可以申请延期。",
            code="workorder_invalid_transition",
            details={"state": order.status, "event": "extend"},
        )
    if not isinstance(days, int) or not 1 <= days <= 30:
        raise ValidationFailed("延期天数应为1至30个工作日。", code="invalid_days", details={"field": "days"})
    reason = _text(reason, "reason", "延期理由", max_length=500)
    if order.extensions.filter(status=ExtensionRequest.Status.PENDING).exists():
        raise Conflict("已有待审核的延期申请。", code="extension_pending")
    request = ExtensionRequest.objects.create(
        order=order,
        department=order.department,
        days=days,
        reason=reason,
        requested_by=actor if getattr(actor, "pk", None) else None,
    )
    _event(
        order,
        "extension_request",
        actor,
        from_status=order.status,
        department=order.department,
        note=f"申请延期{days}个工作日：{reason}",
    )
    _audit(actor, "extension.request", order, days=days)
    return request


@action
def extension_decide(*, actor: Any, request_id: int, approve: bool, note: str = "") -> ExtensionRequest:
    """延期审核 — approving moves the handling deadline out by the requested working days."""
    request = lock(ExtensionRequest.objects.filter(pk=request_id), missing="延期申请不存在。")
    order = _lock_order(request.order_id)
    policy.require(actor, "hotline.extension.decide", order)
    if request.status != ExtensionRequest.Status.PENDING:
        raise Conflict("该延期申请已审核。", code="extension_decided")
    now = timezone.now()
    request.status = ExtensionRequest.Status.APPROVED if approve else ExtensionRequest.Status.REJECTED
    request.decided_by = actor if getattr(actor, "pk", None) else None
    request.decided_at = now
    request.decision_note = (note or "")[:500]
    if approve:
        previous = _move(order, Event.EXTEND)
        base = order.handle_due_at or now
        order.handle_due_at = timelimits.extend(get_calendar(order.region_id), base, request.days)
        order.extension_days += request.days
        order.updated_at = now
        order.save(update_fields=["status", "handle_due_at", "extension_days", "updated_at"])
        _event(
            order,
            Event.EXTEND,
            actor,
            from_status=previous,
            note=f"批准延期{request.days}个工作日，新办理时限 {timezone.localtime(order.handle_due_at):%Y-%m-%d %H:%M}",
        )
    else:
        _event(order, "extension_rejected", actor, from_status=order.status, note=note or "不予延期")
    request.save()
    _audit(actor, "extension.decide", order, approve=approve, days=request.days)
    return request


@action
def order_supervise(*, actor: Any, order_id: int, note: str) -> WorkOrder:
    """督办 — a supervisor presses an overdue or hot order; noted on the order and counted."""
    order = _lock_order(order_id)
    policy.require(actor, "hotline.order.supervise", order)
    note = _text(note, "note", "督办意见", max_length=500)
    previous = _move(order, Event.SUPERVISE)
    order.supervision_count += 1
    order.updated_at = timezone.now()
    order.save(update_fields=["status", "supervision_count", "updated_at"])
    _event(order, Event.SUPERVISE, actor, from_status=previous, department=order.department, note=note)
    _audit(actor, "order.supervise", order)
    return order


# --- reply, review, 回访 ----------------------------------------------------------------------------
@action
def order_reply(*, actor: Any, order_id: int, reply: str) -> WorkOrder:
    """答复反馈 — the department has answered the caller and reports the result to the platform."""
    order = _lock_order(order_id)
    policy.require(actor, "hotline.order.handle", order)
    reply = _text(reply, "reply", "答复内容", max_length=MAX_CONTENT)
    previous = _move(order, Event.REPLY)
    now = timezone.now()
    order.reply = reply
    order.replied_at = order.updated_at = now
    order.save(update_fields=["status", "reply", "replied_at", "updated_at"])
    Assignment.objects.filter(order=order, department_id=order.department_id, status=Assignment.Status.SIGNED).update(
        status=Assignment.Status.DONE
    )
    _event(order, Event.REPLY, actor, from_status=previous, department=order.department, note=reply)
    _audit(actor, "order.reply", order, on_time=timelimits.on_time(now, order.handle_due_at))
    return order


@action
def order_review_reply(*, actor: Any, order_id: int, approve: bool, note: str = "") -> WorkOrder:
    """答复审核 — accept the reply (to 回访) or send it back for more work."""
    order = _lock_order(order_id)
    policy.require(actor, "hotline.order.review", order)
    event = Event.APPROVE_REPLY if approve else Event.REJECT_REPLY
    if not approve and not (note or "").strip():
        raise ValidationFailed("退回须说明理由。", code="note_required", details={"field": "note"})
    previous = _move(order, event)
    order.updated_at = timezone.now()
    if not approve:
        Assignment.objects.filter(order=order, department_id=order.department_id, status=Assignment.Status.DONE).update(
            status=Assignment.Status.SIGNED
        )
    order.save(update_fields=["status", "updated_at"])
    _event(order, event, actor, from_status=previous, department=order.department, note=note)
    _audit(actor, "order.review_reply", order, approve=approve)
    if approve:
        _notify(order, f"【12345】您的诉求（工单{order.number}）已由{order.department}答复：{order.reply[:200]}")
    return order


@action
def order_visit(
    *, actor: Any, order_id: int, result: str, resolved: bool = True, note: str = "", method: str = "phone"
) -> WorkOrder:
    """回访 — 满意/基本满意 closes the order; 不满意 (or unresolved) reopens it for 重办."""
    order = _lock_order(order_id)
    policy.require(actor, "hotline.order.visit", order)
    result = _choice(result, WorkOrder.Satisfaction, "result", "回访结果")
    if method not in ("phone", "sms", "web"):
        raise ValidationFailed("回访方式无效。", code="invalid_method", details={"field": "method"})
    unhappy = result == WorkOrder.Satisfaction.UNSATISFIED or not resolved
    event = Event.VISIT_UNSATISFIED if unhappy else Event.VISIT_SATISFIED
    previous = _move(order, event)
    now = timezone.now()
    Visit.objects.create(
        order=order,
        result=result,
        resolved=resolved,
        method=method,
        note=(note or "")[:500],
        visited_by=actor if getattr(actor, "pk", None) else None,
        visited_at=now,
        department=order.department,
    )
    order.satisfaction = result
    order.visited_at = order.updated_at = now
    if unhappy:
        order.reopen_count += 1
        order.closed_at = None
        if order.status == State.REOPENED:  # 重办: the same department signs again, with fresh limits
            limits = limits_for(order.kind, order.urgency)
            calendar = get_calendar(order.region_id)
            order.sign_due_at = timelimits.due_at(calendar, now, limits.sign)
            order.handle_due_at = timelimits.due_at(calendar, now, limits.handle)
            order.signed_at = None
            order.replied_at = None
            Assignment.objects.create(
                order=order,
                department=order.department,
                role=Assignment.Role.LEAD,
                dispatched_by=actor if getattr(actor, "pk", None) else None,
                dispatched_at=now,
                sign_due_at=order.sign_due_at,
                note="回访不满意，重办",
            )
        else:  # a direct answer the caller rejected: back to 待派单
            order.replied_at = None
            order.kb_entry = None
    else:
        order.closed_at = order.closed_at or now
    order.save()
    _event(
        order,
        event,
        actor,
        from_status=previous,
        department=order.department,
        note=f"{WorkOrder.Satisfaction(result).label}{'' if resolved else '（未解决）'}"
        + (f"：{note}" if note else ""),
    )
    _audit(actor, "order.visit", order, result=result, resolved=resolved)
    return order


@action
def order_close(*, actor: Any, order_id: int, note: str) -> WorkOrder:
    """归档 — close without a 回访 (caller unreachable after the required attempts)."""
    order = _lock_order(order_id)
    policy.require(actor, "hotline.order.visit", order)
    note = _text(note, "note", "归档说明", max_length=500)
    previous = _move(order, Event.CLOSE)
    order.closed_at = order.updated_at = timezone.now()
    order.save(update_fields=["status", "closed_at", "updated_at"])
    _event(order, Event.CLOSE, actor, from_status=previous, note=note)
    _audit(actor, "order.close", order)
    return order


# --- 并单 -------------------------------------------------------------------------------------------
@action
def order_merge(*, actor: Any, order_id: int, into_id: int, note: str = "") -> WorkOrder:
    """并单 — fold a duplicate into an open order so one department handles the matter once."""
    if order_id == into_id:
        raise ValidationFailed("不能与自身并单。", code="merge_into_self")
    rows = {o.pk: o for o in lock_many(WorkOrder.objects.filter(pk__in=[order_id, into_id]))}
    if order_id not in rows or into_id not in rows:
        raise NotFound("工单不存在。")
    order, parent = rows[order_id], rows[into_id]
    policy.require(actor, "hotline.order.merge", order)
    policy.require(actor, "hotline.order.merge", parent)
    if parent.status in (State.MERGED, State.REFUSED, State.CLOSED, State.ANSWERED):
        raise Conflict("目标工单已办结或已并单，不能并入。", code="merge_target_closed")
    previous = _move(order, Event.MERGE)
    now = timezone.now()
    order.merged_into = parent
    order.closed_at = order.updated_at = now
    order.save(update_fields=["status", "merged_into", "closed_at", "updated_at"])
    Assignment.objects.filter(order=order, status__in=[Assignment.Status.PENDING, Assignment.Status.SIGNED]).update(
        status=Assignment.Status.WITHDRAWN
    )
    _event(
        order,
        Event.MERGE,
        actor,
        from_status=previous,
        note=f"并入工单 {parent.number}" + (f"：{note}" if note else ""),
    )
    _event(parent, "merged_in", actor, from_status=parent.status, note=f"并入重复工单 {order.number}")
    _audit(actor, "order.merge", order, into=parent.number)
    return order


# --- 附件 -------------------------------------------------------------------------------------------
MAX_ATTACHMENTS = 20


@action
def attachment_add(*, actor: Any, order_id: int, name: str, content: Any) -> Attachment:
    """Add a file (photo, PDF, OFD) to an open order; type by content, SHA-256 kept, stored privately."""
    from yiwang.cases import uploads

    order = _lock_order(order_id)
    if not policy.allows(actor, "hotline.order.view", order):
        raise NotFound("工单不存在或您无权查看。", code="workorder_not_found")
    policy.require(actor, "hotline.attachment.add", order)
    if order.status in (State.MERGED, State.REFUSED, State.CLOSED):
        raise Conflict("工单已办结，不能再添加附件。", code="workorder_closed")
    if order.attachments.count() >= MAX_ATTACHMENTS:
        raise ValidationFailed(
            f"每张工单最多 {MAX_ATTACHMENTS} 个附件。", code="too_many_attachments", details={"max": MAX_ATTACHMENTS}
        )
    if getattr(actor, "pk", None) is None:
        raise PermissionDenied(details={"action": "hotline.attachment.add"})
    stored = uploads.store(owner=actor, name=name, content=content)
    try:
        attachment = Attachment.objects.create(
            order=order, file=stored, uploaded_by=actor, created_at=stored.created_at
        )
        _event(order, "attach", actor, from_status=order.status, note=f"添加附件 {stored.original_name}")
        _audit(actor, "order.attach", order, file=str(stored.pk), sha256=stored.sha256, size=stored.size)
    except BaseException:
        uploads.path_of(stored).unlink(missing_ok=True)
        raise
    return attachment


# --- configuration --------------------------------------------------------------------------------
@action
def categories_import(*, actor: Any, rows: Iterable[Sequence[str]]) -> dict[str, int]:
    """Import a three-level category tree from rows (大类, 中类, 小类); existing nodes are kept. Idempotent."""
    policy.require(actor, "hotline.rules.manage")
    created = 0
    known: dict[tuple[int | None, str], Category] = {(c.parent_id, c.name): c for c in Category.objects.all()}
    counters: dict[int | None, int] = {}
    for c in known.values():
        counters[c.parent_id] = max(counters.get(c.parent_id, 0), int(c.code[-2:] if c.code[-2:].isdigit() else 0))
    for row in rows:
        parent: Category | None = None
        for level, raw in enumerate(row[:3], start=1):
            name = (raw or "").strip()
            if not name:
                break
            key = (parent.pk if parent else None, name)
            node = known.get(key)
            if node is None:
                n = counters.get(key[0], 0) + 1
                if n > 99:
                    raise ValidationFailed("同一上级下的分类不能超过99个。", code="too_many_categories")
                counters[key[0]] = n
                code = (parent.code if parent else "") + f"{n:02d}"
                node = Category.objects.create(
                    code=code,
                    name=name,
                    level=level,
                    parent=parent,
                    path=f"{parent.path}/{name}" if parent else name,
                )
                known[key] = node
                created += 1
            parent = node
    audit.record(
        actor=actor, action="hotline.categories.import", object_type="hotline.category", summary={"created": created}
    )
    return {"created": created, "total": Category.objects.count()}

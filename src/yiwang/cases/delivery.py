"""出件/送达 — getting an approved result to the applicant within 10 working days (行政许可法 §44).

An approval opens a :class:`Delivery` with the due date of the issue clock (``Case.delivery_due``) and the
applicant's preferred method (the form's 结果领取方式, else the item's first delivery method). At the
**unified output window** (统一出件) a clerk issues the result:

- **窗口领取** — the applicant is told a 6-digit pick-up code (only its keyed hash is stored); whoever
  collects it (the applicant, or an agent whose authorisation covers ``case.receive``) shows the code and
  an ID and signs (name, optionally a drawn signature); a 送达回执 is issued;
- **邮寄送达** — recipient, phone, address, carrier and waybill number; later delivered (送达回执) or
  returned (reason; the result can be issued again);
- **电子送达** — delivered at once, with the 送达回执.

Issuing completes the case (``case_complete``, 出件办结). :func:`deliveries_sweep` warns the handler and
the department when the due date approaches (yellow) and when it has passed (red, flagged on the case).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any

from django.conf import settings
from django.utils import timezone

from yiwang.core import crypto
from yiwang.core.actions import action, lock
from yiwang.core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from yiwang.core.ids import mask_resident_id, validate_mobile, validate_resident_id
from yiwang.core.permissions import policy
from yiwang.directory.models import Window
from yiwang.workdays.calendar import get_calendar
from yiwang.workdays.engine import Unit

from . import clock, documents, events, notify
from . import deadlines as dl
from . import followup_rules as fr
from .models import Case, CaseDocument, Delivery
from .states import Action, State

events.labels(
    {
        "delivery_open": "出件期限起算",
        "delivery_issue": "出件",
        "delivery_pickup": "领取签收",
        "delivery_posted": "邮件妥投",
        "delivery_returned": "邮件退回",
        "delivery_warn": "出件期限将至",
        "delivery_overdue": "超过法定出件期限",
    }
)

METHOD_FROM_FORM = {
    "窗口领取": "window",
    "邮政寄递": "post",
    "邮寄送达": "post",
    "电子证照": "online",
    "电子送达": "online",
}
METHOD_FROM_CATALOG = {"window": "window", "post": "post", "electronic": "online"}
WAYBILL_RE = re.compile(r"^[A-Za-z0-9-]{6,40}$")
MAX_SIGNATURE_BYTES = 512 * 1024


def yellow_workdays() -> int:
    return int(getattr(settings, "DELIVERY_YELLOW_WORKDAYS", 2))


def preferred_method(case: Case) -> str:
    wanted = METHOD_FROM_FORM.get(str((case.form_data or {}).get("delivery", "")))
    if wanted:
        return wanted
    for method in case.version.data.result.delivery:
        if method in METHOD_FROM_CATALOG:
            return METHOD_FROM_CATALOG[method]
    return Delivery.Method.WINDOW


def _services():
    from . import services

    return services


def _record(case: Case, act: str, actor: Any, note: str = "", *, public: bool = True, data=None) -> None:
    _services()._record(case, act, actor=actor, before=case.state, note=note, data=data or {}, public=public)


@events.observer
def _open_on_approval(case: Case, act: str, before: str, actor: Any) -> None:
    """准予许可 → the 10-working-day issue clock starts (a Delivery to be issued)."""
    if act != Action.DECIDE_APPROVE.value or Delivery.objects.filter(case_id=case.pk).exists():
        return
    calendar = get_calendar(case.region_code)
    due = case.delivery_due or dl.delivery_due(calendar, clock.today())
    yellow = dl.yellow_from(calendar, due, Unit.WORKING, yellow_workdays())
    method = preferred_method(case)
    Delivery.objects.create(case=case, region_code=case.region_code, method=method, due_date=due, yellow_on=yellow)
    _record(
        case,
        "delivery_open",
        actor,
        f"出件期限 {due:%Y-%m-%d}（{Delivery.Method(method).label}）",
        public=False,
        data={"due_date": due, "method": method},
    )


def _delivery_of(case: Case) -> Delivery:
    delivery = Delivery.objects.filter(case_id=case.pk).select_for_update().first()
    if delivery is None and case.state == State.DECIDED and case.decision == Case.Decision.APPROVED:
        _open_on_approval(case, Action.DECIDE_APPROVE.value, case.state, None)  # approved before deliveries existed
        delivery = Delivery.objects.filter(case_id=case.pk).select_for_update().first()
    if delivery is None:
        raise NotFound("该办件没有待出件的结果。", code="delivery_not_found")
    return delivery


def _next(delivery: Delivery, event: str) -> fr.DeliveryStatus:
    try:
        return fr.delivery_next(delivery.status, event)
    except fr.RuleError:
        raise InvalidTransition(
            f"结果当前为「{delivery.get_status_display()}」，不能执行此操作。",
            code="delivery_not_in_state",
            details={"status": delivery.status, "event": event},
        ) from None


def _new_code(region_code: str) -> tuple[str, str]:
    for _ in range(20):
        code = f"{secrets.randbelow(10**6):06d}"
        digest = crypto.keyed_hash("pickup:" + code)
        if not Delivery.objects.filter(status=fr.DeliveryStatus.READY, pickup_code_hash=digest).exists():
            return code, digest
    raise Conflict("取件码生成失败，请重试。", code="pickup_code_exhausted")  # pragma: no cover


def _receipt(case: Case, delivery: Delivery, how: str) -> CaseDocument:
    fields = [
        ("送达方式", delivery.get_method_display()),
        ("送达时间", documents._time_text(delivery.delivered_at)),
        ("送达文书/证照", case.version.data.result.name or case.item_name),
    ]
    if delivery.signer_name:
        fields.append(("受送达人（签收）", delivery.signer_name))
    if delivery.signer_id_masked:
        fields.append(("签收人证件号码", delivery.signer_id_masked))
    if delivery.waybill_no:
        fields.append(("寄递企业及运单号", f"{delivery.carrier} {delivery.waybill_no}"))
    return documents.issue(
        case,
        CaseDocument.Kind.DELIVERY_RECEIPT,
        paragraphs=[f"{case.applicant_name}申请的「{case.item_name}」办理结果已{how}送达。"],
        fields=fields,
    )


def _delivered(case: Case, delivery: Delivery, actor: Any, how: str) -> None:
    delivery.delivered_at = timezone.now()
    delivery.receipt = _receipt(case, delivery, how)
    events.result_delivered.fire(case_id=case.pk, method=delivery.method)


@action
def delivery_issue(
    *,
    actor: Any,
    case_id: int,
    method: str,
    window_id: int | None = None,
    recipient_name: str = "",
    recipient_phone: str = "",
    address: str = "",
    carrier: str = "",
    waybill_no: str = "",
    note: str = "",
) -> tuple[Delivery, str | None]:
    """出件 — issue the result by ``window`` (pick-up code, returned), ``post`` or ``online``; completes the case."""
    services = _services()
    case = services._get_locked(actor, case_id)
    policy.require(actor, "case.deliver", case)
    delivery = _delivery_of(case)
    if method not in Delivery.Method.values:
        raise ValidationFailed("送达方式不正确。", code="delivery_invalid", details={"allowed": Delivery.Method.values})
    new = _next(delivery, fr.ISSUE_EVENTS[method])
    now = timezone.now()
    code = None
    if method == Delivery.Method.POST:
        recipient_name = (recipient_name or "").strip()
        address = (address or "").strip()
        carrier = (carrier or "").strip()
        if not (recipient_name and address and carrier):
            raise ValidationFailed("请填写收件人、地址和寄递企业。", code="post_details_required")
        if not WAYBILL_RE.match(waybill_no or ""):
            raise ValidationFailed("运单号格式不正确。", code="waybill_invalid")
        delivery.recipient_name, delivery.address = recipient_name[:100], address[:300]
        delivery.recipient_phone = validate_mobile(recipient_phone)
        delivery.carrier, delivery.waybill_no = carrier[:50], waybill_no
    if method == Delivery.Method.WINDOW:
        if window_id is not None:
            window = Window.objects.select_related("hall").filter(pk=window_id, is_active=True).first()
            if window is None:
                raise NotFound("窗口不存在。", code="window_not_found")
            delivery.window = window
        code, delivery.pickup_code_hash = _new_code(case.region_code)
        delivery.pickup_code_tail = code[-2:]
    delivery.method, delivery.status = method, new
    if delivery.issued_at is None:
        delivery.issued_at = now
        delivery.issued_on_time = timezone.localdate(now) <= delivery.due_date
    if method == Delivery.Method.ONLINE:
        delivery.signer_name = case.applicant_name
        _delivered(case, delivery, actor, "电子方式")
    delivery.updated_at = now
    delivery.save()
    if case.state == State.DECIDED:
        services.case_complete(actor=actor, case_id=case.pk, delivery=method, note=note or "统一出件")
        case.refresh_from_db()
    detail = {
        "window": f"窗口领取{('：' + str(delivery.window)) if delivery.window_id else ''}",
        "post": f"已寄出：{delivery.carrier} {delivery.waybill_no}",
        "online": "已电子送达",
    }[method]
    _record(case, "delivery_issue", actor, detail, data={"method": method, "on_time": delivery.issued_on_time})
    if method == Delivery.Method.WINDOW:
        place = str(delivery.window) if delivery.window_id else "政务服务中心统一出件窗口"
        documents.issue(
            case,
            CaseDocument.Kind.PICKUP,
            paragraphs=[f"您申请事项的办理结果已可领取。请本人或授权经办人凭取件码和有效身份证件到{place}领取。"],
            fields=[("领取地点", place), ("取件码", f"****{delivery.pickup_code_tail}（已发送至申请人）")],
        )
        notify.to_applicant(case, title="办理结果可领取", body=f"取件码 {code}，请到{place}领取。")
    elif method == Delivery.Method.POST:
        notify.to_applicant(case, title="办理结果已寄出", body=f"{delivery.carrier}，运单号 {delivery.waybill_no}。")
    else:
        notify.to_applicant(case, title="办理结果已电子送达", body="可在“我的办件”中查看和下载。")
    return delivery, code


@action
def delivery_pickup(
    *,
    actor: Any,
    pickup_code: str,
    signer_name: str,
    signer_id_number: str = "",
    signature_png: bytes | None = None,
    case_id: int | None = None,
) -> Delivery:
    """领取签收 — at the output window: the pick-up code, the collector's name (and ID), a signature."""
    code = (pickup_code or "").strip()
    if not re.fullmatch(r"\d{6}", code):
        raise ValidationFailed("取件码应为6位数字。", code="pickup_code_invalid")
    qs = Delivery.objects.filter(status=fr.DeliveryStatus.READY, pickup_code_hash=crypto.keyed_hash("pickup:" + code))
    if case_id is not None:
        qs = qs.filter(case_id=case_id)
    found = list(qs.values_list("case_id", flat=True)[:2])
    if len(found) != 1:
        raise NotFound("取件码不正确或结果已领取。", code="pickup_code_invalid")
    services = _services()
    case = services._get_locked(actor, found[0])
    policy.require(actor, "case.pickup", case)
    delivery = _delivery_of(case)
    delivery.status = _next(delivery, "pickup")
    signer_name = (signer_name or "").strip()
    if not signer_name or len(signer_name) > 100:
        raise ValidationFailed("请填写签收人姓名。", code="signature_required")
    delivery.signer_name = signer_name
    if signer_id_number:
        delivery.signer_id_masked = mask_resident_id(validate_resident_id(signer_id_number))
    if signature_png:
        if len(signature_png) > MAX_SIGNATURE_BYTES:
            raise ValidationFailed("签名图片过大。", code="signature_too_large")
        from . import uploads

        stored = uploads.store(owner=actor, name="签名.png", content=signature_png)
        if stored.kind != "png":
            raise ValidationFailed("签名应为 PNG 图片。", code="signature_invalid")
        delivery.signature = stored
    _delivered(case, delivery, actor, "窗口领取方式")
    delivery.updated_at = timezone.now()
    delivery.save()
    _record(case, "delivery_pickup", actor, f"签收人：{signer_name}", data={"signature": bool(signature_png)})
    notify.to_applicant(case, title="办理结果已领取", body=f"签收人 {signer_name}，送达回执已生成。")
    return delivery


@action
def delivery_post_update(
    *, actor: Any, case_id: int, delivered: bool, note: str = "", signer_name: str = ""
) -> Delivery:
    """邮件状态 — the post delivered it (送达回执) or returned it (reason; issue again)."""
    services = _services()
    case = services._get_locked(actor, case_id)
    policy.require(actor, "case.deliver", case)
    delivery = _delivery_of(case)
    delivery.status = _next(delivery, "deliver" if delivered else "return")
    now = timezone.now()
    if delivered:
        delivery.signer_name = (signer_name or delivery.recipient_name)[:100]
        _delivered(case, delivery, actor, "邮寄方式")
        _record(case, "delivery_posted", actor, note or f"{delivery.carrier} {delivery.waybill_no} 已妥投")
        notify.to_applicant(case, title="邮件已送达", body=f"运单号 {delivery.waybill_no}。")
    else:
        reason = (note or "").strip()
        if not reason:
            raise ValidationFailed("请填写退回原因。", code="reason_required")
        delivery.returned_at, delivery.return_reason = now, reason[:500]
        _record(case, "delivery_returned", actor, reason)
        notify.to_applicant(case, title="邮件被退回", body=f"{reason}。请联系出件窗口改为领取或重新寄送。")
    delivery.updated_at = now
    delivery.save()
    return delivery


# --- the issue clock ---------------------------------------------------------------------------------------


def level(delivery: Delivery, *, on: dt.date | None = None) -> int:
    issued = timezone.localdate(delivery.issued_at) if delivery.issued_at else None
    return fr.delivery_level(on or clock.today(), due=delivery.due_date, yellow_on=delivery.yellow_on, issued_on=issued)


def deliveries_sweep(*, actor: Any, on: dt.date | None = None) -> dict[str, int]:
    """Daily: warn when results are close to (yellow) or past (red) the 10-working-day issue deadline."""
    on = on or clock.today()
    stats = {"yellow": 0, "red": 0}
    pending = Delivery.objects.filter(status=fr.DeliveryStatus.PENDING, yellow_on__lte=on).filter(warned_level__lt=2)
    for pk in pending.values_list("pk", flat=True):
        lvl = _warn(actor=actor, delivery_id=pk, on=on)
        if lvl == 1:
            stats["yellow"] += 1
        elif lvl == 2:
            stats["red"] += 1
    return stats


@action
def _warn(*, actor: Any, delivery_id: int, on: dt.date) -> int:
    from .selectors import back_office_staff

    delivery = lock(Delivery.objects.filter(pk=delivery_id))
    case = lock(Case.objects.select_related("item", "department", "applicant", "filed_by").filter(pk=delivery.case_id))
    lvl = fr.delivery_level(on, due=delivery.due_date, yellow_on=delivery.yellow_on, issued_on=None)
    if delivery.status != fr.DeliveryStatus.PENDING or lvl <= delivery.warned_level:
        return 0
    delivery.warned_level = lvl
    delivery.save(update_fields=["warned_level"])
    if lvl == 2:
        text = f"已超过法定出件期限（{delivery.due_date:%Y-%m-%d}），请立即出件"
        _record(case, "delivery_overdue", actor, text, public=False, data={"due_date": delivery.due_date})
    else:
        text = f"出件期限 {delivery.due_date:%Y-%m-%d} 将至"
        _record(case, "delivery_warn", actor, text, public=False, data={"due_date": delivery.due_date})
    recipients = ([case.handler] if case.handler_id else []) + back_office_staff(case)
    for user in {u.pk: u for u in recipients}.values():
        notify.to_user(user, case=case, title=f"{'出件超期' if lvl == 2 else '出件预警'}：{case.number}", body=text)
    return lvl

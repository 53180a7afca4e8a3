"""Follow-up pages: the case panels (容缺/告知承诺/核查/撤销/出件), the unified output window (统一出件),
the 督办 overview, and the 帮办代办 desk. Views are thin: every change is one action."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.accounts import services as accounts
from yiwang.cases import agents, clock, delivery, gaps, selectors, services, supervision
from yiwang.cases.models import BundleChild, Case, CaseMaterial, Delivery, Verification
from yiwang.cases.states import Party, State
from yiwang.core.errors import DomainError, ValidationFailed
from yiwang.core.permissions import policy

from .cases_workbench import _windows
from .common import login_required, staff_required

CONSEQUENCES = [
    ("suspend", gettext_noop("中止办理（退回补正，停止计时）")),
    ("revoke", gettext_noop("终止办理（不予许可）")),
]


# --- the panels on the case pages ------------------------------------------------------------------------------


def case_panel(user: Any, case: Case) -> dict[str, Any]:
    """Everything the follow-up panels show for ``case`` to ``user`` (used by the template tag)."""
    found = selectors.rules.parties(user, case)
    staff = bool(found - {Party.APPLICANT})
    commitments = list(case.commitments.select_related("document").order_by("signed_at"))
    gap = next((c for c in commitments if c.kind == "gap" and c.due_date), None)
    missing_deferrable = [
        m
        for m in case.materials.order_by("index")
        if m.necessity == "deferrable" and m.status == CaseMaterial.Status.MISSING and not m.paper_received
    ]
    allowed = {a.value for a in selectors.allowed_actions(user=user, case=case)} if found else set()
    result = Delivery.objects.select_related("window", "receipt").filter(case=case).first()
    link = BundleChild.objects.select_related("parent").filter(case=case).first()
    pledgeable = [
        m for m in case.materials.order_by("index") if gaps.may_pledge(case, m.index) and m.status != "committed"
    ]
    return {
        "case": case,
        "staff": staff,
        "commitments": commitments,
        "gap": gap,
        "gap_items": [
            {**i, "material": case.materials.filter(index=i["index"]).first()} for i in (gap.items if gap else [])
        ],
        "can_gap_accept": "accept" in allowed and bool(missing_deferrable) and not gap,
        "missing_deferrable": missing_deferrable,
        "online_pledge": next((c for c in commitments if c.kind == "gap" and not c.due_date), None),
        "can_sign_gap": Party.APPLICANT in found
        and case.state in (State.DRAFT, State.SUBMITTED, State.RECEIVED, State.SUPPLEMENT)
        and bool(missing_deferrable),
        "can_supply": (Party.APPLICANT in found or Party.CLERK in found)
        and gap is not None
        and case.state in ("in_process", "special", "review_supplement", "received"),
        "can_check": bool(found & {Party.REVIEWER, Party.HEAD, Party.CLERK}),
        "pledgeable": pledgeable if case.state in (State.DRAFT, State.SUPPLEMENT, State.RECEIVED) else [],
        "verifications": list(case.verifications.order_by("due_date")) if staff else [],
        "can_verify": bool(found & {Party.REVIEWER, Party.HEAD}),
        "revocations": list(case.revocations.order_by("started_at")),
        "can_decide_revocation": bool(found & {Party.REVIEWER, Party.HEAD}),
        "delivery": result,
        "delivery_level": delivery.level(result) if result else 0,
        "can_deliver": bool(found & {Party.CLERK, Party.REVIEWER}),
        "windows": _windows(user) if staff and result and result.status in ("pending", "returned") else [],
        "bundle_link": link,
        "consequences": CONSEQUENCES,
        "default_due": (clock.today() + dt.timedelta(days=14)).isoformat(),
    }


def _back(request, case_id: int):
    if getattr(request.user, "is_staff_member", False) and not agents.is_helper(request.user):
        return redirect("web:workbench_case", pk=case_id)
    return redirect("web:my_case", pk=case_id)


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(_("日期格式不正确。"), code="date_invalid") from None


def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _signature(data: str) -> bytes | None:
    if not data:
        return None
    try:
        return base64.b64decode(data.split(",", 1)[-1], validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed(_("签名图片格式不正确。"), code="signature_invalid") from None


@login_required
@require_POST
def case_followup(request, pk: int, act: str):
    """One follow-up action from a case page (portal or workbench); the action checks everything."""
    user, post = request.user, request.POST
    calls = {
        "gap_sign": lambda: gaps.gap_pledge_sign(actor=user, case_id=pk, signer_name=post.get("signer_name", "")),
        "gap_accept": lambda: gaps.case_accept_with_gaps(
            actor=user,
            case_id=pk,
            signer_name=post.get("signer_name", ""),
            due_date=_date(post.get("due_date")),
            consequence=post.get("consequence") or None,
            note=post.get("note", ""),
        ),
        "gap_supply": lambda: _supply(request, pk),
        "gap_check": lambda: gaps.gap_check(
            actor=user,
            case_id=pk,
            material_index=_int(post.get("material"), -1),
            accept=post.get("accept") == "1",
            note=post.get("note", ""),
        ),
        "pledge": lambda: gaps.case_pledge(
            actor=user,
            case_id=pk,
            material_indexes=[i for i in (_int(v) for v in post.getlist("material")) if i is not None],
            signer_name=post.get("signer_name", ""),
        ),
        "verify": lambda: gaps.verification_record(
            actor=user,
            verification_id=_int(post.get("verification"), 0),
            outcome=post.get("outcome", ""),
            note=post.get("note", ""),
            method=post.get("method", ""),
        ),
        "statement": lambda: gaps.revocation_statement(
            actor=user, revocation_id=_int(post.get("revocation"), 0), statement=post.get("statement", "")
        ),
        "revocation": lambda: gaps.revocation_decide(
            actor=user,
            revocation_id=_int(post.get("revocation"), 0),
            revoke=post.get("revoke") == "1",
            note=post.get("note", ""),
        ),
        "issue": lambda: _issue(request, pk),
        "post_update": lambda: delivery.delivery_post_update(
            actor=user,
            case_id=pk,
            delivered=post.get("delivered") == "1",
            note=post.get("note", ""),
            signer_name=post.get("signer_name", ""),
        ),
    }
    if act not in calls:
        raise Http404
    try:
        calls[act]()
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已完成。"))
    return _back(request, pk)


def _supply(request, pk: int) -> None:
    files = request.FILES.getlist("file")
    if not files:
        raise ValidationFailed(_("请选择文件。"), code="file_required")
    for f in files:
        gaps.gap_supply(
            actor=request.user,
            case_id=pk,
            material_index=_int(request.POST.get("material"), -1),
            name=f.name,
            content=f,
        )


def _issue(request, pk: int):
    post = request.POST
    result, code = delivery.delivery_issue(
        actor=request.user,
        case_id=pk,
        method=post.get("method", ""),
        window_id=_int(post.get("window")),
        recipient_name=post.get("recipient_name", ""),
        recipient_phone=post.get("recipient_phone", ""),
        address=post.get("address", ""),
        carrier=post.get("carrier", ""),
        waybill_no=post.get("waybill_no", ""),
    )
    if code:
        messages.info(request, _("已通知申请人领取，取件码已发送给申请人。"))
    return result


# --- 统一出件窗口 ----------------------------------------------------------------------------------------------

DELIVERY_TABS = [
    ("pending", gettext_noop("待出件")),
    ("ready", gettext_noop("待领取")),
    ("posted", gettext_noop("已寄出")),
    ("returned", gettext_noop("邮件退回")),
    ("delivered", gettext_noop("已送达")),
]


@staff_required
@require_http_methods(["GET", "POST"])
def output_window(request):
    """统一出件窗口 — results to issue (with the 10-day clock), to collect with a code, in the post."""
    if not policy.allows(request.user, "delivery.window"):
        raise DjangoPermissionDenied
    if request.method == "POST":
        try:
            result = delivery.delivery_pickup(
                actor=request.user,
                pickup_code=request.POST.get("pickup_code", ""),
                signer_name=request.POST.get("signer_name", ""),
                signer_id_number=request.POST.get("signer_id_number", ""),
                signature_png=_signature(request.POST.get("signature", "")),
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已签收，送达回执已生成：%(number)s") % {"number": result.receipt.number})
            return redirect("web:workbench_case", pk=result.case_id)
        return redirect("web:workbench_delivery")
    tab = request.GET.get("status") or "pending"
    if tab not in dict(DELIVERY_TABS):
        tab = "pending"
    visible = selectors.visible_cases(user=request.user).values("pk")
    base = Delivery.objects.filter(case_id__in=visible)
    rows = base.filter(status=tab).select_related("case", "case__department", "window").order_by("due_date", "id")[:200]
    counts = {k: base.filter(status=k).count() for k, _label in DELIVERY_TABS if k != "delivered"}
    return render(
        request,
        "cases/workbench/delivery.html",
        {
            "tabs": DELIVERY_TABS,
            "tab": tab,
            "counts": counts,
            "rows": [(d, delivery.level(d)) for d in rows],
            "windows": _windows(request.user),
        },
    )


# --- 督办 ---------------------------------------------------------------------------------------------------


@staff_required
def supervision_overview(request):
    """督办 — red/yellow by region and department for supervisors; the 督办单 to answer for everyone."""
    can_overview = policy.allows(request.user, "supervision.overview")
    context: dict[str, Any] = {
        "can_overview": can_overview,
        "orders": supervision.open_supervisions(user=request.user),
        "verifications": pending_verifications(request.user)[:100],
        "today": clock.today(),
    }
    if can_overview:
        context["data"] = supervision.overview(user=request.user)
        context["issued"] = supervision.issued_supervisions(user=request.user)[:100]
        light = request.GET.get("light")
        if light in supervision.LIGHTS:
            context["light"] = light
            context["cases"] = supervision.drill_down(
                user=request.user,
                light=light,
                region_code=request.GET.get("region") or None,
                department_id=_int(request.GET.get("department")),
            )[:200]
        context["lights"] = LIGHTS
    return render(request, "cases/workbench/supervision.html", context)


LIGHTS = [
    ("red", gettext_noop("已超期")),
    ("yellow", gettext_noop("即将超期")),
    ("delivery", gettext_noop("出件超期")),
    ("gaps", gettext_noop("容缺逾期")),
    ("verifications", gettext_noop("核查逾期")),
    ("unanswered", gettext_noop("督办未反馈")),
]


# --- 帮办代办 ---------------------------------------------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def helper_desk(request):
    """帮办代办区 — record the applicant's authorisation (ID checked at the desk), then file for them."""
    if not agents.is_helper(request.user):
        raise DjangoPermissionDenied
    if request.method == "POST":
        intent = request.POST.get("intent")
        try:
            if intent == "grant":
                person = accounts.person_find_by_id_number(
                    actor=request.user, id_number=request.POST.get("id_number", "")
                )
                if person is None:
                    messages.warning(request, _("未找到该申请人，请先为其办理窗口实名注册。"))
                    return redirect("web:workbench_person_new")
                agents.helper_authorization_record(
                    actor=request.user,
                    principal_id=person.user_id,
                    valid_days=_int(request.POST.get("valid_days"), 30),
                    note=request.POST.get("note", ""),
                )
                messages.success(request, _("授权已登记。"))
            elif intent == "end":
                agents.helper_authorization_end(actor=request.user, authorization_id=_int(request.POST.get("grant"), 0))
                messages.success(request, _("授权已结束。"))
            elif intent == "file":
                case = services.case_create_draft(
                    actor=request.user,
                    item_code=request.POST.get("item_code", "").strip(),
                    applicant_id=_int(request.POST.get("principal")),
                )
                return redirect("web:my_case_edit", pk=case.pk)
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("web:workbench_helper")
    grants = agents.helper_principals(actor=request.user)
    cases = selectors.visible_cases(user=request.user).filter(filed_by=request.user).select_related("department")
    from yiwang.catalog.selectors import published_bundles

    return render(
        request,
        "cases/workbench/helper.html",
        {"grants": grants, "cases": cases.order_by("-created_at")[:100], "bundles": published_bundles()},
    )


def pending_verifications(user: Any):
    visible = selectors.visible_cases(user=user).values("pk")
    return (
        Verification.objects.filter(case_id__in=visible, status="pending").select_related("case").order_by("due_date")
    )

"""一件事 pages: the application wizard (portal and the workbench 一件事 window) and the bundle-case pages."""

from __future__ import annotations

import uuid
from typing import Any

from django.apps import apps as django_apps
from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.accounts import services as accounts
from yiwang.accounts.selectors import active_authorizations
from yiwang.cases import bundles, uploads
from yiwang.cases.bundle_flow import CHILD_LABELS, ChildStatus
from yiwang.cases.models import BundleCase
from yiwang.cases.services import Upload
from yiwang.catalog import selectors as catalog
from yiwang.catalog.models import Bundle
from yiwang.core.errors import DomainError
from yiwang.core.permissions import policy

from .cases import field_rows, fields_from_post
from .cases_workbench import _windows
from .common import login_required, staff_required

SAVINGS_ROWS = [
    ("applications", gettext_noop("申请次数")),
    ("materials", gettext_noop("提交材料（份）")),
    ("form_fields", gettext_noop("填写表单项")),
    ("visits", gettext_noop("到窗口跑动（次）")),
    ("days", gettext_noop("承诺办结（工作日）")),
]


def savings_rows(savings: dict[str, Any]) -> list[dict[str, Any]]:
    if not savings:
        return []
    return [
        {
            "key": key,
            "label": label,
            "one": savings["one_by_one"][key],
            "bundle": savings["bundle"][key],
            "cut": savings["cut_percent"][key],
        }
        for key, label in SAVINGS_ROWS
    ]


def _bundle_or_404(code: str) -> Bundle:
    try:
        return catalog.bundle_get(code=code)
    except DomainError:
        raise Http404 from None


def _form_rows(plan: bundles.BundlePlan, data: dict[str, Any], errors: dict[str, str]) -> list[dict[str, Any]]:
    return field_rows(plan.form.fields, data, errors)


def _posted_form(plan: bundles.BundlePlan, post) -> dict[str, Any]:
    return fields_from_post(plan.form.fields, post)


def _posted_files(request) -> list[Upload]:
    files = []
    for key in request.FILES:
        if key.startswith("material_") and key.removeprefix("material_").isdigit():
            index = int(key.removeprefix("material_"))
            files += [Upload(index, up.name, up) for up in request.FILES.getlist(key)]
    return files


def _ints(values) -> list[int]:
    return [int(v) for v in values if str(v).isdigit()]


def _wizard(request, bundle: Bundle, *, staff: bool):
    """情形 → one form and one material list → one submission (shared by the portal and the window)."""
    scenarios = bundle.scenarios or []
    answers = {s["key"]: request.GET.get(s["key"]) or request.POST.get(f"s_{s['key']}") or "" for s in scenarios}
    answered = all(answers.values())
    applicant_id = request.GET.get("applicant") or request.POST.get("applicant") or ""
    context: dict[str, Any] = {
        "bundle": bundle,
        "scenarios": [{**s, "answer": answers.get(s["key"], "")} for s in scenarios],
        "answers": answers,
        "answered": answered,
        "staff": staff,
        "base_template": "web/workbench/base.html" if staff else "web/base.html",
        "applicant_id": applicant_id,
        "max_mb": uploads.max_bytes() // (1024 * 1024),
    }
    if staff:
        context["windows"] = _windows(request.user)
        if applicant_id.isdigit():
            from yiwang.accounts.models import User

            context["applicant"] = User.objects.filter(pk=int(applicant_id)).select_related("person").first()
    else:
        context["principals"] = [
            a for a in active_authorizations(agent=request.user) if "*" in a.scopes or "case.apply" in a.scopes
        ]
    if not answered:
        return render(request, "cases/bundle_apply.html", {**context, "step": 1})
    try:
        plan = bundles.bundle_plan(bundle=bundle, answers=answers)
    except DomainError as exc:
        messages.error(request, exc.message)
        return render(request, "cases/bundle_apply.html", {**context, "step": 1})
    errors: dict[str, str] = {}
    data: dict[str, Any] = {}
    if request.method == "POST":
        data = _posted_form(plan, request.POST)
        try:
            parent, _created = bundles.bundle_apply(
                actor=request.user,
                bundle_code=bundle.code,
                answers=answers,
                form_data=data,
                files=_posted_files(request),
                paper_indexes=_ints(request.POST.getlist("paper")) if staff else (),
                pledge_indexes=_ints(request.POST.getlist("pledge")),
                gap_indexes=_ints(request.POST.getlist("gap")),
                signer_name=request.POST.get("signer_name", ""),
                applicant_id=int(applicant_id) if applicant_id.isdigit() else None,
                window_id=int(request.POST["window"]) if staff and request.POST.get("window", "").isdigit() else None,
                contact_phone=request.POST.get("contact_phone", ""),
                idempotency_key=request.POST.get("idempotency_key") or None,
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            if exc.code == "form_invalid" and isinstance(exc.details, dict):
                errors = exc.details
        else:
            messages.success(request, _("一件事申请已提交，各事项已分送相关部门办理。"))
            return redirect("web:workbench_bundle" if staff else "web:my_bundle", pk=parent.pk)
    return render(
        request,
        "cases/bundle_apply.html",
        {
            **context,
            "step": 2,
            "plan": plan,
            "stages": plan.stages,
            "stage_of": plan.stage_of,
            "form": _form_rows(plan, data, errors),
            "materials": plan.materials,
            "pledgeable": {m.index for m in plan.materials if not m.produced_by and bundles.may_pledge(plan, m)},
            "checked_pledge": set(_ints(request.POST.getlist("pledge"))),
            "checked_gap": set(_ints(request.POST.getlist("gap"))),
            "signer_name": request.POST.get("signer_name", ""),
            "savings": savings_rows(plan.savings),
            "idempotency_key": request.POST.get("idempotency_key") or uuid.uuid4().hex,
            "query": "&".join(f"{k}={v}" for k, v in answers.items()),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def apply(request, code: str):
    """一件事在线申请 — citizens, enterprises, their agents and hall helpers."""
    bundle = _bundle_or_404(code)
    if getattr(request.user, "is_staff_member", False) and not policy.allows(request.user, "case.file_for", None):
        return redirect(f"/workbench/bundles/new/?bundle={code}")
    return _wizard(request, bundle, staff=False)


def _rating_link(user: Any, parent: BundleCase) -> str:
    """一件事一次评价: the applicant's link to rate the whole bundle once it concluded."""
    if parent.is_open or user.pk != parent.applicant_id or not django_apps.is_installed("yiwang.ratings"):
        return ""
    from yiwang.ratings import selectors as ratings

    found = ratings.pending_invitation(user, kind="bundle", target_id=parent.pk)
    return reverse("ratings:rate", args=[found[1]]) + "?c=portal" if found else ""


def detail_context(user: Any, parent: BundleCase) -> dict[str, Any]:
    children = list(parent.children.select_related("case", "department", "item").order_by("stage", "position"))
    stages: dict[int, list] = {}
    for c in children:
        stages.setdefault(c.stage, []).append({"child": c, "label": CHILD_LABELS[ChildStatus(c.status)]})
    progress = bundles.progress(parent)
    return {
        "parent": parent,
        "stages": [stages[k] for k in sorted(stages)],
        "progress": progress,
        "level": bundles.level(parent),
        "savings": savings_rows(parent.savings),
        "events": parent.events.order_by("at", "id"),
        "materials": parent.materials,
        "rating_url": _rating_link(user, parent),
        "can_withdraw": parent.is_open and policy.allows(user, "bundle_case.withdraw", parent),
        "can_resume": parent.is_open
        and policy.allows(user, "bundle_case.resume", parent)
        and parent.events.filter(action="start_failed").exists(),
    }


def _parent_or_404(request, pk: int) -> BundleCase:
    parent = BundleCase.objects.select_related("bundle", "filed_by", "window__hall").filter(pk=pk).first()
    if parent is None or not policy.allows(request.user, "bundle_case.view", parent):
        raise Http404
    return parent


@login_required
def my_bundles(request):
    qs = policy.filter(request.user, "bundle_case.view", BundleCase.objects.all())
    if getattr(request.user, "is_staff_member", False):
        qs = qs.filter(filed_by=request.user)
    return render(request, "cases/my_bundles.html", {"parents": qs.order_by("-submitted_at")[:200]})


@login_required
def my_bundle(request, pk: int):
    parent = _parent_or_404(request, pk)
    return render(request, "cases/bundle_case.html", {**detail_context(request.user, parent), "staff": False})


@login_required
@require_POST
def bundle_act(request, pk: int, act: str):
    parent = _parent_or_404(request, pk)
    try:
        if act == "withdraw":
            bundles.bundle_withdraw(actor=request.user, bundle_case_id=parent.pk, reason=request.POST.get("reason", ""))
            messages.success(request, _("一件事申请已撤回。"))
        elif act == "resume":
            bundles.bundle_resume(actor=request.user, bundle_case_id=parent.pk)
            messages.success(request, _("已重新分送。"))
        else:
            raise Http404
    except DomainError as exc:
        messages.error(request, exc.message)
    if getattr(request.user, "is_staff_member", False) and request.POST.get("staff"):
        return redirect("web:workbench_bundle", pk=pk)
    return redirect("web:my_bundle", pk=pk)


# --- the workbench 一件事 window ---------------------------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def window(request):
    """一件事窗口 — find the applicant by ID number, choose the bundle, and the bundles in progress."""
    if not policy.allows(request.user, "bundle.intake", None):
        raise DjangoPermissionDenied
    if request.method == "POST":
        try:
            person = accounts.person_find_by_id_number(actor=request.user, id_number=request.POST.get("id_number", ""))
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("web:workbench_bundles")
        if person is None:
            messages.warning(request, _("未找到该申请人，请先为其办理窗口实名注册。"))
            return redirect("web:workbench_person_new")
        return redirect(f"/workbench/bundles/new/?bundle={request.POST.get('bundle', '')}&applicant={person.user_id}")
    parents = policy.filter(request.user, "bundle_case.view", BundleCase.objects.select_related("bundle"))
    state = request.GET.get("state") or "in_progress"
    return render(
        request,
        "cases/workbench/bundles.html",
        {
            "bundles": catalog.published_bundles(),
            "parents": [
                (p, bundles.progress(p), bundles.level(p))
                for p in parents.filter(state=state).order_by("promised_due", "id")[:200]
            ],
            "state": state,
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def window_new(request):
    if not policy.allows(request.user, "bundle.intake", None):
        raise DjangoPermissionDenied
    bundle = _bundle_or_404(request.GET.get("bundle") or request.POST.get("bundle") or "")
    if not (request.GET.get("applicant") or request.POST.get("applicant") or "").isdigit():
        messages.error(request, _("请先核验申请人身份。"))
        return redirect("web:workbench_bundles")
    return _wizard(request, bundle, staff=True)


@staff_required
def window_detail(request, pk: int):
    parent = _parent_or_404(request, pk)
    return render(request, "cases/workbench/bundle_case.html", {**detail_context(request.user, parent), "staff": True})

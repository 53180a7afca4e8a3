"""Staff workbench (工作台): home, window registration, TOTP, audit trail."""

from __future__ import annotations

import segno
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from yiwang.accounts import selectors, services
from yiwang.core.errors import DomainError
from yiwang.core.models import AuditEvent
from yiwang.core.permissions import policy

from .common import run, staff_required


@staff_required
def home(request):
    user = request.user
    return render(
        request,
        "web/workbench/home.html",
        {
            "memberships": selectors.memberships(user),
            "can_register": policy.allows(user, "accounts.person.register_at_window"),
            "can_audit": policy.allows(user, "audit.browse"),
            "can_catalog": policy.allows(user, "catalog.report"),
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def person_new(request):
    context = {"form": request.POST}
    if request.method == "POST":
        try:
            user = services.person_register_at_window(
                actor=request.user,
                real_name=request.POST.get("real_name", ""),
                id_number=request.POST.get("id_number", ""),
                phone=request.POST.get("phone", ""),
            )
        except DomainError as exc:
            context["error"] = exc.message
            return render(request, "web/workbench/person_new.html", context, status=exc.status)
        messages.success(request, f"已完成实名注册：{user.person.real_name}（{user.person.id_masked}）")
        return redirect("web:workbench_person_lookup")
    return render(request, "web/workbench/person_new.html", context)


@staff_required
@require_http_methods(["GET", "POST"])
def person_lookup(request):
    """POST only for the number: an ID number never goes into a URL (logs, history, referrers)."""
    context = {}
    number = request.POST.get("id_number", "") if request.method == "POST" else ""
    if number:
        try:
            context["person"] = services.person_find_by_id_number(actor=request.user, id_number=number)
            context["searched"] = True
        except DomainError as exc:
            context["error"] = exc.message
    return render(request, "web/workbench/person_lookup.html", context)


@staff_required
@require_http_methods(["GET", "POST"])
def totp(request):
    context = {}
    if request.method == "POST":
        if request.POST.get("action") == "begin":
            uri = services.totp_begin(actor=request.user)
            context["qr_svg"] = segno.make(uri, error="m").svg_data_uri(scale=4)
            context["uri"] = uri
        elif request.POST.get("action") == "confirm":
            try:
                services.totp_confirm(actor=request.user, code=request.POST.get("code", ""))
            except DomainError as exc:
                context["error"] = exc.message
            else:
                messages.success(request, "动态口令已启用，下次登录需输入。")
                return redirect("web:workbench")
        elif request.POST.get("action") == "disable":
            run(request, services.totp_disable, actor=request.user, success="动态口令已停用。")
            return redirect("web:workbench")
    return render(request, "web/workbench/totp.html", context)


@staff_required
def audit_list(request):
    events = policy.filter(request.user, "audit.view", AuditEvent.objects.order_by("-seq"))[:100]
    return render(request, "web/workbench/audit.html", {"events": events})

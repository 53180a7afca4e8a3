"""个人/法人中心: profile, real-name identity, enterprises, authorisations."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.accounts import selectors, services
from yiwang.accounts.models import Authorization, Person
from yiwang.core import crypto
from yiwang.core.errors import DomainError, ValidationFailed
from yiwang.core.ids import validate_resident_id

from .common import login_required, run


@login_required
def me(request):
    user = request.user
    return render(
        request,
        "web/me.html",
        {
            "person": getattr(user, "person", None),
            "acting_for": selectors.active_authorizations(agent=user),
            "given": Authorization.objects.filter(principal=user).select_related("agent").order_by("-id")[:50],
            "enterprise": getattr(user, "enterprise", None),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def identity(request):
    context = {}
    if request.method == "POST":
        context["real_name"] = request.POST.get("real_name", "")[:50]
        try:
            services.person_declare_identity(
                actor=request.user,
                real_name=request.POST.get("real_name", ""),
                id_number=request.POST.get("id_number", ""),
            )
        except DomainError as exc:
            context["error"] = exc.message
            return render(request, "web/me_identity.html", context, status=exc.status)
        messages.success(request, "实名信息已登记。")
        return redirect("web:me")
    return render(request, "web/me_identity.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def enterprise_new(request):
    context = {"form": request.POST}
    if request.method == "POST":
        try:
            services.enterprise_register(
                actor=request.user,
                name=request.POST.get("name", ""),
                credit_code=request.POST.get("credit_code", ""),
                legal_rep_name=request.POST.get("legal_rep_name", ""),
                legal_rep_id_number=request.POST.get("legal_rep_id_number", ""),
                address=request.POST.get("address", ""),
            )
        except DomainError as exc:
            context["error"] = exc.message
            return render(request, "web/me_enterprise.html", context, status=exc.status)
        messages.success(request, "法人已注册，您已成为该法人的经办人。")
        return redirect("web:me")
    return render(request, "web/me_enterprise.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def authorization_new(request):
    principals = [request.user] + [
        a.principal for a in selectors.active_authorizations(agent=request.user) if "*" in a.scopes
    ]
    context = {
        "principals": principals,
        "kinds": Authorization.Kind.choices,
        "scopes": services.AUTHORIZATION_SCOPES,
        "form": request.POST,
    }
    if request.method == "POST":
        try:
            number = validate_resident_id(request.POST.get("agent_id_number", ""))
            agent = Person.objects.select_related("user").filter(id_hash=crypto.keyed_hash(number)).first()
            if agent is None:
                raise ValidationFailed("未找到该身份证号对应的实名用户，请受托人先注册并实名。", code="agent_not_found")
            principal_id = int(request.POST.get("principal_id") or request.user.pk)
            principal = next((p for p in principals if p.pk == principal_id), None)
            if principal is None:
                raise ValidationFailed("委托人无效。", code="principal_not_found")
            days = int(request.POST.get("days") or 365)
            services.authorization_grant(
                actor=request.user,
                principal=principal,
                agent=agent.user,
                kind=request.POST.get("kind", ""),
                scopes=request.POST.getlist("scopes"),
                valid_until=timezone.now() + dt.timedelta(days=max(1, min(days, 3650))),
            )
        except (DomainError, ValueError) as exc:
            context["error"] = getattr(exc, "message", "输入有误。")
            return render(request, "web/me_authorization.html", context, status=422)
        messages.success(request, "授权已生效。")
        return redirect("web:me")
    return render(request, "web/me_authorization.html", context)


@login_required
@require_POST
def authorization_revoke(request, pk: int):
    run(request, services.authorization_revoke, actor=request.user, authorization_id=pk, success="授权已撤销。")
    return redirect("web:me")

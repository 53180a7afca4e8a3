"""Login and logout: staff password (+TOTP), person phone code, unified identity provider."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, logout
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.accounts import oidc, services
from yiwang.accounts.models import User
from yiwang.core.errors import DomainError
from yiwang.core.middleware import client_ip

from .common import safe_next

BACKEND = "yiwang.accounts.backends.AccountBackend"
PENDING_TOTP = "pending_totp_user"


def _finish(request, user: User, method: str):
    login(request, user, backend=BACKEND)
    services.login_succeeded(user=user, method=method)
    default = reverse("web:workbench") if user.is_staff_member else reverse("web:me")
    return redirect(safe_next(request, default))


@require_http_methods(["GET", "POST"])
def login_view(request):
    context = {
        "next": safe_next(request, ""),
        "oidc_enabled": oidc.get_provider() is not None,
        "tab": request.GET.get("tab", "password"),
    }
    if request.method == "POST":
        try:
            step = services.login_password(
                username=request.POST.get("username", ""),
                password=request.POST.get("password", ""),
                ip=client_ip(request),
            )
        except DomainError as exc:
            context.update(error=exc.message, username=request.POST.get("username", "")[:150])
            return render(request, "web/login.html", context, status=401 if exc.status == 401 else exc.status)
        if step.needs_totp:
            request.session[PENDING_TOTP] = step.user.pk
            return redirect(f"{reverse('web:login_totp')}?next={context['next']}")
        return _finish(request, step.user, "password")
    return render(request, "web/login.html", context)


@require_http_methods(["GET", "POST"])
def login_totp(request):
    user_id = request.session.get(PENDING_TOTP)
    user = User.objects.filter(pk=user_id, is_active=True).first() if user_id else None
    if user is None:
        return redirect("web:login")
    context = {"next": safe_next(request, "")}
    if request.method == "POST":
        try:
            services.login_totp(user=user, code=request.POST.get("code", ""), ip=client_ip(request))
        except DomainError as exc:
            context["error"] = exc.message
            return render(request, "web/login_totp.html", context, status=exc.status)
        request.session.pop(PENDING_TOTP, None)
        return _finish(request, user, "password+totp")
    return render(request, "web/login_totp.html", context)


@require_POST
def login_phone(request):
    """One form, two buttons: 获取验证码 (action=send) and 登录 (action=login)."""
    phone = request.POST.get("phone", "")
    context = {
        "next": safe_next(request, ""),
        "tab": "phone",
        "phone": phone[:20],
        "oidc_enabled": oidc.get_provider() is not None,
    }
    template = "web/partials/otp_status.html" if request.headers.get("HX-Request") else "web/login.html"
    try:
        if request.POST.get("action") == "send":
            services.otp_send(phone=phone, ip=client_ip(request))
            context["otp_sent"] = True
            return render(request, template, context)
        user = services.login_phone(phone=phone, code=request.POST.get("code", ""), ip=client_ip(request))
    except DomainError as exc:
        context["phone_error"] = exc.message
        return render(request, template, context, status=exc.status)
    return _finish(request, user, "phone")


@require_POST
def logout_view(request):
    logout(request)
    messages.info(request, "您已安全退出。")
    return redirect("web:home")


def login_oidc(request):
    provider = oidc.get_provider()
    if provider is None:
        return redirect("web:login")
    state, nonce = oidc.new_state()
    request.session["oidc"] = {"state": state, "nonce": nonce, "next": safe_next(request, "")}
    return redirect(
        provider.authorization_url(
            redirect_uri=request.build_absolute_uri(reverse("web:login_oidc_callback")), state=state, nonce=nonce
        )
    )


def login_oidc_callback(request):
    provider = oidc.get_provider()
    saved = request.session.pop("oidc", None)
    if provider is None or not saved or request.GET.get("state") != saved["state"] or not request.GET.get("code"):
        messages.error(request, "统一身份认证登录失败，请重试。")
        return redirect("web:login")
    try:
        identity = provider.complete(
            code=request.GET["code"], redirect_uri=request.build_absolute_uri(reverse("web:login_oidc_callback"))
        )
        user = oidc.link_identity(identity)
    except (DomainError, OSError, KeyError, ValueError):
        messages.error(request, "统一身份认证登录失败，请重试。")
        return redirect("web:login")
    login(request, user, backend=BACKEND)
    return redirect(saved.get("next") or reverse("web:me"))

"""Helpers shared by the views."""

from __future__ import annotations

import functools

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

from yiwang.core.errors import DomainError
from yiwang.core.permissions import policy


def safe_next(request, default: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def staff_required(view):
    """The workbench: staff with at least one active role (or a platform administrator)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not policy.allows(request.user, "workbench.enter"):
            raise DjangoPermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def login_required(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper


def run(request, fn, *args, success: str | None = None, **kwargs):
    """Call a service; on a domain error put its message on the page and return None."""
    try:
        result = fn(*args, **kwargs)
    except DomainError as exc:
        messages.error(request, exc.message)
        return None
    if success:
        messages.success(request, success)
    return result


def back(request, default: str):
    return redirect(safe_next(request, default))

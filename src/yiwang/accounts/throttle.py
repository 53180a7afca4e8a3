"""Login throttling: too many failures for an account or from an IP address lock it out for a while."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from yiwang.core.errors import Throttled

from .models import LoginFailure

IP_FACTOR = 4  # an address may fail for several accounts (a shared hall network) before it is locked


def _since() -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)


def check(key: str, ip: str | None) -> None:
    since = _since()
    limit = settings.LOGIN_MAX_FAILURES
    if LoginFailure.objects.filter(key=key, at__gte=since).count() >= limit or (
        ip and LoginFailure.objects.filter(ip=ip, at__gte=since).count() >= limit * IP_FACTOR
    ):
        minutes = max(settings.LOGIN_LOCKOUT_SECONDS // 60, 1)
        raise Throttled(f"登录失败次数过多，请 {minutes} 分钟后再试。", code="login_throttled")


def fail(key: str, ip: str | None) -> None:
    LoginFailure.objects.create(key=key[:150], ip=ip or "")


def clear(key: str) -> None:
    LoginFailure.objects.filter(key=key).delete()


def purge_old() -> int:
    deleted, _ = LoginFailure.objects.filter(at__lt=_since() - dt.timedelta(days=1)).delete()
    return deleted

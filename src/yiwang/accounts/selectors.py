"""Reads about users: memberships, roles and the region scope they give."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from yiwang.directory import codes

from .models import Authorization, StaffMembership, User
from .roles import Role

_CACHE_ATTR = "_yiwang_memberships"


def memberships(user: Any) -> list[StaffMembership]:
    """Active memberships of ``user`` (cached on the user object for the request)."""
    if user is None or not getattr(user, "is_authenticated", False) or getattr(user, "pk", None) is None:
        return []
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = list(
            StaffMembership.objects.filter(user_id=user.pk, is_active=True).select_related("department", "region")
        )
        setattr(user, _CACHE_ATTR, cached)
    return cached


def copy_memberships(source: Any, target: Any) -> None:
    """Give ``target`` (a copy of the user ``source``) its own list of the memberships ``source`` has loaded."""
    cached = getattr(source, _CACHE_ATTR, None)
    if cached is not None:
        setattr(target, _CACHE_ATTR, list(cached))


def forget_memberships(user: Any) -> None:
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def roles_of(user: Any) -> set[str]:
    return {m.role for m in memberships(user)}


def has_role(user: Any, *roles: str) -> bool:
    return any(m.role in roles for m in memberships(user))


def scope_prefixes(user: Any, roles: Iterable[str]) -> list[str]:
    """Region-code prefixes the user's memberships in ``roles`` cover (most general first, no nesting)."""
    wanted = set(roles)
    prefixes = sorted(
        {codes.prefix(m.region_id, m.region.level) for m in memberships(user) if m.role in wanted}, key=len
    )
    result: list[str] = []
    for prefix in prefixes:
        if not any(prefix.startswith(p) for p in result):
            result.append(prefix)
    return result


def in_region_scope(user: Any, region_code: str | None, roles: Iterable[str]) -> bool:
    """Does one of the user's memberships in ``roles`` cover ``region_code`` (its region or a descendant)?"""
    if not region_code:
        return False
    return any(region_code.startswith(p) for p in scope_prefixes(user, roles))


def department_ids(user: Any, roles: Iterable[str]) -> set[int]:
    wanted = set(roles)
    return {m.department_id for m in memberships(user) if m.role in wanted}


def region_scope_q(user: Any, roles: Iterable[str], *, field: str = "region__code") -> Q:
    """A Q object selecting rows whose ``field`` lies in the user's scope for ``roles`` (nothing if none)."""
    prefixes = scope_prefixes(user, roles)
    if not prefixes:
        return Q(pk__in=[])
    q = Q()
    for prefix in prefixes:
        q |= Q(**{f"{field}__startswith": prefix})
    return q


def active_authorizations(*, agent: User, when: dt.datetime | None = None) -> QuerySet[Authorization]:
    return Authorization.objects.valid_at(when).filter(agent=agent).select_related("principal")


def authorization_for(
    *, agent: Any, principal: Any, action: str, item_code: str | None = None, when: dt.datetime | None = None
) -> Authorization | None:
    """The authorisation that lets ``agent`` do ``action`` for ``principal`` now, if any."""
    if agent is None or principal is None or getattr(agent, "pk", None) is None:
        return None
    when = when or timezone.now()
    for grant in Authorization.objects.valid_at(when).filter(agent_id=agent.pk, principal_id=principal.pk):
        if grant.covers(action, item_code=item_code, when=when):
            return grant
    return None


def staff_roles_display(user: Any) -> list[str]:
    return [
        f"{m.department.name} · {Role(m.role).label} · {m.region.full_name or m.region.name}" for m in memberships(user)
    ]

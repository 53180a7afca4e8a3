"""Permission rules of the catalog."""

from __future__ import annotations

from django.db.models import QuerySet

from yiwang.accounts.roles import Role
from yiwang.accounts.selectors import has_role, in_region_scope, region_scope_q
from yiwang.core.permissions import policy

MANAGERS = (Role.CATALOG_ADMIN, Role.SUPERVISOR)


@policy.rule("catalog.directory.manage")
def _(user, obj) -> bool:
    """基本目录 is maintained centrally: platform administrators and province-level catalog managers."""
    if user.is_superuser:
        return True
    from yiwang.accounts.selectors import memberships

    return any(m.role in MANAGERS and m.region.level == 1 for m in memberships(user))


@policy.rule("catalog.item.manage")
def _(user, item) -> bool:
    return user.is_superuser or in_region_scope(user, getattr(item, "region_code", None), MANAGERS)


@policy.scope("catalog.item.manage")
def _(user, qs: QuerySet) -> QuerySet:
    return qs if user.is_superuser else qs.filter(region_scope_q(user, MANAGERS))


@policy.rule("catalog.item.publish")
def _(user, item) -> bool:
    return user.is_superuser or in_region_scope(user, getattr(item, "region_code", None), MANAGERS)


@policy.rule("catalog.bundle.manage")
def _(user, bundle) -> bool:
    return user.is_superuser or in_region_scope(user, getattr(bundle, "region_code", None), MANAGERS)


@policy.rule("catalog.import")
def _(user, obj) -> bool:
    return user.is_superuser


@policy.rule("catalog.report")
def _(user, obj) -> bool:
    """The quality report; its rows are limited to the user's scope (``catalog.item.manage``)."""
    return user.is_superuser or has_role(user, *MANAGERS)

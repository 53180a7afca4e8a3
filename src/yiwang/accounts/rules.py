"""Permission rules of the foundation (directory, workdays, accounts, audit).

Higher apps register their own rules in their ``rules.py`` with the same helpers.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from yiwang.core.permissions import policy

from .roles import Role
from .selectors import has_role, in_region_scope, region_scope_q

ADMIN_ROLES = (Role.SUPERVISOR,)
ALL_STAFF_ROLES = tuple(Role.values)


def _region_of(obj: Any) -> str | None:
    if obj is None:
        return None
    if hasattr(obj, "region_code"):
        return obj.region_code
    if hasattr(obj, "code") and hasattr(obj, "level"):  # a Region
        return obj.code
    return None


# --- directory --------------------------------------------------------------------------------------
@policy.rule("directory.import")
def _(user, obj) -> bool:
    return user.is_superuser


@policy.rule("directory.department.manage")
def _(user, obj) -> bool:
    return user.is_superuser or in_region_scope(user, _region_of(obj), (*ADMIN_ROLES, Role.CATALOG_ADMIN))


@policy.rule("directory.hall.manage")
def _(user, obj) -> bool:
    return user.is_superuser or in_region_scope(user, _region_of(obj), ADMIN_ROLES)


@policy.rule("directory.department.view")
def _(user, obj) -> bool:
    return user.is_superuser or in_region_scope(user, _region_of(obj), ALL_STAFF_ROLES)


@policy.scope("directory.department.view")
def _(user, qs: QuerySet) -> QuerySet:
    return qs if user.is_superuser else qs.filter(region_scope_q(user, ALL_STAFF_ROLES))


# --- working days -----------------------------------------------------------------------------------
@policy.rule("workdays.manage")
def _(user, obj) -> bool:
    # The national calendar affects every deadline: platform administrators and province-level supervisors.
    if user.is_superuser:
        return True
    from .selectors import memberships

    return any(m.role == Role.SUPERVISOR and m.region.level == 1 for m in memberships(user))


# --- accounts ---------------------------------------------------------------------------------------
@policy.rule("accounts.person.register_at_window")
def _(user, obj) -> bool:
    """A window clerk (or helper) registers a person who stands at the counter with an ID card."""
    return has_role(user, Role.WINDOW_CLERK, Role.HELPER)


@policy.rule("accounts.person.lookup")
def _(user, obj) -> bool:
    return has_role(user, Role.WINDOW_CLERK, Role.HELPER, Role.HOTLINE_AGENT)


@policy.rule("accounts.identity.declare")
def _(user, obj) -> bool:
    """A person declares their own real name and ID number."""
    return getattr(user, "is_person", False) and (obj is None or obj == user)


@policy.rule("accounts.enterprise.register")
def _(user, obj) -> bool:
    return getattr(user, "is_person", False) and hasattr(user, "person")


@policy.rule("accounts.authorization.grant")
def _(user, obj) -> bool:
    """Principals grant their own authorisations (``obj`` is the principal)."""
    return obj is not None and obj.pk == user.pk and not getattr(user, "is_staff_member", False)


@policy.rule("accounts.authorization.revoke")
def _(user, obj) -> bool:
    return obj is not None and user.pk in (obj.principal_id, obj.agent_id)


@policy.rule("accounts.staff.manage")
def _(user, obj) -> bool:
    return user.is_superuser or in_region_scope(user, _region_of(obj), ADMIN_ROLES)


@policy.rule("accounts.totp.manage")
def _(user, obj) -> bool:
    return obj is not None and obj.pk == user.pk


# --- audit ------------------------------------------------------------------------------------------
@policy.rule("audit.verify")
def _(user, obj) -> bool:
    return user.is_superuser


@policy.rule("audit.browse")
def _(user, obj) -> bool:
    return user.is_superuser or has_role(user, *ADMIN_ROLES)


@policy.rule("audit.view")
def _(user, obj) -> bool:
    return user.is_superuser or in_region_scope(user, getattr(obj, "region_code", None), ADMIN_ROLES)


@policy.scope("audit.view")
def _(user, qs: QuerySet) -> QuerySet:
    return qs if user.is_superuser else qs.filter(region_scope_q(user, ADMIN_ROLES, field="region_code"))


@policy.rule("workbench.enter")
def _(user, obj) -> bool:
    return user.is_superuser or has_role(user, *ALL_STAFF_ROLES)

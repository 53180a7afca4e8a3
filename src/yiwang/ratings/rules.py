"""Permission rules of 好差评.

- Window staff (综窗受理员, 帮办代办员) record window service contacts in their region's halls.
- A rectification belongs to its department (谁办理、谁负责): the department's staff see it, its head
  (部门负责人) assigns it, the assignee (or the head) handles it; supervisors (督办) in the region see
  every rectification and review appeals.
- The evaluator's identity is shown only to the owner of the rectification — the assignee, or the
  department's heads while it is unassigned; every view is audited (``services.evaluator_reveal``).
- Reports: supervisors for their region, department heads for their department.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from yiwang.accounts.roles import Role
from yiwang.accounts.selectors import department_ids, has_role, in_region_scope, region_scope_q
from yiwang.core.permissions import policy

WINDOW_ROLES = (Role.WINDOW_CLERK, Role.HELPER, Role.SUPERVISOR)
ALL_ROLES = tuple(Role.values)


def _hall_region(window) -> str | None:
    hall = getattr(window, "hall", None)
    return getattr(hall, "region_id", None)


# --- window contacts and evaluator devices --------------------------------------------------------
@policy.rule("ratings.contact.manage")
def _(user, window) -> bool:
    """``obj`` is the window."""
    return user.is_superuser or in_region_scope(user, _hall_region(window), WINDOW_ROLES)


@policy.rule("ratings.device.manage")
def _(user, window) -> bool:
    return user.is_superuser or in_region_scope(user, _hall_region(window), (Role.SUPERVISOR,))


# --- ratings --------------------------------------------------------------------------------------
def _sees_department_or_region(user, department_id, region_code) -> bool:
    if user.is_superuser:
        return True
    if department_id and department_id in department_ids(user, ALL_ROLES):
        return True
    return in_region_scope(user, region_code, (Role.SUPERVISOR,))


def _department_or_region_q(user, *, department_field: str = "department_id", region_field: str = "region_code") -> Q:
    q = region_scope_q(user, (Role.SUPERVISOR,), field=region_field)
    ids = department_ids(user, ALL_ROLES)
    if ids:
        q |= Q(**{f"{department_field}__in": sorted(ids)})
    return q


@policy.rule("ratings.rating.view")
def _(user, rating) -> bool:
    return rating is not None and _sees_department_or_region(user, rating.department_id, rating.region_code)


@policy.scope("ratings.rating.view")
def _(user, qs: QuerySet) -> QuerySet:
    return qs if user.is_superuser else qs.filter(_department_or_region_q(user))


# --- rectifications -------------------------------------------------------------------------------
@policy.rule("ratings.rectification.view")
def _(user, rect) -> bool:
    return rect is not None and _sees_department_or_region(user, rect.department_id, rect.region_code)


@policy.scope("ratings.rectification.view")
def _(user, qs: QuerySet) -> QuerySet:
    return qs if user.is_superuser else qs.filter(_department_or_region_q(user))


def _heads(user, rect) -> bool:
    return bool(rect.department_id) and rect.department_id in department_ids(user, (Role.DEPT_HEAD,))


@policy.rule("ratings.rectification.assign")
def _(user, rect) -> bool:
    if rect is None:
        return False
    return user.is_superuser or _heads(user, rect) or in_region_scope(user, rect.region_code, (Role.SUPERVISOR,))


@policy.rule("ratings.rectification.handle")
def _(user, rect) -> bool:
    """Verify, classify, feed back, return visit: the assignee or a head of the department."""
    if rect is None:
        return False
    return (rect.assignee_id is not None and rect.assignee_id == user.pk) or _heads(user, rect)


@policy.rule("ratings.rectification.review_appeal")
def _(user, rect) -> bool:
    """A supervisor of the region who is not the one who filed the appeal."""
    if rect is None:
        return False
    if rect.assignee_id is not None and rect.assignee_id == user.pk:
        return False
    return user.is_superuser or in_region_scope(user, rect.region_code, (Role.SUPERVISOR,))


@policy.rule("ratings.evaluator.view")
def _(user, rect) -> bool:
    """Only the owner of the rectification: its assignee, or the department's heads while unassigned."""
    if rect is None or rect.is_final:
        return False
    if rect.assignee_id is not None:
        return rect.assignee_id == user.pk
    return _heads(user, rect)


# --- reports --------------------------------------------------------------------------------------
@policy.rule("ratings.report.view")
def _(user, obj) -> bool:
    return user.is_superuser or has_role(user, Role.SUPERVISOR, Role.DEPT_HEAD)


@policy.scope("ratings.report.view")
def _(user, qs: QuerySet) -> QuerySet:
    """Rollup rows a user may report on (rollups carry ``department_id`` and ``region_code``)."""
    if user.is_superuser:
        return qs
    q = region_scope_q(user, (Role.SUPERVISOR,), field="region_code")
    heads = department_ids(user, (Role.DEPT_HEAD,))
    if heads:
        q |= Q(department_id__in=sorted(heads))
    return qs.filter(q)


@policy.rule("ratings.default.apply")
def _(user, obj) -> bool:
    return user.is_superuser


@policy.rule("ratings.rollups.rebuild")
def _(user, obj) -> bool:
    return user.is_superuser

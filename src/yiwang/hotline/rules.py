"""Permission rules of the 12345 hotline.

- 12345 坐席 (``Role.HOTLINE_AGENT``) and 督办 (``Role.SUPERVISOR``) act on orders whose place lies in their
  region scope: intake, dispatch, reviews, 回访, 并单, knowledge-base answers.
- Department staff (any handling role in the order's 主办 or 协办 department) 签收, 退单, ask for 延期 and
  reply; they see the orders dispatched to their departments.
- 督办 is for supervisors; citizens see and submit their own orders.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from yiwang.accounts.roles import Role
from yiwang.accounts.selectors import department_ids, has_role, in_region_scope, region_scope_q
from yiwang.core.permissions import policy

PLATFORM_ROLES = (Role.HOTLINE_AGENT, Role.SUPERVISOR)
HANDLER_ROLES = (Role.REVIEWER, Role.DEPT_HEAD, Role.WINDOW_CLERK, Role.SUPERVISOR)
KB_ROLES = (Role.HOTLINE_AGENT, Role.SUPERVISOR, Role.CATALOG_ADMIN)


def _region(obj: Any) -> str | None:
    if obj is None:
        return None
    if hasattr(obj, "region_code"):
        return obj.region_code
    if hasattr(obj, "code") and hasattr(obj, "level"):
        return obj.code
    if isinstance(obj, str):
        return obj
    return None


def on_platform(user, obj) -> bool:
    """A hotline agent or supervisor whose scope covers the order (or region) ``obj``."""
    return user.is_superuser or in_region_scope(user, _region(obj), PLATFORM_ROLES)


def handles(user, order) -> bool:
    """Staff of the order's current 主办 department."""
    if order is None or not order.department_id:
        return False
    return order.department_id in department_ids(user, HANDLER_ROLES)


def assists(user, order) -> bool:
    if order is None:
        return False
    mine = department_ids(user, HANDLER_ROLES)
    if not mine:
        return False
    return order.assignments.filter(department_id__in=mine).exists()


# --- orders -----------------------------------------------------------------------------------------
@policy.rule("hotline.order.create")
def _(user, obj) -> bool:
    """坐席 records a call (or another staff channel) for a place in their scope."""
    return on_platform(user, obj)


@policy.rule("hotline.order.submit")
def _(user, obj) -> bool:
    """Citizens and enterprises submit their own demands online (web, mobile)."""
    return getattr(user, "is_person", False) or getattr(user, "is_enterprise", False)


@policy.rule("hotline.order.view")
def _(user, order) -> bool:
    if order is None:
        return False
    if order.caller_user_id and order.caller_user_id == user.pk:
        return True
    return on_platform(user, order) or handles(user, order) or assists(user, order)


@policy.scope("hotline.order.view")
def _(user, qs: QuerySet) -> QuerySet:
    if user.is_superuser:
        return qs
    from .models import Assignment

    q = Q(caller_user_id=user.pk)
    if has_role(user, *PLATFORM_ROLES):
        q |= region_scope_q(user, PLATFORM_ROLES, field="region__code")
    mine = department_ids(user, HANDLER_ROLES)
    if mine:
        q |= Q(department_id__in=mine)
        q |= Q(Exists(Assignment.objects.filter(order_id=OuterRef("pk"), department_id__in=mine)))
    return qs.filter(q)


for _action in (
    "hotline.order.dispatch",
    "hotline.order.answer",
    "hotline.order.review",
    "hotline.order.visit",
    "hotline.order.merge",
    "hotline.order.refuse",
    "hotline.extension.decide",
):
    policy.rule(_action)(on_platform)


@policy.rule("hotline.order.handle")
def _(user, order) -> bool:
    """签收、退单、延期申请、答复: staff of the 主办 department."""
    return user.is_superuser or handles(user, order)


@policy.rule("hotline.order.supervise")
def _(user, order) -> bool:
    return user.is_superuser or in_region_scope(user, _region(order), (Role.SUPERVISOR,))


@policy.rule("hotline.order.sensitive")
def _(user, order) -> bool:
    """See the caller's name and full phone of a confidential order: the platform only."""
    return on_platform(user, order)


@policy.rule("hotline.attachment.add")
def _(user, order) -> bool:
    """The caller (own order), the platform, and the 主办/协办 departments may add files while it is open."""
    return policy.allows(user, "hotline.order.view", order)


@policy.rule("hotline.attachment.view")
def _(user, attachment) -> bool:
    """Whoever may see the order; for a confidential order only the caller, the platform and the uploader."""
    if attachment is None:
        return False
    order = attachment.order
    if attachment.uploaded_by_id and attachment.uploaded_by_id == user.pk:
        return True
    if not policy.allows(user, "hotline.order.view", order):
        return False
    if order.is_confidential and order.caller_user_id != user.pk:
        return policy.allows(user, "hotline.order.sensitive", order)
    return True


# --- knowledge base, rules, statistics, models ------------------------------------------------------
@policy.rule("hotline.kb.view")
def _(user, obj) -> bool:
    return user.is_superuser or has_role(user, *Role.values)


@policy.rule("hotline.kb.manage")
def _(user, obj) -> bool:
    if user.is_superuser:
        return True
    region = _region(obj) if obj is not None else None
    if region:
        return in_region_scope(user, region, KB_ROLES)
    return has_role(user, *KB_ROLES)


@policy.rule("hotline.rules.manage")
def _(user, obj) -> bool:
    if user.is_superuser:
        return True
    region = _region(obj)
    return in_region_scope(user, region, (Role.SUPERVISOR,)) if region else has_role(user, Role.SUPERVISOR)


@policy.rule("hotline.kpi.view")
def _(user, obj) -> bool:
    return user.is_superuser or has_role(user, *PLATFORM_ROLES)


@policy.rule("hotline.model.train")
def _(user, obj) -> bool:
    return user.is_superuser or has_role(user, Role.SUPERVISOR)

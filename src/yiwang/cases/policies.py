"""Permission rules of the follow-ups (一件事, 容缺/告知承诺, 出件送达, 督办) — who is which party, as in rules.py."""

from __future__ import annotations

from typing import Any

from yiwang.accounts.models import Authorization
from yiwang.accounts.roles import Role
from yiwang.accounts.selectors import has_role, in_region_scope, memberships
from yiwang.core.permissions import policy
from yiwang.directory import codes

from .rules import CLERK_ROLES, parties
from .states import Party


def _has(user: Any, case: Any, *wanted: Party) -> bool:
    return bool(parties(user, case) & set(wanted))


@policy.rule("case.gap_supply")
def _(user, case) -> bool:
    return _has(user, case, Party.APPLICANT, Party.CLERK)


@policy.rule("case.gap_check")
def _(user, case) -> bool:
    return _has(user, case, Party.REVIEWER, Party.HEAD, Party.CLERK)


@policy.rule("case.pledge")
def _(user, case) -> bool:
    return _has(user, case, Party.APPLICANT, Party.CLERK)


@policy.rule("case.verify")
def _(user, case) -> bool:
    return _has(user, case, Party.REVIEWER, Party.HEAD)


@policy.rule("case.revocation.statement")
def _(user, case) -> bool:
    return _has(user, case, Party.APPLICANT)


@policy.rule("case.revocation.decide")
def _(user, case) -> bool:
    return _has(user, case, Party.HEAD, Party.REVIEWER)


@policy.rule("case.deliver")
def _(user, case) -> bool:
    """统一出件: the window clerks (and the back office that decided)."""
    return _has(user, case, Party.CLERK, Party.REVIEWER)


@policy.rule("case.pickup")
def _(user, case) -> bool:
    return _has(user, case, Party.CLERK)


@policy.rule("supervision.overview")
def _(user, obj) -> bool:
    return user.is_superuser or has_role(user, Role.SUPERVISOR)


@policy.rule("delivery.window")
def _(user, obj) -> bool:
    return user.is_superuser or has_role(user, *CLERK_ROLES)


# --- 一件事 --------------------------------------------------------------------------------------------------


@policy.rule("bundle.intake")
def _(user, bundle) -> bool:
    """一件事窗口: a clerk whose scope covers the bundle's region, or lies below it (a district hall)."""
    if user.is_superuser:
        return True
    if bundle is None:
        return has_role(user, *CLERK_ROLES)
    prefix = codes.prefix(bundle.region_id, bundle.region.level)
    mine = [codes.prefix(m.region_id, m.region.level) for m in memberships(user) if m.role in CLERK_ROLES]
    return any(prefix.startswith(p) or p.startswith(prefix) for p in mine)


def bundle_parties(user: Any, parent: Any) -> set[Party]:
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    if getattr(user, "is_system", False):
        return {Party.SYSTEM}
    found: set[Party] = set()
    staff = getattr(user, "is_staff_member", False)
    if (not staff or has_role(user, Role.HELPER)) and (
        user.pk == parent.applicant_id
        or any(
            {"*", "case.apply"} & set(g.scopes)
            for g in Authorization.objects.valid_at().filter(agent_id=user.pk, principal_id=parent.applicant_id)
        )
    ):
        found.add(Party.APPLICANT)
    if staff:
        if user.is_superuser:
            found |= {Party.CLERK, Party.SUPERVISOR, Party.REVIEWER}
        window_region = parent.window.hall.region_id if parent.window_id else ""
        if in_region_scope(user, parent.region_code, CLERK_ROLES) or in_region_scope(user, window_region, CLERK_ROLES):
            found.add(Party.CLERK)
        if in_region_scope(user, parent.region_code, (Role.SUPERVISOR,)):
            found.add(Party.SUPERVISOR)
        if Party.CLERK not in found and Party.SUPERVISOR not in found:
            for child in parent.children.select_related("case", "case__item").exclude(case__isnull=True):
                if parties(user, child.case) - {Party.APPLICANT}:
                    found.add(Party.REVIEWER)
                    break
    return found


@policy.rule("bundle_case.view")
def _(user, parent) -> bool:
    return bool(bundle_parties(user, parent))


@policy.rule("bundle_case.withdraw")
def _(user, parent) -> bool:
    return Party.APPLICANT in bundle_parties(user, parent)


@policy.rule("bundle_case.resume")
def _(user, parent) -> bool:
    return bool(bundle_parties(user, parent) & {Party.APPLICANT, Party.CLERK})


@policy.scope("bundle_case.view")
def _(user, qs):
    from django.db.models import Q

    from yiwang.accounts.selectors import region_scope_q

    principals = list(Authorization.objects.valid_at().filter(agent_id=user.pk).values_list("principal_id", flat=True))
    q = Q(applicant=user) | Q(applicant_id__in=principals)
    if getattr(user, "is_staff_member", False):
        if user.is_superuser:
            return qs
        q |= region_scope_q(user, CLERK_ROLES, field="region_code") | region_scope_q(
            user, CLERK_ROLES, field="window__hall__region__code"
        )
        q |= region_scope_q(user, (Role.SUPERVISOR,), field="region_code")
    return qs.filter(q)

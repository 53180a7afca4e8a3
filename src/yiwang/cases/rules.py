"""Permission rules for cases (办件): who is which party to a case, and what each party may see and do.

The transition table (:mod:`.states`) says which *kind* of party may take an action; these rules say
whether *this* user is that party for *this* case:

- 申请人 (applicant): the applicant account itself, the person who filed it online, or an agent holding a
  valid authorisation (授权委托) from the applicant covering ``case.apply`` for the item;
- 综窗受理员 (clerk): a ``window_clerk`` whose region scope covers the case's implementing region or the
  region where it was received (综合窗口: any item, any department);
- 审批人员 / 部门负责人 (reviewer / head): a ``reviewer`` / ``dept_head`` of the implementing department whose
  region scope covers the case;
- 督办 (supervisor): a ``supervisor`` whose region scope covers the case.

Platform administrators (superusers) count as every staff party. The system actor may do everything.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from yiwang.accounts.models import Authorization
from yiwang.accounts.roles import Role
from yiwang.accounts.selectors import authorization_for, has_role, in_region_scope, memberships
from yiwang.core.actors import is_system
from yiwang.core.permissions import policy

from .states import ACTORS, Action, Party

CLERK_ROLES = (Role.WINDOW_CLERK,)
BACK_OFFICE_ROLES = (Role.REVIEWER, Role.DEPT_HEAD)
STAFF_VIEW_ROLES = (Role.WINDOW_CLERK, Role.REVIEWER, Role.DEPT_HEAD, Role.SUPERVISOR)
_CACHE = "_yiwang_case_parties"


def _is_agent(user: Any, case: Any) -> bool:
    return (
        authorization_for(agent=user, principal=case.applicant, action="case.apply", item_code=case.item.code)
        is not None
    )


def _dept_role(user: Any, case: Any, role: str) -> bool:
    return any(
        m.role == role and m.department_id == case.department_id and case.region_code.startswith(_prefix(m))
        for m in memberships(user)
    )


def range_q(prefixes: list[str], field: str) -> Q:
    """Rows whose 12-digit ``field`` starts with one of ``prefixes``, as index-friendly ranges.

    ``code >= '440106' AND code < '440107'`` instead of ``LIKE '440106%'``: a B-tree checks the range inside
    the index (also as a later column of a composite index), so queue pages never read rows out of scope.
    """
    q = Q(pk__in=[])
    for prefix in prefixes:
        upper = str(int(prefix) + 1).zfill(len(prefix))
        q |= Q(**{f"{field}__gte": prefix, f"{field}__lt": upper})
    return q


def _prefixes(user: Any, roles) -> list[str]:
    from yiwang.accounts.selectors import scope_prefixes

    return scope_prefixes(user, roles)


def _prefix(membership: Any) -> str:
    from yiwang.directory import codes

    return codes.prefix(membership.region_id, membership.region.level)


def parties(user: Any, case: Any) -> frozenset[Party]:
    """The parties ``user`` is to ``case`` (cached on the case object for the request)."""
    if user is None or case is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    if is_system(user):
        return frozenset({Party.SYSTEM})
    cache = case.__dict__.setdefault(_CACHE, {})
    if user.pk in cache:
        return cache[user.pk]
    found: set[Party] = set()
    if not getattr(user, "is_staff_member", False):
        # the applicant, or an agent whose authorisation is valid *now* (checked on every action)
        if user.pk == case.applicant_id or _is_agent(user, case):
            found.add(Party.APPLICANT)
    elif user.is_superuser:
        found |= {Party.CLERK, Party.REVIEWER, Party.HEAD, Party.SUPERVISOR}
    else:
        if in_region_scope(user, case.region_code, CLERK_ROLES) or in_region_scope(
            user, case.intake_region_code, CLERK_ROLES
        ):
            found.add(Party.CLERK)
        if _dept_role(user, case, Role.REVIEWER):
            found.add(Party.REVIEWER)
        if _dept_role(user, case, Role.DEPT_HEAD):
            found.add(Party.HEAD)
        if in_region_scope(user, case.region_code, (Role.SUPERVISOR,)):
            found.add(Party.SUPERVISOR)
        if has_role(user, Role.HELPER) and _is_agent(user, case):  # 帮办代办员 under a hall_helper grant
            found.add(Party.APPLICANT)
    cache[user.pk] = frozenset(found)
    return cache[user.pk]


def forget(case: Any) -> None:
    case.__dict__.pop(_CACHE, None)


def _register(action: Action) -> None:
    wanted = ACTORS[action]

    @policy.rule(f"case.{action.value}")
    def _(user, case) -> bool:
        return bool(parties(user, case) & wanted)


for _action in Action:
    _register(_action)


@policy.rule("case.view")
def _(user, case) -> bool:
    found = parties(user, case)
    if case.state == "draft" and Party.APPLICANT not in found:
        # a clerk's own intake in progress (an agent's draft needs a valid authorisation, as above)
        return case.filed_by_id == user.pk and getattr(user, "is_staff_member", False)
    return bool(found)


@policy.scope("case.view")
def _(user, qs: QuerySet) -> QuerySet:
    if getattr(user, "is_staff_member", False) or user.is_superuser:
        if user.is_superuser:
            return qs.exclude(Q(state="draft") & ~Q(filed_by=user))
        clerk_prefixes = _prefixes(user, CLERK_ROLES)
        clerk = range_q(clerk_prefixes, "region_code") | range_q(clerk_prefixes, "intake_region_code")
        supervisor = range_q(_prefixes(user, (Role.SUPERVISOR,)), "region_code")
        back = Q(pk__in=[])
        for m in memberships(user):
            if m.role in BACK_OFFICE_ROLES:
                back |= Q(department_id=m.department_id) & range_q([_prefix(m)], "region_code")
        staff_q = (clerk | supervisor | back) & (~Q(state="draft") | Q(filed_by=user))
        if has_role(user, Role.HELPER):  # 帮办代办: the principals who authorised this helper
            staff_q |= Q(applicant_id__in=_principals(user))
        return qs.filter(staff_q)
    return qs.filter(Q(applicant=user) | Q(applicant_id__in=_principals(user)))


def _principals(user: Any) -> list[int]:
    """Principals with a valid authorisation to ``user`` covering cases (the rule re-checks each case)."""
    return list(Authorization.objects.valid_at().filter(agent_id=user.pk).values_list("principal_id", flat=True))


@policy.rule("case.apply")
def _(user, item) -> bool:
    """Persons and enterprises apply online (for themselves or as an authorised agent)."""
    return getattr(user, "kind", "") in ("person", "enterprise")


@policy.rule("case.intake")
def _(user, item) -> bool:
    """综合窗口收件: a clerk whose scope covers the item's region, or lies below it (a city item at a district hall)."""
    if user.is_superuser:
        return True
    if item is None:
        return has_role(user, *CLERK_ROLES)
    from yiwang.directory import codes

    item_prefix = codes.prefix(item.region_id, item.region.level)
    clerk_prefixes = [_prefix(m) for m in memberships(user) if m.role in CLERK_ROLES]
    return any(item_prefix.startswith(p) or p.startswith(item_prefix) for p in clerk_prefixes)


@policy.rule("case.file_for")
def _(user, item) -> bool:
    """帮办代办: a hall helper files for an applicant who authorised them (the grant is checked per case)."""
    return has_role(user, Role.HELPER)


@policy.rule("case.queues")
def _(user, obj) -> bool:
    return user.is_superuser or has_role(user, *STAFF_VIEW_ROLES)


@policy.rule("cases.file.upload")
def _(user, obj) -> bool:
    """Any signed-in applicant or staff member may upload a file (it is private to them until attached)."""
    return bool(getattr(user, "is_authenticated", False))


@policy.rule("cases.file.view")
def _(user, stored) -> bool:
    """The uploader, or whoever may view the case the file is attached to."""
    if stored is None:
        return False
    if stored.owner_id == user.pk:
        return True
    attachment = getattr(stored, "attachment", None)
    return attachment is not None and policy.allows(user, "case.view", attachment.case)


@policy.rule("case.document.view")
def _(user, document) -> bool:
    if document is None:
        return False
    found = parties(user, document.case)
    if found - {Party.APPLICANT}:
        return True
    return Party.APPLICANT in found and document.public

"""帮办代办 — filing and following a case for someone else, under an authorisation checked on every action.

Two kinds of agent appear on a case beside the applicant (``Case.applicant``), as ``Case.filed_by`` with
``Case.authorization``:

- an **经办人/代理人** — a person the applicant (a person or an enterprise) authorised in 我的授权;
- a **帮办代办员** (``Role.HELPER``) at a hall's 帮办代办区, authorised on the spot by the applicant, who is
  present and identified (:func:`helper_authorization_record`, kind ``hall_helper``).

The authorisation must be valid (not revoked, within its validity) and cover the case's item **at the
time of every action**: :mod:`.rules` makes the agent a party only then, the guard below checks that the
scope covers the action, and :func:`explain_refusal` tells an agent whose authorisation lapsed why the
case is no longer theirs (``authorization_invalid``) instead of pretending it does not exist.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from yiwang.accounts.models import Authorization, User
from yiwang.accounts.roles import Role
from yiwang.accounts.selectors import has_role
from yiwang.core import audit
from yiwang.core.actions import action
from yiwang.core.errors import NotFound, PermissionDenied, ValidationFailed

from . import events
from .states import Action

# Scopes (accounts.services.AUTHORIZATION_SCOPES) that cover each applicant action; "*" covers all.
ACTION_SCOPES: dict[str, tuple[str, ...]] = {
    Action.SAVE_DRAFT.value: ("case.apply",),
    Action.SUBMIT.value: ("case.apply",),
    Action.RESUBMIT.value: ("case.supplement", "case.apply"),
    Action.WITHDRAW.value: ("case.withdraw",),
    "gap_supply": ("case.supplement", "case.apply"),
    "pledge": ("case.apply",),
    "pickup": ("case.receive",),
    "bundle_apply": ("case.apply",),
    "bundle_withdraw": ("case.withdraw",),
}
HELPER_SCOPES = ("case.apply", "case.view", "case.supplement", "case.receive")
MAX_HELPER_DAYS = 90


def is_helper(actor: Any) -> bool:
    """A 帮办代办员 acting as one: staff with the helper role and no window-clerk role."""
    if not getattr(actor, "is_staff_member", False) or getattr(actor, "is_superuser", False):
        return False
    return has_role(actor, Role.HELPER) and not has_role(actor, Role.WINDOW_CLERK)


def acts_as_agent(actor: Any, case: Any) -> bool:
    """Is ``actor`` acting for the applicant (not the applicant, not staff in a staff role)?"""
    if actor is None or getattr(actor, "pk", None) is None or actor.pk == case.applicant_id:
        return False
    return not getattr(actor, "is_staff_member", False) or is_helper(actor)


def grants(actor: Any, principal_id: int, *, when: dt.datetime | None = None) -> list[Authorization]:
    return list(Authorization.objects.valid_at(when).filter(agent_id=actor.pk, principal_id=principal_id))


def require_scope(actor: Any, *, principal_id: int, item_code: str, what: str) -> Authorization | None:
    """The grant covering ``what`` (an ACTION_SCOPES key) for an agent; ``authorization_scope`` otherwise."""
    wanted = ACTION_SCOPES.get(what)
    if wanted is None:
        return None
    for grant in grants(actor, principal_id):
        if any(grant.covers(scope, item_code=item_code) for scope in wanted):
            return grant
    raise PermissionDenied(
        "您的授权委托不包括此项操作，请申请人本人办理或扩大授权范围。",
        code="authorization_scope",
        details={"action": what, "needs": list(wanted)},
    )


@events.guard
def _agent_scope(actor: Any, case: Any, act: Any) -> None:
    """Every applicant action by an agent must be within the scope of a grant valid now."""
    name = act.value if isinstance(act, Action) else str(act)
    if name in ACTION_SCOPES and acts_as_agent(actor, case):
        require_scope(actor, principal_id=case.applicant_id, item_code=case.item.code, what=name)


def explain_refusal(actor: Any, case: Any) -> None:
    """An agent who once held an authorisation for this case learns that it lapsed (403, not 404)."""
    if actor is None or getattr(actor, "pk", None) is None or not acts_as_agent(actor, case):
        return
    past = (
        Authorization.objects.filter(agent_id=actor.pk, principal_id=case.applicant_id)
        .order_by("-valid_until", "-id")
        .first()
    )
    if past is None:
        return
    now = timezone.now()
    if past.revoked_at is not None:
        reason = "revoked"
    elif past.valid_until is not None and past.valid_until <= now:
        reason = "expired"
    elif past.valid_from > now:
        reason = "not_yet_valid"
    else:
        reason = "scope"
    messages = {
        "revoked": "申请人已撤销对您的授权委托，您不能再代办此件。",
        "expired": "您代办此件的授权委托已过期，不能继续办理；请申请人重新授权。",
        "not_yet_valid": "您的授权委托尚未生效。",
        "scope": "您的授权委托不包括此事项。",
    }
    raise PermissionDenied(
        messages[reason],
        code="authorization_invalid",
        details={"reason": reason, "case_id": case.pk, "authorization_id": past.pk},
    )


@action
def helper_authorization_record(
    *,
    actor: Any,
    principal_id: int,
    valid_days: int = 30,
    scopes: Iterable[str] = HELPER_SCOPES,
    item_codes: Iterable[str] = (),
    note: str = "",
) -> Authorization:
    """帮办代办授权 — the applicant, present at the hall and identified, authorises this 帮办代办员.

    The helper records it (kind ``hall_helper``) for ``valid_days`` days (1–90) and the scopes given
    (applying, following, 补正, receiving the result by default); the applicant sees and may revoke it
    under 我的授权.
    """
    if not is_helper(actor):
        raise PermissionDenied("只有帮办代办员可以登记帮办代办授权。", code="helper_only")
    principal = User.objects.filter(pk=principal_id, is_active=True).first()
    if principal is None or principal.kind not in (User.Kind.PERSON, User.Kind.ENTERPRISE):
        raise NotFound("委托人不存在。", code="principal_not_found")
    if principal.kind == User.Kind.PERSON and not hasattr(principal, "person"):
        raise ValidationFailed("委托人尚未实名登记。", code="real_name_required")
    days = int(valid_days)
    if not (1 <= days <= MAX_HELPER_DAYS):
        raise ValidationFailed(f"授权期限应为1至{MAX_HELPER_DAYS}天。", code="invalid_validity")
    from yiwang.accounts.services import AUTHORIZATION_SCOPES

    scopes = sorted(set(scopes))
    if not scopes or any(s not in AUTHORIZATION_SCOPES for s in scopes):
        raise ValidationFailed("授权范围无效。", code="invalid_scope", details={"allowed": AUTHORIZATION_SCOPES})
    now = timezone.now()
    grant = Authorization.objects.create(
        principal=principal,
        agent=actor,
        kind=Authorization.Kind.HALL_HELPER,
        scopes=scopes,
        item_codes=[c for c in item_codes if c],
        valid_from=now,
        valid_until=now + dt.timedelta(days=days),
        note=(note or "政务服务中心帮办代办")[:200],
    )
    audit.record(
        actor=actor,
        action="cases.helper_authorization",
        obj=grant,
        summary={"principal": principal.pk, "days": days, "scopes": scopes},
    )
    return grant


@action
def helper_authorization_end(*, actor: Any, authorization_id: int) -> Authorization:
    """帮办代办结束 — the helper (or the principal) ends a hall authorisation before it expires."""
    grant = Authorization.objects.filter(pk=authorization_id, kind=Authorization.Kind.HALL_HELPER).first()
    if grant is None or getattr(actor, "pk", None) not in (grant.agent_id, grant.principal_id):
        raise NotFound("授权不存在。", code="authorization_not_found")
    if grant.revoked_at is None:
        grant.revoked_at = timezone.now()
        grant.save(update_fields=["revoked_at"])
        audit.record(actor=actor, action="cases.helper_authorization_end", obj=grant)
    return grant


def helper_principals(*, actor: Any) -> list[Authorization]:
    """The valid hall authorisations this helper holds (whom they may file for now)."""
    return list(
        Authorization.objects.valid_at()
        .filter(agent_id=actor.pk, kind=Authorization.Kind.HALL_HELPER)
        .select_related("principal")
        .order_by("-valid_from")
    )

"""Optional targets: cases (一事一评) and 12345 work orders, when those apps are installed.

Ratings sit above cases and hotline in the import order, so this module may import them; they never
import ratings. They announce "the service happened" with an on-commit event, and we invite a rating.
"""

from __future__ import annotations

import logging

from django.apps import apps

from yiwang.core.actors import SystemActor
from yiwang.core.errors import NotFound

from . import targets
from .scale import Mode

log = logging.getLogger(__name__)
ACTOR = SystemActor("ratings.invite")


class CaseTarget:
    """办件 — rated once per case (一事一评) after it is completed (办结), never before."""

    kind = "case"
    label = "办件"

    def get(self, target_id: str) -> targets.Target:
        from yiwang.cases.models import Case
        from yiwang.cases.states import State

        if not str(target_id).isdigit():
            raise NotFound()
        case = Case.objects.select_related("item", "window", "applicant").filter(pk=int(target_id)).first()
        if case is None:
            raise NotFound()
        completed = case.state == State.COMPLETED and case.completed_at is not None
        return targets.Target(
            kind=self.kind,
            id=str(case.pk),
            label=f"{case.item_name}（{case.number or case.pk}）",
            mode=Mode.ONLINE if case.channel == Case.Channel.ONLINE else Mode.ONSITE,
            served_at=case.completed_at if completed else None,
            state=case.state,
            region_code=case.region_code,
            department_id=case.department_id,
            hall_id=case.window.hall_id if case.window_id else None,
            window_id=case.window_id,
            staff_id=case.handler_id,
            item_code=case.item.code,
            item_name=case.item_name,
            person_id=case.applicant_id,
            phone=case.contact_phone or (case.applicant.phone or ""),
        )


def _on_case_completed(sender, case_id: int, **kwargs) -> None:
    from .services import invite_after_service

    invite_after_service(actor=ACTOR, kind="case", target_id=case_id)


def connect() -> None:
    """Register the target types and subscribe to the events of the apps that are installed."""
    if apps.is_installed("yiwang.cases"):
        try:
            from yiwang.cases import events as case_events
        except ImportError:  # an older cases app without events
            case_events = None
        if case_events is not None and hasattr(case_events, "case_completed"):
            targets.register(CaseTarget())
            case_events.case_completed.connect(_on_case_completed, dispatch_uid="ratings.invite_after_case")

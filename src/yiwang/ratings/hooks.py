"""Optional targets: cases (一事一评), 一件事 bundles (one rating for the whole bundle) and 12345 work orders,
when those apps are installed.

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


class WorkOrderTarget:
    """12345 工单 — rated once the demand was finished (办结 or answered from the knowledge base)."""

    kind = "workorder"
    label = "12345工单"

    def get(self, target_id: str) -> targets.Target:
        from yiwang.hotline.models import WorkOrder
        from yiwang.hotline.transitions import State

        if not str(target_id).isdigit():
            raise NotFound()
        order = WorkOrder.objects.select_related("category").filter(pk=int(target_id)).first()
        if order is None:
            raise NotFound()
        finished = order.status in (State.CLOSED, State.ANSWERED) and order.closed_at is not None
        return targets.Target(
            kind=self.kind,
            id=str(order.pk),
            label=f"12345工单 {order.number or order.pk} · {order.title}",
            mode=Mode.ONLINE,
            served_at=order.closed_at if finished else None,
            state=order.status,
            region_code=order.region_id,
            department_id=order.department_id,
            staff_id=order.taken_by_id,
            item_code=f"12345:{order.category.code}" if order.category_id else "",
            item_name=f"12345 {order.category.name}" if order.category_id else "12345热线诉求",
            person_id=order.caller_user_id,
            phone="" if order.is_confidential else order.caller_phone,
        )


class BundleTarget:
    """一件事办件 — a bundle applied for once is rated once, as a whole, when it concluded (已办结, 部分办结 or
    未办成); its child cases are not rated on their own. A withdrawn bundle is not rated."""

    kind = "bundle"
    label = "一件事"
    RATEABLE = ("completed", "partial", "failed")

    def get(self, target_id: str) -> targets.Target:
        from yiwang.cases.models import BundleCase

        if not str(target_id).isdigit():
            raise NotFound()
        parent = BundleCase.objects.select_related("bundle", "window", "applicant").filter(pk=int(target_id)).first()
        if parent is None:
            raise NotFound()
        served = parent.state in self.RATEABLE and parent.closed_at is not None
        return targets.Target(
            kind=self.kind,
            id=str(parent.pk),
            label=f"{parent.bundle_name}（{parent.number}）",
            mode=Mode.ONLINE if parent.channel == BundleCase.Channel.ONLINE else Mode.ONSITE,
            served_at=parent.closed_at if served else None,
            state=parent.state,
            region_code=parent.region_code,
            department_id=parent.lead_department_id,
            hall_id=parent.window.hall_id if parent.window_id else None,
            window_id=parent.window_id,
            item_code=f"bundle:{parent.bundle.code}"[:64],
            item_name=parent.bundle_name[:200],
            person_id=parent.applicant_id,
            phone=parent.contact_phone or (parent.applicant.phone or ""),
        )


def _on_order_finished(sender, order_id: int, **kwargs) -> None:
    from .services import invite_after_service

    invite_after_service(actor=ACTOR, kind="workorder", target_id=order_id)


def _on_case_completed(sender, case_id: int, **kwargs) -> None:
    from .services import invite_after_service

    invite_after_service(actor=ACTOR, kind="case", target_id=case_id)


def _on_bundle_completed(*, bundle_case_id: int, outcome: str, **kwargs) -> None:
    """一件事一次评价 — ONE invitation for the parent; the child cases are never invited on their own."""
    from .services import invite_after_service

    if outcome not in BundleTarget.RATEABLE:
        return
    invite_after_service(actor=ACTOR, kind="bundle", target_id=bundle_case_id)


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
        if case_events is not None and hasattr(case_events, "bundle_completed"):
            targets.register(BundleTarget())
            case_events.bundle_completed.connect(_on_bundle_completed)
    if apps.is_installed("yiwang.hotline"):
        try:
            from yiwang.hotline import events as hotline_events
        except ImportError:
            hotline_events = None
        if hotline_events is not None and hasattr(hotline_events, "order_finished"):
            targets.register(WorkOrderTarget())
            hotline_events.order_finished.connect(_on_order_finished, dispatch_uid="ratings.invite_after_order")

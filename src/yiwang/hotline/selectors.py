"""Reads of the 12345 hotline: visible orders, queues (坐席, 承办单位), overdue orders, duplicates (并单 hints),
a citizen's own orders and the order history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from yiwang.accounts.selectors import department_ids
from yiwang.core.errors import NotFound
from yiwang.core.permissions import policy

from . import text
from .models import Assignment, ExtensionRequest, WorkOrder
from .rules import HANDLER_ROLES
from .transitions import OPEN_STATES, State

#: What the 12345 platform still has to do (坐席 queue).
PLATFORM_QUEUE = (State.NEW, State.RETURN_REVIEW, State.REPLIED, State.VISITING)
DEPARTMENT_QUEUE = (State.DISPATCHED, State.REOPENED, State.HANDLING)


def orders(user: Any) -> QuerySet[WorkOrder]:
    """Orders ``user`` may see."""
    base = WorkOrder.objects.select_related("region", "department", "category")
    return policy.filter(user, "hotline.order.view", base)


def order(user: Any, *, order_id: int | None = None, number: str | None = None) -> WorkOrder:
    qs = orders(user)
    found = qs.filter(pk=order_id).first() if order_id is not None else qs.filter(number=number or "").first()
    if found is None:
        raise NotFound("工单不存在或您无权查看。", code="workorder_not_found")
    return found


def platform_queue(user: Any, *, states: tuple[str, ...] = PLATFORM_QUEUE) -> QuerySet[WorkOrder]:
    """坐席/督办 queue: orders in scope waiting for the platform (派单, 退单审核, 答复审核, 回访)."""
    if not policy.allows(user, "hotline.kpi.view"):
        return WorkOrder.objects.none()
    return orders(user).filter(status__in=states).order_by("created_at", "id")


def department_queue(user: Any, *, states: tuple[str, ...] = DEPARTMENT_QUEUE) -> QuerySet[WorkOrder]:
    """承办单位 queue: orders whose 主办 department is one of the user's (待签收, 重办, 办理中)."""
    mine = department_ids(user, HANDLER_ROLES)
    if not mine:
        return WorkOrder.objects.none()
    return (
        WorkOrder.objects.select_related("region", "department", "category")
        .filter(department_id__in=mine, status__in=states)
        .order_by("handle_due_at", "id")
    )


def assisting(user: Any) -> QuerySet[WorkOrder]:
    """Open orders where one of the user's departments is 协办."""
    mine = department_ids(user, HANDLER_ROLES)
    if not mine:
        return WorkOrder.objects.none()
    ids = Assignment.objects.filter(department_id__in=mine, role=Assignment.Role.ASSIST).values("order_id")
    return WorkOrder.objects.filter(pk__in=ids, status__in=[s.value for s in OPEN_STATES]).order_by("handle_due_at")


def overdue_q(now: dt.datetime) -> Q:
    """Orders past their 签收 deadline (not signed) or past their handling deadline (not replied)."""
    unsigned = Q(status__in=[State.DISPATCHED, State.REOPENED], sign_due_at__lt=now)
    unhandled = Q(status__in=[State.DISPATCHED, State.REOPENED, State.HANDLING], handle_due_at__lt=now)
    return unsigned | unhandled


def overdue(user: Any, *, now: dt.datetime | None = None) -> QuerySet[WorkOrder]:
    return orders(user).filter(overdue_q(now or timezone.now())).order_by("handle_due_at", "id")


def pending_extensions(user: Any) -> QuerySet[ExtensionRequest]:
    visible = orders(user).values("pk")
    return (
        ExtensionRequest.objects.filter(status=ExtensionRequest.Status.PENDING, order_id__in=visible)
        .select_related("order", "department")
        .order_by("requested_at")
    )


def my_orders(user: Any) -> QuerySet[WorkOrder]:
    """A citizen's own orders (web/mobile submissions and calls linked to the account)."""
    if user is None or not getattr(user, "is_authenticated", False) or getattr(user, "pk", None) is None:
        return WorkOrder.objects.none()
    return (
        WorkOrder.objects.filter(caller_user_id=user.pk).select_related("department", "region").order_by("-created_at")
    )


def history(order: WorkOrder):
    return order.events.select_related("department").order_by("at", "id")


@dataclass(frozen=True)
class Duplicate:
    order: WorkOrder
    score: float


def _place_prefix(code: str) -> str:
    """Same place = same 乡镇/街道 (9 digits) when known, else the county (6) or the city (4)."""
    if code[6:9].strip("0"):
        return code[:9]
    if code[4:6].strip("0"):
        return code[:6]
    return code[:4]


def duplicates(
    *,
    title: str,
    content: str,
    region_code: str,
    days: int = 7,
    threshold: float = 0.35,
    exclude_id: int | None = None,
    limit: int = 5,
    now: dt.datetime | None = None,
) -> list[Duplicate]:
    """并单 candidates: open orders at the same place within ``days`` with similar text, most similar first."""
    now = now or timezone.now()
    prefix = _place_prefix(region_code or "")
    qs = (
        WorkOrder.objects.filter(
            region__code__startswith=prefix,
            created_at__gte=now - dt.timedelta(days=days),
            status__in=[s.value for s in OPEN_STATES],
        )
        .exclude(pk=exclude_id)
        .select_related("department")
        .order_by("-created_at")[:500]
    )
    probe = f"{title} {content}"
    found = []
    for candidate in qs:
        score = text.similarity(probe, f"{candidate.title} {candidate.content}")
        if score >= threshold:
            found.append(Duplicate(candidate, score))
    found.sort(key=lambda d: -d.score)
    return found[:limit]


def attachments(user: Any, order: WorkOrder) -> list:
    """The order's attachments ``user`` may open (confidential orders: the caller, the platform, the uploader)."""
    from .models import Attachment

    rows = Attachment.objects.filter(order=order).select_related("file", "order").order_by("id")
    return [a for a in rows if policy.allows(user, "hotline.attachment.view", a)]


def attachment(user: Any, attachment_id: int):
    """One attachment ``user`` may open, else ``attachment_not_found`` (never saying whether it exists)."""
    from .models import Attachment

    found = Attachment.objects.select_related("file", "order").filter(pk=attachment_id).first()
    if found is None or not policy.allows(user, "hotline.attachment.view", found):
        raise NotFound("附件不存在或您无权查看。", code="attachment_not_found")
    return found


def iter_index_documents(*, chunk_size: int = 500):
    """Knowledge-base entries for the site search (``yiwang.search`` reads this when the hotline is installed).

    Active entries within their validity window; entries taken from service-item FAQs are left out, since
    the items' own search documents already carry their FAQs.
    """
    from .knowledge import CATALOG_SOURCE
    from .models import KnowledgeEntry

    today = timezone.localdate()
    qs = (
        KnowledgeEntry.objects.filter(is_active=True)
        .exclude(source=CATALOG_SOURCE)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=today))
        .select_related("department")
        .order_by("pk")
    )
    for entry in qs.iterator(chunk_size=chunk_size):
        yield {
            "code": f"kb{entry.pk}",
            "question": entry.question,
            "answer": entry.answer,
            "department": entry.department.name if entry.department_id else entry.department_name,
            "region_code": entry.region_code,
            "url": "",
        }

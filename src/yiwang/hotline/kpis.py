"""热线指标 — hotline KPIs over the orders a user may see, with breakdowns, and hot topics.

Definitions (domain-cn.md §5.5), for orders received in the period (不予受理 excluded):

- 按时签收率 = dispatches (主办) signed by their 签收 deadline ÷ dispatches signed (each 派单, 改派 and 重办 counts)
- 按时办结率 = department replies by the handling deadline ÷ department replies
- 直接办结率 = orders closed from the knowledge base (直接办结) ÷ demands (orders less 并单)
- 回访率 = finished orders with a 回访 ÷ finished orders (办结 + 直接办结)
- 满意率 = 满意 + 基本满意 ÷ orders with a 回访 result
- 重复诉求率 = orders merged into another (并单) ÷ orders
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.db.models import Count, F, Q
from django.db.models.functions import Substr, TruncDate
from django.utils import timezone

from yiwang.directory.models import Department, Region

from . import selectors, text
from .models import Assignment, Category, WorkOrder
from .timelimits import LOCAL
from .transitions import State

SIGN_COUNTS = {
    "signed": Count("pk", filter=Q(signed_at__isnull=False)),
    "signed_on_time": Count("pk", filter=Q(signed_at__isnull=False, signed_at__lte=F("sign_due_at"))),
}
COUNTS = {
    "total": Count("pk"),
    "direct": Count("pk", filter=Q(status=State.ANSWERED)),
    "replied": Count("pk", filter=Q(replied_at__isnull=False, department__isnull=False)),
    "replied_on_time": Count(
        "pk", filter=Q(replied_at__isnull=False, department__isnull=False, replied_at__lte=F("handle_due_at"))
    ),
    "done": Count("pk", filter=Q(status__in=[State.CLOSED, State.ANSWERED])),
    "done_visited": Count("pk", filter=Q(status__in=[State.CLOSED, State.ANSWERED], visited_at__isnull=False)),
    "visited": Count("pk", filter=~Q(satisfaction="")),
    "satisfied": Count("pk", filter=Q(satisfaction__in=["satisfied", "basic"])),
    "merged": Count("pk", filter=Q(status=State.MERGED)),
}


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _row(key: str, label: str, c: dict[str, Any]) -> dict[str, Any]:
    demands = c["total"] - c["merged"]
    return {
        "key": key,
        "label": label,
        **{
            k: c[k]
            for k in (
                "total",
                "direct",
                "signed",
                "signed_on_time",
                "replied",
                "replied_on_time",
                "visited",
                "satisfied",
                "merged",
            )
        },
        "sign_on_time_rate": _rate(c["signed_on_time"], c["signed"]),
        "handle_on_time_rate": _rate(c["replied_on_time"], c["replied"]),
        "direct_rate": _rate(c["direct"], demands),
        "visit_rate": _rate(c["done_visited"], c["done"]),
        "satisfaction_rate": _rate(c["satisfied"], c["visited"]),
        "repeat_rate": _rate(c["merged"], c["total"]),
    }


def _period(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    end = end or today
    start = start or end - dt.timedelta(days=29)
    if start > end:
        start, end = end, start
    return start, end


def base(user: Any, start: dt.date, end: dt.date):
    lo = dt.datetime.combine(start, dt.time.min, tzinfo=LOCAL)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=LOCAL)
    return selectors.orders(user).filter(created_at__gte=lo, created_at__lt=hi).exclude(status=State.REFUSED)


def compute(user: Any, *, start: dt.date | None = None, end: dt.date | None = None, by: str = "none") -> dict:
    """KPIs for the period (default: the last 30 days), in total and grouped ``by`` day/region/category/department."""
    start, end = _period(start, end)
    qs = base(user, start, end).order_by()
    assignments = Assignment.objects.filter(order__in=qs.values("pk"), role=Assignment.Role.LEAD).order_by()
    total = _row("total", "合计", {**qs.aggregate(**COUNTS), **assignments.aggregate(**SIGN_COUNTS)})
    rows: list[dict[str, Any]] = []
    if by != "none":
        key, sign_key = {
            "day": (TruncDate("created_at", tzinfo=LOCAL), TruncDate("order__created_at", tzinfo=LOCAL)),
            "region": (Substr("region_id", 1, 6), Substr("order__region_id", 1, 6)),
            "category": (Substr("category__code", 1, 2), Substr("order__category__code", 1, 2)),
            "department": (F("department_id"), F("department_id")),
        }[by]
        grouped = {_key(g["k"]): g for g in qs.annotate(k=key).values("k").annotate(**COUNTS)}
        signs = {_key(g["k"]): g for g in assignments.annotate(k=sign_key).values("k").annotate(**SIGN_COUNTS)}
        empty = {name: 0 for name in (*COUNTS, *SIGN_COUNTS)}
        labels = _labels(by, list(grouped) + list(signs))
        for k in sorted(set(grouped) | set(signs)):
            counts = {**empty, **grouped.get(k, {}), **signs.get(k, {})}
            rows.append(_row(k, labels.get(k, k or "（未分类/未派单）"), counts))
    return {"start": start, "end": end, "total": total, "rows": rows}


def _key(value: Any) -> str:
    return "" if value is None else str(value)


def _labels(by: str, keys: list[Any]) -> dict[str, str]:
    keys = [k for k in keys if k not in (None, "")]
    if by == "region":
        return {r.code[:6]: r.full_name or r.name for r in Region.objects.filter(code__in=[f"{k}000000" for k in keys])}
    if by == "category":
        return {c.code: c.name for c in Category.objects.filter(code__in=keys, level=1)}
    if by == "department":
        return {str(d.pk): d.name for d in Department.objects.filter(pk__in=keys)}
    return {str(k): str(k) for k in keys}


def hot_topics(user: Any, *, days: int = 7, limit: int = 10, min_size: int = 2) -> list[dict[str, Any]]:
    """热点诉求: clusters of similar orders received in the last ``days`` days, largest first."""
    since = timezone.now() - dt.timedelta(days=days)
    orders = list(
        selectors.orders(user)
        .filter(created_at__gte=since)
        .exclude(status=State.REFUSED)
        .order_by("-created_at")
        .values_list("pk", "title", "content", "region__name")[:3000]
    )
    by_id = {o[0]: o for o in orders}
    clusters = text.cluster((o[0], f"{o[1]} {o[2][:120]}") for o in orders)
    topics = []
    for members in clusters:
        if len(members) < min_size:
            break
        regions = Counter(by_id[m][3] for m in members)
        topics.append(
            {
                "size": len(members),
                "title": by_id[members[0]][1],
                "order_ids": list(members),
                "region_name": regions.most_common(1)[0][0],
            }
        )
        if len(topics) >= limit:
            break
    return topics


__all__ = ["WorkOrder", "compute", "hot_topics"]

"""公开 — what the portal publishes: per-department monthly figures and summaries of rectified 差评,
without any personal data (no evaluator, no staff names, no free text from the rating)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Sum

from yiwang.directory.models import Department

from . import rollups, scale
from .models import RatingRollup, Rectification, ServiceRollup
from .reports import MEASURES, Period, _figures
from .transitions import Classification, State


@dataclass(frozen=True)
class PublicCase:
    closed_on: str
    item_name: str
    level_label: str
    classification_label: str
    summary: str


def department_figures(department_id: int, period: Period) -> scale.Figures:
    where = {"department_id": department_id, **_period_kwargs(period)}
    rollups.flush()  # every committed rating counted, queued ones too (decision 0018)
    levels: dict[int, tuple[int, ...]] = {}
    sums = {f"s_{m}": Sum(m) for m in MEASURES}
    for level, *measures in (
        RatingRollup.objects.filter(**where).values("level").annotate(**sums).values_list("level", *sums)
    ):
        levels[level] = tuple(v or 0 for v in measures)
    served = ServiceRollup.objects.filter(**where).aggregate(n=Sum("served"))["n"] or 0
    return _figures(levels, served)


def _period_kwargs(period: Period) -> dict:
    if period.whole_months:
        return {"grain": "md", "period__gte": period.start, "period__lte": period.end.replace(day=1)}
    return {"grain": "dd", "period__gte": period.start, "period__lte": period.end}


def region_overview(region_prefix: str, period: Period) -> list[tuple[Department, scale.Figures]]:
    """Every department of a region (and below) with ratings or services in the period."""
    where = {"region_code__startswith": region_prefix, **_period_kwargs(period)}
    rollups.flush()
    ids = set(RatingRollup.objects.filter(**where).values_list("department_id", flat=True).distinct())
    ids |= set(ServiceRollup.objects.filter(**where).values_list("department_id", flat=True).distinct())
    departments = Department.objects.filter(pk__in=[i for i in ids if i]).order_by("region_id", "sort_order", "name")
    return [(d, department_figures(d.pk, period)) for d in departments]


def rectified_cases(department_id: int, period: Period, *, limit: int = 50) -> list[PublicCase]:
    """差评 closed in the period: what the item was, how it was handled, the published summary."""
    from .rollups import local_date

    rects = (
        Rectification.objects.filter(
            department_id=department_id,
            state=State.CLOSED,
            closed_at__date__gte=period.start,
            closed_at__date__lte=period.end,
        )
        .select_related("rating")
        .order_by("-closed_at")[:limit]
    )
    return [
        PublicCase(
            closed_on=f"{local_date(r.closed_at):%Y-%m-%d}",
            item_name=r.rating.item_name or "窗口服务",
            level_label=scale.Level(r.rating.level).label,
            classification_label=Classification(r.classification).label if r.classification else "",
            summary=r.public_summary,
        )
        for r in rects
    ]

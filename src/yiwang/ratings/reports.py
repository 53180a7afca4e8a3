"""好差评报表 — figures for any period by department, hall, window, item or staff, read from rollups only.

A period made of whole months reads the month rows; any other period reads the day rows. The KPIs
(好评率, 差评率, 主动评价率, 整改率, 回访率, 满意度) are computed by :class:`yiwang.ratings.scale.Figures`;
rankings apply the configured minimum sample (:func:`yiwang.ratings.scale.rank`).
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet, Sum

from yiwang.accounts.models import User
from yiwang.core.errors import ValidationFailed
from yiwang.core.permissions import policy
from yiwang.directory.models import Department, ServiceHall, Window

from . import conf, scale
from .models import RatedItem, RatingRollup, ReasonRollup, ServiceRollup

DIMENSIONS = {
    "department": ("department_id", "部门"),
    "hall": ("hall_id", "服务大厅"),
    "window": ("window_id", "窗口"),
    "staff": ("staff_id", "工作人员"),
    "item": ("item_code", "事项"),
    "channel": ("channel", "评价渠道"),
}
# Rollup grains from the smallest: the columns each keeps (region and department always).
MONTH_GRAINS = (
    ("md", {"department_id", "channel"}),
    ("ms", {"department_id", "hall_id", "window_id", "staff_id"}),
    ("mi", {"department_id", "item_code"}),
    ("m", {"department_id", "hall_id", "window_id", "staff_id", "item_code", "channel"}),
)
DAY_GRAINS = (("dd", {"department_id", "channel"}), ("d", MONTH_GRAINS[-1][1]))


def grain_for(period: Period, columns: set[str]) -> str:
    """The smallest rollup grain that has ``columns`` for ``period`` (month rows for whole months)."""
    for grain, kept in MONTH_GRAINS if period.whole_months else DAY_GRAINS:
        if columns <= kept:
            return grain
    raise ValueError(f"no rollup grain keeps {columns}")


MAX_DAYS = 366 * 3
MEASURES = ("rated", "active", "defaulted", "invalidated", "rectified", "revisited")


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValidationFailed("结束日期不能早于开始日期。", code="report_period_invalid")
        if (self.end - self.start).days > MAX_DAYS:
            raise ValidationFailed("统计期间不超过三年。", code="report_period_too_long")

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        last = _calendar.monthrange(year, month)[1]
        return cls(dt.date(year, month, 1), dt.date(year, month, last))

    @classmethod
    def parse_month(cls, value: str) -> Period:
        try:
            year, month = (int(p) for p in str(value).split("-", 1))
            return cls.month(year, month)
        except (ValueError, TypeError):
            raise ValidationFailed("月份格式应为 YYYY-MM。", code="report_month_invalid") from None

    @property
    def whole_months(self) -> bool:
        last = _calendar.monthrange(self.end.year, self.end.month)[1]
        return self.start.day == 1 and self.end.day == last

    @property
    def label(self) -> str:
        if self.whole_months and (self.start.year, self.start.month) == (self.end.year, self.end.month):
            return f"{self.start.year}年{self.start.month}月"
        return f"{self.start:%Y-%m-%d} 至 {self.end:%Y-%m-%d}"

    def grain_filter(self, grain: str) -> Q:
        """The rows of ``grain`` (see :func:`grain_for`) that cover the period."""
        if grain.startswith("m"):
            return Q(grain=grain, period__gte=self.start.replace(day=1), period__lte=self.end.replace(day=1))
        return Q(grain=grain, period__gte=self.start, period__lte=self.end)

    def previous_months(self, n: int) -> list[dt.date]:
        """The first days of the ``n`` months ending with the period's last month."""
        months, year, month = [], self.end.year, self.end.month
        for _ in range(n):
            months.append(dt.date(year, month, 1))
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        return months[::-1]


@dataclass(frozen=True)
class Filters:
    """Narrow a report to one department / hall / window / staff member / item / region."""

    department_id: int | None = None
    hall_id: int | None = None
    window_id: int | None = None
    staff_id: int | None = None
    item_code: str = ""
    region_code: str = ""  # a region-code prefix

    @property
    def dimensions(self) -> set[str]:
        """The rollup columns the filter reads (besides the region)."""
        dims = {name for name in ("department_id", "hall_id", "window_id", "staff_id") if getattr(self, name)}
        if self.item_code:
            dims.add("item_code")
        return dims

    def q(self) -> Q:
        q = Q()
        for name in ("department_id", "hall_id", "window_id", "staff_id"):
            value = getattr(self, name)
            if value:
                q &= Q(**{name: value})
        if self.item_code:
            q &= Q(item_code=self.item_code)
        if self.region_code:
            q &= Q(region_code__startswith=self.region_code)
        return q


@dataclass
class Row:
    key: Any
    label: str
    figures: scale.Figures
    rank: int | None = None


@dataclass
class Report:
    period: Period
    by: str
    filters: Filters
    total: scale.Figures
    rows: list[Row]
    trend: list[tuple[dt.date, scale.Figures]] = field(default_factory=list)
    top_reasons: list[tuple[str, str, int]] = field(default_factory=list)
    bad_reasons: list[tuple[str, str, int]] = field(default_factory=list)
    min_sample: int = 0

    @property
    def by_label(self) -> str:
        return DIMENSIONS[self.by][1]


def _scoped(actor: Any, qs: QuerySet) -> QuerySet:
    return policy.filter(actor, "ratings.report.view", qs)


def _figures(levels: dict[int, tuple[int, ...]], served: int) -> scale.Figures:
    """Figures from level → (rated, active, defaulted, invalidated, rectified, revisited)."""
    by_level, active, rectified, revisited = {}, 0, 0, 0
    for level, m in levels.items():
        by_level[level] = m[0]
        active += m[1]
        if level <= 2:  # 差评
            rectified += m[4]
            revisited += m[5]
    return scale.Figures(
        by_level=by_level, rateable=served, active=active, bad_rectified=rectified, bad_revisited=revisited
    )


def _aggregate(actor: Any, where: Q, group: str | None) -> tuple[dict[Any, dict[int, tuple[int, ...]]], dict]:
    """(key → level → measures, key → served) for the rows matching ``where``."""
    fields = [group, "level"] if group else ["level"]
    sums = {f"s_{m}": Sum(m) for m in MEASURES}
    levels: dict[Any, dict[int, tuple[int, ...]]] = defaultdict(dict)
    qs = _scoped(actor, RatingRollup.objects.filter(where)).values(*fields).annotate(**sums).order_by()
    for row in qs.values_list(*fields, *sums):
        key, level, measures = (row[0], row[1], row[2:]) if group else (None, row[0], row[1:])
        levels[key][level] = tuple(v or 0 for v in measures)
    served: dict[Any, int] = defaultdict(int)
    if group != "channel":  # rateable services have no channel
        s_fields = [group] if group else []
        qs = _scoped(actor, ServiceRollup.objects.filter(where)).values(*s_fields).annotate(n=Sum("served")).order_by()
        for row in qs.values_list(*s_fields, "n"):
            served[row[0] if group else None] += row[-1] or 0
    return levels, served


def _labels(by: str, keys: list) -> dict[Any, str]:
    ids = [k for k in keys if k]
    if by == "department":
        return dict(Department.objects.filter(pk__in=ids).values_list("pk", "name"))
    if by == "hall":
        return dict(ServiceHall.objects.filter(pk__in=ids).values_list("pk", "name"))
    if by == "window":
        return {
            pk: f"{hall} {number}号 {name}"
            for pk, hall, number, name in Window.objects.filter(pk__in=ids).values_list(
                "pk", "hall__name", "number", "name"
            )
        }
    if by == "staff":
        return {
            pk: display or username
            for pk, display, username in User.objects.filter(pk__in=ids).values_list("pk", "display_name", "username")
        }
    if by == "item":
        return dict(RatedItem.objects.filter(code__in=ids).values_list("code", "name"))
    if by == "channel":
        return {c.value: c.label for c in scale.Channel}
    return {}


def _reasons(actor: Any, where: Q, *, bad_only: bool, limit: int = 10) -> list[tuple[str, str, int]]:
    qs = _scoped(actor, ReasonRollup.objects.filter(where))
    if bad_only:
        qs = qs.filter(level__lte=2)
    rows = qs.values("reason").annotate(n=Sum("n")).filter(n__gt=0).order_by("-n", "reason")[:limit]
    return [(r["reason"], scale.REASON_LABELS.get(r["reason"], r["reason"]), r["n"]) for r in rows]


def build(
    actor: Any,
    *,
    period: Period,
    by: str = "department",
    filters: Filters | None = None,
    trend_months: int = 12,
    min_sample: int | None = None,
) -> Report:
    """The report of ``period`` broken down ``by`` one dimension, with totals, trend and top reasons."""
    if by not in DIMENSIONS:
        raise ValidationFailed("不支持的统计维度。", code="report_dimension_invalid", details={"by": by})
    policy.require(actor, "ratings.report.view")
    filters = filters or Filters()
    column = DIMENSIONS[by][0]
    where = period.grain_filter(grain_for(period, {column} | filters.dimensions)) & filters.q()
    levels, served = _aggregate(actor, where, column)
    labels = _labels(by, list(levels) + list(served))
    keys = sorted(set(levels) | set(served), key=lambda k: (str(labels.get(k, k)), str(k)))
    rows = [
        Row(
            key=k,
            label=labels.get(k) or ("（未指定）" if not k else str(k)),
            figures=_figures(levels.get(k, {}), served.get(k, 0)),
        )
        for k in keys
    ]
    total_levels: dict[int, list[int]] = defaultdict(lambda: [0] * len(MEASURES))
    for per_key in levels.values():
        for level, measures in per_key.items():
            acc = total_levels[level]
            for i, value in enumerate(measures):
                acc[i] += value
    total = _figures(dict(total_levels), sum(served.values()))
    min_sample = conf.get().RANKING_MIN_SAMPLE if min_sample is None else min_sample
    ranked = {id(r.key): r.rank for r in scale.rank([(row, row.figures) for row in rows], min_sample=min_sample)}
    for row in rows:
        row.rank = ranked.get(id(row))
    report = Report(period=period, by=by, filters=filters, total=total, rows=rows, min_sample=min_sample)
    report.trend = trend(actor, period=period, filters=filters, months=trend_months)
    reason_grain = grain_for(period, filters.dimensions - {"channel"})
    reason_where = period.grain_filter(reason_grain) & filters.q()
    report.top_reasons = _reasons(actor, reason_where, bad_only=False)
    report.bad_reasons = _reasons(actor, reason_where, bad_only=True)
    return report


def trend(actor: Any, *, period: Period, filters: Filters, months: int = 12) -> list[tuple[dt.date, scale.Figures]]:
    """Month by month up to the period's last month (from the month rows)."""
    if months <= 0:
        return []
    firsts = period.previous_months(months)
    grain = grain_for(Period.month(firsts[0].year, firsts[0].month), filters.dimensions)
    where = Q(grain=grain, period__gte=firsts[0], period__lte=firsts[-1]) & filters.q()
    levels: dict[dt.date, dict[int, tuple[int, ...]]] = defaultdict(dict)
    sums = {f"s_{m}": Sum(m) for m in MEASURES}
    qs = _scoped(actor, RatingRollup.objects.filter(where)).values("period", "level").annotate(**sums).order_by()
    for period_, level, *measures in qs.values_list("period", "level", *sums):
        levels[period_][level] = tuple(v or 0 for v in measures)
    served = {
        row["period"]: row["n"] or 0
        for row in _scoped(actor, ServiceRollup.objects.filter(where))
        .values("period")
        .annotate(n=Sum("served"))
        .order_by()
    }
    return [(month, _figures(levels.get(month, {}), served.get(month, 0))) for month in firsts]


def ranking(report: Report) -> list[Row]:
    """The rows in rank order: ranked first (by 好评率, 满意度, sample), then those below the minimum sample."""
    ranked = sorted((r for r in report.rows if r.rank is not None), key=lambda r: (r.rank, r.label))
    unranked = sorted((r for r in report.rows if r.rank is None), key=lambda r: (-r.figures.total, r.label))
    return ranked + unranked


def percent(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def score(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"

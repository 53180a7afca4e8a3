"""好差评报表 — figures for any period by department, hall, window, item or staff, read from rollups only.

A period made of whole months reads the month rows; any other period reads the day rows. The KPIs
(好评率, 差评率, 主动评价率, 整改率, 回访率, 满意度) are computed by :class:`yiwang.ratings.scale.Figures`;
rankings apply the configured minimum sample (:func:`yiwang.ratings.scale.rank`).
"""

from __future__ import annotations

import calendar as _calendar
import contextlib
import datetime as dt
import gc
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, connections
from django.db.models import Q, QuerySet, Sum

from yiwang.accounts.models import User
from yiwang.core.errors import ValidationFailed
from yiwang.core.permissions import policy
from yiwang.directory.models import Department, ServiceHall, Window

from . import conf, rollups, scale
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


# One row per key: rated by level (5 … 1), active, and rectified / revisited of the 差评 (levels 1–2).
_PIVOT = {
    **{f"l{level}": Sum("rated", filter=Q(level=level)) for level in (5, 4, 3, 2, 1)},
    "active": Sum("active"),
    "rectified": Sum("rectified", filter=Q(level__lte=2)),
    "revisited": Sum("revisited", filter=Q(level__lte=2)),
}


def _rows(qs: QuerySet, label: tuple | None = None) -> list[tuple]:
    """The rows of a values_list query grouped by a key, without the ORM's per-value conversions (plain
    integers: a province-wide report by staff member reads tens of thousands of rows); with ``label``
    (model, key column, label columns) the key's label columns are joined on in the same statement."""
    sql, params = qs.query.sql_with_params()
    if label is not None:
        model, key, columns = label
        quote = connection.ops.quote_name
        names = ", ".join(f"x.{quote(c)}" for c in columns)
        sql = (
            f"SELECT a.*, {names} FROM ({sql}) a LEFT JOIN {quote(model._meta.db_table)} x "  # noqa: S608
            f"ON x.{quote(key)} = a.{quote(qs.query.values_select[0])}"
        )
    with connections[qs.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# The label of a key, joined in the database: model, key column, label columns.
_LABEL_JOINS = {
    "department": (Department, "id", ("name",)),
    "hall": (ServiceHall, "id", ("name",)),
    "staff": (User, "id", ("display_name", "username")),
    "item": (RatedItem, "code", ("name",)),
}


def _aggregate(actor: Any, where: Q, by: str | None) -> tuple[dict[Any, tuple[int, ...]], dict, dict]:
    """(key → (rated at 5, 4, 3, 2, 1, active, rectified 差评, revisited 差评), key → served, key → label)
    for the rows matching ``where``, one row per key, computed and labelled in the database."""
    rollups.flush()  # every committed rating counted, queued ones too (decision 0018)
    group = DIMENSIONS[by][0] if by else None
    fields = [group] if group else []
    join = _LABEL_JOINS.get(by or "")
    width = len(join[2]) if join else 0
    qs = _scoped(actor, RatingRollup.objects.filter(where)).values(*fields).annotate(**_PIVOT).order_by()
    measures: dict[Any, tuple[int, ...]] = {}
    labels: dict[Any, str] = {}
    for row in _rows(qs.values_list(*fields, *_PIVOT), join):
        if width:
            row, names = row[:-width], row[-width:]
            if any(names):
                labels[row[0]] = next((n for n in names if n), "")
        key, values = (row[0], row[1:]) if group else (None, row)
        measures[key] = tuple(v or 0 for v in values)
    served: dict[Any, int] = defaultdict(int)
    if group != "channel":  # rateable services have no channel
        qs = _scoped(actor, ServiceRollup.objects.filter(where)).values(*fields).annotate(n=Sum("served")).order_by()
        for row in _rows(qs.values_list(*fields, "n")):
            served[row[0] if group else None] += row[-1] or 0
    missing = [k for k in served if k not in measures] if join else list(measures) + list(served)
    if missing or not join:
        labels.update(_labels(by, missing))
    return measures, served, labels


def _pivot_figures(m: tuple[int, ...] | None, served: int) -> scale.Figures:
    if m is None:
        return scale.Figures(by_level={}, rateable=served)
    by_level = {level: n for level, n in zip((5, 4, 3, 2, 1), m[:5], strict=True) if n}
    return scale.Figures(by_level=by_level, rateable=served, active=m[5], bad_rectified=m[6], bad_revisited=m[7])


def _by_pk(model, ids: list, fields: tuple[str, ...]) -> list[tuple]:
    """``(pk, *fields)`` of the rows with these ids; on PostgreSQL as one array parameter (a province has
    tens of thousands of staff members and items: an IN list of that many parameters costs seconds)."""
    if connection.vendor != "postgresql" or len(ids) < 500:
        return list(model.objects.filter(pk__in=ids).values_list("pk", *fields))
    key = model._meta.pk.column
    columns = ", ".join(connection.ops.quote_name(model._meta.get_field(f).column) for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {connection.ops.quote_name(key)}, {columns} FROM {model._meta.db_table} "  # noqa: S608
            f"WHERE {connection.ops.quote_name(key)} = ANY(%s)",
            [list(ids)],
        )
        return cursor.fetchall()


def _labels(by: str, keys: list) -> dict[Any, str]:
    ids = [k for k in keys if k]
    if by == "department":
        return dict(_by_pk(Department, ids, ("name",)))
    if by == "hall":
        return dict(_by_pk(ServiceHall, ids, ("name",)))
    if by == "window":
        return {
            pk: f"{hall} {number}号 {name}"
            for pk, hall, number, name in Window.objects.filter(pk__in=ids).values_list(
                "pk", "hall__name", "number", "name"
            )
        }
    if by == "staff":
        return {pk: display or username for pk, display, username in _by_pk(User, ids, ("display_name", "username"))}
    if by == "item":
        return dict(_by_pk(RatedItem, ids, ("name",)))
    if by == "channel":
        return {c.value: c.label for c in scale.Channel}
    return {}


def _reasons(actor: Any, where: Q, *, bad_only: bool, limit: int = 10) -> list[tuple[str, str, int]]:
    rollups.flush()
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
    with _no_gc():  # tens of thousands of rows: no collection passes over them while they are made
        return _build(actor, period=period, by=by, filters=filters, trend_months=trend_months, min_sample=min_sample)


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _build(
    actor: Any,
    *,
    period: Period,
    by: str,
    filters: Filters | None,
    trend_months: int,
    min_sample: int | None,
) -> Report:
    if by not in DIMENSIONS:
        raise ValidationFailed("不支持的统计维度。", code="report_dimension_invalid", details={"by": by})
    policy.require(actor, "ratings.report.view")
    filters = filters or Filters()
    column = DIMENSIONS[by][0]
    where = period.grain_filter(grain_for(period, {column} | filters.dimensions)) & filters.q()
    measures, served, labels = _aggregate(actor, where, by)
    keys = sorted(set(measures) | set(served), key=lambda k: (str(labels.get(k, k)), str(k)))
    rows = [
        Row(
            key=k,
            label=labels.get(k) or ("（未指定）" if not k else str(k)),
            figures=_pivot_figures(measures.get(k), served.get(k, 0)),
        )
        for k in keys
    ]
    sums = [0] * len(_PIVOT) if measures else None
    for values in measures.values():
        for i, value in enumerate(values):
            sums[i] += value
    total = _pivot_figures(tuple(sums) if sums else None, sum(served.values()))
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
    rollups.flush()
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

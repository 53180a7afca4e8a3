"""Recomputing stored deadlines in bulk: after a calendar change, and every morning for warning levels.

Set-based: the cases are read in chunks as columns, their due dates computed with numpy over the
calendar's cumulative working-day array (:mod:`.bulk`), and written back with one statement per chunk
(PostgreSQL: ``UPDATE … FROM (VALUES …)``; SQLite: ``executemany``). Cases with clock stops (a minority)
go through the per-case engine. Nothing here calls ``save()`` per case.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from yiwang.workdays.calendar import get_calendar
from yiwang.workdays.engine import Unit

from . import bulk, clock
from . import deadlines as dl
from .models import Case, CasePause
from .states import UNDER_DEADLINE

CHUNK = 50_000
COLUMNS = (
    "id",
    "region_code",
    "accepted_on",
    "promised_limit",
    "promised_unit",
    "legal_limit",
    "legal_unit",
    "extension_days",
    "promised_due",
    "legal_due",
    "yellow_on",
    "deadlines_provisional",
    "warning_level",
)


def candidates(*, years: list[int] | None = None) -> Any:
    """Open cases under the clock whose deadlines may depend on ``years`` (all of them when ``None``)."""
    qs = Case.objects.filter(state__in=[s.value for s in UNDER_DEADLINE], accepted_on__isnull=False)
    if years:
        lo, hi = dt.date(min(years), 1, 1), dt.date(max(years), 12, 31)
        qs = qs.filter(Q(deadlines_provisional=True) | Q(accepted_on__lte=hi, legal_due__gte=lo))
    return qs


def _natural(values: np.ndarray) -> np.ndarray:
    return np.array([Unit.parse(v or "working") is Unit.NATURAL for v in values], dtype=bool)


def _write(rows: list[tuple]) -> None:
    """rows: (id, promised_due, legal_due, yellow_on, provisional, level)."""
    if not rows:
        return
    table = connection.ops.quote_name(Case._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            from psycopg import sql

            with cursor.cursor.copy(
                sql.SQL("COPY {} (id, p, l, y, prov, lvl) FROM STDIN").format(sql.Identifier("_recompute"))
            ) as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(
                f"UPDATE {table} c SET promised_due = r.p, legal_due = r.l, yellow_on = r.y, "  # noqa: S608
                "deadlines_provisional = r.prov, warning_level = r.lvl FROM _recompute r WHERE c.id = r.id"
            )
            cursor.execute("TRUNCATE _recompute")
        else:
            cursor.executemany(
                f"UPDATE {table} SET promised_due = %s, legal_due = %s, yellow_on = %s, "  # noqa: S608
                "deadlines_provisional = %s, warning_level = %s WHERE id = %s",
                [(p.isoformat(), leg.isoformat(), y.isoformat(), prov, lvl, pk) for pk, p, leg, y, prov, lvl in rows],
            )


def _prepare() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE IF NOT EXISTS _recompute "
                "(id bigint, p date, l date, y date, prov boolean, lvl smallint) ON COMMIT DROP"
            )


_TABLES: dict[int, tuple[Any, bulk.Tables]] = {}


def _tables(calendar: Any) -> bulk.Tables:
    cached = _TABLES.get(id(calendar))
    if cached is None or cached[0] is not calendar:
        _TABLES.clear() if len(_TABLES) > 16 else None
        cached = _TABLES[id(calendar)] = (calendar, bulk.tables(calendar))
    return cached[1]


def recompute_open_cases(*, years: list[int] | None = None, on: dt.date | None = None) -> dict[str, int]:
    """Recompute the deadlines of every open case that may depend on ``years``; returns counts."""
    on = on or clock.today()
    yellow_days, ratio = settings.WARNING_YELLOW_WORKDAYS, settings.WARNING_YELLOW_RATIO
    stats = {"checked": 0, "changed": 0, "paused": 0}
    qs = candidates(years=years)
    paused_ids = set(CasePause.objects.filter(case__in=qs).values_list("case_id", flat=True))
    last_id = 0
    while True:
        with transaction.atomic():
            _prepare()
            chunk = list(qs.filter(id__gt=last_id).order_by("id").values_list(*COLUMNS)[:CHUNK])
            if not chunk:
                break
            last_id = chunk[-1][0]
            stats["checked"] += len(chunk)
            simple = [r for r in chunk if r[0] not in paused_ids]
            others = [r for r in chunk if r[0] in paused_ids]
            out: list[tuple] = []
            calendars: dict[str, Any] = {}
            groups: dict[int, list[tuple]] = defaultdict(list)
            for r in simple:
                calendar = calendars.get(r[1])
                if calendar is None:
                    calendar = calendars[r[1]] = get_calendar(r[1])
                groups[id(calendar)].append(r)
            by_id = {id(c): c for c in calendars.values()}
            for key, rows in groups.items():
                out += _vector(rows, _tables(by_id[key]), on, yellow_days, ratio)
            out += _one_by_one(others, on, yellow_days, ratio)
            stats["paused"] += len(others)
            stats["changed"] += len(out)
            _write(out)
    return stats


def _vector(rows: list[tuple], t: bulk.Tables, on: dt.date, yellow_days: int, ratio: float) -> list[tuple]:
    cols = list(zip(*rows, strict=True))
    ids = np.array(cols[0], dtype=np.int64)
    promised = np.array([p if p is not None else leg for p, leg in zip(cols[3], cols[5], strict=True)], dtype=object)
    legal = np.array([leg if leg is not None else p for p, leg in zip(cols[3], cols[5], strict=True)], dtype=object)
    has_limit = np.array([p is not None for p in promised], dtype=bool)
    p_days = np.where(has_limit, promised, 0).astype(np.int64)
    l_days = np.where(has_limit, legal, 0).astype(np.int64)
    p_nat = _natural(np.array(cols[4], dtype=object))
    l_nat = _natural(np.array([lu or pu for pu, lu in zip(cols[4], cols[6], strict=True)], dtype=object))
    l_days = np.where(p_nat == l_nat, np.maximum(l_days, p_days), l_days)
    batch = bulk.compute(
        t,
        accepted_on=np.array(cols[2], dtype="datetime64[D]"),
        promised_days=p_days,
        promised_natural=p_nat,
        legal_days=l_days,
        legal_natural=l_nat,
        extension_days=np.array(cols[7], dtype=np.int64),
        today=on,
        yellow_days=yellow_days,
        yellow_ratio=ratio,
    )
    old_p = np.array([d if d is not None else dt.date(1990, 1, 1) for d in cols[8]], dtype="datetime64[D]")
    old_l = np.array([d if d is not None else dt.date(1990, 1, 1) for d in cols[9]], dtype="datetime64[D]")
    old_y = np.array([d if d is not None else dt.date(1990, 1, 1) for d in cols[10]], dtype="datetime64[D]")
    old_prov = np.array(cols[11], dtype=bool)
    old_lvl = np.array(cols[12], dtype=np.int64)
    changed = has_limit & (
        (old_p != batch.promised_due)
        | (old_l != batch.legal_due)
        | (old_y != batch.yellow_on)
        | (old_prov != batch.provisional)
        | (old_lvl != batch.level)
    )
    idx = np.nonzero(changed)[0]
    p_list = batch.promised_due[idx].astype(object)
    l_list = batch.legal_due[idx].astype(object)
    y_list = batch.yellow_on[idx].astype(object)
    prov = batch.provisional[idx]
    lvl = batch.level[idx]
    return [
        (int(ids[i]), p_list[k], l_list[k], y_list[k], bool(prov[k]), int(lvl[k])) for k, i in enumerate(idx.tolist())
    ]


def _one_by_one(rows: list[tuple], on: dt.date, yellow_days: int, ratio: float) -> list[tuple]:
    if not rows:
        return []
    from .services import clock_of

    pauses: dict[int, list[CasePause]] = defaultdict(list)
    for p in CasePause.objects.filter(case_id__in=[r[0] for r in rows]).order_by("start", "id"):
        pauses[p.case_id].append(p)
    out = []
    for r in rows:
        case = Case(
            id=r[0],
            region_code=r[1],
            accepted_on=r[2],
            promised_limit=r[3],
            promised_unit=r[4],
            legal_limit=r[5],
            legal_unit=r[6],
            extension_days=r[7],
        )
        case_clock = clock_of(case, pauses[r[0]])
        if case_clock is None:
            continue
        stored = dl.for_case(get_calendar(r[1]), case_clock, today=on, yellow_days=yellow_days, yellow_ratio=ratio)
        new = (stored.promised_due, stored.legal_due, stored.yellow_on, stored.provisional, int(stored.level))
        if new != tuple(r[8:13]):
            out.append((r[0], *new))
    return out


def refresh_levels(*, on: dt.date | None = None) -> int:
    """Bring the stored warning level of running clocks up to date (the queues use the dates directly)."""
    on = on or clock.today()
    base = Case.objects.filter(state="in_process", promised_due__isnull=False)
    red = base.filter(promised_due__lt=on).exclude(warning_level=2).update(warning_level=2)
    yellow = base.filter(promised_due__gte=on, yellow_on__lte=on).exclude(warning_level=1).update(warning_level=1)
    green = base.filter(yellow_on__gt=on).exclude(warning_level=0).update(warning_level=0)
    return red + yellow + green

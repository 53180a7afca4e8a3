"""Recomputing stored deadlines in bulk: after a calendar change, and every morning for warning levels.

Set-based, in one transaction:

1. The open cases under the clock *without clock stops* (nearly all) are grouped by their deadline inputs —
   region (the calendar), state, start day, both limits with their units, approved extension days — in one
   ``GROUP BY``: a million cases have a few tens of thousands of distinct input tuples (start days × limits ×
   regions). Each tuple is computed **once** with the pure per-case engine (:func:`.deadlines.for_case`, the
   very function an action uses), so the bulk result equals the per-case result by construction.
2. The results go into a temporary table (``COPY`` on PostgreSQL, ``executemany`` on SQLite) and one
   ``UPDATE … FROM`` joins them back to the cases on the input tuple, writing only rows whose stored values
   differ. The state is part of the key, so a case that an action moves on (pause, extension, decision)
   while the statement runs no longer matches its group and keeps what the action wrote.
3. Cases with clock stops (补正, 特别程序: a minority) go through the per-case engine with their pauses.

Audit: no event per case — a recompute changes no decision and no input of any case; it re-derives stored
dates from a calendar change that is itself an audited action (``workdays.calendar_day_set`` …). One
``case.deadlines_recompute`` audit event per run records the years, the counts and the duration.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q

from yiwang.workdays.calendar import get_calendar

from . import clock
from . import deadlines as dl
from .models import Case, CasePause
from .states import UNDER_DEADLINE

CHUNK = 5_000  # cases with clock stops per round trip
# The deadline inputs of a running clock (see services.clock_of), in the temporary table's column order.
KEY = (
    "region_code",
    "state",
    "accepted_on",
    "promised_limit",
    "promised_unit",
    "legal_limit",
    "legal_unit",
    "extension_days",
)
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
NO_LIMIT = -1  # stands for NULL limits in the join key (NULL never equals NULL)
TEMP = "_yiwang_deadline_groups"


def candidates(*, years: list[int] | None = None) -> Any:
    """Open cases under the clock whose deadlines may depend on ``years`` (all of them when ``None``)."""
    qs = Case.objects.filter(state__in=[s.value for s in UNDER_DEADLINE], accepted_on__isnull=False)
    if years:
        lo, hi = dt.date(min(years), 1, 1), dt.date(max(years), 12, 31)
        qs = qs.filter(Q(deadlines_provisional=True) | Q(accepted_on__lte=hi, legal_due__gte=lo))
    return qs


def _has_pauses() -> Exists:
    return Exists(CasePause.objects.filter(case_id=OuterRef("pk")))


class _Calendars:
    """``get_calendar`` once per region for the run (inside a transaction it re-checks the version per call)."""

    def __init__(self) -> None:
        self._by_region: dict[str, Any] = {}

    def __call__(self, region_code: str) -> Any:
        calendar = self._by_region.get(region_code)
        if calendar is None:
            calendar = self._by_region[region_code] = get_calendar(region_code)
        return calendar


def _deadlines(case: Case, calendar: Any, pauses: list[CasePause], on: dt.date) -> tuple | None:
    """(promised_due, legal_due, yellow_on, provisional, level) from the per-case engine; ``None``: no clock."""
    from .services import clock_of

    case_clock = clock_of(case, pauses)
    if case_clock is None:
        return None
    stored = dl.for_case(
        calendar,
        case_clock,
        today=on,
        yellow_days=settings.WARNING_YELLOW_WORKDAYS,
        yellow_ratio=settings.WARNING_YELLOW_RATIO,
    )
    return (stored.promised_due, stored.legal_due, stored.yellow_on, stored.provisional, int(stored.level))


def recompute_open_cases(
    *, years: list[int] | None = None, on: dt.date | None = None, actor: Any = None
) -> dict[str, int]:
    """Recompute the deadlines of every open case that may depend on ``years``; returns counts.

    ``checked``: cases considered; ``changed``: rows rewritten; ``paused``: cases with clock stops (computed
    one by one); ``groups``: distinct deadline-input tuples of the others (each computed once).
    """
    from yiwang.core import audit
    from yiwang.core.actors import SystemActor

    on = on or clock.today()
    started = time.perf_counter()
    stats = {"checked": 0, "changed": 0, "paused": 0, "groups": 0}
    calendars = _Calendars()
    qs = candidates(years=years)
    with transaction.atomic():
        # 1. running clocks: one computation per distinct input tuple
        groups = qs.filter(~_has_pauses()).values_list(*KEY).annotate(n=Count("id")).order_by()
        computed: dict[tuple, tuple | None] = {}
        rows: list[tuple] = []
        for *key, n in groups.iterator(chunk_size=10_000):
            region, state, accepted_on, p_limit, p_unit, l_limit, l_unit, ext = key
            stats["checked"] += n
            calendar = calendars(region)
            inputs = (id(calendar), accepted_on, p_limit, p_unit, l_limit, l_unit, ext)
            if inputs not in computed:
                probe = Case(
                    region_code=region,
                    accepted_on=accepted_on,
                    promised_limit=p_limit,
                    promised_unit=p_unit,
                    legal_limit=l_limit,
                    legal_unit=l_unit,
                    extension_days=ext,
                )
                computed[inputs] = _deadlines(probe, calendar, [], on)
            new = computed[inputs]
            if new is None:  # no limit at all: nothing to store
                continue
            rows.append(
                (
                    region,
                    state,
                    accepted_on,
                    NO_LIMIT if p_limit is None else p_limit,
                    p_unit,
                    NO_LIMIT if l_limit is None else l_limit,
                    l_unit,
                    ext,
                    *new,
                )
            )
        stats["groups"] = len(rows)
        stats["changed"] += _write_groups(rows)
        # 2. clock stops: the per-case engine with each case's pauses
        paused = qs.filter(_has_pauses()).order_by("id").values_list(*COLUMNS)
        last_id = 0
        while True:
            chunk = list(paused.filter(id__gt=last_id)[:CHUNK])
            if not chunk:
                break
            last_id = chunk[-1][0]
            stats["checked"] += len(chunk)
            stats["paused"] += len(chunk)
            changed = _one_by_one(chunk, calendars, on)
            _write_cases(changed)
            stats["changed"] += len(changed)
        seconds = round(time.perf_counter() - started, 1)
        audit.record(
            actor=actor or SystemActor("cases.recompute"),
            action="case.deadlines_recompute",
            object_type="cases.case",
            object_id="*",
            summary={"years": years or "all", "on": on.isoformat(), **stats, "seconds": seconds},
        )
    return stats


def _case_table() -> str:
    return connection.ops.quote_name(Case._meta.db_table)


def _write_groups(rows: list[tuple]) -> int:
    """Store the groups' results in a temporary table and join them back to the cases; rows changed."""
    if not rows:
        return 0
    table = _case_table()
    pause_table = connection.ops.quote_name(CasePause._meta.db_table)
    open_states = ", ".join(f"'{s.value}'" for s in sorted(UNDER_DEADLINE))
    temp = f"pg_temp.{TEMP}" if connection.vendor == "postgresql" else f"temp.{TEMP}"
    differs = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"  # NULL-safe ≠
    columns = "region_code, state, accepted_on, pl, pu, ll, lu, ext, p, l, y, prov, lvl"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {temp}")  # left by an enclosing transaction (tests)
        if connection.vendor == "postgresql":
            cursor.execute(
                f"CREATE TEMP TABLE {TEMP} (region_code varchar(12), state varchar(20), accepted_on date, "
                "pl integer, pu varchar(10), ll integer, lu varchar(10), ext integer, "
                "p date, l date, y date, prov boolean, lvl smallint) ON COMMIT DROP"
            )
            with cursor.cursor.copy(f"COPY {TEMP} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(f"ANALYZE {TEMP}")
            # join the few thousand groups by hashing them, walking the cases once; never sort a million rows
            cursor.execute("SET LOCAL enable_mergejoin = off")
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SET LOCAL work_mem = '64MB'")
        else:
            cursor.execute(
                # the same declared types (so affinities) as cases_case: the join probes this table's key
                f"CREATE TEMP TABLE {TEMP} (region_code varchar(12), state varchar(20), accepted_on date, "
                "pl integer, pu varchar(10), ll integer, lu varchar(10), ext integer, p date, l date, y date, "
                "prov bool, lvl smallint unsigned, "
                "PRIMARY KEY (region_code, state, accepted_on, pl, pu, ll, lu, ext)) WITHOUT ROWID"
            )
            cursor.executemany(
                f"INSERT INTO {TEMP} ({columns}) VALUES ({', '.join(['%s'] * 13)})",  # noqa: S608
                [
                    (r, s, a.isoformat(), pl, pu, ll, lu, ext, p.isoformat(), leg.isoformat(), y.isoformat(), prov, lvl)
                    for r, s, a, pl, pu, ll, lu, ext, p, leg, y, prov, lvl in rows
                ],
            )
        cursor.execute(
            f"UPDATE {table} AS c SET promised_due = g.p, legal_due = g.l, yellow_on = g.y, "  # noqa: S608
            "deadlines_provisional = g.prov, warning_level = g.lvl "
            f"FROM {TEMP} AS g "
            f"WHERE c.state IN ({open_states}) AND c.accepted_on IS NOT NULL "
            "AND c.region_code = g.region_code AND c.state = g.state AND c.accepted_on = g.accepted_on "
            f"AND COALESCE(c.promised_limit, {NO_LIMIT}) = g.pl AND c.promised_unit = g.pu "
            f"AND COALESCE(c.legal_limit, {NO_LIMIT}) = g.ll AND c.legal_unit = g.lu AND c.extension_days = g.ext "
            f"AND NOT EXISTS (SELECT 1 FROM {pause_table} AS x WHERE x.case_id = c.id) "
            f"AND (c.promised_due {differs} g.p OR c.legal_due {differs} g.l OR c.yellow_on {differs} g.y "
            "OR c.deadlines_provisional <> g.prov OR c.warning_level <> g.lvl)"
        )
        changed = cursor.rowcount
        cursor.execute(f"DROP TABLE {temp}")
    return changed


def _write_cases(rows: list[tuple]) -> None:
    """rows: (id, promised_due, legal_due, yellow_on, provisional, level)."""
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {_case_table()} SET promised_due = %s, legal_due = %s, yellow_on = %s, "  # noqa: S608
            "deadlines_provisional = %s, warning_level = %s WHERE id = %s",
            [(p, leg, y, prov, lvl, pk) for pk, p, leg, y, prov, lvl in rows],
        )


def _one_by_one(rows: list[tuple], calendars: _Calendars, on: dt.date) -> list[tuple]:
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
        new = _deadlines(case, calendars(r[1]), pauses[r[0]], on)
        if new is not None and new != tuple(r[8:13]):
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

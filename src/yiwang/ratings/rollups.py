"""Rollup maintenance: one upsert statement per change, a day row and a month row each time.

Called inside the actions that change ratings (submit, default rating, appeal upheld, rectification
closed, return visit), so the rollups commit or roll back with the change. :func:`rebuild` recomputes
everything from the ratings (after an import or to repair).

The one-statement submission path on PostgreSQL (:mod:`.direct`) does not touch the rollups: it queues
the rating (:class:`PendingRatingRollup`, :class:`PendingReasonRollup`, same statement) and
:func:`flush` adds queued ratings to the rollups in batches — after commit, in a per-process background
thread (``RATINGS_ROLLUP_FLUSH_DELAY``), and before anything reads the rollups (reports, the public page),
so readers always see every committed rating (decision 0018).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections.abc import Iterable, Iterator, Sequence
from zoneinfo import ZoneInfo

from django.db import connection, transaction

from yiwang.core import prepared
from yiwang.core.background import Flusher

from .models import PendingRatingRollup, PendingReasonRollup, RatingRollup, ReasonRollup, ServiceRollup

LOCAL = ZoneInfo("Asia/Shanghai")
DIMS = ("region_code", "department_id", "hall_id", "window_id", "staff_id", "item_code")


def local_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(LOCAL).date()


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _dims(obj) -> dict:
    """The rollup dimensions of a rating (or a target): ids as 0 / codes as "" when absent."""
    return {
        "region_code": obj.region_code or "",
        "department_id": obj.department_id or 0,
        "hall_id": obj.hall_id or 0,
        "window_id": obj.window_id or 0,
        "staff_id": obj.staff_id or 0,
        "item_code": obj.item_code or "",
    }


def _upsert(model, keys: Sequence[str], rows: Sequence[dict], measures: Sequence[str]) -> None:
    table = connection.ops.quote_name(model._meta.db_table)
    columns = [*keys, *measures]
    quoted = [connection.ops.quote_name(c) for c in columns]
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    updates = ", ".join(f"{q} = {table}.{q} + excluded.{q}" for q in (connection.ops.quote_name(m) for m in measures))
    # identifiers come from the models, values are parameters
    sql = (
        f"INSERT INTO {table} ({', '.join(quoted)}) VALUES {', '.join([one] * len(rows))} "  # noqa: S608
        f"ON CONFLICT ({', '.join(connection.ops.quote_name(k) for k in keys)}) DO UPDATE SET {updates}"
    )
    params = [row[c] for row in rows for c in columns]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# Summary grains: (source grain, dimensions kept besides region and department, keeps the channel).
# "d"/"m" keep everything; the summaries are what province-wide reports and rankings read.
SUMMARIES = {
    "dd": ("d", (), True),  # day × department (× channel)
    "md": ("m", (), True),  # month × department (× channel)
    "ms": ("m", ("hall_id", "window_id", "staff_id"), False),  # month × hall × window × staff
    "mi": ("m", ("item_code",), False),  # month × item
}
BLANK = {"hall_id": 0, "window_id": 0, "staff_id": 0, "item_code": ""}


def _two_grains(day: dt.date, base: dict) -> list[dict]:
    """The rows a change touches: the detailed day and month rows and every summary row."""
    month = month_of(day)
    rows = [{"grain": "d", "period": day, **base}, {"grain": "m", "period": month, **base}]
    for grain, (source, kept, channel) in SUMMARIES.items():
        row = {**base, **{k: v for k, v in BLANK.items() if k not in kept}}
        if not channel and "channel" in row:
            row["channel"] = ""
        rows.append({"grain": grain, "period": day if source == "d" else month, **row})
    return rows


RATING_KEYS = ("grain", "period", *DIMS, "channel", "level")
RATING_MEASURES = ("rated", "active", "defaulted", "invalidated", "rectified", "revisited")


def bump_rating(rating, **deltas: int) -> None:
    """Add ``deltas`` (``rated=1``, ``rectified=1`` …) to the rating's day and month rows."""
    unknown = set(deltas) - set(RATING_MEASURES)
    if unknown:
        raise ValueError(f"unknown rollup measures {unknown}")
    measures = {m: int(deltas.get(m, 0)) for m in RATING_MEASURES}
    base = {**_dims(rating), "channel": rating.channel, "level": int(rating.level), **measures}
    _upsert(RatingRollup, RATING_KEYS, _two_grains(rating.rated_on, base), RATING_MEASURES)


SERVICE_KEYS = ("grain", "period", *DIMS, "target_kind")


def bump_service(target, served_at: dt.datetime, n: int = 1) -> None:
    """One more rateable service (the denominator of 主动评价率)."""
    base = {**_dims(target), "target_kind": target.kind, "served": n}
    _upsert(ServiceRollup, SERVICE_KEYS, _two_grains(local_date(served_at), base), ("served",))


REASON_KEYS = ("grain", "period", *DIMS, "level", "reason")


def bump_reasons(rating, reasons: Iterable[str], n: int = 1) -> None:
    rows = []
    for reason in sorted(set(reasons)):  # a fixed order: concurrent upserts lock rows in the same order
        base = {**_dims(rating), "level": int(rating.level), "reason": reason, "n": n}
        rows += _two_grains(rating.rated_on, base)
    if rows:
        _upsert(ReasonRollup, REASON_KEYS, rows, ("n",))


# --- the queue of the one-statement path (decision 0018) -------------------------------------------------
_QUEUE_LOCK = 7_018_018_000_000_000_018  # advisory lock key: one flush (or rebuild) at a time
_STAND_IN_DAY = dt.date(2000, 1, 2)


def _grain_columns(columns: dict[str, str]) -> list[tuple[str, list[str]]]:
    """For each grain of :func:`_two_grains`, in its order: (grain, the SQL of its key columns after
    ``grain`` — the period, then ``columns``, each kept as its expression or blanked as the grain says)."""
    stand_in = {k: f"\x00{k}" for k in columns}
    out = []
    for row in _two_grains(_STAND_IN_DAY, stand_in):
        day = row["period"] == _STAND_IN_DAY
        sql = ["q.rated_on" if day else "date_trunc('month', q.rated_on)::date"]
        for column in columns:
            value = row[column]
            if isinstance(value, str) and value.startswith("\x00"):
                sql.append(columns[value[1:]])
            elif isinstance(value, str):
                sql.append("'" + value.replace("'", "''") + "'")
            else:
                sql.append(str(int(value)))
        out.append((row["grain"], sql))
    return out


def _drain_sql(model, queue, keys: Sequence[str], columns: dict[str, str], measures: dict[str, str], **kw) -> str:
    """One statement: take every queued row out (``DELETE … RETURNING``) and add it to ``model``'s rows of
    every grain, in the order the general path locks them (:func:`_two_grains`'s order, reason first for
    reasons), so a flush and a concurrent action lock rows in the same order and cannot deadlock. The
    DELETE and the upsert are one statement: a row is counted exactly when it is taken out. Its result:
    how many queued rows it took."""
    table, queue_table = model._meta.db_table, queue._meta.db_table
    taken = ", ".join(f.column for f in queue._meta.concrete_fields if not f.primary_key)
    selects = []
    for rank, (grain, sql) in enumerate(_grain_columns(columns)):
        group = ", ".join(str(i) for i in range(3, 3 + len(sql)))
        selects.append(
            f"SELECT {rank}, '{grain}', {', '.join(sql)}, {', '.join(measures.values())} "  # noqa: S608
            f"FROM taken q{kw.get('join', '')} GROUP BY {group}"
        )
    key_list, measure_list = ", ".join(keys), ", ".join(measures)
    order = ", ".join([*kw.get("first", ()), "rank", *keys])
    updates = ", ".join(f"{m} = {table}.{m} + excluded.{m}" for m in measures)
    return (
        f"WITH taken AS (DELETE FROM {queue_table} RETURNING {taken}), "  # noqa: S608 - identifiers from models
        f"added AS (INSERT INTO {table} ({key_list}, {measure_list}) "
        f"SELECT {key_list}, {measure_list} FROM ({' UNION ALL '.join(selects)}) AS g(rank, {key_list}, "
        f"{measure_list}) ORDER BY {order} ON CONFLICT ({key_list}) DO UPDATE SET {updates}) "
        "SELECT COUNT(*) FROM taken"
    )


@functools.cache
def _rating_drain_sql() -> str:
    columns = {c: f"q.{c}" for c in (*DIMS, "channel", "level")}
    measures = {m: "COUNT(*)" if m in ("rated", "active") else "0" for m in RATING_MEASURES}
    return _drain_sql(RatingRollup, PendingRatingRollup, RATING_KEYS, columns, measures)


@functools.cache
def _reason_drain_sql() -> str:
    columns = {**{c: f"q.{c}" for c in (*DIMS, "level")}, "reason": "r.reason"}
    return _drain_sql(
        ReasonRollup,
        PendingReasonRollup,
        REASON_KEYS,
        columns,
        {"n": "COUNT(*)"},
        join=" CROSS JOIN LATERAL jsonb_array_elements_text(q.reasons) AS r(reason)",
        first=("reason",),
    )


def flush() -> int:
    """Add every queued rating to the rollups (decision 0018); returns how many ratings were added.

    Call before reading the rollups. On PostgreSQL: an advisory lock (one flush at a time; a rebuild takes
    it too), then per queue one statement that takes the rows out and upserts their sums. On SQLite nothing
    queues in normal use; queued rows (tests) are added the same way in Python."""
    if not PendingRatingRollup.objects.exists() and not PendingReasonRollup.objects.exists():
        return 0
    with transaction.atomic():
        if connection.vendor != "postgresql":
            return _flush_python()
        # prepared once per connection (decision 0024): parsing and planning the six-grain statement cost
        # PostgreSQL about a fifth of a flush of a few dozen ratings
        prepared.execute(
            "yiwang_rollup_lock", "SELECT pg_advisory_xact_lock(%(key)s)", {"key": _QUEUE_LOCK}, types=_LOCK
        )
        added = prepared.execute("yiwang_rollup_drain", _rating_drain_sql(), {}, types={})[0]
        prepared.execute("yiwang_reason_drain", _reason_drain_sql(), {}, types={})
    return added


_LOCK = {"key": "bigint"}


def _flush_python() -> int:
    rows = list(PendingRatingRollup.objects.select_for_update().values())
    reasons = list(PendingReasonRollup.objects.select_for_update().values())
    PendingRatingRollup.objects.filter(pk__in=[r["id"] for r in rows]).delete()
    PendingReasonRollup.objects.filter(pk__in=[r["id"] for r in reasons]).delete()
    sums: dict[tuple, int] = {}
    for row in rows:
        base = {**{d: row[d] for d in DIMS}, "channel": row["channel"], "level": row["level"]}
        for grain in _two_grains(row["rated_on"], base):
            key = tuple(grain[k] for k in RATING_KEYS)
            sums[key] = sums.get(key, 0) + 1
    zero = {m: 0 for m in RATING_MEASURES}
    if sums:
        rating_rows = [
            {**dict(zip(RATING_KEYS, k, strict=True)), **zero, "rated": n, "active": n} for k, n in sums.items()
        ]
        _upsert(RatingRollup, RATING_KEYS, rating_rows, RATING_MEASURES)
    counts: dict[tuple, int] = {}
    for row in reasons:
        for reason in sorted(set(row["reasons"])):
            base = {**{d: row[d] for d in DIMS}, "level": row["level"], "reason": reason}
            for grain in _two_grains(row["rated_on"], base):
                key = tuple(grain[k] for k in REASON_KEYS)
                counts[key] = counts.get(key, 0) + 1
    if counts:
        reason_rows = [{**dict(zip(REASON_KEYS, k, strict=True)), "n": n} for k, n in counts.items()]
        _upsert(ReasonRollup, REASON_KEYS, reason_rows, ("n",))
    return len(rows)


def flush_soon() -> None:
    """After a commit that queued ratings: flush now (``RATINGS_ROLLUP_FLUSH_DELAY`` 0: tests, the command
    line) or wake this process's background flusher, which waits that long to gather a batch."""
    from django.conf import settings

    delay = getattr(settings, "RATINGS_ROLLUP_FLUSH_DELAY", 0.0)
    if delay > 0:
        _background.wake(delay)
        return
    try:
        flush()
    except Exception:  # the next flush adds them; a failure here must not fail the request
        import logging

        logging.getLogger(__name__).exception("rollup flush failed")


_background = Flusher("rollup-flusher", flush, logger=__name__)


# --- rebuild ---------------------------------------------------------------------------------------
def _month_expr(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"date_trunc('month', {column})::date"
    return f"date({column}, 'start of month')"


def _local_date_expr(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"({column} AT TIME ZONE 'Asia/Shanghai')::date"
    return f"date({column}, '+8 hours')"


@contextlib.contextmanager
def _bulk(cursor, models: Sequence) -> Iterator[None]:
    """Empty the tables; on PostgreSQL also build their indexes once at the end instead of row by row.

    TRUNCATE locks the tables until the transaction ends, so rating submissions wait for the rebuild."""
    tables = [m._meta.db_table for m in models]
    if connection.vendor != "postgresql":
        for table in tables:
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - table names from models
        yield
        return
    cursor.execute(f"TRUNCATE {', '.join(tables)}")
    constraints, indexes = [], []
    for table in tables:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
            "AND contype = 'u'",
            [table],
        )
        constraints += [(table, name, definition) for name, definition in cursor.fetchall()]
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
            [table, table],
        )
        indexes += cursor.fetchall()
    for table, name, _ in constraints:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    yield
    for table, name, definition in constraints:
        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for _, definition in indexes:
        cursor.execute(definition)


def rebuild() -> dict[str, int]:
    """Recompute every rollup from ratings, rectifications and invitations (in SQL). Returns row counts."""
    from .models import Rating, RatingInvitation, Rectification

    rating = Rating._meta.db_table
    rectification = Rectification._meta.db_table
    invitation = RatingInvitation._meta.db_table
    dims = (
        "r.region_code, COALESCE(r.department_id, 0), COALESCE(r.hall_id, 0), COALESCE(r.window_id, 0), "
        "COALESCE(r.staff_id, 0), r.item_code"
    )
    dim_cols = ", ".join(DIMS)
    with transaction.atomic(), connection.cursor() as cursor:
        _empty_queues(cursor)
        with _bulk(cursor, (RatingRollup, ServiceRollup, ReasonRollup)):
            _rebuild_all(cursor, rating, rectification, invitation, dims, dim_cols)
    return {
        "ratings": RatingRollup.objects.count(),
        "services": ServiceRollup.objects.count(),
        "reasons": ReasonRollup.objects.count(),
    }


def _empty_queues(cursor) -> None:
    """Queued ratings are counted from the ratings themselves by a rebuild: empty the queue, and keep new
    ratings from queueing until the rebuild commits (they wait, as they waited for its TRUNCATE before 0018).
    Taken before the rollups' locks, in the order a flush takes them."""
    queues = [PendingRatingRollup._meta.db_table, PendingReasonRollup._meta.db_table]
    if connection.vendor == "postgresql":
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_QUEUE_LOCK])
        cursor.execute(f"LOCK TABLE {', '.join(queues)} IN EXCLUSIVE MODE")
    for queue in queues:
        cursor.execute(f"DELETE FROM {queue}")  # noqa: S608 - table names from models


def _rebuild_all(cursor, rating: str, rectification: str, invitation: str, dims: str, dim_cols: str) -> None:
    for grain, period in (("d", "r.rated_on"), ("m", _month_expr("r.rated_on"))):
        cursor.execute(
            f"""
            INSERT INTO {RatingRollup._meta.db_table}
                (grain, period, {dim_cols}, channel, level,
                 rated, active, defaulted, invalidated, rectified, revisited)
            SELECT '{grain}', {period}, {dims}, r.channel, r.level,
                SUM(CASE WHEN r.excluded_at IS NULL THEN 1 ELSE 0 END),
                SUM(CASE WHEN r.excluded_at IS NULL AND r.is_default = %s THEN 1 ELSE 0 END),
                SUM(CASE WHEN r.excluded_at IS NULL AND r.is_default = %s THEN 1 ELSE 0 END),
                SUM(CASE WHEN r.excluded_at IS NOT NULL THEN 1 ELSE 0 END),
                SUM(CASE WHEN x.state = 'closed' THEN 1 ELSE 0 END),
                SUM(CASE WHEN x.revisit_reached = %s THEN 1 ELSE 0 END)
            FROM {rating} r LEFT JOIN {rectification} x ON x.rating_id = r.id
            WHERE r.kind = 'first'
            GROUP BY {period}, {dims}, r.channel, r.level
            """,  # noqa: S608 - identifiers only
            [False, True, True],
        )
    served_date = _local_date_expr("r.served_at")
    inv_dims = (
        "r.region_code, COALESCE(r.department_id, 0), COALESCE(r.hall_id, 0), COALESCE(r.window_id, 0), "
        "COALESCE(r.staff_id, 0), r.item_code"
    )
    for grain, period in (("d", served_date), ("m", _month_expr(served_date))):
        cursor.execute(
            f"""
            INSERT INTO {ServiceRollup._meta.db_table} (grain, period, {dim_cols}, target_kind, served)
            SELECT '{grain}', {period}, {inv_dims}, r.target_kind, COUNT(*)
            FROM {invitation} r
            WHERE r.purpose = 'first'
            GROUP BY {period}, {inv_dims}, r.target_kind
            """  # noqa: S608 - identifiers only
        )
    _rebuild_coarse(cursor, RatingRollup, "channel, level", RATING_MEASURES)
    _rebuild_coarse(cursor, ServiceRollup, "target_kind", ("served",))
    _rebuild_reasons(cursor)
    _rebuild_coarse(cursor, ReasonRollup, "level, reason", ("n",))


def _rebuild_coarse(cursor, model, extra: str, measures: Sequence[str]) -> None:
    """The summary rows (:data:`SUMMARIES`) summed from the detailed ones ("d", "m")."""
    table = model._meta.db_table
    sums = ", ".join(f"SUM({m})" for m in measures)
    extras = [e.strip() for e in extra.split(",")]
    for grain, (source, kept, channel) in SUMMARIES.items():
        select = ["region_code", "department_id"]
        for dim in ("hall_id", "window_id", "staff_id", "item_code"):
            select.append(dim if dim in kept else ("''" if dim == "item_code" else "0"))
        extra_select = [e if (e != "channel" or channel) else "''" for e in extras]
        group = ["period", "region_code", "department_id", *kept, *[e for e in extras if e != "channel" or channel]]
        cursor.execute(
            f"""
            INSERT INTO {table} (grain, period, {", ".join(DIMS)}, {extra}, {", ".join(measures)})
            SELECT '{grain}', period, {", ".join(select)}, {", ".join(extra_select)}, {sums}
            FROM {table} WHERE grain = '{source}'
            GROUP BY {", ".join(group)}
            """  # noqa: S608 - identifiers only
        )


def _rebuild_reasons(cursor) -> None:
    """Reasons are a JSON list per rating: unnest them in SQL (jsonb on PostgreSQL, json_each on SQLite)."""
    from .models import Rating

    rating = Rating._meta.db_table
    if connection.vendor == "postgresql":
        unnest, reason = "CROSS JOIN LATERAL jsonb_array_elements_text(r.reasons) AS x(reason)", "x.reason"
    else:
        unnest, reason = ", json_each(r.reasons) AS x", "x.value"
    dims = (
        "r.region_code, COALESCE(r.department_id, 0), COALESCE(r.hall_id, 0), COALESCE(r.window_id, 0), "
        "COALESCE(r.staff_id, 0), r.item_code"
    )
    for grain, period in (("d", "r.rated_on"), ("m", _month_expr("r.rated_on"))):
        cursor.execute(
            f"""
            INSERT INTO {ReasonRollup._meta.db_table} (grain, period, {", ".join(DIMS)}, level, reason, n)
            SELECT '{grain}', {period}, {dims}, r.level, {reason}, COUNT(*)
            FROM {rating} r {unnest}
            WHERE r.kind = 'first' AND r.excluded_at IS NULL
            GROUP BY {period}, {dims}, r.level, {reason}
            """  # noqa: S608 - identifiers only
        )

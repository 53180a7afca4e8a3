"""Statements prepared once per PostgreSQL connection (decisions 0014, 0016, 0021).

The hottest writes (a rating, an online application) are single CTE statements: PostgreSQL parses and plans
each once per connection, and every execution sends only the values. Statements are written with
``%(name)s`` parameters like any Django raw SQL; ``types`` names each parameter's PostgreSQL type (``text``
when absent).

They are psycopg's own prepared statements (``prepare=True`` on a ``RawCursor`` of the Django connection's
psycopg connection, values bound server-side), not SQL ``PREPARE``/``EXECUTE``: psycopg deallocates every
prepared statement of a connection when a transaction on it rolls back, and re-prepares only the ones it
manages itself — a SQL-level ``PREPARE`` would be gone without the caller knowing (decision 0021).
"""

from __future__ import annotations

import functools
import re
import weakref
from collections.abc import Mapping

from django.db import DEFAULT_DB_ALIAS, connections

_NAMED = re.compile(r"%\((\w+)\)s")


@functools.lru_cache(maxsize=128)
def _statement(name: str, sql: str, types: tuple[tuple[str, str], ...]) -> RawStatement:
    return RawStatement(name, sql, dict(types))


def execute(name: str, sql: str, params: Mapping[str, object], *, types: Mapping[str, str]) -> tuple | None:
    """Run ``sql`` as the prepared statement ``name`` on the current connection; the first row or None."""
    return execute_raw(_statement(name, sql, tuple(sorted(types.items()))), params)


# --- server-side binding on the driver's own connection (decision 0021) --------------------------------
_INTEGER_TYPES = frozenset({"bigint", "integer", "smallint"})
_NEVER_AUTOMATICALLY = 2**31  # executions before psycopg prepares a statement on its own


class RawStatement:
    """A statement with ``%(name)s`` parameters, run on the Django connection's underlying psycopg connection
    as a psycopg ``RawCursor`` with ``prepare=True``: PostgreSQL parses and plans it once per connection and
    every execution sends only the values, bound server-side (no client-side quoting, no ``EXECUTE`` text
    and no query conversion by the driver). ``types`` names each parameter's PostgreSQL type; each placeholder
    is cast to it (``text`` when absent)."""

    __slots__ = ("_ints", "label", "order", "sql")

    def __init__(self, label: str, sql: str, types: Mapping[str, str]):
        order: list[str] = []

        def number(match: re.Match) -> str:
            name = match.group(1)
            if name not in order:
                order.append(name)
            return f"${order.index(name) + 1}::{types.get(name, 'text')}"

        self.label = label
        self.sql = f"/* {label} */ " + _NAMED.sub(number, sql)
        self.order = tuple(order)
        self._ints = tuple(types.get(n, "text") in _INTEGER_TYPES for n in order)

    def values(self, params: Mapping[str, object]) -> list:
        # integers as text, like None and strings of unknown type, so that their size (psycopg picks int2, int4
        # or int8) or a NULL does not make a second prepared statement; the placeholder's cast types them
        return [
            str(params[n]) if is_int and params[n] is not None else params[n]
            for n, is_int in zip(self.order, self._ints, strict=True)
        ]


_raw_cursors: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # psycopg connection → its RawCursor


def execute_raw(statement: RawStatement, params: Mapping[str, object], conn=None) -> tuple | None:
    """Run ``statement`` on the current connection (``conn``: that connection's wrapper, if the caller has it)
    in its transaction, or alone in autocommit; the first row or None. Database errors are Django's
    (``IntegrityError`` …), as from a Django cursor; the statement is in ``connection.queries`` when queries are
    logged (tests)."""
    return _run(statement, params, conn, all_rows=False)


def execute_raw_all(statement: RawStatement, params: Mapping[str, object], conn=None) -> list[tuple]:
    """:func:`execute_raw`, every row (a group commit's per-row outcomes, decision 0027)."""
    return _run(statement, params, conn, all_rows=True)


def _run(statement: RawStatement, params: Mapping[str, object], conn, *, all_rows: bool):
    import psycopg

    conn = conn if conn is not None else connections[DEFAULT_DB_ALIAS]
    conn.ensure_connection()
    conn.validate_no_broken_transaction()
    raw = conn.connection
    values = statement.values(params)
    with conn.wrap_database_errors:
        cursor = _raw_cursors.get(raw)
        if cursor is None or cursor.closed:
            cursor = _raw_cursors[raw] = psycopg.RawCursor(raw)
        # Django opens its connections with prepare_threshold=None, with which psycopg ignores prepare=True:
        # a threshold is set for this execution only, so none of Django's own statements is ever prepared.
        raw.prepare_threshold = _NEVER_AUTOMATICALLY
        try:
            cursor.execute(statement.sql, values, prepare=True)
        finally:
            raw.prepare_threshold = None
        row = cursor.fetchall() if all_rows else cursor.fetchone()
    if conn.queries_logged:
        conn.queries_log.append({"sql": statement.sql, "time": "0.000"})
    return row

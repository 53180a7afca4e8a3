"""Statements prepared once per PostgreSQL connection (decisions 0014, 0016).

The hottest writes (a rating, an online application) are single CTE statements: PostgreSQL parses and plans
each once per connection, and the client sends only ``EXECUTE name (values)``. Statements are written with
``%(name)s`` parameters like any Django raw SQL; ``types`` names each parameter's PostgreSQL type (``text``
when absent). Statement names share one namespace per connection, so each caller prefixes its own.
"""

from __future__ import annotations

import functools
import re
import weakref
from collections.abc import Mapping

from django.db import connection

_NAMED = re.compile(r"%\((\w+)\)s")
_prepared: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # DB-API connection → prepared names


@functools.lru_cache(maxsize=128)
def _statement(name: str, sql: str, types: tuple[tuple[str, str], ...]) -> tuple[str, str, tuple[str, ...]]:
    """(PREPARE …, EXECUTE …, parameter names in order) for a statement with ``%(name)s`` parameters."""
    order: list[str] = []

    def number(match: re.Match) -> str:
        if match.group(1) not in order:
            order.append(match.group(1))
        return f"${order.index(match.group(1)) + 1}"

    body = _NAMED.sub(number, sql)
    type_of = dict(types)
    prepare = f"PREPARE {name} ({', '.join(type_of.get(n, 'text') for n in order)}) AS {body}"
    execute = f"EXECUTE {name} ({', '.join(['%s'] * len(order))})"
    return prepare, execute, tuple(order)


def execute(name: str, sql: str, params: Mapping[str, object], *, types: Mapping[str, str]) -> tuple | None:
    """Run ``sql`` as the prepared statement ``name`` on the current connection; the first row or None."""
    prepare, execute_sql, order = _statement(name, sql, tuple(sorted(types.items())))
    with connection.cursor() as cursor:
        done = _prepared.setdefault(connection.connection, set())
        if name not in done:
            cursor.execute(prepare)
            done.add(name)
        cursor.execute(execute_sql, [params[n] for n in order])
        return cursor.fetchone()


# --- server-side binding on the driver's own connection (decision 0021) --------------------------------
_INTEGER_TYPES = frozenset({"bigint", "integer", "smallint"})


class RawStatement:
    """A statement with ``%(name)s`` parameters, run on the Django connection's underlying psycopg connection
    as a psycopg ``RawCursor`` with ``prepare=True``: PostgreSQL parses and plans it once per connection and
    every execution sends only the values, bound server-side (no client-side quoting, no ``EXECUTE`` text
    and no query conversion by the driver). ``types`` names each parameter's PostgreSQL type; each placeholder
    is cast to it (``text`` when absent), and integers are sent as ``int8`` so the driver's prepared-statement
    key stays one per statement whatever the values' size."""

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
        from psycopg.types.numeric import Int8

        return [
            Int8(params[n]) if is_int and params[n] is not None else params[n]
            for n, is_int in zip(self.order, self._ints, strict=True)
        ]


_raw_cursors: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # psycopg connection → its RawCursor


def execute_raw(statement: RawStatement, params: Mapping[str, object]) -> tuple | None:
    """Run ``statement`` on the current connection (in its transaction, or alone in autocommit); the first row
    or None. Database errors are Django's (``IntegrityError`` …), as from a Django cursor; the statement is in
    ``connection.queries`` when queries are logged (tests)."""
    import psycopg

    connection.ensure_connection()
    connection.validate_no_broken_transaction()
    raw = connection.connection
    values = statement.values(params)
    with connection.wrap_database_errors:
        cursor = _raw_cursors.get(raw)
        if cursor is None or cursor.closed:
            cursor = _raw_cursors[raw] = psycopg.RawCursor(raw)
        cursor.execute(statement.sql, values, prepare=True)
        row = cursor.fetchone()
    if connection.queries_logged:
        connection.queries_log.append({"sql": statement.sql, "time": "0.000"})
    return row

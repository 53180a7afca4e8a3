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

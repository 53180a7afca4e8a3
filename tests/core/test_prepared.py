"""Statements prepared once per connection (core.prepared): prepared for real, typed, and still there after
psycopg deallocates a connection's prepared statements on a rollback (decision 0021)."""

import pytest
from django.conf import settings
from django.db import DataError, IntegrityError, connection, transaction

from yiwang.core import prepared

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="PostgreSQL's"),
]
TYPES = {"n": "bigint", "word": "text"}


def _server_prepared() -> list[tuple[str, int]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
        return cursor.fetchall()


def test_a_statement_is_prepared_once_and_planned_once_per_connection():
    for n in (1, 2**40, 3, None, 4, 5, 6):  # values of every size share one statement (integers go as int8)
        assert prepared.execute("t_add", "SELECT %(n)s + 1, %(word)s", {"n": n, "word": "x"}, types=TYPES) == (
            None if n is None else n + 1,
            "x",
        )
    statements = _server_prepared()
    assert len(statements) == 1 and statements[0][0].startswith("/* t_add */ SELECT $1::bigint + 1")
    assert statements[0][1] == 7


def test_a_rollback_does_not_lose_the_statements():
    """psycopg sends DEALLOCATE ALL after rolling back a transaction on a connection with prepared statements;
    the next execution prepares the statement again instead of failing."""
    assert prepared.execute("t_one", "SELECT %(n)s", {"n": 1}, types=TYPES) == (1,)
    with pytest.raises(IntegrityError), transaction.atomic():
        assert prepared.execute("t_one", "SELECT %(n)s", {"n": 2}, types=TYPES) == (2,)
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")  # a statement of Django's in the transaction
        raise IntegrityError("roll back")
    assert prepared.execute("t_one", "SELECT %(n)s", {"n": 3}, types=TYPES) == (3,)
    assert len(_server_prepared()) == 1


def test_errors_are_djangos_and_leave_the_connection_usable():
    with pytest.raises(DataError):  # django.db's, as from a Django cursor
        prepared.execute("t_div", "SELECT 1 / %(n)s", {"n": 0}, types=TYPES)
    assert prepared.execute("t_div", "SELECT 1 / %(n)s", {"n": 1}, types=TYPES) == (1,)

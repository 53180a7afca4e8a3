import pytest
from django.conf import settings


def on_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


# Concurrency with real connections: SQLite's in-memory test database uses a shared cache whose table
# locks ignore the busy timeout, so these run on PostgreSQL (CI runs the suite on both).
concurrent = [
    pytest.mark.postgres,
    pytest.mark.skipif(not on_postgres(), reason="real concurrent connections need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def apply(marks):
    def decorate(fn):
        for mark in reversed(marks):
            fn = mark(fn)
        return fn

    return decorate

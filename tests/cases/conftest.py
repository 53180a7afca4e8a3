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


@pytest.fixture
def api_as(db):
    from tests.api.conftest import ApiClient
    from yiwang.accounts import services

    def make(user):
        _, plain = services.api_token_create(actor=user, name="test")
        return ApiClient(plain)

    return make


@pytest.fixture
def api():
    from tests.api.conftest import ApiClient

    return ApiClient()

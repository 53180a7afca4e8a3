"""Staff queues 在办/即将超期/已超期: order and contents, keyset pagination, the SQLite index hint, counts."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.cases import factories as f
from tests.cases.test_recompute import _clones
from yiwang.cases import selectors
from yiwang.cases.models import Case
from yiwang.core.errors import ValidationFailed

D = dt.date
ON = D(2026, 10, 14)


@pytest.fixture(autouse=True)
def private_dir(tmp_path, settings):
    settings.PRIVATE_FILES_DIR = tmp_path / "private"


@pytest.fixture
def w(db):
    return f.world()


@pytest.fixture
def many(w):
    """60 cases: in process or not, due before/on/after ON, yellow or not, inside or outside the scope."""
    case = f.accepted(w)
    variants = []
    for n in range(60):
        due = ON + dt.timedelta(days=n % 7 - 3)
        variants.append(
            {
                "state": "in_process" if n % 5 else "special",
                "promised_due": due,
                "yellow_on": due - dt.timedelta(days=(n % 3) * 2),
                "region_code": case.region_code if n % 4 else "450100000000",  # another province
            }
        )
    return [case, *_clones(case, variants)]


def expected(cases, key, user_prefix):
    rows = [
        c
        for c in Case.objects.filter(pk__in=[c.pk for c in cases])
        if c.state == "in_process" and c.region_code.startswith(user_prefix) and c.promised_due is not None
    ]
    if key == "at_risk":
        rows = [c for c in rows if c.yellow_on <= ON <= c.promised_due]
    elif key == "overdue":
        rows = [c for c in rows if c.promised_due < ON]
    return [c.pk for c in sorted(rows, key=lambda c: (c.promised_due, c.pk))]


@pytest.mark.parametrize("key", ["at_risk", "overdue", "in_process"])
def test_due_queues_order_and_contents(w, many, key):
    prefix = w.supervisor_region_prefix if hasattr(w, "supervisor_region_prefix") else many[0].region_code[:4]
    got = [c.pk for c in selectors.queue(user=w.supervisor, key=key, on=ON)]
    assert got == expected(many, key, prefix)
    assert got  # the fixture puts rows in every queue


@pytest.mark.parametrize("key", ["at_risk", "overdue", "in_process"])
def test_keyset_pages_concatenate_to_the_queue(w, many, key):
    full = [c.pk for c in selectors.queue(user=w.supervisor, key=key, on=ON)]
    pages, after = [], None
    while True:
        page = list(selectors.queue(user=w.supervisor, key=key, on=ON, after=after)[:4])
        if not page:
            break
        pages += [c.pk for c in page]
        after = selectors.parse_cursor(selectors.cursor_of(page[-1]))
    assert pages == full


def test_cursor_errors(w):
    with pytest.raises(ValidationFailed) as err:
        selectors.parse_cursor("2026-13-01.5")
    assert err.value.code == "invalid_cursor"
    with pytest.raises(ValidationFailed) as err:
        selectors.queue(user=w.supervisor, key="to_accept", after=(ON, 1))
    assert err.value.code == "cursor_not_supported"


def test_counts_match_the_queues(w, many):
    counts = selectors.queue_counts(user=w.supervisor, on=ON)
    for key in ("at_risk", "overdue", "in_process"):
        assert counts[key] == selectors.queue(user=w.supervisor, key=key, on=ON).count()
    assert selectors.queue_counts(user=w.supervisor, on=ON, cap=3)["in_process"] == 3


def test_due_queues_read_the_queue_index_on_sqlite(w, many):
    with CaptureQueriesContext(connection) as ctx:
        list(selectors.queue(user=w.supervisor, key="at_risk", on=ON)[:50])
    sql = ctx.captured_queries[-1]["sql"]
    if connection.vendor == "sqlite":
        assert 'INDEXED BY "case_queue_due_idx"' in sql
    else:
        assert "INDEXED BY" not in sql


def test_api_cursor(w, many, api_as, settings):
    from unittest import mock

    client = api_as(w.supervisor)
    with mock.patch("yiwang.cases.clock.today", return_value=ON):
        first = client.get("/cases/queues/in_process?limit=5").json()
        last = first[-1]
        after = f"{last['promised_due']}.{last['id']}"
        second = client.get(f"/cases/queues/in_process?limit=5&after={after}").json()
        both = client.get("/cases/queues/in_process?limit=10").json()
    assert [c["id"] for c in first + second] == [c["id"] for c in both]
    bad = client.get("/cases/queues/in_process?after=yesterday")
    assert bad.status_code == 422
    assert client.get(f"/cases/queues/to_accept?after={after}").json()["code"] == "cursor_not_supported"

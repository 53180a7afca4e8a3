"""The demo cases: every queue has something, the National Day case lands on the 调休 Saturday, idempotent."""

from __future__ import annotations

import datetime as dt

import pytest

from yiwang.accounts.models import User
from yiwang.cases import selectors
from yiwang.cases.models import Case
from yiwang.demo import cases, catalog, foundation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_dir(tmp_path, settings):
    settings.PRIVATE_FILES_DIR = tmp_path / "private"


def test_demo_cases():
    foundation.load()
    catalog.load()
    cases.load()
    states = set(Case.objects.values_list("state", flat=True))
    assert states >= {
        "draft",
        "submitted",
        "received",
        "supplement",
        "in_process",
        "review_supplement",
        "special",
        "decided",
        "completed",
        "not_accepted",
        "withdrawn",
    }
    counts = selectors.queue_counts(user=User.objects.get(username="supervisor"))
    assert all(counts[k] >= 1 for k in selectors.QUEUE_KEYS), counts
    national = Case.objects.get(contact_name="国庆示例")
    assert national.accepted_on == dt.date(2026, 9, 28)
    assert national.promised_due == dt.date(2026, 10, 10)  # 5 working days: 09-29, 09-30, 10-08, 10-09, 10-10 (调休)
    before = Case.objects.count()
    cases.load()
    assert Case.objects.count() == before

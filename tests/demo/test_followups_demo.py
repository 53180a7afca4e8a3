"""The demo follow-ups: bundles in every stage, 容缺 on time and overdue, a 核查 task, results at the output
window, an escalated 督办, a hall helper's authorisation; idempotent."""

from __future__ import annotations

import pytest

from yiwang.accounts.models import Authorization
from yiwang.cases.models import BundleCase, Commitment, Delivery, SupervisionEscalation, Verification
from yiwang.demo import cases, catalog, followups, foundation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_dir(tmp_path, settings):
    settings.PRIVATE_FILES_DIR = tmp_path / "private"


def test_demo_followups():
    foundation.load()
    catalog.load()
    cases.load()
    followups.load()
    assert set(BundleCase.objects.values_list("state", "channel")) == {
        ("completed", "online"),
        ("in_progress", "online"),
        ("in_progress", "window"),
    }
    half = BundleCase.objects.get(state="in_progress", channel="online")
    assert sorted(half.children.values_list("status", flat=True)) == ["approved", "approved", "running", "waiting"]
    assert set(Commitment.objects.values_list("kind", "status")) == {
        ("gap", "pending"),
        ("gap", "overdue"),
        ("proof", "pending"),
    }
    assert Verification.objects.filter(status="pending").count() == 1
    assert {"ready", "posted", "pending"} <= set(Delivery.objects.values_list("status", flat=True))
    assert SupervisionEscalation.objects.exists()
    assert Authorization.objects.filter(kind="hall_helper").count() == 1
    before = BundleCase.objects.count(), Commitment.objects.count()
    followups.load()
    assert (BundleCase.objects.count(), Commitment.objects.count()) == before

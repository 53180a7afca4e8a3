"""audit.deferring(): every event of a block staged, a nested action's included, in order."""

import pytest

from yiwang.core import audit
from yiwang.core.actions import action
from yiwang.core.models import AuditEvent, PendingAuditEvent

pytestmark = pytest.mark.django_db


@action
def _do(*, actor, n: int) -> None:
    for i in range(n):
        audit.record(actor=actor, action="test.step", object_type="test.thing", object_id=i)


@action
def _intake(*, actor) -> None:
    """An action deferring all of its events, a nested action's included (as 12345 intake does)."""
    with audit.deferring():
        audit.record(actor=actor, action="test.create", object_type="test.thing", object_id="1")
        _do(actor=actor, n=1)  # a nested action (the automatic dispatch)
    audit.record(actor=actor, action="test.after", object_type="test.thing", object_id="1")


def test_deferring_stages_nested_events_in_order(system):
    _intake(actor=system)
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["test.after"]
    assert list(PendingAuditEvent.objects.order_by("id").values_list("action", flat=True)) == [
        "test.create",
        "test.step",
    ]
    assert audit.flush_pending() == 2
    assert list(AuditEvent.objects.order_by("seq").values_list("action", flat=True)) == [
        "test.after",
        "test.create",
        "test.step",
    ]
    assert audit.verify().ok
    audit.record(actor=system, action="test.outside", object_id=1)  # the block ended: immediate again
    assert not PendingAuditEvent.objects.exists() and AuditEvent.objects.count() == 4


def test_deferring_outside_an_action_stages_at_once(system):
    with audit.deferring():
        audit.record(actor=system, action="test.loose", object_id=1)
    assert PendingAuditEvent.objects.count() == 1 and AuditEvent.objects.count() == 0

import pytest
from django.db import connection, transaction

from yiwang.core import audit
from yiwang.core.actions import action
from yiwang.core.errors import ValidationFailed
from yiwang.core.models import AuditChainHead, AuditEvent

pytestmark = pytest.mark.django_db


@action
def _do(*, actor, n: int, fail: bool = False) -> None:
    for i in range(n):
        audit.record(
            actor=actor,
            action="test.step",
            object_type="test.thing",
            object_id=i,
            summary={"i": i, "id": "11010519491231002X"},
        )
    if fail:
        raise ValidationFailed("boom")


def test_action_appends_a_valid_chain(system):
    _do(actor=system, n=3)
    _do(actor=system, n=2)
    result = audit.verify()
    assert result.ok and result.checked == 5
    seqs = list(AuditEvent.objects.values_list("seq", flat=True))
    assert seqs == [1, 2, 3, 4, 5]
    head = AuditChainHead.objects.get(pk=1)
    assert head.seq == 5 and head.hash == AuditEvent.objects.get(seq=5).hash


def test_identifiers_in_summaries_are_masked(system):
    _do(actor=system, n=1)
    assert AuditEvent.objects.get().summary["id"] == "1101**********002X"


def test_failed_action_writes_no_events(system):
    with pytest.raises(ValidationFailed):
        _do(actor=system, n=3, fail=True)
    assert AuditEvent.objects.count() == 0
    assert audit.verify().ok


def test_nested_actions_share_one_batch(system):
    @action
    def outer(*, actor):
        _do(actor=actor, n=2)
        audit.record(actor=actor, action="test.outer")

    outer(actor=system)
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["test.step", "test.step", "test.outer"]


def _tamper(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")  # bypass the append-only trigger
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")


def test_verify_detects_an_edited_row(system):
    _do(actor=system, n=4)
    _tamper("UPDATE core_auditevent SET summary = %s WHERE seq = 3", ['{"i": 99}'])
    result = audit.verify()
    assert not result.ok and result.broken_seq == 3
    assert "修改" in result.reason


def test_verify_detects_a_deleted_row(system):
    _do(actor=system, n=4)
    _tamper("DELETE FROM core_auditevent WHERE seq = 2", [])
    result = audit.verify()
    assert not result.ok and result.broken_seq == 2


def test_verify_detects_a_deleted_tail(system):
    _do(actor=system, n=4)
    _tamper("DELETE FROM core_auditevent WHERE seq = 4", [])
    result = audit.verify()
    assert not result.ok and result.broken_seq == 4


def test_verify_detects_a_rehashed_row(system):
    """Recomputing the edited row's own hash still breaks the next link."""
    _do(actor=system, n=3)
    row = AuditEvent.objects.filter(seq=2).values().get()
    row["actor_label"] = "mallory"
    new_hash = audit.chain_hash(row)
    _tamper("UPDATE core_auditevent SET actor_label = %s, hash = %s WHERE seq = 2", ["mallory", new_hash])
    result = audit.verify()
    assert not result.ok and result.broken_seq == 3


def test_postgres_rejects_update_and_delete(system, is_postgres):
    if not is_postgres:
        pytest.skip("trigger exists on PostgreSQL only")
    from django.db import DatabaseError

    _do(actor=system, n=1)
    for sql in ("UPDATE core_auditevent SET action = 'x'", "DELETE FROM core_auditevent"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as c:
            c.execute(sql)
    assert AuditEvent.objects.count() == 1


@action
def _rate(*, actor, n: int, fail: bool = False) -> None:
    audit.record(actor=actor, action="test.immediate", object_type="test.thing", object_id="x")
    for i in range(n):
        audit.record(actor=actor, action="test.deferred", object_type="test.thing", object_id=i, deferred=True)
    if fail:
        raise ValidationFailed("boom")


def test_deferred_events_are_staged_then_chained_in_order(system, django_capture_on_commit_callbacks):
    from yiwang.core.models import PendingAuditEvent

    _rate(actor=system, n=3)  # the test transaction never commits: nothing flushes by itself
    assert AuditEvent.objects.count() == 1 and PendingAuditEvent.objects.count() == 3
    assert audit.verify().pending == 3
    _do(actor=system, n=1)  # immediate events keep going into the chain meanwhile
    assert audit.flush_pending() == 3
    assert PendingAuditEvent.objects.count() == 0
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", "object_id"))
    assert actions == [("test.immediate", "x"), ("test.step", "0"), *[("test.deferred", str(i)) for i in range(3)]]
    result = audit.verify()
    assert result.ok and result.checked == 5 and result.pending == 0
    with django_capture_on_commit_callbacks(execute=True):  # after commit, the action flushes its own
        _rate(actor=system, n=2)
    assert PendingAuditEvent.objects.count() == 0 and audit.verify().checked == 8
    assert audit.flush_pending() == 0


def test_deferred_events_roll_back_with_the_action(system):
    from yiwang.core.models import PendingAuditEvent

    with pytest.raises(ValidationFailed):
        _rate(actor=system, n=2, fail=True)
    assert PendingAuditEvent.objects.count() == 0 and AuditEvent.objects.count() == 0


def test_deferred_outside_an_action_and_batches(system):
    from yiwang.core.models import PendingAuditEvent

    for i in range(5):
        audit.record(actor=system, action="test.loose", object_id=i, deferred=True)
    assert PendingAuditEvent.objects.count() == 5
    assert audit.flush_pending(batch=2) == 5
    assert [e.object_id for e in AuditEvent.objects.order_by("seq")] == ["0", "1", "2", "3", "4"]
    assert audit.verify().ok


def test_flush_command(system, capsys):
    from django.core.management import call_command

    audit.record(actor=system, action="test.loose", object_id=1, deferred=True)
    call_command("audit", "verify")
    assert "待入链" in capsys.readouterr().out
    call_command("audit", "flush")
    assert "1" in capsys.readouterr().out
    assert audit.verify().pending == 0

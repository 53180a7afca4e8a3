"""Group commit (decision 0027): concurrent good ratings of one process written by one statement — each
rating's answer routed to its own thread, a used token or a failing batch never costing the others theirs,
nothing half-written; SQLite and ``RATINGS_GROUP_COMMIT = 0`` write every rating alone."""

import json
import threading
import time

import pytest
from django.conf import settings
from django.db import OperationalError, connections
from django.db.models import Sum

from tests.ratings.factories import rate, served, world
from yiwang.core import audit
from yiwang.core.errors import Conflict
from yiwang.core.models import AuditEvent, PendingAuditEvent
from yiwang.ratings import api_submit, direct, group_commit, rollups, services, tokens
from yiwang.ratings.models import (
    PendingRatingRollup,
    PendingReasonRollup,
    Rating,
    RatingInvitation,
    RatingRollup,
    ReasonRollup,
)

postgres_only = pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="group commit is PostgreSQL's"
)


# --- the batcher alone (no database) -------------------------------------------------------------------------
def _run_together(batcher, items, *, keys=None, run_many=None, hold=None):
    """Submit ``items`` from one thread each; the first write (alone) waits until every other item is queued,
    so the rest meet in the queue. Returns {item: result or exception}, and the batches run_many saw."""
    seen, results = [], {}
    release = threading.Event()

    def run_one(item):
        if item == items[0]:
            deadline = time.time() + 10
            while len(batcher._queue) < len(items) - 1 and time.time() < deadline:
                time.sleep(0.005)
            release.set()
        return ("alone", item)

    def default_many(batch):
        seen.append(list(batch))
        return [("batch", item) for item in batch]

    def worker(item):
        try:
            results[item] = batcher.submit(
                item,
                keys=(keys or {}).get(item, (item,)),
                run_one=run_one,
                run_many=run_many or default_many,
            )
        except Exception as exc:  # pragma: no cover - reported by the assertions
            results[item] = exc

    first = threading.Thread(target=worker, args=(items[0],))
    first.start()
    deadline = time.time() + 10
    while not batcher._busy and time.time() < deadline:
        time.sleep(0.001)
    threads = [threading.Thread(target=worker, args=(item,)) for item in items[1:]]
    for t in threads:
        t.start()
    for t in [first, *threads]:
        t.join(20)
    assert release.is_set()
    return results, seen


def test_an_idle_batcher_writes_at_once_alone():
    batcher = group_commit.GroupCommit(limit=8)
    result = batcher.submit("a", keys=("a",), run_one=lambda item: ("alone", item), run_many=None)
    assert result == ("alone", "a") and batcher.statements == 1 and batcher.batched == 0
    assert not batcher._busy and not batcher._queue


def test_submissions_meeting_in_the_queue_are_one_write_and_each_gets_its_own_result():
    batcher = group_commit.GroupCommit(limit=8)
    items = ["a", "b", "c", "d", "e"]
    results, seen = _run_together(batcher, items)
    assert results["a"] == ("alone", "a")
    assert len(seen) == 1 and sorted(seen[0]) == ["b", "c", "d", "e"]
    assert all(results[i] == ("batch", i) for i in items[1:])
    assert batcher.statements == 2 and batcher.batched == 4 and not batcher._busy


def test_a_batch_never_holds_two_submissions_sharing_a_key_and_keeps_its_limit():
    batcher = group_commit.GroupCommit(limit=3)
    items = ["a", "b", "c", "d", "e", "f"]
    keys = {"b": ("inv1",), "c": ("inv1",), "d": ("dev",), "e": ("dev", "x"), "f": ("f",)}
    results, seen = _run_together(batcher, items, keys=keys)
    assert all(results[i] in (("batch", i), ("alone", i)) for i in items)
    for batch in seen:
        assert len(batch) <= 3
        used = [k for item in batch for k in keys.get(item, (item,))]
        assert len(used) == len(set(used))
    written = [i for batch in seen for i in batch] + [i for i in items if results[i][0] == "alone"]
    assert sorted(written) == items  # every submission written exactly once


def test_a_failing_batch_sends_every_member_to_write_alone():
    batcher = group_commit.GroupCommit(limit=8)

    def failing(batch):
        raise OperationalError("the batch statement failed")

    results, _ = _run_together(batcher, ["a", "b", "c", "d"], run_many=failing)
    assert results["a"] == ("alone", "a")
    assert [results[i] for i in "bcd"] == [group_commit.ALONE] * 3
    assert batcher.batched == 0 and not batcher._busy and not batcher._queue


def test_a_wrong_number_of_results_is_a_failed_batch():
    batcher = group_commit.GroupCommit(limit=8)
    results, _ = _run_together(batcher, ["a", "b", "c"], run_many=lambda batch: [("batch", batch[0])])
    assert [results[i] for i in "bc"] == [group_commit.ALONE] * 2


def test_the_lone_writers_exception_is_its_own():
    batcher = group_commit.GroupCommit(limit=8)

    def boom(item):
        raise ValueError(item)

    with pytest.raises(ValueError, match="a"):
        batcher.submit("a", keys=("a",), run_one=boom, run_many=None)
    assert not batcher._busy  # the next submission leads


# --- ratings (PostgreSQL) ----------------------------------------------------------------------------------
def _submit_together(monkeypatch, tokens_and_bodies: list[tuple[str, dict]]) -> list:
    """Each (token, body) submitted by its own thread as the API does; the first rating's write (alone) waits
    until all the others are queued, so they are written by one batch statement."""
    batcher = direct._group_commit()
    original = direct._write_alone
    n = len(tokens_and_bodies)

    def slow_first(statement, params, conn):
        if params["id"] == tokens.parse(tokens_and_bodies[0][0])[0]:
            deadline = time.time() + 10
            while len(batcher._queue) < n - 1 and time.time() < deadline:
                time.sleep(0.005)
        return original(statement, params, conn)

    monkeypatch.setattr(direct, "_write_alone", slow_first)
    answers: list = [None] * n

    def worker(i, token, body):
        try:
            answers[i] = api_submit.outcome(token=token, payload=api_submit._payload(body), device=f"phone-{i}")
        except Exception as exc:  # pragma: no cover - reported by the assertions
            answers[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, t, b)) for i, (t, b) in enumerate(tokens_and_bodies)]
    threads[0].start()
    deadline = time.time() + 10
    while not batcher._busy and time.time() < deadline:
        time.sleep(0.001)
    for t in threads[1:]:
        t.start()
    for t in threads:
        t.join(30)
    return answers


def _consistent():
    audit.flush_pending()
    rollups.flush()
    rated = Rating.objects.count()
    assert AuditEvent.objects.filter(action="ratings.rating.submit").count() == rated
    assert not PendingAuditEvent.objects.exists() and not PendingRatingRollup.objects.exists()
    assert not PendingReasonRollup.objects.exists()
    assert RatingInvitation.objects.filter(purpose="follow_up").count() == rated
    assert RatingRollup.objects.filter(grain="m").aggregate(n=Sum("rated"))["n"] == rated
    assert audit.verify().ok


def _check_routed(answer, invitation, level):
    status, body = answer
    assert status == 201, body
    rating = Rating.objects.get(pk=body["id"])
    assert rating.invitation_id == invitation.pk and rating.level == level == body["level"]
    follow_id, nonce = tokens.parse(body["follow_up_token"])
    follow = RatingInvitation.objects.get(pk=follow_id)
    assert (follow.purpose, follow.nonce) == ("follow_up", nonce)
    assert (follow.target_kind, follow.target_id) == (rating.target_kind, rating.target_id)
    assert RatingInvitation.objects.get(pk=invitation.pk).used_at == rating.rated_at


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_ratings_are_one_statement_and_each_answer_is_its_own(monkeypatch):
    w = world()
    invitations = [served(w, item_code=f"1144010600000000{i:02d}")[1] for i in range(5)]
    levels = [5, 4, 5, 4, 5]
    bodies = [
        {"level": 5, "channel": "qr"},
        {"level": 4, "channel": "qr", "reasons": ["p_efficient"]},
        {"level": 5, "channel": "qr", "text": "很好，身份证 440106199001011234"},
        {"level": 4, "channel": "sms"},
        {"level": 5, "channel": "qr", "anonymous": True, "indicators": {}},
    ]
    batcher = direct._group_commit()
    before = batcher.batched
    answers = _submit_together(
        monkeypatch, [(inv.token, json.dumps(b).encode()) for inv, b in zip(invitations, bodies, strict=True)]
    )
    assert batcher.batched - before == 4  # the first alone, the four that queued behind it in one statement
    for answer, invitation, level in zip(answers, invitations, levels, strict=True):
        _check_routed(answer, invitation, level)
    masked = Rating.objects.get(invitation_id=invitations[2].pk)
    assert "440106199001011234" not in masked.text  # the same masking as alone
    assert Rating.objects.get(invitation_id=invitations[3].pk).channel == "sms"
    assert Rating.objects.get(invitation_id=invitations[1].pk).reasons == ["p_efficient"]
    _consistent()
    summary = AuditEvent.objects.get(action="ratings.rating.submit", object_id=str(answers[3][1]["id"])).summary
    assert summary == {"target": f"{masked.target_kind}:{invitations[3].target_id}", "level": 4, "kind": "first",
                       "channel": "sms"}  # fmt: skip
    assert dict(ReasonRollup.objects.filter(grain="m").values_list("reason", "n")) == {"p_efficient": 1}


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_used_token_in_the_middle_of_a_batch_gets_its_409_and_the_others_are_written(monkeypatch):
    w = world()
    invitations = [served(w, item_code=f"1144010600000000{i:02d}")[1] for i in range(4)]
    rate(invitations[2], 5)  # already used
    batcher = direct._group_commit()
    before = batcher.batched
    body = b'{"level": 5, "channel": "qr"}'
    answers = _submit_together(monkeypatch, [(inv.token, body) for inv in invitations])
    assert batcher.batched - before == 3
    assert answers[2][0] == 409 and answers[2][1]["code"] == "invitation_used"
    for i in (0, 1, 3):
        _check_routed(answers[i], invitations[i], 5)
    assert Rating.objects.filter(invitation_id=invitations[2].pk).count() == 1
    assert Rating.objects.count() == 4
    _consistent()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_same_token_twice_in_the_queue_rates_once(monkeypatch):
    w = world()
    invitations = [served(w, item_code=f"1144010600000000{i:02d}")[1] for i in range(2)]
    body = b'{"level": 5, "channel": "qr"}'
    answers = _submit_together(monkeypatch, [(invitations[0].token, body), (invitations[1].token, body)] * 2)
    assert sorted(a[0] for a in answers) == [201, 201, 409, 409]
    assert {a[1]["code"] for a in answers if a[0] == 409} == {"invitation_used"}
    assert Rating.objects.count() == 2
    _consistent()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_row_the_database_refuses_fails_the_batch_and_every_rating_is_written_alone(monkeypatch):
    """One rating of the batch breaks the one-rating-per-target constraint (its target was rated while its
    invitation reads unused): the batch writes nothing, each rating is then written by its own statement — that
    one gets today's 409, the others their 201."""
    w = world()
    invitations = [served(w, item_code=f"1144010600000000{i:02d}")[1] for i in range(4)]
    rate(invitations[2], 5)
    RatingInvitation.objects.filter(pk=invitations[2].pk).update(used_at=None)
    batcher = direct._group_commit()
    before = batcher.batched
    body = b'{"level": 5, "channel": "qr"}'
    answers = _submit_together(monkeypatch, [(inv.token, body) for inv in invitations])
    assert batcher.batched == before  # the batch failed
    assert answers[2][0] == 409 and answers[2][1]["code"] == "rating_already_given"
    for i in (0, 1, 3):
        _check_routed(answers[i], invitations[i], 5)
    assert Rating.objects.count() == 4 and Rating.objects.filter(target_id=invitations[2].target_id).count() == 1
    _consistent()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_database_error_in_a_batch_writes_nothing_and_each_is_then_written_alone(monkeypatch):
    """The batch statement fails in the database after its claim and inserts ran (a division by zero in its
    last SELECT): PostgreSQL undoes all of it, and each rating is then written by its own statement."""
    w = world()
    invitations = [served(w, item_code=f"1144010600000000{i:02d}")[1] for i in range(4)]
    sql = direct._batch_sql().replace("SELECT inv.id, rating.id, follow.id", "SELECT inv.id, rating.id / 0, follow.id")
    assert "rating.id / 0" in sql
    failing = direct.prepared.RawStatement("yiwang_rating_record_batch_failing", sql, {"rows": "jsonb"})
    monkeypatch.setattr(direct, "_batch_statement", lambda: failing)
    batcher = direct._group_commit()
    before_batched, before_statements = batcher.batched, batcher.statements
    body = b'{"level": 4, "channel": "qr"}'
    answers = _submit_together(monkeypatch, [(inv.token, body) for inv in invitations])
    assert batcher.batched == before_batched and batcher.statements - before_statements == 1  # only the first
    for answer, invitation in zip(answers, invitations, strict=True):
        _check_routed(answer, invitation, 4)
    assert Rating.objects.count() == 4  # nothing twice, nothing from the failed batch
    _consistent()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_group_commit_off_writes_every_rating_alone(monkeypatch, settings):
    settings.RATINGS_GROUP_COMMIT = 0
    assert direct._group_commit() is None
    w = world()
    invitations = [served(w, item_code=f"1144010600000000{i:02d}")[1] for i in range(3)]
    calls = []
    monkeypatch.setattr(direct, "_write_batch", lambda items: calls.append(items))
    answers = []

    def worker(inv):
        try:
            answers.append(services.rating_submit_answer(token=inv.token, level=5, channel="qr"))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(inv,)) for inv in invitations]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(answers) == 3 and not calls
    _consistent()


@postgres_only
def test_inside_a_transaction_a_rating_is_written_alone(db, monkeypatch):
    """A caller's transaction (tests, a composite action) is never joined to other threads' writes."""
    w = world()
    _, invitation = served(w)
    monkeypatch.setattr(direct, "_group_commit", lambda: pytest.fail("the batcher was used"))
    assert rate(invitation, 5).pk


@pytest.mark.skipif("sqlite" not in settings.DATABASES["default"]["ENGINE"], reason="SQLite's path")
@pytest.mark.django_db(transaction=True)
def test_sqlite_writes_every_rating_by_the_general_action(monkeypatch):
    """On SQLite the one-statement path and its batcher are not used: each rating is the general action."""
    w = world()
    invitations = [served(w, item_code=f"1144010600000000{i:02d}")[1] for i in range(2)]
    monkeypatch.setattr(direct, "_group_commit", lambda: pytest.fail("the batcher was used on SQLite"))
    for inv in invitations:
        answer = services.rating_submit_answer(token=inv.token, level=5, channel="qr")
        assert Rating.objects.get(pk=answer.pk).invitation_id == inv.pk
    with pytest.raises(Conflict):
        services.rating_submit_answer(token=invitations[0].token, level=5, channel="qr")

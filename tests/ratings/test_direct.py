"""The one-statement submission path (PostgreSQL) and the lean submit view: same rules and results as the
general path — one rating per target, every 差评 a rectification, rollups equal to a rebuild, the audit
event staged and chained."""

import threading
import time

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.ratings.factories import rate, served, world
from yiwang.core import audit
from yiwang.core.errors import Conflict, Throttled
from yiwang.core.models import AuditEvent, PendingAuditEvent
from yiwang.ratings import direct, rollups, scale, tokens
from yiwang.ratings.models import (
    PendingRatingRollup,
    PendingReasonRollup,
    Rating,
    RatingInvitation,
    RatingRollup,
    ReasonRollup,
    Rectification,
    ServiceRollup,
)

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="the one-statement path is PostgreSQL's"
)


@pytest.fixture
def w(db):
    return world()


def _rollups() -> dict:
    rollups.flush()  # the one-statement path queues its ratings (decision 0018)
    return {
        "ratings": sorted(RatingRollup.objects.values_list(*rollups.RATING_KEYS, *rollups.RATING_MEASURES)),
        "reasons": sorted(ReasonRollup.objects.values_list(*rollups.REASON_KEYS, "n")),
        "services": sorted(ServiceRollup.objects.values_list(*rollups.SERVICE_KEYS, "served")),
    }


@postgres_only
def test_common_case_is_two_statements(w):
    _, invitation = served(w)
    with CaptureQueriesContext(connection) as queries:
        rating = rate(invitation, 5, device="phone-1")
    statements = [  # inside the test's transaction the statement runs in a savepoint; in a request it is alone
        q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("PREPARE", "SAVEPOINT", "RELEASE"))
    ]
    assert [s.split(" ", 2)[:2] for s in statements] == [
        ["EXECUTE", "yiwang_rating_read_1"],
        ["EXECUTE", "yiwang_rating_write_0"],
    ]
    stored = Rating.objects.get(pk=rating.pk)
    assert (stored.kind, stored.level, stored.channel, stored.invitation_id) == ("first", 5, "qr", invitation.pk)
    assert stored.department_id == w.dept.pk and stored.window_id == w.window.pk and stored.staff_id == w.clerk.pk
    assert stored.device_hash and not stored.phone_hash and stored.rated_on == rollups.local_date(stored.rated_at)
    assert RatingInvitation.objects.get(pk=invitation.pk).used_at == stored.rated_at
    follow = RatingInvitation.objects.get(
        target_kind=stored.target_kind, target_id=stored.target_id, purpose="follow_up"
    )
    assert tokens.make(follow.pk, follow.nonce) == rating.follow_up_token
    assert (follow.department_id, follow.window_id, follow.item_code) == (w.dept.pk, w.window.pk, stored.item_code)
    pending = PendingAuditEvent.objects.get(object_id=str(rating.pk))
    assert pending.action == "ratings.rating.submit" and pending.summary["level"] == 5


@postgres_only
def test_rollups_equal_a_rebuild(w):
    for level, reasons in [(5, ()), (4, ("p_efficient",)), (3, ("s_wait",)), (5, ()), (2, ("b_wait",))]:
        _, invitation = served(w)
        rate(invitation, level, reasons=reasons, device=f"d{level}")
    live = _rollups()
    month = [row for row in live["ratings"] if row[0] == "m"]
    assert sum(row[len(rollups.RATING_KEYS)] for row in month) == 5
    assert {row[0] for row in live["ratings"]} == {"d", "m", "dd", "md", "ms", "mi"}
    rollups.rebuild()
    assert _rollups() == live


@postgres_only
def test_one_rating_per_target(w):
    contact, invitation = served(w)
    first = rate(invitation, 5)
    with pytest.raises(Conflict) as used:
        rate(invitation, 4)
    assert used.value.code == "invitation_used"
    # a rating that got there first by another way: the unique constraint decides, as a 409
    _, other = served(w)
    inv = RatingInvitation.objects.get(pk=other.pk)
    Rating.objects.create(
        target_kind=inv.target_kind,
        target_id=inv.target_id,
        kind="first",
        level=5,
        channel="qr",
        mode="onsite",
        region_code=inv.region_code,
        served_at=inv.served_at,
        rated_on=rollups.local_date(inv.served_at),
    )
    with pytest.raises(Conflict) as taken:
        rate(other, 5)
    assert taken.value.code == "rating_already_given"
    assert RatingInvitation.objects.get(pk=other.pk).used_at is None  # the claim rolled back with the statement
    assert Rating.objects.filter(target_id=contact.pk).count() == 1 and first.pk


@postgres_only
def test_bad_rating_opens_a_rectification(w):
    _, invitation = served(w)
    rating = rate(invitation, 2, reasons=("b_wait",))
    rect = Rectification.objects.get(rating_id=rating.pk)
    assert rect.department_id == w.dept.pk
    assert Rating.objects.get(pk=rating.pk).level == 2


@postgres_only
@override_settings(RATINGS={"MAX_PER_DEVICE_PER_HOUR": 1})
def test_device_throttle(w):
    _, a = served(w)
    _, b = served(w)
    rate(a, 5, device="same")
    with pytest.raises(Throttled):
        rate(b, 5, device="same")


@postgres_only
def test_logged_in_person_and_evaluator_take_the_general_path(w):
    _, invitation = served(w, person=w.citizen)
    assert direct.submit(token=invitation.token, level=5, channel="qr") is None  # named evaluator: general path
    rating = rate(invitation, 5)
    assert Rating.objects.get(pk=rating.pk).evaluator_id == w.citizen.pk


def test_lean_view_answers_like_the_api(w, api):
    _, invitation = served(w)
    r = api.post(f"/ratings/invitations/{invitation.token}/rating", {"level": 4, "channel": "qr"})
    assert r.status_code == 201 and r["Content-Type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"id", "kind", "level", "level_label", "bad", "follow_up_token"}
    assert (body["kind"], body["level"], body["level_label"], body["bad"]) == ("first", 4, "满意", False)
    assert r.has_header("X-Request-ID")
    again = api.post(f"/ratings/invitations/{invitation.token}/rating", {"level": 4})
    assert again.status_code == 409 and again.json() == {
        "code": "invitation_used",
        "message": "该评价链接已使用。",
        "details": None,
    }
    # what the lean view does not handle plainly goes to the Ninja operation: same error format
    _, other = served(w)
    bad_type = api.post(f"/ratings/invitations/{other.token}/rating", {"level": "5", "extra": 1})
    assert bad_type.status_code in (201, 422)
    _, third = served(w)
    wrong = api.post(f"/ratings/invitations/{third.token}/rating", {"level": 9})
    assert wrong.status_code == 422 and wrong.json()["code"] == "validation_failed"


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_background_flusher_chains_staged_events(settings, monkeypatch):
    w = world()
    settings.AUDIT_FLUSH_DELAY = 0.01
    monkeypatch.setattr(audit._background, "idle", 0.2)  # let go of the test database soon after
    _, invitation = served(w)
    rating = rate(invitation, scale.Level.VERY_SATISFIED)
    deadline = time.time() + 10
    while PendingAuditEvent.objects.exists() and time.time() < deadline:
        time.sleep(0.05)
    assert not PendingAuditEvent.objects.exists()
    assert AuditEvent.objects.filter(action="ratings.rating.submit", object_id=str(rating.pk)).exists()
    assert audit.verify().ok
    assert any(t.name == "audit-flusher" for t in threading.enumerate())
    time.sleep(0.5)  # the idle flusher closes its connection before the test database is dropped


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_read_is_the_health_check_and_survives_a_dead_connection():
    import psycopg

    w = world()
    _, invitation = served(w)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    dsn = {k: v for k, v in connection.get_connection_params().items() if k in ("dbname", "user", "host", "port")}
    with psycopg.connect(**dsn, autocommit=True) as admin:  # the server ends our idle connection
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    connection.health_check_enabled, connection.health_check_done = True, False  # as at a request's start
    rating = rate(invitation, 5)
    assert Rating.objects.filter(pk=rating.pk).exists()


@pytest.mark.parametrize("text", ["好\x00评", "\ud800"])
def test_lean_view_refuses_text_the_database_cannot_store(w, api, text):
    """A NUL byte or a lone surrogate in JSON is valid JSON but not storable text: 4xx, nothing written."""
    _, invitation = served(w)
    r = api.post(f"/ratings/invitations/{invitation.token}/rating", {"level": 4, "text": text})
    assert 400 <= r.status_code < 500, r.content
    assert not Rating.objects.exists()
    invitation.refresh_from_db()
    assert invitation.used_at is None


def _rectification_facts(rating_pk: int) -> dict:
    rect = Rectification.objects.get(rating_id=rating_pk)
    fields = [
        f.attname
        for f in Rectification._meta.concrete_fields
        if f.attname not in ("id", "rating_id", "created_at", "updated_at")
    ]
    return {
        "rect": {f: getattr(rect, f) for f in fields},
        "events": list(rect.events.values_list("event", "from_state", "to_state", "actor_id", "actor_label", "note")),
        "event_data": [{k: v for k, v in d.items()} for d in rect.events.values_list("data", flat=True)],
        "audit": sorted(
            (e.action, e.actor_id, e.actor_label, e.region_code, tuple(sorted(e.summary)))
            for e in PendingAuditEvent.objects.filter(
                object_id__in=[str(rating_pk), str(rect.pk)], action__startswith="ratings."
            )
        ),
    }


@postgres_only
@pytest.mark.parametrize("level", [1, 2])
def test_a_bad_rating_by_token_equals_the_general_action(w, monkeypatch, django_capture_on_commit_callbacks, level):
    """The direct 差评 writes the same rectification (deadlines from the calendar, department, region,
    state), the same create event and the same audit events as the general action."""
    from yiwang.ratings import services
    from yiwang.workdays import services as workdays

    # a holiday inside the deadlines, so that they come from the calendar and not from plain weekdays
    workdays.calendar_day_set(actor=w.system, date=rollups.local_date(timezone.now()), is_workday=False)
    monkeypatch.setattr(audit, "flush_soon", lambda: None)  # keep the staged events to compare them
    _, fast_inv = served(w)
    _, slow_inv = served(w)
    with CaptureQueriesContext(connection) as queries:
        fast = rate(fast_inv, level, reasons=("b_wait",), device="phone-1")
    assert any(q["sql"].startswith("EXECUTE yiwang_rating_write_1") for q in queries.captured_queries)
    with monkeypatch.context() as m:
        m.setattr(direct, "submit", lambda **kw: None)
        slow = services.rating_submit(
            token=slow_inv.token, level=level, channel="qr", reasons=["b_wait"], device="phone-1"
        )
    assert _rectification_facts(fast.pk) == _rectification_facts(slow.pk)
    facts = _rectification_facts(fast.pk)
    assert facts["rect"]["department_id"] == w.dept.pk and facts["rect"]["state"] == "pending"
    assert facts["events"] and facts["event_data"] == [{"level": level}]
    assert [a[0] for a in facts["audit"]] == ["ratings.rating.submit", "ratings.rectification.create"]
    live = _rollups()
    rollups.rebuild()
    assert _rollups() == live


@postgres_only
def test_a_bad_rating_whose_rectification_fails_writes_nothing(w, monkeypatch):
    from yiwang.ratings import services

    def fail(rating, *, now):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "_open_rectification", fail)
    _, invitation = served(w)
    models = (Rating, RatingRollup, PendingAuditEvent, PendingRatingRollup, PendingReasonRollup)
    before = [m.objects.count() for m in models]
    with pytest.raises(RuntimeError):
        rate(invitation, 2, reasons=("b_wait",))
    assert [m.objects.count() for m in models] == before
    assert RatingInvitation.objects.get(pk=invitation.pk).used_at is None

"""The one-statement submission path (PostgreSQL) and the lean submit view: same rules and results as the
general path — one rating per target, every 差评 a rectification, rollups equal to a rebuild, the audit
event staged and chained."""

import datetime as dt
import threading
import time
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.ratings.factories import rate, served, world
from yiwang.core import audit
from yiwang.core.errors import Conflict, NotFound, PermissionDenied, Throttled, ValidationFailed
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


def _statements(queries) -> list[str]:
    """The statements a submission ran (inside the test's transaction it runs in a savepoint)."""
    return [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("PREPARE", "SAVEPOINT", "RELEASE"))]


@postgres_only
def test_a_good_rating_is_one_statement(w):
    _, invitation = served(w)
    with CaptureQueriesContext(connection) as queries:
        rating = rate(invitation, 5, device="phone-1")
    # rating_submit reads the rating back for its callers; the API's answer does not (rating_submit_answer)
    assert _statements(queries)[0].split(" ", 3)[:3] == ["/*", "yiwang_rating_record_0", "*/"]
    assert len(_statements(queries)) == 2 and _statements(queries)[1].startswith("SELECT")
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
def test_the_answer_is_one_statement_and_no_model(w):
    from yiwang.ratings import services

    _, invitation = served(w)
    with CaptureQueriesContext(connection) as queries:
        answer = services.rating_submit_answer(token=invitation.token, level=4, channel="sms", device="d")
    assert len(_statements(queries)) == 1
    assert isinstance(answer, direct.Recorded)
    stored = Rating.objects.get(pk=answer.pk)
    assert (
        (answer.kind, answer.level, answer.is_bad) == (stored.kind, stored.level, stored.is_bad) == ("first", 4, False)
    )


def _rating_facts(pk: int) -> dict:
    rating = Rating.objects.get(pk=pk)
    skip = {"id", "target_id", "target_label", "invitation_id", "rated_at", "rated_on", "served_at", "device_hash"}
    facts = {f.attname: getattr(rating, f.attname) for f in Rating._meta.concrete_fields if f.attname not in skip}
    follow = RatingInvitation.objects.get(
        target_kind=rating.target_kind, target_id=rating.target_id, purpose="follow_up"
    )
    skip_follow = {"id", "target_id", "target_label", "nonce", "created_at", "expires_at", "served_at"}
    facts["follow"] = {
        f.attname: getattr(follow, f.attname)
        for f in RatingInvitation._meta.concrete_fields
        if f.attname not in skip_follow
    }
    # the general action reads the clock again for these; the one statement uses the rating's time
    facts["follow_expires_after"] = follow.expires_at - rating.rated_at
    facts["follow_created_at_rating"] = abs(follow.created_at - rating.rated_at) < dt.timedelta(seconds=5)
    facts["claimed_at_rated_at"] = RatingInvitation.objects.get(pk=rating.invitation_id).used_at == rating.rated_at
    facts["device_hashed"] = bool(rating.device_hash)
    event = PendingAuditEvent.objects.get(object_id=str(pk), action="ratings.rating.submit")
    facts["audit"] = {
        "actor": (event.actor_id, event.actor_label),
        "object_type": event.object_type,
        "region_code": event.region_code,
        "summary": {**event.summary, "target": event.summary["target"].split(":")[0]},
        "target_is_the_rated_one": event.summary["target"] == f"{rating.target_kind}:{rating.target_id}",
        "context": (event.request_id, event.ip, event.channel),
        "at_rating": abs(event.occurred_at - rating.rated_at) < dt.timedelta(seconds=5),
    }
    facts["queued"] = sorted(
        (
            q.rated_on == rating.rated_on,
            q.region_code,
            q.department_id,
            q.hall_id,
            q.window_id,
            q.staff_id,
            q.item_code,
            q.channel,
            q.level,
        )
        for q in PendingRatingRollup.objects.filter(level=rating.level, channel=rating.channel)
    )[-1:]
    return facts


@postgres_only
@pytest.mark.parametrize(
    "submission",
    [
        {"level": 5},
        {"level": 4, "channel": "sms", "reasons": ["p_friendly", "p_efficient"], "indicators": {"service_level": 5}},
        {"level": 3, "channel": "kiosk", "reasons": ["other", "s_wait"], "text": "等候  时间\n略长 13800138000"},
        {"level": 5, "anonymous": True, "contact_name": "不记名"},
        {"level": 4, "contact_name": "  王五  "},
    ],
)
def test_the_one_statement_writes_what_the_general_action_writes(w, monkeypatch, submission):
    """Same rating columns, 追评 invitation, staged audit event and queued rollup row as the general action."""
    from yiwang.core import context
    from yiwang.ratings import services

    monkeypatch.setattr(audit, "flush_soon", lambda: None)  # keep the staged events to compare them
    monkeypatch.setattr(rollups, "flush_soon", lambda: None)  # and the queued rows
    token = context.activate(context.RequestContext(request_id="r-1", ip="10.0.0.1", channel="api"))
    try:
        kwargs = {"channel": "qr", "device": "phone-1", **submission}
        _, fast_inv = served(w)
        fast = direct.record(token=fast_inv.token, **kwargs)
        assert isinstance(fast, direct.Recorded)
        _, slow_inv = served(w)
        with monkeypatch.context() as m:
            m.setattr(direct, "record", lambda **kw: None)
            m.setattr(direct, "submit", lambda **kw: None)
            slow = services.rating_submit(token=slow_inv.token, **{**kwargs, "device": "phone-2"})
    finally:
        context.reset(token)
    assert _rating_facts(fast.pk) == _rating_facts(slow.pk)
    assert fast.level == slow.level and fast.kind == slow.kind and fast.is_bad == slow.is_bad is False
    follow = RatingInvitation.objects.get(target_id=fast_inv.target_id, purpose="follow_up")
    assert tokens.make(follow.pk, follow.nonce) == fast.follow_up_token


def _nothing_written(invitation) -> None:
    assert not Rating.objects.filter(invitation_id=invitation.pk).exists()
    assert RatingInvitation.objects.get(pk=invitation.pk).used_at is None
    assert not RatingInvitation.objects.filter(target_id=invitation.target_id, purpose="follow_up").exists()


@postgres_only
def test_the_claim_refuses_an_expired_invitation(w):
    _, invitation = served(w)
    RatingInvitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert direct.record(token=invitation.token, level=5, channel="qr") is None
    _nothing_written(invitation)
    with pytest.raises(Conflict) as error:
        rate(invitation, 5)
    assert error.value.code == "invitation_expired"


@postgres_only
def test_the_claim_refuses_a_used_invitation(w):
    _, invitation = served(w)
    first = direct.record(token=invitation.token, level=5, channel="qr")
    assert first is not None
    assert direct.record(token=invitation.token, level=4, channel="qr") is None
    with pytest.raises(Conflict) as error:
        rate(invitation, 4)
    assert error.value.code == "invitation_used"
    assert Rating.objects.filter(invitation_id=invitation.pk).count() == 1


@postgres_only
def test_the_claim_refuses_a_wrong_nonce_and_a_follow_up_invitation(w):
    _, invitation = served(w)
    forged = tokens.make(invitation.pk, "0" * 16)
    assert direct.record(token=forged, level=5, channel="qr") is None
    with pytest.raises(NotFound):
        rate(SimpleNamespace(token=forged), 5)
    first = rate(invitation, 5)
    follow = RatingInvitation.objects.get(target_id=invitation.target_id, purpose="follow_up")
    assert direct.record(token=first.follow_up_token, level=5, channel="qr") is None  # a 追评: general path
    assert RatingInvitation.objects.get(pk=follow.pk).used_at is None


@postgres_only
@pytest.mark.parametrize(
    ("submission", "code"),
    [
        ({"channel": "evaluator"}, "evaluator_device_required"),  # the window evaluator needs its device
        ({"channel": "system"}, "rating_channel_invalid"),
        ({"channel": "fax"}, "rating_channel_invalid"),
        ({"indicators": {"usability": 5}}, "rating_indicator_invalid"),  # an online indicator, on-site service
        ({"reasons": ["p_easy_online"]}, "rating_reason_invalid"),
        ({"reasons": ["other"]}, "rating_text_required"),
        ({"level": 9}, "rating_level_invalid"),
    ],
)
def test_a_submission_the_rules_refuse_is_the_general_actions(w, submission, code):
    _, invitation = served(w)
    kwargs = {"level": 5, "channel": "qr", **submission}
    assert direct.record(token=invitation.token, **kwargs) is None
    _nothing_written(invitation)
    with pytest.raises((ValidationFailed, PermissionDenied)) as error:
        rate(invitation, **kwargs)
    assert error.value.code == code
    _nothing_written(invitation)


@postgres_only
def test_the_claim_checks_the_invitations_mode(w):
    """A submission valid only for online service does not claim an on-site invitation (and vice versa)."""
    _, onsite = served(w)
    assert (
        direct._accept(level=5, channel="qr", indicators={"usability": 5}, reasons=(), text="", anonymous=False)[1]
        == "online"
    )
    assert direct.record(token=onsite.token, level=5, channel="qr", indicators={"usability": 5}) is None
    _nothing_written(onsite)
    _, online = served(w)
    RatingInvitation.objects.filter(pk=online.pk).update(mode="online")
    recorded = direct.record(token=online.token, level=5, channel="qr", indicators={"usability": 4})
    assert recorded is not None
    assert Rating.objects.get(pk=recorded.pk).mode == "online"
    _, via_kiosk = served(w)
    RatingInvitation.objects.filter(pk=via_kiosk.pk).update(mode="online")
    recorded = direct.record(token=via_kiosk.token, level=5, channel="kiosk", indicators={"service_level": 4})
    assert Rating.objects.get(pk=recorded.pk).mode == "onsite"  # the kiosk rates on-site service


@postgres_only
def test_the_claim_refuses_a_service_not_yet_given(w):
    _, invitation = served(w)
    RatingInvitation.objects.filter(pk=invitation.pk).update(served_at=timezone.now() + dt.timedelta(minutes=5))
    assert direct.record(token=invitation.token, level=5, channel="qr") is None
    with pytest.raises(Conflict) as error:
        rate(invitation, 5)
    assert error.value.code == "rating_before_service"
    _nothing_written(invitation)


@postgres_only
def test_a_named_invitation_is_claimed_only_anonymously(w):
    _, invitation = served(w, person=w.citizen)
    assert direct.record(token=invitation.token, level=5, channel="qr") is None
    _nothing_written(invitation)
    assert direct.record(token=invitation.token, level=5, channel="qr", anonymous=True) is not None


@postgres_only
@override_settings(RATINGS={"MAX_PER_DEVICE_PER_HOUR": 2})
def test_the_claim_counts_the_devices_ratings(w):
    invitations = [served(w)[1] for _ in range(3)]
    for invitation in invitations[:2]:
        assert direct.record(token=invitation.token, level=5, channel="qr", device="same") is not None
    assert direct.record(token=invitations[2].token, level=5, channel="qr", device="same") is None
    _nothing_written(invitations[2])
    with pytest.raises(Throttled):
        rate(invitations[2], 5, device="same")
    assert direct.record(token=invitations[2].token, level=5, channel="qr", device="other") is not None


@postgres_only
def test_a_bad_rating_falls_back_to_the_two_statement_path(w):
    _, invitation = served(w)
    assert direct.record(token=invitation.token, level=2, channel="qr", reasons=["b_wait"]) is None
    _nothing_written(invitation)
    with CaptureQueriesContext(connection) as queries:
        rating = rate(invitation, 2, reasons=("b_wait",))
    assert [s.split(" ", 3)[1] for s in _statements(queries)][:2] == ["yiwang_rating_read_0", "yiwang_rating_write_1"]
    assert Rectification.objects.filter(rating_id=rating.pk).exists()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_concurrent_double_submission_rates_once():
    from django.db import connections

    from yiwang.ratings import services

    w = world()
    _, invitation = served(w)
    barrier, outcomes = threading.Barrier(2), []

    def submit(level):
        try:
            barrier.wait()
            answer = services.rating_submit_answer(token=invitation.token, level=level, channel="qr")
            outcomes.append(("ok", answer.pk))
        except Conflict as exc:
            outcomes.append(("conflict", exc.code))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(level,)) for level in (5, 4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(o[0] for o in outcomes) == ["conflict", "ok"]
    assert [o[1] for o in outcomes if o[0] == "conflict"] == ["invitation_used"]
    assert Rating.objects.filter(invitation_id=invitation.pk).count() == 1
    assert RatingInvitation.objects.filter(target_id=invitation.target_id, purpose="follow_up").count() == 1
    assert PendingAuditEvent.objects.count() + AuditEvent.objects.filter(action="ratings.rating.submit").count() == 1


def test_the_answer_is_the_same_on_every_path(w):
    """SQLite (the general action) and PostgreSQL (the one statement) answer the same fields."""
    from yiwang.ratings import services

    _, invitation = served(w)
    answer = services.rating_submit_answer(token=invitation.token, level=5, channel="qr")
    stored = Rating.objects.get(pk=answer.pk)
    assert (answer.kind, answer.level, answer.is_bad) == ("first", 5, False) == (stored.kind, stored.level, False)
    follow = RatingInvitation.objects.get(target_id=invitation.target_id, purpose="follow_up")
    assert answer.follow_up_token == tokens.make(follow.pk, follow.nonce)
    assert isinstance(answer, direct.Recorded) == (connection.vendor == "postgresql")


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
    assert any(q["sql"].startswith("/* yiwang_rating_write_1 */") for q in queries.captured_queries)
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
    # one prepared statement for the rectification, its event and its audit event (decision 0024)
    assert any(q["sql"].startswith("/* yiwang_rating_rectify */") for q in queries.captured_queries)
    contexts = set()
    for rating_pk in (fast.pk, slow.pk):
        rect = Rectification.objects.get(rating_id=rating_pk)
        event = PendingAuditEvent.objects.get(action="ratings.rectification.create", object_id=str(rect.pk))
        assert event.object_type == "ratings.rectification" and event.summary == {
            "rating": rating_pk,
            "department": w.dept.pk,
        }
        assert event.region_code == rect.region_code
        contexts.add((event.request_id, event.ip, event.channel))
    assert len(contexts) == 1
    live = _rollups()
    rollups.rebuild()
    assert _rollups() == live


@postgres_only
def test_a_bad_rating_whose_rectification_fails_writes_nothing(w, monkeypatch):
    def fail(rating, *, now):
        raise RuntimeError("boom")

    monkeypatch.setattr(direct, "_open_rectification", fail)
    _, invitation = served(w)
    models = (Rating, RatingRollup, PendingAuditEvent, PendingRatingRollup, PendingReasonRollup)
    before = [m.objects.count() for m in models]
    with pytest.raises(RuntimeError):
        rate(invitation, 2, reasons=("b_wait",))
    assert [m.objects.count() for m in models] == before
    assert RatingInvitation.objects.get(pk=invitation.pk).used_at is None

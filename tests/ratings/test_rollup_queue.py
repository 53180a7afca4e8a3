"""The rollup queue of the one-statement path (decision 0018): a flush adds every queued rating to every
grain exactly once (on SQLite in Python, on PostgreSQL in one statement per queue), a failed flush
leaves the queue and the rollups as they were, concurrent flushes and submissions count each rating once,
a rebuild empties the queue, and readers (reports) see queued ratings."""

import datetime as dt
import io
import threading
import time

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections

from tests.ratings.factories import rate, served, world
from yiwang.ratings import reports, rollups
from yiwang.ratings.models import (
    PendingRatingRollup,
    PendingReasonRollup,
    Rating,
    RatingRollup,
    ReasonRollup,
)

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="the one-statement path is PostgreSQL's"
)

DAY = dt.date(2026, 3, 14)
QUEUED = [  # (day, department, hall, window, staff, item, channel, level, reasons)
    (DAY, 7, 3, 30, 300, "I1", "qr", 5, []),
    (DAY, 7, 3, 30, 300, "I1", "qr", 5, []),
    (DAY, 7, 3, 31, 301, "I2", "sms", 4, ["p_efficient"]),
    (DAY + dt.timedelta(days=1), 7, 3, 30, 300, "I1", "qr", 2, ["b_wait", "b_attitude"]),
    (dt.date(2026, 4, 1), 8, 0, 0, 0, "", "portal", 1, ["b_wait"]),
]


def _queue(rows=QUEUED) -> None:
    for day, dept, hall, window, staff, item, channel, level, reasons in rows:
        dims = {"region_code": "440106000000", "department_id": dept, "hall_id": hall, "window_id": window}
        dims.update({"staff_id": staff, "item_code": item, "rated_on": day, "level": level})
        PendingRatingRollup.objects.create(**dims, channel=channel)
        if reasons:
            PendingReasonRollup.objects.create(**dims, reasons=sorted(set(reasons)))


def _expected(rows=QUEUED) -> tuple[dict, dict]:
    """What the general path's bump_rating / bump_reasons would have written for the same ratings."""
    ratings: dict[tuple, int] = {}
    reasons: dict[tuple, int] = {}
    for day, dept, hall, window, staff, item, channel, level, chosen in rows:
        dims = {"region_code": "440106000000", "department_id": dept, "hall_id": hall, "window_id": window}
        dims.update({"staff_id": staff, "item_code": item})
        for row in rollups._two_grains(day, {**dims, "channel": channel, "level": level}):
            key = tuple(row[k] for k in rollups.RATING_KEYS)
            ratings[key] = ratings.get(key, 0) + 1
        for reason in chosen:
            for row in rollups._two_grains(day, {**dims, "level": level, "reason": reason}):
                key = tuple(row[k] for k in rollups.REASON_KEYS)
                reasons[key] = reasons.get(key, 0) + 1
    return ratings, reasons


def _stored() -> tuple[dict, dict]:
    ratings = {}
    for row in RatingRollup.objects.values_list(*rollups.RATING_KEYS, *rollups.RATING_MEASURES):
        key, measures = row[: len(rollups.RATING_KEYS)], dict(zip(rollups.RATING_MEASURES, row[-6:], strict=True))
        assert measures["rated"] == measures["active"] and not any(
            measures[m] for m in ("defaulted", "invalidated", "rectified", "revisited")
        )
        ratings[key] = measures["rated"]
    reasons = {row[:-1]: row[-1] for row in ReasonRollup.objects.values_list(*rollups.REASON_KEYS, "n")}
    return ratings, reasons


def test_a_flush_adds_every_queued_rating_to_every_grain_once(db):
    _queue()
    assert rollups.flush() == len(QUEUED)
    assert not PendingRatingRollup.objects.exists() and not PendingReasonRollup.objects.exists()
    assert _stored() == _expected()
    assert {k[0] for k in _stored()[0]} == {"d", "m", "dd", "md", "ms", "mi"}
    assert rollups.flush() == 0  # nothing queued: nothing added twice
    _queue(QUEUED[:2])  # rows that exist already are added to
    rollups.flush()
    assert _stored() == _expected(QUEUED + QUEUED[:2])


def test_the_command_flushes(db):
    _queue()
    out = io.StringIO()
    call_command("ratings", "flush-rollups", stdout=out)
    assert f"{len(QUEUED)} 条" in out.getvalue() and _stored() == _expected()


@postgres_only
def test_a_failed_flush_leaves_queue_and_rollups_as_they_were(db, monkeypatch):
    _queue()
    monkeypatch.setattr(rollups, "_reason_drain_sql", lambda: "SELECT 1 / 0")  # fails after the rating drain
    with pytest.raises(Exception, match="division by zero"):
        rollups.flush()
    assert PendingRatingRollup.objects.count() == len(QUEUED) and not RatingRollup.objects.exists()
    monkeypatch.undo()
    rollups.flush()
    assert _stored() == _expected()


@postgres_only
def test_ratings_by_token_are_queued_and_reports_count_them(db):
    w = world()
    for level, reasons in [(5, ()), (2, ("b_wait",)), (4, ())]:
        _, invitation = served(w)
        rate(invitation, level, reasons=reasons, device=f"d{level}")
    # inside the test's transaction nothing commits, so nothing was flushed: the ratings are queued
    assert PendingRatingRollup.objects.count() == 3 and PendingReasonRollup.objects.count() == 1
    assert not RatingRollup.objects.exists()
    today = rollups.local_date(Rating.objects.first().rated_at)
    report = reports.build(w.supervisor, period=reports.Period.month(today.year, today.month))
    assert report.total.total == 3 and not PendingRatingRollup.objects.exists()
    live = _stored()
    rollups.rebuild()
    assert _stored() == live


@postgres_only
def test_a_rebuild_empties_the_queue(db):
    w = world()
    for level in (5, 3):
        _, invitation = served(w)
        rate(invitation, level, device=f"d{level}")
    assert PendingRatingRollup.objects.count() == 2
    rollups.rebuild()
    assert not PendingRatingRollup.objects.exists()
    rollups.flush()
    assert sum(r.rated for r in RatingRollup.objects.filter(grain="m")) == 2  # not 4


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_and_flushes_count_each_rating_once():
    w = world()
    invitations = [served(w)[1] for _ in range(30)]
    errors: list[BaseException] = []
    done = threading.Event()

    def submit():
        try:
            for i, invitation in enumerate(invitations):
                rate(invitation, 2 if i % 5 == 0 else 5, reasons=("b_wait",) if i % 5 == 0 else (), device=f"c{i}")
        except BaseException as exc:
            errors.append(exc)
        finally:
            done.set()
            connections.close_all()

    def flusher():
        try:
            while not done.is_set():
                rollups.flush()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit), threading.Thread(target=flusher), threading.Thread(target=flusher)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    rollups.flush()
    live = _stored()
    assert sum(n for k, n in live[0].items() if k[0] == "m") == 30
    rollups.rebuild()
    assert _stored() == live


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_background_flusher_adds_queued_ratings(settings, monkeypatch):
    w = world()
    settings.RATINGS_ROLLUP_FLUSH_DELAY = 0.01
    monkeypatch.setattr(rollups._background, "idle", 0.2)  # let go of the test database soon after
    _, invitation = served(w)
    rate(invitation, 5)
    deadline = time.time() + 10
    while PendingRatingRollup.objects.exists() and time.time() < deadline:
        time.sleep(0.05)
    assert not PendingRatingRollup.objects.exists()
    assert sum(r.rated for r in RatingRollup.objects.filter(grain="m")) == 1
    assert any(t.name == "rollup-flusher" for t in threading.enumerate())
    time.sleep(0.5)  # the idle flusher closes its connection before the test database is dropped
    assert connection.vendor == "postgresql"

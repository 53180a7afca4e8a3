"""Idempotency keys: replay, reuse with another request, malformed keys, per-user keys, expiry, concurrency."""

import datetime as dt
import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from tests.cases.conftest import apply, concurrent
from tests.factories import UserFactory
from yiwang.cases import idempotency as idem
from yiwang.cases.models import IdempotencyRecord

KEY = "c0ffee-0001-retry"


@pytest.fixture
def user(db):
    return UserFactory()


def test_first_claim_then_replay(user):
    record = idem.claim(user=user, key=KEY, scope="case.submit", payload={"case": 1})
    assert isinstance(record, IdempotencyRecord)
    idem.complete(record, result_type="cases.case", result_id=7)
    again = idem.claim(user=user, key=KEY, scope="case.submit", payload={"case": 1})
    assert again == idem.Replay("cases.case", "7")
    assert IdempotencyRecord.objects.count() == 1


@pytest.mark.parametrize(("scope", "payload"), [("case.submit", {"case": 2}), ("case.resubmit", {"case": 1})])
def test_same_key_for_another_request_is_refused(user, scope, payload):
    idem.claim(user=user, key=KEY, scope="case.submit", payload={"case": 1})
    with pytest.raises(idem.IdempotencyKeyReused) as info:
        idem.claim(user=user, key=KEY, scope=scope, payload=payload)
    assert info.value.code == "idempotency_key_reused" and info.value.status == 422


@pytest.mark.parametrize("key", ["short", "has space in it", "x" * 101, "中文中文中文中文中文", "a/b/c/d/e/f"])
def test_malformed_keys(user, key):
    with pytest.raises(idem.IdempotencyKeyInvalid) as info:
        idem.claim(user=user, key=key, scope="case.submit", payload={})
    assert info.value.code == "idempotency_key_invalid"
    assert not IdempotencyRecord.objects.exists()


def test_validate_key_allows_absent():
    assert idem.validate_key(None) is None
    assert idem.validate_key("") is None
    assert idem.validate_key(KEY) == KEY


def test_keys_are_per_user(user):
    other = UserFactory()
    idem.claim(user=user, key=KEY, scope="case.submit", payload={"case": 1})
    assert isinstance(idem.claim(user=other, key=KEY, scope="case.submit", payload={"case": 9}), IdempotencyRecord)


def test_expired_keys_start_over(user):
    record = idem.claim(user=user, key=KEY, scope="case.submit", payload={"case": 1})
    IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - dt.timedelta(days=2))
    assert isinstance(idem.claim(user=user, key=KEY, scope="case.submit", payload={"case": 2}), IdempotencyRecord)
    assert idem.purge() == 0
    IdempotencyRecord.objects.update(created_at=timezone.now() - dt.timedelta(days=2))
    assert idem.purge() == 1


def test_a_failed_action_releases_the_key(user):
    with pytest.raises(RuntimeError), transaction.atomic():
        idem.claim(user=user, key=KEY, scope="case.submit", payload={})
        raise RuntimeError
    assert isinstance(idem.claim(user=user, key=KEY, scope="case.submit", payload={}), IdempotencyRecord)


@apply(concurrent)
def test_concurrent_twins_do_the_work_once():
    user = UserFactory()
    barrier = threading.Barrier(4)
    outcomes, errors = [], []

    def worker():
        try:
            barrier.wait()
            with transaction.atomic():
                result = idem.claim(user=user, key=KEY, scope="case.submit", payload={"case": 1})
                if isinstance(result, IdempotencyRecord):
                    idem.complete(result, result_type="cases.case", result_id=99)
                    outcomes.append("did")
                else:
                    outcomes.append(result.result_id)
        except Exception as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sorted(outcomes) == ["99", "99", "99", "did"]

"""Idempotency-Key (幂等键): a retried request never does its work twice.

A client sends ``Idempotency-Key: <8–100 characters of [A-Za-z0-9_.:-]>`` with a request that creates
something (submitting an application). Inside the action's transaction :func:`claim` inserts the key for
the user:

- a new key → the action proceeds and calls :func:`complete` with what it created;
- the same key with the same request again → the earlier result is returned (:class:`Replay`), nothing new
  is written; two such requests at the same moment queue on the key's unique index, so only one does the
  work;
- the same key with a different request (or another operation) → ``idempotency_key_reused`` (422);
- a malformed key → ``idempotency_key_invalid`` (422).

Keys are per user (another user's key matches nothing) and expire after ``IDEMPOTENCY_TTL_HOURS`` (24).
If the action fails, its transaction rolls the key back with everything else, so a retry may succeed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone

from yiwang.core.errors import ValidationFailed

from .models import IdempotencyRecord

KEY_RE = re.compile(r"^[A-Za-z0-9_.:\-]{8,100}$")


class IdempotencyKeyInvalid(ValidationFailed):
    default_code = "idempotency_key_invalid"
    default_message = "Idempotency-Key 格式不正确（8至100位字母、数字或 _ . : -）。"


class IdempotencyKeyReused(ValidationFailed):
    default_code = "idempotency_key_reused"
    default_message = "该 Idempotency-Key 已用于另一个不同的请求。"


@dataclass(frozen=True)
class Replay:
    """The key was used before with the same request: here is what that request produced."""

    result_type: str
    result_id: str


def ttl() -> dt.timedelta:
    return dt.timedelta(hours=int(getattr(settings, "IDEMPOTENCY_TTL_HOURS", 24)))


def validate_key(key: str | None) -> str | None:
    if key is None or key == "":
        return None
    if not KEY_RE.match(key):
        raise IdempotencyKeyInvalid()
    return key


def fingerprint(payload: Any) -> str:
    text = json.dumps(payload, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def claim(*, user: Any, key: str, scope: str, payload: Any) -> IdempotencyRecord | Replay:
    """Take ``key`` for this request (inside the caller's transaction) or return the earlier result."""
    validate_key(key)
    digest = fingerprint(payload)
    now = timezone.now()
    record = _insert(user.pk, key, scope, digest, now)
    if record is not None:
        return record
    # The key exists (a concurrent twin waited for it on the unique index and now sees it committed).
    existing = IdempotencyRecord.objects.get(user_id=user.pk, key=key)
    if existing.created_at < now - ttl():
        existing.delete()
        record = _insert(user.pk, key, scope, digest, now)
        if record is not None:
            return record
        existing = IdempotencyRecord.objects.get(user_id=user.pk, key=key)
    if existing.scope != scope or existing.fingerprint != digest:
        raise IdempotencyKeyReused(details={"key": key})
    return Replay(existing.result_type, existing.result_id)


def _insert(user_id: int, key: str, scope: str, digest: str, now) -> IdempotencyRecord | None:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING id`` (PostgreSQL, SQLite): one statement, no savepoint."""
    table = connection.ops.quote_name(IdempotencyRecord._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (user_id, key, scope, fingerprint, result_type, result_id, created_at) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, '', '', %s) ON CONFLICT (user_id, key) DO NOTHING RETURNING id",
            [user_id, key, scope, digest, now],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return IdempotencyRecord(
        pk=row[0],
        user_id=user_id,
        key=key,
        scope=scope,
        fingerprint=digest,
        result_type="",
        result_id="",
        created_at=now,
    )


def complete(record: IdempotencyRecord, *, result_type: str, result_id: Any) -> None:
    record.result_type, record.result_id = result_type, str(result_id)
    record.save(update_fields=["result_type", "result_id"])


def purge(*, older_than: dt.timedelta | None = None) -> int:
    """Delete expired keys; returns how many."""
    cutoff = timezone.now() - (older_than or ttl())
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted

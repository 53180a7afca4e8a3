"""Writing and verifying the audit chain.

Inside an action (see :mod:`yiwang.core.actions`) events are collected and appended in one short step
just before the action's transaction commits, so the chain head is locked for microseconds rather than
for the whole action. Outside an action :func:`record` appends at once.

The chain head is the one serialisation point: every appending transaction holds it until it commits.
High-volume actions (a citizen's rating, 12345 intake) therefore record with ``deferred=True`` (or inside
:func:`deferring`): the event is written to
:class:`PendingAuditEvent` in the same transaction, without the head, and :func:`flush_pending` moves
pending events into the chain in batches after commit (skipping when another flush holds the head) and
from ``yiwang audit flush``. Nothing is lost: an event exists exactly when its change does.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import gmssl_fast
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from . import context
from .background import Flusher
from .ids import mask_identifiers_in_text
from .models import GENESIS_HASH, AuditChainHead, AuditEvent, PendingAuditEvent

_pending: contextvars.ContextVar[list[dict[str, Any]] | None] = contextvars.ContextVar(
    "yiwang_audit_pending", default=None
)
_defer_all: contextvars.ContextVar[bool] = contextvars.ContextVar("yiwang_audit_defer_all", default=False)


@contextlib.contextmanager
def deferring() -> Iterator[None]:
    """Record every event inside the block as deferred, nested actions' too (a high-volume action whose
    nested steps must stay after its own event in the chain: 12345 intake with its automatic dispatch)."""
    token = _defer_all.set(True)
    try:
        yield
    finally:
        _defer_all.reset(token)


def _json_safe(value: Any) -> Any:
    """Round-trip through JSON so the stored summary equals what was hashed, masking identifiers."""
    text = json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True)
    return json.loads(mask_identifiers_in_text(text))


def canonical(row: dict[str, Any]) -> bytes:
    occurred = row["occurred_at"]
    if isinstance(occurred, dt.datetime):
        occurred = occurred.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    payload = {
        "seq": row["seq"],
        "occurred_at": occurred,
        "actor_id": row["actor_id"],
        "actor_label": row["actor_label"],
        "action": row["action"],
        "object_type": row["object_type"],
        "object_id": row["object_id"],
        "region_code": row["region_code"],
        "summary": row["summary"],
        "request_id": row["request_id"],
        "ip": row["ip"],
        "channel": row["channel"],
        "prev_hash": row["prev_hash"],
    }
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def chain_hash(row: dict[str, Any]) -> str:
    return gmssl_fast.sm3(canonical(row)).hex()


def _object_ref(obj: models.Model | None, object_type: str | None, object_id: str | int | None) -> tuple[str, str]:
    if obj is not None:
        return obj._meta.label_lower, str(obj.pk)
    return object_type or "", "" if object_id is None else str(object_id)


def record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    object_type: str | None = None,
    object_id: str | int | None = None,
    summary: dict[str, Any] | None = None,
    region_code: str = "",
    deferred: bool = False,
) -> None:
    """Record one audit event (within the current action if there is one).

    ``deferred``: stage it and append it to the chain after commit, in a batch (see the module docstring).
    """
    ctx = context.current()
    otype, oid = _object_ref(obj, object_type, object_id)
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    event = {
        "occurred_at": timezone.now(),
        "actor_id": actor.pk if is_user else None,
        "actor_label": (actor.get_username() if is_user else "anonymous")[:150],
        "action": action,
        "object_type": otype,
        "object_id": oid,
        "region_code": region_code or "",
        "summary": _json_safe(summary or {}),
        "request_id": ctx.request_id,
        "ip": ctx.ip,
        "channel": ctx.channel,
    }
    if deferred or _defer_all.get():
        event["_deferred"] = True
    pending = _pending.get()
    if pending is not None:
        pending.append(event)
    elif event.get("_deferred"):
        _stage([event])
    else:
        with transaction.atomic():
            _append([event])


def _stage(events: list[dict[str, Any]]) -> None:
    PendingAuditEvent.objects.bulk_create(
        [PendingAuditEvent(**{k: v for k, v in e.items() if k != "_deferred"}) for e in events]
    )
    transaction.on_commit(flush_soon)


def flush_soon() -> None:
    """After a commit that staged events: flush them now (``AUDIT_FLUSH_DELAY`` 0, the default: tests, the
    CLI), or wake this process's background flusher, which waits that long to gather a batch and then
    moves every pending event in one transaction (``yiwang serve`` sets a delay: at a thousand ratings a
    second a flush per request would cost more than the request)."""
    delay = getattr(settings, "AUDIT_FLUSH_DELAY", 0.0)
    if delay <= 0:
        _flush_quietly()
    else:
        _background.wake(delay)


_background = Flusher("audit-flusher", lambda: flush_pending(wait=True), logger=__name__)


_flushing = threading.Lock()
_missed = threading.Event()


def _flush_quietly() -> None:
    """After a commit that staged events: flush. When a thread of this process is already flushing, leave
    a note instead of opening a transaction just to find the head taken; that thread goes round again."""
    if not _flushing.acquire(blocking=False):
        _missed.set()
        return
    try:
        while True:
            _missed.clear()
            flush_pending(wait=False)
            if not _missed.is_set():
                break
    except Exception:  # the next flush picks them up; a failure here must not fail the request
        import logging

        logging.getLogger(__name__).exception("audit flush failed")
    finally:
        _flushing.release()


def flush_pending(*, batch: int = 2000, wait: bool = True) -> int:
    """Move pending events into the chain, oldest first, in batches. Returns how many were moved.

    With ``wait=False`` it gives up at once when another transaction holds the chain head (that one
    will see the events, or the next flush will)."""
    moved = 0
    fields = [f.attname for f in PendingAuditEvent._meta.concrete_fields if f.attname != "id"]
    while True:
        if connection.vendor == "postgresql":
            with transaction.atomic():
                rows = _move_batch_postgresql(fields, batch=batch, wait=wait)
            if rows is None:
                return moved
            moved += rows
            if rows < batch:
                return moved
            continue
        with transaction.atomic():
            head = _lock_head(wait=wait)
            if head is None:
                return moved
            rows = list(PendingAuditEvent.objects.order_by("id").values("id", *fields)[:batch])
            if not rows:
                return moved
            _append([{k: v for k, v in r.items() if k != "id"} for r in rows], head=head)
            PendingAuditEvent.objects.filter(id__in=[r["id"] for r in rows]).delete()
            moved += len(rows)
        if len(rows) < batch:
            return moved


def _move_batch_postgresql(fields: list[str], *, batch: int, wait: bool) -> int | None:
    """One batch in three statements without the ORM (decisions 0014, 0024): lock the head, read the oldest
    pending events, and — once their hashes are computed here — move them in one statement: the pending rows
    are deleted and copied into the chain by PostgreSQL itself (``DELETE … RETURNING`` joined with the
    arrays of their ids, sequence numbers and hashes), and the head moves in the same statement. The stored
    values are the very ones hashed (the copy never leaves the database); only four arrays are sent instead
    of a row of fourteen parameters per event, and PostgreSQL runs one INSERT instead of one per event.
    ``None`` when the head is held by another transaction and ``wait`` is false."""
    import psycopg

    pending, table, head_table = (
        PendingAuditEvent._meta.db_table,
        AuditEvent._meta.db_table,
        AuditChainHead._meta.db_table,
    )
    with connection.cursor():  # an open connection inside the atomic block
        raw = psycopg.Cursor(connection.connection)  # server-side binding: psycopg prepares and dumps in C
        try:
            raw.execute(
                f"SELECT seq, hash FROM {head_table} WHERE id = 1 FOR UPDATE{'' if wait else ' SKIP LOCKED'}"  # noqa: S608
            )
            found = raw.fetchone()
            if found is None:  # a fresh database (no head yet), or held by another flush
                head = _lock_head(wait=wait)
                if head is None:
                    return None
                found = (head.seq, head.hash)
            # every mover holds the head, so the rows read here are taken by this transaction alone
            raw.execute(f"SELECT id, {', '.join(fields)} FROM {pending} ORDER BY id LIMIT %s", [batch])  # noqa: S608
            taken = raw.fetchall()
            if not taken:
                return 0
            seq, prev = found
            ids, seqs, prevs, hashes = [], [], [], []
            for found_row in taken:
                seq += 1
                row = dict(zip(fields, found_row[1:], strict=True))
                if isinstance(row["summary"], str):
                    row["summary"] = json.loads(row["summary"])
                row["seq"], row["prev_hash"] = seq, prev
                row["occurred_at"] = row["occurred_at"].astimezone(dt.UTC)
                ids.append(found_row[0])
                seqs.append(seq)
                prevs.append(prev)
                hashes.append(prev := chain_hash(row))
            columns = ", ".join(fields)
            moved = ", ".join(f"m.{f}" for f in fields)
            raw.execute(
                f"WITH moved AS (DELETE FROM {pending} WHERE id = ANY(%s) RETURNING id, {columns}), "  # noqa: S608
                f"added AS (INSERT INTO {table} ({columns}, seq, prev_hash, hash) "
                f"SELECT {moved}, u.seq, u.prev_hash, u.hash FROM moved m "
                "JOIN unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[]) AS u(id, seq, prev_hash, hash) "
                "ON u.id = m.id RETURNING 1) "
                f"UPDATE {head_table} SET seq = %s, hash = %s WHERE id = 1 RETURNING (SELECT COUNT(*) FROM added)",
                [ids, ids, seqs, prevs, hashes, seq, prev],
            )
            added = raw.fetchone()
            if added is None or added[0] != len(taken):  # never: rolls the batch back rather than break the chain
                raise RuntimeError(f"audit flush moved {added and added[0]} of {len(taken)} pending events")
        finally:
            raw.close()
    return len(taken)


def pending_count() -> int:
    return PendingAuditEvent.objects.count()


def _lock_head(*, wait: bool = True) -> AuditChainHead | None:
    query = AuditChainHead.objects.select_for_update(skip_locked=not wait).filter(pk=1)
    head = query.first()
    if head is None and not AuditChainHead.objects.filter(pk=1).exists():  # a fresh database
        if AuditEvent.objects.exists():
            raise RuntimeError("audit chain head is missing while events exist: run `yiwang audit verify`")
        AuditChainHead.objects.get_or_create(pk=1)
        head = AuditChainHead.objects.select_for_update().get(pk=1)
    return head


def _append(events: list[dict[str, Any]], *, head: AuditChainHead | None = None) -> None:
    if not events:
        return
    head = head or _lock_head()
    seq, prev = head.seq, head.hash
    rows = []
    for event in events:
        seq += 1
        row = {**event, "seq": seq, "prev_hash": prev}
        # Timestamps are stored with microseconds; make the hashed value the stored one.
        row["occurred_at"] = row["occurred_at"].astimezone(dt.UTC)
        row["hash"] = chain_hash(row)
        prev = row["hash"]
        rows.append(AuditEvent(**row))
    AuditEvent.objects.bulk_create(rows)
    AuditChainHead.objects.filter(pk=1).update(seq=seq, hash=prev)


class collecting:
    """Collect events recorded inside the block and append them when it ends without error."""

    def __enter__(self):
        self._token = _pending.set([])
        return self

    def __exit__(self, exc_type, exc, tb):
        events = _pending.get()
        _pending.reset(self._token)
        if exc_type is None and events:
            staged = [e for e in events if e.get("_deferred")]
            _append([e for e in events if not e.get("_deferred")])
            if staged:
                _stage(staged)
        return False


def collecting_active() -> bool:
    return _pending.get() is not None


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str = ""
    pending: int = 0  # events staged but not yet in the chain (``yiwang audit flush``)


def _rows(batch: int = 5000) -> Iterator[dict[str, Any]]:
    fields = [f.attname for f in AuditEvent._meta.concrete_fields if f.attname != "id"]
    return AuditEvent.objects.order_by("seq").values(*fields).iterator(chunk_size=batch)


def verify() -> VerifyResult:
    """Walk the chain from the first event; report the first link that does not hold."""
    prev, expected_seq, checked = GENESIS_HASH, 1, 0
    for row in _rows():
        if row["seq"] != expected_seq:
            return VerifyResult(False, checked, expected_seq, f"事件 #{expected_seq} 缺失（被删除）")
        if row["prev_hash"] != prev:
            return VerifyResult(False, checked, row["seq"], f"事件 #{row['seq']} 的前序哈希与链不符")
        if chain_hash(row) != row["hash"]:
            return VerifyResult(False, checked, row["seq"], f"事件 #{row['seq']} 的内容已被修改")
        prev, expected_seq, checked = row["hash"], expected_seq + 1, checked + 1
    head = AuditChainHead.objects.filter(pk=1).first() or AuditChainHead(seq=0, hash=GENESIS_HASH)
    if head.seq != checked or head.hash != prev:
        return VerifyResult(False, checked, checked + 1, f"链尾缺失：链头记录到 #{head.seq}，实际只有 {checked} 条")
    return VerifyResult(True, checked, pending=pending_count())

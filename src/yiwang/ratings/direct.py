"""提交评价 in one or two PostgreSQL statements — the paths of the common case (decisions 0008, 0014, 0021).

A good first rating by token from an anonymous device — about 95 % of all ratings — is **one** statement
(:func:`record`, decision 0021): a data-modifying CTE whose claim of the invitation (``UPDATE … WHERE``)
checks every rule the invitation decides (nonce, unused, not expired, a first rating, served before now, no
named evaluator unless anonymous, the service mode the submission is valid for, the device's hourly limit),
and which inserts the rating, the follow-up invitation, the rating's row in the rollup queue (and in the
reason queue when it has reasons; :func:`yiwang.ratings.rollups.flush` adds them to the rollups in batches
after commit, decision 0018) and the staged audit event. The rules that depend on the submission alone
(:func:`yiwang.ratings.scale.check_submission`) are checked before it. A single statement is atomic on its own
(autocommit), so there is no BEGIN/COMMIT round trip and no row is locked longer than the statement. When it
claims nothing, :func:`submit` and then the general path run and give the precise answer. Good ratings that
arrive while another is being written are written together by one statement of the same rules per row
(group commit, :mod:`.group_commit`, decision 0027).

:func:`submit` is the two-statement path (decision 0008): it reads the invitation with the anti-abuse count
(one statement, no lock), passes the same rules, and writes with the same kind of statement. A first 差评 is
that statement followed, in one transaction, by what the general path's ``_open_rectification`` writes (the
rectification with its working-day deadlines from the cached calendar, its create event and audit event) as
one more prepared statement, so it does not pay for the general action around it (decisions 0014, 0024).

One rating per target stays guaranteed by the unique (target, kind) constraint, whose violation the caller
turns into a 409. Everything else — a follow-up rating, a rating from a logged-in person, a window evaluator
or with an evaluator phone (the per-phone count), SQLite — goes through
:func:`yiwang.ratings.services._rating_submit`, which this module never replaces.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
from typing import Any

from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connection, connections, transaction
from django.utils import timezone

from yiwang.core import audit, context, crypto, prepared
from yiwang.core.errors import DomainError, Throttled, ValidationFailed
from yiwang.core.ids import mask_identifiers_in_text
from yiwang.core.models import PendingAuditEvent

from . import conf, group_commit, rollups, scale, tokens
from .models import PendingRatingRollup, PendingReasonRollup, Rating, RatingInvitation

_INVITATION = (
    "id",
    "nonce",
    "purpose",
    "used_at",
    "expires_at",
    "person_id",
    "phone_masked",
    "phone_encrypted",
    "target_kind",
    "target_id",
    "target_label",
    "mode",
    "service_state",
    "item_name",
    "region_code",
    "department_id",
    "hall_id",
    "window_id",
    "staff_id",
    "item_code",
    "served_at",
)
_SNAPSHOT = (
    "person_id",
    "phone_masked",
    "phone_encrypted",
    "target_label",
    "mode",
    "service_state",
    "item_name",
    "region_code",
    "department_id",
    "hall_id",
    "window_id",
    "staff_id",
    "item_code",
    "served_at",
)
_RATING = (
    "target_kind",
    "target_id",
    "target_label",
    "kind",
    "level",
    "channel",
    "mode",
    "indicators",
    "reasons",
    "text",
    "is_default",
    "anonymous",
    "evaluator_name",
    "evaluator_phone_encrypted",
    "phone_hash",
    "device_hash",
    "region_code",
    "department_id",
    "hall_id",
    "window_id",
    "staff_id",
    "item_code",
    "item_name",
    "service_state",
    "served_at",
    "rated_at",
    "rated_on",
    "excluded_reason",
)


def _read_sql(with_device: bool) -> str:
    table = RatingInvitation._meta.db_table
    count = (
        f"(SELECT COUNT(*) FROM {Rating._meta.db_table} "  # noqa: S608 - identifiers from models
        "WHERE device_hash = %(device_hash)s AND rated_at >= %(since)s)"
        if with_device
        else "0"
    )
    return f"SELECT {', '.join(_INVITATION)}, {count} FROM {table} WHERE id = %(id)s"  # noqa: S608


# The statement's parameters and their types; each value is sent once even where several rows use it.
_PARAMS = {
    "now": "timestamptz",
    "since": "timestamptz",
    "id": "bigint",
    "nonce": "text",
    "device_hash": "text",
    "day": "date",
    "level": "smallint",
    "indicators": "jsonb",
    "reasons": "jsonb",
    "anonymous": "boolean",
    "department_id": "bigint",
    "hall_id": "bigint",
    "window_id": "bigint",
    "staff_id": "bigint",
    "person_id": "bigint",
    "served_at": "timestamptz",
    "expires_at": "timestamptz",
    "summary": "jsonb",
    "reason_set": "jsonb",
}
# What the claimed invitation row gives (``inv.*`` in the statement): sent back as parameters they cost
# the client more to quote and send than the rest of the statement (decision 0018).
_FROM_INVITATION = (
    "target_kind",
    "target_id",
    "region_code",
    "department_id",
    "hall_id",
    "window_id",
    "staff_id",
    "item_code",
    "item_name",
    "service_state",
    "served_at",
    "person_id",
    "phone_masked",
    "phone_encrypted",
)
_RATING_SOURCE = {  # rating column → parameter (or SQL constant, or the invitation's column)
    **{c: c for c in _RATING},
    **{c: f"inv.{c}" for c in _FROM_INVITATION if c in _RATING},
    "target_label": "left(inv.target_label, 300)",
    "kind": "'first'",
    "is_default": "false",
    "evaluator_phone_encrypted": "''",
    "phone_hash": "''",
    "rated_at": "now",
    "rated_on": "day",
    "excluded_reason": "''",
}
_FOLLOW = ("target_kind", "target_id", "purpose", "nonce", *_SNAPSHOT, "created_at", "expires_at")
_FOLLOW_SOURCE = {
    **{c: c for c in _FOLLOW},
    **{c: f"inv.{c}" for c in _FROM_INVITATION if c in _FOLLOW},
    "target_label": "inv.target_label",
    "purpose": "'follow_up'",
    "nonce": "follow_nonce",
    "mode": "inv.mode",
    "created_at": "now",
}
_AUDIT_SOURCE = {
    "occurred_at": "now",
    "actor_label": "'anonymous'",
    "action": "'ratings.rating.submit'",
    "object_type": "'ratings.rating'",
    "region_code": "region_code",
    "summary": "summary",
    "request_id": "request_id",
    "ip": "ip",
    "channel": "request_channel",
}
_DIMS = ("region_code", "department_id", "hall_id", "window_id", "staff_id", "item_code")


def _source(value: str) -> str:
    return value if value[0] == "'" or value == "false" or "inv." in value else f"%({value})s"


def _queue_cte(name: str, model, columns: dict[str, str]) -> str:
    """The rating queued for the rollups (decision 0018): :func:`rollups.flush` adds it to every grain."""
    table = model._meta.db_table
    return (
        f"{name} AS (INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 - identifiers from models
        f"SELECT {', '.join(columns.values())} FROM inv)"
    )


_QUEUED = {
    "rated_on": "%(day)s",
    **{d: f"COALESCE(inv.{d}, 0)" if d.endswith("_id") else f"inv.{d}" for d in _DIMS},
}


@functools.lru_cache(maxsize=2)
def _write_sql(reasons: bool) -> str:
    """The one statement that writes a rating (with or without reasons)."""
    inv_table, rating_table = RatingInvitation._meta.db_table, Rating._meta.db_table
    ctes = [_queue_cte("rollup", PendingRatingRollup, {**_QUEUED, "channel": "%(channel)s", "level": "%(level)s"})]
    if reasons:
        ctes.append(
            _queue_cte("reason", PendingReasonRollup, {**_QUEUED, "level": "%(level)s", "reasons": "%(reason_set)s"})
        )
    rating_values = ", ".join(_source(_RATING_SOURCE[c]) for c in _RATING)
    follow_values = ", ".join(_source(_FOLLOW_SOURCE[c]) for c in _FOLLOW)
    audit_values = ", ".join(_source(v) for v in _AUDIT_SOURCE.values())
    return (
        f"WITH inv AS (UPDATE {inv_table} SET used_at = %(now)s WHERE id = %(id)s AND nonce = %(nonce)s "  # noqa: S608
        f"AND used_at IS NULL AND expires_at >= %(now)s RETURNING id, mode, target_label, "
        f"{', '.join(_FROM_INVITATION)}), "
        f"rating AS (INSERT INTO {rating_table} ({', '.join(_RATING)}, invitation_id) "
        f"SELECT {rating_values}, inv.id FROM inv RETURNING id), "
        f"follow AS (INSERT INTO {inv_table} ({', '.join(_FOLLOW)}) SELECT {follow_values} FROM inv RETURNING id), "
        f"{', '.join(ctes)}, "
        f"event AS (INSERT INTO {PendingAuditEvent._meta.db_table} ({', '.join(_AUDIT_SOURCE)}, object_id) "
        f"SELECT {audit_values}, rating.id::text FROM rating) "
        f"SELECT rating.id, follow.id FROM rating, follow"
    )


def _execute(name: str, sql: str, params: dict) -> tuple | None:
    return prepared.execute(name, sql, params, types=_PARAMS)


def submit(
    *,
    token: str,
    level: int,
    channel: str,
    indicators: dict | None = None,
    reasons=(),
    text: str = "",
    anonymous: bool = False,
    actor: Any = None,
    contact_name: str = "",
    contact_phone: str = "",
    device: str = "",
    evaluator_device: Any = None,
) -> Rating | None:
    """The rating, or ``None`` when this submission is not the common case (the caller then takes the
    general path, which also gives the precise error for a used, expired or unknown invitation)."""
    if connection.vendor != "postgresql" or evaluator_device is not None or contact_phone:
        return None
    if actor is not None and getattr(actor, "is_authenticated", False):
        return None
    ident, nonce = tokens.parse(token)
    config = conf.get()
    now = timezone.now()
    device_hash = crypto.keyed_hash("device:" + device[:200]) if device else ""
    read = (
        f"yiwang_rating_read_{int(bool(device_hash))}",
        _read_sql(bool(device_hash)),
        {"device_hash": device_hash, "since": now - dt.timedelta(hours=1), "id": ident},
    )
    if connection.in_atomic_block or not connection.health_check_enabled or connection.health_check_done:
        found = _execute(*read)
    else:
        # The read is this request's connection health check (instead of Django's extra SELECT 1 round
        # trip): on a connection that died while idle it is retried once on a new one. It writes nothing.
        connection.health_check_done = True
        try:
            found = _execute(*read)
        except (OperationalError, InterfaceError):
            connection.close()
            found = _execute(*read)
    if found is None:
        return None
    inv, used_by_device = dict(zip(_INVITATION, found[:-1], strict=True)), found[-1]
    if (
        inv["nonce"] != nonce
        or inv["used_at"] is not None
        or inv["expires_at"] < now
        or inv["purpose"] != scale.Kind.FIRST
        or (not anonymous and (inv["person_id"] or inv["phone_encrypted"]))
    ):
        return None
    accepted = scale.check_submission(
        scale.Submission(
            level=level,
            channel=channel,
            kind=scale.Kind.FIRST,
            indicators=dict(indicators or {}),
            reasons=list(reasons or []),
            text=text,
            anonymous=anonymous,
        ),
        scale.TargetFacts(mode=scale.Mode(inv["mode"]), served_at=inv["served_at"]),
        scale.Existing(),
        now=now,
        follow_up_days=config.FOLLOW_UP_DAYS,
    )
    if accepted.channel is scale.Channel.EVALUATOR:
        return None  # a device to check: the general path
    name = ""
    if not accepted.anonymous:
        name = (contact_name or "").strip()
        if len(name) > 100:
            raise ValidationFailed("内容不超过 100 字。", code="text_too_long")
    if device_hash and used_by_device >= config.MAX_PER_DEVICE_PER_HOUR:
        raise Throttled("本设备评价过于频繁，请稍后再试。", code="rating_throttled_device")
    return _write(inv, accepted, now=now, name=name, device_hash=device_hash, nonce=nonce)


def _write(inv: dict, accepted: scale.Accepted, *, now: dt.datetime, name: str, device_hash: str, nonce: str):
    rated_on = rollups.local_date(now)
    rating = {
        "target_kind": inv["target_kind"],
        "target_id": inv["target_id"],
        "target_label": inv["target_label"][:300],
        "kind": accepted.kind.value,
        "level": int(accepted.level),
        "channel": accepted.channel.value,
        "mode": accepted.mode.value,
        "indicators": accepted.indicators,
        "reasons": list(accepted.reasons),
        "text": mask_identifiers_in_text(accepted.text),
        "is_default": False,
        "anonymous": accepted.anonymous,
        "evaluator_name": name,
        "evaluator_phone_encrypted": "",
        "phone_hash": "",
        "device_hash": device_hash,
        **{k: inv[k] for k in ("region_code", "department_id", "hall_id", "window_id", "staff_id", "item_code")},
        "item_name": inv["item_name"],
        "service_state": inv["service_state"],
        "served_at": inv["served_at"],
        "rated_at": now,
        "rated_on": rated_on,
        "excluded_reason": "",
    }
    follow_nonce = tokens.new_nonce()
    follow = {
        "target_kind": inv["target_kind"],
        "target_id": inv["target_id"],
        "purpose": scale.Kind.FOLLOW_UP.value,
        "nonce": follow_nonce,
        **{k: inv[k] for k in _SNAPSHOT},
        "created_at": now,
        "expires_at": now + dt.timedelta(days=conf.get().FOLLOW_UP_DAYS),
    }
    ctx = context.current()
    event = {
        "occurred_at": now,
        "actor_label": "anonymous",
        "action": "ratings.rating.submit",
        "object_type": Rating._meta.label_lower,
        "region_code": inv["region_code"] or "",
        "summary": audit._json_safe(
            {
                "target": f"{inv['target_kind']}:{inv['target_id']}",
                "level": rating["level"],
                "kind": rating["kind"],
                "channel": rating["channel"],
            }
        ),
        "request_id": ctx.request_id,
        "ip": ctx.ip,
        "channel": ctx.channel,
    }
    params = {
        **{k: rating[k] for k in _RATING},
        "indicators": json.dumps(rating["indicators"], ensure_ascii=False),
        "reasons": json.dumps(rating["reasons"], ensure_ascii=False),
        "now": now,
        "id": inv["id"],
        "nonce": nonce,
        "day": rated_on,
        **{k: follow[k] for k in _SNAPSHOT if k != "mode"},
        "follow_nonce": follow_nonce,
        "invitation_mode": inv["mode"],
        "expires_at": follow["expires_at"],
        "summary": json.dumps(event["summary"], ensure_ascii=False),
        "request_id": event["request_id"],
        "ip": event["ip"],
        "request_channel": event["channel"],
    }
    reasons = sorted(set(accepted.reasons))
    if reasons:
        params["reason_set"] = json.dumps(reasons, ensure_ascii=False)
    sql = _write_sql(bool(reasons))
    # A 差评 opens its rectification in the same transaction (the statement, then the general path's own
    # _open_rectification: the row with its working-day deadlines, its create event, its audit event);
    # anything else is the one statement, atomic on its own.
    with transaction.atomic() if accepted.is_bad or connection.in_atomic_block else _nothing():
        row = _execute(f"yiwang_rating_write_{int(bool(reasons))}", sql, params)
        if row is None:  # claimed by someone else meanwhile, or just expired: the general path says which
            return None
        obj = Rating(pk=row[0], invitation_id=inv["id"], **rating)
        obj._state.adding = False
        if accepted.is_bad:
            _open_rectification(obj, now=now)
    transaction.on_commit(audit.flush_soon)
    transaction.on_commit(rollups.flush_soon)
    obj.follow_up_token = tokens.make(row[1], follow_nonce)
    return obj


# --- a 差评's rectification in one statement (decision 0024) ---------------------------------------------------
# What the general path's ``services._open_rectification`` writes for a first 差评 — the rectification with its
# working-day deadlines, its create event and its staged audit event — as one prepared statement instead of
# three ORM inserts (each built, compiled, parsed and planned again for every 差评). The row's values come
# from the same unsaved model instance and the same ``_apply_dues``; the parity test compares every column.
_INTERNAL_TYPES = {
    "DateField": "date",
    "DateTimeField": "timestamptz",
    "BooleanField": "boolean",
    "ForeignKey": "bigint",
    "OneToOneField": "bigint",
    "BigIntegerField": "bigint",
    "IntegerField": "bigint",
    "PositiveSmallIntegerField": "bigint",
}


@functools.cache
def _rectification_statement() -> tuple[prepared.RawStatement, tuple]:
    from .models import Rectification, RectificationEvent

    fields = tuple(f for f in Rectification._meta.concrete_fields if not f.primary_key)
    types = {f.column: _INTERNAL_TYPES.get(f.get_internal_type(), "text") for f in fields}
    types.update({"now": "timestamptz", "event_data": "jsonb", "summary": "jsonb", "actor_id": "bigint"})
    event_table, pending = RectificationEvent._meta.db_table, PendingAuditEvent._meta.db_table
    sql = (
        f"WITH rect AS (INSERT INTO {Rectification._meta.db_table} ({', '.join(f.column for f in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(f'%({f.column})s' for f in fields)}) RETURNING id), "
        f"event AS (INSERT INTO {event_table} (rectification_id, event, from_state, to_state, actor_id, actor_label, "
        "note, data, at) SELECT id, 'create', '', %(state)s, NULL, %(actor_label)s, '', %(event_data)s, %(now)s "
        f"FROM rect) "
        f"INSERT INTO {pending} (occurred_at, actor_id, actor_label, action, object_type, object_id, region_code, "
        "summary, request_id, ip, channel) SELECT %(now)s, %(actor_id)s, %(actor_label)s, "
        f"'ratings.rectification.create', '{Rectification._meta.label_lower}', id::text, %(region_code)s, "
        "%(summary)s, %(request_id)s, %(ip)s, %(channel)s FROM rect RETURNING object_id"
    )
    return prepared.RawStatement("yiwang_rating_rectify", sql, types), fields


def _open_rectification(rating: Rating, *, now: dt.datetime) -> None:
    """The rectification a first 差评 opens (``services._open_rectification``), in one statement."""
    from yiwang.core.actors import SYSTEM

    from .models import Rectification
    from .services import _apply_dues  # services imports this module

    rect = Rectification(
        rating_id=rating.pk,
        department_id=rating.department_id,
        region_code=rating.region_code,
        created_at=now,
        created_on=rollups.local_date(now),
    )
    _apply_dues(rect)
    statement, fields = _rectification_statement()
    ctx = context.current()
    params = {f.column: f.pre_save(rect, add=True) for f in fields}
    params.update(
        {
            "now": now,
            "actor_id": SYSTEM.pk,
            "actor_label": SYSTEM.get_username()[:150],
            "event_data": json.dumps({"level": rating.level}),
            "summary": json.dumps(
                audit._json_safe({"rating": rating.pk, "department": rating.department_id}), ensure_ascii=False
            ),
            "request_id": ctx.request_id,
            "ip": ctx.ip,
            "channel": ctx.channel,
        }
    )
    prepared.execute_raw(statement, params)
    transaction.on_commit(audit.flush_soon)


# --- a good rating in one statement (decision 0021) -------------------------------------------------------
# The claim itself checks every rule the invitation decides (nonce, unused, not expired, a first rating, served
# before now, no named evaluator unless anonymous, the service mode the submission was valid for, the device's
# hourly limit), so there is no read before the write. Anything the statement does not claim — and every
# unusual submission — goes to :func:`submit` and then the general action, which give the precise answer.
_RECORD_TYPES = {
    **_PARAMS,
    "anonymous": "boolean",
    "max_device": "integer",
    "want_mode": "text",
    "rating_mode": "text",
    "level": "smallint",
}


def _record_sql(reasons: bool) -> str:
    inv_table, rating_table = RatingInvitation._meta.db_table, Rating._meta.db_table
    source = {**_RATING_SOURCE, "mode": "COALESCE(%(rating_mode)s, inv.mode)"}
    rating_values = ", ".join(v if c == "mode" else _source(v) for c, v in source.items() if c in _RATING)
    follow_values = ", ".join(_source(_FOLLOW_SOURCE[c]) for c in _FOLLOW)
    ctes = [_queue_cte("rollup", PendingRatingRollup, {**_QUEUED, "channel": "%(channel)s", "level": "%(level)s"})]
    if reasons:
        ctes.append(
            _queue_cte("reason", PendingReasonRollup, {**_QUEUED, "level": "%(level)s", "reasons": "%(reason_set)s"})
        )
    audit_source = {
        **{k: v if k != "occurred_at" else "%(now)s" for k, v in _AUDIT_SOURCE.items()},
        "region_code": "inv.region_code",
        # the summary audit.record gives the general action's event (jsonb: key order is not kept anyway)
        "summary": "jsonb_build_object('target', inv.target_kind || ':' || inv.target_id, 'level', %(level)s, "
        "'kind', 'first', 'channel', %(channel)s)",
    }
    audit_values = ", ".join(v if v.startswith(("inv.", "jsonb_", "%(")) else _source(v) for v in audit_source.values())
    device_count = (
        f"(SELECT COUNT(*) FROM {rating_table} "  # noqa: S608 - identifiers from models
        "WHERE device_hash = %(device_hash)s AND rated_at >= %(since)s)"
    )
    return (
        f"WITH inv AS (UPDATE {inv_table} SET used_at = %(now)s WHERE id = %(id)s AND nonce = %(nonce)s "  # noqa: S608
        f"AND used_at IS NULL AND expires_at >= %(now)s AND purpose = 'first' AND served_at <= %(now)s "
        f"AND (%(anonymous)s OR (person_id IS NULL AND phone_encrypted = '')) "
        f"AND (%(want_mode)s = '' OR mode = %(want_mode)s) "
        f"AND (%(device_hash)s = '' OR {device_count} < %(max_device)s) "
        f"RETURNING id, mode, target_label, {', '.join(_FROM_INVITATION)}), "
        f"rating AS (INSERT INTO {rating_table} ({', '.join(_RATING)}, invitation_id) "
        f"SELECT {rating_values}, inv.id FROM inv RETURNING id), "
        f"follow AS (INSERT INTO {inv_table} ({', '.join(_FOLLOW)}) SELECT {follow_values} FROM inv RETURNING id), "
        f"{', '.join(ctes)}, "
        f"event AS (INSERT INTO {PendingAuditEvent._meta.db_table} ({', '.join(audit_source)}, object_id) "
        f"SELECT {audit_values}, rating.id::text FROM rating, inv) "
        f"SELECT rating.id, follow.id FROM rating, follow"
    )


@functools.lru_cache(maxsize=2)
def _record_statement(reasons: bool) -> prepared.RawStatement:
    return prepared.RawStatement(f"yiwang_rating_record_{int(reasons)}", _record_sql(reasons), _RECORD_TYPES)


class Recorded:
    """What the answer to a rating recorded by :func:`record` needs — no model instance (decision 0021)."""

    __slots__ = ("follow_up_token", "level", "pk")
    kind = scale.Kind.FIRST.value
    is_bad = False

    def __init__(self, pk: int, level: int, follow_up_token: str):
        self.pk, self.level, self.follow_up_token = pk, level, follow_up_token


_GOOD = frozenset(int(level) for level in scale.GOOD_LEVELS)
_SUBMISSION_ONLY = scale.Mode.ONSITE  # the mode of the evaluator and kiosk channels, whatever the target's


def _accept(*, level, channel, indicators, reasons, text, anonymous) -> tuple[scale.Accepted, str] | None:
    """The submission normalised by :func:`scale.check_submission` and the invitation mode it needs ('' =
    either), or None when it is not valid for every mode it could meet the same way (the general path says).
    A first rating's rules depend on the submission alone once the claim has checked the invitation (served
    before now, not expired), so a plain submission's answer is computed once per process."""
    if text or len(reasons or ()) > 3 or len(indicators or {}) > 7:
        return _check(level, channel, tuple((indicators or {}).items()), tuple(reasons or ()), text, anonymous)
    return _check_plain(level, channel, tuple((indicators or {}).items()), tuple(reasons or ()), text, anonymous)


def _check(level, channel, indicators: tuple, reasons: tuple, text: str, anonymous) -> tuple | None:
    results = {}
    for mode in scale.Mode:
        try:
            results[mode] = scale.check_submission(
                scale.Submission(
                    level=level,
                    channel=channel,
                    kind=scale.Kind.FIRST,
                    indicators=dict(indicators),
                    reasons=list(reasons),
                    text=text,
                    anonymous=anonymous,
                ),
                scale.TargetFacts(mode=mode, served_at=_EPOCH),  # served before now: a condition of the claim
                scale.Existing(),
                now=_EPOCH,
            )
        except DomainError:
            continue
    if not results:
        return None
    accepted = next(iter(results.values()))
    if len(results) == 1:
        return accepted, next(iter(results)).value
    online, onsite = results[scale.Mode.ONLINE], results[scale.Mode.ONSITE]
    # the same either way (the mode aside, which the evaluator and kiosk channels fix and others take from the
    # invitation): any invitation mode will do
    return (accepted, "") if online == dataclasses.replace(onsite, mode=online.mode) else None


_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_check_plain = functools.lru_cache(maxsize=1024)(_check)


def record(
    *,
    token: str,
    level: int,
    channel: str,
    indicators: dict | None = None,
    reasons=(),
    text: str = "",
    anonymous: bool = False,
    actor: Any = None,
    contact_name: str = "",
    contact_phone: str = "",
    device: str = "",
    evaluator_device: Any = None,
) -> Recorded | None:
    """A good first rating by token from an anonymous device, in one statement on PostgreSQL; None when the
    submission is anything else or the statement claimed nothing (the caller then tries :func:`submit`)."""
    conn = connections[DEFAULT_DB_ALIAS]  # once: every `connection.x` is a lookup of the thread's connection
    if (
        type(level) is not int
        or level not in _GOOD
        or evaluator_device is not None
        or contact_phone
        or conn.vendor != "postgresql"
        or (actor is not None and getattr(actor, "is_authenticated", False))
    ):
        return None
    try:
        found = _accept(
            level=level, channel=channel, indicators=indicators, reasons=reasons, text=text, anonymous=anonymous
        )
    except (TypeError, AttributeError, ValueError):  # unhashable or odd values: not a plain submission
        return None
    if found is None:
        return None
    accepted, want_mode = found
    if accepted.channel is scale.Channel.EVALUATOR or accepted.is_bad:
        return None
    name = "" if accepted.anonymous else (contact_name or "").strip()
    if len(name) > 100:
        return None
    ident, nonce = tokens.parse(token)
    config = conf.get()
    now = timezone.now()
    follow_nonce = tokens.new_nonce()
    ctx = context.current()
    sorted_reasons = sorted(set(accepted.reasons))
    params = {
        "now": now,
        "id": ident,
        "nonce": nonce,
        "anonymous": accepted.anonymous,
        "want_mode": want_mode,
        "device_hash": crypto.keyed_hash("device:" + device[:200]) if device else "",
        "since": now - _HOUR,
        "max_device": config.MAX_PER_DEVICE_PER_HOUR,
        "level": accepted.level.value,
        "channel": accepted.channel.value,
        "rating_mode": scale.Mode.ONSITE.value if accepted.channel in scale.ONSITE_CHANNELS else None,
        "indicators": json.dumps(accepted.indicators, ensure_ascii=False) if accepted.indicators else "{}",
        "reasons": json.dumps(list(accepted.reasons), ensure_ascii=False) if accepted.reasons else "[]",
        "text": mask_identifiers_in_text(accepted.text) if accepted.text else "",
        "evaluator_name": name,
        "day": rollups.local_date(now),
        "follow_nonce": follow_nonce,
        "expires_at": now + dt.timedelta(days=config.FOLLOW_UP_DAYS),
        "request_id": ctx.request_id,
        "ip": ctx.ip,
        "request_channel": ctx.channel,
    }
    if sorted_reasons:
        params["reason_set"] = json.dumps(sorted_reasons, ensure_ascii=False)
    statement = _record_statement(bool(sorted_reasons))
    if conn.in_atomic_block:
        with transaction.atomic():  # a savepoint: a failing statement leaves the caller's transaction usable
            row = prepared.execute_raw(statement, params, conn)
        if row is None:
            return None
        transaction.on_commit(audit.flush_soon)
        transaction.on_commit(rollups.flush_soon)
        return Recorded(row[0], accepted.level.value, tokens.make(row[1], follow_nonce))
    batcher = _group_commit()
    if batcher is None:
        row = _write_alone(statement, params, conn)
    else:
        # concurrent ratings of this process in one statement (decision 0027); keys: what must not share one
        keys = (params["id"], "device:" + params["device_hash"]) if params["device_hash"] else (params["id"],)
        row = batcher.submit(
            (statement, params), keys=keys, run_one=lambda item: _write_alone(*item, conn), run_many=_write_batch
        )
        if row is group_commit.ALONE:  # the batch failed and wrote nothing: this rating on its own
            row = _write_alone(statement, params, conn)
    if row is None:
        return None
    # autocommit: committed already (what on_commit would do, without looking the connection up again)
    audit.flush_soon()
    rollups.flush_soon()
    return Recorded(row[0], accepted.level.value, tokens.make(row[1], follow_nonce))


def _write_alone(statement: prepared.RawStatement, params: dict, conn) -> tuple | None:
    """The rating's own statement, in autocommit (the caller is in no transaction)."""
    if conn.health_check_enabled and not conn.health_check_done:
        # The statement is this request's connection health check (no SELECT 1 round trip): on a connection
        # that died while idle nothing was written, and the two-statement path runs on a new connection.
        conn.health_check_done = True
        try:
            return prepared.execute_raw(statement, params, conn)
        except (OperationalError, InterfaceError):
            conn.close()
            return None
    return prepared.execute_raw(statement, params, conn)


_HOUR = dt.timedelta(hours=1)


# --- group commit: concurrent good ratings of one process in one statement (decision 0027) -----------------
# The statement of :func:`_record_sql` for many ratings: each rating's values are one element of a jsonb array
# (one parameter, one prepared plan whatever the batch's size), the claim joins them to their invitations and
# checks every rule per row exactly as the one-rating statement does, and the result names each claimed
# invitation with its rating and follow-up invitation. A rating whose claim fails gets no row (its thread then
# takes :func:`submit` and the general path, as after the one-rating statement). A batch never holds two
# ratings of one invitation or of one device (:class:`group_commit.GroupCommit` keys), so no row's rules
# depend on another row of the same statement.
_BATCH_COLUMNS = {
    name: _RECORD_TYPES.get(name, "text")
    for name in (
        "now", "id", "nonce", "anonymous", "want_mode", "device_hash", "since", "max_device", "level", "channel",
        "rating_mode", "indicators", "reasons", "text", "evaluator_name", "day", "follow_nonce", "expires_at",
        "request_id", "ip", "request_channel", "reason_set",
    )
}  # fmt: skip
_BATCH_JSON = ("indicators", "reasons", "reason_set")  # sent as JSON values inside the row
_BATCH_LIMIT_DEFAULT = 32


def _batch_sql() -> str:
    inv_table, rating_table = RatingInvitation._meta.db_table, Rating._meta.db_table

    def per_row(sql: str) -> str:  # %(name)s of the one-rating statement → the row's own value
        return prepared._NAMED.sub(lambda m: f"inv.u_{m.group(1)}", sql)

    source = {**_RATING_SOURCE, "mode": "COALESCE(%(rating_mode)s, inv.mode)"}
    rating_values = per_row(", ".join(v if c == "mode" else _source(v) for c, v in source.items() if c in _RATING))
    follow_values = per_row(", ".join(_source(_FOLLOW_SOURCE[c]) for c in _FOLLOW))
    queued = {k: per_row(v) for k, v in _QUEUED.items()}
    rollup = _queue_cte("rollup", PendingRatingRollup, {**queued, "channel": "inv.u_channel", "level": "inv.u_level"})
    reason = (
        _queue_cte("reason", PendingReasonRollup, {**queued, "level": "inv.u_level", "reasons": "inv.u_reason_set"})[
            :-1
        ]
        + " WHERE inv.u_reason_set IS NOT NULL)"
    )
    audit_source = {
        **{k: v if k != "occurred_at" else "%(now)s" for k, v in _AUDIT_SOURCE.items()},
        "region_code": "inv.region_code",
        "summary": "jsonb_build_object('target', inv.target_kind || ':' || inv.target_id, 'level', %(level)s, "
        "'kind', 'first', 'channel', %(channel)s)",
    }
    audit_values = per_row(
        ", ".join(v if v.startswith(("inv.", "jsonb_", "%(")) else _source(v) for v in audit_source.values())
    )
    columns = ", ".join(f"{name} {kind}" for name, kind in _BATCH_COLUMNS.items())
    device_count = (
        f"(SELECT COUNT(*) FROM {rating_table} r "  # noqa: S608 - identifiers from models
        "WHERE r.device_hash = u.device_hash AND r.rated_at >= u.since)"
    )
    return (
        # each device's count once per row (not once per row and invitation the join tries), same snapshot
        f"WITH u AS MATERIALIZED (SELECT u.*, CASE WHEN u.device_hash = '' THEN 0 ELSE {device_count} END "  # noqa: S608
        f"AS by_device FROM jsonb_to_recordset(%(rows)s) AS u({columns})), "
        # the invitations by their primary key, each then joined to its own row: an index scan whatever the
        # statistics say. `purpose || ''` keeps the (purpose, served_at) index out of it: with statistics from a
        # smaller table the planner scanned it, every first invitation, for a batch of three (decision 0027).
        # Two batches (of two processes) holding the same two invitations may deadlock: both fail, wrote
        # nothing, and their ratings are written alone.
        f"inv AS (UPDATE {inv_table} i SET used_at = u.now FROM u WHERE i.id = ANY(ARRAY(SELECT id FROM u)) "
        "AND i.id = u.id AND i.nonce = u.nonce "
        "AND i.used_at IS NULL AND i.expires_at >= u.now AND i.purpose || '' = 'first' AND i.served_at <= u.now "
        "AND (u.anonymous OR (i.person_id IS NULL AND i.phone_encrypted = '')) "
        "AND (u.want_mode = '' OR i.mode = u.want_mode) "
        "AND u.by_device < u.max_device "
        f"RETURNING i.id, i.mode, i.target_label, {', '.join(f'i.{c}' for c in _FROM_INVITATION)}, "
        f"{', '.join(f'u.{c} AS u_{c}' for c in _BATCH_COLUMNS)}), "
        f"rating AS (INSERT INTO {rating_table} ({', '.join(_RATING)}, invitation_id) "
        f"SELECT {rating_values}, inv.id FROM inv RETURNING id, invitation_id), "
        f"follow AS (INSERT INTO {inv_table} ({', '.join(_FOLLOW)}) SELECT {follow_values} FROM inv "
        "RETURNING id, target_kind, target_id), "
        f"{rollup}, {reason}, "
        f"event AS (INSERT INTO {PendingAuditEvent._meta.db_table} ({', '.join(audit_source)}, object_id) "
        f"SELECT {audit_values}, rating.id::text FROM rating JOIN inv ON inv.id = rating.invitation_id) "
        "SELECT inv.id, rating.id, follow.id FROM inv JOIN rating ON rating.invitation_id = inv.id "
        "JOIN follow ON follow.target_kind = inv.target_kind AND follow.target_id = inv.target_id"
    )


@functools.cache
def _batch_statement() -> prepared.RawStatement:
    return prepared.RawStatement("yiwang_rating_record_batch", _batch_sql(), {"rows": "jsonb"})


def _batch_row(params: dict) -> str:
    plain = {k: params.get(k) for k in _BATCH_COLUMNS if k not in _BATCH_JSON}
    text = json.dumps(plain, ensure_ascii=False, default=str)
    extra = ", ".join(f'"{k}": {params[k] if params.get(k) is not None else "null"}' for k in _BATCH_JSON)
    return f"{text[:-1]}, {extra}}}"


def _write_batch(items) -> list[tuple | None]:
    """Write ``items`` ((statement, params) of :func:`record`) in one statement on this thread's connection;
    per item, (rating id, follow-up invitation id) or None (its claim failed). Raises on any database error,
    having written nothing."""
    conn = connections[DEFAULT_DB_ALIAS]
    order = sorted(range(len(items)), key=lambda i: items[i][1]["id"])
    rows = "[" + ", ".join(_batch_row(items[i][1]) for i in order) + "]"
    if conn.health_check_enabled and not conn.health_check_done:
        conn.health_check_done = True  # a dead connection fails the batch; every rating is then written alone
        try:
            found = prepared.execute_raw_all(_batch_statement(), {"rows": rows}, conn)
        except (OperationalError, InterfaceError):
            conn.close()
            raise
    else:
        found = prepared.execute_raw_all(_batch_statement(), {"rows": rows}, conn)
    written = {invitation: (rating, follow) for invitation, rating, follow in found}
    return [written.get(params["id"]) for _, params in items]


_batchers: dict[int, group_commit.GroupCommit] = {}


def _group_commit() -> group_commit.GroupCommit | None:
    """This process's batcher, or None when group commit is off (``RATINGS_GROUP_COMMIT`` ≤ 1)."""
    from django.conf import settings

    limit = int(getattr(settings, "RATINGS_GROUP_COMMIT", _BATCH_LIMIT_DEFAULT) or 0)
    if limit <= 1:
        return None
    batcher = _batchers.get(limit)
    if batcher is None:
        batcher = _batchers.setdefault(limit, group_commit.GroupCommit(limit=limit))
    return batcher


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False

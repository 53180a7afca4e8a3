"""网上申报 in two PostgreSQL statements — the path of the common online application (decision 0016).

A person or enterprise applying online for themselves (no agent, no staff, no applicant id), with a form
and files that pass every check, is checked here with the *same* functions as the general path
(:func:`services._clean_form`, the form's ``validate_data``, :func:`uploads.store`, the policy, the
material checklist) and then written by:

1. **the case number** — one round trip ``BEGIN; SET LOCAL synchronous_commit TO off; INSERT … ON CONFLICT
   DO UPDATE SET last = last + 1 RETURNING last; COMMIT``: the counter row of the region and day is locked
   for that statement only, not across the application's durable commit (a WAL flush, 3–4 ms on this
   machine, during which every other application of the region waited: at most ~250 a second). The
   counter's commit is not flushed on its own, but the application's commit flushes the WAL up to itself,
   counter included, so a case that exists always has its serial counted. A failure after this step leaves
   a gap in the serials (numbers stay unique: the counter and the unique constraint);
2. **everything else** — one data-modifying CTE, atomic on its own (autocommit): the Idempotency-Key row,
   the case (already ``submitted``, with its number), the material checklist, the stored files and their
   attachments, the two timeline events (``create``, ``submit``), the applicant's message and the two
   staged audit events. It writes only if the item still has the version this process remembers
   (published) and the key is new; otherwise it writes nothing and the caller takes the general path,
   which replays the earlier case for a retried key or gives the precise error.

The files are written (random names, sha256, sniffed type) before the statement and removed if it fails.
The SMS and the audit flush run after the statement, i.e. after commit. Anything else — another database,
an agent, staff, an item with a guard or observer this module does not know to be silent on a new own
application, a file or form that fails a check — returns ``None`` and the general action
(:func:`services.case_apply`) runs instead, unchanged.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils import timezone

from yiwang.accounts import sms
from yiwang.accounts.models import Enterprise, Person, User
from yiwang.catalog.codes import Necessity
from yiwang.catalog.models import ServiceItem, ServiceItemVersion
from yiwang.core import audit, context, prepared
from yiwang.core.errors import DomainError
from yiwang.core.ids import mask_credit_code
from yiwang.core.models import PendingAuditEvent
from yiwang.core.permissions import policy

from . import agents, events, idempotency, numbering, uploads
from .models import Case, CaseEvent, CaseFile, CaseMaterial, CaseNumberCounter, IdempotencyRecord, Message, StoredFile
from .states import State

log = logging.getLogger(__name__)

ITEM_CACHE_SECONDS = 30.0
MAX_FILES = 50  # services.MAX_FILES_PER_CASE

# Guards and observers known to do nothing for an applicant's own new online application (``create`` and
# ``submit`` of a case that is no bundle child, by its applicant): agent scope (the actor is the applicant),
# no approval with open 容缺 materials (decisions only), bundles (ended cases only), 督办 (supervise only),
# delivery (approval only), 容缺/告知承诺 (resubmit and accept only). A guard or observer not listed here
# sends every application through the general path (tests/cases/test_direct.py lists them).
SILENT_GUARDS = frozenset({"yiwang.cases.agents._agent_scope", "yiwang.cases.gaps._no_approval_with_gaps"})
SILENT_OBSERVERS = frozenset(
    {
        "yiwang.cases.bundles._on_case_event",
        "yiwang.cases.supervision._supervision_document",
        "yiwang.cases.delivery._open_on_approval",
        "yiwang.cases.gaps._after_resubmit",
        "yiwang.cases.gaps._verification_on_accept",
    }
)


def _name(fn: Any) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


def hooks_silent() -> bool:
    return {_name(g) for g in events._guards} <= SILENT_GUARDS and {
        _name(o) for o in events._observers
    } <= SILENT_OBSERVERS


@dataclass(frozen=True)
class FileIn:
    """One uploaded file: the material it belongs to, its (Django-sanitised) name and its bytes."""

    material_index: int
    name: str
    content: bytes


@dataclass
class _Item:
    item: ServiceItem
    version: ServiceItemVersion
    materials: list[tuple[int, str, str, str]]  # index, name, necessity, format
    required_online: frozenset[int]
    until: float


_items: dict[str, _Item] = {}
_items_lock = threading.Lock()


def _item(code: str) -> _Item | None:
    """The item and its live version, remembered for ``ITEM_CACHE_SECONDS`` (the write re-checks both)."""
    hit = _items.get(code)
    if hit is not None and time.monotonic() < hit.until:
        return hit
    from . import services

    item = (
        ServiceItem.objects.select_related("current_version", "current_version__department").filter(code=code).first()
    )
    version = item.current_version if item is not None else None
    if (
        version is None
        or item.state != ServiceItem.State.PUBLISHED
        or version.state != ServiceItemVersion.State.PUBLISHED
        or not version.is_online
    ):
        _items.pop(code, None)
        return None
    data = services.elements(version)
    materials = [(i, m.name, m.necessity, m.format) for i, m in enumerate(data.materials)]
    required = frozenset(i for i, _, nec, fmt in materials if nec == Necessity.REQUIRED and fmt != "paper")
    entry = _Item(item, version, materials, required, time.monotonic() + ITEM_CACHE_SECONDS)
    with _items_lock:
        if len(_items) > 2048:
            _items.clear()
        _items[code] = entry
    return entry


def forget_items() -> None:
    _items.clear()


# --- the statements ---------------------------------------------------------------------------------------


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    return "'" + str(value).replace("'", "''") + "'"


# case columns that vary per application (named parameters); every other column gets its default
_CASE_VARYING = {
    "id": "go.case_id",
    "number": "number",
    "item_id": "item_id",
    "version_id": "version_id",
    "item_name": "item_name",
    "department_id": "department_id",
    "region_code": "region_code",
    "intake_region_code": "region_code",
    "state": "'submitted'",
    "channel": "'online'",
    "applicant_id": "user_id",
    "applicant_kind": "applicant_kind",
    "applicant_name": "applicant_name",
    "applicant_id_masked": "applicant_id_masked",
    "filed_by_id": "user_id",
    "contact_name": "contact_name",
    "contact_phone": "contact_phone",
    "form_data": "form_data",
    "created_at": "now",
    "updated_at": "now",
    "submitted_at": "now",
}
_TYPES = {"now": "timestamptz", "form_data": "jsonb", "item_id": "bigint", "user_id": "bigint"}


def _p(name: str) -> str:
    return name if name.startswith(("'", "go.")) else f"%({name})s" + (f"::{_TYPES[name]}" if name in _TYPES else "")


@functools.cache
def _write_sql(with_key: bool) -> str:
    q = connection.ops.quote_name
    case_cols, case_vals = [], []
    for field in Case._meta.concrete_fields:
        case_cols.append(q(field.column))
        if field.attname in _CASE_VARYING:
            case_vals.append(_p(_CASE_VARYING[field.attname]))
        else:
            case_vals.append(_literal(field.get_db_prep_save(field.get_default(), connection)))
    item_t, version_t = ServiceItem._meta.db_table, ServiceItemVersion._meta.db_table
    published = ServiceItem.State.PUBLISHED.value
    ok = (
        f"ok AS (SELECT nextval(pg_get_serial_sequence('{Case._meta.db_table}', 'id')) AS case_id "  # noqa: S608
        f"FROM {item_t} i JOIN {version_t} v ON v.id = i.current_version_id "
        f"WHERE i.id = %(item_id)s AND i.current_version_id = %(version_id)s AND i.state = '{published}' "
        f"AND v.state = '{published}')"
    )
    if with_key:
        idem = (
            f"idem AS (INSERT INTO {IdempotencyRecord._meta.db_table} "  # noqa: S608
            "(user_id, key, scope, fingerprint, result_type, result_id, created_at) "
            "SELECT %(user_id)s, %(key)s, 'case.apply', %(fingerprint)s, 'cases.case', ok.case_id::text, %(now)s "
            "FROM ok ON CONFLICT (user_id, key) DO NOTHING RETURNING id), "
            "go AS (SELECT ok.case_id FROM ok, idem)"
        )
    else:
        idem = "go AS (SELECT case_id FROM ok)"
    case_sql = (
        f"c AS (INSERT INTO {Case._meta.db_table} ({', '.join(case_cols)}) "  # noqa: S608
        f"SELECT {', '.join(case_vals)} FROM go RETURNING id)"
    )
    material = (
        f"m AS (INSERT INTO {CaseMaterial._meta.db_table} "  # noqa: S608
        f"(case_id, {q('index')}, name, necessity, format, status, paper_received, note) "
        "SELECT c.id, u.i, u.name, u.necessity, u.format, u.status, false, '' FROM c, "
        "jsonb_to_recordset(%(materials)s) AS u(ord int, i smallint, name text, necessity text, format text, "
        "status text) ORDER BY u.ord "
        f"RETURNING id, {q('index')})"
    )
    stored = (
        f"f AS (INSERT INTO {StoredFile._meta.db_table} "  # noqa: S608
        "(id, owner_id, original_name, kind, content_type, size, sha256, storage_name, created_at) "
        "SELECT u.id, %(user_id)s, u.name, u.kind, u.ctype, u.size, u.sha, u.storage, %(now)s FROM c, "
        "jsonb_to_recordset(%(files)s) AS u(ord int, id uuid, name text, kind text, ctype text, size bigint, "
        "sha text, storage text) ORDER BY u.ord RETURNING id)"
    )
    attached = (
        f"a AS (INSERT INTO {CaseFile._meta.db_table} (case_id, material_id, file_id, attached_at, attached_by_id) "  # noqa: S608
        "SELECT c.id, m.id, u.id, %(now)s, %(user_id)s FROM c, "
        "jsonb_to_recordset(%(files)s) AS u(ord int, id uuid, i smallint) "
        f"JOIN m ON m.{q('index')} = u.i ORDER BY u.ord)"
    )
    event = (
        f"e AS (INSERT INTO {CaseEvent._meta.db_table} "  # noqa: S608
        "(case_id, at, action, from_state, to_state, actor_id, actor_label, note, data, public) "
        "SELECT c.id, u.at, u.action, u.from_state, u.to_state, %(user_id)s, %(actor_label)s, u.note, '{}'::jsonb, "
        "true FROM c, (VALUES (1, %(created_at)s::timestamptz, 'create', '', 'draft', ''), "
        "(2, %(now)s, 'submit', 'draft', 'submitted', %(submit_note)s)) AS u(ord, at, action, from_state, to_state, "
        "note) ORDER BY u.ord)"
    )
    message = (
        f"msg AS (INSERT INTO {Message._meta.db_table} (user_id, case_id, title, body, created_at, read_at) "  # noqa: S608
        "SELECT %(user_id)s, c.id, %(msg_title)s, %(msg_body)s, %(now)s, NULL FROM c)"
    )
    audit_sql = (
        f"au AS (INSERT INTO {PendingAuditEvent._meta.db_table} "  # noqa: S608
        "(occurred_at, actor_id, actor_label, action, object_type, object_id, region_code, summary, request_id, ip, "
        "channel) SELECT u.at, %(user_id)s, %(audit_label)s, u.action, 'cases.case', c.id::text, %(region_code)s, "
        "u.summary, %(request_id)s, %(ip)s, %(channel)s FROM c, "
        "(VALUES (1, %(created_at)s::timestamptz, 'case.create', %(summary_create)s::jsonb), "
        "(2, %(now)s, 'case.submit', %(summary_submit)s::jsonb)) AS u(ord, at, action, summary) ORDER BY u.ord)"
    )
    parts = [ok, idem, case_sql, material, stored, attached, event, message, audit_sql]
    return "WITH " + ", ".join(parts) + " SELECT id FROM c"  # noqa: S608 - identifiers from models


_PARAM_TYPES = {
    "item_id": "bigint",
    "version_id": "bigint",
    "user_id": "bigint",
    "department_id": "bigint",
    "now": "timestamptz",
    "created_at": "timestamptz",
    "form_data": "jsonb",
    "summary_create": "jsonb",
    "summary_submit": "jsonb",
    # the checklist and the files as one JSON array each (one json.dumps instead of 13 array parameters)
    "materials": "jsonb",
    "files": "jsonb",
}


def _execute(name: str, sql: str, params: dict) -> tuple | None:
    return prepared.execute(name, sql, params, types=_PARAM_TYPES)


_PROFILE = {  # the applicant's name and identifier, read with the serial (services._applicant_profile)
    User.Kind.PERSON: (Person, "real_name", "id_masked"),
    User.Kind.ENTERPRISE: (Enterprise, "name", "credit_code"),
}


@functools.cache
def _serial_sql(kind: str) -> str:
    table = connection.ops.quote_name(CaseNumberCounter._meta.db_table)
    keys = IdempotencyRecord._meta.db_table
    model, name, ident = _PROFILE[kind]
    profile = f"(SELECT {{}} FROM {model._meta.db_table} WHERE user_id = %(user_id)s)"  # noqa: S608
    return (
        f"INSERT INTO {table} (region_code, day, last) SELECT %(region)s, %(day)s, 1 "  # noqa: S608
        f"WHERE %(key)s::text IS NULL OR NOT EXISTS (SELECT 1 FROM {keys} WHERE user_id = %(user_id)s AND key = "
        f"%(key)s) ON CONFLICT (region_code, day) DO UPDATE SET last = {table}.last + 1 "
        f"RETURNING last, {profile.format(name)}, {profile.format(ident)}"
    )


def _serial(actor: User, region: str, day, *, key: str | None) -> tuple[int, str | None, str | None] | None:
    """(the next serial of ``region`` on ``day``, the applicant's name, identifier) — ``None`` when the
    Idempotency-Key was used before (a retry: the general path replays it, and no serial is spent)."""
    params = {"region": region, "day": day, "key": key, "user_id": actor.pk}
    with connection.cursor() as cursor:
        if connection.in_atomic_block:  # inside a caller's transaction (tests): the counter waits for it
            cursor.execute(_serial_sql(actor.kind), params)
            row = cursor.fetchone()
        else:
            cursor.execute(f"BEGIN; SET LOCAL synchronous_commit TO off; {_serial_sql(actor.kind)}; COMMIT", params)
            cursor.nextset()
            cursor.nextset()
            row = cursor.fetchone()
            cursor.nextset()
    return None if row is None else (int(row[0]), row[1], row[2])


# --- the application -------------------------------------------------------------------------------------


def _cleanup(stored: list[StoredFile]) -> None:
    for s in stored:
        uploads.path_of(s).unlink(missing_ok=True)


def apply(
    *,
    actor: Any,
    item_code: str,
    form_data: dict[str, Any],
    files: list[FileIn],
    contact_name: str = "",
    contact_phone: str = "",
    idempotency_key: str | None = None,
) -> Case | None:
    """The submitted case, or ``None`` when this application is not the common case (nothing written)."""
    from . import services

    if connection.vendor not in ("postgresql", "sqlite") or getattr(actor, "pk", None) is None:
        return None
    if getattr(actor, "is_staff_member", False) or getattr(actor, "is_system", False) or agents.is_helper(actor):
        return None
    if not actor.is_active or len(files) > MAX_FILES or not hooks_silent():
        return None
    if idempotency_key is not None and not idempotency.KEY_RE.match(idempotency_key):
        return None
    entry = _item(item_code)
    if entry is None or not policy.allows(actor, "case.apply", entry.item):
        return None
    item, version = entry.item, entry.version
    try:
        raw_form = form_data
        form = services._clean_form(version, form_data)
        form = services.elements(version).form.validate_data(form or {})
    except DomainError:
        return None
    indexes = {i for i, *_ in entry.materials}
    if any(f.material_index not in indexes for f in files):
        return None
    if entry.required_online - {f.material_index for f in files}:
        return None  # materials_missing: the general path lists them
    now = timezone.now()
    case = Case(
        item=item,
        version=version,
        item_name=version.name,
        department=version.department,
        region_code=version.region_id,
        intake_region_code=version.region_id,
        state=State.DRAFT,
        channel=Case.Channel.ONLINE,
        applicant=actor,
        applicant_kind=Case.ApplicantKind.PERSON if actor.kind == User.Kind.PERSON else Case.ApplicantKind.ENTERPRISE,
        filed_by=actor,
        contact_name=(contact_name or "")[:100],
        contact_phone=(contact_phone or actor.phone or "")[:20],
        form_data=form,
        created_at=now,
        updated_at=now,
    )
    if not policy.allows(actor, "case.submit", case):
        return None
    stored: list[StoredFile] = []
    try:
        for f in files:
            stored.append(uploads.store(owner=actor, name=f.name, content=f.content, save=False))
    except DomainError:
        _cleanup(stored)
        return None
    except BaseException:
        _cleanup(stored)
        raise
    try:
        return _write(actor, case, entry, raw_form, files, stored, now=now, key=idempotency_key)
    except BaseException:
        _cleanup(stored)
        raise


def _write(actor, case: Case, entry: _Item, raw_form, files, stored, *, now, key) -> Case | None:
    if connection.vendor != "postgresql":
        return _write_statements(actor, case, entry, raw_form, files, stored, now=now, key=key)
    from . import services

    day = timezone.localtime(now, numbering.CHINA).date()
    taken = _serial(actor, case.region_code, day, key=key)
    if taken is None or taken[1] is None:  # a retry, or no real-name record (a serial is left unused)
        _cleanup(stored)
        return None
    serial, case.applicant_name, ident = taken
    case.applicant_id_masked = ident if actor.kind == User.Kind.PERSON else mask_credit_code(ident)
    case.number = numbering.format_number(case.region_code, day, serial)
    provided = {f.material_index for f in files}
    status = {True: CaseMaterial.Status.PROVIDED.value, False: CaseMaterial.Status.MISSING.value}
    fingerprint = _fingerprint(entry, raw_form, files, stored) if key is not None else ""
    ctx = context.current()
    title, body = _message(case)
    created, submitted = _summaries(case)
    from django.db.models import JSONField

    json_field = JSONField()
    params = {
        "item_id": entry.item.pk,
        "version_id": entry.version.pk,
        "key": key,
        "fingerprint": fingerprint,
        "user_id": actor.pk,
        "now": now,
        "created_at": now,
        "number": case.number,
        "item_name": case.item_name,
        "department_id": case.department_id,
        "region_code": case.region_code,
        "applicant_kind": case.applicant_kind,
        "applicant_name": case.applicant_name,
        "applicant_id_masked": case.applicant_id_masked,
        "contact_name": case.contact_name,
        "contact_phone": case.contact_phone,
        "form_data": json_field.get_db_prep_save(case.form_data, connection),
        "materials": json.dumps(
            [
                {"ord": k, "i": i, "name": n, "necessity": nec, "format": fmt, "status": status[i in provided]}
                for k, (i, n, nec, fmt) in enumerate(entry.materials)
            ],
            ensure_ascii=False,
        ),
        "files": json.dumps(
            [
                {
                    "ord": k,
                    "id": str(s.pk),
                    "name": s.original_name,
                    "kind": s.kind,
                    "ctype": s.content_type,
                    "size": s.size,
                    "sha": s.sha256,
                    "storage": s.storage_name,
                    "i": f.material_index,
                }
                for k, (f, s) in enumerate(zip(files, stored, strict=True))
            ],
            ensure_ascii=False,
        ),
        "actor_label": services._label(actor),
        "submit_note": "网上提交申请",
        "msg_title": title,
        "msg_body": body,
        "audit_label": actor.get_username()[:150],
        "summary_create": json_field.get_db_prep_save(created, connection),
        "summary_submit": json_field.get_db_prep_save(submitted, connection),
        "request_id": ctx.request_id,
        "ip": ctx.ip,
        "channel": ctx.channel,
    }
    row = _execute(f"yiwang_case_apply_{int(key is not None)}", _write_sql(key is not None), params)
    if row is None:  # the key was taken meanwhile, or the item changed: the general path decides
        _items.pop(entry.item.code, None)
        _cleanup(stored)
        return None
    case.pk = row[0]
    case.state, case.submitted_at = State.SUBMITTED, now
    _after_commit(actor, case, title, body)
    return case


# --- SQLite: the same rows, one short transaction of plain statements ---------------------------------------


_sqlite_writer = threading.Lock()


class _Declined(Exception):
    """Roll the transaction back and let the general path decide."""


def _insert(model, rows: list[dict[str, Any]], returning: str = "id") -> list[tuple]:
    """One multi-row ``INSERT … RETURNING``; columns not given get the model field's default."""
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.attname not in rows[0])]
    params = []
    for row in rows:
        params += [
            f.get_db_prep_save(row[f.attname] if f.attname in row else f.get_default(), connection) for f in fields
        ]
    q = connection.ops.quote_name
    marks = "(" + ", ".join(["%s"] * len(fields)) + ")"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {q(model._meta.db_table)} ({', '.join(q(f.column) for f in fields)}) "  # noqa: S608
            f"VALUES {', '.join([marks] * len(rows))} RETURNING {returning}",
            params,
        )
        return cursor.fetchall()


def _write_statements(actor, case: Case, entry: _Item, raw_form, files, stored, *, now, key) -> Case | None:
    """SQLite (one writer at a time, no round trips): the rows of the CTE as a dozen plain statements in one
    ``BEGIN IMMEDIATE`` transaction, the counter inside it (as in the general path)."""
    from django.db import transaction

    from . import services

    published = ServiceItem.State.PUBLISHED.value
    try:
        # one writer at a time anyway: this process's threads queue here, in order, instead of in SQLite's
        # busy handler, which polls with growing sleeps (seconds of tail latency with 16 clients)
        with _sqlite_writer, transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT 1 FROM {ServiceItem._meta.db_table} i JOIN {ServiceItemVersion._meta.db_table} v "  # noqa: S608
                    "ON v.id = i.current_version_id WHERE i.id = %s AND i.current_version_id = %s AND i.state = %s "
                    "AND v.state = %s",
                    [entry.item.pk, entry.version.pk, published, published],
                )
                if cursor.fetchone() is None:
                    _items.pop(entry.item.code, None)
                    raise _Declined
                model, name, ident = _PROFILE[actor.kind]
                cursor.execute(
                    f"SELECT {name}, {ident} FROM {model._meta.db_table} WHERE user_id = %s",  # noqa: S608
                    [actor.pk],
                )
                profile = cursor.fetchone()
            if profile is None:
                raise _Declined
            fingerprint = _fingerprint(entry, raw_form, files, stored) if key is not None else ""
            claimed = idempotency._insert(actor.pk, key, "case.apply", fingerprint, now) if key else None
            if key and claimed is None:
                raise _Declined  # a retry: the general path replays the first case
            case.applicant_name = profile[0]
            case.applicant_id_masked = profile[1] if actor.kind == User.Kind.PERSON else mask_credit_code(profile[1])
            case.number = numbering.new_number(case.region_code, at=now)
            case.state, case.submitted_at = State.SUBMITTED, now
            values = {f.attname: getattr(case, f.attname) for f in Case._meta.concrete_fields if f.attname != "id"}
            case.pk = _insert(Case, [values])[0][0]
            provided = {f.material_index for f in files}
            status = {True: CaseMaterial.Status.PROVIDED, False: CaseMaterial.Status.MISSING}
            rows = [
                {
                    "case_id": case.pk,
                    "index": i,
                    "name": n,
                    "necessity": nec,
                    "format": fmt,
                    "status": status[i in provided],
                }
                for i, n, nec, fmt in entry.materials
            ]
            material_ids = {index: pk for pk, index in _insert(CaseMaterial, rows, 'id, "index"')}
            if stored:
                for s in stored:
                    s.created_at = now
                _insert(
                    StoredFile,
                    [{f.attname: getattr(s, f.attname) for f in StoredFile._meta.concrete_fields} for s in stored],
                )
                _insert(
                    CaseFile,
                    [
                        {
                            "case_id": case.pk,
                            "material_id": material_ids[f.material_index],
                            "file_id": s.pk,
                            "attached_at": now,
                            "attached_by_id": actor.pk,
                        }
                        for f, s in zip(files, stored, strict=True)
                    ],
                )
            label = services._label(actor)
            event = {"case_id": case.pk, "actor_id": actor.pk, "actor_label": label, "data": {}, "public": True}
            _insert(
                CaseEvent,
                [
                    {**event, "at": now, "action": "create", "from_state": "", "to_state": State.DRAFT, "note": ""},
                    {
                        **event,
                        "at": now,
                        "action": "submit",
                        "from_state": State.DRAFT,
                        "to_state": State.SUBMITTED,
                        "note": "网上提交申请",
                    },
                ],
            )
            title, body = _message(case)
            _insert(
                Message, [{"user_id": actor.pk, "case_id": case.pk, "title": title, "body": body, "created_at": now}]
            )
            ctx = context.current()
            base = {
                "actor_id": actor.pk,
                "actor_label": actor.get_username()[:150],
                "object_type": Case._meta.label_lower,
                "object_id": str(case.pk),
                "region_code": case.region_code,
                "request_id": ctx.request_id,
                "ip": ctx.ip,
                "channel": ctx.channel,
            }
            created, submitted = _summaries(case)
            _insert(
                PendingAuditEvent,
                [
                    {**base, "occurred_at": now, "action": "case.create", "summary": created},
                    {**base, "occurred_at": now, "action": "case.submit", "summary": submitted},
                ],
            )
            if claimed is not None:
                idempotency.complete(claimed, result_type="cases.case", result_id=case.pk)
            _after_commit(actor, case, title, body)
    except _Declined:
        _cleanup(stored)
        return None
    return case


def _fingerprint(entry: _Item, raw_form, files, stored) -> str:
    """The request's fingerprint exactly as ``services.case_apply`` computes it."""
    return idempotency.fingerprint(
        {
            "item": entry.item.code,
            "form": raw_form,
            "applicant": None,
            "files": [[f.material_index, f.name, s.sha256] for f, s in zip(files, stored, strict=True)],
        }
    )


def _message(case: Case) -> tuple[str, str]:
    """The applicant's message, as ``services._submit`` words it (``notify.to_applicant``)."""
    return f"申请已提交（{case.item_name}，{case.number}）"[:200], f"办件编号 {case.number}，等待预审。"


def _summaries(case: Case) -> tuple[dict, dict]:
    """The audit summaries of the ``create`` and ``submit`` events, as ``services._record`` makes them."""
    return (
        audit._json_safe({"number": None, "from": "", "to": State.DRAFT.value}),
        audit._json_safe(
            {"number": case.number, "from": State.DRAFT.value, "to": State.SUBMITTED.value, "note": "网上提交申请"}
        ),
    )


def _after_commit(actor, case: Case, title: str, body: str) -> None:
    def run() -> None:
        number = case.contact_phone or actor.phone or ""
        if number:
            text = f"【一网】{title}" + (f"：{body}" if body else "")
            try:
                sms.send_sms(number, text[:300])
            except Exception:
                log.exception("on-commit side effect failed")
        audit.flush_soon()

    if connection.in_atomic_block:
        from django.db import transaction

        transaction.on_commit(run)
    else:
        run()


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()

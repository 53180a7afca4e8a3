"""Writes about cases (办件): every state change is one action (see ``core.actions``).

Each action locks the case row, checks that the actor may see it (else ``case_not_found``), asks the
policy whether this actor is a party allowed to take the action, checks the transition table, writes the
change, one append-only :class:`CaseEvent` and one audit event, and sends messages on commit. The API,
the portal, the workbench and the CLI call these functions, so they behave the same.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Max
from django.utils import timezone

from yiwang.accounts.models import Enterprise, Person, User
from yiwang.accounts.selectors import authorization_for
from yiwang.catalog.codes import Necessity, StepKind
from yiwang.catalog.elements import ItemElements
from yiwang.catalog.models import ServiceItem, ServiceItemVersion
from yiwang.core import audit
from yiwang.core.actions import action, lock
from yiwang.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from yiwang.core.ids import mask_credit_code
from yiwang.core.permissions import policy
from yiwang.directory.models import Window
from yiwang.workdays.calendar import get_calendar
from yiwang.workdays.engine import Pause, Unit

from . import agents, clock, documents, events, idempotency, notify, numbering, rules, uploads
from . import deadlines as dl
from .models import (
    Case,
    CaseDocument,
    CaseEvent,
    CaseExtension,
    CaseFile,
    CaseMaterial,
    CasePause,
    CaseStep,
    StoredFile,
    Supervision,
)
from .states import Action, Party, State, TransitionError
from .states import target as next_state

A = Action
MAX_FORM_BYTES = 64 * 1024
SPECIAL_TYPES = ("听证", "招标", "拍卖", "检验", "检测", "检疫", "鉴定", "专家评审", "公示", "现场核查")
DEFAULT_STEPS = [
    {"kind": StepKind.ACCEPT, "name": "受理"},
    {"kind": StepKind.REVIEW, "name": "审查"},
    {"kind": StepKind.DECIDE, "name": "决定"},
]
STEP_NAMES = {
    "accept": "受理",
    "review": "审查",
    "decide": "决定",
    "certify": "制证",
    "deliver": "送达",
    "other": "办理",
}


# --- helpers ------------------------------------------------------------------------------------------


_ELEMENTS: dict[tuple[int, str], ItemElements] = {}


def elements(version: ServiceItemVersion) -> ItemElements:
    """The version's element set, parsed once per process (published versions never change)."""
    cached = version.__dict__.get("data")
    if cached is None:
        key = (version.pk, version.content_hash)
        cached = _ELEMENTS.get(key)
        if cached is None:
            if len(_ELEMENTS) > 4096:
                _ELEMENTS.clear()
            cached = _ELEMENTS[key] = ItemElements.model_validate(version.elements)
        version.__dict__["data"] = cached
    return cached


def _label(actor: Any) -> str:
    if actor is None:
        return ""
    if getattr(actor, "pk", None) is None:
        return str(actor)
    return (getattr(actor, "display_name", "") or actor.get_username())[:150]


def _user(actor: Any) -> User | None:
    return actor if getattr(actor, "pk", None) is not None else None


def _case_qs():
    return Case.objects.select_related("item", "version", "department", "applicant", "filed_by")


def _get_locked(actor: Any, case_id: int) -> Case:
    case = lock(_case_qs().filter(pk=case_id), missing="办件不存在或您无权查看。")
    if not policy.allows(actor, "case.view", case):
        if actor is None or not getattr(actor, "is_authenticated", False):
            policy.require(actor, "case.view", case)
        agents.explain_refusal(actor, case)  # an agent whose authorisation lapsed is told so
        raise NotFound("办件不存在或您无权查看。", code="case_not_found", details={"case_id": case_id})
    return case


def _check(actor: Any, case: Case, act: Action) -> State:
    """Permission first, then the transition table."""
    policy.require(actor, f"case.{act.value}", case)
    try:
        new = next_state(case.state, act)
    except TransitionError:
        raise InvalidTransition(
            f"办件当前为「{case.state_label}」，不能{act.label}（可能已被他人处理，请刷新后查看）。",
            details={"state": case.state, "action": act.value, "case_id": case.pk},
        ) from None
    events.check(actor, case, act)  # 容缺/告知承诺/代办/一件事 guards (see events.py)
    return new


def _record(
    case: Case,
    act: Action | str,
    *,
    actor: Any,
    before: str,
    note: str = "",
    data: dict[str, Any] | None = None,
    public: bool = True,
    deferred: bool = False,
) -> CaseEvent:
    """The case timeline line and the audit event of one action.

    ``deferred``: the audit event is staged and chained after commit in a batch (docs/decisions/0007) — for
    the high-volume citizen side only (online application and submission); staff actions chain at once.
    """
    action_name = act.value if isinstance(act, Action) else act
    event = CaseEvent.objects.create(
        case=case,
        action=action_name,
        from_state=before,
        to_state=case.state,
        actor=_user(actor),
        actor_label=_label(actor),
        note=note[:2000],
        data=_json(data or {}),
        public=public,
    )
    events.recorded(case, action_name, before, actor)  # follow-ups in the same transaction (events.py)
    audit.record(
        actor=actor,
        action=f"case.{action_name}",
        obj=case,
        region_code=case.region_code,
        summary={"number": case.number, "from": before, "to": case.state, **({"note": note[:200]} if note else {})},
        deferred=deferred,
    )
    return event


def _citizen(actor: Any) -> bool:
    """An applicant acting online (not staff, not the system): their audit events may be deferred."""
    return getattr(actor, "pk", None) is not None and not getattr(actor, "is_staff_member", False)


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))


def _save(case: Case, *fields: str) -> None:
    case.updated_at = timezone.now()
    case.save(update_fields=[*fields, "updated_at"])
    rules.forget(case)


def _require_text(value: str, field: str, message: str, *, max_length: int = 2000) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationFailed(message, code=f"{field}_required", details={"field": field})
    if len(value) > max_length:
        raise ValidationFailed(f"内容不能超过{max_length}字。", code="text_too_long", details={"field": field})
    return value


def steps_of(version: ServiceItemVersion) -> list[dict[str, str]]:
    """The item's process steps (受理 → 审查 → 决定 …); a default when the item configures none."""
    configured = [{"kind": s.kind, "name": s.display_name} for s in elements(version).steps]
    if not any(s["kind"] == StepKind.ACCEPT for s in configured):
        configured.insert(0, {"kind": StepKind.ACCEPT, "name": "受理"})
    if not any(s["kind"] == StepKind.DECIDE for s in configured):
        at = next((i for i, s in enumerate(configured) if s["kind"] in (StepKind.CERTIFY, StepKind.DELIVER)), None)
        configured.insert(len(configured) if at is None else at, {"kind": StepKind.DECIDE, "name": "决定"})
    return configured


# --- deadlines ----------------------------------------------------------------------------------------


def clock_of(case: Case, pauses: Sequence[CasePause] | None = None) -> dl.Clock | None:
    """The engine's view of the case's clock (``None`` before acceptance or when the item has no limit)."""
    if case.accepted_on is None:
        return None
    promised = case.promised_limit if case.promised_limit is not None else case.legal_limit
    legal = case.legal_limit if case.legal_limit is not None else promised
    if promised is None:
        return None
    p_unit = Unit.parse(case.promised_unit or "working")
    l_unit = Unit.parse(case.legal_unit or case.promised_unit or "working")
    pauses = list(case.pauses.all()) if pauses is None else list(pauses)
    closed = tuple(Pause(p.start, p.end) for p in pauses if p.end is not None)
    running = next((p for p in pauses if p.end is None), None)
    return dl.Clock(
        accepted_on=case.accepted_on,
        promised=dl.Limit(promised, p_unit),
        legal=dl.Limit(max(legal, promised) if p_unit == l_unit else legal, l_unit),
        pauses=closed,
        open_pause=dl.OpenPause(running.start) if running else None,
        extension_days=case.extension_days,
    )


def refresh_deadlines(case: Case, *, on: dt.date | None = None) -> bool:
    """Recompute the stored deadlines of one case; ``True`` when something changed (caller saves)."""
    case_clock = clock_of(case)
    before = (case.promised_due, case.legal_due, case.yellow_on, case.deadlines_provisional, case.warning_level)
    if case_clock is None:
        case.promised_due = case.legal_due = case.yellow_on = None
        case.deadlines_provisional, case.warning_level = False, 0
    else:
        stored = dl.for_case(
            get_calendar(case.region_code),
            case_clock,
            today=on or clock.today(),
            yellow_days=settings.WARNING_YELLOW_WORKDAYS,
            yellow_ratio=settings.WARNING_YELLOW_RATIO,
        )
        case.promised_due, case.legal_due, case.yellow_on = stored.promised_due, stored.legal_due, stored.yellow_on
        case.deadlines_provisional, case.warning_level = stored.provisional, int(stored.level)
    return before != (case.promised_due, case.legal_due, case.yellow_on, case.deadlines_provisional, case.warning_level)


DEADLINE_FIELDS = ("promised_due", "legal_due", "yellow_on", "deadlines_provisional", "warning_level")


# --- drafts, files and submission (网上申报) ------------------------------------------------------------


def _applicant_profile(principal: User) -> tuple[str, str, str]:
    """(kind, name, masked id) of the applicant account."""
    if principal.kind == User.Kind.PERSON:
        person = Person.objects.filter(user=principal).first()
        if person is None:
            raise ValidationFailed("申请人尚未实名登记，请先完成实名认证。", code="real_name_required")
        return Case.ApplicantKind.PERSON, person.real_name, person.id_masked
    if principal.kind == User.Kind.ENTERPRISE:
        enterprise = Enterprise.objects.filter(user=principal).first()
        if enterprise is None:
            raise ValidationFailed("法人账号未关联企业信息。", code="enterprise_required")
        return Case.ApplicantKind.ENTERPRISE, enterprise.name, mask_credit_code(enterprise.credit_code)
    raise ValidationFailed("工作人员账号不能作为申请人。", code="applicant_invalid")


def _live_version(item_code: str) -> tuple[ServiceItem, ServiceItemVersion]:
    item = (
        ServiceItem.objects.select_related("current_version", "current_version__department", "region")
        .filter(code=item_code)
        .first()
    )
    if item is None:
        raise NotFound("事项不存在。", code="item_not_found", details={"item_code": item_code})
    version = item.current_version
    if item.state != ServiceItem.State.PUBLISHED or version is None or version.state != version.State.PUBLISHED:
        raise Conflict("该事项当前不可申请。", code="item_not_available", details={"item_code": item_code})
    return item, version


def _clean_form(version: ServiceItemVersion, form_data: Any) -> dict[str, Any]:
    """Drafts may be incomplete, but only with the form's own fields and within a size limit."""
    if form_data is None:
        return {}
    if not isinstance(form_data, dict):
        raise ValidationFailed("申请表数据格式不正确。", code="form_invalid")
    known = {f.name for f in elements(version).form.fields}
    unknown = sorted(set(form_data) - known)
    if unknown:
        raise ValidationFailed("申请表含有未知字段。", code="form_invalid", details={k: "未知字段" for k in unknown})
    if len(json.dumps(form_data, ensure_ascii=False)) > MAX_FORM_BYTES:
        raise ValidationFailed("申请表内容过长。", code="form_too_large")
    return form_data


def _cache_materials(case: Case, rows: list[CaseMaterial]) -> None:
    """Let ``case.materials.all()`` answer from ``rows`` for the rest of this action (no second read)."""
    qs = CaseMaterial.objects.filter(case=case)
    qs._result_cache, qs._prefetch_done = rows, True
    case._prefetched_objects_cache = {"materials": qs}


def _materials_for(case: Case, version: ServiceItemVersion) -> list[CaseMaterial]:
    return CaseMaterial.objects.bulk_create(
        [
            CaseMaterial(case=case, index=i, name=m.name, necessity=m.necessity, format=m.format)
            for i, m in enumerate(elements(version).materials)
        ]
    )


def _resolve_applicant(actor: Any, item: ServiceItem, applicant_id: int | None) -> tuple[User, Any]:
    """The principal the case is for, and the authorisation when the actor files as an agent."""
    helper = agents.is_helper(actor)  # 帮办代办员: files under the applicant's authorisation, like an agent
    if helper and not applicant_id:
        raise ValidationFailed("请先确定申请人。", code="applicant_required")
    if (getattr(actor, "is_staff_member", False) or getattr(actor, "is_system", False)) and not helper:
        if not applicant_id:
            raise ValidationFailed("请先确定申请人。", code="applicant_required")
        principal = User.objects.filter(pk=applicant_id, is_active=True).first()
        if principal is None:
            raise NotFound("申请人不存在。", code="applicant_not_found")
        return principal, None
    if not applicant_id or applicant_id == actor.pk:
        return actor, None
    principal = User.objects.filter(pk=applicant_id, is_active=True).first()
    grant = authorization_for(agent=actor, principal=principal, action="case.apply", item_code=item.code)
    if principal is None or grant is None:
        raise PermissionDenied("您没有代该申请人办理此事项的有效授权。", code="not_authorized_agent")
    return principal, grant


@action
def case_create_draft(
    *,
    actor: Any,
    item_code: str,
    applicant_id: int | None = None,
    form_data: dict[str, Any] | None = None,
    contact_name: str = "",
    contact_phone: str = "",
) -> Case:
    """新建申请（草稿） — online by the applicant or an agent, or at a window by a clerk for the applicant."""
    item, version = _live_version(item_code)
    helper = agents.is_helper(actor)
    staff = (getattr(actor, "is_staff_member", False) or getattr(actor, "is_system", False)) and not helper
    policy.require(actor, "case.file_for" if helper else "case.intake" if staff else "case.apply", item)
    if not staff and not version.is_online:
        raise Conflict("该事项暂不支持网上申报，请到窗口办理。", code="item_not_online")
    principal, grant = _resolve_applicant(actor, item, applicant_id)
    kind, name, masked = _applicant_profile(principal)
    case = Case.objects.create(
        item=item,
        version=version,
        item_name=version.name,
        department=version.department,
        region_code=version.region_id,
        intake_region_code=version.region_id,
        state=State.DRAFT,
        channel=Case.Channel.WINDOW if staff else Case.Channel.ONLINE,
        applicant=principal,
        applicant_kind=kind,
        applicant_name=name,
        applicant_id_masked=masked,
        filed_by=actor if getattr(actor, "pk", None) else principal,
        authorization=grant,
        contact_name=(contact_name or "")[:100],
        contact_phone=(contact_phone or principal.phone or "")[:20],
        form_data=_clean_form(version, form_data),
    )
    rows = _materials_for(case, version)
    if all(m.pk for m in rows):  # ids came back (PostgreSQL, SQLite ≥ 3.35): no need to read them again
        _cache_materials(case, rows)
    _record(case, "create", actor=actor, before="", note="", public=True, deferred=_citizen(actor))
    return case


@action
def case_save_draft(
    *,
    actor: Any,
    case_id: int,
    form_data: dict[str, Any] | None = None,
    contact_name: str | None = None,
    contact_phone: str | None = None,
) -> Case:
    """保存草稿 — change the form of a draft (validated in full only on submission)."""
    case = _get_locked(actor, case_id)
    _check(actor, case, A.SAVE_DRAFT)
    if form_data is not None:
        case.form_data = _clean_form(case.version, form_data)
    if contact_name is not None:
        case.contact_name = contact_name[:100]
    if contact_phone is not None:
        case.contact_phone = contact_phone[:20]
    _save(case, "form_data", "contact_name", "contact_phone")
    return case


def _may_edit_materials(actor: Any, case: Case) -> None:
    if case.state == State.DRAFT:
        policy.require(actor, "case.save_draft", case)
    elif case.state in (State.SUPPLEMENT, State.REVIEW_SUPPLEMENT):
        policy.require(actor, "case.resubmit", case)
    else:
        raise InvalidTransition(
            f"办件当前为「{case.state_label}」，不能修改材料。",
            code="case_not_editable",
            details={"state": case.state},
        )


def _material(case: Case, index: int) -> CaseMaterial:
    material = CaseMaterial.objects.filter(case=case, index=index).first()
    if material is None:
        raise ValidationFailed("材料序号不存在。", code="material_not_found", details={"material_index": index})
    return material


MAX_FILES_PER_CASE = 50


def _attach(actor: Any, case: Case, material: CaseMaterial, name: str, content: Any) -> CaseFile:
    if CaseFile.objects.filter(case=case).count() >= MAX_FILES_PER_CASE:
        raise ValidationFailed("附件数量已达上限。", code="too_many_files")
    owner = _user(actor) or case.filed_by
    stored = uploads.store(owner=owner, name=name, content=content)
    try:
        attached = CaseFile.objects.create(case=case, material=material, file=stored, attached_by=owner)
    except BaseException:
        uploads.path_of(stored).unlink(missing_ok=True)
        raise
    if material.status != CaseMaterial.Status.PROVIDED:
        material.status = CaseMaterial.Status.PROVIDED
        material.save(update_fields=["status"])
    return attached


@action
def case_attach_file(*, actor: Any, case_id: int, material_index: int, name: str, content: Any) -> CaseFile:
    """上传材料 — attach one file to one material of a draft or of a case waiting for 补正."""
    policy.require(actor, "cases.file.upload")
    case = _get_locked(actor, case_id)
    _may_edit_materials(actor, case)
    attached = _attach(actor, case, _material(case, material_index), name, content)
    _record(
        case,
        "attach",
        actor=actor,
        before=case.state,
        note=attached.file.original_name,
        data={"material_index": material_index, "sha256": attached.file.sha256},
        public=False,
    )
    return attached


@action
def case_detach_file(*, actor: Any, case_id: int, file_id: str) -> None:
    """删除材料附件 (only while the applicant may still change the materials)."""
    case = _get_locked(actor, case_id)
    _may_edit_materials(actor, case)
    attached = CaseFile.objects.select_related("file", "material").filter(case=case, file_id=file_id).first()
    if attached is None:
        raise NotFound("附件不存在。", code="file_not_found")
    material, stored = attached.material, attached.file
    attached.delete()
    if not material.files.exists() and material.status == CaseMaterial.Status.PROVIDED:
        material.status = CaseMaterial.Status.MISSING
        material.save(update_fields=["status"])
    _record(case, "detach", actor=actor, before=case.state, note=stored.original_name, public=False)


def missing_materials(case: Case, *, online: bool) -> list[CaseMaterial]:
    """Required materials not yet provided (online: an uploaded file; at a window: a file or paper)."""
    out = []
    for m in case.materials.all():
        if m.necessity != Necessity.REQUIRED or m.status in (
            CaseMaterial.Status.NOT_NEEDED,
            CaseMaterial.Status.COMMITTED,  # 告知承诺制: the signed commitment replaces the proof
        ):
            continue
        if online and m.format == "paper":
            continue  # paper-only originals are checked at the window
        if m.status == CaseMaterial.Status.PROVIDED or (not online and m.paper_received):
            continue
        out.append(m)
    return out


def _validate_submission(case: Case, *, online: bool) -> None:
    case.form_data = elements(case.version).form.validate_data(case.form_data or {})
    missing = missing_materials(case, online=online)
    if missing:
        raise ValidationFailed(
            "以下必要材料尚未提交：" + "、".join(m.name for m in missing),
            code="materials_missing",
            details=[{"material_index": m.index, "name": m.name} for m in missing],
        )


def _sync_version(case: Case) -> None:
    """A new version was published while the draft waited: file under it, keeping files by material name."""
    item = ServiceItem.objects.select_related("current_version").get(pk=case.item_id)
    if item.state != ServiceItem.State.PUBLISHED or item.current_version is None:
        raise Conflict("该事项当前不可申请。", code="item_not_available")
    if item.current_version_id == case.version_id:
        return
    version = item.current_version
    old = {m.name: m for m in case.materials.all()}
    case.version, case.item_name = version, version.name
    case.department_id, case.region_code = version.department_id, version.region_id
    _save(case, "version", "item_name", "department", "region_code")
    for i, m in enumerate(elements(version).materials):
        previous = old.pop(m.name, None)
        if previous is not None:
            CaseMaterial.objects.filter(pk=previous.pk).update(index=1000 + i)
    for stale in old.values():
        stale.files.all().delete()
        stale.delete()
    for i, m in enumerate(elements(version).materials):
        row = CaseMaterial.objects.filter(case=case, index=1000 + i).first()
        if row:
            row.index, row.necessity, row.format = i, m.necessity, m.format
            row.save(update_fields=["index", "necessity", "format"])
        else:
            CaseMaterial.objects.create(case=case, index=i, name=m.name, necessity=m.necessity, format=m.format)


def _assign_number(case: Case) -> None:
    if not case.number:
        case.number = numbering.new_number(case.region_code)


def _submit(actor: Any, case: Case, *, sync: bool = True) -> Case:
    before = case.state
    new = _check(actor, case, A.SUBMIT)
    if sync:
        _sync_version(case)
    _validate_submission(case, online=True)
    now = timezone.now()
    _assign_number(case)
    case.state, case.submitted_at = new, now
    _save(case, "state", "number", "submitted_at", "form_data")
    _record(case, A.SUBMIT, actor=actor, before=before, note="网上提交申请", deferred=_citizen(actor))
    notify.to_applicant(case, title="申请已提交", body=f"办件编号 {case.number}，等待预审。")
    return case


@action
def case_submit(*, actor: Any, case_id: int, idempotency_key: str | None = None) -> Case:
    """提交申请 — validate the form and the required materials, take a case number, go to pre-review."""
    case = _get_locked(actor, case_id)
    policy.require(actor, "case.submit", case)
    if idempotency_key:
        claimed = idempotency.claim(user=actor, key=idempotency_key, scope="case.submit", payload={"case": case_id})
        if isinstance(claimed, idempotency.Replay):
            return case
        idempotency.complete(claimed, result_type="cases.case", result_id=case.pk)
    return _submit(actor, case)


@dataclass(frozen=True)
class Upload:
    """One file of a one-shot application: the material it belongs to, its name and content."""

    material_index: int
    name: str
    content: bytes | IO[bytes] | Any


def _digest(content: Any) -> str:
    digest = hashlib.sha256()
    if isinstance(content, bytes | bytearray):
        digest.update(content)
    elif hasattr(content, "chunks"):
        for block in content.chunks():
            digest.update(block)
        content.seek(0)
    elif hasattr(content, "read"):
        digest.update(content.read())
        content.seek(0)
    return digest.hexdigest()


@action
def case_apply(
    *,
    actor: Any,
    item_code: str,
    form_data: dict[str, Any],
    files: Sequence[Upload] = (),
    applicant_id: int | None = None,
    contact_name: str = "",
    contact_phone: str = "",
    idempotency_key: str | None = None,
) -> tuple[Case, bool]:
    """一次提交 — create, attach and submit in one step. Returns ``(case, created)``.

    With an ``Idempotency-Key`` a retried request (same key, same content) returns the case the first one
    created (``created`` is ``False``) and writes nothing.
    """
    claimed = None
    if idempotency_key:
        payload = {
            "item": item_code,
            "form": form_data,
            "applicant": applicant_id,
            "files": [[f.material_index, f.name, _digest(f.content)] for f in files],
        }
        claimed = idempotency.claim(user=actor, key=idempotency_key, scope="case.apply", payload=payload)
        if isinstance(claimed, idempotency.Replay):
            case = _case_qs().filter(pk=int(claimed.result_id)).first()
            if case is None or not policy.allows(actor, "case.view", case):
                raise NotFound("办件不存在或您无权查看。", code="case_not_found")
            return case, False
    case = case_create_draft(
        actor=actor,
        item_code=item_code,
        applicant_id=applicant_id,
        form_data=form_data,
        contact_name=contact_name,
        contact_phone=contact_phone,
    )
    materials = {m.index: m for m in case.materials.all()}
    if len(files) > MAX_FILES_PER_CASE:
        raise ValidationFailed("附件数量已达上限。", code="too_many_files")
    for f in files:
        if f.material_index not in materials:
            raise ValidationFailed(
                "材料序号不存在。", code="material_not_found", details={"material_index": f.material_index}
            )
    owner = _user(actor) or case.filed_by
    stored: list[StoredFile] = []
    try:
        for f in files:
            stored.append(uploads.store(owner=owner, name=f.name, content=f.content, save=False))
        StoredFile.objects.bulk_create(stored)
        CaseFile.objects.bulk_create(
            [
                CaseFile(case=case, material=materials[f.material_index], file=s, attached_by=owner)
                for f, s in zip(files, stored, strict=True)
            ]
        )
        provided = {f.material_index for f in files}
        CaseMaterial.objects.filter(case=case, index__in=provided).update(status=CaseMaterial.Status.PROVIDED)
        for index in provided:
            materials[index].status = CaseMaterial.Status.PROVIDED
        _cache_materials(case, list(materials.values()))
        case = _submit(actor, case, sync=False)  # a form or checklist refused here must not leave files
        if claimed is not None:
            idempotency.complete(claimed, result_type="cases.case", result_id=case.pk)
    except BaseException:
        for s in stored:
            uploads.path_of(s).unlink(missing_ok=True)
        raise
    return case, True


# --- window receipt and pre-review ---------------------------------------------------------------------


def _receive(case: Case, now: dt.datetime) -> None:
    case.received_at = now
    case.deemed_acceptance_on = dl.deemed_acceptance_on(get_calendar(case.region_code), timezone.localdate(now))
    case.deemed_accepted = False


def _receipt(case: Case, *, how: str) -> CaseDocument:
    rows = [
        [str(m.index + 1), m.name, m.get_status_display() + ("（纸质）" if m.paper_received else "")]
        for m in case.materials.all()
    ]
    return documents.issue(
        case,
        CaseDocument.Kind.RECEIPT,
        paragraphs=[
            f"您的申请材料已于{documents._time_text(case.received_at)}{how}收取，我们将依法作出是否受理的决定。"
        ],
        table_header=["序号", "材料名称", "收取情况"],
        table_rows=rows,
    )


@action
def case_window_receive(
    *,
    actor: Any,
    case_id: int,
    window_id: int | None = None,
    paper_indexes: Iterable[int] = (),
    note: str = "",
) -> Case:
    """综合窗口收件 — the clerk checked the documents brought (ticks) and the form; the case goes to 受理."""
    case = _get_locked(actor, case_id)
    before = case.state
    new = _check(actor, case, A.WINDOW_RECEIVE)
    _sync_version(case)
    case.form_data = elements(case.version).form.validate_data(case.form_data or {})
    if window_id is not None:
        window = Window.objects.select_related("hall").filter(pk=window_id, is_active=True).first()
        if window is None:
            raise NotFound("窗口不存在。", code="window_not_found")
        case.window, case.intake_region_code = window, window.hall.region_id
    ticks = set(paper_indexes)
    for m in case.materials.all():
        if m.index in ticks:
            m.paper_received = True
            if m.status == CaseMaterial.Status.MISSING:
                m.status = CaseMaterial.Status.PROVIDED
            m.save(update_fields=["paper_received", "status"])
    now = timezone.now()
    _assign_number(case)
    case.state, case.submitted_at = new, now
    _receive(case, now)
    _save(
        case,
        "state",
        "number",
        "submitted_at",
        "received_at",
        "deemed_acceptance_on",
        "deemed_accepted",
        "window",
        "intake_region_code",
        "form_data",
    )
    _record(
        case,
        A.WINDOW_RECEIVE,
        actor=actor,
        before=before,
        note=note or "窗口收件",
        data={"window_id": window_id, "paper": sorted(ticks)},
    )
    _receipt(case, how="在窗口")
    notify.to_applicant(case, title="窗口已收件", body=f"办件编号 {case.number}。")
    return case


@action
def case_pretrial(*, actor: Any, case_id: int, outcome: str, reason: str = "") -> Case:
    """预审 — pass (to 待受理), return for changes (to the applicant's draft) or reject, with reasons."""
    acts = {"pass": A.PRETRIAL_PASS, "return": A.PRETRIAL_RETURN, "reject": A.PRETRIAL_REJECT}
    if outcome not in acts:
        raise ValidationFailed("预审结果应为 pass、return 或 reject。", code="invalid_outcome")
    case = _get_locked(actor, case_id)
    before, act = case.state, acts[outcome]
    new = _check(actor, case, act)
    if act is not A.PRETRIAL_PASS:
        reason = _require_text(reason, "reason", "请填写退回或不通过的理由。")
    now = timezone.now()
    case.state = new
    fields = ["state"]
    if act is A.PRETRIAL_PASS:
        _receive(case, now)
        fields += ["received_at", "deemed_acceptance_on", "deemed_accepted"]
    else:
        case.return_note = reason
        fields.append("return_note")
        if act is A.PRETRIAL_REJECT:
            case.closed_at = now
            fields.append("closed_at")
    _save(case, *fields)
    _record(case, act, actor=actor, before=before, note=reason or "预审通过")
    if act is A.PRETRIAL_PASS:
        _receipt(case, how="通过网上申报")
        notify.to_applicant(case, title="预审通过", body="申请已收件，等待受理。")
    elif act is A.PRETRIAL_RETURN:
        notify.to_applicant(case, title="申请被退回修改", body=reason)
    else:
        notify.to_applicant(case, title="预审未通过", body=reason)
    return case


# --- acceptance (§32) ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deficiency:
    """一次性告知的一项: a material (by index) or another point (by name), with what is wrong."""

    reason: str
    material_index: int | None = None
    name: str = ""


def _mark_deficiencies(case: Case, items: Sequence[Deficiency]) -> list[list[str]]:
    if not items:
        raise ValidationFailed("请列出需要补正的全部内容。", code="supplement_items_required")
    rows = []
    materials = {m.index: m for m in case.materials.all()}
    seen: set[int] = set()
    for n, item in enumerate(items, 1):
        reason = _require_text(item.reason, "reason", "请写明每项补正的要求。", max_length=1000)
        if item.material_index is not None:
            material = materials.get(item.material_index)
            if material is None:
                raise ValidationFailed(
                    "材料序号不存在。", code="material_not_found", details={"material_index": item.material_index}
                )
            if item.material_index in seen:
                raise ValidationFailed("同一材料只能列一次。", code="supplement_duplicate")
            seen.add(item.material_index)
            material.status, material.note = CaseMaterial.Status.REQUESTED, reason
            material.save(update_fields=["status", "note"])
            rows.append([str(n), material.name, reason])
        else:
            name = _require_text(item.name, "name", "请写明需要补正的事项。", max_length=300)
            rows.append([str(n), name, reason])
    return rows


@action
def case_request_supplement(*, actor: Any, case_id: int, items: Sequence[Deficiency], note: str = "") -> Case:
    """一次性告知补正 — ONE notice listing every missing or non-conforming material with the reason."""
    case = _get_locked(actor, case_id)
    before = case.state
    new = _check(actor, case, A.REQUEST_SUPPLEMENT)
    if case.deemed_accepted:
        raise Conflict(
            "收件已超过5个工作日未告知，依法视为受理，不能再发补正告知。",
            code="supplement_notice_too_late",
        )
    rows = _mark_deficiencies(case, items)
    case.state = new
    case.supplement_round += 1
    _save(case, "state", "supplement_round")
    _record(
        case,
        A.REQUEST_SUPPLEMENT,
        actor=actor,
        before=before,
        note=note,
        data={"items": [{"name": r[1], "reason": r[2]} for r in rows], "round": case.supplement_round},
    )
    documents.issue(
        case,
        CaseDocument.Kind.SUPPLEMENT,
        paragraphs=[
            "经审查，您提交的申请材料不齐全或者不符合法定形式。根据《中华人民共和国行政许可法》第三十二条，"
            "现一次性告知您需要补正的全部内容如下：",
            *([note] if note else []),
            "请补正后通过网上办事平台或到任一综合窗口重新提交。",
        ],
        table_header=["序号", "材料/事项", "补正要求"],
        table_rows=rows,
    )
    notify.to_applicant(case, title="请补正材料", body="；".join(f"{r[1]}：{r[2]}" for r in rows))
    return case


@action
def case_resubmit(*, actor: Any, case_id: int, note: str = "", paper_indexes: Iterable[int] = ()) -> Case:
    """补正后重新提交 — online by the applicant or at a window by a clerk (ticking paper documents)."""
    case = _get_locked(actor, case_id)
    before = case.state
    new = _check(actor, case, A.RESUBMIT)
    ticks = set(paper_indexes)
    if ticks and not rules.parties(actor, case) & {Party.CLERK}:
        raise PermissionDenied("只有窗口人员可以确认收到纸质材料。", code="paper_by_clerk_only")
    still = []
    for m in case.materials.all():
        if m.index in ticks:
            m.paper_received, m.status = True, CaseMaterial.Status.PROVIDED
            m.save(update_fields=["paper_received", "status"])
        if m.status == CaseMaterial.Status.REQUESTED:
            still.append(m)
    if still:
        raise ValidationFailed(
            "以下材料尚未补正：" + "、".join(m.name for m in still),
            code="materials_missing",
            details=[{"material_index": m.index, "name": m.name} for m in still],
        )
    now = timezone.now()
    case.state = new
    fields = ["state"]
    if before == State.SUPPLEMENT:
        _receive(case, now)  # receipt of the completed materials restarts the 5-day clock
        fields += ["received_at", "deemed_acceptance_on", "deemed_accepted"]
    else:  # back in the review: the clock runs again
        CasePause.objects.filter(case=case, end__isnull=True).update(
            end=max(clock.today(), _open_start(case)), ended_at=now
        )
        refresh_deadlines(case)
        fields += list(DEADLINE_FIELDS)
    _save(case, *fields)
    _record(case, A.RESUBMIT, actor=actor, before=before, note=note or "已补正")
    notify.to_applicant(case, title="补正材料已提交", body="")
    return case


def _open_start(case: Case) -> dt.date:
    return (
        CasePause.objects.filter(case=case, end__isnull=True).values_list("start", flat=True).first() or clock.today()
    )


def _start_steps(case: Case, actor: Any, now: dt.datetime, note: str) -> None:
    steps = steps_of(case.version)
    accept_at = next(i for i, s in enumerate(steps) if s["kind"] == StepKind.ACCEPT)
    CaseStep.objects.create(
        case=case,
        index=accept_at,
        kind=StepKind.ACCEPT,
        name=steps[accept_at]["name"],
        handler=_user(actor),
        handler_label=_label(actor),
        opinion=note or "材料齐全，符合法定形式，予以受理。",
        started_at=case.received_at or now,
        finished_at=now,
    )
    nxt = accept_at + 1
    case.current_step = nxt
    if nxt < len(steps):
        CaseStep.objects.create(case=case, index=nxt, kind=steps[nxt]["kind"], name=steps[nxt]["name"], started_at=now)


@action
def case_accept(
    *,
    actor: Any,
    case_id: int,
    note: str = "",
    gap_signer_name: str = "",
    gap_due_date: dt.date | None = None,
    gap_consequence: str | None = None,
) -> Case:
    """受理 — materials complete and conforming: issue the 受理通知书; the decision clock starts.

    Only materials marked 容缺后补 may be missing (``materials_missing`` otherwise), and only on the
    applicant's 容缺受理信用承诺书: signed online beforehand, or now at the window (``gap_signer_name``);
    the commitment gets its due date (``gap_due_date``, default ``CASE_GAP_DUE_WORKDAYS`` working days),
    consequence and generated document in this same action (``gap_commitment_required`` without one).
    """
    from . import gaps

    case = _get_locked(actor, case_id)
    before = case.state
    new = _check(actor, case, A.ACCEPT)
    missing = missing_materials(case, online=False)
    if missing:
        raise ValidationFailed(
            "必要材料不齐全，请先一次性告知补正：" + "、".join(m.name for m in missing),
            code="materials_missing",
            details=[{"material_index": m.index, "name": m.name} for m in missing],
        )
    commitment = gaps.gap_commitment_for_accept(
        case=case, signer_name=gap_signer_name, due_date=gap_due_date, consequence=gap_consequence
    )
    if commitment is not None:  # the 容缺后补 materials it covers are now deferred, not missing
        CaseMaterial.objects.filter(case=case, index__in=[i["index"] for i in commitment.items]).update(
            status=CaseMaterial.Status.DEFERRED
        )
    now = timezone.now()
    version = case.version
    case.state, case.accepted_at = new, now
    # §32(4): a case deemed accepted counts from the day its materials were received.
    received_on = timezone.localdate(case.received_at) if case.received_at else clock.today()
    case.accepted_on = received_on if case.deemed_accepted else clock.today()
    case.promised_limit, case.promised_unit = version.promised_limit, version.promised_limit_unit
    case.legal_limit, case.legal_unit = version.legal_limit, version.legal_limit_unit
    _start_steps(case, actor, now, note)
    refresh_deadlines(case)
    _save(
        case,
        "state",
        "accepted_at",
        "accepted_on",
        "promised_limit",
        "promised_unit",
        "legal_limit",
        "legal_unit",
        "current_step",
        *DEADLINE_FIELDS,
    )
    _record(
        case,
        A.ACCEPT,
        actor=actor,
        before=before,
        note=note or "予以受理",
        data={"promised_due": case.promised_due, "legal_due": case.legal_due, "deemed": case.deemed_accepted},
    )
    fields = [("受理时间", documents._time_text(now))]
    if case.promised_due:
        fields.append(("承诺办结日期", f"{case.promised_due:%Y年%m月%d日}".replace("年0", "年").replace("月0", "月")))
    if case.legal_due:
        fields.append(("法定办结日期", f"{case.legal_due:%Y年%m月%d日}".replace("年0", "年").replace("月0", "月")))
    documents.issue(
        case,
        CaseDocument.Kind.ACCEPT,
        paragraphs=["您提交的申请材料齐全、符合法定形式，根据《中华人民共和国行政许可法》第三十二条，决定予以受理。"],
        fields=fields,
    )
    due = f"，承诺于{case.promised_due:%Y-%m-%d}前办结" if case.promised_due else ""
    notify.to_applicant(case, title="申请已受理", body=f"办件编号 {case.number}{due}。")
    if commitment is not None:
        gaps.gap_accepted(case=case, commitment=commitment, actor=actor)
    return case


@action
def case_not_accept(*, actor: Any, case_id: int, reason: str, referral: str = "") -> Case:
    """不予受理 — with the reason and, when the matter belongs elsewhere, where to apply."""
    case = _get_locked(actor, case_id)
    before = case.state
    new = _check(actor, case, A.NOT_ACCEPT)
    reason = _require_text(reason, "reason", "请填写不予受理的理由。")
    now = timezone.now()
    case.state, case.closed_at, case.return_note = new, now, reason
    _save(case, "state", "closed_at", "return_note")
    _record(case, A.NOT_ACCEPT, actor=actor, before=before, note=reason, data={"referral": referral})
    paragraphs = [f"经审查，您的申请不予受理。理由：{reason}"]
    if referral:
        paragraphs.append(f"请向{referral}申请。")
    paragraphs.append("如不服本决定，可以依法申请行政复议或者提起行政诉讼。")
    documents.issue(case, CaseDocument.Kind.NOT_ACCEPT, paragraphs=paragraphs)
    notify.to_applicant(case, title="申请不予受理", body=reason)
    return case


@action
def cases_flag_deemed_accepted(*, actor: Any, on: dt.date | None = None) -> int:
    """§32(4): flag every received case left without notice or decision past its 5th working day."""
    if not getattr(actor, "is_system", False):
        raise PermissionDenied("只有系统定时任务可以标记视为受理。", code="system_only")
    on = on or clock.today()
    ids = list(
        Case.objects.filter(state=State.RECEIVED, deemed_accepted=False, deemed_acceptance_on__lt=on).values_list(
            "pk", flat=True
        )
    )
    for case_id in ids:
        case = lock(_case_qs().filter(pk=case_id))
        if case.deemed_accepted or case.state != State.RECEIVED:
            continue
        _check(actor, case, A.FLAG_DEEMED_ACCEPTED)
        case.deemed_accepted = True
        _save(case, "deemed_accepted")
        _record(
            case,
            A.FLAG_DEEMED_ACCEPTED,
            actor=actor,
            before=case.state,
            note="收件后5个工作日内未告知补正或作出决定，依法视为受理。",
        )
    return len(ids)


# --- back office ----------------------------------------------------------------------------------------


def _open_step(case: Case) -> CaseStep | None:
    return CaseStep.objects.filter(case=case, finished_at__isnull=True).order_by("-index").first()


def _advance(case: Case, actor: Any, opinion: str, now: dt.datetime, *, kinds: Sequence[str] | None = None) -> None:
    """Finish the open step and open the next one."""
    steps = steps_of(case.version)
    step = _open_step(case)
    if step is not None:
        step.handler, step.handler_label, step.opinion, step.finished_at = _user(actor), _label(actor), opinion, now
        step.save(update_fields=["handler", "handler_label", "opinion", "finished_at"])
    nxt = (step.index if step is not None else case.current_step - 1) + 1
    case.current_step = nxt
    if nxt < len(steps) and (kinds is None or steps[nxt]["kind"] in kinds):
        CaseStep.objects.create(case=case, index=nxt, kind=steps[nxt]["kind"], name=steps[nxt]["name"], started_at=now)


@action
def case_complete_step(*, actor: Any, case_id: int, opinion: str) -> Case:
    """办理环节 — the handler signs the current review step with an opinion; the next step opens."""
    case = _get_locked(actor, case_id)
    before = case.state
    _check(actor, case, A.COMPLETE_STEP)
    opinion = _require_text(opinion, "opinion", "请填写办理意见。")
    step = _open_step(case)
    if step is None or step.kind in (StepKind.DECIDE, StepKind.CERTIFY, StepKind.DELIVER):
        raise Conflict("审查环节已完成，请作出审批决定。", code="decision_due", details={"step": step and step.name})
    now = timezone.now()
    name = step.name
    _advance(case, actor, opinion, now)
    case.handler = _user(actor)
    _save(case, "current_step", "handler")
    _record(case, A.COMPLETE_STEP, actor=actor, before=before, note=f"{name}：{opinion}", data={"step": name})
    return case


def _pause(case: Case, kind: str, **fields: Any) -> CasePause:
    if CasePause.objects.filter(case=case, end__isnull=True).exists():
        raise Conflict("计时已暂停。", code="clock_already_stopped")
    return CasePause.objects.create(case=case, kind=kind, start=clock.today(), **fields)


@action
def case_return_for_supplement(*, actor: Any, case_id: int, items: Sequence[Deficiency], note: str = "") -> Case:
    """审查中退回补正 — the applicant must supply more; the decision clock stops until they do."""
    case = _get_locked(actor, case_id)
    before = case.state
    new = _check(actor, case, A.RETURN_FOR_SUPPLEMENT)
    rows = _mark_deficiencies(case, items)
    _pause(case, CasePause.Kind.SUPPLEMENT, reason=note[:2000])
    case.state = new
    case.supplement_round += 1
    refresh_deadlines(case)
    _save(case, "state", "supplement_round", *DEADLINE_FIELDS)
    _record(
        case,
        A.RETURN_FOR_SUPPLEMENT,
        actor=actor,
        before=before,
        note=note,
        data={"items": [{"name": r[1], "reason": r[2]} for r in rows]},
    )
    documents.issue(
        case,
        CaseDocument.Kind.SUPPLEMENT,
        paragraphs=["经审查，需要您补正下列内容。补正期间不计入办理时限。", *([note] if note else [])],
        table_header=["序号", "材料/事项", "补正要求"],
        table_rows=rows,
    )
    notify.to_applicant(case, title="请补正材料（审查中）", body="；".join(f"{r[1]}：{r[2]}" for r in rows))
    return case


@action
def case_start_special(*, actor: Any, case_id: int, special_type: str, reason: str, time_limit_days: int) -> Case:
    """特别程序 — hearing, testing, expert review …: the clock stops; the applicant is told in writing."""
    case = _get_locked(actor, case_id)
    before = case.state
    new = _check(actor, case, A.START_SPECIAL)
    if special_type not in SPECIAL_TYPES:
        raise ValidationFailed("特别程序种类不正确。", code="special_type_invalid", details={"allowed": SPECIAL_TYPES})
    reason = _require_text(reason, "reason", "请填写启动特别程序的理由或依据。")
    if not (1 <= int(time_limit_days) <= 365):
        raise ValidationFailed("特别程序时限应为1至365个工作日。", code="special_limit_invalid")
    pause = _pause(
        case, CasePause.Kind.SPECIAL, special_type=special_type, reason=reason, time_limit_days=int(time_limit_days)
    )
    case.state = new
    refresh_deadlines(case)
    _save(case, "state", *DEADLINE_FIELDS)
    special_due = get_calendar(case.region_code).add(pause.start, int(time_limit_days)).date
    _record(
        case,
        A.START_SPECIAL,
        actor=actor,
        before=before,
        note=f"{special_type}：{reason}",
        data={"type": special_type, "limit": int(time_limit_days), "due": special_due},
    )
    documents.issue(
        case,
        CaseDocument.Kind.SPECIAL,
        paragraphs=[
            f"您申请的事项需要进行{special_type}，根据《中华人民共和国行政许可法》第四十五条，所需时间不计入办理期限。",
            f"理由或依据：{reason}",
        ],
        fields=[("特别程序", special_type), ("预计期限", f"{time_limit_days}个工作日（至{special_due:%Y-%m-%d}）")],
    )
    notify.to_applicant(
        case, title=f"进入特别程序（{special_type}）", body=f"期间不计入办理时限，预计至{special_due:%Y-%m-%d}。"
    )
    return case


@action
def case_end_special(*, actor: Any, case_id: int, result: str) -> Case:
    """结束特别程序 — the clock runs again from today."""
    case = _get_locked(actor, case_id)
    before = case.state
    new = _check(actor, case, A.END_SPECIAL)
    result = _require_text(result, "result", "请填写特别程序的结果。")
    pause = CasePause.objects.filter(case=case, end__isnull=True).first()
    if pause is not None:
        pause.end, pause.ended_at, pause.result = max(clock.today(), pause.start), timezone.now(), result
        pause.save(update_fields=["end", "ended_at", "result"])
    case.state = new
    refresh_deadlines(case)
    _save(case, "state", *DEADLINE_FIELDS)
    _record(case, A.END_SPECIAL, actor=actor, before=before, note=result)
    notify.to_applicant(case, title="特别程序已结束", body=f"恢复计时，承诺办结日 {case.promised_due or '—'}。")
    return case


def extension_max_days() -> int:
    return int(getattr(settings, "CASE_EXTENSION_MAX_DAYS", 10))


@action
def case_request_extension(*, actor: Any, case_id: int, days: int, reason: str) -> CaseExtension:
    """申请延期 — by the handler, within the legal maximum (§42: 10 more days), for the head to approve."""
    case = _get_locked(actor, case_id)
    before = case.state
    _check(actor, case, A.REQUEST_EXTENSION)
    reason = _require_text(reason, "reason", "请填写延期理由。")
    days = int(days)
    if days < 1:
        raise ValidationFailed("延期天数至少为1天。", code="extension_days_invalid")
    if case.extensions.filter(status=CaseExtension.Status.PENDING).exists():
        raise Conflict("已有待审批的延期申请。", code="extension_pending")
    limit = extension_max_days()
    if case.extension_days + days > limit:
        raise ValidationFailed(
            f"延期累计不能超过法定上限{limit}天（已延期{case.extension_days}天）。",
            code="extension_exceeds_limit",
            details={"max_days": limit, "already": case.extension_days},
        )
    ext = CaseExtension.objects.create(case=case, days=days, reason=reason, requested_by=actor)
    _save(case)
    _record(
        case,
        A.REQUEST_EXTENSION,
        actor=actor,
        before=before,
        note=f"申请延期{days}天：{reason}",
        data={"days": days},
        public=False,
    )
    from .selectors import department_heads

    for head in department_heads(case):
        notify.to_user(head, case=case, title=f"延期待审批：{case.number}", body=f"{days}天，{reason}")
    return ext


@action
def case_decide_extension(*, actor: Any, case_id: int, approve: bool, note: str = "") -> CaseExtension:
    """审批延期 — the department head approves (the deadlines move, the applicant is told) or refuses."""
    case = _get_locked(actor, case_id)
    before = case.state
    act = A.APPROVE_EXTENSION if approve else A.REJECT_EXTENSION
    _check(actor, case, act)
    ext = case.extensions.filter(status=CaseExtension.Status.PENDING).first()
    if ext is None:
        raise NotFound("没有待审批的延期申请。", code="no_pending_extension")
    if ext.requested_by_id == getattr(actor, "pk", None):
        raise PermissionDenied("不能审批本人提出的延期申请。", code="own_extension")
    now = timezone.now()
    ext.status = CaseExtension.Status.APPROVED if approve else CaseExtension.Status.REJECTED
    ext.decided_by, ext.decided_at, ext.decision_note = _user(actor), now, note[:2000]
    ext.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    if approve:
        if case.extension_days + ext.days > extension_max_days():
            raise ValidationFailed("延期累计超过法定上限。", code="extension_exceeds_limit")
        case.extension_days += ext.days
        refresh_deadlines(case)
        _save(case, "extension_days", *DEADLINE_FIELDS)
        _record(
            case,
            act,
            actor=actor,
            before=before,
            note=f"批准延期{ext.days}天",
            data={"days": ext.days, "promised_due": case.promised_due, "legal_due": case.legal_due},
        )
        documents.issue(
            case,
            CaseDocument.Kind.EXTENSION,
            paragraphs=[f"因{ext.reason}，经本机关负责人批准，您申请事项的办理期限延长{ext.days}日，理由已告知。"],
            fields=[
                ("延长后承诺办结日期", f"{case.promised_due:%Y-%m-%d}" if case.promised_due else "—"),
                ("延长后法定办结日期", f"{case.legal_due:%Y-%m-%d}" if case.legal_due else "—"),
            ],
        )
        notify.to_applicant(case, title="办理期限已延长", body=f"延长{ext.days}天：{ext.reason}")
    else:
        _save(case)
        _record(case, act, actor=actor, before=before, note=f"不批准延期：{note}", public=False)
        notify.to_user(ext.requested_by, case=case, title=f"延期申请未获批准：{case.number}", body=note)
    return ext


@action
def case_decide(*, actor: Any, case_id: int, approve: bool, opinion: str) -> Case:
    """审批决定 — 准予许可 or 不予许可 (with reasons and the remedies); a result document is issued."""
    case = _get_locked(actor, case_id)
    before = case.state
    act = A.DECIDE_APPROVE if approve else A.DECIDE_REJECT
    new = _check(actor, case, act)
    opinion = _require_text(opinion, "opinion", "请填写审批意见。" if approve else "请写明不予许可的理由。")
    step = _open_step(case)
    if step is not None and step.kind not in (StepKind.DECIDE, StepKind.CERTIFY, StepKind.DELIVER):
        raise Conflict(f"请先完成「{step.name}」环节。", code="steps_pending", details={"step": step.name})
    now = timezone.now()
    _advance(case, actor, opinion, now, kinds=())  # later steps (制证/送达) are recorded on completion
    case.state, case.decided_at = new, now
    case.decision = Case.Decision.APPROVED if approve else Case.Decision.REJECTED
    case.decision_reason, case.handler = opinion, _user(actor)
    if approve:
        case.delivery_due = dl.delivery_due(get_calendar(case.region_code), clock.today())
    case.extensions.filter(status=CaseExtension.Status.PENDING).update(
        status=CaseExtension.Status.REJECTED, decided_at=now, decision_note="已作出决定"
    )
    _save(case, "state", "decided_at", "decision", "decision_reason", "handler", "current_step", "delivery_due")
    _record(case, act, actor=actor, before=before, note=opinion)
    if approve:
        result = elements(case.version).result.name or case.item_name
        documents.issue(
            case,
            CaseDocument.Kind.APPROVE,
            paragraphs=[
                f"经审查，您的申请符合法定条件、标准，决定准予行政许可。审批结果：{result}。",
                f"审批意见：{opinion}",
            ],
            fields=[
                ("决定日期", documents._time_text(now)),
                ("出件期限", f"{case.delivery_due:%Y-%m-%d}" if case.delivery_due else "—"),
            ],
        )
        notify.to_applicant(case, title="准予许可", body=f"{result}，将在{case.delivery_due:%Y-%m-%d}前出件。")
    else:
        documents.issue(
            case,
            CaseDocument.Kind.REJECT,
            paragraphs=[
                f"经审查，您的申请不符合法定条件，决定不予行政许可。理由：{opinion}",
                "如不服本决定，可以自收到本决定书之日起六十日内依法申请行政复议，或者六个月内依法提起行政诉讼。",
            ],
        )
        notify.to_applicant(case, title="不予许可", body=opinion)
    return case


@action
def case_complete(*, actor: Any, case_id: int, delivery: str = Case.Delivery.WINDOW, note: str = "") -> Case:
    """出件办结 — the result is handed over (window / post / electronic); the case is completed."""
    case = _get_locked(actor, case_id)
    before = case.state
    new = _check(actor, case, A.COMPLETE)
    if delivery not in Case.Delivery.values:
        raise ValidationFailed("送达方式不正确。", code="delivery_invalid", details={"allowed": Case.Delivery.values})
    now = timezone.now()
    steps = steps_of(case.version)
    for i in range(case.current_step, len(steps)):
        CaseStep.objects.create(
            case=case,
            index=i,
            kind=steps[i]["kind"],
            name=steps[i]["name"],
            handler=_user(actor),
            handler_label=_label(actor),
            opinion=note or "已出件",
            started_at=now,
            finished_at=now,
        )
    case.current_step = len(steps)
    case.state, case.completed_at, case.delivery = new, now, delivery
    _save(case, "state", "completed_at", "delivery", "current_step")
    _record(
        case,
        A.COMPLETE,
        actor=actor,
        before=before,
        note=note or Case.Delivery(delivery).label,
        data={"delivery": delivery},
    )
    documents.issue(
        case,
        CaseDocument.Kind.COMPLETION,
        paragraphs=[
            f"您申请的事项已办结（{case.get_decision_display()}），结果已通过{Case.Delivery(delivery).label}。"
        ],
        fields=[("办结时间", documents._time_text(now))],
    )
    notify.to_applicant(case, title="办件已办结", body=f"结果{Case.Delivery(delivery).label}。欢迎对本次服务作出评价。")
    events.send_case_completed(case)  # after commit; a bundle's children are rated once, with the bundle
    return case


@action
def case_withdraw(*, actor: Any, case_id: int, reason: str = "") -> Case:
    """撤回 — the applicant withdraws before the decision."""
    case = _get_locked(actor, case_id)
    before = case.state
    new = _check(actor, case, A.WITHDRAW)
    now = timezone.now()
    CasePause.objects.filter(case=case, end__isnull=True).update(end=clock.today(), ended_at=now)
    case.extensions.filter(status=CaseExtension.Status.PENDING).update(
        status=CaseExtension.Status.REJECTED, decided_at=now, decision_note="申请人已撤回"
    )
    case.state, case.closed_at, case.return_note = new, now, (reason or "")[:2000]
    _save(case, "state", "closed_at", "return_note")
    _record(case, A.WITHDRAW, actor=actor, before=before, note=reason or "申请人撤回")
    notify.to_applicant(case, title="申请已撤回", body=reason)
    return case


# --- supervision (督办) ----------------------------------------------------------------------------------


@action
def case_supervise(
    *, actor: Any, case_id: int, note: str, feedback_due: dt.date, target_id: int | None = None
) -> Supervision:
    """督办 — a supervisor tells the handling staff to act and to report back by ``feedback_due``."""
    case = _get_locked(actor, case_id)
    before = case.state
    _check(actor, case, A.SUPERVISE)
    note = _require_text(note, "note", "请填写督办意见。")
    if feedback_due < clock.today():
        raise ValidationFailed("反馈期限不能早于今天。", code="feedback_due_invalid")
    target = None
    if target_id is not None:
        target = User.objects.filter(pk=target_id, is_active=True).first()
        if target is None or not policy.allows(target, "case.view", case):
            raise ValidationFailed("督办对象无权办理此件。", code="supervision_target_invalid")
    supervision = Supervision.objects.create(
        case=case, supervisor=actor, target=target or case.handler, note=note, feedback_due=feedback_due
    )
    _save(case)
    _record(
        case,
        A.SUPERVISE,
        actor=actor,
        before=before,
        note=note,
        data={"feedback_due": feedback_due, "supervision_id": supervision.pk},
        public=False,
    )
    from .selectors import back_office_staff

    recipients = [supervision.target] if supervision.target else back_office_staff(case)
    for user in recipients:
        notify.to_user(
            user, case=case, title=f"督办：{case.number}", body=f"{note}（请于{feedback_due:%Y-%m-%d}前反馈）"
        )
    return supervision


@action
def case_supervision_feedback(*, actor: Any, supervision_id: int, feedback: str) -> Supervision:
    """督办反馈 — the handling staff answer the supervision notice."""
    supervision = Supervision.objects.select_related("case").filter(pk=supervision_id).first()
    if supervision is None:
        raise NotFound("督办记录不存在。", code="supervision_not_found")
    case = _get_locked(actor, supervision.case_id)
    before = case.state
    _check(actor, case, A.SUPERVISE_FEEDBACK)
    supervision = lock(Supervision.objects.filter(pk=supervision_id))
    if supervision.feedback_at is not None:
        raise Conflict("该督办已反馈。", code="supervision_answered")
    supervision.feedback = _require_text(feedback, "feedback", "请填写反馈内容。")
    supervision.feedback_by, supervision.feedback_at = actor, timezone.now()
    supervision.save(update_fields=["feedback", "feedback_by", "feedback_at"])
    _save(case)
    _record(case, A.SUPERVISE_FEEDBACK, actor=actor, before=before, note=supervision.feedback, public=False)
    notify.to_user(supervision.supervisor, case=case, title=f"督办已反馈：{case.number}", body=supervision.feedback)
    return supervision


# --- messages ------------------------------------------------------------------------------------------


def messages_mark_read(*, actor: Any, message_ids: Iterable[int] | None = None) -> int:
    from .models import Message

    qs = Message.objects.filter(user_id=actor.pk, read_at__isnull=True)
    if message_ids is not None:
        qs = qs.filter(pk__in=list(message_ids))
    return qs.update(read_at=timezone.now())


def stored_file_for(*, actor: Any, file_id: str) -> StoredFile:
    """A stored file the actor may read (else ``file_not_found``, never saying whether it exists)."""
    stored = StoredFile.objects.select_related("attachment__case").filter(pk=file_id).first()
    if stored is None or not policy.allows(actor, "cases.file.view", stored):
        raise NotFound("文件不存在或您无权查看。", code="file_not_found")
    return stored


def last_event_at(case: Case) -> dt.datetime | None:
    return case.events.aggregate(t=Max("at"))["t"]

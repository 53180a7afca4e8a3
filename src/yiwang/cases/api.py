"""API: cases (办件) — applications, the staff actions, queues, timeline, documents, files and messages.

Every write calls one action in ``services``; errors come back as ``{"code", "message", "details"}``
(``case_not_found`` 404 for a case the caller may not see, ``invalid_transition`` 409 when the state does
not allow the action, e.g. a colleague was faster, ``materials_missing`` / ``form_invalid`` 422 …).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

from django.http import FileResponse, HttpResponse
from ninja import File, Form, Header, Query, Router, Schema, Status, UploadedFile
from ninja import Path as PathParam
from pydantic import Field

from yiwang.core.api import DbId, PageQuery, page, with_errors
from yiwang.core.errors import ValidationFailed

from . import clock, documents, events, selectors, services, uploads
from . import deadlines as dl
from .models import Case, CaseDocument, CaseMaterial
from .selectors import QUEUE_KEYS

router = Router(tags=["办件 cases"])
MAX_ID = 2**62
CaseId = PathParam(..., ge=1, le=MAX_ID, description="办件ID")
IDEMPOTENCY = Header(
    None,
    alias="Idempotency-Key",
    min_length=8,
    max_length=100,
    description="幂等键：同一键重复提交只办一次（8–100位字母、数字或 _ . : -）",
)


# --- schemas ----------------------------------------------------------------------------------------------


class CaseFileOut(Schema):
    id: str
    name: str
    kind: str
    size: int
    sha256: str
    url: str


class CaseMaterialOut(Schema):
    index: int
    name: str
    necessity: str
    format: str
    status: str
    status_label: str
    paper_received: bool
    note: str
    files: list[CaseFileOut]


class CaseStepOut(Schema):
    index: int
    name: str
    kind: str
    handler: str
    opinion: str
    started_at: dt.datetime
    finished_at: dt.datetime | None


class CasePauseOut(Schema):
    kind: str
    special_type: str
    reason: str
    start: dt.date
    end: dt.date | None
    time_limit_days: int | None
    result: str


class CaseExtensionOut(Schema):
    id: int
    days: int
    reason: str
    status: str
    requested_at: dt.datetime
    decided_at: dt.datetime | None
    decision_note: str


class CaseDocumentOut(Schema):
    number: str
    kind: str
    title: str
    issued_at: dt.datetime
    pdf_url: str


class CaseSupervisionOut(Schema):
    id: int
    note: str
    feedback_due: dt.date
    created_at: dt.datetime
    feedback: str
    feedback_at: dt.datetime | None


class CaseOut(Schema):
    id: int
    number: str | None
    item_code: str
    item_name: str
    version: int
    department: str
    region_code: str
    state: str
    state_label: str
    channel: str
    applicant_name: str
    applicant_id_masked: str
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    received_at: dt.datetime | None
    accepted_at: dt.datetime | None
    decided_at: dt.datetime | None
    completed_at: dt.datetime | None
    closed_at: dt.datetime | None
    decision: str
    promised_due: dt.date | None = Field(description="承诺办结日")
    legal_due: dt.date | None = Field(description="法定办结日")
    deadlines_provisional: bool = Field(description="时限依赖尚未公布的节假日安排，公布后自动重算")
    warning_level: int = Field(description="0 正常 / 1 即将超期 / 2 已超期")
    extension_days: int
    deemed_acceptance_on: dt.date | None
    deemed_accepted: bool


class CaseDetailOut(CaseOut):
    form_data: dict[str, Any]
    contact_name: str
    return_note: str
    decision_reason: str
    delivery: str
    delivery_due: dt.date | None
    materials: list[CaseMaterialOut]
    steps: list[CaseStepOut]
    pauses: list[CasePauseOut]
    extensions: list[CaseExtensionOut]
    documents: list[CaseDocumentOut]
    supervisions: list[CaseSupervisionOut]
    allowed_actions: list[str]


class CaseEventOut(Schema):
    at: dt.datetime
    action: str
    label: str
    from_state: str
    to_state: str
    actor: str
    note: str


class CaseMessageOut(Schema):
    id: int
    case_id: int | None
    title: str
    body: str
    created_at: dt.datetime
    read_at: dt.datetime | None


class CaseReadOut(Schema):
    count: int


class CaseQueueOut(Schema):
    key: str
    label: str
    count: int


# --- serialisation --------------------------------------------------------------------------------------


def _level(case: Case) -> int:
    if case.state == "in_process" and case.promised_due and case.yellow_on:
        return int(dl.level_on(clock.today(), promised_due=case.promised_due, yellow_on=case.yellow_on))
    return case.warning_level


def case_out(case: Case) -> dict[str, Any]:
    return {
        "id": case.pk,
        "number": case.number,
        "item_code": case.item.code,
        "item_name": case.item_name,
        "version": case.version.number,
        "department": case.department.name,
        "region_code": case.region_code,
        "state": case.state,
        "state_label": case.state_label,
        "channel": case.channel,
        "applicant_name": case.applicant_name,
        "applicant_id_masked": case.applicant_id_masked,
        "created_at": case.created_at,
        "submitted_at": case.submitted_at,
        "received_at": case.received_at,
        "accepted_at": case.accepted_at,
        "decided_at": case.decided_at,
        "completed_at": case.completed_at,
        "closed_at": case.closed_at,
        "decision": case.decision,
        "promised_due": case.promised_due,
        "legal_due": case.legal_due,
        "deadlines_provisional": case.deadlines_provisional,
        "warning_level": _level(case),
        "extension_days": case.extension_days,
        "deemed_acceptance_on": case.deemed_acceptance_on,
        "deemed_accepted": case.deemed_accepted,
    }


def _file_out(stored) -> dict[str, Any]:
    return {
        "id": str(stored.pk),
        "name": stored.original_name,
        "kind": stored.kind,
        "size": stored.size,
        "sha256": stored.sha256,
        "url": f"/api/v1/cases/files/{stored.pk}",
    }


def detail_out(user: Any, case: Case) -> dict[str, Any]:
    files: dict[int, list] = {}
    for attached in case.files.select_related("file").order_by("attached_at"):
        files.setdefault(attached.material_id, []).append(_file_out(attached.file))
    staff_view = bool(selectors.rules.parties(user, case) - {selectors.Party.APPLICANT})
    return {
        **case_out(case),
        "form_data": case.form_data,
        "contact_name": case.contact_name,
        "return_note": case.return_note,
        "decision_reason": case.decision_reason,
        "delivery": case.delivery,
        "delivery_due": case.delivery_due,
        "materials": [
            {
                "index": m.index,
                "name": m.name,
                "necessity": m.necessity,
                "format": m.format,
                "status": m.status,
                "status_label": CaseMaterial.Status(m.status).label,
                "paper_received": m.paper_received,
                "note": m.note,
                "files": files.get(m.pk, []),
            }
            for m in case.materials.order_by("index")
        ],
        "steps": [
            {
                "index": s.index,
                "name": s.name,
                "kind": s.kind,
                "handler": s.handler_label,
                "opinion": s.opinion,
                "started_at": s.started_at,
                "finished_at": s.finished_at,
            }
            for s in case.steps.order_by("index", "started_at")
        ],
        "pauses": list(case.pauses.order_by("start", "id")),
        "extensions": list(case.extensions.order_by("requested_at")) if staff_view else [],
        "documents": [
            {**_doc(d), "pdf_url": f"/api/v1/cases/documents/{d.number}/pdf"}
            for d in selectors.documents_of(user=user, case=case)
        ],
        "supervisions": list(case.supervisions.order_by("created_at")) if staff_view else [],
        "allowed_actions": [a.value for a in selectors.allowed_actions(user=user, case=case)],
    }


def _doc(d: CaseDocument) -> dict[str, Any]:
    return {"number": d.number, "kind": d.kind, "title": d.title, "issued_at": d.issued_at}


def _detail(request, case_id: int) -> dict[str, Any]:
    return detail_out(request.auth, selectors.case_get(user=request.auth, case_id=case_id))


# --- applications -----------------------------------------------------------------------------------------


class CaseDraftIn(Schema):
    item_code: str = Field(..., min_length=1, max_length=64, description="事项实施编码")
    applicant_id: int | None = Field(None, ge=1, le=MAX_ID, description="代办/窗口收件：申请人用户ID")
    form: dict[str, Any] = Field(default_factory=dict, description="申请表（字段名 → 值）")
    contact_name: str = Field("", max_length=100)
    contact_phone: str = Field("", max_length=20)


class CaseDraftPatch(Schema):
    form: dict[str, Any] | None = None
    contact_name: str | None = Field(None, max_length=100)
    contact_phone: str | None = Field(None, max_length=20)


class CaseQuery(PageQuery):
    state: str | None = Field(None, max_length=20)


@router.get("/cases", response=with_errors(list[CaseOut], 401), summary="我的办件 / 可见办件")
def case_list(request, query: Query[CaseQuery]):
    qs = selectors.my_cases(user=request.auth, state=query.state).select_related("item", "version", "department")
    return [case_out(c) for c in page(qs, limit=query.limit, offset=query.offset)]


@router.post("/cases", response=with_errors({201: CaseDetailOut}), summary="新建申请（草稿）")
def case_create(request, payload: CaseDraftIn):
    case = services.case_create_draft(
        actor=request.auth,
        item_code=payload.item_code,
        applicant_id=payload.applicant_id,
        form_data=payload.form,
        contact_name=payload.contact_name,
        contact_phone=payload.contact_phone,
    )
    return Status(201, _detail(request, case.pk))


class CaseApplyForm(Schema):
    item_code: str = Field(..., min_length=1, max_length=64, description="事项实施编码")
    form: str = Field("{}", max_length=65536, description="申请表 JSON")
    materials: str = Field("[]", max_length=2000, description="每个文件的材料序号（JSON 数组）")
    applicant_id: int | None = Field(None, ge=1, le=MAX_ID)
    contact_name: str = Field("", max_length=100)
    contact_phone: str = Field("", max_length=20)


@router.post(
    "/cases/apply",
    response=with_errors({201: CaseOut, 200: CaseOut}, 401, 403, 404, 409, 413),
    summary="一次提交申请（表单 + 材料文件）",
    description=(
        "multipart/form-data：`item_code`、`form`（JSON 文本）、`files`（多个文件）与 `materials`"
        "（JSON 数组，依次给出每个文件所属材料序号）。带 `Idempotency-Key` 时，重试不会产生第二个办件"
        "（返回 200 与首次创建的办件）。返回办件概要，详情见 GET /cases/{id}。"
    ),
)
def case_apply(
    request,
    payload: Form[CaseApplyForm],
    files: File[list[UploadedFile]] = None,
    idempotency_key: str | None = IDEMPOTENCY,
):
    form, materials = payload.form, payload.materials
    try:
        form_data = json.loads(form or "{}")
        indexes = json.loads(materials or "[]")
    except ValueError:
        raise ValidationFailed("form 与 materials 应为 JSON。", code="bad_json") from None
    files = files or []
    if not isinstance(form_data, dict):
        raise ValidationFailed("form 应为 JSON 对象。", code="form_invalid")
    if (
        not isinstance(indexes, list)
        or len(indexes) != len(files)
        or not all(isinstance(i, int) and 0 <= i < 1000 for i in indexes)
    ):
        raise ValidationFailed("materials 应为与文件一一对应的材料序号数组。", code="materials_mapping_invalid")
    if len(files) > services.MAX_FILES_PER_CASE:
        raise ValidationFailed("附件数量过多。", code="too_many_files")
    case, created = services.case_apply(
        actor=request.auth,
        item_code=payload.item_code,
        form_data=form_data,
        files=[services.Upload(i, f.name or "upload", f) for i, f in zip(indexes, files, strict=True)],
        applicant_id=payload.applicant_id,
        contact_name=payload.contact_name,
        contact_phone=payload.contact_phone,
        idempotency_key=idempotency_key,
    )
    return Status(201 if created else 200, case_out(case))


@router.get("/cases/queues", response=with_errors(list[CaseQueueOut], 401, 403), summary="工作台队列与数量")
def queue_counts(request):
    counts = selectors.queue_counts(user=request.auth)
    return [{"key": q.key, "label": q.label, "count": counts[q.key]} for q in selectors.QUEUES]


class CaseQueueQuery(PageQuery):
    region: str | None = Field(None, pattern=r"^\d{2,12}$", description="区划代码前缀")
    after: str | None = Field(
        None,
        pattern=r"^\d{4}-\d{2}-\d{2}\.\d{1,18}$",
        description="游标翻页（在办/即将超期/已超期）：上一页最后一条的“承诺办结日.ID”，如 2026-12-01.1234",
    )


@router.get(
    "/cases/queues/{key}", response=with_errors(list[CaseOut], 401, 403, 404), summary="队列：待预审/待受理/…/已超期"
)
def queue_list(request, key: Literal[tuple(QUEUE_KEYS)], query: Query[CaseQueueQuery]):  # type: ignore[valid-type]
    after = selectors.parse_cursor(query.after) if query.after else None
    qs = selectors.queue(user=request.auth, key=key, region_prefix=query.region, after=after)
    return [case_out(c) for c in page(qs.select_related("item", "version"), limit=query.limit, offset=query.offset)]


@router.get("/cases/messages", response=with_errors(list[CaseMessageOut], 401), summary="站内消息")
def message_list(request, query: Query[PageQuery], unread: bool = False):
    return list(
        page(selectors.messages_for(user=request.auth, unread_only=unread), limit=query.limit, offset=query.offset)
    )


class CaseReadIn(Schema):
    ids: list[DbId] | None = Field(None, max_length=500, description="消息ID；省略则全部标为已读")


@router.post("/cases/messages/read", response=with_errors(CaseReadOut, 401), summary="标记消息已读")
def message_read(request, payload: CaseReadIn):
    return {"count": services.messages_mark_read(actor=request.auth, message_ids=payload.ids)}


@router.get("/cases/files/{file_id}", response=with_errors({200: None}, 401, 404), summary="下载材料文件")
def file_download(request, file_id: str = PathParam(..., pattern=r"^[0-9a-fA-F-]{32,36}$")):
    import uuid

    try:
        uuid.UUID(file_id)
    except ValueError:
        raise ValidationFailed("文件ID不正确。", code="file_id_invalid") from None
    stored = services.stored_file_for(actor=request.auth, file_id=file_id)
    response = FileResponse(uploads.open_file(stored), content_type=stored.content_type)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response


@router.get("/cases/documents/{number}/pdf", response=with_errors({200: None}, 401, 404), summary="文书 PDF")
def document_pdf(request, number: str = PathParam(..., max_length=60, pattern=r"^[0-9A-Z-]+$")):
    doc = selectors.document_get(user=request.auth, number=number)
    response = HttpResponse(documents.ensure_pdf(doc), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{doc.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@router.get("/cases/{case_id}", response=with_errors(CaseDetailOut, 401, 404), summary="办件详情")
def case_detail(request, case_id: int = CaseId):
    return _detail(request, case_id)


@router.get("/cases/{case_id}/timeline", response=with_errors(list[CaseEventOut], 401, 404), summary="办理过程")
def case_timeline(request, case_id: int = CaseId):
    from .states import ACTION_LABELS, Action

    case = selectors.case_get(user=request.auth, case_id=case_id)
    labels = {a.value: ACTION_LABELS[a] for a in Action} | {
        "create": "创建申请",
        "attach": "上传材料",
        "detach": "删除材料",
    }
    return [
        {
            "at": e.at,
            "action": e.action,
            "label": labels.get(e.action) or events.EVENT_LABELS.get(e.action, e.action),
            "from_state": e.from_state,
            "to_state": e.to_state,
            "actor": e.actor_label,
            "note": e.note,
        }
        for e in selectors.timeline(user=request.auth, case=case)
    ]


@router.patch("/cases/{case_id}/draft", response=with_errors(CaseDetailOut), summary="保存草稿")
def case_save(request, payload: CaseDraftPatch, case_id: int = CaseId):
    services.case_save_draft(
        actor=request.auth,
        case_id=case_id,
        form_data=payload.form,
        contact_name=payload.contact_name,
        contact_phone=payload.contact_phone,
    )
    return _detail(request, case_id)


class CaseFileForm(Schema):
    material_index: int = Field(..., ge=0, le=999, description="材料序号")


@router.post(
    "/cases/{case_id}/files", response=with_errors({201: CaseFileOut}, 401, 403, 404, 409, 413), summary="上传材料文件"
)
def case_file_upload(request, payload: Form[CaseFileForm], file: File[UploadedFile], case_id: int = CaseId):
    attached = services.case_attach_file(
        actor=request.auth,
        case_id=case_id,
        material_index=payload.material_index,
        name=file.name or "upload",
        content=file,
    )
    return Status(201, _file_out(attached.file))


@router.delete("/cases/{case_id}/files/{file_id}", response=with_errors(CaseDetailOut), summary="删除材料文件")
def case_file_delete(request, case_id: int = CaseId, file_id: str = PathParam(..., pattern=r"^[0-9a-fA-F-]{32,36}$")):
    import uuid

    try:
        uuid.UUID(file_id)
    except ValueError:
        raise ValidationFailed("文件ID不正确。", code="file_id_invalid") from None
    services.case_detach_file(actor=request.auth, case_id=case_id, file_id=file_id)
    return _detail(request, case_id)


@router.post("/cases/{case_id}/submit", response=with_errors(CaseDetailOut), summary="提交申请")
def case_submit(request, case_id: int = CaseId, idempotency_key: str | None = IDEMPOTENCY):
    services.case_submit(actor=request.auth, case_id=case_id, idempotency_key=idempotency_key)
    return _detail(request, case_id)


class CaseNoteIn(Schema):
    note: str = Field("", max_length=2000)


class CaseResubmitIn(CaseNoteIn):
    paper_indexes: list[int] = Field(default_factory=list, max_length=100, description="窗口：收到的纸质材料序号")


@router.post("/cases/{case_id}/resubmit", response=with_errors(CaseDetailOut), summary="补正后重新提交")
def case_resubmit(request, payload: CaseResubmitIn, case_id: int = CaseId):
    services.case_resubmit(actor=request.auth, case_id=case_id, note=payload.note, paper_indexes=payload.paper_indexes)
    return _detail(request, case_id)


class CaseReasonIn(Schema):
    reason: str = Field("", max_length=2000)


@router.post("/cases/{case_id}/withdraw", response=with_errors(CaseDetailOut), summary="撤回申请")
def case_withdraw(request, payload: CaseReasonIn, case_id: int = CaseId):
    services.case_withdraw(actor=request.auth, case_id=case_id, reason=payload.reason)
    return _detail(request, case_id)


# --- staff actions ----------------------------------------------------------------------------------------


class CaseReceiveIn(CaseNoteIn):
    window_id: int | None = Field(None, ge=1, le=MAX_ID)
    paper_indexes: list[int] = Field(default_factory=list, max_length=100, description="已收纸质材料序号")


@router.post("/cases/{case_id}/receive", response=with_errors(CaseDetailOut), summary="综合窗口收件")
def case_receive(request, payload: CaseReceiveIn, case_id: int = CaseId):
    services.case_window_receive(
        actor=request.auth,
        case_id=case_id,
        window_id=payload.window_id,
        paper_indexes=payload.paper_indexes,
        note=payload.note,
    )
    return _detail(request, case_id)


class CasePretrialIn(Schema):
    outcome: Literal["pass", "return", "reject"]
    reason: str = Field("", max_length=2000)


@router.post("/cases/{case_id}/pretrial", response=with_errors(CaseDetailOut), summary="预审：通过/退回/不通过")
def case_pretrial(request, payload: CasePretrialIn, case_id: int = CaseId):
    services.case_pretrial(actor=request.auth, case_id=case_id, outcome=payload.outcome, reason=payload.reason)
    return _detail(request, case_id)


class CaseDeficiencyIn(Schema):
    material_index: int | None = Field(None, ge=0, le=999, description="材料序号（清单内材料）")
    name: str = Field("", max_length=300, description="清单外事项名称")
    reason: str = Field(..., max_length=1000, description="补正要求")


class CaseSupplementIn(CaseNoteIn):
    items: list[CaseDeficiencyIn] = Field(..., max_length=100, description="需补正的全部内容（一次性告知）")


def _items(payload: CaseSupplementIn) -> list[services.Deficiency]:
    return [services.Deficiency(reason=i.reason, material_index=i.material_index, name=i.name) for i in payload.items]


@router.post("/cases/{case_id}/supplement", response=with_errors(CaseDetailOut), summary="一次性告知补正")
def case_supplement(request, payload: CaseSupplementIn, case_id: int = CaseId):
    services.case_request_supplement(actor=request.auth, case_id=case_id, items=_items(payload), note=payload.note)
    return _detail(request, case_id)


@router.post(
    "/cases/{case_id}/accept",
    response=with_errors(CaseDetailOut),
    summary="受理",
    description=(
        "必要材料缺失时 422 `materials_missing`；“容缺后补”材料缺失而申请人未签署容缺受理信用承诺书时 422 "
        "`gap_commitment_required`（先由申请人 `POST /cases/{id}/gap-pledge` 在线签署，或用 "
        "`POST /cases/{id}/accept-with-gaps` 现场签署）。已在线签署的，受理时确定补齐期限并出具承诺书。"
    ),
)
def case_accept(request, payload: CaseNoteIn, case_id: int = CaseId):
    services.case_accept(actor=request.auth, case_id=case_id, note=payload.note)
    return _detail(request, case_id)


class CaseNotAcceptIn(Schema):
    reason: str = Field(..., max_length=2000)
    referral: str = Field("", max_length=300, description="告知申请人向有关行政机关申请")


@router.post("/cases/{case_id}/not-accept", response=with_errors(CaseDetailOut), summary="不予受理")
def case_not_accept(request, payload: CaseNotAcceptIn, case_id: int = CaseId):
    services.case_not_accept(actor=request.auth, case_id=case_id, reason=payload.reason, referral=payload.referral)
    return _detail(request, case_id)


class CaseOpinionIn(Schema):
    opinion: str = Field(..., max_length=2000)


@router.post("/cases/{case_id}/steps", response=with_errors(CaseDetailOut), summary="办理环节签署意见")
def case_step(request, payload: CaseOpinionIn, case_id: int = CaseId):
    services.case_complete_step(actor=request.auth, case_id=case_id, opinion=payload.opinion)
    return _detail(request, case_id)


@router.post("/cases/{case_id}/return", response=with_errors(CaseDetailOut), summary="审查中退回补正（停止计时）")
def case_return(request, payload: CaseSupplementIn, case_id: int = CaseId):
    services.case_return_for_supplement(actor=request.auth, case_id=case_id, items=_items(payload), note=payload.note)
    return _detail(request, case_id)


class CaseSpecialIn(Schema):
    special_type: Literal[services.SPECIAL_TYPES]  # type: ignore[valid-type]
    reason: str = Field(..., max_length=2000)
    time_limit_days: int = Field(..., ge=1, le=365, description="特别程序时限（工作日）")


@router.post("/cases/{case_id}/special", response=with_errors(CaseDetailOut), summary="启动特别程序（停止计时）")
def case_special(request, payload: CaseSpecialIn, case_id: int = CaseId):
    services.case_start_special(
        actor=request.auth,
        case_id=case_id,
        special_type=payload.special_type,
        reason=payload.reason,
        time_limit_days=payload.time_limit_days,
    )
    return _detail(request, case_id)


class CaseResultIn(Schema):
    result: str = Field(..., max_length=2000)


@router.post("/cases/{case_id}/special/end", response=with_errors(CaseDetailOut), summary="结束特别程序")
def case_special_end(request, payload: CaseResultIn, case_id: int = CaseId):
    services.case_end_special(actor=request.auth, case_id=case_id, result=payload.result)
    return _detail(request, case_id)


class CaseExtensionIn(Schema):
    days: int = Field(..., ge=1, le=60)
    reason: str = Field(..., max_length=2000)


@router.post("/cases/{case_id}/extensions", response=with_errors(CaseDetailOut), summary="申请延期")
def case_extension(request, payload: CaseExtensionIn, case_id: int = CaseId):
    services.case_request_extension(actor=request.auth, case_id=case_id, days=payload.days, reason=payload.reason)
    return _detail(request, case_id)


class CaseExtensionDecisionIn(Schema):
    approve: bool
    note: str = Field("", max_length=2000)


@router.post(
    "/cases/{case_id}/extensions/decision", response=with_errors(CaseDetailOut), summary="审批延期（部门负责人）"
)
def case_extension_decision(request, payload: CaseExtensionDecisionIn, case_id: int = CaseId):
    services.case_decide_extension(actor=request.auth, case_id=case_id, approve=payload.approve, note=payload.note)
    return _detail(request, case_id)


class CaseDecisionIn(Schema):
    approve: bool = Field(..., description="true 准予许可 / false 不予许可")
    opinion: str = Field(..., max_length=2000)


@router.post("/cases/{case_id}/decision", response=with_errors(CaseDetailOut), summary="审批决定")
def case_decision(request, payload: CaseDecisionIn, case_id: int = CaseId):
    services.case_decide(actor=request.auth, case_id=case_id, approve=payload.approve, opinion=payload.opinion)
    return _detail(request, case_id)


class CaseCompleteIn(CaseNoteIn):
    delivery: Literal["window", "post", "online"] = "window"


@router.post("/cases/{case_id}/complete", response=with_errors(CaseDetailOut), summary="出件办结")
def case_complete(request, payload: CaseCompleteIn, case_id: int = CaseId):
    services.case_complete(actor=request.auth, case_id=case_id, delivery=payload.delivery, note=payload.note)
    return _detail(request, case_id)


class CaseSuperviseIn(Schema):
    note: str = Field(..., max_length=2000)
    feedback_due: dt.date
    target_id: int | None = Field(None, ge=1, le=MAX_ID)


@router.post("/cases/{case_id}/supervisions", response=with_errors({201: CaseSupervisionOut}), summary="督办")
def case_supervise(request, payload: CaseSuperviseIn, case_id: int = CaseId):
    sup = services.case_supervise(
        actor=request.auth,
        case_id=case_id,
        note=payload.note,
        feedback_due=payload.feedback_due,
        target_id=payload.target_id,
    )
    return Status(201, sup)


class CaseFeedbackIn(Schema):
    feedback: str = Field(..., max_length=2000)


@router.post(
    "/cases/supervisions/{supervision_id}/feedback", response=with_errors(CaseSupervisionOut), summary="督办反馈"
)
def supervision_feedback(request, payload: CaseFeedbackIn, supervision_id: int = PathParam(..., ge=1, le=MAX_ID)):
    return services.case_supervision_feedback(
        actor=request.auth, supervision_id=supervision_id, feedback=payload.feedback
    )

"""API: 一件事 applications, 容缺/告知承诺, 核查 and 撤销, 帮办代办 authorisations, 出件/送达, 督办 overview.

Every write calls one action (``bundles``, ``gaps``, ``agents``, ``delivery``, ``supervision``); errors come
back as ``{"code", "message", "details"}`` like the rest of the cases API.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Any, Literal

from ninja import File, Form, Query, Router, Schema, Status, UploadedFile
from ninja import Path as PathParam
from pydantic import Field

from yiwang.catalog import selectors as catalog
from yiwang.core.api import PageQuery, page, with_errors
from yiwang.core.errors import NotFound, ValidationFailed
from yiwang.core.permissions import policy

from . import agents, bundles, delivery, gaps, selectors, services, supervision
from .api import IDEMPOTENCY, MAX_ID, CaseId, CaseOut, case_out
from .bundle_flow import CHILD_LABELS, ChildStatus
from .models import BundleCase, BundleChild, Case, Commitment, CreditRecord, Delivery, Verification

router = Router(tags=["一件事与跟进 follow-ups"])
BundleCaseId = PathParam(..., ge=1, le=MAX_ID, description="一件事办件ID")
AnyId = PathParam(..., ge=1, le=MAX_ID)


# --- 一件事 ------------------------------------------------------------------------------------------------


class BundlePlanIn(Schema):
    bundle_code: str = Field(..., min_length=1, max_length=64, pattern=r"^[-a-zA-Z0-9_]+$")
    answers: dict[str, str] = Field(default_factory=dict, description="情形问题 key → 选项")


class MergedMaterialOut(Schema):
    index: int
    name: str
    necessity: str
    format: str
    item_codes: list[str]
    produced_by: str = Field(description="由前序事项办理结果提供（无需提交）")
    required: bool
    commitment: bool = Field(description="可告知承诺替代")
    deferrable: bool = Field(False, description="容缺后补（签署容缺受理信用承诺书后可暂缺）")


class PlanMemberOut(Schema):
    item_code: str
    item_name: str
    department: str
    stage: int
    promised_limit: int | None


class PlanFieldOut(Schema):
    name: str
    label: str
    type: str
    required: bool
    options: list[str]
    item_codes: list[str]


class SavingsOut(Schema):
    one_by_one: dict[str, int]
    bundle: dict[str, int]
    cut_percent: dict[str, int]


class BundlePlanOut(Schema):
    bundle_code: str
    bundle_name: str
    stages: list[list[PlanMemberOut]]
    form: list[PlanFieldOut]
    materials: list[MergedMaterialOut]
    savings: SavingsOut


def _plan_out(plan: bundles.BundlePlan) -> dict[str, Any]:
    return {
        "bundle_code": plan.bundle.code,
        "bundle_name": plan.bundle.name,
        "stages": [
            [
                {
                    "item_code": m.item.code,
                    "item_name": m.item.name,
                    "department": m.item.department.name,
                    "stage": plan.stage_of[m.pk],
                    "promised_limit": m.item.current_version.promised_limit,
                }
                for m in stage
            ]
            for stage in plan.stages
        ],
        "form": [
            {
                "name": f.name,
                "label": f.label,
                "type": f.type,
                "required": f.required,
                "options": f.options,
                "item_codes": plan.mapping.get(f.name, []),
            }
            for f in plan.form.fields
        ],
        "materials": [
            {
                **m.as_json(),
                "required": m.required,
                "commitment": not m.produced_by and bundles.may_pledge(plan, m),
            }
            for m in plan.materials
        ],
        "savings": plan.savings,
    }


@router.post(
    "/bundle-cases/plan", response=with_errors(BundlePlanOut, 404), auth=None, summary="一件事：按情形生成办事清单"
)
def bundle_plan(request, payload: BundlePlanIn):
    bundle = catalog.bundle_get(code=payload.bundle_code)
    return _plan_out(bundles.bundle_plan(bundle=bundle, answers=payload.answers))


class BundleChildOut(Schema):
    item_code: str
    item_name: str
    department: str
    stage: int
    status: str
    status_label: str
    case_id: int | None
    case_number: str | None
    case_state: str | None
    case_state_label: str | None
    note: str


class BundleCaseOut(Schema):
    id: int
    number: str
    bundle_code: str
    bundle_name: str
    state: str
    state_label: str
    channel: str
    applicant_name: str
    applicant_id_masked: str
    submitted_at: dt.datetime
    promised_due: dt.date | None
    warning_level: int = Field(description="0 正常 / 1 即将超期 / 2 已超期（一件事自身承诺）")
    progress: int = Field(description="已结束的子办件百分比")
    closed_at: dt.datetime | None
    outcome_note: str


class BundleEventOut(Schema):
    at: dt.datetime
    action: str
    actor: str
    note: str


class BundleCaseDetailOut(BundleCaseOut):
    answers: dict[str, Any]
    form_data: dict[str, Any]
    materials: list[dict[str, Any]]
    savings: dict[str, Any]
    children: list[BundleChildOut]
    events: list[BundleEventOut]
    filed_by: str
    evaluation_invited_at: dt.datetime | None


def bundle_case_out(parent: BundleCase) -> dict[str, Any]:
    return {
        "id": parent.pk,
        "number": parent.number,
        "bundle_code": parent.bundle.code,
        "bundle_name": parent.bundle_name,
        "state": parent.state,
        "state_label": parent.state_label,
        "channel": parent.channel,
        "applicant_name": parent.applicant_name,
        "applicant_id_masked": parent.applicant_id_masked,
        "submitted_at": parent.submitted_at,
        "promised_due": parent.promised_due,
        "warning_level": bundles.level(parent),
        "progress": bundles.progress(parent)["percent"],
        "closed_at": parent.closed_at,
        "outcome_note": parent.outcome_note,
    }


def bundle_detail_out(parent: BundleCase) -> dict[str, Any]:
    from .services import _label

    children = []
    for c in parent.children.select_related("case", "department", "item").order_by("stage", "position"):
        children.append(
            {
                "item_code": c.item.code,
                "item_name": c.item_name,
                "department": c.department.name,
                "stage": c.stage,
                "status": c.status,
                "status_label": CHILD_LABELS[ChildStatus(c.status)],
                "case_id": c.case_id,
                "case_number": c.case.number if c.case_id else None,
                "case_state": c.case.state if c.case_id else None,
                "case_state_label": c.case.state_label if c.case_id else None,
                "note": c.cancelled_note,
            }
        )
    return {
        **bundle_case_out(parent),
        "answers": parent.answers,
        "form_data": parent.form_data,
        "materials": parent.materials,
        "savings": parent.savings,
        "children": children,
        "events": [
            {"at": e.at, "action": e.action, "actor": e.actor_label, "note": e.note}
            for e in parent.events.order_by("at", "id")
        ],
        "filed_by": _label(parent.filed_by),
        "evaluation_invited_at": parent.evaluation_invited_at,
    }


def _bundle_case(request, pk: int) -> BundleCase:
    parent = BundleCase.objects.select_related("bundle", "filed_by", "window__hall").filter(pk=pk).first()
    if parent is None or not policy.allows(request.auth, "bundle_case.view", parent):
        raise NotFound("一件事办件不存在或您无权查看。", code="bundle_case_not_found")
    return parent


@router.get("/bundle-cases", response=with_errors(list[BundleCaseOut], 401), summary="一件事办件列表（我的/可见）")
def bundle_case_list(request, query: Query[PageQuery]):
    qs = policy.filter(request.auth, "bundle_case.view", BundleCase.objects.select_related("bundle"))
    return [
        bundle_case_out(p) for p in page(qs.order_by("-submitted_at", "-id"), limit=query.limit, offset=query.offset)
    ]


class BundleApplyForm(Schema):
    bundle_code: str = Field(..., min_length=1, max_length=64, pattern=r"^[-a-zA-Z0-9_]+$")
    answers: str = Field("{}", max_length=4000, description="情形回答 JSON 对象")
    form: str = Field("{}", max_length=65536, description="合并申请表 JSON 对象")
    materials: str = Field("[]", max_length=4000, description="每个文件对应的合并材料序号（JSON 数组）")
    paper: str = Field("[]", max_length=2000, description="窗口：已收纸质材料的合并序号（JSON 数组）")
    pledges: str = Field("[]", max_length=2000, description="以告知承诺替代的合并材料序号（JSON 数组）")
    gaps: str = Field(
        "[]", max_length=2000, description="容缺后补（签署容缺受理信用承诺书）的合并材料序号（JSON 数组）"
    )
    signer_name: str = Field("", max_length=100, description="告知承诺书 / 容缺受理信用承诺书签名")
    applicant_id: int | None = Field(None, ge=1, le=MAX_ID, description="代办/窗口：申请人用户ID")
    window_id: int | None = Field(None, ge=1, le=MAX_ID)
    contact_phone: str = Field("", max_length=20)


def _json(text: str, kind: type, field: str) -> Any:
    try:
        value = json.loads(text or ("{}" if kind is dict else "[]"))
    except ValueError:
        raise ValidationFailed(f"{field} 应为 JSON。", code="bad_json", details={"field": field}) from None
    if not isinstance(value, kind):
        raise ValidationFailed(f"{field} 格式不正确。", code="bad_json", details={"field": field})
    return value


def _indexes(text: str, field: str) -> list[int]:
    value = _json(text, list, field)
    if not all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < 1000 for i in value):
        raise ValidationFailed(
            f"{field} 应为材料序号数组。", code="materials_mapping_invalid", details={"field": field}
        )
    return value


@router.post(
    "/bundle-cases",
    response=with_errors({201: BundleCaseDetailOut, 200: BundleCaseDetailOut}, 401, 403, 404, 409, 413),
    summary="一件事一次申请（合并表单 + 一套材料）",
    description=(
        "multipart/form-data：`bundle_code`、`answers`（情形）、`form`（合并申请表）、`files` 与 `materials`（依次给出"
        "每个文件所属的合并材料序号，见 /bundle-cases/plan）。窗口人员可给出 `applicant_id`、`window_id` 与 `paper`。"
        "`pledges`（告知承诺替代）与 `gaps`（容缺后补）须同时给出 `signer_name`（承诺人签名）。"
        "带 `Idempotency-Key` 时重试不会产生第二件（返回 200 与首次创建的一件事办件）。"
    ),
)
def bundle_case_apply(
    request,
    payload: Form[BundleApplyForm],
    files: File[list[UploadedFile]] = None,
    idempotency_key: str | None = IDEMPOTENCY,
):
    answers = _json(payload.answers, dict, "answers")
    form_data = _json(payload.form, dict, "form")
    indexes = _indexes(payload.materials, "materials")
    files = files or []
    if len(indexes) != len(files):
        raise ValidationFailed("materials 应与文件一一对应。", code="materials_mapping_invalid")
    if len(files) > bundles.MAX_BUNDLE_FILES:
        raise ValidationFailed("附件数量过多。", code="too_many_files")
    parent, created = bundles.bundle_apply(
        actor=request.auth,
        bundle_code=payload.bundle_code,
        answers=answers,
        form_data=form_data,
        files=[services.Upload(i, f.name or "upload", f) for i, f in zip(indexes, files, strict=True)],
        paper_indexes=_indexes(payload.paper, "paper"),
        pledge_indexes=_indexes(payload.pledges, "pledges"),
        gap_indexes=_indexes(payload.gaps, "gaps"),
        signer_name=payload.signer_name,
        applicant_id=payload.applicant_id,
        window_id=payload.window_id,
        contact_phone=payload.contact_phone,
        idempotency_key=idempotency_key,
    )
    parent = BundleCase.objects.select_related("bundle", "filed_by").get(pk=parent.pk)
    return Status(201 if created else 200, bundle_detail_out(parent))


@router.get(
    "/bundle-cases/{bundle_case_id}", response=with_errors(BundleCaseDetailOut, 401, 404), summary="一件事办件详情"
)
def bundle_case_detail(request, bundle_case_id: int = BundleCaseId):
    return bundle_detail_out(_bundle_case(request, bundle_case_id))


class ReasonIn(Schema):
    reason: str = Field("", max_length=2000)


@router.post("/bundle-cases/{bundle_case_id}/withdraw", response=with_errors(BundleCaseDetailOut), summary="撤回一件事")
def bundle_case_withdraw(request, payload: ReasonIn, bundle_case_id: int = BundleCaseId):
    bundles.bundle_withdraw(actor=request.auth, bundle_case_id=bundle_case_id, reason=payload.reason)
    return bundle_detail_out(_bundle_case(request, bundle_case_id))


@router.post(
    "/bundle-cases/{bundle_case_id}/resume", response=with_errors(BundleCaseDetailOut), summary="重新分送未能启动的事项"
)
def bundle_case_resume(request, bundle_case_id: int = BundleCaseId):
    bundles.bundle_resume(actor=request.auth, bundle_case_id=bundle_case_id)
    return bundle_detail_out(_bundle_case(request, bundle_case_id))


# --- 容缺受理 / 告知承诺 ---------------------------------------------------------------------------------------


class CommitmentOut(Schema):
    id: int
    kind: str
    status: str
    items: list[dict[str, Any]]
    text: str
    signer_name: str
    signed_via: str
    signed_at: dt.datetime
    due_date: dt.date | None
    consequence: str
    document_number: str | None


class VerificationOut(Schema):
    id: int
    case_id: int
    case_number: str | None
    item_name: str
    department: str
    due_date: dt.date
    status: str
    outcome_note: str
    verified_at: dt.datetime | None


class RevocationOut(Schema):
    id: int
    state: str
    reason: str
    statement_due: dt.date
    statement: str
    decision_note: str
    decided_at: dt.datetime | None


class CaseFollowupsOut(Schema):
    commitments: list[CommitmentOut]
    verifications: list[VerificationOut]
    revocations: list[RevocationOut]
    delivery: dict[str, Any] | None
    bundle_case_id: int | None


def _commitment_out(c: Commitment) -> dict[str, Any]:
    return {
        "id": c.pk,
        "kind": c.kind,
        "status": c.status,
        "items": c.items,
        "text": c.text,
        "signer_name": c.signer_name,
        "signed_via": c.signed_via,
        "signed_at": c.signed_at,
        "due_date": c.due_date,
        "consequence": c.consequence,
        "document_number": c.document.number if c.document_id else None,
    }


def _verification_out(v: Verification) -> dict[str, Any]:
    return {
        "id": v.pk,
        "case_id": v.case_id,
        "case_number": v.case.number,
        "item_name": v.case.item_name,
        "department": v.department.name,
        "due_date": v.due_date,
        "status": v.status,
        "outcome_note": v.outcome_note,
        "verified_at": v.verified_at,
    }


def delivery_out(d: Delivery | None) -> dict[str, Any] | None:
    if d is None:
        return None
    return {
        "method": d.method,
        "status": d.status,
        "status_label": d.get_status_display(),
        "due_date": d.due_date.isoformat(),
        "level": delivery.level(d),
        "issued_at": d.issued_at.isoformat() if d.issued_at else None,
        "issued_on_time": d.issued_on_time,
        "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None,
        "window": str(d.window) if d.window_id else "",
        "pickup_code_tail": d.pickup_code_tail,
        "carrier": d.carrier,
        "waybill_no": d.waybill_no,
        "signer_name": d.signer_name,
        "return_reason": d.return_reason,
        "receipt_number": d.receipt.number if d.receipt_id else None,
    }


def followups_out(user: Any, case: Case) -> dict[str, Any]:
    staff_view = bool(selectors.rules.parties(user, case) - {selectors.Party.APPLICANT})
    parent_id = BundleChild.objects.filter(case_id=case.pk).values_list("parent_id", flat=True).first()
    return {
        "commitments": [_commitment_out(c) for c in case.commitments.select_related("document").order_by("signed_at")],
        "verifications": [_verification_out(v) for v in case.verifications.select_related("case", "department")]
        if staff_view
        else [],
        "revocations": list(case.revocations.order_by("started_at")),
        "delivery": delivery_out(Delivery.objects.select_related("window", "receipt").filter(case=case).first()),
        "bundle_case_id": parent_id,
    }


@router.get(
    "/cases/{case_id}/followups",
    response=with_errors(CaseFollowupsOut, 401, 404),
    summary="承诺、核查、撤销、出件与一件事",
)
def case_followups(request, case_id: int = CaseId):
    case = selectors.case_get(user=request.auth, case_id=case_id)
    return followups_out(request.auth, case)


class SignIn(Schema):
    signer_name: str = Field(..., max_length=100, description="申请人（或授权经办人）签名")


@router.post(
    "/cases/{case_id}/gap-pledge", response=with_errors({201: CommitmentOut}), summary="在线签署容缺受理信用承诺书"
)
def case_gap_pledge(request, payload: SignIn, case_id: int = CaseId):
    return Status(
        201, _commitment_out(gaps.gap_pledge_sign(actor=request.auth, case_id=case_id, signer_name=payload.signer_name))
    )


class GapAcceptIn(Schema):
    signer_name: str = Field("", max_length=100, description="窗口现场签名（已在线签署时省略）")
    due_date: dt.date | None = Field(None, description="补齐期限（默认 CASE_GAP_DUE_WORKDAYS 个工作日）")
    consequence: Literal["suspend", "revoke"] | None = None
    note: str = Field("", max_length=2000)


@router.post("/cases/{case_id}/accept-with-gaps", response=with_errors(CaseFollowupsOut), summary="容缺受理")
def case_accept_with_gaps(request, payload: GapAcceptIn, case_id: int = CaseId):
    gaps.case_accept_with_gaps(
        actor=request.auth,
        case_id=case_id,
        signer_name=payload.signer_name,
        due_date=payload.due_date,
        consequence=payload.consequence,
        note=payload.note,
    )
    return case_followups(request, case_id)


@router.post(
    "/cases/{case_id}/gaps/{material_index}/files",
    response=with_errors(CaseFollowupsOut, 401, 403, 404, 409, 413),
    summary="补交容缺材料",
)
def case_gap_supply(
    request, file: File[UploadedFile], case_id: int = CaseId, material_index: int = PathParam(..., ge=0, le=999)
):
    gaps.gap_supply(
        actor=request.auth, case_id=case_id, material_index=material_index, name=file.name or "upload", content=file
    )
    return case_followups(request, case_id)


class GapCheckIn(Schema):
    accept: bool
    note: str = Field("", max_length=1000)


@router.post(
    "/cases/{case_id}/gaps/{material_index}/check", response=with_errors(CaseFollowupsOut), summary="核验容缺材料"
)
def case_gap_check(
    request, payload: GapCheckIn, case_id: int = CaseId, material_index: int = PathParam(..., ge=0, le=999)
):
    gaps.gap_check(
        actor=request.auth, case_id=case_id, material_index=material_index, accept=payload.accept, note=payload.note
    )
    return case_followups(request, case_id)


class PledgeIn(SignIn):
    material_indexes: list[int] = Field(..., min_length=1, max_length=100, description="以承诺替代的材料序号")


@router.post(
    "/cases/{case_id}/pledges", response=with_errors({201: CommitmentOut}), summary="签署告知承诺书（替代证明材料）"
)
def case_pledge(request, payload: PledgeIn, case_id: int = CaseId):
    if not all(0 <= i < 1000 for i in payload.material_indexes):
        raise ValidationFailed("材料序号不正确。", code="material_not_found")
    commitment = gaps.case_pledge(
        actor=request.auth, case_id=case_id, material_indexes=payload.material_indexes, signer_name=payload.signer_name
    )
    return Status(201, _commitment_out(commitment))


@router.get(
    "/verifications", response=with_errors(list[VerificationOut], 401), summary="告知承诺核查任务（待核查/全部）"
)
def verification_list(request, query: Query[PageQuery], pending: bool = True):
    visible = selectors.visible_cases(user=request.auth).values("pk")
    qs = Verification.objects.filter(case_id__in=visible).select_related("case", "department")
    if pending:
        qs = qs.filter(status=Verification.Status.PENDING)
    return [_verification_out(v) for v in page(qs.order_by("due_date", "id"), limit=query.limit, offset=query.offset)]


class VerifyIn(Schema):
    outcome: Literal["verified", "false"] = Field(..., description="verified 属实 / false 承诺不实")
    note: str = Field(..., max_length=2000)
    method: str = Field("", max_length=200, description="核查方式（数据比对、现场核查…）")


@router.post("/verifications/{verification_id}", response=with_errors(VerificationOut), summary="登记核查结果")
def verification_record(request, payload: VerifyIn, verification_id: int = AnyId):
    v = gaps.verification_record(
        actor=request.auth,
        verification_id=verification_id,
        outcome=payload.outcome,
        note=payload.note,
        method=payload.method,
    )
    return _verification_out(Verification.objects.select_related("case", "department").get(pk=v.pk))


class StatementIn(Schema):
    statement: str = Field(..., max_length=2000)


@router.post(
    "/revocations/{revocation_id}/statement", response=with_errors(RevocationOut), summary="撤销程序：陈述申辩"
)
def revocation_statement(request, payload: StatementIn, revocation_id: int = AnyId):
    return gaps.revocation_statement(actor=request.auth, revocation_id=revocation_id, statement=payload.statement)


class RevocationDecisionIn(Schema):
    revoke: bool = Field(..., description="true 撤销 / false 不予撤销")
    note: str = Field(..., max_length=2000)


@router.post("/revocations/{revocation_id}/decision", response=with_errors(RevocationOut), summary="撤销程序：决定")
def revocation_decision(request, payload: RevocationDecisionIn, revocation_id: int = AnyId):
    return gaps.revocation_decide(
        actor=request.auth, revocation_id=revocation_id, revoke=payload.revoke, note=payload.note
    )


class CreditRecordOut(Schema):
    id: int
    subject_name: str
    subject_id_masked: str
    kind: str
    case_id: int
    note: str
    recorded_at: dt.datetime
    valid_until: dt.date


@router.get("/credit-records", response=with_errors(list[CreditRecordOut], 401), summary="信用记录（本人 / 可见办件）")
def credit_records(request, query: Query[PageQuery]):
    user = request.auth
    if getattr(user, "is_staff_member", False) or user.is_superuser:
        qs = CreditRecord.objects.filter(case_id__in=selectors.visible_cases(user=user).values("pk"))
    else:
        qs = CreditRecord.objects.filter(subject_id=user.pk)
    return list(page(qs.order_by("-recorded_at", "-id"), limit=query.limit, offset=query.offset))


# --- 帮办代办 -------------------------------------------------------------------------------------------------


class HelperGrantIn(Schema):
    principal_id: int = Field(..., ge=1, le=MAX_ID, description="委托人（申请人）用户ID")
    valid_days: int = Field(30, ge=1, le=agents.MAX_HELPER_DAYS)
    scopes: list[str] = Field(default_factory=lambda: list(agents.HELPER_SCOPES), max_length=10)
    item_codes: list[str] = Field(default_factory=list, max_length=50)
    note: str = Field("", max_length=200)


class HelperGrantOut(Schema):
    id: int
    principal_id: int
    principal: str
    scopes: list[str]
    item_codes: list[str]
    valid_from: dt.datetime
    valid_until: dt.datetime | None
    revoked_at: dt.datetime | None


def _grant_out(g) -> dict[str, Any]:
    return {
        "id": g.pk,
        "principal_id": g.principal_id,
        "principal": str(g.principal),
        "scopes": g.scopes,
        "item_codes": g.item_codes,
        "valid_from": g.valid_from,
        "valid_until": g.valid_until,
        "revoked_at": g.revoked_at,
    }


@router.get(
    "/helper/authorizations", response=with_errors(list[HelperGrantOut], 401), summary="帮办代办：我持有的有效授权"
)
def helper_grants(request):
    return [_grant_out(g) for g in agents.helper_principals(actor=request.auth)]


@router.post("/helper/authorizations", response=with_errors({201: HelperGrantOut}), summary="帮办代办：登记申请人授权")
def helper_grant(request, payload: HelperGrantIn):
    grant = agents.helper_authorization_record(
        actor=request.auth,
        principal_id=payload.principal_id,
        valid_days=payload.valid_days,
        scopes=payload.scopes,
        item_codes=[c[:64] for c in payload.item_codes],
        note=payload.note,
    )
    return Status(201, _grant_out(grant))


@router.post(
    "/helper/authorizations/{authorization_id}/end", response=with_errors(HelperGrantOut), summary="帮办代办：结束授权"
)
def helper_grant_end(request, authorization_id: int = AnyId):
    return _grant_out(agents.helper_authorization_end(actor=request.auth, authorization_id=authorization_id))


# --- 出件/送达 ---------------------------------------------------------------------------------------------


class DeliveryRowOut(Schema):
    case: dict[str, Any]
    delivery: dict[str, Any]


DELIVERY_STATUSES = Literal["pending", "ready", "posted", "returned", "delivered"]


@router.get(
    "/deliveries", response=with_errors(list[DeliveryRowOut], 401), summary="统一出件：待出件/待领取/已寄出/退回/已送达"
)
def delivery_list(request, query: Query[PageQuery], status: DELIVERY_STATUSES = "pending"):
    visible = selectors.visible_cases(user=request.auth).values("pk")
    qs = (
        Delivery.objects.filter(status=status, case_id__in=visible)
        .select_related("case", "case__item", "case__version", "case__department", "window", "receipt")
        .order_by("due_date", "id")
    )
    return [
        {"case": case_out(d.case), "delivery": delivery_out(d)}
        for d in page(qs, limit=query.limit, offset=query.offset)
    ]


class IssueIn(Schema):
    method: Literal["window", "post", "online"]
    window_id: int | None = Field(None, ge=1, le=MAX_ID, description="统一出件窗口")
    recipient_name: str = Field("", max_length=100)
    recipient_phone: str = Field("", max_length=20)
    address: str = Field("", max_length=300)
    carrier: str = Field("", max_length=50)
    waybill_no: str = Field("", max_length=40)
    note: str = Field("", max_length=2000)


class IssueOut(Schema):
    delivery: dict[str, Any]
    pickup_code: str | None = Field(description="窗口领取的取件码（仅此一次返回，并已短信告知申请人）")


@router.post(
    "/cases/{case_id}/delivery/issue", response=with_errors(IssueOut), summary="出件（窗口领取/邮寄/电子送达）"
)
def delivery_issue(request, payload: IssueIn, case_id: int = CaseId):
    d, code = delivery.delivery_issue(actor=request.auth, case_id=case_id, **payload.dict())
    return {"delivery": delivery_out(d), "pickup_code": code}


class PickupIn(Schema):
    pickup_code: str = Field(..., min_length=6, max_length=6, pattern=r"^\d{6}$")
    signer_name: str = Field(..., max_length=100)
    signer_id_number: str = Field("", max_length=18)
    signature_png: str = Field("", max_length=700_000, description="签名图片（PNG，base64 或 data URL）")
    case_id: int | None = Field(None, ge=1, le=MAX_ID)


def _png(data: str) -> bytes | None:
    if not data:
        return None
    if data.startswith("data:"):
        data = data.split(",", 1)[-1]
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed("签名图片格式不正确。", code="signature_invalid") from None


@router.post("/deliveries/pickup", response=with_errors(IssueOut), summary="统一出件窗口：凭取件码领取签收")
def delivery_pickup(request, payload: PickupIn):
    d = delivery.delivery_pickup(
        actor=request.auth,
        pickup_code=payload.pickup_code,
        signer_name=payload.signer_name,
        signer_id_number=payload.signer_id_number,
        signature_png=_png(payload.signature_png),
        case_id=payload.case_id,
    )
    return {"delivery": delivery_out(d), "pickup_code": None}


class PostUpdateIn(Schema):
    delivered: bool = Field(..., description="true 妥投 / false 退回")
    note: str = Field("", max_length=500)
    signer_name: str = Field("", max_length=100)


@router.post("/cases/{case_id}/delivery/post", response=with_errors(IssueOut), summary="邮件妥投或退回")
def delivery_post(request, payload: PostUpdateIn, case_id: int = CaseId):
    d = delivery.delivery_post_update(
        actor=request.auth,
        case_id=case_id,
        delivered=payload.delivered,
        note=payload.note,
        signer_name=payload.signer_name,
    )
    return {"delivery": delivery_out(d), "pickup_code": None}


# --- 督办 -----------------------------------------------------------------------------------------------------


class OverviewRowOut(Schema):
    region_code: str
    region: str
    department_id: int | None = None
    department: str | None = None
    open: int
    red: int
    yellow: int
    delivery: int = Field(description="超过出件期限")
    gaps: int = Field(description="容缺材料逾期")
    verifications: int = Field(description="核查逾期")
    unanswered: int = Field(description="督办未反馈")


class OverviewOut(Schema):
    on: dt.date
    totals: dict[str, int]
    by_region: list[OverviewRowOut]
    rows: list[OverviewRowOut]


class OverviewQuery(Schema):
    region: str | None = Field(None, pattern=r"^\d{2,12}$", description="区划代码前缀")


@router.get(
    "/supervision/overview", response=with_errors(OverviewOut, 401, 403), summary="督办：红黄灯总览（按区划、部门）"
)
def supervision_overview(request, query: Query[OverviewQuery]):
    return supervision.overview(user=request.auth, region_prefix=query.region)


class DrillQuery(PageQuery):
    light: Literal[supervision.LIGHTS]  # type: ignore[valid-type]
    region_code: str | None = Field(None, pattern=r"^\d{12}$")
    department_id: int | None = Field(None, ge=1, le=MAX_ID)


@router.get(
    "/supervision/cases", response=with_errors(list[CaseOut], 401, 403, 404), summary="督办：总览数字背后的办件"
)
def supervision_cases(request, query: Query[DrillQuery]):
    qs = supervision.drill_down(
        user=request.auth, light=query.light, region_code=query.region_code, department_id=query.department_id
    ).select_related("version")
    return [case_out(c) for c in page(qs, limit=query.limit, offset=query.offset)]


class OrderOut(Schema):
    id: int
    case_id: int
    case_number: str | None
    item_name: str
    note: str
    feedback_due: dt.date
    created_at: dt.datetime
    feedback: str
    feedback_at: dt.datetime | None
    escalation_level: int


def _order_out(s) -> dict[str, Any]:
    return {
        "id": s.pk,
        "case_id": s.case_id,
        "case_number": s.case.number,
        "item_name": s.case.item_name,
        "note": s.note,
        "feedback_due": s.feedback_due,
        "created_at": s.created_at,
        "feedback": s.feedback,
        "feedback_at": s.feedback_at,
        "escalation_level": max((e.level for e in s.escalations.all()), default=0),
    }


@router.get("/supervision/orders", response=with_errors(list[OrderOut], 401), summary="督办单：待我反馈 / 我发出的")
def supervision_orders(request, query: Query[PageQuery], issued: bool = False):
    if issued:
        qs = supervision.issued_supervisions(user=request.auth)
    else:
        qs = supervision.open_supervisions(user=request.auth).prefetch_related("escalations")
    return [_order_out(s) for s in page(qs, limit=query.limit, offset=query.offset)]

"""API of 好差评 under /api/v1/ratings/: options, invitations and rating submission (public, by token),
window contacts, ratings, the rectification loop, evaluator identity (audited), reports, devices, and the
public per-department figures."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

from ninja import Query, Router, Schema, Status
from pydantic import Field

from yiwang.core.api import PageQuery, page, with_errors
from yiwang.core.errors import ValidationFailed
from yiwang.core.middleware import client_ip
from yiwang.directory.models import Department

from . import public, reports, scale, selectors, services
from .reports import Filters, Period
from .transitions import State

router = Router(tags=["好差评 ratings"])


# --- options --------------------------------------------------------------------------------------
class OptionOut(Schema):
    code: str
    label: str


class LevelOut(Schema):
    level: int
    label: str
    bad: bool


class ModeOptionsOut(Schema):
    mode: str
    indicators: list[OptionOut]
    reasons: dict[str, list[OptionOut]] = Field(description="评价等级 → 可选原因（随等级变化）")


class MetaOut(Schema):
    levels: list[LevelOut]
    channels: list[OptionOut]
    modes: list[ModeOptionsOut]


def _mode_options(mode: scale.Mode) -> dict[str, Any]:
    return {
        "mode": mode.value,
        "indicators": [{"code": o.code, "label": o.label} for o in scale.INDICATORS[mode]],
        "reasons": {
            str(int(level)): [{"code": o.code, "label": o.label} for o in scale.reason_options(level, mode)]
            for level in scale.LEVELS_DESC
        },
    }


@router.get("/meta", response=with_errors(MetaOut), auth=None, summary="评价等级、渠道、指标与原因选项")
def meta(request):
    return {
        "levels": [{"level": int(lv), "label": lv.label, "bad": lv.is_bad} for lv in scale.LEVELS_DESC],
        "channels": [{"code": c.value, "label": c.label} for c in scale.PERSON_CHANNELS],
        "modes": [_mode_options(m) for m in scale.Mode],
    }


# --- invitations and submission (public: the token is the permission) ----------------------------------
class TargetOut(Schema):
    kind: str
    label: str
    mode: str
    state: str
    served_at: dt.datetime | None
    item_name: str
    department: str


class InvitationOut(Schema):
    purpose: str
    usable: bool
    used: bool
    expires_at: dt.datetime
    target: TargetOut
    options: ModeOptionsOut


def _department_name(department_id: int | None) -> str:
    if not department_id:
        return ""
    return Department.objects.filter(pk=department_id).values_list("name", flat=True).first() or ""


@router.get(
    "/invitations/{token}", response=with_errors(InvitationOut, 404), auth=None, summary="查看评价邀请（凭链接）"
)
def invitation(request, token: str):
    view = selectors.invitation_view(token)
    t = view.target
    return {
        "purpose": view.invitation.purpose,
        "usable": view.usable,
        "used": view.invitation.used_at is not None,
        "expires_at": view.invitation.expires_at,
        "target": {
            "kind": t.kind,
            "label": t.label,
            "mode": t.mode.value,
            "state": t.state,
            "served_at": t.served_at,
            "item_name": t.item_name,
            "department": _department_name(t.department_id),
        },
        "options": _mode_options(t.mode),
    }


class RatingIn(Schema):
    level: int = Field(ge=1, le=5, description="5 非常满意 … 1 非常不满意（后两级为差评）")
    channel: str = Field("qr", max_length=12, description="qr / sms / portal / app / kiosk / hotline / evaluator")
    indicators: dict[str, int] = Field(default_factory=dict, description="二级指标评价，1–5")
    reasons: list[str] = Field(default_factory=list, max_length=10, description="所选原因代码（须与等级相符）")
    text: str = Field("", max_length=500)
    anonymous: bool = False
    contact_name: str = Field("", max_length=100, description="实名评价：姓名（可选）")
    contact_phone: str = Field("", max_length=20, description="实名评价：手机号（可选，便于回访）")


class RatingCreatedOut(Schema):
    id: int
    kind: str
    level: int
    level_label: str
    bad: bool
    follow_up_token: str = Field("", description="追评用的一次性令牌（首次评价后返回）")


def _device(request) -> str:
    return request.headers.get("X-Device-Id", "")[:200] or f"ip:{client_ip(request) or ''}"


@router.post(
    "/invitations/{token}/rating",
    response=with_errors({201: RatingCreatedOut}, 403, 404, 409, 429),
    auth=None,
    summary="提交评价（凭链接，一次性）",
)
def submit(request, token: str, payload: RatingIn):
    device = selectors.device_by_key(request.headers.get("X-Evaluator-Key", ""))
    user = request.user if request.user.is_authenticated else None
    rating = services.rating_submit_answer(
        token=token,
        actor=user,
        device=_device(request),
        evaluator_device=device,
        **payload.dict(),
    )
    return Status(
        201,
        {
            "id": rating.pk,
            "kind": rating.kind,
            "level": rating.level,
            "level_label": scale.Level(rating.level).label,
            "bad": rating.is_bad,
            "follow_up_token": rating.follow_up_token,
        },
    )


# --- window contacts --------------------------------------------------------------------------------
class ContactIn(Schema):
    window_id: int
    department_id: int | None = None
    item_code: str = Field("", max_length=64)
    item_name: str = Field("", max_length=200)
    person_id: int | None = None
    phone: str = Field("", max_length=20)
    ticket_no: str = Field("", max_length=30)


class ContactOut(Schema):
    id: int
    window_id: int
    department_id: int | None
    item_name: str
    started_at: dt.datetime
    ended_at: dt.datetime | None


class InvitationCreatedOut(Schema):
    id: int
    token: str
    url: str
    expires_at: dt.datetime


@router.post("/contacts", response=with_errors({201: ContactOut}), summary="开始窗口服务（一次一评）")
def contact_start(request, payload: ContactIn):
    return Status(201, services.contact_start(actor=request.auth, **payload.dict()))


@router.post("/contacts/{contact_id}/end", response=with_errors(InvitationCreatedOut), summary="结束窗口服务并邀请评价")
def contact_end(request, contact_id: int):
    invitation = services.contact_end(actor=request.auth, contact_id=contact_id)
    return {
        "id": invitation.pk,
        "token": invitation.token,
        "url": services.public_url(services.rating_path(invitation.token)),
        "expires_at": invitation.expires_at,
    }


# --- ratings (staff) --------------------------------------------------------------------------------
class RatingOut(Schema):
    id: int
    target_kind: str
    target_label: str
    kind: str
    level: int
    channel: str
    mode: str
    indicators: dict[str, int]
    reasons: list[str]
    text: str
    is_default: bool
    anonymous: bool
    department_id: int | None
    hall_id: int | None
    window_id: int | None
    staff_id: int | None
    item_code: str
    item_name: str
    region_code: str
    served_at: dt.datetime
    rated_at: dt.datetime
    excluded: bool = Field(alias="is_excluded")
    excluded_reason: str


class RatingFilter(PageQuery):
    department_id: int | None = None
    level: int | None = Field(None, ge=1, le=5)
    bad_only: bool = False


@router.get("/ratings", response=with_errors(list[RatingOut]), summary="评价列表（数据范围内）")
def rating_list(request, q: Query[RatingFilter]):
    qs = selectors.ratings_for(request.auth, department_id=q.department_id, level=q.level, bad_only=q.bad_only)
    return list(page(qs, limit=q.limit, offset=q.offset))


@router.get("/ratings/{rating_id}", response=with_errors(RatingOut), summary="评价详情")
def rating_detail(request, rating_id: int):
    return selectors.rating_for(request.auth, rating_id)


# --- rectifications ---------------------------------------------------------------------------------
class RectificationOut(Schema):
    id: int
    number: str
    state: str
    state_label: str
    classification: str
    department_id: int | None
    region_code: str
    assignee_id: int | None
    rating_id: int
    level: int
    item_name: str
    created_at: dt.datetime
    verify_due: dt.date
    feedback_due: dt.date
    revisit_due: dt.date | None
    appeal_due: dt.date | None
    current_due: dt.date | None
    warning: int = Field(description="0 正常 / 1 黄灯 / 2 红灯")
    closed_at: dt.datetime | None


class EventOut(Schema):
    event: str
    from_state: str
    to_state: str
    actor_label: str
    note: str
    at: dt.datetime


class LedgerOut(Schema):
    problem: str
    measures: str
    responsible: str
    deadline: dt.date
    completed_at: dt.datetime | None


class RectificationDetailOut(RectificationOut):
    verify_reached: bool | None
    verify_note: str
    classification_note: str
    appeal_reason: str
    appeal_decision_note: str
    feedback_text: str
    public_summary: str
    revisit_reached: bool | None
    revisit_level: int | None
    revisit_note: str
    ledger: LedgerOut | None
    events: list[EventOut]
    actions: dict[str, bool]


def _rect_out(rect, actor=None, *, detail: bool = False) -> dict[str, Any]:
    level = selectors.warning(rect)
    data = {
        "id": rect.pk,
        "number": rect.number,
        "state": rect.state,
        "state_label": rect.state_label,
        "classification": rect.classification,
        "department_id": rect.department_id,
        "region_code": rect.region_code,
        "assignee_id": rect.assignee_id,
        "rating_id": rect.rating_id,
        "level": rect.rating.level,
        "item_name": rect.rating.item_name,
        "created_at": rect.created_at,
        "verify_due": rect.verify_due,
        "feedback_due": rect.feedback_due,
        "revisit_due": rect.revisit_due,
        "appeal_due": rect.appeal_due,
        "current_due": selectors.current_due(rect),
        "warning": int(level),
        "closed_at": rect.closed_at,
    }
    if detail:
        ledger = _ledger(rect)
        data.update(
            {
                "verify_reached": rect.verify_reached,
                "verify_note": rect.verify_note,
                "classification_note": rect.classification_note,
                "appeal_reason": rect.appeal_reason,
                "appeal_decision_note": rect.appeal_decision_note,
                "feedback_text": rect.feedback_text,
                "public_summary": rect.public_summary,
                "revisit_reached": rect.revisit_reached,
                "revisit_level": rect.revisit_level,
                "revisit_note": rect.revisit_note,
                "ledger": ledger,
                "events": list(rect.events.all()),
                "actions": selectors.available_actions(actor, rect),
            }
        )
    return data


def _ledger(rect):
    return getattr(rect, "ledger", None)  # the reverse one-to-one raises an AttributeError subclass when absent


class RectificationFilter(PageQuery):
    state: State | None = None
    open_only: bool = False
    mine: bool = False
    department_id: int | None = None


@router.get("/rectifications", response=with_errors(list[RectificationOut]), summary="差评整改队列")
def rectification_list(request, q: Query[RectificationFilter]):
    qs = selectors.rectifications_for(
        request.auth,
        state=q.state.value if q.state else None,
        open_only=q.open_only,
        mine=q.mine,
        department_id=q.department_id,
    )
    return [_rect_out(r) for r in page(qs, limit=q.limit, offset=q.offset)]


def _detail(request, rect_id: int):
    rect = selectors.rectification_for(request.auth, rect_id)
    return _rect_out(rect, request.auth, detail=True)


@router.get("/rectifications/{rect_id}", response=with_errors(RectificationDetailOut), summary="差评整改详情")
def rectification_detail(request, rect_id: int):
    return _detail(request, rect_id)


class AssignIn(Schema):
    assignee_id: int
    note: str = Field("", max_length=2000)


class VerifyIn(Schema):
    reached: bool = Field(description="是否联系上评价人")
    note: str = Field(max_length=2000, description="核实情况")


class ClassifyIn(Schema):
    classification: str = Field(description="rectify_now 立行立改 / ledger 限期整改 / explain 解释说明 / appeal 申诉")
    note: str = Field("", max_length=2000)
    problem: str = Field("", max_length=2000)
    measures: str = Field("", max_length=2000)
    responsible: str = Field("", max_length=100)
    deadline: dt.date | None = None


class ReviewIn(Schema):
    upheld: bool = Field(description="申诉成立（差评不计入）或驳回")
    note: str = Field(max_length=2000)


class FeedbackIn(Schema):
    text: str = Field(max_length=2000)
    public_summary: str = Field("", max_length=500, description="门户公开的整改摘要（不含个人信息）")


class ReturnVisitIn(Schema):
    reached: bool
    level: int | None = Field(None, ge=1, le=5, description="评价人对整改的满意程度")
    note: str = Field("", max_length=2000)


@router.post("/rectifications/{rect_id}/assign", response=with_errors(RectificationDetailOut), summary="分派/改派")
def rectification_assign(request, rect_id: int, payload: AssignIn):
    services.rectification_assign(actor=request.auth, rectification_id=rect_id, **payload.dict())
    return _detail(request, rect_id)


@router.post("/rectifications/{rect_id}/verify", response=with_errors(RectificationDetailOut), summary="回访核实")
def rectification_verify(request, rect_id: int, payload: VerifyIn):
    services.rectification_verify(actor=request.auth, rectification_id=rect_id, **payload.dict())
    return _detail(request, rect_id)


@router.post("/rectifications/{rect_id}/classify", response=with_errors(RectificationDetailOut), summary="定性处理")
def rectification_classify(request, rect_id: int, payload: ClassifyIn):
    services.rectification_classify(actor=request.auth, rectification_id=rect_id, **payload.dict())
    return _detail(request, rect_id)


@router.post(
    "/rectifications/{rect_id}/appeal-review", response=with_errors(RectificationDetailOut), summary="申诉复核"
)
def rectification_review(request, rect_id: int, payload: ReviewIn):
    services.rectification_review_appeal(actor=request.auth, rectification_id=rect_id, **payload.dict())
    return _detail(request, rect_id)


@router.post("/rectifications/{rect_id}/feedback", response=with_errors(RectificationDetailOut), summary="整改反馈")
def rectification_feedback(request, rect_id: int, payload: FeedbackIn):
    services.rectification_feedback(actor=request.auth, rectification_id=rect_id, **payload.dict())
    return _detail(request, rect_id)


@router.post(
    "/rectifications/{rect_id}/return-visit", response=with_errors(RectificationDetailOut), summary="整改回访并办结"
)
def rectification_return_visit(request, rect_id: int, payload: ReturnVisitIn):
    services.rectification_return_visit(actor=request.auth, rectification_id=rect_id, **payload.dict())
    return _detail(request, rect_id)


class EvaluatorOut(Schema):
    anonymous: bool
    name: str
    phone: str
    account: str


@router.get(
    "/rectifications/{rect_id}/evaluator",
    response=with_errors(EvaluatorOut),
    summary="查看评价人（仅整改承办人，留痕）",
)
def rectification_evaluator(request, rect_id: int):
    return services.evaluator_reveal(actor=request.auth, rectification_id=rect_id)


# --- reports ----------------------------------------------------------------------------------------
class FiguresOut(Schema):
    total: int
    by_level: dict[str, int]
    good: int
    bad: int
    rateable: int
    active: int
    good_rate: float | None
    bad_rate: float | None
    active_rate: float | None
    rectified_rate: float | None
    revisit_rate: float | None
    score: float | None


class ReportRowOut(Schema):
    key: str
    label: str
    rank: int | None
    figures: FiguresOut


class TrendOut(Schema):
    month: str
    figures: FiguresOut


class ReasonOut(Schema):
    code: str
    label: str
    count: int


class ReportOut(Schema):
    start: dt.date
    end: dt.date
    by: str
    min_sample: int
    total: FiguresOut
    rows: list[ReportRowOut]
    trend: list[TrendOut]
    top_reasons: list[ReasonOut]
    bad_reasons: list[ReasonOut]


def figures_out(f: scale.Figures) -> dict[str, Any]:
    return {
        "total": f.total,
        "by_level": {str(int(lv)): f.by_level.get(int(lv), 0) for lv in scale.LEVELS_DESC},
        "good": f.good,
        "bad": f.bad,
        "rateable": f.rateable,
        "active": f.active,
        "good_rate": f.good_rate,
        "bad_rate": f.bad_rate,
        "active_rate": f.active_rate,
        "rectified_rate": f.rectified_rate,
        "revisit_rate": f.revisit_rate,
        "score": f.score,
    }


class ReportQuery(Schema):
    month: str | None = Field(None, pattern=r"^\d{4}-\d{2}$", description="整月，YYYY-MM（与 start/end 二选一）")
    start: dt.date | None = None
    end: dt.date | None = None
    by: str = Field("department", description="department / hall / window / staff / item / channel")
    department_id: int | None = None
    hall_id: int | None = None
    window_id: int | None = None
    staff_id: int | None = None
    item_code: str = Field("", max_length=64)
    region_code: str = Field("", max_length=12, pattern=r"^\d*$")
    min_sample: int | None = Field(None, ge=0, le=100000)


def period_of(month: str | None, start: dt.date | None, end: dt.date | None) -> Period:
    if month:
        return Period.parse_month(month)
    if start and end:
        return Period(start, end)
    if start or end:
        raise ValidationFailed("请同时提供开始和结束日期，或提供月份。", code="report_period_invalid")
    today = selectors.today_local()
    return Period.month(today.year, today.month)


def report_of(request, q) -> reports.Report:
    return reports.build(
        request.auth,
        period=period_of(q.month, q.start, q.end),
        by=q.by,
        filters=Filters(
            department_id=q.department_id,
            hall_id=q.hall_id,
            window_id=q.window_id,
            staff_id=q.staff_id,
            item_code=q.item_code,
            region_code=q.region_code,
        ),
        min_sample=q.min_sample,
    )


@router.get("/reports", response=with_errors(ReportOut), summary="好差评统计（任意期间，按维度，含排名与趋势）")
def report(request, q: Query[ReportQuery]):
    r = report_of(request, q)
    return {
        "start": r.period.start,
        "end": r.period.end,
        "by": r.by,
        "min_sample": r.min_sample,
        "total": figures_out(r.total),
        "rows": [
            {"key": str(row.key), "label": row.label, "rank": row.rank, "figures": figures_out(row.figures)}
            for row in reports.ranking(r)
        ],
        "trend": [{"month": f"{m:%Y-%m}", "figures": figures_out(f)} for m, f in r.trend],
        "top_reasons": [{"code": c, "label": label, "count": n} for c, label, n in r.top_reasons],
        "bad_reasons": [{"code": c, "label": label, "count": n} for c, label, n in r.bad_reasons],
    }


# --- evaluator devices ------------------------------------------------------------------------------
class DeviceIn(Schema):
    window_id: int
    name: str = Field("", max_length=100)


class DeviceCreatedOut(Schema):
    id: int
    name: str
    window_id: int
    key: str = Field(description="评价器密钥，仅显示一次")
    url: str


@router.post("/devices", response=with_errors({201: DeviceCreatedOut}), summary="登记窗口评价器")
def device_register(request, payload: DeviceIn):
    from django.urls import reverse

    device, key = services.device_register(actor=request.auth, window_id=payload.window_id, name=payload.name)
    url = services.public_url(reverse("ratings:evaluator", args=[key]))
    return Status(201, {"id": device.pk, "name": device.name, "window_id": device.window_id, "key": key, "url": url})


# --- public disclosure ------------------------------------------------------------------------------
class PublicCaseOut(Schema):
    closed_on: str
    item_name: str
    level_label: str
    classification_label: str
    summary: str


class PublicDepartmentOut(Schema):
    department_id: int
    department: str
    month: str
    figures: FiguresOut
    rectified_cases: list[PublicCaseOut]


@router.get(
    "/public/departments/{department_id}/months/{month}",
    response=with_errors(PublicDepartmentOut, 404),
    auth=None,
    summary="公开：部门月度好差评情况与整改公示",
)
def public_department(request, department_id: int, month: str):
    from yiwang.core.errors import NotFound

    department = Department.objects.filter(pk=department_id, is_active=True).first()
    if department is None:
        raise NotFound()
    period = Period.parse_month(month)
    return {
        "department_id": department.pk,
        "department": department.name,
        "month": f"{period.start:%Y-%m}",
        "figures": figures_out(public.department_figures(department.pk, period)),
        "rectified_cases": [asdict(c) for c in public.rectified_cases(department.pk, period)],
    }

"""API /api/v1/hotline/…: work orders and their handling loop, the knowledge base, classification, KPIs."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import FileResponse
from ninja import File, Query, Router, Schema, Status, UploadedFile
from pydantic import Field

from yiwang.core.api import PageQuery, page, with_errors
from yiwang.core.errors import NotFound
from yiwang.core.permissions import policy

from . import dispatching, knowledge, kpis, selectors, services
from .models import Category, ExtensionRequest, WorkOrder

router = Router(tags=["12345热线 hotline"])


class OrderIn(Schema):
    title: str = Field(max_length=200, description="主题")
    content: str = Field(max_length=4000, description="诉求内容（经过）")
    region_code: str = Field(max_length=12, description="发生地区划代码（12位，可到村/社区）")
    channel: str = Field("phone", max_length=10, description="phone/web/mobile/wechat/sms/mailbox")
    kind: str = Field("consult", max_length=12, description="consult/help/complaint/report/suggestion/praise")
    urgency: str = Field("normal", max_length=10, description="normal/urgent/critical")
    cause: str = Field("", max_length=4000, description="起因")
    address: str = Field("", max_length=300)
    caller_name: str = Field("", max_length=100)
    caller_phone: str = Field("", max_length=30)
    caller_type: str = Field("person", max_length=10)
    is_confidential: bool = False
    occurred_at: dt.datetime | None = None
    category_code: str | None = Field(None, max_length=12)
    accept_out_of_scope: bool = Field(False, description="坐席确认不属于紧急/涉诉事项（误报时）")


class OrderOut(Schema):
    id: int
    number: str | None
    status: str
    status_name: str = Field(alias="get_status_display")
    channel: str
    kind: str
    urgency: str
    title: str
    content: str
    region_code: str = Field(alias="region_id")
    address: str
    caller: str = Field(alias="display_caller")
    category_code: str | None = Field(None, alias="category.code")
    category_path: str | None = Field(None, alias="category.path")
    suggested_department_id: int | None
    suggestion_confidence: float | None
    department_id: int | None
    department_name: str | None = Field(None, alias="department.name")
    created_at: dt.datetime
    dispatched_at: dt.datetime | None
    sign_due_at: dt.datetime | None
    signed_at: dt.datetime | None
    handle_due_at: dt.datetime | None
    replied_at: dt.datetime | None
    closed_at: dt.datetime | None
    reply: str
    satisfaction: str
    return_count: int
    reopen_count: int
    supervision_count: int
    merged_into_id: int | None
    kb_entry_id: int | None


class EventOut(Schema):
    event: str
    from_status: str
    to_status: str
    actor: str = Field(alias="actor_label")
    department_id: int | None
    note: str
    at: dt.datetime


class AssignmentOut(Schema):
    department_id: int
    department_name: str = Field(alias="department.name")
    role: str
    status: str
    dispatched_at: dt.datetime
    sign_due_at: dt.datetime | None
    signed_at: dt.datetime | None
    return_reason: str
    automatic: bool


class AttachmentOut(Schema):
    id: int
    name: str = Field(alias="file.original_name")
    kind: str = Field(alias="file.kind")
    content_type: str = Field(alias="file.content_type")
    size: int = Field(alias="file.size")
    sha256: str = Field(alias="file.sha256")
    created_at: dt.datetime
    url: str

    @staticmethod
    def resolve_url(obj) -> str:
        return f"/api/v1/hotline/attachments/{obj.pk}"


class OrderDetailOut(OrderOut):
    events: list[EventOut] = Field(alias="events_list")
    assignments: list[AssignmentOut] = Field(alias="assignments_list")
    attachments: list[AttachmentOut] = Field(alias="attachments_list")


class OrderQuery(PageQuery):
    queue: Literal["all", "platform", "department", "overdue", "mine"] = "all"
    status: str | None = Field(None, max_length=16)
    number: str | None = Field(None, max_length=20)


def _order(request, order_id: int) -> WorkOrder:
    return selectors.order(request.auth, order_id=order_id)


def _detail(order: WorkOrder, user=None) -> WorkOrder:
    order.events_list = list(selectors.history(order))
    order.assignments_list = list(order.assignments.select_related("department").order_by("id"))
    order.attachments_list = selectors.attachments(user, order) if user is not None else []
    return order


@router.post("/orders", response=with_errors({201: OrderOut}, 401, 403, 404, 422), summary="受理工单")
def order_create(request, payload: OrderIn):
    return Status(201, services.order_create(actor=request.auth, **payload.dict()))


@router.get("/orders", response=with_errors(list[OrderOut], 401), summary="工单列表（按队列）")
def order_list(request, query: Query[OrderQuery]):
    user = request.auth
    qs = {
        "all": selectors.orders,
        "platform": selectors.platform_queue,
        "department": selectors.department_queue,
        "overdue": selectors.overdue,
        "mine": selectors.my_orders,
    }[query.queue](user)
    if query.status:
        qs = qs.filter(status=query.status.replace("\x00", ""))
    if query.number:
        qs = qs.filter(number=query.number.replace("\x00", ""))
    return page(qs.select_related("department", "category"), limit=query.limit, offset=query.offset)


@router.get("/orders/{order_id}", response=with_errors(OrderDetailOut, 401, 404), summary="工单详情与办理过程")
def order_detail(request, order_id: int):
    return _detail(_order(request, order_id), request.auth)


@router.post(
    "/orders/{order_id}/attachments",
    response=with_errors({201: AttachmentOut}, 401, 403, 404, 409, 413, 422),
    summary="上传工单附件（图片、PDF、OFD）",
)
def attachment_add(request, order_id: int, file: File[UploadedFile]):
    attachment = services.attachment_add(
        actor=request.auth, order_id=order_id, name=file.name or "upload", content=file
    )
    return Status(201, attachment)


@router.get(
    "/orders/{order_id}/attachments", response=with_errors(list[AttachmentOut], 401, 404), summary="工单附件列表"
)
def attachment_list(request, order_id: int):
    return selectors.attachments(request.auth, _order(request, order_id))


@router.get("/attachments/{attachment_id}", response=with_errors({200: None}, 401, 404), summary="下载工单附件")
def attachment_download(request, attachment_id: int):
    from yiwang.cases import uploads

    found = selectors.attachment(request.auth, attachment_id)
    response = FileResponse(uploads.open_file(found.file), content_type=found.file.content_type)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response


class AnswerIn(Schema):
    entry_id: int | None = None
    reply: str = Field("", max_length=8000)


class DispatchIn(Schema):
    department_id: int
    assist_department_ids: list[int] = Field(default_factory=list, max_length=10)
    category_code: str | None = Field(None, max_length=12)
    note: str = Field("", max_length=500)


class ReasonIn(Schema):
    reason: str = Field(max_length=500)


class ReviewIn(Schema):
    approve: bool
    note: str = Field("", max_length=500)


class NoteIn(Schema):
    note: str = Field(max_length=500)


class ReplyIn(Schema):
    reply: str = Field(max_length=4000)


class VisitIn(Schema):
    result: Literal["satisfied", "basic", "unsatisfied"]
    resolved: bool = True
    note: str = Field("", max_length=500)
    method: Literal["phone", "sms", "web"] = "phone"


class MergeIn(Schema):
    into_id: int
    note: str = Field("", max_length=500)


class RefuseIn(Schema):
    reason: Literal[
        "emergency_police", "emergency_fire", "emergency_medical", "emergency_traffic", "in_litigation", "in_petition"
    ]
    note: str = Field("", max_length=500)


class ExtensionIn(Schema):
    days: int = Field(ge=1, le=30)
    reason: str = Field(max_length=500)


class ExtensionOut(Schema):
    id: int
    order_id: int
    department_id: int
    days: int
    reason: str
    status: str
    requested_at: dt.datetime
    decided_at: dt.datetime | None
    decision_note: str


ACT = with_errors(OrderOut, 401, 403, 404, 409, 422)


def _visible(request, order_id: int) -> int:
    _order(request, order_id)  # 404 for orders the user cannot see, before any permission question
    return order_id


@router.post("/orders/{order_id}/answer", response=ACT, summary="知识库直接答复并办结")
def order_answer(request, order_id: int, payload: AnswerIn):
    return services.order_answer(actor=request.auth, order_id=_visible(request, order_id), **payload.dict())


@router.post("/orders/{order_id}/dispatch", response=ACT, summary="派单（主办、协办）")
def order_dispatch(request, order_id: int, payload: DispatchIn):
    return services.order_dispatch(actor=request.auth, order_id=_visible(request, order_id), **payload.dict())


@router.post("/orders/{order_id}/sign", response=ACT, summary="签收")
def order_sign(request, order_id: int):
    return services.order_sign(actor=request.auth, order_id=_visible(request, order_id))


@router.post("/orders/{order_id}/return", response=ACT, summary="退单")
def order_return(request, order_id: int, payload: ReasonIn):
    return services.order_return(actor=request.auth, order_id=_visible(request, order_id), reason=payload.reason)


@router.post("/orders/{order_id}/return-review", response=ACT, summary="退单审核（同意待改派/驳回）")
def order_return_review(request, order_id: int, payload: ReviewIn):
    return services.order_review_return(actor=request.auth, order_id=_visible(request, order_id), **payload.dict())


@router.post(
    "/orders/{order_id}/extensions",
    response=with_errors({201: ExtensionOut}, 401, 403, 404, 409, 422),
    summary="延期申请",
)
def extension_create(request, order_id: int, payload: ExtensionIn):
    req = services.extension_request(actor=request.auth, order_id=_visible(request, order_id), **payload.dict())
    return Status(201, req)


@router.post(
    "/extensions/{request_id}/decision",
    response=with_errors(ExtensionOut, 401, 403, 404, 409, 422),
    summary="延期审核",
)
def extension_decide(request, request_id: int, payload: ReviewIn):
    ext = ExtensionRequest.objects.filter(pk=request_id).first()
    if ext is None:
        raise NotFound("延期申请不存在。")
    _visible(request, ext.order_id)
    return services.extension_decide(actor=request.auth, request_id=request_id, **payload.dict())


@router.post("/orders/{order_id}/supervise", response=ACT, summary="督办")
def order_supervise(request, order_id: int, payload: NoteIn):
    return services.order_supervise(actor=request.auth, order_id=_visible(request, order_id), note=payload.note)


@router.post("/orders/{order_id}/reply", response=ACT, summary="答复反馈")
def order_reply(request, order_id: int, payload: ReplyIn):
    return services.order_reply(actor=request.auth, order_id=_visible(request, order_id), reply=payload.reply)


@router.post("/orders/{order_id}/reply-review", response=ACT, summary="答复审核（通过转回访/退回重办）")
def order_reply_review(request, order_id: int, payload: ReviewIn):
    return services.order_review_reply(actor=request.auth, order_id=_visible(request, order_id), **payload.dict())


@router.post("/orders/{order_id}/visit", response=ACT, summary="回访（不满意则重办）")
def order_visit(request, order_id: int, payload: VisitIn):
    return services.order_visit(actor=request.auth, order_id=_visible(request, order_id), **payload.dict())


@router.post("/orders/{order_id}/close", response=ACT, summary="归档（无法回访）")
def order_close(request, order_id: int, payload: NoteIn):
    return services.order_close(actor=request.auth, order_id=_visible(request, order_id), note=payload.note)


@router.post("/orders/{order_id}/merge", response=ACT, summary="并单")
def order_merge(request, order_id: int, payload: MergeIn):
    _visible(request, payload.into_id)
    return services.order_merge(actor=request.auth, order_id=_visible(request, order_id), **payload.dict())


@router.post("/orders/{order_id}/refuse", response=ACT, summary="不予受理（告知转介）")
def order_refuse(request, order_id: int, payload: RefuseIn):
    return services.order_refuse(actor=request.auth, order_id=_visible(request, order_id), **payload.dict())


class DuplicateOut(Schema):
    id: int
    number: str | None
    title: str
    status: str
    score: float


@router.get("/orders/{order_id}/duplicates", response=with_errors(list[DuplicateOut], 401, 404), summary="疑似重复工单")
def order_duplicates(request, order_id: int):
    order = _order(request, order_id)
    visible = set(selectors.orders(request.auth).values_list("pk", flat=True)[:10000])
    found = selectors.duplicates(
        title=order.title, content=order.content, region_code=order.region_id, exclude_id=order.pk
    )
    return [
        {"id": d.order.pk, "number": d.order.number, "title": d.order.title, "status": d.order.status, "score": d.score}
        for d in found
        if d.order.pk in visible
    ]


# --- knowledge base -----------------------------------------------------------------------------------
class KbQuery(Schema):
    q: str = Field(max_length=500)
    k: int = Field(5, ge=1, le=20)


class KbHitOut(Schema):
    entry_id: int
    score: float
    question: str
    answer: str
    department_name: str
    stale: bool


class KbEntryIn(Schema):
    question: str = Field(max_length=500)
    answer: str = Field(max_length=20000)
    department_id: int | None = None
    department_name: str = Field("", max_length=200)
    keywords: str = Field("", max_length=500)
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    contact_phone: str = Field("", max_length=100)


class KbEntryOut(Schema):
    id: int
    question: str
    answer: str
    department_id: int | None
    department_name: str
    keywords: str
    valid_from: dt.date | None
    valid_until: dt.date | None
    source: str
    use_count: int
    is_active: bool


@router.get("/kb/search", response=with_errors(list[KbHitOut], 401, 403), summary="知识库检索（简繁皆可）")
def kb_search(request, query: Query[KbQuery]):
    policy.require(request.auth, "hotline.kb.view")
    return knowledge.search(query.q.replace("\x00", ""), k=query.k)


@router.post("/kb/entries", response=with_errors({201: KbEntryOut}, 401, 403, 422), summary="新增知识")
def kb_create(request, payload: KbEntryIn):
    return Status(201, knowledge.entry_save(actor=request.auth, **payload.dict()))


@router.put("/kb/entries/{entry_id}", response=with_errors(KbEntryOut, 401, 403, 404, 422), summary="修改知识")
def kb_update(request, entry_id: int, payload: KbEntryIn):
    return knowledge.entry_save(actor=request.auth, entry_id=entry_id, **payload.dict())


# --- classification, categories, KPIs ----------------------------------------------------------------
class ClassifyIn(Schema):
    text: str = Field(max_length=8000)
    region_code: str = Field("", max_length=12)


class ClassifyOut(Schema):
    category_code: str | None
    category_path: str | None
    category_label: str
    department_id: int | None
    department_name: str | None
    assist_department_ids: list[int]
    confidence: float
    rule_id: int | None
    manual: bool = Field(description="没有可用的派单目录规则或模型时为 true：由坐席人工派单")


@router.post("/classify", response=with_errors(ClassifyOut, 401, 403), summary="分类与派单建议")
def classify(request, payload: ClassifyIn):
    policy.require(request.auth, "hotline.kb.view")
    s = dispatching.suggest(text=payload.text.replace("\x00", ""), region_code=payload.region_code.replace("\x00", ""))
    if s is None:
        return {
            "category_code": None,
            "category_path": None,
            "category_label": "",
            "department_id": None,
            "department_name": None,
            "assist_department_ids": [],
            "confidence": 0.0,
            "rule_id": None,
            "manual": True,
        }
    return {
        "category_code": s.category.code if s.category else None,
        "category_path": s.category.path if s.category else None,
        "category_label": s.category_label or s.department_label,
        "department_id": s.department.pk if s.department else None,
        "department_name": s.department.name if s.department else None,
        "assist_department_ids": [d.pk for d in s.assists],
        "confidence": s.confidence,
        "rule_id": s.rule.pk if s.rule else None,
        "manual": s.department is None,
    }


class CategoryOut(Schema):
    code: str
    name: str
    level: int
    path: str
    parent_code: str | None = Field(None, alias="parent.code")


class CategoryQuery(PageQuery):
    parent: str | None = Field(None, max_length=12, description="上级分类代码；留空返回大类")


@router.get("/categories", response=with_errors(list[CategoryOut], 401), summary="诉求分类")
def categories(request, query: Query[CategoryQuery]):
    qs = Category.objects.filter(is_active=True).select_related("parent")
    qs = qs.filter(parent__code=query.parent.replace("\x00", "")) if query.parent else qs.filter(level=1)
    return page(qs.order_by("code"), limit=query.limit, offset=query.offset)


class KpiQuery(Schema):
    start: dt.date | None = None
    end: dt.date | None = None
    by: Literal["none", "day", "region", "category", "department"] = "none"


class KpiRow(Schema):
    key: str
    label: str
    total: int
    direct: int
    signed: int
    signed_on_time: int
    replied: int
    replied_on_time: int
    visited: int
    satisfied: int
    merged: int
    sign_on_time_rate: float | None
    handle_on_time_rate: float | None
    direct_rate: float | None
    visit_rate: float | None
    satisfaction_rate: float | None
    repeat_rate: float | None


class KpiOut(Schema):
    start: dt.date
    end: dt.date
    total: KpiRow
    rows: list[KpiRow]


@router.get("/kpis", response=with_errors(KpiOut, 401, 403, 422), summary="热线指标（按时签收率、按时办结率等）")
def kpi(request, query: Query[KpiQuery]):
    policy.require(request.auth, "hotline.kpi.view")
    return kpis.compute(request.auth, start=query.start, end=query.end, by=query.by)


class HotTopicOut(Schema):
    size: int
    title: str
    order_ids: list[int]
    region_name: str


@router.get("/hot-topics", response=with_errors(list[HotTopicOut], 401, 403), summary="近7日热点诉求")
def hot_topics(request):
    policy.require(request.auth, "hotline.kpi.view")
    return kpis.hot_topics(request.auth)

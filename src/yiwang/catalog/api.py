"""API: service items (list/filter/detail), versions (by number and by date), forms, bundles; staff editing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import Field

from yiwang.core.api import PageQuery, page, with_errors
from yiwang.core.errors import NotFound
from yiwang.core.permissions import policy

from . import codes, quality, selectors, services
from .elements import FormDefinition, ItemElements, Material

router = Router(tags=["事项目录 catalog"])


# --- schemas -----------------------------------------------------------------------------------------
class VersionSummaryOut(Schema):
    number: int
    state: str
    published_at: dt.datetime
    superseded_at: dt.datetime | None
    withdrawn_at: dt.datetime | None
    note: str
    name: str
    item_type: str
    legal_limit: int | None
    legal_limit_unit: str
    promised_limit: int | None
    promised_limit_unit: str
    handling_type: str
    visits: int
    online_depth: int
    is_online: bool
    material_count: int


class VersionOut(VersionSummaryOut):
    item_code: str = Field(alias="item.code")
    department_id: int
    department_name: str = Field(alias="department.name")
    region_code: str = Field(alias="region_id")
    elements: ItemElements

    @staticmethod
    def resolve_elements(obj) -> ItemElements:
        return obj.data


class ItemSummaryOut(Schema):
    code: str
    name: str
    state: str
    item_type: str
    item_type_name: str
    department_id: int
    department_name: str
    region_code: str
    region_name: str
    version: int | None
    legal_limit: int | None
    legal_limit_unit: str | None
    promised_limit: int | None
    promised_limit_unit: str | None
    visits: int | None
    online_depth: int | None
    is_online: bool

    @staticmethod
    def resolve_item_type(obj) -> str:
        v = obj.current_version
        return v.item_type if v else obj.draft.get("item_type", "")

    @staticmethod
    def resolve_item_type_name(obj) -> str:
        v = obj.current_version
        return codes.item_type_name(v.item_type if v else obj.draft.get("item_type", ""))

    @staticmethod
    def resolve_department_name(obj) -> str:
        return obj.department.name

    @staticmethod
    def resolve_region_code(obj) -> str:
        return obj.region_id

    @staticmethod
    def resolve_region_name(obj) -> str:
        return obj.region.full_name or obj.region.name

    @staticmethod
    def resolve_version(obj) -> int | None:
        return obj.current_version.number if obj.current_version_id else None

    @staticmethod
    def _v(obj, name):
        return getattr(obj.current_version, name) if obj.current_version_id else None

    @staticmethod
    def resolve_legal_limit(obj):
        return ItemSummaryOut._v(obj, "legal_limit")

    @staticmethod
    def resolve_legal_limit_unit(obj):
        return ItemSummaryOut._v(obj, "legal_limit_unit")

    @staticmethod
    def resolve_promised_limit(obj):
        return ItemSummaryOut._v(obj, "promised_limit")

    @staticmethod
    def resolve_promised_limit_unit(obj):
        return ItemSummaryOut._v(obj, "promised_limit_unit")

    @staticmethod
    def resolve_visits(obj):
        return ItemSummaryOut._v(obj, "visits")

    @staticmethod
    def resolve_online_depth(obj):
        return ItemSummaryOut._v(obj, "online_depth")

    @staticmethod
    def resolve_is_online(obj) -> bool:
        return bool(ItemSummaryOut._v(obj, "is_online"))


class ItemDetailOut(ItemSummaryOut):
    catalog_code: str
    handle_item_code: str
    current: VersionOut | None

    @staticmethod
    def resolve_catalog_code(obj) -> str:
        return obj.catalog_item.code

    @staticmethod
    def resolve_current(obj):
        return obj.current_version


class ItemQuery(PageQuery):
    region: str | None = Field(
        None, description="区划代码前缀（含下级），如 4403", max_length=12, pattern=r"^\d{2,12}$"
    )
    department: int | None = Field(None, ge=1, le=2**31 - 1)
    item_type: str | None = Field(None, max_length=2, description="事项类型代码")
    theme: str | None = Field(None, max_length=50, description="主题")
    service_object: str | None = Field(None, max_length=1, description="服务对象代码：1 自然人，2 企业法人…")
    online: bool | None = None
    level: int | None = Field(None, ge=1, le=5, description="实施区划层级 1 省 … 5 村")
    q: str | None = Field(None, max_length=50, description="名称包含")


class VersionAtQuery(Schema):
    at: dt.datetime = Field(..., description="时间点（ISO 8601；不带时区按北京时间）")


class FormOut(Schema):
    item_code: str
    version: int
    form: FormDefinition


class FormCheckIn(Schema):
    data: dict[str, Any]


class FormCheckOut(Schema):
    valid: bool
    cleaned: dict[str, Any]


class BundleMemberOut(Schema):
    item_code: str
    item_name: str
    department_name: str
    order: int
    condition: dict[str, Any]
    condition_text: str
    is_optional: bool


class BundleSummaryOut(Schema):
    code: str
    name: str
    audience: str
    stage: str
    region_code: str = Field(alias="region_id")
    lead_department_name: str = Field(alias="lead_department.name")
    promised_days: int | None


class MergedMaterialOut(Schema):
    material: Material
    item_codes: list[str]


class BundleDetailOut(BundleSummaryOut):
    description: str
    scenarios: list[dict[str, Any]]
    cooperating_departments: list[str]
    members: list[BundleMemberOut]

    @staticmethod
    def resolve_cooperating_departments(obj) -> list[str]:
        return [d.name for d in obj.cooperating_departments.all()]

    @staticmethod
    def resolve_members(obj) -> list[dict[str, Any]]:
        return [_member_out(m) for m in selectors.bundle_members(bundle=obj)]


class BundlePlanIn(Schema):
    answers: dict[str, Any] = Field(default_factory=dict, description="情形问题的回答 {key: 选项}")


class BundlePlanOut(Schema):
    stages: list[list[BundleMemberOut]]
    form: FormDefinition
    form_mapping: dict[str, list[str]]
    materials: list[MergedMaterialOut]


class ViolationOut(Schema):
    rule: str
    field: str
    message: str


class CheckOut(Schema):
    passed: bool
    violations: list[ViolationOut]


class ItemCreateIn(Schema):
    code: str = Field(..., min_length=1, max_length=64)
    catalog_code: str = Field(..., min_length=1, max_length=50)
    department_id: int = Field(..., ge=1, le=2**31 - 1)
    region_code: str | None = Field(None, min_length=12, max_length=12)
    elements: ItemElements


class PublishIn(Schema):
    note: str = Field("", max_length=500)


class ReasonIn(Schema):
    reason: str = Field(..., min_length=1, max_length=500)


def _member_out(m) -> dict[str, Any]:
    return {
        "item_code": m.item.code,
        "item_name": m.item.name,
        "department_name": m.item.department.name,
        "order": m.order,
        "condition": m.condition,
        "condition_text": m.condition_text,
        "is_optional": m.is_optional,
    }


def _aware(at: dt.datetime) -> dt.datetime:
    return timezone.make_aware(at) if timezone.is_naive(at) else at


def _item_public(code: str):
    item = selectors.item_get(code=code)
    if item.current_version_id is None:
        raise NotFound("事项不存在。", code="item_not_found", details={"code": code})
    return item


# --- public reads -------------------------------------------------------------------------------------
@router.get("/items", response=with_errors(list[ItemSummaryOut], 404), auth=None, summary="事项列表（可办事项）")
def item_list(request, query: Query[ItemQuery]):
    qs = selectors.published_items(
        region_prefix=query.region,
        department_id=query.department,
        item_type=query.item_type,
        theme=query.theme,
        service_object=query.service_object,
        online=query.online,
        level=query.level,
        q=query.q,
    )
    return page(qs, limit=query.limit, offset=query.offset)


@router.get(
    "/items/{code}", response=with_errors(ItemDetailOut, 404), auth=None, summary="事项详情（现行版本全部要素）"
)
def item_detail(request, code: str):
    return _item_public(code)


@router.get(
    "/items/{code}/versions", response=with_errors(list[VersionSummaryOut], 404), auth=None, summary="事项版本列表"
)
def item_versions(request, code: str):
    return list(selectors.item_versions(item=_item_public(code)))


@router.get("/items/{code}/versions/{number}", response=with_errors(VersionOut, 404), auth=None, summary="事项某一版本")
def item_version(request, code: str, number: int):
    return selectors.version_get(item_code=code, number=number)


@router.get(
    "/items/{code}/version-at",
    response=with_errors(VersionOut, 404),
    auth=None,
    summary="某一时间点有效的事项版本（办件依据）",
)
def item_version_at(request, code: str, query: Query[VersionAtQuery]):
    return selectors.item_version_at(item_code=code, at=_aware(query.at))


@router.get("/items/{code}/form", response=with_errors(FormOut, 404), auth=None, summary="事项申请表定义")
def item_form(request, code: str):
    item = _item_public(code)
    return {"item_code": item.code, "version": item.current_version.number, "form": item.current_version.data.form}


@router.post(
    "/items/{code}/form/check", response=with_errors(FormCheckOut, 404), auth=None, summary="按申请表定义校验填写内容"
)
def item_form_check(request, code: str, payload: FormCheckIn):
    item = _item_public(code)
    cleaned = item.current_version.data.form.validate_data(payload.data)
    return {"valid": True, "cleaned": cleaned}


@router.get("/bundles", response=with_errors(list[BundleSummaryOut], 404), auth=None, summary="一件事列表")
def bundle_list(request, query: Query[PageQuery]):
    return page(selectors.published_bundles(), limit=query.limit, offset=query.offset)


@router.get("/bundles/{code}", response=with_errors(BundleDetailOut, 404), auth=None, summary="一件事详情")
def bundle_detail(request, code: str):
    return selectors.bundle_get(code=code)


@router.post(
    "/bundles/{code}/plan",
    response=with_errors(BundlePlanOut, 404),
    auth=None,
    summary="按情形确定一件事要办的事项、合并申请表和材料清单",
)
def bundle_plan(request, code: str, payload: BundlePlanIn):
    bundle = selectors.bundle_get(code=code)
    members = selectors.bundle_applicable_members(bundle=bundle, answers=payload.answers)
    form, mapping = selectors.bundle_form(members=members)
    return {
        "stages": [[_member_out(m) for m in stage] for stage in selectors.bundle_stages(members=members)],
        "form": form,
        "form_mapping": mapping,
        "materials": [
            {"material": m, "item_codes": codes_} for m, codes_ in selectors.bundle_materials(members=members)
        ],
    }


# --- staff editing ------------------------------------------------------------------------------------
def _managed(request, code: str):
    item = selectors.item_get(code=code)
    if not policy.allows(request.auth, "catalog.item.manage", item):
        raise NotFound("事项不存在。", code="item_not_found")
    return item


@router.post("/items", response=with_errors({201: ItemDetailOut}), summary="新建事项（草稿）")
def item_create(request, payload: ItemCreateIn):
    from yiwang.directory.models import Department, Region

    catalog_item = selectors.catalog_item_get(code=payload.catalog_code)
    department = Department.objects.filter(pk=payload.department_id).select_related("region").first()
    if department is None:
        raise NotFound("部门不存在。", code="department_not_found")
    region = None
    if payload.region_code:
        region = Region.objects.filter(code=payload.region_code).first()
        if region is None:
            raise NotFound("区划不存在。", code="region_not_found")
    item = services.item_create(
        actor=request.auth,
        code=payload.code,
        catalog_item=catalog_item,
        department=department,
        region=region,
        elements=payload.elements.dump(),
    )
    return Status(201, selectors.item_get(code=item.code))


@router.get("/items/{code}/draft", response=with_errors(ItemElements), summary="事项草稿要素")
def item_draft(request, code: str):
    return ItemElements.parse(_managed(request, code).draft)


@router.put("/items/{code}/draft", response=with_errors(ItemElements), summary="保存事项草稿")
def item_draft_save(request, code: str, payload: ItemElements):
    item = services.item_update_draft(actor=request.auth, item=_managed(request, code), elements=payload.dump())
    return ItemElements.parse(item.draft)


@router.get("/items/{code}/check", response=with_errors(CheckOut), summary="草稿质量规则检查")
def item_check(request, code: str):
    violations = services.check_item(_managed(request, code))
    return {"passed": not violations, "violations": [v.as_dict() for v in violations]}


@router.post("/items/{code}/publish", response=with_errors({201: VersionOut}), summary="发布草稿为新版本")
def item_publish(request, code: str, payload: PublishIn):
    version = services.item_publish(actor=request.auth, item=_managed(request, code), note=payload.note)
    return Status(201, selectors.version_get(item_code=code, number=version.number))


@router.post("/items/{code}/suspend", response=with_errors(ItemDetailOut), summary="暂停事项")
def item_suspend(request, code: str, payload: ReasonIn):
    services.item_suspend(actor=request.auth, item=_managed(request, code), reason=payload.reason)
    return selectors.item_get(code=code)


@router.post("/items/{code}/resume", response=with_errors(ItemDetailOut), summary="恢复事项")
def item_resume(request, code: str):
    services.item_resume(actor=request.auth, item=_managed(request, code))
    return selectors.item_get(code=code)


@router.post("/items/{code}/cancel", response=with_errors(ItemDetailOut), summary="取消事项")
def item_cancel(request, code: str, payload: ReasonIn):
    services.item_cancel(actor=request.auth, item=_managed(request, code), reason=payload.reason)
    return selectors.item_get(code=code)


class RuleOut(Schema):
    code: str
    title: str


@router.get("/rules", response=with_errors(list[RuleOut]), auth=None, summary="事项质量规则")
def rule_list(request):
    return [{"code": c, "title": t} for c, t in quality.rule_titles().items()]

"""API: regions, departments, halls and windows."""

from __future__ import annotations

from ninja import Query, Router, Schema, Status
from pydantic import Field

from yiwang.core.api import PageQuery, page, with_errors

from . import selectors, services

router = Router(tags=["区划与机构 directory"])


class RegionOut(Schema):
    code: str
    name: str
    full_name: str
    level: int
    level_name: str = Field(alias="get_level_display")
    parent_code: str | None = Field(alias="parent_id")


class RegionDetailOut(RegionOut):
    ancestors: list[RegionOut]
    children_count: int


class RegionQuery(PageQuery):
    parent: str | None = Field(None, description="上级区划代码；留空返回省级")
    q: str | None = Field(None, description="按名称查找", max_length=50)


@router.get("/regions", response=with_errors(list[RegionOut]), auth=None, summary="区划列表")
def region_list(request, query: Query[RegionQuery]):
    if query.q:
        return list(selectors.region_search(q=query.q, limit=min(max(query.limit, 1), 100)))
    if query.parent:
        selectors.region_get(code=query.parent)
    return page(selectors.region_children(code=query.parent), limit=query.limit, offset=query.offset)


@router.get("/regions/{code}", response=with_errors(RegionDetailOut), auth=None, summary="区划详情")
def region_detail(request, code: str):
    region = selectors.region_get(code=code)
    region.ancestors = selectors.region_ancestors(region=region)
    region.children_count = region.children.count()
    return region


class DepartmentOut(Schema):
    id: int
    name: str
    short_name: str
    credit_code: str | None
    region_code: str = Field(alias="region_id")
    region_name: str = Field(alias="region.full_name")
    parent_id: int | None
    holds_items: bool
    phone: str
    address: str


class DepartmentQuery(PageQuery):
    region: str | None = Field(None, description="区划代码（含下级）")
    holds_items: bool | None = None


class DepartmentIn(Schema):
    name: str = Field(max_length=200)
    region_code: str = Field(min_length=12, max_length=12)
    credit_code: str | None = Field(None, max_length=30)
    short_name: str = Field("", max_length=100)
    parent_id: int | None = None
    holds_items: bool = True
    phone: str = Field("", max_length=50)
    address: str = Field("", max_length=300)


class DepartmentPatch(Schema):
    name: str | None = Field(None, max_length=200)
    short_name: str | None = Field(None, max_length=100)
    credit_code: str | None = Field(None, max_length=30)
    holds_items: bool | None = None
    phone: str | None = Field(None, max_length=50)
    address: str | None = Field(None, max_length=300)
    is_active: bool | None = None


@router.get("/departments", response=with_errors(list[DepartmentOut]), auth=None, summary="部门列表")
def department_list(request, query: Query[DepartmentQuery]):
    if query.region:
        selectors.region_get(code=query.region)
    qs = selectors.department_list(region_code=query.region, holds_items=query.holds_items)
    return page(qs, limit=query.limit, offset=query.offset)


@router.get("/departments/{department_id}", response=with_errors(DepartmentOut), auth=None, summary="部门详情")
def department_detail(request, department_id: int):
    return selectors.department_get(department_id=department_id)


@router.post("/departments", response=with_errors({201: DepartmentOut}), summary="新增部门")
def department_create(request, payload: DepartmentIn):
    dept = services.department_create(actor=request.auth, **payload.dict())
    return Status(201, selectors.department_get(department_id=dept.pk))


@router.patch("/departments/{department_id}", response=with_errors(DepartmentOut), summary="修改部门")
def department_update(request, department_id: int, payload: DepartmentPatch):
    changes = payload.dict(exclude_unset=True)
    services.department_update(actor=request.auth, department_id=department_id, **changes)
    return selectors.department_get(department_id=department_id)


class WindowOut(Schema):
    id: int
    number: str
    name: str
    kind: str
    kind_name: str = Field(alias="get_kind_display")
    department_ids: list[int]

    @staticmethod
    def resolve_department_ids(obj) -> list[int]:
        return [d.pk for d in obj.departments.all()]


class HallOut(Schema):
    id: int
    name: str
    kind: str
    kind_name: str = Field(alias="get_kind_display")
    region_code: str = Field(alias="region_id")
    region_name: str = Field(alias="region.full_name")
    address: str
    opening_hours: str
    phone: str


class HallDetailOut(HallOut):
    traffic: str
    windows: list[WindowOut]

    @staticmethod
    def resolve_windows(obj) -> list:
        return list(selectors.hall_windows(hall=obj))


class HallQuery(PageQuery):
    region: str | None = Field(None, description="区划代码（含下级）")


@router.get("/halls", response=with_errors(list[HallOut]), auth=None, summary="服务大厅列表")
def hall_list(request, query: Query[HallQuery]):
    if query.region:
        selectors.region_get(code=query.region)
    return page(selectors.hall_list(region_code=query.region), limit=query.limit, offset=query.offset)


@router.get("/halls/{hall_id}", response=with_errors(HallDetailOut), auth=None, summary="服务大厅详情（含窗口）")
def hall_detail(request, hall_id: int):
    return selectors.hall_get(hall_id=hall_id)

"""Writes to the directory: region import, departments, halls and windows (each an audited action)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from yiwang.core import audit
from yiwang.core.actions import action, lock
from yiwang.core.errors import NotFound, ValidationFailed
from yiwang.core.ids import validate_credit_code
from yiwang.core.permissions import policy

from . import codes
from .importers import ImportReport, import_regions
from .models import Department, Region, ServiceHall, Window


@action
def regions_import(
    *, actor: Any, directory: Path, strict: bool = False, progress: Callable[[int], None] | None = None
) -> ImportReport:
    """导入统计用区划代码 — see :mod:`yiwang.directory.importers`."""
    policy.require(actor, "directory.import")
    report = import_regions(directory, strict=strict, progress=progress)
    audit.record(
        actor=actor,
        action="directory.regions_import",
        object_type="directory.region",
        summary={
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "errors": len(report.errors),
            "source": str(directory),
        },
    )
    return report


def _region(code: str) -> Region:
    codes.validate(code)
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise NotFound(f"区划 {code} 不存在。", code="region_not_found")
    return region


def _clean_text(value: str, label: str, *, max_length: int, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationFailed(f"请填写{label}。", code="field_required", details={"field": label})
    if len(value) > max_length:
        raise ValidationFailed(f"{label}不能超过{max_length}个字符。", code="field_too_long", details={"field": label})
    return value


@action
def department_create(
    *,
    actor: Any,
    name: str,
    region_code: str,
    credit_code: str | None = None,
    short_name: str = "",
    parent_id: int | None = None,
    holds_items: bool = True,
    phone: str = "",
    address: str = "",
) -> Department:
    """新增部门（实施主体）."""
    region = _region(region_code)
    policy.require(actor, "directory.department.manage", region)
    name = _clean_text(name, "部门名称", max_length=200)
    code = validate_credit_code(credit_code) if credit_code else None
    if code and Department.objects.filter(credit_code=code).exists():
        raise ValidationFailed("该统一社会信用代码已被其他部门使用。", code="credit_code_taken")
    if Department.objects.filter(region=region, name=name).exists():
        raise ValidationFailed("本区划内已有同名部门。", code="department_name_taken")
    parent = None
    if parent_id is not None:
        parent = Department.objects.filter(pk=parent_id).first()
        if parent is None or not codes.contains(parent.region_id, region.code):
            raise ValidationFailed("上级部门应属于本区划或其上级区划。", code="invalid_parent")
    dept = Department.objects.create(
        name=name,
        short_name=short_name.strip(),
        credit_code=code,
        region=region,
        parent=parent,
        holds_items=holds_items,
        phone=phone.strip(),
        address=address.strip(),
    )
    audit.record(
        actor=actor,
        action="directory.department_create",
        obj=dept,
        region_code=region.code,
        summary={"name": name, "credit_code": code, "region": region.code},
    )
    return dept


@action
def department_update(*, actor: Any, department_id: int, **changes: Any) -> Department:
    """修改部门信息 (name, short_name, credit_code, holds_items, phone, address, is_active)."""
    dept = lock(Department.objects.filter(pk=department_id), missing="部门不存在。")
    policy.require(actor, "directory.department.manage", dept)
    allowed = {"name", "short_name", "credit_code", "holds_items", "phone", "address", "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed("不能修改这些字段。", code="field_not_editable", details={"fields": sorted(unknown)})
    blank = sorted(k for k, v in changes.items() if v is None and k != "credit_code")
    if blank:
        raise ValidationFailed("这些字段不能为空。", code="field_required", details={"fields": blank})
    before = {}
    if "name" in changes:
        changes["name"] = _clean_text(changes["name"], "部门名称", max_length=200)
    if changes.get("credit_code"):
        changes["credit_code"] = validate_credit_code(changes["credit_code"])
        if Department.objects.filter(credit_code=changes["credit_code"]).exclude(pk=dept.pk).exists():
            raise ValidationFailed("该统一社会信用代码已被其他部门使用。", code="credit_code_taken")
    elif "credit_code" in changes:
        changes["credit_code"] = None
    for key, value in changes.items():
        before[key] = getattr(dept, key)
        setattr(dept, key, value)
    dept.save()
    audit.record(
        actor=actor,
        action="directory.department_update",
        obj=dept,
        region_code=dept.region_id,
        summary={"before": before, "after": changes},
    )
    return dept


@action
def hall_create(
    *,
    actor: Any,
    name: str,
    kind: str,
    region_code: str,
    address: str,
    opening_hours: str,
    phone: str = "",
    traffic: str = "",
) -> ServiceHall:
    """新增服务大厅."""
    region = _region(region_code)
    policy.require(actor, "directory.hall.manage", region)
    if kind not in ServiceHall.Kind.values:
        raise ValidationFailed("大厅类型无效。", code="invalid_choice", details={"field": "kind"})
    hall = ServiceHall.objects.create(
        name=_clean_text(name, "大厅名称", max_length=200),
        kind=kind,
        region=region,
        address=_clean_text(address, "地址", max_length=300),
        opening_hours=_clean_text(opening_hours, "办公时间", max_length=300),
        phone=phone.strip(),
        traffic=traffic.strip(),
    )
    audit.record(
        actor=actor,
        action="directory.hall_create",
        obj=hall,
        region_code=region.code,
        summary={"name": hall.name, "kind": kind},
    )
    return hall


@action
def window_create(
    *, actor: Any, hall_id: int, number: str, name: str, kind: str, department_ids: Iterable[int] = ()
) -> Window:
    """新增窗口, with the departments it serves."""
    hall = lock(ServiceHall.objects.filter(pk=hall_id), missing="服务大厅不存在。")
    policy.require(actor, "directory.hall.manage", hall)
    if kind not in Window.Kind.values:
        raise ValidationFailed("窗口类型无效。", code="invalid_choice", details={"field": "kind"})
    number = _clean_text(number, "窗口号", max_length=20)
    if Window.objects.filter(hall=hall, number=number).exists():
        raise ValidationFailed("该大厅已有此窗口号。", code="window_number_taken")
    departments = list(Department.objects.filter(pk__in=list(department_ids)))
    window = Window.objects.create(
        hall=hall, number=number, name=_clean_text(name, "窗口名称", max_length=100), kind=kind
    )
    window.departments.set(departments)
    audit.record(
        actor=actor,
        action="directory.window_create",
        obj=window,
        region_code=hall.region_id,
        summary={"hall": hall.pk, "number": number, "kind": kind, "departments": [d.pk for d in departments]},
    )
    return window

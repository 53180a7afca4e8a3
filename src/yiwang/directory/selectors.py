"""Reads of the directory."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from yiwang.core.errors import NotFound
from yiwang.core.permissions import policy

from . import codes
from .models import Department, Region, ServiceHall, Window


def region_get(*, code: str) -> Region:
    codes.validate(code)
    region = Region.objects.select_related("parent").filter(code=code).first()
    if region is None:
        raise NotFound(f"区划 {code} 不存在。", code="region_not_found")
    return region


def region_ancestors(*, region: Region) -> list[Region]:
    """Province … parent, from the top (one query)."""
    chain = []
    code = region.code
    while (parent := codes.parent_code(code)) is not None:
        chain.append(parent)
        code = parent
    found = Region.objects.in_bulk(chain)
    return [found[c] for c in reversed(chain) if c in found]


def region_children(*, code: str | None) -> QuerySet[Region]:
    if code is None:
        return Region.objects.filter(parent__isnull=True)
    return Region.objects.filter(parent_id=code)


def region_search(*, q: str, limit: int = 20) -> QuerySet[Region]:
    q = q.replace("\x00", "").strip()  # PostgreSQL text cannot hold NUL
    return Region.objects.filter(name__contains=q)[:limit]


def within(queryset: QuerySet, *, region_code: str, field: str = "region__code") -> QuerySet:
    """Rows whose region is ``region_code`` or below it."""
    return queryset.filter(**{f"{field}__startswith": codes.prefix(region_code)})


def department_list(*, region_code: str | None = None, holds_items: bool | None = None) -> QuerySet[Department]:
    qs = Department.objects.select_related("region").filter(is_active=True)
    if region_code:
        qs = within(qs, region_code=region_code)
    if holds_items is not None:
        qs = qs.filter(holds_items=holds_items)
    return qs


def department_get(*, department_id: int) -> Department:
    dept = Department.objects.select_related("region", "parent").filter(pk=department_id).first()
    if dept is None:
        raise NotFound("部门不存在。", code="department_not_found")
    return dept


def hall_list(*, region_code: str | None = None) -> QuerySet[ServiceHall]:
    qs = ServiceHall.objects.select_related("region").filter(is_active=True).annotate(window_count=Count("windows"))
    if region_code:
        qs = within(qs, region_code=region_code)
    return qs


def hall_get(*, hall_id: int) -> ServiceHall:
    hall = ServiceHall.objects.select_related("region").filter(pk=hall_id).first()
    if hall is None:
        raise NotFound("服务大厅不存在。", code="hall_not_found")
    return hall


def hall_windows(*, hall: ServiceHall) -> QuerySet[Window]:
    return hall.windows.filter(is_active=True).prefetch_related("departments")


def department_list_for(*, user: Any, action: str = "directory.department.view") -> QuerySet[Department]:
    return policy.filter(user, action, department_list())

"""Reads of the catalog. Other apps (cases, search, web, API) use these names; keep them stable."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.db.models import F, Q, QuerySet

from yiwang.core.errors import NotFound

from . import codes
from .bundles import stages
from .elements import FormDefinition, ItemElements, Material, merge_forms, merge_materials
from .models import Bundle, BundleMember, CatalogItem, ServiceItem, ServiceItemVersion

LIVE = (ServiceItem.State.PUBLISHED,)


# --- service items -----------------------------------------------------------------------------------
def item_get(*, code: str) -> ServiceItem:
    item = (
        ServiceItem.objects.select_related("department", "region", "catalog_item", "current_version")
        .filter(code=code)
        .first()
    )
    if item is None:
        raise NotFound("事项不存在。", code="item_not_found", details={"code": code})
    return item


def current_version(*, item: ServiceItem) -> ServiceItemVersion | None:
    """The version in force (the latest published one), whatever the item's state; ``None`` if never published."""
    return item.current_version


def item_version_at(*, item_code: str, at: dt.datetime) -> ServiceItemVersion:
    """The version that was in force for ``item_code`` at ``at`` (the version a case filed then points at).

    Suspended or cancelled versions are returned too (their ``state_at(at)`` tells what they were then).
    Raises ``NotFound`` (``item_version_not_found``) when the item did not exist or was not published yet.
    """
    version = (
        ServiceItemVersion.objects.select_related("item", "department", "region")
        .filter(item__code=item_code, published_at__lte=at)
        .filter(Q(superseded_at__isnull=True) | Q(superseded_at__gt=at))
        .order_by("-number")
        .first()
    )
    if version is None:
        raise NotFound(
            "该时间点事项尚无已发布版本。",
            code="item_version_not_found",
            details={"item_code": item_code, "at": at.isoformat()},
        )
    return version


def item_versions(*, item: ServiceItem) -> QuerySet[ServiceItemVersion]:
    return item.versions.order_by("-number")


def version_get(*, item_code: str, number: int) -> ServiceItemVersion:
    version = (
        ServiceItemVersion.objects.select_related("item", "department", "region")
        .filter(item__code=item_code, number=number)
        .first()
    )
    if version is None:
        raise NotFound(
            "版本不存在。", code="item_version_not_found", details={"item_code": item_code, "number": number}
        )
    return version


def published_items(
    *,
    region_prefix: str | None = None,
    department_id: int | None = None,
    item_type: str | None = None,
    theme: str | None = None,
    service_object: str | None = None,
    online: bool | None = None,
    level: int | None = None,
    q: str | None = None,
) -> QuerySet[ServiceItem]:
    """Items people can apply for now (state published), with their current version joined.

    ``level`` is the region level of the implementing region (1 province … 5 village).
    """
    qs = ServiceItem.objects.filter(state__in=LIVE, current_version__isnull=False).select_related(
        "current_version", "department", "region"
    )
    if region_prefix:
        qs = qs.filter(region__code__startswith=region_prefix)
    if department_id:
        qs = qs.filter(department_id=department_id)
    if item_type:
        qs = qs.filter(current_version__item_type=item_type)
    if theme:
        qs = qs.filter(current_version__themes__contains=f"|{theme}|")
    if service_object:
        qs = qs.filter(current_version__service_objects__contains=f"|{service_object}|")
    if online is not None:
        qs = qs.filter(current_version__is_online=online)
    if level:
        qs = qs.filter(region__level=level)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code=q))
    return qs.order_by("region_id", "department__sort_order", "department_id", "sort_order", "code")


def items_for_staff(*, user: Any) -> QuerySet[ServiceItem]:
    """All items (any state) the user may manage."""
    from yiwang.core.permissions import policy

    return policy.filter(user, "catalog.item.manage", ServiceItem.objects.select_related("department", "region"))


def catalog_item_get(*, code: str) -> CatalogItem:
    obj = CatalogItem.objects.filter(code=code).first()
    if obj is None:
        raise NotFound("基本目录事项不存在。", code="catalog_item_not_found")
    return obj


def _guide_text(e: ItemElements) -> str:
    parts = [
        e.name,
        e.short_name,
        " ".join(e.aliases),
        " ".join(c.text for c in e.conditions),
        " ".join(m.name for m in e.materials),
        " ".join(f"{s.display_name} {s.standard}" for s in e.steps),
        e.result.name,
        " ".join(p.address for p in e.places),
    ]
    return "\n".join(p for p in parts if p)


def index_document(item: ServiceItem, version: ServiceItemVersion) -> dict[str, Any]:
    """The search document of one published item."""
    e = version.data
    return {
        "kind": "item",
        "code": item.code,
        "name": version.name,
        "short_name": e.short_name,
        "aliases": list(e.aliases),
        "item_type": version.item_type,
        "item_type_name": codes.item_type_name(version.item_type),
        "department": item.department.name,
        "department_id": item.department_id,
        "region": item.region.full_name or item.region.name,
        "region_code": item.region_id,
        "region_level": item.region.level,
        "themes": list(dict.fromkeys([*e.personal_themes, *e.corporate_themes])),
        "personal_themes": list(e.personal_themes),
        "corporate_themes": list(e.corporate_themes),
        "service_objects": [codes.SERVICE_OBJECTS.get(o, o) for o in e.service_objects],
        "online": version.is_online,
        "online_depth": version.online_depth,
        "visits": version.visits,
        "promised_limit": version.promised_limit,
        "legal_limit": version.legal_limit,
        "version": version.number,
        "published_at": version.published_at,
        "guide_text": _guide_text(e),
        "faq_text": "\n".join(f"{q.question}\n{q.answer}" for q in e.faq),
        "materials": [m.name for m in e.materials],
    }


def iter_index_documents(*, codes_: list[str] | None = None, chunk_size: int = 500) -> Iterator[dict[str, Any]]:
    """One dict per published item (optionally only ``codes_``), for the search index."""
    qs = published_items()
    if codes_ is not None:
        qs = qs.filter(code__in=codes_)
    for item in qs.iterator(chunk_size=chunk_size):
        yield index_document(item, item.current_version)


# --- bundles -----------------------------------------------------------------------------------------
def published_bundles(*, region_prefix: str | None = None, audience: str | None = None) -> QuerySet[Bundle]:
    qs = Bundle.objects.filter(state=Bundle.State.PUBLISHED).select_related("region", "lead_department")
    if region_prefix:
        qs = qs.filter(region__code__startswith=region_prefix)
    if audience:
        qs = qs.filter(audience=audience)
    return qs.order_by("region_id", "code")


def bundle_get(*, code: str, published_only: bool = True) -> Bundle:
    qs = Bundle.objects.select_related("region", "lead_department")
    if published_only:
        qs = qs.filter(state=Bundle.State.PUBLISHED)
    bundle = qs.filter(code=code).first()
    if bundle is None:
        raise NotFound("一件事不存在。", code="bundle_not_found", details={"code": code})
    return bundle


def bundle_members(*, bundle: Bundle) -> list[BundleMember]:
    return list(
        bundle.members.select_related("item", "item__current_version", "item__department", "item__region").order_by(
            "order", "pk"
        )
    )


def bundle_applicable_members(*, bundle: Bundle, answers: dict[str, Any]) -> list[BundleMember]:
    """The members that apply for these answers to the bundle's 情形 questions."""
    return [m for m in bundle_members(bundle=bundle) if m.applies(answers)]


def bundle_stages(*, members: list[BundleMember]) -> list[list[BundleMember]]:
    return stages((m.order, m) for m in members)


def bundle_form(*, members: list[BundleMember]) -> tuple[FormDefinition, dict[str, list[str]]]:
    """One merged form (一表申请) and the map field → member item codes."""
    forms = [(m.item.code, m.item.current_version.data.form) for m in members if m.item.current_version_id]
    return merge_forms(forms)


def bundle_materials(*, members: list[BundleMember]) -> list[tuple[Material, list[str]]]:
    """One merged material list (一次提交), duplicates removed."""
    pairs = [
        (m.item.code, mat)
        for m in members
        if m.item.current_version_id
        for mat in m.item.current_version.data.materials
    ]
    return merge_materials(pairs)


def bundle_index_document(bundle: Bundle) -> dict[str, Any]:
    members = bundle_members(bundle=bundle)
    return {
        "kind": "bundle",
        "code": bundle.code,
        "name": bundle.name,
        "audience": bundle.audience,
        "stage": bundle.stage,
        "department": bundle.lead_department.name,
        "region": bundle.region.full_name or bundle.region.name,
        "region_code": bundle.region_id,
        "description": bundle.description,
        "item_codes": [m.item.code for m in members],
        "item_names": [m.item.name for m in members],
        "promised_days": bundle.promised_days,
        "guide_text": "\n".join([bundle.description, *[m.item.name for m in members]]),
    }


def iter_bundle_index_documents() -> Iterator[dict[str, Any]]:
    for bundle in published_bundles():
        yield bundle_index_document(bundle)


# --- quality report (事项质量报告) ------------------------------------------------------------------------
def quality_report(
    *, region_prefix: str | None = None, department_id: int | None = None, user: Any = None
) -> list[dict[str, Any]]:
    """Per department: how many items, how many fail the quality rules, and each violation.

    Checks the element set that is (or would be) published: the draft of every item not cancelled.
    """
    from . import quality

    qs = ServiceItem.objects.exclude(state=ServiceItem.State.CANCELLED).select_related("department", "region")
    if user is not None:
        from yiwang.core.permissions import policy

        qs = policy.filter(user, "catalog.item.manage", qs)
    if region_prefix:
        qs = qs.filter(region__code__startswith=region_prefix)
    if department_id:
        qs = qs.filter(department_id=department_id)
    by_dept: dict[int, dict[str, Any]] = {}
    for item in qs.order_by("department__region_id", "department__name", "code").iterator(chunk_size=500):
        entry = by_dept.setdefault(
            item.department_id,
            {
                "department_id": item.department_id,
                "department": item.department.name,
                "region": item.region.full_name or item.region.name,
                "items": 0,
                "failing": 0,
                "by_rule": {},
                "problems": [],
            },
        )
        entry["items"] += 1
        try:
            violations = quality.check(ItemElements.model_validate(item.draft))
        except Exception as exc:  # a draft that no longer parses is itself a problem
            violations = [quality.Violation("elements_invalid", "", str(exc)[:200])]
        if violations:
            entry["failing"] += 1
            for v in violations:
                entry["by_rule"][v.rule] = entry["by_rule"].get(v.rule, 0) + 1
            entry["problems"].append(
                {"code": item.code, "name": item.name, "violations": [v.as_dict() for v in violations]}
            )
    return list(by_dept.values())


# --- portal browsing ------------------------------------------------------------------------------------
def departments_with_items(*, region_prefix: str | None = None) -> list[dict[str, Any]]:
    """Departments that have published items, with their counts, grouped in region order."""
    from django.db.models import Count

    from yiwang.directory.models import Department

    qs = Department.objects.filter(service_items__state=ServiceItem.State.PUBLISHED)
    if region_prefix:
        qs = qs.filter(region__code__startswith=region_prefix)
    rows = (
        qs.values("pk", "name", "region_id", "region__name", "region__full_name", "region__level", "sort_order")
        .annotate(n=Count("service_items"))
        .order_by("region__level", "region_id", "sort_order", "name")
    )
    return list(rows)


def theme_counts(*, audience: str | None = None, region_prefix: str | None = None) -> list[tuple[str, int]]:
    """(theme, number of published items) for personal or corporate lifecycle themes, most items first."""
    qs = ServiceItemVersion.objects.filter(item__state=ServiceItem.State.PUBLISHED, item__current_version=F("pk"))
    if region_prefix:
        qs = qs.filter(region__code__startswith=region_prefix)
    counts: dict[str, int] = {}
    field = {"personal": "personal_themes", "corporate": "corporate_themes"}.get(audience or "")
    for elements_themes in qs.values_list("elements", flat=True).iterator(chunk_size=1000) if field else []:
        for theme in elements_themes.get(field, []):
            counts[theme] = counts.get(theme, 0) + 1
    if not field:
        for text in qs.values_list("themes", flat=True):
            for theme in filter(None, text.split("|")):
                counts[theme] = counts.get(theme, 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def level_counts(*, region_prefix: str | None = None) -> list[tuple[int, int]]:
    from django.db.models import Count

    qs = published_items(region_prefix=region_prefix).order_by()
    return sorted((row["region__level"], row["n"]) for row in qs.values("region__level").annotate(n=Count("pk")))


def published_items_by_audience(*, audience: str, theme: str) -> QuerySet[ServiceItem]:
    """Published items with ``theme`` among their personal (or corporate) themes."""
    qs = published_items(theme=theme)
    key = "personal_themes" if audience == "personal" else "corporate_themes"
    codes_ = [
        code
        for code, elements in qs.values_list("code", "current_version__elements")
        if theme in (elements or {}).get(key, [])
    ]
    return published_items().filter(code__in=codes_)

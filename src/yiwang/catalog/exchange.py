"""The project's own catalog exchange format (JSON): export and import, lossless.

::

    {"format": "yiwang-catalog", "version": 1, "exported_at": "...",
     "catalog_items": [{code, name, item_type, legal_basis, use_levels, parent, state, version}],
     "items": [{code, handle_item_code, catalog_code, department: {name, region, credit_code}, region,
                state, sort_order, draft, draft_changed,
                versions: [{number, published_at, published_by, superseded_at, state, withdrawn_at, note,
                            elements}]}],
     "bundles": [{code, name, audience, stage, description, region, lead_department: {...},
                  cooperating_departments: [...], promised_days, scenarios, state, published_at,
                  windows: [{hall, number}], members: [{item, order, condition, condition_text, is_optional}]}]}

Importing creates what is missing and leaves identical things alone; an item whose history differs gets
the versions it lacks (by number), so export → import into an empty database → export gives the same file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from yiwang.core import audit
from yiwang.core.actions import action
from yiwang.core.errors import ValidationFailed
from yiwang.core.permissions import policy
from yiwang.directory.models import Department, Region, Window

from . import events
from .elements import ItemElements
from .imports import ImportReport, RecordProblem
from .models import Bundle, BundleMember, CatalogItem, ServiceItem, ServiceItemVersion
from .services import content_hash, version_columns

FORMAT = "yiwang-catalog"
VERSION = 1


def _ts(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _parse_ts(value: Any, field: str) -> dt.datetime | None:
    if value in (None, ""):
        return None
    parsed = parse_datetime(str(value).replace("Z", "+00:00"))
    if parsed is None or parsed.tzinfo is None:
        raise ValidationFailed(f"时间格式不正确：{field}", code="exchange_invalid", details={"field": field})
    return parsed


def _dept_ref(d: Department) -> dict[str, Any]:
    return {"name": d.name, "region": d.region_id, "credit_code": d.credit_code}


def export_catalog_items() -> Iterator[dict[str, Any]]:
    for c in CatalogItem.objects.select_related("parent").order_by("code").iterator(chunk_size=1000):
        yield {
            "code": c.code,
            "name": c.name,
            "item_type": c.item_type,
            "legal_basis": c.legal_basis,
            "use_levels": c.use_levels,
            "parent": c.parent.code if c.parent_id else None,
            "state": c.state,
            "version": c.version,
        }


def export_items() -> Iterator[dict[str, Any]]:
    items = ServiceItem.objects.select_related("department", "catalog_item").order_by("code")
    for start in range(0, items.count(), 500):
        chunk = list(items[start : start + 500])
        versions: dict[int, list[ServiceItemVersion]] = {}
        for v in ServiceItemVersion.objects.filter(item__in=chunk).order_by("item_id", "number"):
            versions.setdefault(v.item_id, []).append(v)
        for i in chunk:
            yield {
                "code": i.code,
                "handle_item_code": i.handle_item_code,
                "catalog_code": i.catalog_item.code,
                "department": _dept_ref(i.department),
                "region": i.region_id,
                "name": i.name,
                "state": i.state,
                "sort_order": i.sort_order,
                "draft": i.draft,
                "draft_changed": i.draft_changed,
                "versions": [
                    {
                        "number": v.number,
                        "published_at": _ts(v.published_at),
                        "published_by": v.published_by_label,
                        "superseded_at": _ts(v.superseded_at),
                        "state": v.state,
                        "withdrawn_at": _ts(v.withdrawn_at),
                        "note": v.note,
                        "elements": v.elements,
                    }
                    for v in versions.get(i.pk, [])
                ],
            }


def export_bundles() -> Iterator[dict[str, Any]]:
    for b in Bundle.objects.select_related("region", "lead_department").order_by("code"):
        yield {
            "code": b.code,
            "name": b.name,
            "audience": b.audience,
            "stage": b.stage,
            "description": b.description,
            "region": b.region_id,
            "lead_department": _dept_ref(b.lead_department),
            "cooperating_departments": [_dept_ref(d) for d in b.cooperating_departments.order_by("region_id", "name")],
            "promised_days": b.promised_days,
            "scenarios": b.scenarios,
            "state": b.state,
            "published_at": _ts(b.published_at),
            "windows": [
                {"hall": w.hall.name, "number": w.number}
                for w in b.windows.select_related("hall").order_by("hall__name", "number")
            ],
            "members": [
                {
                    "item": m.item.code,
                    "order": m.order,
                    "condition": m.condition,
                    "condition_text": m.condition_text,
                    "is_optional": m.is_optional,
                }
                for m in b.members.select_related("item").order_by("order", "item__code")
            ],
        }


def export_catalog() -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": _ts(timezone.now()),
        "catalog_items": list(export_catalog_items()),
        "items": list(export_items()),
        "bundles": list(export_bundles()),
    }


# --- import --------------------------------------------------------------------------------------------
def _department(ref: dict[str, Any], report: ImportReport) -> Department:
    if not isinstance(ref, dict) or not ref.get("name") or not ref.get("region"):
        raise ValidationFailed("实施主体引用不完整。", code="exchange_invalid", details={"department": ref})
    region = Region.objects.filter(code=ref["region"]).first()
    if region is None:
        raise ValidationFailed(
            f"区划 {ref['region']} 不存在，请先导入区划。", code="exchange_invalid", details={"region": ref["region"]}
        )
    dept = Department.objects.filter(region=region, name=ref["name"]).first()
    if dept is None:
        credit = ref.get("credit_code") or None
        if credit and Department.objects.filter(credit_code=credit).exists():
            credit = None
        dept = Department.objects.create(region=region, name=ref["name"], credit_code=credit)
        report.departments_created += 1
    return dept


def _import_catalog_items(rows: list[dict[str, Any]], report: ImportReport) -> None:
    existing = {c.code: c for c in CatalogItem.objects.all()}
    for row in rows:
        if row["code"] not in existing:
            obj = CatalogItem.objects.create(
                code=row["code"],
                name=row["name"],
                item_type=row["item_type"],
                legal_basis=row.get("legal_basis") or [],
                use_levels=row.get("use_levels") or [],
                state=row.get("state", CatalogItem.State.ACTIVE),
                version=row.get("version", 1),
            )
            existing[obj.code] = obj
            report.catalog_created += 1
    for row in rows:
        if row.get("parent") and row["parent"] in existing:
            obj = existing[row["code"]]
            if obj.parent_id != existing[row["parent"]].pk:
                obj.parent = existing[row["parent"]]
                obj.save(update_fields=["parent"])


def _import_item(row: dict[str, Any], report: ImportReport) -> bool:
    """Create or complete one item; True when something changed."""
    cat = CatalogItem.objects.filter(code=row["catalog_code"]).first()
    if cat is None:
        raise ValidationFailed(
            "基本目录事项不存在。", code="exchange_invalid", details={"catalog_code": row["catalog_code"]}
        )
    dept = _department(row["department"], report)
    region_code = row.get("region") or dept.region_id
    draft = ItemElements.parse(row.get("draft") or {}).dump() if row.get("draft") else {}
    item = ServiceItem.objects.filter(code=row["code"]).first()
    created = item is None
    if item is None:
        item = ServiceItem.objects.create(
            code=row["code"],
            handle_item_code=row.get("handle_item_code", ""),
            catalog_item=cat,
            department=dept,
            region_id=region_code,
            name=row.get("name") or draft.get("name", row["code"]),
            state=row.get("state", ServiceItem.State.DRAFT),
            sort_order=row.get("sort_order", 0),
            draft=draft,
            draft_changed=row.get("draft_changed", True),
        )
    have = set(item.versions.values_list("number", flat=True))
    added = []
    for v in row.get("versions", []):
        if v["number"] in have:
            continue
        elements = ItemElements.parse(v["elements"])
        data = elements.dump()
        added.append(
            ServiceItemVersion(
                item=item,
                number=v["number"],
                published_at=_parse_ts(v["published_at"], "published_at"),
                published_by_label=v.get("published_by", "")[:150],
                superseded_at=_parse_ts(v.get("superseded_at"), "superseded_at"),
                state=v.get("state", ServiceItemVersion.State.PUBLISHED),
                withdrawn_at=_parse_ts(v.get("withdrawn_at"), "withdrawn_at"),
                note=v.get("note", ""),
                content_hash=content_hash(data),
                department=dept,
                region_id=region_code,
                elements=data,
                **version_columns(elements),
            )
        )
    if not added and not created:
        return False
    if added:
        # Versions already here that the file supersedes.
        latest_new = max(added, key=lambda v: v.number)
        ServiceItemVersion.objects.filter(item=item, number__lt=latest_new.number, superseded_at__isnull=True).update(
            superseded_at=min(v.published_at for v in added)
        )
        ServiceItemVersion.objects.bulk_create(added)
        current = item.versions.order_by("-number").first()
        item.current_version = current
        item.state = row.get("state", item.state)
        item.draft = draft or current.elements
        item.draft_changed = row.get("draft_changed", False)
        item.name = row.get("name") or current.name
        item.save()
    return True


def _import_bundle(row: dict[str, Any], report: ImportReport) -> bool:
    bundle = Bundle.objects.filter(code=row["code"]).first()
    if bundle is not None:
        return False
    region = Region.objects.filter(code=row["region"]).first()
    if region is None:
        raise ValidationFailed("区划不存在。", code="exchange_invalid", details={"region": row["region"]})
    bundle = Bundle.objects.create(
        code=row["code"],
        name=row["name"],
        audience=row.get("audience", Bundle.Audience.PERSONAL),
        stage=row.get("stage", ""),
        description=row.get("description", ""),
        region=region,
        lead_department=_department(row["lead_department"], report),
        promised_days=row.get("promised_days"),
        scenarios=row.get("scenarios") or [],
        state=row.get("state", Bundle.State.DRAFT),
        published_at=_parse_ts(row.get("published_at"), "published_at"),
    )
    bundle.cooperating_departments.set([_department(d, report) for d in row.get("cooperating_departments", [])])
    windows = []
    for w in row.get("windows", []):
        found = Window.objects.filter(hall__name=w.get("hall"), number=w.get("number")).first()
        if found:
            windows.append(found)
    bundle.windows.set(windows)
    items = {i.code: i for i in ServiceItem.objects.filter(code__in=[m["item"] for m in row.get("members", [])])}
    missing = [m["item"] for m in row.get("members", []) if m["item"] not in items]
    if missing:
        raise ValidationFailed("一件事引用了不存在的事项。", code="exchange_invalid", details={"items": missing})
    BundleMember.objects.bulk_create(
        [
            BundleMember(
                bundle=bundle,
                item=items[m["item"]],
                order=m.get("order", 1),
                condition=m.get("condition") or {},
                condition_text=m.get("condition_text", ""),
                is_optional=m.get("is_optional", False),
            )
            for m in row.get("members", [])
        ]
    )
    return True


@action
def import_catalog(*, actor: Any, data: dict[str, Any]) -> ImportReport:
    """Import the own JSON format. Bad items are reported and skipped whole; the rest is imported."""
    policy.require(actor, "catalog.import", None)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValidationFailed("不是 yiwang 事项目录文件。", code="exchange_format_unknown")
    if data.get("version") != VERSION:
        raise ValidationFailed("目录文件版本不受支持。", code="exchange_version_unsupported")
    from django.db import transaction

    report = ImportReport()
    _import_catalog_items(data.get("catalog_items", []), report)
    changed = []
    for n, row in enumerate(data.get("items", []), start=1):
        report.read += 1
        try:
            with transaction.atomic():
                if _import_item(row, report):
                    report.created += 1
                    changed.append(row["code"])
                else:
                    report.unchanged += 1
        except (ValidationFailed, KeyError, TypeError) as exc:
            reason = getattr(exc, "message", None) or f"缺少字段 {exc}"
            details = getattr(exc, "details", None)
            if details:
                reason = f"{reason} {details}"[:500]
            report.errors.append(RecordProblem(n, str(row.get("code", "")) if isinstance(row, dict) else "", reason))
    for n, row in enumerate(data.get("bundles", []), start=1):
        try:
            with transaction.atomic():
                _import_bundle(row, report)
        except (ValidationFailed, KeyError, TypeError) as exc:
            report.errors.append(RecordProblem(n, str(row.get("code", "")), getattr(exc, "message", str(exc))))
    audit.record(
        actor=actor,
        action="catalog.import",
        object_type="catalog.import",
        object_id="json",
        summary={"created": report.created, "unchanged": report.unchanged, "errors": len(report.errors)},
    )
    if changed:
        events.item_published.fire(item_codes=changed)
    return report

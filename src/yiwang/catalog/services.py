"""Writes of the catalog: catalog items, service-item drafts, publication and withdrawal, bundles."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from yiwang.core import audit
from yiwang.core.actions import action, lock
from yiwang.core.errors import Conflict, ValidationFailed
from yiwang.core.permissions import policy
from yiwang.directory.models import Department, Region, Window

from . import codes, events, quality, transitions
from .bundles import validate_condition
from .elements import ItemElements, LegalBasis
from .models import Bundle, BundleMember, CatalogItem, ServiceItem, ServiceItemVersion


# --- helpers -----------------------------------------------------------------------------------------
def content_hash(elements: dict[str, Any]) -> str:
    text = json.dumps(elements, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _bar(values: Iterable[str]) -> str:
    values = [v for v in values if v]
    return ("|" + "|".join(values) + "|") if values else ""


def version_columns(e: ItemElements) -> dict[str, Any]:
    """The hot columns of a version, derived from its element set."""
    cols = {name: getattr(e, name) for name in ServiceItemVersion.HOT_FIELDS}
    cols["has_fees"] = e.has_fees
    cols["material_count"] = len(e.materials)
    cols["themes"] = _bar(dict.fromkeys([*e.personal_themes, *e.corporate_themes]))[:1000]
    cols["personal_themes"] = _bar(e.personal_themes)[:1000]
    cols["corporate_themes"] = _bar(e.corporate_themes)[:1000]
    cols["service_objects"] = _bar(e.service_objects)
    return cols


def apply_catalog(data: dict[str, Any], catalog_item: CatalogItem) -> dict[str, Any]:
    """Fill the elements the catalog item defines (同源); refuse local changes to them."""
    data = dict(data)
    locked = {
        "item_type": catalog_item.item_type,
        "legal_basis": catalog_item.legal_basis,
        "use_levels": catalog_item.use_levels,
    }
    problems = {}
    for key, value in locked.items():
        given = data.get(key)
        if key == "legal_basis" and given:
            given = [LegalBasis.model_validate(b).model_dump() for b in given]
        if given not in (None, [], "") and value not in (None, [], "") and given != value:
            problems[key] = "由基本目录统一规定，实施清单不能修改"
        if value not in (None, [], ""):
            data[key] = value
    if problems:
        raise ValidationFailed(
            "基本目录规定的要素不能在实施清单中修改。", code="catalog_element_locked", details=problems
        )
    data["catalog_code"] = catalog_item.code
    return data


# --- catalog items (基本目录) --------------------------------------------------------------------------
@action
def catalog_item_create(
    *,
    actor: Any,
    code: str,
    name: str,
    item_type: str,
    legal_basis: list[dict[str, Any]] | None = None,
    use_levels: list[int] | None = None,
    parent: CatalogItem | None = None,
) -> CatalogItem:
    policy.require(actor, "catalog.directory.manage", None)
    code, name = code.strip(), name.strip()
    if not code or not name:
        raise ValidationFailed("基本编码和事项名称不能为空。", code="catalog_item_invalid")
    if item_type not in codes.item_types():
        raise ValidationFailed("事项类型不在代码表中。", code="item_type_unknown", details={"item_type": item_type})
    levels = sorted({int(x) for x in (use_levels or [])})
    if any(x not in codes.USE_LEVELS for x in levels):
        raise ValidationFailed("行使层级无效。", code="use_level_unknown", details={"use_levels": levels})
    if CatalogItem.objects.filter(code=code).exists():
        raise Conflict("基本编码已存在。", code="catalog_code_taken", details={"code": code})
    basis = [LegalBasis.model_validate(b).model_dump() for b in (legal_basis or [])]
    obj = CatalogItem.objects.create(
        code=code, name=name, item_type=item_type, legal_basis=basis, use_levels=levels, parent=parent
    )
    audit.record(actor=actor, action="catalog.directory.create", obj=obj, summary={"code": code, "name": name})
    return obj


# --- service items (实施清单) --------------------------------------------------------------------------
@action
def item_create(
    *,
    actor: Any,
    code: str,
    catalog_item: CatalogItem,
    department: Department,
    region: Region | None = None,
    elements: dict[str, Any],
) -> ServiceItem:
    """Create a service item with its first draft (not yet published)."""
    region = region or department.region
    probe = ServiceItem(department=department, region=region)
    policy.require(actor, "catalog.item.manage", probe)
    code = code.strip()
    if not code:
        raise ValidationFailed("实施编码不能为空。", code="item_code_required")
    if ServiceItem.objects.filter(code=code).exists():
        raise Conflict("实施编码已存在。", code="item_code_taken", details={"code": code})
    if not region.code.startswith(department.region.prefix):
        raise ValidationFailed("实施区划应在实施主体所属区划之内。", code="item_region_outside_department")
    parsed = ItemElements.parse(apply_catalog(elements, catalog_item))
    item = ServiceItem.objects.create(
        code=code,
        handle_item_code=parsed.handle_item_code,
        catalog_item=catalog_item,
        department=department,
        region=region,
        name=parsed.name,
        draft=parsed.dump(),
        draft_changed=True,
    )
    audit.record(actor=actor, action="catalog.item.create", obj=item, region_code=region.code, summary={"code": code})
    return item


@action
def item_update_draft(*, actor: Any, item: ServiceItem, elements: dict[str, Any]) -> ServiceItem:
    """Replace the draft element set (validated; 同源 elements stay those of the catalog item)."""
    item = lock(ServiceItem.objects.filter(pk=item.pk))
    policy.require(actor, "catalog.item.manage", item)
    if item.state == ServiceItem.State.CANCELLED:
        raise Conflict("已取消的事项不能再编辑。", code="item_cancelled")
    parsed = ItemElements.parse(apply_catalog(elements, item.catalog_item))
    data = parsed.dump()
    current = item.current_version
    item.draft = data
    item.draft_changed = current is None or current.content_hash != content_hash(data)
    item.name = parsed.name if item.current_version_id is None else item.name
    item.handle_item_code = parsed.handle_item_code
    item.updated_at = timezone.now()
    item.save(update_fields=["draft", "draft_changed", "name", "handle_item_code", "updated_at"])
    audit.record(actor=actor, action="catalog.item.edit", obj=item, region_code=item.region_id, summary={})
    return item


def check_item(item: ServiceItem) -> list[quality.Violation]:
    """The quality-rule violations of the item's draft."""
    return quality.check(ItemElements.parse(item.draft))


def _new_version(
    item: ServiceItem, elements: ItemElements, *, actor: Any, note: str, now, number: int
) -> ServiceItemVersion:
    data = elements.dump()
    is_user = getattr(actor, "pk", None) is not None
    return ServiceItemVersion(
        item=item,
        number=number,
        published_at=now,
        published_by=actor if is_user else None,
        published_by_label=(actor.get_username() if actor is not None else "")[:150],
        note=note[:500],
        content_hash=content_hash(data),
        department_id=item.department_id,
        region_id=item.region_id,
        elements=data,
        **version_columns(elements),
    )


@action
def item_publish(*, actor: Any, item: ServiceItem, note: str = "") -> ServiceItemVersion:
    """发布 — freeze the draft into a new immutable version after the quality rules pass.

    Raises ``ValidationFailed`` (code ``quality_rules_failed``) whose details list each rule and field.
    """
    item = lock(ServiceItem.objects.filter(pk=item.pk))
    policy.require(actor, "catalog.item.publish", item)
    new_state = transitions.item_next(item.state, "publish")
    elements = ItemElements.parse(apply_catalog(item.draft, item.catalog_item))
    violations = quality.check(elements)
    if violations:
        raise ValidationFailed(
            "事项未通过质量规则检查：" + "；".join(v.message for v in violations),
            code="quality_rules_failed",
            details=[v.as_dict() for v in violations],
        )
    previous = item.current_version
    if previous is not None and previous.content_hash == content_hash(elements.dump()) and item.state == new_state:
        raise Conflict("草稿与现行版本相同，无需发布。", code="nothing_to_publish")
    now = timezone.now()
    number = (item.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    if previous is not None:
        ServiceItemVersion.objects.filter(pk=previous.pk).update(superseded_at=now)
    version = _new_version(item, elements, actor=actor, note=note, now=now, number=number)
    version.save()
    item.current_version = version
    item.state = new_state
    item.name = elements.name
    item.draft = elements.dump()
    item.draft_changed = False
    item.updated_at = now
    item.save(update_fields=["current_version", "state", "name", "draft", "draft_changed", "updated_at"])
    audit.record(
        actor=actor,
        action="catalog.item.publish",
        obj=item,
        region_code=item.region_id,
        summary={"code": item.code, "version": number},
    )
    events.item_published.fire(item_codes=[item.code])
    return version


def _withdraw(actor: Any, item: ServiceItem, what: str, reason: str) -> ServiceItem:
    item = lock(ServiceItem.objects.filter(pk=item.pk))
    policy.require(actor, "catalog.item.publish", item)
    new_state = transitions.item_next(item.state, what)
    if what in ("suspend", "cancel") and not reason.strip():
        raise ValidationFailed("请填写原因。", code="reason_required")
    now = timezone.now()
    if item.current_version_id:
        version_state = {"suspend": "suspended", "cancel": "cancelled", "resume": "published"}[what]
        ServiceItemVersion.objects.filter(pk=item.current_version_id).update(
            state=version_state, withdrawn_at=None if what == "resume" else now
        )
    item.state = new_state
    item.updated_at = now
    item.save(update_fields=["state", "updated_at"])
    audit.record(
        actor=actor,
        action=f"catalog.item.{what}",
        obj=item,
        region_code=item.region_id,
        summary={"code": item.code, "reason": reason},
    )
    if what == "resume":
        events.item_published.fire(item_codes=[item.code])
    else:
        events.item_withdrawn.fire(item_codes=[item.code])
    return item


@action
def item_suspend(*, actor: Any, item: ServiceItem, reason: str) -> ServiceItem:
    """暂停 — the item stays visible in history but cannot be applied for."""
    return _withdraw(actor, item, "suspend", reason)


@action
def item_resume(*, actor: Any, item: ServiceItem) -> ServiceItem:
    """恢复 — lift a suspension; the version in force is the one suspended."""
    return _withdraw(actor, item, "resume", "")


@action
def item_cancel(*, actor: Any, item: ServiceItem, reason: str) -> ServiceItem:
    """取消 — final; history and the cases filed under earlier versions remain."""
    return _withdraw(actor, item, "cancel", reason)


# --- bundles (一件事) ----------------------------------------------------------------------------------
@action
def bundle_save(
    *,
    actor: Any,
    code: str,
    name: str,
    region: Region,
    lead_department: Department,
    audience: str = Bundle.Audience.PERSONAL,
    stage: str = "",
    description: str = "",
    promised_days: int | None = None,
    scenarios: list[dict[str, Any]] | None = None,
    members: list[dict[str, Any]],
    cooperating_departments: Iterable[Department] = (),
    windows: Iterable[Window] = (),
) -> Bundle:
    """Create or replace a bundle with its members.

    ``members``: ``[{"item": ServiceItem, "order": 1, "condition": {...}, "condition_text": "",
    "is_optional": False}]``.
    """
    probe = Bundle(region=region, lead_department=lead_department)
    policy.require(actor, "catalog.bundle.manage", probe)
    if audience not in Bundle.Audience.values:
        raise ValidationFailed("面向对象无效。", code="bundle_audience_unknown")
    if not members:
        raise ValidationFailed("一件事至少包含一个事项。", code="bundle_empty")
    scenarios = scenarios or []
    keys = [s.get("key") for s in scenarios]
    if len(keys) != len(set(keys)) or not all(isinstance(k, str) and k for k in keys):
        raise ValidationFailed("情形问题的 key 应非空且不重复。", code="bundle_scenarios_invalid")
    problems = {}
    seen = set()
    for i, m in enumerate(members):
        item = m["item"]
        if item.pk in seen:
            problems[f"members.{i}"] = "事项重复"
        seen.add(item.pk)
        issues = validate_condition(m.get("condition") or {}, keys)
        if issues:
            problems[f"members.{i}.condition"] = "；".join(issues)
    if problems:
        raise ValidationFailed("一件事成员设置有误。", code="bundle_members_invalid", details=problems)
    now = timezone.now()
    bundle = Bundle.objects.select_for_update().filter(code=code).first()
    fields = {
        "name": name,
        "region": region,
        "lead_department": lead_department,
        "audience": audience,
        "stage": stage,
        "description": description,
        "promised_days": promised_days,
        "scenarios": scenarios,
        "updated_at": now,
    }
    if bundle is None:
        bundle = Bundle.objects.create(code=code, **fields)
    else:
        policy.require(actor, "catalog.bundle.manage", bundle)
        for k, v in fields.items():
            setattr(bundle, k, v)
        bundle.save()
        bundle.members.all().delete()
    BundleMember.objects.bulk_create(
        [
            BundleMember(
                bundle=bundle,
                item=m["item"],
                order=int(m.get("order", 1)),
                condition=m.get("condition") or {},
                condition_text=m.get("condition_text", ""),
                is_optional=bool(m.get("is_optional", False)),
            )
            for m in members
        ]
    )
    bundle.cooperating_departments.set(list(cooperating_departments))
    bundle.windows.set(list(windows))
    audit.record(actor=actor, action="catalog.bundle.save", obj=bundle, region_code=region.code, summary={"code": code})
    if bundle.state == Bundle.State.PUBLISHED:
        events.bundle_published.fire(bundle_codes=[bundle.code])
    return bundle


@action
def bundle_publish(*, actor: Any, bundle: Bundle) -> Bundle:
    bundle = lock(Bundle.objects.filter(pk=bundle.pk))
    policy.require(actor, "catalog.bundle.manage", bundle)
    bundle.state = transitions.bundle_next(bundle.state, "publish")
    unpublished = [
        m.item.code for m in bundle.members.select_related("item") if m.item.state != ServiceItem.State.PUBLISHED
    ]
    if unpublished:
        raise ValidationFailed(
            "一件事包含未发布的事项。", code="bundle_member_unpublished", details={"items": unpublished}
        )
    bundle.published_at = timezone.now()
    bundle.save(update_fields=["state", "published_at"])
    audit.record(actor=actor, action="catalog.bundle.publish", obj=bundle, region_code=bundle.region_id, summary={})
    events.bundle_published.fire(bundle_codes=[bundle.code])
    return bundle


@action
def bundle_withdraw(*, actor: Any, bundle: Bundle) -> Bundle:
    bundle = lock(Bundle.objects.filter(pk=bundle.pk))
    policy.require(actor, "catalog.bundle.manage", bundle)
    bundle.state = transitions.bundle_next(bundle.state, "withdraw")
    bundle.save(update_fields=["state"])
    audit.record(actor=actor, action="catalog.bundle.withdraw", obj=bundle, region_code=bundle.region_id, summary={})
    events.bundle_withdrawn.fire(bundle_codes=[bundle.code])
    return bundle

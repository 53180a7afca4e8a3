"""Bulk import of service items from other catalogs (gdzwfw JSONL/CSV) — fast and idempotent.

Records are parsed first (pure, :mod:`.gdzwfw`); bad ones are reported with line and reason and skipped
whole. The good ones are written in a handful of bulk statements: missing regions and departments are
created, catalog items matched by basic code (created when new, their levels widened), service items
matched by implementation code. An item whose elements are unchanged is left alone, so a second run
writes nothing; a changed one gets a new version (the old one is superseded, history kept).

Imported versions are published as the source published them: the source is the authority, so the quality
rules are not enforced here — ``yiwang catalog check`` reports what does not pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from yiwang.core import audit
from yiwang.core.actions import action
from yiwang.core.permissions import policy
from yiwang.directory import codes as region_codes
from yiwang.directory.models import Department, Region

from . import events
from .elements import ItemElements
from .gdzwfw import ParsedRecord, RecordError, parse_record, read_records
from .models import CatalogItem, ServiceItem, ServiceItemVersion
from .services import content_hash, version_columns

BATCH = 500


@dataclass(frozen=True)
class RecordProblem:
    line: int
    code: str
    reason: str

    def __str__(self) -> str:
        return f"第{self.line}行 [{self.code or '-'}] {self.reason}"


@dataclass
class ImportReport:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    catalog_created: int = 0
    departments_created: int = 0
    regions_created: int = 0
    errors: list[RecordProblem] = field(default_factory=list)
    changed_codes: list[str] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "catalog_created": self.catalog_created,
            "departments_created": self.departments_created,
            "regions_created": self.regions_created,
            "errors": [str(e) for e in self.errors],
        }


def parse_file(path: Path, report: ImportReport) -> list[ParsedRecord]:
    parsed: list[ParsedRecord] = []
    seen: dict[str, int] = {}
    for line, record, error in read_records(path):
        report.read += 1
        code = str((record or {}).get("TASK_CODE") or "") if isinstance(record, dict) else ""
        if error:
            report.errors.append(RecordProblem(line, code, error))
            continue
        try:
            rec = parse_record(record)
        except RecordError as exc:
            report.errors.append(RecordProblem(line, code, exc.reason))
            continue
        if rec.code in seen:
            report.errors.append(RecordProblem(line, rec.code, f"实施编码与第{seen[rec.code]}行重复"))
            continue
        seen[rec.code] = line
        parsed.append(rec)
    return parsed


def _ensure_regions(records: list[ParsedRecord], report: ImportReport) -> None:
    wanted = {r.region_code: r.region_name for r in records}
    existing = set(Region.objects.filter(code__in=list(wanted)).values_list("code", flat=True))
    for code in sorted(set(wanted) - existing, key=lambda c: region_codes.level_of(c)):
        # Create the missing region and any missing ancestors, named after the source's text.
        chain = []
        c: str | None = code
        while c and not Region.objects.filter(code=c).exists():
            chain.append(c)
            c = region_codes.parent_code(c)
        parent = Region.objects.filter(code=c).first() if c else None
        for node in reversed(chain):
            full = wanted.get(node, "")
            name = full.removeprefix(parent.full_name if parent else "") or full or node
            parent = Region.objects.create(
                code=node, name=name, full_name=full or name, level=region_codes.level_of(node), parent=parent
            )
            report.regions_created += 1


def _departments(records: list[ParsedRecord], report: ImportReport) -> dict[tuple[str, str], int]:
    wanted = {(r.region_code, r.department_name) for r in records}
    regions = {code for code, _ in wanted}
    found = {
        (d.region_id, d.name): d.pk
        for d in Department.objects.filter(region_id__in=list(regions)).only("pk", "region_id", "name")
    }
    missing = sorted(wanted - set(found))
    if missing:
        Department.objects.bulk_create(
            [Department(region_id=region, name=name, holds_items=True) for region, name in missing],
            batch_size=BATCH,
        )
        report.departments_created += len(missing)
        found = {
            (d.region_id, d.name): d.pk
            for d in Department.objects.filter(region_id__in=list(regions)).only("pk", "region_id", "name")
        }
    return found


def _catalog_items(records: list[ParsedRecord], report: ImportReport) -> dict[str, CatalogItem]:
    levels: dict[str, set[int]] = {}
    first: dict[str, ParsedRecord] = {}
    parents: dict[str, tuple[str, str]] = {}
    for r in records:
        first.setdefault(r.catalog_code, r)
        if r.use_level:
            levels.setdefault(r.catalog_code, set()).add(r.use_level)
        if r.parent_code:
            parents.setdefault(r.parent_code, (r.parent_name, r.item_type))
            if r.parent_code not in first:
                levels.setdefault(r.parent_code, set())
            if r.use_level:
                levels.setdefault(r.parent_code, set()).add(r.use_level)
    codes_ = set(first) | set(parents)
    existing = {c.code: c for c in CatalogItem.objects.filter(code__in=list(codes_))}
    now = timezone.now()
    new_parents = [
        CatalogItem(
            code=code,
            name=name or code,
            item_type=item_type,
            use_levels=sorted(levels.get(code, set())),
            created_at=now,
            updated_at=now,
        )
        for code, (name, item_type) in sorted(parents.items())
        if code not in existing and code not in first
    ]
    CatalogItem.objects.bulk_create(new_parents, batch_size=BATCH)
    report.catalog_created += len(new_parents)
    existing.update({c.code: c for c in CatalogItem.objects.filter(code__in=[p.code for p in new_parents])})
    parent_ids = {c.code: c.pk for c in existing.values()}
    new = []
    for code, r in sorted(first.items()):
        if code in existing:
            continue
        new.append(
            CatalogItem(
                code=code,
                name=r.catalog_name,
                item_type=r.item_type,
                use_levels=sorted(levels.get(code, set())),
                parent_id=parent_ids.get(r.parent_code) if r.parent_code and r.parent_code != code else None,
                created_at=now,
                updated_at=now,
            )
        )
    CatalogItem.objects.bulk_create(new, batch_size=BATCH)
    report.catalog_created += len(new)
    # Children created in this run whose parent is also a code in this file.
    existing.update({c.code: c for c in CatalogItem.objects.filter(code__in=[n.code for n in new])})
    widened = []
    for code, lv in levels.items():
        obj = existing.get(code)
        if obj is not None and not lv <= set(obj.use_levels):
            obj.use_levels = sorted(set(obj.use_levels) | lv)
            obj.updated_at = now
            widened.append(obj)
    CatalogItem.objects.bulk_update(widened, ["use_levels", "updated_at"], batch_size=BATCH)
    return existing


def _elements_for(r: ParsedRecord, cat: CatalogItem) -> dict[str, Any]:
    data = r.elements.dump()
    # 同源: the catalog item's elements win.
    data["item_type"] = cat.item_type
    data["use_levels"] = list(cat.use_levels)
    if cat.legal_basis:
        data["legal_basis"] = cat.legal_basis
    data["catalog_code"] = cat.code
    return data


def write_records(
    records: list[ParsedRecord], report: ImportReport, *, actor: Any, progress: Callable[[int], object] | None = None
) -> None:
    """Write parsed records in bulk (call inside a transaction)."""
    _ensure_regions(records, report)
    departments = _departments(records, report)
    catalog = _catalog_items(records, report)
    now = timezone.now()
    label = (actor.get_username() if actor is not None else "import")[:150]
    for start in range(0, len(records), BATCH):
        chunk = records[start : start + BATCH]
        existing = {
            i.code: i
            for i in ServiceItem.objects.filter(code__in=[r.code for r in chunk])
            .select_related("current_version")
            .defer("draft", "current_version__elements")
        }
        new_items: list[ServiceItem] = []
        pending: list[tuple[ServiceItem, dict[str, Any], int]] = []  # item, elements, number
        superseded: list[int] = []
        for r in chunk:
            cat = catalog[r.catalog_code]
            data = _elements_for(r, cat)
            digest = content_hash(data)
            dept_id = departments[(r.region_code, r.department_name)]
            item = existing.get(r.code)
            if item is None:
                item = ServiceItem(
                    code=r.code,
                    handle_item_code=r.elements.handle_item_code,
                    catalog_item=cat,
                    department_id=dept_id,
                    region_id=r.region_code,
                    name=r.elements.name,
                    state=ServiceItem.State.PUBLISHED,
                    draft=data,
                    draft_changed=False,
                    created_at=now,
                    updated_at=now,
                )
                new_items.append(item)
                pending.append((item, data, 1))
                report.created += 1
            elif (
                item.current_version is not None
                and item.current_version.content_hash == digest
                and item.department_id == dept_id
            ):
                report.unchanged += 1
            else:
                item.department_id = dept_id
                item.region_id = r.region_code
                item.catalog_item = cat
                item.name = r.elements.name
                item.draft = data
                item.draft_changed = False
                item.updated_at = now
                if item.state == ServiceItem.State.DRAFT:
                    item.state = ServiceItem.State.PUBLISHED
                if item.current_version_id:
                    superseded.append(item.current_version_id)
                number = (item.current_version.number if item.current_version else 0) + 1
                number = max(
                    number, (item.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
                )
                pending.append((item, data, number))
                report.updated += 1
        ServiceItem.objects.bulk_create(new_items, batch_size=BATCH)
        if superseded:
            ServiceItemVersion.objects.filter(pk__in=superseded).update(superseded_at=now)
        versions = []
        for item, data, number in pending:
            parsed = ItemElements.model_validate(data)
            versions.append(
                ServiceItemVersion(
                    item=item,
                    number=number,
                    published_at=now,
                    published_by_label=label,
                    note="导入",
                    content_hash=content_hash(data),
                    department_id=item.department_id,
                    region_id=item.region_id,
                    elements=data,
                    **version_columns(parsed),
                )
            )
        ServiceItemVersion.objects.bulk_create(versions, batch_size=BATCH)
        changed = [item for item, _data, number in pending if item.pk and item not in new_items]
        if changed:  # rare: only items whose source record changed
            ServiceItem.objects.bulk_update(
                changed,
                ["department", "region", "catalog_item", "name", "state", "draft", "draft_changed", "updated_at"],
                batch_size=BATCH,
            )
        # One statement points every touched item at its newest version.
        latest = ServiceItemVersion.objects.filter(item=OuterRef("pk")).order_by("-number").values("pk")[:1]
        ServiceItem.objects.filter(pk__in=[item.pk for item, _d, _n in pending]).update(
            current_version=Subquery(latest)
        )
        report.changed_codes.extend(v.item.code for v in versions)
        if progress:
            progress(len(chunk))


@action
def import_gdzwfw(
    *, actor: Any, path: Path, progress: Callable[[int], object] | None = None, dry_run: bool = False
) -> ImportReport:
    """Import a gdzwfw ``.jsonl`` (raw) or ``.csv`` (flat) file. See the module docstring."""
    policy.require(actor, "catalog.import", None)
    report = ImportReport()
    records = parse_file(Path(path), report)
    if dry_run:
        return report
    write_records(records, report, actor=actor, progress=progress)
    audit.record(
        actor=actor,
        action="catalog.import",
        object_type="catalog.import",
        object_id=Path(path).name,
        summary={k: v for k, v in report.as_dict().items() if k != "errors"} | {"errors": len(report.errors)},
    )
    if report.changed_codes:
        events.item_published.fire(item_codes=list(report.changed_codes))
    return report


def import_records(*, actor: Any, records: Iterable[dict[str, Any]]) -> ImportReport:
    """Import raw gdzwfw records already in memory (tests, benchmarks)."""
    report = ImportReport()
    parsed: list[ParsedRecord] = []
    for line, record in enumerate(records, start=1):
        report.read += 1
        try:
            parsed.append(parse_record(record))
        except RecordError as exc:
            report.errors.append(RecordProblem(line, str(record.get("TASK_CODE", "")), exc.reason))
    with transaction.atomic():
        write_records(parsed, report, actor=actor)
    return report

"""Import the National Bureau of Statistics region files (统计用区划代码) into :class:`Region`.

Files (in a folder): ``provinces.csv`` (code,name), ``cities.csv`` (code,name,provinceCode),
``areas.csv`` (code,name,cityCode,provinceCode), ``streets.csv`` (code,name,areaCode,…) and
``villages.csv`` (code,name,streetCode,…) with 2/4/6/9/12-digit codes.

The import streams each file in level order and writes in batches inside one transaction: new codes are
inserted, changed names or parents are updated, identical rows are left alone (so a second run writes
nothing). A bad row — wrong code length, unknown parent, code outside its parent, empty name, a code
listed twice with different names — is reported with file, line and reason and skipped whole; its
descendants are then reported as having an unknown parent. With ``strict`` any bad row rolls the whole
import back.

A row whose own code segment is all zeros stands for its parent: cities without counties (不设区的地级市:
东莞 4419, 中山 4420, 儋州 4604) appear again at county level as ``XXXX00``, and 金门县 has placeholder town
and village rows ``350527000``/``350527000000``. Such a row is merged into its parent (counted in
``merged``), and the parent becomes the parent of the row's children.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from . import codes
from .models import Region

# (file, level, parent column)
FILES: list[tuple[str, int, str | None]] = [
    ("provinces.csv", codes.PROVINCE, None),
    ("cities.csv", codes.CITY, "provinceCode"),
    ("areas.csv", codes.COUNTY, "cityCode"),
    ("streets.csv", codes.TOWN, "areaCode"),
    ("villages.csv", codes.VILLAGE, "streetCode"),
]
# Names that only say "the directly administered part" and add nothing to a full name.
PLACEHOLDER_NAMES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


@dataclass(frozen=True)
class RowError:
    file: str
    line: int
    code: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line} [{self.code}] {self.reason}"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0
    errors: list[RowError] = field(default_factory=list)
    per_level: dict[int, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


class StrictImportError(Exception):
    def __init__(self, report: ImportReport):
        self.report = report
        super().__init__(f"{len(report.errors)} bad rows; nothing was imported")


def _full_name(parent_full: str, name: str) -> str:
    return parent_full if name in PLACEHOLDER_NAMES else f"{parent_full}{name}"


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        yield from enumerate(reader, start=2)


def count_rows(directory: Path) -> int:
    total = 0
    for name, _, _ in FILES:
        path = directory / name
        if path.exists():
            with path.open("rb") as fh:
                total += max(sum(1 for _ in fh) - 1, 0)
    return total


def import_regions(
    directory: Path,
    *,
    batch_size: int = 5000,
    strict: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import every level found in ``directory``; see the module docstring."""
    missing = [name for name, _, _ in FILES if not (directory / name).exists()]
    if len(missing) == len(FILES):
        raise FileNotFoundError(f"no region files ({', '.join(n for n, _, _ in FILES)}) in {directory}")
    report = ImportReport()
    with transaction.atomic():
        parents_full: dict[str, str] = {}  # previous level: code -> full name
        for name, level, parent_col in FILES:
            path = directory / name
            if not path.exists():
                # a partial import (e.g. provinces and cities only): parents come from the database
                parents_full = {}
                continue
            current_full: dict[str, str] = {}
            batch: list[tuple[str, str, int, str | None, str]] = []
            seen_names: dict[str, str] = {}
            for line, row in _rows(path):
                if progress:
                    progress(1)
                error = _check_row(name, line, row, level, parent_col, seen_names)
                if error:
                    report.errors.append(error)
                    continue
                raw_code, region_name = row["code"].strip(), row["name"].strip()
                code = codes.pad(raw_code)
                if raw_code in seen_names:  # exact duplicate line: already handled
                    continue
                seen_names[raw_code] = region_name
                parent = codes.pad(row[parent_col].strip()) if parent_col else None
                if parent is not None and parent not in parents_full:
                    parent_full = _parent_from_db(parent)
                    if parent_full is None:
                        report.errors.append(
                            RowError(name, line, raw_code, f"上级区划 {row[parent_col].strip()} 不存在")
                        )
                        continue
                    parents_full[parent] = parent_full
                if parent == code:  # the row stands for its parent (see module docstring)
                    current_full[code] = parents_full[parent]
                    report.merged += 1
                    continue
                full = _full_name(parents_full[parent], region_name) if parent else region_name
                current_full[code] = full
                batch.append((code, region_name, level, parent, full))
                if len(batch) >= batch_size:
                    _write(batch, report)
                    batch = []
            _write(batch, report)
            report.per_level[level] = len(current_full)
            parents_full = current_full
        if strict and report.errors:
            transaction.set_rollback(True)
            raise StrictImportError(report)
    return report


def _check_row(
    file: str, line: int, row: dict[str, str], level: int, parent_col: str | None, seen: dict[str, str]
) -> RowError | None:
    raw_code = (row.get("code") or "").strip()
    region_name = (row.get("name") or "").strip()
    digits = codes.LEVEL_DIGITS[level]
    if not raw_code.isdigit() or len(raw_code) != digits:
        return RowError(file, line, raw_code, f"区划代码应为{digits}位数字")
    if raw_code.startswith("00"):
        return RowError(file, line, raw_code, "省级代码不能为00")
    if not region_name:
        return RowError(file, line, raw_code, "名称为空")
    if len(region_name) > 100:
        return RowError(file, line, raw_code, "名称超过100个字符")
    if raw_code in seen and seen[raw_code] != region_name:
        return RowError(file, line, raw_code, f"代码重复且名称不同（已有“{seen[raw_code]}”）")
    if parent_col:
        parent = (row.get(parent_col) or "").strip()
        parent_digits = codes.LEVEL_DIGITS[level - 1]
        if not parent.isdigit() or len(parent) != parent_digits:
            return RowError(file, line, raw_code, f"上级代码 {parent_col} 应为{parent_digits}位数字")
        if not raw_code.startswith(parent):
            return RowError(file, line, raw_code, f"代码不在上级 {parent} 之下")
    return None


def _parent_from_db(code: str) -> str | None:
    region = Region.objects.filter(code=code).only("name", "full_name").first()
    if region is None:
        return None
    return region.full_name or region.name


def _write(batch: list[tuple[str, str, int, str | None, str]], report: ImportReport) -> None:
    if not batch:
        return
    existing = Region.objects.in_bulk([row[0] for row in batch])
    new, changed = [], []
    for code, name, level, parent, full in batch:
        current = existing.get(code)
        if current is None:
            new.append(Region(code=code, name=name, level=level, parent_id=parent, full_name=full))
        elif (current.name, current.level, current.parent_id, current.full_name) != (name, level, parent, full):
            current.name, current.level, current.parent_id, current.full_name = name, level, parent, full
            changed.append(current)
        else:
            report.unchanged += 1
    if new:
        Region.objects.bulk_create(new, batch_size=len(new))
        report.created += len(new)
    if changed:
        Region.objects.bulk_update(changed, ["name", "level", "parent", "full_name"], batch_size=1000)
        report.updated += len(changed)

"""Parse the Guangdong service portal's records (广东政务服务网 gdzwfw, 2021 scrape) — pure, no ORM.

One raw record (``gd_items_raw.jsonl``; the flat ``gd_items_flat.csv`` is mapped onto the same keys)
becomes a :class:`ParsedRecord`: the catalog item it implements, the implementing department and region,
and a validated :class:`ItemElements`. A record that cannot be understood raises :class:`RecordError`
with the reason; the importer skips it whole.

What the source does not say and how it is read:
- 办件类型 is empty everywhere: 即办件 when the promised limit is 0, otherwise 承诺件.
- 网上办理深度 is not published: online with 0 visits is read as Ⅳ (全程网办), online with visits as Ⅲ,
  not online as 0.
- Material necessity/type/copies come from the name (``复印件``/``原件``, ``如有``/``（仅…时）`` → 非必要,
  …表/申请书 → 申请表格, …证/证明/执照 → 证件证书证明); licence types from known licence names.
- ``无`` and ``不支持`` mean empty / no.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yiwang.core.errors import ValidationFailed

from . import codes
from .codes import HandlingForm, MaterialType, Necessity
from .elements import ItemElements

NONE_WORDS = frozenset({"", "无", "None", "null", "暂无", "/"})
LEVELS = {"国家级": 1, "省级": 2, "市级": 3, "县级": 4, "区级": 4, "镇级": 5, "乡级": 5, "街道级": 5, "村级": 6}
TYPE_BY_NAME = {
    **{name: code for code, name in codes.NATIONAL_ITEM_TYPES.items()},
}
_LIMIT = re.compile(r"^\s*(\d+)\s*[（(]\s*(工作日|自然日)\s*[)）]\s*$")
_UNITS = {"工作日": codes.TimeUnit.WORKDAY, "自然日": codes.TimeUnit.NATURAL}
_ALIAS_SPLIT = re.compile(r"[，,、；;\s]+")


class RecordError(Exception):
    """A record that cannot be imported, with the reason (Chinese) and the field."""

    def __init__(self, reason: str, field: str = "") -> None:
        self.reason = reason
        self.field = field
        super().__init__(reason)


@dataclass
class ParsedRecord:
    code: str
    catalog_code: str
    catalog_name: str
    parent_code: str
    parent_name: str
    item_type: str
    use_level: int | None
    department_name: str
    region_code: str
    region_name: str
    elements: ItemElements
    extra: dict[str, Any] = field(default_factory=dict)


def _text(record: dict[str, Any], key: str) -> str:
    value = record.get(key)
    if value is None:
        return ""
    value = str(value).strip()
    return "" if value in NONE_WORDS else value


def parse_limit(raw: str, field_name: str) -> tuple[int | None, str]:
    """``"20(工作日)"`` → ``(20, "workday")``; ``"无"`` → ``(None, "workday")``."""
    raw = (raw or "").strip()
    if raw in NONE_WORDS:
        return None, codes.TimeUnit.WORKDAY
    m = _LIMIT.match(raw)
    if not m:
        raise RecordError(f"时限无法识别：{raw[:40]!r}", field_name)
    return int(m.group(1)), _UNITS[m.group(2)]


def item_type_of(record: dict[str, Any]) -> str:
    raw = _text(record, "TASK_TYPE")
    name = _text(record, "TASK_TYPE_TEXT")
    if raw:
        mapped = codes.GUANGDONG_ITEM_TYPES.get(raw, raw)
        if mapped in codes.item_types() and (not name or codes.item_type_name(mapped) == name):
            return mapped
    if name in TYPE_BY_NAME and TYPE_BY_NAME[name] in codes.item_types():
        return TYPE_BY_NAME[name]
    raise RecordError(f"事项类型无法识别：{raw or '-'} {name or '-'}", "TASK_TYPE")


def material_from_name(name: str) -> dict[str, Any]:
    name = name.strip().rstrip("；;。")
    material: dict[str, Any] = {"name": name[:300]}
    if re.search(r"(申请|登记|审批|备案|报名|信息)?表$|申请书|申请表|登记表|承诺书", name):
        material["type"] = MaterialType.FORM
    elif re.search(r"证$|证书|证明|执照|许可证|身份证件|护照", name):
        material["type"] = MaterialType.CERTIFICATE
    else:
        material["type"] = MaterialType.OTHER
    if re.search(r"如有|（仅|\(仅|可选|非必要|（如|\(如", name):
        material["necessity"] = Necessity.OPTIONAL
    if "容缺" in name:
        material["necessity"] = Necessity.DEFERRABLE
    has_original, has_copy = "原件" in name, "复印件" in name
    material["originals"] = 1 if has_original else 0
    material["copies"] = 1 if has_copy or not has_original else 0
    licence = codes.licence_type_for(name)
    if licence:
        material["licence_type"] = licence
        material["source"] = "government" if licence != "resident_id" else "applicant"
    return material


def themes_of(themes: list[str], objects: list[str]) -> tuple[list[str], list[str]]:
    personal: list[str] = []
    corporate: list[str] = []
    serves_people = codes.PERSON in objects
    serves_bodies = any(o != codes.PERSON for o in objects)
    for theme in themes:
        theme = theme.strip()
        if not theme or theme in NONE_WORDS:
            continue
        if theme in codes.CORPORATE_THEME_WORDS:
            corporate.append(theme)
        else:
            if serves_people or not serves_bodies:
                personal.append(theme)
            if serves_bodies and theme == "其他":
                corporate.append(theme)
    return list(dict.fromkeys(personal)), list(dict.fromkeys(corporate))


def parse_record(record: dict[str, Any]) -> ParsedRecord:
    """One raw record → :class:`ParsedRecord` (or :class:`RecordError`)."""
    if not isinstance(record, dict):
        raise RecordError("记录不是对象")
    code = _text(record, "TASK_CODE")
    if not code:
        raise RecordError("缺少实施编码", "TASK_CODE")
    if len(code) > 64 or not re.fullmatch(r"[0-9A-Za-z\-]+", code):
        raise RecordError(f"实施编码格式不正确：{code[:40]!r}", "TASK_CODE")
    name = _text(record, "TASK_NAME") or _text(record, "matter_name")
    if not name:
        raise RecordError("缺少事项名称", "TASK_NAME")
    department_name = _text(record, "DEPT_NAME")
    if not department_name:
        raise RecordError("缺少实施主体", "DEPT_NAME")
    area = _text(record, "AREACODE")
    if not re.fullmatch(r"\d{6}|\d{12}", area or ""):
        raise RecordError(f"区划代码不正确：{area!r}", "AREACODE")
    region_code = area.ljust(12, "0")
    catalog_code = _text(record, "CATAID")
    if not catalog_code:
        raise RecordError("缺少基本编码", "CATAID")
    item_type = item_type_of(record)
    legal, legal_unit = parse_limit(_text(record, "handle_time") or "无", "handle_time")
    promised, promised_unit = parse_limit(_text(record, "handle_time_limit") or "无", "handle_time_limit")
    visits_raw = _text(record, "visit_number") or _text(record, "LIMIT_SCENE_NUM") or "0"
    if not visits_raw.isdigit():
        raise RecordError(f"到现场次数无法识别：{visits_raw!r}", "visit_number")
    visits = int(visits_raw)
    objects_raw = record.get("service_object_name") or []
    if isinstance(objects_raw, str):
        objects_raw = [x for x in objects_raw.split("|") if x]
    unknown = [o for o in objects_raw if o not in codes.SERVICE_OBJECT_BY_NAME]
    if unknown:
        raise RecordError(f"服务对象无法识别：{'、'.join(unknown)[:60]}", "service_object_name")
    objects = [codes.SERVICE_OBJECT_BY_NAME[o] for o in objects_raw]
    themes_raw = record.get("theme_category") or []
    if isinstance(themes_raw, str):
        themes_raw = [x for x in themes_raw.split("|") if x]
    personal, corporate = themes_of(themes_raw, objects)

    online = _text(record, "ONLINECHECK") == "1"
    express = _text(record, "courier_service") == "是"
    location = _text(record, "handle_location")
    has_window = bool(location) and "无线下办理窗口" not in location
    forms = []
    if has_window:
        forms.append(HandlingForm.WINDOW)
    if online:
        forms.append(HandlingForm.ONLINE)
    if express:
        forms.append(HandlingForm.POST)
    depth = 0 if not online else (4 if visits == 0 else 3)
    address = re.sub(r"^办理地点[:：]\s*", "", location) if has_window else ""
    accept = _text(record, "accept_standard")
    materials_raw = record.get("material_intro") or []
    if isinstance(materials_raw, str):
        materials_raw = [x for x in materials_raw.split("|") if x]
    materials = [material_from_name(m) for m in materials_raw if str(m).strip() not in NONE_WORDS]
    aliases = [a for a in _ALIAS_SPLIT.split(_text(record, "matter_daily")) if a]
    level_name = _text(record, "matter_level") or _text(record, "district")
    promised_instant = promised == 0
    data = {
        "name": name[:300],
        "short_name": _text(record, "matter_short")[:100],
        "aliases": list(dict.fromkeys(aliases))[:20],
        "item_type": item_type,
        "catalog_code": catalog_code,
        "handle_item_code": _text(record, "matter_code")[:50],
        "co_departments": _text(record, "co_department")[:2000],
        "legal_limit": legal,
        "legal_limit_unit": legal_unit,
        "promised_limit": promised,
        "promised_limit_unit": promised_unit,
        "handling_type": "instant" if promised_instant else "promised",
        "visits": visits,
        "online_depth": depth,
        "handling_forms": forms,
        "online_url": _text(record, "URL")[:500] if online else "",
        "appointment_url": _text(record, "online_book_addr")[:500],
        "platform": _text(record, "bear_paltform")[:200],
        "conditions": [{"text": accept}] if accept else [],
        "materials": materials,
        "is_online": online,
        "is_express": express,
        "is_appointment": _text(record, "online_book") == "是",
        "in_hall": has_window,
        "service_objects": objects,
        "personal_themes": personal,
        "corporate_themes": corporate,
        "places": [{"name": "", "address": address[:500]}] if address else [],
        "consult_phone": _text(record, "consult_phone")[:100],
        "complain_phone": _text(record, "complain_phone")[:100],
        "source_url": _text(record, "URL")[:500],
        "use_levels": [LEVELS[level_name]] if level_name in LEVELS else [],
    }
    try:
        elements = ItemElements.parse(data)
    except ValidationFailed as exc:
        first = exc.details[0] if exc.details else {"field": "", "message": exc.message}
        raise RecordError(f"要素不合规：{first['field']} {first['message']}", first["field"]) from None
    parent_code = _text(record, "parentCatalogId")
    return ParsedRecord(
        code=code,
        catalog_code=catalog_code[:50],
        catalog_name=(_text(record, "subCatalogName") or _text(record, "CATANAME") or name)[:300],
        parent_code="" if parent_code == catalog_code else parent_code[:50],
        parent_name=(_text(record, "parentCatalogName") or _text(record, "CATANAME"))[:300],
        item_type=item_type,
        use_level=LEVELS.get(level_name),
        department_name=department_name[:200],
        region_code=region_code,
        region_name=_text(record, "AREA_CODE_TEXT")[:100],
        elements=elements,
    )


# The flat CSV carries a subset of the raw keys under other names.
CSV_KEYS = {
    "task_code": "TASK_CODE",
    "item_name": "TASK_NAME",
    "catalog_name": "CATANAME",
    "catalog_id": "CATAID",
    "item_type": "TASK_TYPE_TEXT",
    "dept_name": "DEPT_NAME",
    "area": "AREA_CODE_TEXT",
    "area_code": "AREACODE",
    "level": "matter_level",
    "legal_limit_raw": "handle_time",
    "promised_limit_raw": "handle_time_limit",
    "visit_number": "visit_number",
    "co_department": "co_department",
    "location": "handle_location",
    "accept_condition": "accept_standard",
    "consult_phone": "consult_phone",
    "complain_phone": "complain_phone",
    "courier_service": "courier_service",
    "platform": "bear_paltform",
    "online_book": "online_book",
    "themes": "theme_category",
    "service_objects": "service_object_name",
    "materials": "material_intro",
    "short_name": "matter_short",
    "url": "URL",
}


def csv_record(row: dict[str, str]) -> dict[str, Any]:
    """A flat CSV row as a raw record (lists are ``|``-separated; online when a URL is given)."""
    record: dict[str, Any] = {raw: row.get(flat, "") for flat, raw in CSV_KEYS.items()}
    for key in ("theme_category", "service_object_name", "material_intro"):
        record[key] = [x for x in (record[key] or "").split("|") if x]
    record["subCatalogName"] = row.get("catalog_name", "")
    record["ONLINECHECK"] = "1" if (row.get("url") or "").strip() not in NONE_WORDS else "0"
    return record


def read_records(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """Yield ``(line, record, error)`` from a ``.jsonl`` or ``.csv`` file (error non-empty when unreadable)."""
    import json

    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for line, row in enumerate(csv.DictReader(fh), start=2):
                yield line, csv_record(row), ""
        return
    with path.open(encoding="utf-8") as fh:
        for line, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            try:
                yield line, json.loads(text), ""
            except json.JSONDecodeError as exc:
                yield line, None, f"不是有效的JSON：{exc.msg}"

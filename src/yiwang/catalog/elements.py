"""The element set of one service item (实施清单要素) as typed, validated data — pure, no ORM.

A :class:`ServiceItemVersion` stores the full set as JSON (``elements``) and copies the hot fields into
columns; the draft being edited is the same structure. Everything that crosses a boundary (API, import,
the workbench) is parsed with :meth:`ItemElements.parse`, so a version never holds malformed data.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from yiwang.core.errors import ValidationFailed

from . import codes
from .codes import (
    Delivery,
    HandlingForm,
    HandlingType,
    MaterialFormat,
    MaterialSource,
    MaterialType,
    Necessity,
    ResultType,
    StepKind,
    TimeUnit,
)

Text = str


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, use_enum_values=True)


class LegalBasis(_Base):
    """设定依据 — one law/regulation article."""

    law: str = Field("", max_length=300, description="法律法规名称")
    number: str = Field("", max_length=100, description="依据文号")
    article: str = Field("", max_length=100, description="条款号")
    text: str = Field("", max_length=20000, description="条款内容")


class Condition(_Base):
    """受理条件 — one condition; ``scenario`` names the 情形 it applies to (blank: always)."""

    text: str = Field(..., min_length=1, max_length=20000)
    scenario: str = Field("", max_length=200)


class Material(_Base):
    """申请材料."""

    name: str = Field(..., min_length=1, max_length=300)
    type: MaterialType = MaterialType.OTHER
    source: MaterialSource = MaterialSource.APPLICANT
    source_note: str = Field("", max_length=300, description="来源说明（如 核发部门）")
    necessity: Necessity = Necessity.REQUIRED
    format: MaterialFormat = MaterialFormat.BOTH
    originals: int = Field(0, ge=0, le=100, description="原件份数")
    copies: int = Field(1, ge=0, le=100, description="复印件份数")
    page_format: str = Field("", max_length=50, description="纸质规格，如 A4")
    blank_form: str = Field("", max_length=500, description="空白表格（文件地址）")
    sample: str = Field("", max_length=500, description="示例样表（文件地址）")
    licence_type: str = Field("", max_length=100, description="可替代本材料的电子证照类型")
    commitment: bool = Field(False, description="可用告知承诺替代（告知承诺制：申请人书面承诺，事后核查）")
    accept_standard: str = Field("", max_length=2000, description="受理标准")
    basis: str = Field("", max_length=2000, description="要求提供材料的依据")
    note: str = Field("", max_length=2000, description="填报须知/备注")
    scenarios: list[str] = Field(default_factory=list, description="适用情形（空：所有情形）")

    def dedup_key(self) -> str:
        """Two materials are the same if they share a licence type or, lacking one, a normalised name."""
        if self.licence_type:
            return f"licence:{self.licence_type}"
        return "name:" + re.sub(r"[\s（）()]", "", self.name)


class Fee(_Base):
    """收费项目."""

    name: str = Field(..., min_length=1, max_length=200)
    standard: str = Field("", max_length=2000, description="收费标准")
    basis: str = Field("", max_length=2000, description="收费依据")
    waivable: bool = Field(False, description="是否允许减免")
    waiver_basis: str = Field("", max_length=2000, description="减免依据")


class Step(_Base):
    """办理流程环节 with its share of the time limit."""

    kind: StepKind
    name: str = Field("", max_length=100)
    days: Decimal = Field(Decimal(0), ge=0, le=10000, description="本环节时限（与事项时限同单位）")
    handler: str = Field("", max_length=100, description="办理人员/岗位")
    standard: str = Field("", max_length=2000, description="审查标准")
    result: str = Field("", max_length=500, description="办理结果")

    @property
    def display_name(self) -> str:
        return self.name or codes.STEP_KIND_NAMES[StepKind(self.kind)]


class Question(_Base):
    """常见问题."""

    question: str = Field(..., min_length=1, max_length=1000)
    answer: str = Field(..., min_length=1, max_length=10000)


class Result(_Base):
    """审批结果."""

    name: str = Field("", max_length=300)
    type: ResultType = ResultType.OTHER
    sample: str = Field("", max_length=500, description="结果样本（文件地址）")
    delivery: list[Delivery] = Field(default_factory=list, description="结果送达方式")


class Place(_Base):
    """办理地点 — a hall/window with hours and phone."""

    name: str = Field("", max_length=200, description="大厅/窗口名称")
    address: str = Field("", max_length=500)
    hours: str = Field("", max_length=300)
    phone: str = Field("", max_length=50)
    traffic: str = Field("", max_length=300)
    window_id: int | None = Field(None, description="本平台窗口编号（如有）")


class FormField(_Base):
    """申请表字段 — one field of the application form, stored as data."""

    name: str = Field(..., pattern=r"^[a-z][a-z0-9_]{0,49}$", description="字段标识（英文）")
    label: str = Field(..., min_length=1, max_length=100)
    type: str = Field("text")
    required: bool = False
    options: list[str] = Field(default_factory=list)
    pattern: str = Field("", max_length=200, description="正则（可选）")
    min: Decimal | None = None
    max: Decimal | None = None
    max_length: int | None = Field(None, ge=1, le=10000)
    help: str = Field("", max_length=300)

    @field_validator("type")
    @classmethod
    def _known_type(cls, v: str) -> str:
        if v not in codes.FORM_FIELD_TYPES:
            raise ValueError(f"unknown field type {v!r}")
        return v

    @field_validator("pattern")
    @classmethod
    def _valid_pattern(cls, v: str) -> str:
        if v:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"bad pattern: {exc}") from None
        return v

    @model_validator(mode="after")
    def _options_for_choices(self) -> FormField:
        if self.type in ("select", "multiselect") and not self.options:
            raise ValueError("select fields need options")
        return self


class FormDefinition(_Base):
    """申请表定义 — the fields, in order."""

    fields: list[FormField] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> FormDefinition:
        names = [f.name for f in self.fields]
        if len(names) != len(set(names)):
            raise ValueError("form field names must be unique")
        return self

    def validate_data(self, data: dict[str, Any]) -> dict[str, Any]:
        """Check submitted values; return cleaned values or raise ``ValidationFailed`` listing every field."""
        from yiwang.core.ids import validate_credit_code, validate_resident_id

        errors: dict[str, str] = {}
        cleaned: dict[str, Any] = {}
        known = {f.name for f in self.fields}
        for extra in sorted(set(data) - known):
            errors[extra] = "未知字段"
        for f in self.fields:
            raw = data.get(f.name)
            empty = raw is None or raw == "" or raw == [] or (raw is False and f.type == "checkbox")
            if empty:
                if f.required:
                    errors[f.name] = f"请填写{f.label}"
                continue
            try:
                cleaned[f.name] = _clean_value(f, raw, validate_resident_id, validate_credit_code)
            except (ValueError, ValidationFailed, InvalidOperation, TypeError) as exc:
                errors[f.name] = getattr(exc, "message", None) or str(exc) or f"{f.label}格式不正确"
        if errors:
            raise ValidationFailed("申请表填写有误。", code="form_invalid", details=errors)
        return cleaned


_PHONE = re.compile(r"^1[3-9]\d{9}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _clean_value(f: FormField, raw: Any, validate_resident_id, validate_credit_code) -> Any:
    label = f.label
    if f.type in ("text", "textarea", "id_number", "credit_code", "phone", "email"):
        if not isinstance(raw, str):
            raise ValueError(f"{label}应为文本")
        value = raw.strip()
        if f.max_length and len(value) > f.max_length:
            raise ValueError(f"{label}不能超过{f.max_length}字")
        if f.pattern and not re.fullmatch(f.pattern, value):
            raise ValueError(f"{label}格式不正确")
        if f.type == "id_number":
            validate_resident_id(value)
        elif f.type == "credit_code":
            validate_credit_code(value)
        elif f.type == "phone" and not _PHONE.match(value):
            raise ValueError(f"{label}应为11位手机号")
        elif f.type == "email" and not _EMAIL.match(value):
            raise ValueError(f"{label}格式不正确")
        return value
    if f.type == "number":
        value = Decimal(str(raw))
        if not value.is_finite():
            raise ValueError(f"{label}应为数字")
        if f.min is not None and value < f.min:
            raise ValueError(f"{label}不能小于{f.min}")
        if f.max is not None and value > f.max:
            raise ValueError(f"{label}不能大于{f.max}")
        return str(value)
    if f.type == "date":
        return dt.date.fromisoformat(str(raw)).isoformat()
    if f.type == "select":
        if raw not in f.options:
            raise ValueError(f"{label}的选项无效")
        return raw
    if f.type == "multiselect":
        values = raw if isinstance(raw, list) else [raw]
        if not all(isinstance(v, str) and v in f.options for v in values):
            raise ValueError(f"{label}的选项无效")
        return values
    if f.type == "checkbox":
        if raw in (True, "on", "true", "1", 1):
            return True
        raise ValueError(f"{label}应为勾选")
    raise ValueError(f"{label}类型未知")  # pragma: no cover - the type is validated on definition


class ItemElements(_Base):
    """实施清单要素 — the full, versioned element set of one service item."""

    name: str = Field(..., min_length=1, max_length=300, description="事项名称")
    short_name: str = Field("", max_length=100)
    aliases: list[str] = Field(default_factory=list, description="俗称/常用说法（供搜索）")
    item_type: str = Field(..., min_length=2, max_length=2, description="事项类型代码")
    catalog_code: str = Field("", max_length=50, description="基本编码")
    handle_item_code: str = Field("", max_length=50, description="业务办理项编码")
    legal_basis: list[LegalBasis] = Field(default_factory=list)
    power_source: str = Field("1", max_length=2)
    use_levels: list[int] = Field(default_factory=list)
    co_departments: str = Field("", max_length=2000, description="联办机构")
    legal_limit: int | None = Field(None, ge=0, le=10000, description="法定办结时限（空：法律未规定）")
    legal_limit_unit: TimeUnit = TimeUnit.WORKDAY
    legal_limit_note: str = Field("", max_length=1000)
    promised_limit: int | None = Field(None, ge=0, le=10000, description="承诺办结时限（0：即办）")
    promised_limit_unit: TimeUnit = TimeUnit.WORKDAY
    promised_limit_note: str = Field("", max_length=1000)
    handling_type: HandlingType = HandlingType.PROMISED
    visits: int = Field(0, ge=0, le=10, description="到办事现场次数")
    visits_reason: str = Field("", max_length=1000, description="必须现场办理原因说明")
    online_depth: int = Field(0, ge=0, le=4, description="网上办理深度 Ⅰ–Ⅳ（0：不可网办）")
    handling_forms: list[HandlingForm] = Field(default_factory=lambda: [HandlingForm.WINDOW])
    online_url: str = Field("", max_length=500)
    appointment_url: str = Field("", max_length=500)
    platform: str = Field("", max_length=200, description="办理系统")
    conditions: list[Condition] = Field(default_factory=list)
    special_procedures: str = Field("", max_length=2000, description="特别程序（不计入时限）")
    commitment_item: bool = Field(
        False, description="告知承诺制事项：申请人书面承诺符合条件的，证明材料均可以承诺替代，事后核查"
    )
    quantity_limit: str = Field("", max_length=1000, description="数量限制")
    steps: list[Step] = Field(default_factory=list)
    materials: list[Material] = Field(default_factory=list)
    fees: list[Fee] = Field(default_factory=list)
    result: Result = Field(default_factory=Result)
    faq: list[Question] = Field(default_factory=list)
    cross_scope: str = Field("", max_length=2, description="通办范围代码")
    is_online: bool = Field(False, description="是否网办")
    is_express: bool = Field(False, description="是否支持物流快递")
    is_appointment: bool = Field(False, description="是否支持预约")
    is_pay_online: bool = Field(False, description="是否支持网上支付")
    in_hall: bool = Field(True, description="是否进驻政务大厅")
    self_service: bool = Field(False, description="是否支持自助终端办理")
    service_objects: list[str] = Field(default_factory=list, description="服务对象代码")
    personal_themes: list[str] = Field(default_factory=list, description="面向自然人主题")
    corporate_themes: list[str] = Field(default_factory=list, description="面向法人主题")
    places: list[Place] = Field(default_factory=list, description="办理地点与时间")
    transact_time: str = Field("", max_length=300, description="办理时间")
    consult_phone: str = Field("", max_length=100)
    complain_phone: str = Field("", max_length=100)
    form: FormDefinition = Field(default_factory=FormDefinition)
    source_url: str = Field("", max_length=500, description="来源地址（导入）")

    @field_validator("item_type")
    @classmethod
    def _known_item_type(cls, v: str) -> str:
        if v not in codes.item_types():
            raise ValueError(f"unknown item type {v!r}")
        return v

    @field_validator("cross_scope")
    @classmethod
    def _known_scope(cls, v: str) -> str:
        if v not in codes.CROSS_SCOPE_NAMES:
            raise ValueError(f"unknown cross-area scope {v!r}")
        return v

    @field_validator("service_objects")
    @classmethod
    def _known_objects(cls, v: list[str]) -> list[str]:
        bad = [x for x in v if x not in codes.SERVICE_OBJECTS]
        if bad:
            raise ValueError(f"unknown service objects {bad!r}")
        return list(dict.fromkeys(v))

    @field_validator("use_levels")
    @classmethod
    def _known_levels(cls, v: list[int]) -> list[int]:
        bad = [x for x in v if x not in codes.USE_LEVELS]
        if bad:
            raise ValueError(f"unknown use levels {bad!r}")
        return sorted(set(v))

    @classmethod
    def parse(cls, data: dict[str, Any]) -> ItemElements:
        """Validate ``data``; raise ``ValidationFailed`` (code ``elements_invalid``) listing each bad field."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ValidationFailed("事项要素不符合要求。", code="elements_invalid", details=errors_of(exc)) from None

    def dump(self) -> dict[str, Any]:
        """The JSON form stored in the database and exported (Decimals as strings)."""
        return self.model_dump(mode="json")

    @property
    def is_instant(self) -> bool:
        return self.handling_type == HandlingType.INSTANT

    @property
    def has_fees(self) -> bool:
        return bool(self.fees)


def errors_of(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(p) for p in e["loc"]), "message": str(e["msg"]), "type": str(e["type"])}
        for e in exc.errors()
    ]


def merge_forms(forms: list[tuple[str, FormDefinition]]) -> tuple[FormDefinition, dict[str, list[str]]]:
    """Merge the forms of several items (一件事一表): fields with the same name count once.

    Returns the merged form and a map field name → the item codes it feeds. A field is required when any
    member requires it; options are unioned in order.
    """
    merged: dict[str, FormField] = {}
    mapping: dict[str, list[str]] = {}
    for item_code, form in forms:
        for field in form.fields:
            if field.name in merged:
                prev = merged[field.name]
                options = list(dict.fromkeys([*prev.options, *field.options]))
                merged[field.name] = prev.model_copy(
                    update={"required": prev.required or field.required, "options": options}
                )
            else:
                merged[field.name] = field
            mapping.setdefault(field.name, [])
            if item_code not in mapping[field.name]:
                mapping[field.name].append(item_code)
    return FormDefinition(fields=list(merged.values())), mapping


def merge_materials(materials: list[tuple[str, Material]]) -> list[tuple[Material, list[str]]]:
    """One material list for a bundle: the same material (or licence type) counts once.

    Keeps the strongest necessity (必要 over 容缺后补 over 非必要) and records which items need it.
    """
    rank = {Necessity.REQUIRED: 0, Necessity.DEFERRABLE: 1, Necessity.OPTIONAL: 2}
    out: dict[str, tuple[Material, list[str]]] = {}
    for item_code, material in materials:
        key = material.dedup_key()
        if key in out:
            prev, items = out[key]
            if rank[Necessity(material.necessity)] < rank[Necessity(prev.necessity)]:
                prev = prev.model_copy(update={"necessity": material.necessity})
            if item_code not in items:
                items.append(item_code)
            out[key] = (prev, items)
        else:
            out[key] = (material, [item_code])
    return list(out.values())

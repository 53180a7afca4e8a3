"""Forms of the catalog editor (workbench): the item's scalar elements and one formset per inline list.

They only shape HTML input into the element dict; :class:`yiwang.catalog.elements.ItemElements` (through
``services.item_update_draft``) is the one validator.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from yiwang.catalog import codes


def _choices(table: dict) -> list[tuple[str, str]]:
    return [(str(k), _(v)) for k, v in table.items()]


CHECKS = forms.CheckboxSelectMultiple


def _optional(table: dict) -> list[tuple[str, str]]:
    """Choices with a leading blank, so an untouched blank row counts as empty (the element default applies)."""
    return [("", "—"), *_choices(table)]


def _split(text: str) -> list[str]:
    for sep in ("，", "、", "|", ";", "；"):
        text = text.replace(sep, ",")
    return [t.strip() for t in text.split(",") if t.strip()]


class ItemForm(forms.Form):
    """Scalar elements of a service item (基本要素)."""

    name = forms.CharField(label=_("事项名称"), max_length=300)
    short_name = forms.CharField(label=_("简称"), max_length=100, required=False)
    aliases = forms.CharField(label=_("俗称（逗号分隔）"), required=False)
    legal_limit = forms.IntegerField(label=_("法定办结时限"), min_value=0, max_value=10000, required=False)
    legal_limit_unit = forms.ChoiceField(label=_("法定时限单位"), choices=_choices(codes.TIME_UNIT_NAMES))
    legal_limit_note = forms.CharField(label=_("法定时限说明"), max_length=1000, required=False)
    promised_limit = forms.IntegerField(
        label=_("承诺办结时限（0为即办）"), min_value=0, max_value=10000, required=False
    )
    promised_limit_unit = forms.ChoiceField(label=_("承诺时限单位"), choices=_choices(codes.TIME_UNIT_NAMES))
    promised_limit_note = forms.CharField(label=_("承诺时限说明"), max_length=1000, required=False)
    handling_type = forms.ChoiceField(label=_("办件类型"), choices=_choices(codes.HANDLING_TYPE_NAMES))
    visits = forms.IntegerField(label=_("到现场次数"), min_value=0, max_value=10)
    visits_reason = forms.CharField(label=_("必须现场办理原因"), max_length=1000, required=False)
    online_depth = forms.TypedChoiceField(
        label=_("网上办理深度"), choices=_choices(codes.ONLINE_DEPTH_NAMES), coerce=int
    )
    handling_forms = forms.MultipleChoiceField(
        label=_("办理形式"),
        choices=_choices(codes.HANDLING_FORM_NAMES),
        widget=CHECKS,
        required=False,
    )
    online_url = forms.CharField(label=_("网上办理地址"), max_length=500, required=False)
    appointment_url = forms.CharField(label=_("预约地址"), max_length=500, required=False)
    platform = forms.CharField(label=_("办理系统"), max_length=200, required=False)
    co_departments = forms.CharField(label=_("联办机构"), max_length=2000, required=False)
    special_procedures = forms.CharField(label=_("特别程序"), max_length=2000, required=False)
    quantity_limit = forms.CharField(label=_("数量限制"), max_length=1000, required=False)
    cross_scope = forms.ChoiceField(label=_("通办范围"), choices=_choices(codes.CROSS_SCOPE_NAMES), required=False)
    is_online = forms.BooleanField(label=_("网上办理"), required=False)
    is_express = forms.BooleanField(label=_("物流快递"), required=False)
    is_appointment = forms.BooleanField(label=_("预约办理"), required=False)
    is_pay_online = forms.BooleanField(label=_("网上支付"), required=False)
    in_hall = forms.BooleanField(label=_("进驻政务大厅"), required=False)
    self_service = forms.BooleanField(label=_("自助终端办理"), required=False)
    service_objects = forms.MultipleChoiceField(
        label=_("服务对象"),
        choices=_choices(codes.SERVICE_OBJECTS),
        widget=CHECKS,
        required=False,
    )
    personal_themes = forms.CharField(label=_("面向自然人主题（逗号分隔）"), required=False)
    corporate_themes = forms.CharField(label=_("面向法人主题（逗号分隔）"), required=False)
    transact_time = forms.CharField(label=_("办理时间"), max_length=300, required=False)
    consult_phone = forms.CharField(label=_("咨询电话"), max_length=100, required=False)
    complain_phone = forms.CharField(label=_("监督投诉电话"), max_length=100, required=False)
    result_name = forms.CharField(label=_("审批结果名称"), max_length=300, required=False)
    result_type = forms.ChoiceField(label=_("审批结果类型"), choices=_choices(codes.RESULT_TYPE_NAMES))
    result_sample = forms.CharField(label=_("结果样本地址"), max_length=500, required=False)
    result_delivery = forms.MultipleChoiceField(
        label=_("结果送达方式"),
        choices=_choices(codes.DELIVERY_NAMES),
        widget=CHECKS,
        required=False,
    )

    LIST_FIELDS = ("aliases", "personal_themes", "corporate_themes")

    @classmethod
    def initial_from(cls, draft: dict[str, Any]) -> dict[str, Any]:
        initial = {k: draft.get(k) for k in cls.base_fields if k in draft}
        for k in cls.LIST_FIELDS:
            initial[k] = "，".join(draft.get(k, []))
        result = draft.get("result", {})
        initial.update(
            result_name=result.get("name", ""),
            result_type=result.get("type", "other"),
            result_sample=result.get("sample", ""),
            result_delivery=result.get("delivery", []),
            online_depth=draft.get("online_depth", 0),
        )
        return initial

    def to_elements(self) -> dict[str, Any]:
        d = dict(self.cleaned_data)
        for k in self.LIST_FIELDS:
            d[k] = _split(d.get(k) or "")
        d["result"] = {
            "name": d.pop("result_name") or "",
            "type": d.pop("result_type"),
            "sample": d.pop("result_sample") or "",
            "delivery": d.pop("result_delivery") or [],
        }
        for k in ("legal_limit", "promised_limit"):
            if d.get(k) == "":
                d[k] = None
        return {k: ("" if v is None and k not in ("legal_limit", "promised_limit") else v) for k, v in d.items()}


class ConditionForm(forms.Form):
    text = forms.CharField(label=_("条件"), widget=forms.Textarea(attrs={"rows": 2}), max_length=20000)
    scenario = forms.CharField(label=_("适用情形"), max_length=200, required=False)


LICENCE_CHOICES = [("", "—"), *_choices(codes.LICENCE_TYPES)]


class MaterialForm(forms.Form):
    name = forms.CharField(label=_("材料名称"), max_length=300)
    type = forms.ChoiceField(label=_("类型"), choices=_optional(codes.MATERIAL_TYPE_NAMES), required=False)
    source = forms.ChoiceField(label=_("来源"), choices=_optional(codes.MATERIAL_SOURCE_NAMES), required=False)
    source_note = forms.CharField(label=_("来源说明"), max_length=300, required=False)
    necessity = forms.ChoiceField(label=_("必要性"), choices=_optional(codes.NECESSITY_NAMES), required=False)
    format = forms.ChoiceField(label=_("形式"), choices=_optional(codes.MATERIAL_FORMAT_NAMES), required=False)
    originals = forms.IntegerField(label=_("原件"), min_value=0, max_value=100, required=False)
    copies = forms.IntegerField(label=_("复印件"), min_value=0, max_value=100, required=False)
    page_format = forms.CharField(label=_("规格"), max_length=50, required=False)
    blank_form = forms.CharField(label=_("空白表格"), max_length=500, required=False)
    sample = forms.CharField(label=_("示例样表"), max_length=500, required=False)
    licence_type = forms.ChoiceField(label=_("可替代的电子证照"), choices=LICENCE_CHOICES, required=False)
    commitment = forms.BooleanField(label=_("可告知承诺替代"), required=False)
    note = forms.CharField(label=_("备注"), max_length=2000, required=False)


class FeeForm(forms.Form):
    name = forms.CharField(label=_("收费项目"), max_length=200)
    standard = forms.CharField(label=_("收费标准"), max_length=2000, required=False)
    basis = forms.CharField(label=_("收费依据"), max_length=2000, required=False)
    waivable = forms.BooleanField(label=_("可减免"), required=False)
    waiver_basis = forms.CharField(label=_("减免依据"), max_length=2000, required=False)


class StepForm(forms.Form):
    kind = forms.ChoiceField(label=_("环节"), choices=_optional(codes.STEP_KIND_NAMES))
    name = forms.CharField(label=_("名称"), max_length=100, required=False)
    days = forms.DecimalField(label=_("时限"), min_value=0, max_value=10000, decimal_places=2, required=False)
    handler = forms.CharField(label=_("办理人员"), max_length=100, required=False)
    standard = forms.CharField(label=_("审查标准"), max_length=2000, required=False)
    result = forms.CharField(label=_("办理结果"), max_length=500, required=False)


class QuestionForm(forms.Form):
    question = forms.CharField(label=_("问题"), max_length=1000)
    answer = forms.CharField(label=_("解答"), widget=forms.Textarea(attrs={"rows": 2}), max_length=10000)


class FormFieldForm(forms.Form):
    name = forms.RegexField(label=_("字段标识"), regex=r"^[a-z][a-z0-9_]{0,49}$", max_length=50)
    label = forms.CharField(label=_("字段名称"), max_length=100)
    type = forms.ChoiceField(label=_("类型"), choices=_optional(codes.FORM_FIELD_TYPES), required=False)
    required = forms.BooleanField(label=_("必填"), required=False)
    options = forms.CharField(label=_("选项（|分隔）"), required=False)
    pattern = forms.CharField(label=_("格式（正则）"), max_length=200, required=False)
    min = forms.DecimalField(label=_("最小值"), required=False, max_digits=20, decimal_places=4)
    max = forms.DecimalField(label=_("最大值"), required=False, max_digits=20, decimal_places=4)
    max_length = forms.IntegerField(label=_("最大长度"), min_value=1, max_value=10000, required=False)
    help = forms.CharField(label=_("填写说明"), max_length=300, required=False)


class PlaceForm(forms.Form):
    name = forms.CharField(label=_("大厅/窗口"), max_length=200, required=False)
    address = forms.CharField(label=_("地址"), max_length=500)
    hours = forms.CharField(label=_("办公时间"), max_length=300, required=False)
    phone = forms.CharField(label=_("电话"), max_length=50, required=False)


INLINES: list[tuple[str, type[forms.Form], Any]] = [
    ("conditions", ConditionForm, _("办理条件")),
    ("materials", MaterialForm, _("申请材料")),
    ("fees", FeeForm, _("收费")),
    ("steps", StepForm, _("办理流程")),
    ("faq", QuestionForm, _("常见问题")),
    ("form_fields", FormFieldForm, _("申请表字段")),
    ("places", PlaceForm, _("办理地点")),
]


def formset_class(form: type[forms.Form]):
    return forms.formset_factory(form, extra=1, can_delete=True, max_num=200, validate_max=True)


def rows_initial(prefix: str, draft: dict[str, Any]) -> list[dict[str, Any]]:
    if prefix == "form_fields":
        rows = draft.get("form", {}).get("fields", [])
        return [{**r, "options": "|".join(r.get("options", []))} for r in rows]
    return list(draft.get(prefix, []))


def rows_value(prefix: str, formset) -> list[dict[str, Any]]:
    rows = []
    for f in formset.forms:
        data = getattr(f, "cleaned_data", None)
        if not data or data.get("DELETE"):
            continue
        row = {k: v for k, v in data.items() if k != "DELETE"}
        if prefix == "form_fields":
            row["options"] = [o.strip() for o in (row.get("options") or "").split("|") if o.strip()]
        if prefix == "steps" and row.get("days") is not None:
            row["days"] = str(row["days"])
        # Blank selects and numbers mean "the element's default".
        rows.append(
            {
                k: v
                for k, v in row.items()
                if v is not None and not (v == "" and k in f.fields and isinstance(f.fields[k], forms.ChoiceField))
            }
        )
    return rows


def build(data, draft: dict[str, Any]):
    """(item form, {prefix: formset}) bound to POST ``data`` or initialised from ``draft``."""
    if data is None:
        item_form = ItemForm(initial=ItemForm.initial_from(draft))
        formsets = {
            prefix: formset_class(form)(prefix=prefix, initial=rows_initial(prefix, draft))
            for prefix, form, _title in INLINES
        }
    else:
        item_form = ItemForm(data)
        formsets = {prefix: formset_class(form)(data, prefix=prefix) for prefix, form, _title in INLINES}
    return item_form, formsets


def assemble(item_form: ItemForm, formsets: dict[str, Any], draft: dict[str, Any]) -> dict[str, Any]:
    """The element dict from valid forms, keeping what the editor does not show (legal basis, codes, …)."""
    data = dict(draft)
    data.update(item_form.to_elements())
    for prefix, formset in formsets.items():
        rows = rows_value(prefix, formset)
        if prefix == "form_fields":
            data["form"] = {"fields": rows}
        else:
            data[prefix] = rows
    return data

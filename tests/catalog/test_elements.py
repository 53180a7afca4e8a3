"""Element parsing, form definitions as data (validation of submitted values), merging for bundles."""

from __future__ import annotations

import pytest

from tests.factories import resident_id
from yiwang.catalog.elements import FormDefinition, ItemElements, Material, merge_forms, merge_materials
from yiwang.core.errors import ValidationFailed

from .factories import elements


def test_round_trip_is_lossless():
    e = ItemElements.parse(elements())
    again = ItemElements.parse(e.dump())
    assert again == e and again.dump() == e.dump()


def test_unknown_keys_are_rejected():
    with pytest.raises(ValidationFailed) as exc:
        ItemElements.parse(elements(colour="red"))
    assert exc.value.details[0]["field"] == "colour"


@pytest.mark.parametrize(
    "overrides",
    [
        {"item_type": "99"},
        {"cross_scope": "9"},
        {"use_levels": [7]},
        {"online_depth": 5},
        {"materials": [{"name": "x", "necessity": "maybe"}]},
        {"steps": [{"kind": "dance"}]},
        {"form": {"fields": [{"name": "a", "label": "A", "type": "select"}]}},
        {"form": {"fields": [{"name": "a", "label": "A"}, {"name": "a", "label": "B"}]}},
        {"form": {"fields": [{"name": "Bad Name", "label": "A"}]}},
        {"form": {"fields": [{"name": "a", "label": "A", "pattern": "("}]}},
    ],
)
def test_bad_elements(overrides):
    with pytest.raises(ValidationFailed):
        ItemElements.parse(elements(**overrides))


FORM = FormDefinition.model_validate(
    {
        "fields": [
            {"name": "name", "label": "姓名", "type": "text", "required": True, "max_length": 4},
            {"name": "id_no", "label": "身份证号", "type": "id_number", "required": True},
            {"name": "mobile", "label": "手机", "type": "phone"},
            {"name": "born", "label": "出生日期", "type": "date"},
            {"name": "n", "label": "人数", "type": "number", "min": "1", "max": "9"},
            {"name": "kind", "label": "类别", "type": "select", "options": ["甲", "乙"]},
            {"name": "tags", "label": "标签", "type": "multiselect", "options": ["a", "b"]},
            {"name": "agree", "label": "同意", "type": "checkbox", "required": True},
            {"name": "zip", "label": "邮编", "type": "text", "pattern": r"\d{6}"},
        ]
    }
)


def test_form_accepts_good_values():
    number = resident_id()
    cleaned = FORM.validate_data(
        {
            "name": "张三",
            "id_no": number,
            "mobile": "13800138000",
            "born": "2026-01-02",
            "n": "3",
            "kind": "甲",
            "tags": ["a"],
            "agree": True,
            "zip": "518000",
        }
    )
    assert cleaned["id_no"] == number and cleaned["n"] == "3" and cleaned["agree"] is True


def test_form_lists_every_bad_field():
    with pytest.raises(ValidationFailed) as exc:
        FORM.validate_data(
            {
                "name": "张三丰张无忌",
                "id_no": "110101199003070000",
                "mobile": "123",
                "born": "2026-13-40",
                "n": "10",
                "kind": "丙",
                "tags": ["c"],
                "zip": "abc",
                "extra": "x",
            }
        )
    assert exc.value.code == "form_invalid"
    assert set(exc.value.details) == {"name", "id_no", "mobile", "born", "n", "kind", "tags", "agree", "zip", "extra"}


def test_merge_forms_counts_shared_fields_once():
    a = FormDefinition.model_validate({"fields": [{"name": "name", "label": "姓名"}, {"name": "x", "label": "X"}]})
    b = FormDefinition.model_validate({"fields": [{"name": "name", "label": "姓名", "required": True}]})
    merged, mapping = merge_forms([("A", a), ("B", b)])
    assert [f.name for f in merged.fields] == ["name", "x"]
    assert merged.fields[0].required is True
    assert mapping == {"name": ["A", "B"], "x": ["A"]}


def test_merge_materials_dedups_by_name_and_licence():
    m = [
        ("A", Material(name="居民身份证", licence_type="resident_id", necessity="optional")),
        ("B", Material(name="身份证（原件）", licence_type="resident_id")),
        ("A", Material(name="户口簿")),
        ("C", Material(name="户口 簿")),
        ("C", Material(name="结婚证")),
    ]
    merged = merge_materials(m)
    assert [(x.name, items) for x, items in merged] == [
        ("居民身份证", ["A", "B"]),
        ("户口簿", ["A", "C"]),
        ("结婚证", ["C"]),
    ]
    assert merged[0][0].necessity == "required"

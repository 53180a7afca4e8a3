"""Bundles (一件事): members with 情形, merged form and materials, publication, index documents."""

from __future__ import annotations

import pytest

from tests.factories import DepartmentFactory
from yiwang.catalog import bundles, selectors, services
from yiwang.core.errors import ValidationFailed

from .factories import SYSTEM, draft_item, published_item

pytestmark = pytest.mark.django_db


def test_condition_logic():
    assert bundles.condition_applies({}, {})
    c = {"key": "hukou", "in": ["本地"]}
    assert bundles.condition_applies(c, {"hukou": "本地"})
    assert not bundles.condition_applies(c, {"hukou": "外地"})
    assert not bundles.condition_applies(c, {})
    assert bundles.condition_applies({"any": [c, {"key": "x", "in": [1]}]}, {"x": 1})
    assert not bundles.condition_applies({"all": [c, {"key": "x", "in": [1]}]}, {"x": 1})
    assert bundles.condition_applies({"key": "k", "in": ["a"]}, {"k": ["b", "a"]})
    assert bundles.validate_condition({"key": "nope", "in": []}, ["hukou"]) == [
        "未知情形 'nope'",
        "条件应列出适用的选项（in）",
    ]
    assert bundles.stages([(2, "c"), (1, "a"), (1, "b")]) == [["a", "b"], ["c"]]


@pytest.fixture
def setup(geo):
    health = DepartmentFactory(region=geo.th, name="卫生健康局")
    police = DepartmentFactory(region=geo.th, name="公安分局")
    a = published_item(department=health, name="出生医学证明", item_type="20", faq=[])
    b = published_item(
        department=police,
        name="出生登记",
        item_type="20",
        faq=[],
        materials=[
            {"name": "出生医学证明"},
            {"name": "父母身份证", "licence_type": "resident_id"},
        ],
        form={"fields": [{"name": "shop_name", "label": "店铺名称"}, {"name": "child", "label": "新生儿姓名"}]},
    )
    return geo, health, police, a, b


def test_bundle_members_form_and_materials(setup):
    geo, health, police, a, b = setup
    bundle = services.bundle_save(
        actor=SYSTEM,
        code="newborn",
        name="新生儿出生一件事",
        region=geo.th,
        lead_department=health,
        stage="生育收养",
        promised_days=5,
        scenarios=[{"key": "hukou", "question": "是否落户本市？", "options": ["是", "否"]}],
        members=[
            {"item": a, "order": 1},
            {"item": b, "order": 2, "condition": {"key": "hukou", "in": ["是"]}, "condition_text": "落户本市"},
        ],
        cooperating_departments=[police],
    )
    services.bundle_publish(actor=SYSTEM, bundle=bundle)
    assert [m.item for m in selectors.bundle_applicable_members(bundle=bundle, answers={"hukou": "否"})] == [a]
    members = selectors.bundle_applicable_members(bundle=bundle, answers={"hukou": "是"})
    assert [[m.item for m in s] for s in selectors.bundle_stages(members=members)] == [[a], [b]]
    _form, mapping = selectors.bundle_form(members=members)
    assert mapping["shop_name"] == [a.code, b.code] and mapping["child"] == [b.code]
    names = [m.name for m, _ in selectors.bundle_materials(members=members)]
    assert names.count("出生医学证明") == 1
    doc = next(iter(selectors.iter_bundle_index_documents()))
    assert doc["name"] == "新生儿出生一件事" and set(doc["item_codes"]) == {a.code, b.code}
    services.bundle_withdraw(actor=SYSTEM, bundle=bundle)
    assert list(selectors.iter_bundle_index_documents()) == []


def test_bundle_validation(setup):
    geo, health, _police, a, _b = setup
    base = dict(actor=SYSTEM, code="x", name="x", region=geo.th, lead_department=health)
    with pytest.raises(ValidationFailed):
        services.bundle_save(**base, members=[])
    with pytest.raises(ValidationFailed) as exc:
        services.bundle_save(**base, members=[{"item": a}, {"item": a}])
    assert exc.value.code == "bundle_members_invalid"
    with pytest.raises(ValidationFailed):
        services.bundle_save(**base, members=[{"item": a, "condition": {"key": "q", "in": ["y"]}}])


def test_bundle_with_unpublished_member_cannot_publish(setup):
    geo, health, _police, a, _b = setup
    c = draft_item(department=health)
    bundle = services.bundle_save(
        actor=SYSTEM, code="y", name="y", region=geo.th, lead_department=health, members=[{"item": a}, {"item": c}]
    )
    with pytest.raises(ValidationFailed) as exc:
        services.bundle_publish(actor=SYSTEM, bundle=bundle)
    assert exc.value.details == {"items": [c.code]}

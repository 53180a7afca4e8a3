"""Catalog API: public reads (items, versions, version at a date, forms, bundles) and staff editing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.api.conftest import ApiClient
from tests.factories import DepartmentFactory, staff
from yiwang.accounts.roles import Role
from yiwang.catalog import services

from .factories import SYSTEM, catalog_item, draft_item, elements, published_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def dept(geo):
    return DepartmentFactory(region=geo.th, name="天河区市场监督管理局")


def test_list_filter_and_detail(api, dept, geo):
    a = published_item(department=dept)
    draft_item(department=dept)
    b = published_item(
        department=DepartmentFactory(region=geo.ft),
        item_type="20",
        faq=[],
        personal_themes=["生育收养"],
        name="生育登记",
    )
    r = api.get("/catalog/items")
    assert r.status_code == 200 and {x["code"] for x in r.json()} == {a.code, b.code}
    assert {x["code"] for x in api.get("/catalog/items", {"region": "4403"}).json()} == {b.code}
    assert {x["code"] for x in api.get("/catalog/items", {"theme": "生育收养"}).json()} == {b.code}
    assert {x["code"] for x in api.get("/catalog/items", {"item_type": "01", "online": True}).json()} == {a.code}
    assert api.get("/catalog/items", {"region": "abc"}).status_code == 422
    d = api.get(f"/catalog/items/{a.code}").json()
    assert d["promised_limit"] == 5 and d["item_type_name"] == "行政许可" and d["department_name"] == dept.name
    assert next(m["name"] for m in d["current"]["elements"]["materials"]) == "食品经营许可申请书"
    assert d["current"]["elements"]["steps"][0]["kind"] == "accept"
    r = api.get("/catalog/items/nope")
    assert r.status_code == 404 and r.json()["code"] == "item_not_found"


def test_versions_and_version_at(api, dept):
    a = published_item(department=dept)
    between = timezone.now()
    services.item_update_draft(actor=SYSTEM, item=a, elements=elements(promised_limit=2))
    services.item_publish(actor=SYSTEM, item=a)
    r = api.get(f"/catalog/items/{a.code}/versions")
    assert [v["number"] for v in r.json()] == [2, 1]
    assert api.get(f"/catalog/items/{a.code}/versions/1").json()["promised_limit"] == 5
    r = api.get(f"/catalog/items/{a.code}/version-at", {"at": between.isoformat()})
    assert r.status_code == 200 and r.json()["number"] == 1 and r.json()["elements"]["promised_limit"] == 5
    assert api.get(f"/catalog/items/{a.code}/version-at", {"at": timezone.now().isoformat()}).json()["number"] == 2
    early = (timezone.now() - dt.timedelta(days=3)).replace(tzinfo=None).isoformat()
    r = api.get(f"/catalog/items/{a.code}/version-at", {"at": early})
    assert r.status_code == 404 and r.json()["code"] == "item_version_not_found"
    assert api.get(f"/catalog/items/{a.code}/versions/9").status_code == 404


def test_form_definition_and_check(api, dept):
    a = published_item(department=dept)
    form = api.get(f"/catalog/items/{a.code}/form").json()
    assert [f["name"] for f in form["form"]["fields"]] == ["shop_name", "area", "category"]
    r = api.post(f"/catalog/items/{a.code}/form/check", {"data": {"shop_name": "老王面馆", "category": "热食类"}})
    assert r.status_code == 200 and r.json()["cleaned"]["shop_name"] == "老王面馆"
    r = api.post(f"/catalog/items/{a.code}/form/check", {"data": {"area": "0"}})
    assert r.status_code == 422 and set(r.json()["details"]) == {"shop_name", "area", "category"}


def test_bundles(api, dept, geo):
    a = published_item(department=dept, form={"fields": [{"name": "applicant", "label": "申请人"}]})
    b = published_item(
        department=dept,
        name="户外广告设置",
        form={"fields": [{"name": "applicant", "label": "申请人", "required": True}]},
        materials=[{"name": "营业执照", "licence_type": "business_licence"}, {"name": "广告设计图"}],
    )
    bundle = services.bundle_save(
        actor=SYSTEM,
        code="open-restaurant",
        name="开办餐饮店一件事",
        region=geo.th,
        lead_department=dept,
        audience="corporate",
        scenarios=[{"key": "ad", "question": "是否设置户外招牌？", "options": ["是", "否"]}],
        members=[{"item": a}, {"item": b, "order": 2, "condition": {"key": "ad", "in": ["是"]}}],
    )
    assert api.get("/catalog/bundles").json() == []
    assert api.get("/catalog/bundles/open-restaurant").status_code == 404
    services.bundle_publish(actor=SYSTEM, bundle=bundle)
    assert [x["code"] for x in api.get("/catalog/bundles").json()] == ["open-restaurant"]
    d = api.get("/catalog/bundles/open-restaurant").json()
    assert [m["item_code"] for m in d["members"]] == [a.code, b.code] and d["scenarios"][0]["key"] == "ad"
    plan = api.post("/catalog/bundles/open-restaurant/plan", {"answers": {"ad": "否"}}).json()
    assert [[m["item_code"] for m in s] for s in plan["stages"]] == [[a.code]]
    plan = api.post("/catalog/bundles/open-restaurant/plan", {"answers": {"ad": "是"}}).json()
    assert len(plan["stages"]) == 2 and plan["form_mapping"]["applicant"] == [a.code, b.code]
    assert plan["form"]["fields"][0]["required"] is True
    names = [m["material"]["name"] for m in plan["materials"]]
    assert names.count("营业执照") == 1 and "广告设计图" in names


def test_staff_edit_check_publish(api_as, dept, geo):
    admin = staff(Role.CATALOG_ADMIN, dept)
    outsider = staff(Role.CATALOG_ADMIN, DepartmentFactory(region=geo.ft))
    cat = catalog_item(item_type="01")
    client = api_as(admin)
    payload = {
        "code": "NEW-ITEM-1",
        "catalog_code": cat.code,
        "department_id": dept.pk,
        "elements": elements(promised_limit=30),
    }
    r = client.post("/catalog/items", payload)
    assert r.status_code == 201, r.content
    assert r.json()["state"] == "draft"
    check = client.get("/catalog/items/NEW-ITEM-1/check").json()
    assert not check["passed"] and check["violations"][0]["field"] == "promised_limit"
    r = client.post("/catalog/items/NEW-ITEM-1/publish", {})
    assert r.status_code == 422 and r.json()["code"] == "quality_rules_failed"
    assert r.json()["details"][0]["rule"] == "promised_within_legal"
    r = client.client.put(
        "/api/v1/catalog/items/NEW-ITEM-1/draft",
        elements(promised_limit=4),
        content_type="application/json",
        **client._headers(),
    )
    assert r.status_code == 200 and r.json()["promised_limit"] == 4
    r = client.post("/catalog/items/NEW-ITEM-1/publish", {"note": "首发"})
    assert r.status_code == 201 and r.json()["number"] == 1
    assert client.post("/catalog/items/NEW-ITEM-1/suspend", {"reason": "调整"}).json()["state"] == "suspended"
    assert client.post("/catalog/items/NEW-ITEM-1/resume").json()["state"] == "published"
    # Someone else's region: the item does not exist for them.
    r = api_as(outsider).get("/catalog/items/NEW-ITEM-1/draft")
    assert r.status_code == 404
    # Anonymous cannot edit.
    assert ApiClient().post("/catalog/items/NEW-ITEM-1/publish", {}).status_code == 401


def test_rules_list(api):
    codes = [r["code"] for r in api.get("/catalog/rules").json()]
    assert "promised_within_legal" in codes and "result_sample" in codes

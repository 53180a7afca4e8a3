"""Workbench catalog editing: inline materials/fees/steps/FAQ/form fields, preview, publish with rules, diff, report."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.catalog.factories import SYSTEM, draft_item, published_item
from tests.factories import DepartmentFactory, staff
from yiwang.accounts.roles import Role
from yiwang.catalog import services
from yiwang.catalog.models import ServiceItem

from .formdata import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def dept(geo):
    return DepartmentFactory(region=geo.th, name="天河区市场监督管理局")


@pytest.fixture
def manager(dept):
    c = Client()
    c.force_login(staff(Role.CATALOG_ADMIN, dept))
    return c


def get(c, url):
    return c.get(url, secure=True)


def post(c, url, data):
    return c.post(url, data, secure=True)


def editor_data(c, code):
    r = get(c, f"/workbench/catalog/{code}/")
    assert r.status_code == 200
    return form_data(r.content.decode(), "item-editor")


def test_unchanged_round_trip_keeps_the_draft(manager, dept):
    item = published_item(department=dept)
    before = dict(item.draft)
    data = editor_data(manager, item.code)
    r = post(manager, f"/workbench/catalog/{item.code}/", data)
    assert r.status_code == 302, r.content.decode()[:3000]
    item.refresh_from_db()
    assert item.draft == before and not item.draft_changed


def test_edit_inline_rows_preview_publish_and_diff(manager, dept):
    item = published_item(department=dept)
    data = editor_data(manager, item.code)
    data["promised_limit"] = ["3"]
    data["materials-0-necessity"] = ["deferrable"]
    data["materials-3-DELETE"] = ["on"]
    n = int(data["materials-TOTAL_FORMS"][0]) - 1  # the blank row
    data[f"materials-{n}-name"] = ["授权委托书"]
    data[f"materials-{n}-copies"] = ["1"]
    data[f"materials-{n}-originals"] = ["1"]
    f = int(data["fees-TOTAL_FORMS"][0]) - 1
    data.update({f"fees-{f}-name": ["工本费"], f"fees-{f}-standard": ["10元"], f"fees-{f}-basis": ["价格文件"]})
    q = int(data["faq-TOTAL_FORMS"][0]) - 1
    data.update({f"faq-{q}-question": ["可以代办吗？"], f"faq-{q}-answer": ["可以，需授权委托书。"]})
    k = int(data["form_fields-TOTAL_FORMS"][0]) - 1
    data.update(
        {f"form_fields-{k}-name": ["phone"], f"form_fields-{k}-label": ["联系电话"], f"form_fields-{k}-type": ["phone"]}
    )
    data["steps-0-days"] = ["0.5"]
    r = post(manager, f"/workbench/catalog/{item.code}/", data)
    assert r.status_code == 302, r.content.decode()[:3000]
    item.refresh_from_db()
    d = item.draft
    assert d["promised_limit"] == 3 and item.draft_changed
    assert [m["name"] for m in d["materials"]] == ["食品经营许可申请书", "营业执照", "法定代表人身份证", "授权委托书"]
    assert d["materials"][0]["necessity"] == "deferrable"
    assert d["fees"][0]["basis"] == "价格文件" and d["faq"][-1]["question"] == "可以代办吗？"
    assert d["form"]["fields"][-1]["name"] == "phone" and d["steps"][0]["days"] == "0.5"
    assert item.current_version.promised_limit == 5  # nothing published yet

    html = get(manager, f"/workbench/catalog/{item.code}/preview/").content.decode()
    assert "草稿预览" in html and "授权委托书" in html and "3 工作日" in html

    html = get(manager, f"/workbench/catalog/{item.code}/diff/").content.decode()
    assert "promised_limit" in html and "materials[授权委托书]" in html and "materials[食品安全管理制度]" in html

    r = post(manager, f"/workbench/catalog/{item.code}/publish/", {"note": "压缩时限"})
    assert r.status_code == 302
    item.refresh_from_db()
    assert item.current_version.number == 2 and item.current_version.promised_limit == 3
    html = get(manager, f"/workbench/catalog/{item.code}/diff/?a=1&b=2").content.decode()
    assert "授权委托书" in html


def test_publish_refused_names_rule_and_field(manager, dept):
    item = draft_item(department=dept, promised_limit=30)
    html = get(manager, f"/workbench/catalog/{item.code}/").content.decode()
    assert "promised_within_legal" in html and "promised_limit" in html
    r = manager.post(f"/workbench/catalog/{item.code}/publish/", {}, secure=True, follow=True)
    assert "承诺时限（30）超过法定时限（20）" in r.content.decode()
    item.refresh_from_db()
    assert item.state == "draft"


def test_invalid_input_shows_errors_and_keeps_draft(manager, dept):
    item = published_item(department=dept)
    before = dict(item.draft)
    data = editor_data(manager, item.code)
    data["visits"] = ["-1"]
    data["form_fields-0-name"] = ["Bad Name"]
    r = post(manager, f"/workbench/catalog/{item.code}/", data)
    assert r.status_code == 422
    item.refresh_from_db()
    assert item.draft == before


def test_new_item_suspend_resume_cancel(manager, dept):
    from tests.catalog.factories import catalog_item

    cat = catalog_item(item_type="20", name="老年人优待证办理")
    r = post(manager, "/workbench/catalog/new/", {"catalog_code": cat.code, "department": dept.pk, "code": "WB-1"})
    assert r.status_code == 302
    item = ServiceItem.objects.get(code="WB-1")
    assert item.name == "老年人优待证办理" and item.state == "draft"
    assert post(manager, "/workbench/catalog/new/", {"catalog_code": "nope", "department": dept.pk}).status_code == 422
    services.item_update_draft(
        actor=SYSTEM,
        item=item,
        elements={
            **item.draft,
            "visits": 0,
            "handling_forms": ["window", "post"],
            "consult_phone": "020-1111111",
            "complain_phone": "020-12345",
        },
    )
    post(manager, "/workbench/catalog/WB-1/publish/", {})
    item.refresh_from_db()
    assert item.state == "published"
    post(manager, "/workbench/catalog/WB-1/suspend/", {"reason": "调整"})
    item.refresh_from_db()
    assert item.state == "suspended"
    post(manager, "/workbench/catalog/WB-1/resume/", {})
    item.refresh_from_db()
    assert item.state == "published"
    post(manager, "/workbench/catalog/WB-1/cancel/", {"reason": "取消"})
    item.refresh_from_db()
    assert item.state == "cancelled"


def test_scope_and_report(geo, manager, dept):
    mine = draft_item(department=dept, promised_limit=30)
    other = draft_item(department=DepartmentFactory(region=geo.ft))
    html = get(manager, "/workbench/catalog/").content.decode()
    assert mine.code in html and other.code not in html
    assert get(manager, f"/workbench/catalog/{other.code}/").status_code == 404
    html = get(manager, "/workbench/catalog/report/").content.decode()
    assert "共 1 个事项，1 个未通过质量规则" in html and "承诺时限（30）超过法定时限（20）" in html
    clerk = Client()
    clerk.force_login(staff(Role.WINDOW_CLERK, dept))
    assert get(clerk, "/workbench/catalog/report/").status_code == 404
    assert get(clerk, f"/workbench/catalog/{mine.code}/").status_code == 404

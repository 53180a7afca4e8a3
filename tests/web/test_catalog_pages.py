"""Portal pages of the catalog: browse, guide (all sections, print), PDFs, bundles, languages."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.catalog.factories import SYSTEM, draft_item, elements, published_item
from tests.factories import DepartmentFactory
from yiwang.catalog import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(geo):
    dept = DepartmentFactory(region=geo.th, name="天河区市场监督管理局")
    return published_item(
        department=dept,
        fees=[{"name": "工本费", "standard": "10元/本", "basis": "某价格文件"}],
        is_pay_online=True,
    )


def get(client, url, **extra):
    return client.get(url, secure=True, **extra)


GUIDE_SECTIONS = [
    "事项名称",
    "实施主体",
    "办理条件",
    "申请材料",
    "办理流程",
    "法定办结时限",
    "承诺办结时限",
    "收费标准",
    "办理地点和时间",
    "咨询电话",
    "监督投诉电话",
    "网上办理深度",
    "结果送达方式",
    "通办范围",
]


def test_guide_shows_every_element(item):
    c = Client()
    html = get(c, f"/items/{item.code}/").content.decode()
    for label in GUIDE_SECTIONS:
        assert label in html, label
    for value in [
        "食品经营许可申请书",
        "营业执照",
        "容缺后补",
        "20 工作日",
        "5 工作日",
        "工本费",
        "10元/本",
        "0755-12345678",
    ]:
        assert value in html, value
    assert "示范市人民路1号" in html and "食品经营许可证有效期多久" in html
    assert "Ⅳ级（全程网办）" in html and "全市通办" in html
    assert 'data-testid="apply-online"' in html
    printed = get(c, f"/items/{item.code}/?print=1").content.decode()
    assert "申请材料" in printed and "site-header" not in printed


def test_guide_in_english_and_traditional(item):
    c = Client()
    en = get(c, f"/items/{item.code}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Documents required" in en and "Statutory time limit" in en and "Required" in en
    hant = get(c, f"/items/{item.code}/", HTTP_ACCEPT_LANGUAGE="zh-hant").content.decode()
    assert "申請材料" in hant and "法定辦結時限" in hant


def test_no_apply_button_when_not_online_or_suspended(geo, item):
    c = Client()
    services.item_suspend(actor=SYSTEM, item=item, reason="调整")
    html = get(c, f"/items/{item.code}/").content.decode()
    assert "已暂停办理" in html and 'data-testid="apply-online"' not in html
    r = get(c, f"/items/{item.code}/apply/")
    assert r.status_code == 302 and r["Location"].endswith(f"/items/{item.code}/")


def test_history_version_page(item):
    c = Client()
    services.item_update_draft(actor=SYSTEM, item=item, elements=elements(promised_limit=3, is_pay_online=False))
    services.item_publish(actor=SYSTEM, item=item)
    html = get(c, f"/items/{item.code}/v1/").content.decode()
    assert "历史版本" in html and "5 工作日" in html
    assert "3 工作日" in get(c, f"/items/{item.code}/").content.decode()
    assert get(c, f"/items/{item.code}/v9/").status_code == 404


def test_unpublished_and_unknown_items_404(geo):
    d = draft_item(department=DepartmentFactory(region=geo.th))
    c = Client()
    assert get(c, f"/items/{d.code}/").status_code == 404
    assert get(c, "/items/nope/").status_code == 404


def test_pdfs(item):
    c = Client()
    for url in ["blank-form.pdf", "blank-form.pdf?sample=1", "result-sample.pdf"]:
        r = get(c, f"/items/{item.code}/{url}")
        assert r.status_code == 200 and r["Content-Type"] == "application/pdf" and r.content.startswith(b"%PDF")


def test_browse_tabs(geo, item):
    c = Client()
    other = published_item(
        department=DepartmentFactory(region=geo.ws, name="五山街道办事处"),
        item_type="20",
        faq=[],
        name="老年人优待证办理",
        personal_themes=["退休养老"],
        corporate_themes=[],
    )
    html = get(c, "/items/").content.decode()
    assert "天河区市场监督管理局" in html and "五山街道办事处" in html
    html = get(c, f"/items/?department={item.department_id}").content.decode()
    assert item.name in html and other.name not in html
    html = get(c, "/items/?by=personal").content.decode()
    assert "退休养老" in html and "就业创业" in html
    html = get(c, "/items/?by=personal&theme=退休养老").content.decode()
    assert other.name in html and item.name not in html
    html = get(c, "/items/?by=corporate&theme=准营准办").content.decode()
    assert item.name in html and other.name not in html
    html = get(c, "/items/?by=level&level=4").content.decode()
    assert other.name in html and item.name not in html
    html = get(c, "/items/?q=优待证").content.decode()
    assert other.name in html
    assert get(c, "/items/?by=bogus&level=x&department=y").status_code == 200
    html = get(c, f"/departments/{item.department_id}/").content.decode()
    assert item.name in html


def test_bundle_page(geo, item):
    b = published_item(department=item.department, name="户外招牌设置", faq=[], item_type="20")
    bundle = services.bundle_save(
        actor=SYSTEM,
        code="open-restaurant",
        name="开办餐饮店一件事",
        region=geo.th,
        lead_department=item.department,
        scenarios=[{"key": "sign", "question": "是否设置招牌？", "options": ["是", "否"]}],
        members=[{"item": item}, {"item": b, "order": 2, "condition": {"key": "sign", "in": ["是"]}}],
    )
    c = Client()
    assert get(c, "/bundles/open-restaurant/").status_code == 404
    services.bundle_publish(actor=SYSTEM, bundle=bundle)
    assert "开办餐饮店一件事" in get(c, "/bundles/").content.decode()
    html = get(c, "/bundles/open-restaurant/").content.decode()
    assert "是否设置招牌" in html and "户外招牌设置" in html
    html = get(c, "/bundles/open-restaurant/?sign=否").content.decode()
    assert "户外招牌设置" not in html and "合并后 4 份，原需 4 份" in html
    html = get(c, "/bundles/open-restaurant/?sign=是").content.decode()
    assert "户外招牌设置" in html and "合并后 4 份，原需 8 份" in html

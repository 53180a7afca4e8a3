"""Browser: a citizen browses from the home page to an item and sees its materials and limits; mobile; print."""

import pytest
from playwright.sync_api import expect

from yiwang.demo import catalog, foundation

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo():
    foundation.load()
    return catalog.load()


def test_citizen_browses_from_home_to_an_item_guide(page, demo):
    page.goto(page.base_url + "/")
    page.get_by_role("link", name="个人办事").click()
    page.get_by_role("link", name="生育收养").click()
    page.get_by_role("link", name="出生医学证明签发").click()
    assert page.get_by_test_id("item-title").inner_text() == "出生医学证明签发"
    materials = page.get_by_test_id("materials")
    assert materials.get_by_text("出生医学证明自填单").is_visible()
    assert materials.get_by_text("父母双方居民身份证").is_visible()
    assert "5 工作日" in page.get_by_test_id("legal-limit").inner_text()
    assert "1 工作日" in page.get_by_test_id("promised-limit").inner_text()
    assert page.get_by_test_id("apply-online").is_visible()
    page.get_by_test_id("print-guide").click()
    page.wait_for_url("**print=1*")
    expect(page.get_by_role("heading", name="申请材料")).to_be_visible()
    assert not page.locator(".site-header").count()


def test_browse_by_department_on_a_phone(mobile_page, demo):
    page = mobile_page
    page.goto(page.base_url + "/items/")
    page.get_by_role("link", name="广州市天河区民政局").click()
    page.get_by_role("link", name="内地居民结婚登记").click()
    assert page.get_by_test_id("item-title").inner_text() == "内地居民结婚登记"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400  # no horizontal scrolling of the page itself on a phone
    assert "即办" in page.get_by_test_id("promised-limit").inner_text()


def test_bundle_asks_the_scenario_and_lists_items(page, demo):
    page.goto(page.base_url + "/bundles/")
    page.get_by_role("link", name="新生儿出生一件事").click()
    page.get_by_label("是").first.check()
    page.locator("input[name=ss_card][value=否]").check()
    page.get_by_role("button", name="生成办事清单").click()
    assert page.get_by_role("link", name="出生登记").is_visible()
    assert not page.get_by_role("link", name="社会保障卡申领").count()

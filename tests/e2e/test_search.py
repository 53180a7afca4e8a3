"""Browser: the search box suggests while typing, the results page shows cards with actions."""

import pytest

from tests.catalog.factories import SYSTEM, published_item
from tests.factories import DepartmentFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_type_pinyin_pick_a_suggestion_and_open_the_guide(page, geo, settings, tmp_path):
    from yiwang.search import services

    settings.SEARCH_INDEX_DIR = tmp_path / "index"
    dept = DepartmentFactory(name="广州市市场监督管理局", region=geo.gz)
    item = published_item(department=dept, name="食品经营许可证核发")
    services.rebuild(actor=SYSTEM)

    page.goto(page.base_url + "/")
    page.locator("#search-q-hero").press_sequentially("shipin", delay=30)
    suggestion = page.locator("#search-suggest-hero").get_by_role("link", name="食品经营许可证核发")
    suggestion.wait_for()
    suggestion.click()
    page.wait_for_load_state("networkidle")
    assert "/search/" in page.url
    card = page.locator(".result-card").first
    assert card.locator("h3").inner_text() == "食品经营许可证核发"
    card.get_by_role("link", name="查看指南").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/items/{item.code}/")


def test_nothing_found_offers_the_hotline(page, geo, settings, tmp_path):
    settings.SEARCH_INDEX_DIR = tmp_path / "index"
    page.goto(page.base_url + "/search/?q=火星移民登记")
    assert page.get_by_test_id("zero-results").is_visible()
    assert "12345" in page.get_by_test_id("zero-results").inner_text()

"""Browser: the portal home and staff login."""

import pytest

from tests.e2e.conftest import login
from tests.factories import PASSWORD, DepartmentFactory, HallFactory, staff

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_portal_home_shows_halls_and_regions(page, geo):
    HallFactory(name="天河区政务服务中心", region=geo.th)
    page.goto(page.base_url + "/")
    assert page.locator("h1").inner_text() == "一网通办，办事不求人"
    assert page.get_by_role("link", name="天河区政务服务中心").is_visible()
    assert page.get_by_role("link", name="广东省").is_visible()
    page.get_by_role("link", name="天河区政务服务中心").click()
    assert page.locator("h1").inner_text() == "天河区政务服务中心"


def test_staff_login_reaches_the_workbench_with_their_role(page, geo):
    dept = DepartmentFactory(name="天河区政务服务和数据管理局", region=geo.th)
    staff("window_clerk", dept, username="clerk1")
    login(page, "clerk1", PASSWORD)
    assert page.url.endswith("/workbench/")
    assert page.get_by_test_id("role").inner_text() == "综窗受理员"


def test_wrong_password_is_refused_with_a_message(page, geo):
    dept = DepartmentFactory(region=geo.th)
    staff("reviewer", dept, username="rev1")
    login(page, "rev1", "wrong-password")
    assert page.get_by_test_id("login-error").inner_text() == "账号或密码错误。"
    assert "/login/" in page.url

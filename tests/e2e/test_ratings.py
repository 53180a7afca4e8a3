"""Browser: the 好差评 loop — a completed case invites its applicant; they rate 不满意 with a reason; the
department verifies, rectifies, calls back and closes; the monthly report shows 差评 1 and 整改率 100%.
Also the window evaluator tablet: five large faces after a window contact ends."""

import re

import pytest

from tests.cases import factories as cf
from tests.e2e.conftest import login
from tests.factories import PASSWORD
from yiwang.accounts import sms
from yiwang.cases import services as cases
from yiwang.ratings import selectors, services
from yiwang.ratings.models import Rating, Rectification

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_completed_case_to_closed_rectification_and_monthly_report(page):
    w = cf.world()
    case = cf.reviewed(w)
    cases.case_decide(actor=w.head, case_id=case.pk, approve=True, opinion="准予许可")
    sms.outbox.clear()
    cases.case_complete(actor=w.clerk, case_id=case.pk, delivery="online")  # commits: the invitation follows

    # The applicant receives the rating link by SMS and rates 不满意 with a reason.
    links = [m.text for m in sms.outbox if "/rate/" in m.text]
    assert len(links) == 1, sms.outbox
    path = re.search(r"(/rate/[^/\s]+/)", links[0]).group(1)
    page.goto(page.base_url + path)
    assert case.item_name in page.get_by_test_id("target-label").inner_text()
    page.get_by_test_id("face-2").click()
    assert page.get_by_test_id("chosen-level").inner_text() == "不满意"
    page.get_by_label("办理时间长、超时办理").check()
    page.fill("#rate-text", "审批等了很久")
    page.get_by_test_id("rate-submit").click()
    assert page.get_by_test_id("rate-done").inner_text() == "感谢您的评价"
    rating = Rating.objects.get(target_kind="case", target_id=str(case.pk))
    assert rating.level == 2 and rating.reasons == ["b_slow"] and rating.department_id == w.dept.pk

    # The department head finds the rectification in the queue and walks it to the end.
    login(page, w.head.username, PASSWORD)
    page.goto(page.base_url + "/workbench/ratings/rectifications/")
    rect = Rectification.objects.get(rating=rating)
    assert rect.number in page.get_by_test_id("rectification-queue").inner_text()
    page.get_by_role("link", name=rect.number).click()
    assert page.get_by_test_id("rect-state").inner_text() == "待分派"
    page.select_option("#f-assignee", str(w.head.pk))
    page.get_by_test_id("do-assign").click()
    assert page.get_by_test_id("rect-state").inner_text() == "待核实"
    page.get_by_test_id("reveal").click()
    assert "13800138000" in page.get_by_test_id("evaluator").inner_text()
    page.fill("#f-verify-note", "已电话联系申请人，情况属实：审查环节等待时间较长。")
    page.get_by_test_id("do-verify").click()
    assert page.get_by_test_id("rect-state").inner_text() == "待定性"
    page.get_by_test_id("classify-rectify_now").check()
    page.fill("#f-class-note", "情况清楚、诉求合理，立行立改。")
    page.get_by_test_id("do-classify").click()
    assert page.get_by_test_id("rect-state").inner_text() == "整改中"
    page.fill("#f-feedback", "已调整审查人员排班，压缩审查时间。")
    page.fill("#f-public", "压缩审查环节等待时间，增加审查人员。")
    page.get_by_test_id("do-feedback").click()
    assert page.get_by_test_id("rect-state").inner_text() == "待回访"
    page.select_option("#f-level", "4")
    page.fill("#f-revisit-note", "申请人对整改表示满意。")
    page.get_by_test_id("do-return-visit").click()
    assert page.get_by_test_id("rect-state").inner_text() == "已办结"

    # The supervisor's monthly report: 差评 1, 整改率 100%.
    page.get_by_role("button", name="退出").click()
    login(page, w.supervisor.username, PASSWORD)
    month = f"{selectors.today_local():%Y-%m}"
    page.goto(f"{page.base_url}/workbench/ratings/reports/?month={month}&by=department")
    assert page.get_by_test_id("kpi-bad").inner_text() == "1"
    assert page.get_by_test_id("kpi-rectified-rate").inner_text() == "100.0%"
    assert page.get_by_test_id("kpi-revisit-rate").inner_text() == "100.0%"
    assert w.dept.name in page.get_by_test_id("report-table").inner_text()

    # And the public page lists the rectified case without personal data.
    page.goto(f"{page.base_url}/ratings/departments/{w.dept.pk}/{month}/")
    public = page.get_by_test_id("public-cases").inner_text()
    assert "压缩审查环节等待时间" in public and "张三" not in public and "13800138000" not in public


def test_window_evaluator_tablet_five_faces(browser, live_server):
    from tests.ratings.factories import world

    w = world()
    _, key = services.device_register(actor=w.supervisor, window_id=w.window.pk)
    tablet = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN").new_page()
    tablet.goto(f"{live_server.url}/rate/device/{key}/")
    assert tablet.locator("#evaluator-screen").get_attribute("data-state") == "idle"
    contact = services.contact_start(actor=w.clerk, window_id=w.window.pk, item_name="食品经营许可")
    services.contact_end(actor=w.clerk, contact_id=contact.pk)
    tablet.wait_for_selector('#evaluator-screen[data-state="rate"]', timeout=10_000)  # htmx polls every 3 s
    for level in range(1, 6):
        assert tablet.get_by_test_id(f"evaluator-face-{level}").is_visible()
    tablet.get_by_test_id("evaluator-face-1").click()
    tablet.wait_for_selector('#evaluator-screen[data-state="reasons"]')
    tablet.get_by_label("服务态度差、推诿扯皮").check()
    tablet.get_by_test_id("evaluator-submit").click()
    assert tablet.get_by_test_id("evaluator-thanks").inner_text() == "感谢您的评价！"
    rating = Rating.objects.get()
    assert (rating.level, rating.channel, rating.reasons) == (1, "evaluator", ["b_attitude"])
    assert Rectification.objects.filter(rating=rating, department=w.dept).exists()
    tablet.context.close()

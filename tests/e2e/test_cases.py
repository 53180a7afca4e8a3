"""Browser: the whole story of one online application, as the issue's "Done means" tells it.

Citizen applies online → pre-review → the clerk sends ONE 补正 notice → the citizen resubmits → accepted →
the reviewer signs the review step and approves → the case is completed; the citizen sees each step with its
time, and the deadline on screen matches the working-day calendar. The acceptance day is pinned to
2026-09-28 so the 5-working-day promise spans the National Day holiday and ends on its 调休 Saturday.
"""

import datetime as dt
import re

import pytest

from tests.e2e.conftest import login
from yiwang.cases import clock
from yiwang.core.ids import make_credit_code, make_resident_id
from yiwang.demo import catalog, foundation
from yiwang.demo.foundation import DEMO_PASSWORD
from yiwang.workdays.calendar import get_calendar

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n% e2e material\n%%EOF\n"
ACCEPTED_ON = dt.date(2026, 9, 28)


@pytest.fixture
def demo(tmp_path, settings, monkeypatch):
    settings.PRIVATE_FILES_DIR = tmp_path / "private"
    monkeypatch.setattr(clock, "today", lambda: ACCEPTED_ON)
    foundation.load()
    return catalog.load()


def as_user(browser, live_server, username):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.base_url = live_server.url
    login(page, username, DEMO_PASSWORD)
    return page


def pdf(name):
    return {"name": name, "mimeType": "application/pdf", "buffer": PDF}


def test_whole_story(browser, live_server, demo):
    item = demo["food_business"]
    version = item.current_version
    required = [i for i, m in enumerate(version.data.materials) if m.necessity == "required" and m.format != "paper"]
    # every material, the 容缺后补 one too: this story is a plain 受理 (容缺 needs the signed commitment)
    complete = [i for i, m in enumerate(version.data.materials) if m.necessity != "optional" and m.format != "paper"]

    # 1. the citizen applies online
    citizen = as_user(browser, live_server, "citizen")
    citizen.goto(f"{live_server.url}/items/{item.code}/")
    citizen.get_by_test_id("apply-online").click()
    citizen.get_by_test_id("start-application").click()
    citizen.fill("#f_applicant_name", "张三")
    citizen.fill("#f_applicant_id", make_resident_id(foundation.CITIZEN["id17"]))
    citizen.fill("#f_phone", "13800138000")
    citizen.select_option("#f_delivery", "窗口领取")
    citizen.fill("#f_org_name", "广州天河示例餐饮有限公司")
    citizen.fill("#f_credit_code", make_credit_code(foundation.ENTERPRISE["credit17"]))
    citizen.check("input[name=f_category][value=热食类食品制售]")
    for i in complete:
        citizen.set_input_files(f"#material_{i}", pdf(f"材料{i}.pdf"))
    citizen.get_by_test_id("submit-case").click()
    assert citizen.get_by_test_id("case-state").inner_text() == "待预审"
    number = citizen.get_by_test_id("case-number").inner_text()
    assert re.fullmatch(r"440106000000\d{8}\d{6}", number)
    case_url = citizen.url

    # 2. pre-review, then ONE notice listing every deficiency
    clerk = as_user(browser, live_server, "clerk")
    clerk.goto(f"{live_server.url}/workbench/cases/?queue=pretrial")
    clerk.get_by_role("link", name=number).click()
    clerk.get_by_test_id("act-pretrial_pass").click()
    assert clerk.get_by_test_id("case-state").inner_text() == "待受理"
    clerk.get_by_text("一次性告知补正").click()
    clerk.get_by_test_id(f"deficient-{required[0]}").check()
    clerk.get_by_test_id(f"reason-{required[0]}").fill("申请书未签名，请签名后上传")
    clerk.get_by_test_id("act-request_supplement").click()
    assert clerk.get_by_test_id("case-state").inner_text() == "补正中"
    assert clerk.get_by_test_id("documents").get_by_text("补正告知书").is_visible()

    # 3. the citizen sees the notice and resubmits
    citizen.goto(case_url)
    assert "申请书未签名" in citizen.get_by_role("alert").inner_text()
    citizen.get_by_test_id("documents").get_by_role("link", name="补正告知书").click()
    assert "一次性告知" in citizen.content()
    citizen.goto(case_url)
    citizen.get_by_test_id("edit-case").click()
    citizen.set_input_files(f"#material_{required[0]}", pdf("签名版申请书.pdf"))
    citizen.get_by_test_id("resubmit").click()
    assert citizen.get_by_test_id("case-state").inner_text() == "待受理"

    # 4. accepted (on 2026-09-28): the promise runs over National Day to its 调休 Saturday
    clerk.reload()
    clerk.get_by_test_id("act-accept").click()
    assert clerk.get_by_test_id("case-state").inner_text() == "在办"
    expected = get_calendar(item.region_id).add(ACCEPTED_ON, version.promised_limit).date
    assert expected == dt.date(2026, 10, 10)  # 09-29, 09-30, 10-08, 10-09 and the make-up Saturday 10-10
    assert clerk.get_by_test_id("promised-due").inner_text() == "2026-10-10"
    legal = get_calendar(item.region_id).add(ACCEPTED_ON, version.legal_limit).date
    assert clerk.get_by_test_id("legal-due").inner_text() == legal.isoformat()

    # 5. the reviewer signs the review step and approves
    reviewer = as_user(browser, live_server, "reviewer")
    reviewer.goto(f"{live_server.url}/workbench/cases/?queue=in_process")
    reviewer.get_by_role("link", name=number).click()
    assert not reviewer.get_by_test_id("act-accept").count()  # only the actions this user may take
    reviewer.get_by_test_id("opinion-complete_step").fill("材料齐全真实，符合许可条件。")
    reviewer.get_by_test_id("act-complete_step").click()
    reviewer.get_by_test_id("opinion-decide_approve").fill("准予许可。")
    reviewer.get_by_test_id("act-decide_approve").click()
    assert reviewer.get_by_test_id("case-state").inner_text() == "待出件"

    # 6. the result is handed over at the window: completed
    clerk.goto(f"{live_server.url}/workbench/cases/?queue=to_deliver")
    clerk.get_by_role("link", name=number).click()
    clerk.get_by_test_id("act-complete").click()
    assert clerk.get_by_test_id("case-state").inner_text() == "办结"

    # 7. the citizen sees every step with its time, the notices and the deadline
    citizen.goto(case_url)
    assert citizen.get_by_test_id("case-state").inner_text() == "办结"
    steps = citizen.get_by_test_id("timeline").locator("li")
    texts = [steps.nth(i).inner_text() for i in range(steps.count())]
    labels = ["提交申请", "预审通过", "一次性告知补正", "补正提交", "受理", "办理环节", "准予许可", "出件办结"]
    position = 0
    for label in labels:
        position = next(i for i in range(position, len(texts)) if label in texts[i]) + 1
    assert all(re.match(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", t) for t in texts)
    assert citizen.get_by_test_id("promised-due").inner_text() == "2026-10-10"
    documents = citizen.get_by_test_id("documents").inner_text()
    for title in ("收件凭证", "补正告知书", "受理通知书", "准予许可决定书", "办结通知书"):
        assert title in documents
    citizen.goto(f"{live_server.url}/me/cases/")
    assert citizen.get_by_test_id("my-cases").get_by_text(number).is_visible()
    for p in (citizen, clerk, reviewer):
        p.context.close()

"""Browser: the 12345 loop — a KB answer closes one call directly; another order is classified, dispatched,
returned once, re-dispatched, handled, return-visited 不满意, reopened and closed."""

import pytest

from tests.e2e.conftest import login
from tests.factories import PASSWORD
from tests.hotline.factories import SYSTEM, world
from yiwang.hotline import classifier, knowledge

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HISTORY = [
    ("路灯不亮", "小区门口的路灯坏了好几天，晚上很黑", "城乡建设"),
    ("路面坑洼", "道路上有大坑，下雨积水，车辆难以通行", "城乡建设"),
    ("物业不作为", "小区物业不管电梯维修", "城乡建设"),
    ("工地噪音", "工地晚上施工噪音很大，影响休息", "环境保护"),
    ("夜间施工", "凌晨还在施工，噪声扰民", "环境保护"),
    ("餐馆油烟", "楼下餐馆油烟直排，家里都是油烟味", "环境保护"),
    ("拖欠工资", "公司拖欠三个月工资不发", "劳动和社会保障"),
    ("社保断缴", "单位没给我交社保", "劳动和社会保障"),
]


@pytest.fixture
def as_user(browser, live_server):
    contexts = []

    def make(username):
        context = browser.new_context(
            locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.base_url = live_server.url
        login(page, username, PASSWORD)
        return page

    yield make
    for context in contexts:
        context.close()


def status(page):
    return page.get_by_test_id("order-status").inner_text()


def act(page, testid, expected):
    page.get_by_test_id(testid).click()
    page.wait_for_load_state("networkidle")
    assert status(page) == expected


def test_agent_answers_from_the_kb_and_runs_the_full_loop(as_user, settings, tmp_path):
    w = world()
    settings.HOTLINE_MODELS_DIR = tmp_path
    classifier.forget()
    knowledge.forget()
    classifier.TextClassifier().fit([t + c for t, c, _ in HISTORY], [lab for *_, lab in HISTORY]).save(
        classifier.model_path("category")
    )
    knowledge.entry_save(
        actor=SYSTEM, question="居住证如何办理？", answer="持身份证到居住地社区服务站申请居住证。", keywords="居住证"
    )

    agent = as_user("agent1")
    # 1. a consultation answered from the knowledge base: 直接办结
    agent.goto(agent.base_url + "/workbench/hotline/console/")
    agent.fill("#caller_name", "张女士")
    agent.fill("#title", "居住证怎么办")
    agent.fill("#content", "想咨询一下居住证怎么办理")
    agent.get_by_test_id("kb-hits").wait_for()
    agent.get_by_test_id("kb-answer").first.click()
    agent.wait_for_load_state("networkidle")
    assert status(agent) == "直接办结"
    assert "居住地社区服务站" in agent.get_by_test_id("order-reply").inner_text()

    # 2. a complaint: classified and dispatched by the suggestion
    agent.goto(agent.base_url + "/workbench/hotline/console/")
    agent.fill("#caller_name", "王先生")
    agent.fill("#caller_phone", "13900000001")
    agent.select_option("#kind", "complaint")
    agent.select_option("#region_code", w.geo.ws.code)
    agent.fill("#title", "工地夜间施工噪声")
    agent.fill("#content", "五山路工地每天晚上施工到凌晨，噪声很大影响休息")
    agent.get_by_test_id("create-order").click()
    agent.wait_for_load_state("networkidle")
    assert status(agent) == "待派单"
    order_url = agent.url
    assert "环境保护" in agent.get_by_test_id("suggestion").inner_text()
    act(agent, "dispatch", "待签收")
    assert agent.get_by_test_id("order-department").inner_text() == "天河区生态环境分局"

    # 3. the environment bureau returns it once
    env = as_user("env1")
    env.goto(order_url)
    env.fill("#reason", "施工许可与夜间施工管理属住建部门职责")
    act(env, "return", "退单审核")

    # 4. the agent approves the return and re-dispatches to housing
    agent.goto(order_url)
    act(agent, "approve-return", "待派单")
    agent.select_option("#department_id", label="天河区住房和建设局")
    act(agent, "dispatch", "待签收")

    # 5. housing signs and replies; the agent approves and visits: 不满意 → 重办
    housing = as_user("housing1")
    housing.goto(order_url)
    act(housing, "sign", "办理中")
    housing.fill("#reply", "已责令工地停止夜间施工。")
    act(housing, "reply", "待审核")
    agent.goto(order_url)
    act(agent, "approve-reply", "待回访")
    agent.get_by_test_id("visit-unsatisfied").check()
    act(agent, "visit", "重办待签收")

    # 6. reopened: signed again, handled, visited 满意 → 已办结
    housing.goto(order_url)
    act(housing, "sign", "办理中")
    housing.fill("#reply", "已对工地立案处罚，夜间施工已停止，现场复查确认。")
    act(housing, "reply", "待审核")
    agent.goto(order_url)
    act(agent, "approve-reply", "待回访")
    agent.get_by_test_id("visit-satisfied").check()
    act(agent, "visit", "已办结")
    history = agent.get_by_test_id("history").inner_text()
    for event in ("dispatch", "return", "approve_return", "visit_unsatisfied", "visit_satisfied"):
        assert event in history
    classifier.forget()

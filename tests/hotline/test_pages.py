"""Hotline pages render for each role and drive the actions (server side, without a browser)."""

import pytest
from django.test import Client

from tests.factories import PASSWORD, person
from tests.hotline.factories import kb_entry, order, world
from yiwang.hotline import knowledge, services
from yiwang.hotline.models import WorkOrder

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db):
    knowledge.forget()
    return world()


def login(user):
    c = Client()
    c.force_login(user)
    return c


def test_console_takes_a_call_and_answers_from_the_kb(w):
    entry = kb_entry(question="居住证如何办理", answer="持身份证到社区受理点申请居住证。")
    c = login(w.agent)
    page = c.get("/workbench/hotline/console/")
    assert page.status_code == 200 and "12345坐席台" in page.content.decode()
    hints = c.get(
        "/workbench/hotline/assist/", {"title": "居住证", "content": "想问居住证怎么办理", "region_code": w.geo.ws.code}
    )
    assert "以此答复并直接办结" in hints.content.decode() and entry.question in hints.content.decode()
    r = c.post(
        "/workbench/hotline/console/",
        {
            "title": "居住证",
            "content": "想问居住证怎么办理",
            "kind": "consult",
            "urgency": "normal",
            "region_code": w.geo.ws.code,
            "answer_entry": str(entry.pk),
        },
    )
    order = WorkOrder.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/workbench/hotline/orders/{order.pk}/"
    assert order.status == "answered" and order.kb_entry == entry


def test_console_refuses_an_emergency_and_warns_while_typing(w):
    c = login(w.agent)
    warn = c.get("/workbench/hotline/assist/", {"title": "", "content": "楼下着火了"})
    assert "119" in warn.content.decode()
    r = c.post("/workbench/hotline/console/", {"title": "火", "content": "楼下着火了", "region_code": w.geo.ws.code})
    assert r.status_code == 422 and "119" in r.content.decode()
    assert not WorkOrder.objects.exists()


def test_order_page_steps(w):
    o = order(w)
    agent, housing = login(w.agent), login(w.housing_staff)
    page = agent.get(f"/workbench/hotline/orders/{o.pk}/").content.decode()
    assert 'data-testid="dispatch-panel"' in page
    agent.post(f"/workbench/hotline/orders/{o.pk}/dispatch/", {"department_id": w.housing.pk})
    assert housing.get("/workbench/hotline/department/").content.decode().count(o.number) == 1
    housing.post(f"/workbench/hotline/orders/{o.pk}/sign/")
    housing.post(f"/workbench/hotline/orders/{o.pk}/reply/", {"reply": "已修复"})
    agent.post(f"/workbench/hotline/orders/{o.pk}/approve_reply/")
    agent.post(f"/workbench/hotline/orders/{o.pk}/visit/", {"result": "satisfied", "resolved": "1"})
    o.refresh_from_db()
    assert o.status == "closed"
    # a step the user may not take shows the message, changes nothing
    r = housing.post(f"/workbench/hotline/orders/{o.pk}/sign/", follow=True)
    assert "当前状态" in r.content.decode() or "权限" in r.content.decode()
    assert agent.post(f"/workbench/hotline/orders/{o.pk}/nonsense/").status_code == 404
    assert login(w.hrss_staff).get(f"/workbench/hotline/orders/{o.pk}/").status_code == 404


def test_queues_and_kpis_pages(w):
    o = order(w)
    services.order_dispatch(actor=w.agent, order_id=o.pk, department_id=w.housing.pk)
    waiting = order(w, title="待派", content="小区垃圾清运不及时")
    agent = login(w.agent)
    queue = agent.get("/workbench/hotline/").content.decode()
    assert waiting.number in queue and o.number not in queue
    for by in ("department", "category", "region", "day", "bogus"):
        r = agent.get("/workbench/hotline/kpis/", {"by": by, "start": "2020-01-01", "end": "bad"})
        assert r.status_code == 200 and "按时签收率" in r.content.decode()
    assert login(w.housing_staff).get("/workbench/hotline/kpis/").status_code == 403
    assert login(w.housing_staff).get("/workbench/hotline/console/").status_code == 403


def test_citizen_my_orders(w):
    citizen = person(phone="13700000009")
    citizen.user.set_password(PASSWORD)
    citizen.user.save()
    c = login(citizen.user)
    r = c.post(
        "/me/hotline/",
        {"title": "路灯不亮", "content": "小区路灯坏了", "region_code": w.geo.ws.code, "kind": "complaint"},
    )
    assert r.status_code == 302
    o = WorkOrder.objects.get()
    assert o.caller_user == citizen.user and o.channel == "web"
    assert o.number in c.get("/me/hotline/").content.decode()
    assert "办理过程" in c.get(f"/me/hotline/{o.pk}/").content.decode()
    other = order(w)
    assert c.get(f"/me/hotline/{other.pk}/").status_code == 404
    r = c.post("/me/hotline/", {"title": "", "content": "x", "region_code": w.geo.ws.code})
    assert r.status_code == 422

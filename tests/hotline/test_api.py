"""The hotline API: the handling loop over HTTP, errors, visibility, knowledge search, classification, KPIs."""

import pytest

from tests.api.conftest import ApiClient
from tests.factories import person
from tests.hotline.factories import SYSTEM, order, world
from yiwang.accounts import services as account_services
from yiwang.hotline import knowledge

pytestmark = pytest.mark.django_db


def client(user):
    _, plain = account_services.api_token_create(actor=user, name="test")
    return ApiClient(plain)


@pytest.fixture
def w(db):
    knowledge.forget()
    return world()


def test_the_loop_over_http(w):
    agent, housing, env = client(w.agent), client(w.housing_staff), client(w.env_staff)
    r = agent.post(
        "/hotline/orders",
        {
            "title": "路面坑洼",
            "content": "五山路路面坑洼积水，请修复",
            "region_code": w.geo.ws.code,
            "kind": "complaint",
            "caller_name": "王先生",
            "caller_phone": "13900000001",
        },
    )
    assert r.status_code == 201, r.content
    oid = r.json()["id"]
    assert r.json()["status"] == "new" and r.json()["caller"] == "王**"

    assert agent.post(f"/hotline/orders/{oid}/dispatch", {"department_id": w.env.pk}).json()["status"] == "dispatched"
    assert (
        env.post(f"/hotline/orders/{oid}/return", {"reason": "道路维修属住建部门职责"}).json()["status"]
        == "return_review"
    )
    assert agent.post(f"/hotline/orders/{oid}/return-review", {"approve": True}).json()["status"] == "new"
    agent.post(f"/hotline/orders/{oid}/dispatch", {"department_id": w.housing.pk, "assist_department_ids": [w.env.pk]})
    assert housing.post(f"/hotline/orders/{oid}/sign").json()["status"] == "handling"
    r = housing.post(f"/hotline/orders/{oid}/extensions", {"days": 2, "reason": "需协调燃气管线"})
    assert r.status_code == 201
    r = agent.post(f"/hotline/extensions/{r.json()['id']}/decision", {"approve": True})
    assert r.json()["status"] == "approved"
    assert housing.post(f"/hotline/orders/{oid}/reply", {"reply": "已修复"}).json()["status"] == "replied"
    assert agent.post(f"/hotline/orders/{oid}/reply-review", {"approve": True}).json()["status"] == "visiting"
    r = agent.post(f"/hotline/orders/{oid}/visit", {"result": "unsatisfied", "resolved": False})
    assert r.json()["status"] == "reopened"
    housing.post(f"/hotline/orders/{oid}/sign")
    housing.post(f"/hotline/orders/{oid}/reply", {"reply": "已彻底修复并验收"})
    agent.post(f"/hotline/orders/{oid}/reply-review", {"approve": True})
    r = agent.post(f"/hotline/orders/{oid}/visit", {"result": "satisfied"})
    assert r.json()["status"] == "closed"

    detail = agent.get(f"/hotline/orders/{oid}").json()
    assert [e["event"] for e in detail["events"]][:3] == ["create", "dispatch", "return"]
    assert {a["role"] for a in detail["assignments"]} == {"lead", "assist"}
    # the assisting department sees it too
    assert env.get(f"/hotline/orders/{oid}").status_code == 200


def test_errors_and_visibility(w):
    agent, housing = client(w.agent), client(w.housing_staff)
    o = order(w)
    assert housing.get(f"/hotline/orders/{o.pk}").status_code == 404
    assert housing.post(f"/hotline/orders/{o.pk}/sign").status_code == 404
    r = agent.post(f"/hotline/orders/{o.pk}/sign")
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    agent.post(f"/hotline/orders/{o.pk}/dispatch", {"department_id": w.housing.pk})
    r = agent.post(f"/hotline/orders/{o.pk}/dispatch", {"department_id": w.housing.pk})
    assert r.status_code == 409 and r.json()["code"] == "workorder_invalid_transition"
    r = agent.post("/hotline/orders", {"title": "", "content": "x", "region_code": w.geo.ws.code})
    assert r.status_code == 422 and r.json()["code"] == "title_required"
    r = agent.post("/hotline/orders", {"title": "火", "content": "楼下着火了", "region_code": w.geo.ws.code})
    assert r.status_code == 422 and r.json()["code"] == "not_accepted_emergency_fire" and "119" in r.json()["message"]
    assert ApiClient().get("/hotline/orders").status_code == 401
    assert agent.get("/hotline/orders/999999").status_code == 404


def test_queues_over_http(w):
    agent, housing = client(w.agent), client(w.housing_staff)
    a, b = order(w), order(w, title="其他", content="小区绿化带垃圾无人清理")
    agent.post(f"/hotline/orders/{b.pk}/dispatch", {"department_id": w.housing.pk})
    assert [o["id"] for o in agent.get("/hotline/orders", {"queue": "platform"}).json()] == [a.pk]
    assert [o["id"] for o in housing.get("/hotline/orders", {"queue": "department"}).json()] == [b.pk]
    assert [o["id"] for o in agent.get("/hotline/orders", {"number": a.number}).json()] == [a.pk]
    citizen = person().user
    mine = client(citizen).post(
        "/hotline/orders", {"title": "路灯", "content": "路灯不亮", "channel": "web", "region_code": w.geo.ws.code}
    )
    assert mine.status_code == 201
    assert [o["id"] for o in client(citizen).get("/hotline/orders", {"queue": "mine"}).json()] == [mine.json()["id"]]


def test_kb_search_create_and_answer(w):
    agent = client(w.agent)
    r = agent.post(
        "/hotline/kb/entries",
        {"question": "居住证如何办理", "answer": "持身份证到社区受理点申请。", "keywords": "居住证"},
    )
    assert r.status_code == 201
    entry_id = r.json()["id"]
    hits = agent.get("/hotline/kb/search", {"q": "居住證怎麼辦"}).json()
    assert hits[0]["entry_id"] == entry_id
    r = agent.client.put(
        f"/api/v1/hotline/kb/entries/{entry_id}",
        {"question": "居住证如何办理", "answer": "网上或社区办理。"},
        content_type="application/json",
        **agent._headers(),
    )
    assert r.json()["answer"] == "网上或社区办理。"
    o = order(w, kind="consult", title="居住证", content="居住证怎么办")
    r = agent.post(f"/hotline/orders/{o.pk}/answer", {"entry_id": entry_id})
    assert r.json()["status"] == "answered" and r.json()["kb_entry_id"] == entry_id
    assert client(w.housing_staff).post("/hotline/kb/entries", {"question": "q", "answer": "a"}).status_code == 403


def test_duplicates_merge_refuse(w):
    agent = client(w.agent)
    a = order(w)
    b = order(w, caller_name="李女士")
    dups = agent.get(f"/hotline/orders/{b.pk}/duplicates").json()
    assert dups[0]["id"] == a.pk and dups[0]["score"] > 0.5
    assert agent.post(f"/hotline/orders/{b.pk}/merge", {"into_id": a.pk}).json()["status"] == "merged"
    c = order(w, title="法院", content="工资纠纷")
    r = agent.post(f"/hotline/orders/{c.pk}/refuse", {"reason": "in_litigation"})
    assert r.json()["status"] == "refused"


def test_classify_without_and_with_rules(w, settings, tmp_path):
    from yiwang.hotline import classifier

    settings.HOTLINE_MODELS_DIR = tmp_path
    classifier.forget()
    agent = client(w.agent)
    r = agent.post("/hotline/classify", {"text": "路灯不亮", "region_code": w.geo.ws.code})
    assert r.json()["manual"] is True
    classifier.TextClassifier().fit(
        ["路灯不亮", "道路坑洼", "工地噪声", "餐馆油烟"], ["城乡建设", "城乡建设", "环境保护", "环境保护"]
    ).save(tmp_path / "category.pkl")
    r = agent.post("/hotline/classify", {"text": "夜里工地噪声", "region_code": w.geo.ws.code}).json()
    assert r["category_path"] == "环境保护" and r["department_id"] == w.env.pk and not r["manual"]
    r = agent.post("/hotline/classify", {"text": "夜里工地噪声", "region_code": w.geo.hq.code}).json()
    assert r["department_id"] is None and r["manual"] is True  # no rule for 越秀 at 大类 level: manual dispatch
    classifier.forget()


def test_kpis_and_hot_topics(w):
    from yiwang.hotline import services

    agent = client(w.agent)
    answered = order(w, kind="consult", title="咨询", content="社保卡怎么补办")
    services.order_answer(actor=w.agent, order_id=answered.pk, reply="到网点补办")
    services.order_visit(actor=w.agent, order_id=answered.pk, result="satisfied")
    handled = order(w, category_code=w.cats.roads.code)
    services.order_dispatch(actor=w.agent, order_id=handled.pk, department_id=w.housing.pk)
    services.order_sign(actor=w.housing_staff, order_id=handled.pk)
    services.order_reply(actor=w.housing_staff, order_id=handled.pk, reply="已修")
    services.order_review_reply(actor=w.agent, order_id=handled.pk, approve=True)
    services.order_visit(actor=w.agent, order_id=handled.pk, result="unsatisfied")
    dup = order(w)
    services.order_merge(actor=w.agent, order_id=dup.pk, into_id=handled.pk)

    data = agent.get("/hotline/kpis").json()
    total = data["total"]
    assert total["total"] == 3 and total["direct"] == 1 and total["merged"] == 1
    assert total["direct_rate"] == 0.5 and total["repeat_rate"] == round(1 / 3, 4)
    assert total["signed"] == 1 and total["sign_on_time_rate"] == 1.0
    assert total["handle_on_time_rate"] is None  # reopened (重办): its reply cycle is not finished
    assert total["visit_rate"] == 1.0 and total["satisfaction_rate"] == 0.5
    by_dept = agent.get("/hotline/kpis", {"by": "department"}).json()["rows"]
    assert {r["label"] for r in by_dept} >= {"天河区住房和建设局"}
    by_cat = agent.get("/hotline/kpis", {"by": "category"}).json()["rows"]
    assert "城乡建设" in {r["label"] for r in by_cat}
    assert agent.get("/hotline/kpis", {"by": "day"}).json()["rows"][0]["total"] == 3
    assert agent.get("/hotline/kpis", {"by": "region"}).json()["rows"][0]["label"] == "广东省广州市天河区"
    topics = agent.get("/hotline/hot-topics").json()
    assert topics and topics[0]["size"] >= 2
    assert client(w.housing_staff).get("/hotline/kpis").status_code == 403
    assert SYSTEM  # the factories' system actor is importable for other tests

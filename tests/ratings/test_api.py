"""The ratings API: public options, invitation and submission by token; contacts, rectification loop,
evaluator identity, reports and the public per-department figures."""

import pytest

from tests.ratings.factories import rate, served, world
from yiwang.ratings import selectors
from yiwang.ratings.models import Rating

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db):
    return world()


def test_meta_is_public(api):
    r = api.get("/ratings/meta")
    assert r.status_code == 200
    data = r.json()
    assert [lv["label"] for lv in data["levels"]] == ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
    assert [lv["bad"] for lv in data["levels"]] == [False, False, False, True, True]
    onsite = next(m for m in data["modes"] if m["mode"] == "onsite")
    assert [o["label"] for o in onsite["indicators"]] == ["服务效率", "服务水平", "服务态度"]
    assert any(o["code"] == "b_attitude" for o in onsite["reasons"]["2"])
    assert all(not o["code"].startswith("b_") for o in onsite["reasons"]["5"])
    assert "system" not in {c["code"] for c in data["channels"]}


def test_invitation_and_submission_by_token(w, api):
    _, invitation = served(w, person=w.citizen)
    r = api.get(f"/ratings/invitations/{invitation.token}")
    assert r.status_code == 200
    body = r.json()
    assert body["usable"] and body["purpose"] == "first" and body["target"]["mode"] == "onsite"
    assert body["target"]["department"] == "天河区市场监督管理局"
    r = api.post(
        f"/ratings/invitations/{invitation.token}/rating", {"level": 2, "channel": "qr", "reasons": ["b_wait"]}
    )
    assert r.status_code == 201, r.json()
    out = r.json()
    assert out["bad"] and out["level_label"] == "不满意" and out["follow_up_token"]
    again = api.post(f"/ratings/invitations/{invitation.token}/rating", {"level": 5})
    assert again.status_code == 409 and again.json()["code"] == "invitation_used"
    assert api.get(f"/ratings/invitations/{invitation.token}").json()["used"] is True
    follow = api.post(f"/ratings/invitations/{out['follow_up_token']}/rating", {"level": 4, "channel": "sms"})
    assert follow.status_code == 201 and follow.json()["kind"] == "follow_up"


def test_submission_errors(w, api):
    _, invitation = served(w)
    assert api.get("/ratings/invitations/nonsense").status_code == 404
    r = api.post("/ratings/invitations/nonsense/rating", {"level": 5})
    assert r.status_code == 404 and r.json()["code"] == "invitation_invalid"
    r = api.post(f"/ratings/invitations/{invitation.token}/rating", {"level": 1})
    assert r.status_code == 422 and r.json()["code"] == "rating_reason_required"
    r = api.post(f"/ratings/invitations/{invitation.token}/rating", {"level": 9})
    assert r.status_code == 422
    r = api.post(f"/ratings/invitations/{invitation.token}/rating", {"level": 5, "channel": "evaluator"})
    assert r.status_code == 403 and r.json()["code"] == "evaluator_device_required"
    assert not Rating.objects.exists()


def test_evaluator_key_header(w, api, api_as):
    r = api_as(w.supervisor).post("/ratings/devices", {"window_id": w.window.pk, "name": "3号窗评价器"})
    assert r.status_code == 201
    key = r.json()["key"]
    assert "/rate/device/" in r.json()["url"]
    _, invitation = served(w)
    r = api.client.post(
        f"/api/v1/ratings/invitations/{invitation.token}/rating",
        {"level": 5, "channel": "evaluator"},
        content_type="application/json",
        HTTP_X_EVALUATOR_KEY=key,
    )
    assert r.status_code == 201


def test_contacts_through_the_api(w, api_as):
    clerk = api_as(w.clerk)
    r = clerk.post("/ratings/contacts", {"window_id": w.window.pk, "item_name": "食品经营许可", "phone": "13800000001"})
    assert r.status_code == 201
    contact = r.json()
    r = clerk.post(f"/ratings/contacts/{contact['id']}/end")
    assert r.status_code == 200 and "/rate/" in r.json()["url"]
    assert clerk.post(f"/ratings/contacts/{contact['id']}/end").json()["code"] == "contact_already_ended"
    assert api_as(w.handler).post("/ratings/contacts", {"window_id": w.window.pk}).status_code == 403


def test_rectification_loop_through_the_api(w, api, api_as):
    _, invitation = served(w, person=w.citizen)
    api.post(
        f"/ratings/invitations/{invitation.token}/rating", {"level": 1, "reasons": ["b_attitude"], "text": "态度差"}
    )
    head, handler = api_as(w.head), api_as(w.handler)
    queue = head.get("/ratings/rectifications", {"open_only": True}).json()
    assert len(queue) == 1 and queue[0]["state"] == "pending" and queue[0]["warning"] in (0, 1, 2)
    rid = queue[0]["id"]
    assert api_as(w.other_head).get(f"/ratings/rectifications/{rid}").status_code == 404
    assert api_as(w.other_head).get("/ratings/rectifications").json() == []
    r = head.post(f"/ratings/rectifications/{rid}/assign", {"assignee_id": w.handler.pk})
    assert r.status_code == 200 and r.json()["state"] == "assigned"
    assert handler.get(f"/ratings/rectifications/{rid}").json()["actions"]["verify"] is True
    evaluator = handler.get(f"/ratings/rectifications/{rid}/evaluator")
    assert evaluator.status_code == 200 and evaluator.json()["name"] == "张三"
    assert head.get(f"/ratings/rectifications/{rid}/evaluator").status_code == 403
    steps = [
        ("verify", {"reached": True, "note": "已电话核实"}, "verified"),
        ("classify", {"classification": "rectify_now", "note": "立即整改"}, "rectifying"),
        ("feedback", {"text": "已整改", "public_summary": "窗口人员已接受教育"}, "feedback"),
        ("return-visit", {"reached": True, "level": 4}, "closed"),
    ]
    for step, payload, state in steps:
        r = handler.post(f"/ratings/rectifications/{rid}/{step}", payload)
        assert r.status_code == 200, r.json()
        assert r.json()["state"] == state
    detail = handler.get(f"/ratings/rectifications/{rid}").json()
    assert [e["event"] for e in detail["events"]] == [
        "create",
        "assign",
        "verify",
        "classify_rectify_now",
        "feedback",
        "return_visit",
    ]
    r = handler.post(f"/ratings/rectifications/{rid}/verify", {"reached": True, "note": "x"})
    assert r.status_code == 409 and r.json()["code"] == "rectification_not_in_state"
    month = f"{selectors.today_local():%Y-%m}"
    report = api_as(w.supervisor).get("/ratings/reports", {"month": month, "by": "department"}).json()
    assert report["total"]["bad"] == 1 and report["total"]["rectified_rate"] == 1.0
    assert report["rows"][0]["label"] == "天河区市场监督管理局"
    assert api_as(w.clerk).get("/ratings/reports", {"month": month}).status_code == 403
    public = api.get(f"/ratings/public/departments/{w.dept.pk}/months/{month}").json()
    assert public["figures"]["bad"] == 1 and public["rectified_cases"][0]["summary"] == "窗口人员已接受教育"
    assert api.get(f"/ratings/public/departments/{w.dept.pk}/months/2026-13").status_code == 422
    assert api.get(f"/ratings/public/departments/999999/months/{month}").status_code == 404


def test_appeal_through_the_api(w, api_as):
    _, invitation = served(w)
    rate(invitation, 2, reasons=["b_wait"])
    head, supervisor = api_as(w.head), api_as(w.supervisor)
    rid = head.get("/ratings/rectifications").json()[0]["id"]
    head.post(f"/ratings/rectifications/{rid}/assign", {"assignee_id": w.head.pk})
    head.post(f"/ratings/rectifications/{rid}/verify", {"reached": True, "note": "评价人称点错"})
    head.post(f"/ratings/rectifications/{rid}/classify", {"classification": "appeal", "note": "误评"})
    assert head.post(f"/ratings/rectifications/{rid}/appeal-review", {"upheld": True, "note": "x"}).status_code == 403
    r = supervisor.post(f"/ratings/rectifications/{rid}/appeal-review", {"upheld": True, "note": "录音为证"})
    assert r.status_code == 200 and r.json()["state"] == "invalidated"
    assert supervisor.get(f"/ratings/ratings/{Rating.objects.get().pk}").json()["excluded"] is True


def test_report_parameters(w, api_as):
    sup = api_as(w.supervisor)
    assert sup.get("/ratings/reports", {"start": "2026-03-01"}).status_code == 422
    assert sup.get("/ratings/reports", {"by": "colour"}).status_code == 422
    r = sup.get("/ratings/reports", {"start": "2026-03-01", "end": "2026-03-15", "by": "staff"})
    assert r.status_code == 200 and r.json()["total"]["total"] == 0
    assert sup.get("/ratings/reports").status_code == 200


def test_rating_list_scope(w, api_as):
    rate(served(w)[1], 5)
    rate(served(w, window=w.other_window)[1], 4)
    assert len(api_as(w.supervisor).get("/ratings/ratings").json()) == 2
    assert [r["level"] for r in api_as(w.head).get("/ratings/ratings").json()] == [5]
    assert api_as(w.citizen).get("/ratings/ratings").json() == []

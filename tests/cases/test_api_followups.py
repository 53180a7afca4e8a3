"""The follow-ups API: 一件事 plan/apply/detail, 容缺受理, 告知承诺 and 核查, 帮办代办, 出件, 督办 overview."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import staff
from yiwang.accounts.roles import Role
from yiwang.cases import bundles, clock, services
from yiwang.cases.models import BundleCase, Case, Verification

from . import factories as f
from .bundle_factories import FORM, finish, newborn_world


@pytest.fixture(autouse=True)
def private_dir(tmp_path, settings):
    settings.PRIVATE_FILES_DIR = tmp_path / "private"


@pytest.fixture
def nb(db):
    return newborn_world()


@pytest.fixture
def w(db):
    return f.world()


def post_bundle(client, nb, *, key=None, answers=None, drop_first=False):
    plan = client.post("/bundle-cases/plan", {"bundle_code": "newborn", "answers": answers or {"insure": "是"}}).json()
    wanted = [m for m in plan["materials"] if m["required"] or m["deferrable"]][1 if drop_first else 0 :]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {client.token}"}
    if key:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return client.client.post(
        "/api/v1/bundle-cases",
        {
            "bundle_code": "newborn",
            "answers": json.dumps(answers or {"insure": "是"}),
            "form": json.dumps(FORM, ensure_ascii=False),
            "materials": json.dumps([m["index"] for m in wanted]),
            "files": [SimpleUploadedFile(f"{m['name']}.pdf", f.PDF, "application/pdf") for m in wanted],
        },
        **headers,
    )


def test_plan_is_public_and_shows_savings(nb, api):
    r = api.post("/bundle-cases/plan", {"bundle_code": "newborn", "answers": {"insure": "是"}})
    assert r.status_code == 200, r.json()
    body = r.json()
    assert [len(s) for s in body["stages"]] == [2, 1]
    assert body["savings"]["bundle"]["applications"] == 1
    produced = [m for m in body["materials"] if m["produced_by"]]
    assert [m["name"] for m in produced] == ["出生医学证明"] and not produced[0]["required"]
    assert api.post("/bundle-cases/plan", {"bundle_code": "newborn", "answers": {}}).status_code == 422
    assert api.post("/bundle-cases/plan", {"bundle_code": "nope", "answers": {}}).status_code == 404


def test_bundle_apply_retry_detail_and_withdraw(nb, api_as):
    client = api_as(nb.applicant)
    first = post_bundle(client, nb, key="bundle-api-0001")
    assert first.status_code == 201, first.json()
    body = first.json()
    assert body["state"] == "in_progress" and [c["status"] for c in body["children"]] == [
        "running",
        "running",
        "waiting",
    ]
    assert {c["department"] for c in body["children"]} == {nb.health.name, nb.police.name, nb.insurance.name}
    again = post_bundle(client, nb, key="bundle-api-0001")
    assert again.status_code == 200 and again.json()["id"] == body["id"] and BundleCase.objects.count() == 1
    assert client.get("/bundle-cases").json()[0]["id"] == body["id"]
    assert api_as(nb.stranger).get(f"/bundle-cases/{body['id']}").status_code == 404
    assert api_as(nb.clerk).get(f"/bundle-cases/{body['id']}").status_code == 200
    r = client.post(f"/bundle-cases/{body['id']}/withdraw", {"reason": "不办了"})
    assert r.status_code == 200 and r.json()["state"] == "withdrawn"


def test_bundle_apply_errors(nb, api_as):
    client = api_as(nb.applicant)
    r = post_bundle(client, nb, drop_first=True)
    assert r.status_code == 422 and r.json()["code"] == "materials_missing"
    r = client.client.post(
        "/api/v1/bundle-cases",
        {"bundle_code": "newborn", "answers": "[", "form": "{}"},
        HTTP_AUTHORIZATION=f"Bearer {client.token}",
    )
    assert r.status_code == 422 and r.json()["code"] == "bad_json"
    assert not Case.objects.exists()


def test_bundle_completes_through_the_api(nb, api_as):
    body = post_bundle(api_as(nb.applicant), nb).json()
    parent = BundleCase.objects.get(pk=body["id"])
    for child in parent.children.filter(stage=1):
        finish(nb, child.case)
    finish(nb, parent.children.get(stage=2).case)
    detail = api_as(nb.applicant).get(f"/bundle-cases/{body['id']}").json()
    assert detail["state"] == "completed" and detail["progress"] == 100 and detail["evaluation_invited_at"]


def test_gaps_and_pledges_through_the_api(w, api_as):
    case = f.received(w, gap=True)
    clerk = api_as(w.clerk)
    r = clerk.post(f"/cases/{case.pk}/accept-with-gaps", {"signer_name": "张三", "consequence": "revoke"})
    assert r.status_code == 200, r.json()
    gap = r.json()["commitments"][0]
    assert gap["kind"] == "gap" and gap["consequence"] == "revoke" and gap["document_number"]
    applicant = api_as(w.applicant)
    r = applicant.client.post(
        f"/api/v1/cases/{case.pk}/gaps/3/files",
        {"file": SimpleUploadedFile("制度.pdf", f.PDF, "application/pdf")},
        HTTP_AUTHORIZATION=f"Bearer {applicant.token}",
    )
    assert r.status_code == 200, r.json()
    r = api_as(w.reviewer).post(f"/cases/{case.pk}/gaps/3/check", {"accept": True})
    assert r.json()["commitments"][0]["status"] == "fulfilled"
    assert clerk.post(f"/cases/{case.pk}/accept-with-gaps", {"signer_name": "张三"}).status_code == 409
    assert api_as(w.applicant).get(f"/cases/{case.pk}/followups").json()["verifications"] == []


def test_plain_accept_needs_the_gap_commitment_through_the_api(w, api_as):
    case = f.received(w, gap=True)
    clerk = api_as(w.clerk)
    r = clerk.post(f"/cases/{case.pk}/accept", {})
    assert r.status_code == 422 and r.json()["code"] == "gap_commitment_required"
    assert r.json()["details"] == [{"material_index": 3, "name": "食品安全管理制度"}]
    assert api_as(w.applicant).post(f"/cases/{case.pk}/gap-pledge", {"signer_name": "张三"}).status_code == 201
    r = clerk.post(f"/cases/{case.pk}/accept", {})
    assert r.status_code == 200 and r.json()["state"] == "in_process"
    gap = api_as(w.applicant).get(f"/cases/{case.pk}/followups").json()["commitments"][0]
    assert gap["kind"] == "gap" and gap["due_date"] and gap["document_number"] and gap["status"] == "pending"


def test_plain_accept_refuses_missing_required_materials_through_the_api(w, api_as):
    case = services.case_create_draft(
        actor=w.clerk, item_code=w.item.code, applicant_id=w.applicant.pk, form_data=f.FORM
    )
    services.case_window_receive(actor=w.clerk, case_id=case.pk, paper_indexes=[0, 1, 3])
    r = api_as(w.clerk).post(f"/cases/{case.pk}/accept", {})
    assert r.status_code == 422 and r.json()["code"] == "materials_missing"
    assert [d["material_index"] for d in r.json()["details"]] == [2]
    assert Case.objects.get(pk=case.pk).state == "received"


def test_pledge_verification_and_credit_records(db, api_as):
    from tests.catalog.factories import COMPLETE

    materials = [dict(m) for m in COMPLETE["materials"]]
    materials[1]["commitment"] = True
    w = f.world(materials=materials)
    case = services.case_create_draft(actor=w.applicant, item_code=w.item.code, form_data=f.FORM)
    r = api_as(w.applicant).post(f"/cases/{case.pk}/pledges", {"material_indexes": [1], "signer_name": "张三"})
    assert r.status_code == 201 and r.json()["kind"] == "proof"
    assert (
        api_as(w.applicant)
        .post(f"/cases/{case.pk}/pledges", {"material_indexes": [0], "signer_name": "张三"})
        .status_code
        == 422
    )
    for i in (0, 2, 3):
        services.case_attach_file(actor=w.applicant, case_id=case.pk, material_index=i, name="a.pdf", content=f.PDF)
    services.case_submit(actor=w.applicant, case_id=case.pk)
    services.case_pretrial(actor=w.clerk, case_id=case.pk, outcome="pass")
    services.case_accept(actor=w.clerk, case_id=case.pk)
    reviewer = api_as(w.reviewer)
    tasks = reviewer.get("/verifications").json()
    assert [t["case_id"] for t in tasks] == [case.pk]
    r = reviewer.post(f"/verifications/{tasks[0]['id']}", {"outcome": "false", "note": "执照已注销"})
    assert r.status_code == 200 and r.json()["status"] == "false"
    assert Verification.objects.get().status == "false"
    assert [c["kind"] for c in api_as(w.applicant).get("/credit-records").json()] == ["false"]
    assert len(reviewer.get("/credit-records").json()) == 1
    assert api_as(w.stranger).get("/credit-records").json() == []


def test_helper_authorisations(w, api_as):
    helper = staff(Role.HELPER, w.dept)
    client = api_as(helper)
    r = client.post("/helper/authorizations", {"principal_id": w.applicant.pk, "valid_days": 3})
    assert r.status_code == 201, r.json()
    grant = r.json()
    assert [g["id"] for g in client.get("/helper/authorizations").json()] == [grant["id"]]
    assert api_as(w.clerk).post("/helper/authorizations", {"principal_id": w.applicant.pk}).status_code == 403
    assert client.post(f"/helper/authorizations/{grant['id']}/end").json()["revoked_at"]
    assert client.get("/helper/authorizations").json() == []


def test_delivery_through_the_api(w, api_as):
    case = f.reviewed(w)
    services.case_decide(actor=w.reviewer, case_id=case.pk, approve=True, opinion="同意")
    clerk = api_as(w.clerk)
    rows = clerk.get("/deliveries").json()
    assert [r["case"]["id"] for r in rows] == [case.pk] and rows[0]["delivery"]["level"] == 0
    r = clerk.post(f"/cases/{case.pk}/delivery/issue", {"method": "window", "window_id": w.window.pk})
    assert r.status_code == 200, r.json()
    code = r.json()["pickup_code"]
    assert clerk.get("/deliveries", {"status": "ready"}).json()[0]["case"]["state"] == "completed"
    png = base64.b64encode(f.PNG).decode()
    bad = clerk.post("/deliveries/pickup", {"pickup_code": code, "signer_name": "张三", "signature_png": "@@@"})
    assert bad.status_code == 422
    r = clerk.post(
        "/deliveries/pickup",
        {"pickup_code": code, "signer_name": "张三", "signature_png": f"data:image/png;base64,{png}"},
    )
    assert (
        r.status_code == 200
        and r.json()["delivery"]["status"] == "delivered"
        and r.json()["delivery"]["receipt_number"]
    )
    assert clerk.post("/deliveries/pickup", {"pickup_code": code, "signer_name": "张三"}).status_code == 404
    follow = api_as(w.applicant).get(f"/cases/{case.pk}/followups").json()
    assert follow["delivery"]["status"] == "delivered"


def test_supervision_overview_and_orders(w, api_as):
    case = f.accepted(w)
    Case.objects.filter(pk=case.pk).update(promised_due=clock.today() - dt.timedelta(days=1))
    sup = api_as(w.supervisor)
    body = sup.get("/supervision/overview").json()
    assert body["totals"]["red"] == 1 and body["rows"][0]["department"] == w.dept.name
    assert [c["id"] for c in sup.get("/supervision/cases", {"light": "red"}).json()] == [case.pk]
    assert api_as(w.clerk).get("/supervision/overview").status_code == 403
    services.case_supervise(actor=w.supervisor, case_id=case.pk, note="请尽快", feedback_due=clock.today())
    assert [o["case_id"] for o in api_as(w.reviewer).get("/supervision/orders").json()] == [case.pk]
    assert sup.get("/supervision/orders", {"issued": True}).json()[0]["escalation_level"] == 0


def test_bundle_case_visibility_scope(nb, api_as):
    post_bundle(api_as(nb.applicant), nb)
    assert len(api_as(nb.clerk).get("/bundle-cases").json()) == 1
    assert api_as(nb.stranger).get("/bundle-cases").json() == []
    parent = BundleCase.objects.get()
    assert bundles.progress(parent)["counts"]["waiting"] == 1

"""Follow-up pages: the 一件事 wizard and pages, the 一件事 window, case panels (容缺, 告知承诺, 出件),
the unified output window, the 督办 overview and the 帮办代办 desk."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.cases import factories as f
from tests.cases.bundle_factories import FORM, newborn_world
from tests.factories import staff
from yiwang.accounts.roles import Role
from yiwang.cases import bundles, clock, delivery, services
from yiwang.cases.models import BundleCase, Case, Commitment, Delivery


@pytest.fixture(autouse=True)
def private_dir(tmp_path, settings):
    settings.PRIVATE_FILES_DIR = tmp_path / "private"


def client_for(user):
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def nb(db):
    return newborn_world()


@pytest.fixture
def w(db):
    return f.world()


def wizard_post(nb, plan, *, staff_fields=None):
    data = {f"f_{k}": v for k, v in FORM.items()} | {"s_insure": "是", "idempotency_key": "wizard-key-0001"}
    data |= staff_fields or {}
    for m in plan.asked_materials:
        if m.required and not staff_fields:
            data[f"material_{m.index}"] = SimpleUploadedFile(f"{m.material.name}.pdf", f.PDF, "application/pdf")
    return data


def test_bundle_page_shows_savings_and_the_wizard_submits_once(nb):
    page = Client().get("/bundles/newborn/?insure=是").content.decode()
    assert 'data-testid="savings"' in page and "/bundles/newborn/apply/" in page
    c = client_for(nb.applicant)
    step1 = c.get("/bundles/newborn/apply/").content.decode()
    assert 'data-testid="scenario-form"' in step1
    step2 = c.get("/bundles/newborn/apply/?insure=是").content.decode()
    assert step2.count('name="f_child_name"') == 1  # one form: the shared field once
    assert step2.count("<td>父母双方居民身份证") == 1  # one material list: the shared material once
    assert "无需提交" in step2
    plan = bundles.bundle_plan(bundle=nb.bundle, answers={"insure": "是"})
    r = c.post("/bundles/newborn/apply/?insure=是", wizard_post(nb, plan))
    parent = BundleCase.objects.get()
    assert r.status_code == 302 and r.url == f"/me/bundles/{parent.pk}/"
    again = c.post("/bundles/newborn/apply/?insure=是", wizard_post(nb, plan))  # a double click
    assert again.status_code == 302 and BundleCase.objects.count() == 1
    detail = c.get(r.url).content.decode()
    assert parent.number in detail and detail.count('data-testid="child"') == 3 and 'data-testid="savings"' in detail
    assert "我的一件事" in c.get("/me/cases/").content.decode()
    assert parent.number in c.get("/me/bundles/").content.decode()
    case = parent.children.get(position=0).case
    assert "本件属于" in c.get(f"/me/cases/{case.pk}/").content.decode()
    assert Client().get(r.url).status_code == 302  # login required
    assert client_for(nb.stranger).get(r.url).status_code == 404


def test_wizard_shows_errors_and_keeps_nothing(nb):
    c = client_for(nb.applicant)
    r = c.post("/bundles/newborn/apply/?insure=是", {"s_insure": "是", "f_child_name": "王小明"})
    assert r.status_code == 200 and "申请表填写有误" in r.content.decode()
    assert not BundleCase.objects.exists()


def test_wizard_commitment_options_pledge_and_gap(nb):
    """告知承诺 and 容缺后补 in the wizard: offered only where the items allow, signed once, kept on errors."""
    plan = bundles.bundle_plan(bundle=nb.bundle, answers={"insure": "是"})
    index = {m.material.name: m.index for m in plan.materials}
    gap, hukou = index["生育服务单"], index["居民户口簿"]
    c = client_for(nb.applicant)
    step2 = c.get("/bundles/newborn/apply/?insure=是").content.decode()
    assert f'data-testid="pledge-{hukou}"' in step2 and f'data-testid="gap-{gap}"' in step2
    assert step2.count('name="pledge"') == 1 and step2.count('name="gap"') == 1  # only where allowed
    assert 'data-testid="signer-name"' in step2
    data = wizard_post(nb, plan)
    del data[f"material_{hukou}"]
    data |= {"pledge": [str(hukou)], "gap": [str(gap)]}
    # without a signature: refused, nothing written, the choices kept
    r = c.post("/bundles/newborn/apply/?insure=是", data)
    page = r.content.decode()
    assert r.status_code == 200 and "签名" in page and not BundleCase.objects.exists()
    assert f'value="{hukou}" checked' in page and f'value="{gap}" checked' in page
    data = wizard_post(nb, plan)
    del data[f"material_{hukou}"]
    data |= {"pledge": [str(hukou)], "gap": [str(gap)], "signer_name": "王大明"}
    r = c.post("/bundles/newborn/apply/?insure=是", data)
    parent = BundleCase.objects.get()
    assert r.status_code == 302 and r.url == f"/me/bundles/{parent.pk}/"
    merged = {m["index"]: m for m in parent.materials}
    assert merged[gap]["gap"] and merged[hukou]["pledged"] and merged[hukou]["signer"] == "王大明"
    police = parent.children.select_related("case").get(item=nb.registration).case
    assert Commitment.objects.get(case=police).kind == "gap"
    assert police.events.filter(action="gap_pledge").exists()
    # the clerk's 受理 sets the due date and issues the 信用承诺书; the applicant sees it on the case page
    services.case_pretrial(actor=nb.clerk, case_id=police.pk, outcome="pass")
    services.case_accept(actor=nb.clerk, case_id=police.pk)
    assert Commitment.objects.get(case=police).due_date is not None
    assert 'data-testid="gap"' in c.get(f"/me/cases/{police.pk}/").content.decode()


def test_window_wizard_gap_with_paper(nb):
    plan = bundles.bundle_plan(bundle=nb.bundle, answers={"insure": "是"})
    gap = next(m.index for m in plan.materials if m.material.name == "生育服务单")
    paper = [m.index for m in plan.asked_materials if m.required]
    c = client_for(nb.clerk)
    url = f"/workbench/bundles/new/?bundle=newborn&applicant={nb.applicant.pk}&insure=是"
    assert f'data-testid="gap-{gap}"' in c.get(url).content.decode()
    fields = {
        "paper": paper,
        "gap": [gap],
        "signer_name": "王大明",
        "window": nb.window.pk,
        "applicant": nb.applicant.pk,
    }
    r = c.post(url, wizard_post(nb, plan, staff_fields=fields))
    parent = BundleCase.objects.get()
    assert r.status_code == 302 and parent.channel == "window"
    police = parent.children.select_related("case").get(item=nb.registration).case
    commitment = Commitment.objects.get(case=police)
    assert commitment.signed_via == "window" and police.state == "received"


def test_window_bundle_with_paper(nb):
    c = client_for(nb.clerk)
    assert c.get("/workbench/bundles/").status_code == 200
    plan = bundles.bundle_plan(bundle=nb.bundle, answers={"insure": "是"})
    paper = {"paper": [m.index for m in plan.asked_materials if m.required]}
    url = f"/workbench/bundles/new/?bundle=newborn&applicant={nb.applicant.pk}&insure=是"
    assert "已收纸质件" in c.get(url).content.decode()
    r = c.post(url, wizard_post(nb, plan, staff_fields={**paper, "window": nb.window.pk, "applicant": nb.applicant.pk}))
    parent = BundleCase.objects.get()
    assert r.status_code == 302 and r.url == f"/workbench/bundles/{parent.pk}/"
    assert parent.channel == "window" and parent.children.filter(case__state="received").count() == 2
    assert parent.number in c.get("/workbench/bundles/").content.decode()
    assert c.get(r.url).status_code == 200


def test_gap_acceptance_and_supply_through_the_case_pages(w):
    case = f.received(w, gap=True)
    clerk = client_for(w.clerk)
    page = clerk.get(f"/workbench/cases/{case.pk}/").content.decode()
    assert 'data-testid="gap-accept"' in page
    r = clerk.post(f"/cases/{case.pk}/followup/gap_accept/", {"signer_name": "张三", "consequence": "suspend"})
    assert r.status_code == 302 and r.url == f"/workbench/cases/{case.pk}/"
    commitment = Commitment.objects.get()
    assert commitment.kind == "gap" and Case.objects.get(pk=case.pk).state == "in_process"
    applicant = client_for(w.applicant)
    page = applicant.get(f"/me/cases/{case.pk}/").content.decode()
    assert 'data-testid="gap"' in page and "gap-supply-3" in page
    r = applicant.post(
        f"/cases/{case.pk}/followup/gap_supply/",
        {"material": "3", "file": SimpleUploadedFile("制度.pdf", f.PDF, "application/pdf")},
    )
    assert r.url == f"/me/cases/{case.pk}/"
    reviewer = client_for(w.reviewer)
    assert "gap-check-3" in reviewer.get(f"/workbench/cases/{case.pk}/").content.decode()
    reviewer.post(f"/cases/{case.pk}/followup/gap_check/", {"material": "3", "accept": "1"})
    assert Commitment.objects.get().status == "fulfilled"


def test_output_window_issue_and_pickup(w):
    case = f.reviewed(w)
    services.case_decide(actor=w.reviewer, case_id=case.pk, approve=True, opinion="同意")
    clerk = client_for(w.clerk)
    page = clerk.get("/workbench/delivery/").content.decode()
    assert case.number in page
    assert 'data-testid="issue-form"' in clerk.get(f"/workbench/cases/{case.pk}/").content.decode()
    _d, code = delivery.delivery_issue(actor=w.clerk, case_id=case.pk, method="window")
    assert case.number in clerk.get("/workbench/delivery/?status=ready").content.decode()
    r = clerk.post("/workbench/delivery/", {"pickup_code": code, "signer_name": "张三", "signature": ""})
    assert r.status_code == 302 and r.url == f"/workbench/cases/{case.pk}/"
    assert Delivery.objects.get().status == "delivered"
    assert "送达回执" in client_for(w.applicant).get(f"/me/cases/{case.pk}/").content.decode()
    assert client_for(w.applicant).get("/workbench/delivery/").status_code == 403


def test_supervision_overview_page(w):
    case = f.accepted(w)
    Case.objects.filter(pk=case.pk).update(promised_due=clock.today() - dt.timedelta(days=1))
    services.case_supervise(actor=w.supervisor, case_id=case.pk, note="请尽快", feedback_due=clock.today())
    page = client_for(w.supervisor).get("/workbench/supervision/").content.decode()
    assert 'data-testid="overview-regions"' in page and "天河区" in page and w.dept.name in page
    drill = client_for(w.supervisor).get(f"/workbench/supervision/?light=red&department={w.dept.pk}").content.decode()
    assert case.number in drill
    mine = client_for(w.reviewer).get("/workbench/supervision/").content.decode()
    assert "overview-regions" not in mine and case.number in mine


def test_helper_desk(w):
    helper = staff(Role.HELPER, w.dept)
    c = client_for(helper)
    assert c.get("/workbench/helper/").status_code == 200
    assert client_for(w.clerk).get("/workbench/helper/").status_code == 403
    from yiwang.cases import agents

    agents.helper_authorization_record(actor=helper, principal_id=w.applicant.pk)
    r = c.post("/workbench/helper/", {"intent": "file", "principal": w.applicant.pk, "item_code": w.item.code})
    case = Case.objects.get()
    assert r.status_code == 302 and r.url == f"/me/cases/{case.pk}/edit/" and case.filed_by == helper
    assert c.get(r.url).status_code == 200


def test_a_concluded_bundle_page_offers_one_rating(nb, django_capture_on_commit_callbacks):
    from tests.cases.bundle_factories import apply, finish

    with django_capture_on_commit_callbacks(execute=True):
        parent, _ = apply(nb)
        c = client_for(nb.applicant)
        assert 'data-testid="bundle-rate"' not in c.get(f"/me/bundles/{parent.pk}/").content.decode()
        for child in parent.children.filter(stage=1):
            finish(nb, child.case)
        finish(nb, parent.children.get(stage=2).case)
    page = c.get(f"/me/bundles/{parent.pk}/").content.decode()
    assert 'data-testid="bundle-rate"' in page and "/rate/" in page
    mine = c.get("/me/ratings/").content.decode()
    pending = mine.split('data-testid="pending-ratings"')[1].split("</ul>")[0]
    assert pending.count("<li>") == 1 and parent.number in pending  # one invitation, for the whole bundle
    assert (
        'data-testid="bundle-rate"' not in client_for(nb.clerk).get(f"/workbench/bundles/{parent.pk}/").content.decode()
    )

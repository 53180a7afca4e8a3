"""一件事一次办: one form, one material list, one submission → a parent and child cases in stages."""

from __future__ import annotations

import pytest

from yiwang.cases import bundle_flow as flow
from yiwang.cases import bundles, events, services
from yiwang.cases.models import (
    BundleCase,
    BundleChild,
    Case,
    CaseDocument,
    CaseMaterial,
    Commitment,
    Message,
    Verification,
)
from yiwang.cases.states import State
from yiwang.core.errors import PermissionDenied, ValidationFailed

from .bundle_factories import FORM, apply, finish, newborn_world, uploads_for
from .factories import PDF

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    return newborn_world()


def children(parent):
    return list(parent.children.select_related("case", "department").order_by("stage", "position"))


def test_plan_asks_once_and_skips_what_an_earlier_member_produces(w):
    plan = bundles.bundle_plan(bundle=w.bundle, answers={"insure": "是"})
    assert [[m.item.name for m in s] for s in plan.stages] == [
        ["出生医学证明签发", "生育登记"],
        ["城乡居民医保参保登记"],
    ]
    names = [m.material.name for m in plan.asked_materials]
    assert names.count("父母双方居民身份证") == 1  # asked once for two members
    assert "出生医学证明" not in names  # produced by 出生医学证明签发 in stage 1
    produced = next(m for m in plan.materials if m.material.name == "出生医学证明")
    assert produced.produced_by == "出生医学证明签发" and not produced.required
    assert [f.name for f in plan.form.fields] == ["child_name", "delivery", "partner_name"]
    s = plan.savings
    assert s["one_by_one"] == {"applications": 3, "materials": 7, "form_fields": 7, "visits": 3, "days": 10}
    assert s["bundle"] == {"applications": 1, "materials": 5, "form_fields": 3, "visits": 1, "days": 8}
    assert s["cut_percent"]["materials"] == 29 and s["cut_percent"]["visits"] == 67


def test_plan_follows_the_answers(w):
    plan = bundles.bundle_plan(bundle=w.bundle, answers={"insure": "否"})
    assert [m.item.name for m in plan.members] == ["出生医学证明签发", "生育登记"]
    with pytest.raises(ValidationFailed) as info:
        bundles.bundle_plan(bundle=w.bundle, answers={})
    assert info.value.code == "scenario_answers_invalid" and "insure" in info.value.details
    with pytest.raises(ValidationFailed):
        bundles.bundle_plan(bundle=w.bundle, answers={"insure": "也许"})


def test_one_submission_two_in_parallel_then_one_after_and_completed(w, django_capture_on_commit_callbacks):
    fired = []
    hook = events.bundle_completed.connect(lambda **kw: fired.append(kw))
    with_capture = django_capture_on_commit_callbacks
    try:
        with with_capture(execute=True):
            parent, created = apply(w, key="bundle-key-0001")
        assert created and parent.state == flow.ParentState.IN_PROGRESS
        assert parent.number.startswith("YJS440106")
        a, b, c = children(parent)
        assert (a.status, b.status, c.status) == ("running", "running", "waiting")
        assert c.case is None
        assert {a.case.department, b.case.department} == {w.health, w.police}
        assert a.case.state == b.case.state == State.SUBMITTED
        assert a.case.form_data == {"child_name": "王小明", "delivery": "电子证照"}
        assert b.case.form_data == FORM
        # the shared material was uploaded once and each child has its own linked copy
        ids_a = a.case.materials.get(name="父母双方居民身份证").files.get().file
        ids_b = b.case.materials.get(name="父母双方居民身份证").files.get().file
        assert ids_a.pk != ids_b.pk and ids_a.sha256 == ids_b.sha256
        assert parent.files.count() == len(uploads_for(bundles.bundle_plan(bundle=w.bundle, answers={"insure": "是"})))

        # a retried submission with the same key creates nothing
        again, created = apply(w, key="bundle-key-0001")
        assert not created and again.pk == parent.pk and Case.objects.count() == 2

        finish(w, a.case)
        assert BundleChild.objects.get(pk=c.pk).status == "waiting"  # b still running
        finish(w, b.case)
        c.refresh_from_db()
        assert c.status == "running" and c.case.department == w.insurance and c.case.state == State.SUBMITTED
        produced = c.case.materials.get(name="出生医学证明")
        assert produced.status == CaseMaterial.Status.NOT_NEEDED and a.case.number in produced.note
        with with_capture(execute=True):
            finish(w, c.case)
        parent.refresh_from_db()
        assert parent.state == flow.ParentState.COMPLETED and parent.closed_at and parent.evaluation_invited_at
        assert fired == [
            {
                "bundle_case_id": parent.pk,
                "bundle_code": "newborn",
                "outcome": "completed",
                "applicant_id": w.applicant.pk,
            }
        ]
        invitations = Message.objects.filter(user=w.applicant, title__startswith="一件事已办结")
        assert invitations.count() == 1 and "评价" in invitations.get().body
        assert [e.action for e in parent.events.order_by("id")][:3] == ["submit", "start", "start"]
        assert bundles.progress(parent)["percent"] == 100
    finally:
        events.bundle_completed.disconnect(hook)


def test_a_refused_member_cancels_what_waits_and_ends_partially(w):
    parent, _ = apply(w)
    a, b, c = children(parent)
    finish(w, a.case, approve=False)
    c.refresh_from_db()
    parent.refresh_from_db()
    assert c.status == "cancelled" and c.case is None  # it depended on stage 1: told at once
    assert parent.state == flow.ParentState.IN_PROGRESS  # b still runs
    finish(w, b.case)
    parent.refresh_from_db()
    assert parent.state == flow.ParentState.PARTIAL
    assert "已办结 生育登记" in parent.outcome_note and "出生医学证明签发" in parent.outcome_note


def test_not_accepted_everywhere_fails(w):
    parent, _ = apply(w, answers={"insure": "否"})
    for child in children(parent):
        services.case_pretrial(actor=w.clerk, case_id=child.case.pk, outcome="pass")
        services.case_not_accept(actor=w.clerk, case_id=child.case.pk, reason="不属于本机关职权范围")
    parent.refresh_from_db()
    assert parent.state == flow.ParentState.FAILED


def test_withdraw_the_whole_bundle(w):
    parent, _ = apply(w)
    parent = bundles.bundle_withdraw(actor=w.applicant, bundle_case_id=parent.pk, reason="改为分别办理")
    assert parent.state == flow.ParentState.WITHDRAWN and parent.evaluation_invited_at is None
    assert "评价" not in Message.objects.filter(user=w.applicant, title__startswith="一件事已撤回").get().body
    a, b, c = children(parent)
    assert a.case.state == b.case.state == State.WITHDRAWN and c.status == "cancelled"


def test_window_bundle_with_paper_checked_at_the_counter(w):
    plan = bundles.bundle_plan(bundle=w.bundle, answers={"insure": "是"})
    paper = [m.index for m in plan.asked_materials if m.required]
    parent, _ = bundles.bundle_apply(
        actor=w.clerk,
        bundle_code="newborn",
        answers={"insure": "是"},
        form_data=dict(FORM),
        paper_indexes=paper,
        applicant_id=w.applicant.pk,
        window_id=w.window.pk,
    )
    assert parent.channel == BundleCase.Channel.WINDOW and parent.filed_by == w.clerk
    a, b, _c = children(parent)
    assert a.case.state == b.case.state == State.RECEIVED and a.case.window == w.window
    assert a.case.materials.get(name="父母双方居民身份证").paper_received
    finish(w, a.case, received=True)


def test_everything_is_checked_before_anything_is_written(w):
    plan = bundles.bundle_plan(bundle=w.bundle, answers={"insure": "是"})
    files = uploads_for(plan)[1:]
    with pytest.raises(ValidationFailed) as info:
        apply(w, files=files)
    assert info.value.code == "materials_missing"
    assert info.value.details[0]["material_index"] == plan.asked_materials[0].index
    with pytest.raises(ValidationFailed) as info:
        bundles.bundle_apply(
            actor=w.applicant,
            bundle_code="newborn",
            answers={"insure": "是"},
            form_data={"child_name": ""},
            files=uploads_for(plan),
        )
    assert info.value.code == "form_invalid" and {"child_name", "partner_name", "delivery"} <= set(info.value.details)
    assert not BundleCase.objects.exists() and not Case.objects.exists()


def test_an_agent_needs_authorisation_for_every_member(w):
    from tests.factories import authorization

    with pytest.raises(PermissionDenied) as info:
        apply(w, actor=w.stranger, applicant_id=w.applicant.pk)
    assert info.value.code == "not_authorized_agent"
    authorization(w.applicant, w.stranger, scopes=["case.apply"], item_codes=[w.certificate.code])
    with pytest.raises(PermissionDenied):
        apply(w, actor=w.stranger, applicant_id=w.applicant.pk)
    authorization(w.applicant, w.stranger, scopes=["case.apply"])
    parent, _ = apply(w, actor=w.stranger, applicant_id=w.applicant.pk)
    assert parent.applicant == w.applicant and parent.filed_by == w.stranger and parent.authorization
    a = children(parent)[0]
    assert a.case.filed_by == w.stranger and a.case.authorization_id == parent.authorization_id


def _index(plan, name):
    return next(m.index for m in plan.materials if m.material.name == name)


def test_gap_and_pledge_signed_once_reach_the_children_that_need_them(w):
    plan = bundles.bundle_plan(bundle=w.bundle, answers={"insure": "是"})
    gap, hukou = _index(plan, "生育服务单"), _index(plan, "居民户口簿")
    files = [u for u in uploads_for(plan) if u.material_index not in (gap, hukou)]
    parent, _ = apply(w, files=files, gap_indexes=[gap], pledge_indexes=[hukou], signer_name="王大明")
    merged = {m["index"]: m for m in parent.materials}
    assert merged[gap]["gap"] and merged[hukou]["pledged"] and merged[gap]["signer"] == "王大明"
    a, b, c = children(parent)
    # 生育登记 (police) carries the 容缺 signature; its due date is set when the department accepts
    signed = Commitment.objects.get(case=b.case, kind=Commitment.Kind.GAP)
    assert signed.due_date is None and signed.signed_via == "online" and signed.signer_name == "王大明"
    assert not Commitment.objects.filter(case=a.case).exists()
    services.case_pretrial(actor=w.clerk, case_id=b.case.pk, outcome="pass")
    services.case_accept(actor=w.clerk, case_id=b.case.pk)
    signed.refresh_from_db()
    assert signed.due_date and signed.document.kind == CaseDocument.Kind.GAP_PLEDGE
    assert b.case.materials.get(name="生育服务单").status == CaseMaterial.Status.DEFERRED
    # the 告知承诺 reaches the stage-2 child when it starts, and its 受理 creates the 核查 task
    finish(w, a.case)
    services.case_complete_step(actor=w.reviewers[w.police.pk], case_id=b.case.pk, opinion="符合")
    gaps_supply_and_check(w, b.case)
    services.case_decide(actor=w.reviewers[w.police.pk], case_id=b.case.pk, approve=True, opinion="同意")
    from yiwang.cases import delivery

    delivery.delivery_issue(actor=w.clerk, case_id=b.case.pk, method="online")
    c.refresh_from_db()
    assert c.status == "running"
    pledge = Commitment.objects.get(case=c.case, kind=Commitment.Kind.PROOF)
    assert pledge.material_names == ["居民户口簿"] and pledge.document is not None
    assert c.case.materials.get(name="居民户口簿").status == CaseMaterial.Status.COMMITTED
    finish(w, c.case)
    task = Verification.objects.get(case=c.case)
    assert task.department == w.insurance and task.status == Verification.Status.PENDING
    parent.refresh_from_db()
    assert parent.state == flow.ParentState.COMPLETED


def gaps_supply_and_check(w, case):
    from yiwang.cases import gaps

    index = case.materials.get(name="生育服务单").index
    gaps.gap_supply(actor=w.applicant, case_id=case.pk, material_index=index, name="生育服务单.pdf", content=PDF)
    gaps.gap_check(actor=w.reviewers[w.police.pk], case_id=case.pk, material_index=index, accept=True)


def test_gap_and_pledge_errors_write_nothing(w):
    plan = bundles.bundle_plan(bundle=w.bundle, answers={"insure": "是"})
    gap, hukou, ids = _index(plan, "生育服务单"), _index(plan, "居民户口簿"), _index(plan, "父母双方居民身份证")
    without = [u for u in uploads_for(plan) if u.material_index not in (gap, hukou)]
    but_gap = [u for u in uploads_for(plan) if u.material_index != gap]
    cases = [
        ({"gap_indexes": [ids], "signer_name": "王大明", "files": but_gap}, "gap_not_allowed"),  # not 容缺后补
        ({"gap_indexes": [gap], "signer_name": "王大明", "files": uploads_for(plan)}, "gap_not_needed"),
        ({"gap_indexes": [gap], "files": but_gap}, "signature_required"),
        ({"pledge_indexes": [ids], "signer_name": "王大明"}, "pledge_not_allowed"),
        ({"pledge_indexes": [hukou], "signer_name": " "}, "signature_required"),
    ]
    for kw, code in cases:
        kw.setdefault("files", without)
        with pytest.raises(ValidationFailed) as info:
            apply(w, **kw)
        assert info.value.code == code, kw
    assert not BundleCase.objects.exists() and not Case.objects.exists() and not Commitment.objects.exists()

"""容缺受理 and 告知承诺制: every outcome (fulfilled, refused material, overdue → suspend / revoke / flag,
verified, false → refusal or revocation, credit records)."""

from __future__ import annotations

import datetime as dt

import pytest

from yiwang.cases import clock, gaps, services
from yiwang.cases.models import (
    Case,
    CaseDocument,
    CaseMaterial,
    Commitment,
    CreditRecord,
    Message,
    Revocation,
    Verification,
)
from yiwang.cases.states import State
from yiwang.core.actors import SystemActor
from yiwang.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

from . import factories as f

pytestmark = pytest.mark.django_db
SYSTEM = SystemActor("test")
GAP = 3  # 食品安全管理制度 (容缺后补) in the factory item


@pytest.fixture
def w():
    return f.world()


def received(w):
    return f.received(w, gap=True)


def gap_accepted(w, **kw):
    case = received(w)
    commitment = gaps.case_accept_with_gaps(actor=w.clerk, case_id=case.pk, signer_name="张三", **kw)
    case.refresh_from_db()
    return case, commitment


def to_decision(w, case):
    services.case_complete_step(actor=w.reviewer, case_id=case.pk, opinion="符合")


# --- 容缺受理 -----------------------------------------------------------------------------------------------


def test_accept_with_a_signed_gap_commitment(w):
    case, commitment = gap_accepted(w)
    assert case.state == State.IN_PROCESS
    assert commitment.status == Commitment.Status.PENDING and commitment.signed_via == "window"
    assert commitment.items == [{"index": GAP, "name": "食品安全管理制度", "state": "deferred"}]
    assert commitment.consequence == "suspend"
    assert commitment.due_date > clock.today() and "食品安全管理制度" in commitment.text
    assert case.materials.get(index=GAP).status == CaseMaterial.Status.DEFERRED
    doc = CaseDocument.objects.get(case=case, kind=CaseDocument.Kind.GAP_PLEDGE)
    assert commitment.document == doc and doc.title == "容缺受理信用承诺书"
    assert case.events.filter(action="gap_accept").exists()


def test_only_deferrable_materials_may_be_missing(w):
    case = services.case_create_draft(
        actor=w.clerk, item_code=w.item.code, applicant_id=w.applicant.pk, form_data=f.FORM
    )
    services.case_window_receive(actor=w.clerk, case_id=case.pk, paper_indexes=[0, 1])
    with pytest.raises(ValidationFailed) as info:
        gaps.case_accept_with_gaps(actor=w.clerk, case_id=case.pk, signer_name="张三")
    assert info.value.code == "materials_missing" and [d["material_index"] for d in info.value.details] == [2]
    assert not Commitment.objects.exists() and Case.objects.get(pk=case.pk).state == State.RECEIVED


def test_nothing_to_defer_and_signature_required(w):
    case = received(w)
    with pytest.raises(ValidationFailed) as info:
        gaps.case_accept_with_gaps(actor=w.clerk, case_id=case.pk)
    assert info.value.code == "signature_required"
    services.case_request_supplement(actor=w.clerk, case_id=case.pk, items=[f.deficiency(GAP, "请提供")])
    case2 = f.received(w, gap=True)
    CaseMaterial.objects.filter(case=case2, index=GAP).update(status=CaseMaterial.Status.PROVIDED)
    with pytest.raises(ValidationFailed) as info:
        gaps.case_accept_with_gaps(actor=w.clerk, case_id=case2.pk, signer_name="张三")
    assert info.value.code == "no_gap_materials"


def test_plain_accept_refuses_missing_gap_materials_without_a_signed_commitment(w):
    case = received(w)
    with pytest.raises(ValidationFailed) as info:
        services.case_accept(actor=w.clerk, case_id=case.pk)
    assert info.value.code == "gap_commitment_required"
    assert info.value.details == [{"material_index": GAP, "name": "食品安全管理制度"}]
    case.refresh_from_db()
    assert case.state == State.RECEIVED and case.accepted_at is None
    assert not Commitment.objects.exists() and not case.documents.filter(kind=CaseDocument.Kind.ACCEPT).exists()
    assert case.materials.get(index=GAP).status == CaseMaterial.Status.MISSING


def test_plain_accept_signed_at_the_window_creates_the_commitment_in_the_same_action(w):
    case = received(w)
    due = clock.today() + dt.timedelta(days=20)
    case = services.case_accept(
        actor=w.clerk, case_id=case.pk, gap_signer_name="张三", gap_due_date=due, gap_consequence="revoke"
    )
    assert case.state == State.IN_PROCESS
    commitment = Commitment.objects.get(case=case)
    assert commitment.kind == Commitment.Kind.GAP and commitment.status == Commitment.Status.PENDING
    assert (commitment.due_date, commitment.consequence, commitment.signed_via) == (due, "revoke", "window")
    assert commitment.document.kind == CaseDocument.Kind.GAP_PLEDGE and commitment.signer_name == "张三"
    assert case.materials.get(index=GAP).status == CaseMaterial.Status.DEFERRED
    assert [e.action for e in case.events.order_by("id")][-2:] == ["accept", "gap_accept"]


def test_plain_accept_completes_a_commitment_signed_online(w):
    case = received(w)
    signed = gaps.gap_pledge_sign(actor=w.applicant, case_id=case.pk, signer_name="张三")
    services.case_accept(actor=w.clerk, case_id=case.pk)
    signed.refresh_from_db()
    assert signed.due_date > clock.today() and signed.consequence == gaps.gap_default_consequence()
    assert signed.document is not None and signed.status == Commitment.Status.PENDING
    assert Case.objects.get(pk=case.pk).state == State.IN_PROCESS


def test_plain_accept_refuses_missing_required_materials_even_with_a_signature(w):
    case = services.case_create_draft(
        actor=w.clerk, item_code=w.item.code, applicant_id=w.applicant.pk, form_data=f.FORM
    )
    services.case_window_receive(actor=w.clerk, case_id=case.pk, paper_indexes=[0, 1])
    with pytest.raises(ValidationFailed) as info:
        services.case_accept(actor=w.clerk, case_id=case.pk, gap_signer_name="张三")
    assert info.value.code == "materials_missing" and [d["material_index"] for d in info.value.details] == [2]
    assert not Commitment.objects.exists() and Case.objects.get(pk=case.pk).state == State.RECEIVED


def test_signed_online_then_accepted(w):
    case = received(w)
    signed = gaps.gap_pledge_sign(actor=w.applicant, case_id=case.pk, signer_name="张三")
    assert signed.due_date is None and signed.signed_via == "online"
    commitment = gaps.case_accept_with_gaps(actor=w.clerk, case_id=case.pk, consequence="revoke")
    assert commitment.pk == signed.pk and commitment.due_date and commitment.consequence == "revoke"
    with pytest.raises(PermissionDenied):
        gaps.gap_pledge_sign(actor=w.clerk, case_id=case.pk, signer_name="窗口")


def test_supplied_checked_and_fulfilled_then_approval(w):
    case, commitment = gap_accepted(w)
    to_decision(w, case)
    with pytest.raises(Conflict) as info:
        services.case_decide(actor=w.reviewer, case_id=case.pk, approve=True, opinion="同意")
    assert info.value.code == "gap_materials_outstanding"
    with pytest.raises(Conflict) as info:
        gaps.gap_check(actor=w.reviewer, case_id=case.pk, material_index=GAP, accept=True)
    assert info.value.code == "gap_material_not_supplied"
    gaps.gap_supply(actor=w.applicant, case_id=case.pk, material_index=GAP, name="制度.pdf", content=f.PDF)
    assert Message.objects.filter(user=w.reviewer, title__startswith="容缺材料已补交").exists()
    commitment = gaps.gap_check(actor=w.reviewer, case_id=case.pk, material_index=GAP, accept=True)
    assert commitment.status == Commitment.Status.FULFILLED and commitment.fulfilled_at
    assert case.materials.get(index=GAP).status == CaseMaterial.Status.PROVIDED
    services.case_decide(actor=w.reviewer, case_id=case.pk, approve=True, opinion="同意")


def test_a_supplied_material_can_be_refused_and_supplied_again(w):
    case, _ = gap_accepted(w)
    gaps.gap_supply(actor=w.applicant, case_id=case.pk, material_index=GAP, name="制度.pdf", content=f.PDF)
    with pytest.raises(ValidationFailed):
        gaps.gap_check(actor=w.reviewer, case_id=case.pk, material_index=GAP, accept=False)
    commitment = gaps.gap_check(actor=w.reviewer, case_id=case.pk, material_index=GAP, accept=False, note="未盖章")
    assert commitment.items[0]["state"] == "deferred" and commitment.status == Commitment.Status.PENDING
    assert Message.objects.filter(
        user=w.applicant, title=f"补交的容缺材料不符合要求（{case.item_name}，{case.number}）"
    ).exists()
    with pytest.raises(ValidationFailed) as info:
        gaps.gap_supply(actor=w.applicant, case_id=case.pk, material_index=0, name="x.pdf", content=f.PDF)
    assert info.value.code == "material_not_deferred"
    with pytest.raises(NotFound):
        gaps.gap_supply(actor=w.stranger, case_id=case.pk, material_index=GAP, name="x.pdf", content=f.PDF)


def test_reminder_before_the_due_date(w):
    _case, commitment = gap_accepted(w)
    stats = gaps.gaps_sweep(actor=SYSTEM, on=commitment.due_date - dt.timedelta(days=5))
    assert stats["warned"] == 0
    stats = gaps.gaps_sweep(actor=SYSTEM, on=commitment.due_date - dt.timedelta(days=1))
    assert stats["warned"] == 1
    commitment.refresh_from_db()
    assert commitment.warned_on and commitment.status == Commitment.Status.PENDING
    assert Message.objects.filter(user=w.applicant, title__startswith="容缺材料即将到期").exists()
    assert gaps.gaps_sweep(actor=SYSTEM, on=commitment.due_date)["warned"] == 0  # once


def test_overdue_suspends_the_case_until_supplied(w):
    case, commitment = gap_accepted(w)
    services.case_complete_step(actor=w.reviewer, case_id=case.pk, opinion="审查中")
    stats = gaps.gaps_sweep(actor=SYSTEM, on=commitment.due_date + dt.timedelta(days=1))
    assert stats == {"warned": 0, "overdue": 1, "suspended": 1, "refused": 0, "verifications_overdue": 0}
    case.refresh_from_db()
    commitment.refresh_from_db()
    assert commitment.status == Commitment.Status.OVERDUE and commitment.consequence_applied_at
    assert case.state == State.REVIEW_SUPPLEMENT  # clock stopped, 补正 notice sent
    assert case.materials.get(index=GAP).status == CaseMaterial.Status.REQUESTED
    assert case.events.filter(action="gap_overdue").exists()
    assert Message.objects.filter(user=w.reviewer, title__startswith="容缺材料逾期未补").exists()
    assert gaps.gaps_sweep(actor=SYSTEM, on=commitment.due_date + dt.timedelta(days=2))["overdue"] == 0
    services.case_attach_file(actor=w.applicant, case_id=case.pk, material_index=GAP, name="制度.pdf", content=f.PDF)
    services.case_resubmit(actor=w.applicant, case_id=case.pk)
    commitment.refresh_from_db()
    assert commitment.status == Commitment.Status.FULFILLED
    services.case_decide(actor=w.reviewer, case_id=case.pk, approve=True, opinion="同意")


def test_overdue_revokes_with_refusal_and_a_credit_record(w):
    case, commitment = gap_accepted(w, consequence="revoke")
    stats = gaps.gaps_sweep(actor=SYSTEM, on=commitment.due_date + dt.timedelta(days=1))
    assert stats["refused"] == 1
    case.refresh_from_db()
    assert case.state == State.DECIDED and case.decision == Case.Decision.REJECTED
    assert "信用承诺期限" in case.decision_reason
    record = CreditRecord.objects.get(subject=w.applicant)
    assert record.kind == CreditRecord.Kind.UNFULFILLED and record.case == case
    assert CaseDocument.objects.filter(case=case, kind=CaseDocument.Kind.REJECT).exists()
    # a subject with a credit record in force may not use 容缺 or 告知承诺 again
    other = received(w)
    with pytest.raises(PermissionDenied) as info:
        gaps.case_accept_with_gaps(actor=w.clerk, case_id=other.pk, signer_name="张三")
    assert info.value.code == "credit_restricted"


def test_overdue_while_the_clock_is_stopped_is_flagged(w):
    case, commitment = gap_accepted(w)
    services.case_start_special(
        actor=w.reviewer, case_id=case.pk, special_type="检测", reason="抽样检测", time_limit_days=5
    )
    gaps.gaps_sweep(actor=SYSTEM, on=commitment.due_date + dt.timedelta(days=1))
    case.refresh_from_db()
    commitment.refresh_from_db()
    assert case.state == State.SPECIAL and commitment.status == Commitment.Status.OVERDUE
    assert commitment.consequence_applied_at is None and case.events.filter(action="gap_overdue").exists()


# --- 告知承诺制 -------------------------------------------------------------------------------------------------


@pytest.fixture
def wp():
    from tests.catalog.factories import COMPLETE

    materials = [dict(m) for m in COMPLETE["materials"]]
    materials[1]["commitment"] = True  # 营业执照: 可告知承诺替代
    return f.world(materials=materials)


def pledged_and_accepted(w):
    case = services.case_create_draft(actor=w.applicant, item_code=w.item.code, form_data=f.FORM)
    commitment = gaps.case_pledge(actor=w.applicant, case_id=case.pk, material_indexes=[1], signer_name="张三")
    for i in (0, 2, 3):
        services.case_attach_file(actor=w.applicant, case_id=case.pk, material_index=i, name="a.pdf", content=f.PDF)
    services.case_submit(actor=w.applicant, case_id=case.pk)  # 营业执照 not uploaded: the commitment replaces it
    services.case_pretrial(actor=w.clerk, case_id=case.pk, outcome="pass")
    services.case_accept(actor=w.clerk, case_id=case.pk)
    case.refresh_from_db()
    return case, commitment


def test_commitment_replaces_the_proof_and_creates_a_verification_task(wp):
    case, commitment = pledged_and_accepted(wp)
    assert commitment.kind == Commitment.Kind.PROOF and commitment.signed_via == "online"
    assert case.materials.get(index=1).status == CaseMaterial.Status.COMMITTED
    assert CaseDocument.objects.filter(case=case, kind=CaseDocument.Kind.PLEDGE).exists()
    task = Verification.objects.get(case=case)
    assert task.status == Verification.Status.PENDING and task.department == wp.dept and task.due_date > clock.today()
    assert Message.objects.filter(user=wp.reviewer, title__startswith="告知承诺核查任务").exists()


def test_only_marked_materials_may_be_pledged(wp):
    case = services.case_create_draft(actor=wp.applicant, item_code=wp.item.code, form_data=f.FORM)
    with pytest.raises(ValidationFailed) as info:
        gaps.case_pledge(actor=wp.applicant, case_id=case.pk, material_indexes=[0], signer_name="张三")
    assert info.value.code == "pledge_not_allowed"
    with pytest.raises(ValidationFailed) as info:
        gaps.case_pledge(actor=wp.applicant, case_id=case.pk, material_indexes=[1], signer_name=" ")
    assert info.value.code == "signature_required"


def test_verified(wp):
    case, commitment = pledged_and_accepted(wp)
    task = Verification.objects.get(case=case)
    gaps.verification_record(actor=wp.reviewer, verification_id=task.pk, outcome="verified", note="与登记系统一致")
    commitment.refresh_from_db()
    assert commitment.status == Commitment.Status.VERIFIED and not CreditRecord.objects.exists()
    with pytest.raises(Conflict):
        gaps.verification_record(actor=wp.reviewer, verification_id=task.pk, outcome="false", note="再次")


def test_false_commitment_before_the_decision_is_refused(wp):
    case, _ = pledged_and_accepted(wp)
    task = Verification.objects.get(case=case)
    with pytest.raises(PermissionDenied):
        gaps.verification_record(actor=wp.clerk, verification_id=task.pk, outcome="false", note="x")
    gaps.verification_record(actor=wp.reviewer, verification_id=task.pk, outcome="false", note="营业执照已吊销")
    case.refresh_from_db()
    assert case.state == State.DECIDED and case.decision == Case.Decision.REJECTED
    assert CreditRecord.objects.get(subject=wp.applicant).kind == CreditRecord.Kind.FALSE_COMMITMENT
    assert not Revocation.objects.exists()


def test_false_commitment_after_approval_opens_the_revocation_procedure(wp):
    case, _ = pledged_and_accepted(wp)
    services.case_complete_step(actor=wp.reviewer, case_id=case.pk, opinion="符合")
    services.case_decide(actor=wp.reviewer, case_id=case.pk, approve=True, opinion="同意")
    task = Verification.objects.get(case=case)
    gaps.verification_record(actor=wp.reviewer, verification_id=task.pk, outcome="false", note="营业执照系伪造")
    revocation = Revocation.objects.get(case=case)
    assert revocation.state == "notice" and revocation.statement_due > clock.today()
    assert CaseDocument.objects.filter(case=case, kind=CaseDocument.Kind.REVOCATION_NOTICE).exists()
    assert CreditRecord.objects.filter(subject=wp.applicant, kind="false").count() == 1
    with pytest.raises(Conflict) as info:
        gaps.revocation_decide(actor=wp.head, revocation_id=revocation.pk, revoke=True, note="撤销")
    assert info.value.code == "statement_period_running"
    gaps.revocation_statement(actor=wp.applicant, revocation_id=revocation.pk, statement="系代办机构提供，本人不知情")
    revocation = gaps.revocation_decide(actor=wp.head, revocation_id=revocation.pk, revoke=True, note="陈述理由不成立")
    assert revocation.state == "revoked"
    assert CaseDocument.objects.filter(case=case, kind=CaseDocument.Kind.REVOCATION).exists()
    assert case.events.filter(action="revoked").exists()
    with pytest.raises(Conflict):
        gaps.revocation_decide(actor=wp.head, revocation_id=revocation.pk, revoke=False, note="再次")


def test_revocation_may_be_dropped(wp):
    case, commitment = pledged_and_accepted(wp)
    services.case_complete_step(actor=wp.reviewer, case_id=case.pk, opinion="符合")
    services.case_decide(actor=wp.reviewer, case_id=case.pk, approve=True, opinion="同意")
    revocation = gaps.revocation_start(case=case, commitment=commitment, actor=wp.reviewer, reason="核查存疑")
    revocation = gaps.revocation_decide(actor=wp.head, revocation_id=revocation.pk, revoke=False, note="补充核实后属实")
    assert revocation.state == "dropped" and case.events.filter(action="revocation_dropped").exists()


def test_overdue_verification_is_warned_once(wp):
    case, _ = pledged_and_accepted(wp)
    task = Verification.objects.get(case=case)
    assert gaps.gaps_sweep(actor=SYSTEM, on=task.due_date + dt.timedelta(days=1))["verifications_overdue"] == 1
    assert gaps.gaps_sweep(actor=SYSTEM, on=task.due_date + dt.timedelta(days=2))["verifications_overdue"] == 0
    assert case.events.filter(action="verify_overdue").exists()


def test_a_commitment_item_allows_every_material(w):
    from tests.catalog.factories import published_item

    item = published_item(department=w.dept, commitment_item=True)
    case = services.case_create_draft(actor=w.applicant, item_code=item.code, form_data=f.FORM)
    commitment = gaps.case_pledge(actor=w.applicant, case_id=case.pk, material_indexes=[0, 1, 2], signer_name="张三")
    assert len(commitment.items) == 3
    services.case_submit(actor=w.applicant, case_id=case.pk)

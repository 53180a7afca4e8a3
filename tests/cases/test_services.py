"""Case actions: the whole lifecycle, permissions, wrong states, deadlines, documents and messages."""

import datetime as dt

import pytest
from django.utils import timezone

from tests.cases import factories as f
from tests.factories import authorization, enterprise, staff
from yiwang.accounts.roles import Role
from yiwang.cases import selectors, services
from yiwang.cases.models import (
    Case,
    CaseDocument,
    CaseEvent,
    CaseExtension,
    CaseFile,
    CaseMaterial,
    CasePause,
    CaseStep,
    IdempotencyRecord,
    Message,
    StoredFile,
)
from yiwang.cases.services import Deficiency, Upload
from yiwang.core.actors import SystemActor
from yiwang.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from yiwang.core.models import AuditEvent


@pytest.fixture(autouse=True)
def private_dir(tmp_path, settings):
    settings.PRIVATE_FILES_DIR = tmp_path / "private"


@pytest.fixture
def w(db):
    return f.world()


def counts():
    return {m.__name__: m.objects.count() for m in (Case, CaseEvent, CaseFile, StoredFile, CaseDocument, Message)}


# --- application ---------------------------------------------------------------------------------------


def test_draft_resume_and_submit(w):
    case = services.case_create_draft(actor=w.applicant, item_code=w.item.code, form_data={"shop_name": "半成品"})
    assert case.state == "draft" and case.number is None
    assert case.version_id == w.item.current_version_id
    assert case.materials.count() == 4
    assert case.applicant_name == "张三" and "*" in case.applicant_id_masked
    services.case_save_draft(actor=w.applicant, case_id=case.pk, form_data=f.FORM)
    for upload in f.files_for_required(w.item.current_version):
        services.case_attach_file(
            actor=w.applicant,
            case_id=case.pk,
            material_index=upload.material_index,
            name=upload.name,
            content=upload.content,
        )
    case = services.case_submit(actor=w.applicant, case_id=case.pk)
    assert case.state == "submitted"
    assert case.number.startswith("440106000000") and len(case.number) == 26
    assert case.submitted_at is not None
    assert case.form_data["area"] == "45"
    assert Message.objects.filter(user=w.applicant, title__startswith="申请已提交").exists()


def test_submit_lists_every_missing_material_and_form_error(w):
    case = services.case_create_draft(actor=w.applicant, item_code=w.item.code, form_data={})
    with pytest.raises(ValidationFailed) as info:
        services.case_submit(actor=w.applicant, case_id=case.pk)
    assert info.value.code == "form_invalid"
    services.case_save_draft(actor=w.applicant, case_id=case.pk, form_data=f.FORM)
    with pytest.raises(ValidationFailed) as info:
        services.case_submit(actor=w.applicant, case_id=case.pk)
    assert info.value.code == "materials_missing"
    assert [d["name"] for d in info.value.details] == ["食品经营许可申请书", "营业执照", "法定代表人身份证"]
    case.refresh_from_db()
    assert case.state == "draft" and case.number is None


def test_unknown_form_fields_are_refused(w):
    with pytest.raises(ValidationFailed) as info:
        services.case_create_draft(actor=w.applicant, item_code=w.item.code, form_data={"evil": "x"})
    assert info.value.code == "form_invalid"
    assert not Case.objects.exists()


def test_one_shot_apply_with_idempotency_key(w):
    before = counts()
    kw = dict(item_code=w.item.code, form_data=f.FORM, files=f.files_for_required(w.item.current_version))
    case, created = services.case_apply(actor=w.applicant, idempotency_key="retry-key-0001", **kw)
    assert created and case.state == "submitted"
    after_first = counts()
    again, created_again = services.case_apply(actor=w.applicant, idempotency_key="retry-key-0001", **kw)
    assert again.pk == case.pk and not created_again
    assert counts() == after_first
    assert after_first["Case"] == before["Case"] + 1
    assert after_first["StoredFile"] == 3


def test_idempotency_key_reused_for_other_content_leaves_nothing(w):
    kw = dict(item_code=w.item.code, files=f.files_for_required(w.item.current_version))
    services.case_apply(actor=w.applicant, idempotency_key="retry-key-0002", form_data=f.FORM, **kw)
    before = counts()
    with pytest.raises(ValidationFailed) as info:
        services.case_apply(
            actor=w.applicant, idempotency_key="retry-key-0002", form_data={**f.FORM, "area": "99"}, **kw
        )
    assert info.value.code == "idempotency_key_reused"
    assert counts() == before


def test_forged_idempotency_key_of_another_user_creates_its_own_case(w):
    kw = dict(item_code=w.item.code, form_data=f.FORM, files=f.files_for_required(w.item.current_version))
    mine, _ = services.case_apply(actor=w.applicant, idempotency_key="shared-key-0001", **kw)
    theirs, created = services.case_apply(actor=w.stranger, idempotency_key="shared-key-0001", **kw)
    assert created and theirs.pk != mine.pk and theirs.applicant_id == w.stranger.pk


def test_failed_apply_leaves_no_rows_and_frees_the_key(w):
    before = counts()
    bad_files = [Upload(0, "申请书.pdf", b"MZ\x90\x00 not a pdf")]
    with pytest.raises(ValidationFailed) as info:
        services.case_apply(
            actor=w.applicant, item_code=w.item.code, form_data=f.FORM, files=bad_files, idempotency_key="key-fail-01"
        )
    assert info.value.code == "upload_type_not_allowed"
    assert counts() == before
    assert not IdempotencyRecord.objects.exists()


def test_apply_with_unknown_material_index(w):
    with pytest.raises(ValidationFailed) as info:
        services.case_apply(
            actor=w.applicant, item_code=w.item.code, form_data=f.FORM, files=[Upload(99, "a.pdf", f.PDF)]
        )
    assert info.value.code == "material_not_found"
    assert not Case.objects.exists()


def test_agent_files_for_an_enterprise(w):
    company = enterprise(name="广州好味餐饮有限公司")
    authorization(company.user, w.stranger, scopes=["case.apply", "case.view"])
    case, _ = services.case_apply(
        actor=w.stranger,
        item_code=w.item.code,
        form_data=f.FORM,
        applicant_id=company.user.pk,
        files=f.files_for_required(w.item.current_version),
    )
    assert case.applicant_id == company.user.pk and case.filed_by_id == w.stranger.pk
    assert case.applicant_kind == "enterprise" and case.authorization is not None
    assert case in selectors.my_cases(user=w.stranger)
    assert case in selectors.my_cases(user=company.user)


def test_agent_without_authorisation_is_refused(w):
    company = enterprise()
    with pytest.raises(PermissionDenied) as info:
        services.case_create_draft(actor=w.stranger, item_code=w.item.code, applicant_id=company.user.pk)
    assert info.value.code == "not_authorized_agent"


def test_unpublished_or_missing_items(w):
    with pytest.raises(NotFound):
        services.case_create_draft(actor=w.applicant, item_code="NOPE")
    from yiwang.catalog import services as catalog

    catalog.item_suspend(actor=SystemActor("t"), item=w.item, reason="调整")
    with pytest.raises(Conflict) as info:
        services.case_create_draft(actor=w.applicant, item_code=w.item.code)
    assert info.value.code == "item_not_available"


def test_staff_cannot_apply_for_themselves(w):
    with pytest.raises(ValidationFailed) as info:
        services.case_create_draft(actor=w.clerk, item_code=w.item.code)
    assert info.value.code == "applicant_required"


def test_person_without_real_name_cannot_apply(w):
    from tests.factories import UserFactory

    with pytest.raises(ValidationFailed) as info:
        services.case_create_draft(actor=UserFactory(), item_code=w.item.code)
    assert info.value.code == "real_name_required"


# --- foreign ids and permissions ----------------------------------------------------------------------


def test_foreign_case_ids_look_missing(w):
    case = f.submitted(w)
    for actor in (w.stranger, w.clerk_yx, w.reviewer_other):
        with pytest.raises(NotFound) as info:
            services.case_pretrial(actor=actor, case_id=case.pk, outcome="pass")
        assert info.value.code == "case_not_found"
    with pytest.raises(NotFound):
        services.case_withdraw(actor=w.stranger, case_id=case.pk)
    with pytest.raises(NotFound):
        services.case_accept(actor=w.clerk, case_id=999_999)


def test_parties_may_only_take_their_own_actions(w):
    case = f.submitted(w)
    with pytest.raises(PermissionDenied):
        services.case_pretrial(actor=w.applicant, case_id=case.pk, outcome="pass")
    with pytest.raises(PermissionDenied):
        services.case_pretrial(actor=w.reviewer, case_id=case.pk, outcome="pass")


# --- pre-review, acceptance and 补正 -------------------------------------------------------------------


def test_pretrial_return_goes_back_to_the_draft(w):
    case = f.submitted(w)
    with pytest.raises(ValidationFailed) as info:
        services.case_pretrial(actor=w.clerk, case_id=case.pk, outcome="return")
    assert info.value.code == "reason_required"
    case = services.case_pretrial(actor=w.clerk, case_id=case.pk, outcome="return", reason="经营面积填写有误")
    assert case.state == "draft" and case.return_note == "经营面积填写有误"
    case = services.case_submit(actor=w.applicant, case_id=case.pk)
    assert case.state == "submitted"


def test_pretrial_reject_is_final(w):
    case = f.submitted(w)
    case = services.case_pretrial(actor=w.clerk, case_id=case.pk, outcome="reject", reason="不属于本事项")
    assert case.state == "pretrial_rejected" and case.closed_at
    with pytest.raises(InvalidTransition):
        services.case_pretrial(actor=w.clerk, case_id=case.pk, outcome="pass")
    with pytest.raises(ValidationFailed):
        services.case_pretrial(actor=w.clerk, case_id=case.pk, outcome="maybe")


def test_pass_issues_a_receipt_and_sets_the_deemed_acceptance_day(w):
    case = f.received(w)
    assert case.state == "received" and case.received_at
    assert case.deemed_acceptance_on > timezone.localdate()
    receipt = case.documents.get(kind="receipt")
    assert receipt.number == f"{case.number}-SJ01"
    assert ["1", "食品经营许可申请书", "已提交"] in receipt.content["table_rows"]


def test_one_time_supplement_notice_then_resubmit_then_accept(w):
    case = f.received(w, gap=True)
    items = [
        Deficiency(reason="未签名", material_index=0),
        Deficiency(reason="复印件不清晰", material_index=2),
        Deficiency(reason="经营场所平面图缺失", name="经营场所平面图"),
    ]
    case = services.case_request_supplement(actor=w.clerk, case_id=case.pk, items=items)
    assert case.state == "supplement" and case.supplement_round == 1
    notice = case.documents.get(kind="supplement")
    assert [r[1] for r in notice.content["table_rows"]] == ["食品经营许可申请书", "法定代表人身份证", "经营场所平面图"]
    assert "一次性告知" in notice.content["paragraphs"][0]
    assert Message.objects.filter(user=w.applicant, title__startswith="请补正材料").exists()
    with pytest.raises(ValidationFailed) as info:
        services.case_resubmit(actor=w.applicant, case_id=case.pk)
    assert info.value.code == "materials_missing"
    assert [d["name"] for d in info.value.details] == ["食品经营许可申请书", "法定代表人身份证"]
    for index in (0, 2):
        services.case_attach_file(
            actor=w.applicant, case_id=case.pk, material_index=index, name="补.pdf", content=f.PDF
        )
    case = services.case_resubmit(actor=w.applicant, case_id=case.pk)
    assert case.state == "received"
    case = services.case_accept(actor=w.clerk, case_id=case.pk, gap_signer_name="张三")  # 容缺受理, signed now
    assert case.state == "in_process"
    assert CaseMaterial.objects.get(case=case, index=3).status == "deferred"  # 容缺后补


def test_clerk_resubmits_at_the_window_with_paper(w):
    case = f.received(w)
    services.case_request_supplement(actor=w.clerk, case_id=case.pk, items=[f.deficiency(1, "原件核验")])
    with pytest.raises(PermissionDenied):
        services.case_resubmit(actor=w.applicant, case_id=case.pk, paper_indexes=[1])
    case = services.case_resubmit(actor=w.clerk, case_id=case.pk, paper_indexes=[1])
    assert case.state == "received"
    assert CaseMaterial.objects.get(case=case, index=1).paper_received


def test_supplement_needs_items_and_reasons(w):
    case = f.received(w)
    with pytest.raises(ValidationFailed) as info:
        services.case_request_supplement(actor=w.clerk, case_id=case.pk, items=[])
    assert info.value.code == "supplement_items_required"
    with pytest.raises(ValidationFailed):
        services.case_request_supplement(
            actor=w.clerk, case_id=case.pk, items=[Deficiency(reason="", material_index=0)]
        )
    with pytest.raises(ValidationFailed) as info:
        services.case_request_supplement(actor=w.clerk, case_id=case.pk, items=[f.deficiency(0), f.deficiency(0)])
    assert info.value.code == "supplement_duplicate"
    with pytest.raises(ValidationFailed):
        services.case_request_supplement(actor=w.clerk, case_id=case.pk, items=[f.deficiency(42)])
    case.refresh_from_db()
    assert case.state == "received" and not case.documents.filter(kind="supplement").exists()
    assert not CaseMaterial.objects.filter(case=case, status="requested").exists()


def test_not_accept_with_reason_and_referral(w):
    case = f.received(w)
    case = services.case_not_accept(
        actor=w.clerk, case_id=case.pk, reason="不属于本机关职权范围", referral="广州市市场监督管理局"
    )
    assert case.state == "not_accepted"
    doc = case.documents.get(kind="not_accept")
    assert any("广州市市场监督管理局" in p for p in doc.content["paragraphs"])


def test_accept_requires_the_required_materials(w):
    case = services.case_create_draft(
        actor=w.clerk, item_code=w.item.code, applicant_id=w.applicant.pk, form_data=f.FORM
    )
    case = services.case_window_receive(actor=w.clerk, case_id=case.pk, window_id=w.window.pk, paper_indexes=[0, 1])
    assert case.state == "received" and case.channel == "window" and case.window_id == w.window.pk
    with pytest.raises(ValidationFailed) as info:
        services.case_accept(actor=w.clerk, case_id=case.pk)
    assert info.value.code == "materials_missing"
    assert [d["name"] for d in info.value.details] == ["法定代表人身份证"]


def test_window_intake_one_entry_to_the_back_office(w):
    case = services.case_create_draft(
        actor=w.clerk, item_code=w.item.code, applicant_id=w.applicant.pk, form_data=f.FORM
    )
    services.case_attach_file(actor=w.clerk, case_id=case.pk, material_index=2, name="身份证扫描.png", content=f.PNG)
    case = services.case_window_receive(actor=w.clerk, case_id=case.pk, window_id=w.window.pk, paper_indexes=[0, 1, 3])
    case = services.case_accept(actor=w.clerk, case_id=case.pk)
    assert case in selectors.queue(user=w.reviewer, key="in_process")
    assert case.form_data == {**f.FORM}  # the back office sees what the clerk typed once
    assert case.documents.filter(kind="receipt").exists() and case.documents.filter(kind="accept").exists()


def test_clerk_of_another_district_cannot_receive(w):
    with pytest.raises(PermissionDenied):
        services.case_create_draft(actor=w.clerk_yx, item_code=w.item.code, applicant_id=w.applicant.pk)


def test_city_item_at_a_district_window(w):
    from tests.catalog.factories import published_item
    from tests.factories import DepartmentFactory

    city = DepartmentFactory(name="广州市市场监督管理局", region=w.geo.gz)
    city_item = published_item(department=city)
    case = services.case_create_draft(actor=w.clerk, item_code=city_item.code, applicant_id=w.applicant.pk)
    assert case.region_code == w.geo.gz.code


def test_deemed_acceptance_is_flagged_and_counts_from_receipt(w):
    case = f.received(w)
    later = case.deemed_acceptance_on + dt.timedelta(days=1)
    assert services.cases_flag_deemed_accepted(actor=SystemActor("t"), on=later) == 1
    case.refresh_from_db()
    assert case.deemed_accepted and case.state == "received"
    assert case.events.filter(action="flag_deemed_accepted").exists()
    with pytest.raises(Conflict) as info:
        services.case_request_supplement(actor=w.clerk, case_id=case.pk, items=[f.deficiency()])
    assert info.value.code == "supplement_notice_too_late"
    case = services.case_accept(actor=w.clerk, case_id=case.pk)
    assert case.accepted_on == timezone.localdate(case.received_at)
    with pytest.raises(PermissionDenied):
        services.cases_flag_deemed_accepted(actor=w.clerk)


# --- back office -------------------------------------------------------------------------------------


def test_acceptance_sets_deadlines_from_the_version(w):
    case = f.accepted(w)
    assert case.accepted_on == timezone.localdate()
    assert (case.promised_limit, case.legal_limit) == (5, 20)
    from yiwang.workdays.calendar import get_calendar

    cal = get_calendar(case.region_code)
    assert case.promised_due == cal.add(case.accepted_on, 5).date
    assert case.legal_due == cal.add(case.accepted_on, 20).date
    doc = case.documents.get(kind="accept")
    assert ("承诺办结日期", f"{case.promised_due.year}年{case.promised_due.month}月{case.promised_due.day}日") in [
        tuple(x) for x in doc.content["fields"]
    ]
    steps = list(CaseStep.objects.filter(case=case).order_by("index"))
    assert [(s.name, bool(s.finished_at)) for s in steps] == [("受理", True), ("审查", False)]


def test_steps_then_decision_then_completion(w):
    case = f.accepted(w)
    with pytest.raises(Conflict) as info:
        services.case_decide(actor=w.reviewer, case_id=case.pk, approve=True, opinion="同意")
    assert info.value.code == "steps_pending"
    with pytest.raises(ValidationFailed):
        services.case_complete_step(actor=w.reviewer, case_id=case.pk, opinion="")
    services.case_complete_step(actor=w.reviewer, case_id=case.pk, opinion="材料真实")
    with pytest.raises(Conflict) as info:
        services.case_complete_step(actor=w.reviewer, case_id=case.pk, opinion="再审")
    assert info.value.code == "decision_due"
    case = services.case_decide(actor=w.head, case_id=case.pk, approve=True, opinion="准予许可")
    assert case.state == "decided" and case.decision == "approved" and case.delivery_due
    assert case.documents.filter(kind="approve").exists()
    assert case in selectors.queue(user=w.clerk, key="to_deliver")
    case = services.case_complete(actor=w.clerk, case_id=case.pk, delivery="post")
    assert case.state == "completed" and case.delivery == "post"
    steps = list(CaseStep.objects.filter(case=case).order_by("index").values_list("name", "handler_label", "opinion"))
    assert [s[0] for s in steps] == ["受理", "审查", "决定", "制证", "送达"]
    assert steps[1][1:] == ("审查李", "材料真实")
    assert steps[2][1:] == ("科长赵", "准予许可")


def test_reject_decision_names_the_remedies(w):
    case = f.reviewed(w)
    case = services.case_decide(actor=w.reviewer, case_id=case.pk, approve=False, opinion="场所不符合卫生要求")
    assert case.decision == "rejected"
    doc = case.documents.get(kind="reject")
    assert any("行政复议" in p for p in doc.content["paragraphs"])


def test_reviewer_of_another_department_cannot_act(w):
    case = f.accepted(w)
    with pytest.raises(NotFound):
        services.case_complete_step(actor=w.reviewer_other, case_id=case.pk, opinion="x")


def test_return_for_supplement_stops_the_clock(w):
    case = f.accepted(w)
    due = case.promised_due
    case = services.case_return_for_supplement(actor=w.reviewer, case_id=case.pk, items=[f.deficiency(1, "执照过期")])
    assert case.state == "review_supplement"
    pause = CasePause.objects.get(case=case)
    assert pause.kind == "supplement" and pause.end is None
    assert case.promised_due >= due
    services.case_attach_file(actor=w.applicant, case_id=case.pk, material_index=1, name="新执照.pdf", content=f.PDF)
    case = services.case_resubmit(actor=w.applicant, case_id=case.pk)
    assert case.state == "in_process"
    pause.refresh_from_db()
    assert pause.end == timezone.localdate()


def test_special_procedure_pauses_and_resumes(w):
    case = f.reviewed(w)
    with pytest.raises(ValidationFailed):
        services.case_start_special(
            actor=w.reviewer, case_id=case.pk, special_type="喝茶", reason="x", time_limit_days=5
        )
    case = services.case_start_special(
        actor=w.reviewer, case_id=case.pk, special_type="专家评审", reason="技术方案需专家论证", time_limit_days=10
    )
    assert case.state == "special"
    assert case.documents.filter(kind="special").exists()
    assert Message.objects.filter(user=w.applicant, title__contains="特别程序").exists()
    assert case in selectors.queue(user=w.reviewer, key="special")
    with pytest.raises(InvalidTransition):
        services.case_decide(actor=w.reviewer, case_id=case.pk, approve=True, opinion="同意")
    case = services.case_end_special(actor=w.reviewer, case_id=case.pk, result="专家意见：可行")
    assert case.state == "in_process"


def test_extension_needs_the_head_and_respects_the_legal_maximum(w):
    case = f.accepted(w)
    due = (case.promised_due, case.legal_due)
    with pytest.raises(ValidationFailed) as info:
        services.case_request_extension(actor=w.reviewer, case_id=case.pk, days=11, reason="情况复杂")
    assert info.value.code == "extension_exceeds_limit"
    with pytest.raises(PermissionDenied):
        services.case_request_extension(actor=w.head, case_id=case.pk, days=5, reason="情况复杂")
    services.case_request_extension(actor=w.reviewer, case_id=case.pk, days=5, reason="需现场核查")
    with pytest.raises(Conflict) as info:
        services.case_request_extension(actor=w.reviewer, case_id=case.pk, days=1, reason="again")
    assert info.value.code == "extension_pending"
    assert Message.objects.filter(user=w.head, title__startswith="延期待审批").exists()
    assert case in selectors.queue(user=w.head, key="extensions")
    with pytest.raises(PermissionDenied):
        services.case_decide_extension(actor=w.reviewer, case_id=case.pk, approve=True)
    services.case_decide_extension(actor=w.head, case_id=case.pk, approve=True, note="同意")
    case.refresh_from_db()
    assert case.extension_days == 5
    assert case.promised_due > due[0] and case.legal_due > due[1]
    assert case.documents.filter(kind="extension").exists()
    assert Message.objects.filter(user=w.applicant, title__startswith="办理期限已延长").exists()
    with pytest.raises(NotFound):
        services.case_decide_extension(actor=w.head, case_id=case.pk, approve=True)
    services.case_request_extension(actor=w.reviewer, case_id=case.pk, days=5, reason="仍需核查")
    services.case_decide_extension(actor=w.head, case_id=case.pk, approve=False, note="不同意")
    assert CaseExtension.objects.filter(case=case, status="rejected").count() == 1
    with pytest.raises(ValidationFailed):
        services.case_request_extension(actor=w.reviewer, case_id=case.pk, days=6, reason="超过上限")


def test_withdraw_only_before_the_decision(w):
    case = f.accepted(w)
    with pytest.raises(PermissionDenied):
        services.case_withdraw(actor=w.clerk, case_id=case.pk)
    case = services.case_withdraw(actor=w.applicant, case_id=case.pk, reason="不再需要")
    assert case.state == "withdrawn"
    decided = f.reviewed(w)
    services.case_decide(actor=w.reviewer, case_id=decided.pk, approve=True, opinion="同意")
    with pytest.raises(InvalidTransition):
        services.case_withdraw(actor=w.applicant, case_id=decided.pk)


def test_wrong_state_changes_nothing(w):
    case = f.submitted(w)
    before = (counts(), AuditEvent.objects.count())
    with pytest.raises(InvalidTransition) as info:
        services.case_accept(actor=w.clerk, case_id=case.pk)
    assert info.value.code == "invalid_transition" and info.value.status == 409
    assert info.value.details["state"] == "submitted"
    assert (counts(), AuditEvent.objects.count()) == before


def test_supervision_and_feedback(w):
    case = f.accepted(w)
    with pytest.raises(ValidationFailed):
        services.case_supervise(actor=w.supervisor, case_id=case.pk, note="加快", feedback_due=dt.date(2020, 1, 1))
    with pytest.raises(PermissionDenied):
        services.case_supervise(actor=w.reviewer, case_id=case.pk, note="x", feedback_due=timezone.localdate())
    sup = services.case_supervise(
        actor=w.supervisor, case_id=case.pk, note="请加快办理", feedback_due=timezone.localdate() + dt.timedelta(days=3)
    )
    assert Message.objects.filter(user=w.reviewer, title__startswith="督办").exists()
    assert Message.objects.filter(user=w.head, title__startswith="督办").exists()
    assert not Message.objects.filter(user=w.applicant, title__startswith="督办").exists()
    services.case_supervision_feedback(actor=w.reviewer, supervision_id=sup.pk, feedback="已安排明日办结")
    sup.refresh_from_db()
    assert sup.feedback_at and sup.feedback_by_id == w.reviewer.pk
    assert Message.objects.filter(user=w.supervisor, title__startswith="督办已反馈").exists()
    with pytest.raises(Conflict):
        services.case_supervision_feedback(actor=w.reviewer, supervision_id=sup.pk, feedback="again")


# --- timeline, audit, messages -------------------------------------------------------------------------


def test_timeline_is_append_only_and_filtered_for_the_applicant(w):
    case = f.accepted(w)
    services.case_request_extension(actor=w.reviewer, case_id=case.pk, days=2, reason="内部")
    staff_view = [e.action for e in selectors.timeline(user=w.reviewer, case=case)]
    applicant_view = [e.action for e in selectors.timeline(user=w.applicant, case=case)]
    assert staff_view[:3] == ["create", "submit", "pretrial_pass"]
    assert "request_extension" in staff_view and "request_extension" not in applicant_view
    assert applicant_view == ["create", "submit", "pretrial_pass", "accept"]
    assert AuditEvent.objects.filter(action="case.accept", object_id=str(case.pk)).count() == 1


def test_allowed_actions_per_party(w):
    case = f.received(w)
    assert [a.value for a in selectors.allowed_actions(user=w.clerk, case=case)] == [
        "request_supplement",
        "accept",
        "not_accept",
    ]
    assert [a.value for a in selectors.allowed_actions(user=w.applicant, case=case)] == ["withdraw"]
    assert selectors.allowed_actions(user=w.reviewer, case=case) == []


def test_sms_goes_out_only_after_commit(w, django_capture_on_commit_callbacks):
    from yiwang.accounts import sms

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        f.submitted(w)
    assert not sms.outbox
    for cb in callbacks:
        cb()
    assert any("申请已提交" in m.text for m in sms.outbox)


def test_document_pdf_is_rendered_and_stored(w, django_capture_on_commit_callbacks):
    from yiwang.cases import documents

    with django_capture_on_commit_callbacks(execute=True):
        case = f.accepted(w)
    doc = case.documents.get(kind="accept")
    doc.refresh_from_db()
    assert doc.pdf_name and doc.pdf_sha256  # rendered after commit by the task
    pdf = documents.ensure_pdf(doc)
    assert pdf.startswith(b"%PDF")


def test_staff_role_changes_scope(w):
    case = f.accepted(w)
    other_head = staff(Role.DEPT_HEAD, w.other_dept)
    assert case not in selectors.visible_cases(user=other_head)
    assert case in selectors.visible_cases(user=w.supervisor)
    assert case in selectors.visible_cases(user=w.head)


def test_citizen_application_audit_is_deferred_staff_actions_are_not(w, django_capture_on_commit_callbacks):
    """Decision 0007: a citizen's online application stages its audit events (chained after commit in a
    batch); a clerk's acceptance chains at once. Either way every event ends up in the verified chain."""
    from yiwang.core import audit
    from yiwang.core.models import PendingAuditEvent

    with django_capture_on_commit_callbacks(execute=False):
        case = f.submitted(w)
    staged = set(PendingAuditEvent.objects.filter(object_id=str(case.pk)).values_list("action", flat=True))
    assert staged == {"case.create", "case.submit"}
    assert not AuditEvent.objects.filter(object_id=str(case.pk), action__in=staged).exists()
    audit.flush_pending()
    assert AuditEvent.objects.filter(object_id=str(case.pk), action__in=staged).count() == 2
    assert not PendingAuditEvent.objects.exists()
    services.case_pretrial(actor=w.clerk, case_id=case.pk, outcome="pass")
    assert AuditEvent.objects.filter(object_id=str(case.pk), action="case.pretrial_pass").exists()
    assert audit.verify().ok

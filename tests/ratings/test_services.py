"""好差评 actions: contacts, invitations, one rating + one 追评 per target, the rectification loop with the
appeal path, evaluator identity, anti-abuse limits, default ratings, rollups."""

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone

from tests.ratings.factories import bad_rating, rate, served, world
from yiwang.accounts import sms
from yiwang.core import audit
from yiwang.core.errors import Conflict, NotFound, PermissionDenied, Throttled, ValidationFailed
from yiwang.core.models import AuditEvent
from yiwang.ratings import rollups, selectors, services, tokens
from yiwang.ratings.models import (
    Rating,
    RatingInvitation,
    RatingRollup,
    ReasonRollup,
    Rectification,
    RectificationEvent,
    ServiceContact,
    ServiceRollup,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db):
    return world()


def month_row(**filters):
    rollups.flush()  # ratings by token are queued for the rollups on PostgreSQL (decision 0018)
    rows = RatingRollup.objects.filter(grain="m", **filters)
    return {
        m: sum(getattr(r, m) for r in rows)
        for m in ("rated", "active", "defaulted", "invalidated", "rectified", "revisited")
    }


# --- contacts and invitations ----------------------------------------------------------------------
def test_contact_derives_department_and_invites_after_it_ends(w, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        contact, invitation = served(w, person=w.citizen)
    contact.refresh_from_db()
    assert contact.department == w.dept and contact.hall == w.hall and contact.staff == w.clerk
    assert contact.ended_at is not None and contact.phone_masked == "138****8000"
    assert invitation.target_kind == "contact" and invitation.target_id == str(contact.pk)
    assert invitation.department_id == w.dept.pk and invitation.window_id == w.window.pk
    assert tokens.parse(invitation.token) == (invitation.pk, invitation.nonce)
    # SMS invitation with the link, after commit
    assert len(sms.outbox) == 1 and f"/rate/{invitation.token}/" in sms.outbox[0].text
    assert ServiceRollup.objects.get(grain="m").served == 1
    assert ServiceRollup.objects.get(grain="d").served == 1


def test_contact_end_twice_conflicts_and_invitation_is_idempotent(w):
    contact, invitation = served(w)
    with pytest.raises(Conflict) as err:
        services.contact_end(actor=w.clerk, contact_id=contact.pk)
    assert err.value.code == "contact_already_ended"
    again = services.invite_after_service(actor=w.system, kind="contact", target_id=contact.pk)
    assert again.pk == invitation.pk
    assert RatingInvitation.objects.count() == 1 and ServiceRollup.objects.get(grain="m").served == 1


def test_contact_department_rules(w):
    with pytest.raises(ValidationFailed) as err:
        services.contact_start(actor=w.clerk, window_id=w.window.pk, department_id=w.other.pk)
    assert err.value.code == "contact_department_invalid"
    w.window.departments.add(w.other)
    with pytest.raises(ValidationFailed) as err:
        services.contact_start(actor=w.clerk, window_id=w.window.pk)
    assert err.value.code == "contact_department_required"
    contact = services.contact_start(actor=w.clerk, window_id=w.window.pk, department_id=w.other.pk)
    assert contact.department == w.other


def test_only_window_staff_in_scope_record_contacts(w):
    with pytest.raises(PermissionDenied):
        services.contact_start(actor=w.handler, window_id=w.window.pk)
    with pytest.raises(PermissionDenied):
        services.contact_start(actor=w.citizen, window_id=w.window.pk)
    with pytest.raises(NotFound):
        services.contact_start(actor=w.clerk, window_id=999999)


def test_invalid_phone_is_rejected(w):
    with pytest.raises(ValidationFailed):
        services.contact_start(actor=w.clerk, window_id=w.window.pk, phone="12345")


def test_not_before_the_service_happened(w):
    contact = services.contact_start(actor=w.clerk, window_id=w.window.pk)
    with pytest.raises(Conflict) as err:
        services.invite_after_service(actor=w.system, kind="contact", target_id=contact.pk)
    assert err.value.code == "rating_not_yet_rateable"
    with pytest.raises(PermissionDenied):
        services.invite_after_service(actor=w.clerk, kind="contact", target_id=contact.pk)


# --- ratings --------------------------------------------------------------------------------------
def test_good_rating_is_attributed_and_rolled_up(w):
    _, invitation = served(w, person=w.citizen)
    rating = rate(invitation, 5, reasons=["p_friendly"], indicators={"service_attitude": 5})
    assert rating.kind == "first" and rating.mode == "onsite"
    assert (rating.department, rating.hall, rating.window, rating.staff) == (w.dept, w.hall, w.window, w.clerk)
    assert rating.item_name == "营业执照变更登记" and rating.service_state == "ended"
    assert rating.evaluator == w.citizen and rating.evaluator_name == "张三"
    assert rating.rated_on == rollups.local_date(rating.rated_at)
    assert not Rectification.objects.exists()
    assert month_row() == {"rated": 1, "active": 1, "defaulted": 0, "invalidated": 0, "rectified": 0, "revisited": 0}
    day = RatingRollup.objects.get(grain="d")
    assert (day.department_id, day.hall_id, day.window_id, day.staff_id, day.level, day.channel) == (
        w.dept.pk,
        w.hall.pk,
        w.window.pk,
        w.clerk.pk,
        5,
        "qr",
    )
    assert ReasonRollup.objects.get(grain="m").reason == "p_friendly"
    from yiwang.core import audit

    assert audit.flush_pending() == 1  # rating submissions are chained in batches after commit
    assert AuditEvent.objects.filter(action="ratings.rating.submit", object_id=str(rating.pk)).exists()
    assert rating.follow_up_token


def test_one_rating_per_target(w):
    _, invitation = served(w)
    rate(invitation, 4)
    with pytest.raises(Conflict) as err:
        rate(invitation, 5)
    assert err.value.code == "invitation_used"
    # even a fresh invitation row for the same target cannot add a second first rating
    RatingInvitation.objects.filter(pk=invitation.pk).update(used_at=None)
    with pytest.raises(Conflict) as err:
        rate(invitation, 5)
    assert err.value.code == "rating_already_given"
    assert Rating.objects.count() == 1 and month_row()["rated"] == 1


def test_one_follow_up_per_target(w):
    _, invitation = served(w)
    first = rate(invitation, 4)
    follow_up = RatingInvitation.objects.get(purpose="follow_up")
    assert follow_up.expires_at == first.rated_at + dt.timedelta(days=15)
    rating = services.rating_submit(token=first.follow_up_token, level=5, channel="sms")
    assert rating.kind == "follow_up"
    with pytest.raises(Conflict):
        services.rating_submit(token=first.follow_up_token, level=5, channel="sms")
    assert Rating.objects.count() == 2
    assert month_row()["rated"] == 1  # follow-ups do not change the figures


def test_forged_and_expired_tokens(w):
    _, invitation = served(w)
    with pytest.raises(NotFound) as err:
        services.rating_submit(token=invitation.token[:-2] + "xx", level=5, channel="qr")
    assert err.value.code == "invitation_invalid"
    forged = tokens.make(invitation.pk, "0" * 16)
    with pytest.raises(NotFound):
        services.rating_submit(token=forged, level=5, channel="qr")
    RatingInvitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    with pytest.raises(Conflict) as err:
        rate(invitation)
    assert err.value.code == "invitation_expired"


def test_rules_errors_leave_nothing_written(w):
    _, invitation = served(w)
    with pytest.raises(ValidationFailed) as err:
        rate(invitation, 2)  # 差评 without a reason
    assert err.value.code == "rating_reason_required"
    assert not Rating.objects.exists() and not RatingInvitation.objects.get(pk=invitation.pk).used_at
    assert month_row()["rated"] == 0


def test_anonymous_rating_keeps_no_identity(w):
    _, invitation = served(w, person=w.citizen)
    rating = rate(invitation, 1, reasons=["b_wait"], anonymous=True, actor=w.citizen)
    assert rating.anonymous and rating.evaluator is None and not rating.evaluator_name
    assert not rating.evaluator_phone_encrypted and not rating.phone_hash


def test_evaluator_channel_needs_the_windows_device(w):
    _, invitation = served(w)
    with pytest.raises(PermissionDenied) as err:
        rate(invitation, 5, channel="evaluator")
    assert err.value.code == "evaluator_device_required"
    other_device, _ = services.device_register(actor=w.supervisor, window_id=w.other_window.pk)
    with pytest.raises(PermissionDenied) as err:
        rate(invitation, 5, channel="evaluator", evaluator_device=other_device)
    assert err.value.code == "evaluator_device_wrong_window"
    device, key = services.device_register(actor=w.supervisor, window_id=w.window.pk)
    assert selectors.device_by_key(key) == device
    rating = rate(invitation, 5, channel="evaluator", evaluator_device=device)
    assert rating.channel == "evaluator" and rating.device_hash == ""
    services.device_revoke(actor=w.supervisor, device_id=device.pk)
    assert selectors.device_by_key(key) is None


def test_devices_are_managed_by_supervisors_only(w):
    with pytest.raises(PermissionDenied):
        services.device_register(actor=w.clerk, window_id=w.window.pk)


@override_settings(RATINGS={"MAX_PER_PHONE_PER_DAY": 2, "MAX_PER_DEVICE_PER_HOUR": 3})
def test_anti_abuse_limits_per_phone_and_device(w):
    for _ in range(2):
        _, invitation = served(w)
        rate(invitation, 5, contact_phone="13900000001", device="dev-1")
    _, invitation = served(w)
    with pytest.raises(Throttled) as err:
        rate(invitation, 5, contact_phone="13900000001", device="dev-2")
    assert err.value.code == "rating_throttled_phone"
    rate(invitation, 5, contact_phone="13900000002", device="dev-1")  # third from dev-1 is fine
    _, invitation = served(w)
    with pytest.raises(Throttled) as err:
        rate(invitation, 5, contact_phone="13900000003", device="dev-1")
    assert err.value.code == "rating_throttled_device"
    assert Rating.objects.count() == 3


# --- rectification ---------------------------------------------------------------------------------
def test_bad_rating_opens_a_rectification_for_the_department(w):
    rating = bad_rating(w)
    rect = rating.rectification
    assert rect.state == "pending" and rect.department == w.dept and rect.region_code == w.hall.region_id
    assert rect.verify_due > rect.created_on and rect.feedback_due >= rect.verify_due
    assert RectificationEvent.objects.get(rectification=rect).event == "create"
    audit.flush_pending()  # staged with the rating (deferred), chained after commit
    assert AuditEvent.objects.filter(action="ratings.rectification.create").count() == 1


def walk(w, rect, *, classification="rectify_now", **classify):
    services.rectification_assign(actor=w.head, rectification_id=rect.pk, assignee_id=w.handler.pk)
    services.rectification_verify(actor=w.handler, rectification_id=rect.pk, reached=True, note="已电话联系评价人")
    services.rectification_classify(
        actor=w.handler, rectification_id=rect.pk, classification=classification, note="情况属实", **classify
    )
    services.rectification_feedback(
        actor=w.handler, rectification_id=rect.pk, text="已对窗口人员批评教育", public_summary="加强窗口服务礼仪培训"
    )
    return services.rectification_return_visit(actor=w.handler, rectification_id=rect.pk, reached=True, level=4)


def test_full_loop_closes_and_counts(w):
    rating = bad_rating(w)
    rect = walk(w, rating.rectification)
    assert rect.state == "closed" and rect.closed_at and rect.revisit_level == 4 and rect.revisit_due
    events = list(RectificationEvent.objects.filter(rectification=rect).values_list("event", flat=True))
    assert events == ["create", "assign", "verify", "classify_rectify_now", "feedback", "return_visit"]
    assert month_row(level=2) == {
        "rated": 1,
        "active": 1,
        "defaulted": 0,
        "invalidated": 0,
        "rectified": 1,
        "revisited": 1,
    }


def test_ledger_needs_a_deadline_within_bounds(w):
    rect = bad_rating(w).rectification
    services.rectification_assign(actor=w.head, rectification_id=rect.pk, assignee_id=w.handler.pk)
    services.rectification_verify(
        actor=w.handler, rectification_id=rect.pk, reached=False, note="电话未接通，已短信留言"
    )
    kwargs = {"problem": "排队时间长", "measures": "增开窗口", "responsible": "李科长"}
    with pytest.raises(ValidationFailed) as err:
        services.rectification_classify(
            actor=w.handler, rectification_id=rect.pk, classification="ledger", note="需协调", **kwargs
        )
    assert err.value.code == "ledger_deadline_required"
    with pytest.raises(ValidationFailed) as err:
        services.rectification_classify(
            actor=w.handler,
            rectification_id=rect.pk,
            classification="ledger",
            note="需协调",
            deadline=rect.created_on + dt.timedelta(days=90),
            **kwargs,
        )
    assert err.value.code == "ledger_deadline_out_of_range"
    deadline = selectors.today_local() + dt.timedelta(days=7)
    rect = services.rectification_classify(
        actor=w.handler, rectification_id=rect.pk, classification="ledger", note="需协调", deadline=deadline, **kwargs
    )
    assert rect.state == "rectifying" and rect.feedback_due == deadline and rect.ledger.deadline == deadline
    services.rectification_feedback(actor=w.handler, rectification_id=rect.pk, text="已增开窗口")
    rect.ledger.refresh_from_db()
    assert rect.ledger.completed_at is not None


def test_handling_needs_the_assignee_or_head(w):
    rect = bad_rating(w).rectification
    with pytest.raises(PermissionDenied):
        services.rectification_assign(actor=w.handler, rectification_id=rect.pk, assignee_id=w.handler.pk)
    with pytest.raises(ValidationFailed) as err:
        services.rectification_assign(actor=w.head, rectification_id=rect.pk, assignee_id=w.other_head.pk)
    assert err.value.code == "rectification_assignee_invalid"
    services.rectification_assign(actor=w.head, rectification_id=rect.pk, assignee_id=w.handler.pk)
    with pytest.raises(PermissionDenied):
        services.rectification_verify(actor=w.clerk, rectification_id=rect.pk, reached=True, note="x")
    with pytest.raises(NotFound):  # another department does not even see it
        services.rectification_verify(actor=w.other_head, rectification_id=rect.pk, reached=True, note="x")
    with pytest.raises(Conflict) as err:  # out of order
        services.rectification_feedback(actor=w.handler, rectification_id=rect.pk, text="x")
    assert err.value.code == "rectification_not_in_state"
    with pytest.raises(ValidationFailed):
        services.rectification_verify(actor=w.handler, rectification_id=rect.pk, reached=True, note="  ")


def test_appeal_upheld_excludes_the_rating_with_its_reason(w):
    rating = bad_rating(w, level=1, reasons=["b_misconduct"])
    rect = rating.rectification
    services.rectification_assign(actor=w.head, rectification_id=rect.pk, assignee_id=w.handler.pk)
    services.rectification_verify(actor=w.handler, rectification_id=rect.pk, reached=True, note="评价人承认误评")
    services.rectification_classify(
        actor=w.handler, rectification_id=rect.pk, classification="appeal", note="评价人确认误点"
    )
    with pytest.raises(PermissionDenied):  # the department cannot decide its own appeal
        services.rectification_review_appeal(actor=w.head, rectification_id=rect.pk, upheld=True, note="同意")
    rect = services.rectification_review_appeal(
        actor=w.supervisor, rectification_id=rect.pk, upheld=True, note="有通话录音为证"
    )
    rating.refresh_from_db()
    assert rect.state == "invalidated" and rect.closed_at and rect.appeal_decided_by == w.supervisor
    assert rating.excluded_at is not None and "评价人确认误点" in rating.excluded_reason
    assert "有通话录音为证" in rating.excluded_reason
    assert month_row(level=1) == {
        "rated": 0,
        "active": 0,
        "defaulted": 0,
        "invalidated": 1,
        "rectified": 0,
        "revisited": 0,
    }
    assert sum(r.n for r in ReasonRollup.objects.filter(grain="m")) == 0


def test_appeal_rejected_goes_back_and_cannot_be_filed_again(w):
    rect = bad_rating(w).rectification
    services.rectification_assign(actor=w.head, rectification_id=rect.pk, assignee_id=w.handler.pk)
    services.rectification_verify(actor=w.handler, rectification_id=rect.pk, reached=True, note="已核实")
    services.rectification_classify(actor=w.handler, rectification_id=rect.pk, classification="appeal", note="恶意")
    rect = services.rectification_review_appeal(
        actor=w.supervisor, rectification_id=rect.pk, upheld=False, note="证据不足"
    )
    assert rect.state == "verified" and rect.appeal_rejected and rect.classification == ""
    with pytest.raises(Conflict) as err:
        services.rectification_classify(
            actor=w.handler, rectification_id=rect.pk, classification="appeal", note="再申诉"
        )
    assert err.value.code == "rectification_appeal_already_rejected"
    rect = services.rectification_classify(
        actor=w.handler, rectification_id=rect.pk, classification="explain", note="依法需提交原件"
    )
    assert rect.state == "rectifying"
    assert Rating.objects.get().excluded_at is None


def test_return_visit_unreached_needs_a_reason(w):
    rect = bad_rating(w).rectification
    services.rectification_assign(actor=w.head, rectification_id=rect.pk, assignee_id=w.handler.pk)
    services.rectification_verify(actor=w.handler, rectification_id=rect.pk, reached=True, note="已核实")
    services.rectification_classify(actor=w.handler, rectification_id=rect.pk, classification="explain", note="说明")
    services.rectification_feedback(actor=w.handler, rectification_id=rect.pk, text="已解释")
    with pytest.raises(ValidationFailed):
        services.rectification_return_visit(actor=w.handler, rectification_id=rect.pk, reached=False)
    with pytest.raises(ValidationFailed) as err:
        services.rectification_return_visit(actor=w.handler, rectification_id=rect.pk, reached=True)
    assert err.value.code == "revisit_level_required"
    rect = services.rectification_return_visit(
        actor=w.handler, rectification_id=rect.pk, reached=False, note="三次电话未接通"
    )
    assert rect.state == "closed"
    assert month_row(level=2)["rectified"] == 1 and month_row(level=2)["revisited"] == 0


def test_public_summary_has_no_personal_data(w):
    rect = bad_rating(w).rectification
    services.rectification_assign(actor=w.head, rectification_id=rect.pk, assignee_id=w.handler.pk)
    services.rectification_verify(actor=w.handler, rectification_id=rect.pk, reached=True, note="已核实")
    services.rectification_classify(actor=w.handler, rectification_id=rect.pk, classification="rectify_now", note="x")
    rect = services.rectification_feedback(
        actor=w.handler,
        rectification_id=rect.pk,
        text="x",
        public_summary="已回复 13800138000，身份证 440106199001011234",
    )
    assert "13800138000" not in rect.public_summary and "138****8000" in rect.public_summary
    assert "440106199001011234" not in rect.public_summary


# --- evaluator identity ------------------------------------------------------------------------------
def test_evaluator_identity_only_for_the_owner_and_audited(w):
    rect = bad_rating(w, contact_phone="13912345678").rectification
    # unassigned: the department's head owns it
    seen = services.evaluator_reveal(actor=w.head, rectification_id=rect.pk)
    assert (seen["anonymous"], seen["name"], seen["phone"]) == (False, "张三", "13912345678")
    for outsider in (w.supervisor, w.handler, w.clerk):
        with pytest.raises(PermissionDenied):
            services.evaluator_reveal(actor=outsider, rectification_id=rect.pk)
    with pytest.raises(NotFound):
        services.evaluator_reveal(actor=w.other_head, rectification_id=rect.pk)
    services.rectification_assign(actor=w.head, rectification_id=rect.pk, assignee_id=w.handler.pk)
    assert services.evaluator_reveal(actor=w.handler, rectification_id=rect.pk)["phone"] == "13912345678"
    with pytest.raises(PermissionDenied):  # once assigned, only the assignee
        services.evaluator_reveal(actor=w.head, rectification_id=rect.pk)
    views = AuditEvent.objects.filter(action="ratings.evaluator.view", object_id=str(rect.pk))
    assert [e.actor_id for e in views.order_by("seq")] == [w.head.pk, w.handler.pk]
    assert "13912345678" not in str(list(views.values_list("summary", flat=True)))


# --- default ratings -------------------------------------------------------------------------------
def test_default_rating_job_is_off_unless_configured(w):
    served(w)
    later = timezone.now() + dt.timedelta(days=30)
    assert services.default_ratings_due(later) == []
    assert services.default_ratings_run(actor=w.system, now=later) == 0
    assert not Rating.objects.exists()


@override_settings(RATINGS={"DEFAULT_AFTER_DAYS": 7, "DEFAULT_LEVEL": 3})
def test_guangdong_default_basic_after_seven_natural_days(w):
    contact, invitation = served(w)
    _, rated_invitation = served(w)
    rate(rated_invitation, 5)
    ended = ServiceContact.objects.get(pk=contact.pk).ended_at
    assert services.default_ratings_run(actor=w.system, now=ended + dt.timedelta(days=7, seconds=-1)) == 0
    assert services.default_ratings_run(actor=w.system, now=ended + dt.timedelta(days=7, seconds=1)) == 1
    rating = Rating.objects.get(is_default=True)
    assert rating.level == 3 and rating.channel == "system" and rating.target_id == str(contact.pk)
    assert RatingInvitation.objects.get(pk=invitation.pk).used_at is not None
    # idempotent, and the person can no longer give a first rating
    assert services.default_ratings_run(actor=w.system, now=ended + dt.timedelta(days=8)) == 0
    with pytest.raises(Conflict):
        rate(invitation, 1, reasons=["b_wait"])
    totals = month_row()
    assert totals["rated"] == 2 and totals["defaulted"] == 1 and totals["active"] == 1
    assert AuditEvent.objects.filter(action="ratings.rating.default").count() == 1


@override_settings(RATINGS={"DEFAULT_AFTER_DAYS": 7})
def test_default_rating_ignores_old_history_and_needs_system(w):
    served(w)
    assert services.default_ratings_due(timezone.now() + dt.timedelta(days=7 + 31)) == []
    pk = services.default_ratings_due(timezone.now() + dt.timedelta(days=8))[0]
    with pytest.raises(PermissionDenied):
        services.default_rating_apply(actor=w.supervisor, invitation_id=pk)


def test_default_rating_command(w, capsys):
    from django.core.management import call_command

    contact, _ = served(w)
    call_command("ratings", "defaults")
    assert "未启用" in capsys.readouterr().out
    with override_settings(RATINGS={"DEFAULT_AFTER_DAYS": 7}):
        ServiceContact.objects.filter(pk=contact.pk).update(ended_at=timezone.now() - dt.timedelta(days=8))
        RatingInvitation.objects.update(served_at=timezone.now() - dt.timedelta(days=8))
        call_command("ratings", "defaults")
    assert "1" in capsys.readouterr().out
    assert Rating.objects.get().is_default


def test_default_rating_task(w):
    from yiwang.ratings.tasks import apply_default_ratings

    served(w)
    RatingInvitation.objects.update(served_at=timezone.now() - dt.timedelta(days=8))
    ServiceContact.objects.update(ended_at=timezone.now() - dt.timedelta(days=8))
    assert apply_default_ratings.enqueue().return_value == 0  # off
    with override_settings(RATINGS={"DEFAULT_AFTER_DAYS": 7}):
        assert apply_default_ratings.enqueue().return_value == 1


# --- rollups ----------------------------------------------------------------------------------------
def test_rebuild_matches_the_incremental_rollups(w):
    rate(served(w)[1], 5, reasons=["p_friendly", "p_efficient"])
    rate(served(w)[1], 3, channel="sms", reasons=["s_wait"])
    walk(w, bad_rating(w).rectification)
    rect = bad_rating(w, level=1, reasons=["b_misconduct", "b_wait"]).rectification
    services.rectification_assign(actor=w.head, rectification_id=rect.pk, assignee_id=w.handler.pk)
    services.rectification_verify(actor=w.handler, rectification_id=rect.pk, reached=True, note="x")
    services.rectification_classify(actor=w.handler, rectification_id=rect.pk, classification="appeal", note="误评")
    services.rectification_review_appeal(actor=w.supervisor, rectification_id=rect.pk, upheld=True, note="成立")
    served(w)  # rateable, not rated

    def snapshot():
        rollups.flush()
        fields = ("grain", "period", "region_code", "department_id", "hall_id", "window_id", "staff_id", "item_code")
        ratings = sorted(
            (
                tuple(getattr(r, f) for f in (*fields, "channel", "level")),
                (r.rated, r.active, r.defaulted, r.invalidated, r.rectified, r.revisited),
            )
            for r in RatingRollup.objects.all()
        )
        service = sorted((tuple(getattr(r, f) for f in fields), r.served) for r in ServiceRollup.objects.all())
        reasons = sorted(
            (tuple(getattr(r, f) for f in (*fields, "level", "reason")), r.n) for r in ReasonRollup.objects.all() if r.n
        )
        return ratings, service, reasons

    before = snapshot()
    counts = rollups.rebuild()
    assert counts["ratings"] > 0
    assert snapshot() == before

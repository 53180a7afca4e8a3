"""The handling loop as actions: intake, KB answer, dispatch, 签收, 退单/改派, 延期, 督办, reply, 回访, 重办, 并单."""

import datetime as dt

import pytest
from django.utils import timezone

from tests.factories import UserFactory, person
from tests.hotline.factories import kb_entry, order, world
from yiwang.accounts import sms
from yiwang.core import audit
from yiwang.core.errors import Conflict, InvalidTransition, NotAuthenticated, PermissionDenied, ValidationFailed
from yiwang.core.models import AuditEvent, PendingAuditEvent
from yiwang.hotline import services
from yiwang.hotline.models import Assignment, ExtensionRequest, TimeLimit, Visit, WorkOrder
from yiwang.hotline.services import NotAccepted
from yiwang.hotline.transitions import State

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db):
    return world()


def test_intake_records_the_five_elements_and_a_number(w):
    o = order(w, occurred_at=timezone.now() - dt.timedelta(hours=2), cause="连续下雨")
    assert o.status == State.NEW
    assert o.number.startswith(timezone.localdate().strftime("%Y%m%d")) and len(o.number) == 16
    assert (o.caller_name, o.region_id, o.cause) == ("王先生", w.geo.ws.code, "连续下雨")
    assert o.taken_by == w.agent and o.channel == "phone"
    assert [e.event for e in o.events.all()] == ["create"]
    # Intake's audit event is staged with the order and chained after commit (deferred, in batches).
    assert PendingAuditEvent.objects.filter(action="hotline.order.create", object_id=str(o.pk)).exists()
    assert audit.flush_pending() >= 1
    assert AuditEvent.objects.filter(action="hotline.order.create", object_id=str(o.pk)).exists()
    assert audit.verify().ok


def test_intake_chains_its_audit_event_after_commit(w, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        o = order(w)
    assert not PendingAuditEvent.objects.exists()
    event = AuditEvent.objects.get(action="hotline.order.create", object_id=str(o.pk))
    assert (event.actor_id, event.region_code, event.summary["number"]) == (w.agent.pk, o.region_id, o.number)
    result = audit.verify()
    assert result.ok and result.pending == 0


def test_refused_intake_stages_no_audit_event(w):
    with pytest.raises(NotAccepted):
        order(w, title="家里着火了", content="楼下着火了，火很大，有人被困")
    assert not PendingAuditEvent.objects.exists() and not WorkOrder.objects.exists()


def test_automatic_dispatch_at_intake_is_chained_after_the_creation(w, monkeypatch):
    monkeypatch.setattr(services, "_auto_dispatch_target", lambda order: (w.housing.pk, []))
    o = order(w)
    assert o.status == State.DISPATCHED
    staged = list(PendingAuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert staged == ["hotline.order.create", "hotline.order.dispatch"]
    assert audit.flush_pending() == 2
    actions = list(AuditEvent.objects.filter(object_id=str(o.pk)).order_by("seq").values_list("action", flat=True))
    assert actions == ["hotline.order.create", "hotline.order.dispatch"]
    assert audit.verify().ok


def test_later_steps_append_to_the_chain_at_once(w):
    o = order(w)
    services.order_dispatch(actor=w.agent, order_id=o.pk, department_id=w.housing.pk)
    assert AuditEvent.objects.filter(action="hotline.order.dispatch", object_id=str(o.pk)).exists()
    assert list(PendingAuditEvent.objects.values_list("action", flat=True)) == ["hotline.order.create"]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"title": ""}, "title_required"),
        ({"content": "x" * 4001}, "content_too_long"),
        ({"region_code": "999999999999"}, "invalid_region"),
        ({"kind": "rant"}, "invalid_kind"),
        ({"urgency": "asap"}, "invalid_urgency"),
        ({"channel": "pigeon"}, "invalid_channel"),
        ({"caller_phone": "call me"}, "invalid_phone"),
        ({"category_code": "9999"}, "invalid_category"),
    ],
)
def test_intake_validation(w, fields, code):
    with pytest.raises(ValidationFailed) as exc:
        order(w, **fields)
    assert exc.value.code == code
    assert not WorkOrder.objects.exists()


def test_emergency_is_refused_with_the_referral_and_nothing_written(w):
    with pytest.raises(NotAccepted) as exc:
        order(w, title="着火了", content="楼下餐馆着火了，浓烟很大")
    assert exc.value.code == "not_accepted_emergency_fire"
    assert "119" in exc.value.message
    assert not WorkOrder.objects.exists()


def test_agent_may_override_a_false_alarm_but_a_citizen_may_not(w):
    o = order(w, title="演练", content="明天小区消防演练，会喊着火了，提前告知", accept_out_of_scope=True)
    assert "screen_override" in [e.event for e in o.events.all()]
    citizen = person().user
    with pytest.raises(NotAccepted):
        order(w, actor=citizen, channel="web", content="楼下着火了", accept_out_of_scope=True)


def test_agent_outside_their_region_cannot_take_the_call(w):
    with pytest.raises(PermissionDenied):
        order(w, actor=w.th_agent, region_code=w.geo.hq.code)
    with pytest.raises(PermissionDenied):
        order(w, actor=w.housing_staff)
    with pytest.raises(NotAuthenticated):
        order(w, actor=None)


def test_citizen_submits_online_as_themselves(w):
    citizen = person(name="李四", phone="13700000000").user
    o = order(w, actor=citizen, channel="web", caller_name="", caller_phone="")
    assert o.caller_user == citizen and o.taken_by is None
    assert o.caller_phone == "13700000000"
    with pytest.raises(PermissionDenied):
        order(w, actor=citizen, channel="phone")


def test_refuse_records_the_referral(w):
    o = order(w)
    o = services.order_refuse(actor=w.agent, order_id=o.pk, reason="in_litigation")
    assert o.status == State.REFUSED and "诉讼" in o.reply
    with pytest.raises(ValidationFailed):
        services.order_refuse(actor=w.agent, order_id=order(w).pk, reason="bored")


def test_kb_answer_closes_directly_and_counts_the_use(w, django_capture_on_commit_callbacks):
    entry = kb_entry()
    o = order(w, kind="consult", title="居住证怎么办", content="想问居住证怎么办理")
    with django_capture_on_commit_callbacks(execute=True):
        o = services.order_answer(actor=w.agent, order_id=o.pk, entry_id=entry.pk)
    assert o.status == State.ANSWERED and o.kb_entry == entry and o.closed_at is not None
    assert o.reply == entry.answer
    entry.refresh_from_db()
    assert entry.use_count == 1
    assert sms.outbox and sms.outbox[-1].phone == "13900000001" and o.number in sms.outbox[-1].text


def test_stale_kb_entry_cannot_answer(w):
    entry = kb_entry(valid_until=timezone.localdate() - dt.timedelta(days=1))
    with pytest.raises(Conflict) as exc:
        services.order_answer(actor=w.agent, order_id=order(w).pk, entry_id=entry.pk)
    assert exc.value.code == "kb_entry_stale"


def test_answer_needs_an_entry_or_a_reply(w):
    with pytest.raises(ValidationFailed):
        services.order_answer(actor=w.agent, order_id=order(w).pk)


def test_full_loop_with_return_redispatch_unsatisfied_visit_and_reopen(w):
    o = order(w)
    o = services.order_dispatch(actor=w.agent, order_id=o.pk, department_id=w.env.pk, category_code=w.cats.roads.code)
    assert o.status == State.DISPATCHED and o.sign_due_at and o.handle_due_at
    assert o.category == w.cats.roads

    # the environment bureau returns it: not theirs
    with pytest.raises(PermissionDenied):
        services.order_return(actor=w.housing_staff, order_id=o.pk, reason="不是我们的职责范围")
    with pytest.raises(ValidationFailed):
        services.order_return(actor=w.env_staff, order_id=o.pk, reason="不是")
    o = services.order_return(actor=w.env_staff, order_id=o.pk, reason="道路维修属住建部门职责（三定方案）")
    assert o.status == State.RETURN_REVIEW and o.return_count == 1
    o = services.order_review_return(actor=w.agent, order_id=o.pk, approve=True, note="同意，改派住建")
    assert o.status == State.NEW and o.department is None

    o = services.order_dispatch(actor=w.agent, order_id=o.pk, department_id=w.housing.pk)
    o = services.order_sign(actor=w.housing_staff, order_id=o.pk)
    assert o.status == State.HANDLING and o.signed_at
    o = services.order_reply(actor=w.housing_staff, order_id=o.pk, reply="已安排养护队本周修复。")
    assert o.status == State.REPLIED
    o = services.order_review_reply(actor=w.agent, order_id=o.pk, approve=True)
    assert o.status == State.VISITING
    o = services.order_visit(actor=w.agent, order_id=o.pk, result="unsatisfied", resolved=False, note="还没修")
    assert o.status == State.REOPENED and o.reopen_count == 1 and o.signed_at is None

    o = services.order_sign(actor=w.housing_staff, order_id=o.pk)
    o = services.order_reply(actor=w.housing_staff, order_id=o.pk, reply="已于周三完成修复，现场已验收。")
    o = services.order_review_reply(actor=w.agent, order_id=o.pk, approve=True)
    o = services.order_visit(actor=w.agent, order_id=o.pk, result="satisfied")
    assert o.status == State.CLOSED and o.closed_at and o.satisfaction == "satisfied"

    events = [e.event for e in o.events.order_by("at", "id")]
    assert events == [
        "create",
        "dispatch",
        "return",
        "approve_return",
        "dispatch",
        "sign",
        "reply",
        "approve_reply",
        "visit_unsatisfied",
        "sign",
        "reply",
        "approve_reply",
        "visit_satisfied",
    ]
    roles = list(o.assignments.order_by("id").values_list("department__name", "status"))
    assert roles == [
        ("天河区生态环境分局", "returned"),
        ("天河区住房和建设局", "done"),
        ("天河区住房和建设局", "done"),
    ]
    assert list(Visit.objects.filter(order=o).values_list("result", flat=True)) == ["unsatisfied", "satisfied"]
    with pytest.raises(InvalidTransition):
        services.order_sign(actor=w.housing_staff, order_id=o.pk)


def test_rejected_return_goes_back_to_the_department(w):
    o = order(w)
    services.order_dispatch(actor=w.agent, order_id=o.pk, department_id=w.housing.pk)
    services.order_return(actor=w.housing_staff, order_id=o.pk, reason="应由街道处理的小事")
    with pytest.raises(ValidationFailed):
        services.order_review_return(actor=w.agent, order_id=o.pk, approve=False)
    o = services.order_review_return(actor=w.agent, order_id=o.pk, approve=False, note="市政道路属住建职责")
    assert o.status == State.DISPATCHED and o.department == w.housing
    assert o.assignments.filter(status="pending").count() == 1


def test_assist_departments_see_the_order(w):
    o = order(w)
    services.order_dispatch(actor=w.agent, order_id=o.pk, department_id=w.housing.pk, assist_department_ids=[w.env.pk])
    assert set(o.assignments.values_list("role", flat=True)) == {"lead", "assist"}
    from yiwang.hotline import selectors

    assert o in selectors.orders(w.env_staff)
    assert o in selectors.assisting(w.env_staff)
    assert o not in selectors.orders(w.hrss_staff)


def test_extension_request_and_approval_moves_the_deadline(w):
    o = order(w)
    services.order_dispatch(actor=w.agent, order_id=o.pk, department_id=w.housing.pk)
    with pytest.raises(Conflict):
        services.extension_request(actor=w.housing_staff, order_id=o.pk, days=3, reason="需要协调")
    services.order_sign(actor=w.housing_staff, order_id=o.pk)
    with pytest.raises(ValidationFailed):
        services.extension_request(actor=w.housing_staff, order_id=o.pk, days=0, reason="x")
    req = services.extension_request(actor=w.housing_staff, order_id=o.pk, days=3, reason="需要协调燃气管线迁改")
    with pytest.raises(Conflict):
        services.extension_request(actor=w.housing_staff, order_id=o.pk, days=2, reason="再来一次")
    with pytest.raises(PermissionDenied):
        services.extension_decide(actor=w.housing_staff, request_id=req.pk, approve=True)
    before = WorkOrder.objects.get(pk=o.pk).handle_due_at
    services.extension_decide(actor=w.agent, request_id=req.pk, approve=True, note="同意")
    o.refresh_from_db()
    assert o.handle_due_at > before and o.extension_days == 3
    assert ExtensionRequest.objects.get(pk=req.pk).status == "approved"
    with pytest.raises(Conflict):
        services.extension_decide(actor=w.agent, request_id=req.pk, approve=False)


def test_supervise_is_for_supervisors(w):
    o = order(w)
    services.order_dispatch(actor=w.agent, order_id=o.pk, department_id=w.housing.pk)
    with pytest.raises(PermissionDenied):
        services.order_supervise(actor=w.agent, order_id=o.pk, note="请加快")
    o = services.order_supervise(actor=w.supervisor, order_id=o.pk, note="超期未签收，请立即签收")
    assert o.supervision_count == 1 and o.status == State.DISPATCHED


def test_rejected_reply_returns_to_handling(w):
    o = order(w)
    services.order_dispatch(actor=w.agent, order_id=o.pk, department_id=w.housing.pk)
    services.order_sign(actor=w.housing_staff, order_id=o.pk)
    services.order_reply(actor=w.housing_staff, order_id=o.pk, reply="已处理")
    with pytest.raises(ValidationFailed):
        services.order_review_reply(actor=w.agent, order_id=o.pk, approve=False)
    o = services.order_review_reply(actor=w.agent, order_id=o.pk, approve=False, note="答复过于简单，请说明处理结果")
    assert o.status == State.HANDLING


def test_close_without_visit_and_unhappy_direct_answer_goes_back_to_dispatch(w):
    o = order(w)
    services.order_dispatch(actor=w.agent, order_id=o.pk, department_id=w.housing.pk)
    services.order_sign(actor=w.housing_staff, order_id=o.pk)
    services.order_reply(actor=w.housing_staff, order_id=o.pk, reply="已修复")
    services.order_review_reply(actor=w.agent, order_id=o.pk, approve=True)
    o = services.order_close(actor=w.agent, order_id=o.pk, note="三次回访无人接听")
    assert o.status == State.CLOSED

    entry = kb_entry()
    o2 = services.order_answer(actor=w.agent, order_id=order(w).pk, entry_id=entry.pk)
    o2 = services.order_visit(actor=w.agent, order_id=o2.pk, result="unsatisfied")
    assert o2.status == State.NEW and o2.kb_entry is None


def test_merge_folds_a_duplicate_into_an_open_order(w):
    first = order(w)
    services.order_dispatch(actor=w.agent, order_id=first.pk, department_id=w.housing.pk)
    second = order(w, caller_name="刘女士", caller_phone="13900000002")
    with pytest.raises(ValidationFailed):
        services.order_merge(actor=w.agent, order_id=second.pk, into_id=second.pk)
    merged = services.order_merge(actor=w.agent, order_id=second.pk, into_id=first.pk)
    assert merged.status == State.MERGED and merged.merged_into == first
    assert "merged_in" in [e.event for e in first.events.all()]
    third = order(w)
    with pytest.raises(Conflict):
        services.order_merge(actor=w.agent, order_id=third.pk, into_id=second.pk)


def test_time_limit_table_overrides_defaults(w):
    TimeLimit.objects.create(
        kind="complaint", urgency="normal", sign_value=1, sign_unit="hours", handle_value=2, handle_unit="working_days"
    )
    o = order(w)
    o = services.order_dispatch(actor=w.agent, order_id=o.pk, department_id=w.housing.pk)
    assert (o.sign_due_at - o.dispatched_at) == dt.timedelta(hours=1)
    assert o.handle_due_at.date() > o.dispatched_at.date()


def test_urgent_orders_get_clock_time_limits(w):
    o = order(w, urgency="critical", title="停水", content="整栋楼停水，老人无法做饭")
    o = services.order_dispatch(actor=w.agent, order_id=o.pk, department_id=w.housing.pk)
    assert o.sign_due_at - o.dispatched_at == dt.timedelta(minutes=30)
    assert o.handle_due_at - o.dispatched_at == dt.timedelta(hours=2)


def test_dispatch_to_unknown_department_is_refused(w):
    with pytest.raises(ValidationFailed):
        services.order_dispatch(actor=w.agent, order_id=order(w).pk, department_id=999999)


def test_only_handlers_sign(w):
    o = order(w)
    services.order_dispatch(actor=w.agent, order_id=o.pk, department_id=w.housing.pk)
    for actor in (w.agent, w.env_staff, UserFactory()):
        with pytest.raises(PermissionDenied):
            services.order_sign(actor=actor, order_id=o.pk)
    assert Assignment.objects.get(order=o).status == "pending"


def test_intake_writes_the_number_with_the_row_on_postgresql(w, is_postgres):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        first, second = order(w), order(w)
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    if is_postgres:
        assert updates == []  # ids come from a block of the sequence: the number is in the INSERT
        assert second.pk != first.pk
    else:
        assert len(updates) == 2
    for o in (first, second):
        o.refresh_from_db()
        assert o.number == f"{timezone.localtime(o.created_at):%Y%m%d}{o.pk:08d}"
    assert WorkOrder.objects.filter(number__in=[first.number, second.number]).count() == 2

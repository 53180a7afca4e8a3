"""出件/送达: the 10-working-day issue clock with warnings, pick-up code and signature, post, electronic."""

from __future__ import annotations

import datetime as dt

import pytest

from yiwang.cases import clock, delivery, services
from yiwang.cases import followup_rules as fr
from yiwang.cases.models import CaseDocument, Delivery, Message
from yiwang.cases.states import State
from yiwang.core.actors import SystemActor
from yiwang.core.errors import InvalidTransition, NotFound, ValidationFailed
from yiwang.workdays.calendar import get_calendar

from . import factories as f

pytestmark = pytest.mark.django_db
SYSTEM = SystemActor("test")
SIGNATURE = f.PNG


@pytest.fixture
def w():
    return f.world()


def approved(w):
    case = f.reviewed(w)
    return services.case_decide(actor=w.reviewer, case_id=case.pk, approve=True, opinion="同意")


def test_approval_opens_the_ten_working_day_clock(w):
    case = approved(w)
    d = Delivery.objects.get(case=case)
    calendar = get_calendar(case.region_code)
    assert d.status == "pending" and d.due_date == case.delivery_due
    assert calendar.between(clock.today(), d.due_date, "working").days == 10
    assert calendar.between(d.yellow_on, d.due_date, "working").days == 2
    assert case.events.filter(action="delivery_open").exists()


def test_the_clock_levels():
    due, yellow = dt.date(2026, 10, 20), dt.date(2026, 10, 16)
    assert fr.delivery_level(dt.date(2026, 10, 15), due=due, yellow_on=yellow, issued_on=None) == 0
    assert fr.delivery_level(dt.date(2026, 10, 16), due=due, yellow_on=yellow, issued_on=None) == 1
    assert fr.delivery_level(dt.date(2026, 10, 20), due=due, yellow_on=yellow, issued_on=None) == 1
    assert fr.delivery_level(dt.date(2026, 10, 21), due=due, yellow_on=yellow, issued_on=None) == 2
    assert fr.delivery_level(dt.date(2026, 12, 1), due=due, yellow_on=yellow, issued_on=dt.date(2026, 10, 20)) == 0
    assert fr.delivery_level(dt.date(2026, 12, 1), due=due, yellow_on=yellow, issued_on=dt.date(2026, 10, 22)) == 2


def test_warnings_yellow_then_red_once_each(w):
    case = approved(w)
    d = Delivery.objects.get(case=case)
    assert delivery.deliveries_sweep(actor=SYSTEM, on=d.yellow_on - dt.timedelta(days=1)) == {"yellow": 0, "red": 0}
    assert delivery.deliveries_sweep(actor=SYSTEM, on=d.yellow_on) == {"yellow": 1, "red": 0}
    assert delivery.deliveries_sweep(actor=SYSTEM, on=d.due_date) == {"yellow": 0, "red": 0}
    assert delivery.deliveries_sweep(actor=SYSTEM, on=d.due_date + dt.timedelta(days=1)) == {"yellow": 0, "red": 1}
    assert delivery.deliveries_sweep(actor=SYSTEM, on=d.due_date + dt.timedelta(days=5)) == {"yellow": 0, "red": 0}
    assert [e.action for e in case.events.filter(action__startswith="delivery_")] == [
        "delivery_open",
        "delivery_warn",
        "delivery_overdue",
    ]
    assert Message.objects.filter(user=w.reviewer, title__startswith="出件超期").exists()
    d.refresh_from_db()
    assert delivery.level(d, on=d.due_date + dt.timedelta(days=1)) == 2


def test_late_issue_is_recorded_as_late(w):
    case = approved(w)
    Delivery.objects.filter(case=case).update(due_date=clock.today() - dt.timedelta(days=1))
    d, _ = delivery.delivery_issue(actor=w.clerk, case_id=case.pk, method="online")
    assert d.issued_on_time is False


def test_window_pickup_with_code_and_signature(w):
    case = approved(w)
    d, code = delivery.delivery_issue(actor=w.clerk, case_id=case.pk, method="window", window_id=w.window.pk)
    case.refresh_from_db()
    assert case.state == State.COMPLETED and case.delivery == "window"
    assert d.status == "ready" and d.issued_on_time and len(code) == 6 and code not in d.pickup_code_hash
    assert Message.objects.filter(user=w.applicant, body__contains=code).exists()  # and by SMS on commit
    assert CaseDocument.objects.filter(case=case, kind=CaseDocument.Kind.PICKUP).exists()
    with pytest.raises(NotFound):
        delivery.delivery_pickup(actor=w.clerk, pickup_code=f"{(int(code) + 1) % 10**6:06d}", signer_name="张三")
    with pytest.raises(ValidationFailed):
        delivery.delivery_pickup(actor=w.clerk, pickup_code=code, signer_name="")
    d = delivery.delivery_pickup(
        actor=w.clerk,
        pickup_code=code,
        signer_name="张三",
        signer_id_number="11010519491231002X",
        signature_png=SIGNATURE,
    )
    assert d.status == "delivered" and d.delivered_at and d.signer_id_masked.endswith("002X")
    assert d.signature.kind == "png"
    receipt = CaseDocument.objects.get(case=case, kind=CaseDocument.Kind.DELIVERY_RECEIPT)
    assert d.receipt == receipt and receipt.title == "送达回执"
    with pytest.raises(NotFound):
        delivery.delivery_pickup(actor=w.clerk, pickup_code=code, signer_name="张三")  # already collected


def test_post_delivered_or_returned_and_issued_again(w):
    case = approved(w)
    with pytest.raises(ValidationFailed) as info:
        delivery.delivery_issue(actor=w.clerk, case_id=case.pk, method="post")
    assert info.value.code == "post_details_required"
    post = {
        "recipient_name": "张三",
        "recipient_phone": "13800138000",
        "address": "广州市天河区测试路 2 号",
        "carrier": "EMS",
        "waybill_no": "1234567890123",
    }
    d, code = delivery.delivery_issue(actor=w.clerk, case_id=case.pk, method="post", **post)
    assert code is None and d.status == "posted"
    d = delivery.delivery_post_update(actor=w.clerk, case_id=case.pk, delivered=False, note="地址不详")
    assert d.status == "returned" and d.return_reason == "地址不详"
    d, code = delivery.delivery_issue(actor=w.clerk, case_id=case.pk, method="window")
    assert d.status == "ready" and code
    with pytest.raises(InvalidTransition):
        delivery.delivery_post_update(actor=w.clerk, case_id=case.pk, delivered=True)


def test_post_delivered_issues_the_receipt(w):
    case = approved(w)
    delivery.delivery_issue(
        actor=w.clerk,
        case_id=case.pk,
        method="post",
        recipient_name="张三",
        recipient_phone="13800138000",
        address="广州市天河区测试路 2 号",
        carrier="EMS",
        waybill_no="EMS-0001-0002",
    )
    d = delivery.delivery_post_update(actor=w.clerk, case_id=case.pk, delivered=True)
    assert d.status == "delivered" and d.receipt is not None


def test_electronic_delivery_is_delivered_at_once(w):
    case = approved(w)
    d, _ = delivery.delivery_issue(actor=w.clerk, case_id=case.pk, method="online")
    assert d.status == "delivered" and d.receipt.kind == CaseDocument.Kind.DELIVERY_RECEIPT
    with pytest.raises(InvalidTransition):
        delivery.delivery_issue(actor=w.clerk, case_id=case.pk, method="window")


def test_preferred_method_from_the_form(w):
    case = f.reviewed(w)
    case.form_data = {**case.form_data, "delivery": "邮政寄递"}
    case.save(update_fields=["form_data"])
    services.case_decide(actor=w.reviewer, case_id=case.pk, approve=True, opinion="同意")
    assert Delivery.objects.get(case=case).method == "post"


def test_rejections_have_no_delivery_and_strangers_cannot_issue(w):
    case = f.reviewed(w)
    services.case_decide(actor=w.reviewer, case_id=case.pk, approve=False, opinion="不符合")
    assert not Delivery.objects.filter(case=case).exists()
    with pytest.raises(NotFound):
        delivery.delivery_issue(actor=w.clerk, case_id=case.pk, method="online")
    case2 = approved(w)
    with pytest.raises(NotFound):
        delivery.delivery_issue(actor=w.clerk_yx, case_id=case2.pk, method="online")

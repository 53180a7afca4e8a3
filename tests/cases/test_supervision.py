"""督办 follow-through: the red/yellow overview, the 督办单, the answer, escalation on the timeline."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command

from tests.factories import DepartmentFactory, staff
from yiwang.accounts.roles import Role
from yiwang.cases import clock, services, supervision
from yiwang.cases.models import Case, CaseDocument, Message, SupervisionEscalation
from yiwang.core.actors import SystemActor
from yiwang.core.errors import NotFound, PermissionDenied

from . import factories as f

pytestmark = pytest.mark.django_db
SYSTEM = SystemActor("test")


@pytest.fixture
def w():
    return f.world()


def overdue(w):
    case = f.accepted(w)
    Case.objects.filter(pk=case.pk).update(
        promised_due=clock.today() - dt.timedelta(days=1), yellow_on=clock.today() - dt.timedelta(days=3)
    )
    return case


def at_risk(w):
    case = f.accepted(w)
    Case.objects.filter(pk=case.pk).update(promised_due=clock.today() + dt.timedelta(days=1), yellow_on=clock.today())
    return case


def test_overview_by_region_and_department(w):
    red, yellow = overdue(w), at_risk(w)
    f.accepted(w)  # green
    data = supervision.overview(user=w.supervisor)
    assert data["totals"]["red"] == 1 and data["totals"]["yellow"] == 1 and data["totals"]["open"] == 3
    row = data["rows"][0]
    assert row["region"] == "天河区" and row["department"] == w.dept.name and row["red"] == 1
    assert data["by_region"][0]["region_code"] == w.geo.th.code
    assert list(supervision.drill_down(user=w.supervisor, light="red")) == [red]
    assert list(supervision.drill_down(user=w.supervisor, light="yellow", department_id=w.dept.pk)) == [yellow]
    with pytest.raises(PermissionDenied):
        supervision.overview(user=w.clerk)
    with pytest.raises(NotFound):
        supervision.drill_down(user=w.supervisor, light="purple")
    # a supervisor elsewhere sees nothing of it
    sz = staff(Role.SUPERVISOR, DepartmentFactory(region=w.geo.sz))
    assert supervision.overview(user=sz)["totals"]["open"] == 0


def test_supervision_order_answer_and_escalation(w):
    case = overdue(w)
    due = clock.today() + dt.timedelta(days=1)
    order = services.case_supervise(actor=w.supervisor, case_id=case.pk, note="请两日内办结", feedback_due=due)
    doc = CaseDocument.objects.get(case=case, kind=CaseDocument.Kind.SUPERVISION)
    assert not doc.public and "请两日内办结" in json.dumps(doc.content, ensure_ascii=False)
    assert supervision.open_supervisions(user=w.reviewer).get() == order
    assert supervision.drill_down(user=w.supervisor, light="unanswered").get() == case
    # not answered: level 1 the day after the feedback date, level 2 two working days later
    assert supervision.supervisions_escalate(actor=SYSTEM, on=due) == {"level1": 0, "level2": 0}
    assert supervision.supervisions_escalate(actor=SYSTEM, on=due + dt.timedelta(days=1))["level1"] == 1
    assert Message.objects.filter(user=w.head, title__startswith="督办升级（1级）").exists()
    parent_supervisor = staff(Role.SUPERVISOR, DepartmentFactory(region=w.geo.gz), display_name="市督办")
    late = due + dt.timedelta(days=10)
    assert supervision.supervisions_escalate(actor=SYSTEM, on=late) == {"level1": 0, "level2": 1}
    assert Message.objects.filter(user=parent_supervisor, title__startswith="督办升级（2级）").exists()
    assert supervision.supervisions_escalate(actor=SYSTEM, on=late) == {"level1": 0, "level2": 0}
    assert list(SupervisionEscalation.objects.values_list("level", flat=True)) == [1, 2]
    assert case.events.filter(action="supervise_escalate").count() == 2
    services.case_supervision_feedback(actor=w.reviewer, supervision_id=order.pk, feedback="已于今日作出决定")
    assert not supervision.open_supervisions(user=w.reviewer).exists()
    # all of it on the case timeline, in order (staff-only lines)
    trail = [e.action for e in case.events.filter(action__startswith="supervise").order_by("at", "id")]
    assert trail == ["supervise", "supervise_escalate", "supervise_escalate", "supervise_feedback"]


def test_answered_in_time_is_never_escalated(w):
    case = overdue(w)
    due = clock.today()
    order = services.case_supervise(actor=w.supervisor, case_id=case.pk, note="请尽快办理", feedback_due=due)
    services.case_supervision_feedback(actor=w.reviewer, supervision_id=order.pk, feedback="已办")
    assert supervision.supervisions_escalate(actor=SYSTEM, on=due + dt.timedelta(days=30)) == {"level1": 0, "level2": 0}


def test_the_daily_command(w):
    out = StringIO()
    call_command("followup", "--date", (clock.today() + dt.timedelta(days=1)).isoformat(), stdout=out)
    assert set(json.loads(out.getvalue())) == {"gaps", "deliveries", "supervisions"}

"""督办 follow-through — the supervisors' red/yellow overview, the 督办单, the answer and the escalation.

The case services already hold the 督办 itself (``case_supervise``: instruction and feedback date, to the
handler or the department's back office; ``case_supervision_feedback``: the answer). This module adds:

- the **督办单** document for every 督办 (on the case, staff only);
- the **overview** for supervisors (:func:`overview`): by implementing region and by department, the cases
  under the clock that are red (overdue) or yellow (at risk), results past the 10-day issue clock, 容缺
  materials and 核查 tasks overdue, and 督办 left unanswered — each a link to the list behind it
  (:func:`drill_down`);
- **escalation** (:func:`supervisions_escalate`, daily): a 督办单 unanswered after its feedback date goes
  to the department head (level 1) and, ``SUPERVISION_ESCALATE_WORKDAYS`` working days later, to the
  supervisors of the region above (level 2); each step is written on the case timeline.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet

from yiwang.accounts.models import StaffMembership, User
from yiwang.accounts.roles import Role
from yiwang.core.actions import action, lock
from yiwang.core.errors import NotFound
from yiwang.core.permissions import policy
from yiwang.directory.models import Department, Region
from yiwang.workdays.calendar import get_calendar
from yiwang.workdays.engine import Unit

from . import clock, documents, events, notify
from . import followup_rules as fr
from .models import Case, CaseDocument, Commitment, Supervision, SupervisionEscalation, Verification
from .states import OPEN, Action, State

events.labels({"supervise_escalate": "督办升级"})

OPEN_STATES = sorted(s.value for s in OPEN)

LIGHTS = ("red", "yellow", "delivery", "gaps", "verifications", "unanswered")


def escalate_workdays() -> int:
    return int(getattr(settings, "SUPERVISION_ESCALATE_WORKDAYS", 2))


@events.observer
def _supervision_document(case: Case, act: str, before: str, actor: Any) -> None:
    """Every 督办 issues a 督办单 (instruction, feedback date, who must answer), kept with the case."""
    if act != Action.SUPERVISE.value:
        return
    supervision = Supervision.objects.filter(case_id=case.pk).order_by("-created_at", "-id").first()
    if supervision is None:
        return
    target = str(supervision.target) if supervision.target_id else f"{case.department.name}承办人员"
    documents.issue(
        case,
        CaseDocument.Kind.SUPERVISION,
        paragraphs=[
            f"你单位承办的「{case.item_name}」（办件编号 {case.number}）需要督办。",
            f"督办意见：{supervision.note}",
            f"请于{supervision.feedback_due:%Y年%m月%d日}前办理并反馈；逾期未反馈的，将逐级升级督办。",
        ],
        fields=[("督办对象", target), ("反馈期限", f"{supervision.feedback_due:%Y-%m-%d}")],
        public=False,
    )


# --- overview --------------------------------------------------------------------------------------------


def _scope(user: Any) -> QuerySet[Case]:
    policy.require(user, "supervision.overview")
    return policy.filter(user, "case.view", Case.objects.all())


def light_filter(light: str, *, on: dt.date) -> Q:
    """The cases behind one number of the overview."""
    match light:
        case "red":
            return Q(state=State.IN_PROCESS, promised_due__lt=on)
        case "yellow":
            return Q(state=State.IN_PROCESS, yellow_on__lte=on, promised_due__gte=on)
        case "delivery":
            return Q(result_delivery__status="pending", result_delivery__due_date__lt=on)
        case "gaps":
            return Q(pk__in=Commitment.objects.filter(kind="gap", status="overdue").values("case_id"))
        case "verifications":
            return Q(pk__in=Verification.objects.filter(status="pending", due_date__lt=on).values("case_id"))
        case "unanswered":
            return Q(pk__in=Supervision.objects.filter(feedback_at__isnull=True).values("case_id"))
    raise NotFound("统计项不存在。", code="light_not_found", details={"allowed": LIGHTS})


def overview(*, user: Any, on: dt.date | None = None, region_prefix: str | None = None) -> dict[str, Any]:
    """Red/yellow and follow-up counts by (region, department) in the supervisor's scope."""
    on = on or clock.today()
    base = _scope(user)
    if region_prefix:
        base = base.filter(region_code__startswith=region_prefix)
    counts: dict[tuple[str, int], dict[str, int]] = defaultdict(lambda: dict.fromkeys(("open", *LIGHTS), 0))
    open_rows = (
        base.filter(state__in=OPEN_STATES)
        .values("region_code", "department_id")
        .annotate(
            open=Count("id"),
            red=Count("id", filter=light_filter("red", on=on)),
            yellow=Count("id", filter=light_filter("yellow", on=on)),
        )
    )
    for row in open_rows:
        key = (row["region_code"], row["department_id"])
        counts[key].update(open=row["open"], red=row["red"], yellow=row["yellow"])
    for light in ("delivery", "gaps", "verifications", "unanswered"):
        for row in (
            base.filter(light_filter(light, on=on))
            .values("region_code", "department_id")
            .annotate(n=Count("id", distinct=True))
        ):
            counts[(row["region_code"], row["department_id"])][light] = row["n"]
    regions = dict(Region.objects.filter(code__in={k[0] for k in counts}).values_list("code", "name"))
    departments = dict(Department.objects.filter(pk__in={k[1] for k in counts}).values_list("pk", "name"))
    rows = [
        {"region_code": r, "region": regions.get(r, r), "department_id": d, "department": departments.get(d, ""), **c}
        for (r, d), c in counts.items()
    ]
    rows.sort(key=lambda x: (-x["red"], -x["yellow"], x["region_code"], x["department"]))
    by_region: dict[str, dict[str, Any]] = {}
    for row in rows:
        agg = by_region.setdefault(
            row["region_code"],
            {"region_code": row["region_code"], "region": row["region"], **dict.fromkeys(("open", *LIGHTS), 0)},
        )
        for k in ("open", *LIGHTS):
            agg[k] += row[k]
    totals = {k: sum(r[k] for r in rows) for k in ("open", *LIGHTS)}
    return {
        "on": on,
        "rows": rows,
        "by_region": sorted(by_region.values(), key=lambda x: (-x["red"], -x["yellow"], x["region_code"])),
        "totals": totals,
    }


def drill_down(
    *,
    user: Any,
    light: str,
    on: dt.date | None = None,
    region_code: str | None = None,
    department_id: int | None = None,
) -> QuerySet[Case]:
    on = on or clock.today()
    qs = _scope(user).filter(light_filter(light, on=on))
    if region_code:
        qs = qs.filter(region_code=region_code)
    if department_id:
        qs = qs.filter(department_id=department_id)
    return qs.select_related("department", "item").distinct().order_by("promised_due", "id")


def open_supervisions(*, user: Any) -> QuerySet[Supervision]:
    """督办单 this staff member must answer (addressed to them, or to their department's back office)."""
    visible = policy.filter(user, "case.view", Case.objects.all()).values("pk")
    return (
        Supervision.objects.filter(feedback_at__isnull=True, case_id__in=visible)
        .filter(Q(target=user) | Q(target__isnull=True) | Q(case__handler=user))
        .select_related("case", "supervisor")
        .order_by("feedback_due", "id")
    )


def issued_supervisions(*, user: Any) -> QuerySet[Supervision]:
    return (
        Supervision.objects.filter(supervisor=user)
        .select_related("case", "target")
        .prefetch_related("escalations")
        .order_by("feedback_at", "feedback_due", "-id")
    )


# --- escalation ------------------------------------------------------------------------------------------


def _parent_region(code: str) -> Region | None:
    region = Region.objects.select_related("parent").filter(code=code).first()
    return region.parent if region is not None else None


def _supervisors_of(region: Region | None) -> list[User]:
    if region is None:
        return []
    ids = StaffMembership.objects.filter(role=Role.SUPERVISOR, region_id=region.code, is_active=True).values_list(
        "user_id", flat=True
    )
    return list(User.objects.filter(pk__in=list(ids), is_active=True))


def supervisions_escalate(*, actor: Any, on: dt.date | None = None) -> dict[str, int]:
    """Daily: escalate every unanswered 督办单 past its feedback date (level 1, then level 2)."""
    on = on or clock.today()
    stats = {"level1": 0, "level2": 0}
    for pk in Supervision.objects.filter(feedback_at__isnull=True, feedback_due__lt=on).values_list("pk", flat=True):
        for level in _escalate(actor=actor, supervision_id=pk, on=on):
            stats[f"level{level}"] += 1
    return stats


@action
def _escalate(*, actor: Any, supervision_id: int, on: dt.date) -> list[int]:
    from .selectors import department_heads
    from .services import _record

    supervision = Supervision.objects.select_related("case").filter(pk=supervision_id).first()
    if supervision is None:
        return []
    case = lock(
        Case.objects.select_related("item", "department", "applicant", "filed_by").filter(pk=supervision.case_id)
    )
    supervision = lock(Supervision.objects.filter(pk=supervision_id))
    if supervision.feedback_at is not None:
        return []
    current = max(supervision.escalations.values_list("level", flat=True), default=0)
    second_on = get_calendar(case.region_code).add(supervision.feedback_due, escalate_workdays(), Unit.WORKING).date
    wanted = fr.escalation_due(today=on, feedback_due=supervision.feedback_due, second_on=second_on, current=current)
    done = []
    for level in range(current + 1, wanted + 1):
        if level == 1:
            recipients = department_heads(case) + ([supervision.target] if supervision.target_id else [])
            note = f"督办单逾期未反馈（期限{supervision.feedback_due:%Y-%m-%d}），升级至部门负责人"
        else:
            recipients = _supervisors_of(_parent_region(case.region_code)) + department_heads(case)
            note = "督办单仍未反馈，升级至上级督办部门"
        recipients = list({u.pk: u for u in [*recipients, supervision.supervisor]}.values())
        SupervisionEscalation.objects.create(
            supervision=supervision, level=level, notified=[u.pk for u in recipients], note=note
        )
        _record(
            case,
            "supervise_escalate",
            actor=actor,
            before=case.state,
            note=note,
            data={"supervision_id": supervision.pk, "level": level},
            public=False,
        )
        for user in recipients:
            notify.to_user(
                user,
                case=case,
                title=f"督办升级（{level}级）：{case.number}",
                body=f"{note}。原督办意见：{supervision.note}",
            )
        done.append(level)
    return done

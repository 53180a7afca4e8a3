"""Demo follow-ups: 新生儿出生一件事 applications (completed, in progress, at the 一件事 window), 容缺受理 (on
time and overdue → suspended), 告知承诺 with a pending 核查, results at the output window (to issue, ready for
pick-up, posted), an escalated 督办 and a 帮办代办 authorisation.

Adds the back-office staff the bundle needs (卫健, 公安, 街道 reviewers and a city clerk). Idempotent: nothing
is added when the demo citizen already has a 一件事 application.
"""

from __future__ import annotations

import datetime as dt

from yiwang.accounts.models import StaffMembership, User
from yiwang.accounts.roles import Role
from yiwang.cases import agents, bundles, clock, delivery, gaps, services, supervision
from yiwang.cases.models import BundleCase, Case
from yiwang.cases.services import Upload
from yiwang.core.actors import SystemActor
from yiwang.directory.models import Department, Window

from . import catalog as demo_catalog
from . import foundation
from .cases import PDF, _form, _workdays_before

SYSTEM = SystemActor("demo")
STAFF = [
    # (username, display name, department name, role, scope region)
    ("weijian", "林卫（天河卫健审批）", "广州市天河区卫生健康局", Role.REVIEWER, "440106000000"),
    ("gongan", "陈警官（市公安户政）", "广州市公安局", Role.REVIEWER, "440100000000"),
    ("wushan", "何敏（五山街道社保）", "广州市天河区五山街道办事处", Role.REVIEWER, "440106001000"),
    ("gz_clerk", "郑洁（市民服务中心综窗）", "广州市政务服务和数据管理局", Role.WINDOW_CLERK, "440100000000"),
]
NEWBORN_FORM_EXTRA = {"child_name": "张小宝", "partner_name": "李梅", "delivery": "电子证照"}


def _staff() -> dict[str, User]:
    out = {}
    for username, display, dept_name, role, region in STAFF:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(
                username, foundation.DEMO_PASSWORD, kind=User.Kind.STAFF, display_name=display
            )
        dept = Department.objects.filter(name=dept_name).first()
        if dept is not None:
            StaffMembership.objects.get_or_create(user=user, department=dept, role=role, defaults={"region_id": region})
        out[username] = user
    return out


def _finish(case: Case, *, clerk: User, reviewers: dict[int, User]) -> None:
    """Pre-review, accept, review, decide and issue electronically (a demo back office at work)."""
    case.refresh_from_db()
    if case.state == "submitted":
        services.case_pretrial(actor=clerk, case_id=case.pk, outcome="pass")
    services.case_accept(actor=clerk, case_id=case.pk)
    reviewer = reviewers[case.department_id]
    services.case_complete_step(actor=reviewer, case_id=case.pk, opinion="材料齐全，符合条件。")
    services.case_decide(actor=reviewer, case_id=case.pk, approve=True, opinion="准予办理")
    delivery.delivery_issue(actor=clerk, case_id=case.pk, method="online")


def _newborn(citizen: User, *, channel_clerk: User | None = None, window: Window | None = None) -> BundleCase:
    bundle = bundles.catalog.bundle_get(code="newborn")
    answers = {"hukou": "是", "ss_card": "否"}
    plan = bundles.bundle_plan(bundle=bundle, answers=answers)
    form = {}
    for m in plan.members:
        form.update(_form(m.item, None))
    form = {k: v for k, v in form.items() if k in {f.name for f in plan.form.fields}} | NEWBORN_FORM_EXTRA
    if channel_clerk is not None:
        parent, _ = bundles.bundle_apply(
            actor=channel_clerk,
            bundle_code="newborn",
            answers=answers,
            form_data=form,
            paper_indexes=[m.index for m in plan.asked_materials if m.required or m.deferrable],
            applicant_id=citizen.pk,
            window_id=window.pk if window else None,
        )
        return parent
    files = [
        Upload(m.index, f"{m.material.name[:20]}.pdf", PDF) for m in plan.asked_materials if m.required or m.deferrable
    ]
    parent, _ = bundles.bundle_apply(
        actor=citizen, bundle_code="newborn", answers=answers, form_data=form, files=files, contact_phone="13800138000"
    )
    return parent


def load() -> None:
    citizen = User.objects.get(username=foundation.CITIZEN["username"])
    if BundleCase.objects.filter(applicant=citizen).exists():
        return
    extra = _staff()
    clerk = User.objects.get(username="clerk")
    head = User.objects.get(username="head")
    reviewer = User.objects.get(username="reviewer")
    sup = User.objects.get(username="supervisor")
    reviewers = {
        m.department_id: m.user
        for m in StaffMembership.objects.filter(user__in=list(extra.values()), role=Role.REVIEWER)
    }

    def finish(case: Case) -> None:
        city = case.region_code == "440100000000"
        _finish(case, clerk=extra["gz_clerk"] if city else clerk, reviewers=reviewers)

    # 一件事: completed end to end, in progress (stage 2 running), and filed at the 一件事 window
    done = _newborn(citizen)
    for _ in range(4):
        done.refresh_from_db()
        running = [c.case for c in done.children.select_related("case").filter(status="running")]
        if not running:
            break
        for case in running:
            finish(case)
    half = _newborn(citizen)
    for child in half.children.select_related("case").filter(stage=1):
        finish(child.case)
    window = Window.objects.filter(kind=Window.Kind.BUNDLE).first()
    _newborn(citizen, channel_clerk=clerk, window=window)

    food = demo_catalog.load().get("food_business")

    def received(*, on: dt.date | None = None, pledge: bool = False, gap: bool = False) -> Case:
        """A food-licence case at 待受理; ``gap``: the 容缺后补 material left out (容缺受理 examples)."""
        wanted = ("required",) if gap else ("required", "deferrable")
        with clock.pinned(on or clock.today()):
            case = services.case_create_draft(actor=citizen, item_code=food.code, form_data=_form(food, None))
            data = food.current_version.data
            for i, m in enumerate(data.materials):
                if m.necessity in wanted and m.format != "paper" and not (pledge and m.commitment):
                    services.case_attach_file(
                        actor=citizen, case_id=case.pk, material_index=i, name=f"{m.name[:20]}.pdf", content=PDF
                    )
            if pledge:
                gaps.case_pledge(
                    actor=citizen,
                    case_id=case.pk,
                    material_indexes=[i for i, m in enumerate(data.materials) if m.commitment],
                    signer_name=foundation.CITIZEN["name"],
                )
            services.case_submit(actor=citizen, case_id=case.pk)
            return services.case_pretrial(actor=clerk, case_id=case.pk, outcome="pass")

    if food is not None:
        # 容缺受理: one on time, one overdue (accepted 15 working days ago → suspended by the sweep)
        on_time = received(gap=True)
        gaps.case_accept_with_gaps(actor=clerk, case_id=on_time.pk, signer_name=foundation.CITIZEN["name"])
        past = _workdays_before(clock.today(), 15, food.region_id)
        late = received(on=past, gap=True)
        with clock.pinned(past):
            gaps.case_accept_with_gaps(actor=clerk, case_id=late.pk, signer_name=foundation.CITIZEN["name"])
        gaps.gaps_sweep(actor=SYSTEM)
        # 告知承诺: accepted, 核查 pending for the department
        if any(m.commitment for m in food.current_version.data.materials):
            pledged = received(pledge=True)
            services.case_accept(actor=clerk, case_id=pledged.pk)
        # results at the unified output window: one ready for pick-up, one posted
        for method in ("window", "post"):
            case = received()
            services.case_accept(actor=clerk, case_id=case.pk)
            services.case_complete_step(actor=reviewer, case_id=case.pk, opinion="符合条件")
            services.case_decide(actor=head, case_id=case.pk, approve=True, opinion="准予许可")
            if method == "window":
                delivery.delivery_issue(
                    actor=clerk, case_id=case.pk, method="window", window_id=window.pk if window else None
                )
            else:
                delivery.delivery_issue(
                    actor=clerk,
                    case_id=case.pk,
                    method="post",
                    recipient_name=foundation.CITIZEN["name"],
                    recipient_phone=foundation.CITIZEN["phone"],
                    address="广州市天河区五山路1号",
                    carrier="EMS",
                    waybill_no="1180123456789",
                )
        # 督办 unanswered past its feedback date → escalated
        overdue = received(on=_workdays_before(clock.today(), 12, food.region_id))
        with clock.pinned(_workdays_before(clock.today(), 12, food.region_id)):
            services.case_accept(actor=clerk, case_id=overdue.pk)
        start = _workdays_before(clock.today(), 5, food.region_id)
        with clock.pinned(start):
            services.case_supervise(
                actor=sup,
                case_id=overdue.pk,
                note="超期未办结，请说明原因并加快办理",
                feedback_due=start + dt.timedelta(days=1),
            )
        supervision.supervisions_escalate(actor=SYSTEM)

    # 帮办代办: the citizen authorised the hall helper at the 帮办代办区
    helper = User.objects.filter(username="helper").first()
    if helper is not None and agents.is_helper(helper):
        agents.helper_authorization_record(actor=helper, principal_id=citizen.pk, valid_days=30, note="现场授权")

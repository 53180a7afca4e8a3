"""Demo cases (办件) in every state, for the citizen 张三 and the demo restaurant company.

Some cases are accepted "in the past" (:func:`yiwang.cases.clock.pinned`) so the workbench shows the
即将超期 and 已超期 queues, and one was accepted on 2026-09-28, just before the National Day holiday and its
调休 Saturday (10-10), so its promised date (10 working days) is 2026-10-16. Idempotent: nothing is added
when the demo citizen already has cases.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from yiwang.accounts.models import Enterprise, User
from yiwang.cases import clock, services
from yiwang.cases.models import Case
from yiwang.cases.services import Deficiency, Upload
from yiwang.catalog.models import ServiceItem
from yiwang.core.actors import SystemActor
from yiwang.core.ids import make_credit_code, make_resident_id
from yiwang.workdays.calendar import get_calendar

from . import catalog as demo_catalog
from . import foundation

PDF = b"%PDF-1.4\n% yiwang demo material\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SYSTEM = SystemActor("demo")


def _form(item: ServiceItem, company: Enterprise | None) -> dict:
    values = {}
    for f in item.current_version.data.form.fields:
        if not f.required and f.type not in ("number",):
            continue
        if f.type == "credit_code":
            values[f.name] = company.credit_code if company else make_credit_code(foundation.ENTERPRISE["credit17"])
        elif f.type in ("select",):
            values[f.name] = f.options[0]
        elif f.type == "multiselect":
            values[f.name] = f.options[:1]
        elif f.type == "number":
            values[f.name] = "60"
        elif f.type == "date":
            values[f.name] = "2026-10-08"
        elif f.type == "phone":
            values[f.name] = "13800138000"
        elif f.type == "checkbox":
            values[f.name] = True
        elif f.type == "id_number":
            values[f.name] = make_resident_id(foundation.CITIZEN["id17"])
        elif "名称" in f.label:
            values[f.name] = company.name if company else foundation.ENTERPRISE["name"]
        elif "姓名" in f.label:
            values[f.name] = foundation.CITIZEN["name"]
        else:
            values[f.name] = "广州市天河区五山路1号"
    return values


def _files(item: ServiceItem) -> list[Upload]:
    return [
        Upload(i, f"{m.name[:20]}.pdf", PDF)
        for i, m in enumerate(item.current_version.data.materials)
        if m.necessity in ("required", "deferrable") and m.format != "paper"  # complete: no 容缺 needed
    ]


def _workdays_before(day: dt.date, n: int, region: str) -> dt.date:
    cal = get_calendar(region)
    while n > 0:
        day -= dt.timedelta(days=1)
        if cal.is_workday(day):
            n -= 1
    return day


def load() -> None:
    citizen = User.objects.get(username="citizen")
    if Case.objects.filter(applicant=citizen).exists():
        return
    company = Enterprise.objects.filter(user__username="enterprise").select_related("user").first()
    staff = {u.username: u for u in User.objects.filter(username__in=["clerk", "reviewer", "head", "supervisor"])}
    clerk, reviewer, head, supervisor = staff["clerk"], staff["reviewer"], staff["head"], staff["supervisor"]
    items = demo_catalog.load()
    food = items["food_business"]
    online = [i for i in items.values() if i.current_version.is_online and i.region_id.startswith("440106")]

    def apply(item=food, who=citizen, for_company=False):
        applicant = company.user if for_company and company else who
        case, _ = services.case_apply(
            actor=applicant,
            item_code=item.code,
            form_data=_form(item, company if for_company else None),
            files=_files(item),
            contact_phone="13800138000",
        )
        return case

    def accepted(item=food, on: dt.date | None = None, **kw):
        with clock.pinned(on or clock.today()):
            case = apply(item, **kw)
            services.case_pretrial(actor=clerk, case_id=case.pk, outcome="pass")
            return services.case_accept(actor=clerk, case_id=case.pk)

    # 草稿
    services.case_create_draft(actor=citizen, item_code=food.code, form_data={})
    # 待预审 ×2, 待受理
    apply()
    apply(online[1] if len(online) > 1 else food, for_company=True)
    received = apply(for_company=True)
    services.case_pretrial(actor=clerk, case_id=received.pk, outcome="pass")
    # 补正中（一次性告知）
    supplement = apply()
    services.case_pretrial(actor=clerk, case_id=supplement.pk, outcome="pass")
    services.case_request_supplement(
        actor=clerk,
        case_id=supplement.pk,
        items=[
            Deficiency(reason="申请书未签名，请签名后重新上传", material_index=0),
            Deficiency(reason="复印件不清晰，请上传彩色扫描件", material_index=1),
        ],
    )
    # 在办: today, 即将超期, 已超期, the National Day case
    today = clock.today()
    accepted()
    yellow = accepted(on=_workdays_before(today, 4, food.region_id))
    overdue = accepted(on=_workdays_before(today, 9, food.region_id))
    services.case_supervise(
        actor=supervisor,
        case_id=overdue.pk,
        note="已超过承诺时限，请尽快办结并说明原因",
        feedback_due=today + dt.timedelta(days=2),
    )
    national_day = accepted(on=dt.date(2026, 9, 28))
    Case.objects.filter(pk=national_day.pk).update(contact_name="国庆示例")
    services.case_complete_step(actor=reviewer, case_id=yellow.pk, opinion="材料齐全真实，建议准予许可。")
    # 延期待审批
    ext = accepted()
    services.case_request_extension(actor=reviewer, case_id=ext.pk, days=5, reason="需现场核查经营场所")
    # 特别程序
    special = accepted()
    services.case_complete_step(actor=reviewer, case_id=special.pk, opinion="需要专家评审")
    services.case_start_special(
        actor=reviewer, case_id=special.pk, special_type="专家评审", reason="工艺流程需专家论证", time_limit_days=10
    )
    # 审查中补正
    back = accepted()
    services.case_return_for_supplement(
        actor=reviewer, case_id=back.pk, items=[Deficiency(reason="请补充设备布局图", material_index=2)]
    )
    # 待出件, 办结, 不予受理, 撤回
    decided = accepted()
    services.case_complete_step(actor=reviewer, case_id=decided.pk, opinion="符合条件")
    services.case_decide(actor=head, case_id=decided.pk, approve=True, opinion="准予许可")
    done = accepted(for_company=True)
    services.case_complete_step(actor=reviewer, case_id=done.pk, opinion="符合条件")
    services.case_decide(actor=head, case_id=done.pk, approve=True, opinion="准予许可")
    services.case_complete(actor=clerk, case_id=done.pk, delivery="post")
    refused = apply()
    services.case_pretrial(actor=clerk, case_id=refused.pk, outcome="pass")
    services.case_not_accept(
        actor=clerk, case_id=refused.pk, reason="申请事项不属于本机关职权范围", referral="广州市市场监督管理局"
    )
    services.case_withdraw(actor=citizen, case_id=apply().pk, reason="暂不开业")
    services.cases_flag_deemed_accepted(actor=SYSTEM, on=timezone.localdate())

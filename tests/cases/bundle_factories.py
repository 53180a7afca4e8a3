"""A 新生儿出生一件事-style world: three departments, two members in parallel and one after them."""

from __future__ import annotations

from types import SimpleNamespace

from tests.catalog.factories import SYSTEM, published_item
from tests.factories import DepartmentFactory, HallFactory, WindowFactory, person, region_tree, staff
from yiwang.accounts.roles import Role
from yiwang.cases import delivery, services
from yiwang.cases.bundles import bundle_apply
from yiwang.cases.services import Upload
from yiwang.catalog import services as catalog

from .factories import PDF

CHILD = {"name": "child_name", "label": "新生儿姓名", "type": "text", "required": True, "max_length": 20}
PARTNER = {"name": "partner_name", "label": "配偶姓名", "type": "text", "required": True, "max_length": 20}
DELIVERY = {
    "name": "delivery",
    "label": "结果领取方式",
    "type": "select",
    "options": ["窗口领取", "邮政寄递", "电子证照"],
    "required": True,
}
FORM = {"child_name": "王小明", "partner_name": "李芳", "delivery": "电子证照"}


def _item(dept, name, materials, fields, result, **kw):
    return published_item(
        department=dept,
        name=name,
        item_type="20",
        faq=[],
        materials=materials,
        form={"fields": fields},
        result={
            "name": result,
            "type": "certificate",
            "sample": "/s.pdf",
            "delivery": ["window", "post", "electronic"],
        },
        **kw,
    )


def newborn_world(*, bundle_days: int | None = 8) -> SimpleNamespace:
    geo = region_tree()
    health = DepartmentFactory(region=geo.th, name="天河区卫生健康局")
    police = DepartmentFactory(region=geo.th, name="天河区公安分局")
    insurance = DepartmentFactory(region=geo.th, name="天河区医疗保障局")
    certificate = _item(
        health,
        "出生医学证明签发",
        [{"name": "父母双方居民身份证", "licence_type": "resident_id"}, {"name": "出生医学证明自填单", "type": "form"}],
        [CHILD, DELIVERY],
        "出生医学证明",
        promised_limit=3,
    )
    registration = _item(
        police,
        "生育登记",
        [
            {"name": "父母双方居民身份证", "licence_type": "resident_id"},
            {"name": "结婚证", "necessity": "optional"},
            {"name": "生育服务单", "necessity": "deferrable"},
        ],
        [CHILD, PARTNER, DELIVERY],
        "生育登记回执",
        promised_limit=2,
    )
    medical = _item(
        insurance,
        "城乡居民医保参保登记",
        [{"name": "出生医学证明"}, {"name": "居民户口簿", "commitment": True}],
        [CHILD, DELIVERY],
        "参保登记回执",
        promised_limit=5,
    )
    hall = HallFactory(region=geo.th, name="天河区政务服务中心")
    window = WindowFactory(hall=hall, name="一件事窗口")
    bundle = catalog.bundle_save(
        actor=SYSTEM,
        code="newborn",
        name="新生儿出生一件事",
        region=geo.th,
        lead_department=health,
        stage="生育收养",
        promised_days=bundle_days,
        scenarios=[{"key": "insure", "question": "是否参加城乡居民医保？", "options": ["是", "否"]}],
        members=[
            {"item": certificate, "order": 1},
            {"item": registration, "order": 1},
            {"item": medical, "order": 2, "condition": {"key": "insure", "in": ["是"]}, "condition_text": "参保的"},
        ],
        cooperating_departments=[police, insurance],
        windows=[window],
    )
    catalog.bundle_publish(actor=SYSTEM, bundle=bundle)
    clerk = staff(Role.WINDOW_CLERK, health, display_name="一件事窗口陈")
    return SimpleNamespace(
        geo=geo,
        health=health,
        police=police,
        insurance=insurance,
        certificate=certificate,
        registration=registration,
        medical=medical,
        bundle=bundle,
        hall=hall,
        window=window,
        clerk=clerk,
        reviewers={
            health.pk: staff(Role.REVIEWER, health, display_name="卫健审查"),
            police.pk: staff(Role.REVIEWER, police, display_name="公安审查"),
            insurance.pk: staff(Role.REVIEWER, insurance, display_name="医保审查"),
        },
        heads={
            health.pk: staff(Role.DEPT_HEAD, health),
            police.pk: staff(Role.DEPT_HEAD, police),
            insurance.pk: staff(Role.DEPT_HEAD, insurance),
        },
        supervisor=staff(Role.SUPERVISOR, health, region_code=geo.gz.code, display_name="督办刘"),
        applicant=person(name="王大明", phone="13800138111").user,
        stranger=person(name="李四").user,
    )


def uploads_for(plan, *, deferrable: bool = True) -> list[Upload]:
    """One PDF for every required material the merged list asks for (and every 容缺后补 one with ``deferrable``)."""
    return [
        Upload(m.index, f"{m.material.name}.pdf", PDF)
        for m in plan.asked_materials
        if m.required or (deferrable and m.material.necessity == "deferrable")
    ]


def apply(w, *, answers=None, key=None, **kw):
    from yiwang.cases.bundles import bundle_plan

    answers = answers or {"insure": "是"}
    plan = bundle_plan(bundle=w.bundle, answers=answers)
    kw.setdefault("files", uploads_for(plan))
    kw.setdefault("actor", w.applicant)
    return bundle_apply(bundle_code="newborn", answers=answers, form_data=dict(FORM), idempotency_key=key, **kw)


def finish(w, case, *, approve: bool = True, received: bool = False):
    """Drive one child case from submission to completion (approved results are sent electronically)."""
    if not received:
        services.case_pretrial(actor=w.clerk, case_id=case.pk, outcome="pass")
    services.case_accept(actor=w.clerk, case_id=case.pk)
    reviewer = w.reviewers[case.department_id]
    services.case_complete_step(actor=reviewer, case_id=case.pk, opinion="材料齐全，符合条件。")
    services.case_decide(actor=reviewer, case_id=case.pk, approve=approve, opinion="同意" if approve else "不符合条件")
    if approve:
        delivery.delivery_issue(actor=w.clerk, case_id=case.pk, method="online")
    else:
        services.case_complete(actor=w.clerk, case_id=case.pk)
    case.refresh_from_db()
    return case

"""A small world for case tests: an online item, an applicant, window and back-office staff."""

from __future__ import annotations

from types import SimpleNamespace

from tests.catalog.factories import published_item
from tests.factories import DepartmentFactory, HallFactory, WindowFactory, person, region_tree, staff
from yiwang.accounts.roles import Role
from yiwang.cases import services
from yiwang.cases.services import Deficiency, Upload

PDF = b"%PDF-1.4\n% test material\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32

FORM = {"shop_name": "老张牛肉面", "area": "45", "category": "热食类"}


def world(**item_overrides) -> SimpleNamespace:
    geo = region_tree()
    dept = DepartmentFactory(name="天河区市场监督管理局", region=geo.th)
    other_dept = DepartmentFactory(name="天河区民政局", region=geo.th)
    item = published_item(department=dept, **item_overrides)
    hall = HallFactory(region=geo.th)
    window = WindowFactory(hall=hall)
    applicant = person(name="张三", phone="13800138000").user
    return SimpleNamespace(
        geo=geo,
        dept=dept,
        other_dept=other_dept,
        item=item,
        hall=hall,
        window=window,
        applicant=applicant,
        stranger=person(name="李四").user,
        clerk=staff(Role.WINDOW_CLERK, dept, display_name="窗口王"),
        clerk_yx=staff(Role.WINDOW_CLERK, DepartmentFactory(region=geo.yx), display_name="越秀窗口"),
        reviewer=staff(Role.REVIEWER, dept, display_name="审查李"),
        reviewer_other=staff(Role.REVIEWER, other_dept),
        head=staff(Role.DEPT_HEAD, dept, display_name="科长赵"),
        supervisor=staff(Role.SUPERVISOR, dept, region_code=geo.gz.code),
    )


def files_for_required(version, *, deferrable: bool = False) -> list[Upload]:
    """One PDF for every required material of ``version`` (and every 容缺后补 one with ``deferrable``)."""
    wanted = ("required", "deferrable") if deferrable else ("required",)
    return [
        Upload(i, f"{m.name}.pdf", PDF)
        for i, m in enumerate(version.data.materials)
        if m.necessity in wanted and m.format != "paper"
    ]


def submitted(w, *, gap: bool = False, **kw):
    """An online application; ``gap``: the 容缺后补 material (index 3) is left out (容缺受理 tests)."""
    case, _ = services.case_apply(
        actor=w.applicant,
        item_code=w.item.code,
        form_data=dict(FORM),
        files=files_for_required(w.item.current_version, deferrable=not gap),
        **kw,
    )
    return case


def received(w, *, gap: bool = False):
    case = submitted(w, gap=gap)
    return services.case_pretrial(actor=w.clerk, case_id=case.pk, outcome="pass")


def accepted(w):
    case = received(w)
    return services.case_accept(actor=w.clerk, case_id=case.pk)


def reviewed(w):
    case = accepted(w)
    return services.case_complete_step(actor=w.reviewer, case_id=case.pk, opinion="材料真实，符合条件。")


def deficiency(index=0, reason="缺少签名"):
    return Deficiency(reason=reason, material_index=index)

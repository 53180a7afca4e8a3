"""Test data for 好差评: a hall with a window serving one department, its staff, and helpers that walk
a window contact to a rating."""

from __future__ import annotations

from types import SimpleNamespace

from tests.factories import DepartmentFactory, HallFactory, WindowFactory, person, region_tree, staff
from yiwang.accounts.roles import Role
from yiwang.core.actors import SystemActor
from yiwang.ratings import services


def world() -> SimpleNamespace:
    geo = region_tree()
    dept = DepartmentFactory(name="天河区市场监督管理局", region=geo.th)
    other = DepartmentFactory(name="天河区民政局", region=geo.th)
    gov = DepartmentFactory(name="广州市政务服务和数据管理局", region=geo.gz)
    hall = HallFactory(name="天河区政务服务中心", region=geo.th)
    window = WindowFactory(hall=hall, number="3", name="市场监管窗口")
    window.departments.add(dept)
    other_window = WindowFactory(hall=hall, number="4", name="民政窗口")
    other_window.departments.add(other)
    clerk = staff(Role.WINDOW_CLERK, dept, display_name="窗口小王")
    head = staff(Role.DEPT_HEAD, dept, display_name="李科长")
    handler = staff(Role.REVIEWER, dept, display_name="承办小陈")
    other_head = staff(Role.DEPT_HEAD, other, display_name="民政王科长")
    supervisor = staff(Role.SUPERVISOR, gov, display_name="督办老周")
    citizen = person(name="张三", phone="13800138000")
    return SimpleNamespace(
        geo=geo,
        dept=dept,
        other=other,
        gov=gov,
        hall=hall,
        window=window,
        other_window=other_window,
        clerk=clerk,
        head=head,
        handler=handler,
        other_head=other_head,
        supervisor=supervisor,
        citizen=citizen.user,
        system=SystemActor("test"),
    )


def served(w, *, person=None, item_name="营业执照变更登记", item_code="11440106MB2C910020001", window=None):
    """A finished window contact; returns (contact, invitation)."""
    window = window or w.window
    contact = services.contact_start(
        actor=w.clerk if window == w.window else w.system,
        window_id=window.pk,
        item_code=item_code,
        item_name=item_name,
        person_id=person.pk if person else None,
    )
    invitation = services.contact_end(actor=w.clerk if window == w.window else w.system, contact_id=contact.pk)
    return contact, invitation


def rate(invitation, level=5, *, channel="qr", reasons=(), **kw):
    return services.rating_submit(token=invitation.token, level=level, channel=channel, reasons=list(reasons), **kw)


def bad_rating(w, *, level=2, reasons=("b_attitude",), **kw):
    _, invitation = served(w, person=w.citizen)
    return rate(invitation, level, reasons=reasons, **kw)

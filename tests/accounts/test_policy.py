"""Region scope across roles: a county sees its own and its descendants' objects, nothing else."""

import pytest

from tests.factories import DepartmentFactory, HallFactory, StaffFactory, staff
from yiwang.accounts import selectors
from yiwang.accounts.roles import Role
from yiwang.core import audit
from yiwang.core.errors import NotAuthenticated, PermissionDenied
from yiwang.core.models import AuditEvent
from yiwang.core.permissions import policy
from yiwang.directory import services
from yiwang.directory.models import Department

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(geo):
    depts = {
        "gz": DepartmentFactory(name="市政数局", region=geo.gz),
        "th": DepartmentFactory(name="天河政数局", region=geo.th),
        "ws": DepartmentFactory(name="五山街道办", region=geo.ws),
        "yx": DepartmentFactory(name="越秀政数局", region=geo.yx),
        "ft": DepartmentFactory(name="福田政数局", region=geo.ft),
    }
    return geo, depts


def test_scope_prefixes_collapse_nested_regions(world):
    geo, d = world
    user = staff(Role.SUPERVISOR, d["th"])
    from yiwang.accounts.models import StaffMembership

    StaffMembership.objects.create(user=user, department=d["gz"], role=Role.SUPERVISOR, region=geo.gz)
    selectors.forget_memberships(user)
    assert selectors.scope_prefixes(user, [Role.SUPERVISOR]) == ["4401"]


@pytest.mark.parametrize(
    ("actor_dept", "target", "allowed"),
    [
        ("th", "th", True),
        ("th", "ws", True),
        ("th", "yx", False),
        ("th", "gz", False),
        ("th", "ft", False),
        ("gz", "th", True),
        ("gz", "yx", True),
        ("gz", "ws", True),
        ("gz", "ft", False),
        ("yx", "th", False),
        ("yx", "ws", False),
        ("ws", "th", False),
        ("ws", "ws", True),
    ],
)
def test_supervisor_manages_departments_only_in_scope(world, actor_dept, target, allowed):
    _, d = world
    supervisor = staff(Role.SUPERVISOR, d[actor_dept])
    assert policy.allows(supervisor, "directory.department.manage", d[target]) is allowed
    if allowed:
        services.department_update(actor=supervisor, department_id=d[target].pk, phone="020-1")
    else:
        with pytest.raises(PermissionDenied):
            services.department_update(actor=supervisor, department_id=d[target].pk, phone="020-1")
        assert Department.objects.get(pk=d[target].pk).phone == ""


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_county_staff_of_any_role_see_only_their_county(world, role):
    _, d = world
    user = staff(role, d["th"])
    visible = set(
        policy.filter(user, "directory.department.view", Department.objects.all()).values_list("name", flat=True)
    )
    assert visible == {"天河政数局", "五山街道办"}
    assert policy.allows(user, "directory.department.view", d["th"])
    assert not policy.allows(user, "directory.department.view", d["yx"])


def test_roles_without_rights_are_refused_even_in_scope(world):
    _, d = world
    clerk = staff(Role.WINDOW_CLERK, d["th"])
    with pytest.raises(PermissionDenied):
        services.department_update(actor=clerk, department_id=d["th"].pk, phone="x")
    with pytest.raises(PermissionDenied):
        services.hall_create(
            actor=clerk, name="厅", kind="center", region_code="440106000000", address="a", opening_hours="b"
        )


def test_hall_and_window_management_is_scoped(world):
    geo, d = world
    th_sup = staff(Role.SUPERVISOR, d["th"])
    yx_hall = HallFactory(region=geo.yx)
    with pytest.raises(PermissionDenied):
        services.window_create(actor=th_sup, hall_id=yx_hall.pk, number="9", name="综合", kind="comprehensive")
    th_hall = services.hall_create(
        actor=th_sup,
        name="五山便民中心",
        kind="town_center",
        region_code="440106001000",
        address="五山路",
        opening_hours="工作日",
    )
    window = services.window_create(
        actor=th_sup, hall_id=th_hall.pk, number="1", name="综合", kind="comprehensive", department_ids=[d["th"].pk]
    )
    assert list(window.departments.all()) == [d["th"]]


def test_audit_view_is_scoped_by_region(world, system):
    _, d = world
    audit.record(actor=system, action="x.th", region_code="440106000000")
    audit.record(actor=system, action="x.ws", region_code="440106001000")
    audit.record(actor=system, action="x.yx", region_code="440104000000")
    th_sup = staff(Role.SUPERVISOR, d["th"])
    seen = set(policy.filter(th_sup, "audit.view", AuditEvent.objects.all()).values_list("action", flat=True))
    assert seen == {"x.th", "x.ws"}
    clerk = staff(Role.WINDOW_CLERK, d["th"])
    assert not policy.filter(clerk, "audit.view", AuditEvent.objects.all()).exists()


def test_unknown_actions_and_anonymous_users_are_denied(world):
    _, d = world
    sup = staff(Role.SUPERVISOR, d["th"])
    assert not policy.allows(sup, "no.such.action", d["th"])
    assert not policy.filter(sup, "no.such.action", Department.objects.all()).exists()
    with pytest.raises(NotAuthenticated):
        policy.require(None, "directory.department.manage", d["th"])


def test_inactive_membership_and_user_give_nothing(world):
    _, d = world
    sup = staff(Role.SUPERVISOR, d["th"])
    sup.memberships.update(is_active=False)
    selectors.forget_memberships(sup)
    assert not policy.allows(sup, "directory.department.manage", d["th"])
    other = staff(Role.SUPERVISOR, d["th"])
    other.is_active = False
    assert not policy.allows(other, "directory.department.manage", d["th"])


def test_superuser_is_not_limited(world):
    _, d = world
    root = StaffFactory(is_superuser=True)
    assert policy.allows(root, "directory.department.manage", d["ft"])


def test_null_for_a_required_field_is_a_clear_error(world):
    from yiwang.core.errors import ValidationFailed

    _, d = world
    supervisor = staff(Role.SUPERVISOR, d["th"])
    with pytest.raises(ValidationFailed) as exc:
        services.department_update(actor=supervisor, department_id=d["th"].pk, holds_items=None)
    assert exc.value.code == "field_required"

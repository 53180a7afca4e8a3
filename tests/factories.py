"""Factories for test data (factory_boy). Valid ID numbers and credit codes come from the check functions."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import factory

from yiwang.accounts.models import Authorization, Enterprise, Person, StaffMembership, User
from yiwang.accounts.roles import RealNameLevel
from yiwang.core import crypto
from yiwang.core.ids import make_credit_code, make_resident_id, mask_resident_id
from yiwang.directory.models import Department, Region, ServiceHall, Window

PASSWORD = "test-password-123"
_serial = itertools.count(1)


def resident_id(region6: str = "440106", birth: str = "19900101") -> str:
    """A valid 18-digit ID number with a fresh serial."""
    return make_resident_id(f"{region6}{birth}{next(_serial) % 1000:03d}")


def credit_code(region6: str = "440106", kind: str = "91") -> str:
    return make_credit_code(f"{kind}{region6}{next(_serial):09d}")


def region(code: str, name: str, level: int, parent: Region | None = None) -> Region:
    obj, _ = Region.objects.get_or_create(
        code=code,
        defaults={
            "name": name,
            "level": level,
            "parent": parent,
            "full_name": ((parent.full_name if parent else "") + name),
        },
    )
    return obj


def region_tree() -> SimpleNamespace:
    gd = region("440000000000", "广东省", 1)
    gz = region("440100000000", "广州市", 2, gd)
    th = region("440106000000", "天河区", 3, gz)
    yx = region("440104000000", "越秀区", 3, gz)
    ws = region("440106001000", "五山街道", 4, th)
    hq = region("440104001000", "洪桥街道", 4, yx)
    yz = region("440106001001", "岳洲社区居委会", 5, ws)
    sz = region("440300000000", "深圳市", 2, gd)
    ft = region("440304000000", "福田区", 3, sz)
    return SimpleNamespace(gd=gd, gz=gz, th=th, yx=yx, ws=ws, hq=hq, yz=yz, sz=sz, ft=ft)


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    name = factory.Sequence(lambda n: f"测试部门{n}")
    credit_code = factory.LazyAttribute(lambda o: credit_code(o.region.code[:6], kind="11"))
    region = factory.LazyFunction(lambda: region("440106000000", "天河区", 3))
    holds_items = True


class HallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceHall

    name = factory.Sequence(lambda n: f"测试政务服务中心{n}")
    kind = ServiceHall.Kind.CENTER
    region = factory.LazyFunction(lambda: region("440106000000", "天河区", 3))
    address = "广州市天河区测试路 1 号"
    opening_hours = "周一至周五 9:00-17:00"


class WindowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Window

    hall = factory.SubFactory(HallFactory)
    number = factory.Sequence(lambda n: str(n + 1))
    name = "综合受理窗口"
    kind = Window.Kind.COMPREHENSIVE


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    kind = User.Kind.PERSON
    display_name = factory.Sequence(lambda n: f"用户{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class StaffFactory(UserFactory):
    kind = User.Kind.STAFF
    username = factory.Sequence(lambda n: f"staff{n}")


def person(
    *,
    name: str = "张三",
    id_number: str | None = None,
    phone: str | None = None,
    level: int = RealNameLevel.L4,
    user: User | None = None,
) -> Person:
    """A real-named person user."""
    number = id_number or resident_id()
    user = user or UserFactory(phone=phone, display_name=name)
    return Person.objects.create(
        user=user,
        real_name=name,
        id_hash=crypto.keyed_hash(number),
        id_encrypted=crypto.encrypt(number),
        id_masked=mask_resident_id(number),
        real_name_level=level,
    )


def enterprise(*, name: str = "测试有限公司", code: str | None = None) -> Enterprise:
    account = UserFactory(kind=User.Kind.ENTERPRISE, display_name=name)
    return Enterprise.objects.create(user=account, name=name, credit_code=code or credit_code(), legal_rep_name="张三")


def staff(role: str, department: Department, *, region_code: str | None = None, **user_fields) -> User:
    """A staff user with one membership (scope = the department's region unless given)."""
    user = StaffFactory(**user_fields)
    StaffMembership.objects.create(
        user=user, department=department, role=role, region_id=region_code or department.region_id
    )
    return user


def authorization(
    principal: User, agent: User, *, scopes=("*",), kind=Authorization.Kind.ENTERPRISE_AGENT, **fields
) -> Authorization:
    return Authorization.objects.create(principal=principal, agent=agent, kind=kind, scopes=list(scopes), **fields)

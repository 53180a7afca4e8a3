"""Queues, overdue orders, duplicate hints, visibility by role and region, dispatch-rule resolution."""

import datetime as dt

import pytest
from django.utils import timezone

from tests.factories import person
from tests.hotline.factories import order, world
from yiwang.hotline import dispatching, selectors, services
from yiwang.hotline.models import DispatchRule

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db):
    return world()


def test_visibility_by_region_department_and_caller(w):
    th = order(w)
    yx = order(w, region_code=w.geo.hq.code, title="洪桥街噪声", content="洪桥街夜间施工噪声")
    citizen = person().user
    mine = order(w, actor=citizen, channel="web", title="我的诉求", content="小区路灯不亮")
    assert set(selectors.orders(w.agent)) == {th, yx, mine}
    assert set(selectors.orders(w.th_agent)) == {th, mine}
    assert set(selectors.orders(citizen)) == {mine}
    assert list(selectors.orders(w.housing_staff)) == []
    services.order_dispatch(actor=w.agent, order_id=th.pk, department_id=w.housing.pk)
    assert list(selectors.orders(w.housing_staff)) == [th]
    assert list(selectors.my_orders(citizen)) == [mine]
    with pytest.raises(Exception, match="无权"):
        selectors.order(w.th_agent, order_id=yx.pk)
    assert selectors.order(w.agent, number=yx.number) == yx


def test_queues(w):
    a = order(w)
    b = order(w, title="另一件", content="小区绿化带有垃圾堆放，长期无人清理")
    services.order_dispatch(actor=w.agent, order_id=b.pk, department_id=w.housing.pk)
    assert list(selectors.platform_queue(w.agent)) == [a]
    assert list(selectors.department_queue(w.housing_staff)) == [b]
    assert list(selectors.department_queue(w.agent)) == []
    assert list(selectors.platform_queue(w.housing_staff)) == []


def test_overdue_unsigned_and_unhandled(w):
    a = order(w)
    services.order_dispatch(actor=w.agent, order_id=a.pk, department_id=w.housing.pk)
    now = timezone.now()
    assert list(selectors.overdue(w.agent, now=now)) == []
    assert list(selectors.overdue(w.agent, now=now + dt.timedelta(days=3))) == [a]
    services.order_sign(actor=w.housing_staff, order_id=a.pk)
    assert list(selectors.overdue(w.agent, now=now + dt.timedelta(days=3))) == []
    assert list(selectors.overdue(w.agent, now=now + dt.timedelta(days=30))) == [a]


def test_duplicates_same_place_similar_text_recent(w):
    first = order(w, title="五山路路面坑洼", content="华南理工大学门口五山路路面坑洼积水")
    order(w, title="社保咨询", content="社保卡如何补办")
    order(w, region_code=w.geo.hq.code, title="五山路路面坑洼", content="华南理工大学门口五山路路面坑洼积水")
    found = selectors.duplicates(
        title="五山路坑洼", content="华工门口五山路的路面坑洼，下雨积水", region_code=w.geo.ws.code
    )
    assert [d.order for d in found] == [first]
    assert 0 < found[0].score <= 1
    later = timezone.now() + dt.timedelta(days=8)
    assert (
        selectors.duplicates(title="五山路坑洼", content="五山路路面坑洼积水", region_code=w.geo.ws.code, now=later)
        == []
    )


def test_dispatch_rule_resolution_most_specific_wins(w):
    c = w.cats
    assert dispatching.resolve(c.roads, w.geo.yz.code).department == w.housing  # 城乡建设 rule at 天河区
    assert dispatching.resolve(c.noise, w.geo.ws.code).department == w.env
    assert dispatching.resolve(c.noise, w.geo.hq.code).department == w.yx_env
    assert dispatching.resolve(c.roads, w.geo.hq.code) is None  # no rule for 越秀 roads: manual dispatch
    assert dispatching.resolve(None, w.geo.ws.code) is None
    special = DispatchRule.objects.create(category=c.lights, department=w.hrss, region=w.geo.ws)
    assert dispatching.resolve(c.lights, w.geo.yz.code) == special
    DispatchRule.objects.create(category=c.lights, department=w.env, region=w.geo.ws, priority=5)
    assert dispatching.resolve(c.lights, w.geo.yz.code).department == w.env


def test_label_mapping(w):
    assert dispatching.category_by_label("城乡建设") == w.cats.urban
    assert dispatching.category_by_label(w.cats.roads.code) == w.cats.roads
    assert dispatching.category_by_label("城乡建设/市政设施/道路维修") == w.cats.roads
    assert dispatching.category_by_label("不存在") is None
    assert dispatching.department_by_label("天河区住房和建设局", w.geo.ws.code) == w.housing
    assert dispatching.department_by_label("", w.geo.ws.code) is None

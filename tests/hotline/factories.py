"""Hotline test data: departments with staff, categories, rules and orders."""

from __future__ import annotations

from types import SimpleNamespace

from tests.factories import DepartmentFactory, region_tree, staff
from yiwang.accounts.roles import Role
from yiwang.core.actors import SystemActor
from yiwang.hotline import services
from yiwang.hotline.models import Category, DispatchRule, KnowledgeEntry, WorkOrder

SYSTEM = SystemActor("test")


def category_tree() -> SimpleNamespace:
    services.categories_import(
        actor=SYSTEM,
        rows=[
            ("城乡建设", "市政设施", "道路维修"),
            ("城乡建设", "市政设施", "路灯照明"),
            ("城乡建设", "物业管理", "物业服务"),
            ("环境保护", "噪声污染", "施工噪声"),
            ("劳动和社会保障", "劳动保障", "拖欠工资"),
        ],
    )
    get = lambda path: Category.objects.get(path=path)  # noqa: E731
    return SimpleNamespace(
        urban=get("城乡建设"),
        roads=get("城乡建设/市政设施/道路维修"),
        lights=get("城乡建设/市政设施/路灯照明"),
        property=get("城乡建设/物业管理/物业服务"),
        noise=get("环境保护/噪声污染/施工噪声"),
        wages=get("劳动和社会保障/劳动保障/拖欠工资"),
    )


def world() -> SimpleNamespace:
    """Regions, a hotline centre with an agent and a supervisor, two departments with handlers, categories."""
    geo = region_tree()
    centre = DepartmentFactory(name="广州市政务服务和数据管理局", region=geo.gz)
    housing = DepartmentFactory(name="天河区住房和建设局", region=geo.th)
    env = DepartmentFactory(name="天河区生态环境分局", region=geo.th)
    hrss = DepartmentFactory(name="天河区人力资源和社会保障局", region=geo.th)
    yx_env = DepartmentFactory(name="越秀区生态环境分局", region=geo.yx)
    agent = staff(Role.HOTLINE_AGENT, centre, username="agent1", display_name="坐席一")
    th_agent = staff(Role.HOTLINE_AGENT, centre, region_code=geo.th.code, username="agent_th")
    supervisor = staff(Role.SUPERVISOR, centre, username="sup1")
    housing_staff = staff(Role.REVIEWER, housing, username="housing1")
    env_staff = staff(Role.REVIEWER, env, username="env1")
    hrss_staff = staff(Role.DEPT_HEAD, hrss, username="hrss1")
    cats = category_tree()
    DispatchRule.objects.create(category=cats.urban, department=housing, region=geo.th)
    DispatchRule.objects.create(category=cats.noise.parent.parent, department=env, region=geo.th)
    DispatchRule.objects.create(category=cats.noise, department=yx_env, region=geo.yx)
    return SimpleNamespace(
        geo=geo,
        centre=centre,
        housing=housing,
        env=env,
        hrss=hrss,
        yx_env=yx_env,
        agent=agent,
        th_agent=th_agent,
        supervisor=supervisor,
        housing_staff=housing_staff,
        env_staff=env_staff,
        hrss_staff=hrss_staff,
        cats=cats,
    )


def order(w: SimpleNamespace, **fields) -> WorkOrder:
    data = {
        "title": "五山路路面坑洼",
        "content": "五山路华南理工大学门口路面有多个坑洼，下雨积水，电动车容易摔倒，请尽快修复。",
        "region_code": w.geo.ws.code,
        "kind": WorkOrder.Kind.COMPLAINT,
        "caller_name": "王先生",
        "caller_phone": "13900000001",
        "address": "五山路 381 号",
        "suggest": False,
    }
    data.update(fields)
    actor = data.pop("actor", w.agent)
    return services.order_create(actor=actor, **data)


def kb_entry(**fields) -> KnowledgeEntry:
    data = {"question": "如何办理居住证？", "answer": "携带身份证到社区居住证受理点申请。", "department_name": "公安局"}
    data.update(fields)
    return KnowledgeEntry.objects.create(**data)

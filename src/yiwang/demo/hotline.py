"""Demo data for the 12345 hotline: categories, 派单目录, handlers, knowledge entries and work orders in every state.

The category tree is the real 15/103/517 tree from ``../shared/data/tipdm2020c/fj1_taxonomy.csv`` when that
folder is there (else a small built-in tree); with the labelled messages beside it a category model is
trained into ``var/hotline/models``. Idempotent: a second run changes nothing.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from django.conf import settings

from yiwang.accounts.models import StaffMembership, User
from yiwang.accounts.roles import Role
from yiwang.core.actors import SystemActor
from yiwang.directory.models import Department
from yiwang.hotline import classifier, knowledge, services
from yiwang.hotline.models import Category, DispatchRule, KnowledgeEntry, WorkOrder

from .foundation import DEMO_PASSWORD

SYSTEM = SystemActor("demo")
SHARED = Path(os.environ.get("YIWANG_SHARED_DATA", settings.PROJECT_DIR.parent / "shared" / "data"))
SOURCE = "演示数据"

TREE = [
    ("城乡建设", "市政设施", "道路维修"),
    ("城乡建设", "市政设施", "路灯照明"),
    ("城乡建设", "物业管理", "物业服务"),
    ("城乡建设", "住房保障", "公租房"),
    ("劳动和社会保障", "劳动保障", "拖欠工资"),
    ("劳动和社会保障", "社会保险", "社保卡"),
    ("卫生计生", "医疗服务", "就医服务"),
    ("教育文体", "基础教育", "入学报名"),
    ("商贸旅游", "市场监管", "食品安全"),
    ("环境保护", "噪声污染", "施工噪声"),
    ("民政", "社会救助", "低保"),
]

# (category name at level 1, region, department key) — 派单目录
RULES = [
    ("城乡建设", "440106000000", "广州市天河区住房和建设局"),
    ("劳动和社会保障", "440106000000", "广州市天河区人力资源和社会保障局"),
    ("劳动和社会保障", "440100000000", "广州市人力资源和社会保障局"),
    ("卫生计生", "440106000000", "广州市天河区卫生健康局"),
    ("教育文体", "440106000000", "广州市天河区教育局"),
    ("商贸旅游", "440106000000", "广州市天河区市场监督管理局"),
    ("商贸旅游", "440104000000", "广州市越秀区市场监督管理局"),
    ("民政", "440106000000", "广州市天河区民政局"),
]

HANDLERS = [
    ("housing", "郑伟（天河住建承办）", "广州市天河区住房和建设局", Role.REVIEWER),
    ("hrss", "何敏（天河人社承办）", "广州市天河区人力资源和社会保障局", Role.REVIEWER),
    ("amr", "林涛（天河市监承办）", "广州市天河区市场监督管理局", Role.WINDOW_CLERK),
]

KB = [
    (
        "居住证如何办理？",
        "持本人身份证、在穗居住登记凭证到居住地社区（村）来穗人员服务管理站申请，也可在“穗好办”线上申请。",
        "广州市公安局",
        "居住证,来穗,积分",
    ),
    (
        "社保卡丢了怎么补办？",
        "可通过“粤省事”小程序或到各社保卡服务网点办理挂失补换，补卡即时制卡的网点当场领取。",
        "广州市人力资源和社会保障局",
        "社保卡,补办,挂失",
    ),
    (
        "住房公积金怎么提取？",
        "购房、租房、退休等情形可通过“穗好办”或公积金中心网点申请提取，租房提取每年可申请一次。",
        "广州住房公积金管理中心",
        "公积金,提取,租房",
    ),
    (
        "个体工商户营业执照怎么办理？",
        "登录广东政务服务网“开办企业”专区或到区政务服务中心商事登记窗口办理，材料齐全当场办结。",
        "广州市天河区市场监督管理局",
        "营业执照,个体户,开办",
    ),
    (
        "孩子入学报名时间是什么时候？",
        "公办小学一年级网上报名一般在每年5月中旬开始，具体以区教育局当年发布的招生通告为准。",
        "广州市天河区教育局",
        "入学,报名,积分入学",
    ),
    (
        "低保怎么申请？",
        "向户籍所在地街道办事处（镇政府）提出书面申请，经入户调查、民主评议和公示后由区民政局审批。",
        "广州市天河区民政局",
        "低保,社会救助",
    ),
    (
        "夜间施工噪声扰民怎么办？",
        "夜间（22时至次日6时）施工须取得夜间施工许可；无证施工可向12345反映，由住建部门依法查处。",
        "广州市天河区住房和建设局",
        "夜间施工,噪声,扰民",
    ),
]

# (title, content, region, kind, category path, caller, state)
ORDERS = [
    (
        "五山路路面坑洼积水",
        "五山路华南理工大学正门附近路面有多个坑洼，下雨积水，电动车容易摔倒。",
        "440106001000",
        "complaint",
        "城乡建设/市政设施/道路维修",
        "王先生",
        "dispatched",
    ),
    (
        "岳洲社区路灯不亮",
        "岳洲路18号附近三盏路灯坏了一周，晚上很黑。",
        "440106001001",
        "help",
        "城乡建设/市政设施/路灯照明",
        "刘女士",
        "handling",
    ),
    (
        "公司拖欠三个月工资",
        "天河区某科技公司拖欠员工三个月工资，多次讨要未果。",
        "440106000000",
        "complaint",
        "劳动和社会保障/劳动保障/拖欠工资",
        "陈先生",
        "replied",
    ),
    (
        "小区物业不维修电梯",
        "小区电梯坏了两周物业一直不修，老人上下楼困难。",
        "440106008000",
        "complaint",
        "城乡建设/物业管理/物业服务",
        "赵女士",
        "visiting",
    ),
    (
        "餐馆后厨卫生差",
        "天河路一家餐馆后厨脏乱，发现有老鼠。",
        "440106000000",
        "report",
        "商贸旅游/市场监管/食品安全",
        "孙先生",
        "closed",
    ),
    (
        "社保卡补办咨询",
        "社保卡丢了，想问怎么补办。",
        "440106000000",
        "consult",
        "劳动和社会保障/社会保险/社保卡",
        "周女士",
        "answered",
    ),
    (
        "建议增加公交线路",
        "建议增开五山到珠江新城的公交线路，早高峰太挤。",
        "440106001000",
        "suggestion",
        None,
        "吴先生",
        "new",
    ),
]


def _categories() -> None:
    path = SHARED / "tipdm2020c" / "fj1_taxonomy.csv"
    rows = TREE
    if path.exists():
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            next(reader, None)
            rows = [*TREE, *(r for r in reader if len(r) >= 3)]
    if Category.objects.count() < len(rows) // 2:
        services.categories_import(actor=SYSTEM, rows=rows)


def _model() -> None:
    labelled = SHARED / "tipdm2020c" / "labeled_dev.csv"
    if classifier.model_path("category").exists() or not labelled.exists():
        return
    texts, labels, rows = classifier.read_csv(
        labelled, text_cols=["留言主题", "留言详情"], label_col="一级分类", title_col="留言主题"
    )
    titles = [row["留言主题"] for row in rows]
    hints = classifier.read_label_tree(SHARED / "tipdm2020c" / "fj1_taxonomy.csv")
    model = classifier.TextClassifier().fit(texts, labels, titles=titles, knowledge=hints)
    model.meta["title_col"] = "留言主题"
    model.save(classifier.model_path("category"))
    classifier.forget()


def load() -> dict[str, object]:
    _categories()
    departments = {d.name: d for d in Department.objects.all()}
    for name, region, dept in RULES:
        category = Category.objects.filter(level=1, name=name).first()
        if category and dept in departments:
            DispatchRule.objects.get_or_create(category=category, region_id=region, department=departments[dept])
    for username, display, dept, role in HANDLERS:
        user = User.objects.filter(username=username).first() or User.objects.create_user(
            username, DEMO_PASSWORD, kind=User.Kind.STAFF, display_name=display
        )
        StaffMembership.objects.get_or_create(
            user=user, department=departments[dept], role=role, defaults={"region_id": departments[dept].region_id}
        )
    if KnowledgeEntry.objects.filter(source=SOURCE).exists():
        return {}
    for question, answer, dept, keywords in KB:
        knowledge.entry_save(
            actor=SYSTEM, question=question, answer=answer, department_name=dept, keywords=keywords, source=SOURCE
        )
    _model()
    agent = User.objects.get(username="agent")
    users = {u.username: u for u in User.objects.filter(username__in=["housing", "hrss", "amr", "citizen"])}
    for title, content, region, kind, path, caller, state in ORDERS:
        category = Category.objects.filter(path=path).first() if path else None
        order = services.order_create(
            actor=agent,
            title=title,
            content=content,
            region_code=region,
            kind=kind,
            caller_name=caller,
            caller_phone="13800000000",
            category_code=category.code if category else None,
            suggest=False,
        )
        if state == "new":
            continue
        if state == "answered":
            entry = KnowledgeEntry.objects.filter(question__startswith="社保卡").first()
            services.order_answer(actor=agent, order_id=order.pk, entry_id=entry.pk)
            continue
        rule = DispatchRule.objects.filter(category=category.top, region_id="440106000000").first()
        handler = next(u for u in users.values() if u.memberships.filter(department=rule.department).exists())
        services.order_dispatch(actor=agent, order_id=order.pk, department_id=rule.department_id)
        if state == "dispatched":
            continue
        services.order_sign(actor=handler, order_id=order.pk)
        if state == "handling":
            continue
        services.order_reply(
            actor=handler, order_id=order.pk, reply="经现场核查，已责成相关单位处理，并电话告知来电人。"
        )
        if state == "replied":
            continue
        services.order_review_reply(actor=agent, order_id=order.pk, approve=True)
        if state == "closed":
            services.order_visit(actor=agent, order_id=order.pk, result="satisfied")
    citizen = users.get("citizen")
    if citizen is not None:
        services.order_create(
            actor=citizen,
            channel=WorkOrder.Channel.WEB,
            title="天河南街道垃圾清运不及时",
            content="小区门口垃圾桶满了两天没人清运，气味很大。",
            region_code="440106008000",
            kind="complaint",
            suggest=False,
        )
    return {}

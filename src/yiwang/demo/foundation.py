"""Demo regions, departments, halls, windows and users (one city, two districts, a street, a community).

Region names and codes are the public statistical codes of Guangzhou; departments, halls, people and
credit codes are made up (credit codes carry valid check characters, ID numbers valid check digits).
"""

from __future__ import annotations

from yiwang.accounts.models import Authorization, Enterprise, Person, StaffMembership, User
from yiwang.accounts.roles import RealNameLevel, Role
from yiwang.core import crypto
from yiwang.core.ids import make_credit_code, make_resident_id, mask_resident_id
from yiwang.directory.models import Department, Region, ServiceHall, Window

DEMO_PASSWORD = "yiwang-demo-2026"  # noqa: S105 - documented demo login, printed in README

REGIONS = [
    ("440000000000", "广东省", 1, None),
    ("440100000000", "广州市", 2, "440000000000"),
    ("440104000000", "越秀区", 3, "440100000000"),
    ("440106000000", "天河区", 3, "440100000000"),
    ("440104001000", "洪桥街道", 4, "440104000000"),
    ("440106001000", "五山街道", 4, "440106000000"),
    ("440106008000", "天河南街道", 4, "440106000000"),
    ("440106001001", "岳洲社区居委会", 5, "440106001000"),
    ("440106001002", "茶山社区居委会", 5, "440106001000"),
    ("440104001101", "德源里社区居委会", 5, "440104001000"),
]

# (key, name, region, org-code body, holds items, phone)
DEPARTMENTS = [
    ("gz_gov", "广州市政务服务和数据管理局", "440100000000", "MB2C90001", True, "020-12345"),
    ("gz_amr", "广州市市场监督管理局", "440100000000", "MB2C90002", True, "020-83568000"),
    ("gz_hrss", "广州市人力资源和社会保障局", "440100000000", "MB2C90003", True, "020-12333"),
    ("gz_hf", "广州住房公积金管理中心", "440100000000", "MB2C90004", True, "020-12329"),
    ("gz_psb", "广州市公安局", "440100000000", "MB2C90005", True, "020-83116000"),
    ("th_gov", "广州市天河区政务服务和数据管理局", "440106000000", "MB2C91001", True, "020-38622345"),
    ("th_amr", "广州市天河区市场监督管理局", "440106000000", "MB2C91002", True, "020-85288000"),
    ("th_civil", "广州市天河区民政局", "440106000000", "MB2C91003", True, "020-38621234"),
    ("th_health", "广州市天河区卫生健康局", "440106000000", "MB2C91004", True, "020-38622001"),
    ("th_hrss", "广州市天河区人力资源和社会保障局", "440106000000", "MB2C91005", True, "020-38623300"),
    ("th_edu", "广州市天河区教育局", "440106000000", "MB2C91006", True, "020-38622700"),
    ("th_housing", "广州市天河区住房和建设局", "440106000000", "MB2C91007", True, "020-38622600"),
    ("th_ws", "广州市天河区五山街道办事处", "440106001000", "MB2C91101", True, "020-87111234"),
    ("yx_gov", "广州市越秀区政务服务和数据管理局", "440104000000", "MB2C92001", True, "020-83000345"),
    ("yx_amr", "广州市越秀区市场监督管理局", "440104000000", "MB2C92002", True, "020-83000800"),
]

HALLS = [
    (
        "gz_center",
        "广州市政务服务中心",
        ServiceHall.Kind.CENTER,
        "440100000000",
        "广州市天河区天府路1号",
        "周一至周五 9:00-12:00，13:00-17:00；周六 9:00-17:00（法定节假日除外）",
        "020-12345",
    ),
    (
        "th_center",
        "天河区政务服务中心",
        ServiceHall.Kind.CENTER,
        "440106000000",
        "广州市天河区天河北路 80 号",
        "周一至周五 9:00-12:00，13:30-17:30（法定节假日除外）",
        "020-38622345",
    ),
    (
        "ws_center",
        "五山街道便民服务中心",
        ServiceHall.Kind.TOWN_CENTER,
        "440106001000",
        "广州市天河区五山路 100 号",
        "周一至周五 8:30-12:00，14:00-17:30",
        "020-87111234",
    ),
    (
        "yz_station",
        "岳洲社区便民服务站",
        ServiceHall.Kind.STATION,
        "440106001001",
        "广州市天河区岳洲路 18 号",
        "周一至周六 9:00-12:00，14:30-17:30",
        "020-87112222",
    ),
    (
        "yx_center",
        "越秀区政务服务中心",
        ServiceHall.Kind.CENTER,
        "440104000000",
        "广州市越秀区东风中路 200 号",
        "周一至周五 9:00-12:00，13:30-17:30（法定节假日除外）",
        "020-83000345",
    ),
]

# (hall, number, name, kind, department keys)
WINDOWS = [
    (
        "th_center",
        "1",
        "综合受理窗口",
        Window.Kind.COMPREHENSIVE,
        ["th_gov", "th_amr", "th_civil", "th_health", "th_hrss", "th_edu", "th_housing"],
    ),
    (
        "th_center",
        "2",
        "综合受理窗口",
        Window.Kind.COMPREHENSIVE,
        ["th_gov", "th_amr", "th_civil", "th_health", "th_hrss", "th_edu", "th_housing"],
    ),
    ("th_center", "8", "市场监管专业窗口", Window.Kind.SPECIALIZED, ["th_amr"]),
    ("th_center", "10", "“一件事”主题窗口", Window.Kind.BUNDLE, ["th_gov", "th_civil", "th_health", "th_hrss"]),
    ("th_center", "12", "帮办代办窗口", Window.Kind.AGENCY, ["th_gov"]),
    ("th_center", "15", "适老化绿色通道", Window.Kind.PRIORITY, ["th_gov", "th_civil"]),
    ("th_center", "20", "统一出件窗口", Window.Kind.PICKUP, ["th_gov"]),
    ("gz_center", "A01", "综合受理窗口", Window.Kind.COMPREHENSIVE, ["gz_gov", "gz_amr", "gz_hrss", "gz_hf", "gz_psb"]),
    ("gz_center", "A09", "公积金专业窗口", Window.Kind.SPECIALIZED, ["gz_hf"]),
    ("ws_center", "1", "综合受理窗口", Window.Kind.COMPREHENSIVE, ["th_ws", "th_civil"]),
    ("yz_station", "1", "代办服务窗口", Window.Kind.AGENCY, ["th_ws"]),
    ("yx_center", "1", "综合受理窗口", Window.Kind.COMPREHENSIVE, ["yx_gov", "yx_amr"]),
]

# (username, display name, [(department key, role, scope region or None)])
STAFF = [
    ("clerk", "陈晓敏（天河综窗）", [("th_gov", Role.WINDOW_CLERK, None)]),
    ("reviewer", "李建国（天河市监审批）", [("th_amr", Role.REVIEWER, None)]),
    ("head", "王志强（天河市监负责人）", [("th_amr", Role.DEPT_HEAD, None), ("th_amr", Role.REVIEWER, None)]),
    ("supervisor", "赵丽华（天河督办）", [("th_gov", Role.SUPERVISOR, None)]),
    ("citysup", "周文（广州市督办）", [("gz_gov", Role.SUPERVISOR, None)]),
    ("agent", "黄小燕（12345坐席）", [("gz_gov", Role.HOTLINE_AGENT, None)]),
    ("catalog", "刘洋（事项管理员）", [("th_gov", Role.CATALOG_ADMIN, None), ("gz_gov", Role.CATALOG_ADMIN, None)]),
    ("helper", "孙悦（帮办代办员）", [("th_gov", Role.HELPER, None)]),
    ("clerk_yx", "吴敏（越秀综窗）", [("yx_gov", Role.WINDOW_CLERK, None)]),
]

CITIZEN = {"username": "citizen", "name": "张三", "phone": "13800138000", "id17": "44010619900307123"}
AGENT_PERSON = {"username": "jingban", "name": "李四", "phone": "13800138001", "id17": "44010419880815201"}
ENTERPRISE = {
    "username": "enterprise",
    "name": "广州天河示例餐饮有限公司",
    "credit17": "91440106MA59DEMA1",
    "legal_rep": "张三",
}


def _user(username: str, kind: str, display: str, phone: str | None = None, **extra) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_user(username, DEMO_PASSWORD, kind=kind, display_name=display, phone=phone, **extra)
    return user


def _person(user: User, name: str, id17: str, level: int) -> Person:
    number = make_resident_id(id17)
    person = Person.objects.filter(user=user).first()
    if person is None:
        person = Person.objects.create(
            user=user,
            real_name=name,
            id_hash=crypto.keyed_hash(number),
            id_encrypted=crypto.encrypt(number),
            id_masked=mask_resident_id(number),
            real_name_level=level,
            verified_by="演示数据",
            gender="M" if int(number[16]) % 2 else "F",
        )
    return person


def load() -> dict[str, object]:
    regions = {}
    for code, name, level, parent in REGIONS:
        region, _ = Region.objects.get_or_create(
            code=code, defaults={"name": name, "level": level, "parent_id": parent}
        )
        regions[code] = region
    for region in regions.values():  # full names follow the tree (parents come first)
        parent = regions.get(region.parent_id)
        full = (parent.full_name if parent else "") + region.name
        if region.full_name != full:
            region.full_name = full
            region.save(update_fields=["full_name"])

    departments = {}
    for key, name, region, body, holds, phone in DEPARTMENTS:
        credit = make_credit_code("11" + region[:6] + body)
        dept, _ = Department.objects.get_or_create(
            credit_code=credit, defaults={"name": name, "region_id": region, "holds_items": holds, "phone": phone}
        )
        departments[key] = dept
    halls = {}
    for key, name, kind, region, address, hours, phone in HALLS:
        hall, _ = ServiceHall.objects.get_or_create(
            name=name,
            region_id=region,
            defaults={"kind": kind, "address": address, "opening_hours": hours, "phone": phone},
        )
        halls[key] = hall
    for hall_key, number, name, kind, dept_keys in WINDOWS:
        window, created = Window.objects.get_or_create(
            hall=halls[hall_key], number=number, defaults={"name": name, "kind": kind}
        )
        if created:
            window.departments.set([departments[k] for k in dept_keys])

    admin = User.objects.filter(username="admin").first()
    if admin is None:
        User.objects.create_superuser("admin", DEMO_PASSWORD, display_name="平台管理员")
    for username, display, roles in STAFF:
        user = _user(username, User.Kind.STAFF, display)
        for dept_key, role, scope in roles:
            dept = departments[dept_key]
            StaffMembership.objects.get_or_create(
                user=user, department=dept, role=role, defaults={"region_id": scope or dept.region_id}
            )

    citizen = _user(CITIZEN["username"], User.Kind.PERSON, CITIZEN["name"], CITIZEN["phone"])
    _person(citizen, CITIZEN["name"], CITIZEN["id17"], RealNameLevel.L4)
    jingban = _user(AGENT_PERSON["username"], User.Kind.PERSON, AGENT_PERSON["name"], AGENT_PERSON["phone"])
    _person(jingban, AGENT_PERSON["name"], AGENT_PERSON["id17"], RealNameLevel.L4)
    account = _user(ENTERPRISE["username"], User.Kind.ENTERPRISE, ENTERPRISE["name"])
    credit = make_credit_code(ENTERPRISE["credit17"])
    rep_id = make_resident_id(CITIZEN["id17"])
    Enterprise.objects.get_or_create(
        credit_code=credit,
        defaults={
            "user": account,
            "name": ENTERPRISE["name"],
            "legal_rep_name": ENTERPRISE["legal_rep"],
            "legal_rep_id_hash": crypto.keyed_hash(rep_id),
            "legal_rep_id_encrypted": crypto.encrypt(rep_id),
            "legal_rep_id_masked": mask_resident_id(rep_id),
            "region_id": "440106000000",
            "address": "广州市天河区天河路 385 号",
        },
    )
    Authorization.objects.get_or_create(
        principal=account,
        agent=jingban,
        kind=Authorization.Kind.ENTERPRISE_AGENT,
        defaults={"scopes": ["case.apply", "case.view", "case.supplement", "rating.submit"], "note": "演示经办人"},
    )
    return {"regions": regions, "departments": departments, "halls": halls}

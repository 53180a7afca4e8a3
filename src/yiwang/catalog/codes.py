"""Code lists of the catalog (代码表) — pure values, no ORM.

Item types follow the national list (GB/T 39554 practice); provinces differ (Guangdong uses 20 其他行政权力 and
21 公共服务), so the list in use comes from the ``CATALOG_ITEM_TYPES`` setting and importers map their
source's codes onto it with :data:`GUANGDONG_ITEM_TYPES`.
"""

from __future__ import annotations

from enum import StrEnum

# `_` marks names for translation only (gettext_noop): values stay plain strings; views translate them.
from django.utils.translation import gettext_noop as _

# 事项类型 — national list.
NATIONAL_ITEM_TYPES: dict[str, str] = {
    "01": _("行政许可"),
    "02": _("行政处罚"),
    "03": _("行政强制"),
    "04": _("行政征收"),
    "05": _("行政给付"),
    "06": _("行政检查"),
    "07": _("行政确认"),
    "08": _("行政奖励"),
    "09": _("行政裁决"),
    "10": _("其他行政权力"),
    "20": _("公共服务"),
}
LICENSING = "01"
# Guangdong's codes for the last two types, mapped onto the national list.
GUANGDONG_ITEM_TYPES: dict[str, str] = {"20": "10", "21": "20"}


def item_types() -> dict[str, str]:
    """The item-type code list in use (``settings.CATALOG_ITEM_TYPES`` or the national list)."""
    try:
        from django.conf import settings

        configured = getattr(settings, "CATALOG_ITEM_TYPES", None)
    except Exception:  # settings not configured: pure use
        configured = None
    return dict(configured or NATIONAL_ITEM_TYPES)


def item_type_name(code: str) -> str:
    return item_types().get(code, code)


class TimeUnit(StrEnum):
    """时限单位."""

    WORKDAY = "workday"  # 工作日
    NATURAL = "natural"  # 自然日


TIME_UNIT_NAMES = {TimeUnit.WORKDAY: _("工作日"), TimeUnit.NATURAL: _("自然日")}


class HandlingType(StrEnum):
    """办件类型."""

    INSTANT = "instant"  # 即办件
    PROMISED = "promised"  # 承诺件


HANDLING_TYPE_NAMES = {HandlingType.INSTANT: _("即办件"), HandlingType.PROMISED: _("承诺件")}


class HandlingForm(StrEnum):
    """办理形式."""

    WINDOW = "window"  # 窗口办理
    ONLINE = "online"  # 网上办理
    POST = "post"  # 快递申请（邮寄）
    ONSITE = "onsite"  # 上门服务


HANDLING_FORM_NAMES = {
    HandlingForm.WINDOW: _("窗口办理"),
    HandlingForm.ONLINE: _("网上办理"),
    HandlingForm.POST: _("快递申请"),
    HandlingForm.ONSITE: _("上门服务"),
}

# 网上办理深度 Ⅰ–Ⅳ (0 = not online at all).
ONLINE_DEPTH_NAMES = {
    0: _("不可网办"),
    1: _("Ⅰ级（信息公开、在线咨询）"),
    2: _("Ⅱ级（表格下载、在线预约）"),
    3: _("Ⅲ级（在线预审、在线申报）"),
    4: _("Ⅳ级（全程网办）"),
}
FULL_ONLINE_DEPTH = 4


class MaterialType(StrEnum):
    """材料类型."""

    CERTIFICATE = "certificate"  # 证件证书证明
    FORM = "form"  # 申请表格文书
    OTHER = "other"  # 其他


MATERIAL_TYPE_NAMES = {
    MaterialType.CERTIFICATE: _("证件证书证明"),
    MaterialType.FORM: _("申请表格文书"),
    MaterialType.OTHER: _("其他"),
}


class MaterialSource(StrEnum):
    """来源渠道."""

    APPLICANT = "applicant"  # 申请人自备
    GOVERNMENT = "government"  # 政府部门核发
    OTHER = "other"


MATERIAL_SOURCE_NAMES = {
    MaterialSource.APPLICANT: _("申请人自备"),
    MaterialSource.GOVERNMENT: _("政府部门核发"),
    MaterialSource.OTHER: _("其他"),
}


class Necessity(StrEnum):
    """材料必要性."""

    REQUIRED = "required"  # 必要
    OPTIONAL = "optional"  # 非必要
    DEFERRABLE = "deferrable"  # 容缺后补


NECESSITY_NAMES = {
    Necessity.REQUIRED: _("必要"),
    Necessity.OPTIONAL: _("非必要"),
    Necessity.DEFERRABLE: _("容缺后补"),
}


class MaterialFormat(StrEnum):
    """材料形式."""

    PAPER = "paper"
    ELECTRONIC = "electronic"
    BOTH = "both"


MATERIAL_FORMAT_NAMES = {
    MaterialFormat.PAPER: _("纸质"),
    MaterialFormat.ELECTRONIC: _("电子化"),
    MaterialFormat.BOTH: _("纸质/电子化"),
}


class StepKind(StrEnum):
    """办理流程环节."""

    ACCEPT = "accept"  # 受理
    REVIEW = "review"  # 审查
    DECIDE = "decide"  # 决定
    CERTIFY = "certify"  # 制证
    DELIVER = "deliver"  # 送达
    OTHER = "other"


STEP_KIND_NAMES = {
    StepKind.ACCEPT: _("受理"),
    StepKind.REVIEW: _("审查"),
    StepKind.DECIDE: _("决定"),
    StepKind.CERTIFY: _("制证"),
    StepKind.DELIVER: _("送达"),
    StepKind.OTHER: _("其他"),
}
# 行政许可 items must show these five steps.
LICENSING_STEPS = (StepKind.ACCEPT, StepKind.REVIEW, StepKind.DECIDE, StepKind.CERTIFY, StepKind.DELIVER)


class ResultType(StrEnum):
    """审批结果类型."""

    CERTIFICATE = "certificate"  # 证件执照
    APPROVAL = "approval"  # 批文批复
    PROOF = "proof"  # 证明文件
    REPORT = "report"  # 鉴定报告
    OTHER = "other"  # 其他文件


RESULT_TYPE_NAMES = {
    ResultType.CERTIFICATE: _("证件执照"),
    ResultType.APPROVAL: _("批文批复"),
    ResultType.PROOF: _("证明文件"),
    ResultType.REPORT: _("鉴定报告"),
    ResultType.OTHER: _("其他文件"),
}


class Delivery(StrEnum):
    """结果送达方式."""

    WINDOW = "window"  # 窗口领取
    POST = "post"  # 邮政寄递
    ELECTRONIC = "electronic"  # 电子证照/网上送达


DELIVERY_NAMES = {Delivery.WINDOW: _("窗口领取"), Delivery.POST: _("邮政寄递"), Delivery.ELECTRONIC: _("电子送达")}

# 通办范围.
CROSS_SCOPE_NAMES = {
    "": _("不通办"),
    "1": _("全国通办"),
    "2": _("全省通办"),
    "3": _("全市通办"),
    "4": _("全县（区）通办"),
    "5": _("全镇（街道）通办"),
    "6": _("跨村（社区）通办"),
}

# 服务对象 (national server_type).
SERVICE_OBJECTS: dict[str, str] = {
    "1": _("自然人"),
    "2": _("企业法人"),
    "3": _("事业法人"),
    "4": _("社会组织法人"),
    "5": _("非法人企业"),
    "6": _("行政机关"),
    "9": _("其他组织"),
}
SERVICE_OBJECT_BY_NAME = {v: k for k, v in SERVICE_OBJECTS.items()}
PERSON = "1"

# 行使层级.
USE_LEVELS = {
    1: _("国家级"),
    2: _("省级"),
    3: _("市级"),
    4: _("县级"),
    5: _("镇（乡、街道）级"),
    6: _("村（社区）级"),
}
USE_LEVEL_BY_NAME = {v: k for k, v in USE_LEVELS.items()}

# 权力来源.
POWER_SOURCES = {
    "1": "法定本级行使",
    "2": "上级下放",
    "3": "上级授权",
    "4": "同级授权",
    "5": "上级委托",
    "6": "同级委托",
}

# 主题分类 — lifecycle stages for people (个人) and for enterprises (法人). Free text is allowed; these are the
# stages the portal offers as browse entries.
PERSONAL_THEMES = (
    _("生育收养"),
    _("户籍办理"),
    _("教育科研"),
    _("就业创业"),
    _("婚姻登记"),
    _("住房保障"),
    _("社会保障"),
    _("医疗卫生"),
    _("交通出行"),
    _("出境入境"),
    _("职业资格"),
    _("证件办理"),
    _("司法公证"),
    _("文化体育"),
    _("退休养老"),
    _("残疾人"),
    _("身后事"),
    _("其他"),
)
CORPORATE_THEMES = (
    _("设立变更"),
    _("准营准办"),
    _("纳税缴费"),
    _("规划建设"),
    _("环保绿化"),
    _("知识产权"),
    _("人力资源"),
    _("抵押质押"),
    _("交通运输"),
    _("注销清算"),
    _("其他"),
)
CORPORATE_THEME_WORDS = frozenset(
    {"设立变更", "准营准办", "纳税", "纳税缴费", "规划建设", "环保绿化", "知识产权", "抵押质押", "行政缴费"}
)

# 表单字段类型.
FORM_FIELD_TYPES = {
    "text": "单行文本",
    "textarea": "多行文本",
    "number": "数字",
    "date": "日期",
    "select": "单选",
    "multiselect": "多选",
    "checkbox": "勾选",
    "id_number": "身份证号",
    "credit_code": "统一社会信用代码",
    "phone": "手机号",
    "email": "电子邮箱",
}

# 电子证照类型 that can replace a paper material (免证办), with the words that name them in material lists.
LICENCE_TYPES: dict[str, str] = {
    "resident_id": _("居民身份证"),
    "household_register": _("居民户口簿"),
    "business_licence": _("营业执照"),
    "marriage_certificate": _("结婚证"),
    "birth_certificate": _("出生医学证明"),
    "social_security_card": _("社会保障卡"),
    "driving_licence": _("机动车驾驶证"),
    "vehicle_licence": _("机动车行驶证"),
    "property_certificate": _("不动产权证书"),
    "food_licence": _("食品经营许可证"),
    "retirement_certificate": _("退休证"),
    "death_certificate": _("死亡医学证明"),
    "degree_certificate": _("学历学位证书"),
}
LICENCE_WORDS: list[tuple[str, str]] = [
    ("身份证", "resident_id"),
    ("户口簿", "household_register"),
    ("户口本", "household_register"),
    ("营业执照", "business_licence"),
    ("结婚证", "marriage_certificate"),
    ("出生医学证明", "birth_certificate"),
    ("社会保障卡", "social_security_card"),
    ("社保卡", "social_security_card"),
    ("驾驶证", "driving_licence"),
    ("行驶证", "vehicle_licence"),
    ("不动产权证", "property_certificate"),
    ("食品经营许可证", "food_licence"),
    ("退休证", "retirement_certificate"),
    ("死亡医学证明", "death_certificate"),
]


def licence_type_for(material_name: str) -> str:
    """The licence type a material's name refers to ("" when none)."""
    for word, code in LICENCE_WORDS:
        if word in material_name:
            return code
    return ""

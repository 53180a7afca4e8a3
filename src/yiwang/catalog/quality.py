"""Quality rules of the implementation list (实施清单一致性规则) — pure functions over :class:`ItemElements`.

Checked at publication (a failing item cannot be published) and in the catalog report
(``yiwang catalog check`` and the workbench page). Each violation names the rule and the field.
Sources: the Wenzhou audit script (domain-cn §2.6) and the compression rule promised ≤ legal.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass

from .codes import FULL_ONLINE_DEPTH, LICENSING, LICENSING_STEPS, STEP_KIND_NAMES, HandlingForm, HandlingType, TimeUnit
from .elements import ItemElements


@dataclass(frozen=True)
class Violation:
    rule: str
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


Rule = Callable[[ItemElements], list[Violation]]
RULES: dict[str, tuple[str, Rule]] = {}


def rule(code: str, title: str) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        RULES[code] = (title, fn)
        return fn

    return register


def _natural_days(days: int, unit: str) -> float:
    # A working day is at least one natural day; 5 working days span 7 natural days.
    return days * 7 / 5 if unit == TimeUnit.WORKDAY else float(days)


@rule("promised_within_legal", "承诺时限不得超过法定时限")
def _(e: ItemElements) -> list[Violation]:
    if e.legal_limit is None or e.promised_limit is None:
        return []
    if e.legal_limit_unit == e.promised_limit_unit:
        too_long = e.promised_limit > e.legal_limit
    else:
        too_long = _natural_days(e.promised_limit, e.promised_limit_unit) > _natural_days(
            e.legal_limit, e.legal_limit_unit
        )
    if too_long:
        return [
            Violation(
                "promised_within_legal",
                "promised_limit",
                f"承诺时限（{e.promised_limit}）超过法定时限（{e.legal_limit}）。",
            )
        ]
    return []


@rule("instant_consistency", "即办 ⇔ 即办件")
def _(e: ItemElements) -> list[Violation]:
    instant_limit = e.promised_limit == 0
    instant_type = e.handling_type == HandlingType.INSTANT
    if instant_limit and not instant_type:
        return [Violation("instant_consistency", "handling_type", "承诺时限为即办，办件类型应为即办件。")]
    if instant_type and not instant_limit:
        return [Violation("instant_consistency", "promised_limit", "办件类型为即办件，承诺时限应为即办（0）。")]
    return []


@rule("visits_reason", "到现场次数大于0须说明原因")
def _(e: ItemElements) -> list[Violation]:
    if e.visits > 0 and not e.visits_reason:
        return [Violation("visits_reason", "visits_reason", f"需到现场{e.visits}次，须填写必须现场办理原因说明。")]
    if e.visits == 0 and e.visits_reason:
        return [Violation("visits_reason", "visits_reason", "零跑动事项不应填写必须现场办理原因。")]
    return []


@rule("zero_visits_post", "零跑动且不能网办须提供邮寄")
def _(e: ItemElements) -> list[Violation]:
    if e.visits == 0 and not e.is_online and HandlingForm.POST not in e.handling_forms:
        return [Violation("zero_visits_post", "handling_forms", "零跑动且不能网上办理的事项，办理形式须包含快递申请。")]
    return []


@rule("full_online_zero_visits", "全程网办（Ⅳ级）须零跑动")
def _(e: ItemElements) -> list[Violation]:
    if e.online_depth == FULL_ONLINE_DEPTH and e.visits != 0:
        return [Violation("full_online_zero_visits", "visits", "网上办理深度为Ⅳ级（全程网办），到现场次数应为0。")]
    return []


@rule("fees_basis", "收费须有标准和依据")
def _(e: ItemElements) -> list[Violation]:
    out = []
    for i, fee in enumerate(e.fees):
        if not fee.standard:
            out.append(Violation("fees_basis", f"fees.{i}.standard", f"收费项目“{fee.name}”缺少收费标准。"))
        if not fee.basis:
            out.append(Violation("fees_basis", f"fees.{i}.basis", f"收费项目“{fee.name}”缺少收费依据。"))
    if not e.fees and e.is_pay_online:
        out.append(Violation("fees_basis", "is_pay_online", "不收费的事项不应支持网上支付。"))
    return out


_PHONE_DIGITS = re.compile(r"\d")


def _phone_ok(phone: str) -> bool:
    return len(_PHONE_DIGITS.findall(phone)) >= 5


@rule("phones", "咨询电话与监督投诉电话齐全且不同")
def _(e: ItemElements) -> list[Violation]:
    out = []
    if not _phone_ok(e.consult_phone):
        out.append(Violation("phones", "consult_phone", "缺少咨询电话。"))
    if not _phone_ok(e.complain_phone):
        out.append(Violation("phones", "complain_phone", "缺少监督投诉电话。"))
    if not out and e.consult_phone.replace(" ", "") == e.complain_phone.replace(" ", ""):
        out.append(Violation("phones", "complain_phone", "监督投诉电话不能与咨询电话相同。"))
    return out


@rule("licensing_faq", "行政许可事项须有常见问题")
def _(e: ItemElements) -> list[Violation]:
    if e.item_type == LICENSING and not e.faq:
        return [Violation("licensing_faq", "faq", "行政许可事项至少应有1条常见问题。")]
    return []


@rule("licensing_steps", "行政许可事项须有受理、审查、决定、制证、送达五个环节")
def _(e: ItemElements) -> list[Violation]:
    if e.item_type != LICENSING:
        return []
    kinds = {s.kind for s in e.steps}
    missing = [STEP_KIND_NAMES[k] for k in LICENSING_STEPS if k not in kinds]
    if missing:
        return [Violation("licensing_steps", "steps", "行政许可事项办理流程缺少环节：" + "、".join(missing) + "。")]
    return []


@rule("result_sample", "有审批结果须附结果样本")
def _(e: ItemElements) -> list[Violation]:
    if e.result.name and not e.result.sample:
        return [Violation("result_sample", "result.sample", f"审批结果“{e.result.name}”缺少结果样本。")]
    return []


def check(elements: ItemElements) -> list[Violation]:
    """Every violation of every rule, in rule order."""
    out: list[Violation] = []
    for _title, fn in RULES.values():
        out.extend(fn(elements))
    return out


def rule_titles() -> dict[str, str]:
    return {code: title for code, (title, _fn) in RULES.items()}

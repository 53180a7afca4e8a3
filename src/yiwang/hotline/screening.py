"""受理范围甄别 — matters the 12345 hotline must not take, with the referral to give. Pure Python.

domain-cn.md §5.1: emergencies belong to 110 (police), 119 (fire), 120 (ambulance) and 122 (traffic
accidents); matters already in litigation, arbitration, administrative review (复议), discipline
inspection or 信访 procedures follow those procedures. The patterns look for an emergency happening
*now* ("着火了", "有人受伤", "正在打架"), not for words such as "消防通道被占" that are ordinary demands.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from .text import normalize


class Refusal(enum.StrEnum):
    POLICE = "emergency_police"
    FIRE = "emergency_fire"
    MEDICAL = "emergency_medical"
    TRAFFIC = "emergency_traffic"
    LITIGATION = "in_litigation"
    PETITION = "in_petition"


REFERRALS: dict[Refusal, str] = {
    Refusal.POLICE: "您反映的是正在发生的治安或刑事警情，属于紧急事项，12345不予受理，请立即拨打110报警。",
    Refusal.FIRE: "您反映的是火灾等紧急险情，12345不予受理，请立即拨打119火警电话。",
    Refusal.MEDICAL: "您反映的是需要紧急医疗救助的情况，12345不予受理，请立即拨打120急救电话。",
    Refusal.TRAFFIC: "您反映的是正在发生的交通事故，12345不予受理，请立即拨打122交通事故报警电话。",
    Refusal.LITIGATION: (
        "您反映的事项已进入诉讼、仲裁、行政复议或纪检监察程序，12345不予受理，请按相应法定程序向受理机关主张权利。"
    ),
    Refusal.PETITION: "您反映的事项已进入信访程序，12345不予受理，请向受理该信访事项的机关了解办理进展。",
}

LABELS: dict[Refusal, str] = {
    Refusal.POLICE: "紧急警情（110）",
    Refusal.FIRE: "火警（119）",
    Refusal.MEDICAL: "急救（120）",
    Refusal.TRAFFIC: "交通事故（122）",
    Refusal.LITIGATION: "涉诉涉法",
    Refusal.PETITION: "信访程序中",
}

_PATTERNS: list[tuple[Refusal, re.Pattern[str]]] = [
    (
        Refusal.FIRE,
        re.compile(r"([着著]火了|起火了|失火了|火灾现场|燃起大火|冒出浓烟.{0,6}(着火|起火)|煤气爆炸|发生爆炸)"),
    ),
    (Refusal.MEDICAL, re.compile(r"(晕倒了|昏迷不醒|心脏病发作|没有呼吸|大量出血|快不行了|需要急救|叫救护车)")),
    (Refusal.TRAFFIC, re.compile(r"(刚刚|正在|刚才).{0,8}(撞车|追尾|车祸)|(发生|出)了?车祸.{0,6}(有人|受伤|倒地)")),
    (
        Refusal.POLICE,
        re.compile(r"(正在|有人在).{0,6}(打架|斗殴|抢劫|砍人|行凶|撬门|偷东西)|(被|遭)(抢劫|绑架|持刀)|有人要跳楼"),
    ),
    (
        Refusal.LITIGATION,
        re.compile(r"(已经|已)(起诉|立案|申请仲裁|申请行政复议|进入诉讼)|法院(已经)?(受理|立案|审理中)"),
    ),
    (Refusal.PETITION, re.compile(r"(已经|已)(走|进入)?信访(程序)?|信访(局|部门)(已经)?受理|信访事项(正在|已)")),
]


@dataclass(frozen=True, slots=True)
class ScreenResult:
    reason: Refusal
    referral: str
    matched: str

    @property
    def label(self) -> str:
        return LABELS[self.reason]


def screen(*texts: str) -> ScreenResult | None:
    """The first out-of-scope pattern found in the texts, or ``None`` when the hotline may take the matter."""
    text = normalize(" ".join(t for t in texts if t))
    for reason, pattern in _PATTERNS:
        match = pattern.search(text)
        if match:
            return ScreenResult(reason, REFERRALS[reason], match.group(0))
    return None


def referral(reason: Refusal | str) -> str:
    return REFERRALS[Refusal(reason)]

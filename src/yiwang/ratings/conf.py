"""Deployment configuration of 好差评 (``settings.RATINGS``), with the documented defaults."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from .deadlines import DeadlineConfig
from .scale import DefaultPolicy, Level

DEFAULTS = {
    # 差评整改时限（工作日）: 回访核实, 整改反馈, 整改回访, 申诉复核, 限期整改最长期限; 黄灯提前天数.
    "VERIFY_DAYS": 1,
    "RECTIFY_DAYS": 5,
    "REVISIT_DAYS": 3,
    "APPEAL_DAYS": 5,
    "LEDGER_MAX_DAYS": 15,
    "YELLOW_DAYS": 1,
    # 默认评价: None = off; Guangdong: 7 (natural days) with level 3 (基本满意).
    "DEFAULT_AFTER_DAYS": None,
    "DEFAULT_LEVEL": 3,
    # 追评 within this many natural days of the first rating; invitation links valid this long.
    "FOLLOW_UP_DAYS": 15,
    "INVITATION_DAYS": 30,
    # Anti-abuse: ratings per phone number per day and per device (browser/IP) per hour.
    "MAX_PER_PHONE_PER_DAY": 10,
    "MAX_PER_DEVICE_PER_HOUR": 20,
    # Rankings list entries with fewer ratings than this without a rank.
    "RANKING_MIN_SAMPLE": 30,
    # SMS invitations after a service (needs the applicant's mobile number).
    "SMS_INVITATIONS": True,
}


@dataclass(frozen=True)
class Config:
    values: dict

    def __getattr__(self, name: str):
        try:
            return self.values[name.upper()]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def deadlines(self) -> DeadlineConfig:
        return DeadlineConfig.from_mapping(self.values)

    @property
    def default_policy(self) -> DefaultPolicy:
        days = self.values.get("DEFAULT_AFTER_DAYS")
        if days in (None, "", 0):
            return DefaultPolicy()
        return DefaultPolicy(int(days), Level(int(self.values.get("DEFAULT_LEVEL", 3))))


def get() -> Config:
    return Config({**DEFAULTS, **getattr(settings, "RATINGS", {})})

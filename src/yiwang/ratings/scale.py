"""好差评规则 — the rating rules. Pure Python over plain values: no Django, no ORM.

National rules (domain-cn.md §4; 国办发〔2019〕51号, GB/T 39734-2020):

- five levels, highest first: 非常满意 5, 满意 4, 基本满意 3, 不满意 2, 非常不满意 1; the last two are 差评;
- indicator sets are nationally unified and depend on how the service was delivered: online (办事效率,
  办事指南精确度, 办事便捷度, 平台操作性) or on site (服务效率, 服务水平, 服务态度);
- the options shown depend on the level chosen (差评 reasons follow GB/T 39734 附录A);
- 现场服务"一次一评"、网上服务"一事一评": one rating per target (a window contact, a case, a work order) plus
  one follow-up (追评); a rating is never earlier than the service it rates;
- a deployment may apply a default rating when nobody rated within N days (Guangdong: 基本满意 after 7
  natural days); off unless configured.

Everything here raises :class:`yiwang.core.errors.ValidationFailed` / :class:`Conflict` with stable codes.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from yiwang.core.errors import Conflict, ValidationFailed

MAX_TEXT = 500
MAX_REASONS = 10


class Level(enum.IntEnum):
    """评价等级 (EVA_LEVEL 1–5)."""

    VERY_DISSATISFIED = 1  # 非常不满意
    DISSATISFIED = 2  # 不满意
    BASIC = 3  # 基本满意
    SATISFIED = 4  # 满意
    VERY_SATISFIED = 5  # 非常满意

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self]

    @property
    def is_bad(self) -> bool:
        """差评 = 不满意 + 非常不满意."""
        return self <= Level.DISSATISFIED

    @property
    def is_good(self) -> bool:
        """好评 = every level that is not 差评 (非常满意、满意、基本满意)."""
        return not self.is_bad

    @classmethod
    def parse(cls, value: int | str | Level) -> Level:
        try:
            return cls(int(value))
        except (TypeError, ValueError):
            raise ValidationFailed(
                "评价等级应为 1–5（非常不满意–非常满意）。", code="rating_level_invalid", details={"level": str(value)}
            ) from None


LEVEL_LABELS = {
    Level.VERY_SATISFIED: "非常满意",
    Level.SATISFIED: "满意",
    Level.BASIC: "基本满意",
    Level.DISSATISFIED: "不满意",
    Level.VERY_DISSATISFIED: "非常不满意",
}
LEVELS_DESC = tuple(sorted(Level, reverse=True))
BAD_LEVELS = frozenset(level for level in Level if level.is_bad)
GOOD_LEVELS = frozenset(level for level in Level if level.is_good)


def is_bad(level: int) -> bool:
    return Level.parse(level).is_bad


class Mode(enum.StrEnum):
    """服务方式 — decides the indicator set."""

    ONLINE = "online"  # 网上服务（一事一评）
    ONSITE = "onsite"  # 现场服务（一次一评）


class Channel(enum.StrEnum):
    """评价渠道."""

    EVALUATOR = "evaluator"  # 窗口评价器（平板）
    QR = "qr"  # 二维码（回执、窗口展示）
    SMS = "sms"  # 短信链接
    PORTAL = "portal"  # 政务服务网
    APP = "app"  # 移动端（APP、小程序）
    KIOSK = "kiosk"  # 自助服务终端
    HOTLINE = "hotline"  # 12345 热线
    SYSTEM = "system"  # 系统默认评价

    @property
    def label(self) -> str:
        return CHANNEL_LABELS[self]

    @classmethod
    def parse(cls, value: str | Channel) -> Channel:
        try:
            return cls(str(value))
        except ValueError:
            raise ValidationFailed(
                "评价渠道不正确。", code="rating_channel_invalid", details={"channel": str(value)}
            ) from None


CHANNEL_LABELS = {
    Channel.EVALUATOR: "窗口评价器",
    Channel.QR: "二维码",
    Channel.SMS: "短信",
    Channel.PORTAL: "政务服务网",
    Channel.APP: "移动端",
    Channel.KIOSK: "自助终端",
    Channel.HOTLINE: "12345热线",
    Channel.SYSTEM: "系统默认",
}
# Channels a person uses to submit a rating (the system channel is the default-rating job only).
PERSON_CHANNELS = tuple(c for c in Channel if c is not Channel.SYSTEM)
# Channels that only exist on site: they always rate on-site service.
ONSITE_CHANNELS = frozenset({Channel.EVALUATOR, Channel.KIOSK})


def service_mode(channel: Channel | str, target_mode: Mode | str) -> Mode:
    """The indicator set for a rating: the evaluator and kiosk rate on-site service; other channels the
    target's own mode (a QR code at the window rates the window contact, a link in an SMS rates the case)."""
    if Channel.parse(channel) in ONSITE_CHANNELS:
        return Mode.ONSITE
    return Mode(str(target_mode))


@dataclass(frozen=True, slots=True)
class Option:
    code: str
    label: str


# 二级指标 (一级指标 整体满意度 is the level itself).
INDICATORS: dict[Mode, tuple[Option, ...]] = {
    Mode.ONLINE: (
        Option("efficiency", "办事效率"),
        Option("guide_accuracy", "办事指南精确度"),
        Option("convenience", "办事便捷度"),
        Option("usability", "平台操作性"),
    ),
    Mode.ONSITE: (
        Option("service_efficiency", "服务效率"),
        Option("service_level", "服务水平"),
        Option("service_attitude", "服务态度"),
    ),
}

# Reason options by level group and mode. Praise for 满意/非常满意, suggestions for 基本满意, and for
# 差评 the problems of GB/T 39734 附录A (差评评价内容), split by where they can occur.
_PRAISE_COMMON = (
    Option("p_efficient", "办事效率高"),
    Option("p_one_visit", "一次办成、少跑腿"),
)
_PRAISE = {
    Mode.ONLINE: (
        *_PRAISE_COMMON,
        Option("p_guide_clear", "办事指南清晰准确"),
        Option("p_easy_online", "网上操作便捷"),
    ),
    Mode.ONSITE: (
        *_PRAISE_COMMON,
        Option("p_friendly", "服务热情周到"),
        Option("p_skilled", "业务熟练、解答专业"),
        Option("p_short_wait", "等候时间短"),
    ),
}
_SUGGEST_COMMON = (
    Option("s_slow", "办理速度有待提高"),
    Option("s_materials", "材料要求可进一步精简"),
)
_SUGGEST = {
    Mode.ONLINE: (
        *_SUGGEST_COMMON,
        Option("s_guide", "办事指南有待完善"),
        Option("s_usability", "系统操作有待优化"),
    ),
    Mode.ONSITE: (
        *_SUGGEST_COMMON,
        Option("s_wait", "等候时间较长"),
        Option("s_signage", "现场指引不够清晰"),
    ),
}
_BAD_COMMON = (
    Option("b_slow", "办理时间长、超时办理"),
    Option("b_materials", "材料要求多、重复提交"),
    Option("b_notice", "未一次性告知、多次补正"),
    Option("b_many_visits", "多次跑动"),
    Option("b_fee", "违规收费、乱收费"),
)
_BAD = {
    Mode.ONLINE: (
        *_BAD_COMMON,
        Option("b_guide_wrong", "办事指南不准确、不完整"),
        Option("b_system", "系统操作复杂、故障"),
        Option("b_no_online", "不能网上办理或网办深度不足"),
        Option("b_no_reply", "咨询无回应"),
    ),
    Mode.ONSITE: (
        *_BAD_COMMON,
        Option("b_attitude", "服务态度差、推诿扯皮"),
        Option("b_unskilled", "业务不熟练、解答不清"),
        Option("b_wait", "排队等候时间长"),
        Option("b_misconduct", "吃拿卡要、违规办理"),
    ),
}
OTHER = Option("other", "其他")


def reason_options(level: int | Level, mode: Mode | str) -> tuple[Option, ...]:
    """The reasons shown after a level is chosen (差评 → problems; 基本满意 → suggestions; else praise)."""
    level, mode = Level.parse(level), Mode(str(mode))
    if level.is_bad:
        options = _BAD[mode]
    elif level is Level.BASIC:
        options = _SUGGEST[mode]
    else:
        options = _PRAISE[mode]
    return (*options, OTHER)


def all_reasons() -> dict[str, str]:
    """Every reason code with its label (for reports)."""
    result: dict[str, str] = {}
    for table in (_PRAISE, _SUGGEST, _BAD):
        for options in table.values():
            result.update((o.code, o.label) for o in options)
    result[OTHER.code] = OTHER.label
    return result


REASON_LABELS = all_reasons()


def indicator_labels() -> dict[str, str]:
    return {o.code: o.label for options in INDICATORS.values() for o in options}


class Kind(enum.StrEnum):
    """首次评价 / 追评."""

    FIRST = "first"
    FOLLOW_UP = "follow_up"


@dataclass(frozen=True, slots=True)
class Submission:
    """What a person submits."""

    level: int
    channel: str
    kind: str = Kind.FIRST
    indicators: Mapping[str, int] = field(default_factory=dict)
    reasons: Sequence[str] = ()
    text: str = ""
    anonymous: bool = False


@dataclass(frozen=True, slots=True)
class TargetFacts:
    """What the rules need to know about the rated service."""

    mode: Mode
    served_at: dt.datetime | None  # when the service happened (contact ended, case completed); None = not yet


@dataclass(frozen=True, slots=True)
class Existing:
    """Ratings the target already has."""

    first_at: dt.datetime | None = None
    has_follow_up: bool = False


@dataclass(frozen=True, slots=True)
class Accepted:
    """A submission that passed the rules, normalised."""

    level: Level
    channel: Channel
    kind: Kind
    mode: Mode
    indicators: dict[str, int]
    reasons: tuple[str, ...]
    text: str
    anonymous: bool

    @property
    def is_bad(self) -> bool:
        return self.level.is_bad


def check_submission(
    submission: Submission,
    facts: TargetFacts,
    existing: Existing,
    *,
    now: dt.datetime,
    follow_up_days: int = 15,
    allow_system: bool = False,
) -> Accepted:
    """Apply every rule to one submission; return it normalised or raise a domain error."""
    level = Level.parse(submission.level)
    channel = Channel.parse(submission.channel)
    if channel is Channel.SYSTEM and not allow_system:
        raise ValidationFailed("该渠道仅供系统默认评价使用。", code="rating_channel_invalid")
    try:
        kind = Kind(str(submission.kind))
    except ValueError:
        raise ValidationFailed("评价类型不正确。", code="rating_kind_invalid") from None
    mode = service_mode(channel, facts.mode)

    # Not before the service happened.
    if facts.served_at is None:
        raise Conflict("服务尚未完成，暂不能评价。", code="rating_not_yet_rateable")
    if now < facts.served_at:
        raise Conflict("评价时间不能早于服务时间。", code="rating_before_service")

    # One rating per target plus one follow-up.
    if kind is Kind.FIRST and existing.first_at is not None:
        raise Conflict("该服务已评价，可在规定期限内追评一次。", code="rating_already_given")
    if kind is Kind.FOLLOW_UP:
        if existing.first_at is None:
            raise Conflict("请先评价，再追评。", code="rating_follow_up_without_first")
        if existing.has_follow_up:
            raise Conflict("每次服务只能追评一次。", code="rating_follow_up_already_given")
        if now > existing.first_at + dt.timedelta(days=follow_up_days):
            raise Conflict(f"已超过追评期限（首次评价后 {follow_up_days} 日内）。", code="rating_follow_up_expired")

    # Indicators of the mode's set, each 1–5.
    allowed_indicators = {o.code for o in INDICATORS[mode]}
    indicators: dict[str, int] = {}
    for code, value in (submission.indicators or {}).items():
        if code not in allowed_indicators:
            raise ValidationFailed(
                "评价指标不属于该服务方式。", code="rating_indicator_invalid", details={"indicator": code}
            )
        indicators[code] = int(Level.parse(value))

    # Reasons that belong to the chosen level.
    allowed_reasons = [o.code for o in reason_options(level, mode)]
    reasons: list[str] = []
    for code in submission.reasons or ():
        if code not in allowed_reasons:
            raise ValidationFailed(
                "所选原因与评价等级不符。", code="rating_reason_invalid", details={"reason": code, "level": int(level)}
            )
        if code not in reasons:
            reasons.append(code)
    if len(reasons) > MAX_REASONS:
        raise ValidationFailed("所选原因过多。", code="rating_reason_invalid")
    text = " ".join((submission.text or "").split())
    if len(text) > MAX_TEXT:
        raise ValidationFailed(f"评价内容不超过 {MAX_TEXT} 字。", code="rating_text_too_long")
    if level.is_bad and not reasons:
        raise ValidationFailed("差评请至少选择一项原因。", code="rating_reason_required")
    if OTHER.code in reasons and not text:
        raise ValidationFailed("选择“其他”时请填写具体说明。", code="rating_text_required")

    reasons.sort(key=allowed_reasons.index)
    return Accepted(
        level=level,
        channel=channel,
        kind=kind,
        mode=mode,
        indicators=indicators,
        reasons=tuple(reasons),
        text=text,
        anonymous=bool(submission.anonymous),
    )


# --- default rating ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DefaultPolicy:
    """默认评价: when ``after_days`` natural days pass after the service without a rating, record ``level``.

    ``after_days=None`` (the default) switches it off. Guangdong: ``DefaultPolicy(7, Level.BASIC)``.
    """

    after_days: int | None = None
    level: Level = Level.BASIC

    def __post_init__(self) -> None:
        if self.after_days is not None and self.after_days < 1:
            raise ValueError("default rating needs at least one day")
        if Level(self.level).is_bad:
            raise ValueError("a default rating can never be a 差评")

    @property
    def enabled(self) -> bool:
        return self.after_days is not None


def default_due(policy: DefaultPolicy, served_at: dt.datetime | None) -> dt.datetime | None:
    """When the default rating falls due for a service (None when off or not served yet)."""
    if not policy.enabled or served_at is None:
        return None
    return served_at + dt.timedelta(days=policy.after_days)


def default_applies(
    policy: DefaultPolicy, *, served_at: dt.datetime | None, existing: Existing, now: dt.datetime
) -> bool:
    due = default_due(policy, served_at)
    return due is not None and existing.first_at is None and now >= due


# --- figures ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Figures:
    """The KPIs of a set of ratings (§4.6): inputs are plain counts, rates are 0–1 or None (no data)."""

    by_level: Mapping[int, int]
    rateable: int = 0  # services that could be rated (contacts ended, cases completed)
    active: int = 0  # first ratings given by a person (not the default job)
    bad_rectified: int = 0  # 差评 whose rectification closed
    bad_revisited: int = 0  # 差评 whose evaluator was reached on the return visit
    total: int = field(init=False, compare=False)
    good: int = field(init=False, compare=False)
    bad: int = field(init=False, compare=False)
    _points: int = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        get, put = self.by_level.get, object.__setattr__  # a province-wide report makes 20,000 of these
        c5, c4, c3, c2, c1 = get(5, 0), get(4, 0), get(3, 0), get(2, 0), get(1, 0)
        put(self, "good", c5 + c4 + c3)
        put(self, "bad", c2 + c1)
        put(self, "total", c5 + c4 + c3 + c2 + c1)
        put(self, "_points", 5 * c5 + 4 * c4 + 3 * c3 + 2 * c2 + c1)

    @property
    def good_rate(self) -> float | None:
        """好评率 = 好评 ÷ 评价量."""
        return _rate(self.good, self.total)

    @property
    def bad_rate(self) -> float | None:
        """差评率 = 差评 ÷ 评价量."""
        return _rate(self.bad, self.total)

    @property
    def active_rate(self) -> float | None:
        """主动评价率 = 主动评价 ÷ 可评价服务."""
        return _rate(self.active, self.rateable)

    @property
    def rectified_rate(self) -> float | None:
        """差评整改率 = 已整改办结的差评 ÷ 差评 (申诉成立的差评不计入)."""
        return _rate(self.bad_rectified, self.bad)

    @property
    def revisit_rate(self) -> float | None:
        """回访率 = 已回访的差评 ÷ 差评."""
        return _rate(self.bad_revisited, self.bad)

    @property
    def score(self) -> float | None:
        """满意度 (1–5 mean)."""
        return self._points / self.total if self.total else None


def _rate(part: int, whole: int) -> float | None:
    return None if whole <= 0 else min(part / whole, 1.0)


# --- rankings ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Ranked:
    key: object
    figures: Figures
    rank: int | None  # None when the sample is too small to rank


def rank(rows: Iterable[tuple[object, Figures]], *, min_sample: int) -> list[Ranked]:
    """排名 — rank by 好评率, then 满意度, then sample size; entries with fewer than ``min_sample`` ratings
    are listed after the ranked ones without a rank (a window with one 非常满意 does not top the table;
    FixMyStreet #1957). Equal figures share a rank (1, 2, 2, 4)."""
    ranked, unranked = [], []
    for key, figures in rows:
        (ranked if figures.total >= max(min_sample, 1) else unranked).append((key, figures))

    def sort_key(figures: Figures):
        total = figures.total  # ranked entries have total >= 1
        return (-min(figures.good / total, 1.0), -(figures._points / total), -total)

    keyed = sorted(((sort_key(figures), key, figures) for key, figures in ranked), key=lambda item: item[0])
    result: list[Ranked] = []
    previous, previous_rank = None, 0
    for index, (current, key, figures) in enumerate(keyed, start=1):
        position = previous_rank if current == previous else index
        result.append(Ranked(key, figures, position))
        previous, previous_rank = current, position
    unranked.sort(key=lambda item: -item[1].total)
    result += [Ranked(key, figures, None) for key, figures in unranked]
    return result

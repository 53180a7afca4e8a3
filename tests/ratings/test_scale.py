"""The pure rating rules: levels, channels, indicators, level-dependent reasons, one rating + one 追评,
not before the service, the default-rating policy, figures and the minimum-sample ranking."""

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yiwang.core.errors import Conflict, ValidationFailed
from yiwang.ratings import scale
from yiwang.ratings.scale import (
    Channel,
    DefaultPolicy,
    Existing,
    Figures,
    Kind,
    Level,
    Mode,
    Submission,
    TargetFacts,
    check_submission,
    rank,
    reason_options,
)

UTC = dt.UTC
SERVED = dt.datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
NOW = SERVED + dt.timedelta(minutes=5)
ONSITE = TargetFacts(mode=Mode.ONSITE, served_at=SERVED)
ONLINE = TargetFacts(mode=Mode.ONLINE, served_at=SERVED)


def submit(level=5, channel="evaluator", facts=ONSITE, existing=None, now=NOW, **kw):
    existing = existing or Existing()
    return check_submission(Submission(level=level, channel=channel, **kw), facts, existing, now=now)


# --- levels ----------------------------------------------------------------------------------------
def test_five_levels_highest_first_with_national_labels():
    assert [lv.label for lv in scale.LEVELS_DESC] == ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
    assert [int(lv) for lv in scale.LEVELS_DESC] == [5, 4, 3, 2, 1]


@pytest.mark.parametrize(("level", "bad"), [(5, False), (4, False), (3, False), (2, True), (1, True)])
def test_bad_is_exactly_the_last_two_levels(level, bad):
    assert Level(level).is_bad is bad
    assert Level(level).is_good is not bad
    assert scale.is_bad(level) is bad


@pytest.mark.parametrize("value", [0, 6, -1, "x", None, "3.5"])
def test_invalid_level_is_rejected_with_a_stable_code(value):
    with pytest.raises(ValidationFailed) as err:
        Level.parse(value)
    assert err.value.code == "rating_level_invalid"


def test_level_parses_strings():
    assert Level.parse("2") is Level.DISSATISFIED


# --- channels and indicators -----------------------------------------------------------------------
def test_indicator_sets_are_the_national_ones():
    online = ["办事效率", "办事指南精确度", "办事便捷度", "平台操作性"]
    assert [o.label for o in scale.INDICATORS[Mode.ONLINE]] == online
    assert [o.label for o in scale.INDICATORS[Mode.ONSITE]] == ["服务效率", "服务水平", "服务态度"]


@pytest.mark.parametrize(
    ("channel", "target", "expected"),
    [
        ("evaluator", "online", "onsite"),
        ("kiosk", "online", "onsite"),
        ("evaluator", "onsite", "onsite"),
        ("qr", "onsite", "onsite"),
        ("qr", "online", "online"),
        ("sms", "online", "online"),
        ("portal", "online", "online"),
        ("app", "onsite", "onsite"),
        ("hotline", "online", "online"),
    ],
)
def test_service_mode_by_channel_and_target(channel, target, expected):
    assert scale.service_mode(channel, target) == Mode(expected)


def test_every_channel_has_a_label_and_system_is_not_for_people():
    assert all(c.label for c in Channel)
    assert Channel.SYSTEM not in scale.PERSON_CHANNELS
    with pytest.raises(ValidationFailed) as err:
        submit(channel="system")
    assert err.value.code == "rating_channel_invalid"
    with pytest.raises(ValidationFailed):
        submit(channel="fax")


def test_indicators_must_belong_to_the_mode():
    ok = submit(indicators={"service_attitude": 5, "service_efficiency": "4"})
    assert ok.indicators == {"service_attitude": 5, "service_efficiency": 4}
    with pytest.raises(ValidationFailed) as err:
        submit(indicators={"usability": 5})  # online indicator on an on-site rating
    assert err.value.code == "rating_indicator_invalid"
    with pytest.raises(ValidationFailed):
        submit(indicators={"service_attitude": 9})
    online = submit(channel="portal", facts=ONLINE, indicators={"usability": 2})
    assert online.mode is Mode.ONLINE


# --- reasons ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("level", "mode"), list(itertools.product(Level, Mode)))
def test_reason_options_depend_on_the_level(level, mode):
    options = reason_options(level, mode)
    codes = [o.code for o in options]
    assert codes[-1] == "other"
    assert len(codes) == len(set(codes))
    body = codes[:-1]
    if level.is_bad:
        assert all(c.startswith("b_") for c in body)
    elif level is Level.BASIC:
        assert all(c.startswith("s_") for c in body)
    else:
        assert all(c.startswith("p_") for c in body)
    assert all(scale.REASON_LABELS[c] for c in codes)


def test_onsite_and_online_bad_reasons_differ():
    onsite = {o.code for o in reason_options(1, Mode.ONSITE)}
    online = {o.code for o in reason_options(1, Mode.ONLINE)}
    assert "b_attitude" in onsite and "b_attitude" not in online
    assert "b_system" in online and "b_system" not in onsite


def test_reason_from_another_level_is_rejected():
    with pytest.raises(ValidationFailed) as err:
        submit(level=5, reasons=["b_attitude"])
    assert err.value.code == "rating_reason_invalid"
    with pytest.raises(ValidationFailed):
        submit(level=2, reasons=["p_friendly"])


def test_bad_rating_needs_a_reason_and_other_needs_text():
    with pytest.raises(ValidationFailed) as err:
        submit(level=2)
    assert err.value.code == "rating_reason_required"
    with pytest.raises(ValidationFailed) as err:
        submit(level=1, reasons=["other"])
    assert err.value.code == "rating_text_required"
    ok = submit(level=1, reasons=["other"], text="  窗口 无人  ")
    assert ok.text == "窗口 无人" and ok.is_bad


def test_reasons_are_deduplicated_and_put_in_display_order():
    ok = submit(level=2, reasons=["b_wait", "b_attitude", "b_wait"])
    assert ok.reasons == ("b_attitude", "b_wait")


def test_text_is_limited():
    with pytest.raises(ValidationFailed) as err:
        submit(text="长" * (scale.MAX_TEXT + 1))
    assert err.value.code == "rating_text_too_long"
    assert submit(text="好" * scale.MAX_TEXT).text


def test_good_rating_needs_nothing_more():
    ok = submit(level=5)
    assert ok.level is Level.VERY_SATISFIED and ok.reasons == () and ok.kind is Kind.FIRST and not ok.anonymous


# --- one rating per target plus one follow-up, never before the service ----------------------------
def test_not_before_the_service_happened():
    with pytest.raises(Conflict) as err:
        submit(facts=TargetFacts(mode=Mode.ONSITE, served_at=None))
    assert err.value.code == "rating_not_yet_rateable"
    with pytest.raises(Conflict) as err:
        submit(now=SERVED - dt.timedelta(seconds=1))
    assert err.value.code == "rating_before_service"
    assert submit(now=SERVED).level == 5


def test_only_one_first_rating():
    with pytest.raises(Conflict) as err:
        submit(existing=Existing(first_at=NOW))
    assert err.value.code == "rating_already_given"


def test_one_follow_up_within_the_window():
    first = Existing(first_at=NOW)
    ok = submit(kind="follow_up", existing=first, now=NOW + dt.timedelta(days=15))
    assert ok.kind is Kind.FOLLOW_UP
    with pytest.raises(Conflict) as err:
        submit(kind="follow_up", existing=first, now=NOW + dt.timedelta(days=15, seconds=1))
    assert err.value.code == "rating_follow_up_expired"
    with pytest.raises(Conflict) as err:
        submit(kind="follow_up", existing=Existing(first_at=NOW, has_follow_up=True))
    assert err.value.code == "rating_follow_up_already_given"
    with pytest.raises(Conflict) as err:
        submit(kind="follow_up")
    assert err.value.code == "rating_follow_up_without_first"
    with pytest.raises(ValidationFailed):
        submit(kind="third")


@given(
    has_first=st.booleans(),
    has_follow=st.booleans(),
    kind=st.sampled_from(list(Kind)),
    served=st.booleans(),
    offset=st.integers(min_value=-3, max_value=40),
)
def test_at_most_one_first_and_one_follow_up_property(has_first, has_follow, kind, served, offset):
    existing = Existing(first_at=NOW if has_first else None, has_follow_up=has_first and has_follow)
    facts = TargetFacts(mode=Mode.ONSITE, served_at=SERVED if served else None)
    now = NOW + dt.timedelta(days=offset)
    try:
        ok = check_submission(Submission(level=4, channel="qr", kind=kind), facts, existing, now=now)
    except (Conflict, ValidationFailed):
        return
    assert served and now >= SERVED
    if ok.kind is Kind.FIRST:
        assert not has_first
    else:
        assert has_first and not existing.has_follow_up and now <= NOW + dt.timedelta(days=15)


# --- default rating --------------------------------------------------------------------------------
def test_default_policy_off_unless_configured():
    off = DefaultPolicy()
    assert not off.enabled
    assert scale.default_due(off, SERVED) is None
    assert not scale.default_applies(off, served_at=SERVED, existing=Existing(), now=NOW + dt.timedelta(days=99))


def test_guangdong_default_is_basic_after_seven_natural_days():
    gd = DefaultPolicy(7, Level.BASIC)
    assert scale.default_due(gd, SERVED) == SERVED + dt.timedelta(days=7)
    assert scale.default_due(gd, None) is None
    just_before = SERVED + dt.timedelta(days=7) - dt.timedelta(seconds=1)
    assert not scale.default_applies(gd, served_at=SERVED, existing=Existing(), now=just_before)
    assert scale.default_applies(gd, served_at=SERVED, existing=Existing(), now=SERVED + dt.timedelta(days=7))
    rated = Existing(first_at=NOW)
    assert not scale.default_applies(gd, served_at=SERVED, existing=rated, now=SERVED + dt.timedelta(days=30))


def test_default_policy_never_bad_and_at_least_a_day():
    with pytest.raises(ValueError):
        DefaultPolicy(7, Level.DISSATISFIED)
    with pytest.raises(ValueError):
        DefaultPolicy(0)


def test_system_channel_allowed_for_the_default_job():
    ok = check_submission(Submission(level=3, channel="system"), ONSITE, Existing(), now=NOW, allow_system=True)
    assert ok.channel is Channel.SYSTEM


# --- figures and ranking ---------------------------------------------------------------------------
def test_figures_rates():
    f = Figures(by_level={5: 6, 4: 2, 3: 1, 2: 1}, rateable=20, active=9, bad_rectified=1, bad_revisited=1)
    assert f.total == 10 and f.good == 9 and f.bad == 1
    assert f.good_rate == pytest.approx(0.9)
    assert f.bad_rate == pytest.approx(0.1)
    assert f.active_rate == pytest.approx(0.45)
    assert f.rectified_rate == 1.0 and f.revisit_rate == 1.0
    assert f.score == pytest.approx((30 + 8 + 3 + 2) / 10)


def test_figures_without_data_are_none_not_zero():
    f = Figures(by_level={})
    assert f.total == 0
    assert f.good_rate is None and f.bad_rate is None and f.active_rate is None
    assert f.rectified_rate is None and f.revisit_rate is None and f.score is None


def test_rates_are_capped_at_one():
    assert Figures(by_level={5: 1}, rateable=1, active=3).active_rate == 1.0


def test_ranking_applies_the_minimum_sample():
    rows = [
        ("lucky", Figures(by_level={5: 1})),  # one 非常满意 — must not top the table
        ("big-good", Figures(by_level={5: 95, 1: 5})),
        ("big-bad", Figures(by_level={5: 50, 1: 50})),
        ("mid", Figures(by_level={5: 29, 2: 1})),
        ("empty", Figures(by_level={})),
    ]
    ranked = rank(rows, min_sample=30)
    assert [(r.key, r.rank) for r in ranked] == [
        ("mid", 1),
        ("big-good", 2),
        ("big-bad", 3),
        ("lucky", None),
        ("empty", None),
    ]


def test_ranking_ties_share_a_rank():
    same = Figures(by_level={5: 10, 4: 10})
    ranked = rank([("a", same), ("b", same), ("c", Figures(by_level={5: 5, 1: 15}))], min_sample=1)
    assert [r.rank for r in ranked] == [1, 1, 3]


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), max_size=12), st.integers(0, 40))
def test_ranking_property(samples, min_sample):
    rows = [(i, Figures(by_level={5: good, 1: bad})) for i, (good, bad) in enumerate(samples)]
    ranked = rank(rows, min_sample=min_sample)
    assert sorted(r.key for r in ranked) == list(range(len(rows)))
    seen_unranked = False
    last_rate = 2.0
    for r in ranked:
        if r.rank is None:
            seen_unranked = True
            assert r.figures.total < max(min_sample, 1)
        else:
            assert not seen_unranked  # ranked entries come first
            assert r.figures.total >= min_sample
            assert r.figures.good_rate <= last_rate
            last_rate = r.figures.good_rate

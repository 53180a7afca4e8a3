"""Out-of-scope screening (110/119/120/122, litigation, 信访) and the text helpers."""

import pytest

from yiwang.hotline import screening, text
from yiwang.hotline.screening import Refusal


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("楼下餐馆着火了，好大的烟", Refusal.FIRE),
        ("我爸爸晕倒了，叫不醒", Refusal.MEDICAL),
        ("刚刚在路口发生追尾，有人受伤", Refusal.TRAFFIC),
        ("小区门口正在打架，有人拿着棍子", Refusal.POLICE),
        ("这个工资纠纷我已经起诉到法院了，想问问进度", Refusal.LITIGATION),
        ("这件事信访局已经受理了", Refusal.PETITION),
        ("樓下餐館著火了", Refusal.FIRE),  # Traditional script is normalised first
    ],
)
def test_out_of_scope_matters_are_refused_with_a_referral(message, reason):
    hit = screening.screen(message)
    assert hit is not None and hit.reason == reason
    assert hit.referral == screening.REFERRALS[reason]
    assert any(n in hit.referral for n in ("110", "119", "120", "122", "程序"))


@pytest.mark.parametrize(
    "message",
    [
        "小区消防通道被电动车占用，存在火灾隐患",
        "路口红绿灯坏了，容易发生车祸",
        "医院挂号太难了，建议增加号源",
        "想咨询一下如何申请劳动仲裁",
    ],
)
def test_ordinary_demands_pass(message):
    assert screening.screen(message) is None


def test_normalize_converts_traditional_and_collapses_spaces():
    assert text.normalize("臺北市\u3000政府&amp;體育局\xa0<b>QA</b>") == "台北市 政府&体育局 qa"


def test_words_drop_stopwords_and_punctuation():
    assert text.words("请问如何办理居住证？") == ["居住证"]


def test_similarity_finds_restatements():
    a = "五山路华南理工大学门口路面坑洼积水"
    b = "华南理工门口五山路的路面有坑洼，一下雨就积水"
    c = "建议增加地铁末班车时间"
    assert text.similarity(a, b) > 0.4
    assert text.similarity(a, c) < 0.1
    assert text.similarity("", a) == 0.0


def test_cluster_groups_similar_texts():
    clusters = text.cluster(
        [
            (1, "天河路施工噪声扰民到深夜"),
            (2, "天河路工地夜间施工噪声扰民"),
            (3, "社保卡补办流程"),
            (4, "天河路夜间施工噪音太大扰民"),
        ]
    )
    assert clusters[0] == [1, 2, 4]
    assert [3] in clusters

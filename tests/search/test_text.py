"""The pure text pipeline: normalisation, segmentation, pinyin, synonyms, lexicon and suggestions."""

import pytest

from yiwang.search import synonyms, text
from yiwang.search.lexicon import PinyinLexicon, Suggester


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("辦護照", "办护照"),
        ("營業執照變更登記", "营业执照变更登记"),
        ("ＳＨＥＢＡＯ", "shebao"),
        ("社保\x00卡\u200b", "社保 卡"),
        ("  社保   卡  ", "社保 卡"),
        ('title:"护照" OR (a* +b -c) ~2 ^3 \\ /', "title 护照 or a b c 2 3"),
        ("", ""),
        (None, ""),
        ("！？。，、", ""),
    ],
)
def test_clean_query(raw, expected):
    assert text.clean_query(raw) == expected


def test_clean_query_cuts_long_input():
    assert len(text.clean_query("社" * 10_000)) == text.MAX_QUERY_LENGTH
    assert text.clean_query("\x01" * 10_000) == ""


def test_normalize_keeps_punctuation_but_not_controls():
    assert text.normalize("（跨省通办）\t\n") == "(跨省通办)"


def test_index_terms_cover_every_dictionary_word_and_character():
    terms = text.index_terms("企业职工社会保险费断缴补缴申报")
    assert {"社会保险", "社会保险费", "保险", "社", "申报"} <= set(terms)
    assert len(terms) == len(set(terms))


def _index_terms_per_token(value: str) -> list[str]:
    """Index terms as computed before the per-run cache: every token of every run checked with ``_keep``."""
    import rjieba

    terms: dict[str, None] = {}
    for run in text._split_runs(value):
        if text.is_ascii_word(run):
            terms[run] = None
            continue
        for token in [*rjieba.cut_all(run), *rjieba.cut_for_search(run)]:
            if text._keep(token):
                terms[token] = None
    return list(terms)


@pytest.mark.parametrize(
    "value",
    [
        "企业职工社会保险费断缴补缴申报",
        "办理及加注普通护照(遗失补办)",
        "icp备案 (跨省通办) 护照 icp备案",
        "a1 b2 社保卡 社保卡",
        "no.5 外国人签证-延期; 外国人签证",
    ],
)
def test_index_terms_per_run_equal_the_per_token_check(value):
    assert text.index_terms(text.normalize(value)) == _index_terms_per_token(text.normalize(value))


@pytest.mark.parametrize(
    "raw", ["社保\x00卡\u200b", "a\u3000b\u00a0c", "行\u2028政\ue000", "\u202e办理\t", "（跨省通办）", "Ｅ办"]
)
def test_normalize_skips_the_walk_only_when_it_would_change_nothing(raw):
    import unicodedata

    s = unicodedata.normalize("NFKC", raw)
    s = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in s)
    expected = text._T2S.convert(text._SPACE.sub(" ", s).strip().lower())
    assert text.normalize(raw) == expected


def test_query_words_drop_stop_words_unless_nothing_is_left():
    assert text.query_words("我想问一下怎么办理护照") == ["办理", "护照"]
    assert text.query_words("怎么") == ["怎么"]


def test_pinyin():
    assert text.pinyin_full("社保") == "shebao"
    assert text.pinyin_initials("公积金") == "gjj"
    assert text.pinyin_full("重庆") == "chongqing"
    assert text.pinyin_full("abc") == ""
    assert set(text.pinyin_terms(["港澳", "通行证", "办"])) == {"gangao", "ga", "tongxingzheng", "txz"}
    assert text.pinyin_terms(["港澳", "a1", "港澳", "社", "省", "长江"]) == ["gangao", "ga", "changjiang", "cj"]


def test_levenshtein():
    assert text.levenshtein("gongjijing", "gongjijin") == 1
    assert text.levenshtein("abc", "abc") == 0
    assert text.levenshtein("abcdef", "uvwxyz", limit=2) == 3


def test_synonym_lines():
    row = synonyms.parse_line("社保 => 社会保险, 社会保障")
    assert row == synonyms.SynonymRow("社保", ("社会保险", "社会保障"), False)
    assert synonyms.parse_line("退休金 = 养老金").two_way
    assert synonyms.parse_line("# comment") is None
    with pytest.raises(ValueError):
        synonyms.parse_line("no arrow here")


def test_seed_has_at_least_200_pairs_people_type():
    table = synonyms.SynonymTable(synonyms.load_seed())
    assert table.pair_count() >= 200
    for term, wanted in [
        ("社保", "社会保险"),
        ("公积金", "住房公积金"),
        ("退休金", "养老金"),
        ("开公司", "设立登记"),
        ("护照", "普通护照"),
        ("上访", "信访"),
        ("养老金", "退休金"),
        ("医保", "医疗保险"),
    ]:
        assert wanted in table.expand(term), term


def test_synonym_segmentation_keeps_terms_whole():
    table = synonyms.SynonymTable(
        [synonyms.SynonymRow("开公司", ("设立登记",)), synonyms.SynonymRow("社保", ("社会保险",))]
    )
    assert table.segment("我想开公司") == [("我想", False), ("开公司", True)]
    assert table.segment("社保 开公司") == [("社保", True), (" ", False), ("开公司", True)]
    assert table.segment("护照") == [("护照", False)]


@pytest.fixture
def lexicon():
    return PinyinLexicon({"社保": 100, "申报": 50, "公积金": 80, "港澳": 30, "通行证": 40, "护照": 20, "商标": 10})


def test_lexicon_full_pinyin_and_segmentation(lexicon):
    assert lexicon.segment("shebao") == ["社保"]
    assert lexicon.segment("gangaotongxingzheng") == ["港澳", "通行证"]
    assert lexicon.segment("xyz") is None


def test_lexicon_initials_ranked_by_weight(lexicon):
    assert lexicon.by_initials("sb") == ["社保", "申报", "商标"]
    assert lexicon.by_initials("gjj") == ["公积金"]


def test_lexicon_homophones_and_near_misses(lexicon):
    assert lexicon.homophone("港奥") == "港澳"
    assert lexicon.homophone("港澳") is None
    assert lexicon.near("gongjijing") == "gongjijin"
    assert lexicon.near("zzzzzzz") is None


def test_suggester_prefix_pinyin_initials_and_word_starts():
    s = Suggester([("办理及加注普通护照", 5), ("企业职工基本养老金申领", 9), ("护照办证进度查询", 2)])
    assert [x.text for x in s.suggest("办理")] == ["办理及加注普通护照"]
    assert {x.text for x in s.suggest("护照")} == {"办理及加注普通护照", "护照办证进度查询"}
    assert [x.text for x in s.suggest("qiye")] == ["企业职工基本养老金申领"]
    assert [x.text for x in s.suggest("qyzg")] == ["企业职工基本养老金申领"]
    assert [x.text for x in s.suggest("辦理")] == ["办理及加注普通护照"]
    assert s.suggest("") == []
    assert s.suggest("\x00*") == []


def test_suggester_prefix_table_covers_groups_behind_a_shorter_key_and_long_prefixes():
    class Small(Suggester):  # a table from 4 keys on, and a scan that would see only 2 of them
        PREFIX_TOP_MIN = 3
        PREFIX_TOP = 4
        SCAN_LIMIT = 2

    names = [(f"办理护照{i}", float(i)) for i in range(10)]
    s = Small([("办", 1.0), *names])  # the key "办" sorts first in the "办…" group
    best = ["办理护照9", "办理护照8", "办理护照7"]
    assert [x.text for x in s.suggest("办理", limit=3)] == best
    assert [x.text for x in s.suggest("办理护照", limit=3)] == best  # longer than three characters
    assert [x.text for x in s.suggest("banlihuzhao", limit=3)] == best
    assert [x.text for x in Suggester(names).suggest("办理", limit=3)] == best  # the plain scan agrees

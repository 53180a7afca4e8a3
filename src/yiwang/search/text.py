"""Text pipeline (文本处理) for search: normalisation, segmentation and pinyin. Pure: no ORM, no index.

One function per job, the same code at index time and at query time:

- :func:`normalize` — NFKC (full-width → half-width), control and format characters removed, lower case,
  Traditional → Simplified (OpenCC ``t2s``), whitespace collapsed, optionally cut to a length.
- :func:`clean_query` — :func:`normalize` plus every character that is not a letter, digit or CJK ideograph
  turned into a space, so query-syntax characters (``+ - ( ) " : * ~ ^ \\ …``) never reach the engine.
- :func:`index_terms` — terms for short fields (names): rjieba "cut all" (every dictionary word inside the
  text *and* every single character) united with search-mode tokens. A query word that is a dictionary word
  therefore matches any name containing it (社会保险 inside 企业职工社会保险费断缴补缴申报), and a lone
  character still matches (办 in 办理).
- :func:`body_terms` — terms for long text (guides, materials, FAQ): search-mode tokens, frequency kept.
- :func:`query_words` — precise-mode words of a query with stop words (怎么, 如何, 我想 …) dropped.
- :func:`pinyin_full` / :func:`pinyin_initials` — toneless pinyin of a word (cached: names repeat).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

import opencc
import rjieba

MAX_QUERY_LENGTH = 100  # characters kept from a query; longer input is cut, never an error

_T2S = opencc.OpenCC("t2s")
_SPACE = re.compile(r"\s+")
# Anything that is not a letter, a digit or an ideograph (query syntax, punctuation, symbols, "_").
_NOT_WORD = re.compile(r"[^0-9a-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
_ASCII_WORD = re.compile(r"^[0-9a-z]+$")
_LETTERS = re.compile(r"^[a-z]+$")

# Words that carry no meaning in a service search ("我想问一下怎么办理…").
_STOP_WORDS_TEXT = """
的 了 吗 呢 啊 吧 呀 嘛 么 哦 我 我们 你 您 他 她 它 咱 俺 自己 想 要 想要
我要 我想 需要 得 该 应该 可以 能 能不能 可不可以 怎么 怎样 怎么样 如何 怎么办 咋
咋办 啥 什么 哪 哪里 哪儿 哪个 在哪 在哪里 在哪儿 去哪 去哪里 到哪 到哪里 请问 请 问
问下 问一下 一下 下 是 有 没有 和 与 及 或 或者 还是 就 都 也 还 又 这 那 这个
那个 这些 那些 个 些 一个 多少 多久 几天 为什么 为啥 谁 给 帮 帮我 帮忙 让 被 把
从 在 到 对 向 上 里 中 等 等等 呢 时候 时 后 以后 之后 前 以前 之前 会 能够 办
搞 弄 整 一 下子 then the a an of to for and or is
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())


def normalize(text: object, *, max_length: int | None = None) -> str:
    """Normalise any text for indexing or matching: NFKC, no control characters, lower case, Simplified."""
    if text is None:
        return ""
    value = str(text)
    if max_length is None and len(value) <= 2000:
        return _normalize_cached(value)
    return _normalize(value, max_length)


@functools.lru_cache(maxsize=100_000)
def _normalize_cached(value: str) -> str:
    return _normalize(value, None)


def _normalize(value: str, max_length: int | None) -> str:
    s = unicodedata.normalize("NFKC", value)
    # Control (Cc), format (Cf: zero-width, bidi), surrogate (Cs), private-use (Co) and unassigned (Cn).
    # A printable string has none of them (nor separators other than the space): skip the walk per character.
    if not s.isprintable():
        s = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in s)
    s = _SPACE.sub(" ", s).strip().lower()
    if max_length is not None:
        s = s[: max_length * 2]  # a generous cut before the (linear) conversion; the exact cut is below
    s = _T2S.convert(s) if s else s
    if max_length is not None:
        s = s[:max_length].strip()
    return s


def clean_query(text: object, *, max_length: int = MAX_QUERY_LENGTH) -> str:
    """A query as the engine sees it: normalised, only letters/digits/ideographs, single spaces."""
    s = normalize(text, max_length=max_length * 4)
    s = _NOT_WORD.sub(" ", s)
    return _SPACE.sub(" ", s).strip()[:max_length].strip()


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def is_ascii_word(token: str) -> bool:
    return bool(_ASCII_WORD.match(token))


def is_letters(token: str) -> bool:
    return bool(_LETTERS.match(token))


def _keep(token: str) -> bool:
    token = token.strip()
    return bool(token) and not _NOT_WORD.fullmatch(token)


def _split_runs(text: str) -> list[str]:
    """Split cleaned text into runs without spaces (rjieba treats spaces as tokens)."""
    return [run for run in _NOT_WORD.sub(" ", text).split(" ") if run]


@functools.lru_cache(maxsize=200_000)
def _index_terms_cached(text: str) -> tuple[str, ...]:
    runs = _split_runs(text)
    if len(runs) == 1:
        return _run_terms(runs[0])
    terms: dict[str, None] = {}
    for run in runs:
        terms.update(dict.fromkeys(_run_terms(run)))
    return tuple(terms)


@functools.lru_cache(maxsize=200_000)
def _run_terms(run: str) -> tuple[str, ...]:
    """Index terms of one run (cached apart: names recombine runs, 护照 + （遗失补办） …).

    A run holds only letters, digits and ideographs, so every token rjieba cuts from it is a word
    (what ``_keep`` checks for text in general)."""
    if is_ascii_word(run):
        return (run,)
    terms = dict.fromkeys(rjieba.cut_all(run))
    terms.update(dict.fromkeys(rjieba.cut_for_search(run)))
    terms.pop("", None)
    return tuple(terms)


def index_terms(text: str) -> list[str]:
    """Distinct terms of a short, normalised text (a name): every dictionary word, every character."""
    return list(_index_terms_cached(text)) if text else []


@functools.lru_cache(maxsize=50_000)
def _body_terms_cached(text: str) -> tuple[str, ...]:
    out: list[str] = []
    for run in _split_runs(text):
        if is_ascii_word(run):
            out.append(run)
            continue
        out.extend(t for t in rjieba.cut_for_search(run) if t)  # a run's tokens are words (see _run_terms)
    return tuple(out)


def body_terms(text: str) -> list[str]:
    """Search-mode terms of a long, normalised text (guide, materials, FAQ), with repetitions."""
    return list(_body_terms_cached(text)) if text else []


def cut(text: str) -> list[str]:
    """Precise-mode words of a cleaned text (spaces separate runs; ASCII words stay whole)."""
    words: list[str] = []
    for run in text.split(" "):
        if not run:
            continue
        if is_ascii_word(run):
            words.append(run)
            continue
        # rjieba keeps ASCII runs inside mixed text together ("icp备案" → "icp", "备案")
        words.extend(t for t in rjieba.cut(run, False) if _keep(t))
    return words


def query_words(text: str) -> list[str]:
    """Meaningful precise-mode words of a cleaned query (stop words dropped unless nothing else is left)."""
    words = cut(text)
    meaningful = [w for w in words if w not in STOP_WORDS]
    return meaningful or words


@functools.lru_cache(maxsize=200_000)
def _pinyin(word: str) -> tuple[str, str]:
    from pypinyin import Style, lazy_pinyin

    syllables = lazy_pinyin(word, errors="ignore")
    initials = lazy_pinyin(word, style=Style.FIRST_LETTER, errors="ignore")
    return "".join(syllables).lower(), "".join(initials).lower()


def pinyin_full(word: str) -> str:
    """Toneless full pinyin of the ideographs in ``word``: 社保 → ``shebao``; '' when none."""
    return _pinyin(word)[0] if word and has_cjk(word) else ""


def pinyin_initials(word: str) -> str:
    """Initials: 公积金 → ``gjj``; '' when ``word`` has no ideograph."""
    return _pinyin(word)[1] if word and has_cjk(word) else ""


def pinyin_syllables(word: str) -> list[str]:
    from pypinyin import lazy_pinyin

    return [s.lower() for s in lazy_pinyin(word, errors="ignore")] if word and has_cjk(word) else []


def pinyin_terms(words: Iterable[str]) -> list[str]:
    """Pinyin index terms for words: full pinyin and initials of every word of two or more ideographs."""
    out: dict[str, None] = {}
    for word in words:
        out.update(dict.fromkeys(_word_pinyin_terms(word)))
    return list(out)


@functools.lru_cache(maxsize=200_000)
def _word_pinyin_terms(word: str) -> tuple[str, ...]:
    if len(word) < 2 or not has_cjk(word):
        return ()
    full, initials = _pinyin(word)
    return tuple(t for t in (full, initials if len(initials) >= 2 else "") if t)


def char_bigrams(text: str) -> list[str]:
    """Overlapping ideograph bigrams of a normalised text (used for near-miss suggestions)."""
    chars = [c for c in text if _CJK.match(c)]
    return ["".join(chars[i : i + 2]) for i in range(len(chars) - 1)]


def levenshtein(a: str, b: str, limit: int = 3) -> int:
    """Edit distance with an early exit once every path exceeds ``limit`` (returns ``limit + 1``)."""
    if a == b:
        return 0
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        best = i
        for j, cb in enumerate(b, 1):
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            current.append(value)
            best = min(best, value)
        if best > limit:
            return limit + 1
        previous = current
    return previous[-1]

"""Text helpers for the hotline: normalisation (Traditional → Simplified, spaces), segmentation, similarity.

Pure functions; no Django. Used by the knowledge base, the classifier, duplicate detection (并单) and hot
topics. OpenCC ``t2s`` turns Traditional script into Simplified, rjieba segments words.
"""

from __future__ import annotations

import functools
import html
import re
import threading
from collections.abc import Iterable

import opencc
import rjieba

_SPACES = re.compile(r"[\s\u3000\xa0]+")
_TAGS = re.compile(r"<[^>]+>")
_PUNCT = re.compile(r"[\W_]+", re.UNICODE)
_local = threading.local()

#: Words that carry no meaning for matching (function words and hotline boilerplate).
STOPWORDS = frozenset(
    [
        "的",
        "了",
        "是",
        "在",
        "我",
        "我们",
        "你",
        "您",
        "他",
        "她",
        "它",
        "和",
        "与",
        "及",
        "或",
        "也",
        "都",
        "就",
        "还",
        "又",
        "请问",
        "请",
        "问",
        "吗",
        "呢",
        "吧",
        "啊",
        "么",
        "什么",
        "怎么",
        "如何",
        "为何",
        "为什么",
        "哪里",
        "哪些",
        "多少",
        "有",
        "没有",
        "无",
        "能",
        "能否",
        "可以",
        "可否",
        "是否",
        "要",
        "需要",
        "一个",
        "这个",
        "那个",
        "这",
        "那",
        "其",
        "之",
        "于",
        "对",
        "把",
        "被",
        "给",
        "让",
        "从",
        "到",
        "向",
        "等",
        "及其",
        "以及",
        "如果",
        "因为",
        "所以",
        "但是",
        "而且",
        "并且",
        "已经",
        "现在",
        "目前",
        "一直",
        "非常",
        "希望",
        "反映",
        "领导",
        "尊敬",
        "你好",
        "您好",
        "谢谢",
        "感谢",
        "问题",
        "情况",
        "相关",
        "有关",
        "规定",
        "办理",
    ]
)


def _converter() -> opencc.OpenCC:
    conv = getattr(_local, "t2s", None)
    if conv is None:
        conv = _local.t2s = opencc.OpenCC("t2s")
    return conv


def to_simplified(text: str) -> str:
    return _converter().convert(text or "")


def clean(text: str) -> str:
    """Unescape HTML entities, drop tags, collapse full-width and non-breaking spaces."""
    text = html.unescape(text or "")
    text = _TAGS.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def normalize(text: str) -> str:
    """Clean, convert to Simplified script and lower-case Latin letters."""
    return to_simplified(clean(text)).lower()


def words(text: str, *, drop_stopwords: bool = True) -> list[str]:
    """Segmented words of normalised ``text`` (punctuation and, by default, stopwords removed)."""
    result = []
    for word in rjieba.cut(normalize(text)):
        word = word.strip()
        if not word or _PUNCT.fullmatch(word):
            continue
        if drop_stopwords and word in STOPWORDS:
            continue
        result.append(word)
    return result


def shingles(text: str, n: int = 2) -> frozenset[str]:
    """Character n-grams of the normalised text without punctuation (for near-duplicate detection)."""
    compact = _PUNCT.sub("", normalize(text))
    if len(compact) < n:
        return frozenset([compact]) if compact else frozenset()
    return frozenset(compact[i : i + n] for i in range(len(compact) - n + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def containment(a: frozenset[str], b: frozenset[str]) -> float:
    """Share of the smaller set found in the larger (robust when one text is a short restatement)."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def similarity(a: str, b: str) -> float:
    """0–1 text similarity: the mean of character-bigram Jaccard and containment."""
    sa, sb = shingles(a), shingles(b)
    return round((jaccard(sa, sb) + containment(sa, sb)) / 2, 4)


def cluster(items: Iterable[tuple[object, str]], *, threshold: float = 0.35, probe: int = 5) -> list[list[object]]:
    """Greedy clustering of (key, text) pairs by bigram similarity; clusters largest first.

    Each text joins the cluster whose leader or one of its first ``probe`` members it resembles most (at
    least ``threshold``), else starts a cluster: linear in the number of clusters, fine for a week of orders.
    """
    groups: list[tuple[list[frozenset[str]], list[object]]] = []
    for key, text in items:
        sh = shingles(text)
        best, best_score = None, threshold
        for samples, members in groups:
            score = max((jaccard(sh, s) + containment(sh, s)) / 2 for s in samples)
            if score >= best_score:
                best, best_score = (samples, members), score
        if best is None:
            groups.append(([sh], [key]))
        else:
            if len(best[0]) < probe:
                best[0].append(sh)
            best[1].append(key)
    return sorted((members for _, members in groups), key=len, reverse=True)


@functools.lru_cache(maxsize=1)
def warm() -> None:
    """Load the segmenter's dictionary once (the first cut is slow)."""
    rjieba.cut("预热")

"""Pinyin lexicon and suggestion index (拼音词典、联想词). Pure: built from plain word lists.

:class:`PinyinLexicon` maps what people type in Latin letters back to the words the index knows:

- full pinyin, whole or run together: ``shebao`` → 社保, ``gangaotongxingzheng`` → 港澳 + 通行证
  (dynamic programming over the lexicon's keys: fewest words, then highest weight);
- initials: ``gjj`` → 公积金 (ambiguous, so several candidates ranked by weight);
- homophones for typing mistakes in ideographs: 港奥 → 港澳 (same pinyin, known word);
- near misses in pinyin (one edit): ``gongjijing`` → ``gongjijin``.

:class:`Suggester` answers prefix look-ups for the search box over names, their pinyin and initials and the
suffixes that start at a word boundary (``护照`` finds 办理及加注普通护照), ranked by weight.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterable
from dataclasses import dataclass

from . import text

MAX_KEY = 40


class PinyinLexicon:
    def __init__(self, words: dict[str, float]):
        """``words``: word → weight (document frequency, boosted for synonym terms and hot searches)."""
        self.words = words
        self.full: dict[str, list[tuple[float, str]]] = {}
        self.initials: dict[str, list[tuple[float, str]]] = {}
        self.by_first: dict[tuple[str, int], list[str]] = {}
        for word, weight in words.items():
            if len(word) < 2 or not text.has_cjk(word) or not text.has_cjk(word[0]):
                continue
            full = text.pinyin_full(word)
            initials = text.pinyin_initials(word)
            if full and len(full) <= MAX_KEY:
                self.full.setdefault(full, []).append((weight, word))
            if len(initials) >= 2:
                self.initials.setdefault(initials, []).append((weight, word))
        for table in (self.full, self.initials):
            for key, entries in table.items():
                entries.sort(key=lambda e: (-e[0], e[1]))
                table[key] = entries
        for key in self.full:
            self.by_first.setdefault((key[0], len(key)), []).append(key)
        self.max_full = max((len(k) for k in self.full), default=0)

    def __len__(self) -> int:
        return len(self.words)

    def best_full(self, key: str) -> str | None:
        entries = self.full.get(key)
        return entries[0][1] if entries else None

    def segment(self, letters: str) -> list[str] | None:
        """Full pinyin → the fewest known words that spell it exactly, or None."""
        n = len(letters)
        if not n or not self.full:
            return None
        inf = (10**9, 0.0)
        best: list[tuple[int, float]] = [inf] * (n + 1)
        back: list[tuple[int, str] | None] = [None] * (n + 1)
        best[0] = (0, 0.0)
        for i in range(n):
            if best[i] == inf:
                continue
            count, weight = best[i]
            for j in range(i + 2, min(n, i + self.max_full) + 1):
                entries = self.full.get(letters[i:j])
                if not entries:
                    continue
                w, word = entries[0]
                candidate = (count + 1, weight + w)
                if candidate[0] < best[j][0] or (candidate[0] == best[j][0] and candidate[1] > best[j][1]):
                    best[j] = candidate
                    back[j] = (i, word)
        if back[n] is None:
            return None
        words: list[str] = []
        j = n
        while j > 0:
            i, word = back[j]  # type: ignore[misc]
            words.append(word)
            j = i
        return list(reversed(words))

    def segment_initials(self, letters: str) -> list[str] | None:
        """Initials of two known words run together (``lhdj`` → 离婚, 登记), each part at least two letters."""
        best: tuple[float, list[str]] | None = None
        for cut in range(2, len(letters) - 1):
            left, right = self.initials.get(letters[:cut]), self.initials.get(letters[cut:])
            if left and right:
                weight = left[0][0] + right[0][0]
                if best is None or weight > best[0]:
                    best = (weight, [left[0][1], right[0][1]])
        return best[1] if best else None

    def by_initials(self, letters: str, limit: int = 3) -> list[str]:
        return [word for _, word in self.initials.get(letters, [])[:limit]]

    def homophone(self, word: str) -> str | None:
        """A better-known word with the same pinyin (港奥 → 港澳), or None."""
        full = text.pinyin_full(word)
        if not full or len(full) < 4:
            return None
        for _, candidate in self.full.get(full, []):
            if candidate != word and len(candidate) == len(word):
                return candidate
        return None

    def near(self, letters: str, max_distance: int = 1) -> str | None:
        """The closest full-pinyin key within ``max_distance`` edits (same first letter), or None."""
        if len(letters) < 5:
            return None
        best: tuple[int, float, str] | None = None
        for length in range(len(letters) - max_distance, len(letters) + max_distance + 1):
            for key in self.by_first.get((letters[0], length), ()):
                d = text.levenshtein(letters, key, max_distance)
                if d <= max_distance:
                    weight = self.full[key][0][0]
                    if best is None or (d, -weight) < (best[0], -best[1]):
                        best = (d, weight, key)
        return best[2] if best else None


@dataclass(frozen=True)
class Suggestion:
    text: str
    weight: float


class Suggester:
    """Prefix index over display strings: Chinese text, full pinyin, initials and word-start suffixes."""

    SCAN_LIMIT = 4000
    PREFIX_TOP_LENGTH = 16  # prefixes up to this length that many keys share keep their best displays
    PREFIX_TOP_MIN = 200
    PREFIX_TOP = 64

    def __init__(self, entries: Iterable[tuple[str, float]]):
        weights: dict[str, float] = {}
        for display, weight in entries:
            display = display.strip()
            if display:
                weights[display] = max(weight, weights.get(display, 0.0))
        self.displays = list(weights)
        self.weights = [weights[d] for d in self.displays]
        pairs: set[tuple[str, int]] = set()
        for idx, display in enumerate(self.displays):
            for key in self._keys(display):
                pairs.add((key, idx))
        ordered = sorted(pairs)
        self.keys = [k for k, _ in ordered]
        self.targets = [i for _, i in ordered]
        self._top = self._top_for_short_prefixes()

    def _top_for_short_prefixes(self) -> dict[str, list[int]]:
        """For a prefix shared by many keys ("l", "护", "sh", "chaxun"): its best displays, computed once.

        Without it, such a prefix would scan thousands of keys per keystroke (and see only the first
        ``SCAN_LIMIT`` of them). Only groups of more than ``PREFIX_TOP_MIN`` keys are split further.
        """
        top: dict[str, list[int]] = {}
        pending = [(0, len(self.keys), 1)]
        while pending:
            start, stop, length = pending.pop()
            while start < stop:
                prefix = self.keys[start][:length]
                if len(prefix) < length:  # a shorter key ("办") sorts first in its group; step over it alone
                    start = bisect.bisect_right(self.keys, prefix, start, stop)
                    continue
                end = bisect.bisect_left(self.keys, prefix + "\U0010ffff", start, stop)
                if end - start > self.PREFIX_TOP_MIN:
                    # the order suggest() gives when the typed prefix is this key
                    top[prefix] = heapq.nsmallest(
                        self.PREFIX_TOP, set(self.targets[start:end]), key=self._ranking(prefix)
                    )
                    if length < self.PREFIX_TOP_LENGTH:
                        pending.append((start, end, length + 1))
                start = end
        return top

    def _ranking(self, prefix: str):
        """Heavier first; at equal weight, displays that start with what was typed, then shorter ones."""
        weights, displays = self.weights, self.displays
        return lambda i: (-weights[i], not displays[i].startswith(prefix), len(displays[i]))

    @staticmethod
    def _keys(display: str) -> set[str]:
        normalized = text.clean_query(display, max_length=200).replace(" ", "")
        keys = {normalized}
        words = [w for w in text.cut(text.clean_query(display, max_length=200)) if w]
        if text.has_cjk(normalized):
            full = "".join(text.pinyin_full(w) or w for w in words)
            initials = "".join(text.pinyin_initials(w) or w[:1] for w in words)
            keys.update({full, initials})
            offset = 0
            for i, word in enumerate(words[:-1]):  # suffixes at word starts: 办理及加注普通护照 → 普通护照, 护照
                offset += len(word)
                rest = words[i + 1 :]
                keys.add(normalized[offset:])
                keys.add("".join(text.pinyin_full(w) or w for w in rest))
        return {k for k in keys if k}

    def __len__(self) -> int:
        return len(self.keys)

    def bigram_index(self) -> dict[str, list[int]]:
        """Ideograph bigram → displays containing it (for "did you mean"), built on first use."""
        index = self.__dict__.get("_bigrams")
        if index is None:
            index = {}
            for idx, display in enumerate(self.displays):
                for gram in dict.fromkeys(text.char_bigrams(display)):
                    index.setdefault(gram, []).append(idx)
            self.__dict__["_bigrams"] = index
        return index

    def suggest(self, prefix: str, limit: int = 8) -> list[Suggestion]:
        key = text.clean_query(prefix).replace(" ", "")
        if not key:
            return []
        seen: dict[int, None] | list[int] | None = self._top.get(key)
        if seen is None:
            seen = {}
            lo = bisect.bisect_left(self.keys, key)
            for pos in range(lo, min(len(self.keys), lo + self.SCAN_LIMIT)):
                if not self.keys[pos].startswith(key):
                    break
                seen[self.targets[pos]] = None
        # exact-start matches of the display beat matches through a suffix or pinyin at equal weight
        ranked = heapq.nsmallest(limit, seen, key=self._ranking(prefix.strip()))
        return [Suggestion(self.displays[i], self.weights[i]) for i in ranked]

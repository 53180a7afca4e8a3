"""Query planning and ranking (检索与排序) over an :class:`~yiwang.search.index.IndexStore`. No ORM.

A query goes through the same steps everywhere (API, portal, CLI, benchmarks):

1. :func:`text.clean_query` — normalise, Simplified, no syntax characters, at most 100 characters.
2. :meth:`SearchEngine.plan` — split into *concepts*: known synonym terms first (longest match), the rest
   by rjieba; Latin letters become words through the pinyin lexicon (full pinyin, initials, one-edit near
   misses); an ideograph word the index has never seen is replaced by a known homophone (港奥 → 港澳).
   Every concept carries its alternatives (the word and its synonyms). Corrections give "did you mean".
3. :meth:`SearchEngine.query` — per concept, an OR over alternatives × fields with BM25 field boosts
   (name ≫ short name/aliases ≫ department ≫ materials/FAQ/guide, plus pinyin), concepts ORed so that
   documents matching more of them rank higher; facet filters as zero-score MUST clauses; the user's
   region first through constant-score SHOULD clauses; popularity through ``weight_by_field``.
"""

from __future__ import annotations

import functools
import gc
import json
import math
import struct
import sys
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import astuple, dataclass, field, replace
from itertools import chain, combinations
from typing import Any

import tantivy

from . import text
from .index import (
    SCHEMA,
    SCHEMA_VERSION,
    FacetValues,
    IndexStore,
    card_facets,
    contents_of,
    filter_doc_freq,
    filter_query,
    region_prefixes,
)
from .lexicon import PinyinLexicon, Suggester, Suggestion
from .synonyms import SynonymTable

POPULAR = filter_query("tier", "popular")
# one document per content (schema 4, decision 0022)
REPRESENTATIVES = tantivy.Query.const_score_query(filter_query("rep", "1"), 0.0)
FIELD_BOOSTS = {"title": 4.0, "alias": 2.5, "dept": 0.8, "materials": 0.5, "faq": 0.5, "guide": 0.3}
LONG_FIELDS = frozenset({"guide", "faq"})
NAME_FIELDS = frozenset({"title", "alias"})
PINYIN_BOOST = 2.0
SYNONYM_WEIGHT = 0.9
INITIALS_WEIGHTS = (1.0, 0.4, 0.25)  # initials are ambiguous: the most typed reading leads clearly
CORRECTION_WEIGHT = 1.0
# Constant scores added for the user's region: an implementation that applies to the user (their county,
# city or province), and one in the same city or county subtree.
REGION_APPLIES = 2.0
REGION_SAME_CITY = 1.5
REGION_SAME_COUNTY = 1.5
FACETS = ("kind", "department", "level", "theme", "audience", "online")  # Filters' facets (index.filter_query names)
MAX_OFFSET = 1000
RERANK_POOL = 10  # at least this many candidates from each partial search
FACET_TOP = 100  # facet counts are taken over this many top results
EXACT_COUNT_POSTINGS = 30_000  # count matches exactly when the query's terms have at most this many postings
FACET_SETS_MAX = 200_000  # distinct facet-value sets remembered per process (see SearchEngine.facet_sets)
BM25_K1 = 1.2  # tantivy's BM25 term-frequency saturation (see SearchEngine.department_bound)
DEPARTMENT_CONTENTS = 100  # representatives asked for when the query has department clauses (decision 0026)
DEPARTMENT_SLACK = 1e-3  # relative margin for float32 sums in the department bound
REGION_SLACK = 1e-3  # relative margin for float32 sums in the region classes' bound (decision 0030)
PREPARED_MAX = 4096  # prepared queries (plan and text query) remembered per engine (see SearchEngine.prepare)
PREPARED_SECONDS = 10.0  # ... for at most this long (a plan asks the index which words it knows)
RESULT_CACHE_SECONDS = 10.0  # a remembered result is answered again for at most this long (see SearchEngine.search)


@dataclass
class Concept:
    source: str
    alternatives: list[tuple[str, float]]
    pinyin: list[str] = field(default_factory=list)  # Latin-letter terms for the pinyin field
    fuzzy: bool = False


@dataclass
class Plan:
    cleaned: str
    concepts: list[Concept]
    corrected: str | None = None

    @property
    def empty(self) -> bool:
        return not self.concepts

    def describe(self) -> list[dict[str, Any]]:
        return [
            {"source": c.source, "alternatives": [a for a, _ in c.alternatives], "pinyin": c.pinyin}
            for c in self.concepts
        ]


@dataclass(frozen=True)
class Prepared:
    """A planned query: its plan, the text query's clauses (with their fields) and the text query itself."""

    plan: Plan
    clauses: list[tuple[str, tuple[tantivy.Occur, tantivy.Query]]]
    matched: tantivy.Query


@dataclass
class Filters:
    kind: str | None = None
    department: str | None = None
    level: str | None = None
    theme: str | None = None
    audience: str | None = None
    online: bool | None = None
    region_prefix: str | None = None  # only documents inside this region (code prefix)


@dataclass
class Hit:
    score: float
    card: dict[str, Any]


@dataclass
class Results:
    query: str
    cleaned: str
    total: int
    hits: list[Hit]
    total_exact: bool = True  # False: ``total`` is an estimate (shown as "约")
    corrected: str | None = None
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    facets_over: int = 0  # the facet counts cover the top ``facets_over`` results
    took_ms: float = 0.0
    plan: Plan | None = None


class SearchEngine:
    """Plans and runs queries; keeps the pinyin lexicon and the suggester for the live generation."""

    LEXICON_TTL = 300.0

    def __init__(
        self,
        store: IndexStore,
        *,
        synonyms: Callable[[], SynonymTable] = SynonymTable,
        extra_words: Callable[[], Iterable[tuple[str, float]]] = list,
        result_cache: int = 0,
    ):
        self.store = store
        self.result_cache = result_cache  # results remembered (0: none), see :meth:`search`
        self.freeze_gc = False  # serving processes: hide each new lexicon from the collector (see _built)
        # search the whole index through one representative document per content (schema 4, decision 0022);
        # off: every matching document is walked (as for a schema-3 index)
        self.representatives = True
        self._results: OrderedDict[tuple, tuple[float, Results]] = OrderedDict()
        self._results_lock = threading.Lock()
        self._synonyms = synonyms
        self._extra_words = extra_words
        self._lexicon: tuple[object, float, PinyinLexicon, Suggester] | None = None
        self._lexicon_sources: tuple[object, ...] | None = None
        self._lock = threading.Lock()
        self._facet_sets: dict[int, FacetValues] = {}
        self._prepared: dict[tuple, tuple[float, object, Prepared]] = {}

    # --- lexicon ----------------------------------------------------------------------------------------
    def invalidate(self) -> None:
        self._lexicon = None
        with self._results_lock:
            self._results.clear()

    def _lexicons(self) -> tuple[PinyinLexicon, Suggester]:
        """Lexicon and suggester for the live generation and synonyms; refreshed in the background."""
        key = (self.store.generation, self._synonyms().signature)
        cached = self._lexicon
        if cached and cached[0] == key:
            if time.monotonic() - cached[1] >= self.LEXICON_TTL and self._lock.acquire(blocking=False):
                self._lexicon = (key, time.monotonic(), cached[2], cached[3])  # one refresher at a time
                self._lock.release()
                threading.Thread(target=self._refresh, args=(key,), daemon=True).start()
            return cached[2], cached[3]
        with self._lock:
            cached = self._lexicon
            if cached and cached[0] == key:
                return cached[2], cached[3]
            sources = self._sources()
            pinyin, suggester = self._build_lexicons()
            self._lexicon = (key, time.monotonic(), pinyin, suggester)
            self._lexicon_sources = sources
            self._built()
            return pinyin, suggester

    def _sources(self) -> tuple[object, ...]:
        """What the lexicon is built from, cheaply compared: the index's last commit and the hot words."""
        try:
            commit = (self.store.path / str(self.store.generation) / "meta.json").stat().st_mtime_ns
        except OSError:
            commit = None
        return (commit, tuple(self._extra_words()))

    def _refresh(self, key: object) -> None:
        """Rebuild the lexicon in the background when the index or the hot words changed since it was built.

        A rebuild walks every name term (seconds of CPU at province scale, most of it holding the GIL, so the
        worker's searches slow down meanwhile): skipped when nothing changed (decision 0015)."""
        try:
            sources = self._sources()
            cached = self._lexicon
            if cached is not None and sources == self._lexicon_sources:
                return
            pinyin, suggester = self._build_lexicons()
        except Exception:  # keep serving the old lexicon
            return
        self._lexicon = (key, time.monotonic(), pinyin, suggester)
        self._lexicon_sources = sources
        self._built()

    def _built(self) -> None:
        """After a lexicon build: with ``freeze_gc``, move every object alive now out of the collector's reach.

        The lexicon and the suggester hold millions of entries in a few large containers; each full (gen-2)
        collection walked all of them — 0.1–0.2 s with the GIL held, every few seconds under load: the
        stalls of a serving worker (decision 0020). Frozen objects are still freed by reference counting
        when the next lexicon replaces them; only garbage cycles among them would stay.
        """
        if self.freeze_gc:
            gc.freeze()

    def _build_lexicons(self) -> tuple[PinyinLexicon, Suggester]:
        searcher = self.store.searcher()
        words: dict[str, float] = {}
        names: list[tuple[str, float]] = []
        if searcher is not None:
            for fname in ("title", "alias"):
                for term, freq in searcher.terms_with_prefix(fname, ""):
                    if len(term) >= 2 and text.has_cjk(term):
                        words[term] = words.get(term, 0.0) + float(freq)
            names = [(t, float(f)) for t, f in searcher.terms_with_prefix("title_exact", "")]
        synonyms = self._synonyms()
        top = max(words.values(), default=1.0)
        for term in synonyms.terms:  # what people type outranks what the catalogue happens to repeat
            words[term] = max(words.get(term, 0.0), top * 2 + synonyms.weights.get(term, 0))
        extra = list(self._extra_words())
        for word, weight in extra:
            for w in text.query_words(text.clean_query(word)):
                if len(w) >= 2:
                    words[w] = max(words.get(w, 0.0), weight)
        name_top = max((w for _, w in names), default=1.0)
        typed = [(term, name_top + synonyms.weights.get(term, 0)) for term in synonyms.terms if len(term) >= 2]
        suggester = Suggester([*names, *typed, *((w, name_top * 2 + 1000 + wt) for w, wt in extra)])
        return PinyinLexicon(words), suggester

    def warm(self) -> None:
        _, suggester = self._lexicons()
        suggester.bigram_index()
        self._built()

    # --- planning ---------------------------------------------------------------------------------------
    def plan(self, query: str) -> Plan:
        cleaned = text.clean_query(query)
        if not cleaned:
            return Plan(cleaned="", concepts=[])
        plan = self._plan(cleaned, drop_stop_words=True)
        return plan if plan.concepts else self._plan(cleaned, drop_stop_words=False)

    def prepare(self, query: str) -> Prepared:
        """The plan of ``query`` and its text query, remembered per cleaned query (not a result: the searches
        still run), for the index snapshot, synonyms and lexicon it was made with and for at most
        ``PREPARED_SECONDS``: planning (segmentation, pinyin, synonyms, the index's known words) and building
        the tantivy query objects cost ~0.2–0.3 ms per search (decision 0030)."""
        cleaned = text.clean_query(query)
        lexicon, _ = self._lexicons()
        key = (cleaned, self._snapshot(), self._synonyms().signature)
        now = time.monotonic()
        entry = self._prepared.get(key)
        if entry is not None and entry[1] is lexicon and now - entry[0] < PREPARED_SECONDS:
            return entry[2]
        plan = self.plan(query)
        clauses = self.text_clauses(plan)
        matched = tantivy.Query.boolean_query([c for _, c in clauses]) if clauses else tantivy.Query.empty_query()
        prepared = Prepared(plan=plan, clauses=clauses, matched=matched)
        if len(self._prepared) >= PREPARED_MAX:
            self._prepared.clear()
        self._prepared[key] = (now, lexicon, prepared)
        return prepared

    def _plan(self, cleaned: str, *, drop_stop_words: bool) -> Plan:
        synonyms = self._synonyms()
        lexicon, _ = self._lexicons()
        searcher = self.store.searcher()

        def known(word: str) -> bool:
            if searcher is None:
                return False
            return searcher.doc_freq("title", word) > 0 or searcher.doc_freq("alias", word) > 0

        concepts: list[Concept] = []
        rendering: list[str] = []
        changed = False

        def add_word(word: str) -> None:
            alternatives = [(word, 1.0)] + [(alt, SYNONYM_WEIGHT) for alt in synonyms.expand(word)[1:]]
            pinyin = [text.pinyin_full(word)] if len(word) >= 2 and text.has_cjk(word) else []
            concepts.append(Concept(source=word, alternatives=alternatives, pinyin=[p for p in pinyin if p]))

        for piece, is_term in synonyms.segment(cleaned):
            if is_term:
                add_word(piece)
                rendering.append(piece)
                continue
            words = text.cut(piece)
            if drop_stop_words:
                words = [w for w in words if w not in text.STOP_WORDS]
            words = _merge_single_characters(words, lexicon, known)
            for word in words:
                if text.is_letters(word):
                    resolved = self._resolve_letters(word, lexicon)
                    if resolved is not None:
                        kind, chinese = resolved
                        if kind == "initials":
                            alternatives = []
                            for rank, w in enumerate(chinese):
                                weight = INITIALS_WEIGHTS[min(rank, len(INITIALS_WEIGHTS) - 1)]
                                alternatives.append((w, weight))
                                alternatives.extend((alt, SYNONYM_WEIGHT * weight) for alt in synonyms.expand(w)[1:])
                            concepts.append(Concept(source=word, alternatives=alternatives, pinyin=[word]))
                            rendering.append(chinese[0])
                        else:
                            for w in chinese:
                                add_word(w)
                            concepts[-1].pinyin.append(word)
                            rendering.extend(chinese)
                        changed = True
                        continue
                    concepts.append(Concept(source=word, alternatives=[(word, 1.0)], pinyin=[word], fuzzy=True))
                    rendering.append(word)
                    continue
                if len(word) >= 2 and text.has_cjk(word) and word not in synonyms and not known(word):
                    better = lexicon.homophone(word)
                    if better:
                        alternatives = [(better, CORRECTION_WEIGHT), (word, 0.5)]
                        alternatives += [(alt, SYNONYM_WEIGHT) for alt in synonyms.expand(better)[1:]]
                        concepts.append(
                            Concept(source=word, alternatives=alternatives, pinyin=[text.pinyin_full(word)])
                        )
                        rendering.append(better)
                        changed = True
                        continue
                if len(word) >= 3 and text.has_cjk(word) and word not in synonyms and not known(word):
                    parts = [p for p in text.body_terms(word) if len(p) >= 2 and p != word and known(p)]
                    if parts:  # 用电量 → 用电, 电量: the parts the index knows
                        alternatives = [(word, 1.0)] + [(p, 0.8) for p in parts]
                        concepts.append(
                            Concept(source=word, alternatives=alternatives, pinyin=[text.pinyin_full(word)])
                        )
                        rendering.append(word)
                        continue
                add_word(word)
                rendering.append(word)
        corrected = "".join(rendering) if changed else None
        return Plan(cleaned=cleaned, concepts=concepts, corrected=corrected)

    @staticmethod
    def _resolve_letters(word: str, lexicon: PinyinLexicon) -> tuple[str, list[str]] | None:
        if len(word) <= 4:  # short: initials first ("sb", "gjj", "yyzz"), then full pinyin ("hz" is not)
            candidates = lexicon.by_initials(word)
            if candidates:
                return "initials", candidates
            if len(word) == 4:  # two words' initials run together: lhdj → 离婚 + 登记
                joined = lexicon.segment_initials(word)
                if joined:
                    return "full", joined
        segmented = lexicon.segment(word)
        if segmented:
            return "full", segmented
        if len(word) > 4:
            candidates = lexicon.by_initials(word)
            if candidates:
                return "initials", candidates
        near = lexicon.near(word)
        if near:
            segmented = lexicon.segment(near)
            if segmented:
                return "full", segmented
        return None

    # --- the tantivy query ------------------------------------------------------------------------------
    @staticmethod
    def _field_query(fname: str, alternative: str, boost: float) -> tantivy.Query | None:
        words = [w for w in text.cut(alternative) if w]
        if not words:
            return None
        if len(words) == 1:
            q = tantivy.Query.term_query(SCHEMA, fname, words[0], index_option="freq")
        else:
            q = tantivy.Query.boolean_query(
                [(tantivy.Occur.Must, tantivy.Query.term_query(SCHEMA, fname, w, index_option="freq")) for w in words]
            )
        return tantivy.Query.boost_query(q, boost)

    def text_query(self, plan: Plan) -> tantivy.Query:
        clauses = [clause for _, clause in self.text_clauses(plan)]
        if not clauses:
            return tantivy.Query.empty_query()
        # One flat disjunction of (boosted) term queries: the same BM25 sum as grouping per concept, but
        # tantivy can prune it (block-max WAND) instead of walking nested unions.
        return tantivy.Query.boolean_query(clauses)

    def text_clauses(self, plan: Plan) -> list[tuple[str, tuple[tantivy.Occur, tantivy.Query]]]:
        """The text query's SHOULD clauses, each with the field it searches (``py`` for pinyin)."""
        clauses = []
        for concept in plan.concepts:
            for position, (alternative, weight) in enumerate(concept.alternatives):
                for fname, boost in FIELD_BOOSTS.items():
                    if position and fname in LONG_FIELDS:
                        continue  # long text only for the first reading: fewer clauses, the same top results
                    if len(alternative) == 1 and fname not in NAME_FIELDS:
                        continue  # a lone character (无, 证) is in most guides: it ranks names, not texts
                    q = self._field_query(fname, alternative, boost * weight)
                    if q is not None:
                        clauses.append((fname, (tantivy.Occur.Should, q)))
            for term in dict.fromkeys(concept.pinyin):
                clauses.append(
                    (
                        "py",
                        (
                            tantivy.Occur.Should,
                            tantivy.Query.boost_query(
                                tantivy.Query.term_query(SCHEMA, "py", term, index_option="freq"), PINYIN_BOOST
                            ),
                        ),
                    )
                )
                if concept.fuzzy and len(term) >= 5:
                    clauses.append(
                        (
                            "py",
                            (
                                tantivy.Occur.Should,
                                tantivy.Query.boost_query(
                                    tantivy.Query.fuzzy_term_query(SCHEMA, "py", term, distance=1), PINYIN_BOOST * 0.5
                                ),
                            ),
                        )
                    )
        return clauses

    @staticmethod
    def filter_clauses(filters: Filters | None) -> list[tuple[tantivy.Occur, tantivy.Query]]:
        if filters is None:
            return []
        clauses = []

        def must(name: str, value: str) -> None:
            clauses.append((tantivy.Occur.Must, tantivy.Query.const_score_query(filter_query(name, value), 0.0)))

        for name in FACETS:
            value = getattr(filters, name)
            if value is None or value == "":
                continue
            must(name, ("1" if value else "0") if isinstance(value, bool) else str(value))
        if filters.region_prefix:
            must("region_anc", filters.region_prefix)
        return clauses

    @staticmethod
    def region_clauses(region_code: str | None) -> list[tuple[tantivy.Occur, tantivy.Query]]:
        if not region_code:
            return []
        prefixes = region_prefixes(region_code)
        clauses = []

        def boost(name: str, value: str, score: float) -> None:
            # A term per clause (not a term set): a term scorer seeks to the text matches, a set builds a bitset
            clauses.append((tantivy.Occur.Should, tantivy.Query.const_score_query(filter_query(name, value), score)))

        for prefix in prefixes:  # implementations that apply to the user: their county, city, province
            boost("region_code", prefix.ljust(12, "0"), REGION_APPLIES)
        if len(prefixes) >= 2:
            boost("region_anc", prefixes[1], REGION_SAME_CITY)
        if len(prefixes) >= 3:
            boost("region_anc", prefixes[2], REGION_SAME_COUNTY)
        return clauses

    @staticmethod
    def region_classes(region_code: str | None) -> tuple[tuple[tantivy.Query, float], ...]:
        """The documents the user's region lifts, in classes of equal region score, each with that score.

        The region clauses (:meth:`region_clauses`) add ``REGION_APPLIES`` for each of the user's regions
        (province, city, county …) that is the document's own, ``REGION_SAME_CITY`` inside the user's city
        subtree and ``REGION_SAME_COUNTY`` inside the county subtree. Regions nest, so a document's sum is
        that of its class: the city subtree (listed first), the county subtree, or one of the user's own regions
        (the sum of the clauses that match a document of that region: a city without counties, such as
        Zhongshan 442000, is its own city and "county"). A document in several classes has the largest
        sum of them (the scores are not negative). The sums are exact in float32 (see :func:`_exact_sum`), so
        a class's constant is the clauses' sum to the bit."""
        return _region_classes(region_code or "", REGION_APPLIES, REGION_SAME_CITY, REGION_SAME_COUNTY)

    @classmethod
    def region_scopes(cls, region_code: str | None) -> tuple[tuple[tantivy.Query, float], ...]:
        """Required clauses, one per region class (:meth:`region_classes`), that restrict a search to the class
        and give each of its documents the class's region score (decision 0030): ANDed with the text query, a
        document scores text + region score in one float addition, as text + the region clauses' sum does —
        the exact score of the class's own documents, and at most it for a document of a higher class (the
        city subtree holds the county's).

        One search per class, each a constant-score term: the region clauses as optional clauses made tantivy
        score the city subtree's postings window by window (1.7 of 5.4 ms per search at 2.3 M), and so did a
        disjunction-max of the classes' constants (the union of the county subtree and the province's own
        documents); a term ANDed with the text query is walked by skipping (decision 0030's measurements).
        """
        return _region_scopes(region_code or "", REGION_APPLIES, REGION_SAME_CITY, REGION_SAME_COUNTY)

    # --- running ----------------------------------------------------------------------------------------
    def search(
        self,
        query: str,
        *,
        region_code: str | None = None,
        filters: Filters | None = None,
        limit: int = 10,
        offset: int = 0,
        facets: bool = False,
        count: bool = True,
    ) -> Results:
        """Top ``limit`` hits after ``offset``; the score is (text + region) × popularity weight.

        Ranking runs as a few top-k searches whose union holds the exact top results:

        - the text query alone over the whole index: without filters on a schema-4 index through one
          representative document per content (:meth:`whole_index`, decision 0022) — a common word matches
          100,000+ implementations at province scale, most of them exact ties that block-max WAND cannot
          prune; otherwise a flat disjunction of term queries over every match;
        - the text query with the region clauses and the popularity weight, restricted to popular documents;
        - the text query restricted to each region class (:meth:`region_scopes`: the user's own regions, the
          county and city subtrees), its region score a constant, highest first — down to the first class
          whose best possible score (the best text score of any match plus its region score) is below a score
          that ``pool`` documents found so far already reach (decision 0030).

        A document's score in these searches is never above its true score, and it is exact in the search
        of its own group (no region score and no popularity; in a scope; popular). The index keeps popular
        documents, and a county's documents, together (see ``index._bucket``), so a restricted search walks a
        short stretch of each posting list.

        ``total`` is exact when the query's terms have few postings (≤ ``EXACT_COUNT_POSTINGS``), otherwise
        an estimate from the terms' document frequencies (``Results.total_exact`` is False: "约").

        With ``result_cache`` > 0 the engine remembers that many recent results (least recently used out),
        keyed by the cleaned query, region, filters and page and by the index snapshot (generation and last
        commit) and the synonyms; an entry is answered for at most ``RESULT_CACHE_SECONDS`` (a commit seen
        late by the reader cannot keep an old result longer), as a copy (callers decorate the cards).
        """
        if self.result_cache <= 0:
            return self._search(query, region_code, filters, limit, offset, facets, count)
        started = time.perf_counter()
        key = (
            text.clean_query(query),
            region_code or "",
            astuple(filters) if filters is not None else None,
            limit,
            offset,
            facets,
            count,
            self._snapshot(),
            self._synonyms().signature,
        )
        now = time.monotonic()
        with self._results_lock:
            entry = self._results.get(key)
            if entry is not None and now - entry[0] < RESULT_CACHE_SECONDS:
                self._results.move_to_end(key)
                cached = entry[1]
            else:
                cached = None
        if cached is not None:
            hits = [Hit(score=h.score, card=dict(h.card)) for h in cached.hits]
            return replace(cached, query=query, hits=hits, took_ms=_ms(started))
        out = self._search(query, region_code, filters, limit, offset, facets, count)
        hits = [Hit(score=h.score, card=dict(h.card)) for h in out.hits]
        with self._results_lock:
            self._results[key] = (now, replace(out, hits=hits))
            self._results.move_to_end(key)
            while len(self._results) > self.result_cache:
                self._results.popitem(last=False)
        return out

    def _snapshot(self) -> tuple[str | None, int | None]:
        """The live generation and its last commit (``meta.json``'s time): results change with either."""
        generation = self.store.generation
        try:
            commit = (self.store.path / str(generation) / "meta.json").stat().st_mtime_ns
        except OSError:
            commit = None
        return generation, commit

    def _search(
        self,
        query: str,
        region_code: str | None,
        filters: Filters | None,
        limit: int,
        offset: int,
        facets: bool,
        count: bool,
    ) -> Results:
        started = time.perf_counter()
        prepared = self.prepare(query)
        plan = prepared.plan
        searcher = self.store.searcher()
        if plan.empty or searcher is None:
            return Results(
                query=query,
                cleaned=plan.cleaned,
                total=0,
                hits=[],
                corrected=plan.corrected,
                took_ms=_ms(started),
                plan=plan,
            )
        matched = prepared.matched
        filter_clauses = self.filter_clauses(filters)
        region_clauses = self.region_clauses(region_code)
        limit = max(1, min(limit, 100))
        offset = max(0, min(offset, MAX_OFFSET))
        pool = max(offset + limit, FACET_TOP if facets else RERANK_POOL)
        base = [(tantivy.Occur.Must, matched), *filter_clauses]
        filtered = tantivy.Query.boolean_query(base) if filter_clauses else matched
        best: dict[tuple[int, int], tuple[float, Any]] = {}

        def take(hits: list[tuple[float, Any]], floor: float = -math.inf) -> None:
            """Merge ``hits`` (best first) down to ``floor``: a score below it cannot reach the top ``pool``."""
            for score, address in hits:
                if score < floor:
                    break
                key = (address.segment_ord, address.doc)
                seen = best.get(key)
                if seen is None or score > seen[0]:
                    best[key] = (float(score), address)

        if filter_clauses or not self.representatives or self.store.schema_version != SCHEMA_VERSION:
            found = searcher.search(filtered, limit=pool, count=False).hits
            ceiling = found[0][0] if found else None  # the best text score of any match: exact
        else:  # filters can differ between the documents of one content: those searches walk every match
            found, ceiling = self.whole_index(searcher, plan, matched, pool, prepared.clauses)
        take(found)  # not in score order (department hits, then contents)
        if ceiling is not None:  # else nothing matches the text query: no search below can find anything
            popular = (tantivy.Occur.Must, tantivy.Query.const_score_query(POPULAR, 0.0))
            hits = searcher.search(
                tantivy.Query.boolean_query([*base, popular, *region_clauses]),
                limit=pool,
                count=False,
                weight_by_field="boost",
            ).hits
            floor = _floor([score for score, _ in best.values()], pool)  # at least ``pool`` documents reach it
            take(hits, floor)
            floor = max(floor, _floor([score for score, _ in best.values()], pool))
            for scope, region in self.region_scopes(region_code):  # the highest region score first
                # a document of this class scores at most ceiling + region: below the floor, none of them can
                # reach the top ``pool`` (at least ``pool`` documents score the floor or more), nor any of a
                # later class (lower region score)
                most = ceiling + region
                if most + REGION_SLACK * (abs(most) + 1.0) < floor:
                    break
                hits = searcher.search(
                    tantivy.Query.boolean_query([*base, (tantivy.Occur.Must, scope)]), limit=pool, count=False
                ).hits
                if len(hits) >= pool:  # ``pool`` distinct documents, best first
                    floor = max(floor, hits[pool - 1][0])
                take(hits, floor)
        # by score, then address: sorted as plain tuples (no key function called per result)
        ranked = [(key, best[key]) for _, key in sorted([(-s, key) for key, (s, _) in best.items()])]
        cards: dict[tuple[int, int], dict[str, Any]] = {}
        hits = []
        for key, (score, address) in ranked[offset : offset + limit]:
            cards[key] = _card(searcher, address)
            hits.append(Hit(score=score, card=cards[key]))
        total, exact = self.count(searcher, plan, filtered, filters) if count else (len(hits), True)
        out = Results(
            query=query,
            cleaned=plan.cleaned,
            total=max(total, offset + len(hits)) if hits else total,
            total_exact=exact,
            hits=hits,
            corrected=plan.corrected,
            plan=plan,
        )
        if facets:  # over the top results (as ranked for this user), not over every match
            top = ranked[:FACET_TOP]
            out.facets = self.count_facets(self.facet_sets(searcher, top, cards))
            out.facets_over = len(top)
        out.took_ms = _ms(started)
        return out

    def whole_index(
        self,
        searcher: tantivy.Searcher,
        plan: Plan,
        matched: tantivy.Query,
        pool: int,
        clauses: list[tuple[str, tuple[tantivy.Occur, tantivy.Query]]],
    ) -> tuple[list[tuple[float, Any]], float | None]:
        """What the text query alone over the whole index contributes to the top ``pool`` (decision 0022), and
        a ceiling of every match's text score (None when nothing matches; decision 0030).

        Documents with one content digest (``index.content_digest``) get the same text score but for the
        department field, and exact ties are what keep tantivy from pruning (a service implemented in every
        region: thousands of documents share the top score). So the whole-index search runs in three parts:

        - the text query without its department clauses over the representatives (one document per content):
          each content's score, which is the exact score of every document of it whose department does not
          match, and a lower bound for the others;
        - the contents expanded best first, in groups of equal score: each group's documents in index order
          (the order in which equal scores rank), at most ``pool`` per group, until ``pool`` documents are
          there — every document of a later group ranks below all of them;
        - the full text query over the documents whose department matches (their exact score).

        Every score is at most the document's score in the one text search, and exact in its own part, so the
        caller's merge (the highest score per document) gives the same top ``pool`` — hits and scores — as
        the text search over every document (a test compares them).
        """
        content = [clause for fname, clause in clauses if fname != "dept"]
        department = [clause for fname, clause in clauses if fname == "dept"]
        must = tantivy.Occur.Must
        if not content:
            hits = self._department_hits(searcher, matched, department, pool) if department else []
            return hits, (hits[0][0] if hits else None)  # every match matches a department clause: exact
        query = tantivy.Query.boolean_query([(must, tantivy.Query.boolean_query(content)), (must, REPRESENTATIVES)])
        # 0: no department holds a word of the query (every department clause matches nothing)
        bound = self.department_bound(searcher, plan) if department else 0.0
        # with department matches, enough contents to restrict the department search (the expansion is the same)
        limit = max(pool, DEPARTMENT_CONTENTS) if bound > 0 else pool
        while True:
            hits = searcher.search(query, limit=limit, count=False).hits
            digests = contents_of(searcher, [address for _, address in hits])
            expanded: list[tuple[float, Any]] = []
            start, complete = 0, True
            while start < len(hits) and len(expanded) < pool:
                score = hits[start][0]
                end = start + 1
                while end < len(hits) and hits[end][0] == score:
                    end += 1
                if end == len(hits) == limit:  # this group may go on beyond the contents returned: ask for more
                    complete = False
                    break
                terms = [
                    (tantivy.Occur.Should, tantivy.Query.term_query(SCHEMA, "content", digest))
                    for digest in dict.fromkeys(digests[start:end])
                    if digest is not None
                ]
                members = tantivy.Query.const_score_query(tantivy.Query.boolean_query(terms), 1.0)
                expanded.extend(
                    (score, address) for _, address in searcher.search(members, limit=pool, count=False).hits
                )
                start = end
            if complete:
                break
            limit *= 4
        # the best text score of any match: a content's best score plus what the department can add (or the
        # department search's best, for documents that match by their department only)
        ceiling = hits[0][0] + bound if hits else None
        if bound <= 0:
            return expanded, ceiling
        within = None  # the contents whose documents can rank in the top ``pool`` when their department matches
        if len(expanded) >= pool:
            floor = expanded[pool - 1][0]  # at least ``pool`` documents score this much or more
            least = floor - bound - DEPARTMENT_SLACK * (abs(floor) + 1.0)
            reps = [(score, digest) for (score, _), digest in zip(hits, digests, strict=True) if score >= least]
            if least > 0 and (len(hits) < limit or hits[-1][0] < least) and all(d is not None for _, d in reps):
                within = [digest for _, digest in reps]
        # else (more contents may qualify than were returned) the whole index: asking for 400 representatives
        # restricted 档案 to 167 contents and 宗教 to 359, slower than the whole department search (7 vs 3 ms)
        if within is None:
            department_hits = self._department_hits(searcher, matched, department, pool)
            if department_hits:
                ceiling = department_hits[0][0] if ceiling is None else max(ceiling, department_hits[0][0])
            return department_hits + expanded, ceiling
        if not within:
            return expanded, ceiling
        # the documents of those contents whose department matches, scored by every text clause in the order
        # of ``matched`` (the same float sum): driven by the contents' short posting lists — an intersection
        # with ``matched`` itself walks the union of the text terms instead (8–9 ms vs 1 ms for 离婚 登记)
        members = tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, tantivy.Query.term_query(SCHEMA, "content", d)) for d in dict.fromkeys(within)]
        )
        query = tantivy.Query.boolean_query(
            [
                (must, tantivy.Query.const_score_query(members, 0.0)),
                (must, tantivy.Query.const_score_query(tantivy.Query.boolean_query(department), 0.0)),
                *(clause for _, clause in clauses),
            ]
        )
        return searcher.search(query, limit=pool, count=False).hits + expanded, ceiling

    @staticmethod
    def _department_hits(
        searcher: tantivy.Searcher,
        matched: tantivy.Query,
        department: list[tuple[tantivy.Occur, tantivy.Query]],
        pool: int,
    ) -> list[tuple[float, Any]]:
        """The top ``pool`` documents of the whole index whose department matches (their exact text score)."""
        must = tantivy.Occur.Must
        matches = tantivy.Query.const_score_query(tantivy.Query.boolean_query(department), 0.0)
        return searcher.search(
            tantivy.Query.boolean_query([(must, matched), (must, matches)]), limit=pool, count=False
        ).hits

    def department_bound(self, searcher: tantivy.Searcher, plan: Plan) -> float:
        """An upper bound of what the department clauses of the text query add to any document's score.

        A BM25 term score is ``boost × idf × (1 + k1) × tf / (tf + k1 × (1 − b + b × length / average))``,
        below ``boost × idf × (1 + k1)`` whatever the term frequency and field length; the idf is taken with
        at least as many documents as tantivy counts (deleted ones included: every document has an
        ``online`` value) and the term's document frequency (deleted ones included, as tantivy's)."""
        online = filter_doc_freq(searcher, "online", "1") + filter_doc_freq(searcher, "online", "0")
        total = max(searcher.num_docs, online)
        bound = 0.0
        boost = FIELD_BOOSTS["dept"]
        for concept in plan.concepts:
            for alternative, weight in concept.alternatives:
                if len(alternative) == 1:
                    continue  # a lone character is searched in the names only (see text_clauses)
                for word in text.cut(alternative):
                    if not word:
                        continue
                    df = searcher.doc_freq("dept", word)
                    if df:
                        idf = math.log1p((total - df + 0.5) / (df + 0.5))
                        bound += boost * weight * idf * (1.0 + BM25_K1)
        return bound

    def count(
        self, searcher: tantivy.Searcher, plan: Plan, filtered: tantivy.Query, filters: Filters | None
    ) -> tuple[int, bool]:
        """(number of matches, exact?) — counted when cheap, otherwise estimated from document frequencies.

        The text query's clauses (as in :meth:`text_query`) give an upper bound of the postings to walk. For
        the estimate, a word matches at least as many documents as its most frequent field (the fields of
        one word, and its pinyin, mostly hold the same documents); a concept's alternatives (synonyms,
        initials' readings) are different words, ORed as independent, and so are the concepts. Measured on
        the 2.3 M benchmark index (decision 0015): within ×1.17 of the count on average over the queries
        above the threshold, where the most frequent clause per concept alone ran ×1.26 low (社保 0.47).
        """
        n = max(1, searcher.num_docs)
        postings = 0
        coverage = []
        for concept in plan.concepts:
            if concept.fuzzy:
                return searcher.search(filtered, limit=1, count=True).count, True
            per_word: list[int] = []
            for position, (alternative, _) in enumerate(concept.alternatives):
                words = [w for w in text.cut(alternative) if w]
                if not words:
                    continue
                best = 0
                for fname in FIELD_BOOSTS:
                    if (position and fname in LONG_FIELDS) or (len(alternative) == 1 and fname not in NAME_FIELDS):
                        continue
                    df = min(searcher.doc_freq(fname, w) for w in words)  # the words are ANDed
                    postings += df
                    best = max(best, df)
                per_word.append(best)
            for term in dict.fromkeys(concept.pinyin):
                df = searcher.doc_freq("py", term)
                postings += df
                if per_word:  # the pinyin of the concept's own word: the same documents as its first reading
                    per_word[0] = max(per_word[0], df)
                else:
                    per_word.append(df)
            coverage.append(n * _union(d / n for d in per_word))
        if postings <= EXACT_COUNT_POSTINGS:
            return searcher.search(filtered, limit=1, count=True).count, True
        estimate = n * _union(c / n for c in coverage)  # concepts are ORed: assume independence
        for name in FACETS:  # filters are ANDed: scale by their share
            value = getattr(filters, name, None) if filters else None
            if value is None or value == "":
                continue
            value = ("1" if value else "0") if isinstance(value, bool) else str(value)
            estimate *= filter_doc_freq(searcher, name, value) / n
        if filters and filters.region_prefix:
            estimate *= filter_doc_freq(searcher, "region_anc", filters.region_prefix) / n
        return round(estimate), False

    def facet_sets(
        self,
        searcher: tantivy.Searcher,
        ranked: list[tuple[tuple[int, int], tuple[float, Any]]],
        cards: dict[tuple[int, int], dict[str, Any]],
    ) -> list[FacetValues]:
        """The facet values of ranked results, read through their ``facet_id`` fast field.

        An id is a digest of the values (``index.facet_id``), so the values it names are the same in every
        generation and commit: the first result seen with an id is read from its card, the rest from this
        table (at most ``FACET_SETS_MAX`` sets, emptied when full). Documents share sets (the 2.3 M benchmark
        index has 577 k), and a search's top results share them more, so once the table is warm the top 100 need
        few stored documents beyond the 10 cards shown; a miss costs what every result cost before (decision 0015).
        """
        ids = searcher.fast_field_values("facet_id", [address for _, (_, address) in ranked])
        table = self._facet_sets
        out = []
        for (key, (_, address)), fid in zip(ranked, ids, strict=True):
            values = table.get(fid) if fid is not None else None
            if values is None:
                values = card_facets(cards.get(key) or _card(searcher, address))
                if fid is not None:  # kept: its strings shared with the other sets (departments, themes repeat)
                    kind, department, level, on, themes, audiences = values
                    values = (
                        *map(sys.intern, (kind, department, level, on)),
                        tuple(map(sys.intern, themes)),
                        tuple(map(sys.intern, audiences)),
                    )
                    if len(table) >= FACET_SETS_MAX:
                        table.clear()
                    table[fid] = values
            out.append(values)
        return out

    @staticmethod
    def count_facets(sets: Iterable[FacetValues], size: int = 12) -> dict[str, list[tuple[str, int]]]:
        """Facet values and counts over the facet values of results (see ``index.card_facets``).

        Counted column by column with :class:`collections.Counter` (its counting loop runs in C): the top
        100 results of a search at province scale hold ~100 distinct sets (departments are per region)."""
        columns = list(zip(*sets, strict=True))
        if not columns:
            return {name: [] for name in ("kind", "department", "level", "theme", "audience", "online")}
        kinds, departments, levels, online, themes, audiences = columns
        counts = {
            "kind": Counter(kinds),
            "department": Counter(departments),
            "level": Counter(levels),
            "theme": Counter(chain.from_iterable(themes)),
            "audience": Counter(chain.from_iterable(audiences)),
            "online": Counter(online),
        }
        for name in ("kind", "department", "level"):  # a document without the value is not counted
            counts[name].pop("", None)
        return {
            name: sorted(values.items(), key=_by_count)[:size] if len(values) > 1 else list(values.items())
            for name, values in counts.items()
        }

    def suggest(self, prefix: str, limit: int = 8) -> list[Suggestion]:
        _, suggester = self._lexicons()
        return suggester.suggest(prefix, limit=limit)

    def did_you_mean(self, query: str) -> str | None:
        """For a query with no results: the closest known name by shared ideograph bigrams, or None."""
        cleaned = text.clean_query(query).replace(" ", "")
        if len(cleaned) < 2:
            return None
        _, suggester = self._lexicons()
        grams = set(text.char_bigrams(cleaned))
        if not grams:
            return None
        shared: dict[int, int] = {}
        by_gram = suggester.bigram_index()
        for gram in grams:
            for idx in by_gram.get(gram, ()):
                shared[idx] = shared.get(idx, 0) + 1
        best: tuple[float, int] | None = None
        for idx, n in shared.items():
            score = n / len(grams) - len(suggester.displays[idx]) / 1000
            if best is None or (score, -idx) > (best[0], -best[1]):  # the first of equals, as listed
                best = (score, idx)
        return suggester.displays[best[1]] if best and best[0] >= 0.5 else None


def _merge_single_characters(words: list[str], lexicon: PinyinLexicon, known: Callable[[str], bool]) -> list[str]:
    """Join runs of single ideographs that spell a known word or its homophone (港/奥 → 港奥 → 港澳)."""
    out: list[str] = []
    i = 0
    while i < len(words):
        j = i
        while j < len(words) and len(words[j]) == 1 and text.has_cjk(words[j]):
            j += 1
        if j - i >= 2:
            run = "".join(words[i:j])
            if known(run) or lexicon.homophone(run):
                out.append(run)
                i = j
                continue
            out.extend(words[i:j])
            i = j
            continue
        out.append(words[i])
        i += 1
    return out


@functools.lru_cache(maxsize=4096)
def _region_classes(
    region_code: str, applies: float, same_city: float, same_county: float
) -> tuple[tuple[tantivy.Query, float], ...]:
    """:meth:`SearchEngine.region_classes`, remembered per region (and scores): the query objects are immutable."""
    prefixes = region_prefixes(region_code)
    if not prefixes:
        return ()
    own = [prefix.ljust(12, "0") for prefix in prefixes]
    subtrees = [(prefixes[1], (same_city,))] if len(prefixes) >= 2 else []
    if len(prefixes) >= 3:
        subtrees.append((prefixes[2], (same_city, same_county)))

    classes = [(filter_query("region_anc", prefix), _exact_sum(*scores)) for prefix, scores in subtrees]
    by_score: dict[float, list[str]] = {}
    for code in dict.fromkeys(own):
        ancestors = region_prefixes(code)
        scores = [applies] * own.count(code)
        scores += [same_city] if len(prefixes) >= 2 and prefixes[1] in ancestors else []
        scores += [same_county] if len(prefixes) >= 3 and prefixes[2] in ancestors else []
        by_score.setdefault(_exact_sum(*scores), []).append(code)
    for score, codes in by_score.items():
        terms = [filter_query("region_code", code) for code in codes]
        query = terms[0] if len(terms) == 1 else tantivy.Query.boolean_query([(tantivy.Occur.Should, t) for t in terms])
        classes.append((query, score))
    return tuple(classes)


@functools.lru_cache(maxsize=4096)
def _region_scopes(
    region_code: str, applies: float, same_city: float, same_county: float
) -> tuple[tuple[tantivy.Query, float], ...]:
    """:meth:`SearchEngine.region_scopes`, remembered per region (and scores)."""
    classes = sorted(_region_classes(region_code, applies, same_city, same_county), key=lambda c: -c[1])
    return tuple((tantivy.Query.const_score_query(query, score), score) for query, score in classes)


def _floor(scores: list[float], pool: int) -> float:
    """A score that at least ``pool`` of these scores (of distinct documents) reach, or -inf when they are fewer."""
    if len(scores) < pool:
        return -math.inf
    return sorted(scores, reverse=True)[pool - 1]


def _exact_sum(*scores: float) -> float:
    """The sum of region scores, checked to be exact in float32 in any order: every partial sum is a float32
    (tantivy adds the clauses' scores in float32, in an order of its own; a class's constant must equal that sum
    to the bit, see :meth:`SearchEngine.region_classes`)."""
    for size in range(1, len(scores) + 1):
        for part in combinations(scores, size):
            if _float32(sum(part)) != sum(part):
                raise ValueError(f"region scores must add exactly in float32: {scores}")
    return sum(scores)


def _float32(value: float) -> float:
    return struct.unpack("f", struct.pack("f", value))[0]


def _union(shares: Iterable[float]) -> float:
    """The share of documents matching any of independent events with these shares."""
    missing = 1.0
    for share in shares:
        missing *= 1.0 - min(1.0, share)
    return 1.0 - missing


def _card(searcher: tantivy.Searcher, address) -> dict[str, Any]:
    raw = searcher.doc(address).get_first("card")
    return json.loads(raw) if raw else {}


def _by_count(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)

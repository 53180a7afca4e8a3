"""The tantivy index on disk (索引): schema, builder, incremental writer, and readers. No ORM.

Layout under ``settings.SEARCH_INDEX_DIR`` (any directory given to :class:`IndexStore`)::

    CURRENT            name of the live generation (switched atomically by a rebuild)
    gen-<stamp>/       one tantivy index per generation
    writer.lock        held (fcntl) by whoever writes: the rebuild's swap or an incremental update
    rebuilding         present while a rebuild runs; incremental updates then also note their keys in
    pending.jsonl      so the rebuild replays them into the new generation before switching

Only one process writes at a time (tantivy allows a single writer; the lock makes others wait). Web
processes only read: they re-open the live generation when CURRENT changes; commits by other processes reach
them through the reader's on-commit reload, and this process's own writes at once (``refresh``).
"""

from __future__ import annotations

import binascii
import contextlib
import fcntl
import functools
import gc
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import tantivy

from . import parallel as parallel_analysis
from . import pipeline as pipelined
from . import text
from .documents import SearchDocument

# 2: the "tier" field (popular documents); 3: "facet_id" (facet counts without the card); 4: "content" and "rep"
# (representative documents, decision 0022); 5: every filter in one field of prefixed terms (decision 0031)
SCHEMA_VERSION = "5"
# An older generation is not searched: its filters are in other fields (a warning asks for a rebuild).
READABLE_VERSIONS = ("5",)
TEXT_FIELDS = ("title", "alias", "py", "materials", "guide", "faq", "dept")
FILTERS = "filters"


def build_schema(version: str = SCHEMA_VERSION) -> tantivy.Schema:
    """The schema of ``version`` (only the current one is built: older generations are not read)."""
    if version != SCHEMA_VERSION:
        raise ValueError(f"search index schema {version!r} is not readable (this code reads {SCHEMA_VERSION!r})")
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("key", stored=True, tokenizer_name="raw")
    for name in TEXT_FIELDS:
        sb.add_text_field(name, tokenizer_name="whitespace", index_option="freq")
    sb.add_text_field("title_exact", tokenizer_name="raw", index_option="basic")
    # Every filter's values as prefixed terms in one whitespace-separated text (``filter_term``): one field
    # value per document for tantivy to parse, tokenize and norm instead of ten (decision 0031).
    sb.add_text_field(FILTERS, tokenizer_name="whitespace", index_option="basic")
    # The document's facet values (see ``facet_id``) as a number in a fast column: counting the facets of the
    # top 100 results reads 100 numbers instead of 100 stored documents (decision 0015).
    sb.add_unsigned_field("facet_id", fast=True)
    sb.add_float_field("boost", fast=True)
    sb.add_bytes_field("card", stored=True, indexed=False)
    # The document's content digest (``content_digest``: everything of the document that its text score
    # depends on, but the department); the filter "rep" marks one document per content, its representative:
    # a search over the whole index walks the representatives and expands the winning contents (decision 0022).
    sb.add_unsigned_field("content", indexed=True, fast=True)
    return sb.build()


SCHEMA = build_schema()
_SCHEMAS = {SCHEMA_VERSION: SCHEMA}
log = logging.getLogger(__name__)
_warned: set[str] = set()


# The filters (筛选): a filter name → the prefix of its terms in the ``filters`` field (schema 5). Queries and
# document frequencies of filters go through ``filter_query`` / ``filter_doc_freq``, never through terms.
FILTER_PREFIXES = {
    "kind": "k",
    "department": "d",
    "level": "l",
    "theme": "t",
    "audience": "a",
    "online": "o",  # "1" / "0": every document has one
    "region_code": "r",  # the implementing region's code (12 digits)
    "region_anc": "ra",  # the significant prefixes of that code (``region_prefixes``)
    "tier": "p",  # "popular": boost > 0
    "rep": "rep",  # "1": the content's representative (decision 0022)
}
# every character for which str.isspace() holds: a superset of what tantivy's whitespace tokenizer splits at
_SPACES = frozenset(
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


@functools.lru_cache(maxsize=100_000)
def filter_term(name: str, value: str) -> str:
    """The term of filter ``name`` = ``value`` in the ``filters`` field: ``prefix:value``, with ``%`` and every
    whitespace character written as ``%XX;`` (hex code point), so that a value is one token and two values
    never share a term."""
    if "%" in value or not _SPACES.isdisjoint(value):
        value = "".join(f"%{ord(c):X};" if c == "%" or c in _SPACES else c for c in value)
    return f"{FILTER_PREFIXES[name]}:{value}"


def filter_query(name: str, value: str) -> tantivy.Query:
    """The documents whose filter ``name`` holds ``value`` (a term query; wrap it in a constant score)."""
    return tantivy.Query.term_query(SCHEMA, FILTERS, filter_term(name, value), index_option="basic")


def filter_doc_freq(searcher: tantivy.Searcher, name: str, value: str) -> int:
    """The number of documents (deleted ones included, as tantivy counts) whose filter ``name`` holds ``value``."""
    return searcher.doc_freq(FILTERS, filter_term(name, value))


def _terms(name: str, values: Iterable[str]) -> str:
    """`` term term …`` (each with a leading space) of the non-empty values, escaped for a JSON string."""
    return "".join(" " + _string(filter_term(name, v))[1:-1] for v in values if v)


def region_prefixes(code: str) -> list[str]:
    """``440106000000`` → ``["44", "4401", "440106"]`` (the significant prefixes of each level)."""
    if not code or len(code) != 12:
        return []
    out = []
    for digits in (2, 4, 6, 9, 12):
        out.append(code[:digits])
        if code[digits:].strip("0") == "":
            break
    return out


def popularity_boost(popularity: float) -> float:
    """Fast-field value for ``weight_by_field`` (score × log2(2 + value)): 0 → ×1, very popular → ×1.25."""
    import math

    p = max(0.0, float(popularity))
    norm = min(1.0, math.log1p(p) / math.log1p(10_000))
    return 2 ** (1 + 0.32 * norm) - 2


@functools.lru_cache(maxsize=200_000)
def _names(title: str, short: str, aliases: tuple[str, ...]) -> tuple[str, str, str, str]:
    """Title terms, alias terms, pinyin terms and the normalised title of one name set (names repeat a lot)."""
    title = text.normalize(title)
    title_terms = text.index_terms(title)
    alias_terms: dict[str, None] = {}
    for value in (text.normalize(short), *(text.normalize(a) for a in aliases)):
        if value and value not in ("无", title):
            alias_terms.update(dict.fromkeys(text.index_terms(value)))
    py = text.pinyin_terms([*title_terms, *alias_terms])
    return " ".join(title_terms), " ".join(alias_terms), " ".join(py), title


@functools.lru_cache(maxsize=100_000)
def _body(value: str) -> str:
    return " ".join(text.body_terms(text.normalize(value))) if value else ""


@functools.lru_cache(maxsize=200_000)
def _short(value: str) -> str:
    return " ".join(text.index_terms(text.normalize(value))) if value else ""


def analyse(doc: SearchDocument) -> dict[str, object]:
    """The field values of one document (everything normalised, Simplified, segmented)."""
    title, alias, py, exact = _names(doc.title, doc.short_name, tuple(doc.aliases))
    return {
        "title": title,
        "alias": alias,
        "py": py,
        "materials": _body(" ".join(doc.materials)),
        "guide": _body(doc.guide),
        "faq": _body(doc.faq),
        "dept": _short(doc.department),
        "title_exact": exact,
    }


_dumps = functools.partial(json.dumps, ensure_ascii=False, separators=(",", ":"))
_string = json.encoder.encode_basestring  # a str as a JSON string literal (C, no allocation of an encoder)


def _value(value: object) -> str:
    """``_dumps(value)``, by the C string encoder when it is a str (the same text, without an encoder)."""
    return _string(value) if value.__class__ is str else _dumps(value)


def content_digest(doc: SearchDocument) -> int:
    """The 63-bit digest of a document's content: every field its text score depends on but the department
    (title, short name, aliases, materials, guide, FAQ — as given, before analysis), the same in every process.

    Shared API (decision 0022): documents with one digest score the same for every query (but for the ``dept``
    field), so the index marks one of them as the content's representative (``rep``), and a parallel build may
    partition documents by it (every document of a content in one partition)."""
    return _content(
        doc.title, doc.short_name, tuple(doc.aliases), tuple(doc.materials), doc.guide or "", doc.faq or ""
    )[1]


@functools.lru_cache(maxsize=100_000)
def _content(
    title: str, short: str, aliases: tuple[str, ...], materials: tuple[str, ...], guide: str, faq: str
) -> tuple[str, int]:
    """The searchable text fields of one content as JSON members (:func:`_text_json`) and its digest."""
    digest = hashlib.blake2b(
        json.dumps([title, short, aliases, materials, guide, faq], ensure_ascii=False).encode(), digest_size=8
    ).digest()
    return _text_json(title, short, aliases, materials, guide, faq), int.from_bytes(digest, "big") >> 1


@functools.lru_cache(maxsize=100_000)
def _text_json(
    title: str, short: str, aliases: tuple[str, ...], materials: tuple[str, ...], guide: str, faq: str
) -> str:
    """The searchable text fields of one content (names, materials, guide, FAQ) as JSON members."""
    title_terms, alias, py, exact = _names(title, short, aliases)
    values = {
        "title": title_terms,
        "alias": alias,
        "py": py,
        "materials": _body(" ".join(materials)),
        "guide": _body(guide),
        "faq": _body(faq),
        "title_exact": exact,
    }
    return "".join(f',"{k}":{_value(v)}' for k, v in values.items() if v)


@functools.lru_cache(maxsize=100_000)
def _department_json(department: str) -> str:
    """The department's text field as a JSON member (its filter terms: ``_department``)."""
    terms = _short(department) if department else ""
    return f',"dept":{_value(terms)}' if terms else ""


@functools.lru_cache(maxsize=100_000)
def _region_terms(region_code: str) -> str:
    if not region_code:
        return ""
    return _terms("region_code", (region_code,)) + _terms("region_anc", region_prefixes(region_code))


@functools.lru_cache(maxsize=10_000)
def _facets_terms(kind: str, level: int, themes: tuple[str, ...], audiences: tuple[str, ...], online: bool) -> str:
    """The filter terms of a facet set, starting with the online one (every document has it: no leading space)."""
    return (
        filter_term("online", "1" if online else "0")
        + _terms("kind", (kind,))
        + (_terms("level", (str(int(level)),)) if level else "")
        + _terms("theme", dict.fromkeys(themes))
        + _terms("audience", dict.fromkeys(audiences))
    )


# (kind, department, level, online, themes, audiences) as the facet counts see a card: "" for none, the
# level as a string, online "1"/"0", themes and service objects without repeats, in the card's order.
FacetValues = tuple[str, str, str, str, tuple[str, ...], tuple[str, ...]]


def card_facets(card: dict[str, object]) -> FacetValues:
    """The facet values of a result card (the source of truth: ``facet_id`` only names them)."""
    level = card.get("level")
    return (
        str(card.get("kind") or ""),
        str(card.get("department") or ""),
        str(level) if level else "",
        "1" if card.get("online") else "0",
        tuple(card.get("themes") or ()),  # type: ignore[arg-type]
        tuple(card.get("audiences") or ()),  # type: ignore[arg-type]
    )


def doc_facets(doc: SearchDocument) -> FacetValues:
    """``card_facets(doc.card())`` without building the card (the card is assembled from the same fields)."""
    return (
        doc.kind or "",
        doc.department or "",
        str(int(doc.level)) if doc.level else "",
        "1" if doc.online else "0",
        tuple(dict.fromkeys(doc.themes)),
        tuple(dict.fromkeys(doc.service_objects)),
    )


@functools.lru_cache(maxsize=100_000)
def _digest(part: object) -> bytes:
    return hashlib.blake2b(json.dumps(part, ensure_ascii=False).encode(), digest_size=8).digest()


def facet_id(values: FacetValues) -> int:
    """A 63-bit digest of a set of facet values, the same in every process and every generation.

    Digested in two cached parts, the department and the rest: the 2.3 M benchmark index has 577 k distinct
    sets, so a cache of whole sets would miss (4.2 µs per document) where the parts hit (~1 µs)."""
    kind, department, level, online, themes, audiences = values
    pair = _digest(department) + _digest((kind, level, online, themes, audiences))
    return int.from_bytes(hashlib.blake2b(pair, digest_size=8).digest(), "big") >> 1


@functools.lru_cache(maxsize=10_000)
def _boost_json(popularity: float) -> tuple[str, str]:
    """The boost fast field as a JSON member, and the popular tier's filter term (boost > 0)."""
    boost = popularity_boost(popularity)
    return f',"boost":{boost!r}', _terms("tier", ("popular",)) if boost > 0 else ""


_REP = _terms("rep", ("1",))


@functools.lru_cache(maxsize=100_000)
def _card_what(
    kind: str,
    title: str,
    short: str,
    online: bool,
    item_type: str,
    summary: str,
    themes: tuple[str, ...],
    audiences: tuple[str, ...],
) -> str:
    return (
        f',"kind":{_value(kind)},"title":{_value(title)},"short_name":{_value(short)},'
        f'"online":{"true" if online else "false"},"item_type":{_value(item_type)},"summary":{_value(summary)},'
        f'"themes":{_dumps(list(dict.fromkeys(themes)))},"audiences":{_dumps(list(dict.fromkeys(audiences)))}'
    )


@functools.lru_cache(maxsize=200_000)
def _card_where(department: str, region_code: str, region_name: str, level: int) -> str:
    return (
        f',"department":{_value(department)},"region_code":{_value(region_code)},'
        f'"region_name":{_value(region_name)},"level":{int(level)}'
    )


_UNLINKED = ',"url":"","actions":[]}'


def card_json(doc: SearchDocument) -> str:
    """``doc.card()`` as compact JSON, assembled from cached pieces (names and regions repeat a lot)."""
    linked = doc.kind not in ("item", "bundle")
    return (
        f'{{"code":{_string(doc.code)}'
        + _card_what(
            doc.kind,
            doc.title,
            doc.short_name,
            bool(doc.online),
            doc.item_type,
            doc.summary,
            tuple(doc.themes),
            tuple(doc.service_objects),
        )
        + _card_where(doc.department, doc.region_code, doc.region_name, doc.level)
        + (
            f',"url":{_string(doc.url)},"actions":{_dumps([a.as_dict() for a in doc.actions])}}}'
            if linked
            else _UNLINKED
        )
    )


@functools.lru_cache(maxsize=10_000)
def _facets(
    kind: str, level: int, themes: tuple[str, ...], audiences: tuple[str, ...], online: bool
) -> tuple[str, bytes]:
    """The filter terms of a kind/level/themes/audiences/online set, and the digest of that set for
    ``facet_id`` (the department's half is :func:`_department`)."""
    themes, audiences = tuple(dict.fromkeys(themes)), tuple(dict.fromkeys(audiences))
    level_str = str(int(level)) if level else ""
    return (
        _facets_terms(kind, level, themes, audiences, online),
        _digest((kind or "", level_str, "1" if online else "0", themes, audiences)),
    )


@functools.lru_cache(maxsize=200_000)
def _department(department: str) -> tuple[str, str, bytes]:
    """The department's text field (JSON member), its filter term and its half of ``facet_id``."""
    return _department_json(department), _terms("department", (department,)), _digest(department or "")


# facet_id by its two digests (department, the rest): bounded, emptied when full (the ids are cheap to redo)
_FACET_IDS: dict[bytes, int] = {}
_FACET_IDS_MAX = 500_000


def _facet_id(pair: bytes) -> int:
    value = _FACET_IDS.get(pair)
    if value is None:
        if len(_FACET_IDS) >= _FACET_IDS_MAX:
            _FACET_IDS.clear()
        value = _FACET_IDS[pair] = int.from_bytes(hashlib.blake2b(pair, digest_size=8).digest(), "big") >> 1
    return value


@functools.lru_cache(maxsize=200_000)
def _what(
    kind: str,
    title: str,
    short: str,
    aliases: tuple[str, ...],
    materials: tuple[str, ...],
    guide: str,
    faq: str,
    online: bool,
    item_type: str,
    summary: str,
    themes: tuple[str, ...],
    audiences: tuple[str, ...],
) -> tuple[str, int, str]:
    """A content's text fields and digest (:func:`_content`) with the card's "what" part (:func:`_card_what`):
    one cached lookup per document instead of two."""
    text_json, content = _content(title, short, aliases, materials, guide, faq)
    return text_json, content, _card_what(kind, title, short, online, item_type, summary, themes, audiences)


@functools.lru_cache(maxsize=200_000)
def _where(department: str, region_code: str, region_name: str, level: int) -> tuple[str, str, bytes, str]:
    """The card's "where" part, the department's text field and digest, the department's and the region's
    filter terms: one cached lookup."""
    department_json, department_terms, department_digest = _department(department)
    return (
        _card_where(department, region_code, region_name, level),
        department_json,
        department_digest,
        department_terms + _region_terms(region_code),
    )


_b64 = binascii.b2a_base64


def encode_bucketed(doc: SearchDocument, reps: set[int] | None = None) -> tuple[str, str]:
    """``(_bucket(doc), encode(doc))`` in one pass over the document's fields (the rebuild's inner loop).

    Every analysed or serialised piece comes from a cache keyed by what it depends on (content, department,
    region, facet set, popularity); per document only its code, its facet id and its card are assembled.
    With ``reps`` (the content digests that have a representative so far) the document is its content's
    representative when its digest is not in it yet (and is added); without, it is one.
    """
    kind, code, title, short = doc.kind, doc.code, doc.title, doc.short_name
    region_code, level = doc.region_code, doc.level
    themes, audiences, online = tuple(doc.themes), tuple(doc.service_objects), bool(doc.online)
    popularity = float(doc.popularity)
    facets, facets_digest = _facets(kind, level, themes, audiences, online)
    text_json, content, what = _what(
        kind,
        title,
        short,
        tuple(doc.aliases),
        tuple(doc.materials),
        doc.guide or "",
        doc.faq or "",
        online,
        doc.item_type,
        doc.summary,
        themes,
        audiences,
    )
    where, department_json, department_digest, where_terms = _where(doc.department, region_code, doc.region_name, level)
    if kind in ("item", "bundle"):
        tail = _UNLINKED
    else:
        tail = f',"url":{_string(doc.url)},"actions":{_dumps([a.as_dict() for a in doc.actions])}}}'
    card = "".join(('{"code":', _string(code), what, where, tail))
    if reps is None:
        rep = True
    elif content in reps:
        rep = False
    else:
        reps.add(content)
        rep = True
    boost_json, tier_terms = _boost_json(popularity)
    line = "".join(
        (
            '{"key":',
            _string(f"{kind}:{code}"),
            text_json,
            department_json,
            ',"filters":"',
            facets,
            where_terms,
            tier_terms,
            _REP if rep else "",
            '"',
            boost_json,
            ',"facet_id":',
            str(_facet_id(department_digest + facets_digest)),
            ',"content":',
            str(content),
            ',"card":"',
            _b64(card.encode(), newline=False).decode("ascii"),
            '"}',
        )
    )
    return ("0" if rep else "1" if popularity > 0 else "2") + (region_code[:6] if region_code else ""), line


def encode(doc: SearchDocument, *, rep: bool = True) -> str:
    """One document as the JSON that ``IndexWriter.add_json`` takes (one call into tantivy per document).

    Analysis (segmentation, pinyin) is cached per distinct content, department and region: a province's
    implementations of one service share their names and guide text, so most documents cost only the
    assembly of cached pieces. ``rep``: the document is its content's representative.
    """
    return encode_bucketed(doc, None if rep else {content_digest(doc)})[1]


def _bucket(doc: SearchDocument, *, rep: bool = False) -> str:
    """Build order: the contents' representatives first, then the popular documents, then by county: the
    representatives' search walks the head of each posting list (decision 0022), the documents of one county
    (with its towns and villages) get neighbouring ids, and so do the popular ones."""
    return ("0" if rep else "1" if doc.popularity > 0 else "2") + (doc.region_code[:6] if doc.region_code else "")


class IndexStore:
    """One index directory: build generations, apply updates, hand out fresh searchers."""

    RELOAD_SECONDS = 1.0

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._index: tantivy.Index | None = None
        self._generation: str | None = None
        self._version: str | None = None
        self._checked = 0.0
        self._stale = False
        self._mutex = threading.Lock()

    # --- generations ---------------------------------------------------------------------------------
    @property
    def current_file(self) -> Path:
        return self.path / "CURRENT"

    def current_generation(self) -> str | None:
        """The live generation, or None — also when it was built with a schema this code cannot read (rebuild)."""
        found = self._current()
        return found[0] if found else None

    def _current(self) -> tuple[str, str] | None:
        """(live generation, its schema version) when this code can read it."""
        try:
            name = self.current_file.read_text().strip()
        except FileNotFoundError:
            return None
        if not name or not (self.path / name).is_dir():
            return None
        try:
            version = (self.path / name / "SCHEMA_VERSION").read_text().strip()
        except FileNotFoundError:
            version = ""
        if version not in READABLE_VERSIONS:
            if name not in _warned:
                _warned.add(name)
                log.warning(
                    "search index %s has schema %r, not %r: run `yiwang search rebuild`", name, version, SCHEMA_VERSION
                )
            return None
        if version != SCHEMA_VERSION and name not in _warned:
            _warned.add(name)
            log.warning(
                "search index %s has schema %r, not %r: searched without representative documents, and "
                "incremental updates wait for `yiwang search rebuild`",
                name,
                version,
                SCHEMA_VERSION,
            )
        return name, version

    @property
    def schema_version(self) -> str | None:
        """The live generation's schema version (an older one is read, not written: see :meth:`apply`)."""
        self.index()
        return self._version

    def exists(self) -> bool:
        return self.current_generation() is not None

    def _switch(self, name: str) -> None:
        tmp = self.path / "CURRENT.tmp"
        tmp.write_text(name)
        os.replace(tmp, self.current_file)

    def _new_generation(self) -> tuple[str, Path]:
        self.path.mkdir(parents=True, exist_ok=True)
        name = f"gen-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 1_000_000}"
        gen = self.path / name
        gen.mkdir()
        (gen / "SCHEMA_VERSION").write_text(SCHEMA_VERSION)
        return name, gen

    def _drop_old(self, keep: str) -> None:
        for child in self.path.glob("gen-*"):
            if child.name != keep and child.is_dir():
                shutil.rmtree(child, ignore_errors=True)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / "writer.lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # --- reading ----------------------------------------------------------------------------------------
    def index(self) -> tantivy.Index | None:
        """The live generation's index, re-opened after a rebuild and reloaded at most once a second."""
        now = time.monotonic()
        if self._index is not None and now - self._checked < self.RELOAD_SECONDS:
            return self._index
        with self._mutex:
            if self._index is not None and now - self._checked < self.RELOAD_SECONDS:
                return self._index
            found = self._current()
            if found is None:
                self._index, self._generation, self._version = None, None, None
            elif found[0] != self._generation or self._index is None:
                generation, version = found
                self._index = tantivy.Index(_SCHEMAS[version], path=str(self.path / generation), reuse=True)
                self._generation, self._version = generation, version
                self._stale = False
            elif self._stale:  # this process wrote: see it now (others' commits arrive by the reader's watcher)
                self._index.reload()
                self._stale = False
            self._checked = now
            return self._index

    def refresh(self) -> None:
        """Forget the reload timer: the next :meth:`index` call sees the latest commit."""
        self._checked = 0.0
        self._stale = True

    @property
    def generation(self) -> str | None:
        self.index()
        return self._generation

    def searcher(self) -> tantivy.Searcher | None:
        index = self.index()
        return index.searcher() if index is not None else None

    # --- writing ----------------------------------------------------------------------------------------
    def build(
        self,
        documents: Iterable[SearchDocument],
        *,
        progress: Callable[[int], None] | None = None,
        replay: Callable[[list[str]], Iterable[SearchDocument]] | None = None,
        heap_size: int = 256_000_000,
        num_threads: int = 0,
        parallel: bool | None = None,
        pipeline: bool | None = None,
        round_size: int | None = None,
    ) -> dict[str, object]:
        """Build a new generation from ``documents`` and switch to it; returns counts and timings.

        While the build runs, incremental updates note their keys in ``pending.jsonl``; ``replay(keys)``
        must return the current documents for those keys so the new generation does not lose them.
        ``pipeline``: a build of more than ``round_size`` documents is indexed round by round in a forked
        process while this one analyses the next round (:mod:`.pipeline`; default from the environment).
        ``parallel``: otherwise (``parallel=True`` implies no pipeline unless ``pipeline=True``), analyse with a
        forked worker process too (:mod:`.parallel`; default from the environment, only for large builds).
        """
        started = time.perf_counter()
        self.path.mkdir(parents=True, exist_ok=True)
        marker = self.path / "rebuilding"
        pending = self.path / "pending.jsonl"
        marker.write_text(str(os.getpid()))
        pending.unlink(missing_ok=True)
        name, gen = self._new_generation()
        count = 0
        if pipeline is None:  # the pipeline unless the analysis worker is asked for
            pipeline = pipelined.ENABLED and parallel is not True
        # No cyclic garbage collection while building: the loop allocates millions of short-lived tuples next
        # to the analysis caches, and each collection walked those caches (~9 % of the analysis pass).
        collecting = gc.isenabled()
        gc.disable()
        try:
            index = tantivy.Index(SCHEMA, path=str(gen))
            analysis: dict[str, object] = {}
            reps: set[int] = set()  # contents that have their representative (the first document seen)
            writer = None
            with tempfile.TemporaryDirectory(prefix="spool-", dir=self.path) as spool_dir:
                # Analysis (here, or here and in a forked worker for a large build: parallel.py) into a spool
                # per county, then indexed county by county, so that a region's documents have neighbouring
                # ids: a search restricted to the user's city or county then walks one short stretch of every
                # posting list (see SearchEngine.search). A large build is cut into rounds (pipeline.py),
                # each indexed that way by a forked process while this one analyses the next.
                # (a content's documents all go to one process: its first document is its representative)
                encode = functools.partial(encode_bucketed, reps=reps)
                if pipeline and pipelined.available():
                    result = pipelined.build(
                        documents,
                        encode,
                        Path(spool_dir),
                        index_path=gen,
                        schema=SCHEMA,
                        heap_size=heap_size,
                        num_threads=num_threads,
                        round_size=round_size,
                        progress=progress,
                        stats=analysis,
                    )
                else:
                    result = parallel_analysis.spool(
                        documents, encode, Path(spool_dir), parallel=parallel, progress=progress, stats=analysis
                    )
                analysed = time.perf_counter()
                if isinstance(result, int):  # indexed and committed by the pipeline's indexing process
                    count = result
                    index.reload()
                else:
                    spool = result
                    count = spool.count
                    # the writer's threads start after the analysis (whose worker is forked without them)
                    writer = index.writer(heap_size=heap_size, num_threads=num_threads)
                    for bucket in spool.buckets():
                        for line in spool.lines(bucket):
                            writer.add_json(line)
                    writer.commit()
            indexed = time.perf_counter()
            with self.lock():
                keys = _read_pending(pending)
                if keys:
                    if writer is None:
                        writer = index.writer(heap_size=50_000_000, num_threads=1)
                    index.reload()
                    _update(index, writer, upsert=list(replay(keys)) if replay else [], keys=keys, fetch=replay)
                    writer.commit()
                if writer is not None:
                    writer.wait_merging_threads()
                self._switch(name)
                marker.unlink(missing_ok=True)
                pending.unlink(missing_ok=True)
            self._drop_old(keep=name)
        except BaseException:
            marker.unlink(missing_ok=True)
            shutil.rmtree(gen, ignore_errors=True)
            raise
        finally:
            if collecting:
                gc.enable()
        self.refresh()
        return {
            "documents": count,
            "generation": name,
            "seconds": round(time.perf_counter() - started, 3),
            "index_seconds": round(indexed - started, 3),
            "analysis_seconds": round(analysed - started, 3),
            "analysis": analysis,
            "replayed": len(keys),
        }

    def ensure(self) -> None:
        """Create an empty generation when there is none (so updates have somewhere to go)."""
        if self.exists():
            return
        with self.lock():
            if self.exists():
                return
            name, gen = self._new_generation()
            index = tantivy.Index(SCHEMA, path=str(gen))
            writer = index.writer(heap_size=15_000_000, num_threads=1)
            writer.commit()
            writer.wait_merging_threads()
            self._switch(name)
        self.refresh()

    def apply(
        self,
        *,
        upsert: Iterable[SearchDocument] = (),
        delete: Iterable[str] = (),
        fetch: Callable[[list[str]], Iterable[SearchDocument]] | None = None,
    ) -> dict[str, int]:
        """Incremental update: delete ``delete`` keys, replace ``upsert`` documents; one commit.

        Every content keeps exactly one representative: a new content's first document is one, and when a
        content's representative goes, another of its documents is re-indexed as the representative —
        ``fetch(keys)`` gives the current documents for index keys (``sources.documents_for_keys``).
        A live generation of an older schema is not written: the update waits for a rebuild (logged; the
        keys are still noted for a rebuild that is running).
        """
        upsert = list(upsert)
        keys = list(dict.fromkeys([*delete, *(d.key for d in upsert)]))
        if not keys:
            return {"upserted": 0, "deleted": 0}
        self.ensure()
        promoted = 0
        with self.lock():
            generation, version = self._current() or (None, None)
            if version == SCHEMA_VERSION:
                index = tantivy.Index(SCHEMA, path=str(self.path / generation), reuse=True)
                writer = index.writer(heap_size=50_000_000, num_threads=1)
                promoted = _update(index, writer, upsert=upsert, keys=keys, fetch=fetch)
                writer.commit()
                writer.wait_merging_threads()
            else:
                log.warning(
                    "search index %s has schema %r: %d update(s) wait for `yiwang search rebuild`",
                    generation,
                    version,
                    len(keys),
                )
            if (self.path / "rebuilding").exists():
                with open(self.path / "pending.jsonl", "a") as fh:
                    fh.write(json.dumps(keys) + "\n")
        if version != SCHEMA_VERSION:
            return {"upserted": 0, "deleted": 0, "deferred": len(keys)}
        self.refresh()
        return {"upserted": len(upsert), "deleted": len(keys) - len(upsert), "promoted": promoted}

    def stats(self) -> dict[str, object]:
        searcher = self.searcher()
        size = sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file()) if self.path.exists() else 0
        version = self._version
        return {
            "path": str(self.path),
            "generation": self._generation,
            "schema": version,
            # an older schema is searched without representatives, and its incremental updates wait
            "rebuild_needed": version is not None and version != SCHEMA_VERSION,
            "documents": searcher.num_docs if searcher else 0,
            "segments": searcher.num_segments if searcher else 0,
            "bytes": size,
        }


def _keys_of(searcher: tantivy.Searcher, hits) -> list[str]:
    return [searcher.doc(address).get_first("key") for _, address in hits]


def contents_of(searcher: tantivy.Searcher, addresses: list) -> list[int | None]:
    """The content digests of documents (schema 4: the ``content`` fast field)."""
    return searcher.fast_field_values("content", addresses)


def _update(
    index: tantivy.Index,
    writer: tantivy.IndexWriter,
    *,
    upsert: list[SearchDocument],
    keys: list[str],
    fetch: Callable[[list[str]], Iterable[SearchDocument]] | None,
) -> int:
    """Delete ``keys`` and add ``upsert`` (uncommitted), keeping one representative per content; returns the
    number of documents re-indexed as their content's new representative.

    Reads the committed state (``index.searcher()``): the contents whose representative is among ``keys``
    lose it; a content that then has none takes the first of its upserted documents, or else another of its
    documents in the index (its current version from ``fetch``, re-indexed with the flag).
    """
    searcher = index.searcher()
    gone = set(keys)
    lost: set[int] = set()
    rep = filter_query("rep", "1")
    occur = tantivy.Occur.Must
    for start in range(0, len(keys), 1000):
        chunk = keys[start : start + 1000]
        query = tantivy.Query.boolean_query([(occur, tantivy.Query.term_set_query(SCHEMA, "key", chunk)), (occur, rep)])
        hits = searcher.search(query, limit=2 * len(chunk), count=False).hits
        lost.update(c for c in contents_of(searcher, [address for _, address in hits]) if c is not None)
    first_new: dict[int, str] = {}
    for doc in upsert:
        first_new.setdefault(content_digest(doc), doc.key)
    reps_needed: dict[int, None] = {}
    for content in dict.fromkeys([*lost, *first_new]):
        members = tantivy.Query.term_query(SCHEMA, "content", content)
        query = tantivy.Query.boolean_query([(occur, members), (occur, rep)])
        hits = searcher.search(query, limit=len(gone) + 1, count=False).hits
        if not any(key not in gone for key in _keys_of(searcher, hits)):
            reps_needed[content] = None
    promote: list[SearchDocument] = []
    for content in reps_needed:
        if content in first_new:
            continue
        if fetch is None:
            log.warning("search index: content %s lost its representative (no source to re-read it from)", content)
            continue
        members = tantivy.Query.term_query(SCHEMA, "content", content)
        limit = len(gone) + 8
        while True:  # the content's other documents, in index order, until one still has this content
            hits = searcher.search(members, limit=limit, count=False).hits
            candidates = [key for key in _keys_of(searcher, hits) if key not in gone]
            found = next((d for d in fetch(candidates) if content_digest(d) == content), None) if candidates else None
            if found is not None or len(hits) < limit:
                break
            gone.update(candidates)  # none of these is still of this content: look further
            limit = len(gone) + 8
        if found is not None:
            promote.append(found)
    for key in keys:
        writer.delete_documents_by_term("key", key)
    for doc in promote:
        writer.delete_documents_by_term("key", doc.key)
        writer.add_json(encode(doc, rep=True))
    for doc in upsert:
        content = content_digest(doc)
        writer.add_json(encode(doc, rep=content in reps_needed and first_new.get(content) == doc.key))
    return len(promote)


def _read_pending(path: Path) -> list[str]:
    if not path.exists():
        return []
    keys: dict[str, None] = {}
    for line in path.read_text().splitlines():
        with contextlib.suppress(ValueError):
            keys.update(dict.fromkeys(json.loads(line)))
    return list(keys)

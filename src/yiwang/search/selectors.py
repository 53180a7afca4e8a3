"""Reads for search (搜索查询): the engine for the configured index, searches, suggestions, hot terms."""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count
from django.utils import timezone

from yiwang.core.errors import ValidationFailed

from . import querylog, text
from .engine import Filters, Results, SearchEngine
from .index import IndexStore
from .lexicon import Suggestion
from .synonyms import SynonymRow, SynonymTable

HOT_DAYS = 7
HOT_CACHE_SECONDS = 300
SYNONYM_TTL = 60.0

_engine: SearchEngine | None = None
_engine_path: str | None = None
_engine_lock = threading.Lock()
_synonyms: tuple[float, SynonymTable] | None = None


def synonym_table(*, fresh: bool = False) -> SynonymTable:
    """The active synonyms from the database, re-read at most once a minute (at once after an edit here)."""
    global _synonyms
    cached = _synonyms
    if not fresh and cached and time.monotonic() - cached[0] < SYNONYM_TTL:
        return cached[1]
    from .models import Synonym

    rows = []
    for s in Synonym.objects.filter(is_active=True).order_by("-weight", "term"):
        term = text.clean_query(s.term)
        alternatives = tuple(a for a in (text.clean_query(x) for x in s.alternative_list()) if a and a != term)
        if term:
            rows.append(SynonymRow(term=term, alternatives=alternatives, two_way=s.two_way, weight=s.weight))
    table = SynonymTable(rows)
    _synonyms = (time.monotonic(), table)
    return table


def invalidate_synonyms() -> None:
    global _synonyms
    _synonyms = None
    if _engine is not None:
        _engine.invalidate()


def engine() -> SearchEngine:
    """The process-wide engine over ``settings.SEARCH_INDEX_DIR``."""
    global _engine, _engine_path
    path = str(settings.SEARCH_INDEX_DIR)
    if _engine is not None and _engine_path == path:
        return _engine
    with _engine_lock:
        if _engine is None or _engine_path != path:
            _engine = SearchEngine(
                IndexStore(path),
                synonyms=synonym_table,
                extra_words=hot_words,
                result_cache=getattr(settings, "SEARCH_RESULT_CACHE", 0),
            )
            _engine.representatives = getattr(settings, "SEARCH_REPRESENTATIVES", True)
            _engine_path = path
    return _engine


def store() -> IndexStore:
    return engine().store


def parse_region(region: str | None) -> str | None:
    """A 12-digit region code, or a 2/4/6/9-digit prefix padded to 12; None when empty."""
    if region is None or str(region).strip() == "":
        return None
    value = str(region).strip()
    if not value.isdigit() or len(value) not in (2, 4, 6, 9, 12) or value[:2] == "00":
        raise ValidationFailed(
            "区划代码应为2、4、6、9或12位数字。", code="invalid_region_code", details={"region": value[:20]}
        )
    return value.ljust(12, "0")


@dataclass
class Page:
    results: Results
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, min(100, -(-self.results.total // self.page_size)))


def search(
    *,
    q: str,
    region: str | None = None,
    page: int = 1,
    page_size: int = 10,
    filters: Filters | None = None,
    facets: bool = False,
    channel: str = "portal",
    log: bool = True,
) -> Page:
    """Search published services for ``q`` (any script, pinyin, typos); the user's region ranks first."""
    region_code = parse_region(region)
    page = max(1, min(int(page), 100))
    page_size = max(1, min(int(page_size), 50))
    results = engine().search(
        q or "", region_code=region_code, filters=filters, limit=page_size, offset=(page - 1) * page_size, facets=facets
    )
    for hit in results.hits:
        decorate(hit.card)
    if results.total == 0 and results.cleaned and not results.corrected:
        results.corrected = engine().did_you_mean(results.cleaned)
    if log and results.cleaned and page == 1:
        querylog.record(
            query=results.cleaned,
            raw=str(q or ""),
            region_code=region_code,
            results=results.total,
            channel=channel,
            took_ms=results.took_ms,
        )
    return Page(results=results, page=page, page_size=page_size)


def decorate(card: dict) -> dict:
    """Fill a card's links and direct actions from the URLs the portal has now (在线办理, 预约, 查看指南)."""
    from . import documents, sources

    kind, code = card.get("kind"), str(card.get("code", ""))
    if kind == "item":
        urls = sources.item_urls(code, online=bool(card.get("online")))
        card["actions"] = [a.as_dict() for a in documents.item_actions(code=code, online=card.get("online"), urls=urls)]
        card["url"] = urls.get("guide") or card.get("url", "")
    elif kind == "bundle":
        urls = sources.bundle_urls(code)
        card["actions"] = [
            {"kind": k, "label": label, "url": urls[k]}
            for k, label in (("apply", "在线办理"), ("guide", "查看指南"))
            if urls.get(k)
        ]
        card["url"] = urls.get("guide") or card.get("url", "")
    return card


def suggest(*, q: str, limit: int = 8) -> list[Suggestion]:
    if not text.clean_query(q):
        return []
    return engine().suggest(q, limit=max(1, min(limit, 20)))


def hot_words() -> list[tuple[str, float]]:
    """Hot terms with weights, for the lexicon and the suggester."""
    return [(term, float(weight)) for term, weight in hot_searches(limit=30, with_counts=True)]


def hot_searches(*, limit: int = 10, with_counts: bool = False) -> list:
    """Pinned terms first, then the most searched queries (with results) of the last 7 days, minus hidden."""
    key = f"search:hot:{limit}:{int(with_counts)}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    from .models import HotSearch, SearchLog

    settings_rows = list(HotSearch.objects.all())
    hidden = {h.term for h in settings_rows if h.hidden}
    pinned = [h.term for h in sorted(settings_rows, key=lambda h: (h.position, h.term)) if h.pinned and not h.hidden]
    since = timezone.now() - dt.timedelta(days=HOT_DAYS)
    counted = (
        SearchLog.objects.filter(created_at__gte=since, results__gt=0)
        .values("query")
        .annotate(n=Count("id"))
        .order_by("-n", "query")[: limit * 3]
    )
    out: list = []
    top = max((row["n"] for row in counted), default=1)
    for term in pinned:
        out.append((term, top + 1) if with_counts else term)
    seen = set(pinned)
    for row in counted:
        if len(out) >= limit:
            break
        if row["query"] in hidden or row["query"] in seen:
            continue
        seen.add(row["query"])
        out.append((row["query"], row["n"]) if with_counts else row["query"])
    out = out[:limit]
    cache.set(key, out, HOT_CACHE_SECONDS)
    return out


def invalidate_hot() -> None:
    for limit in (10, 30):
        for flag in (0, 1):
            cache.delete(f"search:hot:{limit}:{flag}")


def zero_result_queries(*, handled: bool | None = False, limit: int = 100):
    from .models import ZeroResultQuery

    qs = ZeroResultQuery.objects.all()
    if handled is not None:
        qs = qs.filter(handled=handled)
    return qs.order_by("-count", "-last_seen")[:limit]

"""Search API (搜索接口): /search, /search/suggest, /search/hot. Public: no login needed."""

from __future__ import annotations

import json

from django.http import HttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from yiwang.core.api import with_errors

from . import selectors
from .engine import Filters

router = Router(tags=["搜索"])


class ActionOut(Schema):
    kind: str
    label: str
    url: str


class HitOut(Schema):
    kind: str
    code: str
    title: str
    short_name: str = ""
    department: str = ""
    region_code: str = ""
    region_name: str = ""
    level: int = 0
    online: bool = False
    item_type: str = ""
    url: str = ""
    summary: str = ""
    score: float
    actions: list[ActionOut] = []


class FacetValueOut(Schema):
    value: str
    count: int


class SearchOut(Schema):
    query: str = Field(description="检索词（规范化后，简体）")
    corrected: str | None = Field(None, description="纠错/拼音转换后的检索词，或无结果时的“您是不是要找”")
    total: int = Field(description="结果数；total_exact 为 false 时为估计值（约）")
    total_exact: bool = Field(True, description="total 是否精确计数（大结果集按词频估计）")
    page: int
    pages: int
    took_ms: float
    hits: list[HitOut]
    facets: dict[str, list[FacetValueOut]] = Field(description="分面计数，按排序后的前 facets_over 条结果统计")
    facets_over: int = Field(0, description="分面计数所依据的结果条数（前N条）")


class SearchQuery(Schema):
    q: str = Field("", max_length=10_000, description="检索词：中文（简繁均可）、拼音全拼或首字母；超长部分忽略")
    region: str | None = Field(None, max_length=12, description="用户所在区划代码（2/4/6/9/12位），本地事项优先")
    page: int = Field(1, ge=1, le=100)
    page_size: int = Field(10, ge=1, le=50)
    kind: str | None = Field(None, max_length=20, description="item/bundle/department/hall/knowledge")
    department: str | None = Field(None, max_length=200)
    level: str | None = Field(None, max_length=1, description="1 省级 … 5 村级")
    theme: str | None = Field(None, max_length=100)
    audience: str | None = Field(None, max_length=50, description="服务对象，如 自然人、企业法人")
    online: bool | None = None
    within: str | None = Field(None, max_length=12, description="只看此区划（代码前缀）内的结果")


class SuggestionOut(Schema):
    text: str
    weight: float


class HotOut(Schema):
    terms: list[str]


def _prefix(code: str | None) -> str | None:
    padded = selectors.parse_region(code)
    if padded is None:
        return None
    stripped = padded.rstrip("0")
    for digits in (2, 4, 6, 9, 12):
        if len(stripped) <= digits:
            return padded[:digits]
    return padded


@router.get("/search", response=with_errors(SearchOut, 422), auth=None, summary="搜索事项、一件事、部门和大厅")
def search(request, params: Query[SearchQuery]) -> HttpResponse:
    filters = Filters(
        kind=params.kind,
        department=params.department,
        level=params.level,
        theme=params.theme,
        audience=params.audience,
        online=params.online,
        region_prefix=_prefix(params.within),
    )
    body = search_body(q=params.q, region=params.region, page=params.page, page_size=params.page_size, filters=filters)
    return HttpResponse(body, content_type=JSON)


JSON = "application/json; charset=utf-8"


def search_body(*, q: str, region: str | None, page: int, page_size: int, filters: Filters) -> bytes:
    """The response body of GET /search (also served by :mod:`yiwang.search.api_lean`): SearchOut as JSON.

    Built to match SearchOut (tests check it); serialised directly: validating ~100 nested objects per
    response costs more CPU than the search itself.
    """
    result = selectors.search(
        q=q, region=region, page=page, page_size=page_size, filters=filters, facets=True, channel="api"
    )
    r = result.results
    hit_fields = HitOut.model_fields
    body = {
        "query": r.cleaned,
        "corrected": r.corrected,
        "total": r.total,
        "total_exact": r.total_exact,
        "page": result.page,
        "pages": result.pages,
        "took_ms": r.took_ms,
        "hits": [{**{k: v for k, v in h.card.items() if k in hit_fields}, "score": round(h.score, 4)} for h in r.hits],
        "facets": {name: [{"value": v, "count": c} for v, c in values] for name, values in r.facets.items()},
        "facets_over": r.facets_over,
    }
    return json.dumps(body, ensure_ascii=False).encode()


@router.get("/search/suggest", response=with_errors(list[SuggestionOut], 422), auth=None, summary="输入联想")
def suggest(request, q: str = Query("", max_length=10_000), limit: int = Query(8, ge=1, le=20)):
    return suggest_rows(q=q, limit=limit)


def suggest_rows(*, q: str, limit: int) -> list[dict]:
    """The response of GET /search/suggest (also served by :mod:`yiwang.search.api_lean`)."""
    return [{"text": s.text, "weight": float(s.weight)} for s in selectors.suggest(q=q, limit=limit)]


@router.get("/search/hot", response=with_errors(HotOut, 422), auth=None, summary="热门搜索（近7天）")
def hot(request, limit: int = Query(10, ge=1, le=30)):
    return {"terms": selectors.hot_searches(limit=limit)}

"""GET /api/v1/search and /api/v1/search/suggest without the Ninja machinery (decision 0015).

Routed before the API's URL patterns (``yiwang.urls``), like the ratings submission (decision 0008). A plain
query — only ``q``, ``region``, ``page`` and ``page_size`` (suggest: ``q``, ``limit``), each at most once,
within the operation's limits — is answered here with the body the Ninja operation builds
(:func:`yiwang.search.api.search_body`, :func:`~yiwang.search.api.suggest_rows`), the same status and the
same error format. Anything else (filters, repeated or unknown parameters, out-of-range numbers, another
method) goes to the Ninja operation unchanged, so validation errors and the OpenAPI description stay the
API's. Middleware (request id, security headers, locale) runs for both paths alike.
"""

from __future__ import annotations

import functools
import json

from django.http import HttpResponse
from django.urls import URLResolver
from django.urls.resolvers import RegexPattern
from django.views.decorators.csrf import csrf_exempt

from yiwang.core.errors import DomainError

from .api import JSON, search_body, suggest_rows
from .engine import Filters

_SEARCH_PARAMS = {"q": 10_000, "region": 12, "page": 3, "page_size": 2}
_SUGGEST_PARAMS = {"q": 10_000, "limit": 2}
_RANGES = {"page": (1, 100), "page_size": (1, 50), "limit": (1, 20)}


@functools.cache
def _api_resolver() -> URLResolver:
    from yiwang.api import api

    patterns, app_name, namespace = api.urls
    return URLResolver(RegexPattern(r"^/api/v1/"), patterns, app_name=app_name, namespace=namespace)


def _ninja(request) -> HttpResponse:
    match = _api_resolver().resolve(request.path_info)
    request.resolver_match = match
    return match.func(request, *match.args, **match.kwargs)


def _plain(request, allowed: dict[str, int]) -> dict[str, str | int] | None:
    """The query parameters when they are plainly valid for the operation, else None (Ninja decides)."""
    if request.method != "GET":
        return None
    params: dict[str, str | int] = {}
    for key, values in request.GET.lists():
        limit = allowed.get(key)
        if limit is None or len(values) != 1 or len(values[0]) > limit:
            return None
        value = values[0]
        if key in _RANGES:
            low, high = _RANGES[key]
            if not (value.isascii() and value.isdigit() and value[0] != "0" and low <= int(value) <= high):
                return None
            params[key] = int(value)
        else:
            params[key] = value
    return params


def _error(exc: DomainError) -> HttpResponse:
    return HttpResponse(json.dumps(exc.as_dict(), ensure_ascii=False), status=exc.status, content_type=JSON)


@csrf_exempt  # as the API's patterns are: Ninja checks CSRF itself where a session authenticates
def search(request) -> HttpResponse:
    params = _plain(request, _SEARCH_PARAMS)
    if params is None:
        return _ninja(request)
    try:
        body = search_body(
            q=str(params.get("q", "")),
            region=params.get("region"),  # type: ignore[arg-type]
            page=int(params.get("page", 1)),
            page_size=int(params.get("page_size", 10)),
            filters=Filters(),
        )
    except DomainError as exc:
        return _error(exc)
    return HttpResponse(body, content_type=JSON)


@csrf_exempt
def suggest(request) -> HttpResponse:
    params = _plain(request, _SUGGEST_PARAMS)
    if params is None:
        return _ninja(request)
    rows = suggest_rows(q=str(params.get("q", "")), limit=int(params.get("limit", 8)))
    return HttpResponse(json.dumps(rows, ensure_ascii=False), content_type=JSON)

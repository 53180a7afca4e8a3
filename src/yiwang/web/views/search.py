"""Portal search (搜索即服务): the results page, suggestions for the box, hot searches, result clicks."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from yiwang.core.errors import DomainError
from yiwang.search import selectors, services
from yiwang.search.documents import KINDS, LEVEL_NAMES
from yiwang.search.engine import Filters

FILTER_PARAMS = ("kind", "department", "level", "theme", "audience", "online")
FACET_TITLES = {
    "kind": _("类型"),
    "level": _("层级"),
    "department": _("部门"),
    "theme": _("主题"),
    "audience": _("服务对象"),
    "online": _("办理方式"),
}


def _region(request) -> str | None:
    region = request.GET.get("region")
    if region is not None:
        region = region.strip()
        try:
            selectors.parse_region(region)
        except DomainError:
            return request.session.get("search_region")
        if region:
            request.session["search_region"] = region
        else:
            request.session.pop("search_region", None)
        return region or None
    return request.session.get("search_region")


def _label(name: str, value: str) -> str:
    if name == "kind":
        return KINDS.get(value, value)
    if name == "level":
        return LEVEL_NAMES.get(int(value), value) if value.isdigit() else value
    if name == "online":
        return _("可网上办理") if value == "1" else _("需到现场")
    return value


@require_GET
def results(request):
    q = request.GET.get("q", "")[:1000]
    region = _region(request)
    chosen = {name: request.GET.get(name, "")[:200] for name in FILTER_PARAMS}
    online = {"1": True, "0": False}.get(chosen["online"])
    filters = Filters(
        kind=chosen["kind"] or None,
        department=chosen["department"] or None,
        level=chosen["level"][:1] or None,
        theme=chosen["theme"] or None,
        audience=chosen["audience"] or None,
        online=online,
    )
    try:
        page_number = max(1, min(int(request.GET.get("page", "1")), 100))
    except ValueError:
        page_number = 1
    page = None
    error = None
    if q.strip():
        try:
            page = selectors.search(q=q, region=region, page=page_number, filters=filters, facets=True)
        except DomainError as exc:
            error = exc.message
    base = {"q": q, **{k: v for k, v in chosen.items() if v}}
    facets = []
    if page is not None:
        for name, values in page.results.facets.items():
            if len(values) < 2 and not chosen.get(name):
                continue
            options = []
            for value, count in values:
                active = chosen.get(name) == value
                params = {**base, name: value} if not active else {k: v for k, v in base.items() if k != name}
                options.append(
                    {"label": _label(name, value), "count": count, "active": active, "url": "?" + urlencode(params)}
                )
            facets.append({"name": name, "title": FACET_TITLES[name], "options": options})
    pages = []
    if page is not None and page.pages > 1:
        for n in range(max(1, page.page - 4), min(page.pages, page.page + 4) + 1):
            pages.append({"n": n, "url": "?" + urlencode({**base, "page": n}), "current": n == page.page})
    context = {
        "q": q,
        "page": page,
        "results": page.results if page else None,
        "facets": facets,
        "pages": pages,
        "error": error,
        "region": region or "",
        "hot": selectors.hot_searches(limit=10),
        "any_filter": any(chosen.values()),
        "clear_url": "?" + urlencode({"q": q}),
    }
    return render(request, "search/results.html", context)


@require_GET
def suggest(request):
    q = request.GET.get("q", "")[:200]
    return render(request, "search/_suggest.html", {"suggestions": selectors.suggest(q=q, limit=8), "q": q})


@require_GET
def hot(request):
    return render(request, "search/_hot.html", {"hot": selectors.hot_searches(limit=10)})


@require_GET
def go(request):
    """Follow a result: count the click (popularity), then redirect to the result's page."""
    target = request.GET.get("next", "")
    if not target or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect("/search/?" + urlencode({"q": request.GET.get("q", "")[:200]}))
    services.record_click(
        kind=request.GET.get("kind", "")[:16],
        code=request.GET.get("code", "")[:64],
        query=request.GET.get("q", "")[:200],
    )
    return HttpResponseRedirect(target)

"""Where index documents come from (数据来源): the catalog, the directory and (when present) the hotline.

Each source yields :class:`~yiwang.search.documents.SearchDocument`. The catalog and the hotline are read
through their selectors only when those apps are installed, so search works (on departments and halls)
before they exist.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Iterable, Iterator

from django.apps import apps
from django.db.models import Count
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from . import documents
from .documents import Action, SearchDocument

POPULARITY_DAYS = 90


def _url(names: Iterable[str], *args: object) -> str:
    for name in names:
        try:
            return reverse(name, args=args)
        except NoReverseMatch:
            continue
    return ""


def _template(names: tuple[str, ...]) -> str | None:
    """A URL pattern with a placeholder, resolved once per process (reverse() is slow in a hot loop)."""
    cached = _TEMPLATES.get(names)
    if cached is None:
        cached = _url(names, "CODE-PLACEHOLDER").replace("CODE-PLACEHOLDER", "{}")
        _TEMPLATES[names] = cached
    return cached or None


_TEMPLATES: dict[tuple[str, ...], str] = {}
ITEM_GUIDE = ("web:item", "web:item_detail", "web:catalog_item", "catalog:item")
ITEM_APPLY = ("web:apply", "web:item_apply", "cases:apply")
ITEM_BOOK = ("web:book", "web:item_book", "appointments:book")
BUNDLE_GUIDE = ("web:bundle", "web:bundle_detail", "web:catalog_bundle", "catalog:bundle")
BUNDLE_APPLY = ("web:bundle_apply", "cases:bundle_apply")


def _fill(names: tuple[str, ...], code: str) -> str:
    template = _template(names)
    return template.format(code) if template else ""


def item_urls(code: str, *, online: bool = True) -> dict[str, str]:
    """Guide page, online application and booking for an item — whichever the portal offers now."""
    return {
        "guide": _fill(ITEM_GUIDE, code) or f"/api/v1/catalog/items/{code}",
        "apply": _fill(ITEM_APPLY, code) if online else "",
        "book": _fill(ITEM_BOOK, code),
    }


def bundle_urls(code: str) -> dict[str, str]:
    return {"guide": _fill(BUNDLE_GUIDE, code) or f"/api/v1/catalog/bundles/{code}", "apply": _fill(BUNDLE_APPLY, code)}


def popularity(kind: str) -> dict[str, float]:
    """Result clicks in the last 90 days per code."""
    from .models import SearchClick

    since = timezone.now() - dt.timedelta(days=POPULARITY_DAYS)
    rows = (
        SearchClick.objects.filter(kind=kind, created_at__gte=since)
        .values("code")
        .annotate(n=Count("id"))
        .values_list("code", "n")
    )
    return {code: float(n) for code, n in rows}


def catalog_available() -> bool:
    if not apps.is_installed("yiwang.catalog"):
        return False
    try:
        selectors = importlib.import_module("yiwang.catalog.selectors")
    except ImportError:
        return False
    return hasattr(selectors, "iter_index_documents")


def item_documents(codes: list[str] | None = None) -> Iterator[SearchDocument]:
    if not catalog_available():
        return
    from yiwang.catalog import selectors as catalog

    clicks = popularity("item")
    kwargs = {"codes_": codes} if codes is not None else {}
    for data in catalog.iter_index_documents(**kwargs):
        data = dict(data)
        data.setdefault("popularity", clicks.get(str(data["code"]), 0.0))
        yield documents.from_catalog_item(data, urls=item_urls(str(data["code"]), online=bool(data.get("online"))))


def bundle_documents(codes: list[str] | None = None) -> Iterator[SearchDocument]:
    if not catalog_available():
        return
    from yiwang.catalog import selectors as catalog

    if not hasattr(catalog, "iter_bundle_index_documents"):
        return
    for data in catalog.iter_bundle_index_documents():
        if codes is not None and str(data["code"]) not in codes:
            continue
        yield documents.from_catalog_bundle(data, urls=bundle_urls(str(data["code"])))


def department_documents() -> Iterator[SearchDocument]:
    from yiwang.directory.models import Department

    for dept in Department.objects.filter(is_active=True).select_related("region").iterator(chunk_size=2000):
        url = _url(("web:department",), dept.pk)
        region = dept.region
        yield SearchDocument(
            kind="department",
            code=str(dept.pk),
            title=dept.name,
            short_name=dept.short_name,
            guide=" ".join(x for x in (dept.address, dept.phone) if x),
            department=dept.name,
            department_id=dept.pk,
            region_code=dept.region_id,
            region_name=region.full_name or region.name,
            level=region.level,
            url=url,
            actions=[Action("open", "查看部门", url)] if url else [],
            summary=" · ".join(x for x in (dept.address, dept.phone) if x),
        )


def hall_documents() -> Iterator[SearchDocument]:
    from yiwang.directory.models import ServiceHall

    for hall in ServiceHall.objects.filter(is_active=True).select_related("region").iterator(chunk_size=2000):
        url = _url(("web:hall",), hall.pk)
        region = hall.region
        yield SearchDocument(
            kind="hall",
            code=str(hall.pk),
            title=hall.name,
            aliases=[hall.get_kind_display()],
            guide=" ".join(x for x in (hall.address, hall.opening_hours, hall.traffic, hall.phone) if x),
            region_code=hall.region_id,
            region_name=region.full_name or region.name,
            level=region.level,
            url=url,
            actions=[Action("open", "查看大厅", url)] if url else [],
            summary=" · ".join(x for x in (hall.address, hall.opening_hours) if x),
        )


def knowledge_documents() -> Iterator[SearchDocument]:
    """Valid hotline knowledge-base entries (question → answer), when the hotline app is installed."""
    if not apps.is_installed("yiwang.hotline"):
        return
    try:
        model = apps.get_model("hotline", "KnowledgeEntry")
    except LookupError:
        return
    from django.db.models import Q

    from yiwang.hotline.knowledge import CATALOG_SOURCE as CATALOG_FAQ_SOURCE

    today = timezone.localdate()
    rows = (
        model.objects.filter(is_active=True)
        # Item FAQs copied into the knowledge base are already searchable through their service item.
        .exclude(source=CATALOG_FAQ_SOURCE)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=today))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .select_related("region")
    )
    for entry in rows.iterator(chunk_size=2000):
        region = entry.region
        yield SearchDocument(
            kind="knowledge",
            code=str(entry.pk),
            title=entry.question,
            aliases=[k for k in entry.keywords.replace("，", ",").replace("、", ",").split(",") if k.strip()],
            guide=entry.answer,
            department=entry.department_name,
            department_id=entry.department_id,
            region_code=entry.region_id or "",
            region_name=(region.full_name or region.name) if region else "",
            level=region.level if region else 0,
            summary=documents._summary(entry.answer, limit=160),
            popularity=float(entry.use_count),
        )


def all_documents() -> Iterator[SearchDocument]:
    yield from item_documents()
    yield from bundle_documents()
    yield from department_documents()
    yield from hall_documents()
    yield from knowledge_documents()


def count_documents() -> int | None:
    """An estimate for progress bars (None when a source cannot say)."""
    from yiwang.directory.models import Department, ServiceHall

    total = Department.objects.filter(is_active=True).count() + ServiceHall.objects.filter(is_active=True).count()
    if apps.is_installed("yiwang.hotline"):
        total += apps.get_model("hotline", "KnowledgeEntry").objects.filter(is_active=True).count()
    if catalog_available():
        from yiwang.catalog import selectors as catalog

        published = getattr(catalog, "published_items", None)
        if published is not None:
            try:
                total += published().count()
            except TypeError:
                return None
    return total


def documents_for_keys(keys: list[str]) -> list[SearchDocument]:
    """The current documents for index keys (``item:CODE`` …), for replays after a rebuild."""
    by_kind: dict[str, list[str]] = {}
    for key in keys:
        kind, _, code = key.partition(":")
        by_kind.setdefault(kind, []).append(code)
    out: list[SearchDocument] = []
    if by_kind.get("item"):
        out.extend(item_documents(by_kind["item"]))
    if by_kind.get("bundle"):
        out.extend(bundle_documents(by_kind["bundle"]))
    if by_kind.get("department"):
        wanted = set(by_kind["department"])
        out.extend(d for d in department_documents() if d.code in wanted)
    if by_kind.get("hall"):
        wanted = set(by_kind["hall"])
        out.extend(d for d in hall_documents() if d.code in wanted)
    if by_kind.get("knowledge"):
        wanted = set(by_kind["knowledge"])
        out.extend(d for d in knowledge_documents() if d.code in wanted)
    return out

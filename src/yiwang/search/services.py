"""Writes for search (搜索管理): synonyms, hot-search settings, zero-result handling, index maintenance.

Every change is an action: permission ``search.manage`` first, an audit event, caches dropped on commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils import timezone

from yiwang.core import audit
from yiwang.core.actions import action, lock, on_commit
from yiwang.core.errors import ValidationFailed
from yiwang.core.permissions import policy

from . import selectors, sources, text
from .models import HotSearch, SearchClick, Synonym, ZeroResultQuery


def _clean_term(value: str, field: str) -> str:
    cleaned = text.clean_query(value, max_length=50)
    if not cleaned:
        raise ValidationFailed("检索词不能为空。", code="search_term_empty", details={"field": field})
    return cleaned


@action
def synonym_set(
    *,
    actor: Any,
    term: str,
    alternatives: list[str],
    two_way: bool = False,
    weight: int = 0,
    is_active: bool = True,
    note: str = "",
) -> Synonym:
    """Create or replace the synonyms of ``term`` (新增/修改同义词)."""
    policy.require(actor, "search.manage")
    term = _clean_term(term, "term")
    alts = [a for a in dict.fromkeys(text.clean_query(x, max_length=50) for x in alternatives) if a and a != term]
    if not alts:
        raise ValidationFailed("请至少填写一个对应词。", code="synonym_alternatives_empty")
    synonym, created = Synonym.objects.get_or_create(term=term, defaults={"alternatives": ", ".join(alts)})
    if not created:
        synonym = lock(Synonym.objects.filter(pk=synonym.pk))
    synonym.alternatives = ", ".join(alts)
    synonym.two_way = two_way
    synonym.weight = max(0, int(weight))
    synonym.is_active = is_active
    synonym.note = note[:200]
    synonym.save()
    audit.record(
        actor=actor,
        action="search.synonym.set",
        obj=synonym,
        summary={"term": term, "alternatives": alts, "two_way": two_way},
    )
    on_commit(selectors.invalidate_synonyms)
    return synonym


@action
def synonym_delete(*, actor: Any, synonym_id: int) -> None:
    policy.require(actor, "search.manage")
    synonym = lock(Synonym.objects.filter(pk=synonym_id), missing="同义词不存在。")
    audit.record(actor=actor, action="search.synonym.delete", obj=synonym, summary={"term": synonym.term})
    synonym.delete()
    on_commit(selectors.invalidate_synonyms)


@action
def hot_search_set(
    *, actor: Any, term: str, pinned: bool = False, hidden: bool = False, position: int = 0, note: str = ""
) -> HotSearch:
    """Pin a term to the hot list or hide it (热门搜索置顶/隐藏)."""
    policy.require(actor, "search.manage")
    term = _clean_term(term, "term")
    if pinned and hidden:
        raise ValidationFailed("同一检索词不能既置顶又隐藏。", code="hot_search_pinned_and_hidden")
    hot, created = HotSearch.objects.get_or_create(term=term)
    if not created:
        hot = lock(HotSearch.objects.filter(pk=hot.pk))
    hot.pinned, hot.hidden, hot.position, hot.note = pinned, hidden, max(0, int(position)), note[:200]
    hot.save()
    audit.record(
        actor=actor, action="search.hot.set", obj=hot, summary={"term": term, "pinned": pinned, "hidden": hidden}
    )
    on_commit(selectors.invalidate_hot)
    return hot


@action
def zero_result_handle(*, actor: Any, query_id: int, note: str = "") -> ZeroResultQuery:
    """Mark a zero-result query as dealt with (e.g. a synonym added, a service published)."""
    policy.require(actor, "search.manage")
    row = lock(ZeroResultQuery.objects.filter(pk=query_id), missing="检索词不存在。")
    row.handled = True
    row.note = note[:200]
    row.save(update_fields=["handled", "note"])
    audit.record(actor=actor, action="search.zero_result.handle", obj=row, summary={"query": row.query})
    return row


def record_click(*, kind: str, code: str, query: str = "") -> None:
    """Count a result opened from a search (popularity); not an audited action."""
    if kind not in ("item", "bundle", "department", "hall", "knowledge") or not code or len(code) > 64:
        return
    SearchClick.objects.create(kind=kind, code=code, query=text.clean_query(query)[:100], created_at=timezone.now())


# --- index maintenance -----------------------------------------------------------------------------------
def rebuild(*, actor: Any, progress: Callable[[int], None] | None = None) -> dict[str, object]:
    """Rebuild the whole index from the database into a new generation and switch to it (重建索引).

    Not one database transaction (it only reads); the audit event is recorded when the switch is done.
    """
    policy.require(actor, "search.manage")
    store = selectors.store()
    result = store.build(sources.all_documents(), progress=progress, replay=sources.documents_for_keys)
    selectors.engine().invalidate()
    audit.record(
        actor=actor,
        action="search.index.rebuild",
        object_type="search.index",
        object_id=str(result["generation"]),
        summary={"documents": result["documents"], "seconds": result["seconds"]},
    )
    return result


def update_items(*, item_codes: list[str]) -> dict[str, int]:
    """Re-index the given service items: published ones replaced, the others removed (增量更新)."""
    codes = list(dict.fromkeys(str(c) for c in item_codes))
    docs = list(sources.item_documents(codes))
    found = {d.code for d in docs}
    return selectors.store().apply(
        upsert=docs, delete=[f"item:{c}" for c in codes if c not in found], fetch=sources.documents_for_keys
    )


def remove_items(*, item_codes: list[str]) -> dict[str, int]:
    return selectors.store().apply(delete=[f"item:{c}" for c in item_codes], fetch=sources.documents_for_keys)


def update_bundles(*, bundle_codes: list[str]) -> dict[str, int]:
    codes = list(dict.fromkeys(str(c) for c in bundle_codes))
    docs = list(sources.bundle_documents(codes))
    found = {d.code for d in docs}
    return selectors.store().apply(
        upsert=docs, delete=[f"bundle:{c}" for c in codes if c not in found], fetch=sources.documents_for_keys
    )


def remove_bundles(*, bundle_codes: list[str]) -> dict[str, int]:
    return selectors.store().apply(delete=[f"bundle:{c}" for c in bundle_codes], fetch=sources.documents_for_keys)

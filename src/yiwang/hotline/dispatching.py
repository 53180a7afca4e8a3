"""派单 — from a suggested category (and region) to the responsible department through the 派单目录.

The trained models (see :mod:`yiwang.hotline.classifier`) suggest a category and/or a department with a
confidence; :func:`resolve` applies the dispatch rules (most specific category, then most specific region,
then priority). When no rule matches the agent dispatches by hand. Above
``settings.HOTLINE_AUTO_DISPATCH_CONFIDENCE`` (``None`` = never) the order is dispatched automatically.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db.models.signals import m2m_changed, post_delete, post_save

from yiwang.directory.models import Department

from .models import Category, DispatchRule, WorkOrder


@dataclass(frozen=True)
class Suggestion:
    category: Category | None
    department: Department | None
    confidence: float
    category_label: str = ""
    department_label: str = ""
    rule: DispatchRule | None = None
    assists: tuple[Department, ...] = ()


def _region_prefixes(code: str) -> list[str]:
    """The region and its ancestors as 12-digit codes (村 → 乡 → 县 → 市 → 省)."""
    code = code or ""
    result = []
    for length in (12, 9, 6, 4, 2):
        prefix = code[:length]
        full = prefix.ljust(12, "0")
        if full not in result and prefix.strip("0"):
            result.append(full)
    return result


class _Directory:
    """Categories, dispatch rules and departments held in memory for the suggestion path (a few thousand rows).

    Rebuilt after ``settings.HOTLINE_CACHE_SECONDS`` (default 30 s) or at once when a row changes in this
    process (signals below), so intake does not query the rules for every order.
    """

    def __init__(self) -> None:
        self.categories = {c.pk: c for c in Category.objects.filter(is_active=True).select_related("parent__parent")}
        self.by_code = {c.code: c for c in self.categories.values()}
        self.by_path = {c.path: c for c in self.categories.values() if c.path}
        self.by_name: dict[str, Category] = {}
        for c in sorted(self.categories.values(), key=lambda c: (c.level, c.code)):
            self.by_name.setdefault(c.name, c)
        self.departments = {d.pk: d for d in Department.objects.filter(is_active=True)}
        self.dept_by_name: dict[str, list[Department]] = {}
        for d in self.departments.values():
            for key in {d.name, d.short_name} - {""}:
                self.dept_by_name.setdefault(key, []).append(d)
        self.rules: dict[int, list[DispatchRule]] = {}
        self.assists: dict[int, tuple[int, ...]] = {}
        through = DispatchRule.assist_departments.through
        for rule_id, dept_id in through.objects.values_list("dispatchrule_id", "department_id"):
            self.assists[rule_id] = (*self.assists.get(rule_id, ()), dept_id)
        for rule in DispatchRule.objects.filter(is_active=True):
            if rule.department_id in self.departments:
                rule.department = self.departments[rule.department_id]
                self.rules.setdefault(rule.category_id, []).append(rule)
        self.built = time.monotonic()


_directory: dict[str, _Directory | None] = {"current": None}
_dir_lock = threading.Lock()


def directory() -> _Directory:
    ttl = getattr(settings, "HOTLINE_CACHE_SECONDS", 30)
    with _dir_lock:
        current = _directory["current"]
        if current is None or time.monotonic() - current.built > ttl:
            current = _directory["current"] = _Directory()
        return current


def forget(**_kwargs) -> None:
    """Drop the in-memory directory (connected to saves and deletes of the rows it holds)."""
    _directory["current"] = None


def assists_of(rule: DispatchRule) -> tuple[Department, ...]:
    d = directory()
    return tuple(d.departments[pk] for pk in d.assists.get(rule.pk, ()) if pk in d.departments)


def resolve(category: Category | None, region_code: str) -> DispatchRule | None:
    """The dispatch rule for ``category`` at ``region_code``: most specific category, then region, then priority."""
    if category is None:
        return None
    d = directory()
    node = d.categories.get(category.pk, category)
    chain = []
    while node is not None:
        chain.append(node)
        node = d.categories.get(node.parent_id) if node.parent_id else None
    regions = _region_prefixes(region_code)
    region_rank = {code: len(regions) - i for i, code in enumerate(regions)}
    best, best_key = None, None
    for i, node in enumerate(chain):
        for rule in d.rules.get(node.pk, ()):
            if rule.region_id is not None and rule.region_id not in region_rank:
                continue
            key = (len(chain) - i, region_rank.get(rule.region_id, 0), rule.priority, -rule.pk)
            if best_key is None or key > best_key:
                best, best_key = rule, key
    return best


def category_by_label(label: str) -> Category | None:
    """Map a model's label to a category: a code, a path (大类/中类/小类) or a name (shallowest first)."""
    if not label:
        return None
    d = directory()
    return d.by_code.get(label) or d.by_path.get(label) or d.by_name.get(label)


def department_by_label(label: str, region_code: str) -> Department | None:
    """Map a model's label to a department: the one with that name in the order's region chain, nearest first."""
    if not label:
        return None
    candidates = directory().dept_by_name.get(label, [])
    if not candidates:
        return None
    order = {code: i for i, code in enumerate(_region_prefixes(region_code))}
    return min(candidates, key=lambda d: order.get(d.region_id, 99))


def suggest(*, text: str, region_code: str, title: str = "") -> Suggestion | None:
    """Category and department suggestions from the trained models, with the dispatch rule they lead to.

    ``text`` is the whole order text (starting with its title); ``title`` the title alone, for models trained
    with a title block.
    """
    from . import classifier

    cat_model = classifier.cached("category")
    dept_model = classifier.cached("department")
    if cat_model is None and dept_model is None:
        return None
    category = department = rule = None
    confidence = 0.0
    cat_label = dept_label = ""
    assists: tuple[Department, ...] = ()
    if cat_model is not None:
        top = cat_model.predict([text], k=1, titles=[title])[0][0]
        cat_label, confidence = top
        category = category_by_label(cat_label)
        rule = resolve(category, region_code)
        if rule is not None:
            department = rule.department
            assists = assists_of(rule)
    if dept_model is not None and department is None:
        dept_label, dept_conf = dept_model.predict([text], k=1, titles=[title])[0][0]
        department = department_by_label(dept_label, region_code)
        confidence = dept_conf if cat_model is None else min(confidence, dept_conf) if department else confidence
    return Suggestion(category, department, round(float(confidence), 4), cat_label, dept_label, rule, assists)


def auto_threshold() -> float | None:
    return getattr(settings, "HOTLINE_AUTO_DISPATCH_CONFIDENCE", None)


def auto_target(order: WorkOrder) -> tuple[int, list[int]] | None:
    """(主办, [协办]) when the order may be dispatched without the agent, else ``None``."""
    threshold = auto_threshold()
    if threshold is None or order.status != "new" or order.suggested_department_id is None:
        return None
    if (order.suggestion_confidence or 0.0) < threshold:
        return None
    rule = resolve(order.category, order.region_id) if order.category_id else None
    if rule is not None and rule.department_id == order.suggested_department_id:
        return rule.department_id, [d.pk for d in assists_of(rule)]
    return order.suggested_department_id, []


for _model in (Category, DispatchRule, Department):
    post_save.connect(forget, sender=_model, dispatch_uid=f"hotline-directory-save-{_model.__name__}")
    post_delete.connect(forget, sender=_model, dispatch_uid=f"hotline-directory-delete-{_model.__name__}")
m2m_changed.connect(forget, sender=DispatchRule.assist_departments.through, dispatch_uid="hotline-directory-m2m")

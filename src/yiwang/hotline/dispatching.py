"""派单 — from a suggested category (and region) to the responsible department through the 派单目录.

The trained models (see :mod:`yiwang.hotline.classifier`) suggest a category and/or a department with a
confidence; :func:`resolve` applies the dispatch rules (most specific category, then most specific region,
then priority). When no rule matches the agent dispatches by hand. Above
``settings.HOTLINE_AUTO_DISPATCH_CONFIDENCE`` (``None`` = never) the order is dispatched automatically.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

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


def resolve(category: Category | None, region_code: str) -> DispatchRule | None:
    """The dispatch rule for ``category`` at ``region_code``: most specific category, then region, then priority."""
    if category is None:
        return None
    chain = category.ancestors()
    depth = {c.pk: len(chain) - i for i, c in enumerate(chain)}
    regions = _region_prefixes(region_code)
    region_rank = {code: len(regions) - i for i, code in enumerate(regions)}
    rules = (
        DispatchRule.objects.filter(is_active=True, category_id__in=list(depth), department__is_active=True)
        .filter(Q(region__isnull=True) | Q(region_id__in=regions))
        .select_related("department")
    )
    best = None
    best_key = None
    for rule in rules:
        key = (depth[rule.category_id], region_rank.get(rule.region_id, 0), rule.priority, -rule.pk)
        if best_key is None or key > best_key:
            best, best_key = rule, key
    return best


def category_by_label(label: str) -> Category | None:
    """Map a model's label to a category: a code, a path (大类/中类/小类) or a name (shallowest first)."""
    if not label:
        return None
    found = Category.objects.filter(Q(code=label) | Q(path=label), is_active=True).first()
    if found is None:
        found = Category.objects.filter(name=label, is_active=True).order_by("level", "code").first()
    return found


def department_by_label(label: str, region_code: str) -> Department | None:
    """Map a model's label to a department: the one with that name in the order's region chain, nearest first."""
    if not label:
        return None
    candidates = list(Department.objects.filter(Q(name=label) | Q(short_name=label), is_active=True))
    if not candidates:
        return None
    order = {code: i for i, code in enumerate(_region_prefixes(region_code))}
    return min(candidates, key=lambda d: order.get(d.region_id, 99))


def suggest(*, text: str, region_code: str) -> Suggestion | None:
    """Category and department suggestions from the trained models, with the dispatch rule they lead to."""
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
        top = cat_model.predict([text], k=1)[0][0]
        cat_label, confidence = top
        category = category_by_label(cat_label)
        rule = resolve(category, region_code)
        if rule is not None:
            department = rule.department
            assists = tuple(rule.assist_departments.filter(is_active=True))
    if dept_model is not None and department is None:
        dept_label, dept_conf = dept_model.predict([text], k=1)[0][0]
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
        return rule.department_id, list(rule.assist_departments.filter(is_active=True).values_list("pk", flat=True))
    return order.suggested_department_id, []

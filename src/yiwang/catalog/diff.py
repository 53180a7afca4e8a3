"""Differences between two element sets (版本比对) — pure: what changed, field by field and row by row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .elements import ItemElements

# How rows of each list are matched between versions (a row keeps its identity when these agree).
ROW_KEYS: dict[str, tuple[str, ...]] = {
    "materials": ("name",),
    "fees": ("name",),
    "steps": ("kind", "name"),
    "faq": ("question",),
    "conditions": ("text",),
    "places": ("name", "address"),
    "legal_basis": ("law", "article"),
}


@dataclass(frozen=True)
class Change:
    path: str  # e.g. "promised_limit", "materials[营业执照].necessity", "form.fields[phone]"
    label: str  # Chinese field label
    kind: str  # "changed" | "added" | "removed"
    old: Any = None
    new: Any = None


def _label(field: str) -> str:
    info = ItemElements.model_fields.get(field)
    return (info.description or field) if info else field


def _key(row: Any, keys: tuple[str, ...]) -> str:
    if not isinstance(row, dict):
        return str(row)
    return " / ".join(str(row.get(k, "")) for k in keys if row.get(k, "") != "") or "—"


def _rows(field: str, old: list, new: list, keys: tuple[str, ...]) -> list[Change]:
    out: list[Change] = []
    olds = {_key(r, keys): r for r in old}
    news = {_key(r, keys): r for r in new}
    label = _label(field)
    for k, row in news.items():
        if k not in olds:
            out.append(Change(f"{field}[{k}]", label, "added", None, row))
        elif olds[k] != row:
            prev = olds[k]
            for sub in sorted(set(prev) | set(row)):
                if prev.get(sub) != row.get(sub):
                    out.append(Change(f"{field}[{k}].{sub}", label, "changed", prev.get(sub), row.get(sub)))
    out.extend(Change(f"{field}[{k}]", label, "removed", row, None) for k, row in olds.items() if k not in news)
    old_order = [k for k in olds if k in news]
    new_order = [k for k in news if k in olds]
    if old_order != new_order:
        out.append(Change(f"{field}.order", label, "changed", old_order, new_order))
    return out


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every difference between two element dumps, in field order."""
    out: list[Change] = []
    for field in ItemElements.model_fields:
        a, b = old.get(field), new.get(field)
        if a == b:
            continue
        if field in ROW_KEYS and isinstance(a, list) and isinstance(b, list):
            out.extend(_rows(field, a, b, ROW_KEYS[field]))
        elif field == "form" and isinstance(a, dict) and isinstance(b, dict):
            out.extend(_rows("form", a.get("fields", []), b.get("fields", []), ("name",)))
        elif field == "result" and isinstance(a, dict) and isinstance(b, dict):
            out.extend(
                Change(f"result.{sub}", _label("result"), "changed", a.get(sub), b.get(sub))
                for sub in sorted(set(a) | set(b))
                if a.get(sub) != b.get(sub)
            )
        else:
            out.append(Change(field, _label(field), "changed", a, b))
    return out

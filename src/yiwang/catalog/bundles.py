"""Pure helpers for bundles (一件事): conditions (情形), stages (order/parallel)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def condition_applies(condition: dict[str, Any] | None, answers: dict[str, Any]) -> bool:
    """``{}`` always applies; ``{"key": k, "in": [...]}`` applies when the answer to ``k`` is one of them;
    ``{"all": [c, ...]}`` / ``{"any": [c, ...]}`` combine conditions."""
    if not condition:
        return True
    if "all" in condition:
        return all(condition_applies(c, answers) for c in condition["all"])
    if "any" in condition:
        return any(condition_applies(c, answers) for c in condition["any"])
    answer = answers.get(condition.get("key", ""))
    allowed = condition.get("in", [])
    if isinstance(answer, list):
        return any(a in allowed for a in answer)
    return answer in allowed


def validate_condition(condition: Any, scenario_keys: Iterable[str]) -> list[str]:
    """Problems with a member condition against the bundle's scenario keys (empty list: fine)."""
    keys = set(scenario_keys)
    if condition in (None, {}):
        return []
    if not isinstance(condition, dict):
        return ["条件应为对象"]
    if "all" in condition or "any" in condition:
        parts = condition.get("all", condition.get("any"))
        if not isinstance(parts, list) or not parts:
            return ["组合条件应为非空列表"]
        return [p for c in parts for p in validate_condition(c, keys)]
    problems = []
    if condition.get("key") not in keys:
        problems.append(f"未知情形 {condition.get('key')!r}")
    if not isinstance(condition.get("in"), list) or not condition.get("in"):
        problems.append("条件应列出适用的选项（in）")
    return problems


def stages(members: Iterable[tuple[int, Any]]) -> list[list[Any]]:
    """Group members by their order number: each group runs in parallel, groups run one after another."""
    groups: dict[int, list[Any]] = {}
    for order, member in members:
        groups.setdefault(order, []).append(member)
    return [groups[k] for k in sorted(groups)]

"""State machines of service items and bundles — explicit transition tables, pure."""

from __future__ import annotations

from yiwang.core.errors import InvalidTransition

# (state, action) → new state, for service items (实施清单事项).
ITEM_TRANSITIONS: dict[tuple[str, str], str] = {
    ("draft", "publish"): "published",
    ("published", "publish"): "published",  # a new version replaces the one in force
    ("published", "suspend"): "suspended",
    ("suspended", "resume"): "published",
    ("suspended", "publish"): "published",  # publishing a corrected version lifts a suspension
    ("published", "cancel"): "cancelled",
    ("suspended", "cancel"): "cancelled",
}
ITEM_STATES = ("draft", "published", "suspended", "cancelled")
ITEM_ACTIONS = ("publish", "suspend", "resume", "cancel")

BUNDLE_TRANSITIONS: dict[tuple[str, str], str] = {
    ("draft", "publish"): "published",
    ("published", "publish"): "published",
    ("withdrawn", "publish"): "published",
    ("published", "withdraw"): "withdrawn",
}
BUNDLE_STATES = ("draft", "published", "withdrawn")
BUNDLE_ACTIONS = ("publish", "withdraw")

_ACTION_NAMES = {"publish": "发布", "suspend": "暂停", "resume": "恢复", "cancel": "取消", "withdraw": "撤回"}


def next_state(table: dict[tuple[str, str], str], state: str, action: str) -> str:
    """The state after ``action`` or ``InvalidTransition`` (code ``invalid_transition``)."""
    try:
        return table[(state, action)]
    except KeyError:
        raise InvalidTransition(
            f"当前状态不允许{_ACTION_NAMES.get(action, action)}。", details={"state": state, "action": action}
        ) from None


def item_next(state: str, action: str) -> str:
    return next_state(ITEM_TRANSITIONS, state, action)


def bundle_next(state: str, action: str) -> str:
    return next_state(BUNDLE_TRANSITIONS, state, action)

"""Events other apps subscribe to (fired after commit), e.g. the search index.

    from yiwang.catalog import events
    events.item_published.connect(lambda *, item_codes: reindex(item_codes))

Callbacks take keyword arguments; they run after the transaction commits, and a failing callback is
logged without affecting the others. Batches (an import) fire once with every changed code.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction

log = logging.getLogger(__name__)


class Hook:
    """A list of callbacks fired on commit."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.callbacks: list[Callable[..., Any]] = []

    def connect(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        if fn not in self.callbacks:
            self.callbacks.append(fn)
        return fn

    def disconnect(self, fn: Callable[..., Any]) -> None:
        if fn in self.callbacks:
            self.callbacks.remove(fn)

    def send_now(self, **kwargs: Any) -> None:
        for fn in list(self.callbacks):
            try:
                fn(**kwargs)
            except Exception:
                log.exception("catalog event %s: callback %r failed", self.name, fn)

    def fire(self, **kwargs: Any) -> None:
        """Call every callback with ``kwargs`` once the current transaction commits (at once outside one)."""
        transaction.on_commit(lambda: self.send_now(**kwargs))

    def __repr__(self) -> str:
        return f"Hook({self.name!r}, {len(self.callbacks)} callbacks)"


# item_codes: list[str] — service items that got a new published version (publish, import).
item_published = Hook("item_published")
# item_codes: list[str] — service items suspended or cancelled (no longer applicable).
item_withdrawn = Hook("item_withdrawn")
# bundle_codes: list[str]
bundle_published = Hook("bundle_published")
bundle_withdrawn = Hook("bundle_withdrawn")

"""Subscriptions to other apps' events (catalog publish/withdraw → index tasks)."""

from __future__ import annotations

import importlib
import logging

from django.apps import apps

log = logging.getLogger(__name__)


def on_items_published(*, item_codes: list[str], **_: object) -> None:
    from . import tasks

    tasks.enqueue_chunks(tasks.index_items, list(item_codes))


def on_items_withdrawn(*, item_codes: list[str], **_: object) -> None:
    from . import tasks

    tasks.enqueue_chunks(tasks.unindex_items, list(item_codes))


def on_bundles_published(*, bundle_codes: list[str], **_: object) -> None:
    from . import tasks

    tasks.enqueue_chunks(tasks.index_bundles, list(bundle_codes))


def on_bundles_withdrawn(*, bundle_codes: list[str], **_: object) -> None:
    from . import tasks

    tasks.enqueue_chunks(tasks.unindex_bundles, list(bundle_codes))


def connect_sources() -> None:
    if not apps.is_installed("yiwang.catalog"):
        return
    try:
        events = importlib.import_module("yiwang.catalog.events")
    except ImportError:
        return
    for name, handler in (
        ("item_published", on_items_published),
        ("item_withdrawn", on_items_withdrawn),
        ("bundle_published", on_bundles_published),
        ("bundle_withdrawn", on_bundles_withdrawn),
    ):
        hook = getattr(events, name, None)
        if hook is not None:
            hook.connect(handler)

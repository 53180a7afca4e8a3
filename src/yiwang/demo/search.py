"""Demo search index: rebuilt from the demo catalogue, departments and halls loaded before it."""

from __future__ import annotations

from yiwang.core.actors import SystemActor


def load() -> None:
    from yiwang.search import services

    services.rebuild(actor=SystemActor("demo"))

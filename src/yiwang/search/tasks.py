"""Background tasks (后台任务, django-tasks API): keep the index in step with the catalog.

The catalog fires ``item_published`` / ``item_withdrawn`` after commit (see :mod:`yiwang.search.signals`);
the handlers enqueue these tasks, which a worker (``yiwang db_worker``) runs — the single index writer.
"""

from __future__ import annotations

from django_tasks import task

from . import services

CHUNK = 500
REBUILD_ABOVE = 50_000  # a batch this large (an import of a whole province) is cheaper as a rebuild


@task()
def index_items(item_codes: list[str]) -> dict[str, int]:
    return services.update_items(item_codes=item_codes)


@task()
def unindex_items(item_codes: list[str]) -> dict[str, int]:
    return services.remove_items(item_codes=item_codes)


@task()
def index_bundles(bundle_codes: list[str]) -> dict[str, int]:
    return services.update_bundles(bundle_codes=bundle_codes)


@task()
def unindex_bundles(bundle_codes: list[str]) -> dict[str, int]:
    return services.remove_bundles(bundle_codes=bundle_codes)


@task()
def rebuild_index() -> dict[str, object]:
    from yiwang.core.actors import SystemActor

    result = services.rebuild(actor=SystemActor("search"))
    return {k: v for k, v in result.items() if isinstance(v, int | float | str)}


def enqueue_chunks(fn, codes: list[str]) -> int:
    codes = [str(c) for c in dict.fromkeys(codes)]
    if fn is index_items and len(codes) > REBUILD_ABOVE:
        rebuild_index.enqueue()
        return 1
    n = 0
    for start in range(0, len(codes), CHUNK):
        fn.enqueue(codes[start : start + CHUNK])
        n += 1
    return n

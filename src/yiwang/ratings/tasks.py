"""Background jobs of 好差评 (django-tasks): the default-rating job, run daily by the scheduler.

Enqueue with ``apply_default_ratings.enqueue()`` (the worker: ``yiwang db_worker``); the same work runs
from the command line with ``yiwang ratings defaults``. It does nothing unless
``RATINGS["DEFAULT_AFTER_DAYS"]`` (``YIWANG_RATINGS_DEFAULT_AFTER_DAYS``) is set.
"""

from __future__ import annotations

from django_tasks import task

from yiwang.core.actors import SystemActor


@task()
def apply_default_ratings() -> int:
    from .services import default_ratings_run

    return default_ratings_run(actor=SystemActor("ratings.defaults"))

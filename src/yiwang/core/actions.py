"""The action recipe: every state change is one atomic, audited, permission-checked function.

Usage (in a domain app's ``services.py``)::

    @action
    def case_accept(*, actor: User, case_id: int, ...) -> Case:
        case = lock(Case.objects.filter(pk=case_id))          # select_for_update, fixed order
        policy.require(actor, "case.accept", case)             # permission first
        check_transition(...)                                  # typed error when not allowed
        ... write ...
        audit.record(actor=actor, action="case.accept", obj=case, summary={...})
        on_commit(lambda: notify(...))                         # side effects only after commit
        return case

The decorator opens the transaction (joining an outer action's when nested), collects the audit events
recorded inside and appends them to the chain as the last step before commit.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.db import models, transaction

from . import audit
from .errors import NotFound

P = ParamSpec("P")
R = TypeVar("R")
log = logging.getLogger(__name__)


def action(fn: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if audit.collecting_active():
            return fn(*args, **kwargs)
        with transaction.atomic(), audit.collecting():
            return fn(*args, **kwargs)

    wrapper.is_action = True  # type: ignore[attr-defined]
    return wrapper


M = TypeVar("M", bound=models.Model)


def lock(queryset: models.QuerySet[M], *, missing: str | None = None) -> M:
    """Lock and return the single row of ``queryset`` (``select_for_update`` ordered by pk).

    Raise :class:`NotFound` when there is none. Lock several rows with :func:`lock_many`.
    """
    obj = queryset.select_for_update(of=("self",)).order_by("pk").first()
    if obj is None:
        raise NotFound(missing)
    return obj


def lock_many(queryset: models.QuerySet[M]) -> list[M]:
    """Lock rows in primary-key order, the one order every caller uses, so two actions never deadlock."""
    return list(queryset.select_for_update(of=("self",)).order_by("pk"))


def on_commit(fn: Callable[[], object]) -> None:
    """Run a side effect (notification, index update, task) only if the transaction commits."""

    def run() -> None:
        try:
            fn()
        except Exception:  # a failed side effect must not turn a committed action into an error page
            log.exception("on-commit side effect failed")

    transaction.on_commit(run)

"""Extension points of the case lifecycle: guards, in-transaction observers and on-commit events.

The follow-up modules (一件事 :mod:`.bundles`, 容缺/告知承诺 :mod:`.gaps`, 出件送达 :mod:`.delivery`,
督办 :mod:`.supervision`, 帮办代办 :mod:`.agents`) react to case actions without the case services knowing
them:

- **guards** run in ``services._check`` after the permission and transition checks, before anything is
  written; a guard refuses an action by raising a :class:`~yiwang.core.errors.DomainError` (a decision
  while 容缺 materials are outstanding, an agent whose authorisation does not cover the action …);
- **observers** run inside the action's transaction right after its case event is written (a child of a
  bundle completed → the next stage starts; an approval → the delivery clock opens); an error rolls the
  whole action back, so the case and what follows from it never disagree;
- **events** (:class:`~yiwang.catalog.events.Hook`) fire after commit for other apps, e.g. the ratings app
  inviting one evaluation for a whole bundle::

      from yiwang.cases import events
      events.bundle_completed.connect(lambda *, bundle_case_id, outcome, applicant_id, **kw: invite(...))

Registration happens when the modules are imported (``CasesConfig.ready``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.dispatch import Signal

from yiwang.catalog.events import Hook

Guard = Callable[[Any, Any, Any], None]  # (actor, case, action)
Observer = Callable[[Any, str, str, Any], None]  # (case, action name, state before, actor)

_guards: list[Guard] = []
_observers: list[Observer] = []

# Labels of timeline events that are not transition-table actions (shown by the API and the pages).
EVENT_LABELS: dict[str, str] = {}


def guard(fn: Guard) -> Guard:
    """Register ``fn(actor, case, action)`` to run before every case action (raise to refuse)."""
    if fn not in _guards:
        _guards.append(fn)
    return fn


def observer(fn: Observer) -> Observer:
    """Register ``fn(case, action, before, actor)`` to run after every case event, in its transaction."""
    if fn not in _observers:
        _observers.append(fn)
    return fn


def check(actor: Any, case: Any, act: Any) -> None:
    for fn in _guards:
        fn(actor, case, act)


def recorded(case: Any, action: str, before: str, actor: Any) -> None:
    for fn in _observers:
        fn(case, action, before, actor)


def labels(extra: dict[str, str]) -> None:
    EVENT_LABELS.update(extra)


# bundle_case_id: int, outcome: str ("completed" | "partial" | "failed" | "withdrawn"), applicant_id: int,
# bundle_code: str — a 一件事 application ended: invite ONE evaluation for the whole bundle.
bundle_completed = Hook("bundle_completed")
# case_id: int, method: str — a result reached the applicant (送达回执 issued).
result_delivered = Hook("result_delivered")

# Sent after a case was completed (办结) and the transaction committed. ``case_id``: the case.
# Ratings subscribe to invite the applicant to rate the service (一事一评). Not sent for the child cases of
# a 一件事 — the whole bundle is rated once, on ``bundle_completed``.
case_completed = Signal()


def send_case_completed(case: Any) -> None:
    """Schedule ``case_completed`` for ``case`` after commit, unless it belongs to a bundle."""
    from yiwang.core.actions import on_commit

    from .models import BundleChild

    if BundleChild.objects.filter(case_id=case.pk).exists():
        return
    case_id = case.pk
    on_commit(lambda: case_completed.send(sender=type(case), case_id=case_id))

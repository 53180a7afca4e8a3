"""Subscriptions of the cases app to other apps' events (imported from ``CasesConfig.ready``)."""

from __future__ import annotations

from django.dispatch import receiver

from yiwang.workdays.events import calendar_changed


@receiver(calendar_changed, dispatch_uid="cases.recompute_deadlines")
def _on_calendar_changed(sender, years=(), **kwargs) -> None:
    """A holiday schedule was entered or corrected: recompute deadlines in the background."""
    from .tasks import recompute_after_calendar_change

    recompute_after_calendar_change.enqueue(sorted(int(y) for y in years))

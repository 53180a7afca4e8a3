"""Background jobs of the cases app (django-tasks; the database backend runs them in `yiwang db_worker`)."""

from __future__ import annotations

import logging

from django_tasks import task

log = logging.getLogger(__name__)


@task()
def render_document(document_id: int) -> None:
    """Render and store a notice's PDF after the action that issued it committed."""
    from . import documents
    from .models import CaseDocument

    row = CaseDocument.objects.filter(pk=document_id).first()
    if row is not None and not row.pdf_name:
        documents.ensure_pdf(row)


@task()
def recompute_after_calendar_change(years: list[int]) -> dict[str, int]:
    """The working-day calendar changed: recompute every open case whose deadlines touch ``years``."""
    from . import recompute

    stats = recompute.recompute_open_cases(years=years)
    log.info("deadlines recomputed after calendar change %s: %s", years, stats)
    return stats


@task()
def daily() -> dict[str, int]:
    """Every morning: flag deemed acceptances (§32(4)) and refresh the stored warning levels."""
    from yiwang.core.actors import SystemActor

    from . import recompute, services

    flagged = services.cases_flag_deemed_accepted(actor=SystemActor("cases.daily"))
    levels = recompute.refresh_levels()
    return {"deemed_accepted": flagged, "levels_changed": levels}

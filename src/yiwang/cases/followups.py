"""The follow-ups of the case lifecycle, loaded by ``CasesConfig.ready`` (guards, observers, rules), and
their daily run: 容缺 reminders and consequences, overdue 核查, the delivery clock, 督办 escalation.

``yiwang followup [--date YYYY-MM-DD]`` runs it once (cron at 06:00 China time); the ``followup_daily``
task runs it in the background worker.
"""

from __future__ import annotations

import datetime as dt
import logging

from django_tasks import task

from . import agents, bundles, delivery, gaps, policies, supervision  # noqa: F401 - registration

log = logging.getLogger(__name__)


def run_daily(*, on: dt.date | None = None) -> dict[str, dict[str, int]]:
    from yiwang.core.actors import SystemActor

    actor = SystemActor("cases.followup")
    return {
        "gaps": gaps.gaps_sweep(actor=actor, on=on),
        "deliveries": delivery.deliveries_sweep(actor=actor, on=on),
        "supervisions": supervision.supervisions_escalate(actor=actor, on=on),
    }


@task()
def followup_daily() -> dict[str, dict[str, int]]:
    stats = run_daily()
    log.info("case follow-ups: %s", stats)
    return stats

"""yiwang followup [--date YYYY-MM-DD] — the daily follow-ups: 容缺 reminders and consequences, overdue
核查 tasks, the 10-day delivery clock, 督办 escalation. Prints what it did as JSON."""

from __future__ import annotations

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "每日跟进：容缺材料提醒与逾期后果、核查逾期、出件期限预警、督办升级"

    def add_arguments(self, parser):
        parser.add_argument("--date", help="按该日期执行（默认今天，Asia/Shanghai）")

    def handle(self, *args, **options):
        from yiwang.cases.followups import run_daily

        on = None
        if options.get("date"):
            try:
                on = dt.date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError("--date 应为 YYYY-MM-DD") from None
        self.stdout.write(json.dumps(run_daily(on=on), ensure_ascii=False))

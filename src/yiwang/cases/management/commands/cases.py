"""yiwang cases daily|recompute|number — scheduled jobs and checks of the case lifecycle."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yiwang.core.actors import SystemActor


class Command(BaseCommand):
    help = "办件：每日任务（视为受理、预警级别）、时限重算、编号解析 / case jobs"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        sub.add_parser("daily", help="视为受理标记、预警级别刷新、过期幂等键清理（每天运行一次）")
        recompute = sub.add_parser("recompute", help="重算在办件的时限（日历变更后自动运行）")
        recompute.add_argument("--years", nargs="*", type=int, help="只重算与这些年份有关的办件")
        number = sub.add_parser("number", help="解析办件编号")
        number.add_argument("number")

    def handle(self, *args, **opts) -> None:
        from yiwang.cases import idempotency, numbering, recompute, services

        if opts["what"] == "daily":
            flagged = services.cases_flag_deemed_accepted(actor=SystemActor("cases.daily"))
            levels = recompute.refresh_levels()
            purged = idempotency.purge()
            self.stdout.write(f"视为受理 {flagged} 件；预警级别更新 {levels} 件；清理幂等键 {purged} 个")
        elif opts["what"] == "recompute":
            stats = recompute.recompute_open_cases(years=opts["years"] or None)
            self.stdout.write(
                f"检查 {stats['checked']} 件，更新 {stats['changed']} 件（其中含停止计时 {stats['paused']} 件）"
            )
        else:
            try:
                region, day, serial = numbering.parse_number(opts["number"])
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(f"区划 {region}  日期 {day}  序号 {serial}")

"""yiwang ratings defaults|rebuild-rollups|flush-rollups|warnings — 好差评 jobs from the command line."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from yiwang.core.actors import SystemActor
from yiwang.ratings import conf, rollups, selectors, services


class Command(BaseCommand):
    help = "好差评：默认评价、重建汇总表、整改预警 (default ratings, rebuild rollups, rectification warnings)"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="cmd", required=True)
        sub.add_parser("defaults", help="record the default rating for services nobody rated in time (if configured)")
        sub.add_parser("rebuild-rollups", help="recompute every rollup table from the ratings")
        sub.add_parser("flush-rollups", help="add the ratings queued by the one-statement path to the rollups now")
        sub.add_parser("warnings", help="list open rectifications with a yellow or red warning")

    def handle(self, *args, cmd: str, **opts) -> None:
        actor = SystemActor("cli")
        if cmd == "defaults":
            policy = conf.get().default_policy
            if not policy.enabled:
                self.stdout.write("默认评价未启用（设置 YIWANG_RATINGS_DEFAULT_AFTER_DAYS 启用）。")
                return
            done = services.default_ratings_run(actor=actor)
            self.stdout.write(
                f"已记录默认评价 {done} 条（{policy.after_days} 个自然日未评价 → {policy.level.label}）。"
            )
        elif cmd == "rebuild-rollups":
            counts = rollups.rebuild()
            self.stdout.write(
                f"汇总表已重建：评价 {counts['ratings']} 行，可评价服务 {counts['services']} 行，"
                f"原因 {counts['reasons']} 行。"
            )
        elif cmd == "flush-rollups":
            self.stdout.write(f"已计入汇总表的排队评价 {rollups.flush()} 条。")
        elif cmd == "warnings":
            rows = selectors.with_warnings(selectors.rectifications_for(actor, open_only=True))
            flagged = [(r, level, due) for r, level, due in rows if level > 0]
            for rect, level, due in flagged:
                dept = rect.department.name if rect.department else "-"
                self.stdout.write(f"{level.label}\t{rect.number}\t{dept}\t{rect.state_label}\t{due}")
            self.stdout.write(f"共 {len(flagged)} 件预警。")

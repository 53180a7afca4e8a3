"""yiwang audit verify — walk the audit hash chain and report the first broken link."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yiwang.core import audit


class Command(BaseCommand):
    help = "审计链校验 / verify the tamper-evident audit chain"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="cmd", required=True)
        sub.add_parser("verify", help="recompute every link; exit 1 at the first broken one")

    def handle(self, *args, **opts) -> None:
        result = audit.verify()
        if result.ok:
            self.stdout.write(f"审计链完整：共 {result.checked} 条事件。")
            return
        raise CommandError(f"审计链断裂于第 {result.broken_seq} 条：{result.reason}（此前 {result.checked} 条完好）")

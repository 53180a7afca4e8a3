"""yiwang audit verify|flush — walk the audit hash chain; move staged (deferred) events into it."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yiwang.core import audit


class Command(BaseCommand):
    help = "审计链校验 / verify the tamper-evident audit chain"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="cmd", required=True)
        sub.add_parser("verify", help="recompute every link; exit 1 at the first broken one")
        sub.add_parser("flush", help="append staged (deferred) events to the chain")

    def handle(self, *args, cmd: str, **opts) -> None:
        if cmd == "flush":
            self.stdout.write(f"已入链 {audit.flush_pending()} 条待入链事件。")
            return
        result = audit.verify()
        if result.ok:
            pending = f"；另有 {result.pending} 条待入链（yiwang audit flush）" if result.pending else ""
            self.stdout.write(f"审计链完整：共 {result.checked} 条事件{pending}。")
            return
        raise CommandError(f"审计链断裂于第 {result.broken_seq} 条：{result.reason}（此前 {result.checked} 条完好）")

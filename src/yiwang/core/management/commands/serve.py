"""yiwang serve — run the WSGI app under granian, with static files served by granian itself."""

from __future__ import annotations

import os
import shutil
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "以 granian (WSGI) 启动服务 / serve with granian (WSGI)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("YIWANG_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("YIWANG_PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("YIWANG_WORKERS", os.cpu_count() or 1)))
        parser.add_argument(
            "--threads",
            type=int,
            default=int(os.environ.get("YIWANG_THREADS", "8")),
            help="blocking threads per worker (requests handled at once)",
        )
        parser.add_argument("--no-collectstatic", action="store_true")
        parser.add_argument("--access-log", action="store_true")

    def handle(self, *args, **opts) -> None:
        if not opts["no_collectstatic"]:
            call_command("collectstatic", interactive=False, verbosity=0)
        granian = shutil.which("granian", path=os.path.dirname(sys.executable)) or shutil.which("granian")
        argv = [
            granian or "granian",
            "--interface",
            "wsgi",
            "--host",
            opts["host"],
            "--port",
            str(opts["port"]),
            "--workers",
            str(max(1, opts["workers"])),
            "--blocking-threads",
            str(max(1, opts["threads"])),
            "--static-path-route",
            settings.STATIC_URL.rstrip("/"),
            "--static-path-mount",
            str(settings.STATIC_ROOT),
            "--respawn-failed-workers",
        ]
        if opts["access_log"]:
            argv.append("--access-log")
        argv.append("yiwang.wsgi:application")
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
        # a background flusher per worker chains the deferred audit events in batches (decision 0008); every
        # batch has a fixed cost (three statements, a commit), so fewer larger ones (decision 0024)
        os.environ.setdefault("YIWANG_AUDIT_FLUSH_DELAY_MS", "200")
        # and one adds the ratings queued by the one-statement path to the rollups (decision 0018)
        os.environ.setdefault("YIWANG_RATINGS_ROLLUP_FLUSH_DELAY_MS", "200")
        # and one writes the search query log in batches, so no search waits on it (decision 0015)
        os.environ.setdefault("YIWANG_SEARCH_LOG_DEFERRED", "1")
        self.stdout.write(
            f"yiwang: serving on http://{opts['host']}:{opts['port']}/ (granian WSGI, "
            f"{opts['workers']} workers × {opts['threads']} threads)"
        )
        self.stdout.flush()
        os.execv(argv[0], argv)  # noqa: S606 - replace this process so signals reach granian

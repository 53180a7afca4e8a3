"""yiwang demo — load the demo data (idempotent: a second run changes nothing)."""

from __future__ import annotations

import importlib

from django.core.management.base import BaseCommand
from django.db import transaction

# Each module has ``load()`` and is idempotent; later modules may use what earlier ones created.
LOADERS = [
    "yiwang.demo.foundation",
    "yiwang.demo.catalog",
    "yiwang.demo.hotline",
    "yiwang.demo.search",
    "yiwang.demo.cases",
    "yiwang.demo.followups",
    "yiwang.demo.ratings",
]


class Command(BaseCommand):
    help = "加载演示数据 / load demo data (never on a production database)"

    def handle(self, *args, **opts) -> None:
        for dotted in LOADERS:
            module = importlib.import_module(dotted)
            with transaction.atomic():
                module.load()
            self.stdout.write(f"演示数据已就绪：{dotted.rsplit('.', 1)[-1]}")
        self.stdout.write("演示账号密码见 README.md（默认 yiwang-demo-2026）。")

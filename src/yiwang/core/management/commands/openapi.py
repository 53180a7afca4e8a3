"""yiwang openapi [--out FILE] — write the OpenAPI document of /api/v1/ (stdout by default)."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser


def render_openapi() -> str:
    from yiwang.api import api

    schema = api.get_openapi_schema(path_prefix="/api/v1")
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


class Command(BaseCommand):
    help = "输出 OpenAPI 文档 / write the OpenAPI document"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path)

    def handle(self, *args, **opts) -> None:
        text = render_openapi()
        if opts["out"]:
            opts["out"].write_text(text, encoding="utf-8")
            self.stdout.write(f"wrote {opts['out']}")
        else:
            self.stdout.write(text, ending="")

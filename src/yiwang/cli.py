"""``yiwang`` — the one command: the project's own subcommands plus Django's management commands.

yiwang migrate | demo | serve | regions import DIR | workdays add 2026-09-30 5 | audit verify | ...
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    execute_from_command_line(["yiwang", *(args or ["help"])])


if __name__ == "__main__":
    main()

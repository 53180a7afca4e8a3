"""yiwang regions import DIR — load the National Bureau of Statistics region files."""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from yiwang.core.actors import SystemActor
from yiwang.directory import services
from yiwang.directory.importers import StrictImportError, count_rows


class Command(BaseCommand):
    help = "区划导入 / import the five-level region tree (统计用区划代码)"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="cmd", required=True)
        p = sub.add_parser("import", help="import provinces/cities/areas/streets/villages.csv from DIR")
        p.add_argument("directory", type=Path)
        p.add_argument("--strict", action="store_true", help="import nothing if any row is bad")
        p.add_argument("--no-progress", action="store_true")
        p.add_argument("--show-errors", type=int, default=20, help="how many bad rows to list (default 20)")

    def handle(self, *args, **opts) -> None:
        directory: Path = opts["directory"]
        if not directory.is_dir():
            raise CommandError(f"not a folder: {directory}")
        total = count_rows(directory)
        bar = tqdm(total=total, unit="行", disable=opts["no_progress"], desc="区划导入", mininterval=0.5)
        started = time.perf_counter()
        try:
            report = services.regions_import(
                actor=SystemActor("cli:regions import"), directory=directory, strict=opts["strict"], progress=bar.update
            )
        except StrictImportError as exc:
            bar.close()
            self._errors(exc.report.errors, opts["show_errors"])
            raise CommandError(f"{len(exc.report.errors)} 行有误，--strict 模式下未导入任何数据。") from exc
        except FileNotFoundError as exc:
            bar.close()
            raise CommandError(str(exc)) from exc
        bar.close()
        elapsed = time.perf_counter() - started
        levels = "，".join(
            f"{name} {report.per_level.get(level, 0)}"
            for level, name in [(1, "省"), (2, "市"), (3, "县"), (4, "乡镇"), (5, "村")]
        )
        self.stdout.write(
            f"区划导入完成（{elapsed:.1f} 秒）：新增 {report.created}，更新 {report.updated}，"
            f"未变 {report.unchanged}，合并 {report.merged}，错误 {len(report.errors)}。{levels}"
        )
        if report.errors:
            self._errors(report.errors, opts["show_errors"])
            raise CommandError(f"{len(report.errors)} 行有误，已跳过（其余已导入）。")

    def _errors(self, errors, limit: int) -> None:
        for error in errors[:limit]:
            self.stderr.write(f"  错误 {error}")
        if len(errors) > limit:
            self.stderr.write(f"  …… 另有 {len(errors) - limit} 行错误")

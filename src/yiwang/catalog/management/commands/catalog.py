"""yiwang catalog import|export|check — the service-item catalog from the command line."""

from __future__ import annotations

import json
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from yiwang.catalog import exchange, imports, quality, selectors
from yiwang.core.actors import SystemActor
from yiwang.core.errors import DomainError


class Command(BaseCommand):
    help = "事项目录 / service-item catalog: import, export, check"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="cmd", required=True)
        p = sub.add_parser("import", help="import a catalog file (gdzwfw .jsonl/.csv or the own .json format)")
        p.add_argument("file", type=Path)
        p.add_argument("--format", choices=["auto", "gdzwfw", "json"], default="auto")
        p.add_argument("--dry-run", action="store_true", help="parse and report, write nothing")
        p.add_argument("--no-progress", action="store_true")
        p.add_argument("--show-errors", type=int, default=20)
        p = sub.add_parser("export", help="export the whole catalog in the own JSON format")
        p.add_argument("--out", type=Path, default=None, help="file (default: stdout)")
        p = sub.add_parser("check", help="quality-rule report per department")
        p.add_argument("--region", default=None, help="region-code prefix, e.g. 4401")
        p.add_argument("--department", type=int, default=None)
        p.add_argument("--json", action="store_true", help="machine-readable output")
        p.add_argument("--show", type=int, default=5, help="failing items to list per department")

    def handle(self, *args, **opts) -> None:
        getattr(self, f"_{opts['cmd']}")(opts)

    # --- import -------------------------------------------------------------------------------------
    def _import(self, opts) -> None:
        path: Path = opts["file"]
        if not path.is_file():
            raise CommandError(f"file not found: {path}")
        fmt = opts["format"]
        if fmt == "auto":
            fmt = "json" if path.suffix.lower() == ".json" else "gdzwfw"
        actor = SystemActor(f"cli:catalog import {path.name}")
        started = time.perf_counter()
        try:
            if fmt == "json":
                if opts["dry_run"]:
                    raise CommandError("--dry-run is only for gdzwfw files")
                data = json.loads(path.read_text(encoding="utf-8"))
                report = exchange.import_catalog(actor=actor, data=data)
            else:
                bar = tqdm(unit="条", disable=opts["no_progress"], desc="事项导入", mininterval=0.5)
                report = imports.import_gdzwfw(actor=actor, path=path, progress=bar.update, dry_run=opts["dry_run"])
                bar.close()
        except json.JSONDecodeError as exc:
            raise CommandError(f"not JSON: {exc}") from exc
        except DomainError as exc:
            raise CommandError(f"{exc.message} {exc.details or ''}") from exc
        elapsed = time.perf_counter() - started
        rate = report.read / elapsed if elapsed else 0
        self.stdout.write(
            f"事项导入完成（{elapsed:.1f} 秒，{rate:.0f} 条/秒）：读取 {report.read}，新增 {report.created}，"
            f"更新 {report.updated}，未变 {report.unchanged}，错误 {len(report.errors)}；"
            f"新建基本目录 {report.catalog_created}，新建部门 {report.departments_created}，"
            f"新建区划 {report.regions_created}。"
        )
        if report.errors:
            for error in report.errors[: opts["show_errors"]]:
                self.stderr.write(f"  错误 {error}")
            if len(report.errors) > opts["show_errors"]:
                self.stderr.write(f"  …… 另有 {len(report.errors) - opts['show_errors']} 条错误")
            raise CommandError(f"{len(report.errors)} 条记录有误，已跳过（其余已导入）。")

    # --- export -------------------------------------------------------------------------------------
    def _export(self, opts) -> None:
        data = exchange.export_catalog()
        text = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=False)
        if opts["out"]:
            opts["out"].write_text(text + "\n", encoding="utf-8")
            self.stderr.write(f"已导出 {len(data['items'])} 个事项、{len(data['bundles'])} 个一件事到 {opts['out']}")
        else:
            self.stdout.write(text)

    # --- check --------------------------------------------------------------------------------------
    def _check(self, opts) -> None:
        report = selectors.quality_report(region_prefix=opts["region"], department_id=opts["department"])
        if opts["json"]:
            self.stdout.write(json.dumps(report, ensure_ascii=False, indent=1))
            return
        titles = quality.rule_titles()
        total = sum(e["items"] for e in report)
        failing = sum(e["failing"] for e in report)
        for e in report:
            if not e["failing"]:
                continue
            rules = "，".join(f"{titles.get(r, r)} {n}" for r, n in sorted(e["by_rule"].items(), key=lambda x: -x[1]))
            self.stdout.write(f"{e['region']} {e['department']}：{e['failing']}/{e['items']} 未通过（{rules}）")
            for p in e["problems"][: opts["show"]]:
                fields = "；".join(f"{v['rule']}@{v['field']}" for v in p["violations"])
                self.stdout.write(f"    {p['code']} {p['name']}：{fields}")
        self.stdout.write(f"共检查 {total} 个事项，{failing} 个未通过质量规则，{total - failing} 个通过。")

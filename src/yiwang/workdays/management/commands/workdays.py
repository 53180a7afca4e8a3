"""yiwang workdays add|between|next|import|status — the working-day calendar from the command line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yiwang.core.actors import SystemActor
from yiwang.core.errors import DomainError
from yiwang.workdays import services
from yiwang.workdays.calendar import get_calendar
from yiwang.workdays.engine import Pause, Unit
from yiwang.workdays.sources import ScheduleFormatError, read_schedules


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _pause(value: str) -> Pause:
    try:
        start, end = value.split("/", 1)
        return Pause(_date(start), _date(end))
    except ValueError as exc:
        raise CommandError(f"pause must be START/END, e.g. 2026-10-09/2026-10-12: {exc}") from None


class Command(BaseCommand):
    help = "工作日计算与节假日维护 (working days: add, between, next, import, status)"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="cmd", required=True)
        p = sub.add_parser("add", help="the date N units after START (working days by default)")
        p.add_argument("start")
        p.add_argument("n", type=int)
        p.add_argument("--unit", default="working", help="working (工作日, default) or natural (自然日)")
        p.add_argument("--pause", action="append", default=[], help="START/END clock stop, repeatable")
        p.add_argument("--region", default="", help="12-digit region code for regional holidays")
        p = sub.add_parser("between", help="working days in (A, B]")
        p.add_argument("a")
        p.add_argument("b")
        p.add_argument("--unit", default="working")
        p.add_argument("--pause", action="append", default=[])
        p.add_argument("--region", default="")
        p = sub.add_parser("next", help="the first working day after DATE")
        p.add_argument("date")
        p.add_argument("--region", default="")
        p = sub.add_parser("import", help="import holiday-cn JSON files (a file or a folder of <year>.json)")
        p.add_argument("path", type=Path)
        p = sub.add_parser("status", help="which years are known and which are provisional")

    def handle(self, *args, **opts) -> None:
        cmd = opts["cmd"]
        try:
            getattr(self, f"do_{cmd}")(**opts)
        except (ValueError, DomainError) as exc:
            raise CommandError(str(exc)) from exc

    def _note(self, provisional: bool, *dates: dt.date) -> str:
        if not provisional:
            return ""
        years = sorted({d.year for d in dates} - set(get_calendar().known_years))
        return f"  （暂定：{'、'.join(map(str, years)) or '相关'}年放假安排尚未公布）"

    def do_add(self, *, start, n, unit, pause, region, **_) -> None:
        begin = _date(start)
        result = get_calendar(region).add(begin, n, Unit.parse(unit), pauses=[_pause(p) for p in pause])
        self.stdout.write(f"{result.date.isoformat()}{self._note(result.provisional, begin, result.date)}")

    def do_between(self, *, a, b, unit, pause, region, **_) -> None:
        first, last = _date(a), _date(b)
        result = get_calendar(region).between(first, last, Unit.parse(unit), pauses=[_pause(p) for p in pause])
        self.stdout.write(f"{result.days}{self._note(result.provisional, first, last)}")

    def do_next(self, *, date, region, **_) -> None:
        day = _date(date)
        result = get_calendar(region).next_workday(day)
        self.stdout.write(f"{result.date.isoformat()}{self._note(result.provisional, day, result.date)}")

    def do_import(self, *, path: Path, **_) -> None:
        if not path.exists():
            raise CommandError(f"no such file or folder: {path}")
        try:
            schedules = read_schedules(path)
        except ScheduleFormatError as exc:
            raise CommandError(f"bad holiday file: {exc}") from exc
        stats = services.calendar_import(actor=SystemActor("cli:workdays import"), schedules=schedules)
        for schedule in schedules:
            if not schedule.announced:
                self.stdout.write(f"{schedule.year}: 文件中没有放假安排（尚未公布），该年仍按周一至周五暂定计算。")
        self.stdout.write(
            "新增 {created}，更新 {updated}，删除 {deleted}，未变 {unchanged}；公布年份 {years_published}，"
            "跳过 {years_skipped}".format(**stats)
        )

    def do_status(self, **_) -> None:
        calendar = get_calendar()
        known = sorted(calendar.known_years)
        self.stdout.write(f"已知年份：{known[0]}–{known[-1]}（共 {len(known)} 年）")
        this_year = dt.date.today().year  # noqa: DTZ011
        for year in (this_year, this_year + 1):
            state = "已公布" if year in calendar.known_years else "未公布（按周一至周五暂定）"
            self.stdout.write(f"{year}: {state}")

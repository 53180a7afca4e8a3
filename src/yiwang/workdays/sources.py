"""The official holiday schedule as shipped by the ``chinesecalendar`` package (pure, no ORM).

Also reads the holiday-cn JSON format (``{"year": 2026, "papers": [...], "days": [{"name", "date",
"isOffDay"}]}``) used by ``../shared/data/holidays/holiday-cn-json/`` and by the State Council's schedule
mirrors.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import chinese_calendar

HOLIDAY_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


@dataclass(frozen=True)
class ScheduleDay:
    date: dt.date
    is_workday: bool
    name: str


def package_years() -> set[int]:
    years = {d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays}
    return set(range(min(years), max(years) + 1))


def package_schedule() -> list[ScheduleDay]:
    """Every holiday (off) and 调休 (working) day that chinesecalendar knows."""
    days = [
        ScheduleDay(day, False, HOLIDAY_NAMES_ZH.get(str(name), str(name)))
        for day, name in chinese_calendar.holidays.items()
    ]
    days += [
        ScheduleDay(day, True, HOLIDAY_NAMES_ZH.get(str(name), str(name)))
        for day, name in chinese_calendar.workdays.items()
    ]
    return sorted(days, key=lambda d: d.date)


@dataclass(frozen=True)
class YearSchedule:
    year: int
    papers: list[str]
    days: list[ScheduleDay]

    @property
    def announced(self) -> bool:
        """A year counts as published once its schedule names at least one day."""
        return bool(self.days)


class ScheduleFormatError(ValueError):
    pass


def parse_holiday_cn_json(text: str, *, source: str = "") -> YearSchedule:
    try:
        data = json.loads(text)
        year = int(data["year"])
        days = []
        for i, item in enumerate(data.get("days", [])):
            try:
                day = dt.date.fromisoformat(item["date"])
                off = item["isOffDay"]
                if not isinstance(off, bool):
                    raise TypeError("isOffDay must be true or false")
                days.append(ScheduleDay(day, not off, str(item.get("name", ""))[:64]))
            except (KeyError, TypeError, ValueError) as exc:
                raise ScheduleFormatError(f"{source} days[{i}]: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise ScheduleFormatError(f"{source}: not JSON ({exc})") from exc
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ScheduleFormatError):
            raise
        raise ScheduleFormatError(f"{source}: missing or bad 'year' ({exc})") from exc
    return YearSchedule(year=year, papers=[str(p) for p in data.get("papers", [])], days=days)


def read_schedules(path: Path) -> list[YearSchedule]:
    """Read one holiday-cn JSON file or every ``<year>.json`` in a folder."""
    files = sorted(p for p in path.glob("*.json") if p.stem.isdigit()) if path.is_dir() else [path]
    return [parse_holiday_cn_json(f.read_text(encoding="utf-8"), source=f.name) for f in files]

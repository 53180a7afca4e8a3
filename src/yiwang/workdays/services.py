"""Writes to the holiday table. Every change is an audited action and refreshes the calendar on commit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from yiwang.core import audit
from yiwang.core.actions import action, lock, on_commit
from yiwang.core.errors import ValidationFailed
from yiwang.core.permissions import policy

from . import calendar
from .events import calendar_changed
from .models import CalendarDay, CalendarYear
from .sources import YearSchedule


def _after_change(years: set[int]) -> None:
    calendar.invalidate()  # this transaction sees its own change at once

    def fire() -> None:
        calendar.invalidate()
        calendar_changed.send(sender=CalendarDay, years=sorted(years))

    on_commit(fire)


@action
def calendar_day_set(
    *,
    actor: Any,
    date: dt.date,
    is_workday: bool,
    name: str = "",
    region_code: str = "",
    note: str = "",
) -> CalendarDay:
    """设置节假日/调休 — create or change the entry for one date (and region)."""
    policy.require(actor, "workdays.manage")
    if region_code and (not region_code.isdigit() or len(region_code) != 12):
        raise ValidationFailed("区划代码应为12位数字。", code="invalid_region_code")
    day, created = CalendarDay.objects.select_for_update().get_or_create(
        date=date,
        region_code=region_code,
        defaults={"is_workday": is_workday, "name": name, "note": note, "source": CalendarDay.Source.MANUAL},
    )
    before = {"is_workday": day.is_workday, "name": day.name, "source": day.source}
    if not created:
        day.is_workday, day.name, day.note, day.source = is_workday, name, note, CalendarDay.Source.MANUAL
        day.save()
    audit.record(
        actor=actor,
        action="workdays.day_set",
        obj=day,
        summary={
            "date": date,
            "is_workday": is_workday,
            "name": name,
            "region": region_code,
            "before": None if created else before,
        },
    )
    _after_change({date.year})
    return day


@action
def calendar_day_delete(*, actor: Any, day_id: int) -> None:
    """删除节假日调整 — the date falls back to the official schedule / weekday rule."""
    policy.require(actor, "workdays.manage")
    day = lock(CalendarDay.objects.filter(pk=day_id))
    audit.record(
        actor=actor,
        action="workdays.day_delete",
        obj=day,
        summary={"date": day.date, "is_workday": day.is_workday, "name": day.name, "region": day.region_code},
    )
    day.delete()
    _after_change({day.date.year})


@action
def calendar_year_set(*, actor: Any, year: int, published: bool, papers: list[str] | None = None) -> CalendarYear:
    """标记年度放假安排已公布/未公布."""
    policy.require(actor, "workdays.manage")
    row, _ = CalendarYear.objects.select_for_update().get_or_create(year=year)
    row.published = published
    if papers is not None:
        row.papers = papers
    row.save()
    audit.record(actor=actor, action="workdays.year_set", obj=row, summary={"year": year, "published": published})
    _after_change({year})
    return row


@action
def calendar_import(*, actor: Any, schedules: list[YearSchedule]) -> dict[str, int]:
    """导入年度放假安排 (holiday-cn JSON). Idempotent: importing the same file twice changes nothing.

    A year whose file lists days becomes *published*; its imported rows replace earlier imported rows of
    that year (manual rows stay). A year without days (not yet announced) is reported and left alone.
    """
    policy.require(actor, "workdays.manage")
    stats = {"created": 0, "updated": 0, "deleted": 0, "unchanged": 0, "years_published": 0, "years_skipped": 0}
    changed_years: set[int] = set()
    for schedule in schedules:
        if not schedule.announced:
            stats["years_skipped"] += 1
            continue
        wrong = [
            d.date for d in schedule.days if d.date.year not in (schedule.year - 1, schedule.year, schedule.year + 1)
        ]
        if wrong:
            raise ValidationFailed(
                f"{schedule.year} 年安排中含有不属于该年度的日期：{wrong[0]}", code="schedule_year_mismatch"
            )
        existing = {
            d.date: d
            for d in CalendarDay.objects.select_for_update().filter(
                region_code="", source=CalendarDay.Source.IMPORT, date__in=[x.date for x in schedule.days]
            )
        }
        manual = set(
            CalendarDay.objects.filter(
                region_code="", source=CalendarDay.Source.MANUAL, date__in=[x.date for x in schedule.days]
            ).values_list("date", flat=True)
        )
        for item in schedule.days:
            if item.date in manual:
                stats["unchanged"] += 1
                continue
            row = existing.get(item.date)
            if row is None:
                CalendarDay.objects.create(
                    date=item.date, is_workday=item.is_workday, name=item.name, source=CalendarDay.Source.IMPORT
                )
                stats["created"] += 1
                changed_years.add(item.date.year)
            elif (row.is_workday, row.name) != (item.is_workday, item.name):
                row.is_workday, row.name = item.is_workday, item.name
                row.save()
                stats["updated"] += 1
                changed_years.add(item.date.year)
            else:
                stats["unchanged"] += 1
        listed = {x.date for x in schedule.days}
        stale = CalendarDay.objects.filter(
            region_code="", source=CalendarDay.Source.IMPORT, date__year=schedule.year
        ).exclude(date__in=listed)
        n_stale = stale.count()
        if n_stale:
            stale.delete()
            stats["deleted"] += n_stale
            changed_years.add(schedule.year)
        year, _ = CalendarYear.objects.select_for_update().get_or_create(year=schedule.year)
        if not year.published or year.papers != schedule.papers:
            year.published, year.papers = True, schedule.papers
            year.save()
            stats["years_published"] += 1
            changed_years.add(schedule.year)
    if changed_years:
        audit.record(
            actor=actor,
            action="workdays.import",
            object_type="workdays.calendaryear",
            summary={"years": sorted(changed_years), **stats},
        )
        _after_change(changed_years)
    return stats

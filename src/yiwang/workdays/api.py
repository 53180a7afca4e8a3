"""API: working-day arithmetic."""

from __future__ import annotations

import datetime as dt

from ninja import Query, Router, Schema
from pydantic import Field

from yiwang.core.api import with_errors
from yiwang.core.errors import ValidationFailed

from .calendar import get_calendar
from .engine import FIRST_YEAR, LAST_YEAR, Unit

router = Router(tags=["工作日 workdays"])


class AddQuery(Schema):
    start: dt.date
    n: int = Field(ge=0, le=3650)
    unit: Unit = Unit.WORKING
    region: str = Field("", max_length=12, description="区划代码（地方性节假日）")


class BetweenQuery(Schema):
    a: dt.date
    b: dt.date
    unit: Unit = Unit.WORKING
    region: str = Field("", max_length=12)


class DateOut(Schema):
    date: dt.date
    provisional: bool = Field(description="依赖尚未公布放假安排的年份，公布后可能变化")


class CountOut(Schema):
    days: int
    provisional: bool


def _check_range(*days: dt.date) -> None:
    for day in days:
        if not (FIRST_YEAR + 1 <= day.year <= LAST_YEAR - 11):
            raise ValidationFailed(f"日期须在 {FIRST_YEAR + 1}–{LAST_YEAR - 11} 年之间。", code="date_out_of_range")


@router.get("/add", response=with_errors(DateOut, 400, 422), auth=None, summary="计算到期日")
def add(request, query: Query[AddQuery]):
    _check_range(query.start)
    result = get_calendar(query.region).add(query.start, query.n, query.unit)
    return {"date": result.date, "provisional": result.provisional}


@router.get("/between", response=with_errors(CountOut, 400, 422), auth=None, summary="计算两日之间的工作日数")
def between(request, query: Query[BetweenQuery]):
    _check_range(query.a, query.b)
    result = get_calendar(query.region).between(query.a, query.b, query.unit)
    return {"days": result.days, "provisional": result.provisional}

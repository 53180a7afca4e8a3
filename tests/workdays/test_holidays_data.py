"""Every date of the official 2007–2026 schedule: holidays are off, 调休 weekend days are working days."""

import csv
import datetime as dt

import pytest

from tests.conftest import shared_path
from yiwang.workdays.calendar import get_calendar

pytestmark = [pytest.mark.django_db, pytest.mark.shared_data]


def test_every_date_in_the_schedule_matches_the_calendar():
    path = shared_path("holidays", "holiday_cn_2007_2026.csv")
    cal = get_calendar()
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert len(rows) > 600
    wrong = []
    for row in rows:
        day = dt.date.fromisoformat(row["date"])
        off = row["is_off_day"] == "True"
        if cal.is_workday(day) == off:
            wrong.append(row["date"])
    assert wrong == []
    off_days = sum(r["is_off_day"] == "True" for r in rows)
    make_up = [r for r in rows if r["is_off_day"] == "False"]
    assert off_days > 500 and len(make_up) > 100
    # make-up days are weekend days that become working days — except 2020-02-03, listed by the 2020 notice
    # that ended the extended Spring Festival break (a Monday, working as usual)
    weekdays = [r["date"] for r in make_up if dt.date.fromisoformat(r["date"]).weekday() < 5]
    assert weekdays == ["2020-02-03"]


def test_ordinary_days_follow_the_week():
    cal = get_calendar()
    listed = {r["date"] for r in csv.DictReader(shared_path("holidays", "holiday_cn_2007_2026.csv").open())}
    day = dt.date(2007, 1, 1)
    while day.year <= 2026:
        if day.isoformat() not in listed:
            assert cal.is_workday(day) == (day.weekday() < 5), day
        day += dt.timedelta(days=1)

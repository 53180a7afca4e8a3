"""The editable holiday table: overrides, import, years, events, permissions, audit."""

import datetime as dt
import json

import pytest

from tests.conftest import shared_path
from tests.factories import DepartmentFactory, staff
from yiwang.core.errors import NotAuthenticated, PermissionDenied, ValidationFailed
from yiwang.core.models import AuditEvent
from yiwang.workdays import services
from yiwang.workdays.calendar import get_calendar
from yiwang.workdays.events import calendar_changed
from yiwang.workdays.models import CalendarDay, CalendarYear
from yiwang.workdays.sources import ScheduleFormatError, parse_holiday_cn_json

pytestmark = pytest.mark.django_db
D = dt.date

SCHEDULE_2027 = {
    "year": 2027,
    "papers": ["https://www.gov.cn/example-2027"],
    "days": [
        {"name": "元旦", "date": "2027-01-01", "isOffDay": True},
        {"name": "元旦", "date": "2027-01-04", "isOffDay": True},
        {"name": "春节", "date": "2027-02-07", "isOffDay": False},
    ],
}


def _import(system, data=SCHEDULE_2027):
    return services.calendar_import(actor=system, schedules=[parse_holiday_cn_json(json.dumps(data))])


def test_manual_override_changes_the_calendar_at_once(system):
    assert get_calendar().is_workday(D(2026, 11, 23))
    services.calendar_day_set(actor=system, date=D(2026, 11, 23), is_workday=False, name="临时放假")
    assert not get_calendar().is_workday(D(2026, 11, 23))
    day = CalendarDay.objects.get(date=D(2026, 11, 23))
    services.calendar_day_delete(actor=system, day_id=day.pk)
    assert get_calendar().is_workday(D(2026, 11, 23))
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["workdays.day_set", "workdays.day_delete"]


def test_import_publishes_a_year_and_is_idempotent(system, django_capture_on_commit_callbacks):
    received = []

    def listener(sender, years, **kw):
        received.append(years)

    calendar_changed.connect(listener)
    try:
        assert get_calendar().add(D(2026, 12, 25), 10).provisional
        with django_capture_on_commit_callbacks(execute=True):
            stats = _import(system)
        assert stats["created"] == 3 and stats["years_published"] == 1
        assert received == [[2027]]
        cal = get_calendar()
        assert not cal.is_workday(D(2027, 1, 4))
        assert cal.is_workday(D(2027, 2, 7))  # Sunday make-up day
        result = cal.add(D(2026, 12, 25), 10)
        assert not result.provisional
        with django_capture_on_commit_callbacks(execute=True):
            again = _import(system)
        assert again["created"] == again["updated"] == again["deleted"] == 0
        assert again["unchanged"] == 3
        assert received == [[2027]]  # nothing changed → no event
    finally:
        calendar_changed.disconnect(listener)


def test_reimport_with_a_changed_schedule_updates_and_removes(system):
    _import(system)
    changed = {
        **SCHEDULE_2027,
        "days": [
            {"name": "元旦", "date": "2027-01-01", "isOffDay": True},
            {"name": "春节", "date": "2027-02-07", "isOffDay": True},
        ],
    }
    stats = _import(system, changed)
    assert stats == {"created": 0, "updated": 1, "deleted": 1, "unchanged": 1, "years_published": 0, "years_skipped": 0}
    assert not CalendarDay.objects.filter(date=D(2027, 1, 4)).exists()


def test_manual_rows_win_over_imports(system):
    services.calendar_day_set(actor=system, date=D(2027, 1, 4), is_workday=True, name="本地调整")
    stats = _import(system)
    assert stats["unchanged"] == 1
    assert get_calendar().is_workday(D(2027, 1, 4))


def test_an_unannounced_year_is_skipped(system):
    stats = _import(system, {"year": 2028, "papers": [], "days": []})
    assert stats["years_skipped"] == 1
    assert not CalendarYear.objects.filter(year=2028).exists()
    assert 2028 not in get_calendar().known_years


def test_bad_holiday_files_are_reported():
    with pytest.raises(ScheduleFormatError):
        parse_holiday_cn_json("not json")
    with pytest.raises(ScheduleFormatError):
        parse_holiday_cn_json(json.dumps({"days": []}))
    with pytest.raises(ScheduleFormatError):
        parse_holiday_cn_json(json.dumps({"year": 2027, "days": [{"date": "2027-13-01", "isOffDay": True}]}))
    with pytest.raises(ScheduleFormatError):
        parse_holiday_cn_json(json.dumps({"year": 2027, "days": [{"date": "2027-01-01", "isOffDay": "yes"}]}))


def test_schedule_with_dates_of_another_year_is_refused(system):
    with pytest.raises(ValidationFailed):
        _import(system, {"year": 2027, "papers": [], "days": [{"date": "2030-01-01", "isOffDay": True}]})


def test_regional_holiday_applies_only_inside_the_region(system):
    services.calendar_day_set(
        actor=system, date=D(2026, 4, 20), is_workday=False, name="三月三", region_code="450000000000"
    )
    assert not get_calendar("450100000000").is_workday(D(2026, 4, 20))
    assert get_calendar("440100000000").is_workday(D(2026, 4, 20))
    assert get_calendar().is_workday(D(2026, 4, 20))


def test_only_administrators_edit_the_calendar(geo):
    dept = DepartmentFactory(region=geo.th)
    county_supervisor = staff("supervisor", dept)
    with pytest.raises(PermissionDenied):
        services.calendar_day_set(actor=county_supervisor, date=D(2026, 11, 23), is_workday=False)
    with pytest.raises(NotAuthenticated):
        services.calendar_day_set(actor=None, date=D(2026, 11, 23), is_workday=False)
    province_dept = DepartmentFactory(region=geo.gd)
    province_supervisor = staff("supervisor", province_dept)
    services.calendar_day_set(actor=province_supervisor, date=D(2026, 11, 23), is_workday=False)
    assert CalendarDay.objects.count() == 1


def test_real_holiday_files_import(system):
    from yiwang.workdays.sources import read_schedules

    schedules = read_schedules(shared_path("holidays", "holiday-cn-json"))
    stats = services.calendar_import(actor=system, schedules=schedules)
    assert stats["years_skipped"] >= 1  # 2027.json lists no days yet
    assert 2027 not in get_calendar().known_years
    cal = get_calendar()
    assert cal.add(D(2026, 9, 30), 5).date == D(2026, 10, 13)

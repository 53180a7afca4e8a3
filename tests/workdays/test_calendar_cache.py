"""The per-process calendar cache with real transactions: a calendar built from committed rows is used
inside other transactions without reading the version again; an edit is seen at once by later requests of
the editing process, by other processes within ``CHECK_SECONDS``; an edit rolled back is never cached."""

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from yiwang.workdays import calendar, services
from yiwang.workdays.calendar import get_calendar
from yiwang.workdays.models import CalendarDay

pytestmark = pytest.mark.django_db(transaction=True)
MONDAY = dt.date(2026, 11, 23)


def _queries(fn):
    with CaptureQueriesContext(connection) as captured:
        result = fn()
    return result, len(captured.captured_queries)


def test_a_cached_calendar_is_used_inside_a_transaction_without_queries():
    get_calendar()  # built outside a transaction
    for _ in range(3):
        with transaction.atomic():
            cal, queries = _queries(get_calendar)
            assert queries == 0
            assert cal.is_workday(MONDAY)


def test_an_edit_is_seen_by_the_next_request_of_the_editing_process(system):
    with transaction.atomic():
        assert get_calendar().is_workday(MONDAY)
    with transaction.atomic():
        services.calendar_day_set(actor=system, date=MONDAY, is_workday=False)
        assert not get_calendar().is_workday(MONDAY)  # the editing transaction sees its own change
    with transaction.atomic():
        assert not get_calendar().is_workday(MONDAY)
    assert not get_calendar().is_workday(MONDAY)


def test_a_rolled_back_edit_is_never_cached(system):
    get_calendar()

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        services.calendar_day_set(actor=system, date=MONDAY, is_workday=False)
        assert not get_calendar().is_workday(MONDAY)
        raise Undo
    with transaction.atomic():
        assert get_calendar().is_workday(MONDAY)
    assert get_calendar().is_workday(MONDAY)
    assert not CalendarDay.objects.exists()


def test_another_process_edit_is_seen_after_check_seconds(monkeypatch):
    get_calendar()
    # another process writes the row: this process's cache is not told
    CalendarDay.objects.create(date=MONDAY, is_workday=False, name="停工", source=CalendarDay.Source.MANUAL)
    with transaction.atomic():
        assert get_calendar().is_workday(MONDAY)  # still within CHECK_SECONDS: the cached calendar
    monkeypatch.setattr(calendar, "CHECK_SECONDS", 0.0)
    with transaction.atomic():
        assert not get_calendar().is_workday(MONDAY)


def test_other_transactions_use_the_committed_calendar_while_one_edits(system):
    import threading

    if connection.vendor != "postgresql":
        pytest.skip("SQLite locks the table for the other connection")
    get_calendar()
    seen = []
    with transaction.atomic():
        services.calendar_day_set(actor=system, date=MONDAY, is_workday=False)
        assert not get_calendar().is_workday(MONDAY)

        def other():
            try:
                with transaction.atomic():
                    seen.append(get_calendar().is_workday(MONDAY))
            finally:
                connection.close()

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        assert not get_calendar().is_workday(MONDAY)
    assert seen == [True]  # the uncommitted edit is not visible to another transaction
    assert not get_calendar().is_workday(MONDAY)

"""Case numbers: format, per region and day serials, rollback, concurrency."""

import datetime as dt
import threading

import pytest
from django.db import connection, transaction

from tests.cases.conftest import apply, concurrent
from yiwang.cases import numbering
from yiwang.cases.models import CaseNumberCounter

D = dt.date


def test_format_and_parse_round_trip():
    number = numbering.format_number("440106000000", D(2026, 10, 9), 42)
    assert number == "44010600000020261009000042"
    assert len(number) == 26
    assert numbering.parse_number(number) == ("440106000000", D(2026, 10, 9), 42)


def test_serial_widens_instead_of_wrapping():
    assert numbering.format_number("440106000000", D(2026, 10, 9), 1_000_000).endswith("1000000")
    assert numbering.parse_number("440106000000202610091000000")[2] == 1_000_000


@pytest.mark.parametrize("bad", ["", "4401", "44010600000020261009", "x4010600000020261009000001"])
def test_parse_rejects_non_numbers(bad):
    with pytest.raises(ValueError):
        numbering.parse_number(bad)


@pytest.mark.parametrize(("region", "serial"), [("44010600000", 1), ("44010600000A", 1), ("440106000000", 0)])
def test_format_rejects_bad_parts(region, serial):
    with pytest.raises(ValueError):
        numbering.format_number(region, D(2026, 1, 1), serial)


@pytest.mark.django_db
def test_serials_count_per_region_and_day():
    day = D(2026, 10, 9)
    assert [numbering.next_serial("440106000000", day) for _ in range(3)] == [1, 2, 3]
    assert numbering.next_serial("440104000000", day) == 1
    assert numbering.next_serial("440106000000", D(2026, 10, 10)) == 1
    assert CaseNumberCounter.objects.get(region_code="440106000000", day=day).last == 3


@pytest.mark.django_db
def test_new_number_uses_china_date():
    at = dt.datetime(2026, 10, 8, 17, 30, tzinfo=dt.UTC)  # 01:30 on 10-09 in Beijing
    assert numbering.new_number("440106000000", at=at) == "44010600000020261009000001"


@pytest.mark.django_db
def test_rolled_back_transaction_gives_the_serial_back():
    day = D(2026, 10, 9)
    numbering.next_serial("440106000000", day)
    with pytest.raises(RuntimeError), transaction.atomic():
        numbering.next_serial("440106000000", day)
        raise RuntimeError
    assert numbering.next_serial("440106000000", day) == 2


@apply(concurrent)
def test_concurrent_numbers_are_unique():
    """Real concurrent connections (threads): every serial handed out once."""
    day, results, errors = D(2026, 10, 9), [], []
    barrier = threading.Barrier(6)

    def worker():
        try:
            barrier.wait()
            for _ in range(10):
                with transaction.atomic():
                    results.append(numbering.next_serial("440106000000", day))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(results) == list(range(1, 61))

"""办件编号 — case numbers: ``<区划代码 12位><受理日期 YYYYMMDD><当日序号 6位>``.

Example: ``440106000000`` (天河区) + ``20261009`` + ``000042`` → ``44010600000020261009000042`` (26 digits,
within the national exchange's 50-character ``project_no``). The region is the implementing region of the
service item; the date is the day of receipt in China Standard Time; the serial counts per region and day
from 1 (it widens past 999999 rather than wrap, so numbers stay unique).

The serial comes from one ``INSERT … ON CONFLICT DO UPDATE SET last = last + 1 RETURNING last`` on the
counter row of that region and day (PostgreSQL and SQLite ≥ 3.35). The statement locks the row until the
surrounding transaction ends, so two concurrent submissions in the same region and day queue for a moment
and get different serials; a rolled-back transaction gives its serial back.

The online application's direct path (``direct.py``, decision 0016) takes the serial in a statement of its
own, committed without waiting for the WAL flush, so the row is not locked across each application's
durable commit: numbers stay unique and a committed case's serial is always counted, but an application
that fails after taking its number leaves a gap in that day's serials.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from django.db import connection
from django.utils import timezone

from .models import CaseNumberCounter

CHINA = ZoneInfo("Asia/Shanghai")
NUMBER_RE = re.compile(r"^(?P<region>\d{12})(?P<date>\d{8})(?P<serial>\d{6,})$")


def format_number(region_code: str, day: dt.date, serial: int) -> str:
    if not (region_code.isdigit() and len(region_code) == 12):
        raise ValueError(f"region code must be 12 digits, not {region_code!r}")
    if serial < 1:
        raise ValueError("serial starts at 1")
    return f"{region_code}{day:%Y%m%d}{serial:06d}"


def parse_number(number: str) -> tuple[str, dt.date, int]:
    match = NUMBER_RE.match(number or "")
    if not match:
        raise ValueError(f"not a case number: {number!r}")
    day = dt.datetime.strptime(match["date"], "%Y%m%d").date()  # noqa: DTZ007 - a calendar date
    return match["region"], day, int(match["serial"])


def next_serial(region_code: str, day: dt.date) -> int:
    """Take the next serial for ``region_code`` on ``day`` (call inside the transaction that uses it)."""
    table = connection.ops.quote_name(CaseNumberCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (region_code, day, last) VALUES (%s, %s, 1) "  # noqa: S608 - table name only
            f"ON CONFLICT (region_code, day) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [region_code, day.isoformat()],
        )
        return int(cursor.fetchone()[0])


def new_number(region_code: str, *, at: dt.datetime | None = None) -> str:
    day = timezone.localtime(at or timezone.now(), CHINA).date()
    return format_number(region_code, day, next_serial(region_code, day))

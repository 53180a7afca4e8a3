"""办件的“今天” — the one place the cases app asks for the current date (China Standard Time).

Deadlines, warnings and pauses are counted in calendar days of Asia/Shanghai. Tests that need a fixed day
(a case accepted just before the National Day holiday) patch :func:`today` here.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def today() -> dt.date:
    return timezone.localdate()

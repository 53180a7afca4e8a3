"""Vectorised deadlines for many cases at once (numpy over the calendar's cumulative working-day array).

Recomputing a million open cases after a calendar change must not be a million ``save()`` calls. For the
cases without clock stops (nearly all), the due dates follow from two array look-ups:

- *n working days after start*: the smallest day index ``i`` with ``cum[i] ≥ cum[start + 1] + n``, minus 1;
- *n natural days after start*: ``start + n``, rolled to the next working day when it is not one;
- the yellow-light day: the ``(t + 1)``-th working day counting back from the due date, i.e. the working day
  whose cumulative count is ``cum[due + 1] − t`` (natural units: ``due − t``).

The results equal :func:`yiwang.cases.deadlines.for_case` case by case (a property test checks it); cases
with pauses go through that function instead. Pure: no ORM.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from yiwang.workdays.engine import WorkCalendar

from .deadlines import Level


@dataclass(frozen=True)
class Tables:
    epoch: np.datetime64
    work: np.ndarray  # uint8 flags per day
    cum: np.ndarray  # int64 cumulative counts, len = days + 1
    unknown_year_cum: np.ndarray  # cumulative count of unknown years, indexed by year - first_year
    first_year: int


def tables(calendar: WorkCalendar) -> Tables:
    epoch, work, cum = calendar.arrays()
    first, last = epoch.year, epoch.year + (len(work) // 365) + 1
    unknown = np.array([0] + [0 if y in calendar.known_years else 1 for y in range(first, last + 1)], dtype=np.int64)
    return Tables(
        epoch=np.datetime64(epoch, "D"),
        work=np.frombuffer(work, dtype=np.uint8),
        cum=np.frombuffer(cum, dtype=np.int32).astype(np.int64),
        unknown_year_cum=np.cumsum(unknown),
        first_year=first,
    )


def to_index(t: Tables, dates: np.ndarray) -> np.ndarray:
    return (dates.astype("datetime64[D]") - t.epoch).astype(np.int64)


def to_dates(t: Tables, index: np.ndarray) -> np.ndarray:
    return t.epoch + index.astype("timedelta64[D]")


def _years(t: Tables, index: np.ndarray) -> np.ndarray:
    return to_dates(t, index).astype("datetime64[Y]").astype(np.int64) + 1970


def _any_unknown(t: Tables, lo_idx: np.ndarray, hi_idx: np.ndarray) -> np.ndarray:
    lo = _years(t, np.minimum(lo_idx, hi_idx)) - t.first_year
    hi = _years(t, np.maximum(lo_idx, hi_idx)) - t.first_year
    return (t.unknown_year_cum[hi + 1] - t.unknown_year_cum[lo]) > 0


def add_working(t: Tables, start: np.ndarray, n: np.ndarray) -> np.ndarray:
    target = t.cum[start + 1] + n
    due = np.searchsorted(t.cum, target, side="left") - 1
    return np.where(n == 0, start, due)


def add_natural(t: Tables, start: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Due index and provisional flag (the rolled-to day may depend on an unknown year)."""
    raw = start + n
    off = (t.work[raw] == 0) & (n > 0)
    rolled = np.searchsorted(t.cum, t.cum[raw + 1] + 1, side="left") - 1
    due = np.where(off, rolled, raw)
    provisional = (n > 0) & (_any_unknown(t, raw, raw) | (off & _any_unknown(t, raw, due)))
    return due, provisional


def yellow_working(t: Tables, due: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    target = t.cum[due + 1] - threshold
    return np.searchsorted(t.cum, target, side="left") - 1


@dataclass(frozen=True)
class Batch:
    promised_due: np.ndarray  # datetime64[D]
    legal_due: np.ndarray
    yellow_on: np.ndarray
    provisional: np.ndarray  # bool
    level: np.ndarray  # int8 (0 green, 1 yellow, 2 red)


def compute(
    t: Tables,
    *,
    accepted_on: np.ndarray,
    promised_days: np.ndarray,
    promised_natural: np.ndarray,
    legal_days: np.ndarray,
    legal_natural: np.ndarray,
    extension_days: np.ndarray,
    today: dt.date,
    yellow_days: int = 2,
    yellow_ratio: float = 0.2,
) -> Batch:
    """Deadlines of running clocks (no pauses) for arrays of cases."""
    start = to_index(t, accepted_on)
    p_n = promised_days.astype(np.int64) + extension_days
    l_n = legal_days.astype(np.int64) + extension_days

    def due_of(n: np.ndarray, natural: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        w = add_working(t, start, n)
        w_prov = _any_unknown(t, start, w)
        nat, nat_prov = add_natural(t, start, n)
        return np.where(natural, nat, w), np.where(natural, nat_prov, w_prov)

    p_due, p_prov = due_of(p_n, promised_natural)
    l_due, l_prov = due_of(l_n, legal_natural)
    threshold = np.maximum(yellow_days, np.floor(p_n * yellow_ratio).astype(np.int64))
    yellow = np.where(promised_natural, p_due - threshold, yellow_working(t, p_due, threshold))
    today_idx = (np.datetime64(today, "D") - t.epoch).astype(np.int64)
    level = np.where(today_idx > p_due, Level.RED, np.where(today_idx >= yellow, Level.YELLOW, Level.GREEN))
    return Batch(
        promised_due=to_dates(t, p_due),
        legal_due=to_dates(t, l_due),
        yellow_on=to_dates(t, yellow),
        provisional=p_prov | l_prov,
        level=level.astype(np.int8),
    )

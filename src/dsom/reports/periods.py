"""Calendar periods in Europe/Kyiv over UTC hours.

Rollups are kept by whole UTC hours (`hour` = seconds since the epoch // 3600). Kyiv's
offsets are whole hours, so every hour lies in exactly one Kyiv day and month, and a
day is 23, 24 or 25 of them. A range `[start, end)` of whole hours is read as the whole
Kyiv days inside it (from `operations_daily`) and the hours at its edges (from
`operations_hourly`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Literal

from dsom.kit.time import HOUR_S, KYIV, kyiv_day_of_hour, kyiv_midnight

HOUR_US = 3_600_000_000
Granularity = Literal["hour", "day", "month"]
GRANULARITIES: tuple[Granularity, ...] = ("hour", "day", "month")


def hour_of(instant: datetime) -> int:
    """The UTC epoch hour an instant falls in."""
    return int(instant.timestamp()) // HOUR_S


def is_whole_hour(instant: datetime) -> bool:
    """Whether an instant is the start of an hour (in UTC, hence in Kyiv too)."""
    return instant.microsecond == 0 and int(instant.timestamp()) % HOUR_S == 0


def hour_start(hour: int) -> datetime:
    """The start of an epoch hour, in Kyiv time."""
    return datetime.fromtimestamp(hour * HOUR_S, UTC).astimezone(KYIV)


@lru_cache(maxsize=10_000)
def hour_at(day: date) -> int:
    """The epoch hour that starts Kyiv day `day` (its local midnight)."""
    return hour_of(kyiv_midnight(day))


# The Kyiv calendar day an epoch hour lies in: the one function the ingest engine's daily
# rollups also take their days from.
day_of_hour = kyiv_day_of_hour


def month_of(day: date) -> date:
    """The first day of a day's month."""
    return day.replace(day=1)


def next_month(first: date) -> date:
    """The first day of the month after."""
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


@lru_cache(maxsize=100_000)
def label(hour: int) -> str:
    """The `period` of the bucket starting at epoch hour `hour`: its local start in
    ISO 8601 with the offset (`2026-11-01T00:00:00+02:00`)."""
    return hour_start(hour).isoformat()


# Buckets are named by the epoch hour they start at, never by a Kyiv datetime: two Kyiv
# datetimes that differ only in their offset (03:00+03:00 and 03:00+02:00 on the last
# Sunday of October) compare equal in Python.


def bucket_of_hour(hour: int, granularity: Granularity) -> int:
    """The start hour of the bucket an hour lies in."""
    if granularity == "hour":
        return hour
    return bucket_of_day(day_of_hour(hour), granularity)


def bucket_of_day(day: date, granularity: Granularity) -> int:
    """The start hour of the bucket a whole Kyiv day lies in (granularity day or month)."""
    return hour_at(month_of(day) if granularity == "month" else day)


def bucket_end(start_hour: int, granularity: Granularity) -> int:
    """The hour the bucket that starts at `start_hour` ends at (exclusive)."""
    if granularity == "hour":
        return start_hour + 1
    day = day_of_hour(start_hour)
    return hour_at(next_month(day) if granularity == "month" else day + timedelta(days=1))


def offset_of(hour: int) -> int:
    """Kyiv's offset from UTC during an epoch hour, in hours."""
    offset = hour_start(hour).utcoffset()
    assert offset is not None
    return int(offset.total_seconds()) // HOUR_S


def offsets(first: int, end: int) -> list[tuple[int, int]]:
    """Kyiv's offset over the hours `[first, end)`: [(from hour, offset in hours)], in
    order; a day at a time, and the hour of each change found by bisection."""
    found = [(first, offset_of(first))]
    hour = first
    while hour < end - 1:
        step = min(hour + 24, end - 1)
        if offset_of(step) == found[-1][1]:
            hour = step
            continue
        low, high = hour, step  # offset_of(low) is the old one, offset_of(high) the new
        while high - low > 1:
            middle = (low + high) // 2
            if offset_of(middle) == found[-1][1]:
                low = middle
            else:
                high = middle
        found.append((high, offset_of(high)))
        hour = high
    return found


def month_starts(first: int, end: int) -> list[int]:
    """The start hours of the Kyiv months that `[first, end)` touches, in order."""
    starts = [hour_at(month_of(day_of_hour(first)))]
    while (following := hour_at(next_month(day_of_hour(starts[-1])))) < end:
        starts.append(following)
    return starts


EPOCH_DAY = date(1970, 1, 1)


@dataclass(frozen=True)
class Split:
    """A range of hours as whole Kyiv days `[first_day, end_day)` and the edge hours."""

    first_day: date | None
    end_day: date | None
    edges: tuple[tuple[int, int], ...]  # [first, end) hour ranges outside the whole days


def split(start_hour: int, end_hour: int) -> Split:
    """`[start_hour, end_hour)` as the whole Kyiv days inside it and the hours left over."""
    first = day_of_hour(start_hour)
    if hour_at(first) < start_hour:
        first += timedelta(days=1)
    end = day_of_hour(end_hour)  # the day `end_hour` lies in: whole days end at its midnight
    if first >= end:
        return Split(None, None, ((start_hour, end_hour),) if start_hour < end_hour else ())
    edges = []
    if start_hour < hour_at(first):
        edges.append((start_hour, hour_at(first)))
    if hour_at(end) < end_hour:
        edges.append((hour_at(end), end_hour))
    return Split(first, end, tuple(edges))

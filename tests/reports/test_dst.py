"""Kyiv days of 23 and 25 hours (the last Sundays of March and October) bucket right:
in the Kyiv day of an hour (zoneinfo, held against Kyiv's clock rule written out), in
the daily rollups the ingest engine's group commits keep and their rebuild, and in the
reports, end to end.

The end-to-end test sends operations that occurred in March and October 2026, more
than the 30-day reporting window ago: it widens the window of the test server's ingest
engine for the test (as tests/ingest does for the 1st of the month), so the operations
go through the same rules and rollups as any other.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select

from dsom.ingest.repository import IngestStore, Writes
from dsom.kit.time import KYIV, kyiv_day_of_hour
from dsom.reports.models import operations_daily, operations_hours, rejections_daily
from dsom.reports.periods import bucket_end, hour_at, split
from tests.conftest import Server
from tests.ingest.helpers import (
    bet,
    iso_z,
    key_headers,
    new_licence,
    new_organizer,
    new_website,
    post,
)
from tests.ingest.test_accounting import Channel
from tests.reports.helpers import HOUR_US, get

SPRING = date(2026, 3, 29)  # 23 hours: 03:00 → 04:00
AUTUMN = date(2026, 10, 25)  # 25 hours: 04:00 → 03:00


def test_the_kyiv_days_of_the_clock_changes_have_23_and_25_hours() -> None:
    assert hour_at(SPRING + timedelta(days=1)) - hour_at(SPRING) == 23
    assert hour_at(AUTUMN + timedelta(days=1)) - hour_at(AUTUMN) == 25
    assert bucket_end(hour_at(AUTUMN), "day") - hour_at(AUTUMN) == 25
    assert bucket_end(hour_at(date(2026, 3, 1)), "month") - hour_at(date(2026, 3, 1)) == 743
    whole = split(hour_at(SPRING), hour_at(SPRING + timedelta(days=1)))
    assert (whole.first_day, whole.end_day, whole.edges) == (SPRING, SPRING + timedelta(1), ())
    start = hour_at(AUTUMN)
    cut = split(start + 5, start + 50)  # Oct 26 whole; 20 hours before it, 1 after
    assert (cut.first_day, cut.end_day) == (AUTUMN + timedelta(1), AUTUMN + timedelta(2))
    assert cut.edges == ((start + 5, start + 25), (start + 49, start + 50))
    inside = split(start + 1, start + 24)
    assert (inside.first_day, inside.edges) == (None, ((start + 1, start + 24),))


def _last_sunday(year: int, month: int) -> date:
    return max(date(year, month, d) for d in range(25, 32) if date(year, month, d).weekday() == 6)


def _hours() -> list[int]:
    """Every hour of 2026, and three days around each clock change of 2021–2035."""
    hours = set(range(hour_at(date(2026, 1, 1)) - 3, hour_at(date(2027, 1, 1)) + 3))
    for year in range(2021, 2036):
        for month in (3, 10):
            centre = hour_at(_last_sunday(year, month))
            hours.update(range(centre - 72, centre + 72))
    return sorted(hours)


def _kyiv_rule(hour: int) -> date:
    """Kyiv's clock as the law states it, without a time-zone database: UTC+2, and UTC+3
    from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of October."""
    utc = datetime.fromtimestamp(hour * 3600, UTC)
    summer_from = datetime.combine(_last_sunday(utc.year, 3), datetime.min.time(), UTC)
    summer_to = datetime.combine(_last_sunday(utc.year, 10), datetime.min.time(), UTC)
    summer = summer_from + timedelta(hours=1) <= utc < summer_to + timedelta(hours=1)
    return (utc + timedelta(hours=3 if summer else 2)).date()


def test_the_kyiv_day_of_every_hour_follows_kyivs_clock_rule() -> None:
    hours = _hours()
    assert [kyiv_day_of_hour(h) for h in hours] == [_kyiv_rule(h) for h in hours]
    days = range(hour_at(SPRING), hour_at(AUTUMN + timedelta(days=2)))
    per_day = Counter(kyiv_day_of_hour(h) for h in days)
    assert (per_day[SPRING], per_day[AUTUMN], per_day[AUTUMN + timedelta(days=1)]) == (23, 25, 24)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _daily(db: Engine) -> dict[tuple[str, date, str, str], tuple[int, ...]]:
    with db.connect() as conn:
        return {
            (r.organizer, _as_date(r.day), r.activity, r.type): (
                r.count,
                r.amount,
                r.late,
                r.income_tax,
                r.military_levy,
            )
            for r in conn.execute(select(operations_daily))
        }


@pytest.fixture
def store(db: Engine) -> Iterator[IngestStore]:
    """The ingest engine's writer, on the emptied test database."""
    writer = IngestStore(db)
    yield writer
    writer.close()


def test_the_daily_rollups_put_every_hour_in_its_kyiv_day(db: Engine, store: IngestStore) -> None:
    hours = _hours()
    org = "12345678"
    for start in range(0, len(hours), 2000):  # batches, as group commits write them
        chunk = hours[start : start + 2000]
        store.write(
            Writes(
                hourly={(org, h, "L", "online_casino", "bet"): [1, h, 0, 0, 0] for h in chunk},
                rejections={(org, h, "unknown_bet"): 2 for h in chunk},
            )
        )
    expected: dict[date, list[int]] = {}
    for h in hours:
        figures = expected.setdefault(datetime.fromtimestamp(h * 3600, KYIV).date(), [0, 0])
        figures[0] += 1
        figures[1] += h

    def stored() -> tuple[dict[date, tuple[int, ...]], dict[date, int], set[int]]:
        with db.connect() as conn:
            rejected = {_as_date(r.day): r.count for r in conn.execute(select(rejections_daily))}
            marked = set(conn.execute(select(operations_hours.c.hour)).scalars())
        daily = {day: (n, amount) for (_, day, _, _), (n, amount, *_) in _daily(db).items()}
        return daily, rejected, marked

    daily, rejected, marked = stored()
    assert daily == {day: tuple(f) for day, f in expected.items()}
    assert rejected == {day: 2 * f[0] for day, f in expected.items()}
    assert daily[SPRING][0] == 23
    assert daily[AUTUMN][0] == 25
    assert marked == set(hours)
    store.rebuild_report_rollups()  # from the hourly tables: the same rows
    assert stored() == (daily, rejected, marked)


@pytest.fixture
def wide_window(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test server's ingest engine takes operations up to 400 days old, for this test."""
    monkeypatch.setattr(server.app.state.ingest, "window_us", 400 * 24 * HOUR_US)


def test_reports_bucket_the_23_and_25_hour_days(
    http: httpx.Client, db: Engine, regulator: dict[str, str], wide_window: None
) -> None:
    org = new_organizer(db)
    licence = new_licence(db, organizer=org, activity="online_casino", valid_from=date(2026, 1, 1))
    website = Channel("website", new_website(db, organizer=org, licence=licence), licence, True)
    headers = key_headers(db, org)
    sent: list[int] = []
    for day in (SPRING, AUTUMN):
        # every hour of the day before, the day, and the day after; one player an hour
        for h in range(hour_at(day - timedelta(days=1)), hour_at(day + timedelta(days=2))):
            sent.append(h)
    ops = [
        bet(
            f"dst-{h}",
            licence=licence,
            channel=website,
            game_type="online_casino",
            occurred_at=iso_z(datetime.fromtimestamp(h * 3600 + 1800, UTC)),
            player_id=f"p-{h}",
            amount=100,
        )
        for h in sent
    ]
    answer = post(http, headers, ops).json()
    assert answer["accepted"] == len(ops), answer["errors"][:3]

    def rows(report: str, **params: str) -> list[list[object]]:
        return list(get(http, regulator, report, **params)["rows"])

    spring = {"from": "2026-03-29", "to": "2026-03-30"}
    autumn = {"from": "2026-10-25", "to": "2026-10-26"}
    assert rows("market-volumes", **spring) == [
        ["2026-03-29T00:00:00+02:00", "online_casino", 23, 2300, 0, 0, 0, 0]
    ]
    assert rows("market-volumes", **autumn) == [
        ["2026-10-25T00:00:00+03:00", "online_casino", 25, 2500, 0, 0, 0, 0]
    ]
    spring_hours = [r[0] for r in rows("market-volumes", granularity="hour", **spring)]
    assert len(spring_hours) == 23
    assert spring_hours[2:4] == ["2026-03-29T02:00:00+02:00", "2026-03-29T04:00:00+03:00"]
    autumn_hours = [r[0] for r in rows("ggr", granularity="hour", **autumn)]
    assert len(autumn_hours) == 25
    assert autumn_hours[3:5] == ["2026-10-25T03:00:00+03:00", "2026-10-25T03:00:00+02:00"]
    # Three days around each change: 24 + 23 + 24 and 24 + 25 + 24 hours, day by day.
    by_day = rows("player-activity", **{"from": "2026-03-28", "to": "2026-03-31"})
    assert [(r[0], r[2], r[3]) for r in by_day] == [
        ("2026-03-28T00:00:00+02:00", 24, 24),
        ("2026-03-29T00:00:00+02:00", 23, 23),
        ("2026-03-30T00:00:00+03:00", 24, 24),
    ]
    by_hour = rows("player-activity", granularity="hour", **autumn)
    assert [r[2] for r in by_hour] == [1] * 25
    months = rows(
        "player-activity", granularity="month", **{"from": "2026-03-01", "to": "2026-11-01"}
    )
    assert [(r[0], r[2]) for r in months] == [
        ("2026-03-01T00:00:00+02:00", 71),
        ("2026-10-01T00:00:00+03:00", 73),
    ]
    # A range cut inside the 25-hour day: from its 03:00+02:00 (the second 03:00) on.
    second_three = datetime(2026, 10, 25, 1, tzinfo=UTC).isoformat()
    cut = rows("payments", **{"from": second_three, "to": "2026-10-26"})
    assert cut == []
    cut = rows("market-volumes", **{"from": second_three, "to": "2026-10-26"})
    assert cut == [["2026-10-25T00:00:00+03:00", "online_casino", 21, 2100, 0, 0, 0, 0]]
    counted = Counter(r[0][:10] for r in rows("ggr", granularity="hour", **autumn))
    assert counted == {"2026-10-25": 25}


def test_the_daily_rollup_adds_each_batchs_hourly_sums(db: Engine, store: IngestStore) -> None:
    org, first = "12345678", hour_at(AUTUMN)

    def batch(*rows: tuple[int, str, list[int]]) -> Writes:
        return Writes(
            hourly={(org, hour, licence, "online_casino", "win"): v for hour, licence, v in rows}
        )

    store.write(batch((first, "L", [1, 10, 0, 2, 1]), (first + 24, "L", [2, 10, 1, 2, 1])))
    assert _daily(db) == {(org, AUTUMN, "online_casino", "win"): (3, 20, 1, 4, 2)}
    # The same hourly key again (the engine's upsert adds to it), another licence, the next day.
    store.write(
        batch(
            (first, "L", [4, 5, 0, 0, 0]),
            (first, "M", [1, 1, 1, 1, 1]),
            (first + 25, "L", [1, 2, 0, 0, 0]),
        )
    )
    assert _daily(db) == {
        (org, AUTUMN, "online_casino", "win"): (8, 26, 2, 5, 3),
        (org, AUTUMN + timedelta(days=1), "online_casino", "win"): (1, 2, 0, 0, 0),
    }


@pytest.mark.parametrize(("granularity", "days"), [("day", 4), ("month", 2), ("hour", 0)])
def test_rejections_bucket_by_kyiv_day_and_month_across_the_changes(
    http: httpx.Client, db: Engine, regulator: dict[str, str], granularity: str, days: int
) -> None:
    org = new_organizer(db)
    hours = [
        h
        for day in (SPRING, AUTUMN)
        for h in range(hour_at(day - timedelta(days=1)), hour_at(day + timedelta(days=1)))
    ]
    store = IngestStore(db)  # as the engine's group commits write them
    try:
        store.write(Writes(rejections={(org, h, "unknown_bet"): 2 for h in hours}))
    finally:
        store.close()
    answer = get(
        http,
        regulator,
        "rejections",
        granularity=granularity,
        **{"from": "2026-03-01", "to": "2026-11-01"},
    )
    got = [(row[0], row[3]) for row in answer["rows"]]
    if granularity == "hour":
        assert len(got) == 24 + 23 + 24 + 25
        assert got[24 + 2 : 24 + 4] == [
            ("2026-03-29T02:00:00+02:00", 2),
            ("2026-03-29T04:00:00+03:00", 2),
        ]
        return
    expected = {
        "day": [
            ("2026-03-28T00:00:00+02:00", 48),
            ("2026-03-29T00:00:00+02:00", 46),
            ("2026-10-24T00:00:00+03:00", 48),
            ("2026-10-25T00:00:00+03:00", 50),
        ],
        "month": [("2026-03-01T00:00:00+02:00", 94), ("2026-10-01T00:00:00+03:00", 98)],
    }[granularity]
    assert got == expected
    assert len(got) == days

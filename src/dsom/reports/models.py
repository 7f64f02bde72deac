"""Rollups of the reports, kept by the database itself (triggers of migration 0005).

The ingest engine keeps hourly rollups; a report over a month at day granularity would
read ~400,000 hourly rows (measured: 300 ms on SQLite), so the database also keeps:

- `operations_daily`: `operations_hourly` summed by Kyiv day (no licence), kept by
  triggers on `operations_hourly` (insert, and the engine's upserts as updates);
- `rejections_daily`: `rejections_hourly` (by the hour received) summed by Kyiv day,
  kept by triggers on `rejections_hourly` the same way;
- `operations_hours`: the hours in which an organizer has at least one operation (by
  `occurred_at`), for the compliance report's silent hours: a tenth of the rows of
  `operations_hourly` (kept by the same insert trigger);
- `players_daily_counts`, `players_monthly_counts`: how many rows `players_daily` and
  `players_monthly` have per (organizer, day or month, activity), i.e. the exact count
  of distinct players, kept by triggers on their inserts (a repeat is not inserted, so
  it is not counted).

The daily ones start with the day because reports read date ranges across all
organizers; every key still includes the organizer.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, Integer, PrimaryKeyConstraint, String, Table

from dsom.kit.db import metadata

operations_daily = Table(
    "operations_daily",
    metadata,
    Column("day", Date, nullable=False),  # Kyiv calendar day of the hour
    Column("organizer", String(8), nullable=False),
    Column("activity", String(32), nullable=False),
    Column("type", String(10), nullable=False),
    Column("count", BigInteger, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("late", BigInteger, nullable=False),
    Column("income_tax", BigInteger, nullable=False),
    Column("military_levy", BigInteger, nullable=False),
    PrimaryKeyConstraint("day", "organizer", "activity", "type"),
)

rejections_daily = Table(
    "rejections_daily",
    metadata,
    Column("day", Date, nullable=False),  # Kyiv calendar day of the hour received
    Column("organizer", String(8), nullable=False),
    Column("code", String(32), nullable=False),
    Column("count", BigInteger, nullable=False),
    PrimaryKeyConstraint("day", "organizer", "code"),
)

operations_hours = Table(
    "operations_hours",
    metadata,
    Column("organizer", String(8), nullable=False),
    Column("hour", Integer, nullable=False),
    PrimaryKeyConstraint("organizer", "hour"),
)

players_daily_counts = Table(
    "players_daily_counts",
    metadata,
    Column("day", Date, nullable=False),
    Column("organizer", String(8), nullable=False),
    Column("activity", String(32), nullable=False),
    Column("players", BigInteger, nullable=False),
    PrimaryKeyConstraint("day", "organizer", "activity"),
)

players_monthly_counts = Table(
    "players_monthly_counts",
    metadata,
    Column("month", Date, nullable=False),
    Column("organizer", String(8), nullable=False),
    Column("activity", String(32), nullable=False),
    Column("players", BigInteger, nullable=False),
    PrimaryKeyConstraint("month", "organizer", "activity"),
)

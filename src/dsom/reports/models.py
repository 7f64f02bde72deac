"""Rollups of the reports, kept by the ingest engine (migration 0007; before it,
triggers of migrations 0005 and 0006 kept them).

The ingest engine keeps hourly rollups; a report over a month at day granularity would
read ~400,000 hourly rows (measured: 300 ms on SQLite), so the engine also keeps, in
the transaction of each group commit, one upsert per key per batch
(`ingest/repository.py`, `IngestStore`):

- `operations_daily`: `operations_hourly` summed by Kyiv day (no licence): each batch's
  hourly deltas grouped by (organizer, Kyiv day of the UTC hour, activity, type), the
  day from `kit.time.kyiv_day_of_hour` (zoneinfo Europe/Kyiv);
- `rejections_daily`: `rejections_hourly` (by the hour received) summed by Kyiv day, the
  same way;
- `operations_hours`: the hours in which an organizer has at least one operation (by
  `occurred_at`), for the compliance report's silent hours: a tenth of the rows of
  `operations_hourly` (each batch inserts its hourly keys, ignoring those already there);
- `players_hourly_counts`, `players_daily_counts`, `players_monthly_counts` (the first
  since migration 0009): how many players `players_hourly`, `players_daily` and
  `players_monthly` hold per (organizer, hour, day or month, activity), i.e. the exact
  count of distinct players: the engine adds the players new to the period, which it
  knows exactly (ingest/players.py: PlayerSets).

Every key starts with the organizer, as every table that grows with operations does (so
it can be distributed by organizer); reports read a range of days across organizers as
`organizer IN (every organizer) AND day …`, a walk of the key.
`IngestStore.rebuild_report_rollups` recomputes all six from the hourly and player
tables (after a bulk load or a restore).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, Integer, PrimaryKeyConstraint, String, Table

from dsom.kit.db import metadata

operations_daily = Table(
    "operations_daily",
    metadata,
    Column("organizer", String(8), nullable=False),
    Column("day", Date, nullable=False),  # Kyiv calendar day of the hour
    Column("activity", String(32), nullable=False),
    Column("type", String(10), nullable=False),
    Column("count", BigInteger, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("late", BigInteger, nullable=False),
    Column("income_tax", BigInteger, nullable=False),
    Column("military_levy", BigInteger, nullable=False),
    PrimaryKeyConstraint("organizer", "day", "activity", "type"),
)

rejections_daily = Table(
    "rejections_daily",
    metadata,
    Column("organizer", String(8), nullable=False),
    Column("day", Date, nullable=False),  # Kyiv calendar day of the hour received
    Column("code", String(32), nullable=False),
    Column("count", BigInteger, nullable=False),
    PrimaryKeyConstraint("organizer", "day", "code"),
)

operations_hours = Table(
    "operations_hours",
    metadata,
    Column("organizer", String(8), nullable=False),
    Column("hour", Integer, nullable=False),
    PrimaryKeyConstraint("organizer", "hour"),
)

players_hourly_counts = Table(
    "players_hourly_counts",
    metadata,
    Column("organizer", String(8), nullable=False),
    Column("hour", Integer, nullable=False),
    Column("activity", String(32), nullable=False),
    Column("players", BigInteger, nullable=False),
    PrimaryKeyConstraint("organizer", "hour", "activity"),
)

players_daily_counts = Table(
    "players_daily_counts",
    metadata,
    Column("organizer", String(8), nullable=False),
    Column("day", Date, nullable=False),
    Column("activity", String(32), nullable=False),
    Column("players", BigInteger, nullable=False),
    PrimaryKeyConstraint("organizer", "day", "activity"),
)

players_monthly_counts = Table(
    "players_monthly_counts",
    metadata,
    Column("organizer", String(8), nullable=False),
    Column("month", Date, nullable=False),
    Column("activity", String(32), nullable=False),
    Column("players", BigInteger, nullable=False),
    PrimaryKeyConstraint("organizer", "month", "activity"),
)

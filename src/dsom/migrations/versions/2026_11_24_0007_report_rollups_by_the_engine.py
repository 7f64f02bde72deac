# ruff: noqa: S608  (the SQL is assembled from this file's constants only)
"""report rollups kept by the ingest engine, keyed organizer first

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 18:00:00

Two reasons. Every table that grows with operations has the organizer as the first
column of its key, so that it can be distributed by organizer (Citus) as it is; the
daily rollups of 0005 and 0006 started with the day. And the triggers that kept them
ran once per row inside each group commit (on SQLite a row trigger per new
`players_daily` / `players_monthly` row cost ~2–3 µs an operation, docs/performance.md)
and hid logic in SQL, with a second copy of Kyiv's clock rule for SQLite.

From here on the ingest engine keeps `operations_daily`, `operations_hours`,
`rejections_daily` and the player counts itself, in the transaction of each group
commit, one upsert per key per batch (`ingest/repository.py`), the Kyiv day of an hour
from the time-zone database (`kit.time.kyiv_day_of_hour`). So this migration drops the
triggers and their functions, and re-keys the four daily tables organizer first
(organizer, day or month, …), keeping their rows: a table is renamed aside, created
anew (columns in key order), filled from the old one and the old one dropped (SQLite
cannot alter a primary key; on PostgreSQL the same steps keep both databases alike).
No secondary index on the day: reports read a range of days as `organizer IN (every
organizer) AND day …`, a walk of the primary key as fast as such an index even with
five years of history (docs/performance.md, "No index on the day").

Downgrade drops the five tables and runs 0005's and 0006's upgrades again: the old
keys, the triggers, and the rows rebuilt from the hourly tables by their backfill.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = (
    "operations_daily_on_insert",
    "operations_daily_on_update",
    "operations_daily_on_rekey",
    "players_daily_count",
    "players_monthly_count",
    "rejections_daily_on_insert",
    "rejections_daily_on_update",
)
POSTGRES_TRIGGERS = (
    ("operations_daily_apply", "operations_hourly"),
    ("players_daily_count", "players_daily"),
    ("players_monthly_count", "players_monthly"),
    ("rejections_daily_apply", "rejections_hourly"),
)
POSTGRES_FUNCTIONS = (
    "operations_daily_apply()",
    "operations_daily_add",
    "players_daily_count()",
    "players_monthly_count()",
    "rejections_daily_apply()",
    "rejections_daily_add",
)


def _sums(*names: str) -> list[sa.Column[Any]]:
    return [sa.Column(name, sa.BigInteger(), nullable=False) for name in names]


def _tables() -> dict[str, list[sa.Column[Any]]]:
    """The four daily tables, organizer first: their columns in key order."""
    return {
        "operations_daily": [
            sa.Column("organizer", sa.String(length=8), nullable=False),
            sa.Column("day", sa.Date(), nullable=False),
            sa.Column("activity", sa.String(length=32), nullable=False),
            sa.Column("type", sa.String(length=10), nullable=False),
            *_sums("count", "amount", "late", "income_tax", "military_levy"),
        ],
        "rejections_daily": [
            sa.Column("organizer", sa.String(length=8), nullable=False),
            sa.Column("day", sa.Date(), nullable=False),
            sa.Column("code", sa.String(length=32), nullable=False),
            *_sums("count"),
        ],
        "players_daily_counts": [
            sa.Column("organizer", sa.String(length=8), nullable=False),
            sa.Column("day", sa.Date(), nullable=False),
            sa.Column("activity", sa.String(length=32), nullable=False),
            *_sums("players"),
        ],
        "players_monthly_counts": [
            sa.Column("organizer", sa.String(length=8), nullable=False),
            sa.Column("month", sa.Date(), nullable=False),
            sa.Column("activity", sa.String(length=32), nullable=False),
            *_sums("players"),
        ],
    }


KEY_LENGTH = {
    "operations_daily": 4,
    "rejections_daily": 3,
    "players_daily_counts": 3,
    "players_monthly_counts": 3,
}


def _rekey(name: str, columns: list[sa.Column[Any]]) -> None:
    """Recreate `name` with these columns, keyed by the first few, keeping its rows."""
    postgres = op.get_bind().dialect.name == "postgresql"
    aside = f"{name}_0006"
    op.rename_table(name, aside)
    if postgres:  # the primary key's index name must be free for the new table
        op.execute(f"ALTER TABLE {aside} RENAME CONSTRAINT pk_{name} TO pk_{aside}")
    key = [c.name for c in columns[: KEY_LENGTH[name]]]
    op.create_table(name, *columns, sa.PrimaryKeyConstraint(*key, name=op.f(f"pk_{name}")))
    listed = ", ".join(c.name for c in columns)
    op.execute(f"INSERT INTO {name} ({listed}) SELECT {listed} FROM {aside}")
    op.drop_table(aside)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for trigger, table in POSTGRES_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        for function in POSTGRES_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {function}")
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    for name, columns in _tables().items():
        _rekey(name, columns)


def downgrade() -> None:
    for name in (
        "rejections_daily",
        "players_monthly_counts",
        "players_daily_counts",
        "operations_hours",
        "operations_daily",
    ):
        op.drop_table(name)
    script = op.get_context().script
    assert script is not None  # Alembic runs every migration from its script directory
    for earlier in ("0005", "0006"):
        found = script.get_revision(earlier)
        assert found is not None
        found.module.upgrade()

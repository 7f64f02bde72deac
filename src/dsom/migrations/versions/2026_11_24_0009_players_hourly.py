"""distinct players by the hour, kept by the ingest engine

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 23:30:00

`player-activity` at hour granularity, and over a day or month its range cuts, counted
distinct players from the bets themselves: a scan of the stored operations, which since
migration 0008 means decoding blocks in Python (13.9 s for 31 days of 10 M operations,
docs/performance.md). `players_hourly` (organizer, UTC hour, activity, player) and its
counts, kept by the engine in each group commit as `players_daily` and its counts are,
take raw operations out of every report.

Upgrade fills both from the stored blocks (every bet, by the UTC hour it occurred in);
downgrade drops them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from dsom.ingest import blocks

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

HOUR_US = 3_600_000_000
FLUSH = 100_000  # rows gathered before they are inserted


def upgrade() -> None:
    op.create_table(
        "players_hourly",
        sa.Column("organizer", sa.String(length=8), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("activity", sa.String(length=32), nullable=False),
        sa.Column("player_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint(
            "organizer", "hour", "activity", "player_id", name=op.f("pk_players_hourly")
        ),
    )
    op.create_table(
        "players_hourly_counts",
        sa.Column("organizer", sa.String(length=8), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("activity", sa.String(length=32), nullable=False),
        sa.Column("players", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "organizer", "hour", "activity", name=op.f("pk_players_hourly_counts")
        ),
    )
    conn = op.get_bind()
    insert = sa.text(
        "INSERT INTO players_hourly (organizer, hour, activity, player_id) "
        "VALUES (:organizer, :hour, :activity, :player) ON CONFLICT DO NOTHING"
    )
    query = sa.text(
        "SELECT organizer, entries FROM operation_blocks ORDER BY organizer, first_seq"
    ).execution_options(stream_results=True, yield_per=100)
    seen: set[tuple[str, int, str, str]] = set()
    for organizer, data in conn.execute(query):
        for e in blocks.decode_heads(bytes(data)):
            if e.type == "bet":
                seen.add((organizer, e.occurred_us // HOUR_US, e.activity, e.player_id))
        if len(seen) >= FLUSH:
            _insert(conn, insert, seen)
    _insert(conn, insert, seen)
    op.execute(
        "INSERT INTO players_hourly_counts (organizer, hour, activity, players) "
        "SELECT organizer, hour, activity, COUNT(*) FROM players_hourly "
        "GROUP BY organizer, hour, activity"
    )


def _insert(
    conn: sa.Connection, insert: sa.TextClause, rows: set[tuple[str, int, str, str]]
) -> None:
    if rows:
        conn.execute(
            insert,
            [{"organizer": o, "hour": h, "activity": a, "player": p} for o, h, a, p in rows],
        )
        rows.clear()


def downgrade() -> None:
    op.drop_table("players_hourly_counts")
    op.drop_table("players_hourly")

"""Tables of data collection. Every one grows with operations, so every key starts
with the organizer: they can be distributed by organizer (Citus) as they are.

Instants are integer microseconds since the Unix epoch (UTC) and hours are whole
hours since the epoch: exact, cheap to compare and to bucket on both databases.
Kyiv's offsets are whole hours, so UTC hours roll up exactly into Kyiv days and months.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
)

from dsom.kit.db import metadata

# Accepted operations in blocks of consecutive ledger entries (ingest/blocks.py): one row
# per organizer and group commit, `entries` a MessagePack array of `blocks.Entry`.
operation_blocks = Table(
    "operation_blocks",
    metadata,
    Column("organizer", String(8), nullable=False),
    Column("first_seq", BigInteger, nullable=False),  # the organizer's ledger position, from 1
    Column("last_seq", BigInteger, nullable=False),
    Column("entries", LargeBinary, nullable=False),
    PrimaryKeyConstraint("organizer", "first_seq"),
)

# A bet's refunds so far (a bet with none has no row): what changes after acceptance.
bet_refunds = Table(
    "bet_refunds",
    metadata,
    Column("organizer", String(8), nullable=False),
    Column("seq", BigInteger, nullable=False),  # the bet's
    Column("refunded", BigInteger, nullable=False),
    PrimaryKeyConstraint("organizer", "seq"),
)

# Accepted operations by the hour they occurred in: what every volume report reads.
operations_hourly = Table(
    "operations_hourly",
    metadata,
    Column("organizer", String(8), nullable=False),
    Column("hour", Integer, nullable=False),
    Column("licence", String(64), nullable=False),
    Column("activity", String(32), nullable=False),
    Column("type", String(10), nullable=False),
    Column("count", BigInteger, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("late", BigInteger, nullable=False),
    Column("income_tax", BigInteger, nullable=False),  # wins: per-win rounded, summed
    Column("military_levy", BigInteger, nullable=False),
    PrimaryKeyConstraint("organizer", "hour", "licence", "activity", "type"),
)

# Rejected operations by the hour DSOM received them, and their code.
rejections_hourly = Table(
    "rejections_hourly",
    metadata,
    Column("organizer", String(8), nullable=False),
    Column("hour", Integer, nullable=False),
    Column("code", String(32), nullable=False),
    Column("count", BigInteger, nullable=False),
    PrimaryKeyConstraint("organizer", "hour", "code"),
)

# What each organizer sent, by the hour DSOM received it.
submissions_hourly = Table(
    "submissions_hourly",
    metadata,
    Column("organizer", String(8), nullable=False),
    Column("hour", Integer, nullable=False),
    Column("requests", BigInteger, nullable=False),
    Column("received", BigInteger, nullable=False),
    Column("accepted", BigInteger, nullable=False),
    Column("duplicates", BigInteger, nullable=False),
    Column("rejected", BigInteger, nullable=False),
    Column("last_received_us", BigInteger, nullable=False),
    PrimaryKeyConstraint("organizer", "hour"),
)

# Distinct players with a bet, by UTC hour, Kyiv day and Kyiv month (exact counts, reports.md):
# the players new to a period, packed, a row per (organizer, period, activity) and group commit
# (ingest/players.py; migration 0010).
players_daily = Table(
    "players_daily",
    metadata,
    Column("organizer", String(8), nullable=False),
    Column("day", Date, nullable=False),
    Column("seq", BigInteger, nullable=False),  # the first bet's; before 0010: -1, -2, …
    Column("activity", String(32), nullable=False),
    Column("players", Integer, nullable=False),  # how many ids `player_ids` holds
    Column("player_ids", LargeBinary, nullable=False),  # a MessagePack array of strings
    PrimaryKeyConstraint("organizer", "day", "seq"),
)
players_hourly = Table(
    "players_hourly",
    metadata,
    Column("organizer", String(8), nullable=False),
    Column("hour", Integer, nullable=False),  # the UTC hour the bet occurred in
    Column("seq", BigInteger, nullable=False),  # the first bet's; before 0010: -1, -2, …
    Column("activity", String(32), nullable=False),
    Column("players", Integer, nullable=False),  # how many ids `player_ids` holds
    Column("player_ids", LargeBinary, nullable=False),  # a MessagePack array of strings
    PrimaryKeyConstraint("organizer", "hour", "seq"),
)
players_monthly = Table(
    "players_monthly",
    metadata,
    Column("organizer", String(8), nullable=False),
    Column("month", Date, nullable=False),
    Column("seq", BigInteger, nullable=False),  # the first bet's; before 0010: -1, -2, …
    Column("activity", String(32), nullable=False),
    Column("players", Integer, nullable=False),  # how many ids `player_ids` holds
    Column("player_ids", LargeBinary, nullable=False),  # a MessagePack array of strings
    PrimaryKeyConstraint("organizer", "month", "seq"),
)

# Wins at or above the large-win floor, for the large-wins report without a scan.
large_wins = Table(
    "large_wins",
    metadata,
    Column("organizer", String(8), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("occurred_us", BigInteger, nullable=False),
    Column("amount", BigInteger, nullable=False),
    # What the report shows of the win, so that it reads no block.
    Column("operation_id", String(64), nullable=False),
    Column("licence", String(64), nullable=False),
    Column("activity", String(32), nullable=False),
    Column("player_id", String(64), nullable=False),
    Column("bet_id", String(64), nullable=False),
    PrimaryKeyConstraint("organizer", "seq"),
    Index("ix_large_wins_occurred_us", "occurred_us"),
)

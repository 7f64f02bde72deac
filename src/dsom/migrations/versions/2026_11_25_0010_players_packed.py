# ruff: noqa: S608  (the SQL is assembled from this file's constants only)
"""the distinct-player rows packed, one per organizer, period, activity and commit

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 04:20:00

`players_hourly`, `players_daily` and `players_monthly` held a row per player and
period, keyed (organizer, period, activity, player): the writer paid about 4 µs of CPU
for each, three for a player new to the hour, day and month, and at the start of an
hour, when most bets come from players not yet seen in it, they were most of a group
commit's work (bench/ingest.py's first seconds ran at half speed, docs/performance.md).
The engine now knows exactly which players each period already has (it reads a
period's players before its first bet there), so a commit stores the players new to a
period packed: (organizer, period, seq, activity, players, player_ids), `seq` being the
ledger seq of the row's first bet, `players` how many ids the row holds and `player_ids`
a MessagePack array of them (ingest/players.py).

Upgrade packs the rows it finds, one row per (organizer, period, activity), with `seq`
-1, -2, … within each organizer and period (they name no bet); downgrade unpacks them.
Both keep every player.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import groupby
from typing import Any

import msgspec
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

PERIODS = (
    ("players_hourly", "hour", sa.Integer),
    ("players_daily", "day", sa.Date),
    ("players_monthly", "month", sa.Date),
)
BATCH = 1_000  # rows inserted at a time


def _create(table: str, period: str, kind: Any, *, packed: bool) -> None:
    head = [
        sa.Column("organizer", sa.String(length=8), nullable=False),
        sa.Column(period, kind(), nullable=False),
    ]
    if packed:
        op.create_table(
            table,
            *head,
            sa.Column("seq", sa.BigInteger(), nullable=False),
            sa.Column("activity", sa.String(length=32), nullable=False),
            sa.Column("players", sa.Integer(), nullable=False),
            sa.Column("player_ids", sa.LargeBinary(), nullable=False),
            sa.PrimaryKeyConstraint("organizer", period, "seq", name=op.f(f"pk_{table}")),
        )
    else:
        op.create_table(
            table,
            *head,
            sa.Column("activity", sa.String(length=32), nullable=False),
            sa.Column("player_id", sa.String(length=64), nullable=False),
            sa.PrimaryKeyConstraint(
                "organizer", period, "activity", "player_id", name=op.f(f"pk_{table}")
            ),
        )


def _batches(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _packed(found: Iterable[Any], encode: Callable[[Any], bytes]) -> Iterator[dict[str, Any]]:
    """Rows (organizer, period, activity, player) in that order, packed: one row per
    (organizer, period, activity), `seq` -1, -2, … within each organizer and period."""
    seqs: dict[tuple[Any, Any], int] = {}
    for (organizer, at, activity), group in groupby(found, key=lambda row: tuple(row[:3])):
        ids = [row[3] for row in group]
        seq = seqs[(organizer, at)] = seqs.get((organizer, at), 0) - 1
        yield {
            "organizer": organizer,
            "at": at,
            "seq": seq,
            "activity": activity,
            "players": len(ids),
            "player_ids": encode(ids),
        }


def _rebuild(
    table: str,
    period: str,
    kind: Any,
    *,
    packed: bool,
    rows: Callable[[str], Iterator[dict[str, Any]]],
    columns: tuple[str, ...],
) -> None:
    """Recreate `table` in its other form: its rows are copied aside, and `rows`, given
    the copy's name, makes the new ones (dicts keyed by `columns`, the period as `at`)."""
    kept = f"{table}_kept"
    op.execute(f"CREATE TEMPORARY TABLE {kept} AS SELECT * FROM {table}")
    op.drop_table(table)
    _create(table, period, kind, packed=packed)
    named = ", ".join(period if name == "at" else name for name in columns)
    insert = sa.text(
        f"INSERT INTO {table} ({named}) VALUES ({', '.join(':' + name for name in columns)})"
    )
    for batch in _batches(rows(kept)):
        op.get_bind().execute(insert, batch)
    op.execute(f"DROP TABLE {kept}")


def upgrade() -> None:
    conn = op.get_bind()
    encode = msgspec.msgpack.Encoder().encode
    for table, period, kind in PERIODS:

        def rows(kept: str, period: str = period) -> Iterator[dict[str, Any]]:
            query = sa.text(
                f"SELECT organizer, {period}, activity, player_id FROM {kept} "
                f"ORDER BY organizer, {period}, activity, player_id"
            ).execution_options(stream_results=True, yield_per=10_000)
            return _packed(conn.execute(query), encode)

        _rebuild(
            table,
            period,
            kind,
            packed=True,
            rows=rows,
            columns=("organizer", "at", "seq", "activity", "players", "player_ids"),
        )


def downgrade() -> None:
    conn = op.get_bind()
    decode = msgspec.msgpack.Decoder(list[str]).decode
    for table, period, kind in PERIODS:

        def rows(kept: str, period: str = period) -> Iterator[dict[str, Any]]:
            query = sa.text(
                f"SELECT organizer, {period}, activity, player_ids FROM {kept}"
            ).execution_options(stream_results=True, yield_per=1_000)
            return (
                {"organizer": organizer, "at": at, "activity": activity, "player_id": player}
                for organizer, at, activity, ids in conn.execute(query)
                for player in decode(bytes(ids))
            )

        _rebuild(
            table,
            period,
            kind,
            packed=False,
            rows=rows,
            columns=("organizer", "at", "activity", "player_id"),
        )

# ruff: noqa: S608  (the SQL is assembled from this file's constants only)
"""accepted operations stored in blocks of consecutive ledger entries

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 22:30:00

The group commit wrote one `operations` row per accepted operation. With two workers on
SQLite, which lets one commit write at a time, that `INSERT` was the longest part of
each commit: ~7 µs of the writer's CPU an operation, twice that in wall time while the
worker's judge held the GIL (docs/performance.md). `operation_blocks` keeps, per
organizer and group commit, one row of up to 1,000 consecutive entries
(`ingest/blocks.py`); the mutable part, a bet's refunded total, moves to `bet_refunds`;
`large_wins` gains what the large-wins report shows of a win and its bet, so that the
report reads no block. On PostgreSQL the entries are compressed with LZ4 (below).

Upgrade converts the rows it finds: `operations` read organizer by organizer in seq
order, 1,000 entries a block; refunded totals above zero to `bet_refunds`; large wins
joined to their win and bet. Downgrade does the reverse. Both keep every entry, byte for
byte (tests/kit/test_migrations.py). On a large database this reads and writes every
operation once: plan for it as for a copy of the table.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

from dsom.ingest import blocks

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

ENTRY_COLUMNS = (
    "operation_id",
    "type",
    "occurred_us",
    "received_us",
    "licence",
    "activity",
    "player_id",
    "amount",
    "bet_seq",
    "late",
    "canonical",
    "hash",
)


def _operations_columns() -> list[sa.Column[Any]]:
    """`operations` as 0003 created it."""
    return [
        sa.Column("organizer", sa.String(length=8), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("operation_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=10), nullable=False),
        sa.Column("occurred_us", sa.BigInteger(), nullable=False),
        sa.Column("received_us", sa.BigInteger(), nullable=False),
        sa.Column("licence", sa.String(length=64), nullable=False),
        sa.Column("activity", sa.String(length=32), nullable=False),
        sa.Column("player_id", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("bet_seq", sa.BigInteger(), nullable=True),
        sa.Column("refunded", sa.BigInteger(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("canonical", sa.LargeBinary(), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
    ]


def _large_wins(extended: bool) -> None:
    """Create `large_wins`, with the report's columns (0008) or without (0003)."""
    columns = [
        sa.Column("organizer", sa.String(length=8), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("occurred_us", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
    ]
    if extended:
        columns += [
            sa.Column(name, sa.String(length=size), nullable=False)
            for name, size in (
                ("operation_id", 64),
                ("licence", 64),
                ("activity", 32),
                ("player_id", 64),
                ("bet_id", 64),
            )
        ]
    op.create_table(
        "large_wins",
        *columns,
        sa.PrimaryKeyConstraint("organizer", "seq", name=op.f("pk_large_wins")),
    )
    op.create_index("ix_large_wins_occurred_us", "large_wins", ["occurred_us"])


def _set_large_wins_aside() -> None:
    op.drop_index("ix_large_wins_occurred_us", table_name="large_wins")
    op.rename_table("large_wins", "large_wins_0007")
    if op.get_bind().dialect.name == "postgresql":  # the key's index name must be free
        op.execute("ALTER TABLE large_wins_0007 RENAME CONSTRAINT pk_large_wins TO pk_lw_0007")


def _organizers(conn: sa.Connection, table: str) -> list[str]:
    return [code for (code,) in conn.exec_driver_sql(f"SELECT DISTINCT organizer FROM {table}")]


def _in_order(conn: sa.Connection, query: str, organizer: str) -> Iterator[Any]:
    # Statement options, not the connection's: the same connection inserts meanwhile.
    stmt = sa.text(query).execution_options(stream_results=True, yield_per=10_000)
    yield from conn.execute(stmt, {"organizer": organizer})


def upgrade() -> None:
    conn = op.get_bind()
    op.create_table(
        "operation_blocks",
        sa.Column("organizer", sa.String(length=8), nullable=False),
        sa.Column("first_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("entries", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("organizer", "first_seq", name=op.f("pk_operation_blocks")),
    )
    if conn.dialect.name == "postgresql":
        _compress_with_lz4(conn)
    op.create_table(
        "bet_refunds",
        sa.Column("organizer", sa.String(length=8), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("refunded", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("organizer", "seq", name=op.f("pk_bet_refunds")),
    )
    insert = sa.text(
        "INSERT INTO operation_blocks (organizer, first_seq, last_seq, entries) "
        "VALUES (:organizer, :first, :last, :entries)"
    )
    query = (
        f"SELECT seq, {', '.join(ENTRY_COLUMNS)} FROM operations "
        "WHERE organizer = :organizer ORDER BY seq"
    )
    for organizer in _organizers(conn, "operations"):
        run: list[tuple[Any, ...]] = []
        first = 1
        for row in _in_order(conn, query, organizer):
            if not run:
                first = int(row[0])
            entry = list(row[1:])
            entry[9], entry[10], entry[11] = bool(entry[9]), bytes(entry[10]), bytes(entry[11])
            run.append(tuple(entry))
            if len(run) == blocks.BLOCK_LIMIT:
                conn.execute(insert, _block(organizer, first, run))
                run = []
        if run:
            conn.execute(insert, _block(organizer, first, run))
    op.execute(
        "INSERT INTO bet_refunds (organizer, seq, refunded) "
        "SELECT organizer, seq, refunded FROM operations WHERE refunded > 0"
    )
    _set_large_wins_aside()
    _large_wins(extended=True)
    op.execute(
        "INSERT INTO large_wins (organizer, seq, occurred_us, amount, operation_id, licence, "
        "activity, player_id, bet_id) "
        "SELECT lw.organizer, lw.seq, lw.occurred_us, lw.amount, win.operation_id, "
        "win.licence, win.activity, win.player_id, bet.operation_id "
        "FROM large_wins_0007 lw "
        "JOIN operations win ON win.organizer = lw.organizer AND win.seq = lw.seq "
        "JOIN operations bet ON bet.organizer = win.organizer AND bet.seq = win.bet_seq"
    )
    op.drop_table("large_wins_0007")
    op.drop_table("operations")


def _compress_with_lz4(conn: sa.Connection) -> None:
    """PostgreSQL compresses a large `entries` value (TOAST) with pglz by default, which at
    70,000 operations a second cost its server ~2 µs of CPU an operation more than LZ4 and
    ~1 µs more than storing them uncompressed (docs/performance.md). LZ4 is part of the
    PostgreSQL builds of Debian and the PGDG; on a server built without it the column
    keeps the default."""
    try:
        with conn.begin_nested():
            conn.exec_driver_sql(
                "ALTER TABLE operation_blocks ALTER COLUMN entries SET COMPRESSION lz4"
            )
    except sa.exc.DBAPIError as exc:
        log.warning("operation_blocks.entries keeps pglz compression: %s", exc.orig)


def _block(organizer: str, first: int, run: list[tuple[Any, ...]]) -> dict[str, Any]:
    """The parameters of one `operation_blocks` row; seqs must run on without a gap."""
    return {
        "organizer": organizer,
        "first": first,
        "last": first + len(run) - 1,
        "entries": blocks.encode(run),  # type: ignore[arg-type]
    }


def downgrade() -> None:
    conn = op.get_bind()
    op.create_table(
        "operations",
        *_operations_columns(),
        sa.PrimaryKeyConstraint("organizer", "seq", name=op.f("pk_operations")),
    )
    refunds = {
        (organizer, int(seq)): int(refunded)
        for organizer, seq, refunded in conn.exec_driver_sql(
            "SELECT organizer, seq, refunded FROM bet_refunds"
        )
    }
    table = sa.table("operations", *(sa.column(c.name) for c in _operations_columns()))
    query = (
        "SELECT first_seq, entries FROM operation_blocks "
        "WHERE organizer = :organizer ORDER BY first_seq"
    )
    for organizer in _organizers(conn, "operation_blocks"):
        for first, data in _in_order(conn, query, organizer):
            rows = []
            for offset, entry in enumerate(blocks.decode(bytes(data))):
                seq = int(first) + offset
                row = {name: getattr(entry, name) for name in ENTRY_COLUMNS}
                row.update(organizer=organizer, seq=seq, refunded=refunds.get((organizer, seq), 0))
                rows.append(row)
            conn.execute(table.insert(), rows)
    _set_large_wins_aside()
    _large_wins(extended=False)
    op.execute(
        "INSERT INTO large_wins (organizer, seq, occurred_us, amount) "
        "SELECT organizer, seq, occurred_us, amount FROM large_wins_0007"
    )
    op.drop_table("large_wins_0007")
    op.drop_table("bet_refunds")
    op.drop_table("operation_blocks")

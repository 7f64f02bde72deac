"""All SQL of data collection, on one raw DB-API connection owned by the writer thread.

Where SQLite and PostgreSQL differ, the difference lives here: PostgreSQL gets
operations by COPY, SQLite by `executemany` in key order; upserts are the same SQL.

Accepted operations are stored in blocks, one row per organizer and batch
(`ingest/blocks.py`); a bet's refunded total in `bet_refunds`.

Each group commit also keeps the report rollups (reports/models.py), computed per batch
here: `operations_daily` and `rejections_daily` from the batch's hourly deltas summed by
Kyiv day, `operations_hours` from its hourly keys, and the distinct-player counts from
the players the engine found new to their hour, day and month, which it stores packed.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import repeat
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from dsom.ingest import blocks
from dsom.ingest.blocks import EntryRow
from dsom.ingest.models import operation_blocks
from dsom.ingest.players import TABLES as PLAYER_TABLES
from dsom.ingest.players import NewPlayer, PlayerKey, PlayerPeriod, packed, unpack
from dsom.ingest.rules import StoredOp
from dsom.ingest.state import IdIndex
from dsom.kit.time import kyiv_day_of_hour
from dsom.registers.models import CURRENT
from dsom.reports.models import operations_daily

# `operation_blocks`' PostgreSQL types, for binary COPY (no text escaping of the entries).
BLOCK_PG_TYPES = ("text", "int8", "int8", "bytea")
INSERT_BLOCK = (
    "INSERT INTO operation_blocks (organizer, first_seq, last_seq, entries) VALUES (?, ?, ?, ?)"
)


# A period as the engine holds it (an hour a number, a Kyiv day or month ISO text), cast
# for PostgreSQL.
PERIOD_CAST = {"hour": "", "day": "::date", "month": "::date"}

SUMS = ("count", "amount", "late", "income_tax", "military_levy")
REPORT_ROLLUPS = (
    "operations_daily",
    "operations_hours",
    "rejections_daily",
    "players_hourly_counts",
    "players_daily_counts",
    "players_monthly_counts",
)


def _upsert_sums(table: str, key: Sequence[str], sums: Sequence[str]) -> str:
    """INSERT of a row of `key` and `sums`, adding the sums to the row already there."""
    columns = ", ".join((*key, *sums))
    marks = ", ".join("?" * (len(key) + len(sums)))
    added = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in sums)
    return (
        f"INSERT INTO {table} ({columns}) VALUES ({marks}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {added}"
    )


UPSERT_OPERATIONS_DAILY = _upsert_sums(
    "operations_daily", ("organizer", "day", "activity", "type"), SUMS
)
UPSERT_REJECTIONS_DAILY = _upsert_sums("rejections_daily", ("organizer", "day", "code"), ("count",))
INSERT_OPERATIONS_HOURS = (
    "INSERT INTO operations_hours (organizer, hour) VALUES (?, ?) "
    "ON CONFLICT (organizer, hour) DO NOTHING"
)


def operations_by_day(
    hourly: Mapping[tuple[str, int, str, str, str], Sequence[int]],
) -> dict[tuple[str, str, str, str], list[int]]:
    """Hourly sums (`Writes.hourly`) summed by (organizer, Kyiv day, activity, type)."""
    daily: dict[tuple[str, str, str, str], list[int]] = {}
    for (org, hour, _licence, activity, kind), sums in hourly.items():
        key = (org, kyiv_day_of_hour(hour).isoformat(), activity, kind)
        found = daily.get(key)
        if found is None:
            daily[key] = list(sums)
        else:
            for i, value in enumerate(sums):
                found[i] += value
    return daily


def rejections_by_day(
    rejections: Mapping[tuple[str, int, str], int],
) -> dict[tuple[str, str, str], int]:
    """Hourly rejection counts (`Writes.rejections`) summed by (organizer, Kyiv day, code)."""
    daily: dict[tuple[str, str, str], int] = {}
    for (org, hour, code), count in rejections.items():
        key = (org, kyiv_day_of_hour(hour).isoformat(), code)
        daily[key] = daily.get(key, 0) + count
    return daily


# --- reads of the stored operations (any connection) --------------------------------------


def entries_at(conn: Connection, organizer: str, seqs: Iterable[int]) -> dict[int, blocks.Entry]:
    """The organizer's stored entries at these seqs (those that exist), by seq."""
    b = operation_blocks.c

    def block_of(seq: int) -> tuple[int, bytes] | None:
        row = conn.execute(
            select(b.first_seq, b.entries)
            .where(b.organizer == organizer, b.first_seq <= seq)
            .order_by(b.first_seq.desc())
            .limit(1)
        ).first()
        return None if row is None else (int(row.first_seq), bytes(row.entries))

    return blocks.pick(seqs, block_of)


def stored_blocks(
    conn: Connection, organizer: str | None = None
) -> Iterator[tuple[str, int, int, bytes]]:
    """`(organizer, first_seq, last_seq, entries)` of every block (of one organizer), in
    ledger order, streamed."""
    b = operation_blocks.c
    stmt = select(b.organizer, b.first_seq, b.last_seq, b.entries)
    if organizer is not None:
        stmt = stmt.where(b.organizer == organizer)
    stmt = stmt.order_by(b.organizer, b.first_seq).execution_options(
        stream_results=True, yield_per=100
    )
    for row in conn.execute(stmt):
        data = row.entries
        if isinstance(data, str):  # rewritten by hand in SQL, on SQLite: let the decoder judge
            data = data.encode()
        yield row.organizer, int(row.first_seq), int(row.last_seq), bytes(data)


def recent_volumes(engine: Engine, since: date) -> dict[str, int]:
    """Every organizer of the register with its operations accepted since `since` (a
    Kyiv day), from the daily rollup: what `dsom serve --workers N` shares them out by."""
    organizers, daily = CURRENT["organizers"], operations_daily
    with engine.connect() as conn:
        volumes = dict.fromkeys(conn.execute(select(organizers.c.edrpou)).scalars(), 0)
        totals = conn.execute(
            select(daily.c.organizer, func.sum(daily.c.count))
            .where(daily.c.day >= since)
            .group_by(daily.c.organizer)
        )
        for code, total in totals:
            if code in volumes:
                volumes[code] = int(total)
    return volumes


class WriterTurns:
    """Turns at SQLite's one write lock for the group commits of every server process.

    Each `dsom serve` worker commits its own batches to the same file, and SQLite lets one
    write at a time. Left to SQLite, a writer that finds the lock taken sleeps in its busy
    handler 1, 2, 5, 10, 15, 20, 25 … up to 100 ms between tries, so a lock freed after a
    few milliseconds stays unused for tens of them: measured with two workers, each
    writer spent 30–40 % of its time in `BEGIN IMMEDIATE` and each event loop about half
    its time idle. Here the writers take a `flock` on a file beside the database first,
    trying every half millisecond, and only then begin; a writer that cannot have its turn
    within the lock timeout fails its batch (503), as SQLite's own timeout would.
    """

    POLL_S = 0.0005

    def __init__(self, path: str, timeout_s: float) -> None:
        self.path = path
        self.timeout_s = timeout_s
        self.fd: int | None = None

    def take(self) -> None:
        """Wait for this process's turn (TimeoutError after the lock timeout)."""
        if self.fd is None:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise TimeoutError(
                        f"another process held the database's write turn for over "
                        f"{self.timeout_s:g} s ({self.path})"
                    ) from None
                time.sleep(self.POLL_S)

    def give(self) -> None:
        """End this process's turn."""
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


@dataclass
class Writes:
    """Everything one group commit stores, in one transaction."""

    # organizer -> (seq of its first entry, its entries in seq order)
    operations: dict[str, tuple[int, list[EntryRow]]] = field(default_factory=dict)
    # (organizer, hour, licence, activity, type) -> [count, amount, late, income_tax, levy]
    hourly: dict[tuple[str, int, str, str, str], list[int]] = field(default_factory=dict)
    # (organizer, hour, code) -> count
    rejections: dict[tuple[str, int, str], int] = field(default_factory=dict)
    # (organizer, hour) -> [requests, received, accepted, duplicates, rejected, last_received_us]
    submissions: dict[tuple[str, int], list[int]] = field(default_factory=dict)
    # players new to their period: (organizer, hour / Kyiv day / month, activity, player, seq
    # of the bet that counted them)
    players_hourly: list[tuple[str, int, str, str, int]] = field(default_factory=list)
    players_daily: list[tuple[str, str, str, str, int]] = field(default_factory=list)
    players_monthly: list[tuple[str, str, str, str, int]] = field(default_factory=list)
    refunds: dict[tuple[str, int], int] = field(default_factory=dict)  # bet -> refunded total
    # (organizer, seq, occurred_us, amount, operation_id, licence, activity, player_id, bet_id)
    large_wins: list[tuple[str, int, int, int, str, str, str, str, str]] = field(
        default_factory=list
    )
    keys_last_used: list[tuple[str, datetime]] = field(default_factory=list)  # (key id, when)


class IngestStore:
    """The writer's connection and the statements it runs."""

    def __init__(self, engine: Engine, *, lock_timeout_s: float = 10.0) -> None:
        self.engine = engine
        self.lock_timeout_ms = int(lock_timeout_s * 1000)
        self.postgres = engine.dialect.name == "postgresql"
        self.p = "%s" if self.postgres else "?"
        self._raw: Any = None
        database = engine.url.database
        self.turns = (
            WriterTurns(f"{database}-writer.lock", lock_timeout_s)
            if not self.postgres and database and database != ":memory:"
            else None
        )

    @property
    def conn(self) -> Any:  # the driver's own connection: sqlite3 or psycopg
        """The DB-API connection, opened on first use and after a failure."""
        if self._raw is None:
            raw = self.engine.raw_connection()
            driver: Any = raw.driver_connection
            cur = driver.cursor()
            if self.postgres:
                # A database that does not answer makes the batch fail (503), not hang.
                cur.execute(f"SET lock_timeout = {self.lock_timeout_ms}")
                cur.execute(f"SET statement_timeout = {self.lock_timeout_ms * 3}")
            else:
                cur.execute(f"PRAGMA busy_timeout = {self.lock_timeout_ms}")
            driver.commit()
            self._raw = raw
        return self._raw.driver_connection

    def _sql(self, text: str) -> str:
        return text.replace("?", self.p)

    def close(self) -> None:
        """Give the connection back (or drop it, after a failure)."""
        if self.turns is not None:
            self.turns.close()
        if self._raw is not None:
            try:
                self._raw.close()
            finally:
                self._raw = None

    def discard(self) -> None:
        """Throw the connection away after an error: the next use opens a fresh one."""
        if self._raw is not None:
            with contextlib.suppress(Exception):  # it is being thrown away anyway
                self._raw.invalidate()
            self._raw = None

    @contextlib.contextmanager
    def _reading(self) -> Iterator[Any]:
        """A cursor for reads: ended by a commit; on failure the connection is rolled back
        and thrown away, so a failed read never poisons the next (PostgreSQL would keep
        the transaction aborted)."""
        conn = self.conn
        try:
            yield conn.cursor()
            conn.commit()
        except BaseException:
            with contextlib.suppress(Exception):
                conn.rollback()
            self.discard()
            raise

    # --- start-up ---------------------------------------------------------------------

    def organizers(self, owns: Callable[[str], bool] | None = None) -> list[str]:
        """The EDRPOU codes of the organizers register (those `owns` accepts)."""
        with self._reading() as cur:
            cur.execute("SELECT edrpou FROM organizers ORDER BY edrpou")
            return [code for (code,) in cur.fetchall() if owns is None or owns(code)]

    def ledger_heads(self, organizers: Iterable[str]) -> dict[str, tuple[int, bytes]]:
        """The last seq and hash of each of `organizers` that has any."""
        heads = {}
        with self._reading() as cur:
            for organizer in organizers:
                cur.execute(
                    self._sql(
                        "SELECT last_seq, entries FROM operation_blocks WHERE organizer = ? "
                        "ORDER BY first_seq DESC LIMIT 1"
                    ),
                    (organizer,),
                )
                row = cur.fetchone()
                if row is not None:
                    heads[organizer] = (int(row[0]), blocks.decode(bytes(row[1]))[-1].hash)
        return heads

    def load_ids(self, index: IdIndex, organizers: Iterable[str], batch: int = 500) -> int:
        """File every stored operation id of `organizers` in `index`; how many there were."""
        count = 0
        query = self._sql("SELECT first_seq, entries FROM operation_blocks WHERE organizer = ?")
        for code in organizers:
            for rows in self._stream(query, (code,), batch):
                for first, data in rows:
                    ids = blocks.decode_ids(bytes(data))
                    start = int(first)
                    index.add_many(list(zip(repeat(code), ids)), range(start, start + len(ids)))
                    count += len(ids)
        return count

    def _stream(self, query: str, params: tuple[Any, ...], batch: int) -> Iterator[list[Any]]:
        with self._reading() as plain:
            cur = self.conn.cursor(name="dsom_stream") if self.postgres else plain
            cur.execute(query, params)
            while rows := cur.fetchmany(batch):
                yield rows
            if self.postgres:
                cur.close()

    # --- reads during a batch ------------------------------------------------------------

    def fetch(self, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], StoredOp]:
        """Stored operations by (organizer, seq), for the rules: each read from its block
        (a block read once however many of the keys it holds), with its refunded total."""
        by_organizer: dict[str, list[int]] = {}
        for organizer, seq in keys:
            by_organizer.setdefault(organizer, []).append(seq)
        if not by_organizer:
            return {}
        query = self._sql(
            "SELECT first_seq, entries FROM operation_blocks WHERE organizer = ? "
            "AND first_seq <= ? ORDER BY first_seq DESC LIMIT 1"
        )
        entries: dict[tuple[str, int], blocks.Entry] = {}
        refunded: dict[tuple[str, int], int] = {}
        with self._reading() as cur:
            for organizer, seqs in by_organizer.items():

                def block_of(seq: int, organizer: str = organizer) -> tuple[int, bytes] | None:
                    cur.execute(query, (organizer, seq))
                    row = cur.fetchone()
                    return None if row is None else (int(row[0]), bytes(row[1]))

                for seq, entry in blocks.pick(seqs, block_of).items():
                    entries[(organizer, seq)] = entry
            bets = [key for key, entry in entries.items() if entry.type == "bet"]
            for start in range(0, len(bets), 500):
                chunk = bets[start : start + 500]
                where = " OR ".join(["(organizer = ? AND seq = ?)"] * len(chunk))
                cur.execute(
                    self._sql(f"SELECT organizer, seq, refunded FROM bet_refunds WHERE {where}"),
                    [v for key in chunk for v in key],
                )
                for organizer, seq, total in cur.fetchall():
                    refunded[(organizer, int(seq))] = int(total)
        return {
            key: StoredOp(
                e.operation_id,
                e.type,
                e.canonical,
                e.licence,
                e.player_id,
                e.amount,
                e.activity,
                refunded.get(key, 0),
            )
            for key, e in entries.items()
        }

    def players(self, periods: Iterable[PlayerPeriod]) -> list[PlayerKey]:
        """Every player stored for these periods ("hour" / "day" / "month", organizer,
        period), as the engine's keys (ingest/players.py: PlayerSets)."""
        found: list[PlayerKey] = []
        with self._reading() as cur:
            for kind, organizer, period in periods:
                table, column = PLAYER_TABLES[kind]
                cast = PERIOD_CAST[column] if self.postgres else ""
                cur.execute(
                    self._sql(
                        f"SELECT activity, player_ids FROM {table} "
                        f"WHERE organizer = ? AND {column} = ?{cast}"
                    ),
                    (organizer, period),
                )
                for activity, ids in cur.fetchall():
                    found += [(kind, organizer, period, activity, p) for p in unpack(ids)]
        return found

    # --- the group commit -----------------------------------------------------------------

    @contextlib.contextmanager
    def _writing(self) -> Iterator[Any]:
        """A cursor in one write transaction: committed at the end; on any error rolled
        back, the connection thrown away, and the error raised."""
        conn = self.conn
        if self.turns is not None:
            self.turns.take()
        try:
            cur = conn.cursor()
            if not self.postgres:
                # The driver runs in autocommit (kit/db.py): one explicit transaction, with
                # the write lock taken up front, or every INSERT would be its own commit.
                cur.execute("BEGIN IMMEDIATE")
            yield cur
            conn.commit()
        except BaseException:
            try:
                conn.rollback()
            finally:
                self.discard()
            raise
        finally:
            if self.turns is not None:
                self.turns.give()

    def write(self, w: Writes) -> None:
        """Store one batch and commit it; on any error roll back and raise."""
        rows = [
            row
            for organizer, (first_seq, entries) in w.operations.items()
            for row in blocks.split(organizer, first_seq, entries)
        ]
        with self._writing() as cur:
            if rows and self.postgres:
                with cur.copy(
                    "COPY operation_blocks (organizer, first_seq, last_seq, entries) "
                    "FROM STDIN (FORMAT BINARY)"
                ) as copy:
                    copy.set_types(BLOCK_PG_TYPES)
                    for row in rows:
                        copy.write_row(row)
            elif rows:
                cur.executemany(INSERT_BLOCK, rows)
            self._upserts(cur, w)

    def _players(self, cur: Any, table: str, period: str, new: list[NewPlayer]) -> None:
        """Store the players new to their period (the engine knows which are: PlayerSets),
        packed (ingest/players.py), and add them to `{table}_counts`."""
        rows = packed(new)
        cast = PERIOD_CAST[period] if self.postgres else ""
        cur.executemany(
            self._sql(
                f"INSERT INTO {table} (organizer, {period}, seq, activity, players, player_ids) "
                f"VALUES (?, ?{cast}, ?, ?, ?, ?)"
            ),
            rows,
        )
        cur.executemany(
            self._sql(
                f"INSERT INTO {table}_counts AS c (organizer, {period}, activity, players) "
                f"VALUES (?, ?{cast}, ?, ?) ON CONFLICT (organizer, {period}, activity) "
                "DO UPDATE SET players = c.players + excluded.players"
            ),
            [(organizer, at, activity, n) for organizer, at, _, activity, n, _ in rows],
        )

    def _upserts(self, cur: Any, w: Writes) -> None:
        greatest = "GREATEST" if self.postgres else "MAX"
        if w.hourly:
            cur.executemany(
                self._sql(
                    "INSERT INTO operations_hourly (organizer, hour, licence, activity, type, count, "
                    "amount, late, income_tax, military_levy) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (organizer, hour, licence, activity, type) DO UPDATE SET "
                    "count = operations_hourly.count + excluded.count, "
                    "amount = operations_hourly.amount + excluded.amount, "
                    "late = operations_hourly.late + excluded.late, "
                    "income_tax = operations_hourly.income_tax + excluded.income_tax, "
                    "military_levy = operations_hourly.military_levy + excluded.military_levy"
                ),
                [(*k, *v) for k, v in w.hourly.items()],
            )
            daily = operations_by_day(w.hourly)
            cur.executemany(
                self._sql(UPSERT_OPERATIONS_DAILY), [(*k, *daily[k]) for k in sorted(daily)]
            )
            cur.executemany(
                self._sql(INSERT_OPERATIONS_HOURS), sorted({(k[0], k[1]) for k in w.hourly})
            )
        if w.rejections:
            cur.executemany(
                self._sql(
                    "INSERT INTO rejections_hourly (organizer, hour, code, count) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (organizer, hour, code) DO UPDATE SET "
                    "count = rejections_hourly.count + excluded.count"
                ),
                [(*k, v) for k, v in w.rejections.items()],
            )
            by_day = rejections_by_day(w.rejections)
            cur.executemany(
                self._sql(UPSERT_REJECTIONS_DAILY), [(*k, by_day[k]) for k in sorted(by_day)]
            )
        if w.submissions:
            cur.executemany(
                self._sql(
                    "INSERT INTO submissions_hourly (organizer, hour, requests, received, accepted, "
                    "duplicates, rejected, last_received_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (organizer, hour) DO UPDATE SET "
                    "requests = submissions_hourly.requests + excluded.requests, "
                    "received = submissions_hourly.received + excluded.received, "
                    "accepted = submissions_hourly.accepted + excluded.accepted, "
                    "duplicates = submissions_hourly.duplicates + excluded.duplicates, "
                    "rejected = submissions_hourly.rejected + excluded.rejected, "
                    f"last_received_us = {greatest}(submissions_hourly.last_received_us, "
                    "excluded.last_received_us)"
                ),
                [(*k, *v) for k, v in w.submissions.items()],
            )
        if w.players_hourly:
            self._players(cur, "players_hourly", "hour", w.players_hourly)
        if w.players_daily:
            self._players(cur, "players_daily", "day", w.players_daily)
        if w.players_monthly:
            self._players(cur, "players_monthly", "month", w.players_monthly)
        if w.refunds:
            cur.executemany(
                self._sql(
                    "INSERT INTO bet_refunds (organizer, seq, refunded) VALUES (?, ?, ?) "
                    "ON CONFLICT (organizer, seq) DO UPDATE SET refunded = excluded.refunded"
                ),
                [(org, seq, total) for (org, seq), total in w.refunds.items()],
            )
        if w.keys_last_used:
            cur.executemany(
                self._sql("UPDATE access_keys SET last_used_at = ? WHERE id = ?"),
                [(self._instant(when), key_id) for key_id, when in w.keys_last_used],
            )
        if w.large_wins:
            cur.executemany(
                self._sql(
                    "INSERT INTO large_wins (organizer, seq, occurred_us, amount, operation_id, "
                    "licence, activity, player_id, bet_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                ),
                w.large_wins,
            )

    # --- rebuilding the report rollups ------------------------------------------------------

    def rebuild_report_rollups(self) -> None:
        """Recompute the report rollups the group commits keep (`REPORT_ROLLUPS`) from
        `operations_hourly`, `rejections_hourly` and the three player tables, in
        one transaction: after a bulk load, a restore or a manual repair (`dsom db
        rebuild-rollups`). Safe while servers write: SQLite's write lock, and on PostgreSQL
        a SHARE lock on the tables read, hold their group commits back until it is done
        (a commit that waits over `DSOM_INGEST_LOCK_TIMEOUT_S` answers 503; retries are
        safe)."""
        with self._writing() as cur:
            if self.postgres:
                cur.execute(
                    "LOCK TABLE operations_hourly, rejections_hourly, players_hourly, "
                    "players_daily, players_monthly IN SHARE MODE"
                )
            cur.execute(
                "SELECT hour FROM operations_hourly UNION SELECT hour FROM rejections_hourly"
            )
            days = [(hour, kyiv_day_of_hour(hour).isoformat()) for (hour,) in cur.fetchall()]
            cur.execute("DROP TABLE IF EXISTS kyiv_hours")
            cur.execute(
                "CREATE TEMP TABLE kyiv_hours (hour integer PRIMARY KEY, day date NOT NULL)"
            )
            cur.executemany(self._sql("INSERT INTO kyiv_hours (hour, day) VALUES (?, ?)"), days)
            for table in REPORT_ROLLUPS:
                cur.execute(f"DELETE FROM {table}")
            sums = ", ".join(f"SUM(h.{c})" for c in SUMS)
            cur.execute(
                f"INSERT INTO operations_daily (organizer, day, activity, type, {', '.join(SUMS)}) "
                f"SELECT h.organizer, k.day, h.activity, h.type, {sums} "
                "FROM operations_hourly h JOIN kyiv_hours k ON k.hour = h.hour "
                "GROUP BY h.organizer, k.day, h.activity, h.type"
            )
            cur.execute(
                "INSERT INTO operations_hours (organizer, hour) "
                "SELECT DISTINCT organizer, hour FROM operations_hourly"
            )
            cur.execute(
                "INSERT INTO rejections_daily (organizer, day, code, count) "
                "SELECT r.organizer, k.day, r.code, SUM(r.count) "
                "FROM rejections_hourly r JOIN kyiv_hours k ON k.hour = r.hour "
                "GROUP BY r.organizer, k.day, r.code"
            )
            for table, period in (
                ("players_hourly", "hour"),
                ("players_daily", "day"),
                ("players_monthly", "month"),
            ):
                cur.execute(
                    f"INSERT INTO {table}_counts (organizer, {period}, activity, players) "
                    f"SELECT organizer, {period}, activity, SUM(players) FROM {table} "
                    f"GROUP BY organizer, {period}, activity"
                )
            cur.execute("DROP TABLE kyiv_hours")

    def _instant(self, value: datetime) -> Any:
        """A datetime as the schema's UTCDateTime stores it on this database."""
        if self.postgres:
            return value
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

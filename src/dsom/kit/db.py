"""The database: URL forms, engine with SQLite tuned for WAL, metadata, types.

SQLite is the embedded default and PostgreSQL the production store; one schema
serves both. Where their SQL differs, the difference lives in repositories.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.engine.url import URL

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored in UTC; SQLite keeps no offsets, so we normalise both ways."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: give a timezone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def normalise_url(url: str) -> URL:
    """Accept the documented URL forms; PostgreSQL goes through psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def is_sqlite(engine_or_conn: Engine | Connection) -> bool:
    """Whether this is the embedded SQLite store."""
    return engine_or_conn.dialect.name == "sqlite"


def make_engine(url: str, *, sqlite_cache_mb: int = 256, **kwargs: Any) -> Engine:
    """An engine for `url`; SQLite files get WAL, a large cache and foreign keys on."""
    parsed = normalise_url(url)
    if parsed.drivername.startswith("sqlite"):
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs
        )
        cache_kib = sqlite_cache_mb * 1024

        @event.listens_for(engine, "connect")
        def _tune(dbapi_conn: sqlite3.Connection, _record: object) -> None:
            # Autocommit off at the driver; SQLAlchemy emits BEGIN itself (below),
            # so that BEGIN IMMEDIATE can take the write lock up front.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")  # `accepted` means on disk: fsync each commit
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute(f"PRAGMA cache_size=-{cache_kib}")
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            # A transaction that will write takes the lock up front (IMMEDIATE): under WAL a
            # read-then-write transaction fails at once with SQLITE_BUSY if another writer
            # committed in between, whereas IMMEDIATE waits its turn (busy_timeout).
            immediate = conn.get_execution_options().get("sqlite_immediate", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return create_engine(parsed, pool_pre_ping=True, **kwargs)


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that writes: committed when the block ends, rolled back if it raises.

    On SQLite it takes the write lock when it begins, so it waits for the ingest
    engine's group commits instead of failing; on PostgreSQL it is a plain transaction.
    """
    with engine.connect() as plain:
        conn = plain.execution_options(sqlite_immediate=True)
        with conn.begin():
            yield conn
    for hook in AFTER_WRITE:
        hook()


# Called after every write_transaction commits (the ingest engine re-reads the registers).
AFTER_WRITE: list[Callable[[], None]] = []

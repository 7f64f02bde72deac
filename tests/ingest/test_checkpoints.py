"""SQLite WAL checkpoints of the ingest writer, off its write turn (repository.Checkpointer)."""

from __future__ import annotations

import time
from pathlib import Path

from dsom.ingest.repository import IngestStore
from dsom.kit.db import make_engine
from dsom.kit.migrate import upgrade


def test_the_writer_never_checkpoints_itself_and_its_checkpointer_does_after_commits(
    tmp_path: Path,
) -> None:
    path = tmp_path / "dsom.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store = IngestStore(engine)
    try:
        assert store.conn.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
        before = path.stat().st_size
        with store._writing() as cur:  # 2 MB: over the 1,000 pages SQLite would checkpoint at
            cur.execute("CREATE TABLE scratch (data blob)")
            cur.execute("INSERT INTO scratch VALUES (randomblob(2000000))")
        assert store.checkpointer is not None
        deadline = time.monotonic() + 10
        while store.checkpointer.done < 1:
            assert time.monotonic() < deadline, "no checkpoint ran after the commit"
            time.sleep(0.01)
        # The pages are in the database file now, copied there by the checkpointer alone.
        assert path.stat().st_size >= before + 2_000_000
    finally:
        store.close()
        engine.dispose()
    assert store.checkpointer.thread is None


def test_an_in_memory_or_postgresql_store_has_no_checkpointer() -> None:
    engine = make_engine("sqlite:///:memory:")
    try:
        assert IngestStore(engine).checkpointer is None
    finally:
        engine.dispose()

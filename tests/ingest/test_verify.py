"""`dsom ledger verify`, run as the real command: 0 on sound ledgers; 1, naming the
organizer and the seq, at the first entry whose stored bytes, hash or seq are wrong."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from msgspec.structs import replace
from sqlalchemy import Engine, delete, select, text, update

from dsom.ingest import blocks
from dsom.ingest.blocks import Entry
from dsom.ingest.models import operation_blocks
from tests.conftest import Database
from tests.ingest.helpers import (
    Market,
    bet,
    canonical,
    iso_z,
    new_market,
    payment,
    post,
    settlement,
)

DSOM = Path(sys.executable).parent / "dsom"


def verify_command(database: Database, cwd: Path, *args: str) -> tuple[int, str]:
    """`dsom ledger verify ARGS` on the database: its exit code and what it said."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DSOM_")}
    env.update(DSOM_DATABASE_URL=database.url, PYTHONIOENCODING="utf-8", COLUMNS="200")
    result = subprocess.run(
        [str(DSOM), "ledger", "verify", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    return result.returncode, " ".join((result.stdout + result.stderr).split())


@dataclass
class Ledgers:
    """Two organizers that have each sent a few operations."""

    first: Market
    second: Market
    sent: dict[str, list[dict[str, Any]]]


def _operations(market: Market, prefix: str, count: int) -> list[dict[str, Any]]:
    casino = market.licences["online_casino"]
    at = iso_z(datetime.now(UTC) - timedelta(minutes=2))
    ops: list[dict[str, Any]] = []
    for i in range(count):
        if i % 3 == 1:
            ops.append(
                settlement(
                    "win",
                    f"{prefix}-{i}",
                    bet_id=ops[i - 1]["operation_id"],
                    licence=casino.number,
                    occurred_at=at,
                )
            )
        elif i % 3 == 2:
            ops.append(
                payment(
                    "deposit",
                    f"{prefix}-{i}",
                    licence=casino.number,
                    channel=casino.channels[0],
                    occurred_at=at,
                    player_id="гравець-1",
                )
            )
        else:
            ops.append(
                bet(
                    f"{prefix}-{i}",
                    licence=casino.number,
                    channel=casino.channels[0],
                    game_type="online_casino",
                    occurred_at=at,
                )
            )
    return ops


@pytest.fixture
def ledgers(http: httpx.Client, db: Engine) -> Ledgers:
    """Five operations of one organizer and four of another, all accepted."""
    first, second = new_market(db), new_market(db)
    sent = {
        first.organizer: _operations(first, "a", 5),
        second.organizer: _operations(second, "b", 4),
    }
    for market in (first, second):
        ops = sent[market.organizer]
        answer = post(http, market.headers, ops).json()
        assert answer["accepted"] == len(ops), answer
    return Ledgers(first, second, sent)


def _alter(db: Engine, organizer: str, seq: int, change: Callable[[Entry], Entry | None]) -> None:
    """Replace (or, for None, remove) the stored entry at `seq` by hand, in its block."""
    b = operation_blocks.c
    with db.begin() as conn:
        first, data = conn.execute(
            select(b.first_seq, b.entries)
            .where(b.organizer == organizer, b.first_seq <= seq)
            .order_by(b.first_seq.desc())
            .limit(1)
        ).one()
        entries = blocks.decode(bytes(data))
        changed = change(entries[seq - first])
        entries[seq - first : seq - first + 1] = [] if changed is None else [changed]
        conn.execute(
            update(operation_blocks)
            .where(b.organizer == organizer, b.first_seq == first)
            .values(entries=blocks.encode(entries))
        )


def test_verify_passes_sound_ledgers(ledgers: Ledgers, database: Database, tmp_path: Path) -> None:
    code, said = verify_command(database, tmp_path)

    assert code == 0, said
    assert "9 entries match" in said


def test_verify_names_the_organizer_and_seq_of_altered_canonical_bytes(
    ledgers: Ledgers, db: Engine, database: Database, tmp_path: Path
) -> None:
    org = ledgers.first.organizer
    altered = canonical({**ledgers.sent[org][1], "amount": 1})
    _alter(db, org, 2, lambda entry: replace(entry, canonical=altered))

    code, said = verify_command(database, tmp_path)

    assert code == 1, said
    assert f"organizer {org}, seq 2" in said
    assert ledgers.second.organizer not in said
    assert verify_command(database, tmp_path, "--organizer", ledgers.second.organizer)[0] == 0


def test_verify_names_the_first_of_several_altered_entries(
    ledgers: Ledgers, db: Engine, database: Database, tmp_path: Path
) -> None:
    org = ledgers.second.organizer
    for seq in (4, 3):
        _alter(db, org, seq, lambda entry: replace(entry, canonical=b"{}"))

    code, said = verify_command(database, tmp_path)

    assert code == 1, said
    assert f"organizer {org}, seq 3" in said
    assert "seq 4" not in said


def test_verify_names_the_organizer_and_seq_of_an_altered_hash(
    ledgers: Ledgers, db: Engine, database: Database, tmp_path: Path
) -> None:
    org = ledgers.first.organizer
    _alter(db, org, 1, lambda entry: replace(entry, hash=hashlib.sha256(b"not").digest()))

    code, said = verify_command(database, tmp_path)

    assert code == 1, said
    assert f"organizer {org}, seq 1" in said


def test_verify_names_a_missing_seq(
    ledgers: Ledgers, http: httpx.Client, db: Engine, database: Database, tmp_path: Path
) -> None:
    org = ledgers.first.organizer
    for prefix in ("c", "d"):  # two more requests: seqs 6 and 7, each in a block of its own
        more = _operations(ledgers.first, prefix, 1)
        assert post(http, ledgers.first.headers, more).json()["accepted"] == 1
    b = operation_blocks.c
    with db.begin() as conn:
        conn.execute(delete(operation_blocks).where(b.organizer == org, b.first_seq == 6))

    code, said = verify_command(database, tmp_path)

    assert code == 1, said
    assert f"organizer {org}, seq 6" in said
    assert "missing (next stored is 7)" in said


def test_verify_names_a_block_with_an_entry_taken_out(
    ledgers: Ledgers, db: Engine, database: Database, tmp_path: Path
) -> None:
    org = ledgers.first.organizer
    _alter(db, org, 3, lambda entry: None)

    code, said = verify_command(database, tmp_path)

    assert code == 1, said
    assert f"organizer {org}, seq 1" in said
    assert "holds 4 entries, not 5" in said


def test_verify_judges_a_block_rewritten_by_hand_in_sql(
    ledgers: Ledgers, db: Engine, database: Database, tmp_path: Path
) -> None:
    # On SQLite a hand-written literal is stored as text, not as a blob.
    org = ledgers.second.organizer
    literal = "'{\"amount\"\\:1}'"  # `\:` keeps text() from reading a bind parameter
    if database.kind == "postgres":
        literal = f"convert_to({literal}, 'UTF8')"
    with db.begin() as conn:
        conn.execute(
            text(f"UPDATE operation_blocks SET entries = {literal} WHERE organizer = :org"),
            {"org": org},
        )

    if database.kind == "sqlite":
        with db.connect() as conn:
            stored_as = conn.execute(
                text("SELECT typeof(entries) FROM operation_blocks WHERE organizer = :org"),
                {"org": org},
            ).scalar_one()
        assert stored_as == "text"

    code, said = verify_command(database, tmp_path)

    assert code == 1, said
    assert f"organizer {org}, seq 1" in said
    assert "unreadable" in said

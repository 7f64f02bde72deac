"""`dsom ledger verify`, run as the real command: 0 on sound ledgers; 1, naming the
organizer and the seq, at the first entry whose stored bytes, hash or seq are wrong."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, delete, text, update

from dsom.ingest.models import operations
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


def _where(organizer: str, seq: int) -> Any:
    return (operations.c.organizer == organizer) & (operations.c.seq == seq)


def test_verify_passes_sound_ledgers(ledgers: Ledgers, database: Database, tmp_path: Path) -> None:
    code, said = verify_command(database, tmp_path)

    assert code == 0, said
    assert "9 entries match" in said


def test_verify_names_the_organizer_and_seq_of_altered_canonical_bytes(
    ledgers: Ledgers, db: Engine, database: Database, tmp_path: Path
) -> None:
    org = ledgers.first.organizer
    with db.begin() as conn:
        conn.execute(
            update(operations)
            .where(_where(org, 2))
            .values(canonical=canonical({**ledgers.sent[org][1], "amount": 1}))
        )

    code, said = verify_command(database, tmp_path)

    assert code == 1, said
    assert f"organizer {org}, seq 2" in said
    assert ledgers.second.organizer not in said
    assert verify_command(database, tmp_path, "--organizer", ledgers.second.organizer)[0] == 0


def test_verify_names_the_first_of_several_altered_entries(
    ledgers: Ledgers, db: Engine, database: Database, tmp_path: Path
) -> None:
    org = ledgers.second.organizer
    with db.begin() as conn:
        for seq in (4, 3):
            conn.execute(update(operations).where(_where(org, seq)).values(canonical=b"{}"))

    code, said = verify_command(database, tmp_path)

    assert code == 1, said
    assert f"organizer {org}, seq 3" in said
    assert "seq 4" not in said


def test_verify_names_the_organizer_and_seq_of_an_altered_hash(
    ledgers: Ledgers, db: Engine, database: Database, tmp_path: Path
) -> None:
    org = ledgers.first.organizer
    with db.begin() as conn:
        conn.execute(
            update(operations)
            .where(_where(org, 1))
            .values(hash=hashlib.sha256(b"not the chain").digest())
        )

    code, said = verify_command(database, tmp_path)

    assert code == 1, said
    assert f"organizer {org}, seq 1" in said


def test_verify_names_a_missing_seq(
    ledgers: Ledgers, db: Engine, database: Database, tmp_path: Path
) -> None:
    org = ledgers.first.organizer
    with db.begin() as conn:
        conn.execute(delete(operations).where(_where(org, 3)))

    code, said = verify_command(database, tmp_path)

    assert code == 1, said
    assert f"organizer {org}, seq 3" in said
    assert "missing" in said


def test_verify_judges_canonical_rewritten_by_hand_in_sql(
    ledgers: Ledgers, db: Engine, database: Database, tmp_path: Path
) -> None:
    # On SQLite a hand-written literal is stored as text, not as a blob.
    org = ledgers.second.organizer
    literal = "'{\"amount\"\\:1}'"  # `\:` keeps text() from reading a bind parameter
    if database.kind == "postgres":
        literal = f"convert_to({literal}, 'UTF8')"
    with db.begin() as conn:
        conn.execute(
            text(f"UPDATE operations SET canonical = {literal} WHERE organizer = :org AND seq = 2"),
            {"org": org},
        )

    if database.kind == "sqlite":
        with db.connect() as conn:
            stored_as = conn.execute(
                text("SELECT typeof(canonical) FROM operations WHERE organizer = :org AND seq = 2"),
                {"org": org},
            ).scalar_one()
        assert stored_as == "text"

    code, said = verify_command(database, tmp_path)

    assert code == 1, said
    assert f"organizer {org}, seq 2" in said

"""`dsom ledger verify`: recompute every organizer's chain from the stored operations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import msgspec
from sqlalchemy import Engine

from dsom.ingest import blocks, ledger
from dsom.ingest.repository import stored_blocks


@dataclass(frozen=True)
class Broken:
    """The first entry of a chain that does not match its recomputation."""

    organizer: str
    seq: int
    operation_id: str
    reason: str


def verify(
    engine: Engine, organizer: str | None = None, progress: Callable[[str, int], None] | None = None
) -> tuple[int, Broken | None]:
    """Recompute the chains (one organizer's, or all); (entries checked, first broken entry)."""
    checked = 0
    current_org: str | None = None
    expected_seq = 0
    digest = b""
    with engine.connect() as conn:
        for org, first_seq, last_seq, data in stored_blocks(conn, organizer):
            if org != current_org:
                current_org, expected_seq, digest = org, 0, ledger.genesis(org)
            if first_seq != expected_seq + 1:
                return checked, Broken(
                    org,
                    expected_seq + 1,
                    "",
                    f"seq {expected_seq + 1} is missing (next stored is {first_seq})",
                )
            try:
                entries = blocks.decode(data)
            except msgspec.DecodeError as exc:
                return checked, Broken(
                    org,
                    first_seq,
                    "",
                    f"the block of seqs {first_seq}–{last_seq} is unreadable: {exc}",
                )
            if len(entries) != last_seq - first_seq + 1:
                return checked, Broken(
                    org,
                    first_seq,
                    "",
                    f"the block of seqs {first_seq}–{last_seq} holds {len(entries)} entries, "
                    f"not {last_seq - first_seq + 1}: entries are missing or added",
                )
            for entry in entries:
                expected_seq += 1
                digest = ledger.link(digest, entry.canonical)
                if digest != entry.hash:
                    return checked, Broken(
                        org,
                        expected_seq,
                        entry.operation_id,
                        "the stored hash is not the hash of the previous entry and this operation",
                    )
                checked += 1
                if progress is not None and checked % 100_000 == 0:
                    progress(org, checked)
    return checked, None

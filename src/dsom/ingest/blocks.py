"""How accepted operations are stored: in blocks of consecutive ledger entries.

A group commit stores, for each organizer in it, one row of `operation_blocks`:
`(organizer, first_seq, last_seq, entries)`, where `entries` is a MessagePack array of
the entries `first_seq … last_seq` in order (at most `BLOCK_LIMIT` an row; a longer run
is split). One row per organizer and batch instead of one per operation: measured with
two workers on SQLite, the per-row `INSERT` of the operations was the longest part of a
group commit, and SQLite lets one commit write at a time (docs/performance.md).

An entry is an array, `Entry`'s fields in order: everything DSOM answers about an
operation (read-back, the ledger, the large-wins report) and verifies (the canonical
bytes and the hash). Its seq is its place: `first_seq` + its index. What changes after
acceptance (a bet's refunded total) lives in `bet_refunds`, never in a block: blocks
are written once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import msgspec

BLOCK_LIMIT = 1000  # entries a row at most: reading one entry decodes its whole block


class Entry(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """One accepted operation as stored (its seq is its place in the block)."""

    operation_id: str
    type: str
    occurred_us: int
    received_us: int
    licence: str
    activity: str  # a bet's game_type; a win's or refund's bet's; else the licence's
    player_id: str
    amount: int
    bet_seq: int | None  # a win's or refund's bet
    late: bool
    canonical: bytes  # the operation exactly as submitted (protocol.md §4)
    hash: bytes


class EntryHead(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """An entry's fields up to the player (the rest, bytes included, skipped)."""

    operation_id: str
    type: str
    occurred_us: int
    received_us: int
    licence: str
    activity: str
    player_id: str


class EntryId(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """An entry's first field only (the rest of the array is skipped, not decoded)."""

    operation_id: str


# An entry as the engine builds it: `Entry`'s fields in order, as a plain tuple.
EntryRow = tuple[str, str, int, int, str, str, str, int, int | None, bool, bytes, bytes]

_encoder = msgspec.msgpack.Encoder()
_entries = msgspec.msgpack.Decoder(list[Entry])
_heads = msgspec.msgpack.Decoder(list[EntryHead])
_ids = msgspec.msgpack.Decoder(list[EntryId])


def encode(entries: Sequence[EntryRow] | Sequence[Entry]) -> bytes:
    """The stored form of a block's entries."""
    return _encoder.encode(entries)


def decode(data: bytes) -> list[Entry]:
    """A block's entries (msgspec.DecodeError, a ValueError, if it is not a block)."""
    return _entries.decode(data)


def decode_heads(data: bytes) -> list[EntryHead]:
    """A block's entries up to their player: what a scan for players reads."""
    return _heads.decode(data)


def decode_ids(data: bytes) -> list[str]:
    """A block's operation ids, in order."""
    return [entry.operation_id for entry in _ids.decode(data)]


def split(
    organizer: str, first_seq: int, entries: Sequence[Any]
) -> Iterator[tuple[str, int, int, bytes]]:
    """The rows `(organizer, first_seq, last_seq, entries)` that store a run of entries."""
    for start in range(0, len(entries), BLOCK_LIMIT):
        chunk = entries[start : start + BLOCK_LIMIT]
        first = first_seq + start
        yield organizer, first, first + len(chunk) - 1, encode(chunk)


def pick(
    seqs: Iterable[int], block_of: Callable[[int], tuple[int, bytes] | None]
) -> dict[int, Entry]:
    """One organizer's stored entries at `seqs` (those that exist), by seq.

    `block_of(seq)` reads `(first_seq, entries)` of the last block starting at or before
    `seq` (None: none does); the seqs are taken in order, so a block holding several of
    them is read and decoded once."""
    found: dict[int, Entry] = {}
    first, held = 0, list[Entry]()
    for seq in sorted(set(seqs)):
        if not 0 <= seq - first < len(held):
            row = block_of(seq)
            if row is None:
                continue
            first, held = row[0], decode(row[1])
        if 0 <= seq - first < len(held):
            found[seq] = held[seq - first]
    return found

"""The per-organizer ledger hash chain of protocol.md §4."""

from __future__ import annotations

import hashlib


def genesis(organizer: str) -> bytes:
    """hash_0 = SHA-256("dsom-ledger-v1:" + organizer EDRPOU code)."""
    return hashlib.sha256(f"dsom-ledger-v1:{organizer}".encode()).digest()


def link(previous: bytes, canonical: bytes) -> bytes:
    """hash_n = SHA-256(hash_{n-1} as 32 raw bytes + canonical(op_n))."""
    return hashlib.sha256(previous + canonical).digest()


def chain(organizer: str, canonicals: list[bytes]) -> list[bytes]:
    """Every hash of a chain over these canonical operations, in order (hash_1 … hash_n)."""
    hashes = []
    current = genesis(organizer)
    for canonical in canonicals:
        current = link(current, canonical)
        hashes.append(current)
    return hashes

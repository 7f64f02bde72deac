"""The ledger chain, recomputed here from the spec's own words."""

from __future__ import annotations

import hashlib

from dsom.ingest.ledger import chain, genesis, link


def test_genesis_is_the_sha256_of_the_prefixed_code() -> None:
    assert genesis("40000006").hex() == hashlib.sha256(b"dsom-ledger-v1:40000006").hexdigest()


def test_each_link_hashes_the_raw_previous_hash_and_the_canonical_bytes() -> None:
    first = b'{"a":1}'
    expected = hashlib.sha256(genesis("1") + first).digest()
    assert link(genesis("1"), first) == expected
    assert chain("1", [first, first]) == [expected, hashlib.sha256(expected + first).digest()]

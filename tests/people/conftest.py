"""A trusted test CA for the server, per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Server
from tests.qes.helpers import TrustedCa


@pytest.fixture
def ca(tmp_path: Path) -> TrustedCa:
    """A new CA (and its empty CRL) in files."""
    return TrustedCa(tmp_path / "pki")


@pytest.fixture
def trusting(server: Server, ca: TrustedCa) -> Iterator[TrustedCa]:
    """The test server trusts `ca` (and honours its CRL) for this test."""
    state = server.app.state
    before = state.qes
    state.qes = ca.verifier()
    yield ca
    state.qes = before

"""docs/configuration.md is where operators look: every setting must be in it."""

from __future__ import annotations

import re
from pathlib import Path

from dsom.kit.settings import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
INTERNAL = {"shard_index", "shard_count", "shard_dir"}  # set by `dsom serve` for its workers


def documented() -> set[str]:
    return set(re.findall(r"^\| `DSOM_([A-Z0-9_]+)` \|", DOC.read_text(), flags=re.MULTILINE))


def test_every_setting_is_documented_and_nothing_else() -> None:
    settings = {name.upper() for name in Settings.model_fields if name not in INTERNAL}
    assert settings - documented() == set(), "settings missing from docs/configuration.md"
    assert documented() - settings == set(), "docs/configuration.md lists unknown settings"

"""Every table of DSOM, gathered on one MetaData for Alembic and the schema check."""

from __future__ import annotations

import dsom.auth.models
import dsom.ingest.models
import dsom.people.models
import dsom.registers.models
import dsom.reports.models  # noqa: F401  (importing registers the tables)
from dsom.kit.db import metadata

__all__ = ["metadata"]

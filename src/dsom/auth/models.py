"""Tables of authentication: officials' API tokens and organizers' access keys."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, PrimaryKeyConstraint, String, Table, UniqueConstraint

from dsom.kit.db import UTCDateTime, metadata

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(32), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
)

access_keys = Table(
    "access_keys",
    metadata,
    Column("organizer", String(8), ForeignKey("organizers.edrpou"), nullable=False),
    Column("id", String(16), nullable=False),
    Column("name", String(200), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(300), nullable=False),
    Column("last_used_at", UTCDateTime, nullable=True),
    Column("deactivated_at", UTCDateTime, nullable=True),
    PrimaryKeyConstraint("organizer", "id"),
    UniqueConstraint("id"),
)

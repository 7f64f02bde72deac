"""Tables of the people who work in the offices: who they are, how they log in, their
sessions, the organizers their heads registered, and the audit log of what they did."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from dsom.kit.db import UTCDateTime, metadata

# A person in one role: an official (organizer NULL) or someone acting for one organizer.
# Removing a person keeps the row (status `removed`): the audit log still names them.
people = Table(
    "people",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rnokpp", String(10), nullable=False, index=True),
    Column("name", String(300), nullable=False),
    Column("role", String(32), nullable=False),
    Column("organizer", String(8), ForeignKey("organizers.edrpou"), nullable=True),
    # A representative's rights: permission words (REPRESENTATIVE_RIGHTS), space-separated.
    Column("rights", String(300), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(300), nullable=False),
    Column("removed_at", UTCDateTime, nullable=True),
    Column("removed_by", String(300), nullable=True),
    Column("last_login_at", UTCDateTime, nullable=True),
    # One row per person and organizer: a head's two simultaneous first logins make one head.
    UniqueConstraint("rnokpp", "organizer"),
)

# The moment an organizer's head registered it with DSOM (first login, interfaces.md).
organizer_registrations = Table(
    "organizer_registrations",
    metadata,
    Column("organizer", String(8), ForeignKey("organizers.edrpou"), primary_key=True),
    Column("registered_at", UTCDateTime, nullable=False),
    Column("head", Integer, ForeignKey("people.id"), nullable=False),
)

# One-time login challenges: in the database, so that "used once" holds across processes.
qes_challenges = Table(
    "qes_challenges",
    metadata,
    Column("challenge", String(100), primary_key=True),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
    Column("used_at", UTCDateTime, nullable=True),
    Column("ip", String(64), nullable=True),
)

# Server-side sessions; the cookie's value is never stored, only its SHA-256.
sessions = Table(
    "sessions",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("person", Integer, ForeignKey("people.id"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),
    Column("ip", String(64), nullable=True),
    Column("user_agent", String(300), nullable=True),
)

# Who did what, when, and from where. `organizer` is text, not a reference: a refused
# login may name an EDRPOU that no register holds.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("actor", String(300), nullable=False),
    Column("person", Integer, ForeignKey("people.id"), nullable=True, index=True),
    Column("organizer", String(8), nullable=True),
    Column("action", String(64), nullable=False, index=True),
    Column("target", String(300), nullable=True),
    Column("details", JSON, nullable=True),
    Column("ip", String(64), nullable=True),
    Index("ix_audit_log_organizer_at", "organizer", "at"),
)

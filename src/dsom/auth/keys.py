"""Organizers' access keys (protocol.md §1): shown once, stored as a SHA-256 hash.

A key is checked against the database at most once a second per process: a
deactivated key, or a suspended organizer, is refused within a second on every
server process, and a busy key costs no query at all in between.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from dsom.auth.models import access_keys
from dsom.auth.permissions import Role, permissions_of
from dsom.auth.principal import Principal
from dsom.auth.tokens import token_hash
from dsom.kit.errors import DomainError, NotFound, Unauthorized, ValidationFailed
from dsom.kit.time import isoformat_z, utcnow
from dsom.registers.models import CURRENT

KEY_PREFIX = "dsomk_"
RECHECK_SECONDS = 1.0  # protocol §1: no cache may keep a deactivated key alive longer
FORGET_REFUSED_SECONDS = 60.0
log = logging.getLogger("dsom.auth")
LAST_USED_RESOLUTION = timedelta(seconds=60)


class OrganizerSuspended(DomainError):
    status_code = 403
    code = "organizer_suspended"


@dataclass(frozen=True)
class IssuedKey:
    """A key as created: the only moment its secret exists outside the organizer."""

    id: str
    secret: str
    organizer: str
    name: str
    created_at: str

    def as_dict(self) -> dict[str, Any]:
        """`--json` output of `dsom keys create`."""
        return {
            "id": self.id,
            "secret": self.secret,
            "organizer": self.organizer,
            "name": self.name,
            "created_at": self.created_at,
        }


def create_key(conn: Connection, *, organizer: str, name: str, created_by: str) -> IssuedKey:
    """A new access key for `organizer`; its secret is returned once and never stored."""
    orgs = CURRENT["organizers"]
    if conn.execute(select(orgs.c.edrpou).where(orgs.c.edrpou == organizer)).first() is None:
        raise ValidationFailed(
            f"there is no organizer {organizer} in the register",
            fields=[{"field": "organizer", "message": "is not registered"}],
        )
    key_id = f"key_{secrets.token_hex(6)}"
    secret = f"{KEY_PREFIX}{secrets.token_urlsafe(32)}"
    now = utcnow()
    conn.execute(
        insert(access_keys).values(
            organizer=organizer,
            id=key_id,
            name=name or "access key",
            key_hash=token_hash(secret),
            created_at=now,
            created_by=created_by,
        )
    )
    return IssuedKey(key_id, secret, organizer, name, isoformat_z(now))


def deactivate_key(conn: Connection, key_id: str, *, organizer: str | None = None) -> None:
    """Deactivate a key (of `organizer`, when one is given): refused within a second."""
    stmt = update(access_keys).where(
        access_keys.c.id == key_id, access_keys.c.deactivated_at.is_(None)
    )
    if organizer is not None:
        stmt = stmt.where(access_keys.c.organizer == organizer)
    if not conn.execute(stmt.values(deactivated_at=utcnow())).rowcount:
        raise NotFound(f"no active access key {key_id}")


def list_keys(conn: Connection, organizer: str | None = None) -> list[dict[str, Any]]:
    """Keys (of one organizer, or all), newest first, without their hashes."""
    stmt = select(access_keys).order_by(access_keys.c.created_at.desc())
    if organizer is not None:
        stmt = stmt.where(access_keys.c.organizer == organizer)
    return [
        {k: v for k, v in row.items() if k != "key_hash"} for row in conn.execute(stmt).mappings()
    ]


@dataclass
class _Known:
    principal: Principal | None  # None: unknown or deactivated
    organizer_status: str
    checked: float


_ORGANIZERS = CURRENT["organizers"]
# A key with what judging it needs: its organizer's status.
_KEY_ROWS = select(
    access_keys.c.id,
    access_keys.c.organizer,
    access_keys.c.name,
    access_keys.c.deactivated_at,
    _ORGANIZERS.c.status,
).join(_ORGANIZERS, _ORGANIZERS.c.edrpou == access_keys.c.organizer)


def _entry(row: Any, checked: float) -> _Known:
    """What a key's row (None: no such key) says about it, as of `checked`."""
    if row is None or row.deactivated_at is not None:
        return _Known(None, "", checked)
    role = frozenset({Role.ORGANIZER_SYSTEM})
    principal = Principal(
        kind="key",
        id=row.id,
        name=row.name,
        roles=role,
        permissions=permissions_of(role),
        organizer=row.organizer,
    )
    return _Known(principal, row.status, checked)


class KeyCache:
    """Access keys by hash, each re-read from the database at most a second before use:
    in the background for the keys in use (`keep_fresh`), else by the request."""

    def __init__(self, engine: Engine, clock: Any = time.monotonic) -> None:
        self.engine = engine
        self.clock = clock
        self._known: dict[str, _Known] = {}
        self._lock = threading.Lock()
        self._used: dict[str, datetime] = {}
        self._written: dict[str, datetime] = {}

    def cached(self, secret: str) -> _Known | None:
        """The entry for a key if it was checked within the last second (no I/O)."""
        entry = self._known.get(token_hash(secret))
        if entry is not None and self.clock() - entry.checked < RECHECK_SECONDS:
            return entry
        return None

    def refresh(self, secret: str) -> _Known:
        """Read a key and its organizer's status from the database (blocking I/O, no write)."""
        digest = token_hash(secret)
        checked = self.clock()
        with self.engine.connect() as conn:
            row = conn.execute(_KEY_ROWS.where(access_keys.c.key_hash == digest)).first()
        entry = _entry(row, checked)
        with self._lock:
            self._known[digest] = entry
        return entry

    def refresh_known(self) -> None:
        """Re-read every key known to be valid, a few queries for all of them, so that
        requests find their key fresh in memory instead of waiting on the database
        (`keep_fresh` runs this twice a second). Refusals are not re-read: a request with
        one reads it again once its second has passed, and after a minute it is forgotten,
        so random keys cannot grow the cache."""
        checked = self.clock()  # taken before reading: an entry is never fresher than its read
        with self._lock:
            for digest, entry in list(self._known.items()):
                if entry.principal is None and checked - entry.checked > FORGET_REFUSED_SECONDS:
                    del self._known[digest]
            digests = [d for d, entry in self._known.items() if entry.principal is not None]
        found: dict[str, _Known] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(digests), 500):
                chunk = digests[start : start + 500]
                stmt = _KEY_ROWS.add_columns(access_keys.c.key_hash).where(
                    access_keys.c.key_hash.in_(chunk)
                )
                for row in conn.execute(stmt):
                    found[row.key_hash] = _entry(row, checked)
        with self._lock:
            for digest in digests:  # a key no longer in the table is refused like any unknown
                self._known[digest] = found.get(digest) or _Known(None, "", checked)

    async def keep_fresh(self, every: float = RECHECK_SECONDS / 2) -> None:
        """Refresh the known keys every `every` seconds, until cancelled. A failed read is
        logged; requests then read their key themselves once its second has passed."""
        loop = asyncio.get_running_loop()
        while True:
            try:
                await loop.run_in_executor(None, self.refresh_known)
            except Exception:
                log.warning("refreshing the access keys failed", exc_info=True)
            await asyncio.sleep(every)

    def note_use(self, key_id: str) -> None:
        """Remember that a key was used now (written later, with a group commit)."""
        self._used[key_id] = utcnow()

    def due_last_used(self) -> list[tuple[str, datetime]]:
        """Keys whose last use should be written now: at most once a minute each."""
        due = []
        for key_id, used in list(self._used.items()):
            written = self._written.get(key_id)
            if written is None or used - written >= LAST_USED_RESOLUTION:
                due.append((key_id, used))
                self._written[key_id] = used
        return due

    def write_last_used(self, conn: Connection) -> None:
        """Write the due last-used times in `conn`'s transaction (for callers other than
        the ingest engine, which writes them in its group commits)."""
        for key_id, used in self.due_last_used():
            conn.execute(
                update(access_keys).where(access_keys.c.id == key_id).values(last_used_at=used)
            )

    @staticmethod
    def judge(entry: _Known) -> Principal:
        """The organizer's principal, or 401 / 403 as protocol §1 says."""
        if entry.principal is None:
            raise Unauthorized("the access key is missing, unknown or deactivated")
        if entry.organizer_status != "active":
            raise OrganizerSuspended(
                f"organizer {entry.principal.organizer} is {entry.organizer_status}, not active: "
                "it may not submit operations"
            )
        return entry.principal

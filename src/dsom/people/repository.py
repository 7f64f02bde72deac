"""All SQL of people, login challenges, sessions and the audit log."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, func, insert, or_, select, update

from dsom.auth.permissions import Permission, Role
from dsom.auth.principal import Principal
from dsom.kit.time import isoformat_z, utcnow
from dsom.people.models import (
    audit_log,
    organizer_registrations,
    people,
    qes_challenges,
    sessions,
)
from dsom.registers.models import CURRENT

ACTIVE = "active"
REMOVED = "removed"
OFFICIAL_ROLES = (Role.REGULATOR, Role.REGULATOR_ADMIN, Role.TAX)
ORGANIZER_ROLES = (Role.ORGANIZER_HEAD, Role.ORGANIZER_REPRESENTATIVE)


@dataclass(frozen=True)
class PersonRecord:
    """A person in one role: an official, or the head or a representative of an organizer."""

    id: int
    rnokpp: str
    name: str
    role: Role
    organizer: str | None
    rights: frozenset[Permission]  # a representative's granted rights; empty for others
    status: str  # active or removed
    created_at: datetime
    created_by: str
    removed_at: datetime | None
    removed_by: str | None
    last_login_at: datetime | None

    @classmethod
    def from_row(cls, row: RowMapping) -> PersonRecord:
        """A record from a `people` row."""
        return cls(
            id=row["id"],
            rnokpp=row["rnokpp"],
            name=row["name"],
            role=Role(row["role"]),
            organizer=row["organizer"],
            rights=rights_from_text(row["rights"]),
            status=row["status"],
            created_at=row["created_at"],
            created_by=row["created_by"],
            removed_at=row["removed_at"],
            removed_by=row["removed_by"],
            last_login_at=row["last_login_at"],
        )

    @property
    def active(self) -> bool:
        """Whether the person may log in."""
        return self.status == ACTIVE

    def public(self) -> dict[str, Any]:
        """The person as the login API answers (interfaces.md)."""
        return {
            "rnokpp": self.rnokpp,
            "name": self.name,
            "roles": [self.role.value],
            "organizer": self.organizer,
        }

    def as_dict(self) -> dict[str, Any]:
        """Every field, as JSON values (for pages and exports)."""
        return {
            "id": self.id,
            **self.public(),
            "role": self.role.value,
            "rights": sorted(r.value for r in self.rights),
            "status": self.status,
            "created_at": isoformat_z(self.created_at),
            "created_by": self.created_by,
            "removed_at": isoformat_z(self.removed_at) if self.removed_at else None,
            "removed_by": self.removed_by,
            "last_login_at": isoformat_z(self.last_login_at) if self.last_login_at else None,
        }


def rights_to_text(rights: frozenset[Permission]) -> str:
    """Rights as stored: permission words, sorted, space-separated."""
    return " ".join(sorted(r.value for r in rights))


def rights_from_text(text: str) -> frozenset[Permission]:
    """Rights as stored, back to permissions (words no longer known are dropped)."""
    known = {p.value: p for p in Permission}
    return frozenset(known[w] for w in text.split() if w in known)


# --- people -----------------------------------------------------------------------------------


def person_by_id(conn: Connection, person_id: int) -> PersonRecord | None:
    """A person by id, whatever their status."""
    row = conn.execute(select(people).where(people.c.id == person_id)).mappings().first()
    return PersonRecord.from_row(row) if row else None


def people_by_ids(conn: Connection, ids: set[int]) -> dict[int, PersonRecord]:
    """The people of these ids, whatever their status."""
    if not ids:
        return {}
    rows = conn.execute(select(people).where(people.c.id.in_(sorted(ids)))).mappings()
    return {row["id"]: PersonRecord.from_row(row) for row in rows}


def person_in(conn: Connection, rnokpp: str, organizer: str | None) -> PersonRecord | None:
    """The person with this RNOKPP for `organizer` (None: among officials), any status."""
    where = people.c.organizer.is_(None) if organizer is None else people.c.organizer == organizer
    row = conn.execute(select(people).where(people.c.rnokpp == rnokpp, where)).mappings().first()
    return PersonRecord.from_row(row) if row else None


def insert_person(
    conn: Connection,
    *,
    rnokpp: str,
    name: str,
    role: Role,
    organizer: str | None,
    rights: frozenset[Permission],
    created_by: str,
    at: datetime,
) -> PersonRecord:
    """A new active person."""
    person_id = conn.execute(
        insert(people)
        .values(
            rnokpp=rnokpp,
            name=name,
            role=role.value,
            organizer=organizer,
            rights=rights_to_text(rights),
            status=ACTIVE,
            created_at=at,
            created_by=created_by,
        )
        .returning(people.c.id)
    ).scalar_one()
    record = person_by_id(conn, person_id)
    assert record is not None
    return record


def update_person(conn: Connection, person_id: int, **values: Any) -> PersonRecord:
    """Change a person's columns (rights as a frozenset of permissions); the new record."""
    if "rights" in values:
        values["rights"] = rights_to_text(values["rights"])
    if "role" in values:
        values["role"] = Role(values["role"]).value
    conn.execute(update(people).where(people.c.id == person_id).values(**values))
    record = person_by_id(conn, person_id)
    assert record is not None
    return record


def list_people(
    conn: Connection,
    *,
    organizer: str | None,
    roles: tuple[Role, ...],
    include_removed: bool = False,
) -> list[PersonRecord]:
    """People of `organizer` (None: officials) in `roles`, active ones first, by name."""
    where = people.c.organizer.is_(None) if organizer is None else people.c.organizer == organizer
    stmt = select(people).where(where, people.c.role.in_([r.value for r in roles]))
    if not include_removed:
        stmt = stmt.where(people.c.status == ACTIVE)
    stmt = stmt.order_by(people.c.status, people.c.name, people.c.id)
    return [PersonRecord.from_row(r) for r in conn.execute(stmt).mappings()]


def organizer_entry(conn: Connection, edrpou: str) -> RowMapping | None:
    """The organizers register's current entry: edrpou, name, head_rnokpp, status."""
    orgs = CURRENT["organizers"]
    return (
        conn.execute(
            select(orgs.c.edrpou, orgs.c.name, orgs.c.head_rnokpp, orgs.c.status).where(
                orgs.c.edrpou == edrpou
            )
        )
        .mappings()
        .first()
    )


def registration_of(conn: Connection, organizer: str) -> RowMapping | None:
    """When and by whom `organizer` was registered with DSOM, if it was."""
    return (
        conn.execute(
            select(organizer_registrations).where(organizer_registrations.c.organizer == organizer)
        )
        .mappings()
        .first()
    )


def insert_registration(conn: Connection, *, organizer: str, head: int, at: datetime) -> None:
    """Record that the head registered `organizer` with DSOM now."""
    conn.execute(
        insert(organizer_registrations).values(organizer=organizer, head=head, registered_at=at)
    )


def registrations(conn: Connection) -> dict[str, datetime]:
    """Every registered organizer's registration moment."""
    rows = conn.execute(
        select(organizer_registrations.c.organizer, organizer_registrations.c.registered_at)
    )
    return {r.organizer: r.registered_at for r in rows}


# --- challenges -------------------------------------------------------------------------------


def insert_challenge(
    conn: Connection, challenge: str, *, at: datetime, expires_at: datetime, ip: str | None
) -> None:
    """Record an issued challenge."""
    conn.execute(
        insert(qes_challenges).values(
            challenge=challenge, issued_at=at, expires_at=expires_at, ip=ip
        )
    )


def use_challenge(conn: Connection, challenge: str, at: datetime) -> bool:
    """Mark an unexpired, unused challenge used, atomically: True for exactly one caller,
    across threads and server processes alike."""
    done = conn.execute(
        update(qes_challenges)
        .where(
            qes_challenges.c.challenge == challenge,
            qes_challenges.c.used_at.is_(None),
            qes_challenges.c.expires_at > at,
        )
        .values(used_at=at)
    ).rowcount
    return bool(done)


def challenge_row(conn: Connection, challenge: str) -> RowMapping | None:
    """An issued challenge, if it is still kept."""
    return (
        conn.execute(select(qes_challenges).where(qes_challenges.c.challenge == challenge))
        .mappings()
        .first()
    )


def challenges_issued_since(conn: Connection, ip: str, since: datetime) -> list[datetime]:
    """When the challenges `ip` was given after `since` were issued, oldest first."""
    c = qes_challenges.c
    rows = conn.execute(
        select(c.issued_at).where(c.ip == ip, c.issued_at > since).order_by(c.issued_at)
    )
    return [issued for (issued,) in rows]


def purge_challenges(conn: Connection, expired_before: datetime) -> None:
    """Forget challenges that expired before `expired_before`."""
    conn.execute(delete(qes_challenges).where(qes_challenges.c.expires_at < expired_before))


# --- sessions ---------------------------------------------------------------------------------


def insert_session(
    conn: Connection,
    *,
    session_id: str,
    token_hash: str,
    person: int,
    csrf_token: str,
    at: datetime,
    expires_at: datetime,
    ip: str | None,
    user_agent: str | None,
) -> None:
    """Record a new session."""
    conn.execute(
        insert(sessions).values(
            id=session_id,
            token_hash=token_hash,
            person=person,
            csrf_token=csrf_token,
            created_at=at,
            last_seen_at=at,
            expires_at=expires_at,
            ip=ip,
            user_agent=(user_agent or "")[:300] or None,
        )
    )


def live_session(
    conn: Connection, token_hash: str, *, now: datetime, seen_after: datetime
) -> tuple[RowMapping, PersonRecord] | None:
    """The session of a cookie hash, and its person, if it is not ended, not expired, not
    idle since `seen_after`, and the person is active."""
    row = (
        conn.execute(
            select(sessions).where(
                sessions.c.token_hash == token_hash,
                sessions.c.ended_at.is_(None),
                sessions.c.expires_at > now,
                sessions.c.last_seen_at > seen_after,
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    person = person_by_id(conn, row["person"])
    if person is None or not person.active:
        return None
    return row, person


def touch_session(conn: Connection, session_id: str, at: datetime) -> None:
    """Note that a session was used at `at` (it stays alive for another idle period)."""
    conn.execute(update(sessions).where(sessions.c.id == session_id).values(last_seen_at=at))


def end_session(conn: Connection, token_hash: str, at: datetime) -> RowMapping | None:
    """End the session of a cookie hash; the session as it was, if it was live."""
    row = (
        conn.execute(
            select(sessions).where(
                sessions.c.token_hash == token_hash, sessions.c.ended_at.is_(None)
            )
        )
        .mappings()
        .first()
    )
    if row is not None:
        conn.execute(update(sessions).where(sessions.c.id == row["id"]).values(ended_at=at))
    return row


def end_sessions_of(conn: Connection, person: int, at: datetime) -> int:
    """End every live session of a person; how many there were."""
    return int(
        conn.execute(
            update(sessions)
            .where(sessions.c.person == person, sessions.c.ended_at.is_(None))
            .values(ended_at=at)
        ).rowcount
    )


# --- the audit log ----------------------------------------------------------------------------


def audit(
    conn: Connection,
    principal: Principal | None,
    action: str,
    target: str | None = None,
    details: Mapping[str, Any] | None = None,
    ip: str | None = None,
    *,
    at: datetime | None = None,
    actor: str | None = None,
    person: int | None = None,
    organizer: str | None = None,
) -> None:
    """Write who (`principal`, or `actor` for someone not logged in) did `action` to
    `target`, when (`at`, default now), from where (`ip`), with `details`, in the caller's
    transaction."""
    if principal is not None:
        actor = actor or principal.actor
        if principal.kind == "person":
            person = person if person is not None else int(principal.id)
        organizer = organizer if organizer is not None else principal.organizer
    conn.execute(
        insert(audit_log).values(
            at=at or utcnow(),
            actor=(actor or "anonymous")[:300],
            person=person,
            organizer=organizer,
            action=action,
            target=target[:300] if target else None,
            details=dict(details) if details else None,
            ip=ip,
        )
    )


def list_audit(
    conn: Connection,
    *,
    organizer: str | None = None,
    person: int | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    who: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Audit entries, newest first, filtered; and how many match in all. `action` ending
    in `.` matches every action it starts (e.g. `auth.`); `who` is part of the actor's
    name, or a person's RNOKPP."""
    stmt = select(audit_log)
    if organizer is not None:
        stmt = stmt.where(audit_log.c.organizer == organizer)
    if person is not None:
        stmt = stmt.where(audit_log.c.person == person)
    if who:
        by_rnokpp = select(people.c.id).where(people.c.rnokpp == who)
        stmt = stmt.where(
            or_(
                audit_log.c.actor.icontains(who, autoescape=True),
                audit_log.c.person.in_(by_rnokpp),
            )
        )
    if action:
        stmt = stmt.where(
            audit_log.c.action.startswith(action, autoescape=True)
            if action.endswith(".")
            else audit_log.c.action == action
        )
    if since is not None:
        stmt = stmt.where(audit_log.c.at >= since)
    if until is not None:
        stmt = stmt.where(audit_log.c.at < until)
    total = conn.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = conn.execute(
        stmt.order_by(audit_log.c.at.desc(), audit_log.c.id.desc()).limit(limit).offset(offset)
    ).mappings()
    return [dict(r) for r in rows], int(total)


def audit_actions(conn: Connection) -> list[str]:
    """Every action the audit log holds, alphabetically (for the log's filter)."""
    return list(
        conn.execute(select(audit_log.c.action).distinct().order_by(audit_log.c.action)).scalars()
    )

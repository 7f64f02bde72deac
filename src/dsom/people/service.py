"""Logging in with a QES, sessions, and managing people: for the login API and the offices.

Login (interfaces.md): DSOM issues a one-time challenge; the person signs it; DSOM
uses the challenge up (once, atomically, in the database), verifies the signature
and the certificate, and finds the person the certificate names:

- a company certificate (EDRPOU present): the person with that RNOKPP acting for
  that organizer; failing that, the organizers register's head of that organizer,
  who is created as `organizer_head` at this first login, and the organizer is
  thereby registered with DSOM (its register status stays as it is: the regulator
  activates it). An EDRPOU that no organizer has is looked up among officials, so
  an official may use a certificate of their own agency;
- a personal certificate: the official (regulator, regulator_admin, tax) with that
  RNOKPP.

Anyone else, and anyone removed, is `unknown_person`. Every attempt is in the audit
log, with its IP and, for a refusal, its code.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import math
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from dsom.auth.keys import IssuedKey, create_key, deactivate_key, list_keys
from dsom.auth.permissions import REPRESENTATIVE_RIGHTS, Permission, Role, permissions_of
from dsom.auth.principal import Principal
from dsom.auth.tokens import token_hash
from dsom.kit.codes import is_valid_rnokpp
from dsom.kit.errors import Conflict, Forbidden, NotFound, RateLimited, ValidationFailed
from dsom.kit.settings import Settings
from dsom.kit.time import utcnow
from dsom.people import repository as repo
from dsom.people.repository import OFFICIAL_ROLES, PersonRecord
from dsom.qes.verifier import BAD_SIGNATURE, QesRefused, SignatureVerifier, Signer

CHALLENGE_LIFETIME = timedelta(seconds=60)  # interfaces.md: expires within a minute
CHALLENGE_KEPT = timedelta(hours=1)  # used and expired challenges are forgotten after this
CHALLENGE_PREFIX = "dsom-login-"
MAX_SIGNATURE_BYTES = 256 * 1024
SESSION_TOUCH = timedelta(seconds=60)  # last_seen_at is written at most this often

CHALLENGE_EXPIRED = "challenge_expired"
CHALLENGE_USED = "challenge_used"
UNKNOWN_PERSON = "unknown_person"


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that writes people, sessions or the audit log: on SQLite it takes the
    write lock when it begins (waiting for the ingest engine's commits rather than failing),
    and unlike kit.db.write_transaction it does not make the ingest engine re-read the
    registers, which these tables are not part of."""
    with engine.connect() as plain:
        conn = plain.execution_options(sqlite_immediate=True)
        with conn.begin():
            yield conn


def principal_of(person: PersonRecord) -> Principal:
    """The principal a logged-in person acts as: their role's permissions (plus, for a
    representative, the rights their head granted), scoped to their organizer."""
    roles = frozenset({person.role})
    return Principal(
        kind="person",
        id=str(person.id),
        name=person.name or person.rnokpp,
        roles=roles,
        permissions=permissions_of(roles, person.rights),
        organizer=person.organizer,
    )


# --- challenges -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Challenge:
    """A one-time login challenge: the text to sign, and until when it may be used."""

    text: str
    expires_at: datetime


def issue_challenge(
    conn: Connection, *, ip: str | None, per_minute: int = 0, now: datetime | None = None
) -> Challenge:
    """A new challenge, valid for a minute, usable once; RateLimited if `ip` asked for
    `per_minute` (0: no limit) in the last minute already."""
    now = now or utcnow()
    repo.purge_challenges(conn, now - CHALLENGE_KEPT)
    if per_minute and ip is not None:
        recent = repo.challenges_issued_since(conn, ip, now - timedelta(minutes=1))
        if len(recent) >= per_minute:
            # The window frees a place when the oldest of the last `per_minute` leaves it.
            frees_at = recent[-per_minute] + timedelta(minutes=1)
            wait = max(1, math.ceil((frees_at - now).total_seconds()))
            raise RateLimited(
                f"too many login challenges from this address: at most {per_minute} a "
                f"minute; retry after {wait} s",
                retry_after=wait,
            )
    text = CHALLENGE_PREFIX + secrets.token_urlsafe(32)
    expires_at = now + CHALLENGE_LIFETIME
    repo.insert_challenge(conn, text, at=now, expires_at=expires_at, ip=ip)
    return Challenge(text, expires_at)


def use_challenge(conn: Connection, challenge: str, now: datetime) -> None:
    """Use a challenge up, or refuse with challenge_expired or challenge_used."""
    if repo.use_challenge(conn, challenge, now):
        return
    row = repo.challenge_row(conn, challenge)
    if row is not None and row["used_at"] is not None:
        raise QesRefused(CHALLENGE_USED, "this challenge was used already; ask for a new one")
    if row is None:
        raise QesRefused(
            CHALLENGE_EXPIRED, "DSOM did not issue this challenge, or it expired; ask for a new one"
        )
    raise QesRefused(CHALLENGE_EXPIRED, "the challenge expired; ask for a new one")


def decode_signature(text: str) -> bytes:
    """The DER of a base64 signature (PEM armour and line breaks allowed)."""
    lines = [ln for ln in text.strip().splitlines() if not ln.startswith("-----")]
    compact = "".join("".join(lines).split())
    try:
        der = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        try:
            der = base64.urlsafe_b64decode(compact + "=" * (-len(compact) % 4))
        except (binascii.Error, ValueError):
            raise QesRefused(BAD_SIGNATURE, "the signature is not base64") from None
    if not der:
        raise QesRefused(BAD_SIGNATURE, "the signature is empty")
    if len(der) > MAX_SIGNATURE_BYTES:
        raise QesRefused(BAD_SIGNATURE, "the signature is too large")
    return der


# --- logging in -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Login:
    """A successful login: the person, and the new session's secrets (shown only here)."""

    person: PersonRecord
    principal: Principal
    session_id: str
    cookie: str  # the session cookie's value; DSOM keeps only its SHA-256
    csrf_token: str
    expires_at: datetime
    registered: bool  # a head's first login: the organizer was registered with DSOM now


def login(
    engine: Engine,
    verifier: SignatureVerifier,
    *,
    challenge: str,
    signature: str,
    settings: Settings,
    ip: str | None,
    user_agent: str | None,
    now: datetime | None = None,
) -> Login:
    """Log a person in with their signature of a challenge, or QesRefused with its code.
    Every attempt is written to the audit log."""
    now = now or utcnow()
    signer: Signer | None = None
    try:
        with transaction(engine) as conn:
            use_challenge(conn, challenge, now)
        der = decode_signature(signature)
        signer = verifier.verify(der, challenge.encode(), now)
        return _open_session(engine, signer, settings, ip, user_agent, now)
    except QesRefused as exc:
        signer = signer or exc.signer
        details: dict[str, Any] = {"code": exc.code, "message": exc.message}
        if signer is not None:
            details["certificate"] = signer.describe()
        with transaction(engine) as conn:
            repo.audit(
                conn,
                None,
                "auth.login_failed",
                signer.rnokpp if signer else None,
                details,
                ip,
                at=now,
                actor=f"qes:{signer.rnokpp} ({signer.name})" if signer else "anonymous",
                organizer=signer.edrpou if signer else None,
            )
        raise


def _open_session(
    engine: Engine,
    signer: Signer,
    settings: Settings,
    ip: str | None,
    user_agent: str | None,
    now: datetime,
) -> Login:
    for attempt in range(2):
        try:
            with transaction(engine) as conn:
                person, registered = identify(conn, signer, ip=ip, now=now)
                return _start_session(
                    conn, person, registered, signer, settings, ip, user_agent, now
                )
        except IntegrityError:
            # Two first logins of one head at once: the other made the head; find it again.
            if attempt:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _start_session(
    conn: Connection,
    person: PersonRecord,
    registered: bool,
    signer: Signer,
    settings: Settings,
    ip: str | None,
    user_agent: str | None,
    now: datetime,
) -> Login:
    # The certificate is the authority on the person's name; keep the record current.
    person = repo.update_person(conn, person.id, name=signer.name, last_login_at=now)
    principal = principal_of(person)
    cookie = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session_id = secrets.token_hex(8)
    expires_at = now + timedelta(hours=settings.session_hours)
    repo.insert_session(
        conn,
        session_id=session_id,
        token_hash=token_hash(cookie),
        person=person.id,
        csrf_token=csrf,
        at=now,
        expires_at=expires_at,
        ip=ip,
        user_agent=user_agent,
    )
    repo.audit(
        conn,
        principal,
        "auth.login",
        person.rnokpp,
        {"session": session_id, "role": person.role.value, "certificate": signer.describe()},
        ip,
        at=now,
    )
    return Login(person, principal, session_id, cookie, csrf, expires_at, registered)


def identify(
    conn: Connection, signer: Signer, *, ip: str | None, now: datetime
) -> tuple[PersonRecord, bool]:
    """The active person a verified certificate names, and whether this login registered
    their organizer (a head's first login); unknown_person otherwise."""
    rnokpp = signer.rnokpp
    if rnokpp is None:
        raise QesRefused(UNKNOWN_PERSON, "the certificate names no RNOKPP", signer=signer)
    if signer.edrpou is not None:
        entry = repo.organizer_entry(conn, signer.edrpou)
        if entry is not None:
            return _organizer_person(conn, signer, rnokpp, entry, ip, now)
    official = repo.person_in(conn, rnokpp, None)
    if official is not None and official.active and official.role in OFFICIAL_ROLES:
        return official, False
    whom = f"for organizer {signer.edrpou}" if signer.edrpou else "among DSOM's officials"
    raise QesRefused(
        UNKNOWN_PERSON, f"no person with RNOKPP {rnokpp} may log in {whom}", signer=signer
    )


def _organizer_person(
    conn: Connection,
    signer: Signer,
    rnokpp: str,
    entry: Any,
    ip: str | None,
    now: datetime,
) -> tuple[PersonRecord, bool]:
    organizer = entry["edrpou"]
    is_head = entry["head_rnokpp"] == rnokpp
    person = repo.person_in(conn, rnokpp, organizer)
    if (
        person is not None
        and person.active
        and not (is_head and person.role is not Role.ORGANIZER_HEAD)
    ):
        if person.role is Role.ORGANIZER_HEAD and not is_head:
            raise QesRefused(
                UNKNOWN_PERSON,
                f"{rnokpp} is no longer the head of organizer {organizer} in the register",
                signer=signer,
            )
        return person, False
    if not is_head:
        raise QesRefused(
            UNKNOWN_PERSON,
            f"no person with RNOKPP {rnokpp} may log in for organizer {organizer}",
            signer=signer,
        )
    return _register_head(conn, signer, rnokpp, organizer, person, ip, now)


def _register_head(
    conn: Connection,
    signer: Signer,
    rnokpp: str,
    organizer: str,
    existing: PersonRecord | None,
    ip: str | None,
    now: datetime,
) -> tuple[PersonRecord, bool]:
    """The register's head logs in as head for the first time: they become a person (or a
    representative or removed person becomes the head), and, if no head did so before, the
    organizer is registered with DSOM."""
    by = "organizers register (head's first login)"
    if existing is not None:
        head = repo.update_person(
            conn,
            existing.id,
            role=Role.ORGANIZER_HEAD,
            rights=frozenset(),
            status=repo.ACTIVE,
            removed_at=None,
            removed_by=None,
        )
    else:
        head = repo.insert_person(
            conn,
            rnokpp=rnokpp,
            name=signer.name,
            role=Role.ORGANIZER_HEAD,
            organizer=organizer,
            rights=frozenset(),
            created_by=by,
            at=now,
        )
    principal = principal_of(head)
    first = repo.registration_of(conn, organizer) is None
    if first:
        repo.insert_registration(conn, organizer=organizer, head=head.id, at=now)
    repo.audit(
        conn,
        principal,
        "organizer.registered" if first else "head.added",
        organizer,
        {"head": rnokpp, "name": signer.name, "certificate": signer.describe()},
        ip,
        at=now,
    )
    return head, first


# --- sessions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActiveSession:
    """A live session: who is logged in, what they may do, and the CSRF token their
    pages must send back (header X-CSRF-Token) with every request that changes something."""

    id: str
    person: PersonRecord
    principal: Principal
    csrf_token: str
    created_at: datetime
    expires_at: datetime

    def csrf_ok(self, sent: str | None) -> bool:
        """Whether `sent` is this session's CSRF token (compared in constant time)."""
        return bool(sent) and hmac.compare_digest(str(sent), self.csrf_token)


def session_for_cookie(
    engine: Engine, cookie: str, settings: Settings, now: datetime | None = None
) -> ActiveSession | None:
    """The live session of a cookie value, or None (unknown, ended, expired, idle, or its
    person removed). Using it keeps it alive for another idle period."""
    now = now or utcnow()
    idle = timedelta(minutes=settings.session_idle_minutes)
    with engine.connect() as conn:
        found = repo.live_session(conn, token_hash(cookie), now=now, seen_after=now - idle)
    if found is None:
        return None
    row, person = found
    if now - row["last_seen_at"] >= SESSION_TOUCH:
        with transaction(engine) as conn:
            repo.touch_session(conn, row["id"], now)
    return ActiveSession(
        id=row["id"],
        person=person,
        principal=principal_of(person),
        csrf_token=row["csrf_token"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
    )


def logout(engine: Engine, cookie: str, *, ip: str | None, now: datetime | None = None) -> bool:
    """End the session of a cookie value; whether there was one to end."""
    now = now or utcnow()
    with transaction(engine) as conn:
        row = repo.end_session(conn, token_hash(cookie), now)
        if row is None:
            return False
        person = repo.person_by_id(conn, row["person"])
        if person is not None:
            repo.audit(
                conn,
                principal_of(person),
                "auth.logout",
                person.rnokpp,
                {"session": row["id"]},
                ip,
                at=now,
            )
    return True


# --- managing people (the offices) ------------------------------------------------------------


def _check_rnokpp(rnokpp: str) -> str:
    rnokpp = rnokpp.strip()
    if not is_valid_rnokpp(rnokpp):
        raise ValidationFailed(
            f"{rnokpp!r} is not a valid RNOKPP",
            fields=[{"field": "rnokpp", "message": "ten digits with a valid check digit"}],
        )
    return rnokpp


def _check_rights(
    rights: frozenset[Permission] | set[Permission] | list[str],
) -> frozenset[Permission]:
    try:
        granted = frozenset(Permission(r) for r in rights)
    except ValueError:
        granted = frozenset()
        bad = True
    else:
        bad = not granted <= REPRESENTATIVE_RIGHTS
    if bad:
        allowed = ", ".join(sorted(REPRESENTATIVE_RIGHTS))
        raise ValidationFailed(
            f"a representative's rights are some of: {allowed}",
            fields=[{"field": "rights", "message": f"each one of {allowed}"}],
        )
    return granted


def _own_organizer(principal: Principal) -> str:
    principal.require(Permission.REPRESENTATIVES_MANAGE)
    if principal.organizer is None:
        raise Forbidden("only an organizer's head manages its representatives")
    return principal.organizer


def list_representatives(
    conn: Connection, principal: Principal, *, include_removed: bool = False
) -> list[PersonRecord]:
    """The head and representatives of the principal's organizer."""
    return repo.list_people(
        conn,
        organizer=_own_organizer(principal),
        roles=repo.ORGANIZER_ROLES,
        include_removed=include_removed,
    )


def add_representative(
    conn: Connection,
    principal: Principal,
    *,
    rnokpp: str,
    rights: frozenset[Permission] | set[Permission] | list[str],
    name: str = "",
    ip: str | None = None,
) -> PersonRecord:
    """A head adds a representative of their organizer by RNOKPP, with rights (their name
    is taken from their certificate at their first login)."""
    organizer = _own_organizer(principal)
    rnokpp = _check_rnokpp(rnokpp)
    granted = _check_rights(rights)
    now = utcnow()
    person = _appoint(
        conn,
        principal,
        rnokpp=rnokpp,
        organizer=organizer,
        role=Role.ORGANIZER_REPRESENTATIVE,
        rights=granted,
        name=name,
        at=now,
        taken="already acts for organizer {organizer} as {role}",
    )
    repo.audit(
        conn,
        principal,
        "representative.added",
        rnokpp,
        {"person": person.id, "rights": sorted(granted)},
        ip,
        at=now,
    )
    return person


def change_rights(
    conn: Connection,
    principal: Principal,
    person_id: int,
    *,
    rights: frozenset[Permission] | set[Permission] | list[str],
    ip: str | None = None,
) -> PersonRecord:
    """A head grants and revokes their representative's rights (in force at once)."""
    organizer = _own_organizer(principal)
    granted = _check_rights(rights)
    person = repo.person_by_id(conn, person_id)
    if (
        person is None
        or not person.active
        or person.organizer != organizer
        or person.role is not Role.ORGANIZER_REPRESENTATIVE
    ):
        raise NotFound(f"no representative {person_id}")
    updated = repo.update_person(conn, person.id, rights=granted)
    repo.audit(
        conn,
        principal,
        "representative.rights_changed",
        person.rnokpp,
        {"person": person.id, "before": sorted(person.rights), "after": sorted(granted)},
        ip,
        at=utcnow(),
    )
    return updated


def remove_person(
    conn: Connection, principal: Principal, person_id: int, *, ip: str | None = None
) -> PersonRecord:
    """A head removes a representative of their organizer, or an administrator an official;
    the person's sessions end at once."""
    person = repo.person_by_id(conn, person_id)
    if person is None or not person.active:
        raise NotFound(f"no person {person_id}")
    if person.role is Role.ORGANIZER_REPRESENTATIVE:
        if person.organizer != _own_organizer(principal):
            raise NotFound(f"no person {person_id}")  # another organizer's: reveal nothing
        action = "representative.removed"
    elif person.role in OFFICIAL_ROLES:
        principal.require(Permission.OFFICIALS_MANAGE)
        if principal.kind == "person" and principal.id == str(person.id):
            raise Conflict("an administrator cannot remove themselves")
        action = "official.removed"
    else:
        raise Forbidden("a head is removed by changing the organizers register's head")
    now = utcnow()
    updated = repo.update_person(
        conn, person.id, status=repo.REMOVED, removed_at=now, removed_by=principal.actor
    )
    ended = repo.end_sessions_of(conn, person.id, now)
    repo.audit(
        conn,
        principal,
        action,
        person.rnokpp,
        {"person": person.id, "role": person.role.value, "sessions_ended": ended},
        ip,
        at=now,
    )
    return updated


def remove_representative(
    conn: Connection, principal: Principal, person_id: int, *, ip: str | None = None
) -> PersonRecord:
    """A head removes a representative of their own organizer (anyone else: not found)."""
    organizer = _own_organizer(principal)
    person = repo.person_by_id(conn, person_id)
    if (
        person is None
        or person.organizer != organizer
        or person.role is not Role.ORGANIZER_REPRESENTATIVE
    ):
        raise NotFound(f"no representative {person_id}")
    return remove_person(conn, principal, person_id, ip=ip)


def remove_official(
    conn: Connection, principal: Principal, person_id: int, *, ip: str | None = None
) -> PersonRecord:
    """An administrator removes an official (anyone else: not found)."""
    principal.require(Permission.OFFICIALS_MANAGE)
    person = repo.person_by_id(conn, person_id)
    if person is None or person.organizer is not None or person.role not in OFFICIAL_ROLES:
        raise NotFound(f"no official {person_id}")
    return remove_person(conn, principal, person_id, ip=ip)


def list_officials(
    conn: Connection, principal: Principal, *, include_removed: bool = False
) -> list[PersonRecord]:
    """The regulator's and the tax service's officials (for administrators)."""
    principal.require(Permission.OFFICIALS_MANAGE)
    return repo.list_people(
        conn, organizer=None, roles=OFFICIAL_ROLES, include_removed=include_removed
    )


def add_official(
    conn: Connection,
    principal: Principal,
    *,
    rnokpp: str,
    role: Role | str,
    name: str = "",
    ip: str | None = None,
) -> PersonRecord:
    """An administrator adds a regulator official, administrator or tax official."""
    principal.require(Permission.OFFICIALS_MANAGE)
    rnokpp = _check_rnokpp(rnokpp)
    if role not in {r.value for r in OFFICIAL_ROLES}:
        raise ValidationFailed(
            f"an official's role is one of {', '.join(OFFICIAL_ROLES)}; got {role!r}",
            fields=[{"field": "role", "message": "regulator, regulator_admin or tax"}],
        )
    role = Role(role)
    now = utcnow()
    person = _appoint(
        conn,
        principal,
        rnokpp=rnokpp,
        organizer=None,
        role=role,
        rights=frozenset(),
        name=name,
        at=now,
        taken="is already an official ({role})",
    )
    repo.audit(
        conn,
        principal,
        "official.added",
        rnokpp,
        {"person": person.id, "role": role.value},
        ip,
        at=now,
    )
    return person


def _appoint(
    conn: Connection,
    principal: Principal,
    *,
    rnokpp: str,
    organizer: str | None,
    role: Role,
    rights: frozenset[Permission],
    name: str,
    at: datetime,
    taken: str,
) -> PersonRecord:
    """Add a person in `role` (for `organizer`, or as an official), or reinstate them if
    they were removed; Conflict if they already act there (`taken`: the message's end)."""
    existing = repo.person_in(conn, rnokpp, organizer)
    if existing is not None and existing.active:
        raise Conflict(f"{rnokpp} " + taken.format(organizer=organizer, role=existing.role))
    if existing is not None:
        return repo.update_person(
            conn,
            existing.id,
            role=role,
            rights=rights,
            status=repo.ACTIVE,
            name=name.strip() or existing.name,
            created_at=at,
            created_by=principal.actor,
            removed_at=None,
            removed_by=None,
        )
    return repo.insert_person(
        conn,
        rnokpp=rnokpp,
        name=name.strip(),
        role=role,
        organizer=organizer,
        rights=rights,
        created_by=principal.actor,
        at=at,
    )


def list_audit(
    conn: Connection,
    principal: Principal,
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
    """The audit log, newest first (for those who may read it), and the total matching."""
    principal.require(Permission.AUDIT_READ)
    if principal.organizer is not None:
        organizer = principal.organizer  # no one acting for an organizer sees another's
    return repo.list_audit(
        conn,
        organizer=organizer,
        person=person,
        action=action,
        since=since,
        until=until,
        who=who,
        limit=max(1, min(limit, 1000)),
        offset=max(0, offset),
    )


def audit_actions(conn: Connection, principal: Principal) -> list[str]:
    """Every action the audit log holds (for its filter)."""
    principal.require(Permission.AUDIT_READ)
    return repo.audit_actions(conn)


def people_of_audit(
    conn: Connection, principal: Principal, entries: list[dict[str, Any]]
) -> dict[int, PersonRecord]:
    """The people who made these audit entries, by id (to show their RNOKPP and role)."""
    principal.require(Permission.AUDIT_READ)
    return repo.people_by_ids(conn, {e["person"] for e in entries if e["person"] is not None})


def audit(
    conn: Connection,
    principal: Principal | None,
    action: str,
    target: str | None = None,
    details: dict[str, Any] | None = None,
    ip: str | None = None,
) -> None:
    """Write an audit entry now, in the caller's transaction (for the offices' own changes,
    e.g. `key.created`)."""
    repo.audit(conn, principal, action, target, details, ip, at=utcnow())


# --- an organizer's access keys (the organizer's office) --------------------------------------

KEY_NAME_MAX = 200


def _keys_organizer(principal: Principal) -> str:
    principal.require(Permission.KEYS_MANAGE)
    if principal.organizer is None:
        raise Forbidden("access keys are managed by the organizer's own people")
    return principal.organizer


def list_access_keys(conn: Connection, principal: Principal) -> list[dict[str, Any]]:
    """The access keys of the principal's organizer, newest first (never their secrets)."""
    return list_keys(conn, _keys_organizer(principal))


def create_access_key(
    conn: Connection, principal: Principal, *, name: str, ip: str | None = None
) -> IssuedKey:
    """A new access key of the principal's organizer; its secret is in the answer only."""
    organizer = _keys_organizer(principal)
    name = " ".join(name.split())
    if not name or len(name) > KEY_NAME_MAX:
        raise ValidationFailed(
            "a key needs a name, at most 200 characters",
            fields=[{"field": "name", "message": "1 to 200 characters"}],
        )
    issued = create_key(conn, organizer=organizer, name=name, created_by=principal.actor)
    audit(conn, principal, "key.created", issued.id, {"name": name}, ip)
    return issued


def deactivate_access_key(
    conn: Connection, principal: Principal, key_id: str, *, ip: str | None = None
) -> None:
    """Deactivate an active key of the principal's organizer (another's: not found); the
    ingest API refuses it within a second."""
    deactivate_key(conn, key_id, organizer=_keys_organizer(principal))
    audit(conn, principal, "key.deactivated", key_id, None, ip)

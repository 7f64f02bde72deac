"""Officials' API tokens: created by `dsom tokens create`, shown once, stored as a hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from dsom.auth.models import api_tokens
from dsom.auth.permissions import TOKEN_ROLES, Role, permissions_of
from dsom.auth.principal import Principal
from dsom.kit.errors import NotFound, ValidationFailed
from dsom.kit.time import isoformat_z, utcnow

TOKEN_PREFIX = "dsomt_"  # noqa: S105  (a prefix, not a secret)
# last_used_at is written at most this often per token, so reads stay reads.
LAST_USED_RESOLUTION = timedelta(seconds=60)


def token_hash(token: str) -> str:
    """SHA-256 of a token: tokens carry 256 bits of randomness, so no slow hash is needed."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    """A token as created: the only moment its secret text exists outside the caller."""

    id: str
    token: str
    role: str
    name: str
    created_at: str

    def as_dict(self) -> dict[str, Any]:
        """`--json` output of `dsom tokens create`."""
        return {
            "id": self.id,
            "token": self.token,
            "role": self.role,
            "name": self.name,
            "created_at": self.created_at,
        }


def create_token(conn: Connection, *, role: str, name: str) -> IssuedToken:
    """A new official's token for `role`; its text is returned once and never stored."""
    if role not in TOKEN_ROLES:
        raise ValidationFailed(f"a token's role is one of {', '.join(TOKEN_ROLES)}; got {role!r}")
    token_id = secrets.token_hex(6)
    token = f"{TOKEN_PREFIX}{secrets.token_urlsafe(32)}"
    now = utcnow()
    conn.execute(
        insert(api_tokens).values(
            id=token_id, name=name, role=role, token_hash=token_hash(token), created_at=now
        )
    )
    return IssuedToken(token_id, token, role, name, isoformat_z(now))


def revoke_token(conn: Connection, token_id: str) -> None:
    """Revoke a token: refused from the next request on."""
    done = conn.execute(
        update(api_tokens)
        .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    ).rowcount
    if not done:
        raise NotFound(f"no active token {token_id}")


def list_tokens(conn: Connection) -> list[dict[str, Any]]:
    """Every token, without its secret."""
    rows = conn.execute(select(api_tokens).order_by(api_tokens.c.created_at)).mappings()
    return [{k: v for k, v in r.items() if k != "token_hash"} for r in rows]


def principal_for_token(conn: Connection, token: str) -> Principal | None:
    """The official a token stands for, or None if it is unknown or revoked."""
    row = (
        conn.execute(select(api_tokens).where(api_tokens.c.token_hash == token_hash(token)))
        .mappings()
        .first()
    )
    if row is None or row["revoked_at"] is not None:
        return None
    now = utcnow()
    if row["last_used_at"] is None or now - row["last_used_at"] > LAST_USED_RESOLUTION:
        conn.execute(
            update(api_tokens).where(api_tokens.c.id == row["id"]).values(last_used_at=now)
        )
    role = Role(row["role"])
    return Principal(
        kind="token",
        id=row["id"],
        name=row["name"],
        roles=frozenset({role}),
        permissions=permissions_of(frozenset({role})),
    )

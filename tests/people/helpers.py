"""Builders of people and logins for the tests of people, sessions and the audit log."""

from __future__ import annotations

import base64
import itertools
from typing import Any

import httpx
from sqlalchemy import Engine, select

from dsom.auth.permissions import Permission, Role
from dsom.kit.codes import make_rnokpp
from dsom.kit.time import utcnow
from dsom.people import repository as repo
from dsom.people.models import audit_log
from dsom.qes import pki
from tests.qes.helpers import TrustedCa

CHALLENGE = "/api/v1/auth/challenge"
LOGIN = "/api/v1/auth/qes"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/auth/me"
_serial = itertools.count(1)


def new_rnokpp() -> str:
    """A valid RNOKPP no other test uses."""
    return make_rnokpp(600_000_000 + next(_serial))


def make_person(
    engine: Engine,
    *,
    role: Role | str,
    rnokpp: str | None = None,
    organizer: str | None = None,
    rights: frozenset[Permission] = frozenset(),
    name: str = "Тест Особа",
) -> repo.PersonRecord:
    """A person in `people` (an official unless an organizer is given)."""
    with engine.begin() as conn:
        return repo.insert_person(
            conn,
            rnokpp=rnokpp or new_rnokpp(),
            name=name,
            role=Role(role),
            organizer=organizer,
            rights=rights,
            created_by="test",
            at=utcnow(),
        )


def certificate(ca: TrustedCa, person: repo.PersonRecord, **kw: Any) -> pki.Issued:
    """A certificate naming `person` (a company one, with their organizer's EDRPOU, if any)."""
    kw.setdefault("edrpou", person.organizer)
    return ca.person(name=kw.pop("name", person.name), rnokpp=person.rnokpp, **kw)


def signature(challenge: str, signer: pki.Issued, **kw: Any) -> str:
    """A base64 CMS signature of the challenge."""
    return base64.b64encode(pki.sign_cms(challenge.encode(), signer, **kw)).decode()


def challenge(http: httpx.Client) -> str:
    """A new challenge from the server."""
    answer = http.post(CHALLENGE)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["challenge"])


def log_in(http: httpx.Client, signer: pki.Issued, **kw: Any) -> httpx.Response:
    """Ask for a challenge, sign it, log in: the server's answer."""
    text = challenge(http)
    return http.post(LOGIN, json={"challenge": text, "signature": signature(text, signer, **kw)})


def error_code(answer: httpx.Response) -> str:
    """The `error.code` of an error answer."""
    return str(answer.json()["error"]["code"])


def audit_entries(engine: Engine, action: str | None = None) -> list[dict[str, Any]]:
    """The audit log, oldest first (of one action, if told)."""
    stmt = select(audit_log).order_by(audit_log.c.id)
    if action is not None:
        stmt = stmt.where(audit_log.c.action == action)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]

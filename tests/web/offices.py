"""Helpers of the office pages' HTTP tests: people logged in over HTTP, as a browser would
be (session cookie, CSRF header, htmx header), against the test server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, select

from dsom.auth.models import access_keys
from dsom.auth.permissions import Permission, Role
from dsom.people import repository as repo
from tests.builders import make_organizer
from tests.conftest import Server
from tests.people.helpers import certificate, log_in, make_person
from tests.qes.helpers import TrustedCa

P = Permission
HTMX = {"HX-Request": "true"}


@dataclass
class Office:
    """A person logged in to the offices over HTTP."""

    person: repo.PersonRecord
    client: httpx.Client
    csrf: str

    def get(self, path: str, **kw: Any) -> httpx.Response:
        """A page, as the browser asks for it."""
        return self.client.get(path, headers={"Accept": "text/html"}, **kw)

    def send(
        self, method: str, path: str, data: Any = None, *, csrf: bool = True
    ) -> httpx.Response:
        """An htmx request that changes something (with the CSRF token unless told not to)."""
        headers = {**HTMX, "Accept": "text/html"}
        if csrf:
            headers["X-CSRF-Token"] = self.csrf
        return self.client.request(method, path, data=data, headers=headers)


class Offices:
    """Logs people in, each with their own HTTP client (closed at the end of the test)."""

    def __init__(self, server: Server, ca: TrustedCa, stack: ExitStack) -> None:
        self.server, self.ca, self.stack = server, ca, stack

    def client(self) -> httpx.Client:
        """A new client of the test server, without a session."""
        return self.stack.enter_context(
            httpx.Client(base_url=self.server.base_url, timeout=30, follow_redirects=False)
        )

    def log_in(self, person: repo.PersonRecord) -> Office:
        """`person` logged in with a certificate of the trusted CA."""
        client = self.client()
        answer = log_in(client, certificate(self.ca, person))
        assert answer.status_code == 200, answer.text
        return Office(person, client, answer.headers["x-csrf-token"])


def trusted_offices(server: Server, tmp_path: Path) -> Iterator[Offices]:
    """For a test's `offices` fixture: the test server trusts a new CA for the test, and
    people log in with its certificates."""
    ca = TrustedCa(tmp_path / "pki")
    state = server.app.state
    before = state.qes
    state.qes = ca.verifier()
    server.reload()
    with ExitStack() as stack:
        yield Offices(server, ca, stack)
    state.qes = before


def head_of(db: Engine, organizer: dict[str, Any] | None = None) -> repo.PersonRecord:
    """The head of `organizer` (of a new active organizer if none is given)."""
    org = organizer or make_organizer(db)
    return make_person(
        db, role=Role.ORGANIZER_HEAD, rnokpp=org["head_rnokpp"], organizer=org["edrpou"]
    )


def representative(
    db: Engine, organizer: str, *rights: Permission, name: str = "Коваль Ольга Петрівна"
) -> repo.PersonRecord:
    """A representative of `organizer` with `rights`."""
    return make_person(
        db,
        role=Role.ORGANIZER_REPRESENTATIVE,
        organizer=organizer,
        rights=frozenset(rights),
        name=name,
    )


def person(db: Engine, person_id: int) -> repo.PersonRecord:
    """A person as stored now."""
    with db.connect() as conn:
        found = repo.person_by_id(conn, person_id)
    assert found is not None
    return found


def key_row(db: Engine, key_id: str) -> dict[str, Any]:
    """An access key's row as stored."""
    with db.connect() as conn:
        row = conn.execute(select(access_keys).where(access_keys.c.id == key_id)).mappings().one()
    return dict(row)


def text_of(html: str) -> str:
    """A page's text: tags dropped, entities read, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def is_login_redirect(answer: httpx.Response) -> bool:
    """Whether a page answered by sending the caller to the login page."""
    return answer.status_code == 303 and answer.headers["location"].startswith("/login?next=")

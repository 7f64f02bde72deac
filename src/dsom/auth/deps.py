"""Who is calling, as typed FastAPI dependencies: a route cannot forget to authenticate."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from dsom.auth.keys import KeyCache
from dsom.auth.principal import Principal
from dsom.auth.tokens import principal_for_token
from dsom.kit.errors import Forbidden, Unauthorized
from dsom.people.service import ActiveSession, session_for_cookie


def get_engine(request: Request) -> Engine:
    """The application's database engine."""
    engine: Engine = request.app.state.engine
    return engine


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if there is one."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


# A person's session: the cookie holds a random secret (DSOM keeps its SHA-256); requests
# that change something must also send the session's CSRF token in this header.
SESSION_COOKIE = "dsom_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfFailed(Forbidden):
    code = "csrf_failed"


def optional_session(
    request: Request, engine: Annotated[Engine, Depends(get_engine)]
) -> ActiveSession | None:
    """The caller's live session from the session cookie, or None; a request that changes
    something (not GET/HEAD/OPTIONS) must carry the session's CSRF token, or 403."""
    if hasattr(request.state, "dsom_session"):
        found: ActiveSession | None = request.state.dsom_session
        return found
    cookie = request.cookies.get(SESSION_COOKIE)
    found = None
    if cookie:
        found = session_for_cookie(engine, cookie, request.app.state.settings)
    if found is not None and request.method not in SAFE_METHODS:
        check_csrf(request, found)
    request.state.dsom_session = found
    return found


def check_csrf(request: Request, session: ActiveSession) -> None:
    """Refuse (403 csrf_failed) unless the request carries the session's CSRF token in the
    X-CSRF-Token header."""
    if not session.csrf_ok(request.headers.get(CSRF_HEADER)):
        raise CsrfFailed(
            f"send the session's CSRF token in the {CSRF_HEADER} header "
            "(GET /api/v1/auth/me gives it)"
        )


def person_session(
    session: Annotated[ActiveSession | None, Depends(optional_session)],
) -> ActiveSession:
    """The logged-in person's session, or 401."""
    if session is None:
        raise Unauthorized("log in with your qualified electronic signature first")
    return session


def person(session: Annotated[ActiveSession, Depends(person_session)]) -> Principal:
    """The logged-in person, as a principal."""
    return session.principal


def official(request: Request, engine: Annotated[Engine, Depends(get_engine)]) -> Principal:
    """A caller of the registers or reports API: an official's API token
    (`Authorization: Bearer`, no CSRF token needed) or a person's session cookie (with the
    CSRF token on requests that change something)."""
    token = bearer_token(request)
    if token is not None:
        with engine.begin() as conn:
            principal = principal_for_token(conn, token)
        if principal is None:
            raise Unauthorized("the token is unknown or revoked")
        return principal
    session = optional_session(request, engine)
    if session is None:
        raise Unauthorized("send an official's token as `Authorization: Bearer <token>`, or log in")
    return session.principal


Official = Annotated[Principal, Depends(official)]
DB = Annotated[Engine, Depends(get_engine)]
OptionalSession = Annotated[ActiveSession | None, Depends(optional_session)]
PersonSession = Annotated[ActiveSession, Depends(person_session)]
Person = Annotated[Principal, Depends(person)]


async def organizer_key(request: Request) -> Principal:
    """An organizer's system, by its access key (protocol.md §1): 401 or 403 otherwise."""
    return await key_principal(request.app.state.keys, request.headers.get("authorization", ""))


async def key_principal(keys: KeyCache, authorization: str) -> Principal:
    """The organizer whose access key an `Authorization` header carries; 401 or 403."""
    scheme, _, value = authorization.partition(" ")
    secret = value.strip() if scheme.lower() == "bearer" else ""
    if not secret:
        raise Unauthorized("send the organizer's access key as `Authorization: Bearer <key>`")
    entry = keys.cached(secret)
    if entry is None:
        # Not yet known, or its background refresh is behind: read it (not on the loop).
        entry = await asyncio.get_running_loop().run_in_executor(None, keys.refresh, secret)
    principal = KeyCache.judge(entry)
    keys.note_use(principal.id)
    return principal


OrganizerKey = Annotated[Principal, Depends(organizer_key)]

"""Who is calling, as typed FastAPI dependencies: a route cannot forget to authenticate."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from dsom.auth.principal import Principal
from dsom.auth.tokens import principal_for_token
from dsom.kit.errors import Unauthorized


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


def official(request: Request, engine: Annotated[Engine, Depends(get_engine)]) -> Principal:
    """An official (or, later, a person in an office) calling the registers or reports API."""
    token = bearer_token(request)
    if token is None:
        raise Unauthorized("send an official's token as `Authorization: Bearer <token>`")
    with engine.begin() as conn:
        principal = principal_for_token(conn, token)
    if principal is None:
        raise Unauthorized("the token is unknown or revoked")
    return principal


Official = Annotated[Principal, Depends(official)]
DB = Annotated[Engine, Depends(get_engine)]


async def organizer_key(request: Request) -> Principal:
    """An organizer's system, by its access key (protocol.md §1): 401 or 403 otherwise."""
    from fastapi.concurrency import run_in_threadpool

    from dsom.auth.keys import KeyCache

    secret = bearer_token(request)
    if secret is None:
        raise Unauthorized("send the organizer's access key as `Authorization: Bearer <key>`")
    keys: KeyCache = request.app.state.keys
    entry = keys.cached(secret)
    if entry is None:
        entry = await run_in_threadpool(keys.refresh, secret)
    principal = KeyCache.judge(entry)
    keys.note_use(principal.id)
    return principal


OrganizerKey = Annotated[Principal, Depends(organizer_key)]

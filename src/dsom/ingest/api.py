"""The data-collection API of protocol.md: submit operations, read them and the ledger back."""

from __future__ import annotations

import json
import time
from typing import Any

import msgspec
from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from dsom.auth.deps import DB, OrganizerKey, key_principal
from dsom.ingest import ledger
from dsom.ingest.engine import IngestEngine, decode_items, decoded_items, iso_us
from dsom.ingest.repository import entries_at
from dsom.ingest.schemas import InvalidBody, Operation, decode_envelope, decode_whole
from dsom.ingest.shards import Handler, PeerUnavailable, Shards
from dsom.kit.errors import ERRORS_ANSWERED, DomainError, NotFound, Unavailable, retry_after

router = APIRouter(prefix="/api/v1", tags=["data collection"])
SUBMIT_PATH = "/api/v1/operations"
MAX_BODY = 16 * 1024 * 1024
MAX_OPERATIONS = 10_000
MAX_SEQ = 2**62  # beyond any ledger, and within every database's integers
_encode = msgspec.json.Encoder().encode


class UnsupportedMediaType(DomainError):
    status_code = 415
    code = "unsupported_media_type"


class PayloadTooLarge(DomainError):
    status_code = 413
    code = "payload_too_large"


class BatchTooLarge(DomainError):
    status_code = 413
    code = "batch_too_large"


class BadBody(DomainError):
    status_code = 400
    code = "invalid_body"


EXAMPLE_REQUEST = {
    "operations": [
        {
            "operation_id": "op-1",
            "type": "bet",
            "occurred_at": "2026-11-23T10:15:30.456+02:00",
            "license": "OC-2026-000001",
            "player_id": "p-81723",
            "amount": 5000,
            "currency": "UAH",
            "game_type": "online_casino",
            "channel": {"kind": "website", "id": "WEB-000001"},
            "game_ref": "roulette-eu",
        },
        {
            "operation_id": "op-2",
            "type": "win",
            "occurred_at": "2026-11-23T10:16:02+02:00",
            "license": "OC-2026-000001",
            "player_id": "p-81723",
            "amount": 17500,
            "currency": "UAH",
            "bet_id": "op-1",
        },
    ]
}
EXAMPLE_ANSWER = {
    "received": 2,
    "accepted": 1,
    "duplicates": 0,
    "rejected": 1,
    "errors": [
        {
            "index": 1,
            "operation_id": "op-2",
            "code": "unknown_bet",
            "field": "bet_id",
            "message": "bet_id op-1 names no accepted bet of this organizer",
        }
    ],
    "ledger": {"seq": 1, "hash": "9f2c" + "0" * 60},
    "received_at": "2026-11-23T08:16:05.120000Z",
}
ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "received",
        "accepted",
        "duplicates",
        "rejected",
        "errors",
        "ledger",
        "received_at",
    ],
    "properties": {
        "received": {"type": "integer"},
        "accepted": {"type": "integer"},
        "duplicates": {"type": "integer"},
        "rejected": {"type": "integer"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "index": {"type": "integer"},
                    "operation_id": {"type": ["string", "null"]},
                    "code": {"type": "string"},
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
        "ledger": {
            "type": "object",
            "properties": {"seq": {"type": "integer"}, "hash": {"type": "string"}},
        },
        "received_at": {"type": "string", "format": "date-time"},
    },
}
_ERROR = {"description": '`{"error": {"code", "message"}}`'}


def operation_schemas() -> tuple[dict[str, Any], dict[str, Any]]:
    """The operation's JSON Schema (for the OpenAPI document) and its components."""
    (schema,), components = msgspec.json.schema_components(
        [Operation], ref_template="#/components/schemas/{name}"
    )
    return schema, components


@router.post(
    "/operations",
    summary="Submit operations",
    responses={
        200: {
            "description": "the request was valid; see what became of each operation",
            "content": {"application/json": {"schema": ANSWER_SCHEMA, "example": EXAMPLE_ANSWER}},
        },
        400: {**_ERROR, "description": '`invalid_body`: not `{"operations": [...]}`'},
        401: {**_ERROR, "description": "`unauthorized`: no, unknown or deactivated key"},
        403: {**_ERROR, "description": "`organizer_suspended`"},
        413: {**_ERROR, "description": "`batch_too_large` (> 10,000) or `payload_too_large`"},
        415: {**_ERROR, "description": "`unsupported_media_type`"},
        429: {
            **_ERROR,
            "description": "`rate_limited`: over `DSOM_RATE_LIMIT` operations a second for "
            "this organizer (when configured); nothing stored; retry after Retry-After "
            "(also `error.retry_after`, seconds)",
        },
        503: {**_ERROR, "description": "`unavailable`: nothing stored; retry after Retry-After"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["operations"],
                        "properties": {
                            "operations": {
                                "type": "array",
                                "minItems": 1,
                                "maxItems": MAX_OPERATIONS,
                                "items": {"$ref": "#/components/schemas/Operation"},
                            }
                        },
                    },
                    "example": EXAMPLE_REQUEST,
                }
            },
        }
    },
)
async def submit_operations(request: Request) -> Response:
    """Submit 1 to 10,000 operations; each is checked on its own and answered in `errors`.

    The answer comes only after every accepted operation is durably committed. Retrying
    a request is always safe: operations accepted before count as `duplicates`.
    """
    status, answer, headers = await handle_submission(request.app, request.scope, request.receive)
    return Response(answer, status, headers=headers, media_type="application/json")


async def handle_submission(
    app: Any, scope: Scope, receive: Receive
) -> tuple[int, bytes, dict[str, str]]:
    """POST /api/v1/operations, from the request's ASGI scope: (status, body, headers).

    The checks run in the order of protocol.md §2.1: the key (401/403), the media type
    (415), the size (413), the body (400). The owner of the organizer judges it (ingest/
    shards.py): this process, or another one the request is passed to.
    """
    received_us = to_us_now()
    try:
        headers = dict(scope["headers"])
        principal = await key_principal(
            app.state.keys, headers.get(b"authorization", b"").decode("latin-1")
        )
        media = headers.get(b"content-type", b"").decode("latin-1")
        media = media.split(";")[0].strip().lower()
        if media != "application/json":
            raise UnsupportedMediaType(
                f"send Content-Type: application/json, not {media or 'nothing'!r}"
            )
        body = await _receive_limited(receive, headers.get(b"content-length"))
        org = principal.organizer
        assert org is not None
        shards: Shards = app.state.shards
        if shards.owns(org):
            return 200, await _submit(app.state.ingest, org, received_us, body), {}
        try:
            status, answer = await shards.forward(org, "submit", received_us, body)
        except PeerUnavailable:
            raise Unavailable("DSOM is restarting part of its service; retry shortly") from None
        # The owner's answer comes as bytes: a 429 says in its body when to retry.
        error = msgspec.json.decode(answer).get("error", {}) if status == 429 else {}
        return status, answer, retry_after(status, error)
    except DomainError as exc:
        ERRORS_ANSWERED.labels(exc.code).inc()
        error = {"code": exc.code, "message": exc.message, **exc.details}
        answer = _encode({"error": error})
        return exc.status_code, answer, retry_after(exc.status_code, exc.details)


async def _receive_limited(receive: Receive, declared: bytes | None) -> bytes:
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise PayloadTooLarge("the body is over 16 MiB; send fewer operations per request")
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise BadBody("the client went away before sending the whole body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise PayloadTooLarge("the body is over 16 MiB; send fewer operations per request")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


class SubmissionFastPath:
    """Serves POST /api/v1/operations straight from ASGI, ahead of the framework.

    With small requests (10 operations) the framework's routing, middleware and
    dependency solving took about a third of the server's time (py-spy, see
    docs/performance.md); the route itself stays in the application for the OpenAPI
    document and answers the same through `handle_submission`."""

    def __init__(self, app: ASGIApp, owner: Any) -> None:
        self.app = app
        self.owner = owner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != SUBMIT_PATH:
            await self.app(scope, receive, send)
            return
        status, body, extra = await handle_submission(self.owner, scope, receive)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        headers.extend((k.lower().encode(), v.encode()) for k, v in extra.items())
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _submit(engine: IngestEngine, org: str, received_us: int, body: bytes) -> bytes:
    """Decode a request's body and have the engine judge and store it; the answer."""
    ops = decode_whole(body)  # every element at once; None: some element is bad
    if ops is not None:
        _admit(engine, org, len(ops))
        items = decoded_items(ops)
    else:
        try:
            raws = decode_envelope(body)
        except InvalidBody as exc:
            raise BadBody(str(exc)) from None
        _admit(engine, org, len(raws))
        items = decode_items(raws)
    return _encode(await engine.submit(org, received_us, items))


def _admit(engine: IngestEngine, org: str, count: int) -> None:
    """Refuse a request of too many operations, or over the organizer's rate."""
    if count > MAX_OPERATIONS:
        raise BatchTooLarge(f"{count} operations in one request; send at most 10,000")
    engine.limits.take(org, count)


def owner_handler(app: Any) -> Handler:
    """What the owning process does with a request another process passed to it."""

    async def handle(kind: str, org: str, received_us: int, body: bytes) -> tuple[int, bytes]:
        engine: IngestEngine = app.state.ingest
        try:
            if kind == "submit":
                return 200, await _submit(engine, org, received_us, body)
            if kind == "seqs":
                key = (org, body.decode())
                return 200, _encode(engine.ids.lookup([key]).get(key, []))
            if kind == "head":
                return 200, _encode(_head(engine, org))
            raise ValueError(f"unknown kind of passed request {kind!r}")
        except DomainError as exc:
            error = {"code": exc.code, "message": exc.message, **exc.details}
            return exc.status_code, _encode({"error": error})

    return handle


def to_us_now() -> int:
    """Now, in epoch microseconds."""
    return time.time_ns() // 1000


@router.get("/operations/{operation_id}", summary="Read an operation back")
async def read_operation(
    operation_id: str, request: Request, principal: OrganizerKey, engine: DB
) -> Response:
    """The stored operation as submitted, with `seq`, `hash`, `received_at` and `late`."""
    org = principal.organizer
    assert org is not None
    shards: Shards = request.app.state.shards
    if shards.owns(org):
        ingest: IngestEngine = request.app.state.ingest
        seqs = ingest.ids.lookup([(org, operation_id)]).get((org, operation_id), [])
    else:
        _, answer = await _ask_owner(shards, org, "seqs", operation_id.encode())
        seqs = msgspec.json.decode(answer, type=list[int])

    def read() -> dict[str, Any] | None:
        with engine.connect() as conn:
            stored = entries_at(conn, org, seqs)
        for seq, entry in stored.items():
            if entry.operation_id == operation_id:
                found: dict[str, Any] = json.loads(entry.canonical)
                found.update(
                    seq=seq,
                    hash=entry.hash.hex(),
                    received_at=iso_us(entry.received_us),
                    late=entry.late,
                )
                return found
        return None

    found = await run_in_threadpool(read)
    if found is None:
        raise NotFound(f"no operation {operation_id} of this organizer")
    return Response(_encode(found), media_type="application/json")


@router.get("/ledger", summary="The organizer's ledger head")
async def ledger_head(request: Request, principal: OrganizerKey) -> dict[str, Any]:
    """`{"seq", "hash"}` of this organizer's last accepted operation (seq 0: none yet)."""
    org = principal.organizer
    assert org is not None
    shards: Shards = request.app.state.shards
    if shards.owns(org):
        return _head(request.app.state.ingest, org)
    _, answer = await _ask_owner(shards, org, "head", b"")
    result: dict[str, Any] = msgspec.json.decode(answer)
    return result


def _head(engine: IngestEngine, org: str) -> dict[str, Any]:
    seq, digest = engine.heads.get(org) or (0, ledger.genesis(org))
    return {"seq": seq, "hash": digest.hex()}


async def _ask_owner(shards: Shards, org: str, kind: str, body: bytes) -> tuple[int, bytes]:
    try:
        status, answer = await shards.forward(org, kind, 0, body)
    except PeerUnavailable:
        raise Unavailable("DSOM is restarting part of its service; retry shortly") from None
    if status != 200:
        raise Unavailable("DSOM could not reach this organizer's data; retry shortly")
    return status, answer


@router.get("/ledger/{seq}", summary="One ledger entry")
async def ledger_entry(seq: int, principal: OrganizerKey, engine: DB) -> dict[str, Any]:
    """`{"seq", "operation_id", "prev_hash", "hash"}` of one entry of this organizer's chain."""
    org = principal.organizer
    assert org is not None
    if not 1 <= seq <= MAX_SEQ:
        raise NotFound(f"no ledger entry {seq} of this organizer")

    def read() -> dict[str, Any] | None:
        with engine.connect() as conn:
            stored = entries_at(conn, org, [seq - 1, seq])
        if seq not in stored:
            return None
        previous = stored[seq - 1].hash if seq > 1 else ledger.genesis(org)
        return {
            "seq": seq,
            "operation_id": stored[seq].operation_id,
            "prev_hash": previous.hex(),
            "hash": stored[seq].hash.hex(),
        }

    found = await run_in_threadpool(read)
    if found is None:
        raise NotFound(f"no ledger entry {seq} of this organizer")
    return found

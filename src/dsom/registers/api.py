"""The registers' JSON API: one set of routes per declared register, generated.

GET    /api/v1/registers                          the registers and their fields
GET    /api/v1/registers/{name}                   list: filters, q, as_of, limit, offset
POST   /api/v1/registers/{name}                   create   {"values", "grounds"}
GET    /api/v1/registers/{name}/export            format=csv|json, as_of
POST   /api/v1/registers/{name}/import            a whole register as CSV (text/csv)
GET    /api/v1/registers/{name}/{key}             read, as_of
PATCH  /api/v1/registers/{name}/{key}             update   {"values", "grounds"}
POST   /api/v1/registers/{name}/{key}/status      {"status", "grounds"}
GET    /api/v1/registers/{name}/{key}/history     every version
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from dsom.auth.deps import DB, Official
from dsom.kit.db import write_transaction
from dsom.kit.errors import ValidationFailed
from dsom.people.api import client_ip
from dsom.registers import service
from dsom.registers.declarations import REGISTERS
from dsom.registers.declare import Register

router = APIRouter(prefix="/api/v1/registers", tags=["registers"])

GROUNDS_SCHEMA = {
    "type": "object",
    "description": "why the change is made: a decision number, a free-text reason, or both",
    "properties": {
        "decision": {"type": "string", "maxLength": 200},
        "reason": {"type": "string", "maxLength": 1000},
    },
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "no token, or an unknown or revoked one"},
    403: {"description": "the token's role may not do this"},
    404: {"description": "no such entry (or not visible to the caller)"},
    422: {"description": "the values break the register's rules; `fields` says which"},
}


@router.get("", summary="The registers and their fields")
def list_registers(principal: Official) -> list[dict[str, Any]]:
    """Every register with its fields, statuses and allowed status changes."""
    return [describe(reg) for reg in REGISTERS.values() if any(principal.can(p) for p in reg.read)]


def describe(reg: Register) -> dict[str, Any]:
    """A register's declaration as data (what forms and clients build on)."""
    return {
        "name": reg.name,
        "entry": reg.entry,
        "title_uk": reg.title_uk,
        "title_en": reg.title_en,
        "key": reg.key,
        "generated_key": reg.key_prefix is not None,
        "statuses": list(reg.statuses),
        "transitions": {k: list(v) for k, v in reg.transitions.items()},
        "fields": [
            {
                "name": f.name,
                "label_uk": f.label_uk,
                "label_en": f.label_en,
                "required": f.required,
                "editable": f.editable,
                "filterable": f.filterable,
                "schema": f.type.json_schema(),
            }
            for f in reg.all_fields
        ],
    }


def _values_body(reg: Register, *, partial: bool) -> dict[str, Any]:
    return {
        "requestBody": {
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["values", "grounds"],
                        "properties": {
                            "values": reg.json_schema(partial=partial),
                            "grounds": GROUNDS_SCHEMA,
                        },
                    }
                }
            }
        }
    }


def _list_parameters(reg: Register) -> dict[str, Any]:
    params = [
        {
            "name": f.name,
            "in": "query",
            "required": False,
            "schema": f.type.json_schema(),
            "description": f"only entries whose {f.label_en.lower()} is this",
        }
        for f in reg.all_fields
        if f.filterable
    ]
    return {"parameters": params}


def _entry_response(reg: Register) -> dict[int | str, dict[str, Any]]:
    schema = reg.json_schema(partial=True)
    schema["properties"] = {
        **schema["properties"],
        "version": {"type": "integer"},
        "updated_at": {"type": "string", "format": "date-time"},
    }
    return {200: {"content": {"application/json": {"schema": schema}}}}


def _add_routes(reg: Register) -> None:
    base = f"/{reg.name}"
    tag: list[str | Enum] = [f"register: {reg.name}"]

    @router.get(
        base,
        summary=f"List {reg.title_en.lower()}",
        tags=tag,
        openapi_extra=_list_parameters(reg),
        responses=ERROR_RESPONSES,
    )
    def list_(
        request: Request,
        principal: Official,
        engine: DB,
        q: str | None = Query(None, description="text found in any searchable field"),
        as_of: str | None = Query(None, description="the register as it was then"),
        limit: int = Query(50, ge=1, le=service.MAX_PAGE),
        offset: int = Query(0, ge=0),
    ) -> dict[str, Any]:
        filters = service.parse_filters(reg, request.query_params)
        at = service.parse_as_of(as_of)
        with engine.begin() as conn:
            items, total = service.list_entries(
                conn, reg, principal, filters=filters, text=q, limit=limit, offset=offset, as_of=at
            )
        return {
            "items": [service.public(reg, e) for e in items],
            "total": total,
            "limit": limit,
            "offset": offset,
        }

    @router.post(
        base,
        summary=f"Record a new {reg.entry}",
        status_code=201,
        tags=tag,
        openapi_extra=_values_body(reg, partial=False),
        responses=ERROR_RESPONSES,
    )
    def create(
        request: Request, principal: Official, engine: DB, body: dict[str, Any] = Body(...)
    ) -> dict[str, Any]:
        principal.require(reg.write)  # 403 before any look at the body
        values, grounds = _values_and_grounds(body)
        with write_transaction(engine) as conn:
            entry = service.create(conn, reg, principal, values, grounds, ip=client_ip(request))
        return service.public(reg, entry)

    @router.get(
        f"{base}/export",
        summary=f"Export {reg.title_en.lower()}",
        tags=tag,
        responses=ERROR_RESPONSES,
    )
    def export(
        principal: Official,
        engine: DB,
        format: str = Query("csv", pattern="^(csv|json)$"),
        as_of: str | None = Query(None),
    ) -> Response:
        at = service.parse_as_of(as_of)
        filename = f"{reg.name}.{format}"
        disposition = {"content-disposition": f'attachment; filename="{filename}"'}
        with engine.begin() as conn:
            if format == "json":
                return JSONResponse(
                    service.export_json(conn, reg, principal, at), headers=disposition
                )
            text = service.export_csv(conn, reg, principal, at)
        return Response(text, media_type="text/csv; charset=utf-8", headers=disposition)

    @router.post(
        f"{base}/import",
        summary=f"Import {reg.title_en.lower()} from CSV",
        tags=tag,
        responses=ERROR_RESPONSES,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        },
    )
    async def import_(
        request: Request,
        principal: Official,
        engine: DB,
        decision: str | None = Query(None),
        reason: str | None = Query(None),
    ) -> dict[str, Any]:
        principal.require(reg.write)
        grounds = service.Grounds.parse({"decision": decision, "reason": reason})
        raw = await request.body()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationFailed("the file is not UTF-8 text") from None

        ip = client_ip(request)

        def run() -> service.ImportResult:
            with write_transaction(engine) as conn:
                return service.import_csv(conn, reg, principal, text, grounds, ip=ip)

        result = await run_in_threadpool(run)
        return {"created": result.created, "updated": result.updated, "unchanged": result.unchanged}

    @router.get(
        f"{base}/{{key}}",
        summary=f"Read a {reg.entry}",
        tags=tag,
        responses={**ERROR_RESPONSES, **_entry_response(reg)},
    )
    def read(
        key: str,
        principal: Official,
        engine: DB,
        as_of: str | None = Query(None, description="the entry as it was then"),
    ) -> dict[str, Any]:
        at = service.parse_as_of(as_of)
        with engine.begin() as conn:
            return service.public(reg, service.get(conn, reg, principal, key, at))

    @router.patch(
        f"{base}/{{key}}",
        summary=f"Change a {reg.entry}",
        tags=tag,
        openapi_extra=_values_body(reg, partial=True),
        responses=ERROR_RESPONSES,
    )
    def change(
        key: str,
        request: Request,
        principal: Official,
        engine: DB,
        body: dict[str, Any] = Body(...),
    ) -> dict[str, Any]:
        principal.require(reg.write)  # 403 before any look at the body
        values, grounds = _values_and_grounds(body)
        with write_transaction(engine) as conn:
            entry = service.update(
                conn, reg, principal, key, values, grounds, ip=client_ip(request)
            )
            return service.public(reg, entry)

    @router.post(
        f"{base}/{{key}}/status",
        summary=f"Change a {reg.entry}'s status",
        tags=tag,
        responses=ERROR_RESPONSES,
        openapi_extra={
            "requestBody": {
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["status", "grounds"],
                            "properties": {
                                "status": {"type": "string", "enum": list(reg.statuses)},
                                "grounds": GROUNDS_SCHEMA,
                            },
                        }
                    }
                }
            }
        },
    )
    def status(
        key: str,
        request: Request,
        principal: Official,
        engine: DB,
        body: dict[str, Any] = Body(...),
    ) -> dict[str, Any]:
        principal.require(reg.status_permission)
        grounds = service.Grounds.parse(body.get("grounds"))
        with write_transaction(engine) as conn:
            entry = service.set_status(
                conn, reg, principal, key, body.get("status"), grounds, ip=client_ip(request)
            )
            return service.public(reg, entry)

    @router.get(
        f"{base}/{{key}}/history",
        summary=f"History of a {reg.entry}",
        tags=tag,
        responses=ERROR_RESPONSES,
    )
    def history(key: str, principal: Official, engine: DB) -> dict[str, Any]:
        with engine.begin() as conn:
            versions = service.history(conn, reg, principal, key)
        return {
            "register": reg.name,
            "key": key,
            "versions": [service.public_version(reg, v) for v in versions],
        }


def _values_and_grounds(body: dict[str, Any]) -> tuple[dict[str, Any], service.Grounds]:
    values = body.get("values")
    if not isinstance(values, dict):
        raise ValidationFailed(
            'the body is {"values": {...}, "grounds": {...}}',
            fields=[{"field": "values", "message": "must be an object"}],
        )
    return values, service.Grounds.parse(body.get("grounds"))


for _reg in REGISTERS.values():
    _add_routes(_reg)

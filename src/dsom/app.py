"""Builds the ASGI application: the APIs, health, metrics, and the error format."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from dsom import __version__
from dsom.auth.keys import KeyCache
from dsom.ingest.api import SubmissionFastPath, operation_schemas, owner_handler
from dsom.ingest.api import router as ingest_router
from dsom.ingest.engine import IngestEngine
from dsom.ingest.shards import Shards
from dsom.kit import gcwatch
from dsom.kit.db import make_engine
from dsom.kit.errors import ERRORS_ANSWERED, DomainError, retry_after
from dsom.kit.migrate import current_revision
from dsom.kit.settings import Settings, get_settings
from dsom.people.api import router as auth_router
from dsom.qes.config import make_verifier
from dsom.registers.api import router as registers_router
from dsom.reports.api import router as reports_router
from dsom.web import mount_static
from dsom.web.admin import router as admin_pages_router
from dsom.web.organizer import router as organizer_pages_router
from dsom.web.pages import error_page, wants_html
from dsom.web.pages import router as pages_router
from dsom.web.registers import router as registers_pages_router
from dsom.web.reports import router as reports_pages_router

log = logging.getLogger("dsom.app")


DESCRIPTION = """
The State Online Gambling Monitoring System.

* **Registers**: organizers, licences, gambling establishments, gaming equipment,
  websites and mobile applications, with full history. Officials authenticate with
  `Authorization: Bearer <token>` (`dsom tokens create --role regulator|tax`).
* **Data collection** (protocol v1): organizers' systems submit bets, wins, refunds,
  deposits and withdrawals at `POST /api/v1/operations` with
  `Authorization: Bearer <access key>`, and read them and their ledger back.
* **Login** with a qualified electronic signature: `POST /api/v1/auth/challenge`, sign it,
  `POST /api/v1/auth/qes`; the session cookie then works for the registers API too (send
  the session's `X-CSRF-Token` with every change). See docs/login.md.
* Every error answers `{"error": {"code": "...", "message": "..."}}`.
"""


def create_app(  # noqa: PLR0915  (one statement per router and route; flat reads best)
    settings: Settings | None = None, engine: Engine | None = None
) -> FastAPI:
    """The DSOM application on `engine` (or the configured database)."""
    settings = settings or get_settings()
    owns_engine = engine is None
    engine = engine or make_engine(settings.database_url, sqlite_cache_mb=settings.sqlite_cache_mb)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.loop = asyncio.get_running_loop()
        gcwatch.install()
        shards: Shards = app.state.shards
        ingest = IngestEngine(
            engine, settings, app.state.keys, owns=shards.owns if shards.count > 1 else None
        )
        app.state.ingest = ingest
        await ingest.start()
        await shards.start(owner_handler(app))
        keys_fresh = asyncio.create_task(app.state.keys.keep_fresh(), name="dsom-keys")
        try:
            yield
        finally:
            keys_fresh.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keys_fresh
            await shards.stop()
            await ingest.stop()
            if owns_engine:
                engine.dispose()

    app = FastAPI(title="DSOM", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.engine = engine
    app.state.settings = settings
    app.state.started = time.monotonic()
    app.state.keys = KeyCache(engine)
    app.state.qes = make_verifier(settings)  # QES login: trusted CAs and CRLs
    app.state.shards = Shards(settings.shard_index, settings.shard_count, settings.shard_dir)
    _install_error_handlers(app)
    app.include_router(ingest_router)
    app.include_router(registers_router)
    app.include_router(auth_router)
    app.include_router(reports_router)
    _document_operations(app)
    mount_static(app)
    app.add_middleware(SubmissionFastPath, owner=app)
    app.include_router(pages_router)
    app.include_router(registers_pages_router)
    app.include_router(organizer_pages_router)
    app.include_router(admin_pages_router)
    app.include_router(reports_pages_router)

    @app.get("/healthz", tags=["operations"], summary="Liveness")
    def healthz() -> dict[str, Any]:
        """The process answers (`worker`: which of `dsom serve --workers N` processes)."""
        return {"status": "ok", "version": __version__, "worker": settings.shard_index}

    @app.get("/readyz", tags=["operations"], summary="Readiness")
    def readyz() -> JSONResponse:
        """The database answers and its schema is migrated."""
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            revision = current_revision(engine)
        except DBAPIError as exc:
            return JSONResponse({"status": "unavailable", "reason": str(exc.orig)[:200]}, 503)
        if revision is None:
            return JSONResponse(
                {"status": "unavailable", "reason": "schema not migrated: run `dsom db upgrade`"},
                503,
            )
        return JSONResponse({"status": "ready", "schema": revision})

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="Prometheus metrics",
        response_class=PlainTextResponse,
    )
    def metrics() -> PlainTextResponse:
        """Metrics in the Prometheus text format: with `dsom serve --workers N`, summed
        over every worker (serving.py)."""
        registry = REGISTRY
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return PlainTextResponse(generate_latest(registry).decode(), media_type=CONTENT_TYPE_LATEST)

    return app


def _document_operations(app: FastAPI) -> None:
    """Put the protocol's operation schemas (made by msgspec) into the OpenAPI document."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            _, components = operation_schemas()
            schema.setdefault("components", {}).setdefault("schemas", {}).update(components)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _error(code: str, message: str, status: int, **extra: Any) -> JSONResponse:
    ERRORS_ANSWERED.labels(code).inc()
    headers = retry_after(status, extra) or None
    return JSONResponse(
        {"error": {"code": code, "message": message, **extra}}, status, headers=headers
    )


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        if wants_html(request):
            return error_page(request, exc.status_code, exc.message)
        return _error(exc.code, exc.message, exc.status_code, **exc.details)

    @app.exception_handler(RequestValidationError)
    async def request_invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return _error("invalid_body", "the body is not valid JSON", 400)
        fields = [
            {
                "field": ".".join(str(p) for p in e["loc"][1:]) or str(e["loc"][0]),
                "message": e["msg"],
            }
            for e in errors
        ]
        return _error(
            "validation_failed",
            "the request is not valid: "
            + "; ".join(f"{f['field']}: {f['message']}" for f in fields),
            422,
            fields=fields,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if wants_html(request):
            return error_page(request, exc.status_code, str(exc.detail))
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _error(code, str(exc.detail), exc.status_code)

    @app.exception_handler(DBAPIError)
    async def database_down(_request: Request, exc: DBAPIError) -> JSONResponse:
        log.error("database error", exc_info=exc)
        if exc.connection_invalidated or "OperationalError" in type(exc.orig).__name__:
            return _error("unavailable", "the database is unavailable; retry shortly", 503)
        return _error("internal_error", "an internal error occurred", 500)

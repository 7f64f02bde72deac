"""Test harness: every storage test runs on SQLite and on a real PostgreSQL server.

PostgreSQL comes from DSOM_TEST_POSTGRES_URL (default: the local server). Tests that
need it are skipped when none is reachable, unless DSOM_REQUIRE_POSTGRES=1 (CI),
where that is a failure. Each test session gets its own fresh database, built by
the migrations, and dropped afterwards.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from dsom.app import create_app
from dsom.auth.tokens import create_token
from dsom.demo.market import reset
from dsom.kit.db import make_engine, normalise_url
from dsom.kit.migrate import upgrade
from dsom.kit.settings import Settings

# Tests allocate in bursts no server would; the GC watch's warnings are for operators.
logging.getLogger("dsom.gc").setLevel(logging.ERROR)

POSTGRES_URL = os.environ.get(
    "DSOM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("DSOM_REQUIRE_POSTGRES") == "1"


@dataclass
class Database:
    """A migrated test database: its kind, URL and engine."""

    kind: str
    url: str
    engine: Engine


def _postgres_admin() -> Engine | None:
    url = normalise_url(POSTGRES_URL)
    engine = create_engine(url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        engine.dispose()
        if REQUIRE_POSTGRES:
            pytest.fail(
                f"PostgreSQL is required (DSOM_REQUIRE_POSTGRES=1) but {POSTGRES_URL} "
                f"is not reachable: {exc}"
            )
        return None
    return engine


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    """An autocommit connection to the PostgreSQL server, to create and drop databases."""
    admin = _postgres_admin()
    if admin is None:
        pytest.skip(f"no PostgreSQL reachable at {POSTGRES_URL}")
    yield admin
    admin.dispose()


def fresh_postgres(admin: Engine) -> str:
    """A new empty database on the test server; its URL."""
    name = f"dsom_test_{os.getpid()}_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def drop_postgres(admin: Engine, url: str) -> None:
    """Drop a database made by fresh_postgres."""
    name = make_url(url).database
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """A migrated database of each kind, for the whole session."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "dsom.db"
        url = f"sqlite:///{path}"
        engine = make_engine(url)
        upgrade(engine)
        yield Database("sqlite", url, engine)
        engine.dispose()
        return
    admin = request.getfixturevalue("postgres_admin")
    url = fresh_postgres(admin)
    engine = make_engine(url)
    upgrade(engine)
    yield Database("postgres", url, engine)
    engine.dispose()
    drop_postgres(admin, url)


@pytest.fixture
def db(database: Database) -> Engine:
    """The session's database, emptied for this test."""
    with database.engine.begin() as conn:
        reset(conn)
    return database.engine


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A real DSOM HTTP server in this process, on a loopback port."""

    base_url: str
    engine: Engine
    app: FastAPI

    def reload(self) -> None:
        """Make the server read its in-memory state again (the database was emptied)."""
        state = self.app.state
        asyncio.run_coroutine_threadsafe(state.ingest.reload(), state.loop).result(60)
        state.keys._known.clear()


@contextmanager
def serving(
    settings: Settings, engine: Engine, log_level: str = "warning"
) -> Iterator[tuple[FastAPI, str]]:
    """DSOM on `engine`, served by uvicorn in a thread on a loopback port: (app, base URL)."""
    port = _free_port()
    app = create_app(settings, engine=engine)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level=log_level, lifespan="on", access_log=False
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield app, f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(10)


@pytest.fixture(scope="session")
def server(database: Database) -> Iterator[Server]:
    """uvicorn serving DSOM on the session's database. Every test logs in from 127.0.0.1,
    so the per-address login limit is off here; tests/people/test_login.py sets it."""
    settings = Settings(database_url=database.url, login_challenges_per_minute=0)
    with serving(settings, database.engine) as (app, base_url):
        yield Server(base_url, database.engine, app)


@pytest.fixture
def http(server: Server, db: Engine) -> Iterator[httpx.Client]:
    """An HTTP client of the test server, on an emptied database."""
    server.reload()
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        yield client


def token_for(engine: Engine, role: str) -> dict[str, str]:
    """Authorization headers of a new official's token of `role`."""
    with engine.begin() as conn:
        issued = create_token(conn, role=role, name=f"test {role}")
    return {"Authorization": f"Bearer {issued.token}"}


@pytest.fixture
def regulator(db: Engine) -> dict[str, str]:
    """Headers of a regulator official's token."""
    return token_for(db, "regulator")


@pytest.fixture
def tax(db: Engine) -> dict[str, str]:
    """Headers of a tax official's token."""
    return token_for(db, "tax")


REPO_ROOT = Path(__file__).resolve().parent.parent

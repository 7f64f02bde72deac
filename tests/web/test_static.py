"""Static files: the built front-end assets are served at /static/vendor/."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import dsom.web
from dsom.kit.db import make_engine
from dsom.kit.migrate import upgrade
from dsom.kit.settings import Settings
from dsom.web import VENDOR_ASSETS, missing_assets
from tests.conftest import serving


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite database (static files need none, but the app does)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('static') / 'dsom.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture
def client(sqlite_url: str) -> Iterator[httpx.Client]:
    """An HTTP client of a DSOM server."""
    engine = make_engine(sqlite_url)
    with (
        serving(Settings(database_url=sqlite_url), engine) as (_app, base_url),
        httpx.Client(base_url=base_url, timeout=30) as http,
    ):
        yield http
    engine.dispose()


@pytest.mark.parametrize("name", VENDOR_ASSETS)
def test_built_assets_are_served_as_javascript(client: httpx.Client, name: str) -> None:
    if missing_assets():
        pytest.fail(f"front-end assets not built ({missing_assets()}): run `make install`")

    answer = client.get(f"/static/vendor/{name}")

    assert answer.status_code == 200
    assert answer.headers["content-type"].split(";")[0] in {
        "text/javascript",
        "application/javascript",
    }
    assert len(answer.content) > 10_000


def test_unknown_static_file_is_the_usual_404(client: httpx.Client) -> None:
    answer = client.get("/static/vendor/nothing-here.js")

    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


def test_server_starts_without_built_assets_and_says_so(
    sqlite_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(dsom.web, "STATIC_DIR", tmp_path)
    engine = make_engine(sqlite_url)
    with (
        caplog.at_level(logging.WARNING, logger="dsom.web"),
        serving(Settings(database_url=sqlite_url), engine) as (_app, base_url),
    ):
        health = httpx.get(f"{base_url}/healthz")
        asset = httpx.get(f"{base_url}/static/vendor/qes.js")
    engine.dispose()

    assert health.status_code == 200
    assert asset.status_code == 404
    assert "front-end assets not built" in caplog.text
    assert "make install" in caplog.text

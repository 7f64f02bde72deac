"""Browser tests: Debian's Chromium driven by Playwright, against a real DSOM server.

The browser is /usr/bin/chromium (or DSOM_CHROMIUM); Playwright's own browser builds
are never downloaded. Without Chromium or Playwright these tests are skipped, unless
DSOM_REQUIRE_BROWSER=1 (CI), where that is a failure. Pages must log no console error:
the `console_errors` fixture collects them for the test to assert on.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from dsom.kit.db import make_engine
from dsom.kit.migrate import upgrade
from dsom.kit.settings import Settings
from dsom.web import STATIC_DIR, missing_assets
from tests.conftest import serving

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path(os.environ.get("DSOM_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update"]
REQUIRE_BROWSER = os.environ.get("DSOM_REQUIRE_BROWSER") == "1"
SCREENSHOTS = Path(os.environ.get("DSOM_SCREENSHOTS", "/tmp/dsom-screenshots"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of this folder `browser`."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)


def _unavailable(reason: str) -> None:
    if REQUIRE_BROWSER:
        pytest.fail(f"a browser is required (DSOM_REQUIRE_BROWSER=1) but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium for the whole session."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed (pip install -e '.[test]')")
    if not CHROMIUM.is_file():
        _unavailable(f"there is no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def console_errors() -> list[str]:
    """The console errors and uncaught exceptions of this test's page."""
    return []


@pytest.fixture
def page(browser: Browser, console_errors: list[str]) -> Iterator[Page]:
    """A fresh page (own cookies and storage) whose console errors are collected."""
    context = browser.new_context(locale="uk-UA", viewport={"width": 1280, "height": 900})
    tab = context.new_page()

    def on_console(message: Any) -> None:
        if message.type == "error":
            console_errors.append(f"console: {message.text}")

    tab.on("console", on_console)
    tab.on("pageerror", lambda error: console_errors.append(f"page error: {error}"))
    yield tab
    context.close()


@pytest.fixture(scope="session")
def built_assets() -> Path:
    """The built front-end assets (make install builds them)."""
    missing = missing_assets()
    if missing:
        pytest.fail(
            f"front-end assets not built ({', '.join(missing)}): run `make install` (needs npm)"
        )
    return STATIC_DIR / "vendor"


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory, built_assets: Path) -> Iterator[str]:
    """The base URL of a DSOM server on a fresh SQLite database."""
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'dsom.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with serving(Settings(database_url=url), engine) as (_app, base_url):
        yield base_url
    engine.dispose()


def screenshot(page: Page, name: str) -> Path:
    """Save the page as SCREENSHOTS/<name>.png, to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path

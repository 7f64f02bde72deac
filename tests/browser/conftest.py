"""Browser tests: Debian's Chromium driven by Playwright, against a real DSOM server.

The browser is /usr/bin/chromium (or DSOM_CHROMIUM); Playwright's own browser builds
are never downloaded. Without Chromium or Playwright these tests are skipped, unless
DSOM_REQUIRE_BROWSER=1 (CI), where that is a failure. Pages must log no console error:
the `console_errors` fixture collects them for the test to assert on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Engine

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


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Headless Chromium for the browser tests. Package-scoped: Playwright's sync API keeps
    an event loop running in this thread while it is open, and `asyncio.run` in the tests
    that follow would refuse to start."""
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


@dataclass
class DemoSite:
    """A DSOM server on a database seeded by `dsom seed-demo`, with its demo people."""

    base_url: str
    engine: Engine
    keys_file: Path
    keys: dict[str, Any]

    def person(self, role: str, index: int = 0) -> dict[str, Any]:
        """The `index`-th demo person of `role` (keys file "people")."""
        return [p for p in self.keys["people"] if p["role"] == role][index]

    def key_file(self, person: dict[str, Any]) -> Path:
        """The path of a demo person's PKCS#12 key file."""
        return self.keys_file.parent / person["key_file"]


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory: pytest.TempPathFactory, built_assets: Path) -> Iterator[DemoSite]:
    """`dsom seed-demo` (its demo CA, key files and people) served on a fresh SQLite file.

    Session-wide: tests that change things use their own entries (or organizers)."""
    folder = tmp_path_factory.mktemp("demo-site")
    url = f"sqlite:///{folder / 'dsom.db'}"
    keys_file = folder / "var" / "keys.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DSOM_")}
    env["DSOM_DATABASE_URL"] = url
    seeded = subprocess.run(
        [str(Path(sys.executable).parent / "dsom"), "seed-demo", "--keys-out", str(keys_file)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert seeded.returncode == 0, seeded.stderr
    engine = make_engine(url)
    settings = Settings(database_url=url, keys_out=keys_file)
    with serving(settings, engine) as (_app, base_url):
        keys = json.loads(keys_file.read_text(encoding="utf-8"))
        yield DemoSite(base_url, engine, keys_file, keys)
    engine.dispose()


def log_in(page: Page, site: DemoSite, person: dict[str, Any], *, lang: str = "en") -> None:
    """Log `person` in through the login page, with their demo key file, as a user would."""
    page.goto(f"{site.base_url}/login?lang={lang}")
    page.set_input_files("#key-file", str(site.key_file(person)))
    page.fill("#key-password", "demo")
    page.click("#qes-login button[type=submit]")
    page.wait_for_url(f"{site.base_url}/office**", timeout=20_000)

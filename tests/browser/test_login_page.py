"""The login page: a person logs in with their key file, in the browser, for each role."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import DemoSite, log_in, screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROLES = ["regulator_admin", "regulator", "tax", "organizer_head", "organizer_representative"]


@pytest.mark.parametrize("role", ROLES)
def test_each_demo_role_logs_in_with_its_key_file(
    page: Page, demo_site: DemoSite, console_errors: list[str], role: str
) -> None:
    person = demo_site.person(role)
    log_in(page, demo_site, person)
    assert page.locator("h1").inner_text().startswith("Welcome")
    header = page.locator("header.top").inner_text()
    assert person["name"] in header
    if person["edrpou"]:
        assert person["edrpou"] in header
    screenshot(page, f"home-{role}")
    assert console_errors == []


def test_a_wrong_password_is_explained_and_nothing_is_sent(
    page: Page, demo_site: DemoSite, console_errors: list[str]
) -> None:
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if "/api/v1/auth/" in r.url else None)
    page.goto(f"{demo_site.base_url}/login?lang=en")
    page.set_input_files("#key-file", str(demo_site.key_file(demo_site.person("regulator"))))
    page.fill("#key-password", "not-the-password")
    page.click("#qes-login button[type=submit]")
    status = page.locator("#login-status")
    status.filter(has_text="Wrong password").wait_for(timeout=15_000)
    assert sent == []  # no challenge asked, no signature sent
    assert page.url.endswith("/login?lang=en")
    screenshot(page, "login-wrong-password")
    assert console_errors == []


def test_pages_send_a_stranger_to_the_login_and_back_after_it(
    page: Page, demo_site: DemoSite
) -> None:
    page.goto(f"{demo_site.base_url}/office?lang=en")
    assert "/login?next=" in page.url
    page.set_input_files("#key-file", str(demo_site.key_file(demo_site.person("tax"))))
    page.fill("#key-password", "demo")
    page.click("#qes-login button[type=submit]")
    page.wait_for_url(f"{demo_site.base_url}/office?lang=en", timeout=20_000)


def test_logging_out_ends_the_session(page: Page, demo_site: DemoSite) -> None:
    log_in(page, demo_site, demo_site.person("regulator"))
    page.click("header.top button:has-text('Log out')")
    page.wait_for_url("**/login?bye=1", timeout=10_000)
    assert page.locator(".notice").inner_text() == "You were logged out."
    page.goto(f"{demo_site.base_url}/office")
    assert "/login" in page.url


def test_the_pages_speak_ukrainian_by_default_and_english_on_request(
    page: Page, demo_site: DemoSite
) -> None:
    page.goto(f"{demo_site.base_url}/login")
    assert page.locator("h1").inner_text() == "Вхід за кваліфікованим електронним підписом"
    page.click("header.top a.lang[hreflang=en]")
    assert page.locator("h1").inner_text() == "Log in with your qualified electronic signature"
    page.goto(f"{demo_site.base_url}/login")  # the choice is remembered
    assert page.locator("html").get_attribute("lang") == "en"

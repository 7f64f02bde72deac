"""The organizer's office and the administration, in a browser, on the demo site: a head
registers their organizer at first login, adds a representative, creates a key (copies
its secret) and deactivates it; the administrator adds a tax official; the audit log
shows it all. Every page is photographed (empty and error states too) to be looked at."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlalchemy import delete, select

from dsom.auth.models import access_keys
from dsom.kit.codes import make_rnokpp
from dsom.people.models import organizer_registrations
from tests.browser.conftest import DemoSite, log_in, screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Page

NEW_REPRESENTATIVE = make_rnokpp(480_000_017)
NEW_TAX_OFFICIAL = make_rnokpp(180_000_023)


def _pending_head(site: DemoSite) -> dict[str, Any]:
    """The demo head whose organizer is pending: nobody registered it with DSOM yet."""
    pending = {o["code"] for o in site.keys["organizers"] if o["status"] == "pending"}
    return next(
        p for p in site.keys["people"] if p["role"] == "organizer_head" and p["edrpou"] in pending
    )


def _wrong_check_digit(rnokpp: str) -> str:
    return rnokpp[:9] + str((int(rnokpp[9]) + 1) % 10)


def test_a_head_registers_manages_people_and_keys_and_the_admin_sees_it_in_the_audit_log(
    page: Page, demo_site: DemoSite, console_errors: list[str]
) -> None:
    head = _pending_head(demo_site)
    organizer = head["edrpou"]
    with demo_site.engine.begin() as conn:  # an organizer that has no access key yet
        conn.execute(delete(access_keys).where(access_keys.c.organizer == organizer))
        registered = select(organizer_registrations).where(
            organizer_registrations.c.organizer == organizer
        )
        assert conn.execute(registered).first() is None

    # First login: the head registers the organizer with DSOM.
    log_in(page, demo_site, head)
    with demo_site.engine.connect() as conn:
        assert conn.execute(registered).first() is not None
    assert "has not sent any data" in page.locator(".glance").inner_text()
    screenshot(page, "organizer-home-first-login")

    # Representatives: none yet; a wrong RNOKPP is explained; then one is added.
    page.click("nav.side >> text=Representatives")
    page.wait_for_url("**/office/representatives")
    assert "You have not added any representatives yet" in page.inner_text("main")
    screenshot(page, "representatives-empty")
    page.fill("#rep-rnokpp", _wrong_check_digit(NEW_REPRESENTATIVE))
    page.fill("#rep-name", "Литвиненко Марія Іванівна")
    page.click("#representatives form.panel button[type=submit]")
    page.locator("#rep-rnokpp-error").wait_for()
    assert "does not match" in page.inner_text("#rep-rnokpp-error")
    assert page.input_value("#rep-name") == "Литвиненко Марія Іванівна"
    screenshot(page, "representatives-invalid-rnokpp")
    page.fill("#rep-rnokpp", NEW_REPRESENTATIVE)
    page.check("#representatives form.panel >> text=Manage access keys")
    page.check("#representatives form.panel >> text=See our reports")
    page.click("#representatives form.panel button[type=submit]")
    page.locator(".flash.ok").wait_for()
    row = page.locator("tr", has_text=NEW_REPRESENTATIVE)
    assert row.locator("input[value='keys:manage']").is_checked()
    assert row.locator("input[value='reports:own']").is_checked()
    screenshot(page, "representatives-added")
    # Revoke one right.
    row.locator("input[value='reports:own']").uncheck()
    assert row.locator(".unsaved").is_visible()  # the page says the change is not saved yet
    screenshot(page, "representatives-unsaved-change")
    row.locator("text=Save rights").click()
    page.locator(".flash.ok", has_text="rights").wait_for()
    row = page.locator("tr", has_text=NEW_REPRESENTATIVE)
    assert not row.locator("input[value='reports:own']").is_checked()
    assert row.locator("input[value='keys:manage']").is_checked()

    # Access keys: none yet; create one, copy its secret, deactivate it.
    page.click("nav.side >> text=Access keys")
    page.wait_for_url("**/office/keys")
    assert "has no access keys yet" in page.inner_text("main")
    screenshot(page, "keys-empty")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.fill("#key-name", "Online casino, production")
    page.click("#keys form.panel button[type=submit]")
    secret = page.locator("#new-key-secret").inner_text()
    assert secret.startswith("dsomk_")
    assert "will not be shown again" in page.inner_text(".new-key")
    page.click("button[data-copy='#new-key-secret']")
    page.locator("button[data-copy]", has_text="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    screenshot(page, "keys-created-secret-shown-once")
    page.reload()
    assert secret not in page.content()
    assert "Online casino, production" in page.inner_text("#keys table")
    screenshot(page, "keys-list")
    asked: list[str] = []

    def accept(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.locator("tr", has_text="Online casino, production").locator("text=Deactivate").click()
    page.locator(".flash.ok", has_text="deactivated").wait_for()
    assert "cannot be undone" in asked[0]
    assert (
        page.locator("tr", has_text="Online casino, production")
        .locator(".badge.inactive")
        .is_visible()
    )
    screenshot(page, "keys-deactivated")

    # Data submission: nothing sent yet, and the organizer is still pending.
    page.click("nav.side >> text=Data submission")
    page.wait_for_url("**/office/submission")
    main = page.inner_text("main")
    assert "has not sent any data to DSOM yet" in main
    assert "not yet active in the organizers register" in main
    screenshot(page, "submission-never-sent-pending")
    assert console_errors == []

    # The administrator adds a tax official…
    page.context.clear_cookies()
    log_in(page, demo_site, demo_site.person("regulator_admin"))
    page.click("nav.side >> text=Officials")
    page.wait_for_url("**/office/officials")
    screenshot(page, "officials")
    page.fill("#off-rnokpp", _wrong_check_digit(NEW_TAX_OFFICIAL))
    page.click("#officials form.panel button[type=submit]")
    page.locator("#off-rnokpp-error").wait_for()
    screenshot(page, "officials-invalid")
    page.fill("#off-rnokpp", NEW_TAX_OFFICIAL)
    page.fill("#off-name", "Гнатюк Степан Миколайович")
    page.check("#officials input[name=role][value=tax]")
    page.click("#officials form.panel button[type=submit]")
    page.locator(".flash.ok").wait_for()
    assert "Гнатюк Степан Миколайович" in page.inner_text("#officials table")
    screenshot(page, "officials-added")

    # …and the audit log shows every one of those changes.
    page.click("nav.side >> text=Audit log")
    page.wait_for_url("**/office/audit")
    log = page.inner_text("table.audit")
    for action in (
        "Official added",
        "Access key deactivated",
        "Access key created",
        "Representative's rights changed",
        "Representative added",
        "Organizer registered with DSOM",
    ):
        assert action in log, action
    screenshot(page, "audit-log")
    page.fill("#f-organizer", organizer)
    page.select_option("#f-action", "key.created")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/office/audit?*")
    rows = page.locator("table.audit tbody tr")
    assert rows.count() == 1
    assert "Online casino, production" in rows.inner_text()
    screenshot(page, "audit-log-filtered")
    page.goto(f"{demo_site.base_url}/office/audit?who=nobody-at-all")
    assert "No entry matches these filters." in page.inner_text("main")
    screenshot(page, "audit-log-no-match")
    assert console_errors == []


def _send_demo_traffic(site: DemoSite, code: str) -> None:
    """A few operations of a demo organizer through the API: most accepted, some rejected."""
    org = next(o for o in site.keys["organizers"] if o["code"] == code)
    licence = next(
        lic
        for lic in org["licenses"]
        if lic["status"] == "active" and any(c["status"] == "active" for c in lic["channels"])
    )
    channel = next(c for c in licence["channels"] if c["status"] == "active")
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    stamp = datetime.now(UTC).strftime("%H%M%S%f")

    def bet(n: int, **over: Any) -> dict[str, Any]:
        return {
            "operation_id": f"shot-{stamp}-{n}",
            "type": "bet",
            "occurred_at": now,
            "license": licence["number"],
            "player_id": f"player-{n % 3}",
            "amount": 2500 + n,
            "currency": "UAH",
            "game_type": licence["activity"],
            "channel": {"kind": channel["kind"], "id": channel["id"]},
            **over,
        }

    operations = [bet(n) for n in range(12)]
    operations += [bet(20, license="NO-SUCH-LICENCE"), bet(21, currency="EUR"), bet(22, amount=0)]
    operations += [bet(23, occurred_at="2020-01-01T00:00:00Z")]
    answer = httpx.post(
        f"{site.base_url}/api/v1/operations",
        json={"operations": operations},
        headers={"Authorization": f"Bearer {org['api_key']}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["rejected"] >= 4


def test_the_submission_page_and_the_home_box_show_what_arrived(
    page: Page, demo_site: DemoSite, console_errors: list[str]
) -> None:
    head = demo_site.person("organizer_head", 1)
    _send_demo_traffic(demo_site, head["edrpou"])
    log_in(page, demo_site, head)
    page.reload()  # the rollups are written within a moment of the answer
    glance = page.locator(".glance").inner_text()
    assert "Rejected today" in glance
    screenshot(page, "organizer-home-with-data")
    page.click(".glance a")
    page.wait_for_url("**/office/submission")
    main = page.inner_text("main")
    assert "Last request received" in main
    assert "unknown_license" in main
    assert "Your organizer has no licence with that number." in main
    screenshot(page, "submission-with-data")
    page.goto(f"{demo_site.base_url}/office/submission?lang=uk")
    assert "Відхилені операції за останні 7 днів" in page.inner_text("main")
    screenshot(page, "submission-with-data-uk")
    assert console_errors == []


@pytest.mark.parametrize(
    ("role", "index"),
    [("regulator", 0), ("tax", 0), ("organizer_head", 1), ("organizer_representative", 2)],
)
def test_the_reports_page_says_what_each_role_will_see(
    page: Page, demo_site: DemoSite, console_errors: list[str], role: str, index: int
) -> None:
    log_in(page, demo_site, demo_site.person(role, index))
    page.goto(f"{demo_site.base_url}/office/reports")
    assert page.locator("h1").inner_text() == "Reports"
    assert page.locator(".report-list a").count() >= 5  # tests/browser/test_reports_pages.py
    screenshot(page, f"reports-{role}")
    assert console_errors == []


def test_pages_outside_a_persons_role_are_refused_plainly(page: Page, demo_site: DemoSite) -> None:
    log_in(page, demo_site, demo_site.person("tax"))
    for path in ("/office/officials", "/office/keys", "/office/audit"):
        answer = page.goto(f"{demo_site.base_url}{path}")
        assert answer is not None
        assert answer.status == 403
        assert page.locator("h1").inner_text() == "Access denied"
    screenshot(page, "error-403-tax-on-audit")
    page.goto(f"{demo_site.base_url}/office/audit?lang=uk")
    screenshot(page, "error-403-tax-on-audit-uk")


def test_the_office_pages_speak_ukrainian(page: Page, demo_site: DemoSite) -> None:
    log_in(page, demo_site, demo_site.person("organizer_head", 1), lang="uk")
    for path, heading in (
        ("/office/representatives", "Представники"),
        ("/office/keys", "Ключі доступу"),
    ):
        page.goto(f"{demo_site.base_url}{path}")
        assert page.locator("h1").inner_text() == heading
        screenshot(page, f"uk-{path.rsplit('/', 1)[1]}")
    page.context.clear_cookies()
    log_in(page, demo_site, demo_site.person("regulator_admin"), lang="uk")
    for path in ("/office/audit", "/office/officials", "/office/reports"):
        page.goto(f"{demo_site.base_url}{path}")
        screenshot(page, f"uk-{path.rsplit('/', 1)[1]}")

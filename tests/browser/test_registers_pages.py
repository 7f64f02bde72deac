"""The registers' pages in a browser: a regulator keeps the registers (edit with a reason,
status changes, import), a tax official only reads, an organizer's head sees its own."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.browser.conftest import DemoSite, log_in, screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Page


def _organizer(site: DemoSite, status: str, index: int = 0) -> dict[str, Any]:
    """The `index`-th demo organizer of `status` with no demo people (tests change these)."""
    with_people = {p["edrpou"] for p in site.keys["people"] if p["edrpou"]}
    found = [
        o for o in site.keys["organizers"] if o["status"] == status and o["code"] not in with_people
    ]
    return found[index]


def test_regulator_edits_a_licence_with_a_reason_and_sees_it_in_the_history(
    page: Page, demo_site: DemoSite, console_errors: list[str]
) -> None:
    organizer = _organizer(demo_site, "active", 0)
    number = organizer["licenses"][0]["number"]
    log_in(page, demo_site, demo_site.person("regulator"))

    page.click("nav.side >> text=Registers")
    page.wait_for_url("**/office/registers")
    screenshot(page, "registers-index-regulator")
    page.click("table.registers >> text=Licences")
    page.wait_for_url("**/office/registers/licences")
    screenshot(page, "registers-list-licences")

    page.fill("#f-q", number)
    page.click("form.filters button[type=submit]")
    page.click(f"td.key >> text={number}")
    page.wait_for_url(f"**/office/registers/licences/{number}")
    screenshot(page, "registers-entry-licence")

    page.click(".actions >> text=Edit")
    page.wait_for_url("**/edit")
    page.fill("#f-decision", "Рішення № 99 від 2026-11-20")
    page.click("#entry-form button[type=submit]")  # no grounds: refused, beside the field
    page.locator("#grounds-reason-error").wait_for()
    assert "decision number or a reason" in page.locator("#grounds-reason-error").inner_text()
    assert page.locator("#f-decision").input_value() == "Рішення № 99 від 2026-11-20"
    screenshot(page, "registers-edit-licence-without-reason")

    page.fill("#f-valid_to", "1999-01-01")
    page.fill("#grounds-reason", "Уточнено реквізити рішення")
    page.click("#entry-form button[type=submit]")
    page.locator("#e-valid_to").wait_for()
    screenshot(page, "registers-edit-licence-bad-date")

    page.fill("#f-valid_to", organizer["licenses"][0]["valid_to"])
    page.click("#entry-form button[type=submit]")
    page.wait_for_url(f"**/office/registers/licences/{number}?done=updated")
    assert "saved" in page.locator(".flash.ok").inner_text()
    history = page.locator("table.history tbody tr").first.inner_text()
    assert "Уточнено реквізити рішення" in history
    assert "Рішення № 99 від 2026-11-20" in history
    assert demo_site.person("regulator")["name"] in history
    screenshot(page, "registers-entry-licence-history")

    # As of the first version: the old decision.
    page.locator("table.history tbody tr").last.locator("a").first.click()
    page.wait_for_url("**as_of=**")
    assert "Рішення № 99" not in page.locator("dl.entry").inner_text()
    screenshot(page, "registers-entry-licence-as-of")
    assert console_errors == []


def test_regulator_suspends_and_reactivates_an_organizer(
    page: Page, demo_site: DemoSite, console_errors: list[str]
) -> None:
    code = _organizer(demo_site, "active", 1)["code"]
    log_in(page, demo_site, demo_site.person("regulator"))
    page.goto(f"{demo_site.base_url}/office/registers/organizers/{code}?lang=en")
    panel = page.locator("#status-panel")
    assert "Activate or suspend the organizer" in panel.inner_text()
    screenshot(page, "registers-entry-organizer")

    panel.locator("summary:has-text('Suspend')").click()
    panel.locator("button[type=submit]:has-text('Suspend')").click()  # no grounds yet
    page.locator("#status-panel .field-error").wait_for()
    screenshot(page, "registers-status-without-reason")
    page.locator("#status-panel textarea[name=grounds_reason]").fill("Порушення умов ліцензування")
    page.locator("#status-panel button[type=submit]:has-text('Suspend')").click()
    page.wait_for_url("**?done=status")
    assert page.locator("h1 .badge").inner_text() == "Suspended"
    screenshot(page, "registers-organizer-suspended")

    panel = page.locator("#status-panel")
    assert panel.locator("summary").all_inner_texts() == ["Activate"]  # the one allowed
    panel.locator("summary:has-text('Activate')").click()
    panel.locator("input[name=grounds_decision]").fill("Рішення № 12")
    with page.expect_navigation():
        panel.locator("button[type=submit]:has-text('Activate')").click()
    assert page.locator("h1 .badge").inner_text() == "Active"
    rows = page.locator("table.history tbody tr")
    assert "Status changed" in rows.nth(0).inner_text()
    assert "Рішення № 12" in rows.nth(0).inner_text()
    assert "Порушення умов ліцензування" in rows.nth(1).inner_text()
    assert console_errors == []


def test_regulator_creates_a_website_choosing_from_the_organizers_licences(
    page: Page, demo_site: DemoSite, console_errors: list[str]
) -> None:
    organizer = _organizer(demo_site, "active", 2)
    online = [lic for lic in organizer["licenses"] if lic["activity"] != "slot_hall"]
    log_in(page, demo_site, demo_site.person("regulator"))
    page.goto(f"{demo_site.base_url}/office/registers/websites/new?lang=en")
    assert page.locator("#f-licence").is_disabled()
    screenshot(page, "registers-create-website")
    page.select_option("#f-organizer", organizer["code"])
    page.wait_for_function("!document.querySelector('#f-licence').disabled")
    page.fill("#f-domain", "Not A Domain")
    page.click("#entry-form button[type=submit]")
    page.locator("#e-domain").wait_for()
    screenshot(page, "registers-create-website-errors")
    assert page.locator("#f-organizer").input_value() == organizer["code"]
    assert page.locator("#e-licence").inner_text() == "is required"

    page.select_option("#f-licence", online[0]["number"])
    page.fill("#f-domain", "new-site-in-browser.com.ua")
    page.fill("#grounds-reason", "Заява організатора")
    page.click("#entry-form button[type=submit]")
    page.wait_for_url("**?done=created")
    assert "new-site-in-browser.com.ua" in page.locator("dl.entry").inner_text()
    assert console_errors == []


def test_regulator_imports_a_file_all_or_nothing(
    page: Page, demo_site: DemoSite, console_errors: list[str], tmp_path: Path
) -> None:
    organizer = _organizer(demo_site, "active", 3)
    licence = next(lic for lic in organizer["licenses"] if lic["activity"] != "slot_hall")
    code, number = organizer["code"], licence["number"]
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "organizer,licence,domain\n"
        f"{code},{number},imported-one.com.ua\n"
        f"{code},NO-SUCH-LICENCE,imported-two.com.ua\n"
        f"{code},{number},Bad Domain\n",
        encoding="utf-8",
    )
    good = tmp_path / "good.csv"
    good.write_text(
        f"organizer,licence,domain\n{code},{number},imported-one.com.ua\n", encoding="utf-8"
    )
    log_in(page, demo_site, demo_site.person("regulator"), lang="uk")
    page.goto(f"{demo_site.base_url}/office/registers/websites/import")
    page.click("details.columns summary")
    screenshot(page, "registers-import-form")

    page.set_input_files("#import-file", str(bad))
    page.fill("#import-grounds-reason", "Перенесення з паперового реєстру")
    page.click("#import button[type=submit]")
    page.locator("table.import-errors").wait_for()
    lines = page.locator("table.import-errors tbody tr td.num").all_inner_texts()
    assert lines == ["3", "4"]
    screenshot(page, "registers-import-failed")

    page.set_input_files("#import-file", str(good))
    page.fill("#import-grounds-reason", "Перенесення з паперового реєстру")
    page.click("#import button[type=submit]")
    page.locator("#import .flash.ok").wait_for()
    assert "Нових записів: 1" in page.locator("#import .flash.ok").inner_text()
    screenshot(page, "registers-import-done")
    assert console_errors == []


def test_search_across_registers_groups_what_it_finds(
    page: Page, demo_site: DemoSite, console_errors: list[str]
) -> None:
    log_in(page, demo_site, demo_site.person("regulator"), lang="uk")
    page.goto(f"{demo_site.base_url}/office/search?q=casino")
    assert page.locator("section.hits").count() >= 2
    screenshot(page, "registers-search")
    page.goto(f"{demo_site.base_url}/office/search?q=zzzz-nothing")
    assert page.locator(".notice").count() == 1
    screenshot(page, "registers-search-nothing")
    assert console_errors == []


def test_tax_official_reads_and_cannot_reach_a_regulator_page(
    page: Page, demo_site: DemoSite, console_errors: list[str]
) -> None:
    log_in(page, demo_site, demo_site.person("tax"))
    page.click("nav.side >> text=Registers")
    page.click("table.registers >> text=Gambling organizers")
    page.wait_for_url("**/office/registers/organizers")
    assert page.locator("text=New entry").count() == 0
    assert page.locator("text=Import from CSV").count() == 0
    screenshot(page, "registers-list-tax")
    page.locator("td.key a").first.click()
    assert page.locator("#status-panel").count() == 0
    assert page.locator(".actions >> text=Edit").count() == 0
    screenshot(page, "registers-entry-tax")
    page.goto(f"{demo_site.base_url}/office/registers/equipment")
    screenshot(page, "registers-list-equipment-tax")

    answer = page.goto(f"{demo_site.base_url}/office/registers/licences/new")
    assert answer is not None
    assert answer.status == 403
    assert page.locator("h1").inner_text() == "Access denied"
    screenshot(page, "registers-tax-create-denied")


def test_organizer_head_sees_only_its_own_entries(
    page: Page, demo_site: DemoSite, console_errors: list[str]
) -> None:
    head = demo_site.person("organizer_head")
    log_in(page, demo_site, head, lang="uk")
    page.goto(f"{demo_site.base_url}/office/registers")
    screenshot(page, "registers-index-head")
    page.goto(f"{demo_site.base_url}/office/registers/licences")
    organizers = set(page.locator("table.entries tbody td:nth-child(2) a").all_inner_texts())
    assert organizers == {head["edrpou"]}
    screenshot(page, "registers-list-head")
    assert console_errors == []
    other = next(o for o in demo_site.keys["organizers"] if o["code"] != head["edrpou"])
    answer = page.goto(
        f"{demo_site.base_url}/office/registers/licences/{other['licenses'][0]['number']}"
    )
    assert answer is not None
    assert answer.status == 404  # another organizer's licence: as if there were none


def test_an_empty_form_is_explained_field_by_field_in_ukrainian(
    page: Page, demo_site: DemoSite, console_errors: list[str]
) -> None:
    log_in(page, demo_site, demo_site.person("regulator", 1), lang="uk")
    page.goto(f"{demo_site.base_url}/office/registers/licences/new")
    page.fill("#f-valid_from", "2026-02-30")
    page.click("#entry-form button[type=submit]")
    page.locator("#e-number").wait_for()
    assert page.locator("#e-number").inner_text() == "обов'язкове поле"
    assert "має бути датою у форматі РРРР-ММ-ДД" in page.locator("#e-valid_from").inner_text()
    assert page.locator("#f-valid_from").input_value() == "2026-02-30"
    screenshot(page, "registers-create-licence-errors-uk")
    assert console_errors == []

"""The reports' pages and the home dashboards in a browser: each role opens its dashboard
and a report with a chart, changes a filter (htmx, no reload), and downloads the report;
the regulator opens every report. Demo organizers send operations first, so the charts
have something to draw. Screenshots of every page go to DSOM_SCREENSHOTS."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

from dsom.ingest.traffic import Traffic
from dsom.reports.declarations import REPORT_LIST
from tests.browser.conftest import DemoSite, log_in, screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROLES = {  # role: (demo person index, a report of the role with a chart, its group)
    "regulator": (0, "market-volumes"),
    "tax": (0, "winnings-tax"),
    "organizer_head": (0, "ggr"),
}


@pytest.fixture(scope="module")
def traffic(demo_site: DemoSite) -> dict[str, int]:
    """A few hundred operations from a dozen demo organizers (among them every organizer
    with demo people): {organizer: operations accepted}."""
    plan = Traffic(demo_site.keys, seed=11, run_id="browser-reports")
    people = {p["edrpou"] for p in demo_site.keys["people"] if p["edrpou"]}
    codes = [c for c in plan.organizers if c in people] + plan.organizers[:12]
    accepted: dict[str, int] = {}
    with httpx.Client(base_url=demo_site.base_url, timeout=30) as http:
        for code in dict.fromkeys(codes):
            for _ in range(3):
                answer = http.post(
                    "/api/v1/operations",
                    json={"operations": plan.next_batch(code, 60)},
                    headers={"Authorization": f"Bearer {plan.api_keys[code]}"},
                )
                assert answer.status_code == 200, answer.text
                accepted[code] = accepted.get(code, 0) + answer.json()["accepted"]
            # and a few it gets wrong, for the rejections
            wrong = plan.next_batch(code, 4)
            for n, op in enumerate(wrong):
                op["license" if n % 2 else "currency"] = "NO-SUCH-LICENCE" if n % 2 else "EUR"
            http.post(
                "/api/v1/operations",
                json={"operations": wrong},
                headers={"Authorization": f"Bearer {plan.api_keys[code]}"},
            )
    assert sum(accepted.values()) > 1000
    return accepted


def _chart_drawn(page: Page, where: str) -> None:
    """The ECharts container under `where` holds a drawing."""
    page.locator(f"{where} .chart svg").first.wait_for(timeout=10_000)
    assert page.locator(f"{where} .chart svg path").count() > 0
    page.wait_for_timeout(700)  # the chart's animation, before a screenshot


@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_opens_its_dashboard_and_a_report_and_downloads_it(
    page: Page,
    demo_site: DemoSite,
    console_errors: list[str],
    traffic: dict[str, int],
    role: str,
    tmp_path: Any,
) -> None:
    index, report = ROLES[role]
    person = demo_site.person(role, index)
    if role == "organizer_head":
        assert person["edrpou"] in traffic
    log_in(page, demo_site, person, lang="uk")

    # the dashboard: figures, and a chart of GGR (the tax service: of the tax)
    page.locator("#dashboard .tile").first.wait_for()
    _chart_drawn(page, ".dashboard-chart")
    tiles = page.locator("#dashboard .tile").count()
    assert tiles >= 4
    screenshot(page, f"dashboard-{role}")
    # the figures come again by themselves, without a reload
    page.evaluate("window.stillHere = true")
    with page.expect_response("**/office/dashboard", timeout=15_000):
        pass
    page.locator("#dashboard .tile").first.wait_for()
    assert page.evaluate("window.stillHere") is True

    # the list of reports, then one report
    page.click("nav.side a[href='/office/reports']")
    page.wait_for_url("**/office/reports")
    screenshot(page, f"reports-list-{role}")
    page.click(f"a[href='/office/reports/{report}']")
    page.wait_for_url(f"**/office/reports/{report}")
    _chart_drawn(page, "#results")
    assert page.locator("table.report tbody tr").count() > 0
    screenshot(page, f"report-{report}-{role}")

    # a filter changes the results in place and the address with them
    page.evaluate("window.stillHere = true")
    with page.expect_response(lambda r: f"/office/reports/{report}?" in r.url):
        page.select_option("#f-granularity", "hour")
    page.wait_for_url("**granularity=hour**")
    assert "=&" not in page.url  # the address names only the filters that are set
    _chart_drawn(page, "#results")
    assert page.evaluate("window.stillHere") is True
    csv_link = page.locator("a[data-export=csv]").get_attribute("href") or ""
    assert "granularity=hour" in csv_link
    screenshot(page, f"report-{report}-{role}-by-hour")
    # back: the page as it was, its chart drawn once
    page.go_back()
    page.wait_for_url(lambda url: "granularity=hour" not in url)
    _chart_drawn(page, "#results")
    assert page.locator("#results .chart svg").count() == 1
    page.go_forward()
    page.wait_for_url("**granularity=hour**")
    _chart_drawn(page, "#results")
    assert page.locator("#results .chart svg").count() == 1

    # downloads: what the page shows, as files
    for fmt, suffix in (("csv", ".csv"), ("xlsx", ".xlsx")):
        with page.expect_download() as download:
            page.click(f"a[data-export={fmt}]")
        got = download.value
        assert got.failure() is None
        assert got.suggested_filename.startswith(report)
        assert got.suggested_filename.endswith(suffix)
        saved = tmp_path / got.suggested_filename
        got.save_as(saved)
        content = saved.read_bytes()
        if fmt == "csv":
            rows = content.decode().splitlines()
            assert rows[0].startswith("period,")
            assert len(rows) > 1
        else:
            assert content[:2] == b"PK"  # a zip: the XLSX workbook
    assert console_errors == []


def test_the_regulator_opens_every_report(
    page: Page, demo_site: DemoSite, console_errors: list[str], traffic: dict[str, int]
) -> None:
    log_in(page, demo_site, demo_site.person("regulator"), lang="uk")
    for report in REPORT_LIST:
        page.goto(f"{demo_site.base_url}/office/reports/{report.id}")
        assert page.locator("h1").inner_text() == report.title_uk
        if report.chart is not None and page.locator(".notice.empty").count() == 0:
            _chart_drawn(page, "#results")
        screenshot(page, f"report-{report.id}")
    assert console_errors == []


def test_reports_speak_english_too(
    page: Page, demo_site: DemoSite, console_errors: list[str], traffic: dict[str, int]
) -> None:
    log_in(page, demo_site, demo_site.person("regulator"), lang="en")
    screenshot(page, "dashboard-regulator-en")
    page.goto(f"{demo_site.base_url}/office/reports/ggr?granularity=day")
    _chart_drawn(page, "#results")
    assert "Gross gaming revenue" in page.locator("h1").inner_text()
    assert "Stakes, UAH" in page.locator("table.report thead").inner_text()
    screenshot(page, "report-ggr-en")
    # after a filter change, the language switch keeps the filters
    with page.expect_response(lambda r: "/office/reports/ggr?" in r.url):
        page.select_option("#f-activity", "online_casino")
    page.wait_for_url("**activity=online_casino**")
    page.click("a.lang[hreflang=uk]")
    page.wait_for_url("**activity=online_casino**lang=uk")
    assert page.locator("#f-activity").input_value() == "online_casino"
    assert page.locator("h1").inner_text() == "Валовий ігровий дохід"
    assert console_errors == []


def test_a_report_outside_the_role_is_refused(
    page: Page, demo_site: DemoSite, console_errors: list[str]
) -> None:
    log_in(page, demo_site, demo_site.person("tax"), lang="en")
    answer = page.goto(f"{demo_site.base_url}/office/reports/system-status")
    assert answer is not None
    assert answer.status == 403
    assert page.locator("h1").inner_text() == "Access denied"
    screenshot(page, "report-403-tax-system-status")

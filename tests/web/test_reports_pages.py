"""The reports' pages and the home dashboards over HTTP, on both databases, logged in as
a browser would be: each role sees exactly its reports, an organizer only its own
figures, the tables say what the API's JSON says, the export links carry the filters,
and the dashboards show each role's figures."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import Engine

from dsom.auth.permissions import Role
from dsom.kit.time import today_kyiv
from dsom.people import repository as people_repo
from dsom.registers.declarations import LABELS
from dsom.reports.declarations import REPORTS, Kind
from dsom.web.charts import period_text
from dsom.web.formats import money
from tests.builders import Market, channel, make_market, refund, win, withdrawal
from tests.conftest import Server
from tests.people.helpers import make_person
from tests.web.offices import HTMX, Office, Offices, P, head_of, representative, text_of
from tests.web.offices import trusted_offices as _trusted_offices

ALL = set(REPORTS)
TAX = {"ggr", "payments", "winnings-tax", "market-volumes", "large-wins"}
OWN = {
    "submission-health",
    "rejections",
    "market-volumes",
    "player-activity",
    "ggr",
    "payments",
    "winnings-tax",
    "large-wins",
}
SEES = {
    "regulator": ALL,
    "regulator_admin": ALL,
    "tax": TAX,
    "head": OWN,
    "rep:reports": OWN,
    "rep:keys": set(),
}
REPORTS_API = "/api/v1/reports"


@pytest.fixture
def offices(server: Server, db: Engine, tmp_path: Path) -> Iterator[Offices]:
    """People log in to the test server (on an emptied database) with test certificates."""
    yield from _trusted_offices(server, tmp_path)


# --- what the organizers send ---------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """A market and the distinctive sums it sent (kopiyky), to look for on pages."""

    market: Market
    sums: tuple[int, ...]
    bets: int


def _send(office: Office, market: Market, cents: int) -> Sent:
    """Bets, a large win, a refund, a deposit, a withdrawal and a rejected bet, each sum
    ending in `cents` kopiyky, so that pages can be searched for them."""
    bets = [
        market.online_bet(amount=1_234_500 + cents, player_id="p-1"),
        market.online_bet(amount=2_000_000 + cents, player_id="p-2"),
        market.hall_bet(amount=70_000 + cents, player_id="p-3"),
    ]
    site = channel("website", market.website)
    others = [
        win(on=bets[0], amount=6_000_000 + cents),
        refund(on=bets[1]),
        market.online_deposit(amount=500_000 + cents),
        withdrawal(license=market.online, channel=site, amount=300_000 + cents),
        market.online_bet(license="NO-SUCH-LICENCE"),
    ]
    for batch in (bets, others):
        answer = office.client.post(
            "/api/v1/operations", json={"operations": batch}, headers=market.headers
        )
        assert answer.status_code == 200, answer.text
    sums = (1_234_500 + cents, 2_000_000 + cents, 6_000_000 + cents, 500_000 + cents)
    return Sent(market, sums, len(bets))


def _api(office: Office, report: str, **params: str) -> Any:
    answer = office.client.get(f"{REPORTS_API}/{report}", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _wait_for(office: Office, bets: int) -> None:
    """Until the reports count `bets` bets (the rollups follow within 2 seconds)."""
    deadline = time.monotonic() + 10
    while True:
        rows = _api(office, "market-volumes", granularity="month")["rows"]
        if sum(r[2] for r in rows) >= bets or time.monotonic() > deadline:
            return
        time.sleep(0.1)


@dataclass
class World:
    """Two organizers that sent operations, and people logged in to look at them."""

    a: Sent
    b: Sent
    regulator: Office
    head_a: Office


def _head_of(db: Engine, market: Market) -> people_repo.PersonRecord:
    with db.connect() as conn:
        entry = people_repo.organizer_entry(conn, market.organizer)
    assert entry is not None
    return head_of(db, dict(entry))


@pytest.fixture
def world(server: Server, db: Engine, offices: Offices) -> World:
    """Organizers A and B each sent a few operations (A's sums end in 11 kopiyky, B's in
    77); the regulator and A's head are logged in."""
    markets = [make_market(db), make_market(db)]
    server.reload()
    regulator = offices.log_in(make_person(db, role=Role.REGULATOR))
    a, b = (_send(regulator, m, c) for m, c in zip(markets, (11, 77), strict=True))
    _wait_for(regulator, a.bets + b.bets)
    return World(a, b, regulator, offices.log_in(_head_of(db, markets[0])))


# --- reading pages -------------------------------------------------------------------------


def _main(html: str) -> str:
    return html.split('<main id="main">', 1)[1].split("</main>", 1)[0]


def _report_links(html: str) -> set[str]:
    return set(re.findall(r'href="/office/reports/([a-z-]+)"', _main(html)))


def _table(html: str) -> list[list[str]]:
    """The report table's body rows, each cell as text."""
    body = html.split('<table class="report"', 1)[1].split("<tbody>", 1)[1]
    body = body.split("</tbody>", 1)[0]
    return [
        [text_of(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def _figures_list(html: str) -> list[str]:
    """A one-row report's values, as the page lists them."""
    body = html.split('<dl class="entry figures-list">', 1)[1].split("</dl>", 1)[0]
    return [text_of(v) for v in re.findall(r"<dd[^>]*>(.*?)</dd>", body, re.S)]


def _number(text: str, kind: Kind) -> Any:
    """A figure as the Ukrainian page writes it, read back: hryvnias to kopiyky."""
    if text == "—":
        return None
    plain = text.replace(" ", "").replace("\u202f", "").replace("%", "").replace("\u2212", "-")
    plain = plain.replace(",", ".")
    if kind is Kind.MONEY:
        return int(Decimal(plain) * 100)
    if kind is Kind.PERCENT:
        return float(plain)
    return int(plain)


def _money_text(kopiyky: int) -> str:
    """A sum as the Ukrainian page writes it: 12 345,67."""
    whole, part = divmod(kopiyky, 100)
    return f"{whole:,}".replace(",", "\u202f") + f",{part:02d}"


def _export_link(html: str, fmt: str) -> str:
    found = re.search(rf'href="([^"]+)" download data-export="{fmt}"', html)
    assert found is not None
    return found.group(1).replace("&amp;", "&")


def _day(value: date) -> str:
    return value.isoformat()


# --- who sees what --------------------------------------------------------------------------


@pytest.mark.parametrize("who", list(SEES))
def test_each_role_sees_exactly_its_reports_and_is_refused_the_others(
    db: Engine, offices: Offices, who: str
) -> None:
    org = make_market(db).organizer
    if who in {"regulator", "regulator_admin", "tax"}:
        someone = make_person(db, role=Role(who))
    elif who == "head":
        with db.connect() as conn:
            entry = people_repo.organizer_entry(conn, org)
        assert entry is not None
        someone = head_of(db, dict(entry))
    else:
        right = P.REPORTS_OWN if who == "rep:reports" else P.KEYS_MANAGE
        someone = representative(db, org, right)
    office = offices.log_in(someone)
    listing = office.get("/office/reports", params={"lang": "en"})
    if SEES[who]:
        assert listing.status_code == 200
        assert _report_links(listing.text) == SEES[who]
    else:
        assert listing.status_code == 403
    for report in sorted(ALL):
        answer = office.get(f"/office/reports/{report}", params={"lang": "en"})
        if report in SEES[who]:
            assert answer.status_code == 200, (report, answer.text[:500])
        else:
            assert answer.status_code == 403, report
            assert "You do not have the right to see this page." in text_of(answer.text)


def test_the_list_groups_the_reports_and_says_what_each_shows(db: Engine, offices: Offices) -> None:
    regulator = offices.log_in(make_person(db, role=Role.REGULATOR))
    page = text_of(_main(regulator.get("/office/reports").text))
    for group in ("Оперативні", "Регуляторні", "Аналітичні", "Фінансові"):
        assert group in page
    for report in REPORTS.values():
        assert report.title_uk in page
        assert report.about_uk in page
    english = text_of(_main(regulator.get("/office/reports", params={"lang": "en"}).text))
    assert "Gross gaming revenue" in english
    assert "Stakes less refunds and payouts" in english


# --- an organizer's own figures -------------------------------------------------------------


def test_an_organizers_pages_never_show_another_organizers_figures(
    world: World, server: Server
) -> None:
    a, b, head = world.a, world.b, world.head_a
    b_code = b.market.organizer
    today = today_kyiv()
    for report in sorted(OWN):
        for granularity in ("day", "hour"):
            params = {"from": _day(today - timedelta(days=1)), "to": _day(today)}
            if "granularity" in REPORTS[report].filters:
                params["granularity"] = granularity
            if "from" not in REPORTS[report].filters:
                params = {}
            answer = head.get(f"/office/reports/{report}", params=params)
            assert answer.status_code == 200, (report, answer.text[:500])
            page = answer.text
            assert b_code not in page, report
            for kopiyky in b.sums:
                assert _money_text(kopiyky) not in page, (report, kopiyky)
            assert 'name="organizer"' not in page  # no organizer filter for an organizer
    ggr = head.get("/office/reports/ggr").text
    assert a.market.organizer in _main(ggr)
    assert _money_text(a.sums[0] + a.sums[1]) in ggr  # A's online-casino stakes today
    home = head.get("/office").text
    assert b_code not in home
    for kopiyky in b.sums:
        assert _money_text(kopiyky) not in home


def test_an_organizer_naming_another_organizer_is_refused(world: World) -> None:
    head = world.head_a
    other, own = world.b.market.organizer, world.a.market.organizer
    for report in ("ggr", "large-wins", "submission-health"):
        refused = head.get(f"/office/reports/{report}", params={"organizer": other})
        assert refused.status_code == 403, report
        assert head.get(f"/office/reports/{report}", params={"organizer": own}).status_code == 200
    fragment = head.client.get(
        "/office/reports/ggr",
        params={"organizer": other},
        headers={**HTMX, "HX-Target": "results"},
    )
    assert fragment.status_code == 403


# --- the table says what the API says --------------------------------------------------------

FILTERS: dict[str, dict[str, str]] = {
    "market-volumes": {"granularity": "hour", "activity": "online_casino"},
    "ggr": {"granularity": "hour"},
    "rejections": {"granularity": "month"},
    "large-wins": {"threshold": "50000"},
}
STABLE = {  # system-status' figures that do not move between two requests
    "accepted_last_hour",
    "accepted_total",
    "rejected_last_hour",
    "organizers_reporting_last_hour",
    "version",
}


def _api_params(report: str, page: dict[str, str]) -> dict[str, str]:
    """The API's parameters for a page's filters: `to` is the day after the last one
    shown, the threshold is in kopiyky."""
    params = dict(page)
    if "to" in params:
        params["to"] = _day(date.fromisoformat(params["to"]) + timedelta(days=1))
    if "threshold" in params:
        params["threshold"] = str(int(Decimal(params["threshold"]) * 100))
    return params


MONTHS_UK = (
    "січень лютий березень квітень травень червень липень серпень вересень жовтень листопад грудень"
)


def _period(value: str, granularity: str) -> str:
    """A period as the Ukrainian page writes it (ISO date, with the hour; or the month)."""
    if granularity == "month":
        return f"{MONTHS_UK.split()[int(value[5:7]) - 1]} {value[:4]}"
    return value[:10] + (" " + value[11:16] if granularity == "hour" else "")


def _same_row(report: str, shown: list[str], row: list[Any], granularity: str) -> None:
    for column, text, value in zip(REPORTS[report].columns, shown, row, strict=True):
        where = (report, column.id, text, value)
        if column.kind in (Kind.MONEY, Kind.COUNT, Kind.PERCENT):
            assert _number(text, column.kind) == value, where
        elif value is None:
            assert text == "—", where
        elif column.kind is Kind.PERIOD:
            assert text.startswith(_period(value, granularity)), where
        elif column.kind is Kind.INSTANT:
            assert text == value[:19].replace("T", " "), where
        elif column.kind is Kind.ORGANIZER:
            assert text.split()[0] == value, where
        elif column.kind is Kind.ACTIVITY:
            assert text == LABELS[value][0], where
        elif column.kind is Kind.CODE:
            assert text.endswith(value), where
        elif column.kind is Kind.TEXT:
            assert text == value, where


@pytest.mark.parametrize("who", ["regulator", "head"])
def test_the_tables_figures_equal_the_apis_json_for_the_same_filters(
    world: World, who: str
) -> None:
    office = world.regulator if who == "regulator" else world.head_a
    today = today_kyiv()
    for report in sorted(ALL if who == "regulator" else OWN):
        declared = REPORTS[report]
        page: dict[str, str] = {}
        if "from" in declared.filters:
            page["from"] = _day(today - timedelta(days=2))
        if "to" in declared.filters:
            page["to"] = _day(today)
        page |= {k: v for k, v in FILTERS.get(report, {}).items() if k in declared.filters}
        html = office.get(f"/office/reports/{report}", params=page).text
        expected = _api(office, report, **_api_params(report, page))
        assert expected["rows"], report  # every report has something to compare
        if report == "system-status":
            shown = _figures_list(html)
            for column, text, value in zip(
                declared.columns, shown, expected["rows"][0], strict=True
            ):
                if column.id in STABLE:
                    read = _number(text, column.kind) if column.kind is Kind.COUNT else text
                    assert read == value, (column.id, text, value)
            continue
        rows = _table(html)
        assert len(rows) == len(expected["rows"]), report
        for shown, row in zip(rows, expected["rows"], strict=True):
            _same_row(report, shown, row, page.get("granularity", "day"))


def test_totals_add_up_the_rows(world: World) -> None:
    html = world.regulator.get("/office/reports/payments").text
    rows = _table(html)
    expected = _api(world.regulator, "payments")["rows"]
    footer = html.split("<tfoot>", 1)[1].split("</tfoot>", 1)[0]
    totals = [text_of(c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", footer, re.S)]
    assert totals[0] == "Разом"
    assert len(rows) == 2
    assert _number(totals[3], Kind.MONEY) == sum(r[3] for r in expected)  # deposited
    assert _number(totals[6], Kind.MONEY) == sum(r[6] for r in expected)  # net


# --- filters, export, htmx ------------------------------------------------------------------


def test_the_export_links_carry_the_filters_and_download_the_same_figures(
    world: World,
) -> None:
    regulator, a = world.regulator, world.a.market.organizer
    today = today_kyiv()
    page = {
        "from": _day(today - timedelta(days=3)),
        "to": _day(today),
        "granularity": "hour",
        "organizer": a,
        "activity": "online_casino",
    }
    html = regulator.get("/office/reports/ggr", params=page).text
    api = _api_params("ggr", page)
    for fmt in ("csv", "xlsx"):
        link = _export_link(html, fmt)
        parts = urlsplit(link)
        assert parts.path == f"{REPORTS_API}/ggr"
        assert dict(parse_qsl(parts.query)) == {**api, "format": fmt}
        answer = regulator.client.get(link)
        assert answer.status_code == 200, answer.text
        assert "attachment" in answer.headers["content-disposition"]
    csv = regulator.client.get(_export_link(html, "csv")).text.splitlines()
    assert len(csv) == 1 + len(_api(regulator, "ggr", **api)["rows"])
    assert csv[0].startswith("period,organizer,activity,stakes")

    wins = regulator.get("/office/reports/large-wins", params={"threshold": "60000"}).text
    assert dict(parse_qsl(urlsplit(_export_link(wins, "csv")).query))["threshold"] == "6000000"
    # an organizer's links name no organizer: the API forces its own
    own = world.head_a.get("/office/reports/ggr").text
    assert "organizer" not in dict(parse_qsl(urlsplit(_export_link(own, "xlsx")).query))
    download = world.head_a.client.get(_export_link(own, "csv"))
    assert download.status_code == 200
    assert world.b.market.organizer not in download.text


def test_a_filter_change_answers_the_results_alone_with_the_new_address(world: World) -> None:
    regulator = world.regulator
    today = today_kyiv()
    answer = regulator.client.get(
        "/office/reports/market-volumes",
        params={"from": _day(today), "to": _day(today), "granularity": "hour", "activity": ""},
        headers={**HTMX, "HX-Target": "results", "HX-Trigger": "filters"},
    )
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<section id="results"')
    assert "<html" not in answer.text
    pushed = answer.headers["hx-push-url"]
    assert pushed.startswith("/office/reports/market-volumes?")
    assert dict(parse_qsl(urlsplit(pushed).query)) == {
        "from": _day(today),
        "to": _day(today),
        "granularity": "hour",
    }
    assert 'data-chart="chart-data-market-volumes"' in answer.text
    # the browser going back asks for the whole page again
    restore = regulator.client.get(
        pushed, headers={**HTMX, "HX-History-Restore-Request": "true", "HX-Target": "results"}
    )
    assert "<html" in restore.text


def test_wrong_filters_are_explained_on_the_page(world: World) -> None:
    regulator = world.regulator
    answer = regulator.get(
        "/office/reports/large-wins",
        params={"lang": "en", "from": "2026-13-01", "threshold": "100"},
    )
    assert answer.status_code == 200
    text = text_of(answer.text)
    assert "Not a date: use the calendar or YYYY-MM-DD." in text
    assert "At least 10 000.00 UAH" in text
    assert 'class="report"' not in answer.text
    later = regulator.get(
        "/office/reports/ggr", params={"lang": "en", "from": "2026-11-05", "to": "2026-11-01"}
    )
    assert "The last day is before the first." in text_of(later.text)


def test_a_report_with_nothing_in_it_says_so(world: World) -> None:
    long_ago = {"from": "2020-01-01", "to": "2020-01-31"}
    page = world.regulator.get("/office/reports/ggr", params={"lang": "en", **long_ago}).text
    assert "Nothing to show for these filters." in text_of(page)
    assert 'class="report"' not in page
    assert "data-chart=" not in page
    assert 'data-export="csv"' in page


def test_money_is_in_hryvnias_and_words_are_human(world: World) -> None:
    page = world.regulator.get("/office/reports/market-volumes").text
    assert "Сума ставок, грн" in page
    assert (
        _money_text(world.a.sums[0] + world.a.sums[1] + world.b.sums[0] + world.b.sums[1]) in page
    )
    assert "Онлайн-казино" in page
    assert "online_casino</td>" not in page
    rejected = world.regulator.get("/office/reports/rejections", params={"lang": "en"}).text
    assert "Unknown licence" in rejected
    assert "unknown_license" in rejected


# --- dashboards -----------------------------------------------------------------------------


def _tiles(html: str) -> dict[str, str]:
    found = re.findall(
        r'<span class="tile-label">(.*?)</span>\s*<strong class="tile-value">(.*?)</strong>',
        html,
        re.S,
    )
    return {text_of(label): text_of(value) for label, value in found}


def test_the_regulators_dashboard_shows_today_live(world: World) -> None:
    regulator = world.regulator
    home = regulator.get("/office", params={"lang": "en"}).text
    tiles = _tiles(home)
    today = today_kyiv()
    rows = _api(regulator, "ggr", **{"from": _day(today), "to": _day(today + timedelta(days=1))})[
        "rows"
    ]
    stakes = sum(r[3] for r in rows)
    assert _number(tiles["Stakes, UAH"], Kind.MONEY) == stakes
    assert _number(tiles["GGR, UAH"], Kind.MONEY) == sum(r[6] for r in rows)
    assert "Operations per second" in tiles
    assert "Organizers silent" in tiles
    assert 'id="dashboard-chart"' in home
    assert 'hx-get="/office/dashboard" hx-trigger="every 10s"' in home
    fragment = regulator.client.get("/office/dashboard", headers=HTMX)
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<section id="dashboard"')
    assert _tiles(fragment.text).keys() == _tiles(regulator.get("/office").text).keys()


def test_the_tax_services_dashboard_shows_this_months_tax(
    world: World, db: Engine, offices: Offices
) -> None:
    tax = offices.log_in(make_person(db, role=Role.TAX))
    tiles = _tiles(tax.get("/office", params={"lang": "en"}).text)
    rows = _api(tax, "winnings-tax")["rows"]
    assert _number(tiles["Tax on winnings, UAH"], Kind.MONEY) == sum(r[6] for r in rows)
    assert "GGR, UAH" in tiles
    assert "Operations per second" not in tiles


def test_an_organizers_dashboard_shows_its_own_status_and_figures(world: World) -> None:
    home = world.head_a.get("/office", params={"lang": "en"}).text
    assert 'class="glance' in home  # the submission box stays
    assert "Submission status" in text_of(home)
    tiles = _tiles(home)
    own = _api(world.head_a, "ggr")["rows"]
    assert _number(tiles["Stakes, UAH"], Kind.MONEY) == sum(r[3] for r in own)
    fragment = world.head_a.client.get("/office/dashboard", headers=HTMX).text
    assert 'class="glance' in fragment
    assert world.b.market.organizer not in fragment


def test_someone_who_reads_no_reports_gets_no_dashboard(db: Engine, offices: Offices) -> None:
    rep = offices.log_in(representative(db, make_market(db).organizer, P.REGISTERS_READ_OWN))
    assert 'id="dashboard"' not in rep.get("/office").text
    assert rep.client.get("/office/dashboard", headers=HTMX).text.strip() == ""


# --- how figures are written ----------------------------------------------------------------


def test_money_is_written_exactly_in_hryvnias() -> None:
    assert money(123_456_789) == "1\u202f234\u202f567,89"
    assert money(-5, "en") == "\u22120.05"
    assert money(0) == "0,00"
    assert money(100) == "1,00"


def test_the_hour_kyiv_lives_twice_is_told_apart() -> None:
    # 2026-10-25: summer time ends at 04:00, and 03:00-04:00 comes twice
    first = period_text("2026-10-25T03:00:00+03:00", "hour", "uk")
    again = period_text("2026-10-25T03:00:00+02:00", "hour", "uk")
    assert first == "2026-10-25 03:00 (UTC+03)"
    assert again == "2026-10-25 03:00 (UTC+02)"
    assert period_text("2026-10-25T05:00:00+02:00", "hour", "uk") == "2026-10-25 05:00"
    assert period_text("2026-03-29T00:00:00+02:00", "day", "en") == "2026-03-29"
    assert period_text("2026-11-01T00:00:00+02:00", "month", "uk") == "листопад 2026"
    assert period_text("2026-11-01T00:00:00+02:00", "month", "en") == "November 2026"

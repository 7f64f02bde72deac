"""The reports in the offices: the list, one page per report, and the home dashboard's
live figures.

    GET /office/reports              the reports this person may see, by group
    GET /office/reports/{id}         one report: filters, chart, table, CSV/XLSX export
    GET /office/dashboard            the home page's figures, asked again every 10 s

A report page reads the same `reports.service.run` as the API, so the role's rights
(403 outside it) and an organizer's scoping (its own figures only, whatever the address
says) are the service's, in one place. The page's filters are the API's, in words a
person uses: `from` and `to` are the first and the last day shown (the API's `to` is
the day after), and large-wins' `threshold` is in hryvnias (the API's in kopiyky); the
export links carry the API's parameters for exactly what the page shows. Changing a
filter asks htmx for the results alone (`HX-Target: results`) and puts the new address
in the history; reports whose figures are live refresh themselves every 10 seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Engine

from dsom.auth.deps import DB
from dsom.auth.permissions import Permission
from dsom.auth.principal import Principal
from dsom.kit.codes import is_valid_edrpou
from dsom.kit.errors import DomainError
from dsom.kit.settings import Settings
from dsom.kit.time import KYIV, today_kyiv, utcnow
from dsom.registers import repository as registers
from dsom.registers.declarations import ACTIVITIES, LABELS, ORGANIZERS
from dsom.reports import service
from dsom.reports.declarations import GROUPS, Column, Kind, Report, own_only
from dsom.reports.live import live_of
from dsom.reports.params import DEFAULT_THRESHOLD, check_access
from dsom.reports.periods import GRANULARITIES
from dsom.reports.service import Table
from dsom.reports.submission import glance
from dsom.web import formats
from dsom.web.charts import NUMERIC, chart_data, kind_of, period_text, value_label
from dsom.web.dashboards import dashboard, organizer_names
from dsom.web.i18n import Translate, language_of, translator
from dsom.web.pages import TEMPLATES, PageSession, render

formats.install(TEMPLATES.env)
router = APIRouter(prefix="/office", include_in_schema=False)
P = Permission
READS_REPORTS = (P.REPORTS_ALL, P.REPORTS_FINANCIAL, P.REPORTS_OWN)
SHOWN_ROWS = 1_000  # more rows than this are in the export, not on the page
ORGANIZERS_IN_A_LIST = 500  # beyond this the organizer filter is a text field
NOT_ADDITIVE = frozenset({"active_players", "avg_stake_per_player"})  # no total for these
GRANULARITY_WORDS = {"hour": "by hour", "day": "by day", "month": "by month"}


# --- the list -------------------------------------------------------------------------------


@router.get("/reports")
def reports_page(request: Request, session: PageSession) -> HTMLResponse:
    """The reports this person's role sees, by group (operational, regulatory,
    analytical, financial), each with a line on what it shows."""
    principal = session.principal
    principal.require(*READS_REPORTS)
    lang = language_of(request)
    uk = lang == "uk"
    reports = service.visible(principal)
    groups = [
        (words[0] if uk else words[1], [r for r in reports if r.group == group])
        for group, words in GROUPS.items()
    ]
    return render(
        request,
        "reports/index.html",
        groups=[(name, found) for name, found in groups if found],
        own=principal.organizer is not None,
    )


# --- one report -----------------------------------------------------------------------------


@dataclass
class Filters:
    """A report page's filters: as typed (for the form), their errors, and the API's
    parameters for them."""

    shown: tuple[str, ...]  # the filters the form offers
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    api: dict[str, str] = field(default_factory=dict)
    first: date | None = None
    last: date | None = None


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def read_filters(
    report: Report,
    raw: Mapping[str, str],
    principal: Principal,
    settings: Settings,
    lang: str,
    today: date,
) -> Filters:
    """The page's filters from its address: checked, with the defaults (this month to
    today, by day; 50,000 UAH for large wins), and as the API's parameters."""
    t = translator(lang)
    own = own_only(report, principal.permissions)
    shown = tuple(f for f in report.filters if not (f == "organizer" and own))
    values: dict[str, str] = {name: (raw.get(name) or "").strip() for name in report.filters}
    found = Filters(shown, values)
    errors, api = found.errors, found.api
    if "from" in report.filters:
        values["from"] = values["from"] or today.replace(day=1).isoformat()
        found.first = _day(values["from"])
        if found.first is None:
            errors["from"] = t("Not a date: use the calendar or YYYY-MM-DD.")
        else:
            api["from"] = found.first.isoformat()
    if "to" in report.filters:
        values["to"] = values["to"] or today.isoformat()
        found.last = _day(values["to"])
        if found.last is None:
            errors["to"] = t("Not a date: use the calendar or YYYY-MM-DD.")
        else:
            api["to"] = (found.last + timedelta(days=1)).isoformat()
    if found.first and found.last and found.first > found.last:
        errors["to"] = t("The last day is before the first.")
    if "granularity" in report.filters:
        values["granularity"] = values["granularity"] or "day"
        if values["granularity"] not in GRANULARITIES:
            errors["granularity"] = t("Choose hours, days or months.")
        else:
            api["granularity"] = values["granularity"]
    if values.get("organizer"):
        # an organizer's person never sees the field; naming another organizer in the
        # address is the service's 403, so it goes through unchecked
        if not own and not is_valid_edrpou(values["organizer"]):
            errors["organizer"] = t("An EDRPOU code is 8 digits.")
        else:
            api["organizer"] = values["organizer"]
    if values.get("activity"):
        if values["activity"] not in ACTIVITIES:
            errors["activity"] = t("Choose a type of gambling from the list.")
        else:
            api["activity"] = values["activity"]
    if "threshold" in report.filters:
        values["threshold"] = values["threshold"] or str(DEFAULT_THRESHOLD // 100)
        kopiyky = _kopiyky(values["threshold"])
        floor = settings.large_win_floor
        if kopiyky is None:
            errors["threshold"] = t("A sum in hryvnias, such as 50000 or 50000.50.")
        elif kopiyky < floor:
            errors["threshold"] = t(
                "At least {sum} UAH: smaller wins are not kept for this report."
            ).format(sum=formats.money(floor, lang))
        else:
            api["threshold"] = str(kopiyky)
    return found


def _kopiyky(text: str) -> int | None:
    try:
        amount = Decimal(text.replace("\u202f", "").replace(" ", "").replace(",", "."))
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        return None
    return int(amount * 100)


@dataclass(frozen=True)
class Cell:
    """A table cell as the page writes it."""

    text: str
    css: str = ""
    sub: str | None = None  # a second line: an organizer's name, a rejection code
    badge: str | None = None  # a status's badge class


def header(column: Column, t: Translate, lang: str) -> str:
    """A column's heading: its label, with the unit for money."""
    text = column.label(lang)
    return f"{text}, {t('UAH')}" if column.kind is Kind.MONEY else text


def cell(
    column: Column,
    value: Any,
    lang: str,
    t: Translate,
    names: Mapping[str, str],
    granularity: str,
) -> Cell:
    """One value as people read it: hryvnias, percent with 2 decimals, periods and
    instants in Kyiv time, activities, statuses and codes in words."""
    kind = column.kind
    if value is None:
        return Cell("—", "num muted" if kind in NUMERIC else "muted")
    if kind is Kind.MONEY:
        return Cell(formats.money(value, lang), "num neg" if value < 0 else "num")
    if kind is Kind.COUNT:
        return Cell(formats.number(value), "num")
    if kind is Kind.PERCENT:
        return Cell(formats.percent(value, lang, 2), "num")
    if kind is Kind.MILLISECONDS:
        return Cell(formats.decimal(value, lang, 1), "num")
    if kind is Kind.BYTES:
        return Cell(_bytes(value, lang, t), "num")
    if kind is Kind.SECONDS:
        return Cell(_duration(value, t), "num")
    if kind is Kind.PERIOD:
        return Cell(period_text(value, granularity, lang), "nowrap")
    if kind is Kind.INSTANT:
        local = datetime.fromisoformat(value).astimezone(KYIV)
        return Cell(local.strftime("%Y-%m-%d %H:%M:%S"), "nowrap")
    words = value_label(column, value, lang, names)
    if kind is Kind.ORGANIZER:
        return Cell(str(value), "nowrap", sub=words)
    if kind is Kind.CODE:
        return Cell(words or str(value), "", sub=str(value))
    if kind is Kind.STATUS:
        return Cell(words or str(value), badge=str(value))
    return Cell(words or str(value), "text" if kind is Kind.TEXT else "")


def _bytes(value: int, lang: str, t: Translate) -> str:
    size = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            places = 0 if unit == "B" else 1
            return f"{formats.decimal(size, lang, places)}\u00a0{t(unit)}"
        size /= 1024
    return ""  # pragma: no cover - the loop always returns


def _duration(seconds: int, t: Translate) -> str:
    days, rest = divmod(int(seconds), 86_400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return t("{d} d {h} h").format(d=days, h=hours)
    if hours:
        return t("{h} h {m} min").format(h=hours, m=minutes)
    return t("{m} min {s} s").format(m=minutes, s=rest % 60)


def _totals(table: Table, lang: str) -> list[Cell] | None:
    """A last row adding up each column that adds up (counts and sums), for a report of
    more than one row; None when nothing adds up."""
    report = table.report
    if not report.keys or len(table.rows) < 2:
        return None
    columns = report.columns
    additive = [
        c.kind in (Kind.COUNT, Kind.MONEY) and c.id not in NOT_ADDITIVE and not c.key
        for c in columns
    ]
    if not any(additive):
        return None
    cells = []
    for i, column in enumerate(columns):
        if not additive[i]:
            cells.append(Cell(""))
            continue
        total = sum(row[i] or 0 for row in table.rows)
        if column.kind is Kind.MONEY:
            cells.append(Cell(formats.money(total, lang), "num neg" if total < 0 else "num"))
        else:
            cells.append(Cell(formats.number(total), "num"))
    return cells


def _organizer_choices(engine: Engine) -> list[tuple[str, str]] | None:
    """Every registered organizer as (code, name) by name, for the filter; None when
    there are too many for a list."""
    with engine.connect() as conn:
        if registers.count(conn, ORGANIZERS) > ORGANIZERS_IN_A_LIST:
            return None
        entries = registers.iter_all(conn, ORGANIZERS, None)
    return sorted(((e["edrpou"], e["name"]) for e in entries), key=lambda e: (e[1].lower(), e[0]))


def _is_results_request(request: Request) -> bool:
    """Whether htmx asks for the results alone (a filter changed, or a live refresh)."""
    headers = request.headers
    return (
        headers.get("hx-request") == "true"
        and headers.get("hx-target") == "results"
        and not headers.get("hx-history-restore-request")
    )


def _address(path: str, query: Mapping[str, str]) -> str:
    shown = {k: v for k, v in query.items() if v}
    return path + ("?" + urlencode(shown) if shown else "")


@router.get("/reports/{report_id}")
def report_page(request: Request, report_id: str, session: PageSession, engine: DB) -> HTMLResponse:
    """One report: its filters, a chart, the table (money in hryvnias, times in Kyiv),
    and links to download it as CSV or XLSX; or, for htmx, the results alone."""
    principal = session.principal
    report = service.report_of(report_id)
    check_access(report, principal)
    lang = language_of(request)
    t = translator(lang)
    settings: Settings = request.app.state.settings
    filters = read_filters(report, request.query_params, principal, settings, lang, today_kyiv())
    path = f"/office/reports/{report.id}"
    page_url = _address(path, filters.values)
    table: Table | None = None
    problem: str | None = None
    if not filters.errors:
        try:
            table = service.run(
                engine,
                report.id,
                principal,
                filters.api,
                settings=settings,
                live=live_of(request.app),
            )
        except DomainError as exc:
            if exc.status_code != 400:
                raise
            problem = exc.message
    context = _results(report, table, filters, lang, t, engine, page_url)
    context["problem"] = problem
    if _is_results_request(request):
        headers = {}
        if request.headers.get("hx-trigger") == "filters":
            headers["HX-Push-Url"] = page_url
        return render(request, "reports/_results.html", headers=headers, **context)
    return render(
        request,
        "reports/report.html",
        group=GROUPS[report.group][0 if lang == "uk" else 1],
        own=own_only(report, principal.permissions),
        organizers=(_organizer_choices(engine) if "organizer" in filters.shown else None),
        activities=[(a, LABELS[a][0 if lang == "uk" else 1]) for a in ACTIVITIES],
        granularities=[(g, t(GRANULARITY_WORDS[g])) for g in GRANULARITIES],
        path=path,
        **context,
    )


def _results(
    report: Report,
    table: Table | None,
    filters: Filters,
    lang: str,
    t: Translate,
    engine: Engine,
    page_url: str,
) -> dict[str, Any]:
    api = f"/api/v1/reports/{report.id}"
    context: dict[str, Any] = {
        "report": report,
        "filters": filters,
        "page_url": page_url,
        "csv_url": _address(api, {**filters.api, "format": "csv"}),
        "xlsx_url": _address(api, {**filters.api, "format": "xlsx"}),
        "table": table,
        "updated": utcnow(),
        "range_text": _range_text(report, filters, t),
    }
    if table is None:
        return context
    granularity = table.query.granularity
    shown = table.rows[:SHOWN_ROWS]
    codes = {
        row[i] for i, c in enumerate(report.columns) if c.kind is Kind.ORGANIZER for row in shown
    }
    names = organizer_names(engine, codes)
    context["column_heads"] = [header(c, t, lang) for c in report.columns]
    context["numeric"] = [c.kind in NUMERIC for c in report.columns]
    context["rows"] = [
        [cell(c, v, lang, t, names, granularity) for c, v in zip(report.columns, row, strict=True)]
        for row in shown
    ]
    context["more_rows"] = len(table.rows) - len(shown)
    context["total_rows"] = len(table.rows)
    context["totals"] = _totals(table, lang)
    context["single"] = not report.keys  # one row of figures: written as a list
    context["has_money"] = any(c.kind is Kind.MONEY for c in report.columns)
    x = report.chart.x if report.chart else None
    on_x = set()
    if x is not None and kind_of(table, x) is Kind.ORGANIZER:  # the chart names every organizer
        on_x = {row[table.columns.index(x)] for row in table.rows} - names.keys()
    context["chart"] = chart_data(table, lang, {**names, **organizer_names(engine, on_x)})
    return context


def _range_text(report: Report, filters: Filters, t: Translate) -> str:
    first, last = filters.first, filters.last
    if "from" in report.filters and first and last:
        text = first.isoformat() if first == last else f"{first.isoformat()} – {last.isoformat()}"
        if "granularity" in report.filters and filters.values.get("granularity") in GRANULARITIES:
            text += ", " + t(GRANULARITY_WORDS[filters.values["granularity"]])
        return text
    if "to" in report.filters and last:
        return t("At the end of {day}").format(day=last.isoformat())
    return t("Now")


# --- the home page's live figures -----------------------------------------------------------


@router.get("/dashboard")
def dashboard_figures(request: Request, session: PageSession, engine: DB) -> HTMLResponse:
    """The home page's figures for this person's role, without the chart: the page asks
    for them every 10 seconds (htmx) and puts them in place."""
    principal = session.principal
    lang = language_of(request)
    return render(
        request,
        "reports/_dashboard.html",
        dashboard=dashboard(request, engine, principal, lang, with_chart=False),
        submission=glance(engine, principal),
    )

"""The home page's dashboard: the figures each role watches most, from the reports.

- the regulator: today's stakes, payouts and GGR, operations per second (accepted in the
  last minute / 60), the organizers silent or degraded, and GGR over the last 30 days;
- the tax service: this month's tax on winnings (and its two parts) and GGR, and the
  tax by day;
- an organizer's people who read its reports: its submission status and its own
  figures this month, and its GGR over the last 30 days.

Every figure comes from `reports.service.run`, as the report pages and the API do, so
the role's rights and an organizer's scoping apply unchanged. The figures are live: the
page asks for them again every 10 seconds (`/office/dashboard`, web/reports.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import Request
from sqlalchemy import Engine

from dsom.auth.permissions import Permission
from dsom.auth.principal import Principal
from dsom.kit.time import today_kyiv, utcnow
from dsom.registers import repository as registers
from dsom.registers.declarations import ORGANIZERS
from dsom.reports import service
from dsom.reports.declarations import Chart
from dsom.reports.live import live_of
from dsom.reports.service import Table
from dsom.web.charts import chart_data

P = Permission
TOTAL_GGR = Chart("line", x="period", y=("ggr",))  # one line: every activity added up
TROUBLES_SHOWN = 8


@dataclass(frozen=True)
class Figure:
    """One figure of the dashboard: its label (English; the page translates it), value,
    how to write it, and the report page it comes from."""

    label: str
    value: int | float | None
    kind: Literal["money", "count", "rate"]
    href: str
    hint: str | None = None
    warn: bool = False


@dataclass
class Dashboard:
    """What the home page shows a role: figures over a span, organizers in trouble (the
    regulator), the organizer's own submission status, and a chart."""

    role: Literal["regulator", "tax", "organizer"]
    span: str  # "Today" or "This month" (English; the page translates it)
    figures: list[Figure]
    updated: datetime
    troubles: list[tuple[str, str, str | None]] = field(default_factory=list)  # code, status, name
    more_troubles: int = 0
    status: str | None = None  # the organizer's own: ok, silent, degraded
    chart: dict[str, Any] | None = None
    chart_title: str = ""
    chart_href: str = ""


def page_url(report: str, **params: str) -> str:
    """The address of a report page with these filters (dates inclusive, as the page reads
    them)."""
    query = {k: v for k, v in params.items() if v}
    return f"/office/reports/{report}" + ("?" + urlencode(query) if query else "")


def _sums(table: Table, *columns: str) -> list[int]:
    at = [table.columns.index(c) for c in columns]
    totals = [0] * len(columns)
    for row in table.rows:
        for n, i in enumerate(at):
            totals[n] += row[i] or 0
    return totals


def _range(first: date, last: date) -> dict[str, str]:
    """API parameters for the days `first` to `last` (inclusive)."""
    return {"from": first.isoformat(), "to": (last + timedelta(days=1)).isoformat()}


def organizer_names(engine: Engine, codes: Iterable[str]) -> dict[str, str]:
    """Organizers' names by EDRPOU code, from the organizers register."""
    wanted = sorted({c for c in codes if c})
    if not wanted:
        return {}
    with engine.connect() as conn:
        found = registers.get_many(conn, ORGANIZERS, wanted)
    return {code: str(entry["name"]) for code, entry in found.items()}


def dashboard(
    request: Request,
    engine: Engine,
    principal: Principal,
    lang: str,
    *,
    with_chart: bool = True,
) -> Dashboard | None:
    """The dashboard of this person's role; None for someone who reads no reports."""
    settings = request.app.state.settings
    live = live_of(request.app)

    def run(report: str, raw: Mapping[str, str]) -> Table:
        return service.run(engine, report, principal, raw, settings=settings, live=live)

    today = today_kyiv()
    month = today.replace(day=1)
    if principal.can(P.REPORTS_ALL):
        board = _regulator(run, today)
    elif principal.can(P.REPORTS_FINANCIAL):
        board = _tax(run, today, month)
    elif principal.can(P.REPORTS_OWN) and principal.organizer is not None:
        board = _organizer(run, today, month)
    else:
        return None
    if board.troubles:
        names = organizer_names(engine, [code for code, _, _ in board.troubles])
        board.troubles = [(code, status, names.get(code)) for code, status, _ in board.troubles]
    if with_chart:
        _add_chart(board, run, today, month, lang)
    return board


def _regulator(run: Any, today: date) -> Dashboard:
    days = {"from": today.isoformat(), "to": today.isoformat()}
    stakes, payouts, ggr = _sums(run("ggr", _range(today, today)), "stakes", "payouts", "ggr")
    status = run("system-status", {})
    last_minute = status.rows[0][0] if status.rows else None
    health = run("submission-health", {})
    troubles: list[tuple[str, str, str | None]] = [
        (row[0], row[-1], None) for row in health.rows if row[-1] != "ok"
    ]
    silent = sum(1 for _, s, _ in troubles if s == "silent")
    degraded = len(troubles) - silent
    health_href = page_url("submission-health")
    board = Dashboard(
        role="regulator",
        span="Today",
        figures=[
            Figure("Stakes", stakes, "money", page_url("market-volumes", **days)),
            Figure("Payouts", payouts, "money", page_url("market-volumes", **days)),
            Figure("GGR", ggr, "money", page_url("ggr", **days), hint="stakes − refunds − payouts"),
            Figure(
                "Operations per second",
                None if last_minute is None else last_minute / 60,
                "rate",
                page_url("system-status"),
                hint="accepted in the last minute ÷ 60",
            ),
            Figure("Organizers silent", silent, "count", health_href, warn=silent > 0),
            Figure("Organizers degraded", degraded, "count", health_href, warn=degraded > 0),
        ],
        updated=utcnow(),
    )
    board.troubles = troubles[:TROUBLES_SHOWN]
    board.more_troubles = max(len(troubles) - TROUBLES_SHOWN, 0)
    return board


def _month_params(today: date, month: date) -> dict[str, str]:
    return {"from": month.isoformat(), "to": today.isoformat()}


def _tax(run: Any, today: date, month: date) -> Dashboard:
    days = _month_params(today, month)
    payouts, income_tax, levy, tax = _sums(
        run("winnings-tax", _range(month, today)),
        "payouts",
        "personal_income_tax",
        "military_levy",
        "tax_total",
    )
    stakes, ggr = _sums(run("ggr", _range(month, today)), "stakes", "ggr")
    tax_href = page_url("winnings-tax", **days)
    return Dashboard(
        role="tax",
        span="This month",
        figures=[
            Figure("Tax on winnings", tax, "money", tax_href, hint="to withhold from winnings"),
            Figure("Personal income tax", income_tax, "money", tax_href),
            Figure("Military levy", levy, "money", tax_href),
            Figure("GGR", ggr, "money", page_url("ggr", **days), hint="stakes − refunds − payouts"),
            Figure("Stakes", stakes, "money", page_url("ggr", **days)),
            Figure("Payouts", payouts, "money", tax_href),
        ],
        updated=utcnow(),
    )


def _organizer(run: Any, today: date, month: date) -> Dashboard:
    days = _month_params(today, month)
    stakes, payouts, ggr = _sums(run("ggr", _range(month, today)), "stakes", "payouts", "ggr")
    (tax,) = _sums(run("winnings-tax", _range(month, today)), "tax_total")
    health = run("submission-health", {})
    return Dashboard(
        role="organizer",
        span="This month",
        figures=[
            Figure("Stakes", stakes, "money", page_url("ggr", **days)),
            Figure("Payouts", payouts, "money", page_url("ggr", **days)),
            Figure("GGR", ggr, "money", page_url("ggr", **days), hint="stakes − refunds − payouts"),
            Figure(
                "Tax on winnings",
                tax,
                "money",
                page_url("winnings-tax", **days),
                hint="to withhold from winnings",
            ),
        ],
        updated=utcnow(),
        status=health.rows[0][-1] if health.rows else None,
    )


def _add_chart(board: Dashboard, run: Any, today: date, month: date, lang: str) -> None:
    if board.role == "tax":
        table = run("winnings-tax", _range(month, today))
        board.chart = chart_data(table, lang, {})
        board.chart_title = "Tax on winnings by day, this month"
        board.chart_href = page_url("winnings-tax", **_month_params(today, month))
        return
    first = today - timedelta(days=29)
    table = run("ggr", _range(first, today))
    board.chart = chart_data(table, lang, {}, chart=TOTAL_GGR)
    board.chart_title = "GGR by day, the last 30 days"
    board.chart_href = page_url("ggr", **{"from": first.isoformat(), "to": today.isoformat()})

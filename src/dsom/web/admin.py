"""The regulator's administration pages: the audit log, the officials, and the reports'
place in the offices (the reports themselves arrive with the reports issue).

Permissions are checked on the server (`Principal.require`); changes come as htmx
requests with the session's CSRF token and are written to the audit log by the
people service in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse

from dsom.auth.deps import DB
from dsom.auth.permissions import Permission, Role
from dsom.auth.principal import Principal
from dsom.kit.codes import is_valid_edrpou
from dsom.kit.errors import Conflict
from dsom.kit.time import kyiv_midnight
from dsom.people import service
from dsom.people.api import client_ip
from dsom.people.repository import OFFICIAL_ROLES
from dsom.web import formats
from dsom.web.i18n import Translate, language_of, translator
from dsom.web.organizer import rnokpp_error
from dsom.web.pages import TEMPLATES, PageSession, render

formats.install(TEMPLATES.env)
router = APIRouter(prefix="/office", include_in_schema=False)
P = Permission
AUDIT_PAGE = 50
FormText = Annotated[str, Form()]


def _t(request: Request) -> Translate:
    return translator(language_of(request))


# --- the audit log ----------------------------------------------------------------------------


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None


@router.get("/audit")
def audit_page(
    request: Request,
    session: PageSession,
    engine: DB,
    who: str = "",
    action: str = "",
    organizer: str = "",
    date_from: Annotated[str, Query(alias="from")] = "",
    date_to: Annotated[str, Query(alias="to")] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """The audit log, newest first: who did what, to what, when and from where; with
    filters (who, action, dates in Kyiv time, organizer) and pages of 50."""
    principal = session.principal
    principal.require(P.AUDIT_READ)
    t = _t(request)
    who, action, organizer = who.strip(), action.strip(), organizer.strip()
    first, last = _day(date_from), _day(date_to)
    errors: dict[str, str] = {}
    if date_from.strip() and first is None:
        errors["from"] = t("Not a date: use the calendar or YYYY-MM-DD.")
    if date_to.strip() and last is None:
        errors["to"] = t("Not a date: use the calendar or YYYY-MM-DD.")
    if organizer and not is_valid_edrpou(organizer):
        errors["organizer"] = t("An EDRPOU code is 8 digits.")
    with engine.connect() as conn:
        entries, total = service.list_audit(
            conn,
            principal,
            who=who or None,
            action=action or None,
            organizer=organizer if organizer and "organizer" not in errors else None,
            since=kyiv_midnight(first) if first else None,
            until=kyiv_midnight(last + timedelta(days=1)) if last else None,
            limit=AUDIT_PAGE,
            offset=(page - 1) * AUDIT_PAGE,
        )
        actions = service.audit_actions(conn, principal)
        people = service.people_of_audit(conn, principal, entries)
    filters = {"who": who, "action": action, "organizer": organizer}
    filters |= {"from": date_from.strip(), "to": date_to.strip()}
    pages = max(1, -(-total // AUDIT_PAGE))

    def page_url(number: int) -> str:
        query = {k: v for k, v in filters.items() if v}
        if number > 1:
            query["page"] = str(number)
        return "/office/audit" + ("?" + urlencode(query) if query else "")

    return render(
        request,
        "admin/audit.html",
        entries=entries,
        people=people,
        total=total,
        page=page,
        pages=pages,
        first_shown=(page - 1) * AUDIT_PAGE + 1,
        last_shown=(page - 1) * AUDIT_PAGE + len(entries),
        page_url=page_url,
        filters=filters,
        filtered=any(filters.values()),
        errors=errors,
        actions=sorted(set(actions) | ({action} if action else set())),
    )


# --- officials --------------------------------------------------------------------------------


def _officials(
    request: Request,
    engine: DB,
    principal: Principal,
    *,
    fragment: bool,
    message: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    with engine.connect() as conn:
        officials = service.list_officials(conn, principal)
    return render(
        request,
        "admin/_officials.html" if fragment else "admin/officials.html",
        officials=officials,
        roles=[r.value for r in OFFICIAL_ROLES],
        message=message,
        form=form or {"role": Role.REGULATOR.value},
        errors=errors or {},
    )


@router.get("/officials")
def officials_page(request: Request, session: PageSession, engine: DB) -> HTMLResponse:
    """The regulator's and the tax service's officials; add or remove one (administrators)."""
    session.principal.require(P.OFFICIALS_MANAGE)
    return _officials(request, engine, session.principal, fragment=False)


@router.post("/officials")
def add_official(
    request: Request,
    session: PageSession,
    engine: DB,
    rnokpp: FormText = "",
    name: FormText = "",
    role: FormText = "",
) -> HTMLResponse:
    """Add an official by RNOKPP and name, as regulator official, administrator or tax
    official."""
    principal = session.principal
    principal.require(P.OFFICIALS_MANAGE)
    t = _t(request)
    rnokpp, name = rnokpp.strip(), " ".join(name.split())
    form = {"rnokpp": rnokpp, "name": name, "role": role}
    errors: dict[str, str] = {}
    if problem := rnokpp_error(t, rnokpp):
        errors["rnokpp"] = problem
    if not name:
        errors["name"] = t("Type the person's name.")
    if role not in {r.value for r in OFFICIAL_ROLES}:
        errors["role"] = t("Choose the official's role.")
    if not errors:
        try:
            with service.transaction(engine) as conn:
                added = service.add_official(
                    conn, principal, rnokpp=rnokpp, name=name, role=role, ip=client_ip(request)
                )
        except Conflict:
            errors["rnokpp"] = t("This person is already an official.")
        else:
            message = t("{name} was added as {role}.").format(name=added.name, role=t(role))
            return _officials(request, engine, principal, fragment=True, message=message)
    return _officials(request, engine, principal, fragment=True, form=form, errors=errors)


@router.delete("/officials/{person_id}")
def remove_official(
    request: Request, person_id: int, session: PageSession, engine: DB
) -> HTMLResponse:
    """Remove an official: they are logged out at once (an administrator cannot remove
    themselves)."""
    principal = session.principal
    principal.require(P.OFFICIALS_MANAGE)
    with service.transaction(engine) as conn:
        removed = service.remove_official(conn, principal, person_id, ip=client_ip(request))
    message = _t(request)("{name} was removed and logged out.").format(name=removed.name)
    return _officials(request, engine, principal, fragment=True, message=message)


# --- reports (their place, until the reports issue fills it) ----------------------------------


@dataclass(frozen=True)
class ReportPlan:
    """A report of reports.md, as the page announces it."""

    id: str
    group: str
    title: str
    about: str


# reports.md's twelve reports, by group; the reports issue replaces this with the definitions.
REPORTS: tuple[ReportPlan, ...] = (
    ReportPlan(
        "system-status",
        "Operational",
        "System status",
        "Whether DSOM is receiving data: operations accepted and rejected in the last minute "
        "and hour, how fast they are taken in, how many organizers are reporting.",
    ),
    ReportPlan(
        "submission-health",
        "Operational",
        "Submission health",
        "For each organizer: when its data last arrived, what was accepted and rejected today, "
        "and whether it is sending normally, silent, or degraded.",
    ),
    ReportPlan(
        "rejections",
        "Operational",
        "Rejections",
        "Rejected operations by period, organizer and rejection code.",
    ),
    ReportPlan(
        "licenses",
        "Regulatory",
        "Licences",
        "Licences by type of gambling and status, and those expiring within 90 days.",
    ),
    ReportPlan(
        "compliance",
        "Regulatory",
        "Compliance",
        "For each organizer: operations reported late, operations rejected for licence or "
        "channel reasons, and hours without data while an online licence was active.",
    ),
    ReportPlan(
        "large-wins",
        "Regulatory",
        "Large wins",
        "Wins of 50,000 UAH or more, with their bet and player.",
    ),
    ReportPlan(
        "market-volumes",
        "Analytical",
        "Market volumes",
        "Bets, stakes, wins, payouts and refunds by period and type of gambling.",
    ),
    ReportPlan(
        "player-activity",
        "Analytical",
        "Player activity",
        "Active players, their bets and stakes, and the average stake per player.",
    ),
    ReportPlan(
        "market-share",
        "Analytical",
        "Market share",
        "Each organizer's share of stakes and of gross gaming revenue in each type of gambling.",
    ),
    ReportPlan(
        "ggr",
        "Financial",
        "Gross gaming revenue",
        "Stakes less refunds and payouts, by period, organizer and type of gambling.",
    ),
    ReportPlan(
        "payments",
        "Financial",
        "Payments",
        "Players' deposits and withdrawals, by period and organizer.",
    ),
    ReportPlan(
        "winnings-tax",
        "Financial",
        "Tax on winnings",
        "Personal income tax and military levy that organizers must withhold from winnings.",
    ),
)
# reports.md, "Who sees what".
REPORTS_OF: dict[Permission, frozenset[str]] = {
    P.REPORTS_ALL: frozenset(r.id for r in REPORTS),
    P.REPORTS_FINANCIAL: frozenset(
        {"ggr", "payments", "winnings-tax", "market-volumes", "large-wins"}
    ),
    P.REPORTS_OWN: frozenset(
        {
            "submission-health",
            "rejections",
            "market-volumes",
            "player-activity",
            "ggr",
            "payments",
            "winnings-tax",
            "large-wins",
        }
    ),
}


def reports_for(principal: Principal) -> list[tuple[str, list[ReportPlan]]]:
    """The reports this person will see, by group, in reports.md's order."""
    ids: set[str] = set()
    for permission, reports in REPORTS_OF.items():
        if principal.can(permission):
            ids |= reports
    groups: dict[str, list[ReportPlan]] = {}
    for report in REPORTS:
        if report.id in ids:
            groups.setdefault(report.group, []).append(report)
    return list(groups.items())


@router.get("/reports")
def reports_page(request: Request, session: PageSession) -> HTMLResponse:
    """The reports' place: which reports this person will see here, and on whose data."""
    principal = session.principal
    principal.require(P.REPORTS_ALL, P.REPORTS_FINANCIAL, P.REPORTS_OWN)
    context: dict[str, Any] = {
        "groups": reports_for(principal),
        "own_only": principal.organizer is not None,
        "sees_submission": principal.organizer is not None,
    }
    return render(request, "admin/reports.html", **context)

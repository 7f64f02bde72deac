"""The regulator's administration pages: the audit log and the officials (the reports'
pages are web/reports.py).

Permissions are checked on the server (`Principal.require`); changes come as htmx
requests with the session's CSRF token and are written to the audit log by the
people service in the same transaction.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated
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

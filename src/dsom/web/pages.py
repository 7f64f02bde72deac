"""The offices' frame: templates, language, who is logged in, navigation, login and home.

Every office page is a FastAPI route that depends on `PagePerson` (the logged-in person's
session, or a redirect to the login page) and answers `render(...)`. Pages change
things only through htmx requests, which carry the session's CSRF token in the
X-CSRF-Token header (set once on <body>); the server checks it for every request that
is not GET, HEAD or OPTIONS (auth/deps.py). Permissions are checked on the server with
the same `Principal.require` as the JSON API: the navigation only hides what the
server would refuse anyway.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from dsom.auth.deps import DB, OptionalSession
from dsom.auth.permissions import Permission, Role
from dsom.auth.principal import Principal
from dsom.kit.errors import DomainError
from dsom.kit.settings import Settings
from dsom.people.service import ActiveSession
from dsom.reports.submission import glance
from dsom.web.dashboards import dashboard
from dsom.web.i18n import COOKIE, LANGUAGES, language_of, translator

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
TEMPLATES.env.globals["LANGUAGES"] = LANGUAGES

router = APIRouter(include_in_schema=False)
# What the login page may have to explain: the API's refusals and the browser signer's.
LOGIN_CODES = (
    "bad_signature",
    "untrusted_certificate",
    "certificate_expired",
    "certificate_revoked",
    "challenge_expired",
    "challenge_used",
    "unknown_person",
    "rate_limited",
    "not_a_key_file",
    "wrong_password",
    "unsupported_key_file",
    "no_private_key",
    "no_certificate",
    "unsupported_key",
    "insecure_page",
)
P = Permission


class LoginRequired(DomainError):
    """A page was asked for without a live session: the answer is the login page."""

    status_code = 401
    code = "unauthorized"


def page_session(request: Request, session: OptionalSession) -> ActiveSession:
    """The logged-in person's session; without one, the page redirects to the login."""
    if session is None:
        raise LoginRequired("log in first")
    request.state.page_session = session
    return session


PageSession = Annotated[ActiveSession, Depends(page_session)]


@dataclass(frozen=True)
class NavItem:
    """A link of the offices' navigation, shown to those holding any of `needs`."""

    href: str
    label: str
    needs: tuple[Permission, ...]


NAVIGATION: tuple[NavItem, ...] = (
    NavItem("/office", "Home", ()),
    NavItem("/office/registers", "Registers", (P.REGISTERS_READ,)),
    NavItem("/office/registers", "Our registers", (P.REGISTERS_READ_OWN,)),
    NavItem("/office/search", "Search", (P.REGISTERS_READ, P.REGISTERS_READ_OWN)),
    NavItem("/office/representatives", "Representatives", (P.REPRESENTATIVES_MANAGE,)),
    NavItem("/office/keys", "Access keys", (P.KEYS_MANAGE,)),
    NavItem("/office/submission", "Data submission", (P.KEYS_MANAGE, P.REPORTS_OWN)),
    NavItem("/office/reports", "Reports", (P.REPORTS_ALL, P.REPORTS_FINANCIAL, P.REPORTS_OWN)),
    NavItem("/office/audit", "Audit log", (P.AUDIT_READ,)),
    NavItem("/office/officials", "Officials", (P.OFFICIALS_MANAGE,)),
)


def navigation(principal: Principal) -> list[NavItem]:
    """The links this person may follow, in order (one per address)."""
    items: list[NavItem] = []
    seen: set[str] = set()
    for item in NAVIGATION:
        if item.href in seen:
            continue
        if not item.needs or any(principal.can(p) for p in item.needs):
            items.append(item)
            seen.add(item.href)
    return items


def office_of(principal: Principal) -> str:
    """The office this person works in, by role."""
    if principal.roles & {Role.ORGANIZER_HEAD, Role.ORGANIZER_REPRESENTATIVE}:
        return "Organizer's office"
    if Role.TAX in principal.roles:
        return "Tax Service office"
    return "Regulator's office"


def render(
    request: Request,
    template: str,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """A page of `template`, with the frame's context (language, person, navigation)."""
    lang = language_of(request)
    t = translator(lang)
    session: ActiveSession | None = getattr(request.state, "page_session", None)
    principal = session.principal if session is not None else None
    path = request.url.path
    base = {
        "request": request,
        "lang": lang,
        "t": t,
        "session": session,
        "person": session.person if session is not None else None,
        "principal": principal,
        "office": t(office_of(principal)) if principal is not None else None,
        "nav": navigation(principal) if principal is not None else [],
        "current": path,
        "csrf_headers": json.dumps({"X-CSRF-Token": session.csrf_token}) if session else "{}",
        "lang_url": _lang_url,
    }
    response = TEMPLATES.TemplateResponse(
        request, template, {**base, **context}, status_code=status_code, headers=headers
    )
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _lang_url(request: Request, lang: str) -> str:
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    query.append(("lang", lang))
    return request.url.path + "?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in query)


def wants_html(request: Request) -> bool:
    """Whether an error on this request should be a page rather than JSON."""
    path = request.url.path
    if path.startswith(("/api/", "/static/", "/metrics", "/healthz", "/readyz", "/openapi")):
        return False
    return "text/html" in request.headers.get("accept", "") or path.startswith("/office")


def error_page(request: Request, status: int, message: str) -> Response:
    """The page for an error: the login for 401, a plain explanation otherwise."""
    if status == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        login = "/login?next=" + quote(target, safe="")
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": login})
        return RedirectResponse(login, status_code=303)
    t = translator(language_of(request))
    titles = {403: "Access denied", 404: "Page not found"}
    title = titles.get(status, "Something went wrong")
    if status == 403:
        message = t("You do not have the right to see this page.")
    return render(request, "error.html", status_code=status, title=t(title), message=message)


# --- login, logout, home ---------------------------------------------------------------------


@router.get("/")
def root(session: OptionalSession) -> RedirectResponse:
    """The offices' entrance: home when logged in, the login page otherwise."""
    return RedirectResponse("/office" if session is not None else "/login", status_code=303)


@router.get("/login")
def login_page(request: Request, session: OptionalSession) -> Response:
    """Pick the key file, type its password; the page signs a challenge and logs in."""
    if session is not None and not request.query_params.get("again"):
        return RedirectResponse(_safe_next(request.query_params.get("next")), status_code=303)
    t = translator(language_of(request))
    codes = LOGIN_CODES
    messages = {code: t(code) for code in codes}
    messages["failed"] = t("The login failed; try again.")
    messages["reading"] = t("Reading the key…")
    messages["signing"] = t("Signing…")
    messages["checking"] = t("Checking the signature…")
    messages["no_file"] = t("Choose your key file.")
    messages["no_password"] = t("Type the key file's password.")
    return render(
        request,
        "login.html",
        next=_safe_next(request.query_params.get("next")),
        messages=json.dumps(messages, ensure_ascii=False),
        demo_people=_demo_people(request.app.state.settings),
        logged_out=request.query_params.get("bye") == "1",
    )


def _safe_next(target: str | None) -> str:
    """Where to go after login: only a path of this site's offices."""
    if target and target.startswith("/office") and "//" not in target and "\\" not in target:
        return target
    return "/office"


def _demo_people(settings: Settings) -> list[dict[str, Any]]:
    """The demo people, when this server trusts only the demo CA (so a newcomer can log in)."""
    if settings.qes_trusted_cas:
        return []
    try:
        keys = json.loads(settings.keys_out.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    people = keys.get("people") if isinstance(keys, dict) else None
    if not isinstance(people, list):
        return []
    folder = settings.keys_out.parent
    return [{**p, "path": str(folder / p["key_file"])} for p in people if "key_file" in p]


@router.get("/office")
def home(request: Request, session: PageSession, engine: DB) -> HTMLResponse:
    """The person's home page: who they are and what they may do here, and the dashboard
    of their role (web/dashboards.py; for an organizer's people, a glance at how its
    data arrives)."""
    principal = session.principal
    return render(
        request,
        "reports/home.html",
        submission=glance(engine, principal),
        dashboard=dashboard(request, engine, principal, language_of(request)),
    )

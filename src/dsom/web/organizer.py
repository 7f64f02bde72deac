"""The organizer's office: its representatives, its access keys, and how its data arrives.

Only an organizer's own people get here, and everything is scoped on the server to the
logged-in person's organizer (`principal.organizer`) by the people service: asking
for another organizer's key or representative is answered 404, and changes nothing.
Changes come as htmx requests (CSRF token in the header, auth/deps.py) and answer the
page's changed section; every change is in the audit log, in the same transaction.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from dsom.auth.deps import DB
from dsom.auth.keys import IssuedKey
from dsom.auth.permissions import Permission
from dsom.auth.principal import Principal
from dsom.kit.codes import is_valid_rnokpp
from dsom.kit.errors import Conflict, Forbidden, ValidationFailed
from dsom.people import service
from dsom.people.api import client_ip
from dsom.reports.submission import REJECTION_CODES, SEES_SUBMISSION, submission_status
from dsom.web import formats
from dsom.web.i18n import Translate, language_of, translator
from dsom.web.pages import TEMPLATES, PageSession, render

formats.install(TEMPLATES.env)
router = APIRouter(prefix="/office", include_in_schema=False)
P = Permission

# The rights a head grants, as the page names them (the words are REPRESENTATIVE_RIGHTS').
RIGHTS: tuple[tuple[Permission, str], ...] = (
    (P.REGISTERS_READ_OWN, "See our registers entries"),
    (P.KEYS_MANAGE, "Manage access keys"),
    (P.REPORTS_OWN, "See our reports"),
)
FormText = Annotated[str, Form()]
FormList = Annotated[list[str] | None, Form()]


def _t(request: Request) -> Translate:
    return translator(language_of(request))


def own_organizer(principal: Principal, *needs: Permission) -> str:
    """The organizer the person acts for, if they hold one of `needs`; 403 otherwise."""
    principal.require(*needs)
    if principal.organizer is None:
        raise Forbidden("this page is for an organizer's own people")
    return principal.organizer


def rnokpp_error(t: Translate, rnokpp: str) -> str | None:
    """What is wrong with a typed RNOKPP, in words a person can act on; None if valid."""
    if not (len(rnokpp) == 10 and rnokpp.isascii() and rnokpp.isdigit()):
        return t("An RNOKPP is 10 digits.")
    if not is_valid_rnokpp(rnokpp):
        return t("The last digit does not match the others: check the number.")
    return None


# --- representatives --------------------------------------------------------------------------


def _representatives(
    request: Request,
    engine: DB,
    principal: Principal,
    *,
    fragment: bool,
    message: str | None = None,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    with engine.connect() as conn:
        people = service.list_representatives(conn, principal)
    return render(
        request,
        "organizer/_representatives.html" if fragment else "organizer/representatives.html",
        people=people,
        has_representatives=any(p.role.value == "organizer_representative" for p in people),
        rights=RIGHTS,
        message=message,
        form=form or {"rights": []},
        errors=errors or {},
    )


@router.get("/representatives")
def representatives_page(request: Request, session: PageSession, engine: DB) -> HTMLResponse:
    """The organizer's head and representatives, with their rights; add one."""
    own_organizer(session.principal, P.REPRESENTATIVES_MANAGE)
    return _representatives(request, engine, session.principal, fragment=False)


@router.post("/representatives")
def add_representative(
    request: Request,
    session: PageSession,
    engine: DB,
    rnokpp: FormText = "",
    name: FormText = "",
    rights: FormList = None,
) -> HTMLResponse:
    """Add a representative by RNOKPP and name, with the rights ticked."""
    principal = session.principal
    own_organizer(principal, P.REPRESENTATIVES_MANAGE)
    t = _t(request)
    rnokpp, name, granted = rnokpp.strip(), " ".join(name.split()), rights or []
    form = {"rnokpp": rnokpp, "name": name, "rights": granted}
    errors: dict[str, str] = {}
    if problem := rnokpp_error(t, rnokpp):
        errors["rnokpp"] = problem
    if not name:
        errors["name"] = t("Type the person's name.")
    if not errors:
        try:
            with service.transaction(engine) as conn:
                added = service.add_representative(
                    conn, principal, rnokpp=rnokpp, name=name, rights=granted, ip=client_ip(request)
                )
        except Conflict:
            errors["rnokpp"] = t("This person already acts for your organizer.")
        except ValidationFailed:
            errors["rights"] = t("Choose rights from the list.")
        else:
            message = t("{name} was added as a representative.").format(name=added.name)
            return _representatives(request, engine, principal, fragment=True, message=message)
    return _representatives(request, engine, principal, fragment=True, form=form, errors=errors)


@router.post("/representatives/{person_id}/rights")
def change_rights(
    request: Request, person_id: int, session: PageSession, engine: DB, rights: FormList = None
) -> HTMLResponse:
    """Grant and revoke a representative's rights: the ticked ones are what they hold."""
    principal = session.principal
    own_organizer(principal, P.REPRESENTATIVES_MANAGE)
    with service.transaction(engine) as conn:
        changed = service.change_rights(
            conn, principal, person_id, rights=rights or [], ip=client_ip(request)
        )
    message = _t(request)("The rights of {name} were saved.").format(name=changed.name)
    return _representatives(request, engine, principal, fragment=True, message=message)


@router.delete("/representatives/{person_id}")
def remove_representative(
    request: Request, person_id: int, session: PageSession, engine: DB
) -> HTMLResponse:
    """Remove a representative: they are logged out at once and cannot log in again."""
    principal = session.principal
    own_organizer(principal, P.REPRESENTATIVES_MANAGE)
    with service.transaction(engine) as conn:
        removed = service.remove_representative(conn, principal, person_id, ip=client_ip(request))
    message = _t(request)("{name} was removed and logged out.").format(name=removed.name)
    return _representatives(request, engine, principal, fragment=True, message=message)


# --- access keys ------------------------------------------------------------------------------


def _keys(
    request: Request,
    engine: DB,
    principal: Principal,
    *,
    fragment: bool,
    issued: IssuedKey | None = None,
    message: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    with engine.connect() as conn:
        keys = service.list_access_keys(conn, principal)
    return render(
        request,
        "organizer/_keys.html" if fragment else "organizer/keys.html",
        keys=keys,
        issued=issued,
        message=message,
        form=form or {},
        errors=errors or {},
    )


@router.get("/keys")
def keys_page(request: Request, session: PageSession, engine: DB) -> HTMLResponse:
    """The organizer's access keys; create one, deactivate one."""
    own_organizer(session.principal, P.KEYS_MANAGE)
    return _keys(request, engine, session.principal, fragment=False)


@router.post("/keys")
def create_key(
    request: Request, session: PageSession, engine: DB, name: FormText = ""
) -> HTMLResponse:
    """Create an access key: its secret is in this answer and nowhere else, ever."""
    principal = session.principal
    own_organizer(principal, P.KEYS_MANAGE)
    t = _t(request)
    try:
        with service.transaction(engine) as conn:
            issued = service.create_access_key(conn, principal, name=name, ip=client_ip(request))
    except ValidationFailed:
        errors = {"name": t("Give the key a name of up to 200 characters.")}
        return _keys(request, engine, principal, fragment=True, form={"name": name}, errors=errors)
    return _keys(request, engine, principal, fragment=True, issued=issued)


@router.post("/keys/{key_id}/deactivate")
def deactivate_key(request: Request, key_id: str, session: PageSession, engine: DB) -> HTMLResponse:
    """Deactivate an access key: DSOM refuses it within a second, for good."""
    principal = session.principal
    own_organizer(principal, P.KEYS_MANAGE)
    with service.transaction(engine) as conn:
        service.deactivate_access_key(conn, principal, key_id, ip=client_ip(request))
    message = _t(request)("The key {key} was deactivated.").format(key=key_id)
    return _keys(request, engine, principal, fragment=True, message=message)


# --- data submission --------------------------------------------------------------------------


@router.get("/submission")
def submission_page(request: Request, session: PageSession, engine: DB) -> HTMLResponse:
    """How the organizer's data arrives: last request, today's and the last 24 hours'
    figures, and the last 7 days' rejected operations by hour and code."""
    principal = session.principal
    organizer = own_organizer(principal, *SEES_SUBMISSION)
    with engine.connect() as conn:
        status = submission_status(conn, organizer)
    t = _t(request)
    last_ago = formats.ago(t, status.now, status.last_received) if status.last_received else None
    codes = [c for c in REJECTION_CODES if c in status.by_code]
    codes += [c for c in status.by_code if c not in codes]
    return render(
        request,
        "organizer/submission.html",
        status=status,
        last_ago=last_ago,
        codes=codes,
        all_codes=REJECTION_CODES,
        can_keys=principal.can(P.KEYS_MANAGE),
    )

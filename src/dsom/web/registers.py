"""The registers' pages of the offices, generated from the register declarations.

One set of routes and templates serves every declared register: the list (filters,
text search, paging, as-of), an entry with its history, the create and edit forms,
status changes, CSV import and export, and search across registers. Nothing here is
written for one register: fields, widgets, labels, filters, allowed status changes
and references all come from `registers/declarations.py`.

    GET       /office/registers                         the registers the person may read
    GET       /office/registers/{name}                  list: <filter>=, q, as_of, page, order
    GET       /office/registers/{name}/export           format=csv|json, with the list's filters
    GET/POST  /office/registers/{name}/new              create form / create
    GET       /office/registers/{name}/choices          reference choices of one organizer (htmx)
    GET/POST  /office/registers/{name}/import           CSV import form / import
    GET/POST  /office/registers/{name}/{key}/edit       edit form / change, with grounds
    POST      /office/registers/{name}/{key}/status     change the status, with grounds
    GET       /office/registers/{name}/{key}            the entry, its history, as_of
    GET       /office/search                            q: across every readable register

Reading and changing go through `registers/service.py` with the person's principal,
exactly as the JSON API does: permissions are checked there (and, for forms, before
they are shown), an organizer's person sees only its organizer's entries (the
repository's `_scope`), and every change is in the history and the audit log.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import Connection, Engine
from starlette.datastructures import FormData, UploadFile

from dsom.auth.deps import DB
from dsom.auth.permissions import Permission
from dsom.auth.principal import Principal
from dsom.kit.db import write_transaction
from dsom.kit.errors import Conflict, NotFound, ValidationFailed
from dsom.kit.time import KYIV, isoformat_z
from dsom.people.api import client_ip
from dsom.registers import repository as repo
from dsom.registers import service
from dsom.registers.declarations import REGISTERS
from dsom.registers.declare import Register
from dsom.registers.fields import (
    EMAIL,
    PHONE,
    Choice,
    Day,
    Edrpou,
    Field,
    Ref,
    Rnokpp,
    Text,
)
from dsom.web.i18n import language_of, translator
from dsom.web.locale.registers import ENTRIES_UK, MESSAGES_UK
from dsom.web.pages import PageSession, render

router = APIRouter(prefix="/office", include_in_schema=False)
P = Permission

PAGE_SIZE = 50
SEARCH_PER_REGISTER = 10
MAX_CHOICES = 1000  # a reference offers at most this many entries to pick from
SELECT_LIMIT = 300  # above this, a reference is typed (with suggestions) rather than picked
MAX_IMPORT_BYTES = 20 * 1024 * 1024
DONE = {
    "created": "The entry was recorded.",
    "updated": "The changes were saved; the previous version is kept in the history.",
    "unchanged": "Nothing was changed: the values you sent are those the entry has.",
    "status": "The status was changed.",
}
# The verb of a status change, by the status it leads to.
VERBS = {
    "active": "Activate",
    "suspended": "Suspend",
    "revoked": "Revoke",
    "expired": "Mark as expired",
    "inactive": "Make inactive",
    "pending": "Return to pending",
}
ACTIONS = {
    "create": "Entry created",
    "update": "Changed",
    "status": "Status changed",
    "import": "Imported from a file",
}
ACTOR = re.compile(r"^(?P<kind>\w+):(?P<id>\S+) \((?P<name>.*)\)$")
LOCAL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?$")


# --- what a page shows of a register -----------------------------------------------------------


@dataclass(frozen=True)
class View:
    """A register as a page shows it, in the page's language: titles, labels, values, links."""

    reg: Register
    lang: str
    # What the entries a page shows refer to, in a few words: (register, key) -> words.
    names: Mapping[tuple[str, str], str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The register's name (its address)."""
        return self.reg.name

    @property
    def title(self) -> str:
        """The register's title."""
        return self.reg.title_uk if self.lang == "uk" else self.reg.title_en

    @property
    def entry_word(self) -> str:
        """What one entry is called ("licence")."""
        return (
            ENTRIES_UK.get(self.reg.entry, self.reg.entry) if self.lang == "uk" else self.reg.entry
        )

    @property
    def url(self) -> str:
        """The list page."""
        return f"/office/registers/{self.reg.name}"

    @property
    def key_field(self) -> Field:
        """The field that identifies an entry."""
        return self.reg.get_field(self.reg.key)

    @property
    def columns(self) -> tuple[Field, ...]:
        """The fields the list shows: the required ones, status last (the entry's page shows
        them all; optional contacts and names would make the list too wide to read)."""
        return tuple(f for f in self.reg.all_fields if f.required)

    def label(self, f: Field | str) -> str:
        """A field's label."""
        if isinstance(f, str):
            try:
                found = self.reg.get_field(f)
            except KeyError:
                return f
        else:
            found = f
        return found.label_uk if self.lang == "uk" else found.label_en

    def word(self, value: str | None) -> str:
        """A choice value's label (a status, an activity, a kind), or the value itself."""
        if value is None:
            return "—"
        labels = self.reg.labels.get(value)
        if labels is None:
            return value
        return labels[0] if self.lang == "uk" else labels[1]

    def show(self, f: Field, value: Any) -> str:
        """A stored value as text: choices by their label, dates as YYYY-MM-DD, empty as —."""
        if value is None or value == "":
            return "—"
        if isinstance(f.type, Choice):
            return self.word(str(value))
        return str(f.type.dump(value))

    def compact(self, f: Field) -> bool:
        """Whether a column holds codes or dates, which are not broken across lines."""
        return f.name == self.reg.key or isinstance(f.type, (Ref, Day, Edrpou, Rnokpp))

    def ref_name(self, f: Field, value: Any) -> str:
        """What a reference points to, in a few words ("" if not known)."""
        if value is None or not isinstance(f.type, Ref):
            return ""
        return self.names.get((f.type.register, str(value)), "")

    def with_names(self, names: Mapping[tuple[str, str], str]) -> View:
        """The same view, knowing what these references point to."""
        return View(self.reg, self.lang, names)

    def link(self, f: Field, value: Any) -> str | None:
        """The page of the entry a reference points to (None for other fields)."""
        if value is None or not isinstance(f.type, Ref):
            return None
        return entry_url(f.type.register, str(value))

    def entry_url(self, key: Any, **query: str) -> str:
        """An entry's page."""
        url = entry_url(self.reg.name, str(key))
        return f"{url}?{urlencode(query)}" if query else url


def entry_url(register: str, key: str) -> str:
    """The page of an entry of `register` (the key is escaped: licence numbers may hold '/')."""
    return f"/office/registers/{register}/{quote(key, safe='')}"


def _kyiv(value: datetime | None) -> str:
    """An instant as Kyiv time, `YYYY-MM-DD HH:MM:SS`."""
    if value is None:
        return "—"
    return value.astimezone(KYIV).strftime("%Y-%m-%d %H:%M:%S")


def _actor(text: str, t: Callable[[str], str]) -> dict[str, str]:
    """Who made a change, for people: the name, and what kind of caller it was."""
    found = ACTOR.match(text)
    if found is None:
        return {"name": text, "kind": "", "full": text}
    kinds = {"person": "", "token": t("API token"), "system": t("system"), "key": t("access key")}
    return {"name": found["name"], "kind": kinds.get(found["kind"], ""), "full": text}


def translate_message(message: str, view: View) -> str:
    """A service's English message in the page's language (Ukrainian patterns from the
    locale; field names, statuses and kinds by their labels), or as it is."""
    if view.lang != "uk":
        return message
    for pattern, template in MESSAGES_UK:
        found = re.fullmatch(pattern, message)
        if found is None:
            continue
        parts = {name: _words(value or "", view) for name, value in found.groupdict().items()}
        return template.format(**parts)
    if "; " in message:  # several messages in one (an import's header)
        return "; ".join(translate_message(part, view) for part in message.split("; "))
    return message


def _words(text: str, view: View) -> str:
    """Each comma-separated word by its label: a field, a status or kind, an entry."""

    def one(word: str) -> str:
        if word in view.reg.labels:
            return view.word(word)
        names = {f.name for f in view.reg.all_fields}
        if word in names:
            return view.label(word)
        name, _, value = word.partition(" ")
        if name in names and value:  # "domain casino.ua": a field and its value
            return f"{view.label(name)} {value}"
        for reg in REGISTERS.values():
            if word in reg.labels:
                return View(reg, view.lang).word(word)
        return ENTRIES_UK.get(word, word)

    return ", ".join(one(w) for w in text.split(", "))


# --- access ------------------------------------------------------------------------------------


def readable(principal: Principal) -> list[Register]:
    """The registers this person may read."""
    return [r for r in REGISTERS.values() if any(principal.can(p) for p in r.read)]


def register_for(request: Request, principal: Principal, name: str) -> Register:
    """The register called `name`, if this person may read it (404 / 403 otherwise)."""
    try:
        reg = service.register_of(name)
    except NotFound:
        raise NotFound(translator(language_of(request))("There is no such register.")) from None
    principal.require(*reg.read)
    return reg


@contextmanager
def entry_or_404(view: View, key: str) -> Iterator[None]:
    """Say "no such entry" in the page's language: the same whether there is none or it is
    another organizer's (nothing is revealed)."""
    try:
        yield
    except NotFound:
        message = translator(view.lang)("The register has no entry {key}.").format(key=key)
        raise NotFound(message) from None


def _parse_as_of(text: str | None) -> datetime | None:
    """`as_of` of a page: a date (Kyiv midnight), a Kyiv time `YYYY-MM-DD HH:MM[:SS]`, or
    an RFC 3339 instant."""
    text = (text or "").strip()
    if LOCAL_TIME.match(text):
        try:
            local = datetime.fromisoformat(text.replace(" ", "T"))
        except ValueError:
            pass
        else:
            return local.replace(tzinfo=KYIV).astimezone(UTC)
    return service.parse_as_of(text)


def _local_input(value: datetime | None) -> str:
    """An instant as the as-of field shows it: Kyiv time, `YYYY-MM-DD HH:MM[:SS]`."""
    if value is None:
        return ""
    local = value.astimezone(KYIV)
    return local.strftime("%Y-%m-%d %H:%M:%S" if local.second else "%Y-%m-%d %H:%M")


def _redirect(request: Request, url: str) -> Response:
    """After a change: htmx follows HX-Redirect; a plain request a 303."""
    if request.headers.get("hx-request"):
        return Response(status_code=200, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


# --- forms -------------------------------------------------------------------------------------


@dataclass
class Widget:
    """One field of a generated form: how it is typed in, its value, help and error."""

    name: str
    label: str
    kind: str  # text, textarea, numeric, email, tel, date, select, datalist, fixed
    required: bool
    value: str = ""
    shown: str = ""  # the value as text, for a field that cannot be changed here
    help: str = ""
    error: str = ""
    max_length: int | None = None
    options: list[tuple[str, str]] = field(default_factory=list)
    disabled_note: str = ""  # a reference that waits for the organizer to be chosen
    organizer_dependent: bool = False
    link: str | None = None


@dataclass
class FormState:
    """What a form shows: the values typed, the errors beside their fields, the grounds."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    decision: str = ""
    reason: str = ""
    general: str = ""  # an error that belongs to no field


def _text_of(f: Field, value: Any) -> str:
    """A stored value as a form input's value."""
    return "" if value is None else str(f.type.dump(value))


def _help(f: Field, t: Callable[[str], str]) -> str:
    if isinstance(f.type, Day):
        return f"{t('YYYY-MM-DD')}: {t(f.help_en)}" if f.help_en else t("YYYY-MM-DD")
    if f.help_en:
        return t(f.help_en)
    if isinstance(f.type, Text) and f.type.pattern_hint:
        return t(f.type.pattern_hint)
    if isinstance(f.type, Edrpou):
        return t("8 digits, the last a check digit")
    if isinstance(f.type, Rnokpp):
        return t("10 digits, the last a check digit")
    return ""


def _choices(
    conn: Connection,
    principal: Principal,
    ref: Ref,
    organizer: str | None,
    view: View,
) -> list[tuple[str, str]]:
    """The entries a reference may point to (of `organizer`, where it must be the same):
    (key, "key — what it is")."""
    target = REGISTERS[ref.register]
    filters = {target.organizer_field: organizer} if ref.same_organizer and organizer else {}
    entries, _ = service.list_entries(conn, target, principal, filters=filters, limit=MAX_CHOICES)
    tview = View(target, view.lang)
    return [(str(e[target.key]), describe(tview, e)) for e in entries]


def describe(view: View, entry: Mapping[str, Any], *, with_key: bool = True, words: int = 2) -> str:
    """An entry in a few words: its key, then up to `words` of the required text and choice
    fields that say what it is (not codes, dates or references), and its status unless it
    is active."""
    reg = view.reg
    said: list[str] = []
    for f in reg.fields:
        if f.name in {reg.key, reg.organizer_field} or not f.required:
            continue
        if not isinstance(f.type, (Text, Choice)) or entry.get(f.name) in (None, ""):
            continue
        said.append(view.show(f, entry[f.name]))
        if len(said) == words:
            break
    if not with_key:
        return " · ".join(said)
    text = f"{entry[reg.key]} — {' · '.join(said)}" if said else str(entry[reg.key])
    if entry.get("status") and entry["status"] != "active":
        text += f" ({view.word(entry['status'])})"
    return text


def ref_names(
    conn: Connection, principal: Principal, view: View, entries: Iterable[Mapping[str, Any]]
) -> View:
    """`view`, knowing in a word or two what the entries' references point to (one query
    per referenced register; only entries the person may see)."""
    wanted: dict[str, set[str]] = {}
    for entry in entries:
        for f, ref in view.reg.refs:
            if entry.get(f.name) is not None:
                wanted.setdefault(ref.register, set()).add(str(entry[f.name]))
    names: dict[tuple[str, str], str] = {}
    for register, keys in wanted.items():
        target = REGISTERS[register]
        tview = View(target, view.lang)
        for key, found in service.get_many(conn, target, principal, keys).items():
            names[(register, key)] = describe(tview, found, with_key=False, words=1)
    return view.with_names(names)


def form_widgets(
    conn: Connection,
    principal: Principal,
    view: View,
    state: FormState,
    *,
    existing: Mapping[str, Any] | None,
) -> list[Widget]:
    """The widgets of the create form (`existing` None) or the edit form, from the fields."""
    reg = view.reg
    t = translator(view.lang)
    organizer = (
        str(existing[reg.organizer_field])
        if existing is not None
        else state.values.get(reg.organizer_field, "").strip() or None
    )
    widgets: list[Widget] = []
    for f in reg.fields:
        if existing is None and f.name == reg.key and reg.key_prefix:
            continue  # assigned by DSOM
        w = Widget(
            name=f.name,
            label=view.label(f),
            kind="text",
            required=f.required,
            value=state.values.get(f.name, ""),
            help=_help(f, t),
            error=state.errors.get(f.name, ""),
        )
        if existing is not None and not f.editable:
            w.kind = "fixed"
            w.shown = view.show(f, existing.get(f.name))
            if name := view.ref_name(f, existing.get(f.name)):
                w.shown += f" · {name}"
            w.link = view.link(f, existing.get(f.name))
            w.help = ""
        elif isinstance(f.type, Choice):
            w.kind = "select"
            w.options = [(v, view.word(v)) for v in f.type.values]
        elif isinstance(f.type, Day):
            # Typed as YYYY-MM-DD, as every date in DSOM is written (a browser's date picker
            # shows the browser's own format, e.g. 06/14/2025).
            w.kind = "date"
            w.max_length = 10
        elif isinstance(f.type, Ref):
            dependent = f.type.same_organizer and f.name != reg.organizer_field
            w.organizer_dependent = dependent
            if dependent and not organizer:
                w.kind = "select"
                w.disabled_note = t("Choose the organizer first")
            else:
                w.options = _choices(conn, principal, f.type, organizer, view)
                w.kind = "select" if len(w.options) <= SELECT_LIMIT else "datalist"
                if dependent and not w.options:
                    w.disabled_note = t("This organizer has no entries to choose from here")
        elif isinstance(f.type, (Edrpou, Rnokpp)):
            w.kind = "numeric"
            w.max_length = 8 if isinstance(f.type, Edrpou) else 10
        elif f.type == EMAIL:
            w.kind = "email"
        elif f.type == PHONE:
            w.kind = "tel"
        elif isinstance(f.type, Text):
            w.kind = "textarea" if f.type.max_length >= 500 else "text"
            w.max_length = f.type.max_length
        widgets.append(w)
    return widgets


def _form_state(form: FormData, names: Iterable[str]) -> FormState:
    """The values of a posted form (text fields only), and its grounds."""
    values = {n: str(form.get(n) or "") for n in names if n in form}
    return FormState(
        values=values,
        decision=str(form.get("grounds_decision") or ""),
        reason=str(form.get("grounds_reason") or ""),
    )


def _grounds(state: FormState) -> tuple[service.Grounds | None, list[dict[str, str]]]:
    """The grounds of a posted form, or their errors."""
    try:
        return service.Grounds.parse({"decision": state.decision, "reason": state.reason}), []
    except ValidationFailed as exc:
        return None, list(exc.details.get("fields", []))


def _place_errors(state: FormState, fields: Iterable[Mapping[str, Any]], view: View) -> None:
    """Put each field error beside its field (grounds errors beside the reason)."""
    where = {
        "grounds": "grounds_reason",
        "grounds.decision": "grounds_decision",
        "grounds.reason": "grounds_reason",
    }
    for e in fields:
        name = where.get(str(e.get("field")), str(e.get("field")))
        message = translate_message(str(e.get("message", "")), view)
        state.errors[name] = f"{state.errors[name]}; {message}" if name in state.errors else message


# --- the registers -----------------------------------------------------------------------------


@router.get("/registers")
def registers_index(request: Request, session: PageSession, engine: DB) -> HTMLResponse:
    """The registers this person may read, with how many entries each has (theirs only,
    for an organizer's person), by status."""
    principal = session.principal
    principal.require(P.REGISTERS_READ, P.REGISTERS_READ_OWN)
    lang = language_of(request)
    rows = []
    with engine.connect() as conn:
        for reg in readable(principal):
            by_status = repo.count_by_status(conn, reg, principal)
            view = View(reg, lang)
            rows.append(
                {
                    "view": view,
                    "total": sum(by_status.values()),
                    "statuses": [
                        (s, view.word(s), by_status[s]) for s in reg.statuses if s in by_status
                    ],
                }
            )
    return render(request, "registers/index.html", rows=rows)


def _list_params(request: Request, **changes: Any) -> dict[str, str]:
    """The list page's query parameters with some changed (None drops one)."""
    query = dict(request.query_params)
    query.pop("lang", None)
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = str(value)
    return {k: v for k, v in query.items() if v != ""}


def _list_query(request: Request, **changes: Any) -> str:
    """The list page's query string with some parameters changed (None drops one)."""
    return urlencode(_list_params(request, **changes))


def _filters(
    view: View, principal: Principal, params: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, str], list[dict[str, Any]]]:
    """The list's filters from the query (only valid ones applied), their errors, and what
    the filter form shows."""
    reg = view.reg
    applied: dict[str, Any] = {}
    errors: dict[str, str] = {}
    controls = []
    for f in reg.all_fields:
        if not f.filterable:
            continue
        if f.name == reg.organizer_field and principal.organizer is not None:
            continue  # an organizer's person sees only its own: nothing to choose
        raw = (params.get(f.name) or "").strip()
        if raw:
            try:
                applied[f.name] = f.type.parse(raw)
            except ValueError as exc:
                errors[f.name] = translate_message(str(exc), view)
        controls.append(
            {
                "name": f.name,
                "label": view.label(f),
                "value": raw,
                "options": [(v, view.word(v)) for v in f.type.values]
                if isinstance(f.type, Choice)
                else None,
                "error": errors.get(f.name, ""),
            }
        )
    return applied, errors, controls


@router.get("/registers/{name}")
def register_list(
    request: Request,
    name: str,
    session: PageSession,
    engine: DB,
    q: str = "",
    as_of: str = "",
    page: int = 1,
    order: str = "asc",
) -> HTMLResponse:
    """A register's entries: filters, text search, paging, sorted by key, as of a moment."""
    principal = session.principal
    reg = register_for(request, principal, name)
    lang = language_of(request)
    t = translator(lang)
    view = View(reg, lang)
    filters, errors, controls = _filters(view, principal, request.query_params)
    at: datetime | None = None
    try:
        at = _parse_as_of(as_of)
    except ValidationFailed:
        errors["as_of"] = t("Give a date, or a date and time: 2026-01-31 or 2026-01-31 14:00.")
    page = max(1, page)
    descending = order == "desc"
    with engine.connect() as conn:
        entries, total = service.list_entries(
            conn,
            reg,
            principal,
            filters=filters,
            text=q.strip() or None,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
            as_of=at,
            descending=descending,
        )
        view = ref_names(conn, principal, view, entries)
    pages = max(1, -(-total // PAGE_SIZE))
    export_params = _list_params(request, page=None, order=None, done=None)
    return render(
        request,
        "registers/list.html",
        title=view.title,
        view=view,
        entries=entries,
        total=total,
        page=page,
        pages=pages,
        first=(page - 1) * PAGE_SIZE + 1 if total else 0,
        last=min(page * PAGE_SIZE, total),
        q=q,
        as_of_value=_local_input(at) if at else "",
        as_of=at,
        as_of_text=_kyiv(at) if at else "",
        controls=controls,
        errors=errors,
        filtered=bool(filters or q.strip() or at),
        order=order if order in {"asc", "desc"} else "asc",
        sort_href="?" + _list_query(request, order="asc" if descending else "desc", page=None),
        prev_href="?" + _list_query(request, page=page - 1) if page > 1 else None,
        next_href="?" + _list_query(request, page=page + 1) if page < pages else None,
        export_csv=f"{view.url}/export?" + urlencode({**export_params, "format": "csv"}),
        export_json=f"{view.url}/export?" + urlencode({**export_params, "format": "json"}),
        can_write=principal.can(reg.write),
        entry_href=lambda key: (
            view.entry_url(key, as_of=isoformat_z(at)) if at else view.entry_url(key)
        ),
    )


@router.get("/registers/{name}/export")
def register_export(
    request: Request,
    name: str,
    session: PageSession,
    engine: DB,
    format: str = "csv",
    q: str = "",
    as_of: str = "",
) -> Response:
    """The list as a file, CSV or JSON, with the list's filters, search and as-of."""
    principal = session.principal
    reg = register_for(request, principal, name)
    view = View(reg, language_of(request))
    filters, _errors, _ = _filters(view, principal, request.query_params)
    at = _parse_as_of(as_of)
    stamp = (at or datetime.now(UTC)).astimezone(KYIV).strftime("%Y-%m-%d")
    filename = f"{reg.name}-{stamp}.{'json' if format == 'json' else 'csv'}"
    disposition = {"content-disposition": f'attachment; filename="{filename}"'}
    text = q.strip() or None
    with engine.connect() as conn:
        if format == "json":
            document = service.export_json(conn, reg, principal, at, filters=filters, text=text)
            return JSONResponse(document, headers=disposition)
        csv_text = service.export_csv(conn, reg, principal, at, filters=filters, text=text)
    # A byte-order mark, so that spreadsheet programs read the Ukrainian as UTF-8.
    return Response("\ufeff" + csv_text, media_type="text/csv; charset=utf-8", headers=disposition)


# --- creating ----------------------------------------------------------------------------------


def _form_page(
    request: Request,
    conn: Connection,
    principal: Principal,
    view: View,
    state: FormState,
    *,
    existing: Mapping[str, Any] | None,
    fragment: bool = False,
) -> HTMLResponse:
    if existing is not None:
        view = ref_names(conn, principal, view, [existing])
    widgets = form_widgets(conn, principal, view, state, existing=existing)
    reg = view.reg
    return render(
        request,
        "registers/_form.html" if fragment else "registers/form.html",
        title=view.title,
        view=view,
        widgets=widgets,
        state=state,
        existing=existing,
        version=existing["version"] if existing else None,
        action=(f"{view.entry_url(existing[reg.key])}/edit" if existing else f"{view.url}/new"),
        generated_key=reg.key_prefix is not None and existing is None,
        initial_status=view.word(reg.initial_status),
        has_errors=bool(state.errors or state.general),
    )


@router.get("/registers/{name}/new")
def create_form(request: Request, name: str, session: PageSession, engine: DB) -> HTMLResponse:
    """The form of a new entry, generated from the register's fields."""
    principal = session.principal
    reg = register_for(request, principal, name)
    principal.require(reg.write)
    view = View(reg, language_of(request))
    state = FormState(values={k: v for k, v in request.query_params.items() if k != "lang"})
    with engine.connect() as conn:
        return _form_page(request, conn, principal, view, state, existing=None)


@router.get("/registers/{name}/choices")
def reference_choices(
    request: Request, name: str, session: PageSession, engine: DB
) -> HTMLResponse:
    """The reference fields that depend on the organizer, for the organizer just chosen
    (htmx swaps them into the form)."""
    principal = session.principal
    reg = register_for(request, principal, name)
    principal.require(reg.write)
    view = View(reg, language_of(request))
    state = FormState(values={k: v for k, v in request.query_params.items() if k != "lang"})
    with engine.connect() as conn:
        widgets = form_widgets(conn, principal, view, state, existing=None)
    return render(
        request,
        "registers/_choices.html",
        widgets=[w for w in widgets if w.organizer_dependent],
    )


@router.post("/registers/{name}/new")
async def create_entry(request: Request, name: str, session: PageSession, engine: DB) -> Response:
    """Record a new entry; on errors the form again, with them beside their fields."""
    principal = session.principal
    reg = register_for(request, principal, name)
    principal.require(reg.write)
    view = View(reg, language_of(request))
    names = [f.name for f in reg.fields if not (f.name == reg.key and reg.key_prefix)]
    state = _form_state(await request.form(), names)
    ip = client_ip(request)

    def run() -> Response:
        grounds, problems = _grounds(state)
        values = dict(state.values)
        if grounds is not None:
            try:
                with write_transaction(engine) as conn:
                    entry = service.create(conn, reg, principal, values, grounds, ip=ip)
                return _redirect(request, view.entry_url(entry[reg.key], done="created"))
            except ValidationFailed as exc:
                problems = list(exc.details.get("fields", []))
        else:
            problems += _validation_errors(engine, reg, values, existing=None)
        _place_errors(state, problems, view)
        with engine.connect() as conn:
            return _form_page(request, conn, principal, view, state, existing=None, fragment=True)

    return await run_in_threadpool(run)


def _validation_errors(
    engine: Engine, reg: Register, values: Mapping[str, Any], *, existing: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    """The values' errors (to show them all at once when the grounds are missing too)."""
    try:
        with engine.connect() as conn:
            service.validate(conn, reg, values, existing=existing)
    except ValidationFailed as exc:
        return list(exc.details.get("fields", []))
    return []


# --- importing ---------------------------------------------------------------------------------


@router.get("/registers/{name}/import")
def import_form(request: Request, name: str, session: PageSession) -> HTMLResponse:
    """The CSV import form, with the columns the file may have."""
    principal = session.principal
    reg = register_for(request, principal, name)
    principal.require(reg.write)
    view = View(reg, language_of(request))
    return render(request, "registers/import.html", title=view.title, view=view, state=FormState())


@router.post("/registers/{name}/import")
async def import_file(request: Request, name: str, session: PageSession, engine: DB) -> Response:
    """Import a CSV file, all or nothing: the result, or every bad line with its reason."""
    principal = session.principal
    reg = register_for(request, principal, name)
    principal.require(reg.write)
    lang = language_of(request)
    t = translator(lang)
    view = View(reg, lang)
    form = await request.form()
    state = _form_state(form, ())
    upload = form.get("file")
    text: str | None = None
    if not isinstance(upload, UploadFile) or not upload.filename:
        state.errors["file"] = t("Choose a CSV file.")
    else:
        raw = await upload.read(MAX_IMPORT_BYTES + 1)
        if len(raw) > MAX_IMPORT_BYTES:
            state.errors["file"] = t("The file is larger than 20 MB; split it.")
        else:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                state.errors["file"] = t("The file is not UTF-8 text; save it as CSV UTF-8.")
    ip = client_ip(request)

    def run() -> Response:
        grounds, problems = _grounds(state)
        _place_errors(state, problems, view)
        rows: list[dict[str, Any]] = []
        result = None
        if grounds is not None and text is not None and not state.errors:
            try:
                with write_transaction(engine) as conn:
                    result = service.import_csv(conn, reg, principal, text, grounds, ip=ip)
                state.decision = state.reason = ""  # done: the form is for the next file
            except service.ImportFailed as exc:
                rows = [
                    {
                        "line": r["line"],
                        "field": view.label(r["field"]) if r.get("field") else "",
                        "message": translate_message(str(r["message"]), view),
                    }
                    for r in exc.details.get("rows", [])
                ]
        return render(
            request,
            "registers/_import.html",
            view=view,
            state=state,
            rows=rows,
            result=result,
            filename=upload.filename if isinstance(upload, UploadFile) else "",
        )

    return await run_in_threadpool(run)


# --- an entry ----------------------------------------------------------------------------------


def _history_rows(
    view: View, versions: list[dict[str, Any]], t: Callable[[str], str]
) -> list[dict[str, Any]]:
    """Every version, newest first, with what changed from the one before."""
    reg = view.reg
    rows = []
    previous: Mapping[str, Any] | None = None
    for v in versions:
        changes = []
        if previous is not None:
            for f in reg.all_fields:
                if v.get(f.name) != previous.get(f.name):
                    changes.append(
                        {
                            "label": view.label(f),
                            "before": view.show(f, previous.get(f.name)),
                            "after": view.show(f, v.get(f.name)),
                        }
                    )
        rows.append(
            {
                "version": v["version"],
                "recorded_at": _kyiv(v["recorded_at"]),
                "as_of": isoformat_z(v["recorded_at"]),
                "action": t(ACTIONS.get(v["action"], v["action"])),
                "actor": _actor(v["actor"], t),
                "decision": v["grounds_decision"],
                "reason": v["grounds_reason"],
                "changes": changes,
                "first": previous is None,
                "current": v["superseded_at"] is None,
            }
        )
        previous = v
    return list(reversed(rows))


def _referrers(
    conn: Connection, principal: Principal, view: View, key: str
) -> list[dict[str, Any]]:
    """The registers whose entries refer to this one, with how many do and a link to them."""
    found = []
    for other in readable(principal):
        for f in other.all_fields:
            if not (isinstance(f.type, Ref) and f.type.register == view.reg.name and f.filterable):
                continue
            _, total = service.list_entries(conn, other, principal, filters={f.name: key}, limit=1)
            oview = View(other, view.lang)
            found.append(
                {
                    "title": oview.title,
                    "total": total,
                    "href": f"{oview.url}?{urlencode({f.name: key})}",
                }
            )
    return found


def _status_forms(
    view: View,
    entry: Mapping[str, Any],
    principal: Principal,
    state: FormState | None = None,
    open_status: str = "",
) -> list[dict[str, Any]]:
    """One form per status change the declaration allows from the entry's status."""
    reg = view.reg
    if not principal.can(reg.status_permission):
        return []
    t = translator(view.lang)
    forms = []
    for target in reg.transitions.get(entry["status"], ()):
        mine = state if state is not None and open_status == target else FormState()
        forms.append(
            {
                "status": target,
                "verb": t(VERBS.get(target, "Change the status")),
                "label": view.word(target),
                "danger": target != "active",
                "state": mine,
                "open": state is not None and open_status == target,
            }
        )
    return forms


def _entry_context(
    conn: Connection,
    principal: Principal,
    view: View,
    key: str,
    at: datetime | None,
) -> dict[str, Any]:
    """What the entry page shows: the entry (now, or as of `at`), its history, its links."""
    reg = view.reg
    t = translator(view.lang)
    versions = service.history(conn, reg, principal, key)  # 404 when not visible
    entry: Mapping[str, Any] | None
    try:
        entry = service.get(conn, reg, principal, key, at)
    except NotFound:
        entry = None  # it did not exist yet at `at`
    current = service.get(conn, reg, principal, key)
    view = ref_names(conn, principal, view, [e for e in (entry, current) if e is not None])
    return {
        "title": f"{view.title}: {key}",
        "view": view,
        "key": key,
        "entry": entry,
        "latest": current,
        "history": _history_rows(view, versions, t),
        "as_of": at,
        "as_of_text": _kyiv(at) if at else "",
        "as_of_value": _local_input(at),
        "referrers": _referrers(conn, principal, view, key) if at is None else [],
        "can_write": principal.can(reg.write) and at is None,
        "editable": any(f.editable for f in reg.fields),
        "status_forms": _status_forms(view, current, principal) if at is None else [],
        "can_status": principal.can(reg.status_permission),
        "organizers_register": reg.organizer_field == reg.key,
    }


@router.get("/registers/{name}/{key:path}/edit")
def edit_form(
    request: Request, name: str, key: str, session: PageSession, engine: DB
) -> HTMLResponse:
    """The form that changes an entry: its editable fields, and the grounds of the change."""
    principal = session.principal
    reg = register_for(request, principal, name)
    principal.require(reg.write)
    view = View(reg, language_of(request))
    with engine.connect() as conn, entry_or_404(view, key):
        existing = service.get(conn, reg, principal, key)
        state = FormState(values={f.name: _text_of(f, existing.get(f.name)) for f in reg.fields})
        return _form_page(request, conn, principal, view, state, existing=existing)


@router.post("/registers/{name}/{key:path}/edit")
async def edit_entry(
    request: Request, name: str, key: str, session: PageSession, engine: DB
) -> Response:
    """Change an entry with grounds; on errors the form again, with them beside their fields."""
    principal = session.principal
    reg = register_for(request, principal, name)
    principal.require(reg.write)
    lang = language_of(request)
    t = translator(lang)
    view = View(reg, lang)
    form = await request.form()
    state = _form_state(form, [f.name for f in reg.fields if f.editable])
    sent_version = str(form.get("version") or "")
    ip = client_ip(request)

    def run() -> Response:
        with engine.connect() as conn, entry_or_404(view, key):
            existing = service.get(conn, reg, principal, key)
        grounds, problems = _grounds(state)
        if sent_version and sent_version != str(existing["version"]):
            state.general = t(
                "Someone changed this entry after you opened the form. Open the entry again "
                "to see the change, then make yours."
            )
        elif grounds is not None:
            try:
                with write_transaction(engine) as conn:
                    entry = service.update(conn, reg, principal, key, state.values, grounds, ip=ip)
                done = "updated" if entry["version"] != existing["version"] else "unchanged"
                return _redirect(request, view.entry_url(key, done=done))
            except ValidationFailed as exc:
                problems = list(exc.details.get("fields", []))
            except Conflict:
                state.general = t(
                    "Someone changed this entry at the same moment. Open the entry again "
                    "to see the change, then make yours."
                )
        else:
            problems += _validation_errors(engine, reg, state.values, existing=existing)
        _place_errors(state, problems, view)
        with engine.connect() as conn:
            return _form_page(
                request,
                conn,
                principal,
                view,
                state,
                existing=existing,
                fragment=True,
            )

    return await run_in_threadpool(run)


@router.post("/registers/{name}/{key:path}/status")
async def change_status(
    request: Request, name: str, key: str, session: PageSession, engine: DB
) -> Response:
    """Move an entry to another status the declaration allows, with grounds."""
    principal = session.principal
    reg = register_for(request, principal, name)
    principal.require(reg.status_permission)
    view = View(reg, language_of(request))
    form = await request.form()
    state = _form_state(form, ())
    target = str(form.get("status") or "")
    ip = client_ip(request)

    def run() -> Response:
        grounds, problems = _grounds(state)
        if grounds is not None:
            try:
                with write_transaction(engine) as conn, entry_or_404(view, key):
                    service.set_status(conn, reg, principal, key, target, grounds, ip=ip)
                return _redirect(request, view.entry_url(key, done="status"))
            except ValidationFailed as exc:
                problems = list(exc.details.get("fields", []))
        _place_errors(state, problems, view)
        if "status" in state.errors:
            state.general = state.errors.pop("status")
        with engine.connect() as conn, entry_or_404(view, key):
            current = service.get(conn, reg, principal, key)
        forms = _status_forms(view, current, principal, state, target)
        if not any(f["open"] for f in forms):  # not an allowed change (any more): say so
            forms = _status_forms(view, current, principal)
        return render(
            request,
            "registers/_status.html",
            view=view,
            key=key,
            latest=current,
            status_forms=forms,
            general=state.general,
            organizers_register=reg.organizer_field == reg.key,
        )

    return await run_in_threadpool(run)


@router.get("/registers/{name}/{key:path}")
def entry_page(
    request: Request,
    name: str,
    key: str,
    session: PageSession,
    engine: DB,
    as_of: str = "",
    done: str = "",
) -> HTMLResponse:
    """An entry: its fields, its status and the changes allowed, its history; as of a moment."""
    principal = session.principal
    reg = register_for(request, principal, name)
    lang = language_of(request)
    t = translator(lang)
    view = View(reg, lang)
    error = ""
    try:
        at = _parse_as_of(as_of)
    except ValidationFailed:
        at, error = None, t("Give a date, or a date and time: 2026-01-31 or 2026-01-31 14:00.")
    with engine.connect() as conn, entry_or_404(view, key):
        context = _entry_context(conn, principal, view, key, at)
    return render(
        request,
        "registers/entry.html",
        done=t(DONE[done]) if done in DONE else "",
        as_of_error=error,
        **context,
    )


# --- search ------------------------------------------------------------------------------------


@router.get("/search")
def search(request: Request, session: PageSession, engine: DB, q: str = "") -> HTMLResponse:
    """Entries of every register this person may read whose searchable fields hold `q`."""
    principal = session.principal
    principal.require(P.REGISTERS_READ, P.REGISTERS_READ_OWN)
    lang = language_of(request)
    text = q.strip()
    groups = []
    if text:
        with engine.connect() as conn:
            for reg in readable(principal):
                entries, total = service.list_entries(
                    conn, reg, principal, filters={}, text=text, limit=SEARCH_PER_REGISTER
                )
                if total:
                    view = ref_names(conn, principal, View(reg, lang), entries)
                    groups.append(
                        {
                            "view": view,
                            "entries": [(e, describe(view, e, with_key=False)) for e in entries],
                            "total": total,
                            "more_href": f"{view.url}?{urlencode({'q': text})}",
                        }
                    )
    return render(
        request,
        "registers/search.html",
        q=q,
        groups=groups,
        searched=bool(text),
        searchable=[
            (View(reg, lang).title, [View(reg, lang).label(f) for f in reg.fields if f.searchable])
            for reg in readable(principal)
        ],
    )

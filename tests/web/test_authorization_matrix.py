"""The authorization matrix (issue 4), on both databases: every route of the offices
(/office/...), of the registers API (/api/v1/registers/...) and of the login API
(/api/v1/auth/...) asked by every kind of caller gets exactly the answer the roles of
interfaces.md ("People and roles") give it; auth/permissions.py is their one map.

MATRIX below is the expectation, written by hand from those two, not computed from the
code under test. Its callers (columns):

    nobody      no session at all
    admin       regulator administrator (regulator_admin)
    regulator   regulator official
    tax         tax-service official
    head        organizer A's head
    rep         a representative of A whom the head granted nothing
    rep+reg     ... granted "see registers" only (registers:read-own)
    rep+keys    ... granted "manage access keys" only (keys:manage)
    rep+rpt     ... granted "see reports" only (reports:own)
    head→B      A's head asking for organizer B's things (BOLA)
    rep→B       a representative of A holding every right, asking for B's things (BOLA)

What B's things are: in a path, B's entry of the register (organizers: B itself), B's
access key, B's representative and B's head (both are tried); in a list's filter, search
or form, B's EDRPOU code or a word only B's entries hold. Other callers ask for A's things.

Its answers (cells):

    200/201/204  allowed: the route's own answer (an htmx change answers 200, its redirect
                 in HX-Redirect); an allowed change is real and is in the audit log
    []           allowed, 200, and it lists nothing
    login        a page without a session: 303 to /login?next=..., or for an htmx change
                 401 with HX-Redirect to the login
    401          JSON without a session (the login API: a made-up login, for everyone)
    403          refused; a refused change changed nothing (the rows it could touch are
                 compared before and after)
    404          another organizer's object: not found, and it changed nothing

Everyone but officials must get answers that hold nothing of B (its code, names, people,
keys, entries) beyond what the request itself sent. Changes carry the session's CSRF
token, as the browser sends it, so that what is checked is authorization, not CSRF.

The route list must be complete: the app's routes under /office, /api/v1/registers and
/api/v1/auth are enumerated (the routers, walked, and the OpenAPI document), and a route
with no row fails `test_every_route_has_a_row`, as does a row that no route serves.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from html import unescape
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, Table, func, select

from dsom.auth.keys import create_key
from dsom.auth.models import access_keys
from dsom.auth.permissions import Permission, Role
from dsom.auth.principal import SYSTEM
from dsom.demo.market import reset
from dsom.kit.codes import make_edrpou
from dsom.people.models import audit_log, people, sessions
from dsom.people.repository import PersonRecord
from dsom.registers import service
from dsom.registers.declarations import REGISTERS
from dsom.registers.models import CURRENT, HISTORY, register_sequences
from dsom.reports.declarations import REPORTS
from tests.builders import GROUNDS
from tests.conftest import Database, Server
from tests.people.helpers import certificate, log_in, make_person, new_rnokpp
from tests.qes.helpers import TrustedCa

P = Permission

# fmt: off
MATRIX = """
route                                        method  nobody admin regulator tax  head rep  rep+reg rep+keys rep+rpt head→B rep→B
# --- the offices: frame, registers, search ------------------------------------------------------------------------------------
/office                                      GET     login  200   200       200  200  200  200     200      200     200    200
/office/registers                            GET     login  200   200       200  200  403  200     403      403     200    200
/office/search                               GET     login  200   200       200  200  403  200     403      403     200    200
/office/registers/{name}                     GET     login  200   200       200  200  403  200     403      403     200    200
/office/registers/{name}/export              GET     login  200   200       200  200  403  200     403      403     200    200
/office/registers/{name}/{key:path}          GET     login  200   200       200  200  403  200     403      403     404    404
/office/registers/{name}/new                 GET     login  200   200       403  403  403  403     403      403     403    403
/office/registers/{name}/new                 POST    login  200   200       403  403  403  403     403      403     403    403
/office/registers/{name}/choices             GET     login  200   200       403  403  403  403     403      403     403    403
/office/registers/{name}/import              GET     login  200   200       403  403  403  403     403      403     403    403
/office/registers/{name}/import              POST    login  200   200       403  403  403  403     403      403     403    403
/office/registers/{name}/{key:path}/edit     GET     login  200   200       403  403  403  403     403      403     403    403
/office/registers/{name}/{key:path}/edit     POST    login  200   200       403  403  403  403     403      403     403    403
/office/registers/{name}/{key:path}/status   POST    login  200   200       403  403  403  403     403      403     403    403
# --- the organizer's office ---------------------------------------------------------------------------------------------------
/office/representatives                      GET     login  403   403       403  200  403  403     403      403     200    403
/office/representatives                      POST    login  403   403       403  200  403  403     403      403     200    403
/office/representatives/{person_id}/rights   POST    login  403   403       403  200  403  403     403      403     404    403
/office/representatives/{person_id}          DELETE  login  403   403       403  200  403  403     403      403     404    403
/office/keys                                 GET     login  403   403       403  200  403  403     200      403     200    200
/office/keys                                 POST    login  403   403       403  200  403  403     200      403     200    200
/office/keys/{key_id}/deactivate             POST    login  403   403       403  200  403  403     200      403     404    404
/office/submission                           GET     login  403   403       403  200  403  403     200      200     200    200
# --- the regulator's administration -------------------------------------------------------------------------------------------
/office/audit                                GET     login  200   200       403  403  403  403     403      403     403    403
/office/officials                            GET     login  200   403       403  403  403  403     403      403     403    403
/office/officials                            POST    login  200   403       403  403  403  403     403      403     403    403
/office/officials/{person_id}                DELETE  login  200   403       403  403  403  403     403      403     403    403
# --- the reports (reports.md, "Who sees what"; head→B/rep→B name B in the organizer filter) -----------------------------------
/office/dashboard                            GET     login  200   200       200  200  200  200     200      200     200    200
/office/reports                              GET     login  200   200       200  200  403  403     403      200     200    200
/office/reports/system-status                GET     login  200   200       403  403  403  403     403      403     403    403
/office/reports/submission-health            GET     login  200   200       403  200  403  403     403      200     403    403
/office/reports/rejections                   GET     login  200   200       403  200  403  403     403      200     403    403
/office/reports/licenses                     GET     login  200   200       403  403  403  403     403      403     403    403
/office/reports/compliance                   GET     login  200   200       403  403  403  403     403      403     403    403
/office/reports/large-wins                   GET     login  200   200       200  200  403  403     403      200     403    403
/office/reports/market-volumes               GET     login  200   200       200  200  403  403     403      200     403    403
/office/reports/player-activity              GET     login  200   200       403  200  403  403     403      200     403    403
/office/reports/market-share                 GET     login  200   200       403  403  403  403     403      403     403    403
/office/reports/ggr                          GET     login  200   200       200  200  403  403     403      200     403    403
/office/reports/payments                     GET     login  200   200       200  200  403  403     403      200     403    403
/office/reports/winnings-tax                 GET     login  200   200       200  200  403  403     403      200     403    403
# --- the registers API (with a session cookie; {register} is each register) ---------------------------------------------------
/api/v1/registers                            GET     401    200   200       200  200  []   200     []       []      200    200
/api/v1/registers/{register}                 GET     401    200   200       200  200  403  200     403      403     200    200
/api/v1/registers/{register}                 POST    401    201   201       403  403  403  403     403      403     403    403
/api/v1/registers/{register}/export          GET     401    200   200       200  200  403  200     403      403     200    200
/api/v1/registers/{register}/import          POST    401    200   200       403  403  403  403     403      403     403    403
/api/v1/registers/{register}/{key}           GET     401    200   200       200  200  403  200     403      403     404    404
/api/v1/registers/{register}/{key}           PATCH   401    200   200       403  403  403  403     403      403     403    403
/api/v1/registers/{register}/{key}/status    POST    401    200   200       403  403  403  403     403      403     403    403
/api/v1/registers/{register}/{key}/history   GET     401    200   200       200  200  403  200     403      403     404    404
# --- the login API: open to all but `me` --------------------------------------------------------------------------------------
/api/v1/auth/challenge                       POST    200    200   200       200  200  200  200     200      200     200    200
/api/v1/auth/qes                             POST    401    401   401       401  401  401  401     401      401     401    401
/api/v1/auth/logout                          POST    204    204   204       204  204  204  204     204      204     204    204
/api/v1/auth/me                              GET     401    200   200       200  200  200  200     200      200     200    200
"""  # noqa: E501
# fmt: on

WHO = (
    "nobody",
    "admin",
    "regulator",
    "tax",
    "head",
    "rep",
    "rep+reg",
    "rep+keys",
    "rep+rpt",
    "head→B",
    "rep→B",
)
ALLOWED = {"200", "201", "204", "[]"}
REFUSED = {"login", "401", "403", "404"}
OFFICIALS = {"admin": Role.REGULATOR_ADMIN, "regulator": Role.REGULATOR, "tax": Role.TAX}
REPRESENTATIVES = {
    "rep": (),
    "rep+reg": (P.REGISTERS_READ_OWN,),
    "rep+keys": (P.KEYS_MANAGE,),
    "rep+rpt": (P.REPORTS_OWN,),
    "rep→B": (P.REGISTERS_READ_OWN, P.KEYS_MANAGE, P.REPORTS_OWN),
}
# The registers of interfaces.md, by the names of their addresses.
SPEC_REGISTERS = (
    "organizers",
    "licences",
    "establishments",
    "equipment",
    "websites",
    "mobile_apps",
)
# The reports of reports.md, by their ids.
SPEC_REPORTS = (
    "system-status",
    "submission-health",
    "rejections",
    "licenses",
    "compliance",
    "large-wins",
    "market-volumes",
    "player-activity",
    "market-share",
    "ggr",
    "payments",
    "winnings-tax",
)
# What a route's placeholder stands for: a row written with it holds for every value, and a
# route served with it needs a row for every value.
EXPANSIONS = {"{name}": SPEC_REGISTERS, "{register}": SPEC_REGISTERS, "{report_id}": SPEC_REPORTS}
SCOPE = ("/office", "/api/v1/registers", "/api/v1/auth")
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True)
class Row:
    """One row of MATRIX: a route, a method, and each caller's answer."""

    route: str
    method: str
    expect: dict[str, str]

    @property
    def id(self) -> str:
        return f"{self.method} {self.route}"

    @property
    def page(self) -> bool:
        """An office page (answered as HTML, changes sent as htmx) rather than JSON."""
        return self.route.startswith("/office")

    @property
    def registers(self) -> tuple[str | None, ...]:
        """The registers the route is asked for: each, or none when it names none."""
        if "{name}" in self.route or "{register}" in self.route:
            return SPEC_REGISTERS
        return (None,)


def parse(table: str) -> list[Row]:
    """The rows of a table like MATRIX (comment lines start with #)."""
    lines = [ln for ln in table.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    header, *body = lines
    assert tuple(header.split()[2:]) == WHO, "MATRIX's columns are WHO"
    rows = []
    for line in body:
        route, method, *cells = line.split()
        assert len(cells) == len(WHO), line
        assert set(cells) <= ALLOWED | REFUSED, line
        rows.append(Row(route, method, dict(zip(WHO, cells, strict=True))))
    return rows


ROWS = parse(MATRIX)


# --- every route has a row ----------------------------------------------------------------------


def in_scope(path: str) -> bool:
    """Whether the matrix must cover this path."""
    return any(path == p or path.startswith(p + "/") for p in SCOPE)


def served_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path template) of every route the app serves. Included routers are walked
    (this FastAPI keeps an included router whole, as one entry of `app.router.routes`
    with `original_router`), and so are mounts."""
    found: set[tuple[str, str]] = set()

    def walk(routes: Any, prefix: str) -> None:
        for route in routes:
            included = getattr(route, "original_router", None)
            if included is not None:
                walk(included.routes, prefix + route.include_context.prefix)
                continue
            path = prefix + str(getattr(route, "path", ""))
            for method in getattr(route, "methods", None) or ():
                if method in METHODS:
                    found.add((method, path))
            if getattr(route, "methods", None) is None and getattr(route, "routes", None):
                walk(route.routes, path)  # a mounted application with routes of its own

    walk(app.router.routes, "")
    return found


def documented_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every operation of the OpenAPI document."""
    paths: dict[str, dict[str, Any]] = app.openapi()["paths"]
    return {(m.upper(), p) for p, ops in paths.items() for m in ops if m.upper() in METHODS}


def instances(route: str) -> set[str]:
    """The routes a template stands for, its EXPANSIONS placeholder spelt out."""
    for placeholder, values in EXPANSIONS.items():
        if placeholder in route:
            return {route.replace(placeholder, value) for value in values}
    return {route}


def test_the_registers_and_reports_are_those_of_the_spec() -> None:
    """A new register or report has an address of its own: look at MATRIX, then add it."""
    assert tuple(REGISTERS) == SPEC_REGISTERS
    assert set(REPORTS) == set(SPEC_REPORTS)


def test_every_route_has_a_row(server: Server) -> None:
    app = server.app
    served = {(m, i) for m, p in served_routes(app) if in_scope(p) for i in instances(p)}
    documented = {(m, i) for m, p in documented_routes(app) if in_scope(p) for i in instances(p)}
    listed = {(row.method, i) for row in ROWS for i in instances(row.route)}
    missing = sorted((served | documented) - listed)
    assert not missing, f"routes without an authorization expectation in MATRIX: {missing}"
    stale = sorted(listed - served)
    assert not stale, f"rows of MATRIX that no route serves: {stale}"
    assert {(r.route, r.method) for r in ROWS} == set(ASKS), "each row has its requests"


# --- the world the matrix is asked in -----------------------------------------------------------


@dataclass
class Side:
    """An organizer and what it has: what A's people, and officials, ask for (A), or what A's
    people must not reach (B)."""

    code: str
    name: str
    word: str  # a word its entries' searchable fields hold
    online_licence: str
    land_licence: str
    establishment: str
    entries: dict[str, str]  # register -> the key of one of its entries
    head: PersonRecord
    representative: PersonRecord
    key_id: str
    key_name: str

    def secrets(self) -> set[str]:
        """What nobody outside this organizer may learn of it."""
        return {
            self.code,
            self.name,
            *self.entries.values(),
            self.land_licence,
            f"{self.word.lower()}-casino.ua",
            f"ua.{self.word.lower()}.app",
            f"{self.word}-SN-1",
            self.head.rnokpp,
            self.head.name,
            self.representative.rnokpp,
            self.representative.name,
            self.key_id,
            self.key_name,
        }


@dataclass
class Caller:
    """Someone asking: their HTTP client (with their session cookie, if any) and CSRF token."""

    who: str
    client: httpx.Client
    csrf: str | None
    person: PersonRecord | None
    side: Side  # whose things they ask for
    official: bool


@dataclass
class Ask:
    """One request of a cell, and what it may change."""

    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    form: dict[str, Any] | None = None
    json: Any = None
    files: dict[str, Any] | None = None
    csv: str | None = None
    tables: tuple[Table, ...] = ()  # what it changes when allowed: compared when refused
    public: bool = False  # the login API's own changes (challenges, its audit): not compared
    undo: Callable[[], None] | None = None  # puts back what an allowed change changed
    check: Callable[[httpx.Response], str | None] | None = None  # more about an allowed answer
    client: httpx.Client | None = None  # another client than the caller's own

    def sent(self) -> str:
        """Everything the request says (what an answer may echo without revealing it)."""
        parts = [self.path, json.dumps(self.params, ensure_ascii=False)]
        parts += [json.dumps(x, ensure_ascii=False) for x in (self.form, self.json)]
        return " ".join(parts) + (self.csv or "")


_serial = itertools.count(1)
GROUNDS_TEXT = "Матриця доступу: перевірка"
# The field each register's edits and imports change, and a new value for it.
EDITED = {
    "organizers": "address",
    "licences": "decision",
    "establishments": "address",
    "equipment": "model",
    "websites": "domain",
    "mobile_apps": "name",
}


def edited_value(register: str) -> str:
    n = next(_serial)
    return f"matrix{n}.ua" if register == "websites" else f"Матриця {n}"


@dataclass
class World:
    """Organizers A and B, their people and things, officials, everyone logged in once."""

    engine: Engine
    base_url: str
    ca: TrustedCa
    stack: ExitStack
    a: Side
    b: Side
    callers: dict[str, Caller] = field(default_factory=dict)

    def client(self) -> httpx.Client:
        """A new client of the test server, without a session."""
        return self.stack.enter_context(
            httpx.Client(base_url=self.base_url, timeout=30, follow_redirects=False)
        )

    def log_in(self, person: PersonRecord) -> tuple[httpx.Client, str]:
        """A new session of `person`: its client and CSRF token."""
        client = self.client()
        answer = log_in(client, certificate(self.ca, person))
        assert answer.status_code == 200, answer.text
        return client, answer.headers["x-csrf-token"]

    def bola(self, caller: Caller) -> bool:
        return caller.side is self.b

    def fresh_representative(self, side: Side) -> PersonRecord:
        return make_person(
            self.engine,
            role=Role.ORGANIZER_REPRESENTATIVE,
            organizer=side.code,
            rights=frozenset({P.REPORTS_OWN}),
            name=f"Матриця Представник {next(_serial)}",
        )

    def fresh_key(self, side: Side) -> str:
        with self.engine.begin() as conn:
            return create_key(conn, organizer=side.code, name="Матриця", created_by="test").id

    def count(self, register: str, organizer: str | None) -> int:
        """How many current entries a register has (of one organizer, if told)."""
        table = CURRENT[register]
        stmt = select(func.count()).select_from(table)
        if organizer is not None:
            stmt = stmt.where(table.c[REGISTERS[register].organizer_field] == organizer)
        with self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def status_of(self, register: str, key: str) -> str:
        with self.engine.connect() as conn:
            return str(service.get(conn, REGISTERS[register], SYSTEM, key)["status"])

    def put_status_back(self, register: str, key: str, status: str) -> Callable[[], None]:
        def undo() -> None:
            if self.status_of(register, key) != status:
                with self.engine.begin() as conn:
                    service.set_status(conn, REGISTERS[register], SYSTEM, key, status, GROUNDS)

        return undo


def _create(engine: Engine, register: str, values: dict[str, Any]) -> str:
    reg = REGISTERS[register]
    with engine.begin() as conn:
        return str(service.create(conn, reg, SYSTEM, values, GROUNDS)[reg.key])


def make_side(engine: Engine, word: str) -> Side:
    """An active organizer whose every register entry holds `word`, with its head, a
    representative and an access key."""
    code = make_edrpou(5_500_000 + next(_serial))
    name = f"ТОВ {word} Гейм"
    head_rnokpp = new_rnokpp()
    _create(engine, "organizers", {"edrpou": code, "name": name, "head_rnokpp": head_rnokpp})
    with engine.begin() as conn:
        service.set_status(conn, REGISTERS["organizers"], SYSTEM, code, "active", GROUNDS)
    today = "2026-01-01"
    online = _create(
        engine,
        "licences",
        {
            "number": f"{word}-LIC-1",
            "organizer": code,
            "activity": "online_casino",
            "valid_from": today,
            "valid_to": "2031-12-31",
            "decision": f"Рішення {word} 1",
        },
    )
    land = _create(
        engine,
        "licences",
        {
            "number": f"{word}-LIC-2",
            "organizer": code,
            "activity": "slot_hall",
            "valid_from": today,
            "valid_to": "2031-12-31",
            "decision": f"Рішення {word} 2",
        },
    )
    hall = _create(
        engine,
        "establishments",
        {"organizer": code, "licence": land, "kind": "slot_hall", "address": f"вул. {word}, 1"},
    )
    machine = _create(
        engine,
        "equipment",
        {
            "organizer": code,
            "establishment": hall,
            "kind": "slot_machine",
            "manufacturer": "Novomatic",
            "model": "Dominator",
            "serial_number": f"{word}-SN-1",
            "certificate": f"UA.{word}.1",
        },
    )
    site = _create(
        engine,
        "websites",
        {"organizer": code, "licence": online, "domain": f"{word.lower()}-casino.ua"},
    )
    app = _create(
        engine,
        "mobile_apps",
        {
            "organizer": code,
            "licence": online,
            "platform": "android",
            "store_id": f"ua.{word.lower()}.app",
        },
    )
    head = make_person(
        engine,
        role=Role.ORGANIZER_HEAD,
        rnokpp=head_rnokpp,
        organizer=code,
        name=f"{word} Керівник Особа",
    )
    representative = make_person(
        engine,
        role=Role.ORGANIZER_REPRESENTATIVE,
        organizer=code,
        rights=frozenset({P.KEYS_MANAGE}),
        name=f"{word} Представник Особа",
    )
    key_name = f"{word} ключ"
    with engine.begin() as conn:
        key_id = create_key(conn, organizer=code, name=key_name, created_by="test").id
    return Side(
        code=code,
        name=name,
        word=word,
        online_licence=online,
        land_licence=land,
        establishment=hall,
        entries={
            "organizers": code,
            "licences": online,
            "establishments": hall,
            "equipment": machine,
            "websites": site,
            "mobile_apps": app,
        },
        head=head,
        representative=representative,
        key_id=key_id,
        key_name=key_name,
    )


@pytest.fixture(scope="module")
def world(
    server: Server, database: Database, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """The server, on an emptied database, trusts a new CA; everyone logs in once."""
    engine = database.engine
    with engine.begin() as conn:
        reset(conn)
    server.reload()
    ca = TrustedCa(tmp_path_factory.mktemp("pki"))
    state = server.app.state
    before = state.qes
    state.qes = ca.verifier()
    with ExitStack() as stack:
        a, b = make_side(engine, "ALFA"), make_side(engine, "BOLAB")
        w = World(engine, server.base_url, ca, stack, a, b)
        w.callers["nobody"] = Caller("nobody", w.client(), None, None, a, official=False)
        for who, role in OFFICIALS.items():
            official = make_person(engine, role=role, name=f"Посадовець {who}")
            client, csrf = w.log_in(official)
            w.callers[who] = Caller(who, client, csrf, official, a, official=True)
        client, csrf = w.log_in(a.head)
        w.callers["head"] = Caller("head", client, csrf, a.head, a, official=False)
        w.callers["head→B"] = Caller("head→B", client, csrf, a.head, b, official=False)
        for who, rights in REPRESENTATIVES.items():
            rep = make_person(
                engine,
                role=Role.ORGANIZER_REPRESENTATIVE,
                organizer=a.code,
                rights=frozenset(rights),
                name=f"ALFA Представник {who}",
            )
            client, csrf = w.log_in(rep)
            side = b if who.endswith("→B") else a
            w.callers[who] = Caller(who, client, csrf, rep, side, official=False)
        assert set(w.callers) == set(WHO)
        for caller in w.callers.values():  # the CSRF tokens are right: a 403 is not CSRF's
            if caller.csrf is not None:
                me = caller.client.get("/api/v1/auth/me").json()
                assert me["csrf_token"] == caller.csrf
        yield w
    state.qes = before


# --- what each row asks -------------------------------------------------------------------------

Builder = Callable[[World, Caller, str | None], list[Ask]]
ASKS: dict[tuple[str, str], Builder] = {}


def asks(route: str, method: str) -> Callable[[Builder], Builder]:
    """Record how a row's requests are made."""

    def record(builder: Builder) -> Builder:
        ASKS[(route, method)] = builder
        return builder

    return record


def reg_of(register: str | None) -> str:
    assert register is not None
    return register


def register_tables(register: str) -> tuple[Table, ...]:
    return (CURRENT[register], HISTORY[register], register_sequences, audit_log)


PEOPLE_TABLES = (people, sessions, audit_log)
KEY_TABLES = (access_keys, audit_log)


def entry_path(prefix: str, register: str, side: Side) -> str:
    return f"{prefix}/{register}/{quote(side.entries[register], safe='')}"


def new_values(register: str, side: Side) -> dict[str, str]:
    """The values of a new, valid entry of `side`'s organizer."""
    n = next(_serial)
    code = side.code
    return {
        "organizers": {
            "edrpou": make_edrpou(5_600_000 + n),
            "name": f"ТОВ Матриця {n}",
            "head_rnokpp": new_rnokpp(),
        },
        "licences": {
            "number": f"MX-{n}",
            "organizer": code,
            "activity": "online_casino",
            "valid_from": "2026-01-01",
            "valid_to": "2030-12-31",
            "decision": f"Рішення Матриця {n}",
        },
        "establishments": {
            "organizer": code,
            "licence": side.land_licence,
            "kind": "slot_hall",
            "address": f"вул. Матриці, {n}",
        },
        "equipment": {
            "organizer": code,
            "establishment": side.establishment,
            "kind": "slot_machine",
            "manufacturer": "Novomatic",
            "model": "Matrix",
            "serial_number": f"MX-SN-{n}",
            "certificate": f"UA.MX.{n}",
        },
        "websites": {"organizer": code, "licence": side.online_licence, "domain": f"mx{n}.ua"},
        "mobile_apps": {
            "organizer": code,
            "licence": side.online_licence,
            "platform": "android",
            "store_id": f"ua.mx.app{n}",
        },
    }[register]


def list_filter(register: str, side: Side) -> dict[str, str]:
    """A list's filter naming the side's organizer (ignored where it is not a filter)."""
    return {REGISTERS[register].organizer_field: side.code}


def import_csv(register: str, side: Side) -> str:
    """A CSV file changing one entry of the side's."""
    reg = REGISTERS[register]
    edited = EDITED[register]
    return f"{reg.key},{edited}\n{side.entries[register]},{edited_value(register)}\n"


def status_change(w: World, register: str, side: Side) -> tuple[str, Callable[[], None]]:
    """A status the side's entry may move to, and how to put it back."""
    key = side.entries[register]
    now = w.status_of(register, key)
    return REGISTERS[register].transitions[now][0], w.put_status_back(register, key, now)


# The offices: frame, registers, search.


@asks("/office", "GET")
def _home(w: World, c: Caller, r: str | None) -> list[Ask]:
    return [Ask("GET", "/office")]


@asks("/office/registers", "GET")
def _registers_index(w: World, c: Caller, r: str | None) -> list[Ask]:
    def check(answer: httpx.Response) -> str | None:
        # How many entries each register has: an organizer's people count only their own.
        shown = [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', answer.text)]
        mine = None if c.official else w.a.code
        expected = [w.count(register, mine) for register in REGISTERS]
        return None if shown == expected else f"counts {shown}, expected {expected}"

    return [Ask("GET", "/office/registers", check=check)]


@asks("/office/search", "GET")
def _search(w: World, c: Caller, r: str | None) -> list[Ask]:
    return [Ask("GET", "/office/search", {"q": c.side.word})]


@asks("/office/registers/{name}", "GET")
def _register_list(w: World, c: Caller, r: str | None) -> list[Ask]:
    register = reg_of(r)
    params = list_filter(register, c.side)
    return [
        Ask("GET", f"/office/registers/{register}", params),
        Ask("GET", f"/office/registers/{register}", {"q": c.side.word}),
    ]


@asks("/office/registers/{name}/export", "GET")
def _register_export(w: World, c: Caller, r: str | None) -> list[Ask]:
    register = reg_of(r)
    path = f"/office/registers/{register}/export"
    params = list_filter(register, c.side)
    return [Ask("GET", path, {**params, "format": fmt}) for fmt in ("csv", "json")]


@asks("/office/registers/{name}/{key:path}", "GET")
def _entry(w: World, c: Caller, r: str | None) -> list[Ask]:
    path = entry_path("/office/registers", reg_of(r), c.side)
    return [Ask("GET", path), Ask("GET", path, {"as_of": "2099-01-01"})]


@asks("/office/registers/{name}/new", "GET")
def _create_form(w: World, c: Caller, r: str | None) -> list[Ask]:
    return [Ask("GET", f"/office/registers/{reg_of(r)}/new")]


@asks("/office/registers/{name}/new", "POST")
def _create_entry(w: World, c: Caller, r: str | None) -> list[Ask]:
    register = reg_of(r)
    form = {**new_values(register, c.side), "grounds_reason": GROUNDS_TEXT}
    return [
        Ask(
            "POST", f"/office/registers/{register}/new", form=form, tables=register_tables(register)
        )
    ]


@asks("/office/registers/{name}/choices", "GET")
def _choices(w: World, c: Caller, r: str | None) -> list[Ask]:
    return [Ask("GET", f"/office/registers/{reg_of(r)}/choices", {"organizer": c.side.code})]


@asks("/office/registers/{name}/import", "GET")
def _import_form(w: World, c: Caller, r: str | None) -> list[Ask]:
    return [Ask("GET", f"/office/registers/{reg_of(r)}/import")]


@asks("/office/registers/{name}/import", "POST")
def _import_file(w: World, c: Caller, r: str | None) -> list[Ask]:
    register = reg_of(r)
    text = import_csv(register, c.side)
    return [
        Ask(
            "POST",
            f"/office/registers/{register}/import",
            form={"grounds_reason": GROUNDS_TEXT},
            files={"file": ("matrix.csv", text.encode(), "text/csv")},
            csv=text,
            tables=register_tables(register),
        )
    ]


@asks("/office/registers/{name}/{key:path}/edit", "GET")
def _edit_form(w: World, c: Caller, r: str | None) -> list[Ask]:
    return [Ask("GET", entry_path("/office/registers", reg_of(r), c.side) + "/edit")]


@asks("/office/registers/{name}/{key:path}/edit", "POST")
def _edit_entry(w: World, c: Caller, r: str | None) -> list[Ask]:
    register = reg_of(r)
    form = {EDITED[register]: edited_value(register), "grounds_reason": GROUNDS_TEXT}
    path = entry_path("/office/registers", register, c.side) + "/edit"
    return [Ask("POST", path, form=form, tables=register_tables(register))]


@asks("/office/registers/{name}/{key:path}/status", "POST")
def _change_status(w: World, c: Caller, r: str | None) -> list[Ask]:
    register = reg_of(r)
    target, undo = status_change(w, register, c.side)
    form = {"status": target, "grounds_reason": GROUNDS_TEXT}
    path = entry_path("/office/registers", register, c.side) + "/status"
    return [Ask("POST", path, form=form, tables=register_tables(register), undo=undo)]


# The organizer's office.


def people_asked_for(w: World, c: Caller) -> list[PersonRecord]:
    """Whose representative's record a caller asks to change: a new representative of A,
    or for the prying, B's representative and B's head."""
    if w.bola(c):
        return [w.b.representative, w.b.head]
    return [w.fresh_representative(w.a)]


@asks("/office/representatives", "GET")
def _representatives(w: World, c: Caller, r: str | None) -> list[Ask]:
    return [Ask("GET", "/office/representatives")]


@asks("/office/representatives", "POST")
def _add_representative(w: World, c: Caller, r: str | None) -> list[Ask]:
    form = {"rnokpp": new_rnokpp(), "name": "Матриця Нова Особа", "rights": ["reports:own"]}
    return [Ask("POST", "/office/representatives", form=form, tables=PEOPLE_TABLES)]


@asks("/office/representatives/{person_id}/rights", "POST")
def _change_rights(w: World, c: Caller, r: str | None) -> list[Ask]:
    return [
        Ask(
            "POST",
            f"/office/representatives/{p.id}/rights",
            form={"rights": ["keys:manage", "registers:read-own"]},
            tables=PEOPLE_TABLES,
        )
        for p in people_asked_for(w, c)
    ]


@asks("/office/representatives/{person_id}", "DELETE")
def _remove_representative(w: World, c: Caller, r: str | None) -> list[Ask]:
    return [
        Ask("DELETE", f"/office/representatives/{p.id}", tables=PEOPLE_TABLES)
        for p in people_asked_for(w, c)
    ]


@asks("/office/keys", "GET")
def _keys(w: World, c: Caller, r: str | None) -> list[Ask]:
    return [Ask("GET", "/office/keys")]


@asks("/office/keys", "POST")
def _create_key(w: World, c: Caller, r: str | None) -> list[Ask]:
    return [Ask("POST", "/office/keys", form={"name": "Матриця ключ"}, tables=KEY_TABLES)]


@asks("/office/keys/{key_id}/deactivate", "POST")
def _deactivate_key(w: World, c: Caller, r: str | None) -> list[Ask]:
    key_id = w.b.key_id if w.bola(c) else w.fresh_key(w.a)
    return [Ask("POST", f"/office/keys/{key_id}/deactivate", tables=KEY_TABLES)]


@asks("/office/submission", "GET")
def _submission(w: World, c: Caller, r: str | None) -> list[Ask]:
    return [Ask("GET", "/office/submission")]


# The regulator's administration, and the reports' place.


@asks("/office/audit", "GET")
def _audit(w: World, c: Caller, r: str | None) -> list[Ask]:
    return [Ask("GET", "/office/audit"), Ask("GET", "/office/audit", {"organizer": c.side.code})]


@asks("/office/officials", "GET")
def _officials(w: World, c: Caller, r: str | None) -> list[Ask]:
    return [Ask("GET", "/office/officials")]


@asks("/office/officials", "POST")
def _add_official(w: World, c: Caller, r: str | None) -> list[Ask]:
    form = {"rnokpp": new_rnokpp(), "name": "Матриця Посадовець", "role": "tax"}
    return [Ask("POST", "/office/officials", form=form, tables=PEOPLE_TABLES)]


@asks("/office/officials/{person_id}", "DELETE")
def _remove_official(w: World, c: Caller, r: str | None) -> list[Ask]:
    victim = make_person(w.engine, role=Role.TAX, name=f"Матриця Посадовець {next(_serial)}")
    return [Ask("DELETE", f"/office/officials/{victim.id}", tables=PEOPLE_TABLES)]


@asks("/office/dashboard", "GET")
def _dashboard(w: World, c: Caller, r: str | None) -> list[Ask]:
    return [Ask("GET", "/office/dashboard")]


@asks("/office/reports", "GET")
def _reports(w: World, c: Caller, r: str | None) -> list[Ask]:
    return [Ask("GET", "/office/reports")]


def _report(report: str) -> Builder:
    def ask(w: World, c: Caller, r: str | None) -> list[Ask]:
        # The prying name B in the organizer filter; everyone else takes the defaults.
        params = {"organizer": w.b.code} if w.bola(c) else {}
        return [Ask("GET", f"/office/reports/{report}", params)]

    return ask


for _id in SPEC_REPORTS:
    asks(f"/office/reports/{_id}", "GET")(_report(_id))


# The registers API.

API = "/api/v1/registers"


@asks(API, "GET")
def _api_registers(w: World, c: Caller, r: str | None) -> list[Ask]:
    return [Ask("GET", API)]


@asks(API + "/{register}", "GET")
def _api_list(w: World, c: Caller, r: str | None) -> list[Ask]:
    register = reg_of(r)
    organizer_field = REGISTERS[register].organizer_field

    def check(answer: httpx.Response) -> str | None:
        # An organizer's people get only their own entries, and count only those.
        found = answer.json()
        owners = {item[organizer_field] for item in found["items"]}
        if c.official or (owners <= {w.a.code} and found["total"] == len(found["items"])):
            return None
        return f"entries of {owners}, total {found['total']}"

    return [
        Ask("GET", f"{API}/{register}", list_filter(register, c.side), check=check),
        Ask("GET", f"{API}/{register}", {"q": c.side.word}, check=check),
    ]


@asks(API + "/{register}", "POST")
def _api_create(w: World, c: Caller, r: str | None) -> list[Ask]:
    register = reg_of(r)
    body = {"values": new_values(register, c.side), "grounds": {"reason": GROUNDS_TEXT}}
    return [Ask("POST", f"{API}/{register}", json=body, tables=register_tables(register))]


@asks(API + "/{register}/export", "GET")
def _api_export(w: World, c: Caller, r: str | None) -> list[Ask]:
    path = f"{API}/{reg_of(r)}/export"
    return [Ask("GET", path, {"format": fmt}) for fmt in ("csv", "json")]


@asks(API + "/{register}/import", "POST")
def _api_import(w: World, c: Caller, r: str | None) -> list[Ask]:
    register = reg_of(r)
    return [
        Ask(
            "POST",
            f"{API}/{register}/import",
            {"reason": GROUNDS_TEXT},
            csv=import_csv(register, c.side),
            tables=register_tables(register),
        )
    ]


@asks(API + "/{register}/{key}", "GET")
def _api_read(w: World, c: Caller, r: str | None) -> list[Ask]:
    path = entry_path(API, reg_of(r), c.side)
    return [Ask("GET", path), Ask("GET", path, {"as_of": "2099-01-01"})]


@asks(API + "/{register}/{key}", "PATCH")
def _api_change(w: World, c: Caller, r: str | None) -> list[Ask]:
    register = reg_of(r)
    body = {
        "values": {EDITED[register]: edited_value(register)},
        "grounds": {"reason": GROUNDS_TEXT},
    }
    path = entry_path(API, register, c.side)
    return [Ask("PATCH", path, json=body, tables=register_tables(register))]


@asks(API + "/{register}/{key}/status", "POST")
def _api_status(w: World, c: Caller, r: str | None) -> list[Ask]:
    register = reg_of(r)
    target, undo = status_change(w, register, c.side)
    body = {"status": target, "grounds": {"reason": GROUNDS_TEXT}}
    path = entry_path(API, register, c.side) + "/status"
    return [Ask("POST", path, json=body, tables=register_tables(register), undo=undo)]


@asks(API + "/{register}/{key}/history", "GET")
def _api_history(w: World, c: Caller, r: str | None) -> list[Ask]:
    return [Ask("GET", entry_path(API, reg_of(r), c.side) + "/history")]


# The login API.


@asks("/api/v1/auth/challenge", "POST")
def _challenge(w: World, c: Caller, r: str | None) -> list[Ask]:
    return [Ask("POST", "/api/v1/auth/challenge", public=True)]


@asks("/api/v1/auth/qes", "POST")
def _qes(w: World, c: Caller, r: str | None) -> list[Ask]:
    body = {"challenge": "dsom-login-not-issued", "signature": "AAAA"}
    return [Ask("POST", "/api/v1/auth/qes", json=body, public=True)]


@asks("/api/v1/auth/logout", "POST")
def _logout(w: World, c: Caller, r: str | None) -> list[Ask]:
    # A session of its own, so that the matrix's sessions live on.
    client = w.log_in(c.person)[0] if c.person is not None else w.client()
    return [Ask("POST", "/api/v1/auth/logout", public=True, client=client)]


@asks("/api/v1/auth/me", "GET")
def _me(w: World, c: Caller, r: str | None) -> list[Ask]:
    def check(answer: httpx.Response) -> str | None:
        assert c.person is not None
        found = answer.json()["person"]["rnokpp"]
        return None if found == c.person.rnokpp else f"me is {found}, not the caller"

    return [Ask("GET", "/api/v1/auth/me", check=check)]


# --- asking, and judging the answer -------------------------------------------------------------


def snapshot(engine: Engine, tables: tuple[Table, ...]) -> dict[str, list[str]]:
    """The rows of `tables` (sessions without their last-seen time, which reading touches)."""
    taken = {}
    with engine.connect() as conn:
        for table in tables:
            columns = [c for c in table.columns if c.name != "last_seen_at"]
            rows = conn.execute(select(*columns)).all()
            taken[table.name] = sorted(repr(tuple(row)) for row in rows)
    return taken


def audit_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())


def send(caller: Caller, ask: Ask, page: bool) -> httpx.Response:
    """The request as a browser (pages; changes as htmx) or an API client sends it."""
    headers = {"Accept": "text/html" if page else "application/json"}
    if ask.method != "GET":
        if page:
            headers["HX-Request"] = "true"
        if caller.csrf is not None:
            headers["X-CSRF-Token"] = caller.csrf
    content: bytes | None = None
    if ask.csv is not None and ask.files is None:
        headers["Content-Type"] = "text/csv"
        content = ask.csv.encode()
    client = ask.client or caller.client
    return client.request(
        ask.method,
        ask.path,
        params=ask.params or None,
        data=ask.form,
        json=ask.json,
        files=ask.files,
        content=content,
        headers=headers,
    )


ERROR_CODES = {"403": "forbidden", "404": "not_found"}


def verdict(expect: str, ask: Ask, answer: httpx.Response, page: bool) -> str | None:
    """What is wrong with the answer (None: it is the expected one)."""
    status = answer.status_code
    if expect == "login":
        if ask.method == "GET":
            target = answer.headers.get("location", "")
            ok = status == 303 and target.startswith("/login?next=")
        else:
            ok = status == 401 and answer.headers.get("hx-redirect", "").startswith("/login?next=")
    elif expect == "[]":
        ok = status == 200 and answer.json() == []
    else:
        ok = status == int(expect)
        if ok and not page and expect in ERROR_CODES:
            ok = answer.json()["error"]["code"] == ERROR_CODES[expect]
    if not ok:
        return f"expected {expect}, got {status}: {answer.text[:300]!r}"
    if expect in ALLOWED and ask.check is not None:
        return ask.check(answer)
    return None


def ask_cell(w: World, row: Row, register: str | None, who: str) -> list[str]:
    """Ask the route as `who`; what went wrong."""
    caller = w.callers[who]
    expect = row.expect[who]
    problems = []
    for ask in ASKS[(row.route, row.method)](w, caller, register):
        where = f"{ask.method} {ask.path} as {who}"
        compared = ask.tables and not ask.public
        before = snapshot(w.engine, ask.tables) if compared else {}
        audited = audit_count(w.engine)
        answer = send(caller, ask, row.page)
        if problem := verdict(expect, ask, answer, row.page):
            problems.append(f"{where}: {problem}")
        if compared and expect in REFUSED:
            after = snapshot(w.engine, ask.tables)
            changed = [name for name in before if before[name] != after[name]]
            if changed:
                problems.append(f"{where}: refused ({expect}), yet {changed} changed")
        if compared and expect in ALLOWED and audit_count(w.engine) <= audited:
            problems.append(f"{where}: an allowed change left no entry in the audit log")
        if not caller.official:
            shown = unescape(answer.text)
            sent = ask.sent()
            leaked = sorted(s for s in w.b.secrets() if s in shown and s not in sent)
            if leaked:
                problems.append(f"{where}: the answer reveals B's {leaked}")
        if ask.undo is not None:
            ask.undo()
    return problems


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_each_caller_gets_exactly_the_answer_of_the_matrix(world: World, row: Row) -> None:
    problems = []
    for register in row.registers:
        for who in WHO:
            problems += ask_cell(world, row, register, who)
    assert not problems, "\n".join(problems)


def test_the_world_is_as_the_matrix_assumes(world: World) -> None:
    """B's things exist and are what the prying asked for, so a 404 meant "not yours"; and
    after the matrix they are as they were (A's statuses were put back after each change)."""
    regulator = world.callers["regulator"]
    for register, key in world.b.entries.items():
        answer = regulator.client.get(f"{API}/{register}/{quote(key, safe='')}")
        assert answer.status_code == 200, (register, key)
    with world.engine.connect() as conn:
        row = conn.execute(select(access_keys).where(access_keys.c.id == world.b.key_id)).one()
    assert row.deactivated_at is None
    for side in (world.a, world.b):
        for register, key in side.entries.items():
            assert world.status_of(register, key) == "active", (register, key)
    assert world.b.representative.organizer == world.b.code
    assert world.b.head.organizer == world.b.code

"""The registers' pages over HTTP, on both databases: people logged in with a QES session,
pages asked for as a browser does, changes sent as htmx does (CSRF header, HX-Request)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select

from dsom.auth.permissions import Permission, Role
from dsom.auth.principal import SYSTEM
from dsom.people import repository as people_repo
from dsom.people.models import audit_log
from dsom.registers import service
from dsom.registers.declarations import REGISTERS
from tests.builders import make_licence, make_organizer, make_website
from tests.conftest import Server, token_for
from tests.people.helpers import certificate, log_in, make_person
from tests.qes.helpers import TrustedCa
from tests.registers.helpers import count

P = Permission
LICENCES = "/office/registers/licences"


@dataclass
class Office:
    """A person logged in to the offices over HTTP, as their browser would be."""

    client: httpx.Client
    csrf: str

    def get(self, path: str, **params: Any) -> httpx.Response:
        """A page."""
        return self.client.get(path, params=params or None, headers={"Accept": "text/html"})

    def send(
        self,
        path: str,
        data: dict[str, str] | None = None,
        *,
        files: dict[str, Any] | None = None,
        csrf: bool = True,
    ) -> httpx.Response:
        """A change, as htmx posts it (with the session's CSRF token unless told not to)."""
        headers = {"HX-Request": "true", "Accept": "text/html"}
        if csrf:
            headers["X-CSRF-Token"] = self.csrf
        return self.client.post(path, data=data or {}, files=files, headers=headers)


class Offices:
    """Logs people in over HTTP, each with their own client."""

    def __init__(self, server: Server, ca: TrustedCa, stack: ExitStack) -> None:
        self.server, self.ca, self.stack = server, ca, stack

    def log_in(self, person: people_repo.PersonRecord) -> Office:
        """`person`, logged in with a certificate of the trusted CA."""
        client = self.stack.enter_context(
            httpx.Client(base_url=self.server.base_url, timeout=30, follow_redirects=False)
        )
        answer = log_in(client, certificate(self.ca, person))
        assert answer.status_code == 200, answer.text
        return Office(client, answer.headers["x-csrf-token"])

    def official(self, role: Role) -> Office:
        """A new official of `role`, logged in."""
        return self.log_in(make_person(self.server.engine, role=role))


@pytest.fixture
def offices(server: Server, http: httpx.Client, tmp_path: Path) -> Iterator[Offices]:
    """The test server (on an emptied database) trusts a new CA for this test."""
    ca = TrustedCa(tmp_path / "pki")
    state = server.app.state
    before = state.qes
    state.qes = ca.verifier()
    with ExitStack() as stack:
        yield Offices(server, ca, stack)
    state.qes = before


@dataclass
class Market:
    """Two organizers, A and B, each with a licence and a website."""

    a: dict[str, Any]
    b: dict[str, Any]
    licence_a: dict[str, Any]
    licence_b: dict[str, Any]
    site_a: dict[str, Any]
    site_b: dict[str, Any]


def market(db: Engine) -> Market:
    """Organizers A and B with what they have."""
    a, b = make_organizer(db, name="ТОВ «Альфа Гейм»"), make_organizer(db, name="ТОВ «Бета Гейм»")
    licence_a = make_licence(db, organizer=a["edrpou"], number="OC-A-1")
    licence_b = make_licence(db, organizer=b["edrpou"], number="OC-B-1")
    site_a = make_website(
        db, organizer=a["edrpou"], licence=licence_a["number"], domain="alfa-casino.ua"
    )
    site_b = make_website(
        db, organizer=b["edrpou"], licence=licence_b["number"], domain="beta-casino.ua"
    )
    return Market(a, b, licence_a, licence_b, site_a, site_b)


def head_of(db: Engine, organizer: dict[str, Any]) -> people_repo.PersonRecord:
    """The head of an organizer, as a person."""
    return make_person(
        db,
        role=Role.ORGANIZER_HEAD,
        rnokpp=organizer["head_rnokpp"],
        organizer=organizer["edrpou"],
    )


def text_of(answer: httpx.Response) -> str:
    """A page's text: tags dropped, entities read, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", answer.text)).split())


def history(db: Engine, register: str, key: str) -> list[dict[str, Any]]:
    """Every version of an entry."""
    with db.connect() as conn:
        return service.history(conn, REGISTERS[register], SYSTEM, key)


def audit(db: Engine, prefix: str = "register.") -> list[dict[str, Any]]:
    """The audit log's register changes, oldest first."""
    stmt = select(audit_log).where(audit_log.c.action.startswith(prefix)).order_by(audit_log.c.id)
    with db.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def grounds(reason: str = "", decision: str = "") -> dict[str, str]:
    """The grounds fields of a form."""
    return {"grounds_reason": reason, "grounds_decision": decision}


# --- who sees what ---------------------------------------------------------------------------


def test_an_organizers_head_sees_only_its_own_entries(db: Engine, offices: Offices) -> None:
    m = market(db)
    head = offices.log_in(head_of(db, m.a))

    listed = head.get(LICENCES)
    assert listed.status_code == 200
    assert "OC-A-1" in listed.text
    assert "OC-B-1" not in listed.text
    assert m.b["edrpou"] not in listed.text

    # Asking for B's organizer as a filter changes nothing: the scope is the server's.
    assert "OC-B-1" not in head.get(LICENCES, organizer=m.b["edrpou"]).text
    index = text_of(head.get("/office/registers"))
    assert "Ліцензії 1" in index

    for path in (
        f"{LICENCES}/OC-B-1",
        f"{LICENCES}/OC-B-1?as_of=2099-01-01",
        f"/office/registers/organizers/{m.b['edrpou']}",
        f"/office/registers/websites/{m.site_b['id']}",
    ):
        refused = head.get(path)
        assert refused.status_code == 404, path
        assert "Бета" not in refused.text
        assert "beta-casino" not in refused.text
        assert "У реєстрі немає запису" in refused.text
        if m.b["edrpou"] not in path:
            assert m.b["edrpou"] not in refused.text

    assert head.get(f"{LICENCES}/OC-A-1").status_code == 200

    found = text_of(head.get("/office/search", q="casino"))
    assert "alfa-casino.ua" in found
    assert "beta-casino.ua" not in found
    assert "Нічого не знайдено" in text_of(head.get("/office/search", q="beta"))

    for fmt in ("csv", "json"):
        exported = head.get(f"{LICENCES}/export", format=fmt)
        assert exported.status_code == 200
        assert "OC-A-1" in exported.text
        assert "OC-B-1" not in exported.text
    exported = head.get(f"{LICENCES}/export", organizer=m.b["edrpou"]).text
    assert "OC-B-1" not in exported


def test_a_representative_sees_registers_only_with_the_right(db: Engine, offices: Offices) -> None:
    m = market(db)
    without = offices.log_in(
        make_person(
            db,
            role=Role.ORGANIZER_REPRESENTATIVE,
            organizer=m.a["edrpou"],
            rights=frozenset({P.KEYS_MANAGE}),
        )
    )
    for path in ("/office/registers", LICENCES, f"{LICENCES}/OC-A-1", "/office/search"):
        assert without.get(path).status_code == 403, path

    with_right = offices.log_in(
        make_person(
            db,
            role=Role.ORGANIZER_REPRESENTATIVE,
            organizer=m.a["edrpou"],
            rights=frozenset({P.REGISTERS_READ_OWN}),
        )
    )
    listed = with_right.get(LICENCES)
    assert listed.status_code == 200
    assert "OC-A-1" in listed.text
    assert "OC-B-1" not in listed.text
    assert with_right.get(f"{LICENCES}/OC-B-1").status_code == 404
    assert with_right.get(f"{LICENCES}/new").status_code == 403


def test_tax_official_reads_but_cannot_reach_create_edit_status_or_import(
    db: Engine, offices: Offices
) -> None:
    m = market(db)
    tax = offices.official(Role.TAX)

    page = tax.get(f"{LICENCES}/OC-B-1")
    assert page.status_code == 200
    assert "/edit" not in page.text
    assert "status-panel" not in page.text
    listed = tax.get(LICENCES)
    assert "OC-A-1" in listed.text
    assert "OC-B-1" in listed.text
    assert f"{LICENCES}/new" not in listed.text
    assert f"{LICENCES}/import" not in listed.text

    for path in (f"{LICENCES}/new", f"{LICENCES}/OC-A-1/edit", f"{LICENCES}/import"):
        denied = tax.get(path)
        assert denied.status_code == 403, path
        assert "Доступ заборонено" in denied.text
    sent = {"decision": "changed by tax", **grounds("tax")}
    assert tax.send(f"{LICENCES}/OC-A-1/edit", sent).status_code == 403
    assert tax.send(f"{LICENCES}/new", {"number": "OC-T-1", **grounds("x")}).status_code == 403
    assert (
        tax.send(f"{LICENCES}/OC-A-1/status", {"status": "revoked", **grounds("x")}).status_code
        == 403
    )
    csv_file = {"file": ("l.csv", b"number,organizer\n", "text/csv")}
    assert tax.send(f"{LICENCES}/import", grounds("x"), files=csv_file).status_code == 403
    assert tax.get(f"/office/registers/organizers/{m.a['edrpou']}").status_code == 200
    assert len(history(db, "licences", "OC-A-1")) == 1
    assert count(db, "licences") == 2
    assert audit(db) == []


# --- changing --------------------------------------------------------------------------------


def test_edit_without_a_reason_is_refused_beside_the_field_and_keeps_what_was_typed(
    db: Engine, offices: Offices
) -> None:
    market(db)
    regulator = offices.official(Role.REGULATOR)
    form = regulator.get(f"{LICENCES}/OC-A-1/edit")
    assert form.status_code == 200
    version = re.search(r'name="version" value="(\d+)"', form.text)
    assert version is not None

    answer = regulator.send(
        f"{LICENCES}/OC-A-1/edit",
        {"decision": "Рішення № 42", "version": version.group(1), **grounds()},
    )
    assert answer.status_code == 200
    assert "HX-Redirect" not in answer.headers
    assert 'id="grounds-reason-error"' in answer.text
    assert "вкажіть номер рішення або причину зміни" in answer.text
    assert 'value="Рішення № 42"' in answer.text  # what was typed is kept
    assert len(history(db, "licences", "OC-A-1")) == 1
    assert audit(db) == []


def test_edit_with_a_reason_records_a_version_and_sends_to_the_entry(
    db: Engine, offices: Offices
) -> None:
    market(db)
    regulator = offices.official(Role.REGULATOR)
    answer = regulator.send(
        f"{LICENCES}/OC-A-1/edit", {"decision": "Рішення № 42", **grounds("Уточнення")}
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["HX-Redirect"] == f"{LICENCES}/OC-A-1?done=updated"
    versions = history(db, "licences", "OC-A-1")
    assert [v["decision"] for v in versions] == ["Рішення № 1", "Рішення № 42"]
    assert versions[-1]["grounds_reason"] == "Уточнення"

    page = text_of(regulator.get(f"{LICENCES}/OC-A-1", done="updated"))
    assert "Зміни збережено" in page
    assert "Рішення № 1 → Рішення № 42" in page

    # The same values again: nothing recorded, and the page says so.
    again = regulator.send(
        f"{LICENCES}/OC-A-1/edit", {"decision": "Рішення № 42", **grounds("Ще раз")}
    )
    assert again.headers["HX-Redirect"] == f"{LICENCES}/OC-A-1?done=unchanged"
    assert len(history(db, "licences", "OC-A-1")) == 2


def test_field_errors_are_shown_beside_their_fields_in_ukrainian_and_english(
    db: Engine, offices: Offices
) -> None:
    market(db)
    regulator = offices.official(Role.REGULATOR)
    sent = {"valid_from": "2026-13-01", "valid_to": "", **grounds("x")}
    answer = regulator.send(f"{LICENCES}/OC-A-1/edit", sent)
    assert re.search(r'id="e-valid_from">має бути датою у форматі РРРР-ММ-ДД', answer.text)
    assert re.search(r'id="e-valid_to">обов&#39;язкове поле<', answer.text)
    assert 'value="2026-13-01"' in answer.text

    english = regulator.send(f"{LICENCES}/OC-A-1/edit?lang=en", sent)
    assert re.search(r'id="e-valid_to">is required<', english.text)
    assert len(history(db, "licences", "OC-A-1")) == 1


def test_create_offers_the_chosen_organizers_licences_only_and_records_the_entry(
    db: Engine, offices: Offices
) -> None:
    m = market(db)
    regulator = offices.official(Role.REGULATOR)
    choices = regulator.get("/office/registers/websites/choices", organizer=m.a["edrpou"])
    assert choices.status_code == 200
    assert 'value="OC-A-1"' in choices.text
    assert "OC-B-1" not in choices.text
    assert 'hx-swap-oob="true"' in choices.text

    wrong = regulator.send(
        "/office/registers/websites/new",
        {"organizer": m.a["edrpou"], "licence": "OC-B-1", "domain": "new.ua", **grounds("x")},
    )
    assert "належить організатору" in wrong.text
    created = regulator.send(
        "/office/registers/websites/new",
        {"organizer": m.a["edrpou"], "licence": "OC-A-1", "domain": "new.ua", **grounds("x")},
    )
    target = created.headers["HX-Redirect"]
    assert re.fullmatch(r"/office/registers/websites/WEB-\d{6}\?done=created", target)
    assert "Запис внесено до реєстру" in regulator.get(target).text
    assert count(db, "websites") == 3


def test_status_changes_only_along_the_allowed_transitions(db: Engine, offices: Offices) -> None:
    m = market(db)
    regulator = offices.official(Role.REGULATOR)
    page = regulator.get(f"{LICENCES}/OC-A-1")
    offered = set(re.findall(r'name="status" value="(\w+)"', page.text))
    assert offered == {"suspended", "revoked", "expired"}

    no_reason = regulator.send(f"{LICENCES}/OC-A-1/status", {"status": "revoked", **grounds()})
    assert "HX-Redirect" not in no_reason.headers
    assert "вкажіть номер рішення або причину зміни" in no_reason.text

    revoked = regulator.send(
        f"{LICENCES}/OC-A-1/status", {"status": "revoked", **grounds(decision="№ 5")}
    )
    assert revoked.headers["HX-Redirect"] == f"{LICENCES}/OC-A-1?done=status"

    back = regulator.send(f"{LICENCES}/OC-A-1/status", {"status": "active", **grounds("x")})
    assert "HX-Redirect" not in back.headers
    assert "не можна змінити" in back.text
    assert [v["status"] for v in history(db, "licences", "OC-A-1")] == ["active", "revoked"]
    assert "Цей статус остаточний" in regulator.get(f"{LICENCES}/OC-A-1").text

    # Organizers: pending → active and active ⇄ suspended (ORGANIZERS_STATUS).
    code = make_organizer(db, status="pending")["edrpou"]
    path = f"/office/registers/organizers/{code}"
    assert "Активувати або зупинити організатора" in regulator.get(path).text
    for status in ("active", "suspended", "active"):
        done = regulator.send(f"{path}/status", {"status": status, **grounds("рішення")})
        assert done.headers["HX-Redirect"] == f"{path}?done=status", done.text
    unknown = regulator.send(f"{path}/status", {"status": "closed", **grounds("x")})
    assert "має бути одним із" in unknown.text
    assert [v["status"] for v in history(db, "organizers", code)] == [
        "pending",
        "active",
        "suspended",
        "active",
    ]
    assert m.a["status"] == "active"


def test_a_change_without_the_csrf_token_is_refused(db: Engine, offices: Offices) -> None:
    market(db)
    regulator = offices.official(Role.REGULATOR)
    sent = {"decision": "Рішення № 42", **grounds("x")}
    for path, data in (
        (f"{LICENCES}/OC-A-1/edit", sent),
        (f"{LICENCES}/OC-A-1/status", {"status": "revoked", **grounds("x")}),
        (f"{LICENCES}/new", {"number": "OC-C-1", **grounds("x")}),
    ):
        refused = regulator.send(path, data, csrf=False)
        assert refused.status_code == 403, path
    wrong = regulator.client.post(
        f"{LICENCES}/OC-A-1/edit",
        data=sent,
        headers={"HX-Request": "true", "X-CSRF-Token": regulator.csrf[:-2] + "xx"},
    )
    assert wrong.status_code == 403
    assert len(history(db, "licences", "OC-A-1")) == 1
    assert audit(db) == []


def test_import_is_all_or_nothing_with_numbered_lines(db: Engine, offices: Offices) -> None:
    m = market(db)
    regulator = offices.official(Role.REGULATOR)
    a = m.a["edrpou"]
    bad = (
        f"organizer,licence,domain\n{a},OC-A-1,one.ua\n{a},OC-B-1,two.ua\n{a},OC-A-1,Not A Domain\n"
    )
    files = {"file": ("sites.csv", bad.encode(), "text/csv")}
    failed = regulator.send("/office/registers/websites/import", grounds("імпорт"), files=files)
    assert failed.status_code == 200
    lines = re.findall(r'<td class="num">(\d+)</td>', failed.text)
    assert lines == ["3", "4"]
    assert "Жодного рядка файлу не імпортовано" in failed.text
    assert count(db, "websites") == 2
    assert audit(db) == []

    no_grounds = regulator.send(
        "/office/registers/websites/import",
        grounds(),
        files={"file": ("sites.csv", b"organizer,licence,domain\n", "text/csv")},
    )
    assert 'id="import-grounds-reason-error"' in no_grounds.text
    no_file = regulator.send("/office/registers/websites/import", grounds("x"))
    assert "Оберіть файл CSV" in no_file.text

    good = f"organizer,licence,domain\n{a},OC-A-1,one.ua\n{a},OC-A-1,three.ua\n"
    files = {"file": ("sites.csv", good.encode(), "text/csv")}
    done = regulator.send("/office/registers/websites/import", grounds("імпорт"), files=files)
    assert "Файл імпортовано" in done.text
    assert "Нових записів: 2" in text_of(done)
    assert count(db, "websites") == 4
    [entry] = audit(db)
    assert entry["action"] == "register.imported"
    assert entry["details"]["created"] == 2


# --- the audit log ---------------------------------------------------------------------------


def test_changes_through_the_api_and_the_pages_both_land_in_the_audit_log(
    db: Engine, offices: Offices, server: Server
) -> None:
    market(db)
    person = make_person(db, role=Role.REGULATOR, name="Коваль Ірина")
    regulator = offices.log_in(person)

    # The JSON API with the person's session (as the offices' scripts and other clients do).
    api = regulator.client.patch(
        "/api/v1/registers/licences/OC-A-1",
        json={"values": {"decision": "Рішення № 2"}, "grounds": {"reason": "через API"}},
        headers={"X-CSRF-Token": regulator.csrf},
    )
    assert api.status_code == 200, api.text
    # The JSON API with an official's token.
    with httpx.Client(base_url=server.base_url) as plain:
        token = plain.post(
            "/api/v1/registers/licences/OC-B-1/status",
            json={"status": "suspended", "grounds": {"decision": "№ 9"}},
            headers=token_for(db, "regulator"),
        )
    assert token.status_code == 200, token.text
    # A page.
    page = regulator.send(
        f"{LICENCES}/OC-A-1/edit", {"decision": "Рішення № 3", **grounds("через сторінку")}
    )
    assert page.status_code == 200
    # A refused change leaves no trace.
    regulator.send(f"{LICENCES}/OC-A-1/edit", {"valid_to": "1990-01-01", **grounds("x")})

    api_entry, token_entry, page_entry = audit(db)
    assert api_entry["action"] == page_entry["action"] == "register.updated"
    assert api_entry["target"] == page_entry["target"] == "licences/OC-A-1"
    assert api_entry["person"] == page_entry["person"] == person.id
    assert api_entry["actor"] == f"person:{person.id} (Коваль Ірина)"
    assert api_entry["ip"] == page_entry["ip"] == "127.0.0.1"
    assert api_entry["details"]["changes"] == {
        "decision": {"from": "Рішення № 1", "to": "Рішення № 2"}
    }
    assert api_entry["details"]["grounds"] == {"decision": None, "reason": "через API"}
    assert page_entry["details"]["changes"]["decision"]["to"] == "Рішення № 3"
    assert page_entry["details"]["grounds"]["reason"] == "через сторінку"
    assert page_entry["organizer"] == api_entry["organizer"]
    assert token_entry["action"] == "register.status_changed"
    assert token_entry["actor"].startswith("token:")
    assert token_entry["details"]["changes"] == {"status": {"from": "active", "to": "suspended"}}
    assert page_entry["at"] >= api_entry["at"]


# --- reading ---------------------------------------------------------------------------------


def test_list_filters_search_pages_and_the_past(db: Engine, offices: Offices) -> None:
    m = market(db)
    for n in range(60):
        make_licence(db, organizer=m.a["edrpou"], number=f"OC-P-{n:03d}")
    tax = offices.official(Role.TAX)

    first = text_of(tax.get(LICENCES))
    assert "Записи 1–50 із 62" in first
    assert "Сторінка 1 із 2" in first
    second = tax.get(LICENCES, page="2").text
    assert "OC-P-059" in second
    assert "OC-A-1" not in second
    assert "OC-P-059" in tax.get(LICENCES, order="desc").text.split("OC-P-000")[0]

    only_b = tax.get(LICENCES, organizer=m.b["edrpou"]).text
    assert "OC-B-1" in only_b
    assert "OC-A-1" not in only_b
    assert "OC-P-007" in tax.get(LICENCES, q="p-007").text
    assert "Жоден запис не відповідає" in tax.get(LICENCES, q="nothing-like-this").text
    bad_filter = tax.get(LICENCES, activity="chess")
    assert bad_filter.status_code == 200
    assert "має бути одним із" in bad_filter.text
    assert "Вкажіть дату" in tax.get(LICENCES, as_of="yesterday-ish").text

    before = history(db, "licences", "OC-A-1")[0]["recorded_at"]
    regulator = offices.official(Role.REGULATOR)
    regulator.send(f"{LICENCES}/OC-A-1/edit", {"decision": "Нове рішення", **grounds("x")})
    as_of = before.isoformat()
    past = tax.get(LICENCES, as_of=as_of, q="OC-A-1")
    assert "Рішення № 1" in past.text
    assert "Нове рішення" not in past.text
    assert "Реєстр у стані на" in past.text
    entry_then = tax.get(f"{LICENCES}/OC-A-1", as_of=as_of).text
    assert "Рішення № 1" in entry_then.split("History")[0].split("Історія")[0]
    exported = tax.get(f"{LICENCES}/export", as_of=as_of, q="OC-A-1").text
    assert "Рішення № 1" in exported
    assert "Нове рішення" not in exported
    assert len(exported.strip().splitlines()) == 2
    before_all = tax.get(f"{LICENCES}/OC-A-1", as_of="2000-01-01")
    assert "ще не було" in before_all.text


def test_keys_with_a_slash_have_their_pages(db: Engine, offices: Offices) -> None:
    org = make_organizer(db)
    make_licence(db, organizer=org["edrpou"], number="L/2026/7")
    regulator = offices.official(Role.REGULATOR)
    listed = regulator.get(LICENCES)
    assert f'href="{LICENCES}/L%2F2026%2F7"' in listed.text
    page = regulator.get(f"{LICENCES}/L%2F2026%2F7")
    assert page.status_code == 200
    assert "L/2026/7" in page.text
    changed = regulator.send(
        f"{LICENCES}/L%2F2026%2F7/edit", {"decision": "Рішення № 8", **grounds("x")}
    )
    assert changed.headers["HX-Redirect"] == f"{LICENCES}/L%2F2026%2F7?done=updated"
    assert history(db, "licences", "L/2026/7")[-1]["decision"] == "Рішення № 8"


def test_every_text_the_registers_pages_translate_in_code_has_its_ukrainian() -> None:
    import ast

    from dsom.web import i18n
    from dsom.web import registers as pages

    tree = ast.parse(Path(pages.__file__).read_text(encoding="utf-8"))
    said = [
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "t"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    ]
    said += [*pages.DONE.values(), *pages.VERBS.values(), *pages.ACTIONS.values()]
    said += [
        text
        for reg in REGISTERS.values()
        for f in reg.all_fields
        for text in (f.help_en, getattr(f.type, "pattern_hint", ""))
        if text
    ]
    assert len(said) > 20
    assert [text for text in said if text not in i18n.UK] == []

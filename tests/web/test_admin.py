"""The regulator's administration over HTTP, on both databases: the audit log (filters,
pages), managing officials (audited, sessions ended, not oneself). The reports' pages are
tests/web/test_reports_pages.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from dsom.auth.permissions import Role
from dsom.kit.time import KYIV, utcnow
from dsom.people import repository as repo
from dsom.people import service
from dsom.web import i18n
from tests.builders import make_organizer
from tests.conftest import Server
from tests.people.helpers import audit_entries, make_person, new_rnokpp
from tests.web.offices import (
    Offices,
    P,
    head_of,
    is_login_redirect,
    person,
    representative,
    text_of,
    trusted_offices,
)

AUDIT = "/office/audit"
OFFICIALS = "/office/officials"


@pytest.fixture
def offices(server: Server, db: Engine, tmp_path: Path) -> Iterator[Offices]:
    """People log in to the test server (on an emptied database) with test certificates."""
    yield from trusted_offices(server, tmp_path)


def _rows(html: str) -> list[str]:
    """The audit table's rows, as text."""
    body = html.split('<table class="audit">', 1)[1].split("</table>", 1)[0]
    return [text_of(r) for r in re.findall(r"<tr>(.*?)</tr>", body, re.S)[1:]]


# --- the audit log --------------------------------------------------------------------------


def test_the_audit_log_lists_changes_newest_first_with_who_what_and_from_where(
    db: Engine, offices: Offices
) -> None:
    head = offices.log_in(head_of(db))
    head.send("POST", "/office/keys", {"name": "Платформа"})
    regulator = offices.log_in(make_person(db, role=Role.REGULATOR, name="Мельник Оксана"))
    page = regulator.get(AUDIT, params={"lang": "en"}).text
    rows = _rows(page)
    assert rows[0].startswith(utcnow().astimezone(KYIV).strftime("%Y-%m-%d"))
    assert "Logged in" in rows[0]
    assert "Мельник Оксана" in rows[0]
    assert "Access key created" in rows[1]
    assert "Тест Особа" in rows[1]
    assert "organizer_head" not in rows[1]  # roles in words, not codes
    assert "organizer head" in rows[1]
    assert f"organizer {head.person.organizer}" in rows[1]
    assert "name Платформа" in rows[1]
    assert "127.0.0.1" in rows[1]


def test_the_audit_log_filters_by_who_action_organizer_and_dates(
    db: Engine, offices: Offices
) -> None:
    head_a = offices.log_in(head_of(db))
    head_b = offices.log_in(head_of(db))
    head_a.send("POST", "/office/keys", {"name": "A1"})
    head_b.send("POST", "/office/keys", {"name": "B1"})
    regulator = offices.log_in(make_person(db, role=Role.REGULATOR))

    def shown(**filters: str) -> list[str]:
        return _rows(regulator.get(AUDIT, params={"lang": "en", **filters}).text)

    only_keys = shown(action="key.created")
    assert len(only_keys) == 2
    assert all("Access key created" in r for r in only_keys)
    organizer_a = head_a.person.organizer or ""
    of_a = shown(organizer=organizer_a)
    assert of_a
    assert all(f"organizer {organizer_a}" in r for r in of_a)
    by_rnokpp = shown(who=head_b.person.rnokpp)
    assert by_rnokpp
    assert all(head_b.person.rnokpp in r for r in by_rnokpp)
    today = utcnow().astimezone(KYIV).date()
    assert len(shown(**{"from": today.isoformat(), "to": today.isoformat()})) == len(shown())
    yesterday = (today - timedelta(days=1)).isoformat()
    nothing = regulator.get(AUDIT, params={"lang": "en", "to": yesterday}).text
    assert "No entry matches these filters." in text_of(nothing)
    wrong = regulator.get(AUDIT, params={"lang": "en", "from": "24.11.2026"}).text
    assert "Not a date" in text_of(wrong)


def test_the_audit_log_comes_in_pages_of_fifty(db: Engine, offices: Offices) -> None:
    with service.transaction(db) as conn:
        for n in range(60):
            repo.audit(conn, None, "test.entry", f"T-{n:03d}", None, "10.0.0.1", actor="test")
    regulator = offices.log_in(make_person(db, role=Role.REGULATOR))
    first = regulator.get(AUDIT, params={"lang": "en"}).text
    assert len(_rows(first)) == 50
    assert "Entries 1–50 of 61" in text_of(first)
    assert 'href="/office/audit?page=2"' in first
    second = regulator.get(AUDIT, params={"lang": "en", "page": "2"}).text
    assert len(_rows(second)) == 11
    assert "T-000" in _rows(second)[-1]  # oldest last
    assert "Page 2 of 2" in text_of(second)


# --- officials ------------------------------------------------------------------------------


def test_the_administrator_adds_a_tax_official_and_it_is_audited(
    db: Engine, offices: Offices
) -> None:
    admin = offices.log_in(make_person(db, role=Role.REGULATOR_ADMIN))
    rnokpp = new_rnokpp()
    answer = admin.send(
        "POST", OFFICIALS + "?lang=en", {"rnokpp": rnokpp, "name": "Ткаченко Іван", "role": "tax"}
    )
    assert answer.status_code == 200
    assert "Ткаченко Іван was added as tax official." in text_of(answer.text)
    added = audit_entries(db, "official.added")
    assert [(e["target"], e["details"]["role"], e["person"], e["ip"]) for e in added] == [
        (rnokpp, "tax", admin.person.id, "127.0.0.1")
    ]
    with db.connect() as conn:
        official = repo.person_in(conn, rnokpp, None)
    assert official is not None
    assert official.role is Role.TAX


def test_a_wrong_official_is_explained_and_not_added(db: Engine, offices: Offices) -> None:
    admin = offices.log_in(make_person(db, role=Role.REGULATOR_ADMIN))
    existing = make_person(db, role=Role.REGULATOR)
    bad = {"rnokpp": "1234567890", "name": "", "role": "organizer_head"}
    answer = text_of(admin.send("POST", OFFICIALS + "?lang=en", bad).text)
    assert "The last digit does not match the others" in answer
    assert "Type the person's name." in answer
    assert "Choose the official's role." in answer
    again = {"rnokpp": existing.rnokpp, "name": "X", "role": "tax"}
    answer = text_of(admin.send("POST", OFFICIALS + "?lang=en", again).text)
    assert "This person is already an official." in answer
    assert audit_entries(db, "official.added") == []


def test_a_removed_official_is_logged_out_and_it_is_audited(db: Engine, offices: Offices) -> None:
    admin = offices.log_in(make_person(db, role=Role.REGULATOR_ADMIN))
    regulator = offices.log_in(make_person(db, role=Role.REGULATOR))
    assert regulator.get(AUDIT).status_code == 200
    answer = admin.send("DELETE", f"{OFFICIALS}/{regulator.person.id}")
    assert answer.status_code == 200
    assert person(db, regulator.person.id).status == "removed"
    assert is_login_redirect(regulator.get(AUDIT))
    removed = audit_entries(db, "official.removed")
    assert [(e["target"], e["details"]["sessions_ended"]) for e in removed] == [
        (regulator.person.rnokpp, 1)
    ]


def test_an_administrator_cannot_remove_themselves(db: Engine, offices: Offices) -> None:
    admin = offices.log_in(make_person(db, role=Role.REGULATOR_ADMIN))
    page = admin.get(OFFICIALS).text
    assert f'hx-delete="{OFFICIALS}/{admin.person.id}"' not in page
    answer = admin.send("DELETE", f"{OFFICIALS}/{admin.person.id}")
    assert answer.status_code == 409
    assert person(db, admin.person.id).status == "active"
    assert audit_entries(db, "official.removed") == []


def test_officials_pages_remove_only_officials(db: Engine, offices: Offices) -> None:
    admin = offices.log_in(make_person(db, role=Role.REGULATOR_ADMIN))
    organizer = make_organizer(db)
    rep = representative(db, organizer["edrpou"], P.KEYS_MANAGE)
    head = head_of(db, organizer)
    for target in (rep.id, head.id, 999_999):
        assert admin.send("DELETE", f"{OFFICIALS}/{target}").status_code == 404
    assert person(db, rep.id).status == "active"
    assert person(db, head.id).status == "active"


def test_officials_changes_need_the_csrf_token_and_the_right(db: Engine, offices: Offices) -> None:
    admin = offices.log_in(make_person(db, role=Role.REGULATOR_ADMIN))
    regulator = offices.log_in(make_person(db, role=Role.REGULATOR))
    body = {"rnokpp": new_rnokpp(), "name": "X", "role": "tax"}
    assert admin.send("POST", OFFICIALS, body, csrf=False).status_code == 403
    assert admin.send("DELETE", f"{OFFICIALS}/{regulator.person.id}", csrf=False).status_code == 403
    assert regulator.send("POST", OFFICIALS, body).status_code == 403
    assert regulator.send("DELETE", f"{OFFICIALS}/{admin.person.id}").status_code == 403
    assert person(db, regulator.person.id).status == "active"
    assert person(db, admin.person.id).status == "active"
    assert audit_entries(db, "official.added") == []


# --- words ----------------------------------------------------------------------------------


def test_the_words_of_roles_and_audit_actions_have_their_ukrainian_and_english() -> None:
    for role in ("regulator", "regulator_admin", "tax"):
        assert f"role:{role}" in i18n.UK
        assert f"role:{role}" in i18n.EN
    for action in ("key.created", "key.deactivated", "official.added", "auth.login"):
        assert action in i18n.UK
        assert action in i18n.EN

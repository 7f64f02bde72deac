"""The organizer's office over HTTP, on both databases: representatives, access keys,
data submission; who may reach each page, CSRF, BOLA, and the audit log of each change."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select

from dsom.auth.models import access_keys
from dsom.auth.permissions import REPRESENTATIVE_RIGHTS, Role
from dsom.auth.tokens import token_hash
from dsom.kit.codes import make_rnokpp
from dsom.people import repository as people_repo
from dsom.people.repository import PersonRecord
from dsom.reports.submission import REJECTION_CODES
from dsom.web import i18n
from dsom.web.organizer import RIGHTS
from tests.builders import Market, make_key, make_market, make_organizer
from tests.conftest import Server
from tests.people.helpers import audit_entries, make_person, new_rnokpp
from tests.web.offices import (
    Offices,
    P,
    head_of,
    is_login_redirect,
    key_row,
    person,
    representative,
    text_of,
    trusted_offices,
)

REPRESENTATIVES = "/office/representatives"
KEYS = "/office/keys"
SUBMISSION = "/office/submission"
OPERATIONS = "/api/v1/operations"


@pytest.fixture
def offices(server: Server, db: Engine, tmp_path: Path) -> Iterator[Offices]:
    """People log in to the test server (on an emptied database) with test certificates."""
    yield from trusted_offices(server, tmp_path)


# --- who reaches which page ----------------------------------------------------------------

PAGES = (
    REPRESENTATIVES,
    KEYS,
    SUBMISSION,
    "/office/audit",
    "/office/officials",
    "/office/reports",
)
# Who may open each page (reps are named by the rights they hold).
ALLOWED: dict[str, set[str]] = {
    REPRESENTATIVES: {"head"},
    KEYS: {"head", "rep:keys"},
    SUBMISSION: {"head", "rep:keys", "rep:reports"},
    "/office/audit": {"regulator", "regulator_admin"},
    "/office/officials": {"regulator_admin"},
    "/office/reports": {"regulator", "regulator_admin", "tax", "head", "rep:reports"},
}
WHO = ["regulator", "regulator_admin", "tax", "head", "rep:none", "rep:registers"]
WHO += ["rep:keys", "rep:reports"]
REP_RIGHT = {
    "rep:none": (),
    "rep:registers": (P.REGISTERS_READ_OWN,),
    "rep:keys": (P.KEYS_MANAGE,),
    "rep:reports": (P.REPORTS_OWN,),
}


@pytest.mark.parametrize("who", WHO)
def test_each_page_opens_for_exactly_those_who_may_see_it(
    db: Engine, offices: Offices, who: str
) -> None:
    if who in {"regulator", "regulator_admin", "tax"}:
        someone = make_person(db, role=Role(who))
    elif who == "head":
        someone = head_of(db)
    else:
        someone = representative(db, make_organizer(db)["edrpou"], *REP_RIGHT[who])
    office = offices.log_in(someone)
    for page in PAGES:
        answer = office.get(page)
        if who in ALLOWED[page]:
            assert answer.status_code == 200, (page, answer.text)
        else:
            assert answer.status_code == 403, page
            assert "You do not have the right to see this page." in text_of(
                office.get(page, params={"lang": "en"}).text
            )


def test_pages_send_a_stranger_to_the_login(http: httpx.Client) -> None:
    for page in PAGES:
        answer = http.get(page, headers={"Accept": "text/html"})
        assert is_login_redirect(answer), page
        assert answer.headers["location"] == "/login?next=" + page.replace("/", "%2F")
    answer = http.post(KEYS, data={"name": "x"}, headers={"HX-Request": "true"})
    assert answer.status_code == 401
    assert answer.headers["hx-redirect"].startswith("/login?next=")


def test_the_navigation_shows_only_the_persons_own_pages(db: Engine, offices: Offices) -> None:
    rep = offices.log_in(representative(db, make_organizer(db)["edrpou"], P.KEYS_MANAGE))
    home = rep.get("/office").text
    assert f'href="{KEYS}"' in home
    assert f'href="{SUBMISSION}"' in home
    assert f'href="{REPRESENTATIVES}"' not in home
    assert 'href="/office/audit"' not in home


# --- representatives ----------------------------------------------------------------------


def test_head_adds_a_representative_with_rights_and_it_is_audited(
    db: Engine, offices: Offices
) -> None:
    head = offices.log_in(head_of(db))
    rnokpp = new_rnokpp()
    answer = head.send(
        "POST",
        REPRESENTATIVES,
        {"rnokpp": rnokpp, "name": "Бондар  Ірина Олегівна", "rights": ["keys:manage"]},
    )
    assert answer.status_code == 200, answer.text
    assert answer.text.lstrip().startswith('<section id="representatives"')  # a fragment
    assert "Бондар Ірина Олегівна" in answer.text
    added = [e for e in audit_entries(db, "representative.added") if e["target"] == rnokpp]
    assert len(added) == 1
    entry = added[0]
    assert entry["person"] == head.person.id
    assert entry["organizer"] == head.person.organizer
    assert entry["ip"] == "127.0.0.1"
    assert entry["details"]["rights"] == ["keys:manage"]
    listed = head.get(REPRESENTATIVES).text
    assert rnokpp in listed


@pytest.mark.parametrize(
    ("rnokpp", "says"),
    [
        ("123456789", "An RNOKPP is 10 digits."),
        ("12345678ab", "An RNOKPP is 10 digits."),
        (
            make_rnokpp(700_000_001)[:9] + str((int(make_rnokpp(700_000_001)[9]) + 1) % 10),
            "The last digit does not match the others",
        ),
    ],
)
def test_a_wrong_rnokpp_is_explained_and_nobody_is_added(
    db: Engine, offices: Offices, rnokpp: str, says: str
) -> None:
    head = offices.log_in(head_of(db))
    answer = head.client.post(
        REPRESENTATIVES,
        params={"lang": "en"},
        data={"rnokpp": rnokpp, "name": "Хтось", "rights": ["reports:own"]},
        headers={"X-CSRF-Token": head.csrf, "HX-Request": "true"},
    )
    assert answer.status_code == 200
    assert says in text_of(answer.text)
    assert 'aria-invalid="true"' in answer.text
    assert f'value="{rnokpp}"' in answer.text  # what was typed stays in the form
    assert audit_entries(db, "representative.added") == []


def test_adding_someone_who_already_acts_for_the_organizer_is_explained(
    db: Engine, offices: Offices
) -> None:
    head = offices.log_in(head_of(db))
    rep = representative(db, head.person.organizer or "")
    answer = head.send("POST", REPRESENTATIVES + "?lang=en", {"rnokpp": rep.rnokpp, "name": "X"})
    assert "This person already acts for your organizer." in text_of(answer.text)


def test_head_grants_and_revokes_rights(db: Engine, offices: Offices) -> None:
    head = offices.log_in(head_of(db))
    rep = representative(db, head.person.organizer or "", P.REGISTERS_READ_OWN)
    answer = head.send(
        "POST", f"{REPRESENTATIVES}/{rep.id}/rights", {"rights": ["keys:manage", "reports:own"]}
    )
    assert answer.status_code == 200
    assert person(db, rep.id).rights == {P.KEYS_MANAGE, P.REPORTS_OWN}
    answer = head.send("POST", f"{REPRESENTATIVES}/{rep.id}/rights", {})  # all unticked
    assert answer.status_code == 200
    assert person(db, rep.id).rights == frozenset()
    changes = audit_entries(db, "representative.rights_changed")
    assert [(c["details"]["before"], c["details"]["after"]) for c in changes] == [
        (["registers:read-own"], ["keys:manage", "reports:own"]),
        (["keys:manage", "reports:own"], []),
    ]


def test_a_removed_representative_is_logged_out_at_once(db: Engine, offices: Offices) -> None:
    head = offices.log_in(head_of(db))
    rep = offices.log_in(representative(db, head.person.organizer or "", P.KEYS_MANAGE))
    assert rep.get(KEYS).status_code == 200
    answer = head.send("DELETE", f"{REPRESENTATIVES}/{rep.person.id}")
    assert answer.status_code == 200
    assert person(db, rep.person.id).status == "removed"
    assert is_login_redirect(rep.get(KEYS))
    removed = audit_entries(db, "representative.removed")
    assert [(e["target"], e["details"]["sessions_ended"]) for e in removed] == [
        (rep.person.rnokpp, 1)
    ]


def test_changes_without_the_csrf_token_are_refused_and_change_nothing(
    db: Engine, offices: Offices
) -> None:
    head = offices.log_in(head_of(db))
    organizer = head.person.organizer or ""
    rep = representative(db, organizer, P.KEYS_MANAGE)
    key = make_key(db, organizer=organizer)
    key_id = _key_id(db, key)
    before = len(audit_entries(db))
    attempts = [
        ("POST", REPRESENTATIVES, {"rnokpp": new_rnokpp(), "name": "X"}),
        ("POST", f"{REPRESENTATIVES}/{rep.id}/rights", {"rights": ["reports:own"]}),
        ("DELETE", f"{REPRESENTATIVES}/{rep.id}", None),
        ("POST", KEYS, {"name": "stolen"}),
        ("POST", f"{KEYS}/{key_id}/deactivate", None),
    ]
    for method, path, data in attempts:
        assert head.send(method, path, data, csrf=False).status_code == 403, path
    assert person(db, rep.id).rights == {P.KEYS_MANAGE}
    assert person(db, rep.id).status == "active"
    assert key_row(db, key_id)["deactivated_at"] is None
    assert len(audit_entries(db)) == before


# --- BOLA: another organizer's keys and people are not there --------------------------------


def test_another_organizers_keys_and_people_are_not_found_and_stay_as_they_were(
    db: Engine, offices: Offices
) -> None:
    head_a = offices.log_in(head_of(db))
    rep_a = offices.log_in(representative(db, head_a.person.organizer or "", P.KEYS_MANAGE))
    b = make_organizer(db)
    head_b = head_of(db, b)
    rep_b = representative(db, b["edrpou"], P.REPORTS_OWN, name="Секретна Особа Б")
    key_b = _key_id(db, make_key(db, organizer=b["edrpou"]))
    official = make_person(db, role=Role.REGULATOR)
    before = len(audit_entries(db))

    attempts = [
        (head_a, "POST", f"{KEYS}/{key_b}/deactivate", None),
        (rep_a, "POST", f"{KEYS}/{key_b}/deactivate", None),
        (head_a, "POST", f"{REPRESENTATIVES}/{rep_b.id}/rights", {"rights": ["keys:manage"]}),
        (head_a, "POST", f"{REPRESENTATIVES}/{head_b.id}/rights", {"rights": ["keys:manage"]}),
        (head_a, "DELETE", f"{REPRESENTATIVES}/{rep_b.id}", None),
        (head_a, "DELETE", f"{REPRESENTATIVES}/{head_b.id}", None),
        (head_a, "DELETE", f"{REPRESENTATIVES}/{official.id}", None),
        (head_a, "DELETE", f"{REPRESENTATIVES}/999999", None),
    ]
    for office, method, path, data in attempts:
        answer = office.send(method, path, data)
        assert answer.status_code == 404, (path, answer.status_code)
        for secret in (rep_b.name, rep_b.rnokpp, b["edrpou"], b["name"]):
            assert secret not in answer.text
    assert key_row(db, key_b)["deactivated_at"] is None
    assert person(db, rep_b.id).rights == {P.REPORTS_OWN}
    assert person(db, rep_b.id).status == "active"
    assert person(db, official.id).status == "active"
    assert len(audit_entries(db)) == before

    # …and nothing of B's shows on A's pages.
    for page in (KEYS, REPRESENTATIVES):
        shown = head_a.get(page).text
        assert key_b not in shown
        assert rep_b.rnokpp not in shown


# --- access keys ----------------------------------------------------------------------------


def _key_id(db: Engine, secret: str) -> str:
    with db.connect() as conn:
        return str(
            conn.execute(
                select(access_keys.c.id).where(access_keys.c.key_hash == token_hash(secret))
            ).scalar_one()
        )


def _secret_in(html: str) -> str:
    found = re.search(r'<code id="new-key-secret" class="secret">([^<]+)</code>', html)
    assert found is not None, html
    return found.group(1)


def test_a_new_keys_secret_is_shown_once_and_stored_only_as_a_hash(
    server: Server, db: Engine, offices: Offices
) -> None:
    market = make_market(db)
    server.reload()
    head = offices.log_in(_head_of_market(db, market))
    answer = head.send("POST", KEYS + "?lang=en", {"name": "Казино, робоча система"})
    assert answer.status_code == 200, answer.text
    secret = _secret_in(answer.text)
    assert "it will not be shown again" in text_of(answer.text)
    assert 'data-copy="#new-key-secret"' in answer.text
    key_id = _key_id(db, secret)
    row = key_row(db, key_id)
    assert row["key_hash"] == token_hash(secret)
    assert secret not in {str(v) for v in row.values()}
    assert row["name"] == "Казино, робоча система"
    assert row["created_by"].startswith(f"person:{head.person.id} ")

    listed = head.get(KEYS).text
    assert secret not in listed
    assert key_id in listed
    assert "Казино, робоча система" in listed

    created = audit_entries(db, "key.created")
    assert [(e["target"], e["organizer"], e["ip"]) for e in created] == [
        (key_id, market.organizer, "127.0.0.1")
    ]
    assert secret not in str(created)

    # The key works, until it is deactivated: then it is refused within a second.
    send = {"Authorization": f"Bearer {secret}"}
    assert (
        head.client.post(
            OPERATIONS, json={"operations": [market.online_bet()]}, headers=send
        ).status_code
        == 200
    )
    answer = head.send("POST", f"{KEYS}/{key_id}/deactivate")
    assert answer.status_code == 200
    assert key_row(db, key_id)["deactivated_at"] is not None
    time.sleep(1.1)
    refused = head.client.post(OPERATIONS, json={"operations": [market.online_bet()]}, headers=send)
    assert refused.status_code == 401
    assert [e["target"] for e in audit_entries(db, "key.deactivated")] == [key_id]
    # Deactivated is for good: asking again finds no active key.
    assert head.send("POST", f"{KEYS}/{key_id}/deactivate").status_code == 404


def test_a_key_needs_a_name(db: Engine, offices: Offices) -> None:
    head = offices.log_in(head_of(db))
    answer = head.send("POST", KEYS + "?lang=en", {"name": "   "})
    assert answer.status_code == 200
    assert "Give the key a name" in text_of(answer.text)
    assert "new-key-secret" not in answer.text
    assert audit_entries(db, "key.created") == []


def test_a_representative_with_the_right_manages_keys(db: Engine, offices: Offices) -> None:
    organizer = make_organizer(db)["edrpou"]
    rep = offices.log_in(representative(db, organizer, P.KEYS_MANAGE))
    answer = rep.send("POST", KEYS, {"name": "Bookmaker"})
    assert answer.status_code == 200
    key_id = _key_id(db, _secret_in(answer.text))
    assert key_row(db, key_id)["organizer"] == organizer


# --- data submission ------------------------------------------------------------------------


def _figures(html: str) -> dict[str, tuple[str, str]]:
    """The 'What arrived' table: row label → (today, last 24 hours)."""
    rows = re.findall(
        r'<th scope="row"[^>]*>(.*?)</th>'
        r'<td class="num[^"]*">(.*?)</td><td class="num[^"]*">(.*?)</td>',
        html,
    )
    return {text_of(label).split(" sent again")[0]: (today, day) for label, today, day in rows}


def _codes(html: str) -> dict[str, int]:
    rows = re.findall(
        r"<tr><td><code>([a-z_]+)</code></td><td>.*?</td><td class=\"num\">([\d\u202f]+)</td></tr>",
        html,
    )
    return {code: int(count.replace("\u202f", "")) for code, count in rows}


def test_the_submission_page_shows_what_was_sent(
    server: Server, db: Engine, offices: Offices
) -> None:
    market = make_market(db)
    server.reload()
    head = offices.log_in(_head_of_market(db, market))
    send = market.headers
    first = market.online_bet()
    batch1 = [
        first,
        market.online_bet(),
        market.hall_bet(),
        market.online_bet(license="NO-SUCH-1"),
        market.online_bet(currency="USD"),
    ]
    batch2 = [first, market.online_bet(amount=0)]
    answers = [
        head.client.post(OPERATIONS, json={"operations": b}, headers=send).json()
        for b in (batch1, batch2)
    ]
    assert [(a["accepted"], a["duplicates"], a["rejected"]) for a in answers] == [
        (3, 0, 2),
        (0, 1, 1),
    ]

    deadline = time.monotonic() + 5
    while True:
        page = head.get(SUBMISSION, params={"lang": "en"}).text
        figures = _figures(page)
        if figures.get("Requests", ("0",))[0] == "2" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert figures == {
        "Requests": ("2", "2"),
        "Operations received": ("7", "7"),
        "accepted": ("3", "3"),
        "duplicates": ("1", "1"),
        "rejected": ("3", "3"),
    }
    assert _codes(page) == {"schema_violation": 1, "unsupported_currency": 1, "unknown_license": 1}
    assert "Your organizer has no licence with that number." in text_of(page)
    assert "Last request received" in text_of(page)
    assert "has not sent any data" not in page

    home = text_of(head.get("/office", params={"lang": "en"}).text)
    assert "Rejected today 3 of 7" in home


def test_an_organizer_that_never_sent_anything_is_told_how_to_start(
    db: Engine, offices: Offices
) -> None:
    head = offices.log_in(head_of(db))
    page = head.get(SUBMISSION, params={"lang": "en"}).text
    assert "Your organizer has not sent any data to DSOM yet." in text_of(page)
    assert 'href="/office/keys"' in page
    assert 'href="/docs"' in page
    home = head.get("/office", params={"lang": "en"}).text
    assert "Your organizer has not sent any data to DSOM yet." in text_of(home)


def test_a_representative_who_reads_reports_is_told_to_ask_for_a_key(
    db: Engine, offices: Offices
) -> None:
    rep = offices.log_in(representative(db, make_organizer(db)["edrpou"], P.REPORTS_OWN))
    page = rep.get(SUBMISSION, params={"lang": "en"}).text
    assert 'href="/office/keys"' not in page.split('<main id="main">')[1]
    assert "Ask your organizer's head for an access key" in text_of(page)


def test_a_pending_organizer_is_told_its_operations_are_refused(
    db: Engine, offices: Offices
) -> None:
    head = offices.log_in(head_of(db, make_organizer(db, status="pending")))
    page = text_of(head.get(SUBMISSION, params={"lang": "en"}).text)
    assert "DSOM refuses its operations until the regulator activates it." in page


def test_officials_get_no_submission_box_on_their_home_page(db: Engine, offices: Offices) -> None:
    official = offices.log_in(make_person(db, role=Role.REGULATOR))
    assert 'class="glance' not in official.get("/office").text


# --- words ----------------------------------------------------------------------------------


def test_every_word_the_pages_take_from_code_has_its_ukrainian_and_english() -> None:
    assert {right for right, _ in RIGHTS} == REPRESENTATIVE_RIGHTS
    for _, label in RIGHTS:
        assert label in i18n.UK
    for code in REJECTION_CODES:
        assert code in i18n.UK, code
        assert code in i18n.EN, code
    for word in ("just now", "{n} min ago", "{n} h ago", "{n} days ago"):
        assert word in i18n.UK


def _head_of_market(db: Engine, market: Market) -> PersonRecord:
    """The head of a market's organizer, as the organizers register names them."""
    with db.connect() as conn:
        entry = people_repo.organizer_entry(conn, market.organizer)
    assert entry is not None
    return head_of(db, dict(entry))

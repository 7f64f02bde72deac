"""CSV import (all or nothing, every bad row named by its line) and export, round trip included."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from dsom.auth.principal import SYSTEM
from dsom.demo.market import reset
from dsom.kit.time import isoformat_z
from dsom.registers import service
from dsom.registers.declarations import REGISTERS
from tests.builders import (
    GROUNDS,
    make_equipment,
    make_establishment,
    make_licence,
    make_organizer,
    make_website,
)
from tests.conftest import token_for
from tests.registers.helpers import (
    Headers,
    app_values,
    count,
    create,
    created,
    field_errors,
    patch,
    url,
)

ORGANIZERS_HEADER = "edrpou,name,head_rnokpp,status"
GOOD_ORGANIZERS = (
    f"{ORGANIZERS_HEADER}\n"
    '14360570,"ТОВ ""Гра, Київ""",1234567899,active\n'
    "00032129,ТОВ «Лото»,1234567899,pending\n"
    "35000016,ТОВ «Карта»,1234567899,suspended\n"
)


def import_csv(
    http: httpx.Client,
    headers: Headers,
    register: str,
    body: str | bytes,
    **grounds: str,
) -> httpx.Response:
    """POST a CSV file to a register's import, with `reason="test import"` unless told."""
    content = body.encode() if isinstance(body, str) else body
    return http.post(
        url(register, "import"),
        params=grounds or {"reason": "test import"},
        content=content,
        headers={**headers, "content-type": "text/csv"},
    )


def imported(response: httpx.Response) -> dict[str, int]:
    """The counts of a successful import."""
    assert response.status_code == 200, response.text
    counts: dict[str, int] = response.json()
    return counts


def import_problems(response: httpx.Response) -> list[dict[str, Any]]:
    """The rows of a 422 import_failed answer."""
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "import_failed", error
    assert "nothing of the file was imported" in error["message"]
    rows: list[dict[str, Any]] = error["rows"]
    return rows


def export(http: httpx.Client, headers: Headers, register: str, **params: str) -> httpx.Response:
    answer = http.get(url(register, "export"), params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def names(http: httpx.Client, headers: Headers) -> dict[str, str]:
    """Every organizer's name by code."""
    items = http.get(url("organizers"), headers=headers).json()["items"]
    return {e["edrpou"]: e["name"] for e in items}


def history(http: httpx.Client, headers: Headers, register: str, key: str) -> list[Any]:
    versions: list[Any] = http.get(url(register, key, "history"), headers=headers).json()[
        "versions"
    ]
    return versions


# --- importing a good file -------------------------------------------------------------------


def test_good_file_creates_every_entry(http: httpx.Client, db: Engine, regulator: Headers) -> None:
    result = imported(import_csv(http, regulator, "organizers", GOOD_ORGANIZERS))
    assert result == {"created": 3, "updated": 0, "unchanged": 0}
    assert names(http, regulator) == {
        "00032129": "ТОВ «Лото»",
        "14360570": 'ТОВ "Гра, Київ"',
        "35000016": "ТОВ «Карта»",
    }
    entry = http.get(url("organizers", "35000016"), headers=regulator).json()
    assert (entry["status"], entry["head_rnokpp"], entry["email"]) == (
        "suspended",
        "1234567899",
        None,
    )
    (first,) = history(http, regulator, "organizers", "35000016")
    assert (first["action"], first["grounds"]) == (
        "import",
        {"decision": None, "reason": "test import"},
    )


def test_same_file_imported_again_leaves_every_entry_unchanged(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    imported(import_csv(http, regulator, "organizers", GOOD_ORGANIZERS))
    again = imported(import_csv(http, regulator, "organizers", GOOD_ORGANIZERS))
    assert again == {"created": 0, "updated": 0, "unchanged": 3}
    assert len(history(http, regulator, "organizers", "14360570")) == 1


def test_file_changing_a_field_updates_it_and_keeps_the_old_version(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    imported(import_csv(http, regulator, "organizers", GOOD_ORGANIZERS))
    changed = GOOD_ORGANIZERS.replace("ТОВ «Лото»", "ТОВ «Лото-Плюс»")
    result = imported(import_csv(http, regulator, "organizers", changed, decision="Р-9"))
    assert result == {"created": 0, "updated": 1, "unchanged": 2}
    assert names(http, regulator)["00032129"] == "ТОВ «Лото-Плюс»"
    old, new = history(http, regulator, "organizers", "00032129")
    assert (old["values"]["name"], old["superseded_at"]) == ("ТОВ «Лото»", new["recorded_at"])
    assert (new["action"], new["grounds"]) == ("import", {"decision": "Р-9", "reason": None})
    assert new["values"]["name"] == "ТОВ «Лото-Плюс»"


def test_file_of_some_columns_changes_only_those(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db, name="ТОВ «Стара»")
    result = imported(
        import_csv(http, regulator, "organizers", f"edrpou,email\n{org['edrpou']},a@b.ua\n")
    )
    assert result == {"created": 0, "updated": 1, "unchanged": 0}
    entry = http.get(url("organizers", org["edrpou"]), headers=regulator).json()
    assert (entry["name"], entry["email"]) == ("ТОВ «Стара»", "a@b.ua")


def test_file_may_move_an_entry_along_an_allowed_status_transition(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db, status="pending")["edrpou"]
    imported(import_csv(http, regulator, "organizers", f"edrpou,status\n{org},active\n"))
    assert http.get(url("organizers", org), headers=regulator).json()["status"] == "active"


def test_utf8_file_with_a_byte_order_mark_is_read(http: httpx.Client, regulator: Headers) -> None:
    body = "\ufeff" + GOOD_ORGANIZERS
    assert imported(import_csv(http, regulator, "organizers", body))["created"] == 3


def test_file_with_windows_line_ends_is_read(http: httpx.Client, regulator: Headers) -> None:
    body = GOOD_ORGANIZERS.replace("\n", "\r\n")
    assert imported(import_csv(http, regulator, "organizers", body))["created"] == 3
    assert names(http, regulator)["35000016"] == "ТОВ «Карта»"


def test_file_without_id_column_gets_generated_ids(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    hall = make_licence(db, organizer=org, activity="slot_hall")["number"]
    body = (
        "organizer,licence,kind,address\n"
        f"{org},{hall},slot_hall,м. Одеса\n"
        f"{org},{hall},slot_hall,м. Дніпро\n"
    )
    assert imported(import_csv(http, regulator, "establishments", body))["created"] == 2
    items = http.get(url("establishments"), headers=regulator).json()["items"]
    assert [(e["id"], e["address"]) for e in items] == [
        ("EST-000001", "м. Одеса"),
        ("EST-000002", "м. Дніпро"),
    ]


def test_imported_ids_are_kept_and_generated_ids_continue_after_them(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    hall = make_licence(db, organizer=org, activity="slot_hall")["number"]
    body = f"id,organizer,licence,kind,address\nEST-000010,{org},{hall},slot_hall,м. Суми\n"
    imported(import_csv(http, regulator, "establishments", body))
    values = {"organizer": org, "licence": hall, "kind": "slot_hall", "address": "м. Київ"}
    assert created(create(http, regulator, "establishments", values))["id"] == "EST-000011"


# --- a file with bad rows is refused whole ---------------------------------------------------


def test_file_with_a_bad_row_is_refused_whole(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    body = GOOD_ORGANIZERS + "14360571,ТОВ «Хибна»,1234567899,active\n"
    (problem,) = import_problems(import_csv(http, regulator, "organizers", body))
    assert (problem["line"], problem["field"]) == (5, "edrpou")
    assert "check digit" in problem["message"]
    assert count(db, "organizers") == 0


def test_refused_file_leaves_entries_it_would_have_changed_as_they_were(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    imported(import_csv(http, regulator, "organizers", GOOD_ORGANIZERS))
    body = (
        f"{ORGANIZERS_HEADER}\n"
        "14360570,ТОВ «Перейменована»,1234567899,suspended\n"
        "40000006,ТОВ «Нова»,1234567899,active\n"
        "00032129,ТОВ «Лото»,12345,pending\n"
    )
    (problem,) = import_problems(import_csv(http, regulator, "organizers", body))
    assert (problem["line"], problem["field"]) == (4, "head_rnokpp")
    assert count(db, "organizers") == 3
    entry = http.get(url("organizers", "14360570"), headers=regulator).json()
    assert (entry["name"], entry["status"], entry["version"]) == ('ТОВ "Гра, Київ"', "active", 1)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_line_numbers_count_every_line_of_a_quoted_multiline_cell(
    http: httpx.Client, db: Engine, regulator: Headers, newline: str
) -> None:
    body = newline.join(
        [
            ORGANIZERS_HEADER,
            '14360570,"ТОВ «Гра»',
            'Київ",1234567899,active',
            "",
            "00032129,ТОВ «Лото»,1234567890,active",
            "",
        ]
    )
    (problem,) = import_problems(import_csv(http, regulator, "organizers", body))
    assert (problem["line"], problem["field"]) == (5, "head_rnokpp")
    assert count(db, "organizers") == 0


def test_every_bad_row_is_reported_with_its_line(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    body = (
        f"{ORGANIZERS_HEADER}\n"
        "14360571,ТОВ «Один»,1234567899,active\n"  # 2: check digit
        "00032129,ТОВ «Два»,1234567899,active\n"  # 3: good
        "35000016,,1234567899,active\n"  # 4: no name
        "40000006,ТОВ «Чотири»,1234567899,closed\n"  # 5: unknown status
        "14360570,ТОВ «П'ять»\n"  # 6: too few values
    )
    response = import_csv(http, regulator, "organizers", body)
    problems = import_problems(response)
    assert [(p["line"], p["field"]) for p in problems] == [
        (2, "edrpou"),
        (4, "name"),
        (5, "status"),
        (6, None),
    ]
    assert problems[1]["message"] == "is required"
    assert problems[3]["message"] == "has 2 values, the header has 4"
    assert response.json()["error"]["message"].startswith("4 row(s)")
    assert "first on line 2" in response.json()["error"]["message"]
    assert count(db, "organizers") == 0


def test_row_breaking_a_cross_register_rule_is_reported(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    online = make_licence(db, organizer=org)["number"]
    hall = make_licence(db, organizer=org, activity="slot_hall")["number"]
    body = (
        "organizer,licence,kind,address\n"
        f"{org},{hall},slot_hall,м. Одеса\n"
        f"{org},{online},slot_hall,м. Львів\n"
        f"{org},NO-SUCH,slot_hall,м. Київ\n"
    )
    problems = import_problems(import_csv(http, regulator, "establishments", body))
    assert [(p["line"], p["field"]) for p in problems] == [(3, "licence"), (4, "licence")]
    assert "land-based licence" in problems[0]["message"]
    assert count(db, "establishments") == 0


def test_rows_duplicating_a_unique_value_within_one_file_are_refused(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    number = make_licence(db, organizer=org)["number"]
    body = (
        "organizer,licence,domain\n"
        f"{org},{number},one.ua\n"
        f"{org},{number},two.ua\n"
        f"{org},{number},one.ua\n"
    )
    (problem,) = import_problems(import_csv(http, regulator, "websites", body))
    assert (problem["line"], problem["field"]) == (4, "domain")
    assert count(db, "websites") == 0


def test_key_appearing_twice_in_one_file_is_refused(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    body = GOOD_ORGANIZERS + "00032129,ТОВ «Лото 2»,1234567899,active\n"
    (problem,) = import_problems(import_csv(http, regulator, "organizers", body))
    assert problem == {
        "line": 5,
        "field": "edrpou",
        "message": "edrpou 00032129 appears again (first on line 3)",
    }
    assert count(db, "organizers") == 0


def test_unknown_column_is_refused(http: httpx.Client, db: Engine, regulator: Headers) -> None:
    body = GOOD_ORGANIZERS.replace(ORGANIZERS_HEADER, ORGANIZERS_HEADER + ",colour").replace(
        "\n0", ",red\n0"
    )
    problems = import_problems(import_csv(http, regulator, "organizers", body))
    assert problems == [{"line": 1, "field": None, "message": "unknown columns colour"}]
    assert count(db, "organizers") == 0


def test_file_naming_a_column_twice_is_refused(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    body = "edrpou,name,head_rnokpp,name\n14360570,ТОВ «Одна»,1234567899,ТОВ «Інша»\n"
    problems = import_problems(import_csv(http, regulator, "organizers", body))
    assert problems == [{"line": 1, "field": None, "message": "columns given twice name"}]
    assert count(db, "organizers") == 0


def test_file_without_the_key_column_is_refused(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    body = (
        "organizer,activity,valid_from,valid_to,decision\n"
        f"{org},online_casino,2026-01-01,2030-12-31,Р-1\n"
    )
    problems = import_problems(import_csv(http, regulator, "licences", body))
    assert problems == [{"line": 1, "field": None, "message": "the key column number is missing"}]
    assert count(db, "licences") == 0


def test_empty_file_is_refused(http: httpx.Client, regulator: Headers) -> None:
    (problem,) = import_problems(import_csv(http, regulator, "organizers", ""))
    assert (problem["line"], problem["message"]) == (1, "the file is empty: no header row")


def test_file_that_is_not_utf8_is_refused(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    body = GOOD_ORGANIZERS.encode("cp1251")
    response = import_csv(http, regulator, "organizers", body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_failed"
    assert "UTF-8" in response.json()["error"]["message"]
    assert count(db, "organizers") == 0


def test_file_may_not_make_a_status_change_the_register_forbids(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    number = make_licence(db, organizer=org, status="revoked")["number"]
    (problem,) = import_problems(
        import_csv(http, regulator, "licences", f"number,status\n{number},active\n")
    )
    assert problem == {"line": 2, "field": "status", "message": "cannot go from revoked to active"}


def test_file_may_not_move_an_entry_to_another_organizer(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    other = make_organizer(db)["edrpou"]
    number = make_licence(db, organizer=org)["number"]
    (problem,) = import_problems(
        import_csv(http, regulator, "licences", f"number,organizer\n{number},{other}\n")
    )
    assert (problem["line"], problem["field"]) == (2, "organizer")
    assert http.get(url("licences", number), headers=regulator).json()["organizer"] == org


@pytest.mark.parametrize("grounds", [{}, {"reason": ""}, {"decision": " "}])
def test_import_without_grounds_is_refused(
    http: httpx.Client, db: Engine, regulator: Headers, grounds: dict[str, str]
) -> None:
    response = http.post(
        url("organizers", "import"),
        params=grounds,
        content=GOOD_ORGANIZERS.encode(),
        headers={**regulator, "content-type": "text/csv"},
    )
    assert "grounds" in field_errors(response)
    assert count(db, "organizers") == 0


def test_tax_official_cannot_import(http: httpx.Client, db: Engine, tax: Headers) -> None:
    response = import_csv(http, tax, "organizers", GOOD_ORGANIZERS)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert count(db, "organizers") == 0


# --- export --------------------------------------------------------------------------------


def build_market(http: httpx.Client, db: Engine, regulator: Headers) -> None:
    """A small market touching every register, field, status and awkward CSV character."""
    a = make_organizer(db, name='ТОВ "Гра, Київ"')["edrpou"]
    b = make_organizer(db, status="pending")["edrpou"]
    c = make_organizer(db, status="suspended")["edrpou"]
    contacts = {
        "head_name": "Іваненко Іван",
        "address": "м. Київ,\nвул. Хрещатик, 1",
        "email": "info@gra.ua",
        "phone": "+380441234567",
    }
    patch(http, regulator, "organizers", a, contacts).raise_for_status()

    online = make_licence(db, organizer=a, number="OC-1")["number"]
    hall = make_licence(db, organizer=a, number="SH-1", activity="slot_hall")["number"]
    casino = make_licence(db, organizer=a, number="CE-1", activity="casino_establishment")["number"]
    betting = make_licence(db, organizer=a, number="BK-1", activity="bookmaking")["number"]
    poker = make_licence(db, organizer=b, number="OP-1", activity="online_poker")["number"]
    make_licence(db, organizer=c, number="OC-2", status="revoked")

    est_hall = make_establishment(db, organizer=a, licence=hall)["id"]
    est_casino = make_establishment(db, organizer=a, licence=casino, kind="casino")["id"]
    est_bets = make_establishment(db, organizer=a, licence=betting, kind="bookmaker_point")["id"]
    patch(
        http, regulator, "establishments", est_casino, {"name": "Казино «Дніпро»"}
    ).raise_for_status()
    make_equipment(db, organizer=a, establishment=est_hall)
    make_equipment(db, organizer=a, establishment=est_casino, kind="roulette")
    terminal = make_equipment(db, organizer=a, establishment=est_bets, kind="terminal")["id"]

    make_website(db, organizer=a, licence=online, domain="gra.com.ua")
    make_website(db, organizer=a, licence=betting, domain="bet.ua")
    site_b = make_website(db, organizer=b, licence=poker, domain="poker.ua")["id"]
    created(create(http, regulator, "mobile_apps", app_values(a, online, name="Гра")))
    created(create(http, regulator, "mobile_apps", app_values(a, online, platform="ios")))
    app_b = created(create(http, regulator, "mobile_apps", app_values(b, poker, store_id="p.b")))

    with db.begin() as conn:
        service.set_status(conn, REGISTERS["licences"], SYSTEM, betting, "suspended", GROUNDS)
        service.set_status(conn, REGISTERS["establishments"], SYSTEM, est_bets, "inactive", GROUNDS)
        service.set_status(conn, REGISTERS["equipment"], SYSTEM, terminal, "inactive", GROUNDS)
        service.set_status(conn, REGISTERS["websites"], SYSTEM, site_b, "inactive", GROUNDS)
        service.set_status(conn, REGISTERS["mobile_apps"], SYSTEM, app_b["id"], "inactive", GROUNDS)


def exported_entries(http: httpx.Client, headers: Headers, register: str) -> list[dict[str, Any]]:
    """The JSON export's entries, their fields only (not version or time of recording)."""
    fields = [f.name for f in REGISTERS[register].all_fields]
    entries = export(http, headers, register, format="json").json()["entries"]
    return [{name: e[name] for name in fields} for e in entries]


def test_export_import_round_trip_reproduces_every_register(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    build_market(http, db, regulator)
    files = {name: export(http, regulator, name).text for name in REGISTERS}
    documents = {name: exported_entries(http, regulator, name) for name in REGISTERS}
    sizes = {name: len(csv_rows(text)) for name, text in files.items()}
    assert sizes == {
        "organizers": 3,
        "licences": 6,
        "establishments": 3,
        "equipment": 3,
        "websites": 3,
        "mobile_apps": 3,
    }

    with db.begin() as conn:
        reset(conn)
    assert all(count(db, name) == 0 for name in REGISTERS)
    official = token_for(db, "regulator")  # the reset took the tokens too
    for name in REGISTERS:  # declared in dependency order
        result = imported(import_csv(http, official, name, files[name]))
        assert result == {"created": sizes[name], "updated": 0, "unchanged": 0}

    assert {name: export(http, official, name).text for name in REGISTERS} == files
    assert {name: exported_entries(http, official, name) for name in REGISTERS} == documents
    again = {name: imported(import_csv(http, official, name, files[name])) for name in REGISTERS}
    assert all(r["unchanged"] == sizes[name] for name, r in again.items())


def test_json_export_has_the_same_entries_as_the_csv_export(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    build_market(http, db, regulator)
    for name in REGISTERS:
        rows = csv_rows(export(http, regulator, name).text)
        entries = exported_entries(http, regulator, name)
        as_text = [{k: "" if v is None else str(v) for k, v in e.items()} for e in entries]
        assert as_text == rows, name


def test_csv_export_is_a_utf8_attachment_with_a_header_of_field_names(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db, name="ТОВ «Гра»")["edrpou"]
    response = export(http, regulator, "organizers")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="organizers.csv"'
    header, row = response.text.splitlines()
    assert header == "edrpou,name,head_rnokpp,head_name,address,email,phone,status"
    assert row.startswith(f"{org},ТОВ «Гра»,")


def test_json_export_names_its_register_and_moment(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    response = export(http, regulator, "organizers", format="json")
    assert response.headers["content-disposition"] == 'attachment; filename="organizers.json"'
    document = response.json()
    assert (document["register"], document["as_of"]) == ("organizers", None)
    exported_at = datetime.fromisoformat(document["exported_at"].replace("Z", "+00:00"))
    assert abs(exported_at - datetime.now(UTC)) < timedelta(minutes=1)
    assert [e["edrpou"] for e in document["entries"]] == [org]
    assert document["entries"][0]["version"] == 1


def test_export_as_of_a_moment_is_the_register_as_it_was(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db, name="ТОВ «Стара»")["edrpou"]
    then = isoformat_z(datetime.now(UTC))
    make_organizer(db, name="ТОВ «Пізня»")
    patch(http, regulator, "organizers", org, {"name": "ТОВ «Нова»"}).raise_for_status()

    past = csv_rows(export(http, regulator, "organizers", as_of=then).text)
    assert [(r["edrpou"], r["name"]) for r in past] == [(org, "ТОВ «Стара»")]
    document = export(http, regulator, "organizers", format="json", as_of=then).json()
    assert document["as_of"] == then
    assert [(e["edrpou"], e["name"], e["version"]) for e in document["entries"]] == [
        (org, "ТОВ «Стара»", 1)
    ]
    assert len(csv_rows(export(http, regulator, "organizers").text)) == 2


def test_export_in_another_format_is_rejected(http: httpx.Client, regulator: Headers) -> None:
    response = http.get(url("organizers", "export"), params={"format": "xml"}, headers=regulator)
    assert "format" in field_errors(response)


def test_tax_official_may_export(http: httpx.Client, db: Engine, tax: Headers) -> None:
    make_organizer(db)
    assert len(csv_rows(export(http, tax, "organizers").text)) == 1

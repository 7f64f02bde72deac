"""Officials' API tokens: who gets in, what each role may do, and how tokens are kept."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select

from dsom.auth.models import api_tokens
from dsom.auth.tokens import create_token, principal_for_token, revoke_token
from dsom.kit.codes import make_edrpou, make_rnokpp
from dsom.kit.errors import NotFound, ValidationFailed
from tests.builders import make_organizer
from tests.conftest import token_for

ORGANIZERS = "/api/v1/registers/organizers"
GROUNDS = {"reason": "test"}


def _token_row(db: Engine, token_id: str) -> dict[str, Any]:
    with db.connect() as conn:
        row = conn.execute(select(api_tokens).where(api_tokens.c.id == token_id)).mappings().one()
    return dict(row)


def _error_code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


def _new_organizer_values(serial: int) -> dict[str, str]:
    return {
        "edrpou": make_edrpou(5_200_000 + serial),
        "name": f"ТОВ «Нова {serial}»",
        "head_rnokpp": make_rnokpp(520_000_000 + serial),
        "status": "active",
    }


# --- who gets in --------------------------------------------------------------------------


def test_no_authorization_header_is_unauthorized(http: httpx.Client) -> None:
    answer = http.get(ORGANIZERS)
    assert answer.status_code == 401
    assert _error_code(answer) == "unauthorized"


def test_a_scheme_other_than_bearer_is_unauthorized(http: httpx.Client, db: Engine) -> None:
    with db.begin() as conn:
        issued = create_token(conn, role="regulator", name="basic")
    answer = http.get(ORGANIZERS, headers={"Authorization": f"Basic {issued.token}"})
    assert answer.status_code == 401
    assert _error_code(answer) == "unauthorized"


def test_unknown_token_is_unauthorized(http: httpx.Client, db: Engine) -> None:
    answer = http.get(ORGANIZERS, headers={"Authorization": "Bearer dsomt_not-a-real-token"})
    assert answer.status_code == 401
    assert _error_code(answer) == "unauthorized"


def test_revoked_token_is_unauthorized_from_the_next_request_on(
    http: httpx.Client, db: Engine
) -> None:
    with db.begin() as conn:
        issued = create_token(conn, role="regulator", name="soon revoked")
    headers = {"Authorization": f"Bearer {issued.token}"}
    assert http.get(ORGANIZERS, headers=headers).status_code == 200

    with db.begin() as conn:
        revoke_token(conn, issued.id)

    answer = http.get(ORGANIZERS, headers=headers)
    assert answer.status_code == 401
    assert _error_code(answer) == "unauthorized"


def test_revoking_twice_or_an_unknown_token_is_not_found(db: Engine) -> None:
    with db.begin() as conn:
        issued = create_token(conn, role="tax", name="t")
        revoke_token(conn, issued.id)
    with db.begin() as conn, pytest.raises(NotFound):
        revoke_token(conn, issued.id)
    with db.begin() as conn, pytest.raises(NotFound):
        revoke_token(conn, "000000000000")


# --- what a tax official may do -----------------------------------------------------------


def test_tax_token_lists_reads_and_exports_registers(
    http: httpx.Client, db: Engine, tax: dict[str, str]
) -> None:
    org = make_organizer(db)

    listed = http.get(ORGANIZERS, headers=tax)
    assert listed.status_code == 200
    assert [e["edrpou"] for e in listed.json()["items"]] == [org["edrpou"]]

    read = http.get(f"{ORGANIZERS}/{org['edrpou']}", headers=tax)
    assert read.status_code == 200
    assert read.json()["name"] == org["name"]

    history = http.get(f"{ORGANIZERS}/{org['edrpou']}/history", headers=tax)
    assert history.status_code == 200

    csv_export = http.get(f"{ORGANIZERS}/export", params={"format": "csv"}, headers=tax)
    assert csv_export.status_code == 200
    assert org["edrpou"] in csv_export.text

    json_export = http.get(f"{ORGANIZERS}/export", params={"format": "json"}, headers=tax)
    assert json_export.status_code == 200
    assert [e["edrpou"] for e in json_export.json()["entries"]] == [org["edrpou"]]


def test_tax_token_may_not_create_an_entry(
    http: httpx.Client, db: Engine, tax: dict[str, str], regulator: dict[str, str]
) -> None:
    values = _new_organizer_values(1)
    answer = http.post(ORGANIZERS, json={"values": values, "grounds": GROUNDS}, headers=tax)
    assert answer.status_code == 403
    assert _error_code(answer) == "forbidden"
    assert http.get(ORGANIZERS, headers=regulator).json()["total"] == 0


def test_tax_token_may_not_change_an_entry(
    http: httpx.Client, db: Engine, tax: dict[str, str], regulator: dict[str, str]
) -> None:
    org = make_organizer(db)
    url = f"{ORGANIZERS}/{org['edrpou']}"

    patched = http.patch(
        url, json={"values": {"name": "ТОВ «Інша назва»"}, "grounds": GROUNDS}, headers=tax
    )
    assert patched.status_code == 403
    assert _error_code(patched) == "forbidden"

    status = http.post(
        f"{url}/status", json={"status": "suspended", "grounds": GROUNDS}, headers=tax
    )
    assert status.status_code == 403
    assert _error_code(status) == "forbidden"

    after = http.get(url, headers=regulator).json()
    assert (after["name"], after["status"], after["version"]) == (org["name"], "active", 1)
    assert len(http.get(f"{url}/history", headers=regulator).json()["versions"]) == 1


def test_tax_token_may_not_import_a_register(
    http: httpx.Client, db: Engine, tax: dict[str, str], regulator: dict[str, str]
) -> None:
    org = make_organizer(db)
    new = _new_organizer_values(2)
    csv_text = (
        "edrpou,name,head_rnokpp,status\n"
        f"{org['edrpou']},ТОВ «Перейменовано»,{org['head_rnokpp']},active\n"
        f"{new['edrpou']},{new['name']},{new['head_rnokpp']},active\n"
    )
    answer = http.post(
        f"{ORGANIZERS}/import",
        content=csv_text.encode(),
        params={"reason": "test"},
        headers={**tax, "content-type": "text/csv"},
    )
    assert answer.status_code == 403
    assert _error_code(answer) == "forbidden"
    listed = http.get(ORGANIZERS, headers=regulator).json()
    assert [(e["edrpou"], e["name"]) for e in listed["items"]] == [(org["edrpou"], org["name"])]


# --- what a regulator may do --------------------------------------------------------------


def test_regulator_token_creates_changes_suspends_and_imports(
    http: httpx.Client, db: Engine, regulator: dict[str, str]
) -> None:
    values = _new_organizer_values(3)
    created = http.post(ORGANIZERS, json={"values": values, "grounds": GROUNDS}, headers=regulator)
    assert created.status_code == 201, created.text
    url = f"{ORGANIZERS}/{values['edrpou']}"

    patched = http.patch(
        url, json={"values": {"name": "ТОВ «Змінено»"}, "grounds": GROUNDS}, headers=regulator
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] == "ТОВ «Змінено»"

    status = http.post(
        f"{url}/status", json={"status": "suspended", "grounds": GROUNDS}, headers=regulator
    )
    assert status.status_code == 200, status.text
    assert status.json()["status"] == "suspended"

    other = _new_organizer_values(4)
    imported = http.post(
        f"{ORGANIZERS}/import",
        content=(
            "edrpou,name,head_rnokpp,status\n"
            f"{other['edrpou']},{other['name']},{other['head_rnokpp']},active\n"
        ).encode(),
        params={"reason": "test"},
        headers={**regulator, "content-type": "text/csv"},
    )
    assert imported.status_code == 200, imported.text
    assert imported.json()["created"] == 1
    assert http.get(ORGANIZERS, headers=regulator).json()["total"] == 2


# --- how tokens are kept ------------------------------------------------------------------


def test_token_is_stored_only_as_its_sha256_hash(db: Engine) -> None:
    with db.begin() as conn:
        issued = create_token(conn, role="regulator", name="hashed")
    row = _token_row(db, issued.id)
    assert row["token_hash"] == hashlib.sha256(issued.token.encode()).hexdigest()
    secret = issued.token.removeprefix("dsomt_")
    for column, value in row.items():
        assert secret not in str(value), f"api_tokens.{column} holds the token text"


def test_each_token_is_different(db: Engine) -> None:
    with db.begin() as conn:
        first = create_token(conn, role="tax", name="a")
        second = create_token(conn, role="tax", name="a")
    assert first.token != second.token
    assert first.id != second.id


def test_last_used_at_is_set_when_the_token_is_used(http: httpx.Client, db: Engine) -> None:
    with db.begin() as conn:
        issued = create_token(conn, role="tax", name="used")
    assert _token_row(db, issued.id)["last_used_at"] is None

    assert http.get(ORGANIZERS, headers={"Authorization": f"Bearer {issued.token}"}).is_success

    used = _token_row(db, issued.id)["last_used_at"]
    assert used is not None
    assert used >= _token_row(db, issued.id)["created_at"]


def test_a_token_acts_as_an_official_of_its_role(db: Engine) -> None:
    headers = token_for(db, "tax")
    token = headers["Authorization"].removeprefix("Bearer ")
    with db.begin() as conn:
        principal = principal_for_token(conn, token)
    assert principal is not None
    assert principal.kind == "token"
    assert {str(r) for r in principal.roles} == {"tax"}
    assert principal.organizer is None  # officials see every organizer


@pytest.mark.parametrize(
    "role", ["regulator_admin", "organizer_head", "organizer_system", "admin", ""]
)
def test_create_token_refuses_roles_other_than_regulator_and_tax(db: Engine, role: str) -> None:
    with db.begin() as conn, pytest.raises(ValidationFailed, match="regulator, tax"):
        create_token(conn, role=role, name="nope")
    with db.connect() as conn:
        assert conn.execute(select(api_tokens)).first() is None

"""The registers API with a person's session cookie: CSRF on writes, roles and scoping as
for tokens; Bearer tokens need no CSRF token."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import Engine

from dsom.auth.permissions import Permission, Role
from dsom.kit.codes import make_edrpou, make_rnokpp
from tests.builders import make_licence, make_organizer
from tests.people.helpers import certificate, error_code, log_in, make_person
from tests.qes.helpers import TrustedCa

ORGANIZERS = "/api/v1/registers/organizers"
LICENCES = "/api/v1/registers/licences"


def _new_organizer(serial: int) -> dict[str, object]:
    return {
        "values": {
            "edrpou": make_edrpou(5_300_000 + serial),
            "name": f"ТОВ «Сесія {serial}»",
            "head_rnokpp": make_rnokpp(530_000_000 + serial),
            "status": "pending",
        },
        "grounds": {"reason": "test"},
    }


@pytest.fixture
def regulator_session(http: httpx.Client, db: Engine, trusting: TrustedCa) -> str:
    """`http` logged in as a regulator official: the session's CSRF token."""
    answer = log_in(http, certificate(trusting, make_person(db, role=Role.REGULATOR)))
    assert answer.status_code == 200, answer.text
    return answer.headers["x-csrf-token"]


def test_cookie_session_write_without_csrf_token_is_forbidden(
    http: httpx.Client, regulator_session: str
) -> None:
    answer = http.post(ORGANIZERS, json=_new_organizer(1))
    assert answer.status_code == 403
    assert error_code(answer) == "csrf_failed"
    assert http.get(ORGANIZERS).json()["total"] == 0


def test_cookie_session_write_with_a_wrong_csrf_token_is_forbidden(
    http: httpx.Client, regulator_session: str
) -> None:
    answer = http.post(
        ORGANIZERS, json=_new_organizer(2), headers={"X-CSRF-Token": regulator_session[:-1]}
    )
    assert answer.status_code == 403
    assert error_code(answer) == "csrf_failed"


def test_cookie_session_write_with_the_csrf_token_is_done_in_the_persons_name(
    http: httpx.Client, regulator_session: str
) -> None:
    body = _new_organizer(3)
    answer = http.post(ORGANIZERS, json=body, headers={"X-CSRF-Token": regulator_session})
    assert answer.status_code == 201, answer.text

    code = body["values"]["edrpou"]  # type: ignore[index]
    history = http.get(f"{ORGANIZERS}/{code}/history").json()["versions"]
    assert history[0]["actor"].startswith("person:")


def test_cookie_session_reads_need_no_csrf_token(
    http: httpx.Client, db: Engine, regulator_session: str
) -> None:
    make_organizer(db)
    answer = http.get(ORGANIZERS)
    assert answer.status_code == 200
    assert answer.json()["total"] == 1


def test_bearer_token_writes_need_no_csrf_token(
    http: httpx.Client, regulator: dict[str, str]
) -> None:
    answer = http.post(ORGANIZERS, json=_new_organizer(4), headers=regulator)
    assert answer.status_code == 201, answer.text


def test_tax_official_session_reads_but_cannot_write(
    http: httpx.Client, db: Engine, trusting: TrustedCa
) -> None:
    csrf = log_in(http, certificate(trusting, make_person(db, role=Role.TAX))).headers[
        "x-csrf-token"
    ]
    assert http.get(ORGANIZERS).status_code == 200
    answer = http.post(ORGANIZERS, json=_new_organizer(5), headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 403
    assert error_code(answer) == "forbidden"


def test_organizer_persons_session_sees_only_its_own_organizer(
    http: httpx.Client, db: Engine, trusting: TrustedCa
) -> None:
    mine, theirs = make_organizer(db)["edrpou"], make_organizer(db)["edrpou"]
    own_licence = make_licence(db, organizer=mine)["number"]
    their_licence = make_licence(db, organizer=theirs)["number"]
    rep = make_person(
        db,
        role=Role.ORGANIZER_REPRESENTATIVE,
        organizer=mine,
        rights=frozenset({Permission.REGISTERS_READ_OWN}),
    )
    assert log_in(http, certificate(trusting, rep)).status_code == 200

    listed = http.get(LICENCES).json()
    assert [lic["number"] for lic in listed["items"]] == [own_licence]
    assert http.get(f"{LICENCES}/{their_licence}").status_code == 404


def test_representative_without_the_right_cannot_read_registers(
    http: httpx.Client, db: Engine, trusting: TrustedCa
) -> None:
    org = make_organizer(db)["edrpou"]
    rep = make_person(
        db,
        role=Role.ORGANIZER_REPRESENTATIVE,
        organizer=org,
        rights=frozenset({Permission.KEYS_MANAGE}),
    )
    assert log_in(http, certificate(trusting, rep)).status_code == 200
    assert http.get(LICENCES).status_code == 403

"""Every change keeps the previous version; entries and lists read as of any past moment;
the licence status the ingest rules see at a moment."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from dsom.auth.principal import SYSTEM
from dsom.kit.time import isoformat_z, kyiv_midnight, today_kyiv
from dsom.registers import repository, service
from dsom.registers.declarations import LICENCES, ORGANIZERS
from tests.builders import GROUNDS, make_licence, make_organizer
from tests.registers.helpers import (
    Headers,
    create,
    created,
    field_errors,
    organizer_values,
    patch,
    set_status,
    url,
)

MICRO = timedelta(microseconds=1)


def instant(text: str) -> datetime:
    """An RFC 3339 instant of the API as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def versions(http: httpx.Client, headers: Headers, register: str, key: str) -> list[Any]:
    """The history of an entry, oldest first."""
    answer = http.get(url(register, key, "history"), headers=headers)
    assert answer.status_code == 200, answer.text
    found: list[Any] = answer.json()["versions"]
    return found


def read_as_of(
    http: httpx.Client, headers: Headers, register: str, key: str, at: datetime | str
) -> httpx.Response:
    """GET an entry as of a moment."""
    as_of = at if isinstance(at, str) else isoformat_z(at)
    return http.get(url(register, key), params={"as_of": as_of}, headers=headers)


def record_organizer_at(db: Engine, code: str, at: datetime, name: str = "ТОВ «Давня»") -> None:
    """An organizer whose first version was recorded at `at` (as the demo loader records)."""
    meta = repository.ChangeMeta(at=at, action="create", actor="test", decision=None, reason="t")
    with db.begin() as conn:
        values = service.validate(
            conn, ORGANIZERS, organizer_values(code, name=name), existing=None, allow_status=True
        )
        repository.insert_entries(conn, ORGANIZERS, [values], meta)


# --- history -------------------------------------------------------------------------------


def test_every_change_keeps_the_previous_version_with_who_when_how_and_why(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    values = organizer_values("14360570", name="ТОВ «Перша»")
    created(create(http, regulator, "organizers", values, grounds={"decision": "Р-1"}))
    update = patch(
        http, regulator, "organizers", "14360570", {"name": "ТОВ «Друга»"}, grounds={"reason": "р"}
    )
    assert update.status_code == 200, update.text
    both = {"decision": "Р-2", "reason": "перевірка"}
    status = set_status(http, regulator, "organizers", "14360570", "active", grounds=both)
    assert status.status_code == 200, status.text

    history = versions(http, regulator, "organizers", "14360570")

    assert [v["version"] for v in history] == [1, 2, 3]
    assert [v["action"] for v in history] == ["create", "update", "status"]
    assert [v["grounds"] for v in history] == [
        {"decision": "Р-1", "reason": None},
        {"decision": None, "reason": "р"},
        both,
    ]
    assert [(v["values"]["name"], v["values"]["status"]) for v in history] == [
        ("ТОВ «Перша»", "pending"),
        ("ТОВ «Друга»", "pending"),
        ("ТОВ «Друга»", "active"),
    ]
    assert all(v["actor"].startswith("token:") for v in history)
    assert all("test regulator" in v["actor"] for v in history)
    recorded = [instant(v["recorded_at"]) for v in history]
    assert recorded == sorted(recorded)
    assert len(set(recorded)) == 3
    assert [v["superseded_at"] for v in history] == [
        history[1]["recorded_at"],
        history[2]["recorded_at"],
        None,
    ]
    current = http.get(url("organizers", "14360570"), headers=regulator).json()
    assert (current["version"], current["updated_at"]) == (3, history[2]["recorded_at"])


def test_history_names_the_official_who_made_each_change(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    patch(http, regulator, "organizers", org, {"head_name": "Петренко П. П."}).raise_for_status()
    first, second = versions(http, regulator, "organizers", org)
    assert first["actor"] == SYSTEM.actor
    assert second["actor"] != SYSTEM.actor
    assert "test regulator" in second["actor"]


def test_rejected_change_leaves_no_version(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    number = make_licence(db, organizer=org)["number"]
    assert set_status(http, regulator, "licences", number, "revoked").status_code == 200
    assert set_status(http, regulator, "licences", number, "active").status_code == 422
    assert patch(http, regulator, "licences", number, {"valid_to": "2000-01-01"}).status_code == 422
    assert [v["action"] for v in versions(http, regulator, "licences", number)] == [
        "create",
        "status",
    ]


def test_history_of_an_unknown_entry_is_404(http: httpx.Client, regulator: Headers) -> None:
    answer = http.get(url("licences", "NO-SUCH", "history"), headers=regulator)
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


# --- as of ---------------------------------------------------------------------------------


def test_entry_read_as_of_a_moment_is_the_version_in_force_then(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    created(create(http, regulator, "organizers", organizer_values("14360570", name="Стара")))
    patch(http, regulator, "organizers", "14360570", {"name": "Нова"}).raise_for_status()
    first, second = versions(http, regulator, "organizers", "14360570")
    created_at, changed_at = instant(first["recorded_at"]), instant(second["recorded_at"])

    def name_at(at: datetime) -> str:
        answer = read_as_of(http, regulator, "organizers", "14360570", at)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["name"])

    assert name_at(created_at) == "Стара"
    assert name_at(changed_at - MICRO) == "Стара"
    assert name_at(changed_at) == "Нова"
    assert name_at(datetime.now(UTC)) == "Нова"
    before = read_as_of(http, regulator, "organizers", "14360570", created_at - MICRO)
    assert before.status_code == 404
    assert before.json()["error"]["code"] == "not_found"


def test_entry_read_as_of_shows_when_that_version_was_recorded(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    patch(http, regulator, "organizers", org, {"head_name": "Петренко П. П."}).raise_for_status()
    first = versions(http, regulator, "organizers", org)[0]
    old = read_as_of(http, regulator, "organizers", org, instant(first["recorded_at"])).json()
    assert (old["version"], old["recorded_at"], old["head_name"]) == (
        1,
        first["recorded_at"],
        None,
    )


def test_status_read_as_of_a_moment_before_it_changed_is_the_old_status(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    number = make_licence(db, organizer=org)["number"]
    suspended = set_status(http, regulator, "licences", number, "suspended").json()
    at = instant(suspended["updated_at"])
    assert read_as_of(http, regulator, "licences", number, at - MICRO).json()["status"] == "active"
    assert read_as_of(http, regulator, "licences", number, at).json()["status"] == "suspended"


def test_list_as_of_a_moment_shows_the_register_as_it_was(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    created(create(http, regulator, "organizers", organizer_values("14360570", name="Стара")))
    then = datetime.now(UTC)
    created(create(http, regulator, "organizers", organizer_values("00032129", name="Пізня")))
    patch(http, regulator, "organizers", "14360570", {"name": "Нова"}).raise_for_status()

    past = http.get(url("organizers"), params={"as_of": isoformat_z(then)}, headers=regulator)
    assert past.status_code == 200, past.text
    assert past.json()["total"] == 1
    assert [(e["edrpou"], e["name"]) for e in past.json()["items"]] == [("14360570", "Стара")]
    now = http.get(url("organizers"), headers=regulator).json()
    assert [(e["edrpou"], e["name"]) for e in now["items"]] == [
        ("00032129", "Пізня"),
        ("14360570", "Нова"),
    ]


def test_list_as_of_combines_with_filters(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    org = make_organizer(db)["edrpou"]
    number = make_licence(db, organizer=org)["number"]
    then = datetime.now(UTC)
    set_status(http, regulator, "licences", number, "suspended").raise_for_status()

    def numbers(**params: str) -> list[str]:
        answer = http.get(url("licences"), params=params, headers=regulator).json()
        return [e["number"] for e in answer["items"]]

    assert numbers(status="active", as_of=isoformat_z(then)) == [number]
    assert numbers(status="suspended", as_of=isoformat_z(then)) == []
    assert numbers(status="suspended") == [number]


def test_as_of_a_date_is_the_midnight_that_starts_it_in_kyiv(
    http: httpx.Client, db: Engine, regulator: Headers
) -> None:
    # 21:30 UTC on 1 June is 00:30 on 2 June in Kyiv (summer time, UTC+3).
    record_organizer_at(db, "14360570", datetime(2024, 6, 1, 21, 30, tzinfo=UTC))
    assert read_as_of(http, regulator, "organizers", "14360570", "2024-06-02").status_code == 404
    assert read_as_of(http, regulator, "organizers", "14360570", "2024-06-03").status_code == 200
    listed = http.get(url("organizers"), params={"as_of": "2024-06-02"}, headers=regulator)
    assert listed.json()["total"] == 0


@pytest.mark.parametrize(
    ("as_of", "found"),
    [
        ("2024-06-01T21:30:00Z", True),
        ("2024-06-01T21:29:59.999999Z", False),
        ("2024-06-02T00:30:00+03:00", True),
        ("2024-06-02T00:29:59+03:00", False),
        ("2024-06-01T16:30:00-05:00", True),
    ],
)
def test_as_of_an_instant_honours_its_offset(
    http: httpx.Client, db: Engine, regulator: Headers, as_of: str, found: bool
) -> None:
    record_organizer_at(db, "14360570", datetime(2024, 6, 1, 21, 30, tzinfo=UTC))
    answer = read_as_of(http, regulator, "organizers", "14360570", as_of)
    assert answer.status_code == (200 if found else 404), answer.text


@pytest.mark.parametrize(
    "as_of", ["yesterday", "2024-01-01T10:00:00", "2024-13-01", "01.06.2024", "0001-01-01"]
)
@pytest.mark.parametrize("where", ["read", "list", "export"])
def test_as_of_that_is_not_a_date_or_an_instant_is_rejected(
    http: httpx.Client, db: Engine, regulator: Headers, as_of: str, where: str
) -> None:
    org = make_organizer(db)["edrpou"]
    path = {
        "read": url("organizers", org),
        "list": url("organizers"),
        "export": url("organizers", "export"),
    }[where]
    answer = http.get(path, params={"as_of": as_of}, headers=regulator)
    assert field_errors(answer) == {"as_of": "must be a date or instant"}


# --- the licence status the rules see --------------------------------------------------------


def status_at(db: Engine, number: str, at: datetime) -> str:
    with db.begin() as conn:
        return service.licence_status_at(conn, number, at)


def change_licence(db: Engine, number: str, **changes: Any) -> datetime:
    """Record a change of a licence now (status through the status action); when it was."""
    with db.begin() as conn:
        if "status" in changes:
            service.set_status(conn, LICENCES, SYSTEM, number, changes.pop("status"), GROUNDS)
        if changes:
            service.update(conn, LICENCES, SYSTEM, number, changes, GROUNDS)
        recorded_at: datetime = repository.history(conn, LICENCES, number)[-1]["recorded_at"]
    return recorded_at


def licence(db: Engine, *, valid_from: date, valid_to: date) -> str:
    org = make_organizer(db)["edrpou"]
    return str(make_licence(db, organizer=org, valid_from=valid_from, valid_to=valid_to)["number"])


def test_licence_suspended_now_still_covers_the_moment_before_the_suspension(db: Engine) -> None:
    number = licence(db, valid_from=today_kyiv() - timedelta(days=30), valid_to=today_kyiv())
    suspended_at = change_licence(db, number, status="suspended")
    assert status_at(db, number, suspended_at - MICRO) == "active"
    assert status_at(db, number, suspended_at - timedelta(days=1)) == "active"
    assert status_at(db, number, suspended_at) == "suspended"
    assert status_at(db, number, datetime.now(UTC)) == "suspended"


def test_licence_suspended_and_reinstated_is_suspended_only_in_between(db: Engine) -> None:
    number = licence(db, valid_from=today_kyiv() - timedelta(days=30), valid_to=today_kyiv())
    suspended_at = change_licence(db, number, status="suspended")
    reinstated_at = change_licence(db, number, status="active")
    assert status_at(db, number, suspended_at - MICRO) == "active"
    assert status_at(db, number, reinstated_at - MICRO) == "suspended"
    assert status_at(db, number, reinstated_at) == "active"


@pytest.mark.parametrize("status", ["revoked", "expired"])
def test_licence_status_other_than_active_is_what_the_rules_see(db: Engine, status: str) -> None:
    number = licence(db, valid_from=today_kyiv() - timedelta(days=30), valid_to=today_kyiv())
    at = change_licence(db, number, status=status)
    assert status_at(db, number, at) == status
    assert status_at(db, number, at - MICRO) == "active"


def test_licence_is_not_yet_valid_before_kyiv_midnight_of_its_first_day(db: Engine) -> None:
    first_day = today_kyiv() + timedelta(days=10)
    number = licence(db, valid_from=first_day, valid_to=first_day + timedelta(days=365))
    starts = kyiv_midnight(first_day)
    assert status_at(db, number, datetime.now(UTC)) == "not_yet_valid"
    assert status_at(db, number, starts - MICRO) == "not_yet_valid"
    assert status_at(db, number, starts) == "active"
    # Still the day before in UTC, already the first day in Kyiv:
    assert status_at(db, number, starts + timedelta(minutes=30)) == "active"


def test_licence_is_active_all_of_its_last_kyiv_day_and_expired_from_the_next(
    db: Engine,
) -> None:
    last_day = today_kyiv() - timedelta(days=10)
    number = licence(db, valid_from=last_day - timedelta(days=100), valid_to=last_day)
    next_day = kyiv_midnight(last_day + timedelta(days=1))
    assert status_at(db, number, kyiv_midnight(last_day) + timedelta(hours=12)) == "active"
    assert status_at(db, number, next_day - MICRO) == "active"
    assert status_at(db, number, next_day) == "expired"
    # Still the last day in UTC, already the next day in Kyiv:
    assert status_at(db, number, next_day + timedelta(minutes=30)) == "expired"
    assert status_at(db, number, datetime.now(UTC)) == "expired"


def test_licence_valid_for_one_day_is_active_that_kyiv_day_only(db: Engine) -> None:
    day = today_kyiv() - timedelta(days=3)
    number = licence(db, valid_from=day, valid_to=day)
    assert status_at(db, number, kyiv_midnight(day) - MICRO) == "not_yet_valid"
    assert status_at(db, number, kyiv_midnight(day)) == "active"
    assert status_at(db, number, kyiv_midnight(day + timedelta(days=1)) - MICRO) == "active"
    assert status_at(db, number, kyiv_midnight(day + timedelta(days=1))) == "expired"


def test_unknown_licence_number_is_unknown(db: Engine) -> None:
    licence(db, valid_from=today_kyiv(), valid_to=today_kyiv())
    assert status_at(db, "NO-SUCH", datetime.now(UTC)) == "unknown"


def test_first_version_covers_the_time_before_it_was_recorded(db: Engine) -> None:
    now = datetime.now(UTC)
    number = licence(
        db,
        valid_from=today_kyiv() - timedelta(days=60),
        valid_to=today_kyiv() + timedelta(days=1),
    )
    assert status_at(db, number, now - timedelta(days=30)) == "active"
    assert status_at(db, number, now - timedelta(days=62)) == "not_yet_valid"


def test_licence_change_takes_effect_from_when_it_was_recorded_not_before(db: Engine) -> None:
    now = datetime.now(UTC)
    number = licence(
        db,
        valid_from=today_kyiv() - timedelta(days=60),
        valid_to=today_kyiv() - timedelta(days=5),
    )
    extended_at = change_licence(db, number, valid_to=today_kyiv() + timedelta(days=365))
    assert status_at(db, number, now - timedelta(days=3)) == "expired"
    assert status_at(db, number, extended_at - MICRO) == "expired"
    assert status_at(db, number, extended_at) == "active"

"""Managing people (heads their representatives, administrators the officials), the audit
log, and challenges used once across server processes."""

from __future__ import annotations

import multiprocessing
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select, update

from dsom.auth.permissions import Permission, Role
from dsom.auth.principal import Principal
from dsom.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from dsom.kit.time import utcnow
from dsom.people import repository as repo
from dsom.people import service
from dsom.people.models import people, sessions
from dsom.people.repository import PersonRecord
from tests.builders import make_organizer
from tests.conftest import Database
from tests.people.helpers import (
    ME,
    audit_entries,
    certificate,
    error_code,
    log_in,
    make_person,
    new_rnokpp,
)
from tests.qes.helpers import TrustedCa

P = Permission
READ_OWN = frozenset({P.REGISTERS_READ_OWN})


def _head(db: Engine, *, status: str = "active") -> PersonRecord:
    org = make_organizer(db, status=status)
    return make_person(
        db, role=Role.ORGANIZER_HEAD, rnokpp=org["head_rnokpp"], organizer=org["edrpou"]
    )


def _as(person: PersonRecord) -> Principal:
    return service.principal_of(person)


# --- a head and their representatives -----------------------------------------------------


def test_head_adds_a_representative_who_can_then_log_in_with_those_rights(
    http: httpx.Client, db: Engine, trusting: TrustedCa
) -> None:
    head = _head(db)
    rnokpp = new_rnokpp()
    with service.transaction(db) as conn:
        rep = service.add_representative(
            conn,
            _as(head),
            rnokpp=rnokpp,
            rights=["registers:read-own", "reports:own"],
            ip="10.0.0.1",
        )

    assert (rep.role, rep.organizer, rep.rights) == (
        Role.ORGANIZER_REPRESENTATIVE,
        head.organizer,
        {P.REGISTERS_READ_OWN, P.REPORTS_OWN},
    )
    [entry] = audit_entries(db, "representative.added")
    assert (entry["person"], entry["organizer"], entry["target"], entry["ip"]) == (
        head.id,
        head.organizer,
        rnokpp,
        "10.0.0.1",
    )
    answer = log_in(http, certificate(trusting, rep, name="Мельник Ірина"))
    assert answer.status_code == 200, answer.text
    assert set(http.get(ME).json()["permissions"]) == {"registers:read-own", "reports:own"}


def test_changed_rights_are_in_force_in_the_next_request(
    http: httpx.Client, db: Engine, trusting: TrustedCa
) -> None:
    head = _head(db)
    rep = make_person(
        db, role=Role.ORGANIZER_REPRESENTATIVE, organizer=head.organizer, rights=READ_OWN
    )
    assert log_in(http, certificate(trusting, rep)).status_code == 200
    assert http.get("/api/v1/registers/licences").status_code == 200

    with service.transaction(db) as conn:
        service.change_rights(conn, _as(head), rep.id, rights={P.KEYS_MANAGE})

    assert http.get(ME).json()["permissions"] == ["keys:manage"]
    assert http.get("/api/v1/registers/licences").status_code == 403
    [entry] = audit_entries(db, "representative.rights_changed")
    assert entry["details"]["before"] == ["registers:read-own"]
    assert entry["details"]["after"] == ["keys:manage"]


def test_a_removed_representative_is_logged_out_and_cannot_log_in(
    http: httpx.Client, db: Engine, trusting: TrustedCa
) -> None:
    head = _head(db)
    rep = make_person(
        db, role=Role.ORGANIZER_REPRESENTATIVE, organizer=head.organizer, rights=READ_OWN
    )
    cert = certificate(trusting, rep)
    assert log_in(http, cert).status_code == 200

    with service.transaction(db) as conn:
        removed = service.remove_person(conn, _as(head), rep.id)

    assert removed.status == "removed"
    assert http.get(ME).status_code == 401
    again = log_in(http, cert)
    assert again.status_code == 401
    assert error_code(again) == "unknown_person"
    [entry] = audit_entries(db, "representative.removed")
    assert entry["details"]["sessions_ended"] == 1
    with db.connect() as conn:
        assert conn.execute(select(sessions.c.ended_at)).scalar_one() is not None


def test_a_session_ends_when_its_person_is_no_longer_active(
    http: httpx.Client, db: Engine, trusting: TrustedCa
) -> None:
    official = make_person(db, role=Role.TAX)
    assert log_in(http, certificate(trusting, official)).status_code == 200
    with db.begin() as conn:  # removed by any means, its sessions not ended
        conn.execute(update(people).where(people.c.id == official.id).values(status="removed"))
    assert http.get(ME).status_code == 401


def test_a_removed_representative_can_be_added_again(db: Engine) -> None:
    head = _head(db)
    rep = make_person(db, role=Role.ORGANIZER_REPRESENTATIVE, organizer=head.organizer)
    with service.transaction(db) as conn:
        service.remove_person(conn, _as(head), rep.id)
        again = service.add_representative(
            conn, _as(head), rnokpp=rep.rnokpp, rights=[P.KEYS_MANAGE]
        )
        listed = service.list_representatives(conn, _as(head))
    assert again.id == rep.id
    assert again.active
    assert [(p.rnokpp, p.role) for p in listed] == [
        (head.rnokpp, Role.ORGANIZER_HEAD),
        (rep.rnokpp, Role.ORGANIZER_REPRESENTATIVE),
    ]


def test_adding_a_representative_twice_is_a_conflict(db: Engine) -> None:
    head = _head(db)
    rnokpp = new_rnokpp()
    with service.transaction(db) as conn:
        service.add_representative(conn, _as(head), rnokpp=rnokpp, rights=[])
    with service.transaction(db) as conn, pytest.raises(Conflict):
        service.add_representative(conn, _as(head), rnokpp=rnokpp, rights=[])


@pytest.mark.parametrize(
    ("rnokpp", "rights", "field"),
    [
        ("1234567890", ["registers:read-own"], "rnokpp"),  # wrong check digit
        ("12345", ["registers:read-own"], "rnokpp"),
        (None, ["registers:write"], "rights"),  # not a right a head may grant
        (None, ["officials:manage"], "rights"),
        (None, ["no-such-right"], "rights"),
    ],
)
def test_invalid_rnokpp_or_rights_are_refused(
    db: Engine, rnokpp: str | None, rights: list[str], field: str
) -> None:
    head = _head(db)
    with service.transaction(db) as conn, pytest.raises(ValidationFailed) as caught:
        service.add_representative(conn, _as(head), rnokpp=rnokpp or new_rnokpp(), rights=rights)
    assert caught.value.details["fields"][0]["field"] == field


def test_another_organizers_head_neither_sees_nor_changes_a_representative(db: Engine) -> None:
    mine, theirs = _head(db), _head(db)
    rep = make_person(
        db, role=Role.ORGANIZER_REPRESENTATIVE, organizer=theirs.organizer, rights=READ_OWN
    )
    with service.transaction(db) as conn:
        assert [p.id for p in service.list_representatives(conn, _as(mine))] == [mine.id]
        with pytest.raises(NotFound):
            service.change_rights(conn, _as(mine), rep.id, rights=[P.KEYS_MANAGE])
        with pytest.raises(NotFound):
            service.remove_person(conn, _as(mine), rep.id)
        assert repo.person_by_id(conn, rep.id) == rep
    assert audit_entries(db) == []


@pytest.mark.parametrize(
    "role", [Role.ORGANIZER_REPRESENTATIVE, Role.REGULATOR, Role.REGULATOR_ADMIN, Role.TAX]
)
def test_only_a_head_manages_representatives(db: Engine, role: Role) -> None:
    org = make_organizer(db)["edrpou"]
    organizer = org if role is Role.ORGANIZER_REPRESENTATIVE else None
    rights = frozenset({P.REGISTERS_READ_OWN, P.KEYS_MANAGE, P.REPORTS_OWN})
    someone = make_person(db, role=role, organizer=organizer, rights=rights)
    with service.transaction(db) as conn, pytest.raises(Forbidden):
        service.add_representative(conn, _as(someone), rnokpp=new_rnokpp(), rights=[])


def test_a_head_cannot_be_removed_through_people(db: Engine) -> None:
    head = _head(db)
    with service.transaction(db) as conn, pytest.raises((Forbidden, NotFound)):
        service.remove_person(conn, _as(head), head.id)


# --- officials ----------------------------------------------------------------------------


def test_administrator_adds_and_removes_officials(db: Engine) -> None:
    admin = make_person(db, role=Role.REGULATOR_ADMIN)
    with service.transaction(db) as conn:
        tax = service.add_official(conn, _as(admin), rnokpp=new_rnokpp(), role="tax", ip="1.2.3.4")
        assert {p.id for p in service.list_officials(conn, _as(admin))} == {admin.id, tax.id}
        service.remove_person(conn, _as(admin), tax.id)
        assert [p.id for p in service.list_officials(conn, _as(admin))] == [admin.id]
    assert [e["action"] for e in audit_entries(db)] == ["official.added", "official.removed"]


@pytest.mark.parametrize("role", [Role.REGULATOR, Role.TAX, Role.ORGANIZER_HEAD])
def test_only_an_administrator_manages_officials(db: Engine, role: Role) -> None:
    someone = _head(db) if role is Role.ORGANIZER_HEAD else make_person(db, role=role)
    official = make_person(db, role=Role.TAX)
    with service.transaction(db) as conn:
        with pytest.raises(Forbidden):
            service.add_official(conn, _as(someone), rnokpp=new_rnokpp(), role="regulator")
        with pytest.raises(Forbidden):
            service.remove_person(conn, _as(someone), official.id)


def test_an_official_role_must_be_an_officials(db: Engine) -> None:
    admin = make_person(db, role=Role.REGULATOR_ADMIN)
    with service.transaction(db) as conn, pytest.raises(ValidationFailed):
        service.add_official(conn, _as(admin), rnokpp=new_rnokpp(), role="organizer_head")


def test_an_administrator_cannot_remove_themselves(db: Engine) -> None:
    admin = make_person(db, role=Role.REGULATOR_ADMIN)
    with service.transaction(db) as conn, pytest.raises(Conflict):
        service.remove_person(conn, _as(admin), admin.id)


def test_an_active_official_cannot_be_added_twice(db: Engine) -> None:
    admin = make_person(db, role=Role.REGULATOR_ADMIN)
    existing = make_person(db, role=Role.TAX)
    with service.transaction(db) as conn, pytest.raises(Conflict):
        service.add_official(conn, _as(admin), rnokpp=existing.rnokpp, role="regulator")


# --- the audit log ------------------------------------------------------------------------


def test_audit_log_is_read_by_the_regulator_with_filters(db: Engine) -> None:
    regulator = make_person(db, role=Role.REGULATOR)
    head = _head(db)
    now = utcnow()
    with service.transaction(db) as conn:
        service.audit(conn, _as(head), "keys.created", "key_1", {"name": "k"}, "10.0.0.2")
        service.audit(conn, _as(regulator), "organizer.activated", head.organizer)
        repo.audit(conn, None, "auth.login_failed", ip="10.0.0.3", at=now - timedelta(days=2))
        everything, total = service.list_audit(conn, _as(regulator))
        by_organizer, _ = service.list_audit(conn, _as(regulator), organizer=head.organizer)
        auth, _ = service.list_audit(conn, _as(regulator), action="auth.")
        recent, _ = service.list_audit(conn, _as(regulator), since=now - timedelta(days=1))
        page, _ = service.list_audit(conn, _as(regulator), limit=1, offset=1)
        by_person, _ = service.list_audit(conn, _as(regulator), person=head.id)

    assert total == 3
    assert [e["action"] for e in everything] == [
        "organizer.activated",
        "keys.created",
        "auth.login_failed",
    ]
    assert {e["action"] for e in by_organizer} == {"keys.created"}
    assert [e["action"] for e in auth] == ["auth.login_failed"]
    assert {e["action"] for e in recent} == {"organizer.activated", "keys.created"}
    assert [e["action"] for e in page] == ["keys.created"]
    assert [e["details"] for e in by_person] == [{"name": "k"}]
    assert everything[1]["actor"] == f"person:{head.id} ({head.name})"
    assert everything[1]["ip"] == "10.0.0.2"


@pytest.mark.parametrize("role", [Role.TAX, Role.ORGANIZER_HEAD])
def test_audit_log_is_not_for_everyone(db: Engine, role: Role) -> None:
    someone = _head(db) if role is Role.ORGANIZER_HEAD else make_person(db, role=role)
    with service.transaction(db) as conn, pytest.raises(Forbidden):
        service.list_audit(conn, _as(someone))


# --- a challenge is used once, across server processes ------------------------------------


def _use(url: str, challenge: str, start: Any) -> bool:
    from dsom.kit.db import make_engine

    engine = make_engine(url)
    try:
        start.wait()
        with service.transaction(engine) as conn:
            return repo.use_challenge(conn, challenge, utcnow())
    finally:
        engine.dispose()


def test_a_challenge_is_used_once_across_processes(database: Database, db: Engine) -> None:
    with service.transaction(db) as conn:
        issued = service.issue_challenge(conn, ip=None)
    context = multiprocessing.get_context("spawn")
    start = context.Manager().Barrier(4)
    with context.Pool(4) as pool:
        results = pool.starmap(_use, [(database.url, issued.text, start)] * 4)
    assert sorted(results) == [False, False, False, True]

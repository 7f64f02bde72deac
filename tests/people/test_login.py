"""QES login through the real HTTP server: who gets in, as whom, and every refusal's code."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, delete, func, select, update

from dsom.auth.permissions import Permission, Role, permissions_of
from dsom.auth.tokens import token_hash
from dsom.kit.codes import make_edrpou
from dsom.kit.errors import RateLimited
from dsom.kit.time import parse_instant, utcnow
from dsom.people.models import organizer_registrations, people, qes_challenges, sessions
from dsom.people.service import CHALLENGE_LIFETIME, issue_challenge
from dsom.qes import pki
from tests.builders import make_organizer
from tests.conftest import Server
from tests.people.helpers import (
    CHALLENGE,
    LOGIN,
    ME,
    audit_entries,
    certificate,
    challenge,
    error_code,
    log_in,
    make_person,
    new_rnokpp,
    signature,
)
from tests.qes.helpers import TrustedCa

OFFICIALS = [Role.REGULATOR, Role.REGULATOR_ADMIN, Role.TAX]
RIGHTS = frozenset({Permission.REGISTERS_READ_OWN, Permission.KEYS_MANAGE})


def _refusal(answer: httpx.Response) -> str:
    assert answer.status_code == 401, answer.text
    assert set(answer.json()["error"]) >= {"code", "message"}
    assert answer.json()["error"]["message"]
    return error_code(answer)


def _failed_logins(db: Engine) -> list[dict[str, Any]]:
    return audit_entries(db, "auth.login_failed")


# --- the challenge ------------------------------------------------------------------------


def test_challenge_is_new_each_time_and_expires_within_a_minute(http: httpx.Client) -> None:
    before = utcnow()
    first, second = http.post(CHALLENGE), http.post(CHALLENGE)

    assert first.status_code == second.status_code == 200
    assert set(first.json()) == {"challenge", "expires_at"}
    assert first.json()["challenge"] != second.json()["challenge"]
    expires = parse_instant(first.json()["expires_at"])
    assert before < expires <= utcnow() + timedelta(seconds=60)


def test_challenges_are_limited_per_address_across_the_minute(
    http: httpx.Client, db: Engine, server: Server
) -> None:
    settings = server.app.state.settings
    with db.begin() as conn:
        conn.execute(delete(qes_challenges))
    settings.login_challenges_per_minute = 3
    try:
        answers = [http.post(CHALLENGE) for _ in range(4)]
    finally:
        settings.login_challenges_per_minute = 0

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    refused = answers[3]
    assert error_code(refused) == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json()["error"]["retry_after"] == int(refused.headers["Retry-After"])
    with db.connect() as conn:  # the refused request was given no challenge
        assert conn.execute(select(func.count()).select_from(qes_challenges)).scalar() == 3


def test_challenge_limit_counts_each_address_and_only_the_last_minute(db: Engine) -> None:
    with db.begin() as conn:
        conn.execute(delete(qes_challenges))
        start = utcnow()

        def ask(ip: str | None, second: int) -> None:
            issue_challenge(conn, ip=ip, per_minute=3, now=start + timedelta(seconds=second))

        for second in (0, 20, 40):
            ask("192.0.2.1", second)
        with pytest.raises(RateLimited) as refused:
            ask("192.0.2.1", 45)
        assert refused.value.details["retry_after"] == 15  # when the one at 0 s leaves
        ask("198.51.100.7", 45)  # another address
        ask("192.0.2.1", 61)  # the one at 0 s has left the minute
        ask(None, 61)  # no address known: not limited


# --- a valid login for each role ----------------------------------------------------------


@pytest.mark.parametrize("role", OFFICIALS)
def test_official_logs_in_with_a_personal_certificate(
    http: httpx.Client, db: Engine, trusting: TrustedCa, role: Role
) -> None:
    official = make_person(db, role=role, name="Коваленко Олена")

    answer = log_in(http, certificate(trusting, official))

    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "person": {
            "rnokpp": official.rnokpp,
            "name": "Коваленко Олена",
            "roles": [role.value],
            "organizer": None,
        }
    }
    me = http.get(ME).json()
    assert set(me["permissions"]) == permissions_of(frozenset({role}))
    assert me["person"] == answer.json()["person"]


@pytest.mark.parametrize("key", ["ecdsa", "rsa"])
def test_organizer_head_logs_in_with_a_company_certificate(
    http: httpx.Client, db: Engine, trusting: TrustedCa, key: str
) -> None:
    org = make_organizer(db)
    head = make_person(
        db, role=Role.ORGANIZER_HEAD, rnokpp=org["head_rnokpp"], organizer=org["edrpou"]
    )

    answer = log_in(http, certificate(trusting, head, key_kind=key))

    assert answer.status_code == 200, answer.text
    assert answer.json()["person"]["roles"] == ["organizer_head"]
    assert answer.json()["person"]["organizer"] == org["edrpou"]
    assert set(http.get(ME).json()["permissions"]) == permissions_of(
        frozenset({Role.ORGANIZER_HEAD})
    )


def test_representative_logs_in_with_the_rights_their_head_granted(
    http: httpx.Client, db: Engine, trusting: TrustedCa
) -> None:
    org = make_organizer(db)["edrpou"]
    rep = make_person(db, role=Role.ORGANIZER_REPRESENTATIVE, organizer=org, rights=RIGHTS)

    answer = log_in(http, certificate(trusting, rep))

    assert answer.status_code == 200, answer.text
    assert answer.json()["person"] == {
        "rnokpp": rep.rnokpp,
        "name": rep.name,
        "roles": ["organizer_representative"],
        "organizer": org,
    }
    assert set(http.get(ME).json()["permissions"]) == RIGHTS


@pytest.mark.parametrize("attached", [True, False], ids=["attached", "detached"])
@pytest.mark.parametrize("signed_attributes", [True, False], ids=["attrs", "no-attrs"])
def test_login_accepts_attached_and_detached_signatures_with_or_without_attributes(
    http: httpx.Client, db: Engine, trusting: TrustedCa, attached: bool, signed_attributes: bool
) -> None:
    official = make_person(db, role=Role.TAX)
    answer = log_in(
        http,
        certificate(trusting, official),
        attached=attached,
        signed_attributes=signed_attributes,
    )
    assert answer.status_code == 200, answer.text


def test_login_is_in_the_audit_log_with_ip_and_certificate(
    http: httpx.Client, db: Engine, trusting: TrustedCa
) -> None:
    official = make_person(db, role=Role.REGULATOR)
    cert = certificate(trusting, official)

    assert log_in(http, cert).status_code == 200

    [entry] = audit_entries(db, "auth.login")
    assert entry["person"] == official.id
    assert entry["ip"] == "127.0.0.1"
    assert entry["target"] == official.rnokpp
    assert entry["details"]["certificate"]["certificate_serial"] == f"{cert.cert.serial_number:x}"
    assert entry["actor"].startswith(f"person:{official.id} ")


def test_the_name_comes_from_the_certificate(
    http: httpx.Client, db: Engine, trusting: TrustedCa
) -> None:
    org = make_organizer(db)["edrpou"]
    rep = make_person(db, role=Role.ORGANIZER_REPRESENTATIVE, organizer=org, name="")
    answer = log_in(http, certificate(trusting, rep, name="Мельник Ірина Петрівна"))
    assert answer.json()["person"]["name"] == "Мельник Ірина Петрівна"


# --- a head's first login registers the organizer ------------------------------------------


def test_first_login_of_the_head_registers_the_organizer(
    http: httpx.Client, db: Engine, trusting: TrustedCa
) -> None:
    org = make_organizer(db, status="pending")
    cert = trusting.person(
        name="Бондаренко Андрій", rnokpp=org["head_rnokpp"], edrpou=org["edrpou"]
    )

    answer = log_in(http, cert)

    assert answer.status_code == 200, answer.text
    assert answer.json()["person"] == {
        "rnokpp": org["head_rnokpp"],
        "name": "Бондаренко Андрій",
        "roles": ["organizer_head"],
        "organizer": org["edrpou"],
    }
    with db.connect() as conn:
        heads = conn.execute(select(people).where(people.c.organizer == org["edrpou"])).all()
        registration = conn.execute(select(organizer_registrations)).one()
    assert [(h.rnokpp, h.role, h.status) for h in heads] == [
        (org["head_rnokpp"], "organizer_head", "active")
    ]
    assert registration.organizer == org["edrpou"]
    assert registration.head == heads[0].id
    [event] = audit_entries(db, "organizer.registered")
    assert (event["organizer"], event["person"], event["ip"]) == (
        org["edrpou"],
        heads[0].id,
        "127.0.0.1",
    )
    # The regulator activates: the register's status stays as it was.
    entry = http.get(f"/api/v1/registers/organizers/{org['edrpou']}").json()
    assert entry["status"] == "pending"

    # The next login finds the head; nothing is registered twice.
    assert log_in(http, cert).status_code == 200
    assert len(audit_entries(db, "organizer.registered")) == 1


def test_company_certificate_of_someone_other_than_the_head_is_unknown(
    http: httpx.Client, db: Engine, trusting: TrustedCa
) -> None:
    org = make_organizer(db, status="pending")
    cert = trusting.person(rnokpp=new_rnokpp(), edrpou=org["edrpou"])

    assert _refusal(log_in(http, cert)) == "unknown_person"

    with db.connect() as conn:
        assert conn.execute(select(people)).all() == []


def test_head_with_a_personal_certificate_is_unknown(
    http: httpx.Client, db: Engine, trusting: TrustedCa
) -> None:
    org = make_organizer(db, status="pending")
    assert _refusal(log_in(http, trusting.person(rnokpp=org["head_rnokpp"]))) == "unknown_person"


def test_a_head_replaced_in_the_register_can_no_longer_log_in(
    http: httpx.Client, db: Engine, trusting: TrustedCa, regulator: dict[str, str]
) -> None:
    org = make_organizer(db)
    cert = trusting.person(rnokpp=org["head_rnokpp"], edrpou=org["edrpou"])
    assert log_in(http, cert).status_code == 200
    changed = http.patch(
        f"/api/v1/registers/organizers/{org['edrpou']}",
        headers=regulator,
        json={"values": {"head_rnokpp": new_rnokpp()}, "grounds": {"reason": "new head"}},
    )
    assert changed.status_code == 200, changed.text

    assert _refusal(log_in(http, cert)) == "unknown_person"


def test_a_new_heads_first_login_does_not_register_the_organizer_again(
    http: httpx.Client, db: Engine, trusting: TrustedCa, regulator: dict[str, str]
) -> None:
    org = make_organizer(db)
    first = trusting.person(rnokpp=org["head_rnokpp"], edrpou=org["edrpou"])
    assert log_in(http, first).status_code == 200
    successor = new_rnokpp()
    changed = http.patch(
        f"/api/v1/registers/organizers/{org['edrpou']}",
        headers=regulator,
        json={"values": {"head_rnokpp": successor}, "grounds": {"reason": "new head"}},
    )
    assert changed.status_code == 200, changed.text

    answer = log_in(http, trusting.person(rnokpp=successor, edrpou=org["edrpou"]))

    assert answer.status_code == 200, answer.text
    assert answer.json()["person"]["roles"] == ["organizer_head"]
    assert len(audit_entries(db, "organizer.registered")) == 1
    [added] = audit_entries(db, "head.added")
    assert added["target"] == org["edrpou"]


# --- every refusal has its code, and is in the audit log -----------------------------------


def test_signature_of_tampered_content_is_bad_signature(
    http: httpx.Client, db: Engine, trusting: TrustedCa
) -> None:
    official = make_person(db, role=Role.REGULATOR)
    text = challenge(http)
    forged = signature(text + "x", certificate(trusting, official), attached=False)

    answer = http.post(LOGIN, json={"challenge": text, "signature": forged})

    assert _refusal(answer) == "bad_signature"
    [entry] = _failed_logins(db)
    assert entry["details"]["code"] == "bad_signature"
    assert entry["details"]["certificate"]["rnokpp"] == official.rnokpp
    assert entry["ip"] == "127.0.0.1"
    assert entry["person"] is None


def test_attached_signature_of_another_challenge_is_bad_signature(
    http: httpx.Client, db: Engine, trusting: TrustedCa
) -> None:
    official = make_person(db, role=Role.REGULATOR)
    cert = certificate(trusting, official)
    signed_other = signature(challenge(http), cert)
    answer = http.post(LOGIN, json={"challenge": challenge(http), "signature": signed_other})
    assert _refusal(answer) == "bad_signature"


def test_signature_with_another_key_is_bad_signature(
    http: httpx.Client, db: Engine, trusting: TrustedCa
) -> None:
    official = make_person(db, role=Role.REGULATOR)
    stolen = pki.Issued(certificate(trusting, official).cert, pki.make_key())
    assert _refusal(log_in(http, stolen)) == "bad_signature"


@pytest.mark.parametrize("text", ["not base64 !!!", "AAAA", ""])
def test_a_signature_that_is_not_cms_is_bad_signature(
    http: httpx.Client, db: Engine, text: str
) -> None:
    answer = http.post(LOGIN, json={"challenge": challenge(http), "signature": text})
    assert _refusal(answer) == "bad_signature"
    assert _failed_logins(db)[0]["details"]["code"] == "bad_signature"


def test_certificate_from_an_untrusted_ca_is_refused(
    http: httpx.Client, db: Engine, trusting: TrustedCa
) -> None:
    official = make_person(db, role=Role.REGULATOR)
    stranger = pki.make_ca("Some other CA")
    cert = pki.make_person(stranger, name=official.name, rnokpp=official.rnokpp)
    assert _refusal(log_in(http, cert)) == "untrusted_certificate"
    assert _failed_logins(db)[0]["details"]["code"] == "untrusted_certificate"


def test_expired_certificate_is_refused(
    http: httpx.Client, db: Engine, trusting: TrustedCa
) -> None:
    official = make_person(db, role=Role.REGULATOR)
    now = utcnow()
    cert = certificate(
        trusting, official, not_before=now - timedelta(days=30), not_after=now - timedelta(days=1)
    )
    assert _refusal(log_in(http, cert)) == "certificate_expired"
    assert _failed_logins(db)[0]["details"]["code"] == "certificate_expired"


def test_revoked_certificate_is_refused(
    http: httpx.Client, db: Engine, trusting: TrustedCa
) -> None:
    official = make_person(db, role=Role.REGULATOR)
    cert = certificate(trusting, official)
    assert log_in(http, cert).status_code == 200

    trusting.revoke(cert.cert)

    assert _refusal(log_in(http, cert)) == "certificate_revoked"
    assert _failed_logins(db)[0]["details"]["code"] == "certificate_revoked"


def test_expired_challenge_is_refused(http: httpx.Client, db: Engine, trusting: TrustedCa) -> None:
    official = make_person(db, role=Role.REGULATOR)
    text = challenge(http)
    with db.begin() as conn:
        conn.execute(
            update(qes_challenges)
            .where(qes_challenges.c.challenge == text)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    signed = signature(text, certificate(trusting, official))

    answer = http.post(LOGIN, json={"challenge": text, "signature": signed})

    assert _refusal(answer) == "challenge_expired"
    assert _failed_logins(db)[0]["details"]["code"] == "challenge_expired"


def test_a_challenge_dsom_never_issued_is_refused_as_expired(
    http: httpx.Client, db: Engine, trusting: TrustedCa
) -> None:
    official = make_person(db, role=Role.REGULATOR)
    text = "dsom-login-made-up-by-the-client"
    signed = signature(text, certificate(trusting, official))
    answer = http.post(LOGIN, json={"challenge": text, "signature": signed})
    assert _refusal(answer) == "challenge_expired"


def test_reused_challenge_is_refused(http: httpx.Client, db: Engine, trusting: TrustedCa) -> None:
    official = make_person(db, role=Role.REGULATOR)
    text = challenge(http)
    body = {"challenge": text, "signature": signature(text, certificate(trusting, official))}
    assert http.post(LOGIN, json=body).status_code == 200

    again = http.post(LOGIN, json=body)

    assert _refusal(again) == "challenge_used"
    assert _failed_logins(db)[0]["details"]["code"] == "challenge_used"


def test_a_challenge_is_used_once_when_logins_race(
    server: Server, db: Engine, trusting: TrustedCa
) -> None:
    official = make_person(db, role=Role.REGULATOR)
    with httpx.Client(base_url=server.base_url) as client:
        text = challenge(client)
    body = {"challenge": text, "signature": signature(text, certificate(trusting, official))}
    start = threading.Barrier(6)
    codes: list[int] = []

    def attempt() -> None:
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            start.wait()
            codes.append(client.post(LOGIN, json=body).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(codes) == [200] + [401] * 5


def test_unknown_official_is_refused(http: httpx.Client, db: Engine, trusting: TrustedCa) -> None:
    assert _refusal(log_in(http, trusting.person(rnokpp=new_rnokpp()))) == "unknown_person"
    [entry] = _failed_logins(db)
    assert entry["details"]["code"] == "unknown_person"
    assert entry["actor"].startswith("qes:")


def test_certificate_without_rnokpp_is_unknown_person(
    http: httpx.Client, trusting: TrustedCa
) -> None:
    answer = log_in(http, trusting.person(rnokpp=None))
    assert _refusal(answer) == "unknown_person"
    assert "names no RNOKPP" in answer.json()["error"]["message"]


def test_removed_person_is_unknown(http: httpx.Client, db: Engine, trusting: TrustedCa) -> None:
    official = make_person(db, role=Role.TAX)
    with db.begin() as conn:
        conn.execute(update(people).where(people.c.id == official.id).values(status="removed"))
    assert _refusal(log_in(http, certificate(trusting, official))) == "unknown_person"


def test_representative_with_a_personal_certificate_is_unknown(
    http: httpx.Client, db: Engine, trusting: TrustedCa
) -> None:
    org = make_organizer(db)["edrpou"]
    rep = make_person(db, role=Role.ORGANIZER_REPRESENTATIVE, organizer=org, rights=RIGHTS)
    assert _refusal(log_in(http, certificate(trusting, rep, edrpou=None))) == "unknown_person"


def test_representative_of_another_organizer_is_unknown(
    http: httpx.Client, db: Engine, trusting: TrustedCa
) -> None:
    mine, theirs = make_organizer(db)["edrpou"], make_organizer(db)["edrpou"]
    rep = make_person(db, role=Role.ORGANIZER_REPRESENTATIVE, organizer=mine, rights=RIGHTS)
    answer = log_in(http, certificate(trusting, rep, edrpou=theirs))
    assert _refusal(answer) == "unknown_person"


def test_official_with_a_certificate_of_their_agency_logs_in(
    http: httpx.Client, db: Engine, trusting: TrustedCa
) -> None:
    official = make_person(db, role=Role.REGULATOR)
    agency = make_edrpou(3_777_777)  # not an organizer in the register
    answer = log_in(http, certificate(trusting, official, edrpou=agency))
    assert answer.status_code == 200, answer.text
    assert answer.json()["person"]["roles"] == ["regulator"]


# --- the session cookie -------------------------------------------------------------------


def _set_cookie(answer: httpx.Response) -> str:
    [header] = [v for k, v in answer.headers.multi_items() if k.lower() == "set-cookie"]
    return header


def test_session_cookie_is_http_only_lax_and_not_secure_over_http(
    http: httpx.Client, db: Engine, trusting: TrustedCa
) -> None:
    answer = log_in(http, certificate(trusting, make_person(db, role=Role.TAX)))

    cookie = _set_cookie(answer)
    attributes = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
    assert cookie.startswith("dsom_session=")
    assert "httponly" in attributes
    assert "samesite=lax" in cookie.lower()
    assert "path" in attributes
    assert "secure" not in attributes
    assert answer.headers["cache-control"] == "no-store"


def test_session_cookie_is_secure_behind_an_https_proxy(
    http: httpx.Client, db: Engine, trusting: TrustedCa
) -> None:
    official = make_person(db, role=Role.TAX)
    text = challenge(http)
    answer = http.post(
        LOGIN,
        json={"challenge": text, "signature": signature(text, certificate(trusting, official))},
        headers={"X-Forwarded-Proto": "https"},  # from 127.0.0.1, a proxy uvicorn trusts
    )
    assert answer.status_code == 200, answer.text
    attributes = {a.strip().lower() for a in _set_cookie(answer).split(";")[1:]}
    assert "secure" in attributes
    assert "httponly" in attributes


def test_only_a_hash_of_the_session_cookie_is_stored(
    http: httpx.Client, db: Engine, trusting: TrustedCa
) -> None:
    answer = log_in(http, certificate(trusting, make_person(db, role=Role.TAX)))
    value = answer.cookies["dsom_session"]
    with db.connect() as conn:
        row = conn.execute(select(sessions)).mappings().one()
    assert value not in {str(v) for v in row.values()}
    assert row["token_hash"] == token_hash(value)
    assert answer.headers["x-csrf-token"] == row["csrf_token"]
    assert row["ip"] == "127.0.0.1"
    assert row["user_agent"].startswith("python-httpx")


def test_logout_ends_the_session(
    http: httpx.Client, db: Engine, trusting: TrustedCa, server: Server
) -> None:
    official = make_person(db, role=Role.REGULATOR)
    cookie = log_in(http, certificate(trusting, official)).cookies["dsom_session"]
    assert http.get(ME).status_code == 200

    answer = http.post("/api/v1/auth/logout")

    assert answer.status_code == 204
    assert 'dsom_session=""' in _set_cookie(answer) or "max-age=0" in _set_cookie(answer).lower()
    assert http.get(ME).status_code == 401
    with httpx.Client(base_url=server.base_url, cookies={"dsom_session": cookie}) as replay:
        assert replay.get(ME).status_code == 401
        assert replay.get("/api/v1/registers/organizers").status_code == 401
    [entry] = audit_entries(db, "auth.logout")
    assert entry["person"] == official.id


def test_a_session_ends_after_its_idle_time_and_its_lifetime(
    http: httpx.Client, db: Engine, trusting: TrustedCa
) -> None:
    log_in(http, certificate(trusting, make_person(db, role=Role.REGULATOR)))
    assert http.get(ME).status_code == 200
    with db.begin() as conn:
        conn.execute(update(sessions).values(last_seen_at=utcnow() - timedelta(minutes=31)))
    assert http.get(ME).status_code == 401

    with db.begin() as conn:
        conn.execute(
            update(sessions).values(last_seen_at=utcnow(), expires_at=utcnow() - timedelta(1))
        )
    assert http.get(ME).status_code == 401


def test_a_used_session_stays_alive(http: httpx.Client, db: Engine, trusting: TrustedCa) -> None:
    log_in(http, certificate(trusting, make_person(db, role=Role.REGULATOR)))
    with db.begin() as conn:
        conn.execute(update(sessions).values(last_seen_at=utcnow() - timedelta(minutes=29)))

    assert http.get(ME).status_code == 200

    with db.connect() as conn:
        seen = conn.execute(select(sessions.c.last_seen_at)).scalar_one()
    assert utcnow() - seen < timedelta(minutes=1)


def test_me_without_a_session_is_unauthorized(http: httpx.Client) -> None:
    answer = http.get(ME)
    assert answer.status_code == 401
    assert error_code(answer) == "unauthorized"


def test_me_gives_the_sessions_csrf_token(
    http: httpx.Client, db: Engine, trusting: TrustedCa
) -> None:
    login = log_in(http, certificate(trusting, make_person(db, role=Role.REGULATOR)))
    me = http.get(ME).json()
    assert me["csrf_token"] == login.headers["x-csrf-token"]
    assert parse_instant(me["session"]["expires_at"]) > utcnow() + CHALLENGE_LIFETIME

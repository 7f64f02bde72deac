"""The data-collection protocol (protocol.md) through HTTP, on SQLite and PostgreSQL.

Every code of §2.2 and their order, retries and duplicates, isolation between
organizers, the time rules at their boundaries, licences and channels as of
`occurred_at`, the request-level errors, the answer, reading back, and the ledger
recomputed here from what was sent.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from dsom.auth.keys import deactivate_key, list_keys
from dsom.auth.principal import SYSTEM
from dsom.ingest.blocks import BLOCK_LIMIT
from dsom.kit.time import KYIV, utcnow
from dsom.registers import repository as registers_repo
from dsom.registers import service
from dsom.registers.declarations import REGISTERS
from tests.builders import (
    GROUNDS,
    Market,
    bet,
    channel,
    deposit,
    make_equipment,
    make_establishment,
    make_key,
    make_licence,
    make_market,
    make_organizer,
    make_website,
    refund,
    rfc3339,
    win,
    withdrawal,
)
from tests.conftest import Server

OPERATIONS = "/api/v1/operations"
LEDGER = "/api/v1/ledger"
MIB = 1024 * 1024
Answer = dict[str, Any]


# --- helpers -------------------------------------------------------------------------------


def post(
    http: httpx.Client,
    headers: dict[str, str],
    *ops: Any,
    content_type: str = "application/json",
) -> httpx.Response:
    """POST operations as a JSON body (non-ASCII written as UTF-8, not escaped)."""
    body = json.dumps({"operations": list(ops)}, ensure_ascii=False).encode()
    return http.post(OPERATIONS, content=body, headers={**headers, "Content-Type": content_type})


def submit(http: httpx.Client, market: Market, *ops: Any) -> Answer:
    """POST operations that make a valid request; its answer, checked for its shape."""
    response = post(http, market.headers, *ops)
    assert response.status_code == 200, response.text
    answer: Answer = response.json()
    assert answer["received"] == len(ops)
    assert answer["received"] == answer["accepted"] + answer["duplicates"] + answer["rejected"]
    assert answer["rejected"] == len(answer["errors"])
    return answer


def accept(http: httpx.Client, market: Market, *ops: Any) -> Answer:
    """Submit operations that must all be accepted."""
    answer = submit(http, market, *ops)
    assert answer["errors"] == []
    assert answer["accepted"] == len(ops)
    return answer


def only_error(answer: Answer) -> dict[str, Any]:
    """The one error of an answer with one rejected operation and nothing else."""
    assert answer["accepted"] == 0
    assert answer["duplicates"] == 0
    assert len(answer["errors"]) == 1, answer["errors"]
    error: dict[str, Any] = answer["errors"][0]
    return error


def codes(answer: Answer) -> list[str]:
    """The codes of an answer's errors, in order."""
    return [e["code"] for e in answer["errors"]]


def request_error(response: httpx.Response, status: int, code: str) -> str:
    """Check a request-level error's status and body; its message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ["error"]
    assert body["error"]["code"] == code
    message: str = body["error"]["message"]
    assert message
    return message


def ledger_head(http: httpx.Client, market: Market) -> dict[str, Any]:
    """GET /api/v1/ledger."""
    response = http.get(LEDGER, headers=market.headers)
    assert response.status_code == 200, response.text
    head: dict[str, Any] = response.json()
    return head


def read(http: httpx.Client, market: Market, operation_id: str) -> httpx.Response:
    """GET /api/v1/operations/{operation_id}."""
    return http.get(f"{OPERATIONS}/{operation_id}", headers=market.headers)


def now() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


def at(delta: timedelta) -> str:
    """RFC 3339 text of now + delta."""
    return rfc3339(now() + delta)


def parse(text: str) -> datetime:
    """An RFC 3339 instant."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def registered(server: Server) -> None:
    """Make the server read the registers this test wrote behind its back, through the
    service (the registers API would have told it itself)."""
    server.reload()


def change_status(db: Engine, register: str, key: str, status: str) -> None:
    """Move a register entry to another status, through the registers service."""
    with db.begin() as conn:
        service.set_status(conn, REGISTERS[register], SYSTEM, key, status, GROUNDS)


def set_status(server: Server, register: str, key: str, status: str) -> None:
    """Move a register entry to another status, and let the server know."""
    change_status(server.engine, register, key, status)
    registered(server)


def canonical(op: dict[str, Any]) -> bytes:
    """§4's canonical form, as an organizer computes it."""
    return json.dumps(op, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def genesis(code: str) -> bytes:
    """hash_0 of an organizer."""
    return hashlib.sha256(f"dsom-ledger-v1:{code}".encode()).digest()


def chain(code: str, ops: list[dict[str, Any]]) -> list[str]:
    """hash_1 … hash_n over these operations, in lower-case hex."""
    hashes, current = [], genesis(code)
    for op in ops:
        current = hashlib.sha256(current + canonical(op)).digest()
        hashes.append(current.hex())
    return hashes


@pytest.fixture
def market(server: Server, db: Engine) -> Market:
    """One organizer with an online and a slot-hall licence, channels and a key."""
    built = make_market(db)
    registered(server)
    return built


# --- each code, on an operation that breaks only its rule ----------------------------------


@dataclass
class Case:
    """An operation that breaks one rule, the same operation fixed, and what must be said."""

    broken: dict[str, Any]
    fixed: dict[str, Any]
    names: str  # the field the error must name
    says: str  # text the message must contain
    setup: list[dict[str, Any]] = field(default_factory=list)  # accepted first


def _schema(_server: Server, m: Market) -> Case:
    op = m.online_bet(amount=0)
    return Case(op, {**op, "amount": 1}, "amount", ">= 1")


def _currency(_server: Server, m: Market) -> Case:
    op = m.online_bet(currency="USD")
    return Case(op, {**op, "currency": "UAH"}, "currency", "USD")


def _future(_server: Server, m: Market) -> Case:
    op = m.online_bet(occurred_at=at(timedelta(minutes=10)))
    return Case(op, {**op, "occurred_at": at(timedelta(0))}, "occurred_at", "5 minutes")


def _window(_server: Server, m: Market) -> Case:
    op = m.online_bet(occurred_at=at(-timedelta(days=40)))
    return Case(op, {**op, "occurred_at": at(-timedelta(days=20))}, "occurred_at", "30 days")


def _unknown_licence(_server: Server, m: Market) -> Case:
    op = m.online_bet(license="NO-SUCH-7")
    return Case(op, {**op, "license": m.online}, "license", "NO-SUCH-7")


def _licence_inactive(server: Server, m: Market) -> Case:
    # valid from ten days ago: an operation twenty days ago falls before it
    licence = make_licence(
        server.engine, organizer=m.organizer, valid_from=now().date() - timedelta(days=10)
    )["number"]
    site = make_website(server.engine, organizer=m.organizer, licence=licence)["id"]
    op = bet(license=licence, channel=channel("website", site), occurred_at=at(-timedelta(days=20)))
    return Case(op, {**op, "occurred_at": at(timedelta(0))}, "license", "not yet valid")


def _game_type(_server: Server, m: Market) -> Case:
    op = m.online_bet(game_type="online_poker")
    return Case(op, {**op, "game_type": "online_casino"}, "game_type", "online_poker")


def _unknown_channel(_server: Server, m: Market) -> Case:
    op = m.online_bet(channel=channel("website", "WEB-999999"))
    return Case(op, {**op, "channel": channel("website", m.website)}, "channel", "WEB-999999")


def _channel_inactive(server: Server, m: Market) -> Case:
    site = make_website(server.engine, organizer=m.organizer, licence=m.online)["id"]
    set_status(server, "websites", site, "inactive")
    op = m.online_bet(channel=channel("website", site))
    return Case(op, {**op, "channel": channel("website", m.website)}, "channel", site)


def _unknown_bet(_server: Server, m: Market) -> Case:
    stake = m.online_bet()
    op = win(stake, bet_id="never-made-1")
    return Case(op, win(stake, operation_id=op["operation_id"]), "bet_id", "never-made-1", [stake])


def _bet_mismatch(_server: Server, m: Market) -> Case:
    stake = m.online_bet(player_id="player-7")
    op = win(stake, player_id="player-8")
    return Case(op, {**op, "player_id": "player-7"}, "player_id", stake["operation_id"], [stake])


def _refund_over(_server: Server, m: Market) -> Case:
    stake = m.online_bet(amount=1000)
    op = refund(stake, amount=1001)
    return Case(op, {**op, "amount": 1000}, "amount", "1000", [stake])


def _conflict(_server: Server, m: Market) -> Case:
    first = m.online_bet(amount=1000)
    op = {**first, "amount": 2000}
    fixed = {**op, "operation_id": f"{first['operation_id']}-b"}
    return Case(op, fixed, "operation_id", first["operation_id"], [first])


CODES: dict[str, Callable[[Server, Market], Case]] = {
    "schema_violation": _schema,
    "unsupported_currency": _currency,
    "occurred_in_future": _future,
    "reporting_window_closed": _window,
    "unknown_license": _unknown_licence,
    "license_inactive": _licence_inactive,
    "game_type_not_licensed": _game_type,
    "unknown_channel": _unknown_channel,
    "channel_inactive": _channel_inactive,
    "unknown_bet": _unknown_bet,
    "bet_mismatch": _bet_mismatch,
    "refund_exceeds_stake": _refund_over,
    "duplicate_conflict": _conflict,
}


@pytest.mark.parametrize("code", list(CODES))
def test_each_code_is_given_for_its_rule_and_the_fixed_operation_is_accepted(
    http: httpx.Client, server: Server, market: Market, code: str
) -> None:
    case = CODES[code](server, market)
    registered(server)
    if case.setup:
        accept(http, market, *case.setup)
    error = only_error(submit(http, market, case.broken))
    assert error["code"] == code
    assert error["index"] == 0
    assert error["operation_id"] == case.broken["operation_id"]
    assert error["field"] == case.names
    assert case.says in error["message"]
    accept(http, market, case.fixed)


def test_errors_name_the_index_and_operation_id_of_each_rejected_operation(
    http: httpx.Client, market: Market
) -> None:
    bad_currency = market.online_bet(currency="EUR")
    no_fields = {"operation_id": "half-1", "type": "bet"}
    answer = submit(
        http, market, market.online_bet(), bad_currency, market.online_bet(), 42, no_fields
    )
    assert answer["accepted"] == 2
    assert [(e["index"], e["operation_id"], e["code"]) for e in answer["errors"]] == [
        (1, bad_currency["operation_id"], "unsupported_currency"),
        (3, None, "schema_violation"),
        (4, "half-1", "schema_violation"),
    ]


@pytest.mark.parametrize(
    ("change", "field_name"),
    [
        ({"amount": "5000"}, "amount"),
        ({"amount": 5000.0}, "amount"),
        ({"amount": 10_000_000_000_001}, "amount"),
        ({"player_id": ""}, "player_id"),
        ({"player_id": "p" * 65}, "player_id"),
        ({"operation_id": "-starts-badly"}, "operation_id"),
        ({"operation_id": "a" * 65}, "operation_id"),
        ({"operation_id": "ends-with-newline\n"}, "operation_id"),
        ({"occurred_at": "2026-11-23T10:15:30"}, "occurred_at"),
        ({"occurred_at": "2026-11-23T10:15:30.1234567Z"}, "occurred_at"),
        ({"occurred_at": "2026-11-23 10:15:30Z"}, "occurred_at"),
        ({"game_type": "lottery"}, "game_type"),
        ({"game_ref": ""}, "game_ref"),
        ({"game_ref": "g" * 129}, "game_ref"),
        ({"channel": {"kind": "kiosk", "id": "K-1"}}, "channel.kind"),
        ({"channel": "WEB-000001"}, "channel"),
        ({"bet_id": "bet-1"}, "bet_id"),
        ({"payment_method": "card"}, "payment_method"),
        ({"type": "jackpot"}, "type"),
        ({"license": None}, "license"),
    ],
)
def test_a_schema_violation_names_its_field(
    http: httpx.Client, market: Market, change: dict[str, Any], field_name: str
) -> None:
    op = market.online_bet(**change)
    error = only_error(submit(http, market, op))
    assert error["code"] == "schema_violation"
    assert error["field"] == field_name
    assert error["message"]


@pytest.mark.parametrize(
    "missing", ["operation_id", "occurred_at", "license", "amount", "game_type", "channel"]
)
def test_a_missing_field_is_a_schema_violation_naming_it(
    http: httpx.Client, market: Market, missing: str
) -> None:
    op = market.online_bet()
    del op[missing]
    error = only_error(submit(http, market, op))
    assert (error["code"], error["field"]) == ("schema_violation", missing)


def test_every_type_of_operation_is_accepted_on_every_kind_of_channel(
    http: httpx.Client, market: Market
) -> None:
    m = market
    stake = m.online_bet(channel=channel("mobile_app", m.mobile_app), game_ref="roulette-eu")
    hall = m.hall_bet()
    accept(
        http,
        m,
        stake,
        hall,
        m.hall_bet(channel=channel("establishment", m.establishment)),
        win(stake, amount=17_500),
        refund(hall, amount=100),
        m.online_deposit(payment_method="e_wallet"),
        deposit(
            license=m.hall, channel=channel("establishment", m.establishment), payment_method="cash"
        ),
        withdrawal(license=m.online, channel=channel("mobile_app", m.mobile_app)),
    )


def test_the_largest_values_the_schema_allows_are_stored_and_read_back(
    http: httpx.Client, market: Market
) -> None:
    stake = market.online_bet(
        operation_id="A" + "z.9_:-" * 10 + "end",  # 64 characters of every kind allowed
        player_id="Ж" * 64,  # 64 characters, 128 bytes
        game_ref="🎰" * 128,
        amount=10_000_000_000_000,
    )
    assert len(stake["operation_id"]) == 64
    big_win = win(stake, operation_id="w:1.2", amount=10_000_000_000_000)
    accept(http, market, stake, big_win, refund(stake))
    for op in (stake, big_win):
        stored = read(http, market, op["operation_id"]).json()
        assert {k: stored[k] for k in op} == op


# --- which code when several rules break ----------------------------------------------------


@dataclass
class Clash:
    """An operation that breaks several rules, and the code it must get."""

    op: dict[str, Any]
    code: str
    setup: list[dict[str, Any]] = field(default_factory=list)


def _currency_and_future(_server: Server, m: Market) -> Clash:
    op = m.online_bet(currency="USD", occurred_at=at(timedelta(hours=1)))
    return Clash(op, "unsupported_currency")


def _schema_and_currency(_server: Server, m: Market) -> Clash:
    return Clash(m.online_bet(currency="USD", amount=0), "schema_violation")


def _window_and_licence(_server: Server, m: Market) -> Clash:
    op = m.online_bet(occurred_at=at(-timedelta(days=60)), license="NO-SUCH-1")
    return Clash(op, "reporting_window_closed")


def _licence_and_channel(_server: Server, m: Market) -> Clash:
    op = m.online_bet(license="NO-SUCH-1", channel=channel("website", "WEB-999999"))
    return Clash(op, "unknown_license")


def _inactive_and_game_type(server: Server, m: Market) -> Clash:
    set_status(server, "licences", m.online, "suspended")
    return Clash(m.online_bet(game_type="bookmaking"), "license_inactive")


def _game_type_and_channel(_server: Server, m: Market) -> Clash:
    op = m.online_bet(game_type="slot_hall", channel=channel("website", "WEB-999999"))
    return Clash(op, "game_type_not_licensed")


def _unknown_before_inactive(server: Server, m: Market) -> Clash:
    # an inactive website, but of another licence: unknown under this one
    other = make_licence(server.engine, organizer=m.organizer)["number"]
    site = make_website(server.engine, organizer=m.organizer, licence=other)["id"]
    set_status(server, "websites", site, "inactive")
    return Clash(m.online_bet(channel=channel("website", site)), "unknown_channel")


def _inactive_channel_and_conflict(server: Server, m: Market) -> Clash:
    site = make_website(server.engine, organizer=m.organizer, licence=m.online)["id"]
    set_status(server, "websites", site, "inactive")
    first = m.online_bet(occurred_at=at(timedelta(seconds=1)))  # after the site closed
    op = {**first, "channel": channel("website", site)}
    return Clash(op, "channel_inactive", [first])


def _mismatch_before_over_stake(_server: Server, m: Market) -> Clash:
    stake = m.online_bet(amount=1000)
    return Clash(refund(stake, player_id="someone-else", amount=5000), "bet_mismatch", [stake])


def _licence_mismatch(_server: Server, m: Market) -> Clash:
    stake = m.online_bet(amount=1000)
    return Clash(refund(stake, license=m.hall, amount=5000), "bet_mismatch", [stake])


def _unknown_bet_and_conflict(_server: Server, m: Market) -> Clash:
    first = m.online_deposit()
    op = win(operation_id=first["operation_id"], license=m.online, bet_id="never-made-2")
    return Clash(op, "unknown_bet", [first])


def _conflict_and_currency(_server: Server, m: Market) -> Clash:
    first = m.online_bet()
    return Clash({**first, "currency": "USD"}, "unsupported_currency", [first])


def _conflict_and_licence(_server: Server, m: Market) -> Clash:
    first = m.online_bet()
    return Clash({**first, "license": "NO-SUCH-2"}, "unknown_license", [first])


def _conflict_and_over_stake(_server: Server, m: Market) -> Clash:
    stake = m.online_bet(amount=1000)
    full = refund(stake)
    return Clash({**full, "amount": 999}, "refund_exceeds_stake", [stake, full])


CLASHES: dict[str, Callable[[Server, Market], Clash]] = {
    "unsupported_currency before occurred_in_future": _currency_and_future,
    "schema_violation before unsupported_currency": _schema_and_currency,
    "reporting_window_closed before unknown_license": _window_and_licence,
    "unknown_license before unknown_channel": _licence_and_channel,
    "license_inactive before game_type_not_licensed": _inactive_and_game_type,
    "game_type_not_licensed before unknown_channel": _game_type_and_channel,
    "unknown_channel before channel_inactive": _unknown_before_inactive,
    "channel_inactive before duplicate_conflict": _inactive_channel_and_conflict,
    "bet_mismatch (player) before refund_exceeds_stake": _mismatch_before_over_stake,
    "bet_mismatch (licence) before refund_exceeds_stake": _licence_mismatch,
    "unknown_bet before duplicate_conflict": _unknown_bet_and_conflict,
    "unsupported_currency before duplicate_conflict": _conflict_and_currency,
    "unknown_license before duplicate_conflict": _conflict_and_licence,
    "refund_exceeds_stake before duplicate_conflict": _conflict_and_over_stake,
}


@pytest.mark.parametrize("clash", list(CLASHES))
def test_an_operation_breaking_several_rules_gets_the_first_ones_code(
    http: httpx.Client, server: Server, market: Market, clash: str
) -> None:
    case = CLASHES[clash](server, market)
    registered(server)
    if case.setup:
        accept(http, market, *case.setup)
    assert only_error(submit(http, market, case.op))["code"] == case.code


# --- wins and refunds on their bets ---------------------------------------------------------


def test_a_win_may_refer_to_a_bet_earlier_in_the_same_request_but_not_later(
    http: httpx.Client, market: Market
) -> None:
    first, second = market.online_bet(), market.online_bet()
    answer = submit(http, market, first, win(first), win(second), second)
    assert answer["accepted"] == 3
    assert [(e["index"], e["code"]) for e in answer["errors"]] == [(2, "unknown_bet")]


def test_a_rejected_bet_is_unknown_to_its_win(http: httpx.Client, market: Market) -> None:
    stake = market.online_bet(currency="USD")
    answer = submit(http, market, stake, win({**stake, "currency": "UAH"}))
    assert codes(answer) == ["unsupported_currency", "unknown_bet"]


def test_an_operation_that_is_not_a_bet_is_unknown_as_a_bet(
    http: httpx.Client, market: Market
) -> None:
    money = market.online_deposit()
    accept(http, market, money)
    answer = submit(http, market, win(money))
    assert codes(answer) == ["unknown_bet"]


def test_a_refund_may_refer_to_a_bet_of_an_earlier_request(
    http: httpx.Client, market: Market
) -> None:
    stake = market.hall_bet(amount=3000)
    accept(http, market, stake)
    accept(http, market, refund(stake), win(stake))


def test_refunds_add_up_over_requests_to_at_most_the_stake(
    http: httpx.Client, server: Server, market: Market
) -> None:
    stake = market.online_bet(amount=100)
    accept(http, market, stake, refund(stake, amount=30))
    # two in one request add up too; the rejected one counts for nothing
    answer = submit(
        http, market, refund(stake, amount=20), refund(stake, amount=51), refund(stake, amount=10)
    )
    assert [(e["index"], e["code"]) for e in answer["errors"]] == [(1, "refund_exceeds_stake")]
    assert "at most 50" in answer["errors"][0]["message"]
    server.reload()  # the refunded total is read back from the database
    assert codes(submit(http, market, refund(stake, amount=41))) == ["refund_exceeds_stake"]
    accept(http, market, refund(stake, amount=40))  # exactly the stake, all told
    assert codes(submit(http, market, refund(stake, amount=1))) == ["refund_exceeds_stake"]


# --- duplicates and retries -------------------------------------------------------------------


def test_retrying_a_request_stores_nothing_again(http: httpx.Client, market: Market) -> None:
    stake = market.online_bet()
    ops = [stake, win(stake), market.online_bet(license="NO-SUCH-3"), market.online_deposit()]
    first = submit(http, market, *ops)
    assert (first["accepted"], first["rejected"]) == (3, 1)
    head = ledger_head(http, market)
    assert head == first["ledger"]

    again = submit(http, market, *ops)
    assert (again["accepted"], again["duplicates"], again["rejected"]) == (0, 3, 1)
    assert codes(again) == ["unknown_license"]
    assert again["ledger"] == head
    assert ledger_head(http, market) == head
    assert http.get(f"{LEDGER}/{head['seq'] + 1}", headers=market.headers).status_code == 404


def test_a_retry_with_keys_reordered_and_spaced_is_still_a_duplicate(
    http: httpx.Client, market: Market
) -> None:
    stake = market.online_bet(player_id="Гравець")
    accept(http, market, stake)
    reordered = dict(reversed(list(stake.items())))
    body = json.dumps({"operations": [reordered]}, indent=2).encode()  # escaped, spaced
    response = http.post(
        OPERATIONS, content=body, headers={**market.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 200
    assert (response.json()["duplicates"], response.json()["accepted"]) == (1, 0)


def test_a_retry_is_a_duplicate_after_the_licence_was_suspended(
    http: httpx.Client, server: Server, market: Market
) -> None:
    soon = market.online_bet(occurred_at=at(timedelta(minutes=3)))
    accept(http, market, soon)
    set_status(server, "licences", market.online, "suspended")
    assert codes(submit(http, market, {**soon, "operation_id": "fresh-1"})) == ["license_inactive"]
    answer = submit(http, market, soon)
    assert (answer["duplicates"], answer["errors"]) == (1, [])


def test_a_retry_is_a_duplicate_after_refunds_used_up_the_stake(
    http: httpx.Client, market: Market
) -> None:
    stake = market.online_bet(amount=100)
    half, other_half = refund(stake, amount=50), refund(stake, amount=50)
    accept(http, market, stake, half)
    accept(http, market, other_half)
    answer = submit(http, market, stake, half)
    assert (answer["duplicates"], answer["errors"]) == (2, [])


def test_the_same_id_twice_in_a_request_is_a_duplicate_of_the_first_if_accepted(
    http: httpx.Client, market: Market
) -> None:
    stake = market.online_bet()
    answer = submit(http, market, stake, stake)
    assert (answer["accepted"], answer["duplicates"], answer["ledger"]["seq"]) == (1, 1, 1)


def test_the_same_id_twice_in_a_request_is_judged_afresh_if_the_first_was_rejected(
    http: httpx.Client, market: Market
) -> None:
    stake = market.online_bet()
    answer = submit(http, market, {**stake, "currency": "USD"}, stake, stake)
    assert (answer["accepted"], answer["duplicates"]) == (1, 1)
    assert codes(answer) == ["unsupported_currency"]
    assert read(http, market, stake["operation_id"]).json()["currency"] == "UAH"


CHANGES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "amount": lambda op: {**op, "amount": op["amount"] + 1},
    "player": lambda op: {**op, "player_id": "player-2"},
    "a field added": lambda op: {**op, "game_ref": "added"},
    "the same instant written otherwise": lambda op: {
        **op,
        "occurred_at": op["occurred_at"].replace("Z", "+00:00"),
    },
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_an_id_accepted_before_with_other_content_is_a_duplicate_conflict(
    http: httpx.Client, market: Market, change: str
) -> None:
    stake = market.online_bet()
    accept(http, market, stake)
    error = only_error(submit(http, market, CHANGES[change](stake)))
    assert (error["code"], error["field"]) == ("duplicate_conflict", "operation_id")
    # within one request too
    again = market.online_bet()
    answer = submit(http, market, again, CHANGES[change](again))
    assert (answer["accepted"], codes(answer)) == (1, ["duplicate_conflict"])


def test_an_id_is_unique_across_types(http: httpx.Client, market: Market) -> None:
    stake = market.online_bet()
    accept(http, market, stake)
    money = market.online_deposit(operation_id=stake["operation_id"])
    assert codes(submit(http, market, money)) == ["duplicate_conflict"]


def _concurrently(base_url: str, market: Market, bodies: list[list[Any]]) -> list[Answer]:
    """POST each list of operations at once, each on its own connection; the answers."""
    start = threading.Barrier(len(bodies))

    def send(ops: list[Any]) -> Answer:
        with httpx.Client(base_url=base_url, timeout=30) as client:
            start.wait()
            answer: Answer = submit(client, market, *ops)
            return answer

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(send, bodies))


def test_the_same_request_sent_many_times_at_once_is_stored_once(
    http: httpx.Client, server: Server, market: Market
) -> None:
    ops = [market.online_bet() for _ in range(5)]
    ops += [win(op) for op in ops]
    answers = _concurrently(server.base_url, market, [ops] * 8)
    assert sum(a["accepted"] for a in answers) == len(ops)
    assert sum(a["duplicates"] for a in answers) == 7 * len(ops)
    assert all(a["rejected"] == 0 for a in answers)
    assert ledger_head(http, market) == {
        "seq": len(ops),
        "hash": chain(market.organizer, ops)[-1],
    }


def test_refunds_sent_at_once_never_exceed_the_stake(
    http: httpx.Client, server: Server, market: Market
) -> None:
    stake = market.online_bet(amount=100)
    accept(http, market, stake)
    answers = _concurrently(server.base_url, market, [[refund(stake, amount=30)] for _ in range(8)])
    assert sum(a["accepted"] for a in answers) == 3
    assert sorted(c for a in answers for c in codes(a)) == ["refund_exceeds_stake"] * 5
    assert ledger_head(http, market)["seq"] == 4


# --- isolation between organizers ------------------------------------------------------------


@pytest.fixture
def rival(server: Server, db: Engine, market: Market) -> Market:
    """A second organizer with its own market."""
    built = make_market(db)
    registered(server)
    return built


def test_another_organizers_licence_is_unknown(
    http: httpx.Client, market: Market, rival: Market
) -> None:
    op = market.online_bet(license=rival.online, channel=channel("website", rival.website))
    error = only_error(submit(http, market, op))
    assert (error["code"], error["field"]) == ("unknown_license", "license")
    accept(http, rival, {**op, "operation_id": "rival-ok-1"})


def test_another_organizers_channel_is_unknown(
    http: httpx.Client, market: Market, rival: Market
) -> None:
    op = market.online_bet(channel=channel("website", rival.website))
    assert codes(submit(http, market, op)) == ["unknown_channel"]
    op = market.hall_bet(channel=channel("equipment", rival.equipment))
    assert codes(submit(http, market, op)) == ["unknown_channel"]


def test_another_organizers_bet_is_unknown(
    http: httpx.Client, market: Market, rival: Market
) -> None:
    theirs = rival.online_bet()
    accept(http, rival, theirs)
    op = win(bet_id=theirs["operation_id"], license=market.online)
    assert codes(submit(http, market, op)) == ["unknown_bet"]


def test_the_same_operation_id_of_two_organizers_is_two_operations(
    http: httpx.Client, market: Market, rival: Market
) -> None:
    ours = market.online_bet(operation_id="shared-1", amount=100)
    theirs = rival.online_bet(operation_id="shared-1", amount=200)
    accept(http, market, ours)
    accept(http, rival, theirs)
    assert submit(http, market, ours)["duplicates"] == 1
    assert read(http, market, "shared-1").json()["amount"] == 100
    assert read(http, rival, "shared-1").json()["amount"] == 200
    assert ledger_head(http, market)["seq"] == ledger_head(http, rival)["seq"] == 1


def test_another_organizers_operation_reads_as_none_at_all(
    http: httpx.Client, market: Market, rival: Market
) -> None:
    accept(http, rival, rival.online_bet(operation_id="theirs-1"))
    theirs = read(http, market, "theirs-1")
    nobodys = read(http, market, "nobodys-1")
    request_error(theirs, 404, "not_found")
    assert theirs.json() == json.loads(nobodys.text.replace("nobodys-1", "theirs-1"))
    assert rival.organizer not in theirs.text
    request_error(http.get(f"{LEDGER}/1", headers=market.headers), 404, "not_found")
    assert ledger_head(http, market)["seq"] == 0


# --- time ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ahead", "accepted"),
    [(timedelta(minutes=4, seconds=40), True), (timedelta(minutes=5, seconds=20), False)],
)
def test_an_operation_may_occur_up_to_five_minutes_after_receipt(
    http: httpx.Client, market: Market, ahead: timedelta, accepted: bool
) -> None:
    op = market.online_bet(occurred_at=at(ahead))
    answer = submit(http, market, op)
    gap = parse(op["occurred_at"]) - parse(answer["received_at"])
    assert (gap > timedelta(minutes=5)) is not accepted  # what the boundary is, measured
    assert answer["accepted"] == int(accepted)
    assert codes(answer) == ([] if accepted else ["occurred_in_future"])


@pytest.mark.parametrize(
    ("before", "accepted"),
    [
        (timedelta(days=29), True),
        (timedelta(days=30, minutes=-1), True),
        (timedelta(days=30, minutes=1), False),
        (timedelta(days=31), False),
    ],
)
def test_an_operation_may_be_reported_up_to_thirty_days_after_it_occurred(
    http: httpx.Client, market: Market, before: timedelta, accepted: bool
) -> None:
    op = market.online_bet(occurred_at=at(-before))
    answer = submit(http, market, op)
    gap = parse(answer["received_at"]) - parse(op["occurred_at"])
    assert (gap > timedelta(days=30)) is not accepted
    assert codes(answer) == ([] if accepted else ["reporting_window_closed"])


@pytest.mark.parametrize(
    ("occurred_at", "code"),
    [
        ("0001-01-01T00:00:00+02:00", "reporting_window_closed"),  # before year 1 in UTC
        ("0001-01-01T00:00:00Z", "reporting_window_closed"),
        ("9999-12-31T23:59:59.999999-02:00", "occurred_in_future"),  # after 9999 in UTC
    ],
)
def test_instants_at_the_ends_of_the_calendar_meet_the_time_rules(
    http: httpx.Client, market: Market, occurred_at: str, code: str
) -> None:
    answer = submit(http, market, market.online_bet(occurred_at=occurred_at))
    assert codes(answer) == [code]


@pytest.mark.parametrize(
    ("before", "late"),
    [
        (timedelta(minutes=14), False),
        (timedelta(minutes=14, seconds=50), False),
        (timedelta(minutes=15, seconds=10), True),
        (timedelta(minutes=16), True),
    ],
)
def test_an_operation_received_over_fifteen_minutes_after_it_occurred_is_marked_late(
    http: httpx.Client, market: Market, before: timedelta, late: bool
) -> None:
    op = market.online_bet(occurred_at=at(-before))
    answer = accept(http, market, op)
    gap = parse(answer["received_at"]) - parse(op["occurred_at"])
    assert (gap > timedelta(minutes=15)) is late
    assert read(http, market, op["operation_id"]).json()["late"] is late


# --- licences and channels as of occurred_at -------------------------------------------------


def test_a_licence_suspended_now_still_covers_what_occurred_before(
    http: httpx.Client, server: Server, market: Market
) -> None:
    before = market.online_bet(occurred_at=at(-timedelta(minutes=10)))
    set_status(server, "licences", market.online, "suspended")
    after = market.online_bet(occurred_at=at(timedelta(seconds=1)))
    answer = submit(http, market, before, after)
    assert answer["accepted"] == 1
    error = answer["errors"][0]
    assert (error["index"], error["code"], error["field"]) == (1, "license_inactive", "license")
    assert "suspended" in error["message"]


def test_a_licence_suspended_through_the_registers_api_refuses_the_next_request(
    http: httpx.Client, market: Market, regulator: dict[str, str]
) -> None:
    accept(http, market, market.online_bet())
    response = http.post(
        f"/api/v1/registers/licences/{market.online}/status",
        json={"status": "suspended", "grounds": {"reason": "test"}},
        headers=regulator,
    )
    assert response.status_code == 200, response.text
    op = market.online_bet(occurred_at=at(timedelta(seconds=1)))
    assert codes(submit(http, market, op)) == ["license_inactive"]


def test_a_suspension_committed_after_a_later_licence_change_is_still_honoured(
    http: httpx.Client, db: Engine, market: Market, regulator: dict[str, str]
) -> None:
    # A change is stamped when it is made and seen when its transaction commits: here a
    # suspension is stamped first, but another licence change, stamped later, commits
    # and is read by the engine before the suspension commits.
    stamped = utcnow()
    response = http.post(
        f"/api/v1/registers/licences/{market.hall}/status",
        json={"status": "suspended", "grounds": {"reason": "test"}},
        headers=regulator,
    )
    assert response.status_code == 200, response.text
    accept(http, market, market.online_bet())  # the engine has read the registers since
    with db.begin() as conn:  # now the earlier-stamped suspension commits
        licences = REGISTERS["licences"]
        current = registers_repo.get_current(conn, licences, market.online)
        assert current is not None
        late = registers_repo.ChangeMeta(
            at=stamped, action="status", actor="test", decision=None, reason="late commit"
        )
        registers_repo.update_entry(
            conn,
            licences,
            market.online,
            {**current, "status": "suspended"},
            current["version"],
            late,
        )
    time.sleep(1.1)  # the registers are read again at least once a second
    op = market.online_bet(occurred_at=at(timedelta(seconds=1)))
    assert codes(submit(http, market, op)) == ["license_inactive"]


def test_a_licence_revoked_now_refuses_what_occurs_after(
    http: httpx.Client, server: Server, market: Market
) -> None:
    stake = market.hall_bet(occurred_at=at(-timedelta(hours=1)))
    set_status(server, "licences", market.hall, "revoked")
    answer = submit(http, market, stake, market.hall_bet(occurred_at=at(timedelta(seconds=1))))
    assert (answer["accepted"], codes(answer)) == (1, ["license_inactive"])
    assert "revoked" in answer["errors"][0]["message"]


def test_a_licence_not_yet_valid_covers_nothing(
    http: httpx.Client, server: Server, market: Market
) -> None:
    today = now().date()
    licence = make_licence(
        server.engine, organizer=market.organizer, valid_from=today + timedelta(days=5)
    )["number"]
    site = make_website(server.engine, organizer=market.organizer, licence=licence)["id"]
    registered(server)
    error = only_error(submit(http, market, bet(license=licence, channel=channel("website", site))))
    assert (error["code"], error["field"]) == ("license_inactive", "license")
    assert "not yet valid" in error["message"]


def test_an_expired_licence_covers_only_its_days_in_kyiv(
    http: httpx.Client, server: Server, market: Market
) -> None:
    last_day = datetime.now(KYIV).date() - timedelta(days=3)
    licence = make_licence(
        server.engine,
        organizer=market.organizer,
        valid_from=last_day - timedelta(days=100),
        valid_to=last_day,
    )["number"]
    site = make_website(server.engine, organizer=market.organizer, licence=licence)["id"]
    registered(server)
    midnight = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), tzinfo=KYIV)

    def kyiv(instant: datetime) -> str:
        return instant.isoformat(timespec="microseconds")  # with Kyiv's offset, e.g. +02:00

    last = bet(license=licence, channel=channel("website", site))
    answer = submit(
        http,
        market,
        {**last, "occurred_at": kyiv(midnight - timedelta(microseconds=1))},
        bet(license=licence, channel=channel("website", site), occurred_at=kyiv(midnight)),
        bet(license=licence, channel=channel("website", site)),
    )
    assert answer["accepted"] == 1
    assert [(e["index"], e["code"]) for e in answer["errors"]] == [
        (1, "license_inactive"),
        (2, "license_inactive"),
    ]
    assert "expired" in answer["errors"][1]["message"]


def test_an_inactive_channel_refuses_what_occurs_after_it_became_inactive(
    http: httpx.Client, server: Server, market: Market
) -> None:
    before = market.online_deposit(
        channel=channel("mobile_app", market.mobile_app), occurred_at=at(-timedelta(minutes=5))
    )
    set_status(server, "mobile_apps", market.mobile_app, "inactive")
    after = {**before, "operation_id": "after-1", "occurred_at": at(timedelta(seconds=1))}
    answer = submit(http, market, before, after)
    assert answer["accepted"] == 1
    assert [(e["index"], e["code"], e["field"]) for e in answer["errors"]] == [
        (1, "channel_inactive", "channel")
    ]


def test_equipment_in_an_inactive_establishment_is_an_inactive_channel(
    http: httpx.Client, server: Server, market: Market
) -> None:
    set_status(server, "establishments", market.establishment, "inactive")
    for kind, key in (("equipment", market.equipment), ("establishment", market.establishment)):
        error = only_error(submit(http, market, market.hall_bet(channel=channel(kind, key))))
        assert (error["code"], error["field"]) == ("channel_inactive", "channel")
        assert market.establishment in error["message"]


def test_inactive_equipment_is_an_inactive_channel(
    http: httpx.Client, server: Server, market: Market
) -> None:
    set_status(server, "equipment", market.equipment, "inactive")
    assert codes(submit(http, market, market.hall_bet())) == ["channel_inactive"]
    accept(http, market, market.hall_bet(channel=channel("establishment", market.establishment)))


def test_equipment_under_another_licence_is_an_unknown_channel(
    http: httpx.Client, server: Server, market: Market
) -> None:
    org = market.organizer
    other = make_licence(server.engine, organizer=org, activity="slot_hall")["number"]
    hall = make_establishment(server.engine, organizer=org, licence=other)["id"]
    machine = make_equipment(server.engine, organizer=org, establishment=hall)["id"]
    registered(server)
    answer = submit(
        http,
        market,
        market.hall_bet(channel=channel("equipment", machine)),
        market.hall_bet(channel=channel("establishment", hall)),
        market.hall_bet(license=other, channel=channel("equipment", machine)),
        market.hall_bet(license=other, channel=channel("equipment", market.equipment)),
        # a website's id given as another kind is no channel of that kind
        market.online_bet(channel=channel("mobile_app", market.website)),
    )
    assert answer["accepted"] == 1
    assert [(e["index"], e["code"]) for e in answer["errors"]] == [
        (0, "unknown_channel"),
        (1, "unknown_channel"),
        (3, "unknown_channel"),
        (4, "unknown_channel"),
    ]


# --- request-level errors ----------------------------------------------------------------


def test_a_missing_unknown_or_malformed_key_is_unauthorized(
    http: httpx.Client, market: Market
) -> None:
    op = market.online_bet()
    for headers in (
        {},
        {"Authorization": "Bearer dsomk_not-a-key"},
        {"Authorization": f"Basic {market.key}"},
        {"Authorization": "Bearer"},
    ):
        request_error(post(http, headers, op), 401, "unauthorized")
        request_error(http.get(LEDGER, headers=headers), 401, "unauthorized")
        request_error(http.get(f"{OPERATIONS}/x", headers=headers), 401, "unauthorized")
    assert ledger_head(http, market)["seq"] == 0


def test_a_deactivated_key_is_refused_after_a_second(
    http: httpx.Client, db: Engine, market: Market
) -> None:
    accept(http, market, market.online_bet())
    with db.begin() as conn:
        (key,) = list_keys(conn, market.organizer)
        deactivate_key(conn, key["id"])
    time.sleep(1.1)
    request_error(post(http, market.headers, market.online_bet()), 401, "unauthorized")
    request_error(http.get(LEDGER, headers=market.headers), 401, "unauthorized")
    other = {"Authorization": f"Bearer {make_key(db, organizer=market.organizer)}"}
    assert http.get(LEDGER, headers=other).json()["seq"] == 1


@pytest.mark.parametrize("status", ["suspended", "pending"])
def test_an_organizer_not_active_may_not_submit(
    http: httpx.Client, db: Engine, status: str
) -> None:
    org = make_organizer(db, status=status)["edrpou"]
    headers = {"Authorization": f"Bearer {make_key(db, organizer=org)}"}
    request_error(post(http, headers, bet()), 403, "organizer_suspended")


def test_an_organizer_suspended_later_is_refused_after_a_second(
    http: httpx.Client, db: Engine, market: Market
) -> None:
    accept(http, market, market.online_bet())
    change_status(db, "organizers", market.organizer, "suspended")
    time.sleep(1.1)
    request_error(post(http, market.headers, market.online_bet()), 403, "organizer_suspended")


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/jsonl", "text/json", ""],
)
def test_a_body_that_is_not_declared_json_is_an_unsupported_media_type(
    http: httpx.Client, market: Market, content_type: str
) -> None:
    response = post(http, market.headers, market.online_bet(), content_type=content_type)
    request_error(response, 415, "unsupported_media_type")
    assert ledger_head(http, market)["seq"] == 0


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "application/json;charset=UTF-8"]
)
def test_json_with_a_charset_parameter_is_fine(
    http: httpx.Client, market: Market, content_type: str
) -> None:
    response = post(http, market.headers, market.online_bet(), content_type=content_type)
    assert response.status_code == 200
    assert response.json()["accepted"] == 1


def test_more_than_ten_thousand_operations_is_a_batch_too_large(
    http: httpx.Client, market: Market
) -> None:
    request_error(post(http, market.headers, *([{}] * 10_001)), 413, "batch_too_large")
    # ten thousand is allowed (cheap ones: not objects, and one bet)
    answer = submit(http, market, *([0] * 9_999), market.online_bet())
    assert (answer["accepted"], answer["rejected"]) == (1, 9_999)


def _padded(op: dict[str, Any], size: int) -> bytes:
    """A valid request body of exactly `size` bytes (the rest is whitespace)."""
    body = json.dumps({"operations": [op]}).encode()
    return body + b" " * (size - len(body))


def test_a_body_over_sixteen_mib_is_a_payload_too_large(http: httpx.Client, market: Market) -> None:
    json_headers = {**market.headers, "Content-Type": "application/json"}
    over = _padded(market.online_bet(), 16 * MIB + 1)
    response = http.post(OPERATIONS, content=over, headers=json_headers)
    request_error(response, 413, "payload_too_large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        for start in range(0, len(over), MIB):
            yield over[start : start + MIB]

    response = http.post(OPERATIONS, content=chunks(), headers=json_headers)
    request_error(response, 413, "payload_too_large")
    assert ledger_head(http, market)["seq"] == 0
    # sixteen MiB exactly is allowed
    response = http.post(
        OPERATIONS, content=_padded(market.online_bet(), 16 * MIB), headers=json_headers
    )
    assert response.status_code == 200
    assert response.json()["accepted"] == 1


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"null",
        b"[]",
        b'[{"operations": []}]',
        b'{"ops": []}',
        b'{"operations": {}}',
        b'{"operations": "all"}',
        b'{"operations": []}',
        b'{"operations": [{}]',
        b'{"operations": [{}]} trailing',
        b'{"operations": [{"player_id": "\xff"}]}',
        b'{"operations": [' + b"[" * 5000 + b"]" * 5000 + b"]}",  # deeper than can be read
    ],
)
def test_a_body_that_is_not_an_operations_array_is_an_invalid_body(
    http: httpx.Client, market: Market, body: bytes
) -> None:
    response = http.post(
        OPERATIONS, content=body, headers={**market.headers, "Content-Type": "application/json"}
    )
    request_error(response, 400, "invalid_body")


def test_request_errors_come_in_the_specs_order(
    http: httpx.Client, db: Engine, market: Market
) -> None:
    suspended = make_organizer(db, status="suspended")["edrpou"]
    barred = {"Authorization": f"Bearer {make_key(db, organizer=suspended)}"}
    big_bad = b"{" * (16 * MIB + 1)

    def send(headers: dict[str, str], body: bytes, content_type: str) -> httpx.Response:
        return http.post(
            OPERATIONS, content=body, headers={**headers, "Content-Type": content_type}
        )

    nobody = {"Authorization": "Bearer dsomk_wrong"}
    request_error(send(nobody, b"junk", "text/plain"), 401, "unauthorized")
    request_error(send({}, big_bad, "text/plain"), 401, "unauthorized")
    request_error(send(barred, b"junk", "text/plain"), 403, "organizer_suspended")
    request_error(send(barred, big_bad, "application/json"), 403, "organizer_suspended")
    request_error(send(market.headers, big_bad, "text/plain"), 415, "unsupported_media_type")
    request_error(send(market.headers, b"junk", "text/plain"), 415, "unsupported_media_type")
    request_error(send(market.headers, big_bad, "application/json"), 413, "payload_too_large")
    request_error(send(market.headers, b"[]", "text/plain"), 415, "unsupported_media_type")


def test_an_element_that_is_not_an_object_is_that_operations_schema_violation(
    http: httpx.Client, market: Market
) -> None:
    first, last = market.online_bet(), market.online_bet()
    answer = submit(http, market, first, 42, "op", None, [first], last)
    assert answer["accepted"] == 2
    assert [(e["index"], e["operation_id"], e["code"]) for e in answer["errors"]] == [
        (1, None, "schema_violation"),
        (2, None, "schema_violation"),
        (3, None, "schema_violation"),
        (4, None, "schema_violation"),
    ]
    assert all(e["message"] for e in answer["errors"])


# --- the answer ------------------------------------------------------------------------------


def test_the_answer_counts_each_operation_once_and_names_the_ledger_head(
    http: httpx.Client, market: Market
) -> None:
    stake = market.online_bet()
    accept(http, market, stake)
    before = now()
    answer = submit(http, market, stake, market.online_bet(), market.online_bet(currency="PLN"), 7)
    after = now()
    assert set(answer) == {
        "received",
        "accepted",
        "duplicates",
        "rejected",
        "errors",
        "ledger",
        "received_at",
    }
    assert (answer["received"], answer["accepted"], answer["duplicates"], answer["rejected"]) == (
        4,
        1,
        1,
        2,
    )
    assert set(answer["ledger"]) == {"seq", "hash"}
    assert answer["ledger"]["seq"] == 2
    assert len(answer["ledger"]["hash"]) == 64
    assert answer["ledger"]["hash"] == answer["ledger"]["hash"].lower()
    bytes.fromhex(answer["ledger"]["hash"])
    assert answer["received_at"].endswith("Z")
    assert before - timedelta(seconds=1) <= parse(answer["received_at"]) <= after
    for error in answer["errors"]:
        assert {"index", "operation_id", "code", "message"} <= set(error)


def test_a_request_whose_operations_are_all_rejected_is_still_ok(
    http: httpx.Client, market: Market
) -> None:
    answer = submit(http, market, market.online_bet(currency="USD"), 1)
    assert (answer["accepted"], answer["rejected"]) == (0, 2)
    assert answer["ledger"] == {"seq": 0, "hash": genesis(market.organizer).hex()}


# --- reading back ---------------------------------------------------------------------------


def test_an_operation_reads_back_as_submitted_with_seq_hash_receipt_and_late(
    http: httpx.Client, market: Market
) -> None:
    kyiv_now = now().astimezone(KYIV).replace(microsecond=120_000)
    stake = market.online_bet(
        occurred_at=kyiv_now.isoformat(timespec="milliseconds"),  # e.g. ...:30.120+02:00
        player_id="Гравець-№1",
        game_ref="Рулетка «Європа» 🎰",
        amount=12_345,
    )
    ops = [stake, win(stake, occurred_at=at(timedelta(0)).replace("Z", "z").replace("T", "t"))]
    ops += [
        refund(stake, amount=5),
        market.online_deposit(),
        withdrawal(
            license=market.online,
            channel=channel("website", market.website),
            payment_method="other",
        ),
    ]
    answer = accept(http, market, *ops)
    hashes = chain(market.organizer, ops)
    for seq, op in enumerate(ops, start=1):
        response = read(http, market, op["operation_id"])
        assert response.status_code == 200
        stored = response.json()
        assert {k: stored[k] for k in op} == op
        assert set(stored) == set(op) | {"seq", "hash", "received_at", "late"}
        assert stored["seq"] == seq
        assert stored["hash"] == hashes[seq - 1]
        assert stored["received_at"] == answer["received_at"]
        assert stored["late"] is False
    assert read(http, market, stake["operation_id"]).json()["occurred_at"].endswith(".120+02:00")


def test_an_operation_never_accepted_is_not_found(http: httpx.Client, market: Market) -> None:
    rejected = market.online_bet(currency="USD")
    submit(http, market, rejected)
    for op_id in (rejected["operation_id"], "never-sent-1", "x" * 300):
        request_error(read(http, market, op_id), 404, "not_found")


def test_the_ledger_before_the_first_operation_is_hash_zero(
    http: httpx.Client, market: Market
) -> None:
    expected = hashlib.sha256(f"dsom-ledger-v1:{market.organizer}".encode()).hexdigest()
    assert ledger_head(http, market) == {"seq": 0, "hash": expected}
    request_error(http.get(f"{LEDGER}/1", headers=market.headers), 404, "not_found")


def test_a_ledger_entry_past_any_possible_seq_is_not_found(
    http: httpx.Client, market: Market
) -> None:
    request_error(http.get(f"{LEDGER}/{2**63}", headers=market.headers), 404, "not_found")


def test_ledger_entries_chain_from_hash_zero(http: httpx.Client, market: Market) -> None:
    ops = [market.online_bet() for _ in range(3)]
    accept(http, market, ops[0])
    accept(http, market, *ops[1:])
    previous = genesis(market.organizer).hex()
    for seq, op in enumerate(ops, start=1):
        response = http.get(f"{LEDGER}/{seq}", headers=market.headers)
        assert response.status_code == 200
        entry = response.json()
        assert set(entry) == {"seq", "operation_id", "prev_hash", "hash"}
        assert (entry["seq"], entry["operation_id"]) == (seq, op["operation_id"])
        assert entry["prev_hash"] == previous
        link = hashlib.sha256(bytes.fromhex(previous) + canonical(op)).hexdigest()
        assert entry["hash"] == link
        previous = entry["hash"]
    assert ledger_head(http, market) == {"seq": 3, "hash": previous}
    request_error(http.get(f"{LEDGER}/4", headers=market.headers), 404, "not_found")


def test_a_request_longer_than_a_block_reads_back_whole_also_after_a_restart(
    http: httpx.Client, server: Server, market: Market
) -> None:
    # Stored as blocks of at most BLOCK_LIMIT entries (ingest/blocks.py): 2,500 operations
    # make three, and every entry reads back across their edges, before and after the
    # server rebuilds its state from them.
    bets = [market.online_bet() for _ in range(2 * BLOCK_LIMIT + 500)]
    accept(http, market, *bets)
    wins = [win(bets[i], amount=7) for i in (0, BLOCK_LIMIT - 1, BLOCK_LIMIT, len(bets) - 1)]
    hashes = chain(market.organizer, bets + wins)
    for restarted in (False, True):
        if restarted:
            server.reload()  # the ids, heads and (for the wins) bets come from the blocks
            accept(http, market, *wins)
        for seq in (1, BLOCK_LIMIT, BLOCK_LIMIT + 1, 2 * BLOCK_LIMIT + 1, len(bets)):
            entry = http.get(f"{LEDGER}/{seq}", headers=market.headers).json()
            assert (entry["operation_id"], entry["hash"]) == (
                bets[seq - 1]["operation_id"],
                hashes[seq - 1],
            )
            if seq > 1:
                assert entry["prev_hash"] == hashes[seq - 2]
            stored = read(http, market, bets[seq - 1]["operation_id"]).json()
            assert (stored["seq"], stored["hash"]) == (seq, hashes[seq - 1])
        answer = submit(http, market, bets[BLOCK_LIMIT])  # a retry of an old one
        assert (answer["duplicates"], answer["accepted"]) == (1, 0)
    assert ledger_head(http, market) == {"seq": len(hashes), "hash": hashes[-1]}


# --- the ledger, recomputed by the organizer ---------------------------------------------------


def test_the_organizer_can_recompute_its_chain_from_what_it_sent(
    http: httpx.Client, server: Server, market: Market
) -> None:
    m = market
    b1 = m.online_bet(player_id="Гравець-№1", game_ref="Рулетка «Європа»")
    b2 = m.hall_bet(
        player_id="гравець/2",
        game_ref='🎰 "Слот" \\ 7\t',
        occurred_at=now().astimezone(KYIV).isoformat(),
    )
    w1, d1 = win(b1, amount=900), m.online_deposit()
    r1, r2 = refund(b1, amount=100), refund(b2)
    out = withdrawal(license=m.online, channel=channel("website", m.website))
    requests: list[tuple[list[Any], list[dict[str, Any]], list[str]]] = [
        # (what is sent, what must be accepted, the codes of the rest)
        ([b1, w1, m.online_bet(currency="USD"), d1], [b1, w1, d1], ["unsupported_currency"]),
        (
            [
                b1,  # a duplicate: not chained again
                r1,
                b2,
                {"operation_id": "broken-1", "type": "bet"},
                {**b1, "amount": 1},
                refund(b2, amount=b2["amount"] + 1),
            ],
            [r1, b2],
            ["schema_violation", "duplicate_conflict", "refund_exceeds_stake"],
        ),
        ([out, r2], [out, r2], []),
    ]
    chained: list[dict[str, Any]] = []
    for sent, accepted, rejected in requests:
        if sent[0] is out:
            server.reload()  # a restart: the chain goes on from the stored head
        answer = submit(http, m, *sent)
        assert (answer["accepted"], codes(answer)) == (len(accepted), rejected)
        chained += accepted
        expected = chain(m.organizer, chained)
        assert answer["ledger"] == {"seq": len(chained), "hash": expected[-1]}
    expected = chain(m.organizer, chained)
    assert ledger_head(http, m) == {"seq": 7, "hash": expected[-1]}
    for seq, op in enumerate(chained, start=1):
        entry = http.get(f"{LEDGER}/{seq}", headers=m.headers).json()
        assert (entry["operation_id"], entry["hash"]) == (op["operation_id"], expected[seq - 1])
        assert read(http, m, op["operation_id"]).json()["hash"] == expected[seq - 1]

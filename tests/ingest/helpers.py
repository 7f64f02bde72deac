"""Builders and small calculations shared by the ingest tests.

The registers entries go through the registers service, as in tests/builders.py; these
builders add what the ingest tests need beside them: entries created in a status other
than the initial one (so that status governs all of the past), an organizer with its
access key, and the protocol's own arithmetic (canonical bytes, the chain, the taxes),
written out again from the spec's words.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
from sqlalchemy import Engine

from dsom.auth.keys import create_key
from dsom.auth.principal import SYSTEM
from dsom.kit.codes import make_edrpou, make_rnokpp
from dsom.kit.db import write_transaction
from dsom.kit.time import KYIV
from dsom.registers import service
from dsom.registers.declarations import REGISTERS

OPERATIONS = "/api/v1/operations"
LEDGER = "/api/v1/ledger"
HOUR_US = 3_600_000_000
GROUNDS = service.Grounds(reason="ingest test")
_serial = itertools.count(1)


def _create(engine: Engine, register: str, values: dict[str, Any]) -> dict[str, Any]:
    # As the registers API does: the ingest engine hears of the write and re-reads.
    with write_transaction(engine) as conn:
        return service.create(conn, REGISTERS[register], SYSTEM, values, GROUNDS)


def new_organizer(engine: Engine, *, status: str = "active") -> str:
    """A new organizer (a code no other builder uses); its EDRPOU code."""
    n = next(_serial)
    entry = _create(
        engine,
        "organizers",
        {
            "edrpou": make_edrpou(6_200_000 + n),
            "name": f"ТОВ «Інжест {n}»",
            "head_rnokpp": make_rnokpp(600_000_000 + n),
            "status": status,
        },
    )
    return str(entry["edrpou"])


def new_licence(
    engine: Engine,
    *,
    organizer: str,
    activity: str,
    status: str = "active",
    valid_from: date | None = None,
    valid_to: date | None = None,
) -> str:
    """A licence (valid from 100 days ago for five years unless told); its number."""
    today = datetime.now(UTC).date()
    entry = _create(
        engine,
        "licences",
        {
            "number": f"ING-{next(_serial):06d}",
            "organizer": organizer,
            "activity": activity,
            "valid_from": (valid_from or today - timedelta(days=100)).isoformat(),
            "valid_to": (valid_to or today + timedelta(days=5 * 365)).isoformat(),
            "decision": "Рішення № 7",
            "status": status,
        },
    )
    return str(entry["number"])


def new_website(engine: Engine, *, organizer: str, licence: str, status: str = "active") -> str:
    """A website under an online licence; its register id."""
    entry = _create(
        engine,
        "websites",
        {
            "organizer": organizer,
            "licence": licence,
            "domain": f"ingest{next(_serial)}.ua",
            "status": status,
        },
    )
    return str(entry["id"])


def new_establishment(
    engine: Engine, *, organizer: str, licence: str, status: str = "active"
) -> str:
    """A slot hall under a slot_hall licence; its register id."""
    entry = _create(
        engine,
        "establishments",
        {
            "organizer": organizer,
            "licence": licence,
            "kind": "slot_hall",
            "address": "м. Львів, пл. Ринок, 1",
            "status": status,
        },
    )
    return str(entry["id"])


def new_equipment(
    engine: Engine, *, organizer: str, establishment: str, status: str = "active"
) -> str:
    """A slot machine in an establishment; its register id."""
    n = next(_serial)
    entry = _create(
        engine,
        "equipment",
        {
            "organizer": organizer,
            "establishment": establishment,
            "kind": "slot_machine",
            "manufacturer": "Ingest Gaming",
            "model": "M1",
            "serial_number": f"ING{n:08d}",
            "certificate": f"UA.ING.{n}",
            "status": status,
        },
    )
    return str(entry["id"])


def key_headers(engine: Engine, organizer: str) -> dict[str, str]:
    """Authorization headers of a new access key of `organizer`."""
    with write_transaction(engine) as conn:
        issued = create_key(conn, organizer=organizer, name="ingest test", created_by="test")
    return {"Authorization": f"Bearer {issued.secret}"}


@dataclass(frozen=True)
class Channel:
    """A registered channel as an operation names it, and what it hangs under."""

    kind: str
    id: str
    licence: str
    active: bool

    def as_json(self) -> dict[str, str]:
        """The operation's `channel` object."""
        return {"kind": self.kind, "id": self.id}


@dataclass(frozen=True)
class Licence:
    """A licence of a test market."""

    number: str
    activity: str
    active: bool
    channels: tuple[Channel, ...]


@dataclass
class Market:
    """One organizer with its key, licences and channels."""

    organizer: str
    headers: dict[str, str]
    licences: dict[str, Licence] = field(default_factory=dict)

    def channels(self) -> list[Channel]:
        """Every channel of every licence."""
        return [ch for lic in self.licences.values() for ch in lic.channels]


def new_market(engine: Engine) -> Market:
    """An organizer with an online casino (a website, an inactive website), a bookmaker
    (a website), a slot hall (an establishment, a machine in it, an inactive machine) and
    a suspended online poker licence (a website)."""
    org = new_organizer(engine)
    market = Market(org, key_headers(engine, org))

    def add(activity: str, status: str, channels: list[Channel]) -> None:
        number = channels[0].licence
        market.licences[activity] = Licence(number, activity, status == "active", tuple(channels))

    casino = new_licence(engine, organizer=org, activity="online_casino")
    add(
        "online_casino",
        "active",
        [
            Channel("website", new_website(engine, organizer=org, licence=casino), casino, True),
            Channel(
                "website",
                new_website(engine, organizer=org, licence=casino, status="inactive"),
                casino,
                False,
            ),
        ],
    )
    book = new_licence(engine, organizer=org, activity="bookmaking")
    add(
        "bookmaking",
        "active",
        [Channel("website", new_website(engine, organizer=org, licence=book), book, True)],
    )
    slots = new_licence(engine, organizer=org, activity="slot_hall")
    hall = new_establishment(engine, organizer=org, licence=slots)
    add(
        "slot_hall",
        "active",
        [
            Channel("establishment", hall, slots, True),
            Channel(
                "equipment", new_equipment(engine, organizer=org, establishment=hall), slots, True
            ),
            Channel(
                "equipment",
                new_equipment(engine, organizer=org, establishment=hall, status="inactive"),
                slots,
                False,
            ),
        ],
    )
    poker = new_licence(engine, organizer=org, activity="online_poker", status="suspended")
    add(
        "online_poker",
        "suspended",
        [Channel("website", new_website(engine, organizer=org, licence=poker), poker, True)],
    )
    return market


# --- operations ----------------------------------------------------------------------------


def iso_z(value: datetime) -> str:
    """An instant as RFC 3339 UTC with microseconds and a Z."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def bet(
    operation_id: str,
    *,
    licence: str,
    channel: Channel,
    game_type: str,
    occurred_at: str,
    player_id: str = "p-1",
    amount: int = 10_000,
) -> dict[str, Any]:
    """A bet as an organizer sends it."""
    return {
        "operation_id": operation_id,
        "type": "bet",
        "occurred_at": occurred_at,
        "license": licence,
        "player_id": player_id,
        "amount": amount,
        "currency": "UAH",
        "game_type": game_type,
        "channel": channel.as_json(),
    }


def settlement(
    kind: str,
    operation_id: str,
    *,
    bet_id: str,
    licence: str,
    occurred_at: str,
    player_id: str = "p-1",
    amount: int = 10_000,
) -> dict[str, Any]:
    """A win or a refund of a bet."""
    return {
        "operation_id": operation_id,
        "type": kind,
        "occurred_at": occurred_at,
        "license": licence,
        "player_id": player_id,
        "amount": amount,
        "currency": "UAH",
        "bet_id": bet_id,
    }


def payment(
    kind: str,
    operation_id: str,
    *,
    licence: str,
    channel: Channel,
    occurred_at: str,
    player_id: str = "p-1",
    amount: int = 10_000,
    payment_method: str = "card",
) -> dict[str, Any]:
    """A deposit or a withdrawal."""
    return {
        "operation_id": operation_id,
        "type": kind,
        "occurred_at": occurred_at,
        "license": licence,
        "player_id": player_id,
        "amount": amount,
        "currency": "UAH",
        "channel": channel.as_json(),
        "payment_method": payment_method,
    }


def post(http: httpx.Client, headers: dict[str, str], ops: list[Any]) -> httpx.Response:
    """POST one request of operations."""
    return http.post(OPERATIONS, json={"operations": ops}, headers=headers)


# --- the spec's arithmetic ----------------------------------------------------------------


def canonical(op: Any) -> bytes:
    """protocol.md §4: the operation as submitted, keys sorted, no whitespace, UTF-8."""
    return json.dumps(op, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hashes(organizer: str, ops: list[Any]) -> list[str]:
    """hash_1 … hash_n of the chain over these accepted operations, per protocol.md §4."""
    digest = hashlib.sha256(f"dsom-ledger-v1:{organizer}".encode()).digest()
    hashes = []
    for op in ops:
        digest = hashlib.sha256(digest + canonical(op)).digest()
        hashes.append(digest.hex())
    return hashes


def chain_head(organizer: str, ops: list[Any]) -> dict[str, Any]:
    """`{"seq", "hash"}` of the organizer's ledger after these accepted operations."""
    hashes = chain_hashes(organizer, ops)
    genesis = hashlib.sha256(f"dsom-ledger-v1:{organizer}".encode()).hexdigest()
    return {"seq": len(ops), "hash": hashes[-1] if hashes else genesis}


def instant_us(text: str) -> int:
    """An RFC 3339 instant as epoch microseconds."""
    value = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def kyiv_day(us: int) -> date:
    """The Kyiv calendar day of an instant."""
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)).astimezone(KYIV).date()


def tax_half_up(amount: int, rate: str) -> int:
    """amount × rate rounded half up to a kopiyka."""
    return int((Decimal(amount) * Decimal(rate)).quantize(Decimal(1), rounding=ROUND_HALF_UP))

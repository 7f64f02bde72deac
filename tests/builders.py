"""Keyword-only builders of register entries, through the same service as the API."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from dsom.auth.keys import create_key
from dsom.auth.principal import SYSTEM
from dsom.kit.codes import make_edrpou, make_rnokpp
from dsom.registers import service
from dsom.registers.declarations import REGISTERS

_serial = itertools.count(1)
GROUNDS = service.Grounds(reason="test")


def _create(engine: Engine, register: str, values: dict[str, Any]) -> dict[str, Any]:
    with engine.begin() as conn:
        return service.create(conn, REGISTERS[register], SYSTEM, values, GROUNDS)


def make_organizer(
    engine: Engine,
    *,
    code: str | None = None,
    status: str = "active",
    head_rnokpp: str | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """An organizer (active unless told)."""
    n = next(_serial)
    return _create(
        engine,
        "organizers",
        {
            "edrpou": code or make_edrpou(3_100_000 + n),
            "name": name or f"ТОВ «Тест {n}»",
            "head_rnokpp": head_rnokpp or make_rnokpp(200_000_000 + n),
            "status": status,
        },
    )


def make_licence(
    engine: Engine,
    *,
    organizer: str,
    activity: str = "online_casino",
    number: str | None = None,
    valid_from: date | None = None,
    valid_to: date | None = None,
    status: str = "active",
) -> dict[str, Any]:
    """A licence valid from 100 days ago for five years unless told."""
    today = datetime.now(UTC).date()
    return _create(
        engine,
        "licences",
        {
            "number": number or f"T-{next(_serial):06d}",
            "organizer": organizer,
            "activity": activity,
            "valid_from": (valid_from or today - timedelta(days=100)).isoformat(),
            "valid_to": (valid_to or today + timedelta(days=5 * 365)).isoformat(),
            "decision": "Рішення № 1",
            "status": status,
        },
    )


def make_website(
    engine: Engine, *, organizer: str, licence: str, domain: str | None = None
) -> dict[str, Any]:
    """A website under an online licence."""
    return _create(
        engine,
        "websites",
        {"organizer": organizer, "licence": licence, "domain": domain or f"site{next(_serial)}.ua"},
    )


def make_establishment(
    engine: Engine, *, organizer: str, licence: str, kind: str = "slot_hall"
) -> dict[str, Any]:
    """A gambling establishment under a land-based licence."""
    return _create(
        engine,
        "establishments",
        {
            "organizer": organizer,
            "licence": licence,
            "kind": kind,
            "address": "м. Київ, вул. Хрещатик, 1",
        },
    )


def make_equipment(
    engine: Engine, *, organizer: str, establishment: str, kind: str = "slot_machine"
) -> dict[str, Any]:
    """A piece of gaming equipment in an establishment."""
    n = next(_serial)
    return _create(
        engine,
        "equipment",
        {
            "organizer": organizer,
            "establishment": establishment,
            "kind": kind,
            "manufacturer": "Novomatic",
            "model": "Dominator",
            "serial_number": f"SN{n:08d}",
            "certificate": f"UA.TR.{n}",
        },
    )


def make_mobile_app(
    engine: Engine,
    *,
    organizer: str,
    licence: str,
    platform: str = "android",
    store_id: str | None = None,
) -> dict[str, Any]:
    """A mobile application under an online licence."""
    return _create(
        engine,
        "mobile_apps",
        {
            "organizer": organizer,
            "licence": licence,
            "platform": platform,
            "store_id": store_id or f"ua.test.app{next(_serial)}",
        },
    )


def make_key(engine: Engine, *, organizer: str) -> str:
    """A new access key of `organizer`: its secret."""
    with engine.begin() as conn:
        return create_key(conn, organizer=organizer, name="test", created_by="test").secret


# --- operations of the data-collection protocol ---------------------------------------------


def rfc3339(value: datetime) -> str:
    """An aware datetime as RFC 3339 in UTC, to microseconds, with a Z."""
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _op(kind: str, fields: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operation_id": f"{kind}-{next(_serial)}",
        "type": kind,
        "occurred_at": rfc3339(datetime.now(UTC)),
        "license": "T-000000",
        "player_id": "player-1",
        "amount": 5000,
        "currency": "UAH",
        **fields,
    }
    op.update(overrides)
    return op


def channel(kind: str, key: str) -> dict[str, str]:
    """A channel object of the protocol: a register entry's kind and id."""
    return {"kind": kind, "id": key}


def bet(**overrides: Any) -> dict[str, Any]:
    """A bet of 50.00 UAH on online casino, occurred now (override anything)."""
    return _op(
        "bet",
        {"game_type": "online_casino", "channel": channel("website", "WEB-000000")},
        overrides,
    )


def win(on: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """A win on the bet `on` (its licence, player and id), occurred now."""
    fields = {"bet_id": "bet-0"}
    if on is not None:
        fields = {
            "bet_id": on["operation_id"],
            "license": on["license"],
            "player_id": on["player_id"],
        }
    return _op("win", fields, overrides)


def refund(on: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """A refund of the whole stake of the bet `on`, occurred now."""
    fields: dict[str, Any] = {"bet_id": "bet-0"}
    if on is not None:
        fields = {
            "bet_id": on["operation_id"],
            "license": on["license"],
            "player_id": on["player_id"],
            "amount": on["amount"],
        }
    return _op("refund", fields, overrides)


def deposit(**overrides: Any) -> dict[str, Any]:
    """A card deposit of 50.00 UAH, occurred now."""
    fields = {"channel": channel("website", "WEB-000000"), "payment_method": "card"}
    return _op("deposit", fields, overrides)


def withdrawal(**overrides: Any) -> dict[str, Any]:
    """A card withdrawal of 50.00 UAH, occurred now."""
    fields = {"channel": channel("website", "WEB-000000"), "payment_method": "card"}
    return _op("withdrawal", fields, overrides)


@dataclass(frozen=True)
class Market:
    """One active organizer with its key, an online and a land-based licence and channels."""

    organizer: str
    key: str
    online: str  # online_casino licence number
    website: str
    mobile_app: str
    hall: str  # slot_hall licence number
    establishment: str
    equipment: str

    @property
    def headers(self) -> dict[str, str]:
        """Authorization headers with the organizer's access key."""
        return {"Authorization": f"Bearer {self.key}"}

    def online_bet(self, **overrides: Any) -> dict[str, Any]:
        """An online-casino bet on the website."""
        fields = {"license": self.online, "channel": channel("website", self.website)}
        return bet(**{**fields, **overrides})

    def hall_bet(self, **overrides: Any) -> dict[str, Any]:
        """A slot-hall bet on the piece of equipment."""
        fields = {
            "license": self.hall,
            "game_type": "slot_hall",
            "channel": channel("equipment", self.equipment),
        }
        return bet(**{**fields, **overrides})

    def online_deposit(self, **overrides: Any) -> dict[str, Any]:
        """A deposit on the website."""
        fields = {"license": self.online, "channel": channel("website", self.website)}
        return deposit(**{**fields, **overrides})


def make_market(engine: Engine, *, code: str | None = None) -> Market:
    """An organizer with an online-casino licence (website, app) and a slot-hall licence
    (establishment, equipment), all active, and an access key."""
    org = make_organizer(engine, code=code)["edrpou"]
    online = make_licence(engine, organizer=org, activity="online_casino")["number"]
    hall = make_licence(engine, organizer=org, activity="slot_hall")["number"]
    establishment = make_establishment(engine, organizer=org, licence=hall)["id"]
    return Market(
        organizer=org,
        key=make_key(engine, organizer=org),
        online=online,
        website=make_website(engine, organizer=org, licence=online)["id"],
        mobile_app=make_mobile_app(engine, organizer=org, licence=online)["id"],
        hall=hall,
        establishment=establishment,
        equipment=make_equipment(engine, organizer=org, establishment=establishment)["id"],
    )

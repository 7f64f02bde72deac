"""Keyword-only builders of register entries, through the same service as the API."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

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

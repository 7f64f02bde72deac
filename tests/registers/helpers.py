"""Calls of the generated registers API, and request bodies, shared by the registers tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine

from dsom.registers import repository
from dsom.registers.declarations import REGISTERS

BASE = "/api/v1/registers"
GROUNDS = {"reason": "test"}
Headers = dict[str, str]


def url(register: str, *parts: str) -> str:
    """The API path of a register, or of something under it."""
    return "/".join((BASE, register, *parts))


def create(
    http: httpx.Client,
    headers: Headers,
    register: str,
    values: Any,
    *,
    grounds: Any = GROUNDS,
) -> httpx.Response:
    """POST a new entry."""
    return http.post(url(register), json={"values": values, "grounds": grounds}, headers=headers)


def patch(
    http: httpx.Client,
    headers: Headers,
    register: str,
    key: str,
    values: Any,
    *,
    grounds: Any = GROUNDS,
) -> httpx.Response:
    """PATCH an entry."""
    return http.patch(
        url(register, key), json={"values": values, "grounds": grounds}, headers=headers
    )


def set_status(
    http: httpx.Client,
    headers: Headers,
    register: str,
    key: str,
    status: Any,
    *,
    grounds: Any = GROUNDS,
) -> httpx.Response:
    """POST a status change."""
    return http.post(
        url(register, key, "status"), json={"status": status, "grounds": grounds}, headers=headers
    )


def created(response: httpx.Response) -> dict[str, Any]:
    """The entry of a 201 answer (fails the test with the body otherwise)."""
    assert response.status_code == 201, response.text
    entry: dict[str, Any] = response.json()
    return entry


def field_errors(response: httpx.Response) -> dict[str, str]:
    """The `{field: message}` of a 422 validation_failed answer."""
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_failed", error
    return {f["field"]: f["message"] for f in error["fields"]}


def count(db: Engine, register: str) -> int:
    """How many entries a register holds now."""
    with db.begin() as conn:
        return repository.count(conn, REGISTERS[register])


def today() -> str:
    """Today's date (UTC), ISO."""
    return datetime.now(UTC).date().isoformat()


def days_from_today(days: int) -> str:
    """A date `days` from today (UTC), ISO."""
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


def organizer_values(code: str, **overrides: Any) -> dict[str, Any]:
    """A valid organizer's values."""
    return {
        "edrpou": code,
        "name": "ТОВ «Тест»",
        "head_rnokpp": "1234567899",
        **overrides,
    }


def licence_values(organizer: str, **overrides: Any) -> dict[str, Any]:
    """A valid online-casino licence's values."""
    return {
        "number": "L-1",
        "organizer": organizer,
        "activity": "online_casino",
        "valid_from": days_from_today(-10),
        "valid_to": days_from_today(365),
        "decision": "Рішення № 7",
        **overrides,
    }


def establishment_values(organizer: str, licence: str, **overrides: Any) -> dict[str, Any]:
    """A slot hall's values."""
    return {
        "organizer": organizer,
        "licence": licence,
        "kind": "slot_hall",
        "address": "м. Львів, пл. Ринок, 1",
        **overrides,
    }


def equipment_values(organizer: str, establishment: str, **overrides: Any) -> dict[str, Any]:
    """A slot machine's values."""
    return {
        "organizer": organizer,
        "establishment": establishment,
        "kind": "slot_machine",
        "manufacturer": "Novomatic",
        "model": "Dominator",
        "serial_number": "SN-1",
        "certificate": "UA.TR.1",
        **overrides,
    }


def website_values(organizer: str, licence: str, **overrides: Any) -> dict[str, Any]:
    """A website's values."""
    return {"organizer": organizer, "licence": licence, "domain": "casino.com.ua", **overrides}


def app_values(organizer: str, licence: str, **overrides: Any) -> dict[str, Any]:
    """A mobile app's values."""
    return {
        "organizer": organizer,
        "licence": licence,
        "platform": "android",
        "store_id": "ua.example.casino",
        **overrides,
    }

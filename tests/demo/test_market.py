"""The demo market: reproducible, complete, and every entry a valid register entry."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from dsom.auth.principal import SYSTEM
from dsom.demo.market import NotEmpty, generate, keys_file, load
from dsom.registers import service
from dsom.registers.declarations import ACTIVITIES, REGISTERS
from dsom.registers.models import CURRENT, HISTORY
from tests.builders import make_organizer

TODAY = date(2026, 11, 24)
SEEDED_AT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def test_same_seed_gives_the_same_market() -> None:
    first, second = generate(12, today=TODAY), generate(12, today=TODAY)
    assert first.rows == second.rows
    assert first.later_status == second.later_status


def test_another_seed_gives_another_market() -> None:
    assert generate(12, today=TODAY, seed=1).rows != generate(12, today=TODAY, seed=2).rows


def test_market_has_every_activity_and_every_kind_of_channel() -> None:
    market = generate(10, today=TODAY)
    assert {lic["activity"] for lic in market.rows["licences"]} == set(ACTIVITIES)
    for name in ("establishments", "equipment", "websites", "mobile_apps"):
        assert market.rows[name], f"no {name}"


def test_market_marks_one_suspended_organizer_and_some_suspended_and_inactive_entries() -> None:
    market = generate(15, today=TODAY)
    later = {(name, status) for name, _key, status in market.later_status}
    assert [k for name, k, s in market.later_status if name == "organizers"] == [
        market.rows["organizers"][2]["edrpou"]
    ]
    assert ("licences", "suspended") in later
    for name in ("establishments", "equipment", "websites", "mobile_apps"):
        assert (name, "inactive") in later
    first = market.rows["organizers"][0]["edrpou"]
    marked = {key for _name, key, _status in market.later_status}
    for name, rows in market.rows.items():
        key = REGISTERS[name].key
        for row in rows:
            if row[REGISTERS[name].organizer_field] == first:
                assert row[key] not in marked, "the first organizer stays fully active"


@pytest.mark.parametrize("organizers", [1, 2, 3])
def test_tiny_markets_are_generated(organizers: int) -> None:
    market = generate(organizers, today=TODAY)
    assert len(market.rows["organizers"]) == organizers


def test_active_licences_span_from_60_days_before_to_a_year_after_today() -> None:
    for lic in generate(15, today=TODAY).rows["licences"]:
        assert lic["valid_from"] <= TODAY - timedelta(days=60)
        assert lic["valid_to"] >= TODAY + timedelta(days=365)


def test_loaded_market_passes_every_rule_of_the_registers(db: Engine) -> None:
    market = generate(15, today=TODAY)
    with db.begin() as conn:
        load(conn, market, at=SEEDED_AT)
    cache = service.RefCache()
    with db.connect() as conn:
        for name, rows in market.rows.items():
            reg = REGISTERS[name]
            assert len(rows) == len(service.export_json(conn, reg, SYSTEM)["entries"])
            for row in rows:
                # Raises ValidationFailed naming the field if the generator broke a rule.
                service.validate(conn, reg, row, existing=None, allow_status=True, refs_cache=cache)


def test_load_records_later_statuses_as_a_second_version(db: Engine) -> None:
    market = generate(15, today=TODAY)
    with db.begin() as conn:
        load(conn, market, at=SEEDED_AT)
    number = next(k for name, k, s in market.later_status if (name, s) == ("licences", "suspended"))
    history = HISTORY["licences"]
    with db.connect() as conn:
        versions = conn.execute(
            select(history.c.version, history.c.status, history.c.recorded_at)
            .where(history.c.number == number)
            .order_by(history.c.version)
        ).all()
        assert [(v.version, v.status) for v in versions] == [(1, "active"), (2, "suspended")]
        assert service.licence_status_at(conn, number, SEEDED_AT - timedelta(days=1)) == "active"
        assert service.licence_status_at(conn, number, SEEDED_AT + timedelta(seconds=1)) == (
            "suspended"
        )
        licences = CURRENT["licences"]
        current = conn.execute(
            select(licences.c.status).where(licences.c.number == number)
        ).scalar_one()
    assert current == "suspended"


def test_keys_file_after_load_lists_the_statuses_in_force(db: Engine) -> None:
    market = generate(15, today=TODAY)
    with db.begin() as conn:
        load(conn, market, at=SEEDED_AT)
    keys = keys_file(market)
    statuses = {org["code"]: org["status"] for org in keys["organizers"]}
    assert statuses[market.rows["organizers"][2]["edrpou"]] == "suspended"
    suspended = {k for name, k, s in market.later_status if name == "licences"}
    listed = {
        lic["number"]
        for org in keys["organizers"]
        for lic in org["licenses"]
        if lic["status"] == "suspended"
    }
    assert listed == suspended


def test_load_refuses_a_database_that_holds_registers_data(db: Engine) -> None:
    make_organizer(db)
    with db.begin() as conn, pytest.raises(NotEmpty):
        load(conn, generate(2, today=TODAY))

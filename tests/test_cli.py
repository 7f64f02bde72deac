"""The `dsom` command, run as the real console script on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from dsom.auth.models import access_keys, api_tokens
from dsom.auth.tokens import create_token, principal_for_token
from dsom.demo.market import iter_channels
from dsom.kit.codes import is_valid_edrpou
from dsom.kit.db import make_engine
from dsom.kit.migrate import current_revision
from dsom.kit.time import KYIV, utcnow
from dsom.models import metadata
from dsom.registers import service
from dsom.registers.declarations import ACTIVITIES, CHANNEL_REGISTERS, REGISTERS
from dsom.registers.models import CURRENT, HISTORY
from tests.builders import make_organizer
from tests.conftest import Database, drop_postgres, fresh_postgres

DSOM = Path(sys.executable).parent / "dsom"
ORGANIZERS = "/api/v1/registers/organizers"


@dataclass
class Target:
    """A database the command runs on, and the working directory it runs in."""

    kind: str
    url: str
    cwd: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`dsom ARGS` with DSOM_DATABASE_URL pointing at this database."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("DSOM_")}
        env.update(DSOM_DATABASE_URL=self.url, PYTHONIOENCODING="utf-8", COLUMNS="200")
        return subprocess.run(
            [str(DSOM), *args],
            cwd=self.cwd,
            env=env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=120,
            check=False,
        )


def _said(result: subprocess.CompletedProcess[str]) -> str:
    """What the command printed on stderr, with rich's line wrapping undone."""
    return " ".join(result.stderr.split())


def _target(request: pytest.FixtureRequest, cwd: Path) -> Iterator[Target]:
    if request.param == "sqlite":
        yield Target("sqlite", f"sqlite:///{cwd}/x.db", cwd)
        return
    admin = request.getfixturevalue("postgres_admin")
    url = fresh_postgres(admin)
    yield Target("postgres", url, cwd)
    drop_postgres(admin, url)


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    """A new, empty database of each kind."""
    yield from _target(request, tmp_path)


@dataclass
class Seeded:
    """A database filled by one `dsom seed-demo --organizers 20` and what it wrote."""

    target: Target
    engine: Engine
    result: subprocess.CompletedProcess[str]
    keys_path: Path
    keys: dict[str, Any]
    started: datetime
    finished: datetime


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Seeded]:
    """Seeded once per kind of database; the tests that use it only read."""
    for target in _target(request, tmp_path_factory.mktemp("seeded")):
        started = utcnow()
        result = target.run("seed-demo", "--organizers", "20", "--keys-out", "keys.json")
        finished = utcnow()
        assert result.returncode == 0, result.stderr
        keys_path = target.cwd / "keys.json"
        engine = make_engine(target.url)
        keys = json.loads(keys_path.read_text(encoding="utf-8"))
        yield Seeded(target, engine, result, keys_path, keys, started, finished)
        engine.dispose()


def _snapshot(engine: Engine) -> dict[str, int]:
    """Rows in every table of DSOM."""
    with engine.connect() as conn:
        return {
            name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in metadata.tables.items()
        }


def _licences(keys: dict[str, Any]) -> list[dict[str, Any]]:
    return [lic for org in keys["organizers"] for lic in org["licenses"]]


def _channels(keys: dict[str, Any]) -> list[dict[str, Any]]:
    return [ch for _code, _number, ch in iter_channels(keys)]


# --- dsom db upgrade ----------------------------------------------------------------------


def test_db_upgrade_migrates_an_empty_database_to_head(target: Target) -> None:
    result = target.run("db", "upgrade")

    assert result.returncode == 0, result.stderr
    engine = make_engine(target.url)
    try:
        assert current_revision(engine) is not None
        assert _snapshot(engine) == dict.fromkeys(metadata.tables, 0)
    finally:
        engine.dispose()


def test_db_rebuild_rollups_recomputes_the_daily_rollups_from_the_hourly_ones(
    target: Target,
) -> None:
    assert target.run("db", "upgrade").returncode == 0
    engine = make_engine(target.url)
    hourly = metadata.tables["operations_hourly"]
    daily = metadata.tables["operations_daily"]
    # 21:00 and 22:00 UTC on 2026-11-23 are 23:00 on the 23rd and 00:00 on the 24th in Kyiv.
    hour = int(datetime(2026, 11, 23, 21, tzinfo=UTC).timestamp()) // 3600
    sums = {"count": 1, "amount": 500, "late": 0, "income_tax": 0, "military_levy": 0}
    try:
        with engine.begin() as conn:
            for n, h in enumerate((hour, hour + 1, hour + 1)):
                conn.execute(
                    hourly.insert().values(
                        organizer="12345678",
                        hour=h,
                        licence=f"L-{n}",
                        activity="online_casino",
                        type="bet",
                        **sums,
                    )
                )
            conn.execute(  # a wrong row, as a bad restore might leave
                daily.insert().values(
                    organizer="12345678",
                    day=date(2026, 1, 1),
                    activity="x",
                    type="bet",
                    **sums,
                )
            )
        result = target.run("db", "rebuild-rollups")
        assert result.returncode == 0, result.stderr
        with engine.connect() as conn:
            rows = conn.execute(
                select(daily.c.day, daily.c.count, daily.c.amount).order_by(daily.c.day)
            ).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [(date(2026, 11, 23), 1, 500), (date(2026, 11, 24), 2, 1000)]


# --- dsom seed-demo: the keys file --------------------------------------------------------


def test_seed_demo_writes_the_keys_file_in_the_documented_shape(seeded: Seeded) -> None:
    organizers = seeded.keys["organizers"]
    assert set(seeded.keys) == {"organizers", "people"}
    assert len(organizers) == 20
    for org in organizers:
        assert set(org) == {"code", "name", "status", "api_key", "licenses"}
        assert isinstance(org["name"], str)
        assert org["name"]
        assert org["status"] in REGISTERS["organizers"].statuses
        assert isinstance(org["api_key"], str)
        assert org["api_key"].startswith("dsomk_")
        for lic in org["licenses"]:
            # number, activity, status and channels as documented; the validity dates
            # are an addition of this implementation.
            assert set(lic) - {"valid_from", "valid_to"} == {
                "number",
                "activity",
                "status",
                "channels",
            }
            assert lic["activity"] in ACTIVITIES
            assert lic["status"] in REGISTERS["licences"].statuses
            for channel in lic["channels"]:
                assert set(channel) == {"kind", "id", "status"}
                assert channel["kind"] in CHANNEL_REGISTERS
                assert channel["status"] in ("active", "inactive")
    ids = [(ch["kind"], ch["id"]) for ch in _channels(seeded.keys)]
    assert len(ids) == len(set(ids))


def test_seed_demo_market_has_every_activity_and_online_and_land_based_channels(
    seeded: Seeded,
) -> None:
    assert {lic["activity"] for lic in _licences(seeded.keys)} == set(ACTIVITIES)
    kinds = {ch["kind"] for ch in _channels(seeded.keys)}
    assert {"website", "mobile_app"} <= kinds  # online
    assert {"establishment", "equipment"} <= kinds  # land-based


def test_seed_demo_marks_one_suspended_organizer_suspended_licences_and_inactive_channels(
    seeded: Seeded,
) -> None:
    statuses = Counter(org["status"] for org in seeded.keys["organizers"])
    assert statuses["suspended"] == 1
    assert Counter(lic["status"] for lic in _licences(seeded.keys))["suspended"] >= 2
    inactive = {ch["kind"] for ch in _channels(seeded.keys) if ch["status"] == "inactive"}
    assert inactive & {"website", "mobile_app"}
    assert inactive & {"establishment", "equipment"}


def test_seed_demo_organizer_codes_are_valid_edrpou(seeded: Seeded) -> None:
    codes = [org["code"] for org in seeded.keys["organizers"]]
    assert len(set(codes)) == len(codes)
    assert all(is_valid_edrpou(code) for code in codes)


def test_seed_demo_registers_hold_what_the_keys_file_lists(seeded: Seeded) -> None:
    keys = seeded.keys
    listed = {
        "organizers": {org["code"]: org["status"] for org in keys["organizers"]},
        "licences": {lic["number"]: lic["status"] for lic in _licences(keys)},
    }
    for kind, reg in CHANNEL_REGISTERS.items():
        listed[reg.name] = {ch["id"]: ch["status"] for ch in _channels(keys) if ch["kind"] == kind}
    with seeded.engine.connect() as conn:
        stored = {
            name: {
                row[0]: row[1]
                for row in conn.execute(select(CURRENT[name].c[reg.key], CURRENT[name].c.status))
            }
            for name, reg in REGISTERS.items()
        }
        equipment = CURRENT["equipment"]
        establishment_of = {
            row.id: row.establishment
            for row in conn.execute(select(equipment.c.id, equipment.c.establishment))
        }
    for name in REGISTERS:
        assert set(listed[name]) == set(stored[name]), name
    for name in ("organizers", "licences", "establishments", "websites", "mobile_apps"):
        assert listed[name] == stored[name], name
    for equipment_id, status in listed["equipment"].items():
        # Equipment works only while its establishment does: listed inactive with it.
        works = (
            stored["equipment"][equipment_id] == "active"
            and stored["establishments"][establishment_of[equipment_id]] == "active"
        )
        assert status == ("active" if works else "inactive"), equipment_id


def test_seed_demo_writes_the_demo_pki_and_lists_its_people(seeded: Seeded) -> None:
    from cryptography.hazmat.primitives.serialization import pkcs12

    from dsom.people.models import organizer_registrations, people
    from dsom.qes import pki
    from dsom.qes.cms import CmsVerifier
    from dsom.qes.trust import TrustStore

    folder = seeded.keys_path.parent / "pki"
    listed = seeded.keys["people"]
    assert {p["role"] for p in listed} == {
        "regulator_admin",
        "regulator",
        "tax",
        "organizer_head",
        "organizer_representative",
    }
    verifier = CmsVerifier(TrustStore([folder / "ca.pem"], [folder / "crl.pem"]))
    heads = {o["code"]: o for o in seeded.keys["organizers"]}
    for person in listed:
        assert set(person) == {"role", "name", "rnokpp", "edrpou", "key_file"}
        key, cert, _cas = pkcs12.load_key_and_certificates(
            (seeded.keys_path.parent / person["key_file"]).read_bytes(), b"demo"
        )
        signed = pki.sign_cms(b"challenge", pki.Issued(cert, key))  # type: ignore[arg-type]
        signer = verifier.verify(signed, b"challenge", utcnow())
        assert (signer.rnokpp, signer.edrpou) == (person["rnokpp"], person["edrpou"])
        if person["edrpou"] is not None:
            assert person["edrpou"] in heads
    with seeded.engine.connect() as conn:
        stored = {(r.rnokpp, r.role, r.organizer) for r in conn.execute(select(people))}
        assert conn.execute(select(organizer_registrations)).all() == []
    # Officials and representatives exist in advance; heads register at their first login.
    assert stored == {
        (p["rnokpp"], p["role"], p["edrpou"]) for p in listed if p["role"] != "organizer_head"
    }


def test_seed_demo_shows_its_progress_on_stderr(seeded: Seeded) -> None:
    said = _said(seeded.result)
    assert "seeding" in said
    assert "seeded 20 organizers" in said
    assert "keys.json" in said


# --- dsom seed-demo: the registers' history -----------------------------------------------


def test_seed_demo_suspends_licences_from_the_moment_of_seeding(seeded: Seeded) -> None:
    suspended = [lic["number"] for lic in _licences(seeded.keys) if lic["status"] == "suspended"]
    history = HISTORY["licences"]
    with seeded.engine.connect() as conn:
        for number in suspended:
            versions = conn.execute(
                select(history.c.version, history.c.status, history.c.recorded_at)
                .where(history.c.number == number)
                .order_by(history.c.version)
            ).all()
            assert [(v.version, v.status) for v in versions] == [(1, "active"), (2, "suspended")]
            assert all(seeded.started <= v.recorded_at <= seeded.finished for v in versions)
            day_before = seeded.started - timedelta(days=1)
            assert service.licence_status_at(conn, number, day_before) == "active"
            after = seeded.finished + timedelta(seconds=1)
            assert service.licence_status_at(conn, number, after) == "suspended"


def test_seed_demo_active_licences_run_from_60_days_before_to_a_year_after_seeding(
    seeded: Seeded,
) -> None:
    licences = CURRENT["licences"]
    first_day = seeded.started.astimezone(KYIV).date()
    last_day = seeded.finished.astimezone(KYIV).date()
    with seeded.engine.connect() as conn:
        active = conn.execute(select(licences).where(licences.c.status == "active")).all()
        assert active
        for lic in active:
            assert lic.valid_from <= last_day - timedelta(days=60), lic.number
            assert lic.valid_to >= first_day + timedelta(days=365), lic.number
            for at in (
                seeded.started - timedelta(days=59),
                seeded.finished + timedelta(days=365),
            ):
                assert service.licence_status_at(conn, lic.number, at) == "active", lic.number


# --- dsom seed-demo on a database that is not empty ---------------------------------------


def test_seed_demo_refuses_a_database_that_is_not_empty_and_changes_nothing(
    seeded: Seeded,
) -> None:
    before = _snapshot(seeded.engine)
    keys_before = seeded.keys_path.read_bytes()

    result = seeded.target.run("seed-demo", "--organizers", "5", "--keys-out", "again.json")

    assert result.returncode != 0
    said = _said(result)
    assert "already holds" in said
    assert "--reset" in said
    assert not (seeded.target.cwd / "again.json").exists()
    assert seeded.keys_path.read_bytes() == keys_before
    assert _snapshot(seeded.engine) == before


def test_seed_demo_reset_replaces_the_market(target: Target) -> None:
    first = target.run("seed-demo", "--organizers", "6", "--keys-out", "keys.json")
    assert first.returncode == 0, first.stderr

    again = target.run("seed-demo", "--organizers", "3", "--keys-out", "keys.json", "--reset")

    assert again.returncode == 0, again.stderr
    keys = json.loads((target.cwd / "keys.json").read_text(encoding="utf-8"))
    assert len(keys["organizers"]) == 3
    engine = make_engine(target.url)
    try:
        counts = _snapshot(engine)
    finally:
        engine.dispose()
    assert counts["organizers"] == 3
    assert counts["licences"] == len(_licences(keys))
    # The first market's people are gone with it; only the new demo people remain.
    assert counts["people"] == sum(1 for p in keys["people"] if p["role"] != "organizer_head")
    # Only the new market's versions remain: one each, plus the statuses set at seeding.
    later = sum(1 for org in keys["organizers"] if org["status"] == "suspended") + sum(
        1 for lic in _licences(keys) if lic["status"] == "suspended"
    )
    assert counts["organizers_history"] + counts["licences_history"] == (
        counts["organizers"] + counts["licences"] + later
    )


# --- dsom tokens --------------------------------------------------------------------------


def _on(database: Database, tmp_path: Path) -> Target:
    return Target(database.kind, database.url, tmp_path)


def test_tokens_create_json_prints_a_token_that_works_and_is_stored_hashed(
    http: httpx.Client, database: Database, tmp_path: Path
) -> None:
    result = _on(database, tmp_path).run("tokens", "create", "--role", "tax", "--json")

    assert result.returncode == 0, result.stderr
    issued = json.loads(result.stdout)
    assert {"id", "token", "role"} <= set(issued)
    assert issued["role"] == "tax"
    headers = {"Authorization": f"Bearer {issued['token']}"}
    assert http.get(ORGANIZERS, headers=headers).status_code == 200
    refused = http.post(
        ORGANIZERS, json={"values": {}, "grounds": {"reason": "test"}}, headers=headers
    )
    assert refused.status_code == 403
    with database.engine.connect() as conn:
        row = conn.execute(select(api_tokens).where(api_tokens.c.id == issued["id"])).one()
    assert row.token_hash == hashlib.sha256(issued["token"].encode()).hexdigest()
    assert all(issued["token"] not in str(value) for value in row)


def test_tokens_create_refuses_an_unknown_role_with_a_clear_message(
    http: httpx.Client, database: Database, tmp_path: Path
) -> None:
    result = _on(database, tmp_path).run("tokens", "create", "--role", "admin")

    assert result.returncode != 0
    assert "regulator, tax" in _said(result)
    assert result.stdout == ""
    with database.engine.connect() as conn:
        assert conn.execute(select(api_tokens)).first() is None


def test_tokens_revoke_refuses_the_token_from_then_on(
    http: httpx.Client, database: Database, tmp_path: Path
) -> None:
    with database.engine.begin() as conn:
        issued = create_token(conn, role="regulator", name="to revoke")
    headers = {"Authorization": f"Bearer {issued.token}"}
    assert http.get(ORGANIZERS, headers=headers).status_code == 200
    cli = _on(database, tmp_path)

    result = cli.run("tokens", "revoke", issued.id)

    assert result.returncode == 0, result.stderr
    assert http.get(ORGANIZERS, headers=headers).status_code == 401
    with database.engine.begin() as conn:
        assert principal_for_token(conn, issued.token) is None
    again = cli.run("tokens", "revoke", issued.id)
    assert again.returncode != 0
    assert issued.id in _said(again)


# --- dsom keys ----------------------------------------------------------------------------


def test_keys_create_json_prints_a_secret_stored_only_as_its_hash(
    http: httpx.Client, database: Database, tmp_path: Path
) -> None:
    organizer = make_organizer(database.engine)["edrpou"]

    result = _on(database, tmp_path).run("keys", "create", "--organizer", organizer, "--json")

    assert result.returncode == 0, result.stderr
    issued = json.loads(result.stdout)
    assert {"id", "secret"} <= set(issued)
    assert issued["organizer"] == organizer
    with database.engine.connect() as conn:
        row = conn.execute(select(access_keys).where(access_keys.c.id == issued["id"])).one()
    assert row.key_hash == hashlib.sha256(issued["secret"].encode()).hexdigest()
    assert all(issued["secret"] not in str(value) for value in row)


def test_keys_create_for_an_unknown_organizer_fails_clearly(
    http: httpx.Client, database: Database, tmp_path: Path
) -> None:
    result = _on(database, tmp_path).run("keys", "create", "--organizer", "14360570")

    assert result.returncode != 0
    assert "no organizer 14360570" in _said(result)
    assert result.stdout == ""


def test_keys_deactivate_marks_the_key_and_refuses_a_second_time(
    http: httpx.Client, database: Database, tmp_path: Path
) -> None:
    organizer = make_organizer(database.engine)["edrpou"]
    cli = _on(database, tmp_path)
    issued = json.loads(cli.run("keys", "create", "--organizer", organizer, "--json").stdout)

    result = cli.run("keys", "deactivate", issued["id"])

    assert result.returncode == 0, result.stderr
    with database.engine.connect() as conn:
        row = conn.execute(select(access_keys).where(access_keys.c.id == issued["id"])).one()
    assert row.deactivated_at is not None
    again = cli.run("keys", "deactivate", issued["id"])
    assert again.returncode != 0
    assert issued["id"] in _said(again)

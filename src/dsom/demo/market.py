"""`dsom seed-demo`: a realistic, reproducible demo market and its keys file."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, inspect

from dsom.demo import names
from dsom.kit.codes import make_edrpou, make_rnokpp
from dsom.kit.errors import DomainError
from dsom.kit.time import KYIV, utcnow
from dsom.models import metadata
from dsom.registers import repository as repo
from dsom.registers.declarations import (
    ESTABLISHMENT_KIND_OF,
    ESTABLISHMENTS,
    EQUIPMENT,
    LICENCES,
    MOBILE_APPS,
    ORGANIZERS,
    REGISTERS,
    WEBSITES,
)

ACTOR = "system:seed-demo (DSOM demo market)"
LICENCE_PREFIX = {"casino_establishment": "CE", "online_casino": "OC", "bookmaking": "BK",
                  "slot_hall": "SH", "online_poker": "OP"}
# Business profiles: which activities an organizer holds. Cycled so every activity appears.
PROFILES: tuple[tuple[str, ...], ...] = (
    ("online_casino",), ("bookmaking",), ("slot_hall",), ("casino_establishment", "online_casino"),
    ("online_poker", "online_casino"), ("bookmaking", "online_casino"), ("slot_hall",),
    ("casino_establishment",), ("online_casino",), ("bookmaking", "online_poker"),
)
EQUIPMENT_PER_ESTABLISHMENT = {"casino": (8, 30), "slot_hall": (12, 40), "bookmaker_point": (1, 4)}


class NotEmpty(DomainError):
    status_code = 409
    code = "not_empty"


@dataclass
class Market:
    """A generated market: the entries of each register and the statuses to apply after."""

    rows: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {name: [] for name in REGISTERS})
    # (register, key, status) applied as a second version at the moment of seeding.
    later_status: list[tuple[str, str, str]] = field(default_factory=list)

    def count(self) -> int:
        """Entries in all registers."""
        return sum(len(v) for v in self.rows.values())


def generate(organizers: int, *, today: date, seed: int = 2026) -> Market:
    """A reproducible market of `organizers` organizers around `today`."""
    rnd = random.Random(seed)
    market = Market()
    counters = dict.fromkeys(("EST", "EQP", "WEB", "APP"), 0)
    used_domains: set[str] = set()
    licence_serial = 0

    def next_id(prefix: str) -> str:
        counters[prefix] += 1
        return f"{prefix}-{counters[prefix]:06d}"

    for i in range(organizers):
        code = make_edrpou(4_000_000 + i)
        brand = names.BRANDS[i % len(names.BRANDS)]
        suffix = names.SUFFIXES[(i // len(names.BRANDS)) % len(names.SUFFIXES)]
        generation = i // (len(names.BRANDS) * len(names.SUFFIXES))
        trade = f"{brand} {suffix}" + (f" {generation + 1}" if generation else "")
        city, postcode, streets = rnd.choice(names.CITIES)
        first = rnd.choice(names.FIRST_NAMES)
        patronymic = rnd.choice(names.PATRONYMICS_F if first in names.FEMALE else names.PATRONYMICS_M)
        latin = names.BRAND_LATIN[brand] + {"Гейм": "game", "Бет": "bet", "Плей": "play",
                                            "Ентертейнмент": "ent", "Груп": "group",
                                            "Геймінг": "gaming", "Спорт": "sport",
                                            "Клаб": "club"}[suffix] + (str(generation + 1) if generation else "")
        market.rows["organizers"].append({
            "edrpou": code,
            "name": f"{rnd.choice(names.LEGAL_FORMS)} «{trade}»",
            "head_rnokpp": make_rnokpp(301_000_000 + i * 137),
            "head_name": f"{rnd.choice(names.SURNAMES)} {first} {patronymic}",
            "address": f"{postcode}, {city}, {rnd.choice(streets)}, {rnd.randint(1, 120)}",
            "email": f"compliance@{latin}.ua",
            "phone": f"+38044{rnd.randint(1_000_000, 9_999_999)}",
            "status": "active",
        })
        for activity in PROFILES[i % len(PROFILES)]:
            licence_serial += 1
            number = f"{LICENCE_PREFIX[activity]}-{today.year}-{licence_serial:06d}"
            issued = today - timedelta(days=rnd.randint(60, 700))
            market.rows["licences"].append({
                "number": number, "organizer": code, "activity": activity,
                "valid_from": issued, "valid_to": issued + timedelta(days=5 * 365),
                "decision": f"Рішення PlayCity № {rnd.randint(100, 999)} від {issued.isoformat()}",
                "status": "active",
            })
            land = activity in ESTABLISHMENT_KIND_OF
            online = activity in ("online_casino", "online_poker", "bookmaking")
            if land:
                kind = ESTABLISHMENT_KIND_OF[activity]
                for _ in range(rnd.randint(1, 4 if kind != "bookmaker_point" else 6)):
                    est_id = next_id("EST")
                    e_city, e_post, e_streets = rnd.choice(names.CITIES)
                    market.rows["establishments"].append({
                        "id": est_id, "organizer": code, "licence": number, "kind": kind,
                        "name": f"{brand} — {e_city.removeprefix('м. ')}",
                        "address": f"{e_post}, {e_city}, {rnd.choice(e_streets)}, {rnd.randint(1, 200)}",
                        "status": "active",
                    })
                    low, high = EQUIPMENT_PER_ESTABLISHMENT[kind]
                    for _ in range(rnd.randint(low, high)):
                        eq_id = next_id("EQP")
                        eq_kind = _equipment_kind(rnd, kind)
                        maker, models = rnd.choice(names.MANUFACTURERS)
                        market.rows["equipment"].append({
                            "id": eq_id, "organizer": code, "establishment": est_id,
                            "kind": eq_kind, "manufacturer": maker, "model": rnd.choice(models),
                            "serial_number": f"{maker[:2].upper()}{counters['EQP']:08d}",
                            "certificate": f"UA.TR.{rnd.randint(1000, 9999)}-{counters['EQP']:06d}",
                            "status": "active",
                        })
            if online:
                tld = rnd.choice(("ua", "com.ua"))
                stem = {"online_casino": "casino", "online_poker": "poker",
                        "bookmaking": "bet"}[activity]
                for n in range(rnd.randint(1, 2)):
                    domain = f"{latin}-{stem}{n + 1 if n else ''}.{tld}"
                    if domain in used_domains:
                        continue
                    used_domains.add(domain)
                    market.rows["websites"].append({
                        "id": next_id("WEB"), "organizer": code, "licence": number,
                        "domain": domain, "status": "active"})
                for platform in rnd.sample(("android", "ios"), rnd.randint(0, 2)):
                    market.rows["mobile_apps"].append({
                        "id": next_id("APP"), "organizer": code, "licence": number,
                        "platform": platform, "store_id": f"ua.{latin}.{stem}",
                        "name": f"{brand} {stem.capitalize()}", "status": "active"})

    _mark_for_testing(market, rnd)
    return market


def _equipment_kind(rnd: random.Random, establishment_kind: str) -> str:
    if establishment_kind == "bookmaker_point":
        return "terminal"
    if establishment_kind == "slot_hall":
        return "slot_machine" if rnd.random() < 0.9 else "terminal"
    return rnd.choices(("slot_machine", "roulette", "card_table", "dice_table", "terminal"),
                       weights=(60, 10, 20, 5, 5))[0]


def _mark_for_testing(market: Market, rnd: random.Random) -> None:
    """A few suspended licences, inactive channels, a suspended and two pending organizers."""
    organizers = market.rows["organizers"]
    if len(organizers) >= 3:
        market.later_status.append(("organizers", organizers[2]["edrpou"], "suspended"))
    for org in organizers[3:5] if len(organizers) >= 5 else ():
        org["status"] = "pending"  # not yet registered with DSOM by their head
    share = 0.03
    for name, status in (("licences", "suspended"), ("establishments", "inactive"),
                         ("equipment", "inactive"), ("websites", "inactive"),
                         ("mobile_apps", "inactive")):
        rows = market.rows[name]
        if not rows:
            continue
        key = REGISTERS[name].key
        # Never the first organizer's entries: it stays a clean, fully active example.
        first_org = organizers[0]["edrpou"]
        candidates = [r for r in rows if r["organizer"] != first_org]
        count = min(len(candidates), max(2, round(len(rows) * share)))
        for row in rnd.sample(candidates, count):
            market.later_status.append((name, row[key], status))


def is_empty(conn: Connection) -> bool:
    """Whether no register has any entry."""
    return all(repo.count(conn, reg) == 0 for reg in REGISTERS.values())


def reset(conn: Connection) -> None:
    """Empty every table of DSOM (the schema and its version stay)."""
    existing = set(inspect(conn).get_table_names())
    for table in reversed(metadata.sorted_tables):
        if table.name in existing:
            conn.execute(delete(table))


Progress = Callable[[str, int, int], None]


def load(conn: Connection, market: Market, *, at: datetime | None = None,
         progress: Progress | None = None, chunk: int = 2000) -> None:
    """Record the market in the registers: every entry with its history, then the statuses."""
    if not is_empty(conn):
        raise NotEmpty("the database already holds registers data; "
                       "run `dsom seed-demo --reset` to empty it first")
    at = at or utcnow()
    meta = repo.ChangeMeta(at=at, action="create", actor=ACTOR,
                           decision=None, reason="demo market")
    total = market.count() + len(market.later_status)
    done = 0
    for reg in (ORGANIZERS, LICENCES, ESTABLISHMENTS, EQUIPMENT, WEBSITES, MOBILE_APPS):
        rows = market.rows[reg.name]
        for start in range(0, len(rows), chunk):
            part = rows[start:start + chunk]
            repo.insert_entries(conn, reg, part, meta)
            done += len(part)
            if progress:
                progress(reg.title_en, done, total)
        if reg.key_prefix and rows:
            repo.note_key(conn, reg, max(r[reg.key] for r in rows))
    later = repo.ChangeMeta(at=at + timedelta(microseconds=1), action="status", actor=ACTOR,
                            decision=None, reason="demo market: for testing the rules")
    by_key = {name: {r[REGISTERS[name].key]: r for r in rows} for name, rows in market.rows.items()}
    for name, key, status in market.later_status:
        reg = REGISTERS[name]
        row = by_key[name][key]
        repo.update_entry(conn, reg, key, {**row, "status": status}, 1, later)
        row["status"] = status
        done += 1
    if progress:
        progress("statuses", done, total)


def keys_file(market: Market, api_keys: dict[str, str | None] | None = None) -> dict[str, Any]:
    """The keys file of interfaces.md: each organizer, its key, licences and channels."""
    api_keys = api_keys or {}
    licences_of: dict[str, list[dict[str, Any]]] = {}
    for lic in market.rows["licences"]:
        licences_of.setdefault(lic["organizer"], []).append(lic)
    channels_of: dict[str, list[dict[str, Any]]] = {}
    establishment_of = {e["id"]: e for e in market.rows["establishments"]}
    for kind, name, licence_of in (
        ("website", "websites", lambda r: r["licence"]),
        ("mobile_app", "mobile_apps", lambda r: r["licence"]),
        ("establishment", "establishments", lambda r: r["licence"]),
        ("equipment", "equipment", lambda r: establishment_of[r["establishment"]]["licence"]),
    ):
        for row in market.rows[name]:
            status = row["status"]
            if kind == "equipment" and establishment_of[row["establishment"]]["status"] != "active":
                status = "inactive"  # equipment works only while its establishment does
            channel = {"kind": kind, "id": row["id"], "status": status}
            channels_of.setdefault(licence_of(row), []).append(channel)
    return {"organizers": [
        {"code": org["edrpou"], "name": org["name"], "status": org["status"],
         "api_key": api_keys.get(org["edrpou"]),
         "licenses": [
             {"number": lic["number"], "activity": lic["activity"], "status": lic["status"],
              "valid_from": lic["valid_from"].isoformat(), "valid_to": lic["valid_to"].isoformat(),
              "channels": channels_of.get(lic["number"], [])}
             for lic in licences_of.get(org["edrpou"], [])]}
        for org in market.rows["organizers"]]}


def today_in_kyiv() -> date:
    """The seeding day, in Kyiv."""
    return utcnow().astimezone(KYIV).date()


def iter_channels(keys: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(organizer code, licence number, channel) for every channel in a keys file."""
    for org in keys["organizers"]:
        for lic in org["licenses"]:
            for ch in lic["channels"]:
                yield org["code"], lic["number"], ch

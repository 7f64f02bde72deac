"""`dsom seed-demo`: a realistic, reproducible demo market and its keys file."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, inspect

from dsom.demo import names
from dsom.kit.codes import make_edrpou, make_rnokpp
from dsom.kit.errors import DomainError
from dsom.kit.time import utcnow
from dsom.models import metadata
from dsom.registers import repository as repo
from dsom.registers.declarations import (
    EQUIPMENT,
    ESTABLISHMENT_KIND_OF,
    ESTABLISHMENTS,
    LICENCES,
    MOBILE_APPS,
    ORGANIZERS,
    REGISTERS,
    WEBSITES,
)

ACTOR = "system:seed-demo (DSOM demo market)"
LICENCE_PREFIX = {
    "casino_establishment": "CE",
    "online_casino": "OC",
    "bookmaking": "BK",
    "slot_hall": "SH",
    "online_poker": "OP",
}
# Business profiles: which activities an organizer holds. Cycled so every activity appears.
PROFILES: tuple[tuple[str, ...], ...] = (
    ("online_casino",),
    ("bookmaking",),
    ("slot_hall",),
    ("casino_establishment", "online_casino"),
    ("online_poker", "online_casino"),
    ("bookmaking", "online_casino"),
    ("slot_hall",),
    ("casino_establishment",),
    ("online_casino",),
    ("bookmaking", "online_poker"),
)
EQUIPMENT_PER_ESTABLISHMENT = {"casino": (8, 30), "slot_hall": (12, 40), "bookmaker_point": (1, 4)}


class NotEmpty(DomainError):
    status_code = 409
    code = "not_empty"


@dataclass
class Market:
    """A generated market: the entries of each register and the statuses to apply after."""

    rows: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {name: [] for name in REGISTERS}
    )
    # (register, key, status) applied as a second version at the moment of seeding.
    later_status: list[tuple[str, str, str]] = field(default_factory=list)

    def count(self) -> int:
        """Entries in all registers."""
        return sum(len(v) for v in self.rows.values())


LATIN_SUFFIX = {
    "Гейм": "game",
    "Бет": "bet",
    "Плей": "play",
    "Ентертейнмент": "ent",
    "Груп": "group",
    "Геймінг": "gaming",
    "Спорт": "sport",
    "Клаб": "club",
}
ONLINE_STEM = {"online_casino": "casino", "online_poker": "poker", "bookmaking": "bet"}


def generate(organizers: int, *, today: date, seed: int = 2026) -> Market:
    """A reproducible market of `organizers` organizers around `today`."""
    builder = _Builder(random.Random(seed), today)
    for i in range(organizers):
        builder.organizer(i)
    _mark_for_testing(builder.market, builder.rnd)
    return builder.market


@dataclass
class _Builder:
    rnd: random.Random
    today: date
    market: Market = field(default_factory=Market)
    counters: dict[str, int] = field(default_factory=dict)
    used_domains: set[str] = field(default_factory=set)

    def next_id(self, prefix: str) -> str:
        self.counters[prefix] = self.counters.get(prefix, 0) + 1
        return f"{prefix}-{self.counters[prefix]:06d}"

    def add(self, register: str, row: dict[str, Any]) -> None:
        self.market.rows[register].append(row)

    def organizer(self, i: int) -> None:
        rnd = self.rnd
        code = make_edrpou(4_000_000 + i)
        brand = names.BRANDS[i % len(names.BRANDS)]
        suffix = names.SUFFIXES[(i // len(names.BRANDS)) % len(names.SUFFIXES)]
        generation = i // (len(names.BRANDS) * len(names.SUFFIXES))
        tail = str(generation + 1) if generation else ""
        city, postcode, streets = rnd.choice(names.CITIES)
        first = rnd.choice(names.FIRST_NAMES)
        female = first in names.FEMALE
        patronymic = rnd.choice(names.PATRONYMICS_F if female else names.PATRONYMICS_M)
        latin = names.BRAND_LATIN[brand] + LATIN_SUFFIX[suffix] + tail
        trade = f"{brand} {suffix} {tail}".strip()
        self.add(
            "organizers",
            {
                "edrpou": code,
                "name": f"{rnd.choice(names.LEGAL_FORMS)} «{trade}»",
                "head_rnokpp": make_rnokpp(301_000_000 + i * 137),
                "head_name": f"{rnd.choice(names.SURNAMES)} {first} {patronymic}",
                "address": f"{postcode}, {city}, {rnd.choice(streets)}, {rnd.randint(1, 120)}",
                "email": f"compliance@{latin}.ua",
                "phone": f"+38044{rnd.randint(1_000_000, 9_999_999)}",
                "status": "active",
            },
        )
        for activity in PROFILES[i % len(PROFILES)]:
            number = self.licence(code, activity)
            if activity in ESTABLISHMENT_KIND_OF:
                self.establishments(code, number, brand, ESTABLISHMENT_KIND_OF[activity])
            if activity in ONLINE_STEM:
                self.online_channels(code, number, brand, latin, ONLINE_STEM[activity])

    def licence(self, code: str, activity: str) -> str:
        number = f"{LICENCE_PREFIX[activity]}-{self.today.year}-{self.next_id('LIC')[4:]}"
        issued = self.today - timedelta(days=self.rnd.randint(60, 700))
        decision = f"Рішення PlayCity № {self.rnd.randint(100, 999)} від {issued.isoformat()}"
        self.add(
            "licences",
            {
                "number": number,
                "organizer": code,
                "activity": activity,
                "valid_from": issued,
                "valid_to": issued + timedelta(days=5 * 365),
                "decision": decision,
                "status": "active",
            },
        )
        return number

    def establishments(self, code: str, licence: str, brand: str, kind: str) -> None:
        rnd = self.rnd
        for _ in range(rnd.randint(1, 6 if kind == "bookmaker_point" else 4)):
            est_id = self.next_id("EST")
            city, postcode, streets = rnd.choice(names.CITIES)
            street = f"{rnd.choice(streets)}, {rnd.randint(1, 200)}"
            self.add(
                "establishments",
                {
                    "id": est_id,
                    "organizer": code,
                    "licence": licence,
                    "kind": kind,
                    "name": f"{brand} — {city.removeprefix('м. ')}",
                    "address": f"{postcode}, {city}, {street}",
                    "status": "active",
                },
            )
            low, high = EQUIPMENT_PER_ESTABLISHMENT[kind]
            for _ in range(rnd.randint(low, high)):
                self.equipment(code, est_id, kind)

    def equipment(self, code: str, establishment: str, establishment_kind: str) -> None:
        eq_id = self.next_id("EQP")
        serial = self.counters["EQP"]
        maker, models = self.rnd.choice(names.MANUFACTURERS)
        self.add(
            "equipment",
            {
                "id": eq_id,
                "organizer": code,
                "establishment": establishment,
                "kind": _equipment_kind(self.rnd, establishment_kind),
                "manufacturer": maker,
                "model": self.rnd.choice(models),
                "serial_number": f"{maker[:2].upper()}{serial:08d}",
                "certificate": f"UA.TR.{self.rnd.randint(1000, 9999)}-{serial:06d}",
                "status": "active",
            },
        )

    def online_channels(self, code: str, licence: str, brand: str, latin: str, stem: str) -> None:
        rnd = self.rnd
        tld = rnd.choice(("ua", "com.ua"))
        for n in range(rnd.randint(1, 2)):
            domain = f"{latin}-{stem}{n + 1 if n else ''}.{tld}"
            if domain not in self.used_domains:
                self.used_domains.add(domain)
                self.add(
                    "websites",
                    {
                        "id": self.next_id("WEB"),
                        "organizer": code,
                        "licence": licence,
                        "domain": domain,
                        "status": "active",
                    },
                )
        for platform in rnd.sample(("android", "ios"), rnd.randint(0, 2)):
            self.add(
                "mobile_apps",
                {
                    "id": self.next_id("APP"),
                    "organizer": code,
                    "licence": licence,
                    "platform": platform,
                    "store_id": f"ua.{latin}.{stem}",
                    "name": f"{brand} {stem.capitalize()}",
                    "status": "active",
                },
            )


def _equipment_kind(rnd: random.Random, establishment_kind: str) -> str:
    if establishment_kind == "bookmaker_point":
        return "terminal"
    if establishment_kind == "slot_hall":
        return "slot_machine" if rnd.random() < 0.9 else "terminal"
    return rnd.choices(
        ("slot_machine", "roulette", "card_table", "dice_table", "terminal"),
        weights=(60, 10, 20, 5, 5),
    )[0]


def _mark_for_testing(market: Market, rnd: random.Random) -> None:
    """A few suspended licences, inactive channels, a suspended and two pending organizers."""
    organizers = market.rows["organizers"]
    if len(organizers) >= 3:
        market.later_status.append(("organizers", organizers[2]["edrpou"], "suspended"))
    for org in organizers[3:5] if len(organizers) >= 5 else ():
        org["status"] = "pending"  # not yet registered with DSOM by their head
    share = 0.03
    for name, status in (
        ("licences", "suspended"),
        ("establishments", "inactive"),
        ("equipment", "inactive"),
        ("websites", "inactive"),
        ("mobile_apps", "inactive"),
    ):
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


def load(
    conn: Connection,
    market: Market,
    *,
    at: datetime | None = None,
    progress: Progress | None = None,
    chunk: int = 2000,
) -> None:
    """Record the market in the registers: every entry with its history, then the statuses."""
    if not is_empty(conn):
        raise NotEmpty(
            "the database already holds registers data; "
            "run `dsom seed-demo --reset` to empty it first"
        )
    at = at or utcnow()
    meta = repo.ChangeMeta(at=at, action="create", actor=ACTOR, decision=None, reason="demo market")
    total = market.count() + len(market.later_status)
    done = 0
    for reg in (ORGANIZERS, LICENCES, ESTABLISHMENTS, EQUIPMENT, WEBSITES, MOBILE_APPS):
        rows = market.rows[reg.name]
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            repo.insert_entries(conn, reg, part, meta)
            done += len(part)
            if progress:
                progress(reg.title_en, done, total)
        if reg.key_prefix and rows:
            repo.note_key(conn, reg, max(r[reg.key] for r in rows))
    later = repo.ChangeMeta(
        at=at + timedelta(microseconds=1),
        action="status",
        actor=ACTOR,
        decision=None,
        reason="demo market: for testing the rules",
    )
    by_key = {name: {r[REGISTERS[name].key]: r for r in rows} for name, rows in market.rows.items()}
    for name, key, status in market.later_status:
        reg = REGISTERS[name]
        row = by_key[name][key]
        repo.update_entry(conn, reg, key, {**row, "status": status}, 1, later)
        row["status"] = status
        done += 1
    if progress:
        progress("statuses", done, total)


def issue_keys(conn: Connection, market: Market) -> dict[str, str]:
    """One access key for every demo organizer (suspended and pending ones too)."""
    from dsom.auth.keys import create_key

    return {
        org["edrpou"]: create_key(
            conn, organizer=org["edrpou"], name="demo key", created_by=ACTOR
        ).secret
        for org in market.rows["organizers"]
    }


def keys_file(market: Market, api_keys: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The keys file of interfaces.md: each organizer, its key, licences and channels."""
    api_keys = api_keys or {}
    licences_of: dict[str, list[dict[str, Any]]] = {}
    for lic in market.rows["licences"]:
        licences_of.setdefault(lic["organizer"], []).append(lic)
    channels_of: dict[str, list[dict[str, Any]]] = {}
    establishment_of = {e["id"]: e for e in market.rows["establishments"]}

    def licence_of(row: dict[str, Any]) -> str:
        if "licence" in row:
            return str(row["licence"])
        return str(establishment_of[row["establishment"]]["licence"])

    for kind, name in (
        ("website", "websites"),
        ("mobile_app", "mobile_apps"),
        ("establishment", "establishments"),
        ("equipment", "equipment"),
    ):
        for row in market.rows[name]:
            status = row["status"]
            if kind == "equipment" and establishment_of[row["establishment"]]["status"] != "active":
                status = "inactive"  # equipment works only while its establishment does
            channel = {"kind": kind, "id": row["id"], "status": status}
            channels_of.setdefault(licence_of(row), []).append(channel)
    return {
        "organizers": [
            {
                "code": org["edrpou"],
                "name": org["name"],
                "status": org["status"],
                "api_key": api_keys.get(org["edrpou"]),
                "licenses": [
                    {
                        "number": lic["number"],
                        "activity": lic["activity"],
                        "status": lic["status"],
                        "valid_from": lic["valid_from"].isoformat(),
                        "valid_to": lic["valid_to"].isoformat(),
                        "channels": channels_of.get(lic["number"], []),
                    }
                    for lic in licences_of.get(org["edrpou"], [])
                ],
            }
            for org in market.rows["organizers"]
        ]
    }


def iter_channels(keys: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(organizer code, licence number, channel) for every channel in a keys file."""
    for org in keys["organizers"]:
        for lic in org["licenses"]:
            for ch in lic["channels"]:
                yield org["code"], lic["number"], ch

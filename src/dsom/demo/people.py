"""The demo's people and their key files: a demo CA, one PKCS#12 file per person.

`dsom seed-demo` writes, beside the keys file, a folder `pki/` with `ca.pem` (the
demo CA, which DSOM trusts by default), `crl.pem` (its empty revocation list) and
one `<role>-<name>.p12` (password `demo`) for each demo person: a regulator
administrator, two regulator officials, two tax officials, and the head and one
representative of the first three active organizers, plus the head of the first
pending organizer (who registers it at their first login).

Officials and the three representatives (with two or three rights each) are
created in `people`; heads are not: they become people at their first login, as
interfaces.md says. ECDSA P-256 keys for most people (fast to make), RSA-2048 for
one person of every role, so both algorithms are shown.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from dsom.auth.permissions import Permission, Role
from dsom.demo import names
from dsom.kit.codes import make_rnokpp
from dsom.kit.time import utcnow
from dsom.people import repository as people_repo
from dsom.qes import pki

ACTOR = "system:seed-demo (DSOM demo market)"
PKI_FOLDER = "pki"
OFFICIALS = ((Role.REGULATOR_ADMIN, 1), (Role.REGULATOR, 2), (Role.TAX, 2))
RIGHTS_CYCLE = (
    frozenset({Permission.REGISTERS_READ_OWN, Permission.REPORTS_OWN}),
    frozenset({Permission.REGISTERS_READ_OWN, Permission.KEYS_MANAGE}),
    frozenset({Permission.REGISTERS_READ_OWN, Permission.KEYS_MANAGE, Permission.REPORTS_OWN}),
)
# Ukrainian to Latin (the national transliteration, simplified), for key files' names.
# fmt: off
TRANSLIT = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ie", "ж": "zh",
    "з": "z", "и": "y", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n",
    "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ю": "iu", "я": "ia",
}
# fmt: on


@dataclass(frozen=True)
class DemoPerson:
    """A demo person: who they are, their key's algorithm, and their file's name."""

    role: Role
    name: str
    rnokpp: str
    edrpou: str | None
    organization: str | None
    key_kind: pki.KeyKind
    rights: frozenset[Permission]
    file_name: str

    @property
    def created_in_advance(self) -> bool:
        """Officials and representatives exist before they log in; heads register."""
        return self.role is not Role.ORGANIZER_HEAD


def _latin(text: str) -> str:
    word = "".join(TRANSLIT.get(c, c) for c in text.lower().replace(" ", "-"))
    return "".join(c for c in word if c.isascii() and (c.isalnum() or c == "-")).strip("-")


def _person_name(rnd: random.Random) -> str:
    first = rnd.choice(names.FIRST_NAMES)
    patronymics = names.PATRONYMICS_F if first in names.FEMALE else names.PATRONYMICS_M
    return f"{rnd.choice(names.SURNAMES)} {first} {rnd.choice(patronymics)}"


def demo_people(organizers: list[dict[str, Any]], *, seed: int = 2026) -> list[DemoPerson]:
    """The demo's people for the organizers of a demo market (as loaded: final statuses)."""
    rnd = random.Random(seed)
    people: list[DemoPerson] = []
    used: set[str] = set()

    def add(
        role: Role,
        name: str,
        rnokpp: str,
        org: dict[str, Any] | None,
        key_kind: pki.KeyKind,
        rights: frozenset[Permission] = frozenset(),
    ) -> None:
        stem = _latin(name.split(maxsplit=1)[0])
        if org is not None:
            stem = f"{stem}-{org['edrpou']}"
        file_name = f"{role.value}-{stem}.p12"
        n = 2
        while file_name in used:
            file_name, n = f"{role.value}-{stem}-{n}.p12", n + 1
        used.add(file_name)
        people.append(
            DemoPerson(
                role=role,
                name=name,
                rnokpp=rnokpp,
                edrpou=org["edrpou"] if org else None,
                organization=org["name"] if org else None,
                key_kind=key_kind,
                rights=rights,
                file_name=file_name,
            )
        )

    serial = 0
    for role, count in OFFICIALS:
        for i in range(count):
            serial += 1
            # One RSA key per role: the administrator, the second regulator, the first tax official.
            rsa = i == (1 if role is Role.REGULATOR else 0)
            rnokpp = make_rnokpp(150_000_000 + serial * 7)
            add(role, _person_name(rnd), rnokpp, None, "rsa" if rsa else "ecdsa")
    active = [o for o in organizers if o["status"] == "active"][:3]
    pending = [o for o in organizers if o["status"] == "pending"][:1]
    for i, org in enumerate(active + pending):
        head_kind: pki.KeyKind = "rsa" if i == 0 else "ecdsa"
        add(Role.ORGANIZER_HEAD, org["head_name"], org["head_rnokpp"], org, head_kind)
        if org["status"] == "active":
            add(
                Role.ORGANIZER_REPRESENTATIVE,
                _person_name(rnd),
                make_rnokpp(450_000_000 + i * 11),
                org,
                "rsa" if i == 1 else "ecdsa",
                RIGHTS_CYCLE[i % len(RIGHTS_CYCLE)],
            )
    return people


def write_pki(people: list[DemoPerson], folder: Path) -> None:
    """The demo CA (`ca.pem`), its empty CRL (`crl.pem`) and each person's key file."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.p12"):
        old.unlink()  # a re-seeded demo has new people: no stale key files
    ca = pki.make_ca()
    for person in people:
        issued = pki.make_person(
            ca,
            name=person.name,
            rnokpp=person.rnokpp,
            edrpou=person.edrpou,
            organization=person.organization,
            key_kind=person.key_kind,
        )
        (folder / person.file_name).write_bytes(pki.p12(issued, [ca.cert], name=person.name))
    (folder / "crl.pem").write_bytes(pki.crl_pem(pki.make_crl(ca)))
    # Last, so that a server watching ca.pem sees a complete set of files when it changes.
    (folder / "ca.pem").write_bytes(ca.cert_pem())


def create_people(conn: Connection, people: list[DemoPerson]) -> None:
    """Officials and representatives in `people` (heads register at their first login)."""
    now = utcnow()
    for person in people:
        if person.created_in_advance:
            people_repo.insert_person(
                conn,
                rnokpp=person.rnokpp,
                name=person.name,
                role=person.role,
                organizer=person.edrpou,
                rights=person.rights,
                created_by=ACTOR,
                at=now,
            )


def keys_file_entries(people: list[DemoPerson]) -> list[dict[str, Any]]:
    """The keys file's `"people"` (interfaces.md); key files relative to the keys file."""
    return [
        {
            "role": p.role.value,
            "name": p.name,
            "rnokpp": p.rnokpp,
            "edrpou": p.edrpou,
            "key_file": f"{PKI_FOLDER}/{p.file_name}",
        }
        for p in people
    ]

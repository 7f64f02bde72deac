"""The demo's people and their key files: every role, both algorithms, files PKI.js reads."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from dsom.auth.permissions import REPRESENTATIVE_RIGHTS, Role
from dsom.demo.market import generate
from dsom.demo.people import DemoPerson, demo_people, keys_file_entries, write_pki
from dsom.kit.time import utcnow
from dsom.qes import pki
from dsom.qes.cms import CmsVerifier
from dsom.qes.trust import TrustStore

TODAY = date(2026, 11, 24)


@pytest.fixture(scope="module")
def market_people() -> tuple[list[dict[str, object]], list[DemoPerson]]:
    organizers = generate(20, today=TODAY).rows["organizers"]
    return organizers, demo_people(organizers)


@pytest.fixture(scope="module")
def written(
    market_people: tuple[list[dict[str, object]], list[DemoPerson]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    folder = tmp_path_factory.mktemp("demo") / "pki"
    write_pki(market_people[1], folder)
    return folder


def test_every_demo_role_has_people(
    market_people: tuple[list[dict[str, object]], list[DemoPerson]],
) -> None:
    roles = Counter(p.role for p in market_people[1])
    assert roles == {
        Role.REGULATOR_ADMIN: 1,
        Role.REGULATOR: 2,
        Role.TAX: 2,
        Role.ORGANIZER_HEAD: 4,
        Role.ORGANIZER_REPRESENTATIVE: 3,
    }


def test_heads_are_the_registers_heads_of_three_active_and_one_pending_organizer(
    market_people: tuple[list[dict[str, object]], list[DemoPerson]],
) -> None:
    organizers, people = market_people
    by_code = {o["edrpou"]: o for o in organizers}
    heads = [p for p in people if p.role is Role.ORGANIZER_HEAD]
    assert [by_code[h.edrpou]["status"] for h in heads] == ["active"] * 3 + ["pending"]
    for head in heads:
        assert head.rnokpp == by_code[head.edrpou]["head_rnokpp"]
        assert not head.created_in_advance
    reps = [p for p in people if p.role is Role.ORGANIZER_REPRESENTATIVE]
    assert {r.edrpou for r in reps} == {h.edrpou for h in heads[:3]}
    for rep in reps:
        assert rep.created_in_advance
        assert rep.rights
        assert rep.rights <= REPRESENTATIVE_RIGHTS


def test_each_role_has_an_rsa_key_and_most_people_ecdsa(
    market_people: tuple[list[dict[str, object]], list[DemoPerson]],
) -> None:
    people = market_people[1]
    assert {p.role for p in people if p.key_kind == "rsa"} == set(Role) - {Role.ORGANIZER_SYSTEM}
    assert sum(p.key_kind == "ecdsa" for p in people) > len(people) / 2


def test_people_are_the_same_for_the_same_market(
    market_people: tuple[list[dict[str, object]], list[DemoPerson]],
) -> None:
    organizers, people = market_people
    assert demo_people(organizers) == people
    names = [p.file_name for p in people]
    assert len(names) == len(set(names))


def test_keys_file_entries_have_the_documented_shape(
    market_people: tuple[list[dict[str, object]], list[DemoPerson]],
) -> None:
    for entry in keys_file_entries(market_people[1]):
        assert set(entry) == {"role", "name", "rnokpp", "edrpou", "key_file"}
        assert entry["key_file"].startswith("pki/")
        assert entry["key_file"].endswith(".p12")
        assert entry["key_file"].removeprefix("pki/").startswith(f"{entry['role']}-")
        assert (entry["edrpou"] is None) == (
            entry["role"] in {"regulator", "regulator_admin", "tax"}
        )


def test_key_files_open_with_password_demo_and_sign_what_the_demo_ca_verifies(
    market_people: tuple[list[dict[str, object]], list[DemoPerson]], written: Path
) -> None:
    verifier = CmsVerifier(TrustStore([written / "ca.pem"], [written / "crl.pem"]))
    ca_pem = (written / "ca.pem").read_bytes()
    for person in market_people[1]:
        key, cert, cas = pkcs12.load_key_and_certificates(
            (written / person.file_name).read_bytes(), b"demo"
        )
        assert key is not None
        assert cert is not None
        assert isinstance(
            key, rsa.RSAPrivateKey if person.key_kind == "rsa" else ec.EllipticCurvePrivateKey
        )
        assert [c.public_bytes(pki.serialization.Encoding.PEM) for c in cas] == [ca_pem]
        challenge = b"dsom-login-demo"
        signer = verifier.verify(
            pki.sign_cms(challenge, pki.Issued(cert, key)),
            challenge,
            utcnow(),  # type: ignore[arg-type]
        )
        assert (signer.rnokpp, signer.edrpou, signer.name) == (
            person.rnokpp,
            person.edrpou,
            person.name,
        )


def test_key_files_use_pbes2_with_aes_256_and_a_sha256_mac(
    market_people: tuple[list[dict[str, object]], list[DemoPerson]], written: Path
) -> None:
    from asn1crypto import pkcs12 as asn1_pkcs12

    data = (written / market_people[1][0].file_name).read_bytes()
    pfx = asn1_pkcs12.Pfx.load(data)
    assert pfx["mac_data"]["mac"]["digest_algorithm"]["algorithm"].native == "sha256"
    algorithms = set()
    for content in pfx.authenticated_safe:
        if content["content_type"].native == "encrypted_data":
            algo = content["content"]["encrypted_content_info"]["content_encryption_algorithm"]
            algorithms.add(algo.encryption_cipher + "/" + str(algo.key_length))
        else:
            for bag in asn1_pkcs12.SafeContents.load(content["content"].native):
                if bag["bag_id"].native == "pkcs8_shrouded_key_bag":
                    algo = bag["bag_value"]["encryption_algorithm"]
                    algorithms.add(algo.encryption_cipher + "/" + str(algo.key_length))
    assert algorithms == {"aes/32"}

"""The QES verifier: which CMS signatures and certificates it accepts, and each refusal's code."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from dsom.kit.time import utcnow
from dsom.qes import pki
from dsom.qes.cms import CmsVerifier
from dsom.qes.trust import TrustConfigError, TrustStore
from dsom.qes.verifier import QesRefused, Signer
from tests.qes.helpers import EDRPOU, RNOKPP, TrustedCa, write

CHALLENGE = b"dsom-login-test-challenge"


@pytest.fixture(scope="module")
def trusted(tmp_path_factory: pytest.TempPathFactory) -> TrustedCa:
    """One trusted CA for the module (making keys is the slow part)."""
    return TrustedCa(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def ecdsa_person(trusted: TrustedCa) -> pki.Issued:
    """A person with a company certificate and an ECDSA P-256 key."""
    return trusted.person(edrpou=EDRPOU, organization="ТОВ «Тест»")


@pytest.fixture(scope="module")
def rsa_person(trusted: TrustedCa) -> pki.Issued:
    """A person with a company certificate and an RSA-2048 key."""
    return trusted.person(edrpou=EDRPOU, organization="ТОВ «Тест»", key_kind="rsa")


def verify(verifier: CmsVerifier, der: bytes, content: bytes = CHALLENGE) -> Signer:
    return verifier.verify(der, content, utcnow())


def refused(verifier: CmsVerifier, der: bytes, content: bytes = CHALLENGE) -> QesRefused:
    with pytest.raises(QesRefused) as caught:
        verifier.verify(der, content, utcnow())
    return caught.value


# --- what is accepted ---------------------------------------------------------------------


@pytest.mark.parametrize("attached", [True, False], ids=["attached", "detached"])
@pytest.mark.parametrize("signed_attributes", [True, False], ids=["attrs", "no-attrs"])
@pytest.mark.parametrize("key", ["ecdsa", "ecdsa-p384", "rsa"])
def test_valid_signature_is_accepted_and_names_the_signer(
    trusted: TrustedCa,
    rsa_person: pki.Issued,
    key: str,
    attached: bool,
    signed_attributes: bool,
) -> None:
    person = rsa_person if key == "rsa" else trusted.person(edrpou=EDRPOU, key_kind=key)
    digest: Any = "sha384" if key == "ecdsa-p384" else "sha256"
    der = pki.sign_cms(
        CHALLENGE, person, attached=attached, signed_attributes=signed_attributes, digest=digest
    )

    signer = verify(trusted.verifier(), der)

    assert (signer.rnokpp, signer.edrpou) == (RNOKPP, EDRPOU)
    assert signer.name == "Шевченко Тарас Григорович"
    assert signer.algorithm == ("rsa" if key == "rsa" else "ecdsa")
    assert signer.serial == f"{person.cert.serial_number:x}"


@pytest.mark.parametrize("signed_attributes", [True, False])
def test_rsa_pss_signature_is_accepted(
    trusted: TrustedCa, rsa_person: pki.Issued, signed_attributes: bool
) -> None:
    der = pki.sign_cms(CHALLENGE, rsa_person, pss=True, signed_attributes=signed_attributes)
    assert verify(trusted.verifier(), der).algorithm == "rsa-pss"


def test_signer_named_by_subject_key_identifier_is_found(
    trusted: TrustedCa, ecdsa_person: pki.Issued
) -> None:
    der = pki.sign_cms(CHALLENGE, ecdsa_person, sid_by_key_id=True)
    assert verify(trusted.verifier(), der).rnokpp == RNOKPP


def test_signature_without_signing_certificate_attribute_is_accepted(
    trusted: TrustedCa, ecdsa_person: pki.Issued
) -> None:
    der = pki.sign_cms(CHALLENGE, ecdsa_person, signing_certificate_v2=False)
    assert verify(trusted.verifier(), der).rnokpp == RNOKPP


def test_intermediate_ca_carried_in_the_signature_completes_the_chain(trusted: TrustedCa) -> None:
    intermediate = pki.make_ca("Test intermediate CA", issuer=trusted.ca)
    person = pki.make_person(intermediate, name="Мельник Ірина", rnokpp=RNOKPP)

    carried = pki.sign_cms(CHALLENGE, person, extra_certs=[intermediate.cert])
    assert verify(trusted.verifier(), carried).rnokpp == RNOKPP

    missing = pki.sign_cms(CHALLENGE, person)
    assert refused(trusted.verifier(), missing).code == "untrusted_certificate"


def test_a_ca_that_did_not_sign_the_intermediate_does_not_complete_the_chain(
    trusted: TrustedCa,
) -> None:
    stranger = pki.make_ca("Stranger CA")
    # Same name as the trusted CA, different key: a forged intermediate's issuer.
    impostor = pki.make_ca(trusted.ca.cert.subject.rfc4514_string())
    fake_intermediate = pki.make_ca("Fake intermediate", issuer=impostor)
    person = pki.make_person(fake_intermediate, name="Мельник Ірина", rnokpp=RNOKPP)
    der = pki.sign_cms(CHALLENGE, person, extra_certs=[fake_intermediate.cert, stranger.cert])
    assert refused(trusted.verifier(), der).code == "untrusted_certificate"


def test_certificate_not_signed_by_the_carried_intermediate_is_refused(trusted: TrustedCa) -> None:
    real = pki.make_ca("Test intermediate CA", issuer=trusted.ca)
    impostor = pki.make_ca("Test intermediate CA")  # the same name, its own key
    person = pki.make_person(impostor, name="Мельник Ірина", rnokpp=RNOKPP)
    der = pki.sign_cms(CHALLENGE, person, extra_certs=[real.cert])
    assert refused(trusted.verifier(), der).code == "untrusted_certificate"


def test_certificate_issued_by_a_person_rather_than_a_ca_is_refused(
    trusted: TrustedCa, ecdsa_person: pki.Issued
) -> None:
    # A trusted person's key "issues" a certificate: only CAs may issue certificates.
    issued = pki.make_person(ecdsa_person, name="Мельник Ірина", rnokpp="1111111118")
    der = pki.sign_cms(CHALLENGE, issued, extra_certs=[ecdsa_person.cert])
    assert refused(trusted.verifier(), der).code == "untrusted_certificate"


# --- identity -----------------------------------------------------------------------------


def test_identity_only_in_the_extension_is_read(trusted: TrustedCa) -> None:
    person = trusted.person(edrpou=EDRPOU, identity_in_subject=False)
    subject = person.cert.subject
    assert not subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    signer = verify(trusted.verifier(), pki.sign_cms(CHALLENGE, person))
    assert (signer.rnokpp, signer.edrpou) == (RNOKPP, EDRPOU)


def test_identity_only_in_the_subject_fields_is_read(trusted: TrustedCa) -> None:
    person = trusted.person(edrpou=EDRPOU, identity_in_extension=False)
    with pytest.raises(x509.ExtensionNotFound):
        person.cert.extensions.get_extension_for_oid(x509.ObjectIdentifier("2.5.29.9"))
    signer = verify(trusted.verifier(), pki.sign_cms(CHALLENGE, person))
    assert (signer.rnokpp, signer.edrpou) == (RNOKPP, EDRPOU)


def test_the_extension_comes_before_the_subject_fields(trusted: TrustedCa) -> None:
    key = pki.make_key()
    in_subject = trusted.person(rnokpp="1111111118", identity_in_extension=False, key=key)
    # Rebuild with both: the extension naming RNOKPP, the subject another number.
    both = pki.make_person(trusted.ca, name="Шевченко Тарас", rnokpp=RNOKPP, key=key)
    assert in_subject.cert.subject != both.cert.subject
    mixed = x509.CertificateBuilder(
        issuer_name=both.cert.issuer,
        subject_name=in_subject.cert.subject,
        public_key=key.public_key(),
        serial_number=x509.random_serial_number(),
        not_valid_before=both.cert.not_valid_before_utc,
        not_valid_after=both.cert.not_valid_after_utc,
        extensions=list(both.cert.extensions),
    ).sign(trusted.ca.key, pki._hash_for(trusted.ca.key))

    signer = verify(trusted.verifier(), pki.sign_cms(CHALLENGE, pki.Issued(mixed, key)))

    assert signer.rnokpp == RNOKPP


def test_a_personal_certificate_has_no_edrpou(trusted: TrustedCa) -> None:
    signer = verify(trusted.verifier(), pki.sign_cms(CHALLENGE, trusted.person()))
    assert signer.rnokpp == RNOKPP
    assert signer.edrpou is None


def test_name_is_given_name_and_surname_without_a_common_name(trusted: TrustedCa) -> None:
    key = pki.make_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.GIVEN_NAME, "Леся"),
                    x509.NameAttribute(NameOID.SURNAME, "Українка"),
                    x509.NameAttribute(NameOID.SERIAL_NUMBER, f"TINUA-{RNOKPP}"),
                ]
            )
        )
        .issuer_name(trusted.ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(utcnow() - timedelta(days=1))
        .not_valid_after(utcnow() + timedelta(days=1))
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), True
        )
        .sign(trusted.ca.key, pki._hash_for(trusted.ca.key))
    )
    signer = verify(trusted.verifier(), pki.sign_cms(CHALLENGE, pki.Issued(cert, key)))
    assert signer.name == "Леся Українка"
    assert signer.rnokpp == RNOKPP


# --- bad_signature ------------------------------------------------------------------------


@pytest.mark.parametrize("attached", [True, False], ids=["attached", "detached"])
@pytest.mark.parametrize("signed_attributes", [True, False], ids=["attrs", "no-attrs"])
def test_signature_of_other_content_is_a_bad_signature(
    trusted: TrustedCa, ecdsa_person: pki.Issued, attached: bool, signed_attributes: bool
) -> None:
    der = pki.sign_cms(
        b"another challenge", ecdsa_person, attached=attached, signed_attributes=signed_attributes
    )
    failure = refused(trusted.verifier(), der)
    assert failure.code == "bad_signature"
    assert failure.signer is not None  # the audit log still learns whose certificate it was
    assert failure.signer.rnokpp == RNOKPP


@pytest.mark.parametrize("signed_attributes", [True, False])
@pytest.mark.parametrize("key", ["ecdsa", "rsa"])
def test_signature_made_with_another_key_is_a_bad_signature(
    trusted: TrustedCa,
    ecdsa_person: pki.Issued,
    rsa_person: pki.Issued,
    key: str,
    signed_attributes: bool,
) -> None:
    person = rsa_person if key == "rsa" else ecdsa_person
    forger = pki.Issued(person.cert, pki.make_key(key))  # type: ignore[arg-type]
    der = pki.sign_cms(CHALLENGE, forger, signed_attributes=signed_attributes)
    assert refused(trusted.verifier(), der).code == "bad_signature"


def test_tampered_signature_bytes_are_a_bad_signature(
    trusted: TrustedCa, ecdsa_person: pki.Issued
) -> None:
    der = bytearray(pki.sign_cms(CHALLENGE, ecdsa_person))
    der[-5] ^= 0x01  # inside the signature value, the last field
    assert refused(trusted.verifier(), bytes(der)).code == "bad_signature"


@pytest.mark.parametrize(
    "der",
    [b"", b"not a signature at all", b"\x30\x03\x02\x01\x01", b"\x30\x80" * 20],
    ids=["empty", "text", "a-sequence", "indefinite"],
)
def test_undecodable_signature_is_a_bad_signature_with_a_message(
    trusted: TrustedCa, der: bytes
) -> None:
    failure = refused(trusted.verifier(), der)
    assert failure.code == "bad_signature"
    assert "CMS" in failure.message or "signature" in failure.message


def test_signature_without_the_signers_certificate_is_a_bad_signature(
    trusted: TrustedCa, ecdsa_person: pki.Issued
) -> None:
    der = pki.sign_cms(CHALLENGE, ecdsa_person, include_signer_cert=False)
    failure = refused(trusted.verifier(), der)
    assert failure.code == "bad_signature"
    assert "certificate" in failure.message


def test_signing_certificate_v2_naming_another_certificate_is_refused(
    trusted: TrustedCa, ecdsa_person: pki.Issued
) -> None:
    other = trusted.person(rnokpp="1111111118")
    der = pki.sign_cms(CHALLENGE, ecdsa_person, certify=other.cert)
    failure = refused(trusted.verifier(), der)
    assert failure.code == "bad_signature"
    assert "signing_certificate_v2" in failure.message


def test_cms_signed_data_with_two_signers_is_refused(
    trusted: TrustedCa, ecdsa_person: pki.Issued
) -> None:
    from asn1crypto import cms

    one = cms.ContentInfo.load(pki.sign_cms(CHALLENGE, ecdsa_person))
    infos = one["content"]["signer_infos"]
    two = cms.ContentInfo(
        {
            "content_type": "signed_data",
            "content": {
                **{k: one["content"][k] for k in ("version", "digest_algorithms")},
                "encap_content_info": one["content"]["encap_content_info"],
                "certificates": one["content"]["certificates"],
                "signer_infos": [infos[0], infos[0]],
            },
        }
    )
    assert refused(trusted.verifier(), two.dump()).code == "bad_signature"


# --- untrusted_certificate ----------------------------------------------------------------


def test_certificate_from_an_untrusted_ca_is_refused(trusted: TrustedCa) -> None:
    stranger = pki.make_ca("Untrusted CA")
    person = pki.make_person(stranger, name="Мельник Ірина", rnokpp=RNOKPP)
    failure = refused(trusted.verifier(), pki.sign_cms(CHALLENGE, person))
    assert failure.code == "untrusted_certificate"
    assert failure.signer is not None


def test_certificate_from_a_ca_with_the_trusted_name_but_another_key_is_refused(
    trusted: TrustedCa,
) -> None:
    impostor = pki.make_ca(
        trusted.ca.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    )  # type: ignore[arg-type]
    assert impostor.cert.subject == trusted.ca.cert.subject
    person = pki.make_person(impostor, name="Мельник Ірина", rnokpp=RNOKPP)
    assert refused(trusted.verifier(), pki.sign_cms(CHALLENGE, person)).code == (
        "untrusted_certificate"
    )


def test_certificate_without_digital_signature_usage_is_refused(trusted: TrustedCa) -> None:
    person = trusted.person(digital_signature=False)
    failure = refused(trusted.verifier(), pki.sign_cms(CHALLENGE, person))
    assert failure.code == "untrusted_certificate"
    assert "digital signature" in failure.message


def test_no_trusted_ca_at_all_refuses_every_certificate(
    tmp_path: Path, ecdsa_person: pki.Issued
) -> None:
    verifier = CmsVerifier(TrustStore([tmp_path / "absent.pem"], cas_required=False))
    failure = refused(verifier, pki.sign_cms(CHALLENGE, ecdsa_person))
    assert failure.code == "untrusted_certificate"
    assert "DSOM_QES_TRUSTED_CAS" in failure.message


# --- certificate_expired ------------------------------------------------------------------


def test_expired_certificate_is_refused(trusted: TrustedCa) -> None:
    now = utcnow()
    person = trusted.person(not_before=now - timedelta(days=400), not_after=now - timedelta(days=1))
    failure = refused(trusted.verifier(), pki.sign_cms(CHALLENGE, person))
    assert failure.code == "certificate_expired"
    assert "expired" in failure.message


def test_certificate_not_yet_valid_is_refused(trusted: TrustedCa) -> None:
    now = utcnow()
    person = trusted.person(not_before=now + timedelta(days=1), not_after=now + timedelta(days=9))
    assert refused(trusted.verifier(), pki.sign_cms(CHALLENGE, person)).code == (
        "certificate_expired"
    )


def test_expired_intermediate_ca_is_refused(trusted: TrustedCa) -> None:
    now = utcnow()
    old = pki.make_ca(
        "Old intermediate",
        issuer=trusted.ca,
        not_before=now - timedelta(days=900),
        not_after=now - timedelta(days=1),
    )
    person = pki.make_person(old, name="Мельник Ірина", rnokpp=RNOKPP)
    der = pki.sign_cms(CHALLENGE, person, extra_certs=[old.cert])
    failure = refused(trusted.verifier(), der)
    assert failure.code == "certificate_expired"
    assert "CA certificate" in failure.message


# --- certificate_revoked and the CRL ------------------------------------------------------


def test_certificate_on_the_crl_is_refused_and_others_are_not(tmp_path: Path) -> None:
    test_pki = TrustedCa(tmp_path)
    revoked, kept = test_pki.person(), test_pki.person(rnokpp="1111111118")
    test_pki.revoke(revoked.cert)
    verifier = test_pki.verifier()

    assert refused(verifier, pki.sign_cms(CHALLENGE, revoked)).code == "certificate_revoked"
    assert verify(verifier, pki.sign_cms(CHALLENGE, kept)).rnokpp == "1111111118"


def test_a_new_crl_file_is_read_when_it_changes(tmp_path: Path) -> None:
    test_pki = TrustedCa(tmp_path)
    person = test_pki.person()
    verifier = test_pki.verifier()
    assert verify(verifier, pki.sign_cms(CHALLENGE, person)).rnokpp == RNOKPP

    test_pki.revoke(person.cert)

    assert refused(verifier, pki.sign_cms(CHALLENGE, person)).code == "certificate_revoked"


def test_crl_not_signed_by_its_ca_is_refused_at_start(tmp_path: Path) -> None:
    test_pki = TrustedCa(tmp_path)
    forged = pki.make_crl(test_pki.ca, signing_key=pki.make_key())
    write(test_pki.crl_file, pki.crl_pem(forged))
    with pytest.raises(TrustConfigError, match="not signed by that CA"):
        test_pki.store()


def test_forged_crl_written_later_is_refused_and_the_previous_one_stays(tmp_path: Path) -> None:
    test_pki = TrustedCa(tmp_path)
    person = test_pki.person()
    test_pki.revoke(person.cert)
    verifier = test_pki.verifier()
    # Someone replaces the CRL with one that un-revokes the person, signed by another key.
    write(test_pki.crl_file, pki.crl_pem(pki.make_crl(test_pki.ca, signing_key=pki.make_key())))

    assert refused(verifier, pki.sign_cms(CHALLENGE, person)).code == "certificate_revoked"


def test_crl_of_an_intermediate_that_does_not_verify_makes_the_chain_untrusted(
    tmp_path: Path,
) -> None:
    test_pki = TrustedCa(tmp_path)
    intermediate = pki.make_ca("Test intermediate CA", issuer=test_pki.ca)
    person = pki.make_person(intermediate, name="Мельник Ірина", rnokpp=RNOKPP)
    crl = tmp_path / "intermediate.pem"
    good = pki.make_crl(intermediate, [person.cert])
    write(crl, pki.crl_pem(good))
    verifier = CmsVerifier(TrustStore([test_pki.ca_file], [crl]))
    der = pki.sign_cms(CHALLENGE, person, extra_certs=[intermediate.cert])
    assert refused(verifier, der).code == "certificate_revoked"

    write(crl, pki.crl_pem(pki.make_crl(intermediate, signing_key=pki.make_key())))

    assert refused(verifier, der).code == "untrusted_certificate"


def test_a_configured_file_that_is_missing_is_an_error_at_start(tmp_path: Path) -> None:
    with pytest.raises(TrustConfigError, match="does not exist"):
        TrustStore([tmp_path / "missing.pem"])


def test_the_optional_demo_ca_is_trusted_once_it_appears(
    tmp_path: Path, ecdsa_person: pki.Issued, trusted: TrustedCa
) -> None:
    ca_file = tmp_path / "pki" / "ca.pem"
    verifier = CmsVerifier(TrustStore([ca_file], cas_required=False))
    der = pki.sign_cms(CHALLENGE, ecdsa_person)
    assert refused(verifier, der).code == "untrusted_certificate"

    ca_file.parent.mkdir()
    write(ca_file, trusted.ca.cert_pem())

    assert verify(verifier, der).rnokpp == RNOKPP

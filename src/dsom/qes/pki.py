"""A demo public-key infrastructure: a CA, people's certificates and key files, CRLs, and
CMS signatures made in Python.

`dsom seed-demo` uses it to write the demo CA and one PKCS#12 key file per demo
person; the tests use it to make every kind of certificate and signature the
verifier must accept or refuse. Nothing here is for production keys.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from dsom.kit.time import utcnow
from dsom.qes.identity import (
    DRFO_CODE,
    EDRPOU_CODE,
    ORGANIZATION_IDENTIFIER,
    SUBJECT_DIRECTORY_ATTRIBUTES,
    DirectoryAttribute,
    DirectoryAttributes,
)

KeyKind = Literal["ecdsa", "ecdsa-p384", "rsa"]
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
DEMO_PASSWORD = b"demo"
CA_NAME = "DSOM Demo QTSP (not a qualified provider)"


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key."""

    cert: x509.Certificate
    key: PrivateKey

    def cert_pem(self) -> bytes:
        """The certificate in PEM."""
        return self.cert.public_bytes(serialization.Encoding.PEM)


def make_key(kind: KeyKind = "ecdsa") -> PrivateKey:
    """A new private key: ECDSA P-256 (fast), ECDSA P-384, or RSA-2048."""
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP384R1() if kind == "ecdsa-p384" else ec.SECP256R1())


def _hash_for(key: PrivateKey) -> hashes.SHA256 | hashes.SHA384:
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size > 256:
        return hashes.SHA384()
    return hashes.SHA256()


def make_ca(
    name: str = CA_NAME,
    *,
    key_kind: KeyKind = "ecdsa",
    issuer: Issued | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    path_length: int | None = None,
) -> Issued:
    """A self-signed CA, or, with `issuer`, an intermediate CA under it."""
    key = make_key(key_kind)
    now = utcnow()
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "UA"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "DSOM demo"),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    signing_key = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - timedelta(days=1))
        .not_valid_after(not_after or now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    return Issued(builder.sign(signing_key, _hash_for(signing_key)), key)


def _usage(
    *,
    digital_signature: bool = False,
    non_repudiation: bool = False,
    key_cert_sign: bool = False,
    crl_sign: bool = False,
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=non_repudiation,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def directory_attributes_extension(values: dict[str, str]) -> x509.UnrecognizedExtension:
    """A Subject Directory Attributes extension (2.5.29.9) with one text value per OID."""
    der = DirectoryAttributes(
        [
            DirectoryAttribute({"type": oid, "values": [core.PrintableString(text)]})
            for oid, text in values.items()
        ]
    ).dump()
    return x509.UnrecognizedExtension(SUBJECT_DIRECTORY_ATTRIBUTES, der)


def make_person(
    ca: Issued,
    *,
    name: str,
    rnokpp: str | None,
    edrpou: str | None = None,
    organization: str | None = None,
    key_kind: KeyKind = "ecdsa",
    identity_in_extension: bool = True,
    identity_in_subject: bool = True,
    digital_signature: bool = True,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    key: PrivateKey | None = None,
) -> Issued:
    """A person's signing certificate from `ca`, naming their RNOKPP (and, for a company
    certificate, the company's EDRPOU) in the extension and/or the subject fields."""
    key = key or make_key(key_kind)
    now = utcnow()
    names = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "UA"),
        x509.NameAttribute(NameOID.COMMON_NAME, name),
    ]
    surname, _, given = name.partition(" ")
    if given:
        names.append(x509.NameAttribute(NameOID.SURNAME, surname))
        names.append(x509.NameAttribute(NameOID.GIVEN_NAME, given))
    if organization:
        names.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    if identity_in_subject and rnokpp:
        names.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, f"TINUA-{rnokpp}"))
    if identity_in_subject and edrpou:
        names.append(x509.NameAttribute(ORGANIZATION_IDENTIFIER, f"NTRUA-{edrpou}"))
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(names))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - timedelta(days=1))
        .not_valid_after(not_after or now + timedelta(days=730))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            _usage(digital_signature=digital_signature, non_repudiation=True), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
    )
    attributes = {}
    if identity_in_extension and rnokpp:
        attributes[DRFO_CODE] = rnokpp
    if identity_in_extension and edrpou:
        attributes[EDRPOU_CODE] = edrpou
    if attributes:
        builder = builder.add_extension(directory_attributes_extension(attributes), critical=False)
    return Issued(builder.sign(ca.key, _hash_for(ca.key)), key)


def make_crl(
    ca: Issued,
    revoked: Iterable[x509.Certificate] = (),
    *,
    at: datetime | None = None,
    next_update: timedelta = timedelta(days=7),
    signing_key: PrivateKey | None = None,
) -> x509.CertificateRevocationList:
    """A CRL of `ca` listing `revoked` (revoked at `at`); `signing_key` forges one."""
    at = at or utcnow() - timedelta(minutes=1)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.cert.subject)
        .last_update(at)
        .next_update(at + next_update)
    )
    for cert in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(cert.serial_number)
            .revocation_date(at)
            .build()
        )
    key = signing_key or ca.key
    return builder.sign(key, _hash_for(key))


def crl_pem(crl: x509.CertificateRevocationList) -> bytes:
    """A CRL in PEM."""
    return crl.public_bytes(serialization.Encoding.PEM)


def p12(
    person: Issued,
    ca_certs: Sequence[x509.Certificate],
    *,
    name: str,
    password: bytes = DEMO_PASSWORD,
) -> bytes:
    """A PKCS#12 key file that PKI.js (WebCrypto) reads: PBES2 with PBKDF2-SHA256 and
    AES-256-CBC, a SHA-256 MAC, the CA certificates included."""
    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(50000)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(password)
    )
    return pkcs12.serialize_key_and_certificates(
        name.encode(), person.key, person.cert, list(ca_certs), encryption
    )


# --- CMS signatures, as a person's signing software makes them --------------------------------


def sign_cms(
    content: bytes,
    signer: Issued,
    *,
    attached: bool = True,
    signed_attributes: bool = True,
    signing_certificate_v2: bool = True,
    certify: x509.Certificate | None = None,
    extra_certs: Sequence[x509.Certificate] = (),
    include_signer_cert: bool = True,
    digest: Literal["sha256", "sha384", "sha512"] = "sha256",
    pss: bool = False,
    sid_by_key_id: bool = False,
) -> bytes:
    """A CMS SignedData (DER) by `signer` over `content`, attached or detached, with or
    without signed attributes; `certify` names another certificate in the
    signing-certificate-v2 attribute (a mismatch the verifier must refuse)."""
    cert = asn1_x509.Certificate.load(signer.cert.public_bytes(serialization.Encoding.DER))
    hash_algo: hashes.HashAlgorithm = {
        "sha256": hashes.SHA256(),
        "sha384": hashes.SHA384(),
        "sha512": hashes.SHA512(),
    }[digest]
    attrs = None
    to_sign = content
    if signed_attributes:
        values = [
            cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
            cms.CMSAttribute(
                {"type": "signing_time", "values": [cms.Time({"utc_time": utcnow()})]}
            ),
            cms.CMSAttribute(
                {"type": "message_digest", "values": [hashlib.new(digest, content).digest()]}
            ),
        ]
        if signing_certificate_v2:
            named = certify or signer.cert
            named_der = named.public_bytes(serialization.Encoding.DER)
            ess = tsp.ESSCertIDv2(
                {
                    "hash_algorithm": {"algorithm": "sha256"},
                    "cert_hash": hashlib.sha256(named_der).digest(),
                    "issuer_serial": {
                        "issuer": [
                            asn1_x509.GeneralName(
                                {"directory_name": asn1_x509.Certificate.load(named_der).issuer}
                            )
                        ],
                        "serial_number": named.serial_number,
                    },
                }
            )
            values.append(
                cms.CMSAttribute(
                    {
                        "type": "signing_certificate_v2",
                        "values": [tsp.SigningCertificateV2({"certs": [ess]})],
                    }
                )
            )
        attrs = cms.CMSAttributes(values)
        to_sign = attrs.dump()
    key = signer.key
    if isinstance(key, rsa.RSAPrivateKey):
        if pss:
            salt = hash_algo.digest_size
            signature = key.sign(
                to_sign, padding.PSS(mgf=padding.MGF1(hash_algo), salt_length=salt), hash_algo
            )
            sig_alg = algos.SignedDigestAlgorithm(
                {
                    "algorithm": "rsassa_pss",
                    "parameters": algos.RSASSAPSSParams(
                        {
                            "hash_algorithm": {"algorithm": digest},
                            "mask_gen_algorithm": {
                                "algorithm": "mgf1",
                                "parameters": {"algorithm": digest},
                            },
                            "salt_length": salt,
                        }
                    ),
                }
            )
        else:
            signature = key.sign(to_sign, padding.PKCS1v15(), hash_algo)
            sig_alg = algos.SignedDigestAlgorithm({"algorithm": "rsassa_pkcs1v15"})
    else:
        signature = key.sign(to_sign, ec.ECDSA(hash_algo))
        sig_alg = algos.SignedDigestAlgorithm({"algorithm": f"{digest}_ecdsa"})
    if sid_by_key_id:
        sid = cms.SignerIdentifier({"subject_key_identifier": cert.key_identifier})
    else:
        sid = cms.SignerIdentifier(
            {
                "issuer_and_serial_number": {
                    "issuer": cert.issuer,
                    "serial_number": cert.serial_number,
                }
            }
        )
    info = {
        "version": "v3" if sid_by_key_id else "v1",
        "sid": sid,
        "digest_algorithm": {"algorithm": digest},
        "signature_algorithm": sig_alg,
        "signature": signature,
    }
    if attrs is not None:
        info["signed_attrs"] = attrs
    certs = [cert] if include_signer_cert else []
    certs += [
        asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in extra_certs
    ]
    signed_data = cms.SignedData(
        {
            "version": "v3" if sid_by_key_id else "v1",
            "digest_algorithms": [{"algorithm": digest}],
            "encap_content_info": {
                "content_type": "data",
                "content": content if attached else None,
            },
            "certificates": certs,
            "signer_infos": [cms.SignerInfo(info)],
        }
    )
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump())

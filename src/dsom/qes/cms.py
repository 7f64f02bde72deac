"""The RSA and ECDSA verifier of CMS/CAdES-BES signatures (asn1crypto + cryptography).

A signature is a ContentInfo holding SignedData with one signer. Its content is
either inside (attached) or the challenge given (detached); with signed attributes
the signature covers their DER (as a SET OF) and the message-digest attribute
must be the digest of the content, otherwise the signature covers the content
itself. The signer's certificate must be in the SignedData; a signing-certificate
(v1 or v2) attribute, where present, must name that certificate.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from asn1crypto import cms, core, tsp  # noqa: F401  (tsp registers the signing-certificate attrs)
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from dsom.qes import identity
from dsom.qes.trust import TrustStore
from dsom.qes.verifier import BAD_SIGNATURE, UNTRUSTED_CERTIFICATE, QesRefused, Signer

HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
    "sha3_256": hashes.SHA3_256,
    "sha3_384": hashes.SHA3_384,
    "sha3_512": hashes.SHA3_512,
}
CURVES = (ec.SECP256R1, ec.SECP384R1, ec.SECP521R1)
MIN_RSA_BITS = 2048


def _bad(message: str) -> QesRefused:
    return QesRefused(BAD_SIGNATURE, message)


class CmsVerifier:
    """SignatureVerifier for CMS signatures made with RSA (PKCS#1 v1.5, PSS) or ECDSA."""

    def __init__(self, trust: TrustStore) -> None:
        self.trust = trust

    def verify(self, signature_der: bytes, content: bytes, now: datetime) -> Signer:
        """The signer of `content`, judged at `now`; QesRefused with the reason otherwise."""
        try:
            signed = _Parsed(signature_der, content)
        except QesRefused:
            raise
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            raise _bad(f"the signature is not a readable CMS SignedData: {exc}") from None
        cert = signed.cert
        try:
            algorithm = signed.check_signature()
        except QesRefused as exc:
            exc.signer = _signer(cert, "unverified")  # who the certificate claims, for the audit
            raise
        signer = _signer(cert, algorithm)
        try:
            self.trust.check(cert, signed.pool, now)
            _check_key_usage(cert)
        except QesRefused as exc:
            exc.signer = signer
            raise
        return signer


class _Parsed:
    """One signer's info of a SignedData, with its certificate, read and checked for form."""

    def __init__(self, der: bytes, content: bytes) -> None:
        info = cms.ContentInfo.load(der, strict=True)
        if info["content_type"].native != "signed_data":
            raise _bad("the signature is not a CMS SignedData")
        signed_data = info["content"]
        encap = signed_data["encap_content_info"]
        if encap["content_type"].native != "data":
            raise _bad("the signed content must be of type id-data")
        inner = encap["content"]
        detached = isinstance(inner, core.Void) or inner.native is None
        # Detached: the challenge is what was signed. Attached: checked against it later,
        # once the signer's certificate is known (the audit log names whose it was).
        self.expected = content
        self.content = content if detached else bytes(inner.native)
        infos = signed_data["signer_infos"]
        if len(infos) != 1:
            raise _bad(f"the signature must have exactly one signer, it has {len(infos)}")
        self.info = infos[0]
        self.content_type = encap["content_type"].native
        certs = signed_data["certificates"]
        carried = (
            []
            if isinstance(certs, core.Void)
            else [c.chosen for c in certs if c.name == "certificate"]
        )
        self.pool = [x509.load_der_x509_certificate(c.dump()) for c in carried]
        self.cert_der = self._signer_cert(carried)
        self.cert = x509.load_der_x509_certificate(self.cert_der)

    def _signer_cert(self, carried: list[Any]) -> bytes:
        """The DER of the certificate the signer info's sid names."""
        sid = self.info["sid"]
        for cert in carried:
            if sid.name == "issuer_and_serial_number":
                match = (
                    cert.issuer == sid.chosen["issuer"]
                    and cert.serial_number == sid.chosen["serial_number"].native
                )
            else:
                match = cert.key_identifier == sid.chosen.native
            if match:
                return bytes(cert.dump())
        raise _bad("the signature does not include the signer's certificate")

    def check_signature(self) -> str:
        """Check the signed content, attributes and signature; the algorithm's name."""
        if self.content != self.expected:
            raise _bad("the signed content is not the challenge DSOM issued")
        info = self.info
        digest_name = info["digest_algorithm"]["algorithm"].native
        if digest_name not in HASHES:
            raise _bad(f"the digest algorithm {digest_name} is not accepted")
        attrs = info["signed_attrs"]
        if isinstance(attrs, core.Void) or len(attrs) == 0:
            signed_bytes = self.content
        else:
            self._check_attributes(attrs, digest_name)
            # The signature covers the attributes' DER as a SET OF, not as [0] IMPLICIT.
            signed_bytes = b"\x31" + attrs.dump()[1:]
        sig_alg = info["signature_algorithm"]
        try:
            kind = sig_alg.signature_algo
        except ValueError:
            raise _bad(
                f"the signature algorithm {sig_alg['algorithm'].dotted} is not supported"
            ) from None
        try:
            hash_name = sig_alg.hash_algo
        except ValueError:  # rsaEncryption / plain ecdsa: the digest algorithm says
            hash_name = digest_name
        if hash_name not in HASHES:
            raise _bad(f"the hash algorithm {hash_name} is not accepted")
        return _verify_raw(
            self.cert.public_key(),
            kind,
            sig_alg,
            info["signature"].native,
            signed_bytes,
            HASHES[hash_name](),
        )

    def _check_attributes(self, attrs: Any, digest_name: str) -> None:
        by_type: dict[str, Any] = {}
        for attr in attrs:
            name = attr["type"].native
            if name in by_type:
                raise _bad(f"the signed attribute {name} appears twice")
            by_type[name] = attr["values"]
        if "content_type" not in by_type or "message_digest" not in by_type:
            raise _bad("the signed attributes lack the content-type or message-digest")
        if by_type["content_type"][0].native != self.content_type:
            raise _bad("the content-type attribute does not match the signed content")
        digest = hashlib.new(digest_name, self.content).digest()
        if by_type["message_digest"][0].native != digest:
            raise _bad("the message digest does not match: the signed content is not the challenge")
        for name in ("signing_certificate", "signing_certificate_v2"):
            if name in by_type:
                self._check_signing_certificate(name, by_type[name][0])

    def _check_signing_certificate(self, name: str, value: Any) -> None:
        """The first ESSCertID(v2) names the signer's certificate (RFC 5035)."""
        ids = value["certs"]
        if len(ids) == 0:
            raise _bad(f"the {name} attribute is empty")
        first = ids[0]
        hash_name = (
            "sha1" if name == "signing_certificate" else first["hash_algorithm"]["algorithm"].native
        )
        if hash_name not in (*HASHES, "sha1"):
            raise _bad(f"the {name} attribute uses an unknown hash {hash_name}")
        expected = hashlib.new(hash_name, self.cert_der).digest()
        if first["cert_hash"].native != expected:
            raise _bad(f"the {name} attribute names another certificate than the signer's")
        issuer_serial = first["issuer_serial"]
        if (
            not isinstance(issuer_serial, core.Void)
            and issuer_serial["serial_number"].native != self.cert.serial_number
        ):
            raise _bad(f"the {name} attribute names another certificate's serial number")


def _verify_raw(
    key: Any,
    kind: str,
    sig_alg: Any,
    signature: bytes,
    data: bytes,
    digest: hashes.HashAlgorithm,
) -> str:
    """Check the signature's mathematics; the algorithm's name, or bad_signature."""
    try:
        if isinstance(key, rsa.RSAPublicKey) and kind == "rsassa_pkcs1v15":
            _rsa_size(key)
            key.verify(signature, data, padding.PKCS1v15(), digest)
            return "rsa"
        if isinstance(key, rsa.RSAPublicKey) and kind == "rsassa_pss":
            _rsa_size(key)
            params = sig_alg["parameters"]
            mgf_hash = params["mask_gen_algorithm"]["parameters"]["algorithm"].native
            if mgf_hash not in HASHES or mgf_hash != params["hash_algorithm"]["algorithm"].native:
                raise _bad("RSA-PSS must use MGF1 with the same hash as the signature")
            pss = padding.PSS(
                mgf=padding.MGF1(HASHES[mgf_hash]()), salt_length=params["salt_length"].native
            )
            key.verify(signature, data, pss, digest)
            return "rsa-pss"
        if isinstance(key, ec.EllipticCurvePublicKey) and kind == "ecdsa":
            if not isinstance(key.curve, CURVES):
                raise _bad(f"the elliptic curve {key.curve.name} is not accepted")
            key.verify(signature, data, ec.ECDSA(digest))
            return "ecdsa"
    except InvalidSignature:
        raise _bad("the signature does not verify with the signer's certificate") from None
    except (UnsupportedAlgorithm, ValueError, TypeError) as exc:
        raise _bad(f"the signature cannot be verified: {exc}") from None
    raise _bad(
        f"a {kind} signature by a {type(key).__name__.removeprefix('_')} key is not supported"
    )


def _rsa_size(key: rsa.RSAPublicKey) -> None:
    if key.key_size < MIN_RSA_BITS:
        raise _bad(f"RSA keys of {key.key_size} bits are too weak; at least {MIN_RSA_BITS}")


def _check_key_usage(cert: x509.Certificate) -> None:
    """The certificate must allow digital signature (keyUsage digitalSignature)."""
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is None or not usage.digital_signature:
        raise QesRefused(
            UNTRUSTED_CERTIFICATE,
            "the certificate does not allow digital signature (keyUsage digitalSignature)",
        )


def _signer(cert: x509.Certificate, algorithm: str) -> Signer:
    return Signer(
        rnokpp=identity.rnokpp_of(cert),
        edrpou=identity.edrpou_of(cert),
        name=identity.name_of(cert),
        organization=identity.organization_of(cert),
        serial=f"{cert.serial_number:x}",
        issuer=cert.issuer.rfc4514_string(),
        subject=cert.subject.rfc4514_string(),
        not_after=cert.not_valid_after_utc,
        algorithm=algorithm,
    )

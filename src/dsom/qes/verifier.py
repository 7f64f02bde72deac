"""The one interface every QES verifier implements, what it returns and how it refuses.

A verifier takes a CMS/PKCS#7 signature (DER), the content that must have been
signed (a login challenge's UTF-8 bytes) and the moment to judge validity at, and
returns the `Signer` or raises `QesRefused` with one of the codes of
interfaces.md. The RSA/ECDSA implementation is `dsom.qes.cms.CmsVerifier`; a
DSTU 4145 one can be added beside it and chosen by the signature's algorithm.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from dsom.kit.errors import Unauthorized

# The refusal codes a verifier answers; the login flow adds challenge_* and unknown_person.
BAD_SIGNATURE = "bad_signature"
UNTRUSTED_CERTIFICATE = "untrusted_certificate"
CERTIFICATE_EXPIRED = "certificate_expired"
CERTIFICATE_REVOKED = "certificate_revoked"
VERIFIER_CODES = (BAD_SIGNATURE, UNTRUSTED_CERTIFICATE, CERTIFICATE_EXPIRED, CERTIFICATE_REVOKED)


@dataclass(frozen=True)
class Signer:
    """Who signed, as the verified certificate says."""

    rnokpp: str | None  # the person's tax number; None if the certificate names none
    edrpou: str | None  # the company's code, for a company certificate
    name: str  # the person's full name (CN, else given name and surname)
    organization: str | None  # the company's name (O), if any
    serial: str  # the certificate's serial number, hex
    issuer: str  # the issuing CA's name (RFC 4514)
    subject: str  # the certificate's subject (RFC 4514)
    not_after: datetime
    algorithm: str  # "rsa", "rsa-pss" or "ecdsa"

    def describe(self) -> dict[str, str | None]:
        """What the audit log keeps of a certificate."""
        return {
            "rnokpp": self.rnokpp,
            "edrpou": self.edrpou,
            "name": self.name,
            "certificate_serial": self.serial,
            "certificate_issuer": self.issuer,
            "algorithm": self.algorithm,
        }


class QesRefused(Unauthorized):
    """A signature or certificate DSOM does not accept: 401 with the reason's code.

    `signer` is who the certificate names, when it could be read (for the audit log).
    """

    code = BAD_SIGNATURE

    def __init__(self, code: str, message: str, *, signer: Signer | None = None) -> None:
        super().__init__(message, code=code)
        self.signer = signer


class SignatureVerifier(Protocol):
    """Verifies a CMS signature over `content` and the signer's certificate at `now`."""

    def verify(self, signature_der: bytes, content: bytes, now: datetime) -> Signer:
        """The signer, or QesRefused with bad_signature, untrusted_certificate,
        certificate_expired or certificate_revoked."""
        ...

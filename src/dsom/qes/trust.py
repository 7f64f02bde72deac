"""The certification authorities DSOM trusts, the revocation lists it honours, and the
path from a signer's certificate to one of those authorities.

Files are re-read when they change (their mtime), so a new CRL or a re-seeded demo
CA takes effect on the next login without a restart. A configured file that cannot
be read, or a CRL of a trusted CA whose signature does not verify, is refused: at
start-up that is an error; later the previous contents stay in force (a CRL never
silently un-revokes anything).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Generic, TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from dsom.qes.verifier import (
    CERTIFICATE_EXPIRED,
    CERTIFICATE_REVOKED,
    UNTRUSTED_CERTIFICATE,
    QesRefused,
)

log = logging.getLogger("dsom.qes")

MAX_CHAIN = 8  # certificates from the signer's to a trusted CA's, at most
T = TypeVar("T")


class TrustConfigError(Exception):
    """A trusted-CA or CRL file that DSOM cannot use."""


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate of a PEM file (one or more), or the one of a DER file."""
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificates(data)
    return [x509.load_der_x509_certificate(data)]


def load_crls(data: bytes) -> list[x509.CertificateRevocationList]:
    """Every CRL of a PEM file (one or more), or the one of a DER file."""
    if b"-----BEGIN" not in data:
        return [x509.load_der_x509_crl(data)]
    marker = b"-----BEGIN X509 CRL-----"
    blocks = [marker + part for part in data.split(marker)[1:]]
    if not blocks:
        raise ValueError("no `BEGIN X509 CRL` block in the file")
    return [x509.load_pem_x509_crl(block) for block in blocks]


@dataclass
class _Watched(Generic[T]):
    """A file's parsed contents, parsed again when its mtime changes."""

    path: Path
    parse: Callable[[bytes], list[T]]
    required: bool  # configured explicitly (vs. the demo default that may appear later)
    items: list[T] = field(default_factory=list)
    seen: tuple[int, int, int] | None = None  # mtime, size and inode when last read

    def refresh(self, *, strict: bool, accept: Callable[[list[T]], None] | None = None) -> None:
        """Re-read the file if it changed; `strict` raises instead of keeping what was."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            if self.required and (strict or self.seen is not None):
                self._refuse(f"{self.path} does not exist", strict)
            elif self.seen is not None:
                log.warning("qes: %s disappeared; its contents are dropped", self.path)
                self.items, self.seen = [], None
            return
        seen = (st.st_mtime_ns, st.st_size, st.st_ino)
        if seen == self.seen:
            return
        try:
            items = self.parse(self.path.read_bytes())
            if accept is not None:
                accept(items)
        except (OSError, ValueError, TrustConfigError) as exc:
            self._refuse(f"{self.path}: {exc}", strict)
            self.seen = seen  # do not re-parse a bad file on every login
            return
        self.items, self.seen = items, seen
        log.info("qes: loaded %d item(s) from %s", len(items), self.path)

    @staticmethod
    def _refuse(message: str, strict: bool) -> None:
        if strict:
            raise TrustConfigError(message)
        log.error("qes: refused %s; the previous contents stay in force", message)


class TrustStore:
    """Trusted CA certificates and CRLs, from files, kept current by their mtimes."""

    def __init__(
        self,
        ca_files: Sequence[Path],
        crl_files: Sequence[Path] = (),
        *,
        cas_required: bool = True,
        crls_required: bool = True,
    ) -> None:
        """Read the files now; a required one that is missing or unreadable is an error, an
        optional one (the demo default) is picked up when it appears."""
        self._cas = [_Watched(Path(p), load_certificates, cas_required) for p in ca_files]
        self._crls = [_Watched(Path(p), load_crls, crls_required) for p in crl_files]
        self.refresh(strict=True)

    def refresh(self, *, strict: bool = False) -> None:
        """Re-read the files that changed (cheap: one stat per file)."""
        for ca in self._cas:
            ca.refresh(strict=strict)
        for crl in self._crls:
            crl.refresh(strict=strict, accept=self._check_crls)

    @property
    def anchors(self) -> list[x509.Certificate]:
        """The trusted CA certificates."""
        return [cert for f in self._cas for cert in f.items]

    @property
    def crls(self) -> list[x509.CertificateRevocationList]:
        """The revocation lists in force."""
        return [crl for f in self._crls for crl in f.items]

    def _check_crls(self, crls: list[x509.CertificateRevocationList]) -> None:
        """Refuse a CRL of a trusted CA whose signature that CA did not make."""
        for crl in crls:
            issuers = [a for a in self.anchors if a.subject == crl.issuer]
            if issuers and not any(_crl_signed_by(crl, a) for a in issuers):
                raise TrustConfigError(
                    f"the CRL of {crl.issuer.rfc4514_string()} is not signed by that CA"
                )

    # --- judging a signer's certificate ------------------------------------------------------

    def check(
        self, leaf: x509.Certificate, pool: Sequence[x509.Certificate], now: datetime
    ) -> list[x509.Certificate]:
        """The chain from `leaf` to a trusted CA, judged at `now`; QesRefused otherwise."""
        self.refresh()
        chain = self.chain(leaf, pool)
        _check_validity(chain, now)
        self.check_revocation(chain, now)
        return chain

    def chain(
        self, leaf: x509.Certificate, pool: Sequence[x509.Certificate]
    ) -> list[x509.Certificate]:
        """Signer's certificate, intermediates (from `pool`), trusted CA: each signed by the
        next. Raises untrusted_certificate if no such path exists."""
        anchors = self.anchors
        if not anchors:
            raise QesRefused(
                UNTRUSTED_CERTIFICATE,
                "DSOM trusts no certification authority yet (set DSOM_QES_TRUSTED_CAS)",
            )
        chain = [leaf]
        while len(chain) <= MAX_CHAIN:
            current = chain[-1]
            for anchor in anchors:
                if _issued_by(current, anchor):
                    _check_path_length([*chain, anchor])
                    return [*chain, anchor]
            nxt = next(
                (c for c in pool if c not in chain and _is_ca(c) and _issued_by(current, c)),
                None,
            )
            if nxt is None:
                break
            chain.append(nxt)
        raise QesRefused(
            UNTRUSTED_CERTIFICATE,
            f"the certificate of {leaf.subject.rfc4514_string()} (issued by "
            f"{chain[-1].issuer.rfc4514_string()}) does not chain to a certification "
            "authority DSOM trusts",
        )

    def check_revocation(self, chain: list[x509.Certificate], now: datetime) -> None:
        """Refuse with certificate_revoked if a configured CRL lists any certificate of the
        chain below the trusted CA; a CRL that does not verify makes the chain untrusted."""
        crls = self.crls
        for cert, issuer in itertools.pairwise(chain):
            for crl in crls:
                if crl.issuer != issuer.subject:
                    continue
                if not _crl_signed_by(crl, issuer):
                    log.error("qes: the CRL of %s does not verify", crl.issuer.rfc4514_string())
                    raise QesRefused(
                        UNTRUSTED_CERTIFICATE,
                        f"the revocation list of {crl.issuer.rfc4514_string()} does not "
                        "verify, so the certificate's status cannot be established",
                    )
                revoked = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
                if revoked is not None and revoked.revocation_date_utc <= now:
                    which = "the certificate" if cert is chain[0] else "a CA certificate"
                    raise QesRefused(
                        CERTIFICATE_REVOKED,
                        f"{which} {cert.serial_number:x} of {cert.subject.rfc4514_string()} "
                        f"was revoked on {revoked.revocation_date_utc:%Y-%m-%d %H:%M} UTC",
                    )


def _issued_by(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether `issuer` is named as `child`'s issuer and its key made `child`'s signature."""
    try:
        child.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, x509.UnsupportedGeneralNameType):
        return False
    return True


def _crl_signed_by(crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
    try:
        return crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return False


def _is_ca(cert: x509.Certificate) -> bool:
    """A certificate that may issue others: basicConstraints cA, keyCertSign if keyUsage."""
    try:
        if not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            return False
    except x509.ExtensionNotFound:
        return False
    try:
        return cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    except x509.ExtensionNotFound:
        return True


def _check_path_length(chain: list[x509.Certificate]) -> None:
    """Each CA's pathLenConstraint bounds the intermediates below it."""
    for depth, cert in enumerate(chain[1:], start=1):
        try:
            limit = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        except x509.ExtensionNotFound:
            continue
        if limit.path_length is not None and depth - 1 > limit.path_length:
            raise QesRefused(
                UNTRUSTED_CERTIFICATE,
                f"the chain is longer than {cert.subject.rfc4514_string()} allows",
            )


def _check_validity(chain: list[x509.Certificate], now: datetime) -> None:
    for cert in chain:
        which = "the certificate" if cert is chain[0] else "the CA certificate"
        subject = cert.subject.rfc4514_string()
        if now < cert.not_valid_before_utc:
            raise QesRefused(
                CERTIFICATE_EXPIRED,
                f"{which} of {subject} is not valid before "
                f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC",
            )
        if now > cert.not_valid_after_utc:
            raise QesRefused(
                CERTIFICATE_EXPIRED,
                f"{which} of {subject} expired on {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC",
            )

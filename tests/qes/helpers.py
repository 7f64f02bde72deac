"""A test PKI: a trusted CA in files, people's certificates from it, and a verifier."""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509

from dsom.qes import pki
from dsom.qes.cms import CmsVerifier
from dsom.qes.trust import TrustStore

RNOKPP = "3012345678"
_writes = itertools.count(1)
EDRPOU = "40000006"


@dataclass
class TrustedCa:
    """A CA that a verifier trusts (its certificate in `ca_file`), and its CRL file."""

    folder: Path
    ca: pki.Issued = field(default_factory=pki.make_ca)

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        write(self.ca_file, self.ca.cert_pem())
        self.revoke()

    @property
    def ca_file(self) -> Path:
        """The trusted CA's certificate (PEM)."""
        return self.folder / "ca.pem"

    @property
    def crl_file(self) -> Path:
        """The CA's revocation list (PEM)."""
        return self.folder / "crl.pem"

    def person(self, **kw: Any) -> pki.Issued:
        """A person's certificate from the trusted CA (RNOKPP, EDRPOU unless told)."""
        kw.setdefault("name", "Шевченко Тарас Григорович")
        kw.setdefault("rnokpp", RNOKPP)
        return pki.make_person(self.ca, **kw)

    def revoke(self, *certs: x509.Certificate) -> None:
        """Write a CRL of the CA listing `certs` (none: an empty CRL)."""
        write(self.crl_file, pki.crl_pem(pki.make_crl(self.ca, certs)))

    def store(self) -> TrustStore:
        """A trust store of this CA and its CRL."""
        return TrustStore([self.ca_file], [self.crl_file])

    def verifier(self) -> CmsVerifier:
        """A verifier that trusts this CA and honours its CRL."""
        return CmsVerifier(self.store())


def write(path: Path, data: bytes) -> None:
    """Write a file with an mtime later than any before it, however coarse the clock."""
    path.write_bytes(data)
    stamp = time.time_ns() + next(_writes) * 1_000_000_000
    os.utime(path, ns=(stamp, stamp))

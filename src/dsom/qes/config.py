"""The verifier the application uses, built from the settings."""

from __future__ import annotations

from dsom.kit.settings import Settings
from dsom.qes.cms import CmsVerifier
from dsom.qes.trust import TrustStore
from dsom.qes.verifier import SignatureVerifier


def trust_store(settings: Settings) -> TrustStore:
    """The trusted CAs and CRLs of DSOM_QES_TRUSTED_CAS and DSOM_QES_CRLS; unset, the demo
    CA and CRL beside the keys file, picked up when `dsom seed-demo` writes them."""
    cas, cas_configured = settings.trusted_ca_files()
    crls, crls_configured = settings.crl_files()
    return TrustStore(cas, crls, cas_required=cas_configured, crls_required=crls_configured)


def make_verifier(settings: Settings) -> SignatureVerifier:
    """The QES verifier: RSA and ECDSA CMS signatures (a DSTU 4145 one would join here)."""
    return CmsVerifier(trust_store(settings))

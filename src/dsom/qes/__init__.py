"""Qualified electronic signatures: verifying a person's signed login challenge.

`verifier.py` is the one interface (`SignatureVerifier`); `cms.py` implements it
for CMS/CAdES with RSA and ECDSA; `trust.py` holds the trusted CAs and the CRLs;
`identity.py` reads RNOKPP, EDRPOU and name from a certificate; `pki.py` makes
the demo CA, people's key files and CMS signatures (for the demo and the tests).
"""

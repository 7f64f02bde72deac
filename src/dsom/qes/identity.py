"""Who a Ukrainian qualified certificate names: RNOKPP, EDRPOU and the person's name.

Identity comes from the Subject Directory Attributes extension (2.5.29.9) first,
as Ukrainian qualified trust service providers write it, and from the subject's
`serialNumber` (`TINUA-<RNOKPP>`) and `organizationIdentifier` (`NTRUA-<EDRPOU>`),
the ETSI EN 319 412-1 semantics, second.
"""

from __future__ import annotations

import re
from typing import ClassVar

from asn1crypto import core
from cryptography import x509
from cryptography.x509.oid import NameOID, ObjectIdentifier

SUBJECT_DIRECTORY_ATTRIBUTES = ObjectIdentifier("2.5.29.9")
DRFO_CODE = "1.2.804.2.1.1.1.11.1.4.1.1"  # the person's RNOKPP (ДРФО)
EDRPOU_CODE = "1.2.804.2.1.1.1.11.1.4.2.1"  # the company's EDRPOU code (ЄДРПОУ)
ORGANIZATION_IDENTIFIER = ObjectIdentifier("2.5.4.97")

RNOKPP_RE = re.compile(r"\d{10}")
EDRPOU_RE = re.compile(r"\d{8}")


class DirectoryAttribute(core.Sequence):  # type: ignore[misc]
    """An attribute of the Subject Directory Attributes extension: a type and its values."""

    _fields: ClassVar = [
        ("type", core.ObjectIdentifier),
        ("values", core.SetOf, {"spec": core.Any}),
    ]


class DirectoryAttributes(core.SequenceOf):  # type: ignore[misc]
    """The value of the Subject Directory Attributes extension."""

    _child_spec = DirectoryAttribute


def directory_attributes(cert: x509.Certificate) -> dict[str, list[str]]:
    """The text values of the Subject Directory Attributes extension, by attribute OID."""
    try:
        ext = cert.extensions.get_extension_for_oid(SUBJECT_DIRECTORY_ATTRIBUTES)
    except x509.ExtensionNotFound:
        return {}
    raw = ext.value.value if isinstance(ext.value, x509.UnrecognizedExtension) else None
    if raw is None:
        return {}
    found: dict[str, list[str]] = {}
    try:
        for attr in DirectoryAttributes.load(raw):
            for value in attr["values"]:
                text = core.load(value.dump()).native
                if isinstance(text, str):
                    found.setdefault(attr["type"].dotted, []).append(text.strip())
    except (ValueError, TypeError):
        return {}  # an undecodable extension names nobody; the subject fields may still
    return found


def _subject(cert: x509.Certificate, oid: ObjectIdentifier) -> list[str]:
    return [str(a.value).strip() for a in cert.subject.get_attributes_for_oid(oid)]


def _first(values: list[str], pattern: re.Pattern[str], prefix: str = "") -> str | None:
    for value in values:
        if not value.upper().startswith(prefix):
            continue
        code = value[len(prefix) :]
        if pattern.fullmatch(code):
            return code
    return None


def rnokpp_of(cert: x509.Certificate) -> str | None:
    """The person's RNOKPP: extension attribute first, then subject `TINUA-<RNOKPP>`."""
    return _first(directory_attributes(cert).get(DRFO_CODE, []), RNOKPP_RE) or _first(
        _subject(cert, NameOID.SERIAL_NUMBER), RNOKPP_RE, "TINUA-"
    )


def edrpou_of(cert: x509.Certificate) -> str | None:
    """The company's EDRPOU: extension attribute first, then `NTRUA-<EDRPOU>`."""
    return _first(directory_attributes(cert).get(EDRPOU_CODE, []), EDRPOU_RE) or _first(
        _subject(cert, ORGANIZATION_IDENTIFIER), EDRPOU_RE, "NTRUA-"
    )


def name_of(cert: x509.Certificate) -> str:
    """The person's name: the common name, else given name and surname."""
    common = _subject(cert, NameOID.COMMON_NAME)
    if common and common[0]:
        return common[0]
    parts = _subject(cert, NameOID.GIVEN_NAME) + _subject(cert, NameOID.SURNAME)
    return " ".join(p for p in parts if p) or cert.subject.rfc4514_string()


def organization_of(cert: x509.Certificate) -> str | None:
    """The company's name (O), if the certificate has one."""
    names = _subject(cert, NameOID.ORGANIZATION_NAME)
    return names[0] if names else None

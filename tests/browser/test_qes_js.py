"""The browser's QES module (frontend/qes.js, served as /static/vendor/qes.js).

Key files are made here the way DSOM's demo makes them (cryptography, PBES2/AES-256,
HMAC-SHA256 integrity, password `demo`); what the browser signs is checked outside it,
by `openssl cms -verify` and by reading the CMS with asn1crypto.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pytest
from asn1crypto import cms, core
from asn1crypto import tsp as _tsp  # noqa: F401  (registers signing-certificate-v2 with cms)
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from tests.browser.conftest import screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Page

PASSWORD = "demo"
CHALLENGE = "DSOM login challenge 7f3a9c · вхід до ДСОМ · 2026-11-24T13:00:00Z"
DRFO = "1.2.804.2.1.1.1.11.1.4.1.1"  # the person's RNOKPP, in Subject Directory Attributes
EDRPOU = "1.2.804.2.1.1.1.11.1.4.2.1"

TEST_PAGE = """<!doctype html>
<html lang="uk"><head><meta charset="utf-8"><title>QES test</title>
<script src="/static/vendor/qes.js"></script></head>
<body><h1>QES test page</h1>
<pre id="out" style="white-space: pre-wrap; word-break: break-all">ready</pre></body></html>
"""

SIGN = """async ([p12, password, text, detached]) => {
  const bytes = Uint8Array.from(atob(p12), (c) => c.charCodeAt(0));
  try {
    const signature = await DSOMQES.signChallenge(bytes.buffer, password, text, { detached });
    document.getElementById("out").textContent = signature;
    return { signature };
  } catch (error) {
    return { error: { name: error.name, code: error.code, message: error.message,
                      isQESError: error instanceof DSOMQES.QESError } };
  }
}"""

READ = """async ([p12, password]) => {
  const bytes = Uint8Array.from(atob(p12), (c) => c.charCodeAt(0));
  try {
    return { info: await DSOMQES.readKeyFile(new Blob([bytes]), password) };
  } catch (error) {
    return { error: { name: error.name, code: error.code, message: error.message } };
  }
}"""


class _Values(core.SetOf):
    _child_spec = core.PrintableString


class _Attribute(core.Sequence):
    _fields: ClassVar[list[tuple[str, type]]] = [
        ("type", core.ObjectIdentifier),
        ("values", _Values),
    ]


class _Attributes(core.SequenceOf):
    _child_spec = _Attribute


@dataclass
class KeyFile:
    """A person's PKCS#12 file and what the checks need."""

    p12: bytes
    certificate: x509.Certificate
    ca_pem: bytes


def _ca() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "DSOM Test CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return key, cert


@pytest.fixture(scope="module")
def ca() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """The test certification authority."""
    return _ca()


def make_key_file(
    ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate],
    *,
    algorithm: str,
    name: str,
    rnokpp: str,
    edrpou: str | None = None,
    in_extension: bool = True,
) -> KeyFile:
    """A person's key file signed by `ca`: RNOKPP in 2.5.29.9 or as `TINUA-` in the subject."""
    ca_key, ca_cert = ca
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if algorithm == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        key = ec.generate_private_key({"p256": ec.SECP256R1(), "p384": ec.SECP384R1()}[algorithm])
    subject = [x509.NameAttribute(NameOID.COMMON_NAME, name)]
    if not in_extension:
        subject.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, f"TINUA-{rnokpp}"))
    if edrpou:
        subject += [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ТОВ «Тестовий оператор»"),
            x509.NameAttribute(x509.ObjectIdentifier("2.5.4.97"), f"NTRUA-{edrpou}"),
        ]
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(subject))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if in_extension:
        directory = _Attributes([{"type": DRFO, "values": [rnokpp]}]).dump()
        builder = builder.add_extension(
            x509.UnrecognizedExtension(x509.ObjectIdentifier("2.5.29.9"), directory),
            critical=False,
        )
    cert = builder.sign(ca_key, hashes.SHA256())
    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(50000)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(PASSWORD.encode())
    )
    p12 = pkcs12.serialize_key_and_certificates(b"person", key, cert, [ca_cert], encryption)
    return KeyFile(p12, cert, ca_cert.public_bytes(serialization.Encoding.PEM))


@pytest.fixture
def qes_page(page: Page, app_url: str) -> Page:
    """A page of the test server's origin that loads /static/vendor/qes.js."""
    page.route(
        f"{app_url}/qes-test.html",
        lambda route: route.fulfill(status=200, content_type="text/html", body=TEST_PAGE),
    )
    page.goto(f"{app_url}/qes-test.html")
    page.wait_for_function("() => window.DSOMQES !== undefined")
    return page


def sign(page: Page, key_file: KeyFile, *, password: str = PASSWORD, detached: bool) -> Any:
    """What DSOMQES.signChallenge answers in the page: {signature} or {error}."""
    p12 = base64.b64encode(key_file.p12).decode()
    return page.evaluate(SIGN, [p12, password, CHALLENGE, detached])


def openssl_verify(tmp_path: Path, key_file: KeyFile, signature: bytes, *, detached: bool) -> bytes:
    """The content `openssl cms -verify` finds signed, checked against the CA."""
    openssl = shutil.which("openssl")
    assert openssl, "the checks need the openssl command"
    (tmp_path / "ca.pem").write_bytes(key_file.ca_pem)
    (tmp_path / "sig.der").write_bytes(signature)
    (tmp_path / "challenge.txt").write_bytes(CHALLENGE.encode())
    command = [openssl, "cms", "-verify", "-binary", "-inform", "DER", "-in", "sig.der"]
    command += ["-CAfile", "ca.pem", "-out", "verified.txt"]
    if detached:
        command += ["-content", "challenge.txt"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "Verification successful" in done.stderr
    return (tmp_path / "verified.txt").read_bytes()


def check_cades(signature: bytes, key_file: KeyFile, *, detached: bool) -> cms.SignerInfo:
    """The CMS is the CAdES-BES the spec asks for; its signer info."""
    info = cms.ContentInfo.load(signature)
    assert info["content_type"].native == "signed_data"
    signed = info["content"]
    assert signed["version"].native == "v1"
    content = signed["encap_content_info"]
    assert content["content_type"].native == "data"
    assert content["content"].native == (None if detached else CHALLENGE.encode())
    assert [a["algorithm"].native for a in signed["digest_algorithms"]] == ["sha256"]
    cert_der = key_file.certificate.public_bytes(serialization.Encoding.DER)
    assert [c.chosen.dump() for c in signed["certificates"]] == [cert_der]

    (signer,) = signed["signer_infos"]
    sid = signer["sid"]
    assert sid.name == "issuer_and_serial_number"
    assert sid.chosen["serial_number"].native == key_file.certificate.serial_number
    assert signer["digest_algorithm"]["algorithm"].native == "sha256"
    attrs = {a["type"].native: a["values"] for a in signer["signed_attrs"]}
    assert set(attrs) == {
        "content_type",
        "message_digest",
        "signing_time",
        "signing_certificate_v2",
    }
    assert attrs["content_type"][0].native == "data"
    assert attrs["message_digest"][0].native == hashlib.sha256(CHALLENGE.encode()).digest()
    signed_at = attrs["signing_time"][0].native
    assert abs(signed_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=2)
    (ess_cert_id,) = attrs["signing_certificate_v2"][0]["certs"]
    assert ess_cert_id["hash_algorithm"]["algorithm"].native == "sha256"
    assert ess_cert_id["cert_hash"].native == hashlib.sha256(cert_der).digest()
    issuer_serial = ess_cert_id["issuer_serial"]
    assert issuer_serial["serial_number"].native == key_file.certificate.serial_number
    (issuer,) = issuer_serial["issuer"]
    assert issuer.name == "directory_name"
    assert issuer.chosen.untag().dump() == key_file.certificate.issuer.public_bytes()
    # DER: the signed attributes are a SET OF, sorted by their encodings.
    encoded = [a.dump() for a in signer["signed_attrs"]]
    assert encoded == sorted(encoded)
    return signer


@pytest.mark.parametrize("detached", [False, True], ids=["attached", "detached"])
@pytest.mark.parametrize("algorithm", ["rsa", "p256", "p384"])
def test_signature_of_the_challenge_verifies(
    qes_page: Page,
    console_errors: list[str],
    ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate],
    tmp_path: Path,
    algorithm: str,
    detached: bool,
) -> None:
    key_file = make_key_file(ca, algorithm=algorithm, name="Петренко Олена", rnokpp="3012345678")

    answer = sign(qes_page, key_file, detached=detached)

    assert "error" not in answer, answer
    signature = base64.b64decode(answer["signature"], validate=True)
    assert openssl_verify(tmp_path, key_file, signature, detached=detached) == CHALLENGE.encode()
    signer = check_cades(signature, key_file, detached=detached)
    if algorithm == "rsa":
        assert signer["signature_algorithm"].signature_algo == "rsassa_pkcs1v15"
    else:
        assert signer["signature_algorithm"]["algorithm"].native == "sha256_ecdsa"
        # WebCrypto's raw r||s, DER-encoded as CMS wants it.
        r_s = core.load(signer["signature"].native)
        assert isinstance(r_s, core.Sequence)
        assert len(r_s) == 2
    screenshot(qes_page, f"qes-{algorithm}-{'detached' if detached else 'attached'}")
    assert console_errors == []


def test_key_file_is_described(
    qes_page: Page,
    console_errors: list[str],
    ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate],
) -> None:
    in_extension = make_key_file(ca, algorithm="p256", name="Коваль Ірина", rnokpp="2987654321")
    in_subject = make_key_file(
        ca,
        algorithm="rsa",
        name="Бондар Тарас",
        rnokpp="3111111111",
        edrpou="41234567",
        in_extension=False,
    )

    first = qes_page.evaluate(READ, [base64.b64encode(in_extension.p12).decode(), PASSWORD])
    second = qes_page.evaluate(READ, [base64.b64encode(in_subject.p12).decode(), PASSWORD])

    assert first["info"] | {"notBefore": None, "notAfter": None, "serialNumber": None} == {
        "commonName": "Коваль Ірина",
        "organization": None,
        "rnokpp": "2987654321",
        "edrpou": None,
        "subject": "CN=Коваль Ірина",
        "issuer": "DSOM Test CA",
        "issuerName": "CN=DSOM Test CA",
        "serialNumber": None,
        "notBefore": None,
        "notAfter": None,
        "keyAlgorithm": "ECDSA P-256",
    }
    not_after = in_extension.certificate.not_valid_after_utc
    assert dt.datetime.fromisoformat(first["info"]["notAfter"]) == not_after
    assert int(first["info"]["serialNumber"], 16) == in_extension.certificate.serial_number
    assert second["info"]["rnokpp"] == "3111111111"
    assert second["info"]["edrpou"] == "41234567"
    assert second["info"]["organization"] == "ТОВ «Тестовий оператор»"
    assert second["info"]["keyAlgorithm"] == "RSA 2048"
    assert console_errors == []


def test_wrong_password_is_told_apart_from_a_foreign_file(
    qes_page: Page,
    console_errors: list[str],
    ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate],
) -> None:
    key_file = make_key_file(ca, algorithm="p256", name="Шевчук Андрій", rnokpp="2888888888")
    not_a_key_file = KeyFile(
        b"-----BEGIN CERTIFICATE-----\nnot a key file\n", key_file.certificate, b""
    )

    wrong = sign(qes_page, key_file, password="not-demo", detached=False)
    foreign = sign(qes_page, not_a_key_file, detached=False)
    read = qes_page.evaluate(READ, [base64.b64encode(key_file.p12).decode(), "Demo"])

    assert wrong == {
        "error": {
            "name": "QESError",
            "code": "wrong_password",
            "message": "Wrong password for this key file.",
            "isQESError": True,
        }
    }
    assert foreign["error"]["code"] == "not_a_key_file"
    assert foreign["error"]["isQESError"] is True
    assert read["error"]["code"] == "wrong_password"
    assert console_errors == []


def test_a_page_served_over_plain_http_is_told_it_cannot_sign(
    page: Page, built_assets: Path, ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate]
) -> None:
    # WebCrypto exists only in secure contexts; http:// on a real host name is not one.
    # Both files come from Playwright's routing: nothing leaves the machine.
    qes_js = (built_assets / "qes.js").read_text()
    page.route(
        "http://dsom.invalid/**",
        lambda route: route.fulfill(
            status=200,
            content_type="text/javascript" if route.request.url.endswith(".js") else "text/html",
            body=qes_js if route.request.url.endswith(".js") else TEST_PAGE,
        ),
    )
    page.goto("http://dsom.invalid/qes-test.html")
    page.wait_for_function("() => window.DSOMQES !== undefined")
    key_file = make_key_file(ca, algorithm="p256", name="Шевчук Андрій", rnokpp="2888888888")

    answer = sign(page, key_file, detached=False)

    assert answer["error"]["code"] == "insecure_page"
    assert "HTTPS" in answer["error"]["message"]

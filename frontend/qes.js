// DSOM's qualified electronic signature (QES) in the browser.
//
// Reads a person's PKCS#12 key file (.p12/.pfx) and signs a login challenge as a
// CMS SignedData (CAdES-BES), for POST /api/v1/auth/qes (spec: interfaces.md,
// "People and roles"). The private key never leaves the page: this module makes
// no network request, and the key is imported into WebCrypto as non-extractable.
//
// Built by frontend/build.mjs (esbuild) into src/dsom/web/static/vendor/qes.js,
// which sets `window.DSOMQES`; PKI.js and asn1js are bundled into it.

import {
  fromBER,
  GeneralizedTime,
  ObjectIdentifier,
  OctetString,
  Sequence,
  UTCTime,
} from "asn1js";
import {
  Attribute,
  ContentInfo,
  EncapsulatedContentInfo,
  GeneralName,
  GeneralNames,
  getCrypto,
  IssuerAndSerialNumber,
  PFX,
  SignedAndUnsignedAttributes,
  SignedData,
  SignerInfo,
} from "pkijs";

const OID = {
  data: "1.2.840.113549.1.7.1",
  signedData: "1.2.840.113549.1.7.2",
  contentType: "1.2.840.113549.1.9.3",
  messageDigest: "1.2.840.113549.1.9.4",
  signingTime: "1.2.840.113549.1.9.5",
  localKeyId: "1.2.840.113549.1.9.21",
  signingCertificateV2: "1.2.840.113549.1.9.16.2.47",
  keyBag: "1.2.840.113549.1.12.10.1.1",
  shroudedKeyBag: "1.2.840.113549.1.12.10.1.2",
  certBag: "1.2.840.113549.1.12.10.1.3",
  x509Certificate: "1.2.840.113549.1.9.22.1",
  rsaEncryption: "1.2.840.113549.1.1.1",
  ecPublicKey: "1.2.840.10045.2.1",
  subjectDirectoryAttributes: "2.5.29.9",
  commonName: "2.5.4.3",
  serialNumber: "2.5.4.5",
  organization: "2.5.4.10",
  organizationIdentifier: "2.5.4.97",
  // Ukrainian QES profile: the person's tax number and the company's EDRPOU code.
  drfo: "1.2.804.2.1.1.1.11.1.4.1.1",
  edrpou: "1.2.804.2.1.1.1.11.1.4.2.1",
};

const CURVES = {
  "1.2.840.10045.3.1.7": "P-256",
  "1.3.132.0.34": "P-384",
  "1.3.132.0.35": "P-521",
};

/** An error a page can show: `code` is stable, `message` is for people (English). */
export class QESError extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.name = "QESError";
    this.code = code;
  }
}

const MESSAGES = {
  not_a_key_file: "This file is not a PKCS#12 key file (.p12, .pfx).",
  wrong_password: "Wrong password for this key file.",
  unsupported_key_file:
    "This key file is protected in a way this browser cannot open; export it again with AES-256 encryption.",
  insecure_page:
    "This page cannot sign: browsers sign only on pages served over HTTPS (or from this computer).",
  no_private_key: "This key file holds no private key.",
  no_certificate: "This key file holds no certificate for its private key.",
  unsupported_key:
    "This key file holds a key of a kind that cannot sign here (RSA and ECDSA P-256, P-384, P-521 can).",
};

function fail(code, cause) {
  return new QESError(code, MESSAGES[code], cause === undefined ? undefined : { cause });
}

async function bytesOf(input) {
  if (typeof Blob !== "undefined" && input instanceof Blob) return input.arrayBuffer();
  if (input instanceof ArrayBuffer) return input.slice(0);
  if (ArrayBuffer.isView(input)) {
    return input.buffer.slice(input.byteOffset, input.byteOffset + input.byteLength);
  }
  throw new TypeError("the key file must be an ArrayBuffer, a typed array or a Blob");
}

function utf8(text) {
  return new TextEncoder().encode(text).buffer;
}

function copyOf(view) {
  return view.slice().buffer;
}

function sameBytes(a, b) {
  const x = new Uint8Array(a);
  const y = new Uint8Array(b);
  return x.length === y.length && x.every((byte, i) => byte === y[i]);
}

function unsignedBytes(integer) {
  // An ASN.1 INTEGER's magnitude, without the sign byte DER may put in front.
  const view = integer.valueBlock.valueHexView;
  let start = 0;
  while (start < view.length - 1 && view[start] === 0) start += 1;
  return view.subarray(start);
}

function asnString(value) {
  if (value?.valueBlock && typeof value.valueBlock.value === "string") return value.valueBlock.value;
  return null;
}

/** Decrypt a PKCS#12 file: its private key (PKCS#8, PKI.js object) and certificates. */
async function openKeyFile(input, password) {
  if (typeof password !== "string") throw new TypeError("the password must be a string");
  // WebCrypto exists only in secure contexts: HTTPS, or localhost.
  if (!globalThis.crypto?.subtle) throw fail("insecure_page");
  const der = await bytesOf(input);
  let pfx;
  try {
    const asn1 = fromBER(der);
    if (asn1.offset === -1) throw new Error(asn1.result.error);
    pfx = new PFX({ schema: asn1.result });
  } catch (error) {
    throw fail("not_a_key_file", error);
  }
  if (pfx.authSafe.contentType !== OID.data) throw fail("unsupported_key_file");
  const secret = utf8(password);
  const engine = getCrypto(true);
  let macChecked = false;
  if (pfx.macData) {
    // The integrity MAC tells a wrong password apart from a damaged or foreign file.
    let intact;
    try {
      const mac = pfx.macData;
      intact = await engine.verifyDataStampedWithPassword({
        password: secret,
        hashAlgorithm: engine.getAlgorithmByOID(mac.mac.digestAlgorithm.algorithmId, true).name,
        salt: copyOf(mac.macSalt.valueBlock.valueHexView),
        iterationCount: mac.iterations || 1,
        contentToVerify: pfx.authSafe.content.getValue(),
        signatureToVerify: copyOf(mac.mac.digest.valueBlock.valueHexView),
      });
    } catch (error) {
      throw fail("unsupported_key_file", error);
    }
    if (!intact) throw fail("wrong_password");
    macChecked = true;
  }
  const keys = [];
  const certificates = [];
  try {
    await pfx.parseInternalValues({ password: secret, checkIntegrity: false });
    const safe = pfx.parsedValue.authenticatedSafe;
    await safe.parseInternalValues({
      safeContents: safe.safeContents.map(() => ({ password: secret })),
    });
    for (const { value } of safe.parsedValue.safeContents) {
      for (const bag of value.safeBags) {
        const localKeyId = bag.bagAttributes
          ?.find((attribute) => attribute.type === OID.localKeyId)
          ?.values[0]?.valueBlock.valueHexView;
        if (bag.bagId === OID.shroudedKeyBag) {
          await bag.bagValue.parseInternalValues({ password: secret });
          keys.push({ info: bag.bagValue.parsedValue, localKeyId });
        } else if (bag.bagId === OID.keyBag) {
          keys.push({ info: bag.bagValue, localKeyId });
        } else if (bag.bagId === OID.certBag && bag.bagValue.certId === OID.x509Certificate) {
          certificates.push({
            certificate: bag.bagValue.parsedValue,
            der: copyOf(bag.bagValue.certValue.valueBlock.valueHexView),
            localKeyId,
          });
        }
      }
    }
  } catch (error) {
    if (error instanceof QESError) throw error;
    // Without a MAC, a wrong password shows as a failed decryption (bad padding).
    if (!macChecked && error?.name === "OperationError") throw fail("wrong_password", error);
    throw fail("unsupported_key_file", error);
  }
  if (keys.length === 0) throw fail("no_private_key");
  const key = keys[0];
  const signer =
    certificates.find(({ certificate }) => publicKeyMatches(key.info, certificate)) ??
    certificates.find(
      ({ localKeyId }) => key.localKeyId && localKeyId && sameBytes(key.localKeyId, localKeyId),
    );
  if (!signer) throw fail("no_certificate");
  return { keyInfo: key.info, signer, certificates };
}

function publicKeyMatches(keyInfo, certificate) {
  const spki = certificate.subjectPublicKeyInfo;
  if (spki.algorithm.algorithmId !== keyInfo.privateKeyAlgorithm.algorithmId) return false;
  const ours = keyInfo.parsedKey;
  const theirs = spki.parsedKey;
  if (!ours || !theirs) return false;
  if (spki.algorithm.algorithmId === OID.rsaEncryption) {
    return sameBytes(unsignedBytes(ours.modulus), unsignedBytes(theirs.modulus));
  }
  if (spki.algorithm.algorithmId === OID.ecPublicKey && ours.publicKey) {
    return sameBytes(ours.publicKey.x, theirs.x) && sameBytes(ours.publicKey.y, theirs.y);
  }
  return false;
}

/** The WebCrypto signing key (non-extractable) of a decrypted PKCS#8 key. */
async function importSigningKey(keyInfo) {
  const algorithmId = keyInfo.privateKeyAlgorithm.algorithmId;
  let algorithm;
  if (algorithmId === OID.rsaEncryption) {
    algorithm = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  } else if (algorithmId === OID.ecPublicKey) {
    const params = keyInfo.privateKeyAlgorithm.algorithmParams;
    const namedCurve = params instanceof ObjectIdentifier ? CURVES[params.valueBlock.toString()] : undefined;
    if (!namedCurve) throw fail("unsupported_key");
    algorithm = { name: "ECDSA", namedCurve };
  } else {
    throw fail("unsupported_key");
  }
  try {
    const pkcs8 = keyInfo.toSchema().toBER(false);
    return await crypto.subtle.importKey("pkcs8", pkcs8, algorithm, false, ["sign"]);
  } catch (error) {
    throw fail("unsupported_key", error);
  }
}

function nameAttributes(name) {
  const found = new Map();
  for (const { type, value } of name.typesAndValues) {
    const text = asnString(value);
    if (text !== null && !found.has(type)) found.set(type, text);
  }
  return found;
}

function nameText(name) {
  const short = { "2.5.4.3": "CN", "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.6": "C", "2.5.4.7": "L" };
  return name.typesAndValues
    .map(({ type, value }) => `${short[type] ?? type}=${asnString(value) ?? "…"}`)
    .join(", ");
}

function directoryAttributes(certificate) {
  const found = new Map();
  const extension = certificate.extensions?.find((e) => e.extnID === OID.subjectDirectoryAttributes);
  for (const attribute of extension?.parsedValue?.attributes ?? []) {
    const text = asnString(attribute.values[0]);
    if (text !== null && !found.has(attribute.type)) found.set(attribute.type, text.trim());
  }
  return found;
}

function hex(bytes) {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

function keyDescription(certificate) {
  const spki = certificate.subjectPublicKeyInfo;
  if (spki.algorithm.algorithmId === OID.rsaEncryption && spki.parsedKey) {
    return `RSA ${unsignedBytes(spki.parsedKey.modulus).length * 8}`;
  }
  if (spki.algorithm.algorithmId === OID.ecPublicKey) {
    const params = spki.algorithm.algorithmParams;
    const curve = params instanceof ObjectIdentifier ? CURVES[params.valueBlock.toString()] : undefined;
    return `ECDSA ${curve ?? "unknown curve"}`;
  }
  return spki.algorithm.algorithmId;
}

/** What a page shows about the key file's certificate (interfaces.md: identity). */
function certificateInfo(certificate) {
  const subject = nameAttributes(certificate.subject);
  const issuer = nameAttributes(certificate.issuer);
  const directory = directoryAttributes(certificate);
  const tin = subject.get(OID.serialNumber);
  const ntr = subject.get(OID.organizationIdentifier);
  return {
    commonName: subject.get(OID.commonName) ?? null,
    organization: subject.get(OID.organization) ?? null,
    rnokpp: directory.get(OID.drfo) ?? (tin?.startsWith("TINUA-") ? tin.slice(6) : null),
    edrpou: directory.get(OID.edrpou) ?? (ntr?.startsWith("NTRUA-") ? ntr.slice(6) : null),
    subject: nameText(certificate.subject),
    issuer: issuer.get(OID.commonName) ?? nameText(certificate.issuer),
    issuerName: nameText(certificate.issuer),
    serialNumber: hex(unsignedBytes(certificate.serialNumber)),
    notBefore: certificate.notBefore.value.toISOString(),
    notAfter: certificate.notAfter.value.toISOString(),
    keyAlgorithm: keyDescription(certificate),
  };
}

function isSelfIssued(certificate) {
  return sameBytes(certificate.subject.toSchema().toBER(false), certificate.issuer.toSchema().toBER(false));
}

function derOrder(a, b) {
  // DER sorts a SET OF by its members' encodings, as octet strings.
  const x = new Uint8Array(a.toSchema().toBER(false));
  const y = new Uint8Array(b.toSchema().toBER(false));
  for (let i = 0; i < Math.max(x.length, y.length); i += 1) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The CAdES-BES signed attributes: content type, digest, signing time, signing certificate v2. */
async function signedAttributes(data, signer) {
  const [digest, certHash] = await Promise.all([
    crypto.subtle.digest("SHA-256", data),
    crypto.subtle.digest("SHA-256", signer.der),
  ]);
  const now = new Date();
  now.setMilliseconds(0);
  // RFC 5652: UTCTime until 2049, GeneralizedTime from 2050.
  const time =
    now.getUTCFullYear() < 2050
      ? new UTCTime({ valueDate: now })
      : new GeneralizedTime({ valueDate: now });
  const certificate = signer.certificate;
  const issuerSerial = new Sequence({
    value: [
      new GeneralNames({ names: [new GeneralName({ type: 4, value: certificate.issuer })] }).toSchema(),
      certificate.serialNumber,
    ],
  });
  // ESSCertIDv2's hashAlgorithm is left out: SHA-256 is its DEFAULT, which DER omits.
  const essCertIdV2 = new Sequence({ value: [new OctetString({ valueHex: certHash }), issuerSerial] });
  const signingCertificateV2 = new Sequence({ value: [new Sequence({ value: [essCertIdV2] })] });
  const attributes = [
    new Attribute({ type: OID.contentType, values: [new ObjectIdentifier({ value: OID.data })] }),
    new Attribute({ type: OID.signingTime, values: [time] }),
    new Attribute({ type: OID.messageDigest, values: [new OctetString({ valueHex: digest })] }),
    new Attribute({ type: OID.signingCertificateV2, values: [signingCertificateV2] }),
  ];
  return attributes.sort(derOrder);
}

function base64(buffer) {
  const bytes = new Uint8Array(buffer);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/**
 * Open a PKCS#12 key file with its password and describe its certificate.
 * Resolves to {commonName, organization, rnokpp, edrpou, subject, issuer, issuerName,
 * serialNumber, notBefore, notAfter, keyAlgorithm}; rejects with a QESError.
 */
export async function readKeyFile(keyFile, password) {
  const { keyInfo, signer } = await openKeyFile(keyFile, password);
  await importSigningKey(keyInfo);
  return certificateInfo(signer.certificate);
}

/**
 * Sign `challengeText` (as UTF-8) with the key file's key: a CAdES-BES CMS SignedData
 * (SHA-256; RSA PKCS#1 v1.5 or ECDSA), the signer's certificate included, the content
 * attached unless `detached`. Resolves to its DER in base64; rejects with a QESError.
 */
export async function signChallenge(keyFile, password, challengeText, { detached = false } = {}) {
  if (typeof challengeText !== "string" || challengeText === "") {
    throw new TypeError("the challenge must be a non-empty string");
  }
  const { keyInfo, signer, certificates } = await openKeyFile(keyFile, password);
  const privateKey = await importSigningKey(keyInfo);
  const data = utf8(challengeText);
  const certificate = signer.certificate;
  // The signer first, then any intermediate CA of the file; self-signed roots stay out.
  const intermediates = certificates
    .filter((c) => c !== signer && !isSelfIssued(c.certificate))
    .map((c) => c.certificate);
  const encapContentInfo = new EncapsulatedContentInfo({ eContentType: OID.data });
  // Set after construction: PKI.js's constructor would turn it into a constructed
  // (BER) OCTET STRING, which strict DER readers such as asn1crypto refuse.
  if (!detached) encapContentInfo.eContent = new OctetString({ valueHex: data });
  const cms = new SignedData({
    version: 1,
    encapContentInfo,
    signerInfos: [
      new SignerInfo({
        version: 1,
        sid: new IssuerAndSerialNumber({
          issuer: certificate.issuer,
          serialNumber: certificate.serialNumber,
        }),
        signedAttrs: new SignedAndUnsignedAttributes({
          type: 0,
          attributes: await signedAttributes(data, signer),
        }),
      }),
    ],
    certificates: [certificate, ...intermediates],
  });
  // PKI.js turns WebCrypto's raw ECDSA r||s into the DER SEQUENCE CMS wants.
  await cms.sign(privateKey, 0, "SHA-256", data);
  const contentInfo = new ContentInfo({ contentType: OID.signedData, content: cms.toSchema(true) });
  return base64(contentInfo.toSchema().toBER(false));
}

globalThis.DSOMQES = Object.freeze({ readKeyFile, signChallenge, QESError });

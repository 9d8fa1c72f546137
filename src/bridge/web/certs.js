// certs.js — the CERTS cell (tor-spec 4.2 "CERTS cells") and the check of a responder's
// certificates by an initiator that has no TLS connection to bind them to (doc/bridge.md: a
// WebSocket link is authenticated by the CERTS chain against the pinned identity, and each
// circuit by ntor with the pinned key). The chain is the one tor-spec 4.2 lists under "To
// authenticate the responder as having a given Ed25519,RSA identity key combination":
//   type 2  RSA-1024 identity, X.509, self-signed, in its validity period; its SHA-1 key digest
//           must be the bridge line's fingerprint;
//   type 7  RSA->Ed25519 cross-certificate (cert-spec 2.3), signed by that RSA key, unexpired;
//   type 4  Ed25519 identity -> signing key (cert-spec 2.1), with the signed-with-ed25519-key
//           extension (cert-spec 2.2.1) equal to the cross-certified identity, signed by it;
//   type 5  signing key -> TLS link, signed by the signing key, unexpired. What it certifies
//           (the TLS certificate's digest) has no counterpart on a WebSocket, so it is not used.
// Ed25519 signatures are checked with @noble/curves; RSA with rsa.js.
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concat, equalCt, hex, u16, u32, utf8 } from './bytes.js';
import {
  parseX509, rsaFingerprint, rsaVerifyPkcs1, rsaVerifyRawDigest,
} from './rsa.js';

export const CERTTYPE = Object.freeze({
  RSA_LINK: 1, RSA_ID: 2, RSA_AUTH: 3, ED_ID_SIGN: 4, ED_SIGN_LINK: 5, ED_SIGN_AUTH: 6,
  RSA_ED_CROSS: 7,
});

// CERTS payload: N, then N times CertType (1), CLEN (2), Certificate. Extra bytes are ignored.
export function parseCertsCell(p) {
  if (p.length < 1) throw new Error('CERTS: empty');
  const n = p[0];
  const certs = [];
  let o = 1;
  for (let i = 0; i < n; i++) {
    if (o + 3 > p.length) throw new Error('CERTS: truncated');
    const type = p[o], len = u16(p, o + 1);
    if (o + 3 + len > p.length) throw new Error('CERTS: certificate runs past the cell');
    certs.push({ type, body: p.slice(o + 3, o + 3 + len) });
    o += 3 + len;
  }
  return certs;
}

// cert-spec 2.1: an Ed25519 certificate. Extensions other than 4 with AFFECTS_VALIDATION make
// the certificate unusable.
export function parseEdCert(b) {
  if (b.length < 40 + 64) throw new Error('Ed25519 cert: too short');
  if (b[0] !== 1) throw new Error('Ed25519 cert: VERSION is not 1');
  const cert = {
    certType: b[1],
    expiresHours: u32(b, 2),
    keyType: b[6],
    certifiedKey: b.slice(7, 39),
    signingKey: null,
    signed: null,
    signature: null,
  };
  const next = b[39];
  let o = 40;
  for (let i = 0; i < next; i++) {
    if (o + 4 > b.length) throw new Error('Ed25519 cert: truncated extension');
    const len = u16(b, o), type = b[o + 2], flags = b[o + 3];
    if (o + 4 + len > b.length) throw new Error('Ed25519 cert: truncated extension');
    if (type === 4) {
      if (len !== 32) throw new Error('Ed25519 cert: signed-with-key extension not 32 bytes');
      cert.signingKey = b.slice(o + 4, o + 36);
    } else if (flags & 1) {
      throw new Error(`Ed25519 cert: unknown extension ${type} affects validation`);
    }
    o += 4 + len;
  }
  if (o + 64 !== b.length) throw new Error('Ed25519 cert: bad length');
  cert.signed = b.slice(0, o);
  cert.signature = b.slice(o);
  return cert;
}

const hoursNow = (nowMs) => nowMs / 3600000;

function checkEdCert(cert, type, signer, nowMs, what) {
  if (cert.certType !== type) throw new Error(`CERTS: ${what} has CERT_TYPE ${cert.certType}`);
  if (cert.signingKey && !equalCt(cert.signingKey, signer))
    throw new Error(`CERTS: ${what}: signed-with-key extension is not the signer`);
  if (!ed25519.verify(cert.signature, cert.signed, signer))
    throw new Error(`CERTS: ${what}: bad Ed25519 signature`);
  if (hoursNow(nowMs) >= cert.expiresHours) throw new Error(`CERTS: ${what}: expired`);
}

// cert-spec 2.3: ED25519_KEY (32), EXPIRATION_DATE (4, hours), SIGLEN (1), SIGNATURE.
export function parseCrossCert(b) {
  if (b.length < 37) throw new Error('cross-cert: too short');
  const siglen = b[36];
  if (37 + siglen !== b.length) throw new Error('cross-cert: bad SIGLEN');
  return {
    edKey: b.slice(0, 32),
    expiresHours: u32(b, 32),
    signed: b.slice(0, 36),
    signature: b.slice(37),
  };
}

const CROSSCERT_PREFIX = utf8('Tor TLS RSA/Ed25519 cross-certificate');

// Checks a responder's CERTS payload against the pinned RSA fingerprint (20 bytes). Returns
// {rsaFingerprint (hex), edIdentity, edSigning} or throws an Error saying what failed.
export function verifyResponderCerts(payload, pinnedRsaId, nowMs = Date.now()) {
  const certs = parseCertsCell(payload);
  const byType = new Map();
  for (const c of certs) {
    if (c.type >= 1 && c.type <= 7 && byType.has(c.type))
      throw new Error(`CERTS: duplicate type ${c.type} certificate`);
    byType.set(c.type, c.body);
  }
  for (const t of [CERTTYPE.RSA_ID, CERTTYPE.ED_ID_SIGN, CERTTYPE.ED_SIGN_LINK,
    CERTTYPE.RSA_ED_CROSS]) {
    if (!byType.has(t)) throw new Error(`CERTS: missing type ${t} certificate`);
  }

  // Type 2: RSA-1024, self-signed, valid now, and the pinned identity.
  const id = parseX509(byType.get(CERTTYPE.RSA_ID));
  if (id.key.bits !== 1024) throw new Error(`CERTS: identity key is RSA-${id.key.bits}`);
  if (!rsaVerifyPkcs1(id.key, id.sigAlg, id.tbsDer, id.signature))
    throw new Error('CERTS: type 2 identity certificate is not correctly self-signed');
  if (nowMs < id.notBefore || nowMs > id.notAfter)
    throw new Error('CERTS: type 2 identity certificate is outside its validity period');
  const fp = rsaFingerprint(id.key);
  if (!equalCt(fp, pinnedRsaId))
    throw new Error(`CERTS: identity ${hex(fp).toUpperCase()} is not the pinned ` +
      hex(pinnedRsaId).toUpperCase());

  // Type 7: the RSA identity vouches for the Ed25519 identity.
  const cc = parseCrossCert(byType.get(CERTTYPE.RSA_ED_CROSS));
  if (!rsaVerifyRawDigest(id.key, sha256(concat(CROSSCERT_PREFIX, cc.signed)), cc.signature))
    throw new Error('CERTS: type 7 cross-certificate: bad RSA signature');
  if (hoursNow(nowMs) >= cc.expiresHours)
    throw new Error('CERTS: type 7 cross-certificate expired');

  // Type 4: identity -> signing key; tor requires the identity in the extension.
  const idSign = parseEdCert(byType.get(CERTTYPE.ED_ID_SIGN));
  if (!idSign.signingKey) throw new Error('CERTS: type 4 certificate lacks signed-with-key');
  if (idSign.keyType !== 1) throw new Error('CERTS: type 4 does not certify an Ed25519 key');
  if (!equalCt(idSign.signingKey, cc.edKey))
    throw new Error('CERTS: type 4 identity is not the cross-certified one');
  checkEdCert(idSign, CERTTYPE.ED_ID_SIGN, cc.edKey, nowMs, 'type 4 identity->signing');

  // Type 5: signed by the signing key (its certified TLS digest is unused without TLS).
  const link = parseEdCert(byType.get(CERTTYPE.ED_SIGN_LINK));
  checkEdCert(link, CERTTYPE.ED_SIGN_LINK, idSign.certifiedKey, nowMs, 'type 5 signing->link');

  return {
    rsaFingerprint: hex(fp).toUpperCase(),
    edIdentity: cc.edKey,
    edSigning: idSign.certifiedKey,
  };
}

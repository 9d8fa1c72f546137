// rsa.js — what the client needs of RSA: a minimal DER reader (ITU-T X.690: definite lengths
// only), the X.509 fields tor's RSA identity certificate (CERTS type 2) carries, and RSA
// PKCS#1 v1.5 signature checks, both with a DigestInfo (X.509 signatures) and over the raw
// digest as tor signs its RSA->Ed25519 cross-certificate (cert-spec 2.3) and, later, directory
// documents. WebCrypto only verifies the DigestInfo form, so the check is m = s^e mod n with
// BigInt and a byte comparison of the whole encoded block (public values only: no secret here).
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concat, equalCt, hex, unhex } from './bytes.js';

// Reads the DER element at off: {tag, pos (of the tag), start (of contents), end, next}.
export function derRead(b, off) {
  if (off + 2 > b.length) throw new Error('DER: truncated');
  const tag = b[off];
  let len = b[off + 1];
  let p = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > b.length) throw new Error('DER: bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[p + i];
    p += n;
  }
  if (p + len > b.length) throw new Error('DER: element runs past its container');
  return { tag, pos: off, start: p, end: p + len, next: p + len };
}

// The children of a constructed element.
function derChildren(b, el) {
  const out = [];
  for (let o = el.start; o < el.end; ) {
    const c = derRead(b, o);
    if (c.end > el.end) throw new Error('DER: child runs past its parent');
    out.push(c);
    o = c.next;
  }
  return out;
}

function expectTag(el, tag, what) {
  if (el.tag !== tag) throw new Error(`DER: ${what}: tag ${el.tag}, expected ${tag}`);
  return el;
}

const OID_RSA = '2a864886f70d010101';
const OID_SHA1_RSA = '2a864886f70d010105';
const OID_SHA256_RSA = '2a864886f70d01010b';
const DIGESTINFO_SHA1 = unhex('3021300906052b0e03021a05000414');
const DIGESTINFO_SHA256 = unhex('3031300d060960864801650304020105000420');

function derTime(b, el) {
  const s = new TextDecoder().decode(b.slice(el.start, el.end));
  let m;
  if (el.tag === 0x17 && (m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s))) {
    const y = Number(m[1]);
    m[1] = String(y < 50 ? 2000 + y : 1900 + y);
  } else if (el.tag === 0x18 && (m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s))) {
    // GeneralizedTime
  } else throw new Error('X.509: bad time ' + s);
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
}

// RSAPublicKey (PKCS#1) DER -> {n, e (BigInt), bits, der}.
export function parseRsaPublicKey(der) {
  const seq = expectTag(derRead(der, 0), 0x30, 'RSAPublicKey');
  const [n, e] = derChildren(der, seq);
  if (!n || !e || n.tag !== 2 || e.tag !== 2) throw new Error('RSAPublicKey: bad fields');
  const nb = BigInt('0x' + (hex(der.slice(n.start, n.end)) || '0'));
  const eb = BigInt('0x' + (hex(der.slice(e.start, e.end)) || '0'));
  return { n: nb, e: eb, bits: nb.toString(2).length, der: der.slice(0, seq.next) };
}

// tor's RSA fingerprint: SHA-1 of the DER-encoded RSAPublicKey (tor-spec 0.3, "KEYID").
export const rsaFingerprint = (key) => sha1(key.der);

// X.509 DER -> {tbsDer, sigAlg, signature, notBefore, notAfter, key}.
export function parseX509(der) {
  const cert = expectTag(derRead(der, 0), 0x30, 'Certificate');
  const [tbsEl, algEl, sigEl] = derChildren(der, cert);
  expectTag(tbsEl, 0x30, 'tbsCertificate');
  expectTag(sigEl, 0x03, 'signatureValue');
  const alg = derChildren(der, expectTag(algEl, 0x30, 'signatureAlgorithm'))[0];
  const tbs = derChildren(der, tbsEl);
  let i = tbs[0].tag === 0xa0 ? 1 : 0; // [0] EXPLICIT version
  i += 2; // serialNumber, signature
  const validity = derChildren(der, expectTag(tbs[i + 1], 0x30, 'validity'));
  const spki = derChildren(der, expectTag(tbs[i + 3], 0x30, 'subjectPublicKeyInfo'));
  const keyAlg = derChildren(der, spki[0])[0];
  if (hex(der.slice(keyAlg.start, keyAlg.end)) !== OID_RSA) throw new Error('X.509: not RSA');
  const bits = expectTag(spki[1], 0x03, 'subjectPublicKey');
  if (der[bits.start] !== 0) throw new Error('X.509: unused bits in the key');
  return {
    tbsDer: der.slice(tbsEl.pos, tbsEl.end), // signed with its header
    sigAlg: hex(der.slice(alg.start, alg.end)),
    signature: der.slice(sigEl.start + 1, sigEl.end),
    notBefore: derTime(der, validity[0]),
    notAfter: derTime(der, validity[1]),
    key: parseRsaPublicKey(der.slice(bits.start + 1, bits.end)),
  };
}

function modPow(b, e, m) {
  let r = 1n;
  b %= m;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return r;
}

// RSA "encryption" of the signature with the public key: the encoded message block (k bytes).
function rsaOpen(key, sig) {
  const k = Math.ceil(key.bits / 8);
  if (sig.length !== k) return null;
  const s = BigInt('0x' + hex(sig));
  if (s >= key.n) return null;
  return unhex(modPow(s, key.e, key.n).toString(16).padStart(2 * k, '0'));
}

// PKCS#1 v1.5 type-1 block: 00 01 FF..FF 00 || content, at least 8 bytes of FF.
function pkcs1Block(k, content) {
  if (content.length + 11 > k) throw new Error('RSA: key too short for the content');
  const b = new Uint8Array(k).fill(0xff);
  b[0] = 0;
  b[1] = 1;
  b[k - content.length - 1] = 0;
  b.set(content, k - content.length);
  return b;
}

// tor's form: the signed content is the bare digest (no DigestInfo).
export function rsaVerifyRawDigest(key, digest, sig) {
  const m = rsaOpen(key, sig);
  return m !== null && equalCt(m, pkcs1Block(m.length, digest));
}

// RFC 8017 RSASSA-PKCS1-v1_5 with a DigestInfo (X.509 certificate signatures).
export function rsaVerifyPkcs1(key, sigAlg, message, sig) {
  let content;
  if (sigAlg === OID_SHA256_RSA) content = concat(DIGESTINFO_SHA256, sha256(message));
  else if (sigAlg === OID_SHA1_RSA) content = concat(DIGESTINFO_SHA1, sha1(message));
  else throw new Error('X.509: unsupported signature algorithm ' + sigAlg);
  const m = rsaOpen(key, sig);
  return m !== null && equalCt(m, pkcs1Block(m.length, content));
}

// authcert.js — directory authority key certificates (dir-spec 3.1): parsing a /tor/keys/...
// answer (one or more certificates) and checking each as tor does: the fingerprint is the
// SHA-1 of dir-identity-key, dir-key-crosscert is the signing key's signature over that
// fingerprint, dir-key-certification the identity key's signature over the SHA-1 of the
// certificate up to and including the "dir-key-certification" line. Both are PKCS#1 v1.5
// signatures over the raw digest (rsa.js). A certificate that fails is dropped with a reason;
// the caller then keeps only certificates of identities it pins.
import { sha1 } from '@noble/hashes/legacy.js';
import { hex } from './bytes.js';
import { hexId, parseTime, tokenize } from './netdoc.js';
import { parseRsaPublicKey, rsaFingerprint, rsaVerifyRawDigest } from './rsa.js';
import { equalCt } from './bytes.js';

const ONE = ['dir-key-certificate-version', 'fingerprint', 'dir-identity-key',
  'dir-key-published', 'dir-key-expires', 'dir-signing-key', 'dir-key-crosscert',
  'dir-key-certification'];
const WITH_OBJECT = new Set(['dir-identity-key', 'dir-signing-key', 'dir-key-crosscert',
  'dir-key-certification']);

function rsaKey(it, what) {
  if (!it.obj || it.obj.type !== 'RSA PUBLIC KEY') throw new Error(`${what}: not an RSA key`);
  const k = parseRsaPublicKey(it.obj.data);
  if (k.bits < 1024 || k.bits > 8192) throw new Error(`${what}: ${k.bits}-bit key`);
  return k;
}

// One certificate from its items (doc is the byte document they index into).
function checkOne(doc, items) {
  const by = {};
  for (const it of items) {
    if (ONE.includes(it.kw) || it.kw === 'dir-address') {
      if (by[it.kw]) throw new Error(`${it.kw} appears twice`);
      by[it.kw] = it;
      if (WITH_OBJECT.has(it.kw) !== !!it.obj)
        throw new Error(`${it.kw} ${it.obj ? 'has' : 'lacks'} an object`);
    } else if (!it.kw.startsWith('dir-')) throw new Error(`unexpected item ${it.kw}`);
  }
  for (const k of ONE) if (!by[k]) throw new Error(`missing ${k}`);
  if (items[items.length - 1] !== by['dir-key-certification'])
    throw new Error('dir-key-certification is not the last item');
  if (by['dir-key-certificate-version'].args[0] !== '3') throw new Error('not version 3');
  const v3ident = hexId(by.fingerprint.args[0], 'fingerprint');
  const idHex = hex(v3ident).toUpperCase();
  const published = parseTime(...by['dir-key-published'].args);
  const expires = parseTime(...by['dir-key-expires'].args);
  if (expires < published) throw new Error(`${idHex}: expires before it was published`);
  const identityKey = rsaKey(by['dir-identity-key'], 'dir-identity-key');
  const signingKey = rsaKey(by['dir-signing-key'], 'dir-signing-key');
  if (!equalCt(rsaFingerprint(identityKey), v3ident))
    throw new Error(`${idHex}: fingerprint is not the SHA-1 of dir-identity-key`);
  const cross = by['dir-key-crosscert'];
  if (cross.obj.type !== 'ID SIGNATURE' && cross.obj.type !== 'SIGNATURE')
    throw new Error(`${idHex}: dir-key-crosscert object type ${cross.obj.type}`);
  if (!rsaVerifyRawDigest(signingKey, v3ident, cross.obj.data))
    throw new Error(`${idHex}: bad dir-key-crosscert signature`);
  const cert = by['dir-key-certification'];
  if (cert.obj.type !== 'SIGNATURE')
    throw new Error(`${idHex}: dir-key-certification object type ${cert.obj.type}`);
  const digest = sha1(doc.subarray(items[0].start, cert.lineEnd));
  if (!rsaVerifyRawDigest(identityKey, digest, cert.obj.data))
    throw new Error(`${idHex}: bad dir-key-certification signature`);
  return { v3ident, idHex, published, expires, identityKey, signingKey,
    signingDigest: rsaFingerprint(signingKey), address: by['dir-address']?.args[0] || null };
}

// A /tor/keys/ answer -> {certs: [...verified], errors: [...strings]}. A certificate whose
// items cannot even be split is an error for the whole document.
export function parseAuthCerts(doc) {
  const items = tokenize(doc);
  const groups = [];
  for (const it of items) {
    if (it.kw === 'dir-key-certificate-version') groups.push([]);
    if (!groups.length) throw new Error('authcert: document does not start with a certificate');
    groups[groups.length - 1].push(it);
  }
  const certs = [];
  const errors = [];
  for (const g of groups) {
    try {
      certs.push(checkOne(doc, g));
    } catch (e) {
      errors.push('authcert: ' + e.message);
    }
  }
  return { certs, errors };
}

// tor's check of a certificate's lifetime at `now` (ms), with skew (ms) either way.
export function certTimeProblem(c, now, skew) {
  if (now > c.expires + skew) return 'expired';
  if (c.published > now + skew) return 'published in the future';
  return null;
}

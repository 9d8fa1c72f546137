// certs.test.mjs — node:test checks of the web client's CERTS verification
// (src/bridge/web/certs.js, rsa.js) on the real tor 0.4.9 CERTS cell that
// tests/unit/test_certs_verify.c checks: the vector is read from that C file (one copy shared by
// both tests): the chain 2 -> 7 -> 4 -> 5 verifies at the capture time for tor's fingerprint and
// Ed25519 identity, and fails for another pinned fingerprint, a week later (expired link
// certificate), a flipped bit in any signature, a missing or duplicated certificate.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseCertsCell, verifyResponderCerts } from '../../../src/bridge/web/certs.js';
import { concat, hex, put16, unhex } from '../../../src/bridge/web/bytes.js';

const C = fs.readFileSync(fileURLToPath(new URL('../test_certs_verify.c', import.meta.url)),
  'utf8');
const cString = (name) => {
  const m = new RegExp(`static const char ${name}\\[\\] =([^;]*);`).exec(C);
  return m[1].match(/"([^"]*)"/g).map((s) => s.slice(1, -1)).join('');
};
const BODY = unhex(cString('TOR049_CERTS_BODY'));
const NOW_MS = Number(/#define TOR049_CERTS_NOW (\d+)/.exec(C)[1]) * 1000;
const FP = cString('TOR049_RSA_FP');
const ED = cString('TOR049_ED_ID');
const DAY_MS = 86400000;

// Rebuilds a CERTS payload from a list of {type, body}.
const encode = (certs) => concat(Uint8Array.of(certs.length), ...certs.map((c) => {
  const h = new Uint8Array(3);
  h[0] = c.type;
  put16(h, 1, c.body.length);
  return concat(h, c.body);
}));

test('certs: real tor 0.4.9 CERTS verifies for its pinned fingerprint', () => {
  assert.equal(BODY.length, 1449);
  const certs = parseCertsCell(BODY);
  assert.deepEqual(certs.map((c) => c.type).sort(), [1, 2, 4, 5, 7]);
  const id = verifyResponderCerts(BODY, unhex(FP), NOW_MS);
  assert.equal(id.rsaFingerprint, FP);
  assert.equal(hex(id.edIdentity), ED);
});

test('certs: another pinned fingerprint is refused', () => {
  const other = unhex(FP);
  other[19] ^= 1;
  assert.throws(() => verifyResponderCerts(BODY, other, NOW_MS), /is not the pinned/);
});

test('certs: expired a week later, not yet valid before the X.509 validity', () => {
  assert.throws(() => verifyResponderCerts(BODY, unhex(FP), NOW_MS + 7 * DAY_MS),
    /expired|validity/);
  assert.throws(() => verifyResponderCerts(BODY, unhex(FP), NOW_MS - 400 * DAY_MS), /validity/);
});

test('certs: a flipped bit in each signature is caught', () => {
  const certs = parseCertsCell(BODY);
  const cases = [[2, /self-signed/], [7, /type 7.*RSA signature/], [4, /type 4.*signature/],
    [5, /type 5.*signature/]];
  for (const [type, re] of cases) {
    const mut = certs.map((c) => ({ type: c.type, body: c.body.slice() }));
    const c = mut.find((x) => x.type === type);
    c.body[c.body.length - 2] ^= 0x10; // inside the signature (last field of each format)
    assert.throws(() => verifyResponderCerts(encode(mut), unhex(FP), NOW_MS), re, `type ${type}`);
  }
});

test('certs: missing or duplicated certificates are refused', () => {
  const certs = parseCertsCell(BODY);
  for (const t of [2, 4, 5, 7]) {
    assert.throws(() => verifyResponderCerts(encode(certs.filter((c) => c.type !== t)),
      unhex(FP), NOW_MS), new RegExp(`missing type ${t}`));
  }
  assert.throws(() => verifyResponderCerts(encode([...certs, certs[2]]), unhex(FP), NOW_MS),
    /duplicate/);
  assert.throws(() => verifyResponderCerts(BODY.slice(0, 700), unhex(FP), NOW_MS),
    /truncated|runs past/);
});

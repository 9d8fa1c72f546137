// crypto.test.mjs — node:test checks of the web client's ntor (src/bridge/web/ntor.js) and tor1
// relay crypto (relay_crypto.js). ntor: the vector of tests/unit/test_ntor.c, read from it
// (tor-spec has none; that one was derived independently in Python from the spec, and the C
// code passes it).
// tor1: a vector made by tests/unit/web/relay_vector.py (Python hashlib + `cryptography` AES).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ctr } from '@noble/ciphers/aes.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ntorClientFinish, ntorClientStart } from '../../../src/bridge/web/ntor.js';
import { CtrStream, Tor1Hop } from '../../../src/bridge/web/relay_crypto.js';
import { concat, hex, unhex } from '../../../src/bridge/web/bytes.js';

// The vector of tests/unit/test_ntor.c, read from that file (#define V_name "hex" ...).
const C = fs.readFileSync(fileURLToPath(new URL('../test_ntor.c', import.meta.url)), 'utf8');
const cDefine = (name) => {
  const m = new RegExp(`#define V_${name}[\\s\\\\]+((?:"[0-9a-f]*"[\\s\\\\]*)+)`).exec(C);
  return m[1].match(/"([0-9a-f]*)"/g).map((x) => x.slice(1, -1)).join('');
};
const V = {};
for (const n of ['B', 'x', 'X', 'Y', 'ID', 'KEYS', 'KH']) V[n] = cDefine(n);
// #define V_REPLY V_Y "auth"
V.AUTH = /#define V_REPLY\s+V_Y\s+"([0-9a-f]{64})"/.exec(C)[1];

test('ntor: client onionskin and keys match the C test vector', () => {
  const st = ntorClientStart(unhex(V.ID), unhex(V.B), unhex(V.x));
  assert.equal(hex(st.X), V.X);
  assert.equal(hex(st.onionskin), V.ID + V.B + V.X);
  const keys = ntorClientFinish(st, unhex(V.Y + V.AUTH));
  assert.equal(hex(keys), V.KEYS);
  assert.equal(hex(ntorClientFinish(st, unhex(V.Y + V.AUTH), 92).slice(72)), V.KH);
});

test('ntor: a wrong AUTH, Y, B or ID is refused', () => {
  const st = ntorClientStart(unhex(V.ID), unhex(V.B), unhex(V.x));
  const bad = unhex(V.Y + V.AUTH);
  bad[40] ^= 1;
  assert.throws(() => ntorClientFinish(st, bad), /AUTH mismatch/);
  const badY = unhex(V.Y + V.AUTH);
  badY[3] ^= 1;
  assert.throws(() => ntorClientFinish(st, badY), /AUTH mismatch/);
  const otherId = unhex(V.ID);
  otherId[0] ^= 1;
  assert.throws(() => ntorClientFinish(ntorClientStart(otherId, unhex(V.B), unhex(V.x)),
    unhex(V.Y + V.AUTH)), /AUTH mismatch/);
  // Y of small order (0): the shared secret is all-zero.
  assert.throws(() => ntorClientFinish(st, concat(new Uint8Array(32), unhex(V.AUTH))),
    /point at infinity/);
});

test('relay crypto: the CTR keystream continues across calls like one long CTR', () => {
  const key = Uint8Array.from({ length: 16 }, (_, i) => i * 3);
  const all = ctr(key, new Uint8Array(16)).encrypt(new Uint8Array(5000));
  const s = new CtrStream(key);
  const parts = [];
  for (const n of [1, 15, 509, 509, 1000, 1966, 1000]) parts.push(s.xor(new Uint8Array(n)));
  assert.deepEqual(concat(...parts), all);
});

test('relay crypto: the CTR keystream stays continuous across its growing runs (300 KiB)', () => {
  const key = Uint8Array.from({ length: 16 }, (_, i) => 255 - i);
  const total = 300 * 1024;
  const all = ctr(key, new Uint8Array(16)).encrypt(new Uint8Array(total));
  const s = new CtrStream(key);
  const parts = [];
  for (let o = 0, n = 1; o < total; o += n, n = (n * 7 + 509) % 5003 + 1)
    parts.push(s.xor(new Uint8Array(Math.min(n, total - o))));
  assert.deepEqual(concat(...parts), all);
});

test('relay crypto: WebCrypto runs asked ahead give the same keystream as @noble', async () => {
  const key = Uint8Array.from({ length: 16 }, (_, i) => i * 11 + 5);
  const total = 400 * 1024;
  const all = ctr(key, new Uint8Array(16)).encrypt(new Uint8Array(total));
  const s = new CtrStream(key);
  const parts = [];
  for (let o = 0, n = 509; o < total; o += n) {
    parts.push(s.xor(new Uint8Array(Math.min(n, total - o))));
    if (o % 8 === 0) await new Promise((r) => setTimeout(r, 0)); // lets WebCrypto deliver
  }
  assert.deepEqual(concat(...parts), all);
  if (globalThis.crypto?.subtle) assert.ok(s.runs.web > 0, JSON.stringify(s.runs));
  const plain = new CtrStream(key, { webCrypto: false });
  assert.deepEqual(plain.xor(new Uint8Array(total)), all);
  assert.equal(plain.runs.web, 0);
});

// relay_vector.py: keys[j] = 7j+1, three RELAY_DATA cells.
const R = [
  ['a97d2bce282a61df2882246fd69d33d3c0c1e7cc',
    '8fcd1f71c5c6afb04189c55b25967c7b6b2d93b48548e90b13cd6dd9bd2e241f'],
  ['555823c90c6da2504867df649e02d7264d3115b4',
    'bff7ee40ac47be1caa20b39307aa1ba7d050e78cd3b32ec00548bd630868c3eb'],
  ['5e00bb4d8cf16058f6db294a01c56323a6361a86',
    '7da39ef77f1ede59a3c0b48d488df575bda065c86db3b8e33f3bfb38e5737c47'],
];
const keys = Uint8Array.from({ length: 72 }, (_, j) => (7 * j + 1) & 0xff);
const cellOf = (seq) => {
  const p = new Uint8Array(509);
  p[0] = 2;
  p[4] = 1;
  p[10] = 100;
  for (let i = 11; i < 509; i++) p[i] = (seq * 13 + i) & 0xff;
  return p;
};

test('relay crypto: tor1 outbound matches the independent vector', () => {
  const hop = new Tor1Hop(keys);
  for (let seq = 0; seq < 3; seq++) {
    const p = cellOf(seq);
    const d = hop.encryptOutbound(p);
    assert.equal(hex(d), R[seq][0]);
    assert.equal(hex(sha256(p)), R[seq][1]);
  }
});

// The relay's side of one hop is a Tor1Hop with the directions swapped.
const swapped = concat(keys.slice(20, 40), keys.slice(0, 20), keys.slice(56, 72),
  keys.slice(40, 56));

test('relay crypto: inbound cells are recognized, digests roll, tampering is caught', () => {
  const client = new Tor1Hop(keys);
  const relay = new Tor1Hop(swapped);
  for (let seq = 0; seq < 3; seq++) {
    const p = cellOf(seq);
    const plain = p.slice();
    const d = relay.encryptOutbound(p);
    assert.ok(client.decryptInbound(p));
    assert.deepEqual(client.lastBackDigest, d); // what SENDME v1 carries
    plain.set(p.slice(5, 9), 5);
    assert.deepEqual(p, plain);
  }
  const p = cellOf(9);
  relay.encryptOutbound(p);
  p[100] ^= 0x20;
  assert.equal(client.decryptInbound(p), false);
});

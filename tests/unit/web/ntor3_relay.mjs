// ntor3_relay.mjs — the relay side of ntor-v3 for the web client's tests, written from
// proposal 332's formulas (test-only; ntor3.test.mjs checks it reproduces the proposal's vector,
// so other tests may use it as a relay): the client's plaintext message, the reply with the
// relay's message sm, and the 92 bytes of KEYSTREAM.
import assert from 'node:assert/strict';
import { x25519 } from '@noble/curves/ed25519.js';
import { sha3_256, shake256 } from '@noble/hashes/sha3.js';
import { ctr } from '@noble/ciphers/aes.js';
import { NTOR3_CIRC_VERIFICATION } from '../../../src/bridge/web/ntor3.js';
import { concat, utf8 } from '../../../src/bridge/web/bytes.js';

const PROTOID = utf8('ntor3-curve25519-sha3_256-1');
const tw = (s) => utf8('ntor3-curve25519-sha3_256-1:' + s);
function encap(s) {
  const o = new Uint8Array(8 + s.length);
  new DataView(o.buffer).setBigUint64(0, BigInt(s.length));
  o.set(s, 8);
  return o;
}
const aes = (k, m) => ctr(k, new Uint8Array(16)).encrypt(m);

// Returns {cm (client's plaintext), reply, keys (92)} for onionskin sent to relay (id, b).
export function ntor3Server({ id, b }, onionskin, { y = x25519.utils.randomSecretKey(), sm,
  ver = NTOR3_CIRC_VERIFICATION } = {}) {
  const B = x25519.getPublicKey(b);
  assert.deepEqual(onionskin.slice(0, 32), id, 'NODEID');
  assert.deepEqual(onionskin.slice(32, 64), B, 'KEYID');
  const X = onionskin.slice(64, 96);
  const msg = onionskin.slice(96, -32);
  const xb = x25519.getSharedSecret(b, X);
  const ph1 = shake256(concat(encap(tw('kdf_phase1')), xb, id, X, B, PROTOID, encap(ver)),
    { dkLen: 64 });
  const mac = sha3_256(concat(encap(tw('msg_mac')), encap(ph1.slice(32)), id, B, X, msg));
  assert.deepEqual(mac, onionskin.slice(-32), 'client MAC');
  const cm = aes(ph1.slice(0, 32), msg);
  const Y = x25519.getPublicKey(y);
  const si = concat(x25519.getSharedSecret(y, X), xb, id, B, X, Y, PROTOID, encap(ver));
  const seed = sha3_256(concat(encap(tw('key_seed')), si));
  const verify = sha3_256(concat(encap(tw('verify')), si));
  const ks = shake256(concat(encap(tw('kdf_final')), seed), { dkLen: 32 + 92 });
  const enc = aes(ks.slice(0, 32), sm);
  const auth = sha3_256(concat(encap(tw('auth_final')), verify, id, B, Y, X, mac, encap(enc),
    PROTOID, utf8('Server')));
  return { cm, reply: concat(Y, auth, enc), keys: ks.slice(32) };
}


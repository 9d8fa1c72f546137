// ntor3.js — the client side of the ntor-v3 handshake (CREATE2 handshake type 3; tor-spec
// "The ntor-v3 handshake", proposal 332) and the extension lists its messages carry (tor-spec
// "create-created-cells": N_EXTENSIONS (1), then per extension TYPE (1) LEN (1) BODY). The
// onionskin is ID (the relay's Ed25519 identity, 32) | B (its ntor key, 32) | X (32) | the
// encrypted client message | MAC (32); the reply is Y (32) | AUTH (32) | the encrypted server
// message. Key material: the SHAKE-256 "kdf_final" stream after its first 32 bytes (the key of
// the server message) is Df (20) | Db (20) | Kf (16) | Kb (16) | KH (20), the tor1 layout of
// ntor (relay_crypto.js). SHA3-256 / SHAKE-256 are @noble/hashes', X25519 @noble/curves',
// AES-256-CTR @noble/ciphers'.
import { x25519 } from '@noble/curves/ed25519.js';
import { sha3_256, shake256 } from '@noble/hashes/sha3.js';
import { ctr } from '@noble/ciphers/aes.js';
import { concat, equalCt, isZero, utf8 } from './bytes.js';

const PROTOID = 'ntor3-curve25519-sha3_256-1';
const T_MSGKDF = utf8(PROTOID + ':kdf_phase1');
const T_MSGMAC = utf8(PROTOID + ':msg_mac');
const T_KEY_SEED = utf8(PROTOID + ':key_seed');
const T_VERIFY = utf8(PROTOID + ':verify');
const T_FINAL = utf8(PROTOID + ':kdf_final');
const T_AUTH = utf8(PROTOID + ':auth_final');
export const NTOR3_HTYPE = 3;
export const NTOR3_ONIONSKIN_OVERHEAD = 128; // ID B X MAC, plus the message
export const NTOR3_REPLY_OVERHEAD = 64; // Y AUTH, plus the message
export const NTOR3_KEY_LEN = 72; // Df Db Kf Kb (KH follows when asked for 92)
// The verification string tor and arti bind into CREATE2 / EXTEND2 handshakes.
export const NTOR3_CIRC_VERIFICATION = utf8('circuit extend');
// Proposal 324's congestion-control extension types (we never request it).
export const EXT_CC_REQUEST = 1;
export const EXT_CC_RESPONSE = 2;

// ENCAP(s) = htonll(len(s)) | s
function encap(s) {
  const out = new Uint8Array(8 + s.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(s.length));
  out.set(s, 8);
  return out;
}
const H = (s, t) => sha3_256(concat(encap(t), s));
const MAC = (k, msg, t) => sha3_256(concat(encap(t), encap(k), msg));
const KDF = (s, t, n) => shake256(concat(encap(t), s), { dkLen: n });
const ENC = (k, m) => ctr(k, new Uint8Array(16)).encrypt(m);

function exp(priv, pub) {
  let s;
  try {
    s = x25519.getSharedSecret(priv, pub);
  } catch {
    return null; // a low-order point
  }
  return isZero(s) ? null : s;
}

// Starts a handshake with a relay of Ed25519 identity id (32) and ntor key B (32), sending the
// plaintext message (default: an empty extension list) bound to verification. opts.secret
// fixes x (test vectors).
export function ntor3ClientStart(id, B, opts = {}) {
  if (id?.length !== 32 || B?.length !== 32) throw new Error('ntor-v3: bad ID or B length');
  const ver = opts.verification ?? NTOR3_CIRC_VERIFICATION;
  const cm = opts.message ?? encodeExtensions([]);
  const x = opts.secret ?? x25519.utils.randomSecretKey();
  const X = x25519.getPublicKey(x);
  const bx = exp(x, B);
  if (!bx) throw new Error('ntor-v3: the relay key gives a degenerate Diffie-Hellman result');
  const ph1 = KDF(concat(bx, id, X, B, utf8(PROTOID), encap(ver)), T_MSGKDF, 64);
  const encMsg = ENC(ph1.slice(0, 32), cm);
  const msgMac = MAC(ph1.slice(32, 64), concat(id, B, X, encMsg), T_MSGMAC);
  return { id, B, x, X, bx, ver, msgMac, onionskin: concat(id, B, X, encMsg, msgMac) };
}

// Finishes it with the relay's reply (CREATED2 / EXTENDED2 HDATA). Returns {keys (keyLen bytes
// of KEYSTREAM), message (the relay's plaintext message)}, or throws when the reply is short,
// AUTH does not match or a DH result is degenerate.
export function ntor3ClientFinish(st, reply, keyLen = NTOR3_KEY_LEN) {
  if (reply.length < NTOR3_REPLY_OVERHEAD) throw new Error('ntor-v3: reply too short');
  const Y = reply.slice(0, 32);
  const auth = reply.slice(32, 64);
  const encMsg = reply.slice(64);
  const yx = exp(st.x, Y);
  if (!yx) throw new Error('ntor-v3: a Diffie-Hellman result is the point at infinity');
  const secretInput = concat(yx, st.bx, st.id, st.B, st.X, Y, utf8(PROTOID), encap(st.ver));
  const seed = H(secretInput, T_KEY_SEED);
  const verify = H(secretInput, T_VERIFY);
  const authInput = concat(verify, st.id, st.B, Y, st.X, st.msgMac, encap(encMsg),
    utf8(PROTOID), utf8('Server'));
  if (!equalCt(H(authInput, T_AUTH), auth)) throw new Error('ntor-v3: AUTH mismatch');
  const ks = KDF(seed, T_FINAL, 32 + keyLen);
  return { keys: ks.slice(32), message: ENC(ks.slice(0, 32), encMsg) };
}

// [{type, body}] -> N_EXTENSIONS | (TYPE LEN BODY)*.
export function encodeExtensions(exts) {
  if (exts.length > 255) throw new Error('ntor-v3: too many extensions');
  const parts = [Uint8Array.of(exts.length)];
  for (const e of exts) {
    if (e.body.length > 255) throw new Error('ntor-v3: extension body over 255 bytes');
    parts.push(Uint8Array.of(e.type, e.body.length), e.body);
  }
  return concat(...parts);
}

// The inverse; throws on an empty, truncated or over-long list (tor-spec: "MUST reject
// messages that are not well-formed").
export function parseExtensions(msg) {
  if (msg.length < 1) throw new Error('ntor-v3: empty extension message');
  const out = [];
  let o = 1;
  for (let i = 0; i < msg[0]; i++) {
    if (msg.length - o < 2) throw new Error('ntor-v3: extension list truncated');
    const type = msg[o], len = msg[o + 1];
    o += 2;
    if (msg.length - o < len) throw new Error('ntor-v3: extension body past the message');
    out.push({ type, body: msg.slice(o, o + len) });
    o += len;
  }
  if (o !== msg.length) throw new Error('ntor-v3: bytes after the extension list');
  return out;
}

// The relay's message of a circuit handshake where we asked for nothing: a well-formed list,
// unknown types ignored, and no congestion-control reply (proposal 324: one we did not request
// closes the circuit). Returns the parsed list.
export function checkServerExtensions(msg) {
  const exts = parseExtensions(msg);
  if (exts.some((e) => e.type === EXT_CC_RESPONSE))
    throw new Error('ntor-v3: congestion-control reply we did not ask for');
  return exts;
}

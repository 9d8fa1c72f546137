// ntor.js — the client side of the ntor handshake (tor-spec 5.1.4 "The ntor handshake") and
// its key expansion (5.2.2 "KDF-RFC5869", HKDF-SHA256 with salt t_key and info m_expand). The
// onionskin is NODEID (the RSA identity digest, 20) | KEYID (the ntor key B, 32) | X (32); the
// reply is Y (32) | AUTH (32). The client checks AUTH and that no EXP() gave the all-zero point.
// Curve25519 and HMAC/HKDF-SHA256 are @noble's.
import { x25519 } from '@noble/curves/ed25519.js';
import { hmac } from '@noble/hashes/hmac.js';
import { expand } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concat, equalCt, isZero, utf8 } from './bytes.js';

const PROTOID = 'ntor-curve25519-sha256-1';
const T_MAC = utf8(PROTOID + ':mac');
const T_KEY = utf8(PROTOID + ':key_extract');
const T_VERIFY = utf8(PROTOID + ':verify');
const M_EXPAND = utf8(PROTOID + ':key_expand');
export const NTOR_HTYPE = 2;
export const NTOR_ONIONSKIN_LEN = 84;
export const NTOR_REPLY_LEN = 64;
// Df (20) | Db (20) | Kf (16) | Kb (16) | KH (20, unused by relay crypto).
export const NTOR_KEY_LEN = 72;

const H = (msg, key) => hmac(sha256, key, msg);

function exp(priv, pub) {
  let s;
  try {
    s = x25519.getSharedSecret(priv, pub);
  } catch {
    return null; // a low-order point: the "point at infinity" case
  }
  return isZero(s) ? null : s;
}

// Starts a handshake with a relay of RSA identity digest id (20) and ntor key B (32). secret
// is the client's private key x (32 random bytes unless a test gives one).
export function ntorClientStart(id, B, secret = x25519.utils.randomSecretKey()) {
  if (id.length !== 20 || B.length !== 32) throw new Error('ntor: bad ID or B length');
  const X = x25519.getPublicKey(secret);
  return { id, B, x: secret, X, onionskin: concat(id, B, X) };
}

// Finishes it with the server's reply: returns the 72 bytes of key material, or throws when
// AUTH does not match (the relay does not hold b, or the reply was altered).
export function ntorClientFinish(st, reply, keyLen = NTOR_KEY_LEN) {
  if (reply.length < NTOR_REPLY_LEN) throw new Error('ntor: reply too short');
  const Y = reply.slice(0, 32);
  const auth = reply.slice(32, 64);
  const xy = exp(st.x, Y);
  const xb = exp(st.x, st.B);
  if (!xy || !xb) throw new Error('ntor: a Diffie-Hellman result is the point at infinity');
  const secretInput = concat(xy, xb, st.id, st.B, st.X, Y, utf8(PROTOID));
  const keySeed = H(secretInput, T_KEY);
  const verify = H(secretInput, T_VERIFY);
  const authInput = concat(verify, st.id, st.B, Y, st.X, utf8(PROTOID), utf8('Server'));
  if (!equalCt(H(authInput, T_MAC), auth)) throw new Error('ntor: AUTH mismatch');
  // KEY_SEED is HKDF-Extract(salt = t_key, IKM = secret_input): expand it directly.
  return expand(sha256, keySeed, M_EXPAND, keyLen);
}

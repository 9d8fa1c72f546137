// relay_crypto.js — the "tor1" relay cell encryption of one hop, client side (tor-spec 5.2.2
// for the key layout, 0.3 for the ciphers, 5.5 "Routing relay cells", 6.1 "Relay cells" for the
// digests): AES-128-CTR with an all-zero IV over the stream of 509-byte relay payloads in each
// direction (Kf forward, Kb backward), and running SHA-1 digests seeded with Df / Db over every
// payload of the hop (with its 4-byte digest field zeroed). AES is @noble/ciphers' CTR mode;
// only the counter bookkeeping for a keystream that continues across cells is here. SHA-1 is
// @noble/hashes' incremental sha1 (its state cloned to check a cell before committing it).
import { ctr } from '@noble/ciphers/aes.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { equalCt } from './bytes.js';

// Keystream is generated in runs of 16-byte blocks, growing from 1 KiB (short-lived circuits
// pay little) to 64 KiB. Where WebCrypto is there (a secure context: https, localhost, node),
// the next run is asked of crypto.subtle's AES-CTR while this one is used; a run it has not
// delivered in time, and every run without WebCrypto (a plain http:// page), is @noble's ctr
// (a new ctr object, so one AES key schedule, per run). Both give the same bytes.
const KS_MIN_BLOCKS = 64;
const KS_MAX_BLOCKS = 4096;

const subtle = globalThis.crypto?.subtle;

function counterBlock(block) {
  const iv = new Uint8Array(16);
  for (let i = 15, c = block; i >= 0 && c > 0n; i--, c >>= 8n) iv[i] = Number(c & 0xffn);
  return iv;
}

// An AES-128-CTR keystream that continues from one call to the next (IV 0, 128-bit big-endian
// counter, as tor's aes_crypt_inplace).
export class CtrStream {
  constructor(key, { webCrypto = true } = {}) {
    this.key = key;
    this.block = 0n;
    this.ks = new Uint8Array(0);
    this.pos = 0;
    this.run = KS_MIN_BLOCKS;
    this.ahead = null; // {block, run, ks} asked of WebCrypto; ks set once it came
    this.runs = { web: 0, noble: 0 };
    this.webKey = webCrypto && subtle ?
      subtle.importKey('raw', key, 'AES-CTR', false, ['encrypt']).catch(() => null) : null;
  }

  refill() {
    const a = this.ahead;
    if (a && a.ks && a.block === this.block) {
      this.ks = a.ks;
      this.run = a.run;
      this.runs.web++;
    } else {
      this.ks = ctr(this.key, counterBlock(this.block)).encrypt(new Uint8Array(16 * this.run));
      this.runs.noble++;
    }
    this.ahead = null;
    this.block += BigInt(this.run);
    this.pos = 0;
    if (this.run < KS_MAX_BLOCKS) this.run *= 2;
    if (this.webKey) this.askAhead();
  }

  askAhead() {
    const a = { block: this.block, run: this.run, ks: null };
    this.ahead = a;
    this.webKey.then((k) => k && subtle.encrypt({ name: 'AES-CTR', counter: counterBlock(a.block),
      length: 128 }, k, new Uint8Array(16 * a.run)))
      .then((buf) => { if (buf) a.ks = new Uint8Array(buf); }, () => {});
  }

  // XORs data with the next bytes of the keystream, in place.
  xor(data) {
    for (let i = 0; i < data.length; ) {
      if (this.pos === this.ks.length) this.refill();
      const ks = this.ks;
      const n = Math.min(data.length - i, ks.length - this.pos);
      for (let k = this.pos, end = i + n; i < end; i++, k++) data[i] ^= ks[k];
      this.pos += n;
    }
    return data;
  }
}

export class Tor1Hop {
  // keys: Df (20) | Db (20) | Kf (16) | Kb (16) [| KH], from ntor's KDF.
  constructor(keys) {
    this.fwdDigest = sha1.create().update(keys.slice(0, 20));
    this.backDigest = sha1.create().update(keys.slice(20, 40));
    this.fwdCipher = new CtrStream(keys.slice(40, 56));
    this.backCipher = new CtrStream(keys.slice(56, 72));
    this.lastBackDigest = null; // 20 bytes: what a SENDME v1 acknowledges
    this.spare = sha1.create(); // scratch states for decryptInbound's trial digests
    this.final = sha1.create();
  }

  // Sets the digest field (bytes 5..8) of a plaintext relay payload from the forward running
  // digest, then encrypts it in place. Returns the full 20-byte digest (SENDME v1 bookkeeping).
  encryptOutbound(payload) {
    payload.fill(0, 5, 9);
    this.fwdDigest.update(payload);
    const d = this.fwdDigest.clone().digest();
    payload.set(d.slice(0, 4), 5);
    this.fwdCipher.xor(payload);
    return d;
  }

  // Decrypts a payload in place; returns true if the cell is recognized by this hop (field
  // "recognized" zero and the digest matching), in which case the running digest advances.
  decryptInbound(payload) {
    this.backCipher.xor(payload);
    if (payload[1] !== 0 || payload[2] !== 0) return false;
    const got = payload.slice(5, 9);
    payload.fill(0, 5, 9);
    // The trial state and its finalized copy reuse two spare hash objects (@noble's clone() is
    // _cloneInto(new object)): no allocation per cell beyond the 20-byte digest.
    const trial = this.backDigest._cloneInto(this.spare).update(payload);
    const d = new Uint8Array(20);
    trial._cloneInto(this.final).digestInto(d);
    payload.set(got, 5);
    if (!equalCt(d.subarray(0, 4), got)) {
      this.spare = trial;
      return false;
    }
    this.spare = this.backDigest;
    this.backDigest = trial;
    this.lastBackDigest = d;
    return true;
  }
}

// sim_net.mjs — a simulated network of relays behind a fake link, for tests of TorClient that
// build several circuits (retry.test.mjs). Relay 0 is the bridge (CREATE2 over the link); every
// relay runs the ntor server side, peels its layer of forward relay crypto and handles what it
// recognizes: EXTEND2 to a relay of the network (by its RSA identity link specifier) answered
// with EXTENDED2, or with TRUNCATED CONNECTFAILED when that relay is in opts.dead, or never when
// it is in opts.silent (a hop that does not answer); BEGIN and DATA go to opts.onBegin /
// opts.onData(net, c, hop, r). Circuits are kept per circuit ID, so retries get fresh ones.
import assert from 'node:assert/strict';
import { x25519 } from '@noble/curves/ed25519.js';
import { hmac } from '@noble/hashes/hmac.js';
import { expand } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { CMD } from '../../../src/bridge/web/cell.js';
import { Tor1Hop } from '../../../src/bridge/web/relay_crypto.js';
import { decodeRelay, encodeRelay, RELAY } from '../../../src/bridge/web/relay_cell.js';
import { concat, hex, u16, utf8 } from '../../../src/bridge/web/bytes.js';

const PROTOID = 'ntor-curve25519-sha256-1';
const mac = (msg, t) => hmac(sha256, utf8(PROTOID + t), msg);

// ntor (tor-spec 5.1.4), the relay's side: {reply: Y | AUTH, keys (72 bytes)}.
function ntorReply(relay, skin) {
  assert.deepEqual(skin.slice(0, 20), relay.rsaId, 'the onionskin names this relay');
  const X = skin.slice(52, 84);
  const y = x25519.utils.randomSecretKey();
  const Y = x25519.getPublicKey(y);
  const secret = concat(x25519.getSharedSecret(y, X), x25519.getSharedSecret(relay.b, X),
    relay.rsaId, relay.ntorKey, X, Y, utf8(PROTOID));
  const auth = mac(concat(mac(secret, ':verify'), relay.rsaId, relay.ntorKey, Y, X,
    utf8(PROTOID), utf8('Server')), ':mac');
  return { reply: concat(Y, auth),
    keys: expand(sha256, mac(secret, ':key_extract'), utf8(PROTOID + ':key_expand'), 72) };
}

// Keys as the relay uses them: forward and backward swapped.
const relayCrypto = (k) => new Tor1Hop(concat(k.slice(20, 40), k.slice(0, 20), k.slice(56, 72),
  k.slice(40, 56)));

export function simRelay(i) {
  const b = x25519.utils.randomSecretKey();
  return { nickname: `sim${i}`, b, ntorKey: x25519.getPublicKey(b), ip: `10.0.1.${i + 1}`,
    orPort: 7000 + i, rsaId: Uint8Array.from({ length: 20 }, (_, k) => (31 * i + k) & 0xff) };
}

// The RSA identity link specifier (type 2) of an EXTEND2 body.
function extendTarget(d) {
  let o = 1, id = null;
  for (let n = 0; n < d[0]; n++) {
    if (d[o] === 2) id = d.slice(o + 2, o + 2 + d[o + 1]);
    o += 2 + d[o + 1];
  }
  return { id, skin: d.slice(o + 4, o + 4 + u16(d, o + 2)) };
}

// n relays; returns {relays, link, circuits (circId -> {hops: [relay index], crypto: []}),
// log: {create2, extend2: [nickname], begin, destroy}, bridgeLine, reply(c, hop, cmd, id, data)}.
export function simNetwork(n, opts = {}) {
  const relays = Array.from({ length: n }, (_, i) => simRelay(i));
  const log = { create2: 0, extend2: [], begin: 0, destroy: 0 };
  const circuits = new Map();
  let nextId = 0x80000001;
  const net = { relays, circuits, log };
  net.reply = (c, i, cmd, streamId, data) => {
    const p = encodeRelay(cmd, streamId, data);
    c.crypto[i].encryptOutbound(p);
    for (let j = i - 1; j >= 0; j--) c.crypto[j].fwdCipher.xor(p);
    queueMicrotask(() => link.circuits.get(c.id)?.onCell({ circId: c.id, cmd: CMD.RELAY,
      payload: p }));
  };
  const handle = (c, i, r) => {
    if (r.cmd === RELAY.EXTEND2) {
      const e = extendTarget(r.data);
      const k = relays.findIndex((x) => hex(x.rsaId) === hex(e.id));
      log.extend2.push(relays[k].nickname);
      if (opts.silent?.has(k)) return;
      if (opts.dead?.has(k)) return net.reply(c, i, RELAY.TRUNCATED, 0, Uint8Array.of(6));
      const s = ntorReply(relays[k], e.skin);
      c.hops.push(k);
      c.crypto.push(relayCrypto(s.keys));
      net.reply(c, i, RELAY.EXTENDED2, 0, concat(Uint8Array.of(0, 64), s.reply));
    } else if (r.cmd === RELAY.BEGIN) {
      log.begin++;
      opts.onBegin?.(net, c, i, r);
    } else if (r.cmd === RELAY.DATA) opts.onData?.(net, c, i, r);
  };
  const link = {
    circuits: new Map(),
    closed: null,
    newCircId(h) {
      const id = nextId++;
      this.circuits.set(id, h);
      return id;
    },
    send(circId, cmd, payload) {
      if (cmd === CMD.CREATE2) {
        log.create2++;
        const s = ntorReply(relays[0], payload.slice(4, 4 + u16(payload, 2)));
        const c = { id: circId, hops: [0], crypto: [relayCrypto(s.keys)] };
        circuits.set(circId, c);
        const out = new Uint8Array(509);
        out.set(concat(Uint8Array.of(0, 64), s.reply));
        queueMicrotask(() => this.circuits.get(circId)?.onCell({ circId, cmd: CMD.CREATED2,
          payload: out }));
        return;
      }
      const c = circuits.get(circId);
      if (cmd === CMD.DESTROY) {
        log.destroy++;
        circuits.delete(circId);
        return;
      }
      if (!c || (cmd !== CMD.RELAY && cmd !== CMD.RELAY_EARLY)) return;
      const p = payload.slice();
      for (let i = 0; i < c.crypto.length; i++) {
        if (c.crypto[i].decryptInbound(p)) {
          const r = decodeRelay(p);
          queueMicrotask(() => handle(c, i, r));
          return;
        }
      }
      assert.fail('no hop recognized a client cell');
    },
    close() {},
  };
  net.link = link;
  const key = btoa(String.fromCharCode(...relays[0].ntorKey));
  net.bridgeLine = `Bridge websocket 127.0.0.1:9 ${hex(relays[0].rsaId)} ` +
    `url=ws://127.0.0.1:9/tor ntor-onion-key=${key}`;
  return net;
}

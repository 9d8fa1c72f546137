// multihop.test.mjs — node:test checks of circuit.js on a simulated 3-hop relay chain (bridge,
// middle, exit) behind a fake link. Each simulated relay answers as a relay would: the ntor
// server side (tor-spec 5.1.4) with its own key for CREATE2 and for EXTEND2, whose link
// specifiers must name it (IPv4, port, RSA identity) and which must come in RELAY_EARLY; it
// peels its own layer of forward relay crypto and handles what it recognizes, passing the rest
// on; cells it sends back get the layers of every hop before it. Checked: EXTEND2/EXTENDED2 to
// two further hops; BEGIN/CONNECTED/DATA/END at the exit only (no other hop recognizes them);
// circuit SENDME v1 to the exit with the exit's digest; the client's package windows (stream
// 500, circuit 1000) stop DATA until the exit's SENDMEs, a SENDME v1 with a wrong digest closes
// the circuit; END EXITPOLICY gives the exit-policy message; RESOLVE/RESOLVED; TRUNCATED.
import test from 'node:test';
import assert from 'node:assert/strict';
import { x25519 } from '@noble/curves/ed25519.js';
import { hmac } from '@noble/hashes/hmac.js';
import { expand } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { Circuit } from '../../../src/bridge/web/circuit.js';
import { CMD, decodeCreated2 } from '../../../src/bridge/web/cell.js';
import { Tor1Hop } from '../../../src/bridge/web/relay_crypto.js';
import {
  decodeRelay, decodeSendme, encodeRelay, encodeSendmeV1, RELAY,
} from '../../../src/bridge/web/relay_cell.js';
import { concat, u16, utf8 } from '../../../src/bridge/web/bytes.js';

const PROTOID = 'ntor-curve25519-sha256-1';
const H = (msg, t) => hmac(sha256, utf8(PROTOID + t), msg);

// The relay side of ntor: returns {reply: Y | AUTH, keys (72)}.
function ntorServer(relay, onionskin) {
  assert.deepEqual(onionskin.slice(0, 20), relay.rsaId, 'onionskin names this relay');
  assert.deepEqual(onionskin.slice(20, 52), relay.ntorKey);
  const X = onionskin.slice(52, 84);
  const y = x25519.utils.randomSecretKey();
  const Y = x25519.getPublicKey(y);
  const si = concat(x25519.getSharedSecret(y, X), x25519.getSharedSecret(relay.b, X),
    relay.rsaId, relay.ntorKey, X, Y, utf8(PROTOID));
  const verify = H(si, ':verify');
  const auth = H(concat(verify, relay.rsaId, relay.ntorKey, Y, X, utf8(PROTOID), utf8('Server')),
    ':mac');
  const keys = expand(sha256, H(si, ':key_extract'), utf8(PROTOID + ':key_expand'), 72);
  return { reply: concat(Y, auth), keys };
}

// The relay's view of the client's keys: forward and backward swapped.
const relaySide = (k) => new Tor1Hop(concat(k.slice(20, 40), k.slice(0, 20), k.slice(56, 72),
  k.slice(40, 56)));

function makeRelay(i) {
  const b = x25519.utils.randomSecretKey();
  return {
    nickname: `sim${i}`, b, ntorKey: x25519.getPublicKey(b), ip: `10.0.0.${i + 1}`,
    orPort: 9000 + i, rsaId: Uint8Array.from({ length: 20 }, (_, k) => 16 * i + k),
    crypto: null, got: [], // relay messages this hop recognized
  };
}

function parseExtend2(d) {
  let o = 1;
  const ls = {};
  for (let n = 0; n < d[0]; n++) {
    ls[d[o]] = d.slice(o + 2, o + 2 + d[o + 1]);
    o += 2 + d[o + 1];
  }
  return { ls, htype: u16(d, o), hdata: d.slice(o + 4, o + 4 + u16(d, o + 2)) };
}

function chain(opts = {}) {
  const relays = [0, 1, 2].map(makeRelay);
  const log = { earlyCells: 0 };
  let circ;
  const toClient = (i, cmd, streamId, data) => {
    const p = encodeRelay(cmd, streamId, data);
    const digest = relays[i].crypto.encryptOutbound(p);
    for (let j = i - 1; j >= 0; j--) relays[j].crypto.fwdCipher.xor(p);
    circ.onCell({ circId: circ.id, cmd: CMD.RELAY, payload: p });
    return digest;
  };
  const handle = (i, r, early) => {
    const relay = relays[i];
    relay.got.push(r);
    if (r.cmd === RELAY.EXTEND2) {
      assert.ok(early, 'EXTEND2 in RELAY_EARLY');
      const e = parseExtend2(r.data);
      const next = relays[i + 1];
      assert.deepEqual(e.ls[0], Uint8Array.of(...next.ip.split('.').map(Number),
        next.orPort >> 8, next.orPort & 0xff));
      assert.deepEqual(e.ls[2], next.rsaId);
      assert.equal(e.htype, 2);
      if (opts.truncateAt === i) {
        toClient(i, RELAY.TRUNCATED, 0, Uint8Array.of(6));
        return;
      }
      const s = ntorServer(next, e.hdata);
      next.crypto = relaySide(s.keys);
      const body = new Uint8Array(2 + 64);
      body[1] = 64;
      body.set(s.reply, 2);
      toClient(i, RELAY.EXTENDED2, 0, body);
    } else if (r.cmd === RELAY.BEGIN) opts.onBegin?.(i, r);
    else if (r.cmd === RELAY.RESOLVE) opts.onResolve?.(i, r);
    else opts.onOther?.(i, r);
  };
  const link = {
    circuits: new Map(),
    closed: null,
    sent: [],
    newCircId(h) {
      this.circuits.set(0x80000002, h);
      return 0x80000002;
    },
    send(circId, cmd, payload) {
      this.sent.push(cmd);
      if (cmd === CMD.CREATE2) {
        const s = ntorServer(relays[0], payload.slice(4, 4 + u16(payload, 2)));
        relays[0].crypto = relaySide(s.keys);
        const out = new Uint8Array(509);
        out[1] = 64;
        out.set(s.reply, 2);
        queueMicrotask(() => circ.onCell({ circId, cmd: CMD.CREATED2, payload: out }));
        assert.deepEqual(decodeCreated2(out), s.reply);
        return;
      }
      if (cmd !== CMD.RELAY && cmd !== CMD.RELAY_EARLY) return;
      if (cmd === CMD.RELAY_EARLY) log.earlyCells++;
      const p = payload.slice();
      for (let i = 0; i < relays.length && relays[i].crypto; i++) {
        if (relays[i].crypto.decryptInbound(p)) {
          const r = decodeRelay(p);
          r.digest = relays[i].crypto.lastBackDigest;
          queueMicrotask(() => handle(i, r, cmd === CMD.RELAY_EARLY));
          return;
        }
      }
      assert.fail('no hop recognized a client cell');
    },
  };
  circ = new Circuit(link, { timeoutMs: 2000 });
  const build = async () => {
    await circ.create(relays[0].rsaId, relays[0].ntorKey, { nickname: 'sim0' });
    await circ.extend(relays[1]);
    await circ.extend(relays[2]);
  };
  return { relays, circ, link, log, build, toClient };
}

const tick = () => new Promise((r) => setImmediate(r));

test('multi-hop: EXTEND2 twice, BEGIN at the exit, 1000 DATA cells, SENDME v1 to the exit', async () => {
  let streamId;
  const c = chain({
    onBegin: (i, r) => {
      assert.equal(i, 2, 'BEGIN recognized by the exit only');
      assert.equal(new TextDecoder().decode(r.data.slice(0, r.data.indexOf(0))), 'example.com:80');
      streamId = r.streamId;
      c.toClient(2, RELAY.CONNECTED, r.streamId, Uint8Array.of(10, 0, 0, 9, 0, 0, 0, 60));
    },
  });
  await c.build();
  assert.equal(c.circ.hops.length, 3);
  assert.equal(c.log.earlyCells, 2);
  const s = await c.circ.begin('Example.com', 80);
  assert.deepEqual(s.info, { addr: '10.0.0.9', ttl: 60 });
  s.write(utf8('GET / HTTP/1.0\r\n\r\n'));
  await tick();
  assert.equal(c.relays[2].got.at(-1).cmd, RELAY.DATA);
  const sendmeDigests = [];
  const want = [];
  for (let n = 1; n <= 1000; n++) {
    const d = Uint8Array.from({ length: 498 }, (_, k) => (n + k) & 0xff);
    want.push(d);
    const dg = c.toClient(2, RELAY.DATA, streamId, d);
    if (n % 100 === 0) sendmeDigests.push(dg);
  }
  await tick();
  const sendmes = c.relays[2].got.filter((r) => r.cmd === RELAY.SENDME && r.streamId === 0);
  assert.equal(sendmes.length, 10);
  sendmes.forEach((r, k) => assert.deepEqual(decodeSendme(r.data).digest, sendmeDigests[k]));
  assert.equal(c.relays[2].got.filter((r) => r.cmd === RELAY.SENDME && r.streamId).length, 20);
  assert.equal(c.relays[0].got.length + c.relays[1].got.length, 2, 'only the two EXTEND2');
  c.toClient(2, RELAY.END, streamId, Uint8Array.of(6));
  const got = [];
  for (let x; (x = await s.read()) !== null;) got.push(x);
  assert.deepEqual(concat(...got), concat(...want));
});

test('multi-hop: package windows wait for the exit\'s SENDMEs; a wrong SENDME v1 digest closes',
  async () => {
    const c = chain({
      onBegin: (i, r) => c.toClient(2, RELAY.CONNECTED, r.streamId),
    });
    await c.build();
    const streams = [];
    for (let k = 0; k < 3; k++) streams.push(await c.circ.begin('example.com', 80));
    const data = (k) => c.relays[2].got.filter((r) => r.cmd === RELAY.DATA && r.streamId === k);
    const chunk = new Uint8Array(498 * 600);
    streams[0].write(chunk);
    await tick();
    assert.equal(data(streams[0].id).length, 500, 'stream window stops at 500');
    c.toClient(2, RELAY.SENDME, streams[0].id);
    await tick();
    assert.equal(data(streams[0].id).length, 550);
    streams[1].write(chunk);
    streams[2].write(chunk);
    await tick();
    const all = () => c.relays[2].got.filter((r) => r.cmd === RELAY.DATA);
    assert.equal(all().length, 1000, 'circuit window stops at 1000');
    // The exit acknowledges the 100th DATA cell with its digest: 100 more may leave.
    c.toClient(2, RELAY.SENDME, 0, encodeSendmeV1(all()[99].digest));
    await tick();
    assert.equal(all().length, 1100);
    c.toClient(2, RELAY.SENDME, 0, encodeSendmeV1(new Uint8Array(20)));
    await tick();
    assert.match(c.circ.closed.message, /SENDME v1 with a wrong digest/);
    assert.equal(c.link.sent.at(-1), CMD.DESTROY);
  });

test('multi-hop: END EXITPOLICY, RESOLVED, TRUNCATED', async () => {
  const c = chain({
    onBegin: (i, r) => c.toClient(2, RELAY.END, r.streamId, Uint8Array.of(4, 10, 0, 0, 1, 0, 0, 1, 0)),
    onResolve: (i, r) => {
      assert.equal(new TextDecoder().decode(r.data), 'example.com\0');
      c.toClient(2, RELAY.RESOLVED, r.streamId, Uint8Array.of(4, 4, 10, 0, 0, 7, 0, 0, 0, 30));
    },
  });
  await c.build();
  await assert.rejects(c.circ.begin('example.com', 25), (e) =>
    e.reason === 'EXITPOLICY' && /exit policy/.test(e.message));
  assert.deepEqual(await c.circ.resolve('example.com'),
    [{ type: 4, value: '10.0.0.7', ttl: 30, error: null }]);
  const t = chain({ truncateAt: 1 });
  await assert.rejects(t.build(), /TRUNCATED after hop 2 \(sim1\): CONNECTFAILED, while extending to sim2/);
  assert.ok(t.circ.closed);
});

// ntor3.test.mjs — node:test checks of the web client's ntor-v3 (src/bridge/web/ntor3.js),
// protocol lists (protover.js) and its use in circuit.js. The handshake is checked byte for byte
// on proposal 332's test vector (X.2) as tests/unit/test_ntor_v3.c has it, read from that file:
// the client handshake, msg_mac, the relay's message and the first 92 bytes of KEYSTREAM (Df Db
// Kf Kb KH). A relay side written here from the proposal's formulas reproduces the vector's
// server handshake from y and SM (ntor3_relay.mjs), then makes authenticated replies whose message is not a
// well-formed extension list (or answers a congestion-control request we never made): each is
// refused, as are short, truncated and altered replies. circuit.js: a hop offering Relay=4 with
// an Ed25519 identity gets CREATE2 / EXTEND2 htype 3, any other ntor (htype 2).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { x25519 } from '@noble/curves/ed25519.js';
import {
  checkServerExtensions, encodeExtensions, ntor3ClientFinish, ntor3ClientStart, parseExtensions,
  NTOR3_CIRC_VERIFICATION,
} from '../../../src/bridge/web/ntor3.js';
import { offersNtorV3, parseProtocols, supportsProtocol } from '../../../src/bridge/web/protover.js';
import { Circuit, wantsNtorV3 } from '../../../src/bridge/web/circuit.js';
import { CMD } from '../../../src/bridge/web/cell.js';
import { Tor1Hop } from '../../../src/bridge/web/relay_crypto.js';
import { decodeRelay, encodeRelay, RELAY } from '../../../src/bridge/web/relay_cell.js';
import { concat, hex, u16, unhex, utf8 } from '../../../src/bridge/web/bytes.js';
import { ntor3Server } from './ntor3_relay.mjs';

// The vector of tests/unit/test_ntor_v3.c (#define V_name "hex" ["hex" ...]).
const C = fs.readFileSync(fileURLToPath(new URL('../test_ntor_v3.c', import.meta.url)), 'utf8');
const cDefine = (name) => {
  const m = new RegExp(`#define V_${name}[\\s\\\\]+((?:"[0-9a-f]*"[\\s\\\\]*)+)`).exec(C);
  return m[1].match(/"([0-9a-f]*)"/g).map((x) => x.slice(1, -1)).join('');
};
const V = {};
for (const n of ['b', 'B', 'ID', 'x', 'X', 'CM', 'VER', 'y', 'Y', 'SM', 'MSG_MAC', 'CLIENT_HS',
  'SERVER_HS', 'KEYSTREAM']) V[n] = unhex(cDefine(n));

const vecStart = () => ntor3ClientStart(V.ID, V.B, { secret: V.x, verification: V.VER,
  message: V.CM });

test('ntor-v3: client handshake and msg_mac equal the vector of test_ntor_v3.c', () => {
  const st = vecStart();
  assert.equal(hex(st.X), hex(V.X));
  assert.equal(hex(st.msgMac), hex(V.MSG_MAC));
  assert.equal(hex(st.onionskin), hex(V.CLIENT_HS));
});

test('ntor-v3: the vector\'s server handshake gives its keystream and message', () => {
  const r = ntor3ClientFinish(vecStart(), V.SERVER_HS, 92);
  assert.equal(hex(r.keys), hex(V.KEYSTREAM.slice(0, 92)));
  assert.equal(hex(r.message), hex(V.SM));
  // the default is the 72 bytes of tor1 keys (Df Db Kf Kb)
  assert.equal(hex(ntor3ClientFinish(vecStart(), V.SERVER_HS).keys),
    hex(V.KEYSTREAM.slice(0, 72)));
});

test('ntor-v3: the test relay side reproduces the vector (so it can vouch for later tests)', () => {
  const s = ntor3Server({ id: V.ID, b: V.b }, V.CLIENT_HS, { y: V.y, sm: V.SM, ver: V.VER });
  assert.equal(hex(s.cm), hex(V.CM));
  assert.equal(hex(s.reply), hex(V.SERVER_HS));
  assert.equal(hex(s.keys), hex(V.KEYSTREAM.slice(0, 92)));
});

test('ntor-v3: short, truncated and altered replies are refused', () => {
  const st = vecStart();
  for (const n of [0, 1, 32, 63])
    assert.throws(() => ntor3ClientFinish(st, V.SERVER_HS.slice(0, n)), /too short/);
  assert.throws(() => ntor3ClientFinish(st, V.SERVER_HS.slice(0, -1)), /AUTH mismatch/);
  assert.throws(() => ntor3ClientFinish(st, concat(V.SERVER_HS, Uint8Array.of(0))),
    /AUTH mismatch/);
  for (let i = 0; i < V.SERVER_HS.length; i++) {
    const bad = V.SERVER_HS.slice();
    bad[i] ^= 0x04;
    assert.throws(() => ntor3ClientFinish(st, bad), /AUTH mismatch|point at infinity/, `byte ${i}`);
  }
  // Y of small order: the shared secret is all-zero
  assert.throws(() => ntor3ClientFinish(st, concat(new Uint8Array(32), V.SERVER_HS.slice(32))),
    /point at infinity/);
  // another verification string than the relay's: AUTH cannot match
  const other = ntor3ClientStart(V.ID, V.B, { secret: V.x, verification: utf8('xyzzz'),
    message: V.CM });
  assert.throws(() => ntor3ClientFinish(other, V.SERVER_HS), /AUTH mismatch/);
});

test('ntor-v3: extension lists encode and parse; malformed ones are refused', () => {
  assert.deepEqual(encodeExtensions([]), Uint8Array.of(0));
  const two = encodeExtensions([{ type: 9, body: new Uint8Array(0) }, { type: 2, body: utf8('A') }]);
  assert.deepEqual(two, Uint8Array.of(2, 9, 0, 2, 1, 0x41));
  assert.deepEqual(parseExtensions(two), [{ type: 9, body: new Uint8Array(0) },
    { type: 2, body: utf8('A') }]);
  for (const [bad, why] of [[[], /empty/], [[1], /truncated/], [[1, 7], /truncated/],
    [[1, 7, 3, 0, 0], /past the message/], [[0, 0], /bytes after/], [[1, 7, 0, 9], /bytes after/],
    [[2, 7, 0], /truncated/]])
    assert.throws(() => parseExtensions(Uint8Array.from(bad)), why, JSON.stringify(bad));
});

test('ntor-v3: authenticated replies with a malformed message are refused', () => {
  const relay = { id: V.ID, b: V.b };
  const ok = (sm) => {
    const st = ntor3ClientStart(V.ID, V.B);
    const s = ntor3Server(relay, st.onionskin, { sm: Uint8Array.from(sm) });
    assert.deepEqual(s.cm, Uint8Array.of(0), 'we send an empty extension list');
    const r = ntor3ClientFinish(st, s.reply);
    assert.deepEqual(r.keys, s.keys.slice(0, 72));
    return checkServerExtensions(r.message);
  };
  assert.deepEqual(ok([0]), []);
  assert.equal(ok([2, 9, 0, 10, 1, 0x41]).length, 2, 'unknown types are ignored');
  for (const [sm, why] of [[[], /empty/], [[1], /truncated/], [[1, 9, 4, 0], /past the message/],
    [[0, 0], /bytes after/], [[1, 2, 1, 31], /did not ask/]])
    assert.throws(() => ok(sm), why, JSON.stringify(sm));
});

test('protover: ranges, Relay=4 and the Ed25519 identity decide ntor-v3', () => {
  const p = parseProtocols('Cons=1-2 Desc=1-2 Link=4-5 Relay=2,4 Padding=');
  assert.deepEqual([...p.get('Link')], [4, 5]);
  assert.deepEqual([...p.get('Relay')], [2, 4]);
  assert.equal(p.get('Padding').size, 0);
  assert.throws(() => parseProtocols('Relay=4-2'), /bad range/);
  assert.throws(() => parseProtocols('Relay'), /bad entry/);
  assert.equal(supportsProtocol('Relay=1-4', 'Relay', 4), true);
  assert.equal(supportsProtocol('Relay=1-3', 'Relay', 4), false);
  assert.equal(supportsProtocol(null, 'Relay', 4), false);
  assert.equal(supportsProtocol('Relay=x', 'Relay', 4), false);
  const ed = new Uint8Array(32);
  assert.equal(offersNtorV3('Relay=2-4', ed), true);
  assert.equal(offersNtorV3('Relay=2-4', undefined), false);
  assert.equal(offersNtorV3('Relay=2', ed), false);
  assert.equal(wantsNtorV3({ protocols: 'Relay=2-4', edId: ed }), true);
  assert.equal(wantsNtorV3({ protocols: 'Relay=2-4', edId: ed, handshake: 'ntor' }), false);
  assert.equal(wantsNtorV3({ ntorV3: true }), false, 'no Ed25519 identity, no ntor-v3');
});

// ---- circuit.js: a bridge and a middle that offer ntor-v3, an exit that does not ----
function relay(i, protocols) {
  const b = x25519.utils.randomSecretKey();
  return { nickname: `sim${i}`, b, ntorKey: x25519.getPublicKey(b), ip: `10.0.0.${i + 1}`,
    orPort: 9000 + i, rsaId: Uint8Array.from({ length: 20 }, (_, k) => 16 * i + k),
    edId: Uint8Array.from({ length: 32 }, (_, k) => 99 * i + k), id: null, protocols,
    crypto: null };
}
const relaySide = (k) => new Tor1Hop(concat(k.slice(20, 40), k.slice(0, 20), k.slice(56, 72),
  k.slice(40, 56)));

function simChain(relays, { sm = Uint8Array.of(0) } = {}) {
  for (const r of relays) r.id = r.edId;
  const seen = [];
  let circ;
  const answer = (r, htype, hdata) => {
    seen.push({ nickname: r.nickname, htype });
    if (htype === 3) {
      const s = ntor3Server(r, hdata, { sm });
      r.crypto = relaySide(s.keys);
      return s.reply;
    }
    return null; // ntor: not simulated here; multihop.test.mjs does it
  };
  const link = {
    circuits: new Map(),
    closed: null,
    newCircId(h) {
      this.circuits.set(0x80000003, h);
      return 0x80000003;
    },
    send(circId, cmd, payload) {
      if (cmd === CMD.CREATE2) {
        const reply = answer(relays[0], u16(payload, 0), payload.slice(4, 4 + u16(payload, 2)));
        const out = new Uint8Array(509);
        out[0] = reply.length >> 8;
        out[1] = reply.length & 0xff;
        out.set(reply, 2);
        queueMicrotask(() => circ.onCell({ circId, cmd: CMD.CREATED2, payload: out }));
        return;
      }
      const p = payload.slice();
      for (let i = 0; i < relays.length && relays[i].crypto; i++) {
        if (!relays[i].crypto.decryptInbound(p)) continue;
        const r = decodeRelay(p);
        assert.equal(r.cmd, RELAY.EXTEND2);
        let o = 1;
        const ls = {};
        for (let n = 0; n < r.data[0]; n++) {
          ls[r.data[o]] = r.data.slice(o + 2, o + 2 + r.data[o + 1]);
          o += 2 + r.data[o + 1];
        }
        const next = relays[i + 1];
        const htype = u16(r.data, o);
        if (htype === 3) assert.deepEqual(ls[3], next.edId, 'Ed25519 link specifier');
        const reply = answer(next, htype, r.data.slice(o + 4, o + 4 + u16(r.data, o + 2)));
        if (!reply) return;
        const body = concat(Uint8Array.of(reply.length >> 8, reply.length & 0xff), reply);
        queueMicrotask(() => {
          const q = encodeRelay(RELAY.EXTENDED2, 0, body);
          relays[i].crypto.encryptOutbound(q);
          for (let j = i - 1; j >= 0; j--) relays[j].crypto.fwdCipher.xor(q);
          circ.onCell({ circId, cmd: CMD.RELAY, payload: q });
        });
        return;
      }
    },
  };
  const events = [];
  circ = new Circuit(link, { timeoutMs: 300, onEvent: (e) => events.push(e) });
  return { circ, seen, events };
}

test('circuit: CREATE2 and EXTEND2 use ntor-v3 (htype 3) for hops that offer it', async () => {
  const rs = [relay(0, 'Relay=2,4'), relay(1, 'Link=4-5 Relay=1-4'), relay(2, 'Relay=1-3')];
  const { circ, seen, events } = simChain(rs);
  const created = await circ.create(rs[0].rsaId, rs[0].ntorKey,
    { nickname: 'sim0', edId: rs[0].edId, protocols: rs[0].protocols });
  assert.equal(created.handshake, 'ntor-v3');
  await circ.extend(rs[1]);
  assert.deepEqual(circ.path.map((h) => [h.handshake, h.htype]), [['ntor-v3', 3], ['ntor-v3', 3]]);
  assert.deepEqual(events.map((e) => e.handshake), ['ntor-v3', 'ntor-v3']);
  // the exit offers only Relay=1-3: EXTEND2 carries an ntor onionskin (htype 2, 84 bytes)
  await assert.rejects(circ.extend(rs[2]), /timed out/);
  assert.deepEqual(seen.map((s) => s.htype), [3, 3, 2]);
});

test('circuit: an ntor-v3 reply with a malformed extension list closes the circuit', async () => {
  for (const sm of [Uint8Array.of(1, 2), Uint8Array.of(1, 2, 1, 31), new Uint8Array(0)]) {
    const rs = [relay(0, 'Relay=4')];
    const { circ } = simChain(rs, { sm });
    await assert.rejects(circ.create(rs[0].rsaId, rs[0].ntorKey,
      { nickname: 'sim0', edId: rs[0].edId, protocols: 'Relay=4' }), (e) =>
      e.stage === 'create' && /ntor-v3: /.test(e.message));
    assert.ok(circ.closed, 'circuit closed');
  }
});

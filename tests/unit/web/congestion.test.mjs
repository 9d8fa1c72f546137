// congestion.test.mjs — node:test checks of the web client's congestion control
// (src/bridge/web/congestion.js and its use in circuit.js): consensus parameters with tor's
// defaults and ranges; the exit's answer (refused when unasked, 0, or more than 1 away from
// cc_sendme_inc); XOFF after the 5 ms grace and XON once the reader has taken everything. On a
// one-hop circuit to a simulated relay (ntor3_relay.mjs) that is asked for congestion control
// and answers sendme_inc 31: a circuit SENDME v1 after every 31st DATA cell with that cell's
// digest, no stream SENDMEs, XOFF when the page stops reading and XON when it has read all;
// our own DATA stops at cc_cwnd_init cells until the relay's SENDME, and on its XOFF until XON.
import test from 'node:test';
import assert from 'node:assert/strict';
import { x25519 } from '@noble/curves/ed25519.js';
import { Circuit } from '../../../src/bridge/web/circuit.js';
import { CMD } from '../../../src/bridge/web/cell.js';
import {
  ccParams, ccRequestMessage, ccResponse, encodeXon, FlowReceiver, offersCc, parseFlowBody,
  XOFF_GRACE_MS,
} from '../../../src/bridge/web/congestion.js';
import { encodeExtensions, parseExtensions } from '../../../src/bridge/web/ntor3.js';
import { Tor1Hop } from '../../../src/bridge/web/relay_crypto.js';
import {
  decodeRelay, decodeSendme, encodeRelay, encodeSendmeV1, RELAY,
} from '../../../src/bridge/web/relay_cell.js';
import { concat } from '../../../src/bridge/web/bytes.js';
import { ntor3Server } from './ntor3_relay.mjs';

const ccReply = (inc) => encodeExtensions([{ type: 2, body: Uint8Array.of(inc) }]);

test('congestion: consensus parameters, defaults and ranges as tor 0.4.9', () => {
  assert.deepEqual(ccParams({}), { sendmeInc: 31, cwndInit: 124, xoffBytes: 500 * 488 });
  assert.equal(ccParams({ cc_alg: 0 }), null, 'cc_alg 0: fixed windows');
  assert.deepEqual(ccParams({ cc_sendme_inc: 20, cc_cwnd_init: 200, cc_xoff_client: 10 }),
    { sendmeInc: 20, cwndInit: 200, xoffBytes: 4880 });
  // out of range: tor's default
  assert.deepEqual(ccParams({ cc_sendme_inc: 0, cc_cwnd_init: 5, cc_alg: 9 }),
    { sendmeInc: 31, cwndInit: 124, xoffBytes: 500 * 488 });
  assert.equal(offersCc('Relay=1-4 FlowCtrl=1-2'), true);
  assert.equal(offersCc('Relay=1-4 FlowCtrl=1'), false);
  assert.equal(offersCc(null), false);
});

test('congestion: the exit\'s answer is checked', () => {
  const asked = ccParams({});
  assert.deepEqual(parseExtensions(ccRequestMessage()), [{ type: 1, body: new Uint8Array(0) }]);
  assert.equal(ccResponse(encodeExtensions([]), asked), 0, 'declined: fixed windows');
  assert.equal(ccResponse(ccReply(31), asked), 31);
  assert.equal(ccResponse(ccReply(30), asked), 30);
  assert.equal(ccResponse(ccReply(32), asked), 32);
  assert.throws(() => ccResponse(ccReply(31), null), /did not ask/);
  assert.throws(() => ccResponse(ccReply(0), asked), /out of range/);
  assert.throws(() => ccResponse(ccReply(33), asked), /out of range/);
  assert.throws(() => ccResponse(encodeExtensions([{ type: 2, body: new Uint8Array(0) }]), asked),
    /without sendme_inc/);
  assert.throws(() => ccResponse(Uint8Array.of(1, 2), asked), /truncated/);
  assert.equal(parseFlowBody(encodeXon(1234), true), 1234);
  assert.throws(() => parseFlowBody(Uint8Array.of(1), false), /malformed XOFF/);
  assert.throws(() => parseFlowBody(Uint8Array.of(0, 1), true), /malformed XON/);
});

test('congestion: XOFF only after the grace, XON only after an XOFF and a full drain', () => {
  const f = new FlowReceiver(1000);
  assert.equal(f.buffered(1000, 0), null, 'at the limit');
  assert.equal(f.buffered(1001, 10), null, 'over it: the grace starts');
  assert.equal(f.buffered(1500, 10 + XOFF_GRACE_MS - 1), null);
  assert.equal(f.drained(500), null, 'no XON without an XOFF');
  assert.equal(f.buffered(1001, 20), null, 'back under the limit restarted the grace');
  assert.equal(f.buffered(1600, 20 + XOFF_GRACE_MS), 'xoff');
  assert.equal(f.buffered(3000, 100), null, 'one XOFF');
  assert.equal(f.drained(10), null, 'not empty yet');
  assert.equal(f.drained(0), 'xon');
  assert.equal(f.drained(0), null, 'one XON');
  assert.deepEqual([f.xoffs, f.xons], [1, 1]);
});

// A one-hop circuit to a relay that offers ntor-v3 and answers the CC request with inc.
function ccRelay(inc = 31) {
  const b = x25519.utils.randomSecretKey();
  const r = { b, ntorKey: x25519.getPublicKey(b), rsaId: new Uint8Array(20).fill(7),
    edId: new Uint8Array(32).fill(9), got: [], crypto: null, clientMsg: null };
  r.id = r.edId;
  let circ;
  const link = {
    circuits: new Map(),
    closed: null,
    newCircId(h) {
      this.circuits.set(0x80000009, h);
      return 0x80000009;
    },
    send(circId, cmd, payload) {
      if (cmd === CMD.CREATE2) {
        const s = ntor3Server(r, payload.slice(4, 4 + ((payload[2] << 8) | payload[3])),
          { sm: inc ? ccReply(inc) : encodeExtensions([]) });
        r.clientMsg = s.cm;
        const k = s.keys;
        r.crypto = new Tor1Hop(concat(k.slice(20, 40), k.slice(0, 20), k.slice(56, 72),
          k.slice(40, 56)));
        const out = new Uint8Array(509);
        out[0] = s.reply.length >> 8;
        out[1] = s.reply.length & 0xff;
        out.set(s.reply, 2);
        queueMicrotask(() => circ.onCell({ circId, cmd: CMD.CREATED2, payload: out }));
        return;
      }
      if (cmd !== CMD.RELAY) return;
      const p = payload.slice();
      assert.ok(r.crypto.decryptInbound(p), 'the relay recognizes what the client sends');
      const m = decodeRelay(p);
      m.digest = r.crypto.lastBackDigest; // the relay's digest of the cell it got
      r.got.push(m);
    },
  };
  // The relay sends a relay message; returns the digest of the cell (what a SENDME carries).
  r.send = (cmd, streamId, data) => {
    const q = encodeRelay(cmd, streamId, data);
    const d = r.crypto.encryptOutbound(q);
    circ.onCell({ circId: 0x80000009, cmd: CMD.RELAY, payload: q });
    return d;
  };
  circ = new Circuit(link, { timeoutMs: 1000 });
  return { circ, r };
}

async function ccStream(inc = 31) {
  const { circ, r } = ccRelay(inc);
  const cc = ccParams({});
  const created = await circ.create(r.rsaId, r.ntorKey, { nickname: 'exit', edId: r.edId,
    protocols: 'Relay=4 FlowCtrl=2', cc });
  const opened = circ.begin('example.com', 80);
  await new Promise((res) => setImmediate(res));
  const begin = r.got.find((m) => m.cmd === RELAY.BEGIN);
  r.send(RELAY.CONNECTED, begin.streamId, new Uint8Array(0));
  return { circ, r, created, stream: await opened, id: begin.streamId };
}

test('congestion: negotiated in CREATE2; SENDMEs every 31 cells, XOFF and XON, no stream SENDMEs',
  async () => {
    const { circ, r, created, stream, id } = await ccStream(31);
    assert.deepEqual(parseExtensions(r.clientMsg), [{ type: 1, body: new Uint8Array(0) }],
      'the client asked for congestion control');
    assert.equal(created.sendmeInc, 31);
    assert.equal(circ.path[0].sendmeInc, 31);
    const cell = new Uint8Array(498).fill(0x5a);
    const digests = [];
    const n = 31 * 600; // ~9 MB unread: past the XOFF limit (500 x 488 bytes)
    for (let i = 1; i <= n; i++) {
      const d = r.send(RELAY.DATA, id, cell);
      if (i % 31 === 0) digests.push(d);
      if (i === 600) await new Promise((res) => setTimeout(res, XOFF_GRACE_MS + 2));
    }
    const sendmes = r.got.filter((m) => m.cmd === RELAY.SENDME);
    assert.equal(sendmes.filter((m) => m.streamId !== 0).length, 0, 'no stream SENDMEs');
    assert.equal(sendmes.length, n / 31, 'a circuit SENDME per 31 cells');
    sendmes.forEach((m, k) => assert.deepEqual(decodeSendme(m.data).digest, digests[k]));
    const flow = () => r.got.filter((m) => m.cmd === RELAY.XOFF || m.cmd === RELAY.XON)
      .map((m) => [m.cmd === RELAY.XON ? 'XON' : 'XOFF', m.streamId, m.data.length]);
    assert.deepEqual(flow(), [['XOFF', id, 1]], 'one XOFF once the reader fell behind');
    let got = 0;
    while (got < n * 498) {
      const b = stream.takeBuffered() ?? await stream.read();
      got += b.length;
    }
    assert.equal(got, n * 498);
    assert.deepEqual(flow(), [['XOFF', id, 1], ['XON', id, 5]], 'XON once all was read');
    assert.equal(circ.stats.xoffSent, 1);
    assert.equal(circ.stats.xonSent, 1);
    assert.ok(!circ.closed);
  });

test('congestion: our DATA waits for cwnd (124 cells) and for XON', async () => {
  const { circ, r, stream, id } = await ccStream(31);
  const sent = () => r.got.filter((m) => m.cmd === RELAY.DATA);
  stream.write(new Uint8Array(200 * 498).fill(1));
  assert.equal(sent().length, 124, 'cc_cwnd_init cells in flight');
  // The relay acknowledges 31 cells with the digest of the 31st.
  r.send(RELAY.SENDME, 0, encodeSendmeV1(sent()[30].digest));
  assert.equal(sent().length, 124 + 31);
  r.send(RELAY.XOFF, id, Uint8Array.of(0));
  r.send(RELAY.SENDME, 0, encodeSendmeV1(sent()[61].digest));
  assert.equal(sent().length, 155, 'XOFF stops the stream');
  r.send(RELAY.XON, id, encodeXon(0));
  assert.equal(sent().length, 186, 'XON resumes it');
  // A SENDME with a wrong digest closes the circuit.
  r.send(RELAY.SENDME, 0, encodeSendmeV1(new Uint8Array(20)));
  assert.match(circ.closed.message, /wrong digest/);
});

test('congestion: a relay that declines gives fixed windows; an unasked answer closes', async () => {
  const { circ, r } = await ccStream(0);
  assert.equal(circ.path[0].sendmeInc, 0);
  assert.equal(circ.hops[0].cc, null);
  assert.ok(r.got.some((m) => m.cmd === RELAY.BEGIN));
  const { circ: c2, r: r2 } = ccRelay(31);
  await assert.rejects(c2.create(r2.rsaId, r2.ntorKey, { nickname: 'x', edId: r2.edId,
    protocols: 'Relay=4' }), /did not ask/);
  // Out of range answer
  const { circ: c3, r: r3 } = ccRelay(40);
  await assert.rejects(c3.create(r3.rsaId, r3.ntorKey, { nickname: 'x', edId: r3.edId,
    protocols: 'Relay=4', cc: ccParams({}) }), /out of range/);
  assert.ok(c3.closed);
  // XON on a stream without congestion control closes the circuit
  const { circ: c4, r: r4 } = ccRelay(0);
  await c4.create(r4.rsaId, r4.ntorKey, { nickname: 'x', edId: r4.edId, protocols: 'Relay=4',
    cc: ccParams({}) });
  const opened = c4.begin('example.com', 80);
  await new Promise((res) => setImmediate(res));
  const sid = r4.got.find((m) => m.cmd === RELAY.BEGIN).streamId;
  r4.send(RELAY.CONNECTED, sid, new Uint8Array(0));
  await opened;
  r4.send(RELAY.XON, sid, encodeXon(0));
  assert.match(c4.closed.message, /without congestion control/);
  void circ;
});

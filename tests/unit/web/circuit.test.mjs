// circuit.test.mjs — node:test checks of the web client's circuit (src/bridge/web/circuit.js)
// against a simulated relay over a fake link: a one-hop circuit whose relay side is a Tor1Hop
// with the key directions swapped. The relay answers BEGIN_DIR with CONNECTED and sends 1000
// DATA cells: the client must send a SENDME v1 after every 100th carrying the relay's digest of
// that cell (tor-spec 7.3.1), a stream SENDME every 50 (7.4), and hand over every byte in order;
// END closes the stream with its reason; DESTROY and unrecognized cells close the circuit.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Circuit } from '../../../src/bridge/web/circuit.js';
import { CMD } from '../../../src/bridge/web/cell.js';
import { Tor1Hop } from '../../../src/bridge/web/relay_crypto.js';
import {
  decodeRelay, decodeSendme, encodeRelay, RELAY,
} from '../../../src/bridge/web/relay_cell.js';
import { concat } from '../../../src/bridge/web/bytes.js';

const keys = Uint8Array.from({ length: 72 }, (_, j) => (11 * j + 5) & 0xff);
const swapped = concat(keys.slice(20, 40), keys.slice(0, 20), keys.slice(56, 72),
  keys.slice(40, 56));

function setup() {
  const sent = [];
  const link = {
    circuits: new Map(),
    closed: null,
    newCircId(h) {
      this.circuits.set(0x80000001, h);
      return 0x80000001;
    },
    send(circId, cmd, payload) {
      sent.push({ circId, cmd, payload: payload.slice() });
    },
  };
  const circ = new Circuit(link);
  circ.hops.push(new Tor1Hop(keys)); // as create() does after CREATED2
  const relay = new Tor1Hop(swapped);
  const toClient = (cmd, streamId, data) => {
    const p = encodeRelay(cmd, streamId, data);
    const digest = relay.encryptOutbound(p);
    circ.onCell({ circId: circ.id, cmd: CMD.RELAY, payload: p });
    return digest;
  };
  // What the relay reads of the client's cells since the last call.
  let seen = 0;
  const fromClient = () => sent.slice(seen).map((c) => {
    seen++;
    assert.equal(c.cmd, CMD.RELAY);
    assert.ok(relay.decryptInbound(c.payload), 'relay recognizes the client cell');
    return decodeRelay(c.payload);
  });
  return { circ, sent, toClient, fromClient, link };
}

test('circuit: BEGIN_DIR, 1000 DATA cells, SENDME v1 digests and stream SENDMEs', async () => {
  const { circ, toClient, fromClient } = setup();
  const opened = circ.beginDir();
  const [begin] = fromClient();
  assert.equal(begin.cmd, RELAY.BEGIN_DIR);
  toClient(RELAY.CONNECTED, begin.streamId);
  const s = await opened;
  const want = [];
  const sendmeDigests = [];
  let circSendmes = 0, streamSendmes = 0;
  for (let i = 1; i <= 1000; i++) {
    const data = Uint8Array.from({ length: 498 }, (_, k) => (i * 7 + k) & 0xff);
    want.push(data);
    const d = toClient(RELAY.DATA, begin.streamId, data);
    if (i % 100 === 0) sendmeDigests.push(d);
    for (const r of fromClient()) {
      assert.equal(r.cmd, RELAY.SENDME);
      if (r.streamId === 0) {
        const m = decodeSendme(r.data);
        assert.equal(m.version, 1);
        assert.deepEqual(m.digest, sendmeDigests[circSendmes], `SENDME ${circSendmes + 1}`);
        assert.equal(i % 100, 0, 'circuit SENDME right after a 100th cell');
        circSendmes++;
      } else {
        assert.equal(r.streamId, begin.streamId);
        assert.equal(r.data.length, 0);
        assert.equal(i % 50, 0, 'stream SENDME right after a 50th cell');
        streamSendmes++;
      }
    }
  }
  assert.equal(circSendmes, 10);
  assert.equal(streamSendmes, 20);
  toClient(RELAY.END, begin.streamId, Uint8Array.of(6));
  const got = [];
  for (let c; (c = await s.read()) !== null;) got.push(c);
  assert.deepEqual(concat(...got), concat(...want));
  assert.equal(s.ended.reason, 'DONE');
  assert.equal(circ.stats.dataCells, 1000);
});

test('circuit: END before CONNECTED refuses the stream with its reason', async () => {
  const { circ, toClient, fromClient } = setup();
  const opened = circ.beginDir();
  const [begin] = fromClient();
  toClient(RELAY.END, begin.streamId, Uint8Array.of(14));
  await assert.rejects(opened, /END NOTDIRECTORY/);
});

test('circuit: a tampered relay cell or a DESTROY closes the circuit', async () => {
  const a = setup();
  const opened = a.circ.beginDir();
  a.fromClient();
  const p = encodeRelay(RELAY.CONNECTED, 1);
  new Tor1Hop(swapped).encryptOutbound(p);
  p[20] ^= 1;
  a.circ.onCell({ circId: a.circ.id, cmd: CMD.RELAY, payload: p });
  await assert.rejects(opened, /unrecognized relay cell/);
  assert.ok(a.circ.closed);
  assert.equal(a.sent.at(-1).cmd, CMD.DESTROY);

  const b = setup();
  const opened2 = b.circ.beginDir();
  b.circ.onCell({ circId: b.circ.id, cmd: CMD.DESTROY, payload: Uint8Array.of(8) });
  await assert.rejects(opened2, /DESTROY from the relay: CHANNEL_CLOSED/);
  assert.equal(b.link.circuits.has(b.circ.id), false);
});

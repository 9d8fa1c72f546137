// retry.test.mjs — node:test checks of TorClient's circuit retries (client.js) on a simulated
// network (sim_net.mjs): a hop that cannot be reached (TRUNCATED) or does not answer (EXTENDED2
// timeout) makes the client build another circuit on a path without that relay, each attempt
// reported as a 'circuit' event; attempts are bounded (3) and then the last failure is
// reported with .attempts; fixed paths with no other path are tried once; a stream refused with
// END (EXITPOLICY) is not retried. Also path.js's exclude option.
import test from 'node:test';
import assert from 'node:assert/strict';
import { TorClient } from '../../../src/bridge/web/client.js';
import { RELAY } from '../../../src/bridge/web/relay_cell.js';
import { hex, utf8 } from '../../../src/bridge/web/bytes.js';
import { simNetwork } from './sim_net.mjs';

const HTTP_OK = utf8('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello');

// The exit answers BEGIN with CONNECTED and the request with a 5-byte response.
const serve = {
  onBegin: (net, c, i, r) => net.reply(c, i, RELAY.CONNECTED, r.streamId),
  onData: (net, c, i, r) => {
    net.reply(c, i, RELAY.DATA, r.streamId, HTTP_OK);
    net.reply(c, i, RELAY.END, r.streamId, Uint8Array.of(6));
  },
};

// A TorClient on the simulated link; selectPath takes middles and exits from the lists given
// (relay indexes), the first of each not avoided.
function client(net, middles, exits, opts = {}) {
  const c = new TorClient(net.bridgeLine, {
    timeoutMs: 300, ...opts, onEvent: (e) => events.push(e),
    selectPath: ({ avoid }) => {
      const ok = (k) => !avoid.has(hex(net.relays[k].rsaId).toUpperCase());
      const m = middles.find(ok), x = exits.find(ok);
      if (m === undefined || x === undefined) throw new Error('path: nothing left');
      return [net.relays[m], net.relays[x]];
    },
  });
  const events = [];
  c.events = events;
  c.link = net.link;
  return c;
}

async function body(r) {
  const rd = r.body.getReader();
  let s = '';
  for (let x; !(x = await rd.read()).done;) s += new TextDecoder().decode(x.value);
  return s;
}

test('retry: an unreachable middle is avoided and the next path works', async () => {
  const net = simNetwork(5, { ...serve, dead: new Set([1]) });
  const c = client(net, [1, 2], [3, 4]);
  const r = await c.fetch('http://example.com/');
  assert.equal(await body(r), 'hello');
  assert.deepEqual(r.circuit.path.map((h) => h.nickname), ['bridge', 'sim2', 'sim3']);
  assert.deepEqual(net.log.extend2, ['sim1', 'sim2', 'sim3']);
  assert.equal(net.log.create2, 2);
  const steps = c.events.filter((e) => e.type === 'circuit' &&
    ['attempt', 'failed', 'built'].includes(e.step)).map((e) => `${e.step} ${e.attempt}/${e.of}`);
  assert.deepEqual(steps, ['attempt 1/3', 'failed 1/3', 'attempt 2/3', 'built 2/3']);
  const failed = c.events.find((e) => e.step === 'failed');
  assert.equal(failed.failedHop, 'sim1');
  assert.match(failed.reason, /TRUNCATED after hop 1 \(bridge\): CONNECTFAILED, while extending to sim1/);
  assert.equal(net.log.destroy, 1, 'the failed circuit was destroyed');
});

test('retry: an exit that never answers EXTEND2 times out and another exit is used', async () => {
  const net = simNetwork(5, { ...serve, silent: new Set([3]) });
  const c = client(net, [1], [3, 4]);
  const r = await c.fetch('http://example.com/');
  assert.equal(await body(r), 'hello');
  assert.deepEqual(r.circuit.path.map((h) => h.nickname), ['bridge', 'sim1', 'sim4']);
  const failed = c.events.find((e) => e.step === 'failed');
  assert.equal(failed.failedHop, 'sim3');
  assert.match(failed.reason, /EXTENDED2 timed out/);
});

test('retry: at most 3 attempts, then the last failure with every attempt', async () => {
  const net = simNetwork(6, { ...serve, dead: new Set([2, 3, 4, 5]) });
  const c = client(net, [1], [2, 3, 4, 5]);
  await assert.rejects(c.fetch('http://example.com/'), (e) => {
    assert.equal(e.stage, 'extend');
    assert.match(e.message, /while extending to sim4$/);
    assert.deepEqual(e.attempts.map((a) => a.failedHop), ['sim2', 'sim3', 'sim4']);
    return true;
  });
  assert.equal(net.log.create2, 3);
  assert.deepEqual(net.log.extend2, ['sim1', 'sim2', 'sim1', 'sim3', 'sim1', 'sim4']);
  // buildAttempts: 1 turns retries off.
  const one = client(simNetwork(4, { ...serve, dead: new Set([2]) }), [1], [2, 3],
    { buildAttempts: 1 });
  await assert.rejects(one.fetch('http://example.com/'), (e) => e.attempts.length === 1);
});

test('retry: fixed paths are retried only on another path without the failed relay', async () => {
  const net = simNetwork(5, { ...serve, dead: new Set([2]) });
  const r = net.relays;
  const only = new TorClient(net.bridgeLine, { paths: [[r[1], r[2]]] });
  only.link = net.link;
  await assert.rejects(only.fetch('http://example.com/'), (e) =>
    /^TRUNCATED after hop 2 \(sim1\): CONNECTFAILED, while extending to sim2$/.test(e.message) &&
    e.stage === 'extend' && e.attempts.length === 1);
  assert.equal(net.log.create2, 1);
  const two = new TorClient(net.bridgeLine, { paths: [[r[1], r[2]], [r[3], r[4]]] });
  two.link = net.link;
  const ok = await two.fetch('http://example.com/');
  assert.equal(await body(ok), 'hello');
  assert.deepEqual(ok.circuit.path.map((h) => h.nickname), ['bridge', 'sim3', 'sim4']);
});

test('retry: END EXITPOLICY is reported at once, with no new circuit and no second BEGIN',
  async () => {
    const net = simNetwork(4, {
      onBegin: (n, c, i, r) => n.reply(c, i, RELAY.END, r.streamId, Uint8Array.of(4)),
    });
    const c = client(net, [1], [2]);
    for (let k = 0; k < 2; k++) {
      await assert.rejects(c.fetch('http://example.com:25/'), (e) =>
        e.reason === 'EXITPOLICY' && e.stage === 'stream' && !e.attempts);
    }
    assert.equal(net.log.begin, 2, 'one BEGIN per fetch');
    assert.equal(net.log.create2, 1, 'the circuit is kept, not rebuilt');
  });

// worker.js — the Web Worker entry point (module worker): the Tor client runs here so the page
// stays responsive; onionmesh.js is the main-thread side. Messages in: {op, id, ...}:
//   connect {bridgeLine, opts}   open the link (opts: directory | path | paths, timeoutMs)
//   fetch {url, init}            -> reply {status, reason, headers, framing, length, circuit}
//   pull {id}                    the next body piece of fetch id: {type: 'chunk', data} or
//                                {type: 'done', trailers} (pulled, so the body has backpressure);
//                                a piece gathers what the stream already holds, up to BATCH
//                                bytes (one message per cell's 498 bytes would cost the page a
//                                round trip between threads per cell)
//   cancel {fetchId}             drop that fetch's body (its stream is closed)
//   fetchDigest {url}            fetch and read the body here, for comparisons (the page's
//                                ?sink=worker): -> reply {status, bytes, sha256, firstByteMs, ms, circuit}
//   newIdentity, resolve {name}, close
//   bootstrap {bridgeLine, minCells}  the link slice's consensus fetch (browser-link-test)
// Messages out: {type: 'reply', id, ok, value | error: {message, stage, reason, attempts}},
// {type: 'event', event} (progress, circuit steps), and the body messages above.
import { bootstrapConsensus, TorClient } from './client.js';
import { hex } from './bytes.js';
import { gather } from './body_batch.js';
import { sha256 } from '@noble/hashes/sha2.js';

let client = null;
const bodies = new Map(); // fetch id -> ReadableStreamDefaultReader
const emit = (event) => self.postMessage({ type: 'event', event });
const errorOf = (e) => ({ message: e.message, stage: e.stage || null, reason: e.reason || null,
  attempts: e.attempts || null });

async function bootstrap(m) {
  const r = await bootstrapConsensus(m.bridgeLine, emit, { minCells: m.minCells });
  const transfer = [];
  if (r.consensus) {
    r.consensus.sha256 = hex(new Uint8Array(await crypto.subtle.digest('SHA-256',
      r.consensus.body)));
    transfer.push(r.consensus.body.buffer);
  }
  self.postMessage({ type: 'result', ...r }, transfer);
}

const ops = {
  async connect(m) {
    if (client) client.close();
    client = await TorClient.connect(m.bridgeLine, { ...m.opts, onEvent: emit });
    const v = client.dir && client.dir.verification;
    return { fingerprint: hex(client.bridge.rsaId).toUpperCase(), directory: v ? {
      good: v.good, need: v.need, of: v.of, fromCache: client.dir.fromCache,
      routers: client.dir.consensus.routers.length, microdescs: client.dir.microdescs.size } :
      null };
  },
  async fetch(m) {
    // Progress at most every 100 ms, and at the end of the body.
    let last = -Infinity;
    const entry = { latest: null };
    const r = await client.fetch(m.url, { ...m.init, onProgress: (p) => {
      entry.latest = p;
      if (p.ms - last < 100) return;
      last = p.ms;
      emit({ type: 'progress', fetch: m.id, ...p });
    } });
    bodies.set(m.id, Object.assign(entry, { reader: r.body.getReader(), trailers: r.trailers,
      stats: r.stats }));
    return { status: r.status, reason: r.reason, headers: r.rawHeaders, framing: r.framing,
      length: r.length, circuit: r.circuit, exitAddr: r.exitAddr };
  },
  async pull(m) {
    const b = bodies.get(m.id);
    if (!b) {
      self.postMessage({ type: 'bodyError', id: m.id, error: { message: 'no such body' } });
      return null;
    }
    try {
      const { value, done } = await gather(b);
      if (done) {
        bodies.delete(m.id);
        emit({ type: 'progress', fetch: m.id, bytes: 0, ...b.latest, done: true,
          circuitStats: b.stats() });
        self.postMessage({ type: 'done', id: m.id, trailers: await b.trailers });
      } else self.postMessage({ type: 'chunk', id: m.id, data: value }, [value.buffer]);
    } catch (e) {
      bodies.delete(m.id);
      self.postMessage({ type: 'bodyError', id: m.id, error: errorOf(e) });
    }
    return null;
  },
  async fetchDigest(m) {
    const t0 = performance.now();
    const r = await client.fetch(m.url);
    const h = sha256.create();
    let bytes = 0;
    let firstByteMs = null;
    for (const rd = r.body.getReader(); ;) {
      const { done, value } = await rd.read();
      if (done) break;
      if (firstByteMs === null) firstByteMs = performance.now() - t0;
      h.update(value);
      bytes += value.length;
    }
    return { status: r.status, bytes, sha256: hex(h.digest()), firstByteMs,
      ms: performance.now() - t0, circuit: r.circuit };
  },
  async cancel(m) {
    const b = bodies.get(m.fetchId);
    bodies.delete(m.fetchId);
    if (b) await b.reader.cancel();
    return null;
  },
  async newIdentity() {
    return client.newIdentity();
  },
  async resolve(m) {
    return client.resolve(m.name);
  },
  async close() {
    if (client) client.close();
    client = null;
    return null;
  },
};

self.onmessage = async (e) => {
  const m = e.data;
  if (m.op === 'bootstrap') return bootstrap(m);
  const f = ops[m.op];
  try {
    if (!f) throw new Error('unknown op ' + m.op);
    if (m.op !== 'connect' && m.op !== 'close' && !client) throw new Error('not connected');
    const value = await f(m);
    if (m.op !== 'pull') self.postMessage({ type: 'reply', id: m.id, ok: true, value });
  } catch (err) {
    self.postMessage({ type: 'reply', id: m.id, ok: false, error: errorOf(err) });
  }
};

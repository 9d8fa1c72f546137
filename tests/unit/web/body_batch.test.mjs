// body_batch.test.mjs — node:test checks of the worker's body batching
// (src/bridge/web/body_batch.js): pieces already queued in the body stream come out as one
// Uint8Array (bytes equal, in order), never more than the batch size at once (a piece may cross
// it), a piece arriving later starts the next batch (the pending read kept, nothing lost), the end
// reported after the last bytes, and an error from the stream passed on.
import test from 'node:test';
import assert from 'node:assert/strict';
import { gather } from '../../../src/bridge/web/body_batch.js';

const piece = (n, seed) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

// A body stream with `pieces` queued at once, then `later` ones enqueued after `delayMs`.
function body(pieces, later = [], delayMs = 20, fail = null) {
  let ctl;
  const s = new ReadableStream({ start(c) { ctl = c; } });
  for (const p of pieces) ctl.enqueue(p);
  setTimeout(() => {
    for (const p of later) ctl.enqueue(p);
    if (fail) ctl.error(fail);
    else ctl.close();
  }, delayMs);
  return { reader: s.getReader(), next: null };
}

async function drain(b, max) {
  const out = [];
  for (;;) {
    const r = await gather(b, max);
    if (r.done) return out;
    out.push(r.value);
  }
}

const cat = (arrs) => {
  const n = arrs.reduce((a, x) => a + x.length, 0);
  const o = new Uint8Array(n);
  let off = 0;
  for (const a of arrs) { o.set(a, off); off += a.length; }
  return o;
};

test('queued pieces come out as one batch, later ones as the next', async () => {
  const now = Array.from({ length: 10 }, (_, i) => piece(498, i));
  const later = [piece(498, 50), piece(100, 51)];
  const got = await drain(body(now, later));
  assert.equal(got.length, 2);
  assert.deepEqual(got[0], cat(now));
  assert.deepEqual(got[1], cat(later));
});

test('a batch stops at the limit; all bytes arrive in order', async () => {
  const now = Array.from({ length: 40 }, (_, i) => piece(498, i));
  const got = await drain(body(now), 4096);
  assert.deepEqual(cat(got), cat(now));
  for (const g of got) assert.ok(g.length < 4096 + 498, `batch of ${g.length}`);
  assert.ok(got.length >= 4);
});

test('an empty body ends at once; an error is passed on', async () => {
  assert.deepEqual(await drain(body([])), []);
  const b = body([piece(10, 1)], [], 5, new Error('stream ended: reason 7'));
  const first = await gather(b);
  assert.deepEqual(first.value, piece(10, 1));
  await assert.rejects(gather(b), /reason 7/);
});

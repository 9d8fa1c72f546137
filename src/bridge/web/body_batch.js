// body_batch.js — pieces of a response body for the page, gathered in the worker: one read
// awaited, then whatever the body already holds (reads that resolve before a macrotask tick), up
// to BATCH bytes, as one Uint8Array. One message per relay cell's 498 bytes would cost the page a
// round trip between threads per cell; this is the worker side of onionmesh.js's pulls.
export const BATCH = 256 * 1024;
const TICK = Symbol('tick');
const tick = () => new Promise((res) => setTimeout(() => res(TICK), 0));

// b: {reader, next}. The next piece: {value} or {done: true}; a read left pending is kept in
// b.next for the following call.
export async function gather(b, max = BATCH) {
  let r = await (b.next || b.reader.read());
  b.next = null;
  const parts = [];
  let n = 0;
  while (!r.done) {
    parts.push(r.value);
    n += r.value.length;
    if (n >= max) break;
    const next = b.reader.read();
    const t = await Promise.race([next, tick()]);
    if (t === TICK) {
      b.next = next;
      break;
    }
    r = t;
  }
  if (!parts.length) return { done: true };
  if (r.done) b.next = Promise.resolve(r);
  if (parts.length === 1) return { value: parts[0] };
  const value = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    value.set(p, off);
    off += p.length;
  }
  return { value };
}

// onionmesh.js — the page's API (issue 13), a thin main-thread wrapper around worker.js, where
// the Tor client runs:
//   const om = await OnionMesh.connect(bridgeLine, opts);   // opts.path / opts.paths for now
//   const r = await om.fetch(url, { onProgress });  // {status, statusText, headers, body, circuit}
//   om.newIdentity();                               // later fetches use a new circuit
//   om.addEventListener('progress' | 'circuit', (e) => e.detail);
// r.body is a ReadableStream whose pulls ask the worker for the next piece (backpressure: at
// most PREFETCH pieces are asked for ahead of the reader).
// Errors are OnionMeshError with .stage ('link', 'certs', 'create', 'extend', 'stream', 'http')
// and, for a refused stream, .reason (END's name: EXITPOLICY, CONNECTREFUSED, ...); a circuit
// that could not be built after retries on other paths has .attempts.
// Body pieces (up to 64 KiB each, http.js) asked of the worker ahead of the page's reads, so
// the worker's next read overlaps the page's handling of this one (one postMessage round trip
// per piece otherwise stalls both sides).
const PREFETCH = 4;

export class OnionMeshError extends Error {
  constructor(e) {
    super(e.message);
    this.stage = e.stage;
    this.reason = e.reason;
    this.attempts = e.attempts || null; // failed circuit builds [{path, stage, reason, failedHop}]
  }
}

export class OnionMesh extends EventTarget {
  constructor(worker) {
    super();
    this.worker = worker;
    this.nextId = 1;
    this.pending = new Map(); // id -> {resolve, reject}
    this.bodies = new Map(); // id -> ReadableStream controller handlers
    worker.onmessage = (e) => this.onMessage(e.data);
    worker.onerror = (e) => {
      const err = new OnionMeshError({ message: 'worker error: ' + e.message, stage: 'worker' });
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
  }

  static async connect(bridgeLine, opts = {}) {
    const url = opts.workerUrl || new URL('./worker.js', import.meta.url);
    const om = new OnionMesh(new Worker(url, { type: 'module' }));
    const { workerUrl, ...rest } = opts;
    om.info = await om.call('connect', { bridgeLine, opts: rest });
    return om;
  }

  call(op, args = {}) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ op, id, ...args });
    });
  }

  onMessage(m) {
    if (m.type === 'event') {
      this.dispatchEvent(new CustomEvent(m.event.type, { detail: m.event }));
      const b = m.event.fetch && this.bodies.get(m.event.fetch);
      if (b && m.event.type === 'progress') b.onProgress?.(m.event);
      return;
    }
    if (m.type === 'reply') {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (p) m.ok ? p.resolve(m.value) : p.reject(new OnionMeshError(m.error));
      return;
    }
    const b = this.bodies.get(m.id);
    if (!b) return;
    const w = b.waiter;
    b.waiter = null;
    if (m.type === 'chunk') b.controller.enqueue(m.data);
    else if (m.type === 'done') {
      this.bodies.delete(m.id);
      b.trailers(m.trailers);
      b.controller.close();
    } else if (m.type === 'bodyError') {
      this.bodies.delete(m.id);
      b.trailers([]);
      b.controller.error(new OnionMeshError(m.error));
    }
    w?.();
  }

  async fetch(url, init = {}) {
    const id = this.nextId; // the fetch's id names its body messages too
    const { onProgress, ...rest } = init;
    const entry = { onProgress, controller: null, waiter: null, trailers: null };
    this.bodies.set(id, entry);
    let r;
    try {
      r = await this.call('fetch', { url: String(url), init: rest });
    } catch (e) {
      this.bodies.delete(id);
      throw e;
    }
    const trailers = new Promise((res) => { entry.trailers = res; });
    const body = new ReadableStream({
      start: (controller) => { entry.controller = controller; },
      pull: () => new Promise((res) => {
        if (!this.bodies.has(id)) return res();
        entry.waiter = res;
        this.worker.postMessage({ op: 'pull', id });
      }),
      cancel: () => {
        this.bodies.delete(id);
        this.worker.postMessage({ op: 'cancel', id: this.nextId++, fetchId: id });
      },
    }, new CountQueuingStrategy({ highWaterMark: PREFETCH }));
    const headers = new Headers();
    for (const [k, v] of r.headers) headers.append(k, v);
    return { status: r.status, statusText: r.reason, headers, body, trailers,
      framing: r.framing, length: r.length, circuit: r.circuit, exitAddr: r.exitAddr };
  }

  // The body read and hashed in the worker (nothing crosses to the page): {status, bytes,
  // sha256, firstByteMs, ms, circuit}. For comparisons with fetch (the page's ?sink=worker).
  fetchDigest(url) {
    return this.call('fetchDigest', { url: String(url) });
  }

  newIdentity() {
    return this.call('newIdentity');
  }

  resolve(name) {
    return this.call('resolve', { name });
  }

  async close() {
    await this.call('close');
    this.worker.terminate();
  }
}

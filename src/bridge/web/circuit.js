// circuit.js — a circuit from the client over a Link, and its streams: CREATE2 with ntor
// (tor-spec 5.1 "CREATE and CREATED cells", 5.1.4; never CREATE_FAST: a WebSocket link has no
// TLS secret, doc/bridges.md), tor1 relay crypto for each hop (relay_crypto.js), relay cells
// to and from the last hop, stream multiplexing (6.2 "Opening streams and transferring data",
// 6.2.1 BEGIN_DIR, 6.3 END), and the receive side of flow control: circuit-level SENDME v1
// every 100 DATA cells with the digest of the cell that triggered it (7.3, 7.3.1) and
// stream-level SENDMEs every 50 (7.4). This slice builds one-hop circuits (to the bridge).
import { CMD, DESTROY_REASONS, decodeCreated2, encodeCreate2 } from './cell.js';
import { ntorClientFinish, ntorClientStart, NTOR_HTYPE } from './ntor.js';
import { Tor1Hop } from './relay_crypto.js';
import {
  RELAY, RELAY_DATA_MAX, END_REASONS, decodeRelay, decodeSendme, encodeRelay, encodeSendmeV1,
} from './relay_cell.js';

const CIRC_WINDOW = 1000, CIRC_INCREMENT = 100;
const STREAM_WINDOW = 500, STREAM_INCREMENT = 50;

export class CircuitError extends Error {
  constructor(stage, message) {
    super(message);
    this.stage = stage;
  }
}

export class Stream {
  constructor(circ, id) {
    this.circ = circ;
    this.id = id;
    this.deliverWindow = STREAM_WINDOW;
    this.chunks = [];
    this.waiter = null;
    this.ended = null; // {reason} once END came
    this.error = null;
    this.connected = null;
  }

  write(bytes) {
    for (let o = 0; o < bytes.length; o += RELAY_DATA_MAX)
      this.circ.sendRelay(RELAY.DATA, this.id, bytes.subarray(o, o + RELAY_DATA_MAX));
  }

  // Resolves with the next chunk of data, or null at the end of the stream.
  read() {
    if (this.chunks.length) return Promise.resolve(this.chunks.shift());
    if (this.error) return Promise.reject(this.error);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve, reject) => { this.waiter = { resolve, reject }; });
  }

  wake() {
    if (!this.waiter) return;
    const w = this.waiter;
    this.waiter = null;
    if (this.chunks.length) w.resolve(this.chunks.shift());
    else if (this.error) w.reject(this.error);
    else if (this.ended) w.resolve(null);
    else this.waiter = w;
  }

  onData(data) {
    this.deliverWindow--;
    if (this.deliverWindow < 0) throw new CircuitError('stream', 'stream deliver window below 0');
    this.chunks.push(data);
    // 7.4: a stream SENDME when the window is at most 450 (we have no flush backlog).
    while (this.deliverWindow <= STREAM_WINDOW - STREAM_INCREMENT) {
      this.circ.sendRelay(RELAY.SENDME, this.id);
      this.deliverWindow += STREAM_INCREMENT;
    }
    this.wake();
  }
}

export class Circuit {
  constructor(link, { onEvent = () => {}, timeoutMs = 30000 } = {}) {
    this.link = link;
    this.onEvent = onEvent;
    this.timeoutMs = timeoutMs;
    this.hops = [];
    this.streams = new Map();
    this.nextStreamId = 1;
    this.deliverWindow = CIRC_WINDOW;
    this.closed = null;
    this.pending = null; // the CREATED2 wait
    this.stats = { dataCells: 0, circSendmes: 0, streamSendmes: 0 };
    this.id = link.newCircId({
      onCell: (c) => this.onCell(c),
      onClose: (e) => this.fail(e),
    });
  }

  // CREATE2 (ntor) to the first hop: relay identity rsaId (20 bytes), ntor key B (32).
  async create(rsaId, ntorKey) {
    const st = ntorClientStart(rsaId, ntorKey);
    const t0 = performance.now();
    const reply = await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new CircuitError('create', 'CREATED2 timed out')),
        this.timeoutMs);
      this.pending = {
        resolve: (v) => { clearTimeout(t); resolve(v); },
        reject: (e) => { clearTimeout(t); reject(e); },
      };
      this.link.send(this.id, CMD.CREATE2, encodeCreate2(NTOR_HTYPE, st.onionskin));
    });
    let keys;
    try {
      keys = ntorClientFinish(st, reply);
    } catch (e) {
      this.destroy();
      throw new CircuitError('create', e.message);
    }
    this.hops.push(new Tor1Hop(keys));
    const ms = performance.now() - t0;
    this.onEvent({ type: 'circuit', step: 'created', hop: this.hops.length, ms });
    return { ms };
  }

  onCell(cell) {
    try {
      if (cell.cmd === CMD.CREATED2 && this.pending) {
        const p = this.pending;
        this.pending = null;
        p.resolve(decodeCreated2(cell.payload));
      } else if (cell.cmd === CMD.DESTROY) {
        const r = cell.payload[0];
        this.fail(new CircuitError('circuit',
          `DESTROY from the relay: ${DESTROY_REASONS[r] || r}`), false);
      } else if (cell.cmd === CMD.RELAY || cell.cmd === CMD.RELAY_EARLY) {
        this.onRelay(cell.payload);
      }
    } catch (e) {
      this.fail(e instanceof CircuitError ? e : new CircuitError('circuit', e.message));
    }
  }

  onRelay(payload) {
    // 5.5.3 "Routing to the Origin": decrypt hop by hop until one recognizes the cell.
    let hop = null;
    for (const h of this.hops) {
      if (h.decryptInbound(payload)) {
        hop = h;
        break;
      }
    }
    if (!hop) throw new CircuitError('circuit', 'unrecognized relay cell');
    const r = decodeRelay(payload);
    if (r.cmd === RELAY.DATA) {
      this.stats.dataCells++;
      this.deliverWindow--;
      if (this.deliverWindow < 0) throw new CircuitError('circuit', 'deliver window below 0');
      if (this.deliverWindow <= CIRC_WINDOW - CIRC_INCREMENT) {
        // 7.3.1: authenticated with the digest of this (triggering) DATA cell.
        this.sendRelay(RELAY.SENDME, 0, encodeSendmeV1(hop.lastBackDigest));
        this.deliverWindow += CIRC_INCREMENT;
        this.stats.circSendmes++;
      }
      const s = this.streams.get(r.streamId);
      if (s) {
        const before = s.deliverWindow;
        s.onData(r.data);
        if (s.deliverWindow > before) this.stats.streamSendmes++;
      }
    } else if (r.cmd === RELAY.CONNECTED) {
      const s = this.streams.get(r.streamId);
      if (s && s.connected) {
        const c = s.connected;
        s.connected = null;
        c.resolve();
      }
    } else if (r.cmd === RELAY.END) {
      const s = this.streams.get(r.streamId);
      if (s) {
        const reason = END_REASONS[r.data[0]] || String(r.data[0]);
        s.ended = { reason };
        this.streams.delete(r.streamId);
        if (s.connected) {
          s.connected.reject(new CircuitError('stream', `stream refused: END ${reason}`));
          s.connected = null;
        }
        s.wake();
      }
    } else if (r.cmd === RELAY.SENDME) {
      decodeSendme(r.data); // we send too little to need our package window
    } else if (r.cmd === RELAY.TRUNCATED) {
      throw new CircuitError('circuit', 'TRUNCATED');
    }
    // DROP and unknown commands are ignored.
  }

  sendRelay(cmd, streamId, data) {
    if (this.closed) throw this.closed;
    const payload = encodeRelay(cmd, streamId, data);
    // Encrypt for the last hop first, then outward to the first (5.5.2.1).
    const last = this.hops[this.hops.length - 1];
    last.encryptOutbound(payload);
    for (let i = this.hops.length - 2; i >= 0; i--) this.hops[i].fwdCipher.xor(payload);
    this.link.send(this.id, CMD.RELAY, payload);
  }

  // 6.2.1: a directory stream to the last hop. Resolves when CONNECTED arrives.
  async beginDir() {
    const id = this.nextStreamId++;
    const s = new Stream(this, id);
    this.streams.set(id, s);
    await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new CircuitError('stream', 'BEGIN_DIR timed out')),
        this.timeoutMs);
      s.connected = {
        resolve: () => { clearTimeout(t); resolve(); },
        reject: (e) => { clearTimeout(t); reject(e); },
      };
      this.sendRelay(RELAY.BEGIN_DIR, id);
    });
    return s;
  }

  fail(err, sendDestroy = true) {
    if (this.closed) return;
    this.closed = err;
    if (this.pending) this.pending.reject(err);
    for (const s of this.streams.values()) {
      s.error = err;
      if (s.connected) s.connected.reject(err);
      s.wake();
    }
    this.streams.clear();
    this.link.circuits.delete(this.id);
    if (sendDestroy && !this.link.closed) {
      try {
        this.link.send(this.id, CMD.DESTROY, Uint8Array.of(0));
      } catch {
        // link going away
      }
    }
  }

  destroy() {
    this.fail(new CircuitError('circuit', 'closed by the client'));
  }
}

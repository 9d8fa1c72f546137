// circuit.js — a circuit from the client over a Link, and its streams: CREATE2 with ntor to the
// first hop (tor-spec 5.1 "CREATE and CREATED cells", 5.1.4; never CREATE_FAST: a WebSocket link
// has no TLS secret, doc/bridges.md), EXTEND2/EXTENDED2 (5.1.2) in RELAY_EARLY cells to further
// hops, tor1 relay crypto layered per hop (relay_crypto.js; 5.5.2.1 forward: encrypted for the
// last hop first, 5.5.3 backward: peeled hop by hop until one recognizes the cell), stream
// multiplexing (6.2 BEGIN / BEGIN_DIR, 6.3 END, 6.4 RESOLVE), and flow control per hop (7.3,
// 7.3.1 circuit SENDME v1 every 100 DATA cells with the digest of the cell that triggered it,
// both ways: ours carry the hop's digest, theirs are checked against the digests of the DATA
// cells we sent) and per stream (7.4, windows of 500 with SENDMEs every 50). TRUNCATED and
// DESTROY close the circuit with their reason.
// The handshake of each hop is ntor-v3 (htype 3, ntor3.js) when the hop offers it (hop.ntorV3,
// or Relay=4 in hop.protocols, with its Ed25519 identity hop.edId), otherwise ntor (htype 2);
// hop.handshake = 'ntor' forces ntor. Which one each hop used is in circ.path[i].handshake and
// in the 'created' / 'extended' events.
// Congestion control (prop 324, congestion.js): a hop given hop.cc (congestion.js ccParams; the
// client gives it to the exit of an exit circuit) asks for it in its ntor-v3 handshake; if the
// relay agrees (path[i].sendmeInc, the events' sendmeInc), that hop gets circuit SENDME v1s
// every sendme_inc DATA cells instead of 100, its streams no stream SENDMEs but XOFF/XON
// (congestion.js FlowReceiver; XOFF/XON from the exit stop and resume our sending), and our
// DATA to it is limited to cc.cwndInit cells awaiting a SENDME instead of the windows of 7.3.
import { CMD, DESTROY_REASONS, decodeCreated2, encodeCreate2 } from './cell.js';
import { ntorClientFinish, ntorClientStart, NTOR_HTYPE } from './ntor.js';
import {
  checkServerExtensions, ntor3ClientFinish, ntor3ClientStart, NTOR3_HTYPE,
} from './ntor3.js';
import { offersNtorV3 } from './protover.js';
import {
  FlowReceiver, ccRequestMessage, ccResponse, encodeXoff, encodeXon, parseFlowBody,
} from './congestion.js';
import { Tor1Hop } from './relay_crypto.js';
import {
  RELAY, RELAY_DATA_MAX, END_REASONS, decodeRelay, decodeSendme, encodeRelay, encodeSendmeV1,
} from './relay_cell.js';
import {
  beginFlags, decodeConnected, decodeExtended2, decodeResolved, encodeBegin, encodeExtend2,
  endMessage,
} from './relay_bodies.js';
import { equalCt, utf8 } from './bytes.js';

const CIRC_WINDOW = 1000, CIRC_INCREMENT = 100;
const STREAM_WINDOW = 500, STREAM_INCREMENT = 50;
const MAX_RELAY_EARLY = 8;

export class CircuitError extends Error {
  constructor(stage, message) {
    super(message);
    this.stage = stage;
  }
}

// A stream the exit (or directory) closed or refused: reason is END's name, code its number.
// A stream the exit (or directory) closed or refused: reason is END's name, code its number.
export class StreamError extends CircuitError {
  constructor(code, message) {
    super('stream', message);
    this.code = code;
    this.reason = END_REASONS[code] || String(code);
  }
}

// Per-hop flow-control state kept next to its crypto: fixed windows (7.3), or with congestion
// control (cc = {sendmeInc, cwnd, xoffBytes}) SENDMEs every sendmeInc cells both ways and at most
// cwnd of our DATA cells unacknowledged (inFlight).
function hopState(h, cc = null) {
  if (h.deliverWindow === undefined) {
    h.deliverWindow = CIRC_WINDOW;
    h.packageWindow = CIRC_WINDOW;
    h.sentDigests = []; // digests of our DATA cells that a SENDME v1 from this hop must carry
    h.cc = cc;
    h.recvInc = cc ? cc.sendmeInc : CIRC_INCREMENT;
    h.inFlight = 0;
    h.sentCells = 0;
  }
  return h;
}

// Whether hop h may take another DATA cell from us.
const hopCanSend = (h) => (h.cc ? h.inFlight < h.cc.cwnd : h.packageWindow > 0);

// Whether a hop gets ntor-v3: it offers it and we know its Ed25519 identity (the handshake's ID).
export function wantsNtorV3(hop) {
  if (hop.handshake === 'ntor') return false;
  const edOk = hop.edId instanceof Uint8Array && hop.edId.length === 32;
  return edOk && (hop.ntorV3 === true || offersNtorV3(hop.protocols, hop.edId));
}

// The client half of the hop's handshake: {name, htype, onionskin, finish(reply) -> {keys,
// sendmeInc}}. ntor-v3 sends the congestion-control request when hop.cc asks for it (else an
// empty extension list) and refuses a reply whose message is not a well-formed list or answers
// a request we never made; sendmeInc is the relay's answer (0: fixed windows).
function startHandshake(hop, stage) {
  if (!(hop.ntorKey instanceof Uint8Array) || hop.ntorKey.length !== 32)
    throw new CircuitError(stage, `${hop.nickname || 'hop'}: no 32-byte ntor key`);
  if (hop.handshake === 'ntor-v3' && !wantsNtorV3({ ...hop, ntorV3: true }))
    throw new CircuitError(stage, `${hop.nickname || 'hop'}: ntor-v3 needs the Ed25519 identity`);
  if (hop.handshake === 'ntor-v3' || wantsNtorV3(hop)) {
    const asked = hop.cc || null;
    const st = ntor3ClientStart(hop.edId, hop.ntorKey,
      asked ? { message: ccRequestMessage() } : {});
    return { name: 'ntor-v3', htype: NTOR3_HTYPE, onionskin: st.onionskin,
      finish: (reply) => {
        const { keys, message } = ntor3ClientFinish(st, reply);
        if (!asked) checkServerExtensions(message);
        return { keys, sendmeInc: ccResponse(message, asked) };
      } };
  }
  const st = ntorClientStart(hop.rsaId, hop.ntorKey);
  return { name: 'ntor', htype: NTOR_HTYPE, onionskin: st.onionskin,
    finish: (reply) => ({ keys: ntorClientFinish(st, reply), sendmeInc: 0 }) };
}

export class Stream {
  constructor(circ, id, hopIndex) {
    this.circ = circ;
    this.id = id;
    this.hop = hopIndex; // the hop the stream is attached to (its data comes from there)
    this.deliverWindow = STREAM_WINDOW;
    this.packageWindow = STREAM_WINDOW;
    this.outQueue = []; // data waiting for a package window
    this.chunks = [];
    this.waiter = null;
    this.ended = null; // {reason, code, message} once END came
    this.error = null;
    this.connected = null; // the BEGIN / RESOLVE wait
    this.info = null; // CONNECTED's address, or RESOLVED's answers
    this.bytesIn = 0;
    this.bytesOut = 0;
    const cc = circ.hops[hopIndex]?.cc;
    this.flow = cc ? new FlowReceiver(cc.xoffBytes) : null; // XON/XOFF instead of stream SENDMEs
    this.buffered = 0; // bytes received and not yet read
    this.xoffReceived = false; // the exit asked us to stop sending
  }

  // Queues bytes as DATA cells of at most 498 bytes; they leave as the windows allow.
  write(bytes) {
    if (this.ended || this.error) throw this.error || new CircuitError('stream', 'stream closed');
    for (let o = 0; o < bytes.length; o += RELAY_DATA_MAX)
      this.outQueue.push(bytes.slice(o, o + RELAY_DATA_MAX));
    this.circ.flush();
  }

  // Resolves with the next chunk of data, or null at the end of the stream.
  read() {
    if (this.chunks.length) return Promise.resolve(this.took(this.chunks.shift()));
    if (this.error) return Promise.reject(this.error);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve, reject) => { this.waiter = { resolve, reject }; });
  }

  // Every chunk already queued, joined (or null): lets a reader take a burst of cells at once.
  takeBuffered() {
    if (!this.chunks.length) return null;
    const n = this.chunks.reduce((a, c) => a + c.length, 0);
    const out = new Uint8Array(n);
    let o = 0;
    for (const c of this.chunks.splice(0)) {
      out.set(c, o);
      o += c.length;
    }
    return this.took(out);
  }

  // The reader took chunk: with congestion control, XON once everything was read after an XOFF.
  took(chunk) {
    this.buffered -= chunk.length;
    if (this.flow && this.flow.drained(this.buffered) === 'xon' && !this.circ.closed &&
        !this.ended) {
      this.circ.sendRelay(RELAY.XON, this.id, encodeXon(0), this.hop);
      this.circ.stats.xonSent++;
    }
    return chunk;
  }

  // Sends END (DONE) if the stream is still open on the circuit.
  close() {
    if (this.ended || this.error) return;
    this.ended = { reason: 'DONE', code: 6, message: endMessage(6), local: true };
    this.circ.streams.delete(this.id);
    if (!this.circ.closed) this.circ.sendRelay(RELAY.END, this.id, Uint8Array.of(6), this.hop);
    this.wake();
  }

  wake() {
    if (!this.waiter) return;
    const w = this.waiter;
    this.waiter = null;
    if (this.chunks.length) w.resolve(this.took(this.chunks.shift()));
    else if (this.error) w.reject(this.error);
    else if (this.ended) w.resolve(null);
    else this.waiter = w;
  }

  onData(data) {
    this.bytesIn += data.length;
    this.buffered += data.length;
    this.chunks.push(data);
    if (this.flow) { // prop 324 4.1: no stream window; XOFF when the reader falls behind
      if (this.flow.buffered(this.buffered, performance.now()) === 'xoff') {
        this.circ.sendRelay(RELAY.XOFF, this.id, encodeXoff(), this.hop);
        this.circ.stats.xoffSent++;
      }
      this.wake();
      return;
    }
    this.deliverWindow--;
    if (this.deliverWindow < 0) throw new CircuitError('stream', 'stream deliver window below 0');
    // 7.4: a stream SENDME when the window is at most 450 (we have no flush backlog).
    while (this.deliverWindow <= STREAM_WINDOW - STREAM_INCREMENT) {
      this.circ.sendRelay(RELAY.SENDME, this.id, undefined, this.hop);
      this.deliverWindow += STREAM_INCREMENT;
      this.circ.stats.streamSendmes++;
    }
    this.wake();
  }
}

export class Circuit {
  constructor(link, { onEvent = () => {}, timeoutMs = 30000 } = {}) {
    this.link = link;
    this.onEvent = onEvent;
    this.timeoutMs = timeoutMs;
    this.hops = []; // Tor1Hop per hop, with its flow-control state (hopState)
    this.path = []; // what the caller said about each hop ({nickname, rsaId, ...})
    this.streams = new Map();
    this.nextStreamId = 1;
    this.relayEarlyLeft = MAX_RELAY_EARLY;
    this.closed = null;
    this.pending = null; // the CREATED2 / EXTENDED2 wait
    this.stats = { dataCells: 0, circSendmes: 0, streamSendmes: 0, sendmesIn: 0, dataCellsOut: 0,
      xoffSent: 0, xonSent: 0, xoffIn: 0, xonIn: 0 };
    this.id = link.newCircId({
      onCell: (c) => this.onCell(c),
      onClose: (e) => this.fail(e, false),
    });
  }

  get deliverWindow() {
    return this.hops.length ? hopState(this.hops[this.hops.length - 1]).deliverWindow : CIRC_WINDOW;
  }

  // Waits for the reply of a handshake sent by send(); rejects on timeout or circuit failure.
  awaitReply(what, send, to = '') {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.pending = null;
        reject(new CircuitError(what, `${what === 'create' ? 'CREATED2' : 'EXTENDED2'} timed out`));
      }, this.timeoutMs);
      this.pending = {
        what,
        to,
        resolve: (v) => { clearTimeout(t); resolve(v); },
        reject: (e) => { clearTimeout(t); reject(e); },
      };
      send();
    });
  }

  finishHop(hs, reply, stage, info, t0) {
    let done;
    try {
      done = hs.finish(reply);
    } catch (e) {
      const err = new CircuitError(stage, `${info.nickname || 'hop'}: ${e.message}`);
      this.fail(err);
      throw err;
    }
    const { sendmeInc } = done;
    const cc = sendmeInc
      ? { sendmeInc, cwnd: info.cc.cwndInit, xoffBytes: info.cc.xoffBytes } : null;
    this.hops.push(hopState(new Tor1Hop(done.keys), cc));
    const { cc: _asked, ...rest } = info;
    this.path.push({ ...rest, handshake: hs.name, htype: hs.htype, sendmeInc });
    const ms = performance.now() - t0;
    this.onEvent({ type: 'circuit', step: stage === 'create' ? 'created' : 'extended',
      hop: this.hops.length, nickname: info.nickname, handshake: hs.name, htype: hs.htype, ms,
      sendmeInc });
    return { ms, handshake: hs.name, htype: hs.htype, sendmeInc };
  }

  // CREATE2 to the first hop: relay identity rsaId (20 bytes), ntor key B (32); info may add
  // edId / protocols / ntorV3 / handshake (startHandshake).
  async create(rsaId, ntorKey, info = {}) {
    const hs = startHandshake({ ...info, rsaId, ntorKey }, 'create');
    const t0 = performance.now();
    const reply = await this.awaitReply('create', () =>
      this.link.send(this.id, CMD.CREATE2, encodeCreate2(hs.htype, hs.onionskin)));
    return this.finishHop(hs, reply, 'create', { rsaId, ...info }, t0);
  }

  // EXTEND2 from the current last hop to hop {nickname, rsaId, ntorKey, ip, orPort, edId?}.
  async extend(hop) {
    if (!this.hops.length) throw new CircuitError('extend', 'extend before create');
    if (!(hop.ntorKey instanceof Uint8Array) || hop.ntorKey.length !== 32)
      throw new CircuitError('extend', `${hop.nickname || 'hop'}: no 32-byte ntor key`);
    const hs = startHandshake(hop, 'extend');
    const body = encodeExtend2(hop, hs.htype, hs.onionskin);
    const t0 = performance.now();
    const reply = await this.awaitReply('extend', () =>
      this.sendRelay(RELAY.EXTEND2, 0, body, this.hops.length - 1, true), hop.nickname || 'a hop');
    return this.finishHop(hs, reply, 'extend', hop, t0);
  }

  onCell(cell) {
    try {
      if (cell.cmd === CMD.CREATED2 && this.pending && this.pending.what === 'create') {
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
    let hi = -1;
    for (let i = 0; i < this.hops.length; i++) {
      if (this.hops[i].decryptInbound(payload)) {
        hi = i;
        break;
      }
    }
    if (hi < 0) throw new CircuitError('circuit', 'unrecognized relay cell');
    const hop = hopState(this.hops[hi]);
    const r = decodeRelay(payload);
    const s = r.streamId ? this.streams.get(r.streamId) : null;
    if (s && s.hop !== hi)
      throw new CircuitError('circuit', `stream ${r.streamId} cell from hop ${hi + 1}`);
    switch (r.cmd) {
      case RELAY.DATA: {
        this.stats.dataCells++;
        hop.deliverWindow--;
        if (hop.deliverWindow < 0) throw new CircuitError('circuit', 'deliver window below 0');
        if (hop.deliverWindow <= CIRC_WINDOW - hop.recvInc) {
          // 7.3.1: authenticated with the digest of this (triggering) DATA cell; every
          // sendme_inc cells with congestion control (prop 324 3.3).
          this.sendRelay(RELAY.SENDME, 0, encodeSendmeV1(hop.lastBackDigest), hi);
          hop.deliverWindow += hop.recvInc;
          this.stats.circSendmes++;
        }
        if (s) s.onData(r.data);
        break;
      }
      case RELAY.CONNECTED:
        if (s && s.connected) {
          s.info = decodeConnected(r.data);
          const c = s.connected;
          s.connected = null;
          c.resolve();
        }
        break;
      case RELAY.RESOLVED:
        if (s && s.connected) {
          s.info = decodeResolved(r.data);
          const c = s.connected;
          s.connected = null;
          this.streams.delete(s.id);
          s.ended = { reason: 'DONE', code: 6 };
          c.resolve();
        }
        break;
      case RELAY.END:
        if (s) this.onEnd(s, r.data.length ? r.data[0] : 1);
        break;
      case RELAY.SENDME:
        this.onSendme(hop, hi, s, r);
        break;
      case RELAY.XOFF:
      case RELAY.XON:
        this.onFlow(hop, s, r);
        break;
      case RELAY.EXTENDED2:
        if (!this.pending || this.pending.what !== 'extend' || hi !== this.hops.length - 1)
          throw new CircuitError('circuit', 'unexpected EXTENDED2');
        {
          const p = this.pending;
          this.pending = null;
          p.resolve(decodeExtended2(r.data));
        }
        break;
      case RELAY.TRUNCATED: {
        // The hops after hi are gone (a DESTROY reached hop hi from the next one).
        const why = DESTROY_REASONS[r.data[0]] || r.data[0];
        const extending = this.pending && this.pending.what === 'extend';
        throw new CircuitError(extending ? 'extend' : 'circuit',
          `TRUNCATED after hop ${hi + 1} (${this.path[hi]?.nickname || '?'}): ${why}` +
          (extending ? `, while extending to ${this.pending.to}` : ''));
      }
      default:
      // DROP and unknown commands are ignored.
    }
  }

  onEnd(s, code) {
    const message = endMessage(code);
    s.ended = { reason: END_REASONS[code] || String(code), code, message };
    this.streams.delete(s.id);
    if (s.connected) {
      s.connected.reject(new StreamError(code, `stream refused: ${message} (END ${s.ended.reason})`));
      s.connected = null;
    }
    s.wake();
  }

  onSendme(hop, hi, s, r) {
    this.stats.sendmesIn++;
    if (r.streamId === 0) {
      // 7.3.1: a SENDME v1 must carry the digest of the DATA cell we sent that it acknowledges.
      const m = decodeSendme(r.data);
      const want = hop.sentDigests.shift();
      if (!want) throw new CircuitError('circuit', 'circuit SENDME with nothing to acknowledge');
      if (m.version === 1 && !equalCt(m.digest, want))
        throw new CircuitError('circuit', 'circuit SENDME v1 with a wrong digest');
      if (hop.cc) {
        hop.inFlight -= hop.cc.sendmeInc; // sentDigests had one: inFlight >= sendmeInc
      } else {
        hop.packageWindow += CIRC_INCREMENT;
        if (hop.packageWindow > CIRC_WINDOW)
          throw new CircuitError('circuit', 'package window overflow');
      }
    } else if (s && hop.cc) {
      // Prop 324 4: no stream SENDMEs with congestion control (tor ignores them too).
    } else if (s) {
      s.packageWindow += STREAM_INCREMENT;
      if (s.packageWindow > STREAM_WINDOW) throw new CircuitError('circuit', 'stream window overflow');
    }
    this.flush();
  }

  // Prop 324 4.1: XOFF / XON from the stream's hop stop and resume our sending on it; a
  // malformed one, or one for a stream without congestion control, closes the circuit.
  onFlow(hop, s, r) {
    const isXon = r.cmd === RELAY.XON;
    if (!s) return; // a stream we already closed
    if (!hop.cc)
      throw new CircuitError('circuit', `${isXon ? 'XON' : 'XOFF'} without congestion control`);
    try {
      parseFlowBody(r.data, isXon);
    } catch (e) {
      throw new CircuitError('circuit', e.message);
    }
    s.xoffReceived = !isXon;
    this.stats[isXon ? 'xonIn' : 'xoffIn']++;
    if (isXon) this.flush();
  }

  // Sends queued DATA while the stream and its hop allow: the package windows of 7.3 / 7.4, or
  // with congestion control the hop's cells in flight and the stream's XOFF.
  flush() {
    for (const s of this.streams.values()) {
      const hop = hopState(this.hops[s.hop]);
      const streamOk = () => (hop.cc ? !s.xoffReceived : s.packageWindow > 0);
      while (s.outQueue.length && streamOk() && hopCanSend(hop) && !this.closed) {
        const d = s.outQueue.shift();
        const digest = this.sendRelay(RELAY.DATA, s.id, d, s.hop);
        s.bytesOut += d.length;
        this.stats.dataCellsOut++;
        if (hop.cc) {
          hop.inFlight++;
          if (++hop.sentCells % hop.cc.sendmeInc === 0) hop.sentDigests.push(digest);
        } else {
          s.packageWindow--;
          hop.packageWindow--;
          if (hop.packageWindow % CIRC_INCREMENT === 0) hop.sentDigests.push(digest);
        }
      }
    }
  }

  // Encrypts a relay cell for hop `to` (default: the last) and every hop before it, and sends
  // it (as RELAY_EARLY when early, EXTEND2 must be). Returns the hop's 20-byte forward digest.
  sendRelay(cmd, streamId, data, to = this.hops.length - 1, early = false) {
    if (this.closed) throw this.closed;
    const payload = encodeRelay(cmd, streamId, data);
    const digest = this.hops[to].encryptOutbound(payload);
    for (let i = to - 1; i >= 0; i--) this.hops[i].fwdCipher.xor(payload);
    if (early) {
      if (this.relayEarlyLeft <= 0) throw new CircuitError('extend', 'no RELAY_EARLY cells left');
      this.relayEarlyLeft--;
    }
    this.link.send(this.id, early ? CMD.RELAY_EARLY : CMD.RELAY, payload);
    return digest;
  }

  // Sends cmd with body on a new stream to the last hop and waits for CONNECTED (or RESOLVED).
  async openStream(cmd, body, what) {
    if (this.closed) throw this.closed;
    const id = this.nextStreamId++;
    if (id > 0xffff) throw new CircuitError('stream', 'stream IDs exhausted on this circuit');
    const s = new Stream(this, id, this.hops.length - 1);
    this.streams.set(id, s);
    await new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        s.connected = null;
        this.streams.delete(id);
        if (!this.closed) this.sendRelay(RELAY.END, id, Uint8Array.of(7), s.hop); // TIMEOUT
        reject(new StreamError(7, `${what} timed out after ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      s.connected = {
        resolve: () => { clearTimeout(t); resolve(); },
        reject: (e) => { clearTimeout(t); reject(e); },
      };
      this.sendRelay(cmd, id, body);
    });
    return s;
  }

  // 6.2.1: a directory stream to the last hop. Resolves when CONNECTED arrives.
  beginDir() {
    return this.openStream(RELAY.BEGIN_DIR, undefined, 'BEGIN_DIR');
  }

  // 6.2: an exit stream to host:port, with the flags tor's client sends (beginFlags; the exit
  // hop's policy6, when the caller knows it).
  begin(host, port, flags = beginFlags(this.path.at(-1)?.policy6, port)) {
    return this.openStream(RELAY.BEGIN, encodeBegin(host, port, flags), 'BEGIN');
  }

  // 6.4: the exit resolves name; returns RESOLVED's answers [{type, value, ttl, error}].
  async resolve(name) {
    const s = await this.openStream(RELAY.RESOLVE, utf8(name + '\0'), 'RESOLVE');
    return s.info;
  }

  fail(err, sendDestroy = true) {
    if (this.closed) return;
    this.closed = err;
    if (this.pending) {
      this.pending.reject(err);
      this.pending = null;
    }
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
    this.onEvent({ type: 'circuit', step: 'closed', circId: this.id, reason: err.message });
  }

  destroy() {
    this.fail(new CircuitError('circuit', 'closed by the client'));
  }
}

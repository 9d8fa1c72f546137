// link.js — a Tor link to a bridge over a browser WebSocket (doc/bridge.md, subprotocol
// "tor-cells.onionmesh": binary messages of whole cells) and the initiator's side of tor-spec 4
// "Negotiating and initializing connections": send VERSIONS (4.1; we offer 4 and 5, the only
// protocols the subprotocol allows), read the responder's VERSIONS, CERTS (4.2, checked by
// certs.js against the pinned RSA identity), AUTH_CHALLENGE (4.3; ignored: a client does not
// authenticate) and NETINFO (4.5); then send our NETINFO. Afterwards cells are routed to the
// circuit that owns their circuit ID. Uses only the global WebSocket (a browser or worker).
import {
  CMD, decodeCell, decodeNetinfo, decodeVersions, encodeCell, encodeNetinfo, encodeVersions,
} from './cell.js';
import { verifyResponderCerts } from './certs.js';

const SUBPROTOCOL = 'tor-cells.onionmesh';
const OUR_VERSIONS = [4, 5];
const EMPTY = new Uint8Array(0);

export class LinkError extends Error {
  constructor(stage, message) {
    super(message);
    this.stage = stage;
  }
}

export class Link {
  constructor(bridge, { handshakeTimeoutMs = 20000, onEvent = () => {} } = {}) {
    this.bridge = bridge;
    this.timeoutMs = handshakeTimeoutMs;
    this.onEvent = onEvent;
    this.linkProto = 0;
    this.circuits = new Map(); // circId -> {onCell(cell), onClose(err)}
    this.closed = null;
    this.ws = null;
    this.buf = new Uint8Array(0);
    this.waiter = null; // handshake: resolves on the next cell
    this.queue = [];
    this.gotVersions = false;
    this.open_ = false;
  }

  // Opens the WebSocket and runs the handshake. Resolves with {linkProto, identity, netinfo}.
  async open() {
    const ws = new WebSocket(this.bridge.url, SUBPROTOCOL);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new LinkError('connect', 'WebSocket open timed out')),
        this.timeoutMs);
      ws.onopen = () => { clearTimeout(t); resolve(); };
      ws.onerror = () => { clearTimeout(t); reject(new LinkError('connect', 'WebSocket error')); };
      ws.onclose = (e) => {
        clearTimeout(t);
        reject(new LinkError('connect', `WebSocket closed (${e.code}) before opening`));
      };
    });
    if (ws.protocol !== SUBPROTOCOL)
      throw new LinkError('connect', `server chose subprotocol "${ws.protocol}"`);
    ws.onmessage = (e) => this.onMessage(new Uint8Array(e.data));
    ws.onclose = (e) =>
      this.fail(new LinkError('link', `WebSocket closed (${e.code} ${e.reason})`));
    ws.onerror = () => this.fail(new LinkError('link', 'WebSocket error'));

    const deadline = setTimeout(() => this.fail(new LinkError('handshake', 'handshake timed out')),
      this.timeoutMs);
    try {
      return await this.handshake();
    } finally {
      clearTimeout(deadline);
    }
  }

  async handshake() {
    this.ws.send(encodeCell(0, 0, CMD.VERSIONS, encodeVersions(OUR_VERSIONS)));
    const v = await this.nextCell();
    if (v.cmd !== CMD.VERSIONS) throw new LinkError('versions', 'first cell is not VERSIONS');
    const theirs = decodeVersions(v.payload);
    const common = OUR_VERSIONS.filter((x) => theirs.includes(x));
    if (!common.length) throw new LinkError('versions', `no common link protocol (${theirs})`);
    this.linkProto = Math.max(...common);
    this.onEvent({ type: 'link', step: 'versions', linkProto: this.linkProto });
    this.parse(); // cells that came in the same message as VERSIONS

    let identity = null;
    let netinfo = null;
    while (!netinfo) {
      const c = await this.nextCell();
      if (c.cmd === CMD.CERTS) {
        if (identity) throw new LinkError('certs', 'second CERTS cell');
        try {
          identity = verifyResponderCerts(c.payload, this.bridge.rsaId);
        } catch (e) {
          throw new LinkError('certs', e.message);
        }
        this.onEvent({ type: 'link', step: 'certs', rsaFingerprint: identity.rsaFingerprint });
      } else if (c.cmd === CMD.AUTH_CHALLENGE) {
        // tor-spec 4.3: an initiator that does not want to authenticate ignores it.
      } else if (c.cmd === CMD.NETINFO) {
        if (!identity) throw new LinkError('certs', 'NETINFO before CERTS');
        netinfo = decodeNetinfo(c.payload);
      } else if (c.cmd === CMD.PADDING || c.cmd === CMD.VPADDING) {
        // ignored
      } else {
        throw new LinkError('handshake', `unexpected cell ${c.cmd} during the handshake`);
      }
    }
    const host = this.bridge.addr.replace(/:\d+$/, '');
    this.send(0, CMD.NETINFO, encodeNetinfo(host));
    this.waiter = null;
    const early = this.queue.splice(0);
    this.open_ = true;
    for (const c of early) this.dispatch(c);
    this.identity = identity; // the CERTS-verified identities (certs.js)
    this.onEvent({ type: 'link', step: 'open' });
    return { linkProto: this.linkProto, identity, netinfo };
  }

  nextCell() {
    if (this.closed) return Promise.reject(this.closed);
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    return new Promise((resolve, reject) => { this.waiter = { resolve, reject }; });
  }

  onMessage(msg) {
    if (this.closed) return;
    if (this.buf.length) {
      const b = new Uint8Array(this.buf.length + msg.length);
      b.set(this.buf);
      b.set(msg, this.buf.length);
      this.buf = b;
    } else this.buf = msg; // the usual case: each message carries whole cells
    try {
      this.parse();
    } catch (e) {
      this.fail(new LinkError('link', e.message));
      return;
    }
    if (this.buf.length && this.linkProto !== 0)
      this.fail(new LinkError('link', 'a message ended inside a cell (doc/bridge.md)'));
  }

  // Decodes the whole cells in the buffer. Before VERSIONS is read only that one cell is taken
  // (the rest waits for the negotiated circuit ID width).
  parse() {
    let off = 0;
    for (;;) {
      if (this.linkProto === 0 && this.gotVersions) break;
      const r = decodeCell(this.linkProto, this.buf, off);
      if (!r) break;
      off = r.next;
      if (this.linkProto === 0) this.gotVersions = true;
      this.deliver(r.cell);
    }
    this.buf = off === this.buf.length ? EMPTY : this.buf.slice(off);
  }

  deliver(cell) {
    if (!this.open_) {
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = null;
        w.resolve(cell);
      } else this.queue.push(cell);
      return;
    }
    this.dispatch(cell);
  }

  dispatch(cell) {
    if (cell.circId === 0) return; // PADDING, VPADDING, a late NETINFO: nothing to do
    const c = this.circuits.get(cell.circId);
    if (c) c.onCell(cell);
  }

  send(circId, cmd, payload) {
    if (this.closed) throw this.closed;
    this.ws.send(encodeCell(this.linkProto, circId, cmd, payload));
  }

  // A fresh circuit ID: with link protocol 4+, the initiator sets the top bit (tor-spec 5.1.1).
  newCircId(handler) {
    let id;
    do {
      id = (crypto.getRandomValues(new Uint32Array(1))[0] | 0x80000000) >>> 0;
    } while (this.circuits.has(id));
    this.circuits.set(id, handler);
    return id;
  }

  fail(err) {
    if (this.closed) return;
    this.closed = err;
    if (this.waiter) this.waiter.reject(err);
    for (const c of this.circuits.values()) c.onClose(err);
    this.circuits.clear();
    try {
      this.ws.close();
    } catch {
      // already closing
    }
  }

  close() {
    this.fail(new LinkError('link', 'closed by the client'));
  }
}

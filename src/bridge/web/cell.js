// cell.js — the link-protocol cell codec (tor-spec "Cell packet format"): fixed-length cells
// (CIRCID, CMD, 509-byte PAYLOAD) and variable-length cells (CIRCID, CMD, LENGTH, PAYLOAD) for
// CMD 7 (VERSIONS) and CMD >= 128. The circuit ID is 2 bytes wide for link protocols below 4 and
// for VERSIONS itself, 4 bytes for protocols 4 and 5 (the only ones the WebSocket subprotocol
// allows, doc/bridge.md). Also the payload codecs of VERSIONS, NETINFO ("NETINFO cells") and
// CREATE2/CREATED2 ("CREATE and CREATED cells"). No I/O here.
import { concat, u16, u32, put16, put32 } from './bytes.js';

export const CELL_PAYLOAD = 509;

export const CMD = Object.freeze({
  PADDING: 0, CREATE: 1, CREATED: 2, RELAY: 3, DESTROY: 4, CREATE_FAST: 5, CREATED_FAST: 6,
  VERSIONS: 7, NETINFO: 8, RELAY_EARLY: 9, CREATE2: 10, CREATED2: 11, PADDING_NEGOTIATE: 12,
  VPADDING: 128, CERTS: 129, AUTH_CHALLENGE: 130, AUTHENTICATE: 131, AUTHORIZE: 132,
});

export const isVarCmd = (cmd) => cmd === CMD.VERSIONS || cmd >= 128;
export const circIdLen = (linkProto) => (linkProto >= 4 ? 4 : 2);

// Encodes one cell. A fixed cell's payload is zero-padded to 509 bytes.
export function encodeCell(linkProto, circId, cmd, payload = new Uint8Array(0)) {
  const w = cmd === CMD.VERSIONS ? 2 : circIdLen(linkProto);
  if (isVarCmd(cmd)) {
    if (payload.length > 0xffff) throw new Error('cell: variable payload too long');
    const out = new Uint8Array(w + 3 + payload.length);
    w === 4 ? put32(out, 0, circId) : put16(out, 0, circId);
    out[w] = cmd;
    put16(out, w + 1, payload.length);
    out.set(payload, w + 3);
    return out;
  }
  if (payload.length > CELL_PAYLOAD) throw new Error('cell: fixed payload over 509 bytes');
  const out = new Uint8Array(w + 1 + CELL_PAYLOAD);
  w === 4 ? put32(out, 0, circId) : put16(out, 0, circId);
  out[w] = cmd;
  out.set(payload, w + 1);
  return out;
}

// Decodes the first cell of buf at offset off. Returns {cell: {circId, cmd, payload}, next} or
// null when buf holds only part of a cell. linkProto 0 means "not negotiated yet": the cell must
// then be VERSIONS with a 2-byte circuit ID (tor-spec "Negotiating versions with VERSIONS cells").
export function decodeCell(linkProto, buf, off = 0) {
  const w = linkProto === 0 ? 2 : circIdLen(linkProto);
  if (buf.length - off < w + 1) return null;
  const circId = w === 4 ? u32(buf, off) : u16(buf, off);
  const cmd = buf[off + w];
  if (linkProto === 0 && cmd !== CMD.VERSIONS) throw new Error('cell: first cell is not VERSIONS');
  let start, len;
  if (isVarCmd(cmd)) {
    if (buf.length - off < w + 3) return null;
    len = u16(buf, off + w + 1);
    start = off + w + 3;
  } else {
    len = CELL_PAYLOAD;
    start = off + w + 1;
  }
  if (buf.length < start + len) return null;
  return { cell: { circId, cmd, payload: buf.slice(start, start + len) }, next: start + len };
}

// Splits a buffer of whole cells (one WebSocket message) into cells; a partial cell at the end
// is an error (doc/bridge.md: each message carries whole cells).
export function decodeCells(linkProto, buf) {
  const cells = [];
  let off = 0;
  while (off < buf.length) {
    const r = decodeCell(linkProto, buf, off);
    if (!r) throw new Error('cell: partial cell at the end of a message');
    cells.push(r.cell);
    off = r.next;
    if (linkProto === 0) {
      if (off !== buf.length) cells.rest = buf.slice(off);
      break;
    }
  }
  return cells;
}

export function encodeVersions(versions) {
  const p = new Uint8Array(2 * versions.length);
  versions.forEach((v, i) => put16(p, 2 * i, v));
  return p;
}

export function decodeVersions(payload) {
  if (payload.length % 2) throw new Error('VERSIONS: odd payload length');
  const v = [];
  for (let i = 0; i < payload.length; i += 2) v.push(u16(payload, i));
  return v;
}

// NETINFO: TIME (4), OTHERADDR, NMYADDR (1), MYADDR*; an address is ATYPE (1), ALEN (1), AVAL.
function encodeAddr(a) {
  if (!a) return Uint8Array.of(4, 4, 0, 0, 0, 0);
  const parts = a.split('.').map(Number);
  if (parts.length !== 4 || parts.some((x) => !(x >= 0 && x <= 255)))
    return Uint8Array.of(4, 4, 0, 0, 0, 0);
  return Uint8Array.of(4, 4, ...parts);
}

function decodeAddr(p, o) {
  if (o + 2 > p.length) throw new Error('NETINFO: truncated address');
  const type = p[o], len = p[o + 1];
  if (o + 2 + len > p.length) throw new Error('NETINFO: truncated address');
  const v = p.slice(o + 2, o + 2 + len);
  let text = null;
  if (type === 4 && len === 4) text = Array.from(v).join('.');
  else if (type === 6 && len === 16) {
    const g = [];
    for (let i = 0; i < 16; i += 2) g.push(((v[i] << 8) | v[i + 1]).toString(16));
    text = g.join(':');
  }
  return { addr: { type, text }, next: o + 2 + len };
}

// A client sends TIME 0 (tor-spec: clients SHOULD send 0 to avoid fingerprinting), the peer's
// address as it knows it, and no address of its own.
export function encodeNetinfo(otherAddr, time = 0) {
  const p = concat(new Uint8Array(4), encodeAddr(otherAddr), Uint8Array.of(0));
  put32(p, 0, time);
  return p;
}

export function decodeNetinfo(p) {
  if (p.length < 4) throw new Error('NETINFO: truncated');
  const time = u32(p, 0);
  let r = decodeAddr(p, 4);
  const other = r.addr;
  let o = r.next;
  if (o >= p.length) throw new Error('NETINFO: truncated');
  const n = p[o++];
  const mine = [];
  for (let i = 0; i < n; i++) {
    r = decodeAddr(p, o);
    mine.push(r.addr);
    o = r.next;
  }
  return { time, other, mine };
}

// CREATE2: HTYPE (2), HLEN (2), HDATA; CREATED2: HLEN (2), HDATA.
export function encodeCreate2(htype, hdata) {
  const p = new Uint8Array(4 + hdata.length);
  put16(p, 0, htype);
  put16(p, 2, hdata.length);
  p.set(hdata, 4);
  return p;
}

export function decodeCreated2(p) {
  const len = u16(p, 0);
  if (2 + len > p.length) throw new Error('CREATED2: HLEN past the payload');
  return p.slice(2, 2 + len);
}

// DESTROY's one-byte reason (tor-spec "Tearing down circuits").
export const DESTROY_REASONS = [
  'NONE', 'PROTOCOL', 'INTERNAL', 'REQUESTED', 'HIBERNATING', 'RESOURCELIMIT', 'CONNECTFAILED',
  'OR_IDENTITY', 'CHANNEL_CLOSED', 'FINISHED', 'TIMEOUT', 'DESTROYED', 'NOSUCHSERVICE',
];

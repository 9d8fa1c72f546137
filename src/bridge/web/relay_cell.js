// relay_cell.js — the plaintext relay cell payload (tor-spec 6.1 "Relay cells"): relay command,
// 'recognized', StreamID, digest, Length, Data (at most 498 bytes), padding; the relay command
// numbers; the SENDME payload (7.3.1 "SENDME Cell Format", version 1 carrying the 20-byte
// digest); and END reasons (6.3). Encryption and digests are relay_crypto.js's.
import { CELL_PAYLOAD } from './cell.js';
import { put16, u16 } from './bytes.js';

export const RELAY_DATA_MAX = CELL_PAYLOAD - 11;

export const RELAY = Object.freeze({
  BEGIN: 1, DATA: 2, END: 3, CONNECTED: 4, SENDME: 5, EXTEND: 6, EXTENDED: 7, TRUNCATE: 8,
  TRUNCATED: 9, DROP: 10, RESOLVE: 11, RESOLVED: 12, BEGIN_DIR: 13, EXTEND2: 14, EXTENDED2: 15,
  XOFF: 43, XON: 44,
});

export const END_REASONS = [
  null, 'MISC', 'RESOLVEFAILED', 'CONNECTREFUSED', 'EXITPOLICY', 'DESTROY', 'DONE', 'TIMEOUT',
  'NOROUTE', 'HIBERNATING', 'INTERNAL', 'RESOURCELIMIT', 'CONNRESET', 'TORPROTOCOL',
  'NOTDIRECTORY',
];

// A 509-byte plaintext payload with recognized and digest zero. After the data, four zero
// bytes then random padding (tor-spec 6.1 and 7.3: unpredictable bytes in every window).
export function encodeRelay(cmd, streamId, data = new Uint8Array(0)) {
  if (data.length > RELAY_DATA_MAX) throw new Error('relay: data over 498 bytes');
  const p = new Uint8Array(CELL_PAYLOAD);
  p[0] = cmd;
  put16(p, 3, streamId);
  put16(p, 9, data.length);
  p.set(data, 11);
  const padStart = 11 + data.length + 4;
  if (padStart < CELL_PAYLOAD) crypto.getRandomValues(p.subarray(padStart));
  return p;
}

export function decodeRelay(p) {
  const len = u16(p, 9);
  if (len > RELAY_DATA_MAX) throw new Error('relay: Length over 498');
  return { cmd: p[0], streamId: u16(p, 3), data: p.slice(11, 11 + len) };
}

// SENDME v1: VERSION 1, DATA_LEN 20, the digest of the cell that triggered it.
export function encodeSendmeV1(digest20) {
  const p = new Uint8Array(3 + 20);
  p[0] = 1;
  put16(p, 1, 20);
  p.set(digest20.slice(0, 20), 3);
  return p;
}

export function decodeSendme(data) {
  if (data.length === 0) return { version: 0 };
  const version = data[0];
  if (version === 1) {
    if (data.length < 3 || u16(data, 1) < 20 || data.length < 23)
      throw new Error('SENDME v1: digest too short');
    return { version, digest: data.slice(3, 23) };
  }
  return { version };
}

// relay_bodies.js — bodies of the relay messages the client builds and reads beyond DATA
// (tor-spec 5.1.2 "EXTEND and EXTENDED cells", 6.2 "Opening streams", 6.3 "Closing streams",
// 6.4 "Remote hostname lookup"): EXTEND2 with its link specifiers (IPv4, legacy RSA identity,
// Ed25519 identity, in the order tor writes them) and EXTENDED2; BEGIN (ADDRPORT and flags),
// CONNECTED, RESOLVE/RESOLVED; END reasons with a message a user can act on. No I/O here.
import { concat, put16, put32, u16, u32, utf8 } from './bytes.js';
import { policyAllows } from './microdesc.js';

export const LS = Object.freeze({ IPV4: 0, IPV6: 1, LEGACY_ID: 2, ED25519_ID: 3 });
export const BEGIN_FLAG = Object.freeze({ IPV6_OK: 1, IPV4_NOT_OK: 2, IPV6_PREFERRED: 4 });

function ipv4Bytes(ip) {
  const p = String(ip).split('.');
  if (p.length !== 4 || p.some((x) => !/^\d{1,3}$/.test(x) || Number(x) > 255))
    throw new Error(`EXTEND2: bad IPv4 address ${ip}`);
  return Uint8Array.from(p.map(Number));
}

// hop: {rsaId (20), ntorKey (32), ip, orPort, edId? (32)}; hdata: the handshake (ntor: 84).
export function encodeExtend2(hop, htype, hdata) {
  if (!(hop.rsaId instanceof Uint8Array) || hop.rsaId.length !== 20)
    throw new Error('EXTEND2: the hop needs a 20-byte RSA identity');
  const specs = [];
  const addr = new Uint8Array(6);
  addr.set(ipv4Bytes(hop.ip));
  if (!(hop.orPort > 0 && hop.orPort < 65536)) throw new Error('EXTEND2: bad ORPort');
  put16(addr, 4, hop.orPort);
  specs.push([LS.IPV4, addr], [LS.LEGACY_ID, hop.rsaId]);
  if (hop.edId) {
    if (hop.edId.length !== 32) throw new Error('EXTEND2: Ed25519 identity is not 32 bytes');
    specs.push([LS.ED25519_ID, hop.edId]);
  }
  const parts = [Uint8Array.of(specs.length)];
  for (const [t, v] of specs) parts.push(Uint8Array.of(t, v.length), v);
  const h = new Uint8Array(4);
  put16(h, 0, htype);
  put16(h, 2, hdata.length);
  parts.push(h, hdata);
  return concat(...parts);
}

// EXTENDED2: HLEN (2), HDATA — the CREATED2 body.
export function decodeExtended2(data) {
  if (data.length < 2 || 2 + u16(data, 0) > data.length)
    throw new Error('EXTENDED2: HLEN past the body');
  return data.slice(2, 2 + u16(data, 0));
}

// BEGIN: "ADDRESS:PORT" NUL [FLAGS (4)]. An IPv6 literal is bracketed. As tor's client
// (connection_ap_handshake_send_begin), FLAGS is left out when it is 0.
export function encodeBegin(host, port, flags = 0) {
  if (!(Number.isInteger(port) && port > 0 && port < 65536)) throw new Error('BEGIN: bad port');
  if (!host || /[\s\0]/.test(host)) throw new Error('BEGIN: bad host');
  const h = host.includes(':') ? `[${host}]` : host.toLowerCase();
  const a = utf8(`${h}:${port}`);
  const out = new Uint8Array(a.length + (flags ? 5 : 1));
  out.set(a);
  if (flags) put32(out, a.length + 1, flags);
  return out;
}

// The flags tor's client sends (connection_ap_get_begincell_flags, IPv4 and IPv6 traffic both
// allowed, IPv6 not preferred): IPV6_OK when the exit's IPv6 policy summary (its microdesc's
// "p6", as microdesc.js parses it) accepts the port, else none, and then no FLAGS field at all.
export function beginFlags(exitPolicy6, port) {
  return exitPolicy6 && policyAllows(exitPolicy6, port) ? BEGIN_FLAG.IPV6_OK : 0;
}

function addrText(type, v) {
  if (type === 4) return Array.from(v).join('.');
  const g = [];
  for (let i = 0; i < 16; i += 2) g.push(((v[i] << 8) | v[i + 1]).toString(16));
  return g.join(':');
}

// CONNECTED: empty, IPv4 (4) TTL (4), or 0.0.0.0 then type 6, IPv6 (16), TTL (4).
export function decodeConnected(d) {
  if (d.length === 0) return { addr: null, ttl: null };
  if (d.length < 8) throw new Error('CONNECTED: truncated');
  if (u32(d, 0) !== 0) return { addr: addrText(4, d.subarray(0, 4)), ttl: u32(d, 4) };
  if (d.length < 25 || d[4] !== 6) throw new Error('CONNECTED: bad IPv6 form');
  return { addr: addrText(6, d.subarray(5, 21)), ttl: u32(d, 21) };
}

// RESOLVED: answers of TYPE (1), LEN (1), VALUE, TTL (4).
export function decodeResolved(d) {
  const answers = [];
  let o = 0;
  while (o < d.length) {
    if (o + 2 > d.length) throw new Error('RESOLVED: truncated answer');
    const type = d[o], len = d[o + 1];
    if (o + 2 + len + 4 > d.length) throw new Error('RESOLVED: truncated answer');
    const v = d.subarray(o + 2, o + 2 + len);
    const ttl = u32(d, o + 2 + len);
    if ((type === 4 && len !== 4) || (type === 6 && len !== 16))
      throw new Error('RESOLVED: bad address length');
    let value;
    if (type === 4 || type === 6) value = addrText(type, v);
    else if (type === 0) value = new TextDecoder().decode(v);
    else value = null;
    answers.push({ type, value, ttl, error: type === 0xf0 ? 'transient' :
      type === 0xf1 ? 'nontransient' : null });
    o += 2 + len + 4;
  }
  return answers;
}

// END reasons (6.3) as SOCKS-like messages.
const END_MESSAGES = {
  1: 'the exit closed the stream (unspecified reason)',
  2: 'host name resolution failed at the exit',
  3: 'connection refused by the destination',
  4: "refused by the exit relay's exit policy",
  5: 'the circuit was destroyed',
  6: 'the connection was closed',
  7: 'connection to the destination timed out',
  8: 'host unreachable (no route from the exit)',
  9: 'the exit relay is hibernating',
  10: 'internal error at the exit relay',
  11: 'the exit relay has no resources left',
  12: 'connection reset by the destination',
  13: 'Tor protocol violation',
  14: 'the relay is not a directory',
};
export const END_CODES = Object.freeze({
  MISC: 1, RESOLVEFAILED: 2, CONNECTREFUSED: 3, EXITPOLICY: 4, DESTROY: 5, DONE: 6, TIMEOUT: 7,
  NOROUTE: 8, HIBERNATING: 9, INTERNAL: 10, RESOURCELIMIT: 11, CONNRESET: 12, TORPROTOCOL: 13,
  NOTDIRECTORY: 14,
});

export const endMessage = (code) => END_MESSAGES[code] || `unknown END reason ${code}`;

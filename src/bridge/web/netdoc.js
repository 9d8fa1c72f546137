// netdoc.js — tor's directory document meta-format (dir-spec 1.2-1.3): a document is items,
// each a "Keyword args..." line optionally followed by one "-----BEGIN TYPE-----" base64
// "-----END TYPE-----" object. The document is kept as bytes and every item records its byte
// offsets, so that signed portions can be hashed exactly as they came. Also the time format
// ("YYYY-MM-DD HH:MM:SS", UTC) and base64 digests/keys as tor writes them.
import { unbase64 } from './bytes.js';

// Bytes -> string with one char per byte (so string offsets are byte offsets).
export function bytesToLatin1(b) {
  let s = '';
  for (let i = 0; i < b.length; i += 8192)
    s += String.fromCharCode.apply(null, b.subarray(i, i + 8192));
  return s;
}

const KW = /^(?:opt )?([A-Za-z0-9][A-Za-z0-9-]*)(?:[ \t]+(.*))?$/;

// Splits doc (Uint8Array) into items: {kw, args[], start, lineEnd (after the keyword line's
// NL), end (after the object's END line, or = lineEnd), obj: {type, data} | null, lineNo}.
export function tokenize(doc) {
  if (doc.includes(0)) throw new Error('netdoc: NUL byte in document');
  const s = bytesToLatin1(doc);
  const items = [];
  let pos = 0;
  let lineNo = 0;
  const nextLine = () => {
    const nl = s.indexOf('\n', pos);
    if (nl < 0) throw new Error(`netdoc: line ${lineNo + 1}: no newline at the end`);
    const line = s.slice(pos, nl);
    pos = nl + 1;
    lineNo++;
    return line;
  };
  while (pos < s.length) {
    const start = pos;
    const line = nextLine();
    if (line.startsWith('-----')) throw new Error(`netdoc: line ${lineNo}: object without item`);
    const m = KW.exec(line);
    if (!m) throw new Error(`netdoc: line ${lineNo}: malformed item`);
    const args = m[2] ? m[2].split(/[ \t]+/).filter((a) => a) : [];
    const it = { kw: m[1], args, argStr: m[2] || '', start, lineEnd: pos, end: pos, obj: null,
      lineNo };
    if (s.startsWith('-----BEGIN ', pos)) {
      const b = /^-----BEGIN ([A-Za-z0-9 ]+)-----$/.exec(nextLine());
      if (!b) throw new Error(`netdoc: line ${lineNo}: malformed BEGIN`);
      let body = '';
      for (;;) {
        if (pos >= s.length) throw new Error(`netdoc: line ${lineNo}: object without END`);
        const l = nextLine();
        if (l.startsWith('-----')) {
          if (l !== `-----END ${b[1]}-----`) throw new Error(`netdoc: line ${lineNo}: bad END`);
          break;
        }
        if (!/^[A-Za-z0-9+/=]{1,64}$/.test(l))
          throw new Error(`netdoc: line ${lineNo}: bad base64 line in object`);
        body += l;
      }
      it.obj = { type: b[1], data: unbase64(body) };
      it.end = pos;
    }
    items.push(it);
  }
  return items;
}

// "2026-11-22 09:14:20" (two args) -> ms since the epoch (UTC).
export function parseTime(date, time) {
  const d = /^(\d{4})-(\d\d)-(\d\d)$/.exec(date || '');
  const t = /^(\d\d):(\d\d):(\d\d)$/.exec(time || '');
  if (!d || !t) throw new Error(`netdoc: bad time "${date} ${time}"`);
  const [Y, M, D, h, m, s] = [...d.slice(1), ...t.slice(1)].map(Number);
  if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || s > 60)
    throw new Error(`netdoc: bad time "${date} ${time}"`);
  return Date.UTC(Y, M - 1, D, h, m, s);
}

export function formatTime(ms) {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
}

// Base64 of exactly n bytes (tor omits the padding).
export function b64Exact(s, n, what) {
  let b;
  try {
    b = unbase64(s || '');
  } catch {
    throw new Error(`netdoc: bad base64 in ${what}`);
  }
  if (b.length !== n) throw new Error(`netdoc: ${what}: ${b.length} bytes, expected ${n}`);
  return b;
}

// 40 hex digits -> 20 bytes.
export function hexId(s, what) {
  if (!/^[0-9A-Fa-f]{40}$/.test(s || '')) throw new Error(`netdoc: bad fingerprint in ${what}`);
  const out = new Uint8Array(20);
  for (let i = 0; i < 20; i++) out[i] = parseInt(s.substr(2 * i, 2), 16);
  return out;
}

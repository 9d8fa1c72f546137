// http.js — an HTTP/1.1 client over one byte stream (a Tor exit stream; RFC 9112): the request
// (Host, Connection: close, identity encoding only, an optional body with Content-Length), the status line and header fields, and the
// body framed by Content-Length, by chunked transfer coding (chunk extensions skipped, trailer
// fields read and returned) or by the end of the stream; 1xx responses are skipped; HEAD, 204
// and 304 have no body. The body is a ReadableStream pulled from the stream (backpressure: a
// cell is read only when the reader asks), with progress (bytes, total, rate). Anything
// malformed — a bad status line, a header line without a colon, Content-Length and
// Transfer-Encoding together, differing Content-Lengths, a transfer coding other than chunked,
// a bad chunk size, a chunk not followed by CRLF, a body cut short — is an HttpError, never a
// guess. Only http: URLs: TLS inside the stream is not part of this client.
import { utf8 } from './bytes.js';

export class HttpError extends Error {
  constructor(message) {
    super('HTTP: ' + message);
    this.stage = 'http';
  }
}

const MAX_LINE = 8192, MAX_HEADER_BYTES = 65536, MAX_FIELDS = 100;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function concatTwo(a, b) {
  if (!a.length) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

// Buffered reads over a source whose read() resolves to a Uint8Array or null (end).
export class ByteReader {
  constructor(source) {
    this.source = source;
    this.buf = new Uint8Array(0);
    this.pos = 0;
    this.eof = false;
  }

  get available() {
    return this.buf.length - this.pos;
  }

  async fill() {
    if (this.eof) return false;
    let c = await this.source.read();
    if (c === null) {
      this.eof = true;
      return false;
    }
    const more = this.source.takeBuffered?.(); // cells that came in the same burst
    if (more) c = concatTwo(c, more);
    this.buf = concatTwo(this.buf.subarray(this.pos), c);
    this.pos = 0;
    return true;
  }

  // A line without its CRLF (a bare LF is accepted, a bare CR inside is not); null at a clean
  // end of the stream before any byte of the line.
  async readLine(max = MAX_LINE) {
    for (let scanned = 0; ;) {
      const b = this.buf;
      for (let i = this.pos + scanned; i < b.length; i++) {
        if (b[i] === 10) {
          let end = i;
          if (end > this.pos && b[end - 1] === 13) end--;
          const line = b.subarray(this.pos, end);
          if (line.length > max) throw new HttpError(`line longer than ${max} bytes`);
          if (line.includes(13)) throw new HttpError('bare CR in a line');
          this.pos = i + 1;
          return new TextDecoder('latin1').decode(line);
        }
      }
      scanned = b.length - this.pos;
      if (scanned > max) throw new HttpError(`line longer than ${max} bytes`);
      if (!(await this.fill())) {
        if (this.available === 0) return null;
        throw new HttpError('stream ended inside a line');
      }
    }
  }

  // Up to max bytes (at least one unless the stream ended: then null).
  async readSome(max) {
    if (this.available === 0 && !(await this.fill())) return null;
    const n = Math.min(max, this.available);
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

export function encodeRequest(url, { method = 'GET', headers = {}, body = null } = {}) {
  const u = url instanceof URL ? url : new URL(url);
  if (u.protocol !== 'http:') throw new HttpError(`only http: URLs are supported, not ${u.protocol}`);
  if (!TOKEN.test(method)) throw new HttpError('bad method');
  const lines = [`${method} ${u.pathname}${u.search} HTTP/1.1`, `Host: ${u.host}`];
  const h = { Accept: '*/*', 'Accept-Encoding': 'identity', Connection: 'close', ...headers };
  if (body) h['Content-Length'] = body.length;
  for (const [k, v] of Object.entries(h)) {
    if (!TOKEN.test(k) || /[\r\n\0]/.test(String(v))) throw new HttpError(`bad header ${k}`);
    lines.push(`${k}: ${v}`);
  }
  return utf8(lines.join('\r\n') + '\r\n\r\n');
}

// Status line and header fields. headers: lower-case name -> value (repeated fields joined
// with ", " as RFC 9110 5.3 allows), rawHeaders: [name, value] in order.
export async function readHead(reader) {
  for (;;) {
    const status = await reader.readLine();
    if (status === null) throw new HttpError('the stream ended before a response');
    const m = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: (.*))?$/.exec(status);
    if (!m) throw new HttpError(`bad status line ${JSON.stringify(status.slice(0, 80))}`);
    const rawHeaders = await readFields(reader, 'header');
    const code = Number(m[2]);
    if (code >= 100 && code < 200 && code !== 101) continue; // interim responses
    const headers = {};
    for (const [k, v] of rawHeaders) {
      const n = k.toLowerCase();
      headers[n] = n in headers ? `${headers[n]}, ${v}` : v;
    }
    return { version: `1.${m[1]}`, status: code, reason: m[3] || '', headers, rawHeaders };
  }
}

// Header or trailer fields up to the empty line.
async function readFields(reader, what) {
  const fields = [];
  let total = 0;
  for (;;) {
    const line = await reader.readLine();
    if (line === null) throw new HttpError(`the stream ended inside the ${what}s`);
    if (line === '') return fields;
    total += line.length + 2;
    if (total > MAX_HEADER_BYTES || fields.length >= MAX_FIELDS)
      throw new HttpError(`${what}s too large`);
    if (/^[ \t]/.test(line)) throw new HttpError(`obsolete line folding in the ${what}s`);
    const i = line.indexOf(':');
    if (i <= 0 || !TOKEN.test(line.slice(0, i)))
      throw new HttpError(`bad ${what} line ${JSON.stringify(line.slice(0, 80))}`);
    fields.push([line.slice(0, i), line.slice(i + 1).trim()]);
  }
}

// How the body is delimited: {kind: 'none' | 'length' | 'chunked' | 'close', length}.
export function framing(head, method = 'GET') {
  const s = head.status;
  if (method === 'HEAD' || s === 204 || s === 304 || (s >= 100 && s < 200))
    return { kind: 'none', length: 0 };
  const te = head.headers['transfer-encoding'];
  const cl = head.headers['content-length'];
  if (te !== undefined) {
    if (cl !== undefined) throw new HttpError('both Transfer-Encoding and Content-Length');
    const codings = te.split(',').map((x) => x.trim().toLowerCase());
    if (codings.length !== 1 || codings[0] !== 'chunked')
      throw new HttpError(`unsupported Transfer-Encoding ${JSON.stringify(te)}`);
    return { kind: 'chunked', length: null };
  }
  if (cl !== undefined) {
    const vals = cl.split(',').map((x) => x.trim());
    if (!vals.every((v) => /^\d{1,15}$/.test(v)) || new Set(vals).size !== 1)
      throw new HttpError(`bad Content-Length ${JSON.stringify(cl)}`);
    return { kind: 'length', length: Number(vals[0]) };
  }
  return { kind: 'close', length: null };
}

// chunk-size [ chunk-ext ]: 1*HEXDIG then *( BWS ";" BWS token [ BWS "=" BWS (token /
// quoted-string) ] ).
const CHUNK_LINE = new RegExp('^([0-9A-Fa-f]{1,15})((?:[ \\t]*;[ \\t]*[!#$%&\'*+\\-.^_`|~0-9A-Za-z]+' +
  '(?:[ \\t]*=[ \\t]*(?:[!#$%&\'*+\\-.^_`|~0-9A-Za-z]+|"(?:[^"\\\\]|\\\\.)*"))?)*)[ \\t]*$');

export function parseChunkSize(line) {
  const m = CHUNK_LINE.exec(line);
  if (!m) throw new HttpError(`bad chunk size line ${JSON.stringify(line.slice(0, 80))}`);
  return { size: parseInt(m[1], 16), ext: m[2] };
}

// An async generator of body pieces (Uint8Array) as the framing says; result.trailers is filled
// in at the end of a chunked body.
export async function* bodyPieces(reader, frame, result = {}) {
  const PIECE = 64 * 1024;
  if (frame.kind === 'none') return;
  if (frame.kind === 'close') {
    for (let c; (c = await reader.readSome(PIECE)) !== null;) yield c;
    const end = reader.source.ended; // a Tor stream: END DONE is a clean close, others are not
    if (end && end.code !== undefined && end.code !== 6)
      throw new HttpError(`body cut short: ${end.message || end.reason}`);
    return;
  }
  if (frame.kind === 'length') {
    for (let left = frame.length; left > 0;) {
      const c = await reader.readSome(Math.min(left, PIECE));
      if (c === null)
        throw new HttpError(`body cut short: ${frame.length - left} of ${frame.length} bytes`);
      left -= c.length;
      yield c;
    }
    return;
  }
  for (;;) {
    const line = await reader.readLine();
    if (line === null) throw new HttpError('chunked body cut short (no last chunk)');
    const { size } = parseChunkSize(line);
    if (size === 0) break;
    for (let left = size; left > 0;) {
      const c = await reader.readSome(Math.min(left, PIECE));
      if (c === null) throw new HttpError('chunked body cut short inside a chunk');
      left -= c.length;
      yield c;
    }
    const end = await reader.readLine(2);
    if (end !== '') throw new HttpError('chunk data not followed by CRLF');
  }
  result.trailers = await readFields(reader, 'trailer');
}

// GET url (or POST init.body, a Uint8Array sent with Content-Length) over a connected byte
// stream (read()/write()/close()). Returns {status, reason,
// headers, rawHeaders, body: ReadableStream, trailers (a promise, for chunked bodies)}.
// onProgress({bytes, total, rate, ms}) is called for each piece of the body.
export async function httpRequest(stream, url, { method, headers, body: reqBody, onProgress } = {}) {
  if (reqBody && !(reqBody instanceof Uint8Array)) throw new HttpError('a body must be a Uint8Array');
  method = method || (reqBody ? 'POST' : 'GET');
  stream.write(encodeRequest(url, { method, headers, body: reqBody }));
  if (reqBody) stream.write(reqBody);
  const reader = new ByteReader(stream);
  const head = await readHead(reader);
  const frame = framing(head, method);
  const result = {};
  const pieces = bodyPieces(reader, frame, result);
  const t0 = performance.now();
  let bytes = 0;
  let trailersDone;
  const trailers = new Promise((r) => { trailersDone = r; });
  const body = new ReadableStream({
    async pull(controller) {
      try {
        const { value, done } = await pieces.next();
        if (done) {
          trailersDone(result.trailers || []);
          stream.close?.();
          controller.close();
          return;
        }
        bytes += value.length;
        const ms = performance.now() - t0;
        onProgress?.({ bytes, total: frame.length, ms, rate: ms > 0 ? (bytes * 1000) / ms : 0 });
        controller.enqueue(value);
      } catch (e) {
        trailersDone([]);
        stream.close?.();
        controller.error(e);
      }
    },
    cancel() {
      trailersDone([]);
      stream.close?.();
    },
  }, { highWaterMark: 0 });
  return { ...head, framing: frame.kind, length: frame.length, body, trailers };
}

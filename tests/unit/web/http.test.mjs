// http.test.mjs — node:test checks of the web client's HTTP/1.1 client (src/bridge/web/http.js)
// over a fake byte stream: the request it writes; bodies framed by Content-Length, by chunked
// transfer coding (with chunk extensions and trailer fields) and by the end of the stream, each
// also fed one byte at a time; interim 1xx responses skipped; progress; and malformed responses
// refused (bad status line, header line without a colon, obs-fold, Content-Length with
// Transfer-Encoding, differing Content-Lengths, unknown codings, bad chunk sizes, missing CRLF
// after a chunk, bodies cut short).
import test from 'node:test';
import assert from 'node:assert/strict';
import { httpRequest, parseChunkSize } from '../../../src/bridge/web/http.js';
import { concat } from '../../../src/bridge/web/bytes.js';

const enc = (s) => new TextEncoder().encode(s);

// A stream that hands out `response` in pieces of `step` bytes and records what was written.
function fakeStream(response, step = 1 << 20, ended = { code: 6 }) {
  const bytes = typeof response === 'string' ? enc(response) : response;
  let off = 0;
  return {
    written: [],
    closed: false,
    ended: null,
    write(b) { this.written.push(b); },
    close() { this.closed = true; },
    async read() {
      if (off >= bytes.length) {
        this.ended = ended;
        return null;
      }
      const c = bytes.slice(off, off + step);
      off += step;
      return c;
    },
  };
}

async function readAll(body) {
  const parts = [];
  for (const r = body.getReader(); ;) {
    const { value, done } = await r.read();
    if (done) return concat(...parts);
    parts.push(value);
  }
}

async function get(response, step, opts) {
  const s = fakeStream(response, step);
  const r = await httpRequest(s, 'http://example.com:8080/a/b?c=d', opts);
  return { s, r, body: await readAll(r.body) };
}

test('http: the request line and headers', async () => {
  const { s } = await get('HTTP/1.1 204 No Content\r\n\r\n');
  const req = new TextDecoder().decode(concat(...s.written));
  assert.match(req, /^GET \/a\/b\?c=d HTTP\/1\.1\r\nHost: example\.com:8080\r\n/);
  assert.match(req, /\r\nConnection: close\r\n/);
  assert.match(req, /\r\nAccept-Encoding: identity\r\n/);
  assert.ok(req.endsWith('\r\n\r\n'));
  await assert.rejects(httpRequest(fakeStream(''), 'https://example.com/'), /only http:/);
});

test('http: Content-Length body, whole and byte by byte, with progress', async () => {
  const data = Uint8Array.from({ length: 3000 }, (_, i) => (i * 13) & 0xff);
  const resp = concat(enc('HTTP/1.1 200 OK\r\nContent-Length: 3000\r\nX-A: 1\r\nx-a: 2\r\n\r\n'),
    data, enc('garbage after the body'));
  for (const step of [1 << 20, 1, 7]) {
    const progress = [];
    const { r, body, s } = await get(resp, step, { onProgress: (p) => progress.push(p) });
    assert.equal(r.status, 200);
    assert.equal(r.reason, 'OK');
    assert.equal(r.headers['x-a'], '1, 2');
    assert.equal(r.framing, 'length');
    assert.deepEqual(body, data);
    assert.equal(progress.at(-1).bytes, 3000);
    assert.equal(progress.at(-1).total, 3000);
    assert.ok(s.closed);
  }
});

test('http: chunked body with extensions and trailers, any split', async () => {
  const resp = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' +
    '5\r\nhello\r\n' +
    '1;name=value\r\n \r\n' +
    'A ; a ; b="q\\"uoted;x" \r\n0123456789\r\n' +
    '0\r\nX-Trailer: t1\r\nX-Other: t2\r\n\r\n';
  for (const step of [1 << 20, 1, 3]) {
    const { r, body } = await get(resp, step);
    assert.equal(r.framing, 'chunked');
    assert.equal(new TextDecoder().decode(body), 'hello 0123456789');
    assert.deepEqual(await r.trailers, [['X-Trailer', 't1'], ['X-Other', 't2']]);
  }
  assert.equal(parseChunkSize('1F').size, 31);
  assert.equal(parseChunkSize('ff;x').size, 255);
});

test('http: interim 100 skipped, body to the end of the stream, 304 without body', async () => {
  const { r, body } = await get('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\nuntil close');
  assert.equal(r.status, 200);
  assert.equal(r.framing, 'close');
  assert.equal(new TextDecoder().decode(body), 'until close');
  const n = await get('HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n');
  assert.equal(n.body.length, 0);
});

test('http: malformed responses are refused', async () => {
  const heads = {
    'HTTP/1.1 20 OK\r\n\r\n': /bad status line/,
    'HTTP/2 200 OK\r\n\r\n': /bad status line/,
    'ICY 200 OK\r\n\r\n': /bad status line/,
    'HTTP/1.1 200 OK\r\nNoColon\r\n\r\n': /bad header line/,
    'HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n': /bad header line/,
    'HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n': /line folding/,
    'HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n': /bare CR/,
    'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n': /both/,
    'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n': /bad Content-Length/,
    'HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n': /bad Content-Length/,
    'HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n': /bad Content-Length/,
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n': /unsupported Transfer/,
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n': /unsupported Transfer/,
    'HTTP/1.1 200 OK\r\nA: b\r\n': /ended inside the headers/,
    '': /ended before a response/,
    ['HTTP/1.1 200 OK\r\nA: ' + 'x'.repeat(9000) + '\r\n\r\n']: /longer than/,
  };
  for (const [resp, why] of Object.entries(heads))
    await assert.rejects(get(resp), why, JSON.stringify(resp.slice(0, 60)));
  const bodies = {
    'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort': /cut short: 5 of 10/,
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZ\r\nx\r\n0\r\n\r\n': /bad chunk size/,
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n': /bad chunk size/,
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n': /bad chunk/,
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;\r\nhello\r\n0\r\n\r\n': /bad chunk/,
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n': /bad chunk/,
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n': /not followed by CRLF/,
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel': /cut short inside a chunk/,
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n': /no last chunk/,
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nbad trailer\r\n\r\n': /bad trailer/,
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\r\n': /inside the trailers/,
  };
  for (const [resp, why] of Object.entries(bodies))
    await assert.rejects(get(resp), why, JSON.stringify(resp.slice(-40)));
  // A close-delimited body ended by END CONNRESET is not a complete body.
  const s = fakeStream('HTTP/1.0 200 OK\r\n\r\npartial', 1 << 20, { code: 12, message: 'reset' });
  const r = await httpRequest(s, 'http://x/');
  await assert.rejects(readAll(r.body), /cut short: reset/);
});

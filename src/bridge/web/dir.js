// dir.js — directory requests over a BEGIN_DIR stream (tor-spec 6.2.1; dir-spec "HTTP
// directory requests"): an HTTP/1.0 GET, the response read to the stream's END, split into
// status, headers and body. Only identity encoding is asked for (no ".z" URL, no
// Accept-Encoding), so the body is the document's bytes as the cache stores them. Fetching the
// microdescriptor consensus is here; verifying it is a later slice.
import { concat, utf8 } from './bytes.js';

export const CONSENSUS_MICRODESC_PATH = '/tor/status-vote/current/consensus-microdesc';

function indexOfCrlfCrlf(b) {
  for (let i = 0; i + 3 < b.length; i++)
    if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  return -1;
}

// GET path over a fresh BEGIN_DIR stream of circ. onProgress(bytes) is called as data comes.
export async function dirGet(circ, path, onProgress = () => {}) {
  const s = await circ.beginDir();
  s.write(utf8(`GET ${path} HTTP/1.0\r\n\r\n`));
  const parts = [];
  let n = 0;
  for (;;) {
    const c = await s.read();
    if (c === null) break;
    parts.push(c);
    n += c.length;
    onProgress(n);
  }
  const all = concat(...parts);
  const h = indexOfCrlfCrlf(all);
  if (h < 0) throw new Error('directory: no HTTP header in the response');
  const head = new TextDecoder().decode(all.slice(0, h)).split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(head[0]);
  if (!m) throw new Error('directory: bad status line: ' + head[0]);
  const headers = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const body = all.slice(h + 4);
  const enc = headers['content-encoding'];
  if (enc && enc !== 'identity') throw new Error('directory: unexpected Content-Encoding ' + enc);
  return { status: Number(m[1]), reason: m[2] || '', headers, body, streamEnd: s.ended };
}

export async function fetchConsensusMicrodesc(circ, onProgress) {
  const r = await dirGet(circ, CONSENSUS_MICRODESC_PATH, onProgress);
  if (r.status !== 200) throw new Error(`directory: consensus fetch: ${r.status} ${r.reason}`);
  return r.body;
}

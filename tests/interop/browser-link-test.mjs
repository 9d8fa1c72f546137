// browser-link-test.mjs — the web client (src/bridge/web) in a real browser: Debian's chromium
// driven by playwright-core runs the client's module Web Worker against an onionmesh bridge's
// WebSocketPort (started by browser-link-test.sh in a tools/testnet network) and this checks
// what happened: the CERTS chain led to the bridge line's fingerprint, CREATE2 ntor with the
// line's key completed (AUTH matched), the microdescriptor consensus fetched over BEGIN_DIR is
// byte-for-byte one an authority served (SHA-256 against the copies curl fetched from the
// authorities' DirPorts while the test ran), re-fetches over the same circuit pass the 1000-cell
// circuit window (so the bridge accepted our SENDME v1 cells); and a line with a wrong
// fingerprint is refused at CERTS, one with a wrong ntor key at CREATE2.
// The page and worker come from a static server on 127.0.0.1 serving src/bridge/web at /web/ and
// node_modules at /node_modules/; bare "@noble/..." imports are rewritten to /node_modules/ on
// the way (a module worker has no import map).
// Usage: node browser-link-test.mjs BRIDGE_LINE_FILE AUTH_CONSENSUS_DIR
// Prints "ok - browser/..." / "not ok - browser/..." lines; exit 1 if any failed.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const [lineFile, authDir] = process.argv.slice(2);
const CHROMIUM = process.env.OM_CHROMIUM || '/usr/bin/chromium';
const MIN_CELLS = Number(process.env.OM_BROWSER_MIN_CELLS || 1500);
let failed = 0;
const ok = (name, extra = '') => console.log(`ok - browser/${name}${extra ? ' # ' + extra : ''}`);
const notok = (name, why = '') => {
  failed = 1;
  console.log(`not ok - browser/${name}${why ? ': ' + why : ''}`);
};
const check = (cond, name, why, extra) => (cond ? ok(name, extra) : notok(name, why));

const PAGE = `<!doctype html><meta charset="utf-8"><title>onionmesh web client test</title>
<script type="module">
window.runWorker = (bridgeLine, minCells) => new Promise((resolve) => {
  const w = new Worker('/web/worker.js', { type: 'module' });
  const events = [];
  w.onerror = (e) => resolve({ ok: false, error: 'worker error: ' + e.message, events });
  w.onmessage = (e) => {
    if (e.data.type === 'event') {
      if (e.data.event.type !== 'progress') events.push(e.data.event);
      return;
    }
    const r = e.data;
    if (r.consensus) {
      r.consensus.head = new TextDecoder().decode(r.consensus.body.slice(0, 64));
      delete r.consensus.body;
    }
    r.events = events.slice(0, 20);
    w.terminate();
    resolve(r);
  };
  w.postMessage({ op: 'bootstrap', bridgeLine, minCells });
});
document.title = 'ready';
</script>`;

const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.html': 'text/html' };

function serve(req, res) {
  const u = new URL(req.url, 'http://x');
  if (u.pathname === '/favicon.ico') {
    res.writeHead(204);
    res.end();
    return;
  }
  if (u.pathname === '/') {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(PAGE);
    return;
  }
  let file = null;
  if (u.pathname.startsWith('/web/')) file = path.join(ROOT, 'src/bridge/web', u.pathname.slice(5));
  else if (u.pathname.startsWith('/node_modules/@noble/'))
    file = path.join(ROOT, u.pathname.slice(1));
  if (!file || file.includes('..') || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    res.writeHead(404);
    res.end();
    return;
  }
  let body = fs.readFileSync(file);
  const type = TYPES[path.extname(file)] || 'application/octet-stream';
  if (type === 'text/javascript')
    body = body.toString('utf8').replace(/(\bfrom\s*|\bimport\s*\(?\s*)(['"])@noble\//g,
      '$1$2/node_modules/@noble/');
  res.writeHead(200, { 'content-type': type });
  res.end(body);
}

// SHA-256 (hex) of every consensus curl fetched from the authorities (files named by it).
function authorityDigests() {
  return new Set(fs.readdirSync(authDir).filter((f) => /^[0-9a-f]{64}$/.test(f)));
}

const line = fs.readFileSync(lineFile, 'utf8').split('\n')
  .find((l) => l.startsWith('Bridge websocket '));
if (!line) {
  notok('bridge_line', `no "Bridge websocket" line in ${lineFile}`);
  process.exit(1);
}
const fp = line.split(/\s+/)[3];
const server = http.createServer(serve);
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}/`;
const userDir = fs.mkdtempSync('/tmp/om-chromium-profile-');
let browser;
try {
  // A fresh profile directory (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(userDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage();
  ok('chromium_started', await page.evaluate(() => navigator.userAgent));
  page.on('console', (m) => console.log('# console: ' + m.text()));
  await page.goto(base);
  await page.waitForFunction(() => document.title === 'ready');
  const run = (l, minCells = 0) => page.evaluate(([a, b]) => window.runWorker(a, b), [l, minCells]);

  // 1. The bridge's own line.
  const t0 = Date.now();
  const r = await run(line, MIN_CELLS);
  const ms = Date.now() - t0;
  const shas = [...new Set((r.refetches || []).map((x) => x.sha256))];
  console.log('# result: ' + JSON.stringify({ ...r, events: undefined,
    refetches: `${(r.refetches || []).length} re-fetches, distinct SHA-256: ${shas.join(' ')}` }));
  console.log('# events: ' + JSON.stringify(r.events));
  check(r.certs && r.certs.ok && r.certs.rsaFingerprint === fp.toUpperCase(),
    'certs_chain_verified_for_pinned_fingerprint', r.error || 'no CERTS result',
    `${fp}, link protocol ${r.linkProto}`);
  check(r.create2 && r.create2.ntorAuthOk, 'create2_ntor_auth_matched',
    `${r.errorStage || ''} ${r.error || ''}`, r.create2 && `${r.create2.ms.toFixed(1)} ms`);
  const auth = authorityDigests();
  const c = r.consensus;
  check(c && c.bytes > 1000 && c.head.startsWith('network-status-version 3 microdesc'),
    'consensus_microdesc_fetched_over_begin_dir', r.error || 'no consensus',
    c && `${c.bytes} bytes in ${c.ms.toFixed(0)} ms`);
  check(c && auth.has(c.sha256), 'consensus_sha256_equals_authority_copy',
    c ? `browser ${c.sha256} not among ${auth.size} authority copies` : 'no consensus',
    c && `sha256 ${c.sha256}, ${auth.size} distinct authority copies seen`);
  const re = r.refetches || [];
  const flow = r.flow || {};
  check(r.ok && flow.dataCells >= MIN_CELLS && flow.circSendmes >= Math.floor(MIN_CELLS / 100),
    'circuit_window_passed_with_sendme_v1', r.error || JSON.stringify(flow),
    `${flow.dataCells} DATA cells over ${re.length + 1} fetches on one circuit, ` +
    `${flow.circSendmes} circuit SENDME v1, ${flow.streamSendmes} stream SENDMEs, ${ms} ms`);
  const allAuth = authorityDigests();
  const strays = re.filter((x) => !allAuth.has(x.sha256));
  check(re.length > 0 && strays.length === 0, 'refetches_equal_authority_copies',
    `${strays.length} of ${re.length} re-fetches not an authority copy`);

  // 2. The same line with another fingerprint: refused at CERTS, nothing after it.
  const flipped = fp.slice(0, -1) + (fp.endsWith('0') ? '1' : '0');
  const w = await run(line.replace(fp, flipped));
  console.log(`# wrong fingerprint: stage ${w.stage}, error: ${w.error}`);
  check(!w.ok && w.errorStage === 'certs' && w.stage === 'link' && !w.certs &&
    /is not the pinned/.test(w.error || ''), 'wrong_fingerprint_refused_at_certs',
    JSON.stringify({ ok: w.ok, stage: w.stage, errorStage: w.errorStage, error: w.error }));

  // 3. A wrong ntor key: the link is fine, CREATE2 fails (DESTROY or AUTH mismatch).
  const key = line.match(/ntor-onion-key=(\S+)/)[1];
  const otherKey = Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff))
    .toString('base64').replace(/=+$/, '');
  const k = await run(line.replace(key, otherKey));
  console.log(`# wrong ntor key: stage ${k.stage}, error: ${k.error}`);
  check(!k.ok && k.certs && k.certs.ok && k.stage === 'create' && !k.create2,
    'wrong_ntor_key_refused_at_create2',
    JSON.stringify({ ok: k.ok, stage: k.stage, error: k.error }));
} catch (e) {
  notok('browser_run', e.stack || String(e));
} finally {
  if (browser) await browser.close();
  server.close();
  fs.rmSync(userDir, { recursive: true, force: true });
}
process.exit(failed);

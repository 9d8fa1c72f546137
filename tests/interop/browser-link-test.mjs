// browser-link-test.mjs — the web client (src/bridge/web) in a real browser: Debian's chromium
// driven by playwright-core runs the client's module Web Worker against an onionmesh bridge's
// WebSocketPort (started by browser-link-test.sh in a tools/testnet network) and this checks
// what happened: the CERTS chain led to the bridge line's fingerprint, CREATE2 ntor with the
// line's key completed (AUTH matched), the microdescriptor consensus fetched over BEGIN_DIR is
// byte-for-byte one an authority served (SHA-256 against the copies curl fetched from the
// authorities' DirPorts while the test ran), re-fetches over the same circuit pass the 1000-cell
// circuit window (so the bridge accepted our SENDME v1 cells); and a line with a wrong
// fingerprint is refused at CERTS, one with a wrong ntor key at CREATE2. ntor-v3
// (ntor3Checks): a file fetched byte for byte over bridge -> tor relay -> tor exit with
// CREATE2/EXTEND2 htype 3 on every hop whose protocols list Relay=4, the handshake of each hop
// as the client recorded it, the tor relays' own onionskin counts (MetricsPort) before and after,
// the same path with ntor forced, and an ntor-v3 CREATE2 for a wrong Ed25519 identity refused.
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
import { supportsProtocol } from '../../src/bridge/web/protover.js';

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

  await directoryChecks(page, base, line);
  if (process.env.OM_NTOR3_URL) await ntor3Checks(page, line);
} catch (e) {
  notok('browser_run', e.stack || String(e));
} finally {
  if (browser) await browser.close();
  server.close();
  fs.rmSync(userDir, { recursive: true, force: true });
}
process.exit(failed);

// ---- The directory side (consensus.js, authcert.js, microdesc.js, path.js, directory.js) ----
// A module worker (from a blob, importing the client's modules from the static server) opens
// the link, builds the one-hop circuit and runs loadDirectory over BEGIN_DIR streams with the
// testnet's authorities pinned (their v3ident= from the DirAuthority lines of the bridge's
// torrc), the consensus cached in IndexedDB, then choosePath for port 80.
// (A function: the checks run from the top-level code above, before a const here exists.)
function dirWorkerSource() {
  return `
self.onmessage = async (e) => {
  const { base, bridgeLine, authorities, now, db, forge, batch } = e.data;
  const imp = (f) => import(base + 'web/' + f);
  const [{ parseBridgeLine }, { Link }, { Circuit }, dir, { idbCache }, { choosePath }, { hex }] =
    await Promise.all(['bridge_line.js', 'link.js', 'circuit.js', 'directory.js',
      'consensus_cache.js', 'path.js', 'bytes.js'].map(imp));
  const r = { stage: 'link', now };
  let link = null;
  try {
    const bridge = parseBridgeLine(bridgeLine);
    link = new Link(bridge, {});
    await link.open();
    r.stage = 'create';
    const circ = new Circuit(link, {});
    await circ.create(bridge.rsaId, bridge.ntorKey);
    r.stage = 'directory';
    const asked = [];
    const plain = dir.circuitGetter(circ);
    const get = async (path) => {
      asked.push(path.slice(0, 60));
      const b = await plain(path);
      if (forge && path.includes('consensus-microdesc')) {
        // one byte of the signed part changed: the first "Bandwidth=N" gets another digit
        const t = new TextDecoder().decode(b);
        const i = t.indexOf('Bandwidth=') + 10;
        const c = b.slice();
        c[i] = c[i] === 0x39 ? 0x38 : c[i] + 1;
        return c;
      }
      return b;
    };
    const t0 = performance.now();
    const d = await dir.loadDirectory(get, { authorities, cache: idbCache(db), now, batch });
    r.dir = { ms: performance.now() - t0, fromCache: d.fromCache, cacheError: d.cacheError,
      good: d.verification.good, need: d.verification.need, of: d.verification.of,
      validAfter: d.consensus.validAfter, validUntil: d.consensus.validUntil,
      routers: d.consensus.routers.map((x) => x.nickname + ' ' + hex(x.rsaId).toUpperCase()),
      microdescs: d.microdescs.size, missing: d.stats.missingMicrodescs, mdErrors: d.mdErrors,
      stats: d.stats, asked };
    r.stage = 'path';
    const hops = choosePath(d.consensus, d.nodes, bridge, { port: 80, distinctSubnets: false });
    r.path = hops.map((h) => ({ nickname: h.nickname, rsaId: hex(h.rsaId).toUpperCase(),
      ntorKey: hex(h.ntorKey), edId: h.edId && hex(h.edId), ip: h.ip, orPort: h.orPort,
      mdDigest: hex(d.consensus.routers.find((x) => hex(x.rsaId) === hex(h.rsaId)).mdDigest) }));
    r.stage = 'done';
    r.ok = true;
    circ.destroy();
  } catch (err) {
    r.ok = false;
    r.error = err.message;
  } finally {
    if (link) link.close();
  }
  self.postMessage(r);
};`;
}

// Runs code as a module worker in the page (from a blob; it imports the client's modules from
// the static server at args.base) with args posted to it; resolves with its one reply.
function runBlobWorker(page, code, args) {
  return page.evaluate(([c, a]) => new Promise((resolve) => {
    const url = URL.createObjectURL(new Blob([c], { type: 'text/javascript' }));
    const w = new Worker(url, { type: 'module' });
    w.onerror = (e) => resolve({ ok: false, error: 'worker error: ' + e.message });
    w.onmessage = (e) => {
      w.terminate();
      resolve(e.data);
    };
    w.postMessage({ base: location.origin + '/', ...a });
  }), [code, args]);
}

function httpGet(url) {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      const parts = [];
      res.on('data', (c) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(parts) }));
    }).on('error', reject);
  });
}

async function directoryChecks(page, base, line) {
  const torrc = fs.readFileSync(path.join(path.dirname(lineFile), 'torrc'), 'utf8');
  const auths = [...torrc.matchAll(/^DirAuthority (\S+) .*v3ident=([0-9A-F]{40}) (\S+):(\d+) /gm)]
    .map((m) => ({ nick: m[1], v3ident: m[2], dir: `http://${m[3]}:${m[4]}` }));
  console.log('# pinned authorities: ' + auths.map((a) => `${a.nick} ${a.v3ident}`).join(', '));
  const runDir = (args) => runBlobWorker(page, dirWorkerSource(), { bridgeLine: line, ...args });
  const summary = (r) => JSON.stringify({ ...r, dir: r.dir && { ...r.dir, routers: r.dir.routers.length,
    asked: r.dir.asked.length } });

  // 1. The real thing: fetched, verified by all three authorities, cached, path chosen.
  const now = Date.now();
  const pins = auths.map((a) => a.v3ident);
  const r = await runDir({ authorities: pins, now, db: 'om-dir-test' });
  console.log('# directory: ' + summary(r));
  const d = r.dir || {};
  check(r.ok && d.good && d.good.length === auths.length && d.need === 2 && !d.fromCache,
    'consensus_verified_against_pinned_authorities', r.error || summary(r),
    d.good && `${d.good.length} of ${d.of} signed validly (need ${d.need}), ` +
    `${d.stats.consensusBytes} + ${d.stats.certBytes} bytes of certificates in ${d.ms.toFixed(0)} ms`);
  check(d.asked && /^\/tor\/keys\/fp-sk\//.test(d.asked[1] || ''), 'certificates_fetched_over_begin_dir',
    JSON.stringify(d.asked), d.asked && d.asked[1]);
  // the routers in the browser's consensus are those of an authority's copy (curl, DirPort)
  const copy = (await httpGet(`${auths[0].dir}/tor/status-vote/current/consensus-microdesc`)).body
    .toString('latin1');
  const ids = [...copy.matchAll(/^r (\S+) (\S+) /gm)]
    .map((m) => `${m[1]} ${Buffer.from(m[2], 'base64').toString('hex').toUpperCase()}`).sort();
  check(d.routers && JSON.stringify([...d.routers].sort()) === JSON.stringify(ids),
    'consensus_routers_equal_authority_copy', `${JSON.stringify(d.routers)} vs ${JSON.stringify(ids)}`,
    `${ids.length} routers`);
  check(r.ok && d.microdescs === d.routers.length && d.missing === 0 && d.mdErrors.length === 0,
    'microdescs_fetched_and_digests_verified', JSON.stringify({ error: r.error, mdErrors: d.mdErrors }),
    d.stats && `${d.microdescs} microdescs, ${d.stats.mdBytes} bytes in ${d.stats.mdRequests} requests`);
  // the path: middle and exit distinct, not the bridge, the exit's ntor key equals the one in
  // the microdescriptor an authority serves for that digest
  const [mid, ex] = r.path || [];
  const bridgeFp = line.split(/\s+/)[3].toUpperCase();
  let mdOk = false;
  if (ex) {
    const b64 = Buffer.from(ex.mdDigest, 'hex').toString('base64').replace(/=+$/, '');
    const md = (await httpGet(`${auths[0].dir}/tor/micro/d/${b64}`)).body.toString('latin1');
    const key = /^ntor-onion-key (\S+)/m.exec(md);
    mdOk = !!key && Buffer.from(key[1], 'base64').toString('hex') === ex.ntorKey;
  }
  check(r.ok && mid && ex && mid.rsaId !== ex.rsaId && ![mid.rsaId, ex.rsaId].includes(bridgeFp) &&
    ex.ntorKey.length === 64 && ex.rsaId.length === 40 && mdOk,
    'path_chosen_bridge_middle_exit', JSON.stringify(r.path || r.error),
    mid && ex && `bridge -> ${mid.nickname} (${mid.ip}:${mid.orPort}) -> ${ex.nickname} ` +
    `(${ex.ip}:${ex.orPort}); exit ntor key equals the authority's microdesc`);

  // 2. Again with the same clock: the consensus comes from IndexedDB, verified again; the
  // microdescs one per request, several streams at once on the circuit.
  const c = await runDir({ authorities: pins, now, db: 'om-dir-test', batch: 1 });
  const cd = c.dir || {};
  check(c.ok && cd.fromCache && cd.good.length === auths.length &&
    cd.asked.every((p) => p.startsWith('/tor/micro/d/')) && cd.asked.length === d.microdescs &&
    cd.microdescs === d.microdescs && cd.missing === 0, 'consensus_from_indexeddb_cache',
    c.error || summary(c), cd.ms !== undefined && `verified again from IndexedDB, ` +
    `${cd.asked.length} microdesc requests only (concurrent streams), ${cd.ms.toFixed(0)} ms`);

  // 3. A wrong pinned list (one real authority, two unknown): refused, nothing cached.
  const wrong = [pins[0], '0123456789ABCDEF0123456789ABCDEF01234567',
    'FEDCBA9876543210FEDCBA9876543210FEDCBA98'];
  const w = await runDir({ authorities: wrong, now: Date.now(), db: 'om-dir-wrong' });
  console.log(`# wrong pinned authorities: stage ${w.stage}, error: ${w.error}`);
  check(!w.ok && w.stage === 'directory' && /only 1 of 3 pinned authorities/.test(w.error || ''),
    'wrong_pinned_authorities_refused', JSON.stringify({ ok: w.ok, stage: w.stage, error: w.error }));
  // 4. One byte of the fetched consensus changed in the worker: every signature fails.
  const f = await runDir({ authorities: pins, now: Date.now(), db: 'om-dir-forged', forge: true });
  console.log(`# forged consensus: stage ${f.stage}, error: ${f.error}`);
  check(!f.ok && f.stage === 'directory' && /only 0 of 3 .*forged or bad signature/.test(f.error || ''),
    'forged_consensus_refused', JSON.stringify({ ok: f.ok, stage: f.stage, error: f.error }));
}

// ---- ntor-v3 on every hop that offers it (client.js, circuit.js, ntor3.js) ----
// A module worker: TorClient with the directory (the tor relays' "pr" lines; the bridge's own
// descriptor over BEGIN_DIR for its "proto"), the path fixed to the named middle and exit, one
// fetch read to the end and hashed; mode 'ntor' forces ntor on every hop; mode 'forged' sends
// an ntor-v3 CREATE2 to the bridge for an Ed25519 identity that is not the bridge's.
function ntor3WorkerSource() {
  return `
self.onmessage = async (e) => {
  const { base, bridgeLine, authorities, url, middle, exit, mode } = e.data;
  const imp = (f) => import(base + 'web/' + f);
  const [{ TorClient }, { Circuit }, { toHop }, { hex }, { sha256 }] = await Promise.all([
    imp('client.js'), imp('circuit.js'), imp('path.js'), imp('bytes.js'),
    import(base + 'node_modules/@noble/hashes/sha2.js')]);
  const events = [];
  const r = { stage: 'connect' };
  let c = null;
  try {
    c = await TorClient.connect(bridgeLine, { onEvent: (ev) => {
      if (ev.type === 'circuit') events.push(ev);
    }, directory: { authorities, distinctSubnets: false, cache: 'memory' } });
    r.bridgeProtocols = c.bridgeProtocols;
    r.bridgeEdId = hex(c.link.identity.edIdentity);
    if (mode === 'forged') {
      r.stage = 'create';
      const circ = new Circuit(c.link, { timeoutMs: 10000 });
      const ed = c.link.identity.edIdentity.slice();
      ed[0] ^= 1;
      try {
        await circ.create(c.bridge.rsaId, c.bridge.ntorKey,
          { nickname: 'bridge', edId: ed, handshake: 'ntor-v3' });
        r.ok = true;
      } catch (err) {
        r.ok = false;
        r.error = err.message;
        r.errorStage = err.stage;
      }
      return;
    }
    const find = (n) => c.dir.nodes.find((x) => x.nickname === n);
    const hops = [find(middle), find(exit)].map((n) => n && { ...toHop(n),
      handshake: mode === 'ntor' ? 'ntor' : undefined });
    if (!hops[0] || !hops[1]) throw new Error('middle or exit not in the consensus');
    r.protocols = hops.map((h) => h.protocols);
    if (mode === 'ntor') c.bridgeHop = () => ({ nickname: 'bridge', handshake: 'ntor' });
    c.selectPath = () => hops;
    r.stage = 'fetch';
    const t0 = performance.now();
    const res = await c.fetch(url);
    const h = sha256.create();
    let n = 0;
    for (const rd = res.body.getReader(); ;) {
      const { done, value } = await rd.read();
      if (done) break;
      h.update(value);
      n += value.length;
    }
    r.ms = performance.now() - t0;
    r.status = res.status;
    r.sha256 = hex(h.digest());
    r.bytes = n;
    r.circuit = res.circuit;
    r.ok = true;
  } catch (err) {
    r.ok = false;
    r.error = err.message;
  } finally {
    r.events = events;
    if (c) c.close();
    self.postMessage(r);
  }
};`;
}

// Onionskins each tor relay processed, by type ("ntor", "ntor_v3", ...), from its MetricsPort.
async function onionskins(relays) {
  const out = {};
  for (const rl of relays) {
    const counts = {};
    try {
      const t = (await httpGet(rl.metrics)).body.toString();
      for (const m of t.matchAll(/^tor_relay_load_onionskins_total\{([^}]*)\} (\d+)/gm)) {
        const type = /type="([^"]*)"/.exec(m[1])?.[1];
        if (/action="processed"/.test(m[1]) && type) counts[type] = Number(m[2]);
      }
    } catch (e) {
      counts.error = e.message;
    }
    out[rl.nick] = counts;
  }
  return out;
}

async function ntor3Checks(page, line) {
  const torrc = fs.readFileSync(path.join(path.dirname(lineFile), 'torrc'), 'utf8');
  const pins = [...torrc.matchAll(/^DirAuthority \S+ .*v3ident=([0-9A-F]{40}) /gm)]
    .map((m) => m[1]);
  const relays = fs.readFileSync(process.env.OM_NTOR3_RELAYS, 'utf8').trim().split('\n')
    .map((l) => l.split(' '))
    .map(([nick, exit, metrics]) => ({ nick, exit: exit === '1', metrics }));
  const exit = relays.find((x) => x.exit), middle = relays.find((x) => !x.exit);
  if (!exit || !middle) {
    notok('ntor3_relays', JSON.stringify(relays));
    return;
  }
  const run = (mode) => runBlobWorker(page, ntor3WorkerSource(), { bridgeLine: line,
    authorities: pins, url: process.env.OM_NTOR3_URL, middle: middle.nick, exit: exit.nick, mode });
  const wantSha = process.env.OM_NTOR3_SHA256, wantBytes = Number(process.env.OM_NTOR3_BYTES);
  const hsOf = (r) => (r.circuit?.path || []).map((h) => `${h.nickname}:${h.handshake}/${h.htype}`);
  const delta = (a, b, nick, type) => (b[nick]?.[type] ?? 0) - (a[nick]?.[type] ?? 0);

  // 1. ntor-v3 wherever offered.
  const m0 = await onionskins(relays);
  const v3 = await run('v3');
  const m1 = await onionskins(relays);
  console.log('# ntor-v3 run: ' + JSON.stringify({ ...v3, events: v3.events?.map((e) =>
    `${e.step} ${e.nickname || ''} ${e.handshake || (e.handshakes || []).join(',')}`) }));
  console.log(`# tor relay onionskins before: ${JSON.stringify(m0)} after: ${JSON.stringify(m1)}`);
  check(v3.ok && v3.status === 200 && v3.sha256 === wantSha && v3.bytes === wantBytes,
    'ntor3_circuit_download_byte_exact', v3.error || JSON.stringify({ status: v3.status,
      sha256: v3.sha256, bytes: v3.bytes }),
    `${v3.bytes} bytes, sha256 ${v3.sha256} over ${hsOf(v3).join(' -> ')} in ` +
    `${v3.ms?.toFixed(0)} ms`);
  const offers = [v3.bridgeProtocols, ...(v3.protocols || [])]
    .map((p) => supportsProtocol(p, 'Relay', 4));
  const path3 = v3.circuit?.path || [];
  check(v3.ok && path3.length === 3 && path3.every((h, i) => offers[i] ? h.htype === 3 &&
    h.handshake === 'ntor-v3' : h.htype === 2),
    'ntor3_used_on_every_hop_that_offers_it', JSON.stringify({ offers, path: hsOf(v3) }),
    `bridge proto "${v3.bridgeProtocols}"; tor relays pr ${JSON.stringify(v3.protocols)}; ` +
    `handshakes ${hsOf(v3).join(', ')}`);
  check(offers[1] && offers[2] && path3[1]?.htype === 3 && path3[2]?.htype === 3,
    'ntor3_on_both_tor_hops', JSON.stringify({ offers, path: hsOf(v3) }),
    `${middle.nick} and ${exit.nick} (Debian tor) offer Relay=4`);
  // the last three: the fetch's circuit (the directory circuit's 'created' comes first)
  const evs = (v3.events || []).filter((e) => e.step === 'created' || e.step === 'extended')
    .slice(-3);
  check(evs.length === 3 && evs.every((e, i) => e.htype === path3[i]?.htype),
    'ntor3_circuit_events_name_the_handshake', JSON.stringify(v3.events),
    evs.map((e) => `${e.step} ${e.nickname}: ${e.handshake}`).join('; '));
  const dv3 = [middle.nick, exit.nick].map((n) => delta(m0, m1, n, 'ntor_v3'));
  check(dv3.every((d) => d >= 1), 'tor_relays_counted_ntor3_onionskins',
    JSON.stringify({ m0, m1 }), `MetricsPort ntor_v3 processed +${dv3[0]} at ${middle.nick}, ` +
    `+${dv3[1]} at ${exit.nick} (ntor +${delta(m0, m1, middle.nick, 'ntor')}, ` +
    `+${delta(m0, m1, exit.nick, 'ntor')})`);

  // 2. The same path with ntor forced: tor's ntor counters move instead.
  const nt = await run('ntor');
  const m2 = await onionskins(relays);
  console.log('# ntor run: ' + JSON.stringify({ ...nt, events: undefined }));
  const dn = [middle.nick, exit.nick].map((n) => delta(m1, m2, n, 'ntor'));
  check(nt.ok && nt.sha256 === wantSha && (nt.circuit?.path || []).every((h) => h.htype === 2) &&
    dn.every((d) => d >= 1), 'ntor_forced_download_and_relays_counted_ntor',
    nt.error || JSON.stringify({ path: hsOf(nt), m1, m2 }),
    `${hsOf(nt).join(' -> ')}; MetricsPort ntor processed +${dn[0]} at ${middle.nick}, ` +
    `+${dn[1]} at ${exit.nick}; ${nt.ms?.toFixed(0)} ms vs ${v3.ms?.toFixed(0)} ms with ntor-v3`);

  // 3. ntor-v3 CREATE2 for another Ed25519 identity: the bridge refuses it (DESTROY).
  const f = await run('forged');
  console.log(`# forged Ed25519 identity: ${JSON.stringify({ ok: f.ok, error: f.error })}`);
  check(!f.ok && f.errorStage !== undefined && /DESTROY/.test(f.error || ''),
    'ntor3_wrong_ed25519_identity_refused_by_bridge', JSON.stringify(f), f.error);
}

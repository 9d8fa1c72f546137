// browser-fetch-test.mjs — the web client's API (src/bridge/web/onionmesh.js and its worker) in
// Debian's chromium (playwright-core) fetching over 3 hops: onionmesh bridge (WebSocket) ->
// tor relay -> tor exit, on the tools/testnet network that browser-fetch-test.sh started. The
// hops come from the testnet's microdesc consensus and microdescriptors, fetched here with
// node's fetch from an authority's DirPort (path selection is another module's job; this test
// passes opts.paths). Checks: a Content-Length file and a chunked response (with extensions and
// a trailer) from http_fixture.py arrive with the file's SHA-256 and byte count; the process
// that connected to the HTTP server is the tor relay whose fingerprint ends the circuit; a port
// the exit's policy rejects gives the exit-policy error; newIdentity() gives another circuit
// (other ID, other exit) for the next fetch. With the path from the verified directory, the tor
// exit agrees to congestion control (prop 324: sendme_inc 31, circuit SENDMEs every 31 cells, no
// stream SENDMEs) and honours the XOFF / XON of a page that pauses its reading.
// Usage: node browser-fetch-test.mjs NETWORK_JSON BRIDGE_LINE_FILE HTTP_PORT FILE
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const [netFile, lineFile, httpPort, dataFile] = process.argv.slice(2);
const CHROMIUM = process.env.OM_CHROMIUM || '/usr/bin/chromium';
let failed = 0;
const say = (good, name, extra) => {
  if (!good) failed = 1;
  console.log(`${good ? 'ok' : 'not ok'} - browser-fetch/${name}${extra ? (good ? ' # ' : ': ') + extra : ''}`);
};

const PAGE = `<!doctype html><meta charset="utf-8"><title>onionmesh fetch test</title>
<script type="module">
import { OnionMesh } from '/web/onionmesh.js';
const hex = (b) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, '0')).join('');
async function get(om, url) {
  const t0 = performance.now();
  let events = 0, last = null;
  const r = await om.fetch(url, { onProgress: (p) => { events++; last = p; } });
  const parts = [];
  let n = 0;
  for (const rd = r.body.getReader(); ;) {
    const { value, done } = await rd.read();
    if (done) break;
    parts.push(value);
    n += value.length;
  }
  const all = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { all.set(p, o); o += p.length; }
  return { status: r.status, headers: Object.fromEntries(r.headers), framing: r.framing,
    bytes: n, sha256: hex(await crypto.subtle.digest('SHA-256', all)),
    ms: performance.now() - t0, progressEvents: events, lastProgress: last,
    trailers: await r.trailers, circuit: r.circuit, exitAddr: r.exitAddr };
}
window.run = async (line, paths, urls) => {
  const out = { circuitEvents: [] };
  try {
    const om = await OnionMesh.connect(line, { paths });
    om.addEventListener('circuit', (e) => out.circuitEvents.push(e.detail));
    om.addEventListener('progress', (e) => { if (e.detail.done) out.lastDone = e.detail; });
    out.file = await get(om, urls.file);
    out.chunked = await get(om, urls.chunked);
    try {
      await om.fetch(urls.rejected);
      out.rejected = { ok: true };
    } catch (e) {
      out.rejected = { message: e.message, reason: e.reason, stage: e.stage };
    }
    // An upload past the stream (500) and circuit (1000) package windows: it only completes
    // if the exit's SENDMEs (v1, digests checked) come back and are accepted.
    const up = new Uint8Array(1 << 20);
    for (let i = 0; i < up.length; i += 65536) crypto.getRandomValues(up.subarray(i, i + 65536));
    const t0 = performance.now();
    const ur = await om.fetch(urls.upload, { body: up });
    out.upload = { status: ur.status, text: await new Response(ur.body).text(),
      sha256: hex(await crypto.subtle.digest('SHA-256', up)), bytes: up.length,
      ms: performance.now() - t0, circuitStats: out.lastDone?.circuitStats };
    const refusal = async (url, via = om) => {
      try {
        const r = await via.fetch(url);
        return { ok: true, status: r.status };
      } catch (e) {
        return { message: e.message, reason: e.reason, stage: e.stage };
      }
    };
    out.refused = await refusal(urls.closedPort);
    out.unresolvable = await refusal(urls.unresolvable);
    const byName = await om.fetch(urls.byName);
    out.byName = { status: byName.status, comm: byName.headers.get('x-peer-comm'),
      exitAddr: byName.exitAddr };
    await byName.body.cancel();
    out.resolved = await om.resolve(urls.resolveName);
    // A path whose last hop is not there: the tor middle cannot extend and closes its part of
    // the circuit; the hop before it (the bridge, as tor does) answers TRUNCATED.
    const om2 = await OnionMesh.connect(line, { paths: [[paths[0][0], urls.bogusHop]] });
    out.truncated = await refusal(urls.file, om2);
    await om2.close();
    await om.newIdentity();
    out.file2 = await get(om, urls.file);
    out.closedAfterNewIdentity = out.circuitEvents.filter((e) => e.step === 'closed')
      .map((e) => e.circId);
    await om.close();
  } catch (e) {
    out.error = e.message + ' (' + e.stage + ')';
  }
  return out;
};
// The path from the directory: the consensus verified against the pinned authorities, the
// middle and exit chosen by path.js for the URL's port; the exit (a tor relay listing
// FlowCtrl=2) is asked for congestion control. Then the same file read slowly: after the first
// piece the page stops reading for 1.5 s, so the stream's buffer passes cc_xoff_client and the
// client sends XOFF; it sends XON once the page has read everything buffered, which only
// happens before the end of the file if the tor exit held the rest back after the XOFF.
window.runDirectory = async (line, authorities, url) => {
  try {
    const om = await OnionMesh.connect(line, { directory: { authorities, distinctSubnets: false } });
    let done = null;
    om.addEventListener('progress', (e) => { if (e.detail.done) done = e.detail; });
    const f = await get(om, url);
    const r = await om.fetch(url);
    const rd = r.body.getReader();
    const parts = [];
    let n = 0;
    for (let first = true; ; first = false) {
      const { value, done: end } = await rd.read();
      if (end) break;
      parts.push(value);
      n += value.length;
      if (first) await new Promise((res) => setTimeout(res, 1500));
    }
    const all = new Uint8Array(n);
    let o = 0;
    for (const p of parts) { all.set(p, o); o += p.length; }
    const slow = { bytes: n, sha256: hex(await crypto.subtle.digest('SHA-256', all)),
      circuit: r.circuit, stats: done?.circuitStats };
    await om.close();
    return { info: om.info, fetch: f, slow };
  } catch (e) {
    return { error: e.message + ' (' + e.stage + ')' };
  }
};
document.title = 'ready';
</script>`;

function serve(req, res) {
  const u = new URL(req.url, 'http://x');
  let file = null;
  if (u.pathname.startsWith('/web/')) file = path.join(ROOT, 'src/bridge/web', u.pathname.slice(5));
  else if (u.pathname.startsWith('/node_modules/@noble/')) file = path.join(ROOT, u.pathname);
  if (u.pathname === '/favicon.ico') return res.writeHead(204).end();
  if (u.pathname === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
  if (!file || u.pathname.includes('..') || !fs.statSync(file, { throwIfNoEntry: false })?.isFile())
    return res.writeHead(404).end();
  // A module worker has no import map: bare @noble/ imports become /node_modules/@noble/.
  const js = fs.readFileSync(file, 'utf8').replace(/(\bfrom\s*)(['"])@noble\//g,
    '$1$2/node_modules/@noble/');
  return res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
}

// Hop objects for relays of network.json, from the consensus and microdescriptors an authority
// serves: {nickname, rsaId, ntorKey, edId, ip, orPort, policy (the microdesc "p" line)}.
async function hopsFromDirectory(net) {
  const dir = `http://127.0.0.1:${net.authorities[0].dir_port}`;
  const cons = await (await fetch(`${dir}/tor/status-vote/current/consensus-microdesc`)).text();
  const hops = new Map();
  let cur = null;
  for (const l of cons.split('\n')) {
    const f = l.split(' ');
    if (f[0] === 'r') {
      cur = { nickname: f[1], rsaId: new Uint8Array(Buffer.from(f[2], 'base64')), ip: f[5],
        orPort: Number(f[6]) };
      hops.set(Buffer.from(cur.rsaId).toString('hex').toUpperCase(), cur);
    } else if (f[0] === 'm' && cur) cur.md = f[1];
  }
  const out = {};
  for (const r of net.relays) {
    const h = hops.get(r.fingerprint.replace(/ /g, '').toUpperCase());
    if (!h) throw new Error(`${r.name} not in the consensus`);
    const md = await (await fetch(`${dir}/tor/micro/d/${h.md}`)).text();
    const key = /^ntor-onion-key (\S+)/m.exec(md);
    const ed = /^id ed25519 (\S+)/m.exec(md);
    h.ntorKey = new Uint8Array(Buffer.from(key[1], 'base64'));
    if (ed) h.edId = new Uint8Array(Buffer.from(ed[1], 'base64'));
    h.policy = (/^p (accept|reject) (\S+)/m.exec(md) || []).slice(1);
    delete h.md;
    out[r.name] = h;
  }
  return out;
}

// A port the microdesc policy summary rejects (for addresses outside 127.0.0.0/8).
function rejectedPort([kind, ranges]) {
  const rs = ranges.split(',').map((x) => x.split('-').map(Number)).map(([a, b]) => [a, b ?? a]);
  if (kind === 'reject') return rs[0][0];
  for (let p = 1; p < 65536; p++) if (!rs.some(([a, b]) => p >= a && p <= b)) return p;
  return null;
}

const net = JSON.parse(fs.readFileSync(netFile, 'utf8'));
const line = fs.readFileSync(lineFile, 'utf8').split('\n').find((l) => l.startsWith('Bridge websocket '));
const data = fs.readFileSync(dataFile);
const want = crypto.createHash('sha256').update(data).digest('hex');
const server = http.createServer(serve);
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const userDir = fs.mkdtempSync('/tmp/om-chromium-profile-');
let browser;
try {
  const hops = await hopsFromDirectory(net);
  const [a, b] = net.relays.map((r) => hops[r.name]);
  const port = b.policy.length ? rejectedPort(b.policy) : 80; // no "p" line: rejects all
  console.log(`# relays ${a.nickname} ${b.nickname}; exit policy summary ${b.policy.join(' ')};` +
    ` rejected port ${port}`);
  const closed = http.createServer();
  await new Promise((res) => closed.listen(0, '127.0.0.1', res));
  const closedPort = closed.address().port;
  await new Promise((res) => closed.close(res));
  const urls = { upload: `http://127.0.0.1:${httpPort}/upload`, closedPort: `http://127.0.0.1:${closedPort}/`,
    unresolvable: `http://nosuch.example:${httpPort}/`,
    bogusHop: { nickname: 'bogus', rsaId: new Uint8Array(crypto.randomBytes(20)),
      ntorKey: new Uint8Array(crypto.randomBytes(32)), ip: '127.0.0.1', orPort: closedPort },
    byName: `http://www.onionmesh.test:${httpPort}/none`, resolveName: 'www.onionmesh.test', file: `http://127.0.0.1:${httpPort}/file`,
    chunked: `http://127.0.0.1:${httpPort}/chunked`, rejected: `http://198.51.100.7:${port}/` };
  browser = await chromium.launchPersistentContext(userDir, {
    executablePath: CHROMIUM, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage();
  page.on('console', (m) => console.log('# console: ' + m.text()));
  page.on('pageerror', (e) => console.log('# pageerror: ' + e.message));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForFunction(() => document.title === 'ready');
  // Two paths: bridge -> a -> b, and after newIdentity bridge -> b -> a.
  const strip = ({ policy, ...h }) => h;
  const r = await page.evaluate(([l, p, u]) => window.run(l, p, u),
    [line, [[strip(a), strip(b)], [strip(b), strip(a)]], urls]);
  console.log('# ' + JSON.stringify({ ...r, circuitEvents: r.circuitEvents?.length },
    (k, v) => (k === 'headers' ? undefined : v)));
  say(!r.error, 'api_run', r.error);
  const pidOf = (fp) => String([...net.relays, ...net.authorities].find((x) => x.fingerprint.replace(/ /g, '') === fp)?.pid);
  const checkFetch = (name, f, framing, exit) => {
    if (!f) return say(false, name, 'no result');
    say(f.status === 200 && f.framing === framing, `${name}_status_${framing}`,
      `${f.status} ${f.framing}`);
    say(f.sha256 === want && f.bytes === data.length, `${name}_sha256_and_bytes`,
      `${f.bytes} bytes, sha256 ${f.sha256}, want ${want} (${data.length}); ` +
      `${(f.bytes / 1048576 / (f.ms / 1000)).toFixed(2)} MiB/s, ${f.progressEvents} progress events`);
    const exitFp = f.circuit.path.at(-1).fingerprint;
    say(f.circuit.path.length === 3 && exitFp === Buffer.from(exit.rsaId).toString('hex').toUpperCase(),
      `${name}_circuit_bridge_middle_exit`, f.circuit.path.map((h) => h.nickname).join(' -> '));
    say(f.headers['x-peer-comm'] === 'tor' && f.headers['x-peer-pid'] === pidOf(exitFp),
      `${name}_exit_is_the_tor_relay`, `peer process ${f.headers['x-peer-comm']} ` +
      `pid ${f.headers['x-peer-pid']}, ${exit.nickname}'s pid ${pidOf(exitFp)}`);
    return f;
  };
  checkFetch('content_length', r.file, 'length', b);
  const c = checkFetch('chunked', r.chunked, 'chunked', b);
  say(c && c.trailers.some(([k, v]) => k === 'X-Checksum-Note' && /chunks/.test(v)),
    'chunked_trailer', JSON.stringify(c && c.trailers));
  say(r.rejected && r.rejected.reason === 'EXITPOLICY' && /exit policy/.test(r.rejected.message),
    'exit_policy_refusal_message', JSON.stringify(r.rejected));
  // A refused connect to a closed port: tor's exit connects asynchronously, and by the time it
  // writes END the socket error has been read once already, so tor 0.4.9 sends END MISC rather
  // than CONNECTREFUSED (seen in this test); either way the stream is refused with its message.
  const refusedMsg = { CONNECTREFUSED: /connection refused/, MISC: /unspecified reason/ };
  const up = r.upload;
  say(up && up.status === 200 && up.text.trim() === `${up.sha256} ${up.bytes}`,
    'upload_past_package_windows', up && `${up.bytes} bytes (${Math.ceil(up.bytes / 498)} DATA ` +
    `cells) in ${up.ms.toFixed(0)} ms; server: ${up.text.trim()}`);
  // After two 4 MiB downloads and the upload on one circuit: our SENDME v1s to the exit, and
  // the exit's SENDMEs to us (circuit-level ones checked against our digests).
  const st = up && up.circuitStats;
  say(st && st.circSendmes >= Math.floor((2 * data.length) / 498 / 100) &&
    st.sendmesIn >= Math.floor(up.bytes / 498 / 100) && st.dataCellsOut >= up.bytes / 498,
    'sendme_v1_both_ways_with_tor_exit', JSON.stringify(st));
  say(r.truncated && r.truncated.stage === 'extend' &&
    /^TRUNCATED after hop [12] \((bridge|relay\d)\): \w+, while extending to bogus$/
      .test(r.truncated.message), 'extend_failure_truncated',
  JSON.stringify(r.truncated));
  say(r.refused && refusedMsg[r.refused.reason]?.test(r.refused.message) &&
    r.refused.stage === 'stream', 'closed_port_refused', JSON.stringify(r.refused));
  say(r.unresolvable && r.unresolvable.reason === 'RESOLVEFAILED' &&
    /resolution failed/.test(r.unresolvable.message), 'resolve_failed_message',
  JSON.stringify(r.unresolvable));
  say(r.byName && r.byName.status === 404 && r.byName.comm === 'tor' &&
    r.byName.exitAddr?.addr === '127.0.0.1', 'begin_by_host_name', JSON.stringify(r.byName));
  say(Array.isArray(r.resolved) && r.resolved.some((a) => a.type === 4 && a.value === '127.0.0.1'),
    'resolve_resolved', JSON.stringify(r.resolved));
  const f2 = checkFetch('new_identity', r.file2, 'length', a);
  say(f2 && r.file && f2.circuit.id !== r.file.circuit.id &&
    f2.circuit.path.at(-1).fingerprint !== r.file.circuit.path.at(-1).fingerprint,
  'new_identity_new_circuit', f2 && `circuit ${r.file.circuit.id} -> ${f2.circuit.id}`);
  say(r.file && (r.closedAfterNewIdentity || []).includes(r.file.circuit.id),
    'old_circuit_closed_after_new_identity', JSON.stringify(r.closedAfterNewIdentity));
  say(r.file && r.file.lastProgress && r.file.lastProgress.done &&
    r.file.lastProgress.bytes === data.length && r.file.lastProgress.rate > 0,
  'progress_events', r.file && JSON.stringify(r.file.lastProgress));
  // Directory-chosen path: the API with opts.directory instead of fixed paths.
  const auths = net.authorities.map((x) => x.v3ident);
  const d = await page.evaluate(([l, au, u]) => window.runDirectory(l, au, u),
    [line, auths, urls.file]);
  console.log('# directory run: ' + JSON.stringify({ info: d.info, error: d.error,
    circuit: d.fetch?.circuit, sha256: d.fetch?.sha256 }));
  say(d.info && d.info.directory && d.info.directory.good.length === auths.length,
    'directory_verified_for_api', d.error || JSON.stringify(d.info));
  // The testnet's authorities are relays of its consensus too (they can be middles).
  const relayFps = [...net.relays, ...net.authorities].map((x) => x.fingerprint.replace(/ /g, ''));
  const dp = d.fetch?.circuit.path || [];
  say(dp.length === 3 && relayFps.includes(dp[1].fingerprint) && relayFps.includes(dp[2].fingerprint)
    && dp[1].fingerprint !== dp[2].fingerprint, 'directory_path_bridge_middle_exit',
  dp.map((h) => h.nickname).join(' -> '));
  const df = d.fetch;
  say(df && df.sha256 === want && df.bytes === data.length && df.headers['x-peer-comm'] === 'tor' &&
    df.headers['x-peer-pid'] === pidOf(dp[2]?.fingerprint), 'directory_path_fetch',
  df && `${df.bytes} bytes, sha256 ok: ${df.sha256 === want}, exit pid ${df.headers['x-peer-pid']}`);
  // Prop 324 with a tor exit: it answered the ntor-v3 request with sendme_inc 31 (the consensus
  // default), took our SENDMEs every 31 cells (else the 4 MiB would stall), and honoured XOFF
  // and XON on the slow read.
  say(dp[2]?.sendmeInc === 31 && dp[2]?.handshake === 'ntor-v3',
    'congestion_control_negotiated_with_tor_exit', JSON.stringify(dp[2]));
  const sl = d.slow;
  console.log('# slow read: ' + JSON.stringify(sl && { bytes: sl.bytes, stats: sl.stats }));
  say(sl && sl.sha256 === want && sl.bytes === data.length && sl.stats?.xoffSent >= 1 &&
    sl.stats?.xonSent >= 1 && sl.stats?.streamSendmes === 0 &&
    sl.stats?.circSendmes >= Math.floor(data.length / 498 / 31),
  'xoff_xon_with_tor_exit', sl && `${sl.bytes} bytes, ${JSON.stringify(sl.stats)}`);
} catch (e) {
  say(false, 'run', e.stack || String(e));
} finally {
  if (browser) await browser.close();
  server.close();
  fs.rmSync(userDir, { recursive: true, force: true });
}
process.exit(failed);

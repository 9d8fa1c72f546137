// app.js — the page's logic (index.html): reads the bridge's settings (onionmesh.json beside the
// page: its WebSocket bridge line and the directory authorities to pin, served by the bridge,
// src/bridge/ws_relay.c), starts the Tor client in its worker (OnionMesh, onionmesh.js), shows
// bootstrap progress as tor words it ("Bootstrapped N%"), fetches the address typed — or
// ?fetch=URL on load — and shows the body as text or as a download, with bytes, rate and ETA,
// the circuit bridge -> middle -> exit, and errors in SOCKS terms. For automation it writes the
// body's SHA-256 (hex) into #sha256, its length into #bytes, the path into #circuit (and into
// #flow whether the exit agreed to congestion control) and any error
// into #error. The body is hashed as it arrives (@noble/hashes: WebCrypto is missing on pages
// that are not a secure context, e.g. a bridge's plain http:// address) and kept as a Blob
// (BodySink). ?bridge=LINE pins another bridge line than the settings' (bridgeLineFor); failed
// circuit builds and their retries on other paths show in #retries (showAttempt).
// Performance marks (om-bootstrapped, om-circuit-built with the CREATE2 and EXTEND2 times,
// om-fetch-start, om-first-byte, om-fetch-done) are for tools/bench/bench-browser; ?path=MIDDLE,EXIT
// (nicknames or fingerprints) pins the relays after the bridge, looked up in the verified
// consensus, which is cached in IndexedDB (consensus_cache.js).
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { OnionMesh } from './onionmesh.js';

const $ = (id) => document.getElementById(id);
const TEXT_MAX = 1 << 20; // larger bodies, and non-text ones, are offered as a download
const FOLD = 4 << 20; // BodySink folds its chunks into a Blob every FOLD bytes

// Opened as /PATH (no slash), relative URLs would leave the bridge's path: add it.
if (!location.pathname.endsWith('/') && !location.pathname.endsWith('.html')) {
  location.replace(location.pathname + '/' + location.search);
}

// END reasons (tor-spec 6.3) and failure stages as a SOCKS client would report them.
const REASONS = {
  EXITPOLICY: 'exit refused: its exit policy rejects this address or port',
  RESOLVEFAILED: 'host unreachable: the exit could not resolve the name',
  CONNECTREFUSED: 'connection refused by the destination',
  NOROUTE: 'host unreachable: no route from the exit',
  TIMEOUT: 'timeout: the destination did not answer the exit',
  DESTROY: 'the circuit was closed under the stream',
  HIBERNATING: 'exit refused: it is hibernating',
  RESOURCELIMIT: 'exit refused: out of resources',
  CONNRESET: 'connection reset by the destination',
  TORPROTOCOL: 'protocol error at the exit',
  NOTDIRECTORY: 'the relay is not a directory',
  DONE: 'the destination closed the connection',
  // tor 0.4.9's exit was seen to send MISC, not CONNECTREFUSED, when its connection to a
  // closed port failed (browser-fetch-test, browser-page-test).
  MISC: 'connection failed: the exit could not connect to the destination (refused or ' +
    'unreachable; the exit gave no specific reason, END MISC)',
  INTERNAL: 'internal error at the exit',
};

// Failures before any stream, by stage, as a user would say them.
const STAGES = {
  link: 'cannot reach the bridge',
  certs: 'the bridge is not the one the bridge line names',
  create: 'the bridge refused the circuit',
  extend: 'circuit failed: a relay could not be reached',
  circuit: 'the circuit was closed',
  path: 'no usable path',
  http: 'bad HTTP response',
};

function explain(e) {
  if (!e || !e.message) return String(e);
  let text = e.reason && REASONS[e.reason];
  if (text) text += ` [${e.message}]`;
  else if (e.stage === 'certs' && /is not the pinned/.test(e.message))
    text = 'wrong bridge fingerprint: the bridge at this address does not have the ' +
      `fingerprint the bridge line pins [${e.message}]`;
  else if (STAGES[e.stage]) text = `${STAGES[e.stage]}: ${e.message}`;
  else text = e.message;
  const tries = e.attempts && e.attempts.length > 1 ? `, after ${e.attempts.length} circuit ` +
    'attempts on different paths' : '';
  return text + (e.stage ? ` (${e.stage}${tries})` : '');
}

// ?bridge=LINE replaces the settings' bridge line: it pins another fingerprint and ntor key
// (say, a line the user got out of band). Its url= is always this origin's WebSocket (the CSP's
// connect-src 'self' would refuse any other): the parameter chooses only what is checked, and
// a wrong line fails at CERTS (fingerprint) or CREATE2 (ntor key).
function bridgeLineFor(settings, wsUrl) {
  const given = new URLSearchParams(location.search).get('bridge');
  const line = (given || settings.bridgeLine || '').trim();
  const withUrl = /\burl=\S+/.test(line) ? line.replace(/\burl=\S+/, 'url=' + wsUrl)
    : `${line} url=${wsUrl}`;
  return { line: withUrl, fromParam: Boolean(given) };
}

// Circuit build attempts (client.js retries a failed build on another path): each failure and
// a build that needed more than one attempt get a line in #retries.
function showAttempt(d) {
  const p = $('retries');
  let text = null;
  if (d.step === 'failed')
    text = `circuit attempt ${d.attempt} of ${d.of} (${d.path.join(' -> ')}) failed` +
      `${d.failedHop ? ' at ' + d.failedHop : ''}: ${d.reason}` +
      (d.attempt < d.of ? '; trying another path' : '');
  else if (d.step === 'built' && d.attempt > 1)
    text = `circuit built on attempt ${d.attempt}: ${d.path.join(' -> ')}`;
  if (!text) return;
  const line = document.createElement('span');
  line.textContent = text + '\n';
  p.append(line);
  p.hidden = false;
}

// The body as it arrives: hashed, and kept for the text view or the download as Blob parts;
// the chunks are folded into a Blob every FOLD bytes, so the page holds the body once (Blob
// storage) plus at most FOLD bytes of chunks, never a second whole copy.
class BodySink {
  constructor(type) {
    this.type = type;
    this.hash = sha256.create();
    this.parts = [];
    this.pending = [];
    this.pendingBytes = 0;
    this.bytes = 0;
  }

  add(chunk) {
    this.hash.update(chunk);
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.bytes += chunk.length;
    if (this.pendingBytes >= FOLD) this.fold();
  }

  fold() {
    if (this.pending.length) this.parts.push(new Blob(this.pending));
    this.pending = [];
    this.pendingBytes = 0;
  }

  finish() {
    this.fold();
    const blob = new Blob(this.parts, { type: this.type });
    return { sha256: bytesToHex(this.hash.digest()), blob };
  }
}

function bootstrap(pct, what) {
  $('bootstrap').textContent = `Bootstrapped ${pct}%: ${what}`;
}

function showPath(names, times) {
  const ol = $('path');
  ol.replaceChildren();
  names.forEach((n, i) => {
    const li = document.createElement('li');
    li.textContent = n;
    if (times && times[i] != null) {
      const s = document.createElement('small');
      s.textContent = `${Math.round(times[i])} ms`;
      li.append(s);
    }
    ol.append(li);
  });
}

function fmt(n) {
  if (n >= 1 << 30) return (n / (1 << 30)).toFixed(2) + ' GiB';
  if (n >= 1 << 20) return (n / (1 << 20)).toFixed(2) + ' MiB';
  if (n >= 1 << 10) return (n / (1 << 10)).toFixed(1) + ' KiB';
  return n + ' B';
}

function stats(got, total, t0) {
  const s = (performance.now() - t0) / 1000;
  const rate = s > 0 ? got / s : 0;
  const bar = $('bar');
  if (total) {
    bar.max = total;
    bar.value = Math.min(got, total);
  } else {
    bar.removeAttribute('value'); // indeterminate
  }
  const eta = total && rate ? `, ${Math.max(0, (total - got) / rate).toFixed(0)} s left` : '';
  $('stats').textContent = `${fmt(got)}${total ? ' of ' + fmt(total) : ''} at ${fmt(rate)}/s${eta}`;
}

function clear() {
  for (const id of ['error', 'sha256', 'bytes', 'circuit', 'flow', 'status', 'text', 'stats',
    'retries'])
    $(id).textContent = '';
  $('retries').hidden = true;
  $('result').hidden = true;
  $('download').hidden = true;
  $('transfer').hidden = true;
}

let om = null;
let hopTimes = []; // the last circuit built: ms of CREATE2 to the bridge and of each EXTEND2

// ?path=MIDDLE,EXIT: the relays to use after the bridge (for benchmarks), or undefined.
function pathParam() {
  const p = new URLSearchParams(location.search).get('path');
  return p ? p.split(',').map((n) => n.trim()).filter(Boolean) : undefined;
}

// ?sink=worker: the body is read and hashed in the worker, only its digest reaches the page
// (comparisons: what the page's side of the body costs).
async function goWorkerSink(url) {
  clear();
  const t0 = performance.now();
  performance.mark('om-fetch-start');
  try {
    const r = await om.fetchDigest(url);
    performance.mark('om-first-byte', { startTime: t0 + (r.firstByteMs ?? r.ms) });
    performance.mark('om-fetch-done', { detail: { bytes: r.bytes } });
    stats(r.bytes, r.bytes, t0);
    $('status').textContent = `HTTP ${r.status}`;
    $('circuit').textContent = (r.circuit?.path || []).map((h) => h.nickname).join(' -> ');
    $('bytes').textContent = String(r.bytes);
    $('sha256').textContent = r.sha256;
    $('result').hidden = false;
  } catch (e) {
    $('error').textContent = explain(e);
  }
}

async function go(url) {
  if (new URLSearchParams(location.search).get('sink') === 'worker') return goWorkerSink(url);
  clear();
  const t0 = performance.now();
  performance.mark('om-fetch-start');
  try {
    const r = await om.fetch(url);
    const names = r.circuit && r.circuit.path ? r.circuit.path.map((h) => h.nickname) : [];
    showPath(names, names.length === hopTimes.length ? hopTimes : null);
    $('circuit').textContent = names.join(' -> ');
    const inc = r.circuit?.path?.at(-1)?.sendmeInc || 0;
    $('flow').textContent = inc ? `congestion control with the exit (sendme_inc ${inc})`
      : 'fixed windows';
    $('status').textContent = `HTTP ${r.status} ${r.statusText || ''}`;
    $('result').hidden = false;
    $('transfer').hidden = false;
    const total = Number(r.headers.get('content-length')) || 0;
    const type = r.headers.get('content-type') || 'application/octet-stream';
    const sink = new BodySink(type);
    const reader = r.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!sink.bytes && value.length) performance.mark('om-first-byte');
      sink.add(value);
      stats(sink.bytes, total, t0);
    }
    const got = sink.bytes;
    stats(got, total || got, t0);
    performance.mark('om-fetch-done', { detail: { bytes: got } });
    const { sha256: digest, blob } = sink.finish();
    $('sha256').textContent = digest;
    $('bytes').textContent = String(got);
    if (/^(text\/|application\/(json|xml|javascript))/.test(type) && got <= TEXT_MAX) {
      $('text').textContent = await blob.text();
    } else {
      const a = $('download');
      a.href = URL.createObjectURL(blob);
      a.download = decodeURIComponent(new URL(url).pathname.split('/').pop() || 'download');
      a.textContent = `Save ${a.download} (${fmt(got)})`;
      a.hidden = false;
    }
  } catch (e) {
    $('error').textContent = explain(e);
  }
}

async function main() {
  bootstrap(0, 'starting');
  let settings;
  try {
    const res = await fetch('onionmesh.json', { cache: 'no-store' });
    if (!res.ok) throw new Error(`the bridge gave no settings (HTTP ${res.status})`);
    settings = await res.json();
  } catch (e) {
    $('error').textContent = 'onionmesh.json: ' + e.message;
    return;
  }
  // The bridge's own WebSocket, on this page's origin (a reverse proxy's address included).
  const dir = location.pathname.replace(/\/(index\.html)?$/, '') || '/';
  const wsUrl = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + dir;
  const { line, fromParam } = bridgeLineFor(settings, wsUrl);
  const authorities = (settings.authorities || []).map((a) => a.v3ident);
  bootstrap(5, 'connecting to the bridge' + (fromParam ? ' (bridge line from ?bridge=)' : ''));
  const started = performance.now();
  let hopMs = []; // the round trips of CREATE2 and each EXTEND2 of the circuit being built
  const onEvent = (e) => {
    const d = e.detail || {};
    if (d.type === 'progress' && d.what === 'consensus') bootstrap(40, `loading the consensus (${fmt(d.bytes || 0)})`);
    else if (d.type === 'progress' && d.what) bootstrap(75, `loading ${d.what}`);
    else if (d.type === 'circuit' && d.step === 'created') hopMs = [d.ms];
    else if (d.type === 'circuit' && d.step === 'extended') hopMs.push(d.ms);
    else if (d.type === 'circuit' && d.step === 'built' && d.path) {
      performance.mark('om-circuit-built', { detail: { path: d.path, hopMs,
        ms: hopMs.reduce((a, b) => a + b, 0) } });
      hopTimes = hopMs;
      showPath(d.path, hopTimes);
    }
    if (d.type === 'circuit' && (d.step === 'failed' || d.step === 'built')) showAttempt(d);
  };
  try {
    // A test network's relays share addresses: allow one /16 in a path there, as tor does.
    const distinctSubnets = !settings.testingNetwork;
    // ?cc=0: fixed windows with the exit instead of congestion control (comparisons).
    const cc = new URLSearchParams(location.search).get('cc') !== '0';
    om = await OnionMesh.connect(line, { directory: { authorities, distinctSubnets,
      cache: 'idb', path: pathParam() }, congestionControl: cc });
    om.addEventListener('progress', onEvent);
    om.addEventListener('circuit', onEvent);
  } catch (e) {
    $('error').textContent = explain(e);
    bootstrap(0, `failed: ${STAGES[e.stage] || 'error'}${e.stage ? ` (${e.stage})` : ''}`);
    document.body.dataset.ready = 'failed';
    return;
  }
  const fromCache = !!(om.info.directory && om.info.directory.fromCache);
  performance.mark('om-bootstrapped', { detail: { fromCache, ms: performance.now() - started } });
  bootstrap(100, `done in ${((performance.now() - started) / 1000).toFixed(1)} s` +
    (fromCache ? ' (cached consensus)' : ''));
  $('fetch').disabled = false;
  $('newid').disabled = false;
  $('go').addEventListener('submit', (ev) => {
    ev.preventDefault();
    go($('url').value);
  });
  $('newid').addEventListener('click', async () => {
    await om.newIdentity();
    showPath([]);
  });
  const auto = new URLSearchParams(location.search).get('fetch');
  if (auto) {
    $('url').value = auto;
    await go(auto);
  }
  document.body.dataset.ready = 'true';
}

main();

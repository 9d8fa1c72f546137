// browser-page-test.mjs — Debian's chromium (playwright-core) on the page an onionmesh bridge
// serves (browser-page-test.sh). SPEC (JSON): files [{name, url, sha256, bytes}], closedUrl (a
// port nothing listens on), bridgeLine (the bridge's own line), network (tools/testnet's
// network.json). Checks, one page load each: PAGE?fetch=URL ends with #sha256 = the file's
// SHA-256, #bytes = its size, #circuit = "bridge -> middle -> exit", "Bootstrapped 100%";
// a refused address fills #error; the closed port gives the "could not connect" text;
// ?bridge=<the line with a wrong fingerprint> shows a visible CERTS fingerprint error and a
// failed bootstrap. Then one tor exit relay is killed (SIGKILL: the consensus still lists it)
// and fetches are repeated on new identities in one page until one of them had a circuit
// attempt fail at the dead relay: it must have succeeded on another path (#retries says so),
// and no circuit may contain the dead relay. No CSP violation or page error in any of this.
// Usage: node browser-page-test.mjs PAGE SPEC
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [page0, specFile] = process.argv.slice(2);
const spec = JSON.parse(fs.readFileSync(specFile, 'utf8'));
const CHROMIUM = process.env.OM_CHROMIUM || '/usr/bin/chromium';
const RETRY_ROUNDS = 8; // fetches on new identities until one met the dead relay
let failed = 0;
const say = (good, name, extra) => {
  if (!good) failed = 1;
  console.log(`${good ? 'ok' : 'not ok'} - browser-page/${name}${extra ? (good ? ' # ' : ': ') + extra : ''}`);
};

const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'om-chromium-'));
const browser = await chromium.launchPersistentContext(userDir, {
  executablePath: CHROMIUM, headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--enable-precise-memory-info', '--js-flags=--expose-gc'],
});
const problems = [];

const done = () => document.getElementById('sha256').textContent ||
  document.getElementById('error').textContent;

async function read(page, t0) {
  const get = (id) => page.$eval('#' + id, (e) => e.textContent);
  return { sha256: await get('sha256'), bytes: await get('bytes'), circuit: await get('circuit'),
    error: await get('error'), bootstrap: await get('bootstrap'), retries: await get('retries'),
    errorVisible: await page.isVisible('#error'), ms: Date.now() - t0 };
}

async function newPage(query) {
  const page = await browser.newPage();
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push('csp: ' + m.text());
    if (m.type() === 'error') console.log('# console error: ' + m.text());
  });
  page.on('pageerror', (e) => problems.push('pageerror: ' + e.message));
  await page.goto(page0 + '?' + new URLSearchParams(query));
  return page;
}

// One page load fetching target; r.heapMax: the most live data the page's main-thread JS heap
// held while it ran (sampled every 200 ms right after a full GC, --expose-gc; Blob storage and
// the worker's heap are not in it).
async function open(target, extra = {}) {
  const t0 = Date.now();
  const page = await newPage({ ...extra, fetch: target });
  let heapMax = 0;
  while (!(await page.evaluate(done))) {
    if (Date.now() - t0 > 120000) throw new Error(`no result for ${target} in 120 s`);
    heapMax = Math.max(heapMax, await page.evaluate(() => {
      globalThis.gc?.();
      return performance.memory.usedJSHeapSize;
    }));
    await new Promise((res) => setTimeout(res, 200));
  }
  const r = { ...(await read(page, t0)), heapMax };
  await page.close();
  return r;
}

// Kills one tor exit relay of the testnet; returns its nickname.
function killExit() {
  const net = JSON.parse(fs.readFileSync(spec.network, 'utf8'));
  const victim = net.relays.find((r) => r.exit);
  process.kill(victim.pid, 'SIGKILL');
  return victim.nickname;
}

// In one page: fetch, and on new identities again, until a circuit attempt failed at `dead`.
async function retryRounds(file, dead) {
  const t0 = Date.now();
  const page = await newPage({ fetch: file.url });
  const rounds = [];
  for (let i = 0; i < RETRY_ROUNDS; i++) {
    if (i > 0) {
      await page.click('#newid');
      await page.fill('#url', file.url);
      await page.click('#fetch');
    }
    await page.waitForFunction(done, null, { timeout: 120000 });
    const r = await read(page, t0);
    rounds.push(r);
    if (r.retries.includes(`failed at ${dead}`)) break;
  }
  await page.close();
  return rounds;
}

try {
  for (const f of spec.files) {
    const r = await open(f.url);
    console.log(`# ${f.name}: ` + JSON.stringify(r));
    say(/^Bootstrapped 100%/.test(r.bootstrap), `bootstrapped_100_${f.name}`, r.bootstrap);
    say(r.sha256 === f.sha256 && r.bytes === f.bytes, `page_fetch_sha256_and_bytes_${f.name}`,
      `${r.bytes} bytes in ${r.ms} ms (page load included), sha256 ${r.sha256 || r.error}, ` +
      `page JS heap (live, after GC) at most ${(r.heapMax / 1048576).toFixed(1)} MiB`);
    say(/^bridge -> \S+ -> \S+$/.test(r.circuit), `page_shows_3_hop_circuit_${f.name}`, r.circuit);
  }
  const bad = await open('http://198.51.100.7:25/');
  console.log('# ' + JSON.stringify(bad));
  say(!bad.sha256 && bad.error.length > 0, 'refused_fetch_fills_error', bad.error);
  const closed = await open(spec.closedUrl);
  console.log('# ' + JSON.stringify(closed));
  say(!closed.sha256 && /could not connect to the destination \(refused or unreachable/
    .test(closed.error) && closed.errorVisible, 'closed_port_could_not_connect', closed.error);

  // ?bridge= with the bridge's own line works; with one fingerprint digit changed it fails.
  const right = await open(spec.files[0].url, { bridge: spec.bridgeLine });
  say(right.sha256 === spec.files[0].sha256 && /from \?bridge=|100%/.test(right.bootstrap),
    'bridge_param_with_the_right_line_works', right.error || right.circuit);
  const line = spec.bridgeLine.replace(/ ([0-9A-F]{40}) /, (m, fp) =>
    ` ${(fp[0] === 'A' ? 'B' : 'A') + fp.slice(1)} `);
  const wrong = await open(spec.files[0].url, { bridge: line });
  console.log('# wrong fingerprint: ' + JSON.stringify(wrong));
  say(!wrong.sha256 && wrong.errorVisible && wrong.error.length > 0 &&
    /^wrong bridge fingerprint: .*CERTS: identity [0-9A-F]{40} is not the pinned [0-9A-F]{40}.*\(certs\)$/
      .test(wrong.error) && /^Bootstrapped 0%: failed: .*\(certs\)$/.test(wrong.bootstrap),
  'wrong_fingerprint_visible_certs_error', wrong.error);

  const dead = killExit();
  console.log(`# killed tor exit relay ${dead}`);
  const rounds = await retryRounds(spec.files[0], dead);
  rounds.forEach((r, i) => console.log(`# round ${i + 1}: ` + JSON.stringify(r)));
  const last = rounds.at(-1);
  say(last.retries.includes(`failed at ${dead}`) && last.sha256 === spec.files[0].sha256 &&
    /circuit built on attempt [23]/.test(last.retries),
  'dead_relay_retried_on_another_path', `${rounds.length} round(s); ${last.retries}`);
  say(rounds.every((r) => r.sha256 === spec.files[0].sha256 && !r.error),
    'every_fetch_succeeded_with_a_relay_dead', rounds.map((r) => r.error).filter(Boolean).join(' | '));
  say(rounds.every((r) => !r.circuit.split(' -> ').includes(dead)),
    'no_circuit_through_the_dead_relay', rounds.map((r) => r.circuit).join(' | '));
  say(problems.length === 0, 'no_csp_violation_or_page_error', problems.join(' | '));
} catch (e) {
  say(false, 'page_run', e.message);
} finally {
  await browser.close();
  fs.rmSync(userDir, { recursive: true, force: true });
}
process.exit(failed);

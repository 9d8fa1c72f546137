// bench_browser_page.mjs — one load of the browser onion proxy's page for tools/bench/bench-browser:
// Debian's chromium (playwright-core) with the profile directory PROFILE (an empty one: no
// IndexedDB consensus cache; the same one again: the cache of the last load) opens
// PAGE?fetch=URL&path=MIDDLE,EXIT, waits for #sha256 or #error and prints one JSON line with the
// page's own performance marks (app.js), in ms since the navigation started:
//   {bootMs, fromCache, circuitMs, hopMs, circuit, startMs, firstByteMs, doneMs, bytes, sha256,
//    error, problems}
// Usage: node bench_browser_page.mjs PROFILE PAGE URL MIDDLE,EXIT
// OM_CPU_PROFILE=PREFIX: V8 CPU profiles (CDP Profiler) of the page and of its worker for the
// whole load, written to PREFIX-page.cpuprofile and PREFIX-worker.cpuprofile (cpu_top.mjs
// lists their top self-time entries).
import fs from 'node:fs';
import { chromium } from 'playwright-core';

const [profile, page0, url, pathNames] = process.argv.slice(2);
const CHROMIUM = process.env.OM_CHROMIUM || '/usr/bin/chromium';

const browser = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM, headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const out = { problems: [] };
try {
  const page = await browser.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy|Refused to/i.test(m.text()))
      out.problems.push('console: ' + m.text());
  });
  page.on('pageerror', (e) => out.problems.push('pageerror: ' + e.message));
  const prof = process.env.OM_CPU_PROFILE;
  let stopProfiles = async () => {};
  if (prof) stopProfiles = await startProfiles(browser, page, prof);
  // BENCH_PAGE_QUERY: more parameters for the page (e.g. "cc=0": fixed windows with the exit).
  const extra = process.env.BENCH_PAGE_QUERY ? `&${process.env.BENCH_PAGE_QUERY}` : '';
  const q = `?fetch=${encodeURIComponent(url)}&path=${encodeURIComponent(pathNames)}${extra}`;
  await page.goto(page0 + q);
  await page.waitForFunction(() => document.getElementById('sha256').textContent ||
    document.getElementById('error').textContent, null, { timeout: 900000, polling: 100 });
  Object.assign(out, await page.evaluate(() => {
    const get = (id) => document.getElementById(id).textContent;
    const marks = Object.fromEntries(performance.getEntriesByType('mark')
      .map((m) => [m.name, m]));
    const t = (n) => (marks[n] ? marks[n].startTime : null);
    const boot = marks['om-bootstrapped']?.detail || {};
    const circ = marks['om-circuit-built']?.detail || {};
    return { bootMs: boot.ms ?? null, bootEndMs: t('om-bootstrapped'), fromCache: !!boot.fromCache,
      circuitMs: circ.ms ?? null, hopMs: circ.hopMs || [], circuit: get('circuit'),
      startMs: t('om-fetch-start'), firstByteMs: t('om-first-byte'), doneMs: t('om-fetch-done'),
      bytes: Number(get('bytes')) || 0, sha256: get('sha256'), error: get('error') };
  }));
  await stopProfiles();
} catch (e) {
  out.error = (out.error ? out.error + '; ' : '') + e.message;
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));

// The page's profile through its own CDP session; the worker's through the same session's
// auto-attach (non-flat: Target.sendMessageToTarget), started before the page loads.
async function startProfiles(context, page, prefix) {
  const cdp = await context.newCDPSession(page);
  let nextId = 1;
  const waiting = new Map();
  let worker = null;
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    const m = JSON.parse(e.message);
    if (m.id && waiting.has(m.id)) waiting.get(m.id)(m.result);
  });
  const toWorker = (method, params = {}) => new Promise((res) => {
    const id = nextId++;
    waiting.set(id, res);
    cdp.send('Target.sendMessageToTarget', { sessionId: worker,
      message: JSON.stringify({ id, method, params }) });
  });
  const started = new Promise((res) => cdp.on('Target.attachedToTarget', async (e) => {
    if (e.targetInfo.type !== 'worker' || worker) return;
    worker = e.sessionId;
    await toWorker('Profiler.enable');
    await toWorker('Profiler.setSamplingInterval', { interval: 200 });
    await toWorker('Profiler.start');
    await toWorker('Runtime.runIfWaitingForDebugger');
    res();
  }));
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: true,
    flatten: false });
  return async () => {
    const p = await cdp.send('Profiler.stop');
    fs.writeFileSync(`${prefix}-page.cpuprofile`, JSON.stringify(p.profile));
    await started;
    const w = await toWorker('Profiler.stop');
    fs.writeFileSync(`${prefix}-worker.cpuprofile`, JSON.stringify(w.profile));
  };
}

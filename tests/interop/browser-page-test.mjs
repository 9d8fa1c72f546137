// browser-page-test.mjs — Debian's chromium (playwright-core) on the page an onionmesh bridge
// serves (browser-page-test.sh): PAGE?fetch=URL must end with #sha256 = the file's SHA-256,
// #bytes = its size, #circuit = "bridge -> middle -> exit", "Bootstrapped 100%", no CSP
// violation or page error; and PAGE?fetch=<a refused address> must fill #error.
// Usage: node browser-page-test.mjs PAGE URL SHA256 BYTES
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [page0, url, wantSha, wantBytes] = process.argv.slice(2);
const CHROMIUM = process.env.OM_CHROMIUM || '/usr/bin/chromium';
let failed = 0;
const say = (good, name, extra) => {
  if (!good) failed = 1;
  console.log(`${good ? 'ok' : 'not ok'} - browser-page/${name}${extra ? (good ? ' # ' : ': ') + extra : ''}`);
};

const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'om-chromium-'));
const browser = await chromium.launchPersistentContext(userDir, {
  executablePath: CHROMIUM, headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const problems = [];

async function open(target) {
  const page = await browser.newPage();
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push('csp: ' + m.text());
    if (m.type() === 'error') console.log('# console error: ' + m.text());
  });
  page.on('pageerror', (e) => problems.push('pageerror: ' + e.message));
  const t0 = Date.now();
  await page.goto(page0 + '?fetch=' + encodeURIComponent(target));
  await page.waitForFunction(() => document.getElementById('sha256').textContent ||
    document.getElementById('error').textContent, null, { timeout: 240000 });
  const get = (id) => page.$eval('#' + id, (e) => e.textContent);
  const r = { sha256: await get('sha256'), bytes: await get('bytes'), circuit: await get('circuit'),
    error: await get('error'), bootstrap: await get('bootstrap'), ms: Date.now() - t0 };
  await page.close();
  return r;
}

try {
  const r = await open(url);
  console.log('# ' + JSON.stringify(r));
  say(/^Bootstrapped 100%/.test(r.bootstrap), 'bootstrapped_100', r.bootstrap);
  say(r.sha256 === wantSha && r.bytes === wantBytes, 'page_fetch_sha256_and_bytes',
    `${r.bytes} bytes in ${r.ms} ms, sha256 ${r.sha256 || r.error}`);
  say(/^bridge -> \S+ -> \S+$/.test(r.circuit), 'page_shows_3_hop_circuit', r.circuit);
  const bad = await open('http://198.51.100.7:25/');
  console.log('# ' + JSON.stringify(bad));
  say(!bad.sha256 && bad.error.length > 0, 'refused_fetch_fills_error', bad.error);
  say(problems.length === 0, 'no_csp_violation_or_page_error', problems.join(' | '));
} catch (e) {
  say(false, 'page_run', e.message);
} finally {
  await browser.close();
  fs.rmSync(userDir, { recursive: true, force: true });
}
process.exit(failed);

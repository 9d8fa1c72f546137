// tools/demo-page.mjs — the demo's browser step (tools/demo): Debian's chromium (playwright-core,
// headless) opens the page an onionmesh bridge serves with ?fetch=URL and prints what the page
// shows: bootstrap, circuit, bytes and SHA-256 of the body (or its error). Exit 1 on an error or
// when the body's SHA-256 is not WANT_SHA256 (if given).
// Usage: node tools/demo-page.mjs PAGE_URL FETCH_URL [WANT_SHA256]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [pageUrl, target, want] = process.argv.slice(2);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'om-demo-chromium-'));
const browser = await chromium.launchPersistentContext(dir, {
  executablePath: process.env.OM_CHROMIUM || '/usr/bin/chromium', headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let rc = 1;
try {
  const page = await browser.newPage();
  await page.goto(pageUrl + '?fetch=' + encodeURIComponent(target));
  await page.waitForFunction(() => document.getElementById('sha256').textContent ||
    document.getElementById('error').textContent, null, { timeout: 180000 });
  const get = (id) => page.$eval('#' + id, (e) => e.textContent);
  const err = await get('error');
  console.log(`   ${await get('bootstrap')}`);
  if (err) {
    console.log(`   error: ${err}`);
  } else {
    const sha = await get('sha256');
    console.log(`   circuit ${await get('circuit')}: ${await get('bytes')} bytes, sha256 ${sha}`);
    rc = !want || sha === want ? 0 : 1;
    console.log(want ? (rc ? '   FAILED: not the page served' : '   byte-exact (same SHA-256 as the page served)') : '');
  }
} catch (e) {
  console.log(`   error: ${e.message}`);
} finally {
  await browser.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
process.exit(rc);

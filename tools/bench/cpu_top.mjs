// cpu_top.mjs — the top self-time entries of a V8 .cpuprofile (CDP Profiler.stop's profile, as
// bench_browser_page.mjs writes with OM_CPU_PROFILE): function, file:line, ms and share.
// Usage: node tools/bench/cpu_top.mjs FILE.cpuprofile [N=20]
import fs from 'node:fs';

const [file, n = '20'] = process.argv.slice(2);
const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((x) => [x.id, x]));
const self = new Map(); // node id -> µs
for (let i = 0; i < prof.samples.length; i++)
  self.set(prof.samples[i], (self.get(prof.samples[i]) || 0) + (prof.timeDeltas[i] || 0));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const rows = new Map(); // function@file:line -> µs
for (const [id, us] of self) {
  const f = byId.get(id).callFrame;
  const where = f.url ? `${f.url.split('/').pop()}:${f.lineNumber + 1}` : '';
  const k = `${f.functionName || '(anonymous)'} ${where}`.trim();
  rows.set(k, (rows.get(k) || 0) + us);
}
console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled`);
for (const [k, us] of [...rows].sort((a, b) => b[1] - a[1]).slice(0, Number(n)))
  console.log(`${(us / 1000).toFixed(0).padStart(7)} ms ${(100 * us / total).toFixed(1).padStart(5)}%  ${k}`);

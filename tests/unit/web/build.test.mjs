// build.test.mjs — tools/build-web: the directory a bridge serves (WebSocketWebRoot) holds every
// client module, and every static import in it resolves, as a browser would resolve it from the
// directory's own URL (relative imports only), to a file in it (the @noble modules under vendor/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const IMPORT = /^(\s*(?:(?:import|export)\b[^'";]*?\bfrom\s*|import\s*))(['"])([^'"]+)\2/gm;

function files(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]);
}

test('build-web lays out every module with resolvable imports', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'om-web-'));
  try {
    execFileSync(process.execPath, [path.join(root, 'tools/build-web'), out]);
    const all = files(out);
    for (const f of fs.readdirSync(path.join(root, 'src/bridge/web')))
      if (f.endsWith('.js')) assert.ok(fs.existsSync(path.join(out, f)), `${f} missing`);
    let imports = 0;
    for (const f of all.filter((x) => x.endsWith('.js'))) {
      const text = fs.readFileSync(f, 'utf8');
      for (const m of text.matchAll(IMPORT)) {
        const spec = m[3];
        imports++;
        assert.ok(spec.startsWith('./') || spec.startsWith('../'),
          `${path.relative(out, f)}: import "${spec}" is not relative`);
        const target = path.resolve(path.dirname(f), spec);
        assert.ok(target.startsWith(out + path.sep) && fs.existsSync(target),
          `${path.relative(out, f)}: "${spec}" does not resolve inside the served directory`);
      }
    }
    assert.ok(all.some((f) => f.includes(`${path.sep}vendor${path.sep}@noble${path.sep}`)));
    assert.ok(imports > 20);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

// snapshot.mjs — the tor 0.4.9 test-network documents of tests/data/testnet-snapshot (made by
// tor and tor-gencert, see its README.txt) and the facts the C tests pin about them, read from
// those C files so both languages check the same vectors: the authorities' v3 identities and
// signing-key digests (test_authcert.c), the nodes' RSA and Ed25519 identities
// (test_microdesc.c), the consensus' valid-after (test_consensus_certs.c).
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
export const doc = (name) =>
  new Uint8Array(fs.readFileSync(here(`../../data/testnet-snapshot/${name}`)));
const cfile = (name) => fs.readFileSync(here(`../${name}`), 'utf8');

const strings = (c, name) => {
  const m = new RegExp(`${name}\\[[0-9]*\\] = \\{([^;]*)\\};`).exec(c);
  return m[1].match(/"([^"]*)"/g).map((s) => s.slice(1, -1));
};
const A = cfile('test_authcert.c');
export const V3IDENTS = strings(A, 'v3ident_hex');
export const SIGNING = strings(A, 'signing_hex');
const M = strings(cfile('test_microdesc.c'), 'nodes');
export const NODES = [];
for (let i = 0; i < M.length; i += 3) NODES.push({ nick: M[i], fp: M[i + 1], ed64: M[i + 2] });
export const VALID_AFTER_MS =
  Number(/VALID_AFTER = (\d+);/.exec(cfile('test_consensus_certs.c'))[1]) * 1000;

const latin1 = new TextDecoder('latin1');
export const text = (b) => latin1.decode(b);
export const bytes = (s) => Uint8Array.from(s, (c) => c.charCodeAt(0));

// The n-th (0-based) occurrence of `from` replaced by `to`.
export function replaceNth(s, from, to, nth = 0) {
  let i = -1;
  for (let k = 0; k <= nth; k++) {
    i = s.indexOf(from, i + 1);
    if (i < 0) throw new Error(`"${from}" #${nth} not found`);
  }
  return s.slice(0, i) + to + s.slice(i + from.length);
}

// The directory-signature block (line and object) of authority `id` (hex).
export function sigBlock(s, id) {
  const m = new RegExp(`directory-signature (?:sha\\w+ )?${id} [0-9A-F]{40}\\n` +
    '-----BEGIN SIGNATURE-----\\n[^-]*-----END SIGNATURE-----\\n').exec(s);
  if (!m) throw new Error('no signature block for ' + id);
  return m[0];
}

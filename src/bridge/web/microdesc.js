// microdesc.js — microdescriptors (dir-spec 3.3): splitting a /tor/micro/d/ answer into
// descriptors (each starts at an "onion-key" line and runs to the next one), checking each
// one's SHA-256 against the digest a consensus m line asked for (a descriptor nobody asked for
// is dropped), and the fields a client needs: ntor-onion-key, "id ed25519", family and
// family-ids, and the exit policy summaries p / p6 (dir-spec 3.4.1 "p": "accept|reject
// PortList"), with a port check as tor's short-policy lookup does.
import { sha256 } from '@noble/hashes/sha2.js';
import { hex } from './bytes.js';
import { b64Exact, bytesToLatin1, hexId, tokenize } from './netdoc.js';

// "accept 80,443,6660-6669" -> {accept, ranges: [[lo, hi], ...]} (ranges ascending, disjoint).
export function parsePolicySummary(s) {
  const m = /^(accept|reject) ([0-9,-]+)$/.exec(s || '');
  if (!m) throw new Error(`microdesc: bad policy summary "${s}"`);
  const ranges = [];
  for (const part of m[2].split(',')) {
    const r = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part);
    if (!r) throw new Error(`microdesc: bad port range "${part}"`);
    const lo = Number(r[1]);
    const hi = r[2] === undefined ? lo : Number(r[2]);
    if (lo < 1 || hi > 65535 || lo > hi || (ranges.length && lo <= ranges.at(-1)[1]))
      throw new Error(`microdesc: bad port range "${part}"`);
    ranges.push([lo, hi]);
  }
  return { accept: m[1] === 'accept', ranges };
}

export function policyAllows(policy, port) {
  if (!policy) return false; // no summary: "reject 1-65535"
  const inList = policy.ranges.some(([lo, hi]) => port >= lo && port <= hi);
  return policy.accept ? inList : !inList;
}

function parseOne(bytes, items) {
  const md = { digest: sha256(bytes), ntorKey: null, edId: null, family: [], familyIds: [],
    policy: null, policy6: null };
  for (const it of items) {
    const a = it.args;
    const once = (k) => {
      if (md[k] !== null) throw new Error(`microdesc: ${it.kw} twice`);
    };
    if (it.kw === 'ntor-onion-key') {
      once('ntorKey');
      md.ntorKey = b64Exact(a[0].replace(/=+$/, ''), 32, 'ntor-onion-key');
    } else if (it.kw === 'id' && a[0] === 'ed25519') {
      once('edId');
      md.edId = b64Exact(a[1], 32, 'id ed25519');
    } else if (it.kw === 'family') {
      // $HEX fingerprints (optionally =Name / ~Name) and nicknames; keep the fingerprints.
      for (const f of a) {
        const m = /^\$([0-9A-Fa-f]{40})(?:[=~].*)?$/.exec(f);
        if (m) md.family.push(hex(hexId(m[1], 'family')).toUpperCase());
      }
    } else if (it.kw === 'family-ids') md.familyIds.push(...a);
    else if (it.kw === 'p') {
      once('policy');
      md.policy = parsePolicySummary(it.argStr);
    } else if (it.kw === 'p6') {
      once('policy6');
      md.policy6 = parsePolicySummary(it.argStr);
    }
  }
  if (!md.ntorKey) throw new Error('microdesc: no ntor-onion-key');
  return md;
}

// A /tor/micro/d/ answer (bytes) and the digests asked for (32-byte arrays) -> {found: Map
// hex(digest) -> md, errors: [...]}: only descriptors whose SHA-256 is one of `wanted` are kept.
export function parseMicrodescs(doc, wanted) {
  const want = new Set(wanted.map((d) => hex(d)));
  const s = bytesToLatin1(doc);
  const starts = [];
  for (let i = 0; i < s.length; i = s.indexOf('\n', i) + 1 || s.length) {
    if (s.startsWith('onion-key', i) && /[\s]/.test(s[i + 9] || '\n')) starts.push(i);
  }
  if (!starts.length && s.trim()) throw new Error('microdesc: no "onion-key" line');
  const found = new Map();
  const errors = [];
  for (let k = 0; k < starts.length; k++) {
    const bytes = doc.subarray(starts[k], k + 1 < starts.length ? starts[k + 1] : doc.length);
    const d = hex(sha256(bytes));
    if (!want.has(d)) {
      errors.push(`microdesc: a descriptor with digest ${d} nobody asked for`);
      continue;
    }
    try {
      found.set(d, parseOne(bytes, tokenize(bytes)));
    } catch (e) {
      errors.push(`microdesc ${d}: ${e.message}`);
    }
  }
  return { found, errors };
}

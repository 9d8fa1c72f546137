// directory.js — the client's directory bootstrap over a directory connection (in the browser,
// BEGIN_DIR streams to the bridge: dir.js): the microdesc consensus, the certificates of the
// pinned authorities that signed it (/tor/keys/fp-sk/ID-SK+...), its verification
// (consensus.js), the consensus cache (consensus_cache.js: a cached copy is verified again
// before use), then the microdescriptors the consensus lists (/tor/micro/d/D1-D2-..., in
// batches), each checked against its m line digest, and the nodes path.js chooses from.
import { hex } from './bytes.js';
import { parseAuthCerts } from './authcert.js';
import { parseConsensus, verifyConsensus, wantedCerts } from './consensus.js';
import { CONSENSUS_MICRODESC_PATH, dirGet } from './dir.js';
import { parseMicrodescs } from './microdesc.js';
import { buildNodes } from './path.js';

const FLAVOR = 'microdesc';
// An onionmesh bridge answers paths of up to 1 KiB: 13 + 44 * 22 < 1024.
export const MD_BATCH = 20;
export const MD_PARALLEL = 4;

const b64 = (b) => btoa(String.fromCharCode(...b)).replace(/=+$/, '');

// A directory GET over fresh BEGIN_DIR streams of circ: path -> body, non-200 is an error.
export function circuitGetter(circ, onProgress) {
  return async (path) => {
    const r = await dirGet(circ, path, onProgress);
    if (r.status !== 200)
      throw new Error(`directory: ${path.slice(0, 40)}: ${r.status} ${r.reason}`);
    return r.body;
  };
}

function keepPinned(certs, pinned) {
  const ids = new Set(pinned);
  return certs.filter((c) => ids.has(c.idHex));
}

const pinHex = (p) => (typeof p === 'string' ? p : hex(p)).toUpperCase();

// get(path) -> body bytes. opts: authorities (pinned v3 identity fingerprints, hex; required),
// cache (consensus_cache.js; optional), now (ms), skew / certSkew (consensus.js), batch and
// parallel (microdesc digests per request, requests at once),
// onEvent({type: 'dir', ...}). Returns {consensus, verification, fromCache, microdescs (Map),
// nodes, stats}; throws if the consensus does not verify.
export async function loadDirectory(get, opts) {
  const pinned = (opts.authorities || []).map(pinHex);
  const now = opts.now ?? Date.now();
  const vopts = { now, skew: opts.skew, certSkew: opts.certSkew };
  const ev = opts.onEvent || (() => {});
  const stats = { consensusBytes: 0, certBytes: 0, mdBytes: 0, mdRequests: 0 };
  let consensus = null;
  let verification = null;
  let fromCache = false;
  let cacheError = null;

  if (opts.cache) {
    const e = await opts.cache.get(FLAVOR);
    if (e && now <= e.validUntil) {
      try {
        const c = parseConsensus(new Uint8Array(e.consensus));
        const certs = keepPinned(parseAuthCerts(new Uint8Array(e.certs)).certs, pinned);
        verification = verifyConsensus(c, certs, pinned, vopts);
        consensus = c;
        fromCache = true;
        ev({ type: 'dir', what: 'consensus-from-cache', validUntil: c.validUntil });
      } catch (err) {
        cacheError = err.message; // a bad or foreign cache entry: fetch anew
      }
    }
  }
  if (!consensus) {
    const body = await get(CONSENSUS_MICRODESC_PATH);
    stats.consensusBytes = body.length;
    const c = parseConsensus(body);
    if (c.flavor !== FLAVOR) throw new Error(`consensus: flavour ${c.flavor}, asked for ${FLAVOR}`);
    const want = wantedCerts(c, pinned);
    if (!want.length)
      throw new Error('consensus: no signature from any pinned authority (' +
        `${c.signatures.length} signatures)`);
    const kb = await get('/tor/keys/fp-sk/' + want.join('+'));
    stats.certBytes = kb.length;
    const parsed = parseAuthCerts(kb);
    const certs = keepPinned(parsed.certs, pinned);
    verification = verifyConsensus(c, certs, pinned, vopts);
    verification.certErrors = parsed.errors;
    consensus = c;
    ev({ type: 'dir', what: 'consensus-verified', good: verification.good.length,
      of: verification.of });
    if (opts.cache)
      await opts.cache.put({ flavor: FLAVOR, validAfter: c.validAfter, validUntil: c.validUntil,
        freshUntil: c.freshUntil, consensus: body, certs: kb });
  }

  const digests = consensus.routers.map((r) => r.mdDigest);
  const microdescs = new Map();
  const mdErrors = [];
  const batch = opts.batch || MD_BATCH;
  const batches = [];
  for (let i = 0; i < digests.length; i += batch) batches.push(digests.slice(i, i + batch));
  // A few requests at once, each on its own BEGIN_DIR stream of the same circuit.
  const worker = async () => {
    for (let part; (part = batches.shift()); ) {
      let body;
      try {
        body = await get('/tor/micro/d/' + part.map(b64).join('-'));
      } catch (err) {
        mdErrors.push(err.message);
        continue;
      }
      stats.mdRequests++;
      stats.mdBytes += body.length;
      const r = parseMicrodescs(body, part);
      for (const [k, v] of r.found) microdescs.set(k, v);
      mdErrors.push(...r.errors);
    }
  };
  await Promise.all(Array.from({ length: opts.parallel || MD_PARALLEL }, worker));
  stats.microdescs = microdescs.size;
  stats.missingMicrodescs = digests.filter((d) => !microdescs.has(hex(d))).length;
  ev({ type: 'dir', what: 'microdescs', have: microdescs.size, of: digests.length });
  return { consensus, verification, fromCache, cacheError, microdescs, mdErrors,
    nodes: buildNodes(consensus, microdescs), stats };
}

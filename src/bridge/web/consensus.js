// consensus.js — the network status consensus (dir-spec 3.4.1), microdesc flavour (and the
// ns flavour's router lines): parsing the header (valid-after / fresh-until / valid-until,
// known-flags, params, dir-source), the router entries (r, a, m, s, v, pr, w, p), the footer
// (bandwidth-weights, directory-signature with sha1 or sha256), and verifying it as a tor
// client does ("Verifying the consensus"): each signature is checked against the certificate
// of the identity it claims, for that signing-key digest, over the digest of the signed part
// (from "network-status-version" through the space after the first "directory-signature");
// the consensus is accepted only if more than half of the pinned authorities signed validly,
// and only within its lifetime plus the clock tolerance.
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { hex, unhex } from './bytes.js';
import { certTimeProblem } from './authcert.js';
import { b64Exact, formatTime, hexId, parseTime, tokenize } from './netdoc.js';
import { rsaVerifyRawDigest } from './rsa.js';
import { equalCt } from './bytes.js';

// tor's REASONABLY_LIVE_TIME / NETWORKSTATUS_ALLOW_SKEW: a day either way.
export const CONSENSUS_SKEW_MS = 24 * 3600 * 1000;

function kvInts(args, what) {
  const out = {};
  for (const a of args) {
    const m = /^([^=]+)=(-?\d+)$/.exec(a);
    if (!m) throw new Error(`consensus: bad ${what} entry "${a}"`);
    out[m[1]] = Number(m[2]);
  }
  return out;
}

function ipv4(s, what) {
  const p = (s || '').split('.');
  if (p.length !== 4 || p.some((x) => !/^\d{1,3}$/.test(x) || Number(x) > 255))
    throw new Error(`consensus: bad IPv4 address in ${what}`);
  return s;
}

function port(s, what) {
  if (!/^\d{1,5}$/.test(s || '') || Number(s) > 65535)
    throw new Error(`consensus: bad port in ${what}`);
  return Number(s);
}

// Bytes of a consensus -> parsed object (throws on anything malformed).
export function parseConsensus(doc) {
  const items = tokenize(doc);
  const first = items[0];
  if (!first || first.kw !== 'network-status-version' || first.args[0] !== '3')
    throw new Error('consensus: does not start with "network-status-version 3"');
  const flavor = first.args[1] || 'ns';
  if (flavor !== 'microdesc' && flavor !== 'ns')
    throw new Error('consensus: unknown flavour ' + flavor);
  const c = { flavor, params: {}, knownFlags: [], dirSources: [], routers: [],
    bandwidthWeights: {}, signatures: [] };
  let r = null;
  let section = 'header';
  const once = new Set();
  const needOnce = (it) => {
    if (once.has(it.kw)) throw new Error(`consensus: line ${it.lineNo}: ${it.kw} twice`);
    once.add(it.kw);
  };
  for (const it of items.slice(1)) {
    const a = it.args;
    if (section === 'signatures' && it.kw !== 'directory-signature')
      throw new Error(`consensus: line ${it.lineNo}: ${it.kw} after the signatures`);
    if (it.obj && it.kw !== 'directory-signature')
      throw new Error(`consensus: line ${it.lineNo}: unexpected object`);
    switch (it.kw) {
      case 'vote-status':
        needOnce(it);
        if (a[0] !== 'consensus') throw new Error('consensus: vote-status is not "consensus"');
        break;
      case 'consensus-method':
        needOnce(it);
        c.method = Number(a[0]);
        break;
      case 'valid-after':
      case 'fresh-until':
      case 'valid-until':
        needOnce(it);
        c[{ 'valid-after': 'validAfter', 'fresh-until': 'freshUntil',
          'valid-until': 'validUntil' }[it.kw]] = parseTime(a[0], a[1]);
        break;
      case 'known-flags':
        needOnce(it);
        c.knownFlags = a;
        break;
      case 'params':
        needOnce(it);
        c.params = kvInts(a, 'params');
        break;
      case 'dir-source':
        if (section !== 'header') throw new Error('consensus: dir-source after the routers');
        if (a.length < 6) throw new Error('consensus: short dir-source');
        c.dirSources.push({ nickname: a[0], identity: hexId(a[1], 'dir-source'),
          address: a[2], ip: a[3], dirPort: Number(a[4]), orPort: Number(a[5]) });
        break;
      case 'r': {
        if (section === 'footer') throw new Error('consensus: r after directory-footer');
        section = 'routers';
        const ns = flavor === 'ns';
        if (a.length < (ns ? 8 : 7)) throw new Error(`consensus: line ${it.lineNo}: short r`);
        const o = ns ? 1 : 0;
        r = { nickname: a[0], rsaId: b64Exact(a[1], 20, 'r identity'),
          published: parseTime(a[2 + o], a[3 + o]), ip: ipv4(a[4 + o], 'r'),
          orPort: port(a[5 + o], 'r'), dirPort: port(a[6 + o], 'r'), flags: new Set(),
          bandwidth: 0, mdDigest: null, ipv6: [], version: null, protocols: null, policy: null };
        if (ns) r.descDigest = b64Exact(a[2], 20, 'r digest');
        c.routers.push(r);
        break;
      }
      case 'a':
      case 'm':
      case 's':
      case 'v':
      case 'pr':
      case 'w':
      case 'p':
        if (!r || section !== 'routers')
          throw new Error(`consensus: line ${it.lineNo}: ${it.kw} outside a router entry`);
        if (it.kw === 'a') r.ipv6.push(a[0]);
        else if (it.kw === 'm') {
          if (flavor !== 'microdesc') break; // ns votes list methods here; not in consensuses
          if (r.mdDigest) throw new Error(`consensus: line ${it.lineNo}: second m`);
          r.mdDigest = b64Exact(a[0], 32, 'm');
        } else if (it.kw === 's') r.flags = new Set(a);
        else if (it.kw === 'v') r.version = it.argStr;
        else if (it.kw === 'pr') r.protocols = it.argStr;
        else if (it.kw === 'p') r.policy = it.argStr;
        else {
          const w = {};
          for (const x of a) {
            const m = /^([A-Za-z]+)=(\d+)$/.exec(x);
            if (m) w[m[1]] = Number(m[2]);
          }
          if (w.Bandwidth === undefined) throw new Error(`consensus: line ${it.lineNo}: w`);
          r.bandwidth = w.Bandwidth;
          r.unmeasured = w.Unmeasured === 1;
        }
        break;
      case 'directory-footer':
        needOnce(it);
        section = 'footer';
        break;
      case 'bandwidth-weights':
        if (section !== 'footer') throw new Error('consensus: bandwidth-weights outside footer');
        needOnce(it);
        c.bandwidthWeights = kvInts(a, 'bandwidth-weights');
        break;
      case 'directory-signature': {
        if (section !== 'footer' && section !== 'signatures')
          throw new Error('consensus: directory-signature before directory-footer');
        if (section === 'footer') {
          // The signed part ends with "directory-signature " of the first signature.
          const sig = 'directory-signature ';
          const head = new TextDecoder().decode(doc.subarray(it.start, it.start + sig.length));
          if (head !== sig) throw new Error('consensus: first directory-signature is not plain');
          const signed = doc.subarray(0, it.start + sig.length);
          c.signedDigest = { sha1: sha1(signed), sha256: sha256(signed) };
        }
        section = 'signatures';
        const alg = a.length >= 3 ? a[0] : 'sha1';
        const [id, sk] = a.length >= 3 ? a.slice(1) : a;
        if (!it.obj || it.obj.type !== 'SIGNATURE')
          throw new Error(`consensus: line ${it.lineNo}: directory-signature without SIGNATURE`);
        c.signatures.push({ alg, identity: hexId(id, 'directory-signature'),
          signingKeyDigest: hexId(sk, 'directory-signature'), signature: it.obj.data });
        break;
      }
      default:
        break; // other header items (client-versions, shared-rand-..., contact, ...)
    }
  }
  for (const k of ['validAfter', 'freshUntil', 'validUntil'])
    if (c[k] === undefined) throw new Error('consensus: missing ' + k);
  if (!(c.validAfter < c.freshUntil && c.freshUntil <= c.validUntil))
    throw new Error('consensus: valid-after < fresh-until <= valid-until does not hold');
  if (!c.signatures.length) throw new Error('consensus: no directory-signature');
  if (flavor === 'microdesc')
    for (const x of c.routers) if (!x.mdDigest) throw new Error(`consensus: ${x.nickname}: no m`);
  return c;
}

const idHex = (b) => hex(b).toUpperCase();

function authorityName(c, idh) {
  const d = c.dirSources.find((s) => idHex(s.identity) === idh);
  return d ? `${d.nickname} ${idh}` : idh;
}

// Verifies c with the certificates (authcert.js, already checked) against the pinned v3
// identities (hex strings or 20-byte arrays). opts: now (ms), skew (ms, consensus lifetime),
// certSkew (ms; tor counts a signature whose certificate has expired as missing: 0).
// Returns {good: [names], need, problems: [..]}; throws Error if it does not verify.
export function verifyConsensus(c, certs, pinned, opts = {}) {
  const now = opts.now ?? Date.now();
  const skew = opts.skew ?? CONSENSUS_SKEW_MS;
  const certSkew = opts.certSkew ?? 0;
  if (!pinned || !pinned.length) throw new Error('consensus: no pinned authorities');
  if (now < c.validAfter - skew)
    throw new Error(`consensus: not valid until ${formatTime(c.validAfter)} (now ` +
      `${formatTime(now)}, allowed skew ${skew / 1000}s)`);
  if (now > c.validUntil + skew)
    throw new Error(`consensus: expired at ${formatTime(c.validUntil)} (now ` +
      `${formatTime(now)}, allowed skew ${skew / 1000}s)`);
  const ids = [...new Set(pinned.map((p) => (typeof p === 'string' ? p : idHex(p))
    .toUpperCase()))];
  for (const id of ids) if (!/^[0-9A-F]{40}$/.test(id)) throw new Error('bad pinned id ' + id);
  const ORDER = ['no signature from', 'no certificate for the signing key of',
    'expired certificate of', 'forged or bad signature by'];
  const good = [];
  const problems = [];
  for (const id of ids) {
    const idb = unhex(id);
    let worst = -1;
    let ok = false;
    for (const s of c.signatures) {
      if (!equalCt(s.identity, idb)) continue;
      const digest = s.alg === 'sha256' ? c.signedDigest.sha256
        : s.alg === 'sha1' ? c.signedDigest.sha1 : null;
      if (!digest) continue; // an algorithm we do not know: ignored, as tor does
      const cert = certs.find((k) => equalCt(k.v3ident, idb) &&
        equalCt(k.signingDigest, s.signingKeyDigest));
      if (!cert) {
        worst = Math.max(worst, 1);
        continue;
      }
      if (certTimeProblem(cert, now, certSkew)) {
        worst = Math.max(worst, 2);
        continue;
      }
      if (rsaVerifyRawDigest(cert.signingKey, digest, s.signature)) {
        ok = true;
        break;
      }
      worst = Math.max(worst, 3);
    }
    if (ok) good.push(authorityName(c, id));
    else problems.push(`${ORDER[Math.max(worst, 0)]} ${authorityName(c, id)}`);
  }
  const need = Math.floor(ids.length / 2) + 1;
  if (good.length < need)
    throw new Error(`consensus: only ${good.length} of ${ids.length} pinned authorities signed ` +
      `validly, need ${need} (${problems.join('; ')})`);
  return { good, need, of: ids.length, problems };
}

// The identities (hex) and signing-key digests (hex) a consensus' signatures name, for the
// pinned authorities only: what to ask /tor/keys/fp-sk/ for.
export function wantedCerts(c, pinned) {
  const ids = new Set(pinned.map((p) => (typeof p === 'string' ? p : idHex(p)).toUpperCase()));
  const out = [];
  for (const s of c.signatures)
    if (ids.has(idHex(s.identity))) out.push(`${idHex(s.identity)}-${idHex(s.signingKeyDigest)}`);
  return [...new Set(out)];
}

// path.js — path selection for a three-hop circuit whose first hop is the bridge (path-spec
// 2.1-2.2): the exit first (Exit and not BadExit, an exit policy summary that accepts the
// port), then the middle; both Running, Valid, with a microdescriptor that has an ntor key,
// Fast preferred (tor falls back to non-Fast when nothing else qualifies), each chosen at
// random in proportion to its consensus bandwidth times the bandwidth-weight for its position
// and flags (Wee/Wed for exits; Wmm/Wmg/Wme/Wmd for middles; bwweightscale). No two hops are
// the same relay, in the same /16 (tor's EnforceDistinctSubnets; TestingTorNetwork turns it
// off: opts.distinctSubnets = false) or in one declared family (each lists the other in
// "family", or they share a family-ids entry). Each hop carries its consensus "pr" line
// (protocols) and whether it offers ntor-v3 (ntorV3: Relay=4 and an Ed25519 identity).
import { hex } from './bytes.js';
import { policyAllows } from './microdesc.js';
import { offersNtorV3 } from './protover.js';

function randomUnit() {
  const b = new Uint32Array(2);
  crypto.getRandomValues(b);
  return (b[0] * 2 ** 21 + (b[1] >>> 11)) / 2 ** 53;
}

// The routers of a verified consensus joined with their microdescriptors (Map hex digest -> md).
export function buildNodes(consensus, mds) {
  const out = [];
  for (const r of consensus.routers) {
    const md = mds.get(hex(r.mdDigest));
    if (md) out.push({ ...r, idHex: hex(r.rsaId).toUpperCase(), md });
  }
  return out;
}

function weight(consensus, n, pos) {
  const w = consensus.bandwidthWeights || {};
  const scale = consensus.params?.bwweightscale || 10000;
  const g = n.flags.has('Guard');
  const e = n.flags.has('Exit') && !n.flags.has('BadExit');
  let k;
  if (pos === 'exit') k = g ? 'Wed' : 'Wee';
  else k = g && e ? 'Wmd' : g ? 'Wmg' : e ? 'Wme' : 'Wmm';
  const f = w[k] === undefined ? scale : w[k]; // no weights: plain bandwidth
  return n.bandwidth * (f / scale);
}

function slash16(ip) {
  return ip ? ip.split('.').slice(0, 2).join('.') : null;
}

// Is a related to b (same relay, same /16, or one family)? b may be the bridge: {idHex, ip}.
export function related(a, b, distinctSubnets) {
  if (a.idHex === b.idHex) return true;
  if (distinctSubnets && a.ip && b.ip && slash16(a.ip) === slash16(b.ip)) return true;
  if (a.md && b.md) {
    if (a.md.family.includes(b.idHex) && b.md.family.includes(a.idHex)) return true;
    if (a.md.familyIds.some((f) => b.md.familyIds.includes(f))) return true;
  }
  return false;
}

// One node of `cands` at random, weighted; uniform if every weight is zero (as tor does).
export function chooseWeighted(consensus, cands, pos, rand = randomUnit) {
  if (!cands.length) return null;
  const ws = cands.map((n) => weight(consensus, n, pos));
  const total = ws.reduce((x, y) => x + y, 0);
  if (total <= 0) return cands[Math.floor(rand() * cands.length)];
  let t = rand() * total;
  for (let i = 0; i < cands.length; i++) {
    if (ws[i] <= 0) continue;
    if (t < ws[i]) return cands[i];
    t -= ws[i];
  }
  return cands.filter((_, i) => ws[i] > 0).at(-1);
}

export function toHop(n) {
  return { nickname: n.nickname, rsaId: n.rsaId, ntorKey: n.md.ntorKey, edId: n.md.edId,
    ip: n.ip, orPort: n.orPort, protocols: n.protocols,
    ntorV3: offersNtorV3(n.protocols, n.md.edId) };
}

// A fixed path named by the user (nicknames or hex fingerprints, "$" allowed), looked up in
// nodes (buildNodes() of the verified consensus): the hops [..., exit], the exit with its IPv6
// policy summary. Throws when a name is unknown or (a nickname) ambiguous.
export function namedPath(nodes, names) {
  return names.map((name) => {
    const id = name.replace(/^\$/, '').toUpperCase();
    let found = nodes.filter((n) => n.idHex === id);
    if (!found.length) found = nodes.filter((n) => n.nickname === name);
    if (found.length !== 1)
      throw new Error(`path: ${name} is ${found.length ? 'ambiguous' : 'not'} in the verified ` +
        'consensus (with a microdescriptor)');
    return { ...toHop(found[0]), policy6: found[0].md.policy6 };
  });
}

// consensus: verified; nodes: buildNodes(); bridge: {rsaId (20 bytes) | idHex, ip}; opts:
// port (the target port, default 80), distinctSubnets (default true), rand () -> [0, 1),
// exclude (a Set of upper-case hex RSA identities never chosen: relays a build failed to reach).
// Returns [middle, exit] as hop objects; throws when no usable relay is left.
export function choosePath(consensus, nodes, bridge, opts = {}) {
  const port = opts.port ?? 80;
  const subnets = opts.distinctSubnets ?? true;
  const first = { idHex: bridge.idHex || hex(bridge.rsaId).toUpperCase(), ip: bridge.ip || null,
    md: null };
  const usable = nodes.filter((n) => n.flags.has('Running') && n.flags.has('Valid') &&
    n.md && n.md.ntorKey && !(opts.exclude && opts.exclude.has(n.idHex)));
  const pick = (pos, ok, chosen) => {
    const base = usable.filter((n) => ok(n) && chosen.every((c) => !related(n, c, subnets)));
    const fast = base.filter((n) => n.flags.has('Fast'));
    return chooseWeighted(consensus, fast.length ? fast : base, pos, opts.rand);
  };
  const exit = pick('exit', (n) => n.flags.has('Exit') && !n.flags.has('BadExit') &&
    policyAllows(n.md.policy, port), [first]);
  if (!exit) throw new Error(`path: no usable exit allows port ${port}`);
  const middle = pick('middle', () => true, [first, exit]);
  if (!middle)
    throw new Error(`path: no usable middle relay unrelated to the bridge and ${exit.nickname}`);
  return [toHop(middle), toHop(exit)];
}

// client.js — the steps this slice of the browser client runs, in order, with progress events:
// parse the bridge line, open the link (CERTS checked against the pinned fingerprint), build a
// one-hop circuit to the bridge with CREATE2 ntor on the line's key, and fetch the
// microdescriptor consensus over BEGIN_DIR. Each failure says at which stage it happened.
// TorClient is the client of issue 13's API: one link to the bridge, circuits bridge -> the
// hops of a path -> exit built on demand, om.fetch(url) over an exit stream (http.js), and
// newIdentity() (later fetches get a new circuit; the old one closes when its streams end).
// Paths come from opts.selectPath(ctx) -> [hop, ..., exitHop] (hop objects {nickname, rsaId,
// ntorKey, ip, orPort, edId?}); opts.directory = {authorities (pinned v3 identities, hex),
// distinctSubnets, cache: 'idb' | 'memory', path?} has connect() load and verify the directory
// over BEGIN_DIR to the bridge (directory.js) and each new circuit take path.js's choice for the
// port of the fetch that builds it (or, with directory.path = [name, ...], those relays of the
// verified consensus: path.js namedPath); opts.paths (cycled at each new identity) or opts.path give
// fixed paths instead.
// The bridge hop gets ntor-v3 when the bridge offers it: its Ed25519 identity is the one the
// CERTS chain proved (link.identity), its protocols the "proto" line of the descriptor it serves
// itself at /tor/server/authority over BEGIN_DIR (as tor's bridge clients fetch it), read on the
// directory circuit; opts.bridgeProtocols gives them instead (e.g. with fixed paths).
// The exit of each circuit is asked for congestion control (prop 324, congestion.js) as tor's
// client asks it: when the verified consensus's cc_alg is not 0 (with fixed paths: no consensus,
// tor's defaults) and the exit offers FlowCtrl=2 and ntor-v3; opts.congestionControl = false
// keeps fixed windows.
// opts.minCells: keep fetching the consensus over the same circuit (a new stream each time)
// until that many DATA cells came, so that the download outlasts the 1000-cell circuit window
// and only completes if the relay accepted our SENDME v1 cells (tor-spec 7.3).
import { parseBridgeLine } from './bridge_line.js';
import { Circuit, CircuitError, StreamError, wantsNtorV3 } from './circuit.js';
import { ccParams, offersCc } from './congestion.js';
import { httpRequest } from './http.js';
import { circuitGetter, loadDirectory } from './directory.js';
import { choosePath, namedPath } from './path.js';
import { idbCache, memoryCache } from './consensus_cache.js';
import { fetchConsensusMicrodesc } from './dir.js';
import { Link } from './link.js';
import { hex } from './bytes.js';
import { dirGet } from './dir.js';
import { sha256 } from '@noble/hashes/sha2.js';

// Circuit builds (path-spec 2.4, as tor's client does it): a failed CREATE2/EXTEND2, a
// TRUNCATED or DESTROY while building, or a handshake that timed out gives up that circuit and
// builds another, avoiding the relay that could not be reached, up to BUILD_ATTEMPTS times in
// all; then the last failure is reported (with .attempts). Streams refused with END are not
// retried.
const BUILD_ATTEMPTS = 3;
const RETRY_STAGES = new Set(['create', 'extend', 'circuit']);

export async function bootstrapConsensus(bridgeLine, onEvent = () => {}, opts = {}) {
  const result = { stage: 'bridge-line' };
  let link = null;
  try {
    const bridge = parseBridgeLine(bridgeLine);
    result.stage = 'link';
    link = new Link(bridge, { onEvent });
    const l = await link.open();
    result.linkProto = l.linkProto;
    result.certs = { ok: true, rsaFingerprint: l.identity.rsaFingerprint };
    result.stage = 'create';
    const circ = new Circuit(link, { onEvent });
    const c = await circ.create(bridge.rsaId, bridge.ntorKey);
    result.create2 = { ok: true, ntorAuthOk: true, ms: c.ms };
    result.stage = 'consensus';
    const t0 = performance.now();
    const body = await fetchConsensusMicrodesc(circ, (n) =>
      onEvent({ type: 'progress', what: 'consensus', bytes: n }));
    result.consensus = { body, bytes: body.length, ms: performance.now() - t0 };
    result.refetches = [];
    while (circ.stats.dataCells < (opts.minCells || 0)) {
      const again = await fetchConsensusMicrodesc(circ);
      result.refetches.push({ bytes: again.length, sha256: hex(sha256(again)) });
    }
    result.flow = { ...circ.stats };
    circ.destroy();
    result.stage = 'done';
    result.ok = true;
  } catch (e) {
    result.ok = false;
    result.error = e.message;
    if (e.stage) result.errorStage = e.stage;
  } finally {
    if (link) link.close();
  }
  return result;
}

// A hop's key in the set of relays a retry avoids: its RSA identity, upper-case hex.
const hopKey = (h) => (h && h.rsaId ? hex(h.rsaId).toUpperCase() : null);

// Fixed paths: the identity's, or on a retry the next one (cycling) without an avoided relay;
// null when every path has one (no other path to try).
function pathChooser(opts) {
  if (opts.selectPath) return opts.selectPath;
  const paths = opts.paths || (opts.path ? [opts.path] : null);
  if (!paths || !paths.length) return null;
  return ({ identity, avoid }) => {
    for (let k = 0; k < paths.length; k++) {
      const p = paths[(identity + k) % paths.length];
      if (!avoid || p.every((h) => !avoid.has(hopKey(h)))) return p;
    }
    return null;
  };
}

export class TorClient {
  constructor(bridgeLine, opts = {}) {
    this.bridge = parseBridgeLine(bridgeLine);
    this.opts = opts;
    this.onEvent = opts.onEvent || (() => {});
    this.selectPath = pathChooser(opts);
    this.link = null;
    this.circ = null; // the circuit of the current identity (a promise while it is built)
    this.retired = new Set();
    this.identity = 0;
    this.bridgeProtocols = opts.bridgeProtocols ?? null;
  }

  // The bridge as a hop for Circuit.create: the CERTS-verified Ed25519 identity and what we
  // know of its protocols (ntor-v3 when they list Relay=4).
  bridgeHop() {
    return { nickname: 'bridge', edId: this.link?.identity?.edIdentity,
      protocols: this.bridgeProtocols };
  }

  // The "proto" line of the bridge's own descriptor (GET /tor/server/authority over BEGIN_DIR on
  // a circuit to the bridge); null when it has none or the fetch fails (then ntor).
  async fetchBridgeProtocols(circ) {
    try {
      const r = await dirGet(circ, '/tor/server/authority');
      if (r.status !== 200) return null;
      const m = /^proto (.*)$/m.exec(new TextDecoder().decode(r.body));
      return m ? m[1].trim() : null;
    } catch {
      return null;
    }
  }

  static async connect(bridgeLine, opts = {}) {
    const c = new TorClient(bridgeLine, opts);
    await c.openLink();
    if (opts.directory && !c.selectPath) await c.loadDirectory(opts.directory);
    return c;
  }

  // The verified consensus and microdescs over a one-hop circuit to the bridge; then paths are
  // chosen from them.
  async loadDirectory(o) {
    const circ = new Circuit(this.link, { onEvent: this.onEvent, timeoutMs: this.opts.timeoutMs });
    try {
      await circ.create(this.bridge.rsaId, this.bridge.ntorKey, this.bridgeHop());
      if (this.bridgeProtocols === null)
        this.bridgeProtocols = await this.fetchBridgeProtocols(circ);
      const cache = o.cache === 'idb' && globalThis.indexedDB ? idbCache() : memoryCache();
      this.dir = await loadDirectory(circuitGetter(circ), { authorities: o.authorities, cache,
        now: o.now, onEvent: this.onEvent });
    } catch (e) {
      throw new CircuitError('directory', e.message);
    } finally {
      circ.destroy();
    }
    this.selectPath = ({ port, avoid }) => {
      try {
        if (o.path) return namedPath(this.dir.nodes, o.path);
        const hops = choosePath(this.dir.consensus, this.dir.nodes, this.bridge,
          { port, distinctSubnets: o.distinctSubnets, exclude: avoid });
        // The exit's IPv6 policy summary decides BEGIN's flags (relay_bodies.beginFlags).
        const id = hex(hops.at(-1).rsaId);
        hops.at(-1).policy6 = this.dir.nodes.find((n) => hex(n.rsaId) === id)?.md?.policy6;
        return hops;
      } catch (e) {
        throw new CircuitError('path', e.message);
      }
    };
    const v = this.dir.verification;
    return { good: v.good, need: v.need, routers: this.dir.consensus.routers.length,
      fromCache: this.dir.fromCache };
  }

  async openLink() {
    if (this.link && !this.link.closed) return this.link;
    this.link = new Link(this.bridge, { onEvent: this.onEvent });
    await this.link.open();
    return this.link;
  }

  // The circuit of the current identity, built bridge -> path if there is none (or it closed).
  async circuit(port = 80) {
    if (this.circ) {
      const c = await this.circ;
      if (!c.closed) return c;
      this.circ = null;
    }
    const build = this.buildCircuit(port);
    this.circ = build;
    try {
      return await build;
    } catch (e) {
      if (this.circ === build) this.circ = null;
      throw e;
    }
  }

  // Builds the identity's circuit, retrying on another path when a build fails (BUILD_ATTEMPTS,
  // or opts.buildAttempts). Each attempt is a 'circuit' event: step 'attempt' {attempt, of,
  // path}, then 'built' or 'failed' {attempt, of, path, failedHop, stage, reason}.
  async buildCircuit(port) {
    if (!this.selectPath)
      throw new CircuitError('path', 'no path: give opts.directory, opts.path or opts.paths');
    const max = Math.max(1, this.opts.buildAttempts || BUILD_ATTEMPTS);
    const avoid = new Set(); // RSA identities (hex) of hops that failed
    const attempts = [];
    let last = null;
    for (let attempt = 1; attempt <= max; attempt++) {
      let path;
      try {
        path = await this.selectPath({ identity: this.identity, bridge: this.bridge, port, avoid,
          attempt });
      } catch (e) {
        if (last) break; // no other path without the failed relays: report the build failure
        throw e;
      }
      if (path == null && last) break;
      if (!Array.isArray(path) || path.length < 1)
        throw new CircuitError('path', 'the path has no hops after the bridge');
      const names = ['bridge', ...path.map((h) => h.nickname)];
      this.onEvent({ type: 'circuit', step: 'attempt', attempt, of: max, path: names });
      const link = await this.openLink();
      try {
        const circ = await this.buildPath(link, path);
        this.onEvent({ type: 'circuit', step: 'built', circId: circ.id, attempt, of: max,
          path: names, handshakes: circ.path.map((h) => h.handshake),
          congestionControl: circ.path.at(-1).sendmeInc > 0 });
        return circ;
      } catch (e) {
        if (!RETRY_STAGES.has(e.stage)) throw e;
        const bad = e.failedHop || null;
        if (hopKey(bad)) avoid.add(hopKey(bad));
        attempts.push({ path: names, stage: e.stage, reason: e.message,
          failedHop: bad ? bad.nickname : null });
        this.onEvent({ type: 'circuit', step: 'failed', attempt, of: max, path: names,
          failedHop: bad ? bad.nickname : null, stage: e.stage, reason: e.message });
        last = e;
      }
    }
    last.attempts = attempts;
    throw last;
  }

  // One circuit bridge -> path; on failure it is closed and the error names the hop being
  // reached (.failedHop: the hop EXTEND2 went to; none when the bridge failed).
  async buildPath(link, path) {
    const circ = new Circuit(link, { onEvent: this.onEvent, timeoutMs: this.opts.timeoutMs });
    let hop = null;
    const cc = this.opts.congestionControl === false ? null
      : ccParams(this.dir?.consensus?.params ?? {});
    try {
      await circ.create(this.bridge.rsaId, this.bridge.ntorKey, this.bridgeHop());
      for (hop of path) {
        const exit = hop === path.at(-1) && cc && offersCc(hop.protocols) && wantsNtorV3(hop);
        await circ.extend(exit ? { ...hop, cc } : hop);
      }
      return circ;
    } catch (e) {
      if (!circ.closed) circ.fail(e);
      if (hop) e.failedHop = hop;
      throw e;
    }
  }

  // GET (or init.method) url through the exit. Returns http.js's response plus the circuit
  // ({id, path: [{nickname, fingerprint}]}); the body is a ReadableStream.
  async fetch(url, init = {}) {
    const u = new URL(url);
    if (u.protocol !== 'http:') throw new CircuitError('http', `only http: URLs, not ${u.protocol}`);
    const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = Number(u.port || 80);
    const circ = await this.circuit(port);
    let stream;
    try {
      stream = await circ.begin(host, port);
    } catch (e) {
      if (e instanceof StreamError) e.message = `${u.host}: ${e.message}`;
      throw e;
    }
    const r = await httpRequest(stream, u, init);
    const done = r.trailers.then(() => this.reap());
    return { ...r, done, circuit: circuitInfo(circ), exitAddr: stream.info,
      stats: () => ({ ...circ.stats }) };
  }

  async resolve(name) {
    return (await this.circuit()).resolve(name);
  }

  // Later fetches use a new circuit (the next path); the current one closes once idle.
  newIdentity() {
    this.identity++;
    const old = this.circ;
    this.circ = null;
    if (old) old.then((c) => { this.retired.add(c); this.reap(); }, () => {});
    this.onEvent({ type: 'identity', identity: this.identity });
    return this.identity;
  }

  reap() {
    for (const c of this.retired) {
      if (c.closed || c.streams.size === 0) {
        c.destroy();
        this.retired.delete(c);
      }
    }
  }

  close() {
    if (this.link) this.link.close();
  }
}

function circuitInfo(circ) {
  return { id: circ.id, path: circ.path.map((h) => ({ nickname: h.nickname,
    fingerprint: h.rsaId ? hex(h.rsaId).toUpperCase() : null, handshake: h.handshake,
    htype: h.htype, sendmeInc: h.sendmeInc || 0 })) };
}

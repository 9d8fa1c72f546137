// client.js — the steps this slice of the browser client runs, in order, with progress events:
// parse the bridge line, open the link (CERTS checked against the pinned fingerprint), build a
// one-hop circuit to the bridge with CREATE2 ntor on the line's key, and fetch the
// microdescriptor consensus over BEGIN_DIR. Each failure says at which stage it happened.
// opts.minCells: keep fetching the consensus over the same circuit (a new stream each time)
// until that many DATA cells came, so that the download outlasts the 1000-cell circuit window
// and only completes if the relay accepted our SENDME v1 cells (tor-spec 7.3).
import { parseBridgeLine } from './bridge_line.js';
import { Circuit } from './circuit.js';
import { fetchConsensusMicrodesc } from './dir.js';
import { Link } from './link.js';
import { hex } from './bytes.js';
import { sha256 } from '@noble/hashes/sha2.js';

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

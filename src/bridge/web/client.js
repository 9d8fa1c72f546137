// client.js — the steps this slice of the browser client runs, in order, with progress events:
// parse the bridge line, open the link (CERTS checked against the pinned fingerprint), build a
// one-hop circuit to the bridge with CREATE2 ntor on the line's key, and fetch the
// microdescriptor consensus over BEGIN_DIR. Each failure says at which stage it happened.
import { parseBridgeLine } from './bridge_line.js';
import { Circuit } from './circuit.js';
import { fetchConsensusMicrodesc } from './dir.js';
import { Link } from './link.js';

export async function bootstrapConsensus(bridgeLine, onEvent = () => {}) {
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

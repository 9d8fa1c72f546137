// worker.js — the Web Worker entry point (module worker) so the page stays responsive. Messages
// in: {op: 'bootstrap', bridgeLine, minCells}. Messages out: {type: 'event', event} for progress,
// then {type: 'result', ...} with what happened at each stage; the consensus bytes are
// transferred with their SHA-256 (WebCrypto) computed here.
import { bootstrapConsensus } from './client.js';
import { hex } from './bytes.js';

self.onmessage = async (e) => {
  const m = e.data;
  if (m.op !== 'bootstrap') {
    self.postMessage({ type: 'result', ok: false, error: 'unknown op ' + m.op });
    return;
  }
  const r = await bootstrapConsensus(m.bridgeLine, (ev) =>
    self.postMessage({ type: 'event', event: ev }), { minCells: m.minCells });
  const transfer = [];
  if (r.consensus) {
    r.consensus.sha256 = hex(new Uint8Array(await crypto.subtle.digest('SHA-256',
      r.consensus.body)));
    transfer.push(r.consensus.body.buffer);
  }
  self.postMessage({ type: 'result', ...r }, transfer);
};

// web_client_node.mjs — the browser client's TorClient (src/bridge/web, the modules the page's
// worker runs) in node, without a browser: connects to a bridge's WebSocket line, loads and
// verifies the directory, fetches URL over bridge -> the named relays and prints the body's
// length, time (request to last byte), rate and SHA-256. For telling the client's own cost from
// the browser's (worker, postMessage, the page) next to tools/bench/bench-browser; add
// --cpu-prof for a V8 profile. Node 20 needs --experimental-websocket (a global WebSocket).
// Usage: node --experimental-websocket tools/bench/web_client_node.mjs 'Bridge websocket ...'
//          V3IDENT,V3IDENT,... URL MIDDLE,EXIT
import { TorClient } from '../../src/bridge/web/client.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

const [line, authorities, url, path] = process.argv.slice(2);
const c = await TorClient.connect(line, {
  directory: { authorities: authorities.split(','), distinctSubnets: false, path: path.split(',') },
});
const t0 = performance.now();
const r = await c.fetch(url);
const h = sha256.create();
let got = 0;
for (const rd = r.body.getReader(); ;) {
  const { done, value } = await rd.read();
  if (done) break;
  h.update(value);
  got += value.length;
}
const s = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ bytes: got, seconds: +s.toFixed(2),
  MiBps: +(got / 1048576 / s).toFixed(2), sha256: bytesToHex(h.digest()),
  circuit: r.circuit.path.map((x) => x.nickname).join(' -> ') }));
c.close();
process.exit(0);

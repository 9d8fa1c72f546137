// web_crypto_node.mjs — the browser client's inbound relay crypto alone, in node: SIZE_MB MiB of
// DATA cells from the third hop of a circuit (prepared first, relay side), then timed on the
// client side: decrypted by hops 1 and 2 (not recognized) and 3 (recognized, digest checked),
// in bursts of 32 cells with the event loop turning between bursts (as WebSocket messages do,
// which lets WebCrypto deliver keystream asked ahead). Usage: node web_crypto_node.mjs [SIZE_MB=20]
import { Tor1Hop } from '../../src/bridge/web/relay_crypto.js';

const mb = Number(process.argv[2] || 20);
const keys = (h) => Uint8Array.from({ length: 72 }, (_, j) => (7 * j + 31 * h + 1) & 0xff);
// The relay side of a hop: Tor1Hop with the directions' keys swapped.
const swapped = (k) => Uint8Array.from([...k.subarray(20, 40), ...k.subarray(0, 20),
  ...k.subarray(56, 72), ...k.subarray(40, 56)]);
const client = [0, 1, 2].map((h) => new Tor1Hop(keys(h)));
const relay = [0, 1, 2].map((h) => new Tor1Hop(swapped(keys(h))));
const n = Math.ceil((mb * 1024 * 1024) / 498);
const cells = [];
for (let i = 0; i < n; i++) {
  const p = new Uint8Array(509);
  p[0] = 2; // DATA
  p[4] = 1;
  p[9] = 498 >> 8;
  p[10] = 498 & 0xff;
  p[11] = i & 0xff;
  relay[2].encryptOutbound(p);
  relay[1].fwdCipher.xor(p);
  relay[0].fwdCipher.xor(p);
  cells.push(p);
}
const t0 = performance.now();
for (let i = 0; i < n; i++) {
  const p = cells[i];
  if (client[0].decryptInbound(p) || client[1].decryptInbound(p) || !client[2].decryptInbound(p))
    throw new Error(`cell ${i} recognized at the wrong hop`);
  if (i % 32 === 31) await new Promise((r) => setImmediate(r));
}
const ms = performance.now() - t0;
const runs = client.map((h) => h.backCipher.runs ? JSON.stringify(h.backCipher.runs) : '-');
console.log(`${mb} MiB inbound through 3 hops: ${ms.toFixed(0)} ms = ${(mb * 1000 / ms).toFixed(1)} MiB/s; keystream runs ${runs.join(' ')}`);

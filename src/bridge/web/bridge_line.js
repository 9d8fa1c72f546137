// bridge_line.js — parsing a WebSocket bridge line as onionmesh's relay writes it to
// DataDirectory/bridge-line (doc/bridges.md, "Transports: the WebSocket one"):
//   [Bridge] websocket ADDR:PORT FINGERPRINT url=ws://HOST:PORT/PATH ntor-onion-key=BASE64
// The fingerprint is the relay's RSA identity (SHA-1 of its DER public key, 40 hex digits, as
// tor writes it); the ntor key is the relay's curve25519 onion key (32 bytes, base64). Both are
// what the client pins: the CERTS chain must lead to the fingerprint, and CREATE2 uses the key.
import { unhex, unbase64 } from './bytes.js';

export function parseBridgeLine(line) {
  const words = line.trim().split(/\s+/);
  if (words[0] === 'Bridge') words.shift();
  if (words[0] !== 'websocket') throw new Error('bridge line: transport is not "websocket"');
  if (words.length < 3) throw new Error('bridge line: needs ADDR:PORT and FINGERPRINT');
  const addr = words[1];
  if (!/^(\[[0-9a-fA-F:.]+\]|[^\s:]+):\d{1,5}$/.test(addr))
    throw new Error('bridge line: bad ADDR:PORT ' + addr);
  const fp = words[2].replace(/^\$/, '');
  if (!/^[0-9a-fA-F]{40}$/.test(fp)) throw new Error('bridge line: bad fingerprint');
  const args = {};
  for (const w of words.slice(3)) {
    const eq = w.indexOf('=');
    if (eq <= 0) throw new Error('bridge line: argument without "=": ' + w);
    args[w.slice(0, eq)] = w.slice(eq + 1);
  }
  const url = args.url;
  if (!url || !/^wss?:\/\/[^\s/]+(\/\S*)?$/.test(url))
    throw new Error('bridge line: url= must be ws:// or wss://');
  if (!args['ntor-onion-key']) throw new Error('bridge line: ntor-onion-key= missing');
  const ntorKey = unbase64(args['ntor-onion-key']);
  if (ntorKey.length !== 32) throw new Error('bridge line: ntor-onion-key is not 32 bytes');
  return {
    addr,
    fingerprint: fp.toUpperCase(),
    rsaId: unhex(fp),
    url,
    ntorKey,
    args,
  };
}

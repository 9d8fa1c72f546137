// codec.test.mjs — node:test checks of the web client's bridge-line parser and cell codec
// (src/bridge/web/bridge_line.js, cell.js, relay_cell.js). The wire bytes are the ones
// tests/unit/test_cell.c expects of the C codec.
import test from 'node:test';
import assert from 'node:assert/strict';
import { parseBridgeLine } from '../../../src/bridge/web/bridge_line.js';
import {
  CMD, decodeCell, decodeCells, decodeCreated2, decodeNetinfo, decodeVersions, encodeCell,
  encodeCreate2, encodeNetinfo, encodeVersions,
} from '../../../src/bridge/web/cell.js';
import {
  decodeRelay, decodeSendme, encodeRelay, encodeSendmeV1, RELAY,
} from '../../../src/bridge/web/relay_cell.js';
import { hex, unhex } from '../../../src/bridge/web/bytes.js';

const FP = '0123456789ABCDEF0123456789ABCDEF01234567';
const KEY = 'wMaSECmrYJXjyrWZt+16hj9c/DeCk93DxceKumfYGQQ';

test('bridge line: onionmesh\'s websocket line parses', () => {
  const b = parseBridgeLine(`Bridge websocket 127.0.0.1:8080 ${FP} url=ws://127.0.0.1:8080/tor ` +
    `ntor-onion-key=${KEY}`);
  assert.equal(b.url, 'ws://127.0.0.1:8080/tor');
  assert.equal(b.fingerprint, FP);
  assert.equal(hex(b.rsaId), FP.toLowerCase());
  assert.equal(hex(b.ntorKey), 'c0c6921029ab6095e3cab599b7ed7a863f5cfc378293ddc3c5c78aba67d81904');
  // Without the "Bridge" keyword, as in torrc-less use.
  assert.equal(parseBridgeLine(`websocket 1.2.3.4:80 ${FP} url=wss://x/y ntor-onion-key=${KEY}`)
    .url, 'wss://x/y');
});

test('bridge line: bad lines are refused', () => {
  const ok = `websocket 127.0.0.1:8080 ${FP} url=ws://h:1/p ntor-onion-key=${KEY}`;
  assert.throws(() => parseBridgeLine(ok.replace('websocket', 'obfs4')), /transport/);
  assert.throws(() => parseBridgeLine(ok.replace(FP, FP.slice(1))), /fingerprint/);
  assert.throws(() => parseBridgeLine(ok.replace('ws://h:1/p', 'http://h/p')), /url/);
  assert.throws(() => parseBridgeLine(ok.replace(/ ntor-onion-key=\S+/, '')), /ntor-onion-key/);
  assert.throws(() => parseBridgeLine(ok.replace(KEY, KEY.slice(4))), /32 bytes/);
});

test('cell: fixed cell wire bytes, 4-byte circuit ID (as test_cell.c)', () => {
  const pl = Uint8Array.from({ length: 20 }, (_, i) => 0x10 + i);
  const c = encodeCell(4, 0x80000001, CMD.CREATE_FAST, pl);
  assert.equal(c.length, 514);
  assert.equal(hex(c.slice(0, 25)), '8000000105101112131415161718191a1b1c1d1e1f20212223');
  assert.ok(c.slice(25).every((x) => x === 0));
  const d = decodeCell(4, c);
  assert.equal(d.next, 514);
  assert.equal(d.cell.circId, 0x80000001);
  assert.equal(d.cell.cmd, CMD.CREATE_FAST);
  assert.deepEqual(d.cell.payload.slice(0, 20), pl);
  // Narrow (protocol 3): 512 bytes.
  assert.equal(hex(encodeCell(3, 0x1234, CMD.DESTROY, Uint8Array.of(3)).slice(0, 4)), '12340403');
});

test('cell: VERSIONS is 2-byte-circid variable cell (as test_cell.c)', () => {
  const v = encodeCell(0, 0, CMD.VERSIONS, encodeVersions([3, 4, 5]));
  assert.equal(hex(v), '0000070006000300040005');
  assert.deepEqual(decodeVersions(decodeCell(0, v).cell.payload), [3, 4, 5]);
  // With link protocol 5 it stays 2-byte (tor-spec 4.1).
  assert.equal(hex(encodeCell(5, 0, CMD.VERSIONS, encodeVersions([4]))), '000007000200' + '04');
});

test('cell: a server first flight splits once VERSIONS gives the width', () => {
  const msg = unhex('0000070006000300040005' + '00000000810003010000');
  assert.throws(() => decodeCells(0, msg.slice(11)), /not VERSIONS/);
  const first = decodeCell(0, msg);
  assert.equal(first.cell.cmd, CMD.VERSIONS);
  const rest = decodeCells(4, msg.slice(first.next));
  assert.equal(rest.length, 1);
  assert.equal(rest[0].cmd, CMD.CERTS);
  assert.deepEqual(rest[0].payload, Uint8Array.of(1, 0, 0));
});

test('cell: partial cells are detected', () => {
  const c = encodeCell(4, 7, CMD.RELAY, new Uint8Array(509));
  assert.equal(decodeCell(4, c.slice(0, 513)), null);
  assert.throws(() => decodeCells(4, c.slice(0, 300)), /partial/);
  const v = encodeCell(4, 0, CMD.VPADDING, new Uint8Array(10));
  assert.equal(decodeCell(4, v.slice(0, 16)), null);
  assert.equal(decodeCell(4, v).next, 17);
  // A LENGTH running past the message (65535) is a partial cell.
  assert.throws(() => decodeCells(4, unhex('0000000080ffff00')), /partial/);
});

test('cell: NETINFO and CREATE2/CREATED2 payloads', () => {
  const n = encodeNetinfo('127.0.0.1');
  assert.equal(hex(n), '00000000' + '04047f000001' + '00');
  const d = decodeNetinfo(unhex('5f5e100004040a000001' + '02' + '04040a000002' +
    '0610' + '20010db8000000000000000000000001'));
  assert.equal(d.time, 0x5f5e1000);
  assert.equal(d.other.text, '10.0.0.1');
  assert.deepEqual(d.mine.map((a) => a.text), ['10.0.0.2', '2001:db8:0:0:0:0:0:1']);
  const c2 = encodeCreate2(2, new Uint8Array(84).fill(9));
  assert.equal(hex(c2.slice(0, 5)), '0002005409');
  assert.equal(c2.length, 88);
  assert.deepEqual(decodeCreated2(unhex('0003aabbcc' + '00'.repeat(10))), unhex('aabbcc'));
  assert.throws(() => decodeCreated2(unhex('0040aabb')), /HLEN/);
});

test('relay cell: header layout, SENDME v1', () => {
  const p = encodeRelay(RELAY.BEGIN_DIR, 0x1234, new Uint8Array(0));
  assert.equal(p.length, 509);
  assert.equal(hex(p.slice(0, 15)), '0d000012340000000000' + '00' + '00000000');
  const q = encodeRelay(RELAY.DATA, 1, Uint8Array.of(0x47, 0x45, 0x54));
  assert.equal(hex(q.slice(0, 18)), '020000000100000000000347455400000000');
  assert.deepEqual(decodeRelay(q), { cmd: 2, streamId: 1, data: Uint8Array.of(0x47, 0x45, 0x54) });
  const dig = Uint8Array.from({ length: 20 }, (_, i) => i);
  const s = encodeSendmeV1(dig);
  assert.equal(hex(s), '010014' + hex(dig));
  assert.deepEqual(decodeSendme(s).digest, dig);
  assert.throws(() => decodeSendme(unhex('010010')), /too short/);
  assert.throws(() => encodeRelay(RELAY.DATA, 1, new Uint8Array(499)), /498/);
});

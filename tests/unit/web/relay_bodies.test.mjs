// relay_bodies.test.mjs — node:test checks of the web client's relay message bodies
// (src/bridge/web/relay_bodies.js) against onionmesh's C codec (src/core/relay_bodies.c): a
// small C driver is compiled with gcc against that file and prints the bytes om_extend2_encode
// and om_begin_encode write for the same fields, and parses the web client's EXTEND2 back; the
// JS output must be byte-identical (link specifiers IPv4, legacy ID, Ed25519 ID in tor's order,
// ntor HTYPE 2, HLEN 84). Without gcc those comparisons are skipped. Also: CONNECTED and
// RESOLVED on the C tests' vectors, EXTENDED2 bounds, END reason messages.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BEGIN_FLAG, beginFlags, decodeConnected, decodeExtended2, decodeResolved, encodeBegin, encodeExtend2,
  endMessage,
} from '../../../src/bridge/web/relay_bodies.js';
import { hex, unhex } from '../../../src/bridge/web/bytes.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const DRIVER = String.raw`
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/relay_bodies.h"
static void put(const uint8_t *b, int n) { for (int i = 0; i < n; i++) printf("%02x", b[i]); printf("\n"); }
int main(int argc, char **argv) {
    uint8_t out[600];
    om_extend2_t e; memset(&e, 0, sizeof e);
    e.has_ipv4 = true; e.ipv4[0] = 10; e.ipv4[1] = 1; e.ipv4[2] = 2; e.ipv4[3] = 3;
    e.ipv4_port = 9001; e.has_rsa_id = true;
    for (int i = 0; i < 20; i++) e.rsa_id[i] = (uint8_t)(0x11 + i);
    e.htype = 2; e.hlen = 84;
    for (int i = 0; i < 84; i++) e.hdata[i] = (uint8_t)(3 * i + 1);
    put(out, om_extend2_encode(&e, out, sizeof out));
    e.has_ed_id = true;
    for (int i = 0; i < 32; i++) e.ed_id[i] = (uint8_t)(0xa0 + i);
    put(out, om_extend2_encode(&e, out, sizeof out));
    om_begin_t b; memset(&b, 0, sizeof b);
    strcpy(b.host, "WWW.Example.COM"); b.port = 443; b.flags = 1;
    put(out, om_begin_encode(&b, out, sizeof out));
    strcpy(b.host, "::1"); b.port = 80; b.flags = 0;
    put(out, om_begin_encode(&b, out, sizeof out));
    if (argc > 1) { /* parse the JS EXTEND2 given in hex */
        size_t n = strlen(argv[1]) / 2;
        uint8_t *in = malloc(n);
        for (size_t i = 0; i < n; i++) sscanf(argv[1] + 2 * i, "%2hhx", &in[i]);
        om_extend2_t p;
        int r = om_extend2_parse(&p, in, n);
        printf("parse %d v4 %d.%d.%d.%d:%d rsa %d ed %d htype %d hlen %d\n", r, p.ipv4[0], p.ipv4[1],
               p.ipv4[2], p.ipv4[3], p.ipv4_port, p.has_rsa_id, p.has_ed_id, p.htype, p.hlen);
        free(in);
    }
    return 0;
}
`;

function cDriver() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'om-web-bodies-'));
  try {
    fs.writeFileSync(path.join(dir, 'd.c'), DRIVER);
    execFileSync('gcc', ['-std=gnu11', '-Wall', '-Werror', '-I', path.join(ROOT, 'src'),
      path.join(dir, 'd.c'), path.join(ROOT, 'src/core/relay_bodies.c'), '-o',
      path.join(dir, 'd')], { stdio: 'pipe' });
    return (arg) => execFileSync(path.join(dir, 'd'), arg ? [arg] : []).toString().trim()
      .split('\n');
  } catch (e) {
    if (e.code === 'ENOENT') return null;
    throw e;
  } finally {
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  }
}

const hop = {
  nickname: 'x', ip: '10.1.2.3', orPort: 9001,
  rsaId: Uint8Array.from({ length: 20 }, (_, i) => 0x11 + i),
  ntorKey: new Uint8Array(32),
};
const hdata = Uint8Array.from({ length: 84 }, (_, i) => (3 * i + 1) & 0xff);
const edId = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 + i);
const run = cDriver();

test('EXTEND2 and BEGIN bodies are the C codec\'s bytes', { skip: !run && 'no gcc' }, () => {
  const js = encodeExtend2(hop, 2, hdata);
  const [c1, c2, b1, b2, parsed] = run(hex(js));
  assert.equal(hex(js), c1);
  assert.equal(js.length, 1 + 8 + 22 + 4 + 84);
  assert.equal(hex(encodeExtend2({ ...hop, edId }, 2, hdata)), c2);
  assert.equal(hex(encodeBegin('WWW.Example.COM', 443, BEGIN_FLAG.IPV6_OK)), b1);
  // Flags 0: the C codec writes four zero bytes, tor's client (and this one) none.
  assert.equal(hex(encodeBegin('::1', 80, 0)) + '00000000', b2);
  assert.equal(hex(encodeBegin('::1', 80, 6)), b2.slice(0, -8) + '00000006');
  const p6 = { accept: true, ranges: [[80, 80], [443, 443]] };
  assert.equal(beginFlags(p6, 443), BEGIN_FLAG.IPV6_OK);
  assert.equal(beginFlags(p6, 8080), 0);
  assert.equal(beginFlags(null, 80), 0);
  assert.equal(encodeBegin('example.com', 80, beginFlags(null, 80)).length, 15);
  assert.equal(parsed, 'parse 0 v4 10.1.2.3:9001 rsa 1 ed 0 htype 2 hlen 84');
});

test('EXTEND2 refuses incomplete hops', () => {
  assert.throws(() => encodeExtend2({ ...hop, rsaId: new Uint8Array(19) }, 2, hdata), /RSA/);
  assert.throws(() => encodeExtend2({ ...hop, ip: '10.1.2' }, 2, hdata), /IPv4/);
  assert.throws(() => encodeExtend2({ ...hop, orPort: 0 }, 2, hdata), /ORPort/);
  assert.throws(() => encodeExtend2({ ...hop, edId: new Uint8Array(31) }, 2, hdata), /Ed25519/);
});

test('EXTENDED2, CONNECTED, RESOLVED (the C tests\' vectors), END messages', () => {
  assert.deepEqual(decodeExtended2(Uint8Array.of(0, 3, 1, 2, 3, 9)), Uint8Array.of(1, 2, 3));
  assert.throws(() => decodeExtended2(Uint8Array.of(0, 5, 1, 2, 3, 9)), /HLEN/);
  assert.deepEqual(decodeConnected(Uint8Array.of(127, 0, 0, 1, 0, 0, 1, 0)),
    { addr: '127.0.0.1', ttl: 256 });
  assert.throws(() => decodeConnected(Uint8Array.of(127, 0, 0, 1, 0, 0, 1)), /truncated/);
  const v6 = new Uint8Array(25);
  v6[4] = 6;
  v6[20] = 1;
  assert.equal(decodeConnected(v6).addr, '0:0:0:0:0:0:0:1');
  assert.deepEqual(decodeConnected(new Uint8Array(0)), { addr: null, ttl: null });
  const body = Uint8Array.of(4, 4, 127, 0, 0, 1, 0, 0, 0, 60, 0, 3, 97, 46, 98, 0, 0, 0, 1);
  assert.deepEqual(decodeResolved(body), [
    { type: 4, value: '127.0.0.1', ttl: 60, error: null },
    { type: 0, value: 'a.b', ttl: 1, error: null }]);
  for (let n = 1; n < body.length; n++)
    if (n !== 10) assert.throws(() => decodeResolved(body.slice(0, n)), /truncated/);
  assert.throws(() => decodeResolved(unhex('040301020300000000')), /bad address length/);
  assert.match(endMessage(4), /exit policy/);
  assert.match(endMessage(2), /resolution failed/);
  assert.match(endMessage(3), /connection refused/);
  assert.match(endMessage(7), /timed out/);
  assert.match(endMessage(8), /unreachable/);
});

// path.test.mjs — node:test checks of the web client's path selection (src/bridge/web/path.js)
// and directory bootstrap (directory.js, consensus_cache.js) on the tor 0.4.9 test-network
// snapshot (snapshot.mjs): exits must allow the port, hops are distinct from each other and the
// bridge and never one family; the /16 rule leaves nothing on an all-127.0.0.1 network unless
// turned off as TestingTorNetwork does; choices follow bandwidth x bandwidth-weights; the
// bootstrap asks for the signers' certificates and the microdescriptors in batches, caches the
// verified consensus and verifies the cached copy again before using it.
import test from 'node:test';
import assert from 'node:assert/strict';
import { hex, unbase64 } from '../../../src/bridge/web/bytes.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { parseConsensus } from '../../../src/bridge/web/consensus.js';
import { parseMicrodescs } from '../../../src/bridge/web/microdesc.js';
import { buildNodes, choosePath, chooseWeighted, namedPath } from '../../../src/bridge/web/path.js';
import { loadDirectory } from '../../../src/bridge/web/directory.js';
import { memoryCache } from '../../../src/bridge/web/consensus_cache.js';
import { NODES, V3IDENTS, VALID_AFTER_MS, bytes, doc, replaceNth, text } from './snapshot.mjs';

const CONS = parseConsensus(doc('consensus-microdesc'));
const MDS = parseMicrodescs(doc('microdescs'), CONS.routers.map((r) => r.mdDigest)).found;
const fp = (nick) => NODES.find((n) => n.nick === nick).fp;
const BRIDGE = { rsaId: unbase64('AAAAAAAAAAAAAAAAAAAAAAAAAAA'), ip: '127.0.0.1' };

// A deterministic generator in [0, 1) (xorshift32), so that the frequencies are reproducible.
function prng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

test('path: hops with the fields EXTEND2 needs, distinct, unrelated, exit allows the port', () => {
  const nodes = buildNodes(CONS, MDS);
  assert.equal(nodes.length, 6);
  const rand = prng(7);
  const seen = new Set();
  for (let i = 0; i < 2000; i++) {
    const [m, e] = choosePath(CONS, nodes, BRIDGE, { distinctSubnets: false, rand });
    seen.add(`${m.nickname}>${e.nickname}`);
    assert.equal(m.rsaId.length, 20);
    assert.equal(m.ntorKey.length, 32);
    assert.equal(e.edId.length, 32);
    assert.equal(e.ip, '127.0.0.1');
    assert.ok(e.orPort > 0);
    assert.notEqual(m.nickname, e.nickname);
    // relay0 and relay1 declare each other (and share a family id): never together
    assert.ok(!(new Set([m.nickname, e.nickname]).has('relay0') &&
      new Set([m.nickname, e.nickname]).has('relay1')), `${m.nickname} ${e.nickname}`);
    assert.equal(hex(e.rsaId).toUpperCase(), fp(e.nickname));
    assert.deepEqual(e.edId, unbase64(NODES.find((n) => n.nick === e.nickname).ed64));
  }
  assert.equal(seen.size, 6 * 5 - 2); // every other ordered pair occurs
  // port 8080: only relay1's policy (reject 25,119,6000-6100) allows it
  for (let i = 0; i < 200; i++)
    assert.equal(choosePath(CONS, nodes, BRIDGE, { port: 8080, distinctSubnets: false, rand })[1]
      .nickname, 'relay1');
  assert.throws(() => choosePath(CONS, nodes, BRIDGE, { port: 25, distinctSubnets: false }),
    /no usable exit allows port 25/);
  // the bridge itself (here: auth0's identity) is never a later hop
  const asBridge = { rsaId: CONS.routers.find((r) => r.nickname === 'auth0').rsaId };
  for (let i = 0; i < 500; i++)
    for (const h of choosePath(CONS, nodes, asBridge, { distinctSubnets: false, rand }))
      assert.notEqual(h.nickname, 'auth0');
});

test('path: namedPath looks the relays up by nickname or fingerprint', () => {
  const nodes = buildNodes(CONS, MDS);
  const [m, e] = namedPath(nodes, ['relay2', '$' + fp('relay1').toLowerCase()]);
  assert.equal(m.nickname, 'relay2');
  assert.equal(e.nickname, 'relay1');
  assert.equal(hex(e.rsaId).toUpperCase(), fp('relay1'));
  assert.equal(m.ntorKey.length, 32);
  assert.ok('policy6' in e);
  assert.throws(() => namedPath(nodes, ['relay2', 'nosuch']), /nosuch is not in the verified/);
  const twice = [...nodes, { ...nodes.find((n) => n.nickname === 'relay2'), idHex: 'AB' }];
  assert.throws(() => namedPath(twice, ['relay2']), /ambiguous/);
});

test('path: EnforceDistinctSubnets on a network that is all 127.0.0.1', () => {
  const nodes = buildNodes(CONS, MDS);
  assert.throws(() => choosePath(CONS, nodes, BRIDGE), /no usable exit/);
  const away = { ...BRIDGE, ip: '10.1.2.3' };
  assert.throws(() => choosePath(CONS, nodes, away), /no usable middle relay/);
  // spread over /16s: any two may then be chosen
  const spread = nodes.map((n, i) => ({ ...n, ip: `10.${i}.0.1` }));
  const [m, e] = choosePath(CONS, spread, away, { rand: prng(3) });
  assert.notEqual(m.ip.split('.')[1], e.ip.split('.')[1]);
  // two /16s, the bridge in a third: the middle and the exit come one from each
  const same16 = nodes.map((n, i) => ({ ...n, ip: `10.${i % 2}.${i}.1` }));
  for (let i = 0; i < 300; i++) {
    const [a, b] = choosePath(CONS, same16, { ...BRIDGE, ip: '10.9.0.1' }, { rand: prng(i + 1) });
    assert.notEqual(a.ip.split('.')[1], b.ip.split('.')[1]);
  }
});

test('path: non-Running, non-Valid or descriptor-less relays are never chosen', () => {
  const nodes = buildNodes(CONS, MDS).map((n) => {
    const f = new Set(n.flags);
    if (n.nickname === 'auth0') f.delete('Running');
    if (n.nickname === 'auth1') f.delete('Valid');
    return { ...n, flags: f };
  }).filter((n) => n.nickname !== 'auth2');
  const rand = prng(11);
  for (let i = 0; i < 500; i++)
    for (const h of choosePath(CONS, nodes, BRIDGE, { distinctSubnets: false, rand }))
      assert.match(h.nickname, /^relay/);
  const noMd = buildNodes(CONS, new Map());
  assert.equal(noMd.length, 0);
});

test('path: relays in opts.exclude (a failed build\'s hops) are never chosen', () => {
  const nodes = buildNodes(CONS, MDS);
  const exits = nodes.filter((n) => n.flags.has('Exit'));
  const gone = exits[0];
  const exclude = new Set([gone.idHex]);
  const rand = prng(5);
  for (let i = 0; i < 300; i++)
    for (const h of choosePath(CONS, nodes, BRIDGE, { distinctSubnets: false, rand, exclude }))
      assert.notEqual(h.nickname, gone.nickname);
  assert.throws(() => choosePath(CONS, nodes, BRIDGE,
    { distinctSubnets: false, exclude: new Set(exits.map((n) => n.idHex)) }), /no usable exit/);
});

test('path: choices follow bandwidth times the consensus weights', () => {
  const nodes = buildNodes(CONS, MDS)
    .map((n) => ({ ...n, bandwidth: n.nickname === 'relay2' ? 900 : 100 }));
  const rand = prng(99);
  const count = (pos, ns) => {
    const k = {};
    for (let i = 0; i < 20000; i++) {
      const n = chooseWeighted(CONS, ns, pos, rand).nickname;
      k[n] = (k[n] || 0) + 1;
    }
    return k;
  };
  // all are Guard+Exit: exit weight Wed, middle weight Wmd, so bandwidth decides: 900/1400
  const k = count('exit', nodes);
  assert.ok(Math.abs(k.relay2 / 20000 - 900 / 1400) < 0.02, JSON.stringify(k));
  // without Guard, an Exit's middle weight is Wme = 0 here: never a middle while others weigh
  const noGuard = nodes.map((n) => (n.nickname === 'relay2'
    ? { ...n, flags: new Set([...n.flags].filter((f) => f !== 'Guard')) } : n));
  assert.equal(count('middle', noGuard).relay2, undefined);
  // ... and Wee (10000) against Wed (3333) as an exit: 900 * 1 vs 5 * 100 * 0.3333
  const e = count('exit', noGuard);
  assert.ok(Math.abs(e.relay2 / 20000 - 900 / (900 + 500 * 0.3333)) < 0.02, JSON.stringify(e));
  // all weights zero: uniform
  const zero = nodes.map((n) => ({ ...n, bandwidth: 0 }));
  const z = count('middle', zero);
  assert.ok(Object.values(z).every((v) => Math.abs(v / 20000 - 1 / 6) < 0.02), JSON.stringify(z));
});

// A directory cache serving the snapshot, recording the paths asked.
function fakeDir(overrides = {}) {
  const mdText = text(doc('microdescs'));
  const byDigest = new Map();
  const parts = mdText.split(/(?=^onion-key$)/m);
  for (const p of parts)
    byDigest.set(Buffer.from(sha256(bytes(p))).toString('base64').replace(/=+$/, ''), p);
  const asked = [];
  const flight = { now: 0, max: 0 };
  const get = async (path) => {
    asked.push(path);
    flight.max = Math.max(flight.max, ++flight.now);
    await new Promise((r) => setTimeout(r, 5));
    flight.now--;
    if (path === '/tor/status-vote/current/consensus-microdesc')
      return overrides.consensus || doc('consensus-microdesc');
    if (path.startsWith('/tor/keys/')) return doc('keys-all');
    if (path.startsWith('/tor/micro/d/'))
      return bytes(path.slice(13).split('-').map((d) => byDigest.get(d) || '').join(''));
    throw new Error('404 ' + path);
  };
  return { get, asked, flight };
}

test('directory: bootstrap, certificates of the signers, microdescs in batches, cache', async () => {
  const cache = memoryCache();
  const d = fakeDir();
  const opts = { authorities: V3IDENTS, cache, now: VALID_AFTER_MS, batch: 4 };
  const r = await loadDirectory(d.get, opts);
  assert.equal(r.fromCache, false);
  assert.equal(r.verification.good.length, 3);
  assert.equal(r.microdescs.size, 6);
  assert.equal(r.stats.missingMicrodescs, 0);
  assert.equal(r.nodes.length, 6);
  assert.equal(d.asked[0], '/tor/status-vote/current/consensus-microdesc');
  const pair = '[0-9A-F]{40}-[0-9A-F]{40}';
  assert.match(d.asked[1], new RegExp(`^/tor/keys/fp-sk/${pair}\\+${pair}\\+${pair}$`));
  assert.equal(d.asked.filter((p) => p.startsWith('/tor/micro/d/')).length, 2);
  assert.equal(cache.map.get('microdesc').validUntil, CONS.validUntil);
  choosePath(r.consensus, r.nodes, BRIDGE, { distinctSubnets: false });

  // again: the consensus comes from the cache (verified again), only microdescs are fetched
  const d2 = fakeDir();
  const r2 = await loadDirectory(d2.get, opts);
  assert.equal(r2.fromCache, true);
  assert.equal(r2.verification.good.length, 3);
  assert.ok(d2.asked.every((p) => p.startsWith('/tor/micro/d/')));
  // one digest per request, three requests at once
  const d6 = fakeDir();
  const r6 = await loadDirectory(d6.get, { ...opts, batch: 1, parallel: 3 });
  assert.equal(r6.microdescs.size, 6);
  assert.equal(r6.stats.mdRequests, 6);
  assert.equal(d6.flight.max, 3);
  // past valid-until the cached copy is not used
  const d3 = fakeDir();
  const r3 = await loadDirectory(d3.get, { ...opts, now: CONS.validUntil + 1000 });
  assert.equal(r3.fromCache, false);
  // a cached copy that no longer verifies (tampered in storage) is refetched
  const e = cache.map.get('microdesc');
  const tampered = bytes(replaceNth(text(e.consensus), 'Bandwidth=', 'Bandwidth=1'));
  cache.map.set('microdesc', { ...e, consensus: tampered });
  const d4 = fakeDir();
  const r4 = await loadDirectory(d4.get, opts);
  assert.equal(r4.fromCache, false);
  assert.match(r4.cacheError, /only 0 of 3/);
  // the same cached copy with other pinned authorities is not used either
  const r5 = await loadDirectory(fakeDir().get, { ...opts, authorities: [V3IDENTS[0]] });
  assert.equal(r5.fromCache, true); // auth0 alone did sign it
  await assert.rejects(loadDirectory(fakeDir().get,
    { ...opts, authorities: ['0123456789ABCDEF0123456789ABCDEF01234567'] }), /no signature from any pinned/);
});

test('directory: a forged consensus or a wrong pinned list is refused and not cached', async () => {
  const cache = memoryCache();
  const forged = bytes(replaceNth(text(doc('consensus-microdesc')), 'Bandwidth=', 'Bandwidth=9'));
  await assert.rejects(loadDirectory(fakeDir({ consensus: forged }).get,
    { authorities: V3IDENTS, cache, now: VALID_AFTER_MS }), /only 0 of 3/);
  const wrong = [...V3IDENTS.slice(0, 1), '0123456789ABCDEF0123456789ABCDEF01234567',
    'FEDCBA9876543210FEDCBA9876543210FEDCBA98'];
  await assert.rejects(loadDirectory(fakeDir().get,
    { authorities: wrong, cache, now: VALID_AFTER_MS }), /only 1 of 3/);
  assert.equal(cache.map.size, 0);
});

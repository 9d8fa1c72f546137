// dirdocs.test.mjs — node:test checks of the web client's directory documents
// (src/bridge/web/netdoc.js, authcert.js, consensus.js, microdesc.js) on the tor 0.4.9
// test-network snapshot (tests/data/testnet-snapshot, see snapshot.mjs): the authority
// certificates verify (identity -> signing key both ways) and a tampered one does not; both
// consensus flavours verify against the three pinned authorities at valid-after; and these
// must fail: a byte flipped in the signed part, a signature relabelled as another authority's,
// expired certificates, too few signatures, duplicated signatures, a wrong pinned list, a
// time outside the lifetime plus a day; the microdescriptors match the consensus digests and
// carry the keys, families and policies the C test pins.
import test from 'node:test';
import assert from 'node:assert/strict';
import { hex, unbase64 } from '../../../src/bridge/web/bytes.js';
import { parseAuthCerts } from '../../../src/bridge/web/authcert.js';
import { CONSENSUS_SKEW_MS, parseConsensus, verifyConsensus, wantedCerts }
  from '../../../src/bridge/web/consensus.js';
import { parseMicrodescs, parsePolicySummary, policyAllows }
  from '../../../src/bridge/web/microdesc.js';
import { NODES, SIGNING, V3IDENTS, VALID_AFTER_MS, bytes, doc, replaceNth, sigBlock, text }
  from './snapshot.mjs';

const KEYS = doc('keys-all');
const CONS = doc('consensus-microdesc');
const certs = () => parseAuthCerts(KEYS).certs;
const NOW = { now: VALID_AFTER_MS };
const verifyText = (s, opts = NOW, pins = V3IDENTS, k = certs()) =>
  verifyConsensus(parseConsensus(bytes(s)), k, pins, opts);

test('authority certificates: three verify, with the identities and signing keys tor made', () => {
  const { certs: cs, errors } = parseAuthCerts(KEYS);
  assert.deepEqual(errors, []);
  assert.deepEqual(cs.map((c) => c.idHex), V3IDENTS);
  assert.deepEqual(cs.map((c) => hex(c.signingDigest).toUpperCase()), SIGNING);
  assert.equal(cs[0].address, '127.0.0.1:27110');
  assert.ok(cs.every((c) => c.expires - c.published === 365 * 86400000));
});

test('authority certificates: tampering drops that certificate only', () => {
  const t = text(KEYS);
  const cases = [
    // signed part (the identity key's signature no longer matches)
    [replaceNth(t, 'dir-key-expires 2027', 'dir-key-expires 2028', 1), 'bad dir-key-certification'],
    // fingerprint not the identity key's
    [replaceNth(t, `fingerprint ${V3IDENTS[1]}`, `fingerprint ${V3IDENTS[0]}`), 'not the SHA-1'],
    // the signing key's cross-certificate
    [replaceNth(t, 'KQxWLg5KJ4umA5v6', 'KQxWLg5KJ4umA5v7'), 'bad dir-key-crosscert'],
    // another authority's signing key in place of this one's
    [(() => {
      const re = /dir-signing-key\n-----BEGIN RSA PUBLIC KEY-----\n[^-]*-----END RSA PUBLIC KEY-----\n/g;
      const keys = [...t.matchAll(re)];
      return t.replace(keys[0][0], keys[2][0]);
    })(), 'bad dir-key-crosscert'],
  ];
  for (const [s, why] of cases) {
    const r = parseAuthCerts(bytes(s));
    assert.equal(r.certs.length, 2, why);
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0], new RegExp(why));
  }
  assert.throws(() => parseAuthCerts(bytes(t.replace('-----END SIGNATURE-----\n', ''))), /netdoc/);
});

test('consensus: the microdesc flavour parses as tor made it', () => {
  const c = parseConsensus(CONS);
  assert.equal(c.flavor, 'microdesc');
  assert.equal(c.validAfter, VALID_AFTER_MS);
  assert.equal(c.freshUntil, VALID_AFTER_MS + 20000);
  assert.equal(c.validUntil, VALID_AFTER_MS + 40000);
  assert.equal(c.params.bwweightscale, 10000);
  assert.equal(c.params.dirdocs_negative, -7);
  assert.equal(c.bandwidthWeights.Wmd, 3333);
  assert.equal(c.bandwidthWeights.Wee, 10000);
  assert.deepEqual(c.dirSources.map((d) => d.nickname), ['auth0', 'auth2', 'auth1']);
  assert.deepEqual(c.routers.map((r) => r.nickname).sort(), NODES.map((n) => n.nick).sort());
  for (const r of c.routers) {
    assert.equal(hex(r.rsaId).toUpperCase(), NODES.find((n) => n.nick === r.nickname).fp);
    assert.equal(r.mdDigest.length, 32);
    assert.ok(r.bandwidth > 0);
    assert.ok(r.flags.has('Running') && r.flags.has('Valid') && r.flags.has('Exit'));
  }
  assert.deepEqual(c.routers.find((r) => r.nickname === 'relay2').ipv6, ['[::1]:27125']);
  assert.deepEqual(c.signatures.map((s) => s.alg), ['sha256', 'sha256', 'sha256']);
  assert.deepEqual(wantedCerts(c, V3IDENTS).sort(),
    V3IDENTS.map((id, i) => `${id}-${SIGNING[i]}`).sort());
});

test('consensus: both flavours verify against the pinned authorities', () => {
  for (const name of ['consensus-microdesc', 'consensus']) {
    const v = verifyConsensus(parseConsensus(doc(name)), certs(), V3IDENTS, NOW);
    assert.equal(v.good.length, 3, name);
    assert.equal(v.need, 2);
  }
  // lower-case pins and 20-byte pins are the same identities
  assert.equal(verifyText(text(CONS), NOW, V3IDENTS.map((s) => s.toLowerCase())).good.length, 3);
});

test('consensus: a flipped byte in the signed part fails every signature', () => {
  const t = text(CONS);
  for (const [from, to] of [['Bandwidth=119', 'Bandwidth=118'], ['s Exit Fast', 's Exit Fasu'],
    ['valid-until 2026-11-22 09:15:00', 'valid-until 2026-11-22 09:15:01'],
    ['bandwidth-weights Wbd=3333', 'bandwidth-weights Wbd=3334']]) {
    assert.throws(() => verifyText(replaceNth(t, from, to)),
      /only 0 of 3 .*forged or bad signature by auth0/, from);
  }
  // a flipped bit in one signature leaves two of three: still accepted, with the problem named
  const sig = sigBlock(t, V3IDENTS[1]);
  const bad = sig.replace('-----\nsWj', '-----\ntWj');
  const v = verifyText(t.replace(sig, bad));
  assert.equal(v.good.length, 2);
  assert.match(v.problems[0], /forged or bad signature by auth1/);
});

test('consensus: a signature relabelled as another authority\'s does not count for it', () => {
  const t = text(CONS);
  const [a0, a1, a2] = V3IDENTS;
  const only01 = t.replace(sigBlock(t, a2), '');
  assert.equal(verifyText(only01).good.length, 2); // control: two of three suffice
  const s0 = sigBlock(only01, a0);
  // auth0's signature claiming to be auth1's (identity and signing-key digest), auth1's gone
  const relabel = only01.replace(sigBlock(only01, a1), s0.replace(`${a0} ${SIGNING[0]}`,
    `${a1} ${SIGNING[1]}`));
  assert.throws(() => verifyText(relabel), /only 1 of 3 .*forged or bad signature by auth1/);
  // identity relabelled, auth0's signing-key digest kept: no certificate of auth1 for it
  const relabelId = only01.replace(sigBlock(only01, a1), s0.replace(a0, a1));
  assert.throws(() => verifyText(relabelId), /no certificate for the signing key of auth1/);
});

test('consensus: expired authority certificates count as not signed', () => {
  const expire = (k, n) => k.map((c, i) => (i < n
    ? { ...c, published: VALID_AFTER_MS - 20 * 86400000, expires: VALID_AFTER_MS - 86400000 }
    : c));
  const c = parseConsensus(CONS);
  assert.equal(verifyConsensus(c, expire(certs(), 1), V3IDENTS, NOW).good.length, 2);
  assert.throws(() => verifyConsensus(c, expire(certs(), 2), V3IDENTS, NOW),
    /only 1 of 3 .*expired certificate of auth0/);
  // a certificate published after "now" (beyond certSkew) is not used either
  const future = certs().map((x, i) => (i < 2 ? { ...x, published: VALID_AFTER_MS + 3600000 } : x));
  assert.throws(() => verifyConsensus(c, future, V3IDENTS, NOW), /only 1 of 3/);
});

test('consensus: too few, duplicated or foreign signatures and wrong pins fail', () => {
  const t = text(CONS);
  const [a0, a1, a2] = V3IDENTS;
  const one = t.replace(sigBlock(t, a1), '').replace(sigBlock(t, a2), '');
  assert.throws(() => verifyText(one), /only 1 of 3 .*no signature from auth1/);
  const s0 = sigBlock(t, a0);
  assert.throws(() => verifyText(one + s0 + s0), /only 1 of 3/);
  assert.throws(() => verifyText(t.replace(/directory-signature[^]*$/, '')), /no directory-signature/);
  // pins that are none of the signers
  const others = ['0123456789ABCDEF0123456789ABCDEF01234567',
    'FEDCBA9876543210FEDCBA9876543210FEDCBA98', '1111111111111111111111111111111111111111'];
  assert.throws(() => verifyText(t, NOW, others), /only 0 of 3 .*no signature from/);
  // more than half of the pinned list: 3 of 5 is enough, 3 of 6 is not
  assert.equal(verifyText(t, NOW, [...V3IDENTS, ...others.slice(0, 2)]).need, 3);
  assert.throws(() => verifyText(t, NOW, [...V3IDENTS, ...others]), /only 3 of 6 .*need 4/);
  // one pinned authority: its signature alone suffices
  assert.equal(verifyText(t, NOW, [a2]).good.length, 1);
  assert.throws(() => verifyText(t, NOW, []), /no pinned/);
});

test('consensus: lifetime with a day of tolerance either way', () => {
  const c = parseConsensus(CONS);
  const at = (now) => verifyConsensus(c, certs(), V3IDENTS, { now });
  assert.equal(at(c.validUntil + CONSENSUS_SKEW_MS).good.length, 3);
  assert.equal(at(c.validAfter - 600000).good.length, 3); // certificates are 12 min older
  assert.throws(() => at(c.validUntil + CONSENSUS_SKEW_MS + 1000), /expired at 2026-11-22 09:15:00/);
  assert.throws(() => at(c.validAfter - CONSENSUS_SKEW_MS - 1000), /not valid until/);
  assert.throws(() => verifyConsensus(c, certs(), V3IDENTS, { now: c.validUntil + 1000, skew: 0 }),
    /expired/);
});

test('consensus: malformed documents are refused', () => {
  const t = text(CONS);
  for (const [s, re] of [
    [t.replace('network-status-version 3 microdesc', 'network-status-version 2'),
      /network-status-version 3/],
    [t.replace('vote-status consensus', 'vote-status vote'), /vote-status/],
    [t.replace(/^valid-until .*\n/m, ''), /missing validUntil/],
    [t.replace('fresh-until 2026-11-22 09:14:40', 'fresh-until 2026-11-22 09:16:40'),
      /does not hold/],
    [replaceNth(t, 'm klWMiCRWJa3go2BIjiDEwbFuiXr0h31Jsn1dV78aIFA\n', ''), /relay0: no m/],
    [t.replace('r relay0 IymxGfy629Ga09+V6DWUjX4JL28', 'r relay0 IymxGfy629Ga09+V6DWUjX4JL2'),
      /r identity/],
    [t.replace('127.0.0.1 27120', '127.0.0.300 27120'), /IPv4/],
    [t.slice(0, -1), /no newline/],
    [t + 'r late x\n', /after the signatures/],
    [t.replace("directory-footer\n", ""), /outside footer/],
    [t.replace('-----END SIGNATURE-----', '-----END SIGNATURX-----'), /netdoc/],
  ]) assert.throws(() => parseConsensus(bytes(s)), re);
  // every truncation fails to parse or to verify
  for (let n = 0; n < CONS.length; n += 97) {
    assert.throws(() =>
      verifyConsensus(parseConsensus(CONS.subarray(0, n)), certs(), V3IDENTS, NOW));
  }
});

test('microdescriptors: the six match the consensus digests, with tor\'s keys and policies', () => {
  const c = parseConsensus(CONS);
  const md = doc('microdescs');
  const { found, errors } = parseMicrodescs(md, c.routers.map((r) => r.mdDigest));
  assert.deepEqual(errors, []);
  assert.equal(found.size, 6);
  const of = (nick) => found.get(hex(c.routers.find((r) => r.nickname === nick).mdDigest));
  for (const n of NODES) assert.deepEqual(of(n.nick).edId, unbase64(n.ed64), n.nick);
  assert.deepEqual(of('relay0').family, [NODES[3].fp, NODES[4].fp]);
  assert.deepEqual(of('relay1').familyIds, ['ed25519:42Tgf4QUEAX6RoFR6KqwC9k7eriKAW/PL7UCZ34ztJY']);
  assert.deepEqual(of('relay2').family, []);
  assert.deepEqual(of('relay1').policy,
    { accept: false, ranges: [[25, 25], [119, 119], [6000, 6100]] });
  assert.deepEqual(of('auth2').ntorKey, unbase64('ujKle8WyfBYJw4XpuMS5qtGL2qiNFA1mQEWRfjB8ER0'));
  assert.ok(policyAllows(of('relay1').policy, 80) && !policyAllows(of('relay1').policy, 6050));
  assert.ok(policyAllows(of('relay0').policy, 6667) && !policyAllows(of('relay0').policy, 22));
  assert.ok(of('relay2').policy6 === null || of('relay2').policy6.accept);

  // one flipped byte: that descriptor is not the one asked for and is dropped
  const t = text(md);
  const bad = parseMicrodescs(bytes(t.replace('p reject 25,119', 'p reject 26,119')),
    c.routers.map((r) => r.mdDigest));
  assert.equal(bad.found.size, 5);
  assert.match(bad.errors[0], /nobody asked for/);
  // only what was asked is kept
  assert.equal(parseMicrodescs(md, [c.routers[0].mdDigest]).found.size, 1);
});

test('exit policy summaries', () => {
  const p = parsePolicySummary('accept 1-79,81-65535');
  assert.ok(policyAllows(p, 1) && !policyAllows(p, 80) && policyAllows(p, 65535));
  assert.ok(!policyAllows(null, 80));
  for (const s of ['accept', 'allow 80', 'accept 0', 'accept 80,80', 'accept 90-80',
    'accept 70000', 'accept 80,,443', 'reject 443,80'])
    assert.throws(() => parsePolicySummary(s), /microdesc/, s);
});

// An authority made here with node's own RSA (OpenSSL; independent of rsa.js): its certificate
// signed as tor-gencert does (PKCS#1 v1.5 over the raw SHA-1 digests), and signatures over the
// snapshot's signed part in the forms tor has used: "directory-signature ID SK" (SHA-1, before
// consensus method 9's algorithm field), "sha1" and "sha256".
test('consensus: sha1 and sha256 signatures of an authority made with node:crypto', async () => {
  const nc = await import('node:crypto');
  const gen = () => nc.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const [id, sk] = [gen(), gen()];
  const der = (k) => k.publicKey.export({ type: 'pkcs1', format: 'der' });
  const pem = (k) => k.publicKey.export({ type: 'pkcs1', format: 'pem' });
  const sign = (k, digest) => nc.privateEncrypt({ key: k.privateKey,
    padding: nc.constants.RSA_PKCS1_PADDING }, digest);
  const obj = (type, b) => `-----BEGIN ${type}-----\n${b.toString('base64').match(/.{1,64}/g)
    .join('\n')}\n-----END ${type}-----\n`;
  const h = (alg, b) => nc.createHash(alg).update(b).digest();
  const v3 = h('sha1', der(id));
  const V3 = v3.toString('hex').toUpperCase();
  const SK = h('sha1', der(sk)).toString('hex').toUpperCase();
  const day = 86400000;
  const iso = (ms) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
  const body = `dir-key-certificate-version 3\nfingerprint ${V3}\n` +
    `dir-key-published ${iso(VALID_AFTER_MS - day)}\ndir-key-expires ${iso(VALID_AFTER_MS + day)}\n` +
    `dir-identity-key\n${pem(id)}dir-signing-key\n${pem(sk)}` +
    `dir-key-crosscert\n${obj('ID SIGNATURE', sign(sk, v3))}dir-key-certification\n`;
  const certText = body + obj('SIGNATURE', sign(id, h('sha1', Buffer.from(body))));
  const { certs: mine, errors } = parseAuthCerts(bytes(certText));
  assert.deepEqual(errors, []);
  assert.equal(mine[0].idHex, V3);

  const t = text(CONS);
  const first = t.indexOf('directory-signature ');
  const signed = Buffer.from(t.slice(0, first + 'directory-signature '.length), 'latin1');
  const block = (line, sig) => `directory-signature ${line}\n${obj('SIGNATURE', sig)}`;
  const withSig = (line, sig) => t.slice(0, first) + block(line, sig);
  const pins = [V3];
  const ok = (s) => verifyText(s, NOW, pins, mine).good.length;
  assert.equal(ok(withSig(`${V3} ${SK}`, sign(sk, h('sha1', signed)))), 1);
  assert.equal(ok(withSig(`sha1 ${V3} ${SK}`, sign(sk, h('sha1', signed)))), 1);
  assert.equal(ok(withSig(`sha256 ${V3} ${SK}`, sign(sk, h('sha256', signed)))), 1);
  // the digest of the other algorithm, an unknown algorithm, the identity key, a changed byte
  assert.throws(() => ok(withSig(`sha256 ${V3} ${SK}`, sign(sk, h('sha1', signed)))),
    /forged or bad signature/);
  assert.throws(() => ok(withSig(`sha512 ${V3} ${SK}`, sign(sk, h('sha512', signed)))),
    /no signature from/);
  assert.throws(() => ok(withSig(`sha1 ${V3} ${SK}`, sign(id, h('sha1', signed)))),
    /forged or bad signature/);
  assert.throws(() => ok(replaceNth(withSig(`${V3} ${SK}`, sign(sk, h('sha1', signed))),
    'known-flags ', 'known-flags  ')), /forged or bad signature/);
  // with the three real authorities pinned as well, our one signature is 1 of 4: refused; added
  // to the three real signatures, 4 of 4
  const sha1Block = block(`${V3} ${SK}`, sign(sk, h('sha1', signed)));
  const all = [...certs(), ...mine];
  assert.throws(() => verifyText(withSig(`${V3} ${SK}`, sign(sk, h('sha1', signed))), NOW,
    [...V3IDENTS, V3], all), /only 1 of 4/);
  assert.equal(verifyText(t + sha1Block, NOW, [...V3IDENTS, V3], all).good.length, 4);
  // its certificate expired yesterday: not counted
  const old = mine.map((c) => ({ ...c, expires: VALID_AFTER_MS - 1000 }));
  assert.throws(() => verifyText(t.slice(0, first) + sha1Block, NOW, pins, old), /expired certificate/);
});

test('consensus: no byte of the signed part can change and still verify (800 random edits)', () => {
  const k = certs();
  const signedEnd = text(CONS).indexOf('directory-signature ') + 'directory-signature '.length;
  let x = 12345;
  const rnd = (n) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x % n;
  };
  let accepted = 0;
  for (let i = 0; i < 800; i++) {
    const b = CONS.slice();
    const at = rnd(b.length);
    b[at] ^= 1 + rnd(255);
    let ok = false;
    try {
      ok = verifyConsensus(parseConsensus(b), k, V3IDENTS, NOW).good.length >= 2;
    } catch (e) {
      assert.ok(e instanceof Error);
    }
    if (ok) {
      accepted++;
      assert.ok(at >= signedEnd, `edit at ${at} (signed part ends at ${signedEnd}) verified`);
    }
  }
  assert.ok(accepted < 800);
});

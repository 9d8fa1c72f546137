/* test_crypto.c — unit tests for crypto.c against published test vectors (FIPS 180/202 "abc",
 * RFC 4231, RFC 5869, RFC 7748, RFC 8032, NIST SP 800-38A) and RSA/KDF-TOR round trips. */
#include "test.h"
#include "core/crypto.h"

#define UNHEX(name, hex)                                                                           \
    uint8_t name[sizeof(hex) / 2 + 1];                                                             \
    size_t name##_len = om_test_unhex(hex, name, sizeof name);                                     \
    (void)name##_len

static void test_memory_helpers(void)
{
    uint8_t a[8] = {1, 2, 3, 4, 5, 6, 7, 8}, b[8] = {1, 2, 3, 4, 5, 6, 7, 8}, z[8] = {0};
    CHECK(om_mem_eq_ct(a, b, 8));
    b[7] ^= 1;
    CHECK(!om_mem_eq_ct(a, b, 8));
    CHECK(om_mem_is_zero(z, 8));
    z[5] = 1;
    CHECK(!om_mem_is_zero(z, 8));
    om_memwipe(a, sizeof a);
    memset(z, 0, sizeof z);
    CHECK_MEM(a, z, 8);
    uint8_t r1[32], r2[32];
    CHECK_EQ_INT(om_rand_bytes(r1, 32), 0);
    CHECK_EQ_INT(om_rand_bytes(r2, 32), 0);
    CHECK(memcmp(r1, r2, 32) != 0);
}

static void test_digests_abc(void)
{
    const uint8_t *abc = (const uint8_t *)"abc";
    uint8_t out[64];
    UNHEX(sha1, "a9993e364706816aba3e25717850c26c9cd0d89d");
    UNHEX(sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    UNHEX(sha3, "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532");
    UNHEX(shake, "483366601360a8771c6863080cc4114d8db44530f8f1e1ee4f94ea37e78b5739"
                 "d5a15bef186a5386c75744c0527e1faa9f8726e462a12a4feb06bd8801e751e4");
    CHECK_EQ_INT(om_sha1(abc, 3, out), 0);
    CHECK_MEM(out, sha1, 20);
    CHECK_EQ_INT(om_sha256(abc, 3, out), 0);
    CHECK_MEM(out, sha256, 32);
    CHECK_EQ_INT(om_sha3_256(abc, 3, out), 0);
    CHECK_MEM(out, sha3, 32);
    CHECK_EQ_INT(om_shake256(abc, 3, out, 64), 0);
    CHECK_MEM(out, shake, 64);
    /* XOF: a shorter output is a prefix of the longer one. */
    memset(out, 0, sizeof out);
    CHECK_EQ_INT(om_shake256(abc, 3, out, 17), 0);
    CHECK_MEM(out, shake, 17);
    CHECK_EQ_INT(out[17], 0);
    /* Empty input: SHA-1("") */
    UNHEX(sha1_empty, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    CHECK_EQ_INT(om_sha1(NULL, 0, out), 0);
    CHECK_MEM(out, sha1_empty, 20);
}

static void test_incremental_digest(void)
{
    UNHEX(sha1, "a9993e364706816aba3e25717850c26c9cd0d89d");
    UNHEX(sha1_a, "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8"); /* SHA-1("a") */
    UNHEX(sha3, "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532");
    uint8_t out[32];
    om_digest_t *d = om_digest_new(OM_DIGEST_SHA1);
    CHECK(d != NULL);
    CHECK_EQ_INT(om_digest_len(d), 20);
    CHECK_EQ_INT(om_digest_update(d, (const uint8_t *)"a", 1), 0);
    CHECK_EQ_INT(om_digest_peek(d, out, 20), 0);
    CHECK_MEM(out, sha1_a, 20);
    om_digest_t *saved = om_digest_dup(d);
    CHECK(saved != NULL);
    /* peek does not finalize: continuing gives SHA-1("abc") */
    CHECK_EQ_INT(om_digest_update(d, (const uint8_t *)"bc", 2), 0);
    CHECK_EQ_INT(om_digest_peek(d, out, 20), 0);
    CHECK_MEM(out, sha1, 20);
    /* truncated peek, twice, same answer */
    memset(out, 0, sizeof out);
    CHECK_EQ_INT(om_digest_peek(d, out, 4), 0);
    CHECK_MEM(out, sha1, 4);
    CHECK_EQ_INT(out[4], 0);
    CHECK(om_digest_peek(d, out, 21) < 0);
    /* restore the saved state: back to SHA-1("a") */
    CHECK_EQ_INT(om_digest_assign(d, saved), 0);
    CHECK_EQ_INT(om_digest_peek(d, out, 20), 0);
    CHECK_MEM(out, sha1_a, 20);
    CHECK_EQ_INT(om_digest_update(d, (const uint8_t *)"bc", 2), 0);
    CHECK_EQ_INT(om_digest_peek(d, out, 20), 0);
    CHECK_MEM(out, sha1, 20);
    /* the dup is independent */
    CHECK_EQ_INT(om_digest_peek(saved, out, 20), 0);
    CHECK_MEM(out, sha1_a, 20);
    om_digest_t *d3 = om_digest_new(OM_DIGEST_SHA3_256);
    CHECK(d3 != NULL);
    CHECK(om_digest_assign(d3, d) < 0); /* algorithm mismatch */
    CHECK_EQ_INT(om_digest_update(d3, (const uint8_t *)"ab", 2), 0);
    CHECK_EQ_INT(om_digest_update(d3, (const uint8_t *)"c", 1), 0);
    CHECK_EQ_INT(om_digest_peek(d3, out, 32), 0);
    CHECK_MEM(out, sha3, 32);
    om_digest_t *d256 = om_digest_new(OM_DIGEST_SHA256);
    CHECK(d256 != NULL);
    CHECK_EQ_INT(om_digest_len(d256), 32);
    om_digest_free(d256);
    om_digest_free(d3);
    om_digest_free(saved);
    om_digest_free(d);
    om_digest_free(NULL);
}

/* RFC 4231 test case 2 */
static void test_hmac_sha256(void)
{
    const char *key = "Jefe", *msg = "what do ya want for nothing?";
    UNHEX(expect, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    uint8_t out[32];
    CHECK_EQ_INT(om_hmac_sha256((const uint8_t *)key, 4, (const uint8_t *)msg, strlen(msg), out),
                 0);
    CHECK_MEM(out, expect, 32);
    /* RFC 4231 test case 1: key = 0x0b * 20, data "Hi There" */
    uint8_t k1[20];
    memset(k1, 0x0b, sizeof k1);
    UNHEX(expect1, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    CHECK_EQ_INT(om_hmac_sha256(k1, 20, (const uint8_t *)"Hi There", 8, out), 0);
    CHECK_MEM(out, expect1, 32);
}

/* RFC 5869 test case 1 */
static void test_hkdf_rfc5869_case1(void)
{
    uint8_t ikm[22];
    memset(ikm, 0x0b, sizeof ikm);
    UNHEX(salt, "000102030405060708090a0b0c");
    UNHEX(info, "f0f1f2f3f4f5f6f7f8f9");
    UNHEX(prk, "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
    UNHEX(okm, "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
               "34007208d5b887185865");
    uint8_t out[42];
    CHECK_EQ_INT(om_hkdf_sha256(salt, salt_len, ikm, sizeof ikm, info, info_len, out, 42), 0);
    CHECK_MEM(out, okm, 42);
    memset(out, 0, sizeof out);
    CHECK_EQ_INT(om_hkdf_sha256_expand(prk, prk_len, info, info_len, out, 42), 0);
    CHECK_MEM(out, okm, 42);
    /* too long an output is refused */
    uint8_t big[255 * 32 + 1];
    CHECK(om_hkdf_sha256_expand(prk, prk_len, info, info_len, big, sizeof big) < 0);
    CHECK_EQ_INT(om_hkdf_sha256_expand(prk, prk_len, info, info_len, big, 255 * 32), 0);
    CHECK_MEM(big, okm, 42);
}

/* RFC 5869 test case 3: empty salt and info */
static void test_hkdf_rfc5869_case3(void)
{
    uint8_t ikm[22];
    memset(ikm, 0x0b, sizeof ikm);
    UNHEX(okm, "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
               "9d201395faa4b61a96c8");
    uint8_t out[42];
    CHECK_EQ_INT(om_hkdf_sha256(NULL, 0, ikm, sizeof ikm, NULL, 0, out, 42), 0);
    CHECK_MEM(out, okm, 42);
}

/* KDF-TOR (tor-spec 5.2.1). Expected value computed independently with Python:
 *   k0 = b"onionmesh KDF-TOR test key material"
 *   b"".join(hashlib.sha1(k0 + bytes([i])).digest() for i in range(5))[:92].hex() */
static void test_kdf_tor(void)
{
    const char *k0 = "onionmesh KDF-TOR test key material";
    UNHEX(expect, "fa780557f6a8d6fc3cf24b2719c8404ab49f3db050357c8380153cf402b6e13dd88a05e79b2b207a"
                  "65a23f6b506880bac254fb7aedc66d66348e559b90e5ddc027d15e70b4fb66588deab79b095fe5"
                  "fc1da8f06e43170263d8d67be6");
    uint8_t out[92];
    CHECK_EQ_INT(expect_len, 92);
    CHECK_EQ_INT(om_kdf_tor((const uint8_t *)k0, strlen(k0), out, sizeof out), 0);
    CHECK_MEM(out, expect, 92);
    /* a shorter output is a prefix */
    uint8_t shorter[7];
    CHECK_EQ_INT(om_kdf_tor((const uint8_t *)k0, strlen(k0), shorter, sizeof shorter), 0);
    CHECK_MEM(shorter, expect, 7);
    uint8_t big[255 * 20 + 1];
    CHECK(om_kdf_tor((const uint8_t *)k0, strlen(k0), big, sizeof big) < 0);
}

/* NIST SP 800-38A F.5.1 CTR-AES128.Encrypt */
static void test_aes128_ctr(void)
{
    UNHEX(key, "2b7e151628aed2a6abf7158809cf4f3c");
    UNHEX(iv, "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
    UNHEX(pt, "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
              "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
    UNHEX(ct, "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff"
              "5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee");
    uint8_t buf[64];
    om_aes_t *c = om_aes128_ctr_new(key, iv);
    CHECK(c != NULL);
    CHECK_EQ_INT(om_aes_crypt(c, pt, buf, 64), 0);
    CHECK_MEM(buf, ct, 64);
    om_aes_free(c);
    /* streaming in odd pieces, in place, decrypts back */
    c = om_aes128_ctr_new(key, iv);
    CHECK(c != NULL);
    memcpy(buf, ct, 64);
    CHECK_EQ_INT(om_aes_crypt(c, buf, buf, 5), 0);
    CHECK_EQ_INT(om_aes_crypt(c, buf + 5, buf + 5, 27), 0);
    CHECK_EQ_INT(om_aes_crypt(c, buf + 32, buf + 32, 32), 0);
    CHECK_MEM(buf, pt, 64);
    om_aes_free(c);
    om_aes_free(NULL);
}

/* AES-CTR with a zero IV (tor's relay ciphers) equals AES-ECB of counter blocks 0,1,...:
 * checked against the 256-bit key with an explicit zero IV == NULL IV. */
static void test_aes_zero_iv_and_256(void)
{
    uint8_t key[32], zero[16] = {0}, a[100], b[100];
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)i;
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    om_aes_t *c1 = om_aes256_ctr_new(key, NULL), *c2 = om_aes256_ctr_new(key, zero);
    CHECK(c1 && c2);
    CHECK_EQ_INT(om_aes_crypt(c1, a, a, sizeof a), 0);
    CHECK_EQ_INT(om_aes_crypt(c2, b, b, sizeof b), 0);
    CHECK_MEM(a, b, sizeof a);
    om_aes_free(c1);
    om_aes_free(c2);
    /* FIPS-197 C.3: AES-256 of 00112233...ff under key 000102...1f is
     * 8ea2b7ca516745bfeafc49904b496089.
     * CTR keystream block 0 with IV=00112233..ff is that block. */
    UNHEX(iv, "00112233445566778899aabbccddeeff");
    UNHEX(ks, "8ea2b7ca516745bfeafc49904b496089");
    uint8_t z[16] = {0};
    c1 = om_aes256_ctr_new(key, iv);
    CHECK(c1 != NULL);
    CHECK_EQ_INT(om_aes_crypt(c1, z, z, 16), 0);
    CHECK_MEM(z, ks, 16);
    om_aes_free(c1);
}

/* RFC 7748 section 6.1 */
static void test_x25519_rfc7748(void)
{
    UNHEX(a_sec, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    UNHEX(a_pub, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    UNHEX(b_sec, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    UNHEX(b_pub, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    UNHEX(shared, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    uint8_t pub[32], out[32];
    CHECK_EQ_INT(om_x25519_pub_from_sec(a_sec, pub), 0);
    CHECK_MEM(pub, a_pub, 32);
    CHECK_EQ_INT(om_x25519_pub_from_sec(b_sec, pub), 0);
    CHECK_MEM(pub, b_pub, 32);
    CHECK_EQ_INT(om_x25519(out, a_sec, b_pub), 0);
    CHECK_MEM(out, shared, 32);
    CHECK_EQ_INT(om_x25519(out, b_sec, a_pub), 0);
    CHECK_MEM(out, shared, 32);
}

static void test_x25519_keygen_and_zero(void)
{
    om_x25519_keypair_t a, b;
    uint8_t s1[32], s2[32], zero_pub[32] = {0}, pub[32];
    CHECK_EQ_INT(om_x25519_keygen(&a), 0);
    CHECK_EQ_INT(om_x25519_keygen(&b), 0);
    CHECK_EQ_INT(om_x25519_pub_from_sec(a.sec, pub), 0);
    CHECK_MEM(pub, a.pub, 32);
    CHECK_EQ_INT(om_x25519(s1, a.sec, b.pub), 0);
    CHECK_EQ_INT(om_x25519(s2, b.sec, a.pub), 0);
    CHECK_MEM(s1, s2, 32);
    /* small-order points give an all-zero result, which must be rejected */
    CHECK(om_x25519(s1, a.sec, zero_pub) < 0);
    uint8_t one[32] = {1};
    CHECK(om_x25519(s1, a.sec, one) < 0);
}

/* RFC 8032 section 7.1 tests 1 and 2 */
static void test_ed25519_rfc8032(void)
{
    UNHEX(sk1, "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    UNHEX(pk1, "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    UNHEX(sig1, "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac"
                "c61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
    UNHEX(sk2, "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");
    UNHEX(pk2, "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");
    UNHEX(msg2, "72");
    UNHEX(sig2, "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e"
                "458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00");
    om_ed25519_keypair_t kp;
    uint8_t sig[64];
    CHECK_EQ_INT(om_ed25519_from_seed(&kp, sk1), 0);
    CHECK_MEM(kp.pub, pk1, 32);
    CHECK_MEM(kp.seed, sk1, 32);
    CHECK_EQ_INT(om_ed25519_sign(&kp, NULL, 0, sig), 0);
    CHECK_MEM(sig, sig1, 64);
    CHECK_EQ_INT(om_ed25519_verify(pk1, NULL, 0, sig1), 0);

    CHECK_EQ_INT(om_ed25519_from_seed(&kp, sk2), 0);
    CHECK_MEM(kp.pub, pk2, 32);
    CHECK_EQ_INT(om_ed25519_sign(&kp, msg2, 1, sig), 0);
    CHECK_MEM(sig, sig2, 64);
    CHECK_EQ_INT(om_ed25519_verify(pk2, msg2, 1, sig2), 0);

    /* rejections: flipped signature bit, wrong message, wrong key */
    sig[10] ^= 0x01;
    CHECK(om_ed25519_verify(pk2, msg2, 1, sig) < 0);
    uint8_t other = 0x73;
    CHECK(om_ed25519_verify(pk2, &other, 1, sig2) < 0);
    CHECK(om_ed25519_verify(pk1, msg2, 1, sig2) < 0);
}

static void test_ed25519_keygen(void)
{
    om_ed25519_keypair_t kp, kp2;
    uint8_t sig[64];
    const uint8_t msg[] = "onionmesh";
    CHECK_EQ_INT(om_ed25519_keygen(&kp), 0);
    CHECK_EQ_INT(om_ed25519_from_seed(&kp2, kp.seed), 0);
    CHECK_MEM(kp.pub, kp2.pub, 32);
    CHECK_EQ_INT(om_ed25519_sign(&kp, msg, sizeof msg, sig), 0);
    CHECK_EQ_INT(om_ed25519_verify(kp.pub, msg, sizeof msg, sig), 0);
    CHECK(om_ed25519_verify(kp.pub, msg, sizeof msg - 1, sig) < 0);
}

static om_rsa_t *test_key; /* generated once: RSA keygen is slow under sanitizers */

static om_rsa_t *get_key(void)
{
    if (!test_key) test_key = om_rsa_generate(1024);
    return test_key;
}

static void test_rsa_der_roundtrip(void)
{
    om_rsa_t *k = get_key();
    CHECK(k != NULL);
    CHECK_EQ_INT(om_rsa_bits(k), 1024);
    CHECK(om_rsa_has_private(k));
    size_t publen = 0, privlen = 0, publen2 = 0;
    uint8_t *pub = om_rsa_public_der(k, &publen);
    uint8_t *priv = om_rsa_private_der(k, &privlen);
    CHECK(pub && priv);
    /* PKCS#1 RSAPublicKey of a 1024-bit key with e=65537 is 140 bytes:
     * SEQUENCE { INTEGER n (129 bytes), INTEGER 65537 } */
    CHECK_EQ_INT(publen, 140);
    CHECK_EQ_INT(pub[0], 0x30);
    UNHEX(e_tail, "0203010001");
    CHECK_MEM(pub + publen - 5, e_tail, 5);
    om_rsa_t *kp = om_rsa_from_public_der(pub, publen);
    CHECK(kp != NULL);
    CHECK(!om_rsa_has_private(kp));
    size_t dummy = 0;
    CHECK(om_rsa_private_der(kp, &dummy) == NULL);
    uint8_t *pub2 = om_rsa_public_der(kp, &publen2);
    CHECK(pub2 != NULL);
    CHECK_EQ_INT(publen2, publen);
    CHECK_MEM(pub2, pub, publen);
    om_rsa_t *ks = om_rsa_from_private_der(priv, privlen);
    CHECK(ks != NULL);
    CHECK(om_rsa_has_private(ks));
    free(pub2);
    pub2 = om_rsa_public_der(ks, &publen2);
    CHECK(pub2 != NULL);
    CHECK_MEM(pub2, pub, publen);
    /* fingerprint = SHA-1 of the DER */
    uint8_t fp[20], fp2[20];
    CHECK_EQ_INT(om_rsa_fingerprint(k, fp), 0);
    CHECK_EQ_INT(om_sha1(pub, publen, fp2), 0);
    CHECK_MEM(fp, fp2, 20);
    CHECK_EQ_INT(om_rsa_fingerprint(kp, fp2), 0);
    CHECK_MEM(fp, fp2, 20);
    /* malformed DER: truncated, trailing garbage, garbage */
    CHECK(om_rsa_from_public_der(pub, publen - 1) == NULL);
    uint8_t *ext = malloc(publen + 1);
    CHECK(ext != NULL);
    memcpy(ext, pub, publen);
    ext[publen] = 0;
    CHECK(om_rsa_from_public_der(ext, publen + 1) == NULL);
    free(ext);
    uint8_t junk[16] = {0x30, 0x0e, 0x02, 0x01};
    CHECK(om_rsa_from_public_der(junk, sizeof junk) == NULL);
    CHECK(om_rsa_from_private_der(pub, publen) == NULL);
    CHECK(om_rsa_from_private_der(priv, privlen - 3) == NULL);
    om_rsa_t *dup = om_rsa_dup_public(ks);
    CHECK(dup != NULL);
    CHECK(!om_rsa_has_private(dup));
    CHECK_EQ_INT(om_rsa_fingerprint(dup, fp2), 0);
    CHECK_MEM(fp, fp2, 20);
    om_rsa_free(dup);
    om_memwipe(priv, privlen);
    free(priv);
    free(pub);
    free(pub2);
    om_rsa_free(kp);
    om_rsa_free(ks);
    om_rsa_free(NULL);
}

static void test_rsa_pem_roundtrip(void)
{
    om_rsa_t *k = get_key();
    CHECK(k != NULL);
    char *pem = om_rsa_public_pem(k);
    CHECK(pem != NULL);
    CHECK(strncmp(pem, "-----BEGIN RSA PUBLIC KEY-----\n", 31) == 0);
    size_t len = strlen(pem);
    CHECK(len > 30);
    CHECK(strcmp(pem + len - 29, "-----END RSA PUBLIC KEY-----\n") == 0);
    /* lines are at most 64 columns */
    for (const char *p = pem, *nl; (nl = strchr(p, '\n')); p = nl + 1)
        CHECK(nl - p <= 64);
    om_rsa_t *k2 = om_rsa_from_public_pem(pem, len);
    CHECK(k2 != NULL);
    uint8_t fp[20], fp2[20];
    CHECK_EQ_INT(om_rsa_fingerprint(k, fp), 0);
    CHECK_EQ_INT(om_rsa_fingerprint(k2, fp2), 0);
    CHECK_MEM(fp, fp2, 20);
    om_rsa_free(k2);
    /* missing END marker, damaged body */
    CHECK(om_rsa_from_public_pem(pem, len - 10) == NULL);
    pem[40] = '*';
    CHECK(om_rsa_from_public_pem(pem, len) == NULL);
    free(pem);
    CHECK(om_rsa_from_public_pem("", 0) == NULL);
}

static void test_rsa_sign_verify_raw(void)
{
    om_rsa_t *k = get_key();
    CHECK(k != NULL);
    uint8_t data[20], sig[128], sig2[128];
    size_t siglen = 0, siglen2 = 0;
    for (int i = 0; i < 20; i++)
        data[i] = (uint8_t)(i * 7);
    CHECK_EQ_INT(om_rsa_sign_raw(k, data, sizeof data, sig, &siglen), 0);
    CHECK_EQ_INT(siglen, 128);
    /* PKCS#1 v1.5 type 1 is deterministic */
    CHECK_EQ_INT(om_rsa_sign_raw(k, data, sizeof data, sig2, &siglen2), 0);
    CHECK_MEM(sig, sig2, 128);
    CHECK_EQ_INT(om_rsa_verify_raw(k, sig, siglen, data, sizeof data), 0);
    /* verify with the public-only key */
    size_t publen;
    uint8_t *pub = om_rsa_public_der(k, &publen);
    CHECK(pub != NULL);
    om_rsa_t *kp = om_rsa_from_public_der(pub, publen);
    free(pub);
    CHECK(kp != NULL);
    CHECK_EQ_INT(om_rsa_verify_raw(kp, sig, siglen, data, sizeof data), 0);
    /* public keys cannot sign */
    CHECK(om_rsa_sign_raw(kp, data, sizeof data, sig2, &siglen2) < 0);
    /* wrong data, truncated data, tampered signature */
    uint8_t other[20];
    memcpy(other, data, 20);
    other[19] ^= 1;
    CHECK(om_rsa_verify_raw(kp, sig, siglen, other, sizeof other) < 0);
    CHECK(om_rsa_verify_raw(kp, sig, siglen, data, 19) < 0);
    sig[60] ^= 0x40;
    CHECK(om_rsa_verify_raw(kp, sig, siglen, data, sizeof data) < 0);
    CHECK(om_rsa_verify_raw(kp, sig, 0, data, sizeof data) < 0);
    /* data too long for the padding is refused */
    uint8_t big[128] = {0};
    CHECK(om_rsa_sign_raw(k, big, 118, sig2, &siglen2) < 0);
    CHECK_EQ_INT(om_rsa_sign_raw(k, big, 117, sig2, &siglen2), 0);
    CHECK_EQ_INT(om_rsa_verify_raw(kp, sig2, siglen2, big, 117), 0);
    /* the EVP_PKEY wrap shares the key */
    om_rsa_t *w = om_rsa_wrap_evp_pkey(om_rsa_evp_pkey(k));
    CHECK(w != NULL);
    CHECK(om_rsa_has_private(w));
    CHECK_EQ_INT(om_rsa_sign_raw(w, data, sizeof data, sig2, &siglen2), 0);
    CHECK_EQ_INT(om_rsa_verify_raw(kp, sig2, siglen2, data, sizeof data), 0);
    om_rsa_free(w);
    w = om_rsa_wrap_evp_pkey(om_rsa_evp_pkey(kp));
    CHECK(w != NULL);
    CHECK(!om_rsa_has_private(w));
    om_rsa_free(w);
    CHECK(om_rsa_wrap_evp_pkey(NULL) == NULL);
    om_rsa_free(kp);
}

/* Must run last: frees the shared key. */
static void test_rsa_cleanup(void)
{
    om_rsa_free(test_key);
    test_key = NULL;
    CHECK(om_rsa_generate(100) == NULL); /* absurd sizes refused */
}

static const om_test_t tests[] = {
    OM_TEST(test_memory_helpers),
    OM_TEST(test_digests_abc),
    OM_TEST(test_incremental_digest),
    OM_TEST(test_hmac_sha256),
    OM_TEST(test_hkdf_rfc5869_case1),
    OM_TEST(test_hkdf_rfc5869_case3),
    OM_TEST(test_kdf_tor),
    OM_TEST(test_aes128_ctr),
    OM_TEST(test_aes_zero_iv_and_256),
    OM_TEST(test_x25519_rfc7748),
    OM_TEST(test_x25519_keygen_and_zero),
    OM_TEST(test_ed25519_rfc8032),
    OM_TEST(test_ed25519_keygen),
    OM_TEST(test_rsa_der_roundtrip),
    OM_TEST(test_rsa_pem_roundtrip),
    OM_TEST(test_rsa_sign_verify_raw),
    OM_TEST(test_rsa_cleanup),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("crypto", tests, argc, argv);
}

/* crypto.c — OpenSSL 3 EVP wrappers (see crypto.h), symmetric half: memory and randomness, the
 * algorithms fetched once, digests (one-shot and incremental), HMAC, HKDF, KDF-TOR, AES-CTR.
 * Public-key operations: crypto_pk.c. No primitive is written by hand. */
#include "core/crypto.h"

#include <stdlib.h>
#include <pthread.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

/* An always-valid pointer for zero-length inputs, since some EVP calls reject NULL buffers. */
static const uint8_t om_empty[1];

/* ---------------------------------------------------------------- memory and randomness */

void om_memwipe(void *p, size_t n)
{
    if (p && n) OPENSSL_cleanse(p, n);
}

int om_rand_bytes(uint8_t *out, size_t n)
{
    while (n > 0) {
        int chunk = n > (1u << 30) ? (1 << 30) : (int)n;
        if (RAND_bytes(out, chunk) != 1) return -1;
        out += chunk;
        n -= (size_t)chunk;
    }
    return 0;
}

bool om_mem_eq_ct(const void *a, const void *b, size_t n)
{
    return n == 0 || CRYPTO_memcmp(a, b, n) == 0;
}

bool om_mem_is_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= b[i];
    return acc == 0;
}

/* ---------------------------------------------------------------- fetched algorithms */

/* OpenSSL 3 looks algorithms up by name on every use of EVP_sha256() & co. ("implicit fetch"),
 * which costs more than hashing a cell. Each algorithm is fetched once and kept for the life of
 * the process; HMAC and HKDF keep a template context with the digest already set, duplicated per
 * call. */
static EVP_MD *md_sha1, *md_sha256, *md_sha3, *md_shake;
static EVP_MAC_CTX *hmac_tmpl;
static EVP_KDF_CTX *hkdf_tmpl;
static EVP_MAC *mac_hmac;
static EVP_KDF *kdf_hkdf;
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetch_all(void)
{
    md_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
    md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    md_sha3 = EVP_MD_fetch(NULL, "SHA3-256", NULL);
    md_shake = EVP_MD_fetch(NULL, "SHAKE256", NULL);
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac) {
        hmac_tmpl = EVP_MAC_CTX_new(mac);
        OSSL_PARAM params[2] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
            OSSL_PARAM_construct_end()};
        if (hmac_tmpl && EVP_MAC_CTX_set_params(hmac_tmpl, params) != 1) {
            EVP_MAC_CTX_free(hmac_tmpl);
            hmac_tmpl = NULL;
        }
        mac_hmac = mac;
    }
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    if (kdf) {
        hkdf_tmpl = EVP_KDF_CTX_new(kdf);
        OSSL_PARAM params[2] = {
            OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
            OSSL_PARAM_construct_end()};
        if (hkdf_tmpl && EVP_KDF_CTX_set_params(hkdf_tmpl, params) != 1) {
            EVP_KDF_CTX_free(hkdf_tmpl);
            hkdf_tmpl = NULL;
        }
        kdf_hkdf = kdf;
    }
}

static const EVP_MD *md_of(const char *name)
{
    pthread_once(&fetch_once, fetch_all);
    if (!strcmp(name, "SHA1")) return md_sha1 ? md_sha1 : EVP_sha1();
    if (!strcmp(name, "SHA256")) return md_sha256 ? md_sha256 : EVP_sha256();
    if (!strcmp(name, "SHA3-256")) return md_sha3 ? md_sha3 : EVP_sha3_256();
    return md_shake ? md_shake : EVP_shake256();
}

/* ---------------------------------------------------------------- one-shot digests */

static int digest_oneshot(const EVP_MD *md, const uint8_t *in, size_t n, uint8_t *out)
{
    if (!in) in = om_empty;
    return EVP_Digest(in, n, out, NULL, md, NULL) == 1 ? 0 : -1;
}

int om_sha1(const uint8_t *in, size_t n, uint8_t out[OM_SHA1_LEN])
{
    return digest_oneshot(md_of("SHA1"), in, n, out);
}

int om_sha256(const uint8_t *in, size_t n, uint8_t out[OM_SHA256_LEN])
{
    return digest_oneshot(md_of("SHA256"), in, n, out);
}

int om_sha3_256(const uint8_t *in, size_t n, uint8_t out[32])
{
    return digest_oneshot(md_of("SHA3-256"), in, n, out);
}

int om_shake256(const uint8_t *in, size_t n, uint8_t *out, size_t outlen)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rv = -1;
    if (!ctx) return -1;
    if (!in) in = om_empty;
    if (EVP_DigestInit_ex(ctx, md_of("SHAKE256"), NULL) == 1 && EVP_DigestUpdate(ctx, in, n) == 1 &&
        (outlen == 0 || EVP_DigestFinalXOF(ctx, out, outlen) == 1))
        rv = 0;
    EVP_MD_CTX_free(ctx);
    return rv;
}

int om_hmac_sha256(const uint8_t *key, size_t keylen, const uint8_t *msg, size_t n,
                   uint8_t out[OM_SHA256_LEN])
{
    pthread_once(&fetch_once, fetch_all);
    EVP_MAC_CTX *ctx = hmac_tmpl ? EVP_MAC_CTX_dup(hmac_tmpl) : NULL;
    OSSL_PARAM params[2] = {OSSL_PARAM_construct_end(), OSSL_PARAM_construct_end()};
    size_t outlen = 0;
    int rv = -1;
    if (!ctx && mac_hmac) { /* no dup support: a fresh context, digest by name */
        ctx = EVP_MAC_CTX_new(mac_hmac);
        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    }
    if (!ctx) goto done;
    if (!key) key = om_empty;
    if (!msg) msg = om_empty;
    if (EVP_MAC_init(ctx, key, keylen, params) != 1 || EVP_MAC_update(ctx, msg, n) != 1 ||
        EVP_MAC_final(ctx, out, &outlen, OM_SHA256_LEN) != 1 || outlen != OM_SHA256_LEN)
        goto done;
    rv = 0;
done:
    EVP_MAC_CTX_free(ctx);
    return rv;
}

/* ---------------------------------------------------------------- incremental digests */

struct om_digest {
    om_digest_alg_t alg;
    size_t len;
    EVP_MD_CTX *ctx;
    /* Scratch context for om_digest_peek, so the running state is never finalized. Mutated by
     * peek even though d is const: a digest object must not be shared between threads. */
    EVP_MD_CTX *scratch;
};

static const EVP_MD *alg_md(om_digest_alg_t alg)
{
    switch (alg) {
    case OM_DIGEST_SHA1:
        return md_of("SHA1");
    case OM_DIGEST_SHA256:
        return md_of("SHA256");
    case OM_DIGEST_SHA3_256:
        return md_of("SHA3-256");
    }
    return NULL;
}

static om_digest_t *digest_alloc(om_digest_alg_t alg)
{
    const EVP_MD *md = alg_md(alg);
    om_digest_t *d;
    if (!md) return NULL;
    d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->alg = alg;
    d->len = (size_t)EVP_MD_get_size(md);
    d->ctx = EVP_MD_CTX_new();
    d->scratch = EVP_MD_CTX_new();
    if (!d->ctx || !d->scratch) {
        om_digest_free(d);
        return NULL;
    }
    return d;
}

om_digest_t *om_digest_new(om_digest_alg_t alg)
{
    om_digest_t *d = digest_alloc(alg);
    if (!d) return NULL;
    if (EVP_DigestInit_ex(d->ctx, alg_md(alg), NULL) != 1) {
        om_digest_free(d);
        return NULL;
    }
    return d;
}

om_digest_t *om_digest_dup(const om_digest_t *src)
{
    om_digest_t *d;
    if (!src) return NULL;
    d = digest_alloc(src->alg);
    if (!d) return NULL;
    if (EVP_MD_CTX_copy_ex(d->ctx, src->ctx) != 1) {
        om_digest_free(d);
        return NULL;
    }
    return d;
}

int om_digest_update(om_digest_t *d, const uint8_t *in, size_t n)
{
    if (n == 0) return 0;
    return EVP_DigestUpdate(d->ctx, in, n) == 1 ? 0 : -1;
}

int om_digest_peek(const om_digest_t *d, uint8_t *out, size_t outlen)
{
    uint8_t buf[EVP_MAX_MD_SIZE];
    int rv = -1;
    if (outlen > d->len) return -1;
    if (EVP_MD_CTX_copy_ex(d->scratch, d->ctx) == 1 &&
        EVP_DigestFinal_ex(d->scratch, buf, NULL) == 1) {
        memcpy(out, buf, outlen);
        rv = 0;
    }
    om_memwipe(buf, sizeof buf);
    return rv;
}

int om_digest_assign(om_digest_t *dst, const om_digest_t *src)
{
    if (dst->alg != src->alg) return -1;
    if (dst == src) return 0;
    return EVP_MD_CTX_copy_ex(dst->ctx, src->ctx) == 1 ? 0 : -1;
}

size_t om_digest_len(const om_digest_t *d)
{
    return d->len;
}

void om_digest_free(om_digest_t *d)
{
    if (!d) return;
    EVP_MD_CTX_free(d->ctx);
    EVP_MD_CTX_free(d->scratch);
    free(d);
}

/* ---------------------------------------------------------------- key derivation */

static int hkdf_run(int mode, const uint8_t *salt, size_t saltlen, const uint8_t *key,
                    size_t keylen, const uint8_t *info, size_t infolen, uint8_t *out, size_t outlen)
{
    EVP_KDF_CTX *ctx = NULL;
    OSSL_PARAM params[7], *p = params;
    int rv = -1;

    if (outlen == 0) return 0;
    if (outlen > 255 * OM_SHA256_LEN || keylen == 0) return -1;
    pthread_once(&fetch_once, fetch_all);
    ctx = hkdf_tmpl ? EVP_KDF_CTX_dup(hkdf_tmpl) : NULL; /* digest already SHA-256 */
    if (!ctx && kdf_hkdf) { /* OpenSSL 3.0's HKDF cannot be duplicated */
        ctx = EVP_KDF_CTX_new(kdf_hkdf);
        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    }
    if (!ctx) goto done;
    *p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, keylen);
    /* An absent salt is RFC 5869's default (HashLen zero bytes), same as an empty one. */
    if (salt && saltlen)
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, saltlen);
    if (info && infolen)
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, infolen);
    *p = OSSL_PARAM_construct_end();
    if (EVP_KDF_derive(ctx, out, outlen, params) == 1) rv = 0;
done:
    EVP_KDF_CTX_free(ctx);
    return rv;
}

int om_hkdf_sha256(const uint8_t *salt, size_t saltlen, const uint8_t *ikm, size_t ikmlen,
                   const uint8_t *info, size_t infolen, uint8_t *out, size_t outlen)
{
    return hkdf_run(EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND, salt, saltlen, ikm, ikmlen, info, infolen,
                    out, outlen);
}

int om_hkdf_sha256_expand(const uint8_t *prk, size_t prklen, const uint8_t *info, size_t infolen,
                          uint8_t *out, size_t outlen)
{
    return hkdf_run(EVP_KDF_HKDF_MODE_EXPAND_ONLY, NULL, 0, prk, prklen, info, infolen, out,
                    outlen);
}

/* tor-spec 5.2.1: K = H(K0 | [00]) | H(K0 | [01]) | H(K0 | [02]) | ... truncated to outlen. */
int om_kdf_tor(const uint8_t *k0, size_t k0len, uint8_t *out, size_t outlen)
{
    EVP_MD_CTX *ctx;
    uint8_t block[OM_SHA1_LEN];
    int rv = -1;
    if (outlen > 255 * OM_SHA1_LEN) return -1;
    if (!k0) k0 = om_empty;
    ctx = EVP_MD_CTX_new();
    if (!ctx) return -1;
    for (unsigned i = 0; outlen > 0; i++) {
        uint8_t ctr = (uint8_t)i;
        size_t take = outlen < OM_SHA1_LEN ? outlen : OM_SHA1_LEN;
        if (EVP_DigestInit_ex(ctx, md_of("SHA1"), NULL) != 1 ||
            EVP_DigestUpdate(ctx, k0, k0len) != 1 || EVP_DigestUpdate(ctx, &ctr, 1) != 1 ||
            EVP_DigestFinal_ex(ctx, block, NULL) != 1)
            goto done;
        memcpy(out, block, take);
        out += take;
        outlen -= take;
    }
    rv = 0;
done:
    om_memwipe(block, sizeof block);
    EVP_MD_CTX_free(ctx);
    return rv;
}

/* ---------------------------------------------------------------- AES-CTR */

struct om_aes {
    EVP_CIPHER_CTX *ctx;
};

static om_aes_t *aes_ctr_new(const char *name, const uint8_t *key, const uint8_t *iv)
{
    static const uint8_t zero_iv[16];
    EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, name, NULL);
    om_aes_t *c = NULL;
    if (!cipher) return NULL;
    c = calloc(1, sizeof *c);
    if (!c) goto fail;
    c->ctx = EVP_CIPHER_CTX_new();
    if (!c->ctx || EVP_EncryptInit_ex2(c->ctx, cipher, key, iv ? iv : zero_iv, NULL) != 1)
        goto fail;
    EVP_CIPHER_free(cipher); /* the context keeps its own reference */
    return c;
fail:
    EVP_CIPHER_free(cipher);
    om_aes_free(c);
    return NULL;
}

om_aes_t *om_aes128_ctr_new(const uint8_t key[16], const uint8_t iv[16])
{
    return aes_ctr_new("AES-128-CTR", key, iv);
}

om_aes_t *om_aes256_ctr_new(const uint8_t key[32], const uint8_t iv[16])
{
    return aes_ctr_new("AES-256-CTR", key, iv);
}

int om_aes_crypt(om_aes_t *c, const uint8_t *in, uint8_t *out, size_t n)
{
    while (n > 0) {
        int chunk = n > (1u << 30) ? (1 << 30) : (int)n;
        int outl = 0;
        if (EVP_EncryptUpdate(c->ctx, out, &outl, in, chunk) != 1 || outl != chunk) return -1;
        in += chunk;
        out += chunk;
        n -= (size_t)chunk;
    }
    return 0;
}

void om_aes_free(om_aes_t *c)
{
    if (!c) return;
    EVP_CIPHER_CTX_free(c->ctx); /* clears the key schedule */
    free(c);
}

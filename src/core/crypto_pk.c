/* crypto_pk.c — OpenSSL 3 EVP wrappers (see crypto.h), public-key half: X25519 (with a
 * per-thread cache of imported keys), Ed25519, and RSA with tor's raw PKCS#1 v1.5 signatures and
 * its key encodings. No primitive is written by hand. */
#include "core/crypto.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rsa.h>

/* Refuse to parse RSA keys larger than this (DoS guard for keys read off the network). */
#define OM_RSA_MAX_BITS 8192

/* An always-valid pointer for zero-length inputs, since some EVP calls reject NULL buffers. */
static const uint8_t om_empty[1];

/* ---------------------------------------------------------------- X25519 */

int om_x25519_pub_from_sec(const uint8_t sec[32], uint8_t pub[32])
{
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sec, 32);
    size_t len = 32;
    int rv = -1;
    if (!k) return -1;
    if (EVP_PKEY_get_raw_public_key(k, pub, &len) == 1 && len == 32) rv = 0;
    EVP_PKEY_free(k);
    return rv;
}

/* Imported X25519 key objects, per thread, by secret scalar. Importing a private key makes
 * OpenSSL 3.0 recompute its public key (a whole Montgomery ladder, as costly as the DH itself),
 * so a relay's long-lived onion key is imported once, and a fresh ephemeral key is used as
 * generated. Entries are evicted least-recently-used, and om_x25519_forget drops one as soon as
 * the secret is discarded (ephemeral keys must not outlive their handshake). */
#define X25519_CACHE 4
static __thread struct {
    uint8_t sec[32];
    EVP_PKEY *k;
    uint64_t used;
} xcache[X25519_CACHE];
static __thread uint64_t xcache_clock;

static EVP_PKEY *xcache_get(const uint8_t sec[32])
{
    for (int i = 0; i < X25519_CACHE; i++)
        if (xcache[i].k && CRYPTO_memcmp(xcache[i].sec, sec, 32) == 0) {
            xcache[i].used = ++xcache_clock;
            return xcache[i].k;
        }
    return NULL;
}

/* Takes ownership of k. */
static void xcache_put(const uint8_t sec[32], EVP_PKEY *k)
{
    int victim = 0;
    for (int i = 1; i < X25519_CACHE; i++)
        if (!xcache[i].k || (xcache[victim].k && xcache[i].used < xcache[victim].used)) victim = i;
    EVP_PKEY_free(xcache[victim].k);
    memcpy(xcache[victim].sec, sec, 32);
    xcache[victim].k = k;
    xcache[victim].used = ++xcache_clock;
}

void om_x25519_forget(const uint8_t sec[32])
{
    for (int i = 0; i < X25519_CACHE; i++)
        if (xcache[i].k && CRYPTO_memcmp(xcache[i].sec, sec, 32) == 0) {
            EVP_PKEY_free(xcache[i].k);
            xcache[i].k = NULL;
            om_memwipe(xcache[i].sec, 32);
        }
}

int om_x25519_keygen(om_x25519_keypair_t *kp)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    size_t sl = 32, pl = 32;
    if (!k || EVP_PKEY_get_raw_private_key(k, kp->sec, &sl) != 1 || sl != 32 ||
        EVP_PKEY_get_raw_public_key(k, kp->pub, &pl) != 1 || pl != 32) {
        EVP_PKEY_free(k);
        om_memwipe(kp->sec, sizeof kp->sec);
        return -1;
    }
    xcache_put(kp->sec, k);
    return 0;
}

/* An X25519 key object for derivation only. EVP_PKEY_new_raw_private_key would compute the
 * public key, which in OpenSSL 3.0 costs a whole Montgomery ladder and doubles the cost of every
 * DH; deriving uses only the private scalar, so the key is imported with a placeholder public
 * part. Never export or reuse this object. Falls back to the ordinary import if refused. */
static EVP_PKEY *x25519_derive_key(const uint8_t sec[32])
{
    static const uint8_t placeholder[32];
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "X25519", NULL);
    EVP_PKEY *k = NULL;
    OSSL_PARAM params[3];
    params[0] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, (void *)sec, 32);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)placeholder, 32);
    params[2] = OSSL_PARAM_construct_end();
    if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_KEYPAIR, params) != 1) {
        EVP_PKEY_free(k);
        ERR_clear_error();
        k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sec, 32);
    }
    EVP_PKEY_CTX_free(ctx);
    return k;
}

int om_x25519(uint8_t out[32], const uint8_t sec[32], const uint8_t pub[32])
{
    EVP_PKEY *mine = xcache_get(sec);
    if (!mine) {
        mine = x25519_derive_key(sec);
        if (mine) xcache_put(sec, mine);
    }
    EVP_PKEY *peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pub, 32);
    EVP_PKEY_CTX *ctx = NULL;
    size_t len = 32;
    int rv = -1;
    if (!mine || !peer) goto done;
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, mine, NULL);
    if (!ctx || EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, peer) != 1 ||
        EVP_PKEY_derive(ctx, out, &len) != 1 || len != 32)
        goto done;
    /* Reject the all-zero output of a small-order peer point (tor-spec 5.1.4). */
    if (om_mem_is_zero(out, 32)) goto done;
    rv = 0;
done:
    if (rv < 0) {
        om_memwipe(out, 32);
        ERR_clear_error();
    }
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(peer); /* mine belongs to the cache */
    return rv;
}

/* ---------------------------------------------------------------- Ed25519 */

int om_ed25519_from_seed(om_ed25519_keypair_t *kp, const uint8_t seed[32])
{
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
    size_t len = OM_ED25519_PUB_LEN;
    int rv = -1;
    if (!k) return -1;
    if (EVP_PKEY_get_raw_public_key(k, kp->pub, &len) == 1 && len == OM_ED25519_PUB_LEN) {
        if (kp->seed != seed) memmove(kp->seed, seed, OM_ED25519_SEED_LEN);
        rv = 0;
    }
    EVP_PKEY_free(k);
    return rv;
}

int om_ed25519_keygen(om_ed25519_keypair_t *kp)
{
    uint8_t seed[OM_ED25519_SEED_LEN];
    int rv;
    if (om_rand_bytes(seed, sizeof seed) < 0) return -1;
    rv = om_ed25519_from_seed(kp, seed);
    om_memwipe(seed, sizeof seed);
    return rv;
}

int om_ed25519_sign(const om_ed25519_keypair_t *kp, const uint8_t *msg, size_t n,
                    uint8_t sig[OM_ED25519_SIG_LEN])
{
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, kp->seed, 32);
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    size_t siglen = OM_ED25519_SIG_LEN;
    int rv = -1;
    if (!k || !mctx) goto done;
    if (!msg) msg = om_empty;
    if (EVP_DigestSignInit(mctx, NULL, NULL, NULL, k) == 1 &&
        EVP_DigestSign(mctx, sig, &siglen, msg, n) == 1 && siglen == OM_ED25519_SIG_LEN)
        rv = 0;
done:
    EVP_MD_CTX_free(mctx);
    EVP_PKEY_free(k);
    return rv;
}

int om_ed25519_verify(const uint8_t pub[32], const uint8_t *msg, size_t n,
                      const uint8_t sig[OM_ED25519_SIG_LEN])
{
    EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    int rv = -1;
    if (!k || !mctx) goto done;
    if (!msg) msg = om_empty;
    if (EVP_DigestVerifyInit(mctx, NULL, NULL, NULL, k) == 1 &&
        EVP_DigestVerify(mctx, sig, OM_ED25519_SIG_LEN, msg, n) == 1)
        rv = 0;
done:
    if (rv < 0) ERR_clear_error();
    EVP_MD_CTX_free(mctx);
    EVP_PKEY_free(k);
    return rv;
}

/* ---------------------------------------------------------------- RSA */

struct om_rsa {
    EVP_PKEY *pkey;
    bool has_private;
};

static om_rsa_t *rsa_wrap_owned(EVP_PKEY *pkey, bool has_private)
{
    om_rsa_t *k;
    if (!pkey) return NULL;
    if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA || EVP_PKEY_get_bits(pkey) <= 0 ||
        EVP_PKEY_get_bits(pkey) > OM_RSA_MAX_BITS) {
        EVP_PKEY_free(pkey);
        return NULL;
    }
    k = calloc(1, sizeof *k);
    if (!k) {
        EVP_PKEY_free(pkey);
        return NULL;
    }
    k->pkey = pkey;
    k->has_private = has_private;
    return k;
}

om_rsa_t *om_rsa_generate(int bits)
{
    if (bits < 512 || bits > OM_RSA_MAX_BITS) return NULL;
    /* EVP_PKEY_Q_keygen for RSA uses e = 65537. */
    return rsa_wrap_owned(EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits), true);
}

om_rsa_t *om_rsa_from_public_der(const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    EVP_PKEY *pkey;
    if (!der || len == 0 || len > 4096) return NULL;
    pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)len);
    if (!pkey) {
        ERR_clear_error();
        return NULL;
    }
    if (p != der + len) { /* trailing bytes after the RSAPublicKey */
        EVP_PKEY_free(pkey);
        return NULL;
    }
    return rsa_wrap_owned(pkey, false);
}

om_rsa_t *om_rsa_from_private_der(const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    EVP_PKEY *pkey;
    if (!der || len == 0 || len > 16384) return NULL;
    pkey = d2i_PrivateKey(EVP_PKEY_RSA, NULL, &p, (long)len);
    if (!pkey) {
        ERR_clear_error();
        return NULL;
    }
    if (p != der + len) {
        EVP_PKEY_free(pkey);
        return NULL;
    }
    return rsa_wrap_owned(pkey, true);
}

uint8_t *om_rsa_public_der(const om_rsa_t *k, size_t *len)
{
    int n = i2d_PublicKey(k->pkey, NULL);
    uint8_t *buf, *p;
    if (n <= 0) return NULL;
    buf = malloc((size_t)n);
    if (!buf) return NULL;
    p = buf;
    if (i2d_PublicKey(k->pkey, &p) != n) {
        free(buf);
        return NULL;
    }
    *len = (size_t)n;
    return buf;
}

uint8_t *om_rsa_private_der(const om_rsa_t *k, size_t *len)
{
    int n;
    uint8_t *buf, *p;
    if (!k->has_private) return NULL;
    n = i2d_PrivateKey(k->pkey, NULL);
    if (n <= 0) return NULL;
    buf = malloc((size_t)n);
    if (!buf) return NULL;
    p = buf;
    if (i2d_PrivateKey(k->pkey, &p) != n) {
        om_memwipe(buf, (size_t)n);
        free(buf);
        return NULL;
    }
    *len = (size_t)n;
    return buf;
}

#define PEM_PUB_BEGIN "-----BEGIN RSA PUBLIC KEY-----"
#define PEM_PUB_END   "-----END RSA PUBLIC KEY-----"

char *om_rsa_public_pem(const om_rsa_t *k)
{
    size_t derlen = 0, b64sz, cap, off = 0;
    uint8_t *der = om_rsa_public_der(k, &derlen);
    char *b64 = NULL, *pem = NULL;
    int b64len;
    if (!der) return NULL;
    b64sz = 4 * ((derlen + 2) / 3) + 1;
    b64 = malloc(b64sz);
    if (!b64) goto done;
    b64len = om_base64_encode(der, derlen, b64, b64sz, false);
    if (b64len < 0) goto done;
    /* 64-column lines, as OpenSSL and tor write them. */
    cap = sizeof PEM_PUB_BEGIN + sizeof PEM_PUB_END + (size_t)b64len + (size_t)b64len / 64 + 4;
    pem = malloc(cap);
    if (!pem) goto done;
    memcpy(pem, PEM_PUB_BEGIN "\n", sizeof PEM_PUB_BEGIN);
    off = sizeof PEM_PUB_BEGIN;
    for (int i = 0; i < b64len; i += 64) {
        int take = b64len - i < 64 ? b64len - i : 64;
        memcpy(pem + off, b64 + i, (size_t)take);
        off += (size_t)take;
        pem[off++] = '\n';
    }
    memcpy(pem + off, PEM_PUB_END "\n", sizeof PEM_PUB_END + 1);
done:
    free(b64);
    free(der);
    return pem;
}

static const char *mem_find(const char *hay, size_t haylen, const char *needle)
{
    size_t nl = strlen(needle);
    if (nl > haylen) return NULL;
    for (size_t i = 0; i + nl <= haylen; i++)
        if (memcmp(hay + i, needle, nl) == 0) return hay + i;
    return NULL;
}

om_rsa_t *om_rsa_from_public_pem(const char *pem, size_t len)
{
    const char *b, *e;
    uint8_t *der;
    size_t body;
    int derlen;
    om_rsa_t *k = NULL;
    if (!pem) return NULL;
    b = mem_find(pem, len, PEM_PUB_BEGIN);
    if (!b) return NULL;
    b += strlen(PEM_PUB_BEGIN);
    e = mem_find(b, len - (size_t)(b - pem), PEM_PUB_END);
    if (!e) return NULL;
    body = (size_t)(e - b);
    der = malloc(body ? body : 1); /* decoded length < encoded length */
    if (!der) return NULL;
    derlen = om_base64_decode(b, body, der, body);
    if (derlen > 0) k = om_rsa_from_public_der(der, (size_t)derlen);
    free(der);
    return k;
}

int om_rsa_bits(const om_rsa_t *k)
{
    return EVP_PKEY_get_bits(k->pkey);
}

bool om_rsa_has_private(const om_rsa_t *k)
{
    return k->has_private;
}

/* A digest of the PKCS#1 DER public key (tor's crypto_pk_get_common_digests). */
static int rsa_public_digest(const om_rsa_t *k, bool sha256, uint8_t *out)
{
    size_t len = 0;
    uint8_t *der = om_rsa_public_der(k, &len);
    int rv;
    if (!der) return -1;
    rv = sha256 ? om_sha256(der, len, out) : om_sha1(der, len, out);
    free(der);
    return rv;
}

int om_rsa_fingerprint(const om_rsa_t *k, uint8_t out[OM_SHA1_LEN])
{
    return rsa_public_digest(k, false, out);
}

int om_rsa_digest256(const om_rsa_t *k, uint8_t out[OM_SHA256_LEN])
{
    return rsa_public_digest(k, true, out);
}

int om_rsa_sign_raw(const om_rsa_t *k, const uint8_t *data, size_t n, uint8_t *sig, size_t *siglen)
{
    EVP_PKEY_CTX *ctx;
    int size = EVP_PKEY_get_size(k->pkey);
    size_t outlen = (size_t)size;
    int rv = -1;
    if (!k->has_private || size <= 0 || n + 11 > (size_t)size) return -1;
    if (!data) data = om_empty;
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
    /* No signature digest set: the provider applies type-1 padding to the raw data, which is
     * tor's "PKCS#1 v1.5 without DigestInfo" signature (tor-spec 0.3). */
    if (ctx && EVP_PKEY_sign_init(ctx) == 1 &&
        EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
        EVP_PKEY_sign(ctx, sig, &outlen, data, n) == 1) {
        *siglen = outlen;
        rv = 0;
    }
    if (rv < 0) ERR_clear_error();
    EVP_PKEY_CTX_free(ctx);
    return rv;
}

int om_rsa_verify_raw(const om_rsa_t *k, const uint8_t *sig, size_t siglen, const uint8_t *data,
                      size_t n)
{
    EVP_PKEY_CTX *ctx;
    uint8_t rec[OM_RSA_MAX_BITS / 8];
    int size = EVP_PKEY_get_size(k->pkey);
    size_t reclen = sizeof rec;
    int rv = -1;
    if (!sig || size <= 0 || (size_t)size > sizeof rec || siglen == 0 || siglen > (size_t)size)
        return -1;
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
    if (ctx && EVP_PKEY_verify_recover_init(ctx) == 1 &&
        EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
        EVP_PKEY_verify_recover(ctx, rec, &reclen, sig, siglen) == 1 && reclen == n &&
        (n == 0 || CRYPTO_memcmp(rec, data, n) == 0))
        rv = 0;
    if (rv < 0) ERR_clear_error();
    EVP_PKEY_CTX_free(ctx);
    return rv;
}

om_rsa_t *om_rsa_dup_public(const om_rsa_t *k)
{
    size_t len = 0;
    uint8_t *der = om_rsa_public_der(k, &len);
    om_rsa_t *r;
    if (!der) return NULL;
    r = om_rsa_from_public_der(der, len);
    free(der);
    return r;
}

void *om_rsa_evp_pkey(const om_rsa_t *k)
{
    return k->pkey;
}

om_rsa_t *om_rsa_wrap_evp_pkey(void *evp_pkey)
{
    EVP_PKEY *pkey = evp_pkey;
    BIGNUM *d = NULL;
    bool priv;
    if (!pkey || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) return NULL;
    priv = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_D, &d) == 1 && d != NULL;
    BN_clear_free(d);
    ERR_clear_error();
    if (EVP_PKEY_up_ref(pkey) != 1) return NULL;
    return rsa_wrap_owned(pkey, priv);
}

void om_rsa_free(om_rsa_t *k)
{
    if (!k) return;
    EVP_PKEY_free(k->pkey);
    free(k);
}

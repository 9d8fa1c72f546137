/* crypto.h — thin wrappers over OpenSSL 3 EVP: digests, HMAC, HKDF, KDF-TOR, AES-CTR, X25519,
 * Ed25519, RSA (tor's raw PKCS#1 v1.5 signatures), randomness and memory wiping.
 * No primitive is implemented here by hand; every function is a call into OpenSSL's EVP API.
 * Return convention: 0 on success, -1 on failure, unless stated otherwise. */
#ifndef OM_CORE_CRYPTO_H
#define OM_CORE_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OM_SHA1_LEN         20
#define OM_SHA256_LEN       32
#define OM_AES128_KEY_LEN   16
#define OM_CURVE25519_LEN   32
#define OM_ED25519_PUB_LEN  32
#define OM_ED25519_SEED_LEN 32
#define OM_ED25519_SIG_LEN  64

/* ---- memory and randomness ---- */
void om_memwipe(void *p, size_t n);                        /* OPENSSL_cleanse */
int om_rand_bytes(uint8_t *out, size_t n);                 /* RAND_bytes */
bool om_mem_eq_ct(const void *a, const void *b, size_t n); /* CRYPTO_memcmp == 0 */
bool om_mem_is_zero(const void *p, size_t n);

/* ---- one-shot digests ---- */
int om_sha1(const uint8_t *in, size_t n, uint8_t out[OM_SHA1_LEN]);
int om_sha256(const uint8_t *in, size_t n, uint8_t out[OM_SHA256_LEN]);
int om_sha3_256(const uint8_t *in, size_t n, uint8_t out[32]);
int om_shake256(const uint8_t *in, size_t n, uint8_t *out, size_t outlen);
int om_hmac_sha256(const uint8_t *key, size_t keylen, const uint8_t *msg, size_t n,
                   uint8_t out[OM_SHA256_LEN]);

/* ---- incremental digests (running relay digests, SHA3 in ntor-v3) ---- */
typedef enum { OM_DIGEST_SHA1, OM_DIGEST_SHA256, OM_DIGEST_SHA3_256 } om_digest_alg_t;
typedef struct om_digest om_digest_t;
om_digest_t *om_digest_new(om_digest_alg_t alg);
om_digest_t *om_digest_dup(const om_digest_t *d);
int om_digest_update(om_digest_t *d, const uint8_t *in, size_t n);
/* Output of the digest of everything so far, without finalizing d (tor's
 * crypto_digest_get_digest). outlen may be shorter than the digest length (truncates).
 * Works in a scratch context inside d: do not peek at one digest from two threads at once. */
int om_digest_peek(const om_digest_t *d, uint8_t *out, size_t outlen);
/* Copy the whole state of src into dst (same algorithm); used to save/restore a running digest. */
int om_digest_assign(om_digest_t *dst, const om_digest_t *src);
size_t om_digest_len(const om_digest_t *d);
void om_digest_free(om_digest_t *d);

/* ---- key derivation (tor-spec 5.2) ---- */
/* Full RFC 5869 HKDF-SHA256 (extract + expand). */
int om_hkdf_sha256(const uint8_t *salt, size_t saltlen, const uint8_t *ikm, size_t ikmlen,
                   const uint8_t *info, size_t infolen, uint8_t *out, size_t outlen);
/* RFC 5869 expand step only, PRK given (KDF-RFC5869 in tor-spec 5.2.2). */
int om_hkdf_sha256_expand(const uint8_t *prk, size_t prklen, const uint8_t *info, size_t infolen,
                          uint8_t *out, size_t outlen);
/* KDF-TOR, tor-spec 5.2.1: K = H(K0|[00]) | H(K0|[01]) | ... with SHA-1. outlen <= 255*20. */
int om_kdf_tor(const uint8_t *k0, size_t k0len, uint8_t *out, size_t outlen);

/* ---- AES-128-CTR stream cipher (tor-spec 0.3), IV = 0 unless given ---- */
typedef struct om_aes om_aes_t;
om_aes_t *om_aes128_ctr_new(const uint8_t key[16], const uint8_t iv[16] /* NULL: zero IV */);
/* Encrypt or decrypt (same operation) n bytes; in == out allowed. */
int om_aes_crypt(om_aes_t *c, const uint8_t *in, uint8_t *out, size_t n);
void om_aes_free(om_aes_t *c);
/* Also AES-256-CTR (ntor-v3 encrypted messages use a 256-bit key). */
om_aes_t *om_aes256_ctr_new(const uint8_t key[32], const uint8_t iv[16]);

/* ---- X25519 (curve25519 Diffie-Hellman) ---- */
typedef struct {
    uint8_t pub[OM_CURVE25519_LEN];
    uint8_t sec[OM_CURVE25519_LEN];
} om_x25519_keypair_t;
int om_x25519_keygen(om_x25519_keypair_t *kp);
int om_x25519_pub_from_sec(const uint8_t sec[32], uint8_t pub[32]);
/* Drop any cached key object holding this secret (call when an ephemeral secret is discarded;
 * om_x25519 keeps up to 4 imported keys per thread so long-lived keys import once). */
void om_x25519_forget(const uint8_t sec[32]);
/* out = sec * pub. Returns -1 if the result is all zeros (non-contributory point). */
int om_x25519(uint8_t out[32], const uint8_t sec[32], const uint8_t pub[32]);

/* ---- Ed25519 ---- */
typedef struct {
    uint8_t pub[OM_ED25519_PUB_LEN];
    uint8_t seed[OM_ED25519_SEED_LEN]; /* RFC 8032 private key (seed) */
} om_ed25519_keypair_t;
int om_ed25519_keygen(om_ed25519_keypair_t *kp);
int om_ed25519_from_seed(om_ed25519_keypair_t *kp, const uint8_t seed[32]);
int om_ed25519_sign(const om_ed25519_keypair_t *kp, const uint8_t *msg, size_t n,
                    uint8_t sig[OM_ED25519_SIG_LEN]);
/* 0 if valid, -1 if not. */
int om_ed25519_verify(const uint8_t pub[32], const uint8_t *msg, size_t n,
                      const uint8_t sig[OM_ED25519_SIG_LEN]);

/* ---- RSA (identity keys; tor-spec 0.3: 1024-bit, e = 65537) ---- */
typedef struct om_rsa om_rsa_t; /* wraps an EVP_PKEY */
om_rsa_t *om_rsa_generate(int bits);
/* PKCS#1 RSAPublicKey DER (what tor hashes for fingerprints and puts in descriptors). */
om_rsa_t *om_rsa_from_public_der(const uint8_t *der, size_t len);
om_rsa_t *om_rsa_from_private_der(const uint8_t *der, size_t len); /* PKCS#1 RSAPrivateKey */
/* Returns a malloc'd buffer (caller frees; private: wipe then free) or NULL. */
uint8_t *om_rsa_public_der(const om_rsa_t *k, size_t *len);
uint8_t *om_rsa_private_der(const om_rsa_t *k, size_t *len);
/* PEM "-----BEGIN RSA PUBLIC KEY-----" (PKCS#1), as in descriptors; malloc'd NUL-terminated. */
char *om_rsa_public_pem(const om_rsa_t *k);
om_rsa_t *om_rsa_from_public_pem(const char *pem, size_t len);
int om_rsa_bits(const om_rsa_t *k);
bool om_rsa_has_private(const om_rsa_t *k);
/* Tor's RSA fingerprint: SHA-1 of the PKCS#1 DER public key. */
int om_rsa_fingerprint(const om_rsa_t *k, uint8_t out[OM_SHA1_LEN]);
/* SHA-256 of the same DER (the CID/SID of an AUTHENTICATE cell, tor-spec 4.4). */
int om_rsa_digest256(const om_rsa_t *k, uint8_t out[OM_SHA256_LEN]);
/* Tor's signature: PKCS#1 v1.5 type-1 padding over the raw data (no DigestInfo).
 * sig must hold om_rsa_bits/8 bytes; *siglen set. */
int om_rsa_sign_raw(const om_rsa_t *k, const uint8_t *data, size_t n, uint8_t *sig, size_t *siglen);
/* 0 if sig recovers exactly (data, n), -1 otherwise. */
int om_rsa_verify_raw(const om_rsa_t *k, const uint8_t *sig, size_t siglen, const uint8_t *data,
                      size_t n);
om_rsa_t *om_rsa_dup_public(const om_rsa_t *k);
void *om_rsa_evp_pkey(const om_rsa_t *k);       /* the underlying EVP_PKEY* (borrowed) */
om_rsa_t *om_rsa_wrap_evp_pkey(void *evp_pkey); /* takes a reference; NULL if not RSA */
void om_rsa_free(om_rsa_t *k);

/* ---- encodings ---- */
/* Base64 without newlines; nopad drops '=' (tor's ed25519 keys in documents). Returns length
 * written (NUL-terminated) or -1 if out is too small. */
int om_base64_encode(const uint8_t *in, size_t n, char *out, size_t outsz, bool nopad);
/* Accepts padded or unpadded input, ignores whitespace. Returns decoded length or -1. */
int om_base64_decode(const char *in, size_t n, uint8_t *out, size_t outsz);
/* Upper-case hex; returns 0. out needs 2n+1 bytes. */
void om_hex_encode(const uint8_t *in, size_t n, char *out);
/* Returns 0 on success (exactly 2n hex digits), -1 otherwise. */
int om_hex_decode(const char *in, size_t inlen, uint8_t *out, size_t n);

#endif

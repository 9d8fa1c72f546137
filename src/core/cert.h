/* cert.h — Tor's certificates: Ed25519 certificates (cert-spec 2), the RSA->Ed25519
 * cross-certificate (cert-spec 2.3 / tor-spec 4.2 type 7), X.509 RSA identity and link
 * certificates (tor-spec 4.2 types 1-3), and verification of a responder's CERTS cell the way a
 * client must do it, and of an initiator's CERTS the way a relay must (tor-spec 4.2).
 * Every parser checks bounds; every verifier says what failed. */
#ifndef OM_CORE_CERT_H
#define OM_CORE_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/crypto.h"
#include "core/link_cells.h"

/* CERTS cell certificate types (tor-spec 4.2) == Ed25519 CERT_TYPE values (cert-spec A.1). */
#define OM_CERTTYPE_RSA_LINK     1    /* X.509 link certificate (obsolete) */
#define OM_CERTTYPE_RSA_ID       2    /* RSA1024 identity, self-signed X.509 */
#define OM_CERTTYPE_RSA_AUTH     3    /* RSA1024 AUTHENTICATE cell link certificate */
#define OM_CERTTYPE_ED_ID_SIGN   4    /* Ed25519 identity -> signing key */
#define OM_CERTTYPE_ED_SIGN_LINK 5    /* signing key -> TLS link certificate (SHA256 of DER) */
#define OM_CERTTYPE_ED_SIGN_AUTH 6    /* signing key -> Ed25519 authentication key */
#define OM_CERTTYPE_RSA_ED_CROSS 7    /* RSA identity -> Ed25519 identity cross-certificate */
#define OM_CERTTYPE_NTOR_CROSS   0x0A /* ntor onion key -> Ed25519 identity (descriptors) */

/* CERT_KEY_TYPE (cert-spec 2.1) */
#define OM_CERT_KEYTYPE_ED25519     1
#define OM_CERT_KEYTYPE_SHA256_X509 3

#define OM_CERTEXT_SIGNED_WITH_KEY         4
#define OM_CERTEXT_FLAG_AFFECTS_VALIDATION 1

#define OM_ED_CERT_MAX_LEN 1024

/* ---- Ed25519 certificates (cert-spec 2.1) ---- */
typedef struct {
    uint8_t version; /* 1 */
    uint8_t cert_type;
    uint32_t expiration_hours; /* hours since the epoch */
    uint8_t key_type;
    uint8_t certified_key[32];
    bool has_signing_key; /* extension type 4 present */
    uint8_t signing_key[32];
    bool has_unknown_critical_ext; /* unrecognised extension with AFFECTS_VALIDATION: invalid */
    uint8_t signature[64];
    size_t signed_len; /* bytes covered by the signature (all but the last 64) */
    uint8_t encoded[OM_ED_CERT_MAX_LEN];
    size_t encoded_len;
} om_ed_cert_t;

/* Exact length (extensions end where the 64-byte signature starts), VERSION 1, a signed-with-key
 * extension must be 32 bytes and appear at most once, len <= OM_ED_CERT_MAX_LEN. */
int om_ed_cert_parse(om_ed_cert_t *out, const uint8_t *in, size_t len);
/* Checks: version 1, no unknown critical extension, an embedded signing key equal to signing_pub
 * (cert-spec 2.2.1), not expired at `now` (tor: expired iff hours*3600 < now), signature valid
 * under signing_pub (NULL: use the embedded signing-key extension; -1 if absent). err gets a
 * reason. */
int om_ed_cert_verify(const om_ed_cert_t *c, const uint8_t *signing_pub, time_t now, char *err,
                      size_t errlen);
/* Create: certifies `certified_key` (key_type) by `signer`, with the signed-with-key extension if
 * include_signer_ext. expires = unix time (rounded up to an hour). out holds at least 140 bytes.
 * Returns encoded length or -1. */
int om_ed_cert_create(uint8_t cert_type, uint8_t key_type, const uint8_t certified_key[32],
                      const om_ed25519_keypair_t *signer, bool include_signer_ext, time_t expires,
                      uint8_t *out, size_t outsz);
bool om_ed_cert_expired(const om_ed_cert_t *c, time_t now);

/* ---- RSA -> Ed25519 cross-certificate (cert-spec 2.3) ---- */
typedef struct {
    uint8_t ed_key[32];
    uint32_t expiration_hours;
    uint8_t sig[256];
    size_t siglen;
    size_t signed_len; /* ed_key + expiration = 36 */
    uint8_t encoded[512];
    size_t encoded_len;
} om_rsa_crosscert_t;
int om_rsa_crosscert_parse(om_rsa_crosscert_t *out, const uint8_t *in, size_t len);
/* Signature is RSA(SHA256("Tor TLS RSA/Ed25519 cross-certificate" | ed_key | expiration)). */
int om_rsa_crosscert_verify(const om_rsa_crosscert_t *c, const om_rsa_t *rsa_id, time_t now,
                            char *err, size_t errlen);
/* SIGLEN is one byte, so rsa_id must be at most 2040 bits (tor's are 1024). expires is rounded
 * up to the hour. Returns encoded length (165 for RSA-1024) or -1. */
int om_rsa_crosscert_create(const om_rsa_t *rsa_id, const uint8_t ed_key[32], time_t expires,
                            uint8_t *out, size_t outsz);

/* ---- X.509 (OpenSSL) ---- */
/* Parses DER (no trailing bytes); returns the subject public key if it is RSA of at least 1024
 * bits, and checks the validity period with tor's tolerance (TOR_X509_FUTURE_SLOP /
 * TOR_X509_PAST_SLOP: not-before may be up to 30 days in the future, not-after up to 2 days in
 * the past). must_be_self_signed verifies the signature with its own key. NULL + err on failure. */
om_rsa_t *om_x509_rsa_check(const uint8_t *der, size_t len, bool must_be_self_signed, time_t now,
                            char *err, size_t errlen);
/* Self-signed X.509 for an RSA key (the type-2 identity certificate), lifetime in seconds,
 * CN=commonName. Returns malloc'd DER. */
uint8_t *om_x509_create_self_signed(const om_rsa_t *key, const char *common_name, long lifetime,
                                    size_t *len);
/* An X.509 certificate for subject_key signed by issuer_key (issuer_key may == subject_key),
 * as tor makes for TLS links. Returns malloc'd DER. */
uint8_t *om_x509_create(const om_rsa_t *subject_key, const char *subject_cn,
                        const om_rsa_t *issuer_key, const char *issuer_cn, long lifetime,
                        size_t *len);

/* ---- A relay's identity and the CERTS it presents ---- */
typedef struct {
    om_rsa_t *rsa_id;             /* RSA-1024 identity */
    om_ed25519_keypair_t ed_id;   /* Ed25519 master identity */
    om_ed25519_keypair_t ed_sign; /* Ed25519 signing key */
    uint8_t ed_id_sign_cert[256]; /* type 4 cert, identity -> signing */
    size_t ed_id_sign_cert_len;
    uint8_t *rsa_id_cert; /* type 2 self-signed X.509 DER */
    size_t rsa_id_cert_len;
    uint8_t rsa_ed_crosscert[512]; /* type 7 */
    size_t rsa_ed_crosscert_len;
    om_rsa_t *tls_key; /* TLS link key (RSA-2048) */
    uint8_t *tls_cert; /* TLS certificate DER (signed by tls_key) */
    size_t tls_cert_len;
    uint8_t rsa_fp[20]; /* SHA1(PKCS#1 DER of rsa_id) */
    /* Ed25519 AUTHENTICATE key (tor-spec 4.4.2), certified by ed_sign in a type 6 certificate
     * made fresh for each CERTS cell we send as an initiator (2-day lifetime, as type 5). */
    om_ed25519_keypair_t ed_auth;
    /* The address a relay advertises, sent with the current time in its NETINFO cells
     * (tor-spec 4.5: "my addresses"; tor records it as the link's canonical address). Type 0:
     * none (e.g. a bridge that does not say). */
    om_addr_t my_addr;
} om_identity_t;

/* Fresh keys and certificates (in memory). Returns 0 or -1. */
int om_identity_generate(om_identity_t *id);
/* From a relay's stored keys (copied): identity RSA, Ed25519 identity and signing keys and the
 * type 4 certificate; the type 2 and 7 certificates and a TLS link key are made fresh. */
int om_identity_from_keys(om_identity_t *id, const om_rsa_t *rsa_id,
                          const om_ed25519_keypair_t *ed_id, const om_ed25519_keypair_t *ed_sign,
                          const uint8_t *sign_cert, size_t sign_cert_len);
/* Build the responder's CERTS cell: types 2, 4, 5 (over SHA256 of the TLS cert, key type 3,
 * a fresh 2-day certificate each call), 7. */
om_var_cell_t *om_identity_certs_cell(const om_identity_t *id);
/* Build an authenticating initiator's CERTS cell (tor-spec 4.4): types 2, 4, 6 (ed_sign ->
 * ed_auth, a fresh 2-day certificate each call), 7. */
om_var_cell_t *om_identity_initiator_certs_cell(const om_identity_t *id);
void om_identity_free(om_identity_t *id); /* wipes secrets */

/* ---- verifying a responder's CERTS cell, as a client (tor-spec 4.2) ---- */
typedef struct {
    uint8_t rsa_fp[20];        /* SHA1 of the RSA identity key */
    uint8_t rsa_id_sha256[32]; /* SHA-256 of the same DER (AUTHENTICATE's CID/SID) */
    uint8_t ed_id[32];         /* Ed25519 identity */
    uint8_t ed_sign[32];       /* Ed25519 signing key */
    uint8_t ed_auth[32];       /* initiator only: Ed25519 AUTHENTICATE key (type 6) */
    uint32_t ed_id_sign_expires_hours;
    uint32_t sign_link_expires_hours; /* type 5 (responder) or type 6 (initiator) */
    uint32_t crosscert_expires_hours;
    int rsa_bits;
} om_peer_identity_t;
/* certs: the parsed CERTS cell; tls_cert_sha256: SHA-256 of the DER of the certificate the
 * peer presented in TLS. Checks (tor-spec 4.2): exactly one each of types 2, 4, 5, 7 (and no
 * duplicate of any type 1-7); type 2 is a valid self-signed RSA-1024 X.509; type 7 signed by that
 * RSA key, certifying an Ed25519 key; type 4 signed by that Ed25519 identity, which it must carry
 * in its signed-with-key extension (as tor requires), certifying the signing key; type 5 signed
 * by the signing key, key type 3 (or legacy 1), certifying tls_cert_sha256; none expired. Other
 * types are ignored. Returns 0 and fills out, or -1 with err naming the failed check (e.g.
 * "CERTS: type 5 certificate does not match the TLS link certificate"). */
int om_certs_verify_responder(const om_certs_list_t *certs, const uint8_t tls_cert_sha256[32],
                              time_t now, om_peer_identity_t *out, char *err, size_t errlen);
/* The same chain on a link with no TLS certificate to bind (a WebSocket link, doc/bridge.md):
 * types 2, 7, 4 and 5 as above, but type 5's certified key is not matched. This proves which
 * identity the responder claims, not that the peer holds it (a CERTS cell can be replayed): the
 * caller must then use only ntor/ntor-v3 handshakes to that identity's onion key. */
int om_certs_verify_responder_unbound(const om_certs_list_t *certs, time_t now,
                                      om_peer_identity_t *out, char *err, size_t errlen);
/* A responder's check of an initiator's CERTS cell (tor-spec 4.2, "To authenticate the initiator
 * as having a given Ed25519,RSA identity key combination"): exactly one each of types 2, 4, 6, 7
 * (no duplicate of types 1-7); types 2, 7 and 4 as above; type 6 signed by the signing key,
 * certifying an Ed25519 key (out->ed_auth); none expired. This alone does not prove the
 * initiator holds these keys: its AUTHENTICATE cell must be verified too (link_auth.h).
 * Errors start with "CERTS: ". */
int om_certs_verify_initiator(const om_certs_list_t *certs, time_t now, om_peer_identity_t *out,
                              char *err, size_t errlen);

#endif

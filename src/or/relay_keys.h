/* relay_keys.h — a relay's long-term and medium-term keys in DataDirectory/keys (mode 0700, files
 * 0600), in tor's file formats and names so the directory can be handed to tor:
 *   secret_id_key                  RSA-1024 identity (PEM "RSA PRIVATE KEY")
 *   ed25519_master_id_public_key   "== ed25519v1-public: type0 ==" + 32-byte key
 *   ed25519_master_id_secret_key   "== ed25519v1-secret: type0 ==" + 64-byte expanded key (tor's)
 *   ed25519_signing_secret_key     the same ("type4") for the medium-term signing key
 *   ed25519_signing_cert           "== ed25519v1-cert: type4 ==" + master -> signing certificate
 *   secret_onion_key_ntor[.old]    "== c25519v1: onion ==" + secret + public (curve25519)
 *   secret_onion_key_ntor.seed     onionmesh's: the Ed25519 seed whose scalar is that secret
 *                                  (for the descriptor's ntor-onion-key-crosscert; see .c)
 *   secret_onion_key               RSA-1024 TAP key: never used for handshakes (proposal 350);
 *                                  only for descriptors where the authorities still want one
 * OpenSSL signs Ed25519 only from the 32-byte seed, which tor's files do not hold, so each
 * Ed25519 secret also has a "<name>.seed" file (onionmesh's; tor ignores it). Keys that tor made
 * (no .seed) are refused with an error that says so. DataDirectory/fingerprint and
 * fingerprint-ed25519 are written as tor writes them.
 * Rotation (tor's schedule): the ntor onion key every onion-key-rotation-days (28), the previous
 * one accepted for onion-key-grace-period-days (7); the signing key renewed a day before its
 * certificate (SigningKeyLifetime, 30 days) expires. */
#ifndef OM_OR_RELAY_KEYS_H
#define OM_OR_RELAY_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/cert.h"
#include "core/crypto.h"

#define OM_ONION_KEY_ROTATION_DAYS 28 /* consensus onion-key-rotation-days default */
#define OM_ONION_KEY_GRACE_DAYS    7  /* consensus onion-key-grace-period-days default */
#define OM_SIGNING_KEY_LIFETIME    (30 * 86400L)
#define OM_SIGNING_KEY_SLOP        86400L /* renew this long before the certificate expires */

typedef struct {
    char keys_dir[512];
    om_rsa_t *rsa_id;
    uint8_t rsa_fp[20];
    om_ed25519_keypair_t ed_id;
    om_ed25519_keypair_t ed_sign;
    uint8_t sign_cert[256]; /* type 4, master -> signing, with the signed-with-key extension */
    size_t sign_cert_len;
    time_t sign_cert_expires;
    om_x25519_keypair_t ntor; /* current onion key (its secret is an Ed25519 scalar) */
    uint8_t ntor_seed[32];    /* the Ed25519 seed it came from: signs ntor-onion-key-crosscert */
    time_t ntor_created;      /* from the file's mtime, as good as tor's state entry */
    bool has_ntor_old;        /* previous onion key, within its grace period */
    om_x25519_keypair_t ntor_old;
    time_t ntor_old_retired; /* when it stopped being the current key */
    om_rsa_t *tap;           /* legacy TAP onion key, publication only */
} om_relay_keys_t;

/* What om_relay_keys_maintain changed (the descriptor must be rebuilt and uploaded). */
#define OM_KEYS_CHANGED_NTOR    1u
#define OM_KEYS_CHANGED_SIGNING 2u

/* Load the keys from data_dir/keys, creating whatever is missing (first start). Returns 0, or -1
 * with err (unreadable or malformed file, tor-made Ed25519 key without a seed, I/O error). */
int om_relay_keys_load(om_relay_keys_t *k, const char *data_dir, time_t now, char *err,
                       size_t errlen);
/* Rotate the ntor key and renew the signing key when due at now; forget an old onion key past
 * its grace period. rotation_days / grace_days: from the consensus (0: tor's defaults). Returns
 * OM_KEYS_CHANGED_* bits, or -1 with err (the keys in memory are unchanged then). */
int om_relay_keys_maintain(om_relay_keys_t *k, time_t now, int rotation_days, int grace_days,
                           char *err, size_t errlen);
/* DataDirectory/fingerprint ("nick HEX") and fingerprint-ed25519 ("nick base64"), 0600. */
int om_relay_keys_write_fingerprints(const om_relay_keys_t *k, const char *data_dir,
                                     const char *nickname);
/* "0EC0 1792 ... 9544" (as tor --list-fingerprint prints it); out needs 50 bytes. */
void om_relay_fingerprint_spaced(const uint8_t fp[20], char *out);
/* The Ed25519 identity as tor prints it: base64 without padding; out needs 44 bytes. */
void om_relay_ed25519_b64(const uint8_t pub[32], char *out);
/* An identity for the link layer (CERTS cell): copies of the RSA and Ed25519 keys plus a fresh
 * TLS key and certificates. Returns 0 or -1. */
int om_relay_keys_link_identity(const om_relay_keys_t *k, om_identity_t *id);
void om_relay_keys_free(om_relay_keys_t *k); /* wipes secrets */

#endif

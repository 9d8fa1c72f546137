/* authcert.h — directory authority key certificates (dir-spec 3.1): an authority's long-term
 * identity key certifies a medium-term signing key (dir-key-certification), and the signing key
 * cross-certifies the identity (dir-key-crosscert). Parsed from untrusted text and verified. */
#ifndef OM_DIR_AUTHCERT_H
#define OM_DIR_AUTHCERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/crypto.h"

#define OM_AUTHCERT_MAX_PER_DOC 64 /* more certificates in one document are refused */

typedef struct {
    uint8_t v3ident[20];        /* SHA1 of the identity key's DER: "fingerprint" */
    uint8_t signing_digest[20]; /* SHA1 of the signing key's DER */
    om_rsa_t *identity_key;
    om_rsa_t *signing_key;
    time_t published, expires; /* "dir-key-published", "dir-key-expires" (not checked here) */
    bool has_dir_address;      /* "dir-address" IPv4:port */
    uint8_t dir_ipv4[4];
    uint16_t dir_port;
} om_authcert_t;

/* Parse one or more concatenated certificates (as served at /tor/keys/all or /tor/keys/fp/...).
 * Each is verified (fingerprint == SHA1(identity), certification signature by the identity key
 * over the document through the NL after "dir-key-certification", crosscert by the signing key
 * over the fingerprint, identity and signing keys of 1024..8192 bits); a bad certificate makes
 * the whole call fail with err. Expiry is NOT checked here (the parser has no clock): callers
 * check published/expires with om_authcert_check_time (om_consensus_verify does).
 * Returns a malloc'd array of *n malloc'd certs, or NULL. */
om_authcert_t **om_authcert_parse_many(const char *text, size_t len, size_t *n, char *err,
                                       size_t errlen);
/* 0 if published <= now + skew and now <= expires + skew; else -1 with err naming the
 * certificate and its expiry (e.g. "authcert 2294...: expired at 2027-11-22 09:02:34"). */
int om_authcert_check_time(const om_authcert_t *c, time_t now, long skew, char *err, size_t errlen);
void om_authcert_free(om_authcert_t *c);
void om_authcert_free_array(om_authcert_t **a, size_t n);

#endif

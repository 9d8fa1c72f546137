/* authcert.h — directory authority key certificates (dir-spec 3.1): an authority's long-term
 * identity key certifies a medium-term signing key (dir-key-certification), and the signing key
 * cross-certifies the identity (dir-key-crosscert). Parsed from untrusted text and verified. */
#ifndef OM_DIR_AUTHCERT_H
#define OM_DIR_AUTHCERT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/crypto.h"

typedef struct {
    uint8_t v3ident[20];        /* SHA1 of the identity key's DER: "fingerprint" */
    uint8_t signing_digest[20]; /* SHA1 of the signing key's DER */
    om_rsa_t *identity_key;
    om_rsa_t *signing_key;
    time_t published, expires;
} om_authcert_t;

/* Parse one or more concatenated certificates (as served at /tor/keys/all or /tor/keys/fp/...).
 * Each is verified (fingerprint == SHA1(identity), certification signature by the identity key,
 * crosscert by the signing key); a bad certificate makes the whole call fail with err.
 * Returns a malloc'd array of *n malloc'd certs, or NULL. */
om_authcert_t **om_authcert_parse_many(const char *text, size_t len, size_t *n, char *err,
                                       size_t errlen);
void om_authcert_free(om_authcert_t *c);
void om_authcert_free_array(om_authcert_t **a, size_t n);

#endif

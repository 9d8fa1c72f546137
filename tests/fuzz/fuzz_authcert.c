/* fuzz_authcert.c — libFuzzer target: authority key certificate parsing and verification of
 * arbitrary bytes; every certificate that comes back must have fingerprint == SHA1(identity),
 * and the time check must run on it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "dir/authcert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = 0;
    char err[256];
    om_authcert_t **c = om_authcert_parse_many((const char *)data, size, &n, err, sizeof err);
    if (!c) {
        if (n != 0) abort();
        return 0;
    }
    if (n == 0 || n > OM_AUTHCERT_MAX_PER_DOC) abort();
    for (size_t i = 0; i < n; i++) {
        uint8_t fp[20];
        if (om_rsa_fingerprint(c[i]->identity_key, fp) < 0 || memcmp(fp, c[i]->v3ident, 20) ||
            om_rsa_fingerprint(c[i]->signing_key, fp) < 0 || memcmp(fp, c[i]->signing_digest, 20) ||
            c[i]->expires < c[i]->published)
            abort();
        if (om_authcert_check_time(c[i], c[i]->published, 0, err, sizeof err) != 0) abort();
    }
    om_authcert_free_array(c, n);
    return 0;
}

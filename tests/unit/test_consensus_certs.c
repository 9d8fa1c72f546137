/* test_consensus_certs.c — om_consensus_verify (src/dir/consensus_verify.c) with authority
 * certificates that no longer vouch for their signing keys: the tor 0.4.9 test-network snapshot
 * (tests/data/testnet-snapshot: a microdesc consensus signed by three authorities and their
 * certificates) verifies, and counts an authority whose certificate expired (beyond the clock
 * tolerance) as not having signed: one such authority of three leaves a majority, two do not. */
#include <time.h>

#include "dir/authcert.h"
#include "dir/consensus.h"
#include "test.h"

static const time_t VALID_AFTER = 1795338860; /* the snapshot's valid-after, 2026-11-22 09:14:20 */

static char *load(const char *name, size_t *len)
{
    char rel[256];
    snprintf(rel, sizeof rel, "testnet-snapshot/%s", name);
    return om_test_read_data(rel, len);
}

static void test_expired_certificates(void)
{
    uint8_t trusted[3][20];
    om_test_unhex("2294432174E7CF2BB0914A509C1E955DCA35EB6E", trusted[0], 20);
    om_test_unhex("7CBA18A8EED044F5DA4D43D8439C66F0E94519E8", trusted[1], 20);
    om_test_unhex("44BDAE19610F6045A72216FD5608EE0858B4515D", trusted[2], 20);
    size_t klen, clen, n_certs = 0;
    char *k = load("keys-all", &klen), *t = load("consensus-microdesc", &clen), err[512] = "";
    CHECK(k && t);
    om_authcert_t **certs = om_authcert_parse_many(k, klen, &n_certs, err, sizeof err);
    om_consensus_t *c = om_consensus_parse(t, clen, err, sizeof err);
    free(k);
    free(t);
    CHECK_MSG(certs && c && n_certs == 3, "%s", err);
    int r[3];
    for (size_t expired = 0; expired < 3; expired++) {
        if (expired) {
            certs[expired - 1]->published = VALID_AFTER - 20 * 86400;
            certs[expired - 1]->expires = VALID_AFTER - 86400;
        }
        r[expired] = om_consensus_verify(c, certs, n_certs, (const uint8_t(*)[20])trusted, 3,
                                         VALID_AFTER, 60, err, sizeof err);
    }
    om_consensus_free(c);
    om_authcert_free_array(certs, n_certs);
    CHECK_EQ_INT(r[0], 0);
    CHECK_EQ_INT(r[1], 0);
    CHECK_EQ_INT(r[2], -1);
    CHECK_MSG(strstr(err, "expired certificate of"), "%s", err);
}

static const om_test_t tests[] = {
    OM_TEST(test_expired_certificates),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("consensus_certs", tests, argc, argv);
}

/* test_nodelist.c — the OP's node list on a real tor 0.4.9 test-network snapshot: joining
 * microdescriptors by digest, missing-digest lists, path fraction, predicates. */
#include <string.h>

#include "snapshot_load.h"
#include "test.h"

static void test_join_and_missing(void)
{
    om_nodelist_t nl;
    memset(&nl, 0, sizeof nl);
    CHECK(snap_load(&nl, 0) == 0);
    size_t n = nl.consensus->n_routers;
    CHECK_EQ_INT(n, 6);
    uint8_t dg[8][32];
    CHECK_EQ_INT(om_nodelist_missing_mds(&nl, dg, 8), 6);
    CHECK(om_nodelist_path_fraction(&nl) == 0.0);
    /* Every router's missing digest is its m line. */
    for (size_t i = 0; i < n; i++)
        CHECK_MEM(dg[i], nl.consensus->routers[i].md_digest, 32);
    om_nodelist_clear(&nl);
    CHECK(snap_load(&nl, 1) == 0);
    CHECK_EQ_INT(om_nodelist_missing_mds(&nl, NULL, 0), 0);
    CHECK(om_nodelist_path_fraction(&nl) > 0.99);
    for (size_t i = 0; i < n; i++) {
        const om_routerstatus_t *rs = &nl.consensus->routers[i];
        CHECK(rs->md && !memcmp(rs->md->digest, rs->md_digest, 32));
        CHECK(om_node_usable(rs));
        CHECK(om_node_supports_ntor_v3(rs)); /* tor 0.4.9 relays: Relay=2-4 */
    }
    om_nodelist_clear(&nl);
}

static void test_adding_twice_adds_nothing(void)
{
    om_nodelist_t nl;
    memset(&nl, 0, sizeof nl);
    CHECK(snap_load(&nl, 1) == 0);
    size_t len;
    char err[200];
    char *t = snap_read("microdescs", &len);
    CHECK(t);
    size_t n;
    om_microdesc_t *mds = om_microdesc_parse_many(t, len, &n, err, sizeof err);
    free(t);
    CHECK(mds);
    CHECK_EQ_INT(om_nodelist_add_mds(&nl, mds, n), 0);
    CHECK_EQ_INT(nl.n_mds, 6);
    free(mds);
    om_nodelist_clear(&nl);
}

static void test_exit_ports_from_summaries(void)
{
    om_nodelist_t nl;
    memset(&nl, 0, sizeof nl);
    CHECK(snap_load(&nl, 1) == 0);
    const om_routerstatus_t *r1 = snap_find_nick(&nl, "relay1");
    const om_routerstatus_t *r0 = snap_find_nick(&nl, "relay0");
    CHECK(r0 && r1);
    /* relay1: reject 25,119,6000-6100; relay0: accept 80,443,6660-6669 */
    CHECK(!om_node_allows_exit_port(r1, 25, false));
    CHECK(om_node_allows_exit_port(r1, 8080, false));
    CHECK(!om_node_allows_exit_port(r1, 6050, false));
    CHECK(om_node_allows_exit_port(r0, 443, false));
    CHECK(!om_node_allows_exit_port(r0, 8080, false));
    CHECK(om_node_allows_exit_port(r0, 0, false)); /* "an exit" = usable for web ports */
    om_nodelist_clear(&nl);
}

static const om_test_t tests[] = {
    OM_TEST(test_join_and_missing),
    OM_TEST(test_adding_twice_adds_nothing),
    OM_TEST(test_exit_ports_from_summaries),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("nodelist", tests, argc, argv);
}

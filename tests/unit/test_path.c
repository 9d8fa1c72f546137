/* test_path.c — path selection on a real tor 0.4.9 test-network snapshot: exits matched to the
 * port, family separation (relay0 and relay1 declare each other), /16 rule and its relaxation,
 * node sets, and the bandwidth weighting measured over many draws. */
#include <string.h>

#include "op/path.h"
#include "snapshot_load.h"
#include "test.h"

static double sqrt_approx(double x)
{
    double r = x > 1 ? x : 1;
    for (int i = 0; i < 40; i++)
        r = 0.5 * (r + x / r);
    return r;
}

static om_nodelist_t nl;
static om_guards_t guards;

static void setup(void)
{
    om_nodelist_clear(&nl);
    snap_load(&nl, 1);
    om_guards_init(&guards, NULL, 0);
    om_guards_update(&guards, &nl, NULL, NULL);
}

static void opts_testing(om_path_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->enforce_distinct_subnets = false; /* everything is on 127.0.0.1 */
}

static void test_port_decides_exit(void)
{
    setup();
    om_path_opts_t o;
    opts_testing(&o);
    const om_routerstatus_t *p[3];
    char err[200];
    /* Only relay1 (reject 25,119,6000-6100) allows 8080. */
    om_path_request_t req = {.port = 8080};
    for (int i = 0; i < 200; i++) {
        CHECK_MSG(om_path_select(&nl, &guards, &o, &req, p, err, sizeof err) == 0, "%s", err);
        CHECK(!strcmp(p[2]->nickname, "relay1"));
    }
    /* Nobody allows 25. */
    req.port = 25;
    CHECK(om_path_select(&nl, &guards, &o, &req, p, err, sizeof err) < 0);
    CHECK_MSG(strstr(err, "port 25") != NULL, "%s", err);
}

static void test_paths_distinct_and_family_separated(void)
{
    setup();
    om_path_opts_t o;
    opts_testing(&o);
    om_path_request_t req = {.port = 443};
    const om_routerstatus_t *p[3];
    char err[200];
    int exits_seen[6] = {0};
    for (int i = 0; i < 500; i++) {
        /* Fresh guard state now and then so different guards take part. */
        if (i % 50 == 0) {
            om_guards_init(&guards, NULL, 0);
            om_guards_update(&guards, &nl, NULL, NULL);
        }
        CHECK_MSG(om_path_select(&nl, &guards, &o, &req, p, err, sizeof err) == 0, "%s", err);
        CHECK(p[0] != p[1] && p[1] != p[2] && p[0] != p[2]);
        CHECK(p[0]->flags & OM_RS_GUARD);
        CHECK(om_node_allows_exit_port(p[2], 443, false));
        int fam = 0;
        for (int k = 0; k < 3; k++)
            fam += !strcmp(p[k]->nickname, "relay0") || !strcmp(p[k]->nickname, "relay1");
        CHECK_MSG(fam <= 1, "relay0 and relay1 (one family) in one path");
        exits_seen[p[2] - nl.consensus->routers]++;
    }
    int distinct = 0;
    for (int k = 0; k < 6; k++)
        distinct += exits_seen[k] > 0;
    CHECK(distinct >= 3);
}

static void test_distinct_subnets_enforced(void)
{
    setup();
    om_path_opts_t o;
    opts_testing(&o);
    o.enforce_distinct_subnets = true;
    om_path_request_t req = {.port = 443};
    const om_routerstatus_t *p[3];
    char err[200];
    CHECK(om_path_select(&nl, &guards, &o, &req, p, err, sizeof err) < 0);
}

static void test_node_sets(void)
{
    setup();
    om_path_opts_t o;
    opts_testing(&o);
    char err[200];
    CHECK(om_nodeset_parse(&o.exclude_nodes, "relay2", err, sizeof err) == 0);
    CHECK(om_nodeset_parse(&o.exit_nodes, "auth0,auth1, auth2 , relay0", err, sizeof err) == 0);
    om_path_request_t req = {.port = 80};
    const om_routerstatus_t *p[3];
    for (int i = 0; i < 200; i++) {
        CHECK_MSG(om_path_select(&nl, &guards, &o, &req, p, err, sizeof err) == 0, "%s", err);
        for (int k = 0; k < 3; k++)
            CHECK(strcmp(p[k]->nickname, "relay2") != 0);
        CHECK(om_nodeset_contains(&o.exit_nodes, p[2]));
    }
    om_nodeset_t s;
    CHECK(om_nodeset_parse(&s, "$0123456789ABCDEF0123456789ABCDEF01234567~nick,{us},x", err,
                           sizeof err) == 0);
    CHECK_EQ_INT(s.n_fp, 1);
    CHECK_EQ_INT(s.n_nick, 1);
    CHECK(om_nodeset_parse(&s, "bad!name", err, sizeof err) < 0);
    CHECK(om_nodeset_parse(&s, "$12345", err, sizeof err) < 0);
}

static bool any_usable(const om_routerstatus_t *rs, void *arg)
{
    (void)arg;
    return om_node_usable(rs);
}

static void test_weighted_choice_follows_weights(void)
{
    setup();
    /* Give the routers very different bandwidths, then draw many times. */
    for (size_t i = 0; i < nl.consensus->n_routers; i++)
        nl.consensus->routers[i].bandwidth = (uint32_t)(100 * (i + 1) * (i + 1));
    double w[6], total = 0;
    for (size_t i = 0; i < 6; i++) {
        w[i] = om_path_weight(nl.consensus, &nl.consensus->routers[i], OM_POS_MIDDLE);
        total += w[i];
    }
    CHECK(total > 0);
    int count[6] = {0};
    const int draws = 20000;
    for (int d = 0; d < draws; d++) {
        const om_routerstatus_t *rs = om_path_choose_weighted(&nl, OM_POS_MIDDLE, any_usable, NULL);
        CHECK(rs);
        count[rs - nl.consensus->routers]++;
    }
    for (size_t i = 0; i < 6; i++) {
        double expect = draws * w[i] / total;
        /* 5 standard deviations of a binomial: fails by chance far less than once in a million. */
        double sd = sqrt_approx(expect * (1 - w[i] / total));
        CHECK_MSG(count[i] > expect - 5 * sd - 1 && count[i] < expect + 5 * sd + 1,
                  "router %zu: %d draws, expected %.0f", i, count[i], expect);
    }
}

static const om_test_t tests[] = {
    OM_TEST(test_port_decides_exit),
    OM_TEST(test_paths_distinct_and_family_separated),
    OM_TEST(test_distinct_subnets_enforced),
    OM_TEST(test_node_sets),
    OM_TEST(test_weighted_choice_follows_weights),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    int r = om_test_main("path", tests, argc, argv);
    om_nodelist_clear(&nl);
    return r;
}

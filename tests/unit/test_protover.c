/* test_protover.c — unit tests for protover.c: subprotocol lists (tor-spec 9) from real tor
 * 0.4.9 "pr" and "*-protocols" lines, ranges, unknown names, malformed lists, and coverage. */
#include "test.h"

#include "dir/consensus.h"

#define V(n) ((uint64_t)1 << (n))

static int parse(const char *s, om_protover_t *p)
{
    return om_protover_parse(s, strlen(s), p);
}

static void test_tor049_pr_line(void)
{
    /* A relay's "pr" line from the testnet snapshot consensus (tor 0.4.9.11). */
    om_protover_t p;
    CHECK_EQ_INT(parse("Conflux=1 Cons=1-2 Desc=1-4 DirCache=2 FlowCtrl=1-2 HSDir=2 HSIntro=4-5 "
                       "HSRend=1-2 Link=3-5 LinkAuth=3 Microdesc=1-3 Padding=2 Relay=2-6",
                       &p),
                 0);
    CHECK_EQ_INT(p.conflux, V(1));
    CHECK_EQ_INT(p.cons, V(1) | V(2));
    CHECK_EQ_INT(p.desc, V(1) | V(2) | V(3) | V(4));
    CHECK_EQ_INT(p.dircache, V(2));
    CHECK_EQ_INT(p.flowctrl, V(1) | V(2));
    CHECK_EQ_INT(p.hsdir, V(2));
    CHECK_EQ_INT(p.hsintro, V(4) | V(5));
    CHECK_EQ_INT(p.hsrend, V(1) | V(2));
    CHECK_EQ_INT(p.link, V(3) | V(4) | V(5));
    CHECK_EQ_INT(p.linkauth, V(3));
    CHECK_EQ_INT(p.microdesc, V(1) | V(2) | V(3));
    CHECK_EQ_INT(p.padding, V(2));
    CHECK_EQ_INT(p.relay, V(2) | V(3) | V(4) | V(5) | V(6));
    CHECK(!p.unknown);
}

static void test_ranges_and_lists(void)
{
    om_protover_t p;
    CHECK_EQ_INT(parse("Link=1,3-4,63", &p), 0);
    CHECK_EQ_INT(p.link, V(1) | V(3) | V(4) | V(63));
    CHECK_EQ_INT(parse("Link=0-63", &p), 0);
    CHECK_EQ_INT(p.link, UINT64_MAX);
    CHECK_EQ_INT(parse("Relay=", &p), 0); /* empty version list */
    CHECK_EQ_INT(p.relay, 0);
    CHECK_EQ_INT(parse("", &p), 0);
    CHECK_EQ_INT(parse("  Link=4\tRelay=2  ", &p), 0);
    CHECK_EQ_INT(p.link, V(4));
    CHECK_EQ_INT(p.relay, V(2));
    /* A protocol listed twice gets the union. */
    CHECK_EQ_INT(parse("Link=4 Link=5", &p), 0);
    CHECK_EQ_INT(p.link, V(4) | V(5));
}

static void test_unknown_names(void)
{
    om_protover_t p;
    CHECK_EQ_INT(parse("Link=4 Datagram=1", &p), 0);
    CHECK(p.unknown);
    CHECK_EQ_INT(p.link, V(4));
    CHECK_EQ_INT(parse("Link=4 Datagram=", &p), 0);
    CHECK(!p.unknown);                    /* no version listed: nothing required */
    CHECK_EQ_INT(parse("link=4", &p), 0); /* names are case-sensitive */
    CHECK(p.unknown);
    CHECK_EQ_INT(p.link, 0);
}

static void test_malformed(void)
{
    static const char *bad[] = {
        "Link",      "=1",         "Link=1-", "Link=-1",          "Link=3-1", "Link=64",
        "Link=1,,2", "Link=1,",    "Link=,1", "Link=a",           "Li_nk=1",  "Link=1 Relay",
        "Link==1",   "Link=1-2-3", "Link=+1", "Link=99999999999",
    };
    om_protover_t p;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(parse(bad[i], &p) == -1, "accepted '%s'", bad[i]);
    char longname[160];
    memset(longname, 'A', 101);
    strcpy(longname + 101, "=1");
    CHECK_EQ_INT(parse(longname, &p), -1);
}

static void test_covers(void)
{
    om_protover_t have, need;
    CHECK_EQ_INT(parse("Cons=1-2 Desc=1-2 Link=3-5 Microdesc=1-2 Relay=1-4 FlowCtrl=1-2", &have),
                 0);
    /* The testnet consensus's required-client-protocols. */
    CHECK_EQ_INT(parse("Cons=2 Desc=2 FlowCtrl=1 Link=4 Microdesc=2 Relay=2", &need), 0);
    CHECK(om_protover_covers(&have, &need));
    CHECK_EQ_INT(parse("Cons=2 Link=6", &need), 0);
    CHECK(!om_protover_covers(&have, &need));
    CHECK_EQ_INT(parse("Conflux=1", &need), 0);
    CHECK(!om_protover_covers(&have, &need));
    CHECK_EQ_INT(parse("Link=4 NewThing=1", &need), 0);
    CHECK(!om_protover_covers(&have, &need));
    CHECK_EQ_INT(parse("", &need), 0);
    CHECK(om_protover_covers(&have, &need));
}

static const om_test_t tests[] = {
    OM_TEST(test_tor049_pr_line), OM_TEST(test_ranges_and_lists), OM_TEST(test_unknown_names),
    OM_TEST(test_malformed),      OM_TEST(test_covers),           {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("protover", tests, argc, argv);
}

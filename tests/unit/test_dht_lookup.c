/* test_dht_lookup.c — unit tests for the iterative lookup (dht_lookup.c) on a synthetic network
 * of 600 nodes whose tables each hold the 8 closest nodes to any target among a random half of
 * the network (so no node knows everything): from 3 random seeds, every lookup ends with the
 * true 8 closest nodes to its target, never more than alpha queries in flight; with 20% of the
 * nodes dead (queries to them fail) the result is the 8 closest live nodes; answers from nodes
 * not asked are ignored; a lookup with no seeds is done at once; answers naming ever new closer
 * IDs (and nodes already asked) end after 128 queries, nobody asked twice. */
#include <stdlib.h>

#include "test.h"
#include "dht/dht_lookup.h"
#include "dht/dht_table.h"

#define N 600
static uint8_t ids[N][OM_DHT_ID_LEN];
static bool dead[N];
static uint8_t g_target[OM_DHT_ID_LEN];

static int by_dist(const void *a, const void *b)
{
    return om_dht_distance_cmp(g_target, a, b);
}

static int index_of(const uint8_t id[OM_DHT_ID_LEN])
{
    for (int i = 0; i < N; i++)
        if (!memcmp(ids[i], id, OM_DHT_ID_LEN)) return i;
    return -1;
}

/* Node `who` answers: the 8 closest to target among the nodes it "knows" (those with the same
 * parity of (i * 7 + who) / 3, about half, plus itself), dead ones included (tables go stale). */
static size_t answer(int who, const uint8_t target[OM_DHT_ID_LEN], uint8_t (*out)[OM_DHT_ID_LEN])
{
    static uint8_t known[N][OM_DHT_ID_LEN];
    size_t n = 0;
    for (int i = 0; i < N; i++)
        if (i == who || ((i * 7 + who) / 3) % 2 == 0) memcpy(known[n++], ids[i], OM_DHT_ID_LEN);
    memcpy(g_target, target, OM_DHT_ID_LEN);
    qsort(known, n, OM_DHT_ID_LEN, by_dist);
    size_t m = n < OM_DHT_K ? n : OM_DHT_K;
    memcpy(out, known, m * OM_DHT_ID_LEN);
    return m;
}

/* Runs a lookup to completion; returns its rounds (max depth), checks alpha on the way. */
static int run(om_dht_lookup_t *l, bool *alpha_ok)
{
    uint8_t ask[OM_DHT_ALPHA][OM_DHT_ID_LEN], got[OM_DHT_K][OM_DHT_ID_LEN];
    for (int guard = 0; guard < 1000 && !om_dht_lookup_done(l); guard++) {
        size_t q = om_dht_lookup_next(l, ask, OM_DHT_ALPHA);
        if (l->in_flight > l->alpha) *alpha_ok = false;
        for (size_t i = 0; i < q; i++) {
            int who = index_of(ask[i]);
            if (who < 0 || dead[who]) {
                om_dht_lookup_failed(l, ask[i]);
                continue;
            }
            size_t n = answer(who, l->target, got);
            om_dht_lookup_answer(l, ask[i], (const uint8_t(*)[OM_DHT_ID_LEN])got, n);
        }
    }
    return l->max_depth;
}

static void check_lookups(int dead_pct)
{
    unsigned seed = 1234 + (unsigned)dead_pct;
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < OM_DHT_ID_LEN; j++)
            ids[i][j] = (uint8_t)(rand_r(&seed) >> 5);
        dead[i] = (int)(rand_r(&seed) % 100) < dead_pct;
    }
    bool alpha_ok = true;
    for (int t = 0; t < 40; t++) {
        uint8_t target[OM_DHT_ID_LEN], self[OM_DHT_ID_LEN] = {0};
        for (int j = 0; j < OM_DHT_ID_LEN; j++)
            target[j] = (uint8_t)(rand_r(&seed) >> 5);
        uint8_t seeds[3][OM_DHT_ID_LEN];
        for (int s = 0; s < 3; s++) {
            int i;
            do
                i = (int)(rand_r(&seed) % N);
            while (dead[i]);
            memcpy(seeds[s], ids[i], OM_DHT_ID_LEN);
        }
        static om_dht_lookup_t l;
        om_dht_lookup_init(&l, self, target, 0, 0, (const uint8_t(*)[OM_DHT_ID_LEN])seeds, 3);
        run(&l, &alpha_ok);
        CHECK(om_dht_lookup_done(&l));
        /* The true 8 closest live nodes. */
        static uint8_t live[N][OM_DHT_ID_LEN];
        size_t n = 0;
        for (int i = 0; i < N; i++)
            if (!dead[i]) memcpy(live[n++], ids[i], OM_DHT_ID_LEN);
        memcpy(g_target, target, OM_DHT_ID_LEN);
        qsort(live, n, OM_DHT_ID_LEN, by_dist);
        uint8_t res[OM_DHT_K][OM_DHT_ID_LEN];
        CHECK_EQ_INT(om_dht_lookup_result(&l, res, OM_DHT_K), OM_DHT_K);
        for (int i = 0; i < OM_DHT_K; i++)
            CHECK_MSG(!memcmp(res[i], live[i], OM_DHT_ID_LEN), "dead %d%%, target %d, rank %d",
                      dead_pct, t, i);
    }
    CHECK(alpha_ok);
}

static void test_lookup_finds_closest(void)
{
    check_lookups(0);
}

static void test_lookup_with_dead_nodes(void)
{
    check_lookups(20);
}

static void test_lookup_edges(void)
{
    uint8_t self[OM_DHT_ID_LEN] = {1}, target[OM_DHT_ID_LEN] = {2};
    om_dht_lookup_t l;
    om_dht_lookup_init(&l, self, target, 0, 0, NULL, 0);
    CHECK(om_dht_lookup_done(&l));
    uint8_t seeds[2][OM_DHT_ID_LEN] = {{9}, {1}}; /* {1} is ourselves: never a candidate */
    om_dht_lookup_init(&l, self, target, 1, 2, (const uint8_t(*)[OM_DHT_ID_LEN])seeds, 2);
    CHECK_EQ_INT(l.n, 1);
    uint8_t ask[3][OM_DHT_ID_LEN], stranger[1][OM_DHT_ID_LEN] = {{7}};
    om_dht_lookup_answer(&l, stranger[0], (const uint8_t(*)[OM_DHT_ID_LEN])stranger, 1);
    CHECK_EQ_INT(l.n, 1); /* not asked: ignored */
    CHECK_EQ_INT(om_dht_lookup_next(&l, ask, 3), 1);
    CHECK_EQ_INT(om_dht_lookup_next(&l, ask, 3), 0); /* alpha 1 */
    CHECK(!om_dht_lookup_done(&l));
    om_dht_lookup_answer(&l, seeds[0], (const uint8_t(*)[OM_DHT_ID_LEN])stranger, 1);
    CHECK_EQ_INT(l.n, 2);
    CHECK(!om_dht_lookup_done(&l)); /* {7} is among the 2 closest and not asked yet */
    CHECK_EQ_INT(om_dht_lookup_next(&l, ask, 3), 1);
    om_dht_lookup_failed(&l, stranger[0]);
    CHECK(om_dht_lookup_done(&l));
    CHECK_EQ_INT(om_dht_lookup_result(&l, ask, 3), 1);
    CHECK_EQ_INT(l.failures, 1);
}

/* Hostile answers naming ever new IDs, each closer than the last: the lookup still ends, after
 * at most OM_DHT_LOOKUP_MAX_QUERIES queries, and asks nobody twice. */
static void test_lookup_bounded_against_endless_names(void)
{
    uint8_t self[OM_DHT_ID_LEN] = {0xff}, target[OM_DHT_ID_LEN] = {0};
    uint8_t seed[1][OM_DHT_ID_LEN];
    memset(seed[0], 0x80, OM_DHT_ID_LEN);
    static om_dht_lookup_t l;
    om_dht_lookup_init(&l, self, target, 0, 0, (const uint8_t(*)[OM_DHT_ID_LEN])seed, 1);
    uint32_t next = 0x7fffffff;
    static uint8_t asked_ids[1000][OM_DHT_ID_LEN];
    size_t n_asked = 0;
    for (int guard = 0; guard < 10000 && !om_dht_lookup_done(&l); guard++) {
        uint8_t ask[OM_DHT_ALPHA][OM_DHT_ID_LEN], names[4][OM_DHT_ID_LEN];
        size_t q = om_dht_lookup_next(&l, ask, OM_DHT_ALPHA);
        for (size_t i = 0; i < q; i++) {
            for (size_t j = 0; j < n_asked; j++)
                CHECK_MSG(memcmp(asked_ids[j], ask[i], OM_DHT_ID_LEN), "asked twice");
            if (n_asked < 1000) memcpy(asked_ids[n_asked++], ask[i], OM_DHT_ID_LEN);
            for (int k = 0; k < 4; k++) { /* three new closer IDs, and the seed again */
                memset(names[k], 0, OM_DHT_ID_LEN);
                uint32_t v = k < 3 ? next-- : 0;
                for (int b = 0; b < 4; b++) /* big-endian: a smaller v is closer to 0 */
                    names[k][16 + b] = (uint8_t)(v >> (24 - 8 * b));
                if (k == 3) memcpy(names[k], seed[0], OM_DHT_ID_LEN);
            }
            om_dht_lookup_answer(&l, ask[i], (const uint8_t(*)[OM_DHT_ID_LEN])names, 4);
        }
    }
    CHECK(om_dht_lookup_done(&l));
    CHECK_EQ_INT(l.queries, OM_DHT_LOOKUP_MAX_QUERIES);
    CHECK_EQ_INT(n_asked, OM_DHT_LOOKUP_MAX_QUERIES);
}

static const om_test_t tests[] = {
    OM_TEST(test_lookup_bounded_against_endless_names),
    OM_TEST(test_lookup_finds_closest),
    OM_TEST(test_lookup_with_dead_nodes),
    OM_TEST(test_lookup_edges),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("dht_lookup", tests, argc, argv);
}

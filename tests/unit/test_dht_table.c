/* test_dht_table.c — unit tests for the DHT routing table (dht_table.c): bucket indexes at the
 * first and last bit; a bucket filling to k = 8, the ninth node asking for a ping of the least
 * recently seen, an answer keeping it (and dropping the candidate), no answer replacing it;
 * a node seen again becoming the most recent; removal promoting the candidate; the closest
 * nodes to random targets equal to a brute-force sort of 300 random IDs; the table file written
 * and read back in the same order, with bad lines skipped. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "test.h"
#include "dht/dht_table.h"

static void rand_id(uint8_t id[OM_DHT_ID_LEN], unsigned *seed)
{
    for (int i = 0; i < OM_DHT_ID_LEN; i++)
        id[i] = (uint8_t)(rand_r(seed) >> 7);
}

static void test_bucket_of(void)
{
    uint8_t self[OM_DHT_ID_LEN] = {0}, id[OM_DHT_ID_LEN] = {0};
    om_dht_table_t t;
    om_dht_table_init(&t, self);
    CHECK_EQ_INT(om_dht_table_bucket_of(&t, id), -1);
    id[0] = 0x80;
    CHECK_EQ_INT(om_dht_table_bucket_of(&t, id), 0);
    id[0] = 0x01;
    CHECK_EQ_INT(om_dht_table_bucket_of(&t, id), 7);
    id[0] = 0;
    id[19] = 1;
    CHECK_EQ_INT(om_dht_table_bucket_of(&t, id), 159);
    uint8_t ping[OM_DHT_ID_LEN];
    CHECK_EQ_INT(om_dht_table_seen(&t, self, 1, ping), OM_DHT_SEEN_IGNORED);
}

/* Nine IDs in bucket 0 of a zero self: first bit set, the rest i. */
static void far_id(uint8_t id[OM_DHT_ID_LEN], int i)
{
    memset(id, 0, OM_DHT_ID_LEN);
    id[0] = 0x80;
    id[19] = (uint8_t)i;
}

static void test_full_bucket_ping_first(void)
{
    static om_dht_table_t t;
    uint8_t self[OM_DHT_ID_LEN] = {0}, id[OM_DHT_ID_LEN], ping[OM_DHT_ID_LEN];
    om_dht_table_init(&t, self);
    for (int i = 0; i < OM_DHT_K; i++) {
        far_id(id, i);
        CHECK_EQ_INT(om_dht_table_seen(&t, id, 100 + (uint64_t)i, ping), OM_DHT_SEEN_ADDED);
    }
    far_id(id, 8);
    CHECK_EQ_INT(om_dht_table_seen(&t, id, 200, ping), OM_DHT_SEEN_PING);
    uint8_t want[OM_DHT_ID_LEN];
    far_id(want, 0);
    CHECK_MEM(ping, want, OM_DHT_ID_LEN); /* the least recently seen */
    far_id(id, 9);
    CHECK_EQ_INT(om_dht_table_seen(&t, id, 201, ping), OM_DHT_SEEN_IGNORED); /* one candidate */
    om_dht_table_ping_result(&t, want, true, 202); /* node 0 answered: stays, now most recent */
    CHECK_EQ_INT(om_dht_table_size(&t), OM_DHT_K);
    CHECK_MEM(t.buckets[0].nodes[OM_DHT_K - 1].id, want, OM_DHT_ID_LEN);
    CHECK(!t.buckets[0].has_candidate);
    far_id(id, 8);
    CHECK_EQ_INT(om_dht_table_seen(&t, id, 203, ping), OM_DHT_SEEN_PING);
    far_id(want, 1);
    CHECK_MEM(ping, want, OM_DHT_ID_LEN);
    om_dht_table_ping_result(&t, want, false, 204); /* node 1 did not answer: replaced */
    CHECK_EQ_INT(om_dht_table_size(&t), OM_DHT_K);
    CHECK_MEM(t.buckets[0].nodes[OM_DHT_K - 1].id, id, OM_DHT_ID_LEN);
    for (int i = 0; i < t.buckets[0].n; i++)
        CHECK(memcmp(t.buckets[0].nodes[i].id, want, OM_DHT_ID_LEN) != 0);
    /* Seen again: most recent. */
    far_id(id, 3);
    CHECK_EQ_INT(om_dht_table_seen(&t, id, 300, ping), OM_DHT_SEEN_UPDATED);
    CHECK_MEM(t.buckets[0].nodes[OM_DHT_K - 1].id, id, OM_DHT_ID_LEN);
    CHECK_EQ_INT(t.buckets[0].nodes[OM_DHT_K - 1].last_seen, 300);
    /* Removal promotes a waiting candidate. */
    far_id(id, 10);
    CHECK_EQ_INT(om_dht_table_seen(&t, id, 301, ping), OM_DHT_SEEN_PING);
    uint8_t gone[OM_DHT_ID_LEN];
    far_id(gone, 5);
    om_dht_table_remove(&t, gone);
    CHECK_EQ_INT(t.buckets[0].n, OM_DHT_K);
    CHECK_MEM(t.buckets[0].nodes[OM_DHT_K - 1].id, id, OM_DHT_ID_LEN);
    om_dht_table_remove(&t, gone); /* not there: nothing */
    CHECK_EQ_INT(t.buckets[0].n, OM_DHT_K);
}

static uint8_t g_target[OM_DHT_ID_LEN];
static int by_distance(const void *a, const void *b)
{
    return om_dht_distance_cmp(g_target, a, b);
}

static void test_closest_matches_brute_force(void)
{
    static om_dht_table_t t;
    static uint8_t all[300][OM_DHT_ID_LEN];
    unsigned seed = 42;
    uint8_t self[OM_DHT_ID_LEN];
    rand_id(self, &seed);
    om_dht_table_init(&t, self);
    int n = 0;
    for (int i = 0; i < 300; i++) {
        uint8_t id[OM_DHT_ID_LEN];
        rand_id(id, &seed);
        if (i % 3 == 0) memcpy(id, self, 3); /* some near ourselves, in deeper buckets */
        om_dht_seen_t r = om_dht_table_seen(&t, id, (uint64_t)i, NULL);
        if (r == OM_DHT_SEEN_ADDED) memcpy(all[n++], id, OM_DHT_ID_LEN);
        if (r == OM_DHT_SEEN_PING) /* keep the table as it is: candidate answered "alive" */
            om_dht_table_ping_result(&t, t.buckets[om_dht_table_bucket_of(&t, id)].nodes[0].id,
                                     true, (uint64_t)i);
    }
    CHECK_EQ_INT(om_dht_table_size(&t), n);
    CHECK(n > 40);
    for (int k = 0; k < 50; k++) {
        rand_id(g_target, &seed);
        if (k % 5 == 0) memcpy(g_target, all[k], OM_DHT_ID_LEN); /* a target in the table */
        static uint8_t sorted[300][OM_DHT_ID_LEN];
        memcpy(sorted, all, sizeof all);
        qsort(sorted, (size_t)n, OM_DHT_ID_LEN, by_distance);
        for (size_t want = 1; want <= 20; want += 19) {
            om_dht_node_t out[20];
            size_t got = om_dht_table_closest(&t, g_target, out, want);
            CHECK_EQ_INT(got, want);
            for (size_t i = 0; i < got; i++)
                CHECK_MSG(!memcmp(out[i].id, sorted[i], OM_DHT_ID_LEN), "target %d rank %zu", k, i);
        }
    }
}

static void test_save_load(void)
{
    static om_dht_table_t t, u;
    unsigned seed = 7;
    uint8_t self[OM_DHT_ID_LEN];
    rand_id(self, &seed);
    om_dht_table_init(&t, self);
    for (int i = 0; i < 60; i++) {
        uint8_t id[OM_DHT_ID_LEN];
        rand_id(id, &seed);
        om_dht_table_seen(&t, id, 1000 + (uint64_t)i, NULL);
    }
    char path[] = "/tmp/om-dht-table-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    CHECK_EQ_INT(om_dht_table_save(&t, path), 0);
    FILE *f = fopen(path, "a");
    CHECK(f != NULL);
    fprintf(f, "not a node\nZZZZ 1\n%040d x\n", 0);
    fclose(f);
    om_dht_table_init(&u, self);
    CHECK_EQ_INT(om_dht_table_load(&u, path), 0);
    unlink(path);
    CHECK_EQ_INT(om_dht_table_size(&u), om_dht_table_size(&t));
    for (int bi = 0; bi < OM_DHT_BUCKETS; bi++) {
        CHECK_EQ_INT(u.buckets[bi].n, t.buckets[bi].n);
        for (int i = 0; i < t.buckets[bi].n; i++) {
            CHECK_MEM(u.buckets[bi].nodes[i].id, t.buckets[bi].nodes[i].id, OM_DHT_ID_LEN);
            CHECK_EQ_INT(u.buckets[bi].nodes[i].last_seen, t.buckets[bi].nodes[i].last_seen);
        }
    }
    CHECK_EQ_INT(om_dht_table_load(&u, "/nonexistent/dir/table"), -1);
}

static const om_test_t tests[] = {
    OM_TEST(test_bucket_of),
    OM_TEST(test_full_bucket_ping_first),
    OM_TEST(test_closest_matches_brute_force),
    OM_TEST(test_save_load),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("dht_table", tests, argc, argv);
}

/* test_dht_store.c — unit tests for the DHT record store (dht_store.c) and a node's answers
 * (dht_server.c). Store: only checked records enter (a forged one gets BAD_RECORD); the limits
 * per key, per publisher and in all give LIMIT; a republished record replaces the old one
 * instead of counting twice; get returns the latest first and nothing expired; expire drops
 * what is due. Answers: PONG carries our ID; NODES the 8 closest of the table; PROVIDERS the
 * stored records (as many as fit one message, which encodes) and the closest nodes; ADDED the
 * store's verdict; a response type sent as a request gets ERROR unknown type; IDs echoed. */
#include "test.h"
#include "core/crypto.h"
#include "dht/dht_record.h"
#include "dht/dht_server.h"
#include "dht/dht_store.h"

#define NOW 1800000000ull

static om_dht_record_t rec(const om_ed25519_keypair_t *kp, uint8_t key, uint8_t value,
                           uint64_t created)
{
    om_dht_record_t r;
    memset(&r, 0, sizeof r);
    r.kind = OM_DHT_KIND_PROVIDER;
    memset(r.key, key, OM_DHT_ID_LEN);
    r.created = created;
    r.expires = created + 3600;
    r.value_len = OM_DHT_ID_LEN;
    memset(r.value, value, OM_DHT_ID_LEN);
    om_dht_record_sign(&r, kp);
    return r;
}

static void test_store_limits(void)
{
    om_ed25519_keypair_t a, b;
    CHECK_EQ_INT(om_ed25519_keygen(&a), 0);
    CHECK_EQ_INT(om_ed25519_keygen(&b), 0);
    om_dht_store_t *s = om_dht_store_new(3, 4, 6);
    CHECK(s != NULL);
    om_dht_record_t r = rec(&a, 1, 1, NOW);
    r.sig[0] ^= 1;
    CHECK_EQ_INT(om_dht_store_add(s, &r, NOW), OM_DHT_ADDED_BAD_RECORD);
    for (uint8_t v = 0; v < 3; v++) { /* 3 values for key 1 by a: the per-key limit */
        r = rec(&a, 1, v, NOW);
        CHECK_EQ_INT(om_dht_store_add(s, &r, NOW), OM_DHT_ADDED_OK);
    }
    r = rec(&b, 1, 9, NOW);
    CHECK_EQ_INT(om_dht_store_add(s, &r, NOW), OM_DHT_ADDED_LIMIT); /* key 1 full */
    r = rec(&a, 1, 0, NOW + 5);                                     /* a republish */
    CHECK_EQ_INT(om_dht_store_add(s, &r, NOW), OM_DHT_ADDED_OK);
    CHECK_EQ_INT(om_dht_store_count(s), 3);
    r = rec(&a, 2, 0, NOW);
    CHECK_EQ_INT(om_dht_store_add(s, &r, NOW), OM_DHT_ADDED_OK); /* a's fourth */
    r = rec(&a, 3, 0, NOW);
    CHECK_EQ_INT(om_dht_store_add(s, &r, NOW), OM_DHT_ADDED_LIMIT); /* per publisher */
    r = rec(&b, 3, 0, NOW);
    CHECK_EQ_INT(om_dht_store_add(s, &r, NOW), OM_DHT_ADDED_OK);
    r = rec(&b, 4, 0, NOW);
    CHECK_EQ_INT(om_dht_store_add(s, &r, NOW), OM_DHT_ADDED_OK); /* 6: the total */
    r = rec(&b, 5, 0, NOW);
    CHECK_EQ_INT(om_dht_store_add(s, &r, NOW), OM_DHT_ADDED_LIMIT);
    /* Expiry makes room. */
    r = rec(&b, 5, 0, NOW + 3000);
    CHECK_EQ_INT(om_dht_store_add(s, &r, NOW + 3599), OM_DHT_ADDED_LIMIT);
    CHECK_EQ_INT(om_dht_store_add(s, &r, NOW + 3600), OM_DHT_ADDED_OK);
    CHECK_EQ_INT(om_dht_store_count(s), 2); /* the republished one (NOW + 5) and this */
    CHECK_EQ_INT(om_dht_store_expire(s, NOW + 3605), 1);
    CHECK_EQ_INT(om_dht_store_count(s), 1);
    om_dht_store_free(s);
}

static void test_store_get_latest_first(void)
{
    om_ed25519_keypair_t a;
    CHECK_EQ_INT(om_ed25519_keygen(&a), 0);
    om_dht_store_t *s = om_dht_store_new(0, 0, 0);
    uint64_t created[] = {NOW - 50, NOW - 10, NOW - 30, NOW - 3590, NOW - 20};
    for (int i = 0; i < 5; i++) {
        om_dht_record_t r = rec(&a, 7, (uint8_t)i, created[i]);
        CHECK_EQ_INT(om_dht_store_add(s, &r, NOW), OM_DHT_ADDED_OK);
    }
    om_dht_record_t other = rec(&a, 8, 0, NOW);
    CHECK_EQ_INT(om_dht_store_add(s, &other, NOW), OM_DHT_ADDED_OK);
    om_dht_record_t out[4];
    uint8_t key[OM_DHT_ID_LEN];
    memset(key, 7, sizeof key);
    size_t n = om_dht_store_get(s, key, NOW + 11, out, 3); /* created NOW-3590 has expired */
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_INT(out[0].created, NOW - 10);
    CHECK_EQ_INT(out[1].created, NOW - 20);
    CHECK_EQ_INT(out[2].created, NOW - 30);
    CHECK_EQ_INT(om_dht_store_get(s, key, NOW + 11, out, 4), 4);
    CHECK_EQ_INT(out[3].created, NOW - 50);
    om_dht_store_free(s);
}

static void test_answers(void)
{
    static om_dht_table_t t;
    uint8_t self[OM_DHT_ID_LEN];
    memset(self, 0x33, sizeof self);
    om_dht_table_init(&t, self);
    for (int i = 0; i < 40; i++) {
        uint8_t id[OM_DHT_ID_LEN];
        for (int j = 0; j < OM_DHT_ID_LEN; j++)
            id[j] = (uint8_t)(i * 37 + j * 11);
        om_dht_table_seen(&t, id, (uint64_t)i, NULL);
    }
    om_dht_store_t *s = om_dht_store_new(0, 0, 0);
    om_ed25519_keypair_t kp;
    CHECK_EQ_INT(om_ed25519_keygen(&kp), 0);
    static om_dht_msg_t req, resp;
    static uint8_t buf[OM_DHT_FRAME_HDR + OM_DHT_MSG_MAX];
    memset(&req, 0, sizeof req);
    req.type = OM_DHT_PING;
    req.id = 77;
    om_dht_server_answer(&t, s, &req, NOW, &resp);
    CHECK(resp.type == OM_DHT_PONG && resp.id == 77);
    CHECK_MEM(resp.target, self, OM_DHT_ID_LEN);
    req.type = OM_DHT_FIND_NODE;
    memset(req.target, 0x99, OM_DHT_ID_LEN);
    om_dht_server_answer(&t, s, &req, NOW, &resp);
    CHECK(resp.type == OM_DHT_NODES && resp.n_nodes == OM_DHT_K);
    om_dht_node_t near[OM_DHT_K];
    om_dht_table_closest(&t, req.target, near, OM_DHT_K);
    for (int i = 0; i < OM_DHT_K; i++)
        CHECK_MEM(resp.nodes[i], near[i].id, OM_DHT_ID_LEN);
    CHECK(om_dht_msg_encode(&resp, buf, sizeof buf) > 0);
    /* 30 records for one key: PROVIDERS carries the 16 latest, and encodes. */
    req.type = OM_DHT_ADD_PROVIDER;
    req.n_records = 1;
    for (int i = 0; i < 30; i++) {
        req.records[0] = rec(&kp, 0x99, (uint8_t)i, NOW - 100 + (uint64_t)i);
        om_dht_server_answer(&t, s, &req, NOW, &resp);
        CHECK(resp.type == OM_DHT_ADDED && resp.code == OM_DHT_ADDED_OK);
    }
    req.records[0].sig[5] ^= 4;
    om_dht_server_answer(&t, s, &req, NOW, &resp);
    CHECK_EQ_INT(resp.code, OM_DHT_ADDED_BAD_RECORD);
    req.type = OM_DHT_GET_PROVIDERS;
    req.n_records = 0;
    om_dht_server_answer(&t, s, &req, NOW, &resp);
    CHECK(resp.type == OM_DHT_PROVIDERS && resp.n_records == OM_DHT_MAX_RECORDS &&
          resp.n_nodes == OM_DHT_K);
    CHECK_EQ_INT(resp.records[0].created, NOW - 100 + 29);
    long n = om_dht_msg_encode(&resp, buf, sizeof buf);
    CHECK(n > 0);
    static om_dht_msg_t back;
    char err[80];
    CHECK_EQ_INT(om_dht_msg_parse(buf + 2, (size_t)n - 2, &back, err, sizeof err), 0);
    for (size_t i = 0; i < back.n_records; i++)
        CHECK_EQ_INT(om_dht_record_check(&back.records[i], NOW, NULL, 0), OM_DHT_ADDED_OK);
    req.type = OM_DHT_NODES; /* not a request */
    om_dht_server_answer(&t, s, &req, NOW, &resp);
    CHECK(resp.type == OM_DHT_ERROR && resp.code == OM_DHT_ERR_UNKNOWN_TYPE && resp.id == 77);
    om_dht_store_free(s);
}

static const om_test_t tests[] = {
    OM_TEST(test_store_limits),
    OM_TEST(test_store_get_latest_first),
    OM_TEST(test_answers),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("dht_store", tests, argc, argv);
}

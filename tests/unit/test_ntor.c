/* test_ntor.c — unit tests for ntor.c (tor-spec 5.1.4 ntor handshake, 5.2.2 key expansion).
 * tor-spec publishes no ntor test vector; the vector below was derived independently with a
 * short Python script (hashlib/hmac and the `cryptography` module's X25519) from the spec text:
 * b, x, y = SHA-256 of "onionmesh ntor test b" / "... x" / "... y", ID = SHA-1 of
 * "onionmesh ntor test id". */
#include "test.h"
#include "core/onion_handshake.h"

#define V_b         "4ddf50e887c9cdb6724636a3f9924327545c69088d9ec0f525c38f3680e206ea"
#define V_B         "c0c6921029ab6095e3cab599b7ed7a863f5cfc378293ddc3c5c78aba67d81904"
#define V_x         "f23a6c8f1c7471992c9ee61300937cf9218e5bca67fb697767abde4c6a41b5c1"
#define V_X         "4d8e845884f8487578d6a6aaa05525b9051be6dd8d84dbc32c9c020796250f29"
#define V_y         "617143b4cd60c87220b9bf974b6d3d369943978e5d157f00883933a288c21d74"
#define V_Y         "abba818eaaa36816d2a789d3702f255432f61ce1c43a76f13ce16551b55e1432"
#define V_ID        "1516dd9a7cd19f7fc9d5882547038397e3b3d7fa"
#define V_ONIONSKIN V_ID V_B V_X
#define V_REPLY     V_Y "945b1e60e997b1dc85f8c2270dc3bb327fc16ac0fb309306de6beb127e9ffebd"
#define V_KEYS                                                                                     \
    "7a9c7866b56ea858527b283ed8927d8133f8a650d81126a0cd8c26687fc7bfcab7537c48d89f8d3220f089c1a"    \
    "8344fe2c9dca3533aaceeedd223e1835bf1f9beee32ecd1fb61ff2b"
#define V_KH "15161459f0402ad82a8050887805f4ae9c432794"

static int keypair_from_hex(om_x25519_keypair_t *kp, const char *sec_hex)
{
    om_test_unhex(sec_hex, kp->sec, 32);
    return om_x25519_pub_from_sec(kp->sec, kp->pub);
}

static void test_vector_server(void)
{
    om_x25519_keypair_t b, y, other;
    uint8_t id[20], onionskin[84], reply[64], exp_reply[64], exp_keys[72], exp_kh[20], B[32], Y[32];
    om_handshake_keys_t out;
    CHECK(keypair_from_hex(&b, V_b) == 0);
    CHECK(keypair_from_hex(&y, V_y) == 0);
    CHECK(om_x25519_keygen(&other) == 0);
    om_test_unhex(V_B, B, 32);
    om_test_unhex(V_Y, Y, 32);
    CHECK_MEM(b.pub, B, 32);
    CHECK_MEM(y.pub, Y, 32);
    om_test_unhex(V_ID, id, 20);
    CHECK_EQ_INT(om_test_unhex(V_ONIONSKIN, onionskin, sizeof onionskin), 84);
    om_test_unhex(V_REPLY, exp_reply, 64);
    om_test_unhex(V_KEYS, exp_keys, 72);
    om_test_unhex(V_KH, exp_kh, 20);

    /* The matching key is the second of two (an old onion key still accepted). */
    om_x25519_keypair_t keys[2] = {other, b};
    CHECK(om_ntor_server_with_y(id, keys, 2, onionskin, &y, reply, &out) == 0);
    CHECK_MEM(reply, exp_reply, 64);
    CHECK_MEM(out.keys, exp_keys, 72);
    CHECK_MEM(out.kh, exp_kh, 20);
}

static void test_vector_client(void)
{
    om_ntor_client_t st;
    uint8_t reply[64], exp_keys[72], exp_kh[20], X[32];
    om_handshake_keys_t out;
    memset(&st, 0, sizeof st);
    CHECK(keypair_from_hex(&st.x, V_x) == 0);
    om_test_unhex(V_X, X, 32);
    CHECK_MEM(st.x.pub, X, 32);
    om_test_unhex(V_ID, st.router_id, 20);
    om_test_unhex(V_B, st.B, 32);
    om_test_unhex(V_REPLY, reply, 64);
    om_test_unhex(V_KEYS, exp_keys, 72);
    om_test_unhex(V_KH, exp_kh, 20);
    CHECK(om_ntor_client_finish(&st, reply, 64, &out) == 0);
    CHECK_MEM(out.keys, exp_keys, 72);
    CHECK_MEM(out.kh, exp_kh, 20);

    /* Any single-bit change to AUTH or Y makes the client reject the reply. */
    for (size_t i = 0; i < 64; i += 7) {
        uint8_t bad[64];
        memcpy(bad, reply, 64);
        bad[i] ^= 0x10;
        CHECK_MSG(om_ntor_client_finish(&st, bad, 64, &out) != 0, "flipped byte %zu", i);
    }
    om_ntor_client_clear(&st);
    CHECK(om_mem_is_zero(&st, sizeof st));
}

/* A fresh relay and a client that agree on everything. */
typedef struct {
    uint8_t id[20];
    om_x25519_keypair_t b;
} relay_t;

static int relay_init(relay_t *r)
{
    return om_rand_bytes(r->id, 20) == 0 && om_x25519_keygen(&r->b) == 0 ? 0 : -1;
}

static void test_roundtrip(void)
{
    relay_t r;
    om_ntor_client_t c;
    uint8_t skin[OM_NTOR_ONIONSKIN_LEN], reply[OM_NTOR_REPLY_LEN];
    om_handshake_keys_t ck, sk;
    CHECK(relay_init(&r) == 0);
    for (int i = 0; i < 4; i++) {
        CHECK(om_ntor_client_create(&c, r.id, r.b.pub, skin) == 0);
        CHECK_MEM(skin, r.id, 20);
        CHECK_MEM(skin + 20, r.b.pub, 32);
        CHECK_MEM(skin + 52, c.x.pub, 32);
        CHECK(om_ntor_server(r.id, &r.b, 1, skin, reply, &sk) == 0);
        CHECK(om_ntor_client_finish(&c, reply, sizeof reply, &ck) == 0);
        CHECK_MEM(ck.keys, sk.keys, 72);
        CHECK_MEM(ck.kh, sk.kh, 20);
        CHECK(!om_mem_is_zero(ck.keys, 72));
        om_ntor_client_clear(&c);
    }
}

static void test_fresh_ephemerals_differ(void)
{
    relay_t r;
    om_ntor_client_t c1, c2;
    uint8_t s1[84], s2[84], r1[64], r2[64];
    om_handshake_keys_t k1, k2;
    CHECK(relay_init(&r) == 0);
    CHECK(om_ntor_client_create(&c1, r.id, r.b.pub, s1) == 0);
    CHECK(om_ntor_client_create(&c2, r.id, r.b.pub, s2) == 0);
    CHECK(memcmp(s1 + 52, s2 + 52, 32) != 0);
    CHECK(om_ntor_server(r.id, &r.b, 1, s1, r1, &k1) == 0);
    CHECK(om_ntor_server(r.id, &r.b, 1, s1, r2, &k2) == 0);
    CHECK(memcmp(r1, r2, 32) != 0); /* fresh Y each time */
    CHECK(memcmp(k1.keys, k2.keys, 72) != 0);
}

static void test_wrong_B_rejected(void)
{
    relay_t r;
    om_x25519_keypair_t wrong;
    om_ntor_client_t c;
    uint8_t skin[84], reply[64];
    om_handshake_keys_t k;
    CHECK(relay_init(&r) == 0);
    CHECK(om_x25519_keygen(&wrong) == 0);
    /* Client uses an onion key the relay does not have: the relay finds no key for KEYID. */
    CHECK(om_ntor_client_create(&c, r.id, wrong.pub, skin) == 0);
    CHECK(om_ntor_server(r.id, &r.b, 1, skin, reply, &k) == -1);
    /* Zero keys configured. */
    CHECK(om_ntor_server(r.id, &r.b, 0, skin, reply, &k) == -1);

    /* A relay that answers with a different onion key than the one the client expected
     * (KEYID rewritten in transit) produces an AUTH the client rejects. */
    memcpy(skin + 20, r.b.pub, 32);
    CHECK(om_ntor_server(r.id, &r.b, 1, skin, reply, &k) == 0);
    CHECK(om_ntor_client_finish(&c, reply, 64, &k) == -1);
}

static void test_wrong_router_id_rejected(void)
{
    relay_t r;
    om_ntor_client_t c;
    uint8_t skin[84], reply[64], other_id[20];
    om_handshake_keys_t k;
    CHECK(relay_init(&r) == 0);
    memcpy(other_id, r.id, 20);
    other_id[19] ^= 1;
    CHECK(om_ntor_client_create(&c, other_id, r.b.pub, skin) == 0);
    CHECK(om_ntor_server(r.id, &r.b, 1, skin, reply, &k) == -1);
    /* A relay that ignored NODEID would compute AUTH over its own ID: client rejects. */
    memcpy(skin, r.id, 20);
    CHECK(om_ntor_server(r.id, &r.b, 1, skin, reply, &k) == 0);
    CHECK(om_ntor_client_finish(&c, reply, 64, &k) == -1);
}

static void test_tampered_auth_rejected(void)
{
    relay_t r;
    om_ntor_client_t c;
    uint8_t skin[84], reply[64];
    om_handshake_keys_t k;
    CHECK(relay_init(&r) == 0);
    CHECK(om_ntor_client_create(&c, r.id, r.b.pub, skin) == 0);
    CHECK(om_ntor_server(r.id, &r.b, 1, skin, reply, &k) == 0);
    reply[63] ^= 0x01;
    CHECK(om_ntor_client_finish(&c, reply, 64, &k) == -1);
    reply[63] ^= 0x01;
    /* Tampered X in the onionskin: relay answers, client rejects. */
    skin[60] ^= 0x40;
    CHECK(om_ntor_server(r.id, &r.b, 1, skin, reply, &k) == 0);
    CHECK(om_ntor_client_finish(&c, reply, 64, &k) == -1);
}

static void test_truncated_reply_rejected(void)
{
    relay_t r;
    om_ntor_client_t c;
    uint8_t skin[84], reply[65];
    om_handshake_keys_t k;
    CHECK(relay_init(&r) == 0);
    CHECK(om_ntor_client_create(&c, r.id, r.b.pub, skin) == 0);
    CHECK(om_ntor_server(r.id, &r.b, 1, skin, reply, &k) == 0);
    reply[64] = 0;
    CHECK(om_ntor_client_finish(&c, reply, 0, &k) == -1);
    CHECK(om_ntor_client_finish(&c, reply, 32, &k) == -1);
    CHECK(om_ntor_client_finish(&c, reply, 63, &k) == -1);
    CHECK(om_ntor_client_finish(&c, reply, 65, &k) == -1);
    CHECK(om_ntor_client_finish(&c, NULL, 64, &k) == -1);
    CHECK(om_ntor_client_finish(&c, reply, 64, &k) == 0);
}

static void test_degenerate_points_rejected(void)
{
    relay_t r;
    om_ntor_client_t c;
    uint8_t skin[84], reply[64];
    om_handshake_keys_t k;
    CHECK(relay_init(&r) == 0);
    CHECK(om_ntor_client_create(&c, r.id, r.b.pub, skin) == 0);
    /* X = 0 and X = 1 (a small-order point) give an all-zero EXP: relay refuses. */
    uint8_t bad[84];
    memcpy(bad, skin, 84);
    memset(bad + 52, 0, 32);
    CHECK(om_ntor_server(r.id, &r.b, 1, bad, reply, &k) == -1);
    bad[52] = 1;
    CHECK(om_ntor_server(r.id, &r.b, 1, bad, reply, &k) == -1);
    /* Y = 0 in the reply: client refuses whatever AUTH says. */
    CHECK(om_ntor_server(r.id, &r.b, 1, skin, reply, &k) == 0);
    memset(reply, 0, 32);
    CHECK(om_ntor_client_finish(&c, reply, 64, &k) == -1);
}

static const om_test_t tests[] = {
    OM_TEST(test_vector_server),
    OM_TEST(test_vector_client),
    OM_TEST(test_roundtrip),
    OM_TEST(test_fresh_ephemerals_differ),
    OM_TEST(test_wrong_B_rejected),
    OM_TEST(test_wrong_router_id_rejected),
    OM_TEST(test_tampered_auth_rejected),
    OM_TEST(test_truncated_reply_rejected),
    OM_TEST(test_degenerate_points_rejected),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("ntor", tests, argc, argv);
}

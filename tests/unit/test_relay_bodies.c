/* test_relay_bodies.c — BEGIN, CONNECTED, RESOLVED, EXTEND2 and CREATED2 bodies (tor-spec
 * 5.1.2, 6.2, 6.4): exact encodings, round trips, and malformed / truncated input. */
#include <string.h>

#include "core/relay_bodies.h"
#include "test.h"

static void test_begin_encoding(void)
{
    om_begin_t b;
    memset(&b, 0, sizeof b);
    strcpy(b.host, "WWW.Example.COM");
    b.port = 443;
    b.flags = OM_BEGIN_FLAG_IPV6_OK;
    uint8_t out[600];
    int n = om_begin_encode(&b, out, sizeof out);
    static const char want[] = "www.example.com:443";
    CHECK_EQ_INT(n, (int)sizeof want + 4);
    CHECK_MEM(out, want, sizeof want); /* lower case, NUL-terminated */
    CHECK(out[sizeof want] == 0 && out[sizeof want + 3] == 1);
    om_begin_t p;
    CHECK(om_begin_parse(&p, out, (size_t)n) == 0);
    CHECK(!strcmp(p.host, "www.example.com") && p.port == 443 && p.flags == 1);
    /* IPv6 is bracketed on the wire and not in the struct. */
    strcpy(b.host, "::1");
    n = om_begin_encode(&b, out, sizeof out);
    CHECK(n > 0 && !memcmp(out, "[::1]:443", 10));
    CHECK(om_begin_parse(&p, out, (size_t)n) == 0 && !strcmp(p.host, "::1"));
}

static void test_begin_malformed(void)
{
    om_begin_t p;
    static const char *const bad[] = {
        "nocolon", ":80",      "host:",       "host:0", "host:65536", "host:8x",      "[::1:80",
        "[]:80",   "ho st:80", "host:123456", "[[]:3",  "::1:80",     "[1.2.3.4]:80", "a]b:80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t buf[64];
        size_t n = strlen(bad[i]) + 1;
        memcpy(buf, bad[i], n);
        CHECK_MSG(om_begin_parse(&p, buf, n) < 0, "accepted \"%s\"", bad[i]);
    }
    uint8_t nonul[] = {'a', ':', '8', '0'};
    CHECK(om_begin_parse(&p, nonul, sizeof nonul) < 0);
    om_begin_t b;
    memset(&b, 0, sizeof b);
    b.port = 0;
    strcpy(b.host, "x");
    uint8_t out[600];
    CHECK(om_begin_encode(&b, out, sizeof out) < 0);
}

static void test_connected(void)
{
    om_connected_t c;
    CHECK(om_connected_parse(&c, NULL, 0) == 0 && c.addr.type == 0);
    uint8_t v4[8] = {127, 0, 0, 1, 0, 0, 1, 0};
    CHECK(om_connected_parse(&c, v4, 8) == 0 && c.addr.type == 4 && c.ttl == 256);
    CHECK(om_connected_parse(&c, v4, 7) < 0);
    uint8_t v6[25] = {0, 0, 0, 0, 6};
    v6[20] = 1;
    CHECK(om_connected_parse(&c, v6, 25) == 0 && c.addr.type == 6 && c.addr.addr[15] == 1);
    CHECK(om_connected_parse(&c, v6, 24) < 0);
    v6[4] = 7;
    CHECK(om_connected_parse(&c, v6, 25) < 0);
    uint8_t out[32];
    c.addr.type = 4;
    memcpy(c.addr.addr, v4, 4);
    c.ttl = 256;
    CHECK_EQ_INT(om_connected_encode(&c, out, sizeof out), 8);
    CHECK_MEM(out, v4, 8);
}

static void test_resolved(void)
{
    uint8_t body[] = {4, 4, 127, 0, 0, 1, 0, 0, 0, 60, 0, 3, 'a', '.', 'b', 0, 0, 0, 1};
    om_resolved_t r;
    CHECK(om_resolved_parse(&r, body, sizeof body) == 0);
    CHECK_EQ_INT(r.n, 2);
    CHECK(r.answers[0].type == 4 && r.answers[0].ttl == 60 && r.answers[1].len == 3);
    uint8_t out[64];
    CHECK_EQ_INT(om_resolved_encode(&r, out, sizeof out), (int)sizeof body);
    CHECK_MEM(out, body, sizeof body);
    for (size_t n = 0; n < sizeof body; n++)
        if (n != 10) /* the first answer alone is complete at 10 bytes */
            CHECK_MSG(om_resolved_parse(&r, body, n) < 0, "truncated at %zu accepted", n);
    uint8_t badlen[] = {4, 3, 1, 2, 3, 0, 0, 0, 0};
    CHECK(om_resolved_parse(&r, badlen, sizeof badlen) < 0);
}

static void test_extend2_roundtrip_and_order(void)
{
    om_extend2_t e;
    memset(&e, 0, sizeof e);
    e.has_ipv4 = true;
    memcpy(e.ipv4, "\x7f\x00\x00\x01", 4);
    e.ipv4_port = 9001;
    e.has_rsa_id = true;
    memset(e.rsa_id, 0xAA, 20);
    e.has_ed_id = true;
    memset(e.ed_id, 0xBB, 32);
    e.has_ipv6 = true;
    e.ipv6[15] = 1;
    e.ipv6_port = 9002;
    e.htype = 2;
    e.hlen = 84;
    memset(e.hdata, 0xCC, 84);
    uint8_t out[OM_RELAY_PAYLOAD_LEN];
    int n = om_extend2_encode(&e, out, sizeof out);
    CHECK_EQ_INT(n, 1 + 8 + 22 + 34 + 20 + 4 + 84);
    /* tor-spec 5.1.2 order: [00] [02] [03] [01] */
    CHECK(out[0] == 4 && out[1] == 0 && out[9] == 2 && out[31] == 3 && out[65] == 1);
    om_extend2_t p;
    CHECK(om_extend2_parse(&p, out, (size_t)n) == 0);
    CHECK(p.ipv4_port == 9001 && p.ipv6_port == 9002 && p.htype == 2 && p.hlen == 84);
    CHECK_MEM(p.rsa_id, e.rsa_id, 20);
    CHECK_MEM(p.hdata, e.hdata, 84);
    for (int k = 0; k < n; k++)
        CHECK_MSG(om_extend2_parse(&p, out, (size_t)k) < 0, "truncated at %d accepted", k);
}

static void test_extend2_malformed(void)
{
    om_extend2_t p;
    /* Two legacy identities: malformed. */
    uint8_t two_ids[1 + 22 + 22 + 4] = {2, 2, 20};
    two_ids[23] = 2;
    two_ids[24] = 20;
    CHECK(om_extend2_parse(&p, two_ids, sizeof two_ids) < 0);
    /* Unknown specifier ignored; wrong IPv4 length rejected. */
    uint8_t unk[] = {1, 9, 2, 0xde, 0xad, 0, 2, 0, 0};
    CHECK(om_extend2_parse(&p, unk, sizeof unk) == 0 && p.htype == 2 && !p.has_ipv4);
    uint8_t badv4[] = {1, 0, 5, 1, 2, 3, 4, 5, 0, 2, 0, 0};
    CHECK(om_extend2_parse(&p, badv4, sizeof badv4) < 0);
    /* HLEN beyond the body. */
    uint8_t hl[] = {0, 0, 2, 0, 10, 1, 2};
    CHECK(om_extend2_parse(&p, hl, sizeof hl) < 0);
}

static void test_created2(void)
{
    uint8_t b[6] = {0, 3, 1, 2, 3, 9};
    const uint8_t *h;
    size_t hl;
    CHECK(om_created2_parse(b, sizeof b, &h, &hl) == 0 && hl == 3 && h == b + 2);
    b[1] = 5;
    CHECK(om_created2_parse(b, sizeof b, &h, &hl) < 0);
    CHECK(om_created2_parse(b, 1, &h, &hl) < 0);
}

static const om_test_t tests[] = {
    OM_TEST(test_begin_encoding),
    OM_TEST(test_begin_malformed),
    OM_TEST(test_connected),
    OM_TEST(test_resolved),
    OM_TEST(test_extend2_roundtrip_and_order),
    OM_TEST(test_extend2_malformed),
    OM_TEST(test_created2),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("relay_bodies", tests, argc, argv);
}

/* test_link_cells.c — unit tests for link_cells.c: VERSIONS, NETINFO, AUTH_CHALLENGE, the CERTS
 * entry list, PADDING_NEGOTIATE and the address helpers, including malformed/truncated input. */
#include "test.h"
#include "core/link_cells.h"

/* ---- VERSIONS ---- */

static void test_versions_parse(void)
{
    om_versions_t v;
    uint8_t body[] = {0, 3, 0, 4, 0, 5};
    CHECK_EQ_INT(om_versions_parse(&v, body, sizeof body), 0);
    CHECK_EQ_INT(v.n, 3);
    CHECK_EQ_INT(v.versions[0], 3);
    CHECK_EQ_INT(v.versions[2], 5);
    uint8_t big[] = {0x01, 0x02};
    CHECK_EQ_INT(om_versions_parse(&v, big, 2), 0);
    CHECK_EQ_INT(v.versions[0], 0x0102);
    CHECK_EQ_INT(om_versions_parse(&v, NULL, 0), 0);
    CHECK_EQ_INT(v.n, 0);
}

static void test_versions_malformed(void)
{
    om_versions_t v;
    uint8_t body[] = {0, 3, 0, 4, 0};
    CHECK_EQ_INT(om_versions_parse(&v, body, 5), -1); /* odd length */
    CHECK_EQ_INT(om_versions_parse(&v, body, 1), -1);
    CHECK_EQ_INT(om_versions_parse(&v, NULL, 2), -1);
}

static void test_versions_many(void)
{
    uint8_t body[2 * 100];
    for (int i = 0; i < 100; i++) {
        body[2 * i] = 0;
        body[2 * i + 1] = (uint8_t)(i + 1);
    }
    om_versions_t v;
    CHECK_EQ_INT(om_versions_parse(&v, body, sizeof body), 0);
    CHECK_EQ_INT(v.n, OM_VERSIONS_MAX); /* extras ignored */
    CHECK_EQ_INT(v.versions[OM_VERSIONS_MAX - 1], OM_VERSIONS_MAX);
}

static void test_versions_cell_bytes(void)
{
    om_var_cell_t *c = om_versions_cell(3, 5);
    CHECK(c != NULL);
    uint8_t out[32];
    int n = om_var_cell_pack(c, 0, out);
    om_var_cell_free(c);
    uint8_t want[11];
    om_test_unhex("00 00 07 00 06 00 03 00 04 00 05", want, sizeof want);
    CHECK_EQ_INT(n, 11);
    CHECK_MEM(out, want, 11);
    c = om_versions_cell(4, 4);
    CHECK(c != NULL);
    int ok = c->payload_len == 2 && c->payload[0] == 0 && c->payload[1] == 4;
    om_var_cell_free(c);
    CHECK(ok);
    CHECK(om_versions_cell(5, 3) == NULL);
}

static void test_versions_negotiate(void)
{
    om_versions_t v = {.versions = {3, 4, 5}, .n = 3};
    CHECK_EQ_INT(om_versions_negotiate(&v, 3, 5), 5);
    CHECK_EQ_INT(om_versions_negotiate(&v, 3, 4), 4);
    om_versions_t w = {.versions = {4, 9, 3, 1}, .n = 4};
    CHECK_EQ_INT(om_versions_negotiate(&w, 3, 5), 4);
    om_versions_t old = {.versions = {1, 2}, .n = 2};
    CHECK_EQ_INT(om_versions_negotiate(&old, 3, 5), 0);
    om_versions_t none = {.n = 0};
    CHECK_EQ_INT(om_versions_negotiate(&none, 3, 5), 0);
    /* Round trip through the wire: our cell, parsed, negotiates our highest version. */
    om_var_cell_t *c = om_versions_cell(3, 5);
    CHECK(c != NULL);
    om_versions_t p;
    int r = om_versions_parse(&p, c->payload, c->payload_len);
    om_var_cell_free(c);
    CHECK_EQ_INT(r, 0);
    CHECK_EQ_INT(om_versions_negotiate(&p, OM_LINK_PROTO_MIN, OM_LINK_PROTO_MAX), 5);
}

/* ---- addresses ---- */

static void test_addr_strings(void)
{
    om_addr_t a;
    char buf[64];
    CHECK_EQ_INT(om_addr_from_string(&a, "127.0.0.1"), 0);
    CHECK_EQ_INT(a.type, 4);
    CHECK_MEM(a.addr, "\x7f\x00\x00\x01", 4);
    CHECK(om_addr_to_string(&a, buf, sizeof buf) == buf);
    CHECK(!strcmp(buf, "127.0.0.1"));
    CHECK_EQ_INT(om_addr_from_string(&a, "2001:db8::1"), 0);
    CHECK_EQ_INT(a.type, 6);
    CHECK_MEM(a.addr, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
    CHECK(om_addr_to_string(&a, buf, sizeof buf) != NULL);
    CHECK(!strcmp(buf, "2001:db8::1"));
    CHECK_EQ_INT(om_addr_from_string(&a, "[::1]"), 0);
    CHECK_EQ_INT(a.type, 6);
    CHECK(om_addr_to_string(&a, buf, sizeof buf) != NULL);
    CHECK(!strcmp(buf, "::1"));
    char small[3]; /* "::1" needs 4 */
    CHECK(om_addr_to_string(&a, small, sizeof small) == NULL);
    a.type = 0;
    CHECK(om_addr_to_string(&a, buf, sizeof buf) == NULL);
    static const char *bad[] = {"",     "1.2.3", "1.2.3.4 ", "256.1.1.1", "abc",
                                "[::1", "::1]",  "[]",       "[1.2.3.4]", "1::2::3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        om_addr_t b = {.type = 9};
        CHECK_MSG(om_addr_from_string(&b, bad[i]) == -1, "accepted \"%s\"", bad[i]);
        CHECK_EQ_INT(b.type, 9); /* untouched on failure */
    }
}

/* ---- NETINFO ---- */

/* timestamp 0x5F5E1000; other 127.0.0.1; 2 addrs: 10.0.0.1, 2001:db8::1 */
static const char netinfo_hex[] = "5f5e1000 04 04 7f000001 02 04 04 0a000001"
                                  " 06 10 20010db8000000000000000000000001";

static void test_netinfo_encode_bytes(void)
{
    om_netinfo_t ni;
    memset(&ni, 0, sizeof ni);
    ni.timestamp = 0x5F5E1000;
    CHECK_EQ_INT(om_addr_from_string(&ni.other, "127.0.0.1"), 0);
    CHECK_EQ_INT(om_addr_from_string(&ni.my_addrs[0], "10.0.0.1"), 0);
    CHECK_EQ_INT(om_addr_from_string(&ni.my_addrs[1], "2001:db8::1"), 0);
    ni.n_my_addrs = 2;
    uint8_t payload[OM_CELL_PAYLOAD_LEN];
    memset(payload, 0xEE, sizeof payload);
    CHECK_EQ_INT(om_netinfo_encode(&ni, payload), 0);
    uint8_t want[64];
    size_t n = om_test_unhex(netinfo_hex, want, sizeof want);
    CHECK_EQ_INT(n, 35);
    CHECK_MEM(payload, want, n);
    for (size_t i = n; i < OM_CELL_PAYLOAD_LEN; i++)
        CHECK_MSG(payload[i] == 0, "padding byte %zu", i);
}

static void test_netinfo_parse(void)
{
    uint8_t payload[OM_CELL_PAYLOAD_LEN] = {0};
    om_test_unhex(netinfo_hex, payload, sizeof payload);
    om_netinfo_t ni;
    CHECK_EQ_INT(om_netinfo_parse(&ni, payload, sizeof payload), 0);
    CHECK_EQ_INT(ni.timestamp, 0x5F5E1000);
    CHECK_EQ_INT(ni.other.type, 4);
    CHECK_MEM(ni.other.addr, "\x7f\0\0\x01", 4);
    CHECK_EQ_INT(ni.n_my_addrs, 2);
    CHECK_EQ_INT(ni.my_addrs[0].type, 4);
    CHECK_MEM(ni.my_addrs[0].addr, "\x0a\0\0\x01", 4);
    CHECK_EQ_INT(ni.my_addrs[1].type, 6);
    char s[64];
    CHECK(om_addr_to_string(&ni.my_addrs[1], s, sizeof s) && !strcmp(s, "2001:db8::1"));
    /* The exact-length body (no padding) parses too. */
    CHECK_EQ_INT(om_netinfo_parse(&ni, payload, 35), 0);
    /* Round trip. */
    uint8_t again[OM_CELL_PAYLOAD_LEN];
    CHECK_EQ_INT(om_netinfo_encode(&ni, again), 0);
    CHECK_MEM(again, payload, OM_CELL_PAYLOAD_LEN);
}

static void test_netinfo_client_style(void)
{
    /* What a client sends: timestamp 0, the relay's IPv6 address, no addresses of its own. */
    uint8_t payload[OM_CELL_PAYLOAD_LEN] = {0};
    om_test_unhex("00000000 06 10 fe800000000000000000000000000001 00", payload, sizeof payload);
    om_netinfo_t ni;
    CHECK_EQ_INT(om_netinfo_parse(&ni, payload, sizeof payload), 0);
    CHECK_EQ_INT(ni.timestamp, 0);
    CHECK_EQ_INT(ni.other.type, 6);
    CHECK_EQ_INT(ni.other.addr[0], 0xfe);
    CHECK_EQ_INT(ni.other.addr[15], 0x01);
    CHECK_EQ_INT(ni.n_my_addrs, 0);
}

static void test_netinfo_unknown_types_skipped(void)
{
    uint8_t payload[OM_CELL_PAYLOAD_LEN] = {0};
    /* other: unknown type 0x10 length 3; my addrs: type 4 with wrong length 6 (ignored),
     * unknown type 0xF0 length 0, then 192.0.2.7. */
    size_t n = om_test_unhex("00000001 10 03 aabbcc 03 04 06 010203040506 f0 00 04 04 c0000207",
                             payload, sizeof payload);
    om_netinfo_t ni;
    CHECK_EQ_INT(om_netinfo_parse(&ni, payload, n), 0);
    CHECK_EQ_INT(ni.other.type, 0);
    CHECK_EQ_INT(ni.n_my_addrs, 3);
    CHECK_EQ_INT(ni.my_addrs[0].type, 0);
    CHECK_EQ_INT(ni.my_addrs[1].type, 0);
    CHECK_EQ_INT(ni.my_addrs[2].type, 4);
    CHECK_MEM(ni.my_addrs[2].addr, "\xc0\x00\x02\x07", 4);
    /* IPv6 type with IPv4 length: ignored, skipped by 4 bytes. */
    n = om_test_unhex("00000001 06 04 01020304 01 04 04 c0000208", payload, sizeof payload);
    CHECK_EQ_INT(om_netinfo_parse(&ni, payload, n), 0);
    CHECK_EQ_INT(ni.other.type, 0);
    CHECK_EQ_INT(ni.n_my_addrs, 1);
    CHECK_MEM(ni.my_addrs[0].addr, "\xc0\x00\x02\x08", 4);
}

static void test_netinfo_truncated(void)
{
    uint8_t full[64];
    size_t n = om_test_unhex(netinfo_hex, full, sizeof full);
    om_netinfo_t ni;
    /* Every strict prefix of the body is malformed: inside the timestamp, the other address's
     * header or value, before NMYADDR, inside either of my addresses. */
    for (size_t len = 0; len < n; len++)
        CHECK_MSG(om_netinfo_parse(&ni, full, len) == -1, "prefix of %zu bytes accepted", len);
    CHECK_EQ_INT(om_netinfo_parse(&ni, full, n), 0);
    /* An unknown type whose length runs past the end. */
    uint8_t u[] = {0, 0, 0, 0, 0x42, 0xff, 1, 2, 3};
    CHECK_EQ_INT(om_netinfo_parse(&ni, u, sizeof u), -1);
    /* NMYADDR promises more addresses than the payload holds. */
    uint8_t more[OM_CELL_PAYLOAD_LEN];
    memset(more, 0, sizeof more);
    om_test_unhex("00000000 04 04 7f000001 c8", more, sizeof more);
    /* 200 zero-filled (type 0, length 0) addresses fit in 509 bytes: accepted, 8 kept. */
    CHECK_EQ_INT(om_netinfo_parse(&ni, more, sizeof more), 0);
    CHECK_EQ_INT(ni.n_my_addrs, OM_NETINFO_MAX_ADDRS);
    CHECK_EQ_INT(ni.my_addrs[7].type, 0);
    /* 249 need 11 + 498 = 509 bytes: exactly fits; 250 do not. */
    more[10] = 249;
    CHECK_EQ_INT(om_netinfo_parse(&ni, more, sizeof more), 0);
    more[10] = 250;
    CHECK_EQ_INT(om_netinfo_parse(&ni, more, sizeof more), -1);
    /* Nor 200 IPv4 entries (200 * 6 > 509). */
    more[10] = 200;
    for (size_t off = 11; off + 6 <= sizeof more; off += 6)
        om_test_unhex("04 04 01020304", more + off, sizeof more - off);
    CHECK_EQ_INT(om_netinfo_parse(&ni, more, sizeof more), -1);
    CHECK_EQ_INT(om_netinfo_parse(&ni, NULL, 10), -1);
}

static void test_netinfo_many_addrs(void)
{
    uint8_t payload[OM_CELL_PAYLOAD_LEN] = {0};
    size_t off = om_test_unhex("00000000 00 00 0a", payload, sizeof payload); /* 10 addresses */
    for (int i = 0; i < 10; i++) {
        uint8_t e[6] = {4, 4, 10, 0, 0, (uint8_t)i};
        memcpy(payload + off, e, 6);
        off += 6;
    }
    om_netinfo_t ni;
    CHECK_EQ_INT(om_netinfo_parse(&ni, payload, off), 0);
    CHECK_EQ_INT(ni.n_my_addrs, OM_NETINFO_MAX_ADDRS);
    CHECK_EQ_INT(ni.my_addrs[7].addr[3], 7);
    /* The 10th address (beyond those kept) is still bounds-checked. */
    CHECK_EQ_INT(om_netinfo_parse(&ni, payload, off - 1), -1);
    /* Encoding more than the maximum is refused. */
    ni.n_my_addrs = OM_NETINFO_MAX_ADDRS + 1;
    uint8_t out[OM_CELL_PAYLOAD_LEN];
    CHECK_EQ_INT(om_netinfo_encode(&ni, out), -1);
    /* A type-0 address encodes as type 0, length 0. */
    memset(&ni, 0, sizeof ni);
    CHECK_EQ_INT(om_netinfo_encode(&ni, out), 0);
    uint8_t want[7] = {0, 0, 0, 0, 0, 0, 0};
    CHECK_MEM(out, want, 7);
}

/* ---- AUTH_CHALLENGE ---- */

static void test_auth_challenge(void)
{
    om_auth_challenge_t ac;
    memset(&ac, 0, sizeof ac);
    for (int i = 0; i < 32; i++)
        ac.challenge[i] = (uint8_t)i;
    ac.n_methods = 2;
    ac.methods[0] = OM_AUTHTYPE_RSA_SHA256_TLSSECRET;
    ac.methods[1] = OM_AUTHTYPE_ED25519_SHA256_RFC5705;
    om_var_cell_t *c = om_auth_challenge_cell(&ac);
    CHECK(c != NULL);
    uint8_t wire[64];
    int n = om_var_cell_pack(c, 4, wire);
    om_var_cell_free(c);
    uint8_t want[45];
    om_test_unhex("00000000 82 0026"
                  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
                  "0002 0001 0003",
                  want, sizeof want);
    CHECK_EQ_INT(n, 45);
    CHECK_MEM(wire, want, 45);
    om_auth_challenge_t p;
    CHECK_EQ_INT(om_auth_challenge_parse(&p, wire + 7, 38), 0);
    CHECK_MEM(p.challenge, ac.challenge, 32);
    CHECK_EQ_INT(p.n_methods, 2);
    CHECK(om_auth_challenge_has_method(&p, OM_AUTHTYPE_ED25519_SHA256_RFC5705));
    CHECK(om_auth_challenge_has_method(&p, OM_AUTHTYPE_RSA_SHA256_TLSSECRET));
    CHECK(!om_auth_challenge_has_method(&p, 2));
}

static void test_auth_challenge_malformed(void)
{
    uint8_t body[32 + 2 + 2 * 20 + 5];
    memset(body, 0x11, sizeof body);
    om_auth_challenge_t p;
    CHECK_EQ_INT(om_auth_challenge_parse(&p, body, 0), -1);
    CHECK_EQ_INT(om_auth_challenge_parse(&p, body, 33), -1); /* N_Methods cut */
    body[32] = 0;
    body[33] = 0;
    CHECK_EQ_INT(om_auth_challenge_parse(&p, body, 34), 0); /* no methods */
    CHECK_EQ_INT(p.n_methods, 0);
    CHECK(!om_auth_challenge_has_method(&p, 3));
    body[33] = 1;
    CHECK_EQ_INT(om_auth_challenge_parse(&p, body, 34), -1); /* method missing */
    CHECK_EQ_INT(om_auth_challenge_parse(&p, body, 35), -1); /* method half there */
    body[34] = 0;
    body[35] = 3;
    CHECK_EQ_INT(om_auth_challenge_parse(&p, body, 36), 0);
    CHECK_EQ_INT(om_auth_challenge_parse(&p, body, 40), 0); /* trailing bytes ignored */
    CHECK_EQ_INT(p.n_methods, 1);
    CHECK(om_auth_challenge_has_method(&p, 3));
    body[32] = 0xFF;
    body[33] = 0xFF; /* 65535 methods */
    CHECK_EQ_INT(om_auth_challenge_parse(&p, body, sizeof body), -1);
    /* 20 methods: the first 16 kept. */
    body[32] = 0;
    body[33] = 20;
    for (int i = 0; i < 20; i++) {
        body[34 + 2 * i] = 0;
        body[35 + 2 * i] = (uint8_t)(100 + i);
    }
    CHECK_EQ_INT(om_auth_challenge_parse(&p, body, 34 + 40), 0);
    CHECK_EQ_INT(p.n_methods, OM_AUTH_METHODS_MAX);
    CHECK(om_auth_challenge_has_method(&p, 115));
    CHECK(!om_auth_challenge_has_method(&p, 116));
    CHECK_EQ_INT(om_auth_challenge_parse(&p, body, 34 + 39), -1);
    p.n_methods = OM_AUTH_METHODS_MAX + 1;
    CHECK(om_auth_challenge_cell(&p) == NULL);
}

/* ---- CERTS ---- */

static void test_certs_list(void)
{
    uint8_t body[64];
    size_t n = om_test_unhex("03 02 0003 aabbcc 04 0000 07 0002 dddd", body, sizeof body);
    om_certs_list_t l;
    CHECK_EQ_INT(om_certs_list_parse(&l, body, n), 0);
    CHECK_EQ_INT(l.n, 3);
    CHECK_EQ_INT(l.certs[0].type, 2);
    CHECK_EQ_INT(l.certs[0].len, 3);
    CHECK(l.certs[0].body == body + 4);
    CHECK_EQ_INT(l.certs[1].len, 0);
    CHECK(l.certs[2].body == body + 13);
    const om_certs_entry_t *e = om_certs_list_find(&l, 7);
    CHECK(e != NULL && e->len == 2 && e->body[0] == 0xdd);
    CHECK(om_certs_list_find(&l, 5) == NULL);
    CHECK_EQ_INT(om_certs_list_count(&l, 4), 1);
    CHECK_EQ_INT(om_certs_list_count(&l, 1), 0);
    /* Re-encode: identical bytes. */
    om_var_cell_t *c = om_certs_list_cell(&l);
    CHECK(c != NULL);
    int same = c->command == OM_CELL_CERTS && c->payload_len == n && !memcmp(c->payload, body, n);
    om_var_cell_free(c);
    CHECK(same);
    /* Zero certificates. */
    uint8_t zero[1] = {0};
    CHECK_EQ_INT(om_certs_list_parse(&l, zero, 1), 0);
    CHECK_EQ_INT(l.n, 0);
    /* Duplicates are framed (the verifier rejects them). */
    n = om_test_unhex("02 04 0001 aa 04 0001 bb", body, sizeof body);
    CHECK_EQ_INT(om_certs_list_parse(&l, body, n), 0);
    CHECK_EQ_INT(om_certs_list_count(&l, 4), 2);
}

static void test_certs_list_malformed(void)
{
    uint8_t body[64];
    size_t n = om_test_unhex("02 02 0003 aabbcc 04 0002 dddd", body, sizeof body);
    om_certs_list_t l;
    CHECK_EQ_INT(om_certs_list_parse(&l, body, 0), -1); /* no N */
    /* Every strict prefix truncates an entry. */
    for (size_t len = 1; len < n; len++)
        CHECK_MSG(om_certs_list_parse(&l, body, len) == -1, "prefix %zu accepted", len);
    CHECK_EQ_INT(om_certs_list_parse(&l, body, n), 0);
    /* Trailing bytes after the N-th entry are ignored (tor-spec 4.2). */
    body[n] = 0x99;
    body[n + 1] = 0x98;
    CHECK_EQ_INT(om_certs_list_parse(&l, body, n + 2), 0);
    CHECK_EQ_INT(l.n, 2);
    CHECK_EQ_INT(l.certs[1].len, 2);
    /* N larger than the entries present. */
    body[0] = 3;
    CHECK_EQ_INT(om_certs_list_parse(&l, body, n), -1);
    /* An entry length running past the end. */
    n = om_test_unhex("01 02 ffff aabb", body, sizeof body);
    CHECK_EQ_INT(om_certs_list_parse(&l, body, n), -1);
    /* Too many entries. */
    uint8_t many[1 + 17 * 3] = {0};
    many[0] = 17;
    CHECK_EQ_INT(om_certs_list_parse(&l, many, sizeof many), -1);
    many[0] = 16;
    CHECK_EQ_INT(om_certs_list_parse(&l, many, 1 + 16 * 3), 0);
    CHECK_EQ_INT(l.n, 16);
    l.n = 17;
    CHECK(om_certs_list_cell(&l) == NULL);
    l.n = 1;
    l.certs[0].len = 5;
    l.certs[0].body = NULL;
    CHECK(om_certs_list_cell(&l) == NULL);
}

static void test_certs_list_cell_too_big(void)
{
    static uint8_t blob[30000];
    om_certs_list_t l = {.n = 3};
    for (int i = 0; i < 3; i++) {
        l.certs[i].type = (uint8_t)(i + 1);
        l.certs[i].len = sizeof blob;
        l.certs[i].body = blob;
    }
    CHECK(om_certs_list_cell(&l) == NULL); /* > 65535 bytes */
    l.n = 2;
    om_var_cell_t *c = om_certs_list_cell(&l);
    CHECK(c != NULL);
    int ok = c->payload_len == 1 + 2 * (3 + sizeof blob);
    om_certs_list_t p;
    ok = ok && om_certs_list_parse(&p, c->payload, c->payload_len) == 0 && p.n == 2 &&
         p.certs[1].len == sizeof blob;
    om_var_cell_free(c);
    CHECK(ok);
}

/* ---- PADDING_NEGOTIATE ---- */

static void test_padding_negotiate(void)
{
    om_padding_negotiate_t pn = {
        .version = 0, .command = 2, .ito_low_ms = 1500, .ito_high_ms = 9500};
    uint8_t payload[OM_CELL_PAYLOAD_LEN];
    memset(payload, 0xEE, sizeof payload);
    CHECK_EQ_INT(om_padding_negotiate_encode(&pn, payload), 0);
    uint8_t want[6];
    om_test_unhex("00 02 05dc 251c", want, sizeof want);
    CHECK_MEM(payload, want, 6);
    for (size_t i = 6; i < OM_CELL_PAYLOAD_LEN; i++)
        CHECK(payload[i] == 0);
    om_padding_negotiate_t p;
    CHECK_EQ_INT(om_padding_negotiate_parse(&p, payload, sizeof payload), 0);
    CHECK_EQ_INT(p.version, 0);
    CHECK_EQ_INT(p.command, 2);
    CHECK_EQ_INT(p.ito_low_ms, 1500);
    CHECK_EQ_INT(p.ito_high_ms, 9500);
    uint8_t stop[6] = {0, 1, 0, 0, 0, 0};
    CHECK_EQ_INT(om_padding_negotiate_parse(&p, stop, 6), 0);
    CHECK_EQ_INT(p.command, 1);
}

static void test_padding_negotiate_malformed(void)
{
    om_padding_negotiate_t p;
    uint8_t b[6] = {0, 2, 0, 1, 0, 2};
    CHECK_EQ_INT(om_padding_negotiate_parse(&p, b, 5), -1); /* truncated */
    CHECK_EQ_INT(om_padding_negotiate_parse(&p, b, 0), -1);
    b[0] = 1; /* unknown version */
    CHECK_EQ_INT(om_padding_negotiate_parse(&p, b, 6), -1);
    b[0] = 0;
    b[1] = 0; /* unknown command */
    CHECK_EQ_INT(om_padding_negotiate_parse(&p, b, 6), -1);
    b[1] = 3;
    CHECK_EQ_INT(om_padding_negotiate_parse(&p, b, 6), -1);
    om_padding_negotiate_t bad = {.version = 0, .command = 7};
    uint8_t out[OM_CELL_PAYLOAD_LEN];
    CHECK_EQ_INT(om_padding_negotiate_encode(&bad, out), -1);
    bad.command = 1;
    bad.version = 2;
    CHECK_EQ_INT(om_padding_negotiate_encode(&bad, out), -1);
}

static const om_test_t tests[] = {
    OM_TEST(test_versions_parse),
    OM_TEST(test_versions_malformed),
    OM_TEST(test_versions_many),
    OM_TEST(test_versions_cell_bytes),
    OM_TEST(test_versions_negotiate),
    OM_TEST(test_addr_strings),
    OM_TEST(test_netinfo_encode_bytes),
    OM_TEST(test_netinfo_parse),
    OM_TEST(test_netinfo_client_style),
    OM_TEST(test_netinfo_unknown_types_skipped),
    OM_TEST(test_netinfo_truncated),
    OM_TEST(test_netinfo_many_addrs),
    OM_TEST(test_auth_challenge),
    OM_TEST(test_auth_challenge_malformed),
    OM_TEST(test_certs_list),
    OM_TEST(test_certs_list_malformed),
    OM_TEST(test_certs_list_cell_too_big),
    OM_TEST(test_padding_negotiate),
    OM_TEST(test_padding_negotiate_malformed),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("link_cells", tests, argc, argv);
}

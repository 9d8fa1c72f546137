/* test_extend_addr.c — src/or/extend_addr.c: which address a relay extends to from an EXTEND2's
 * link specifiers (tor-spec 5.1.2; IPv4 first, IPv6 otherwise, port 0 unusable), and which IPv4
 * and IPv6 destinations are private (refused unless private extends are allowed). The EXTEND2
 * bodies are encoded and parsed as they arrive from a client. */
#include <arpa/inet.h>
#include <string.h>

#include "or/extend_addr.h"
#include "test.h"

/* An EXTEND2 as it comes off the wire: optional "A.B.C.D" and "IPV6" (NULL: absent), RSA id. */
static int parsed(om_extend2_t *out, const char *v4, uint16_t p4, const char *v6, uint16_t p6)
{
    om_extend2_t e;
    memset(&e, 0, sizeof e);
    if (v4) {
        e.has_ipv4 = true;
        if (inet_pton(AF_INET, v4, e.ipv4) != 1) return -1;
        e.ipv4_port = p4;
    }
    if (v6) {
        e.has_ipv6 = true;
        if (inet_pton(AF_INET6, v6, e.ipv6) != 1) return -1;
        e.ipv6_port = p6;
    }
    e.has_rsa_id = true;
    memset(e.rsa_id, 0xaa, 20);
    e.htype = 2;
    e.hlen = 84;
    uint8_t body[OM_RELAY_PAYLOAD_LEN];
    int n = om_extend2_encode(&e, body, sizeof body);
    return n < 0 ? -1 : om_extend2_parse(out, body, (size_t)n);
}

static bool v4_private(const char *s)
{
    uint8_t a[4];
    if (inet_pton(AF_INET, s, a) != 1) abort();
    return om_extend_ipv4_is_private(a);
}

static bool v6_private(const char *s)
{
    uint8_t a[16];
    if (inet_pton(AF_INET6, s, a) != 1) abort();
    return om_extend_ipv6_is_private(a);
}

static void test_ipv6_only_extend(void)
{
    om_extend2_t e;
    om_extend_dest_t d;
    CHECK(parsed(&e, NULL, 0, "2001:db8::7", 9001) == 0);
    CHECK(!e.has_ipv4 && e.has_ipv6);
    CHECK_EQ_INT(om_extend_choose_addr(&e, false, &d), OM_EXTEND_ADDR_OK);
    CHECK(d.family == AF_INET6 && !strcmp(d.host, "2001:db8::7") && d.port == 9001);
}

static void test_ipv4_preferred_when_both(void)
{
    om_extend2_t e;
    om_extend_dest_t d;
    CHECK(parsed(&e, "198.51.100.4", 443, "2001:db8::7", 9001) == 0);
    CHECK_EQ_INT(om_extend_choose_addr(&e, false, &d), OM_EXTEND_ADDR_OK);
    CHECK(d.family == AF_INET && !strcmp(d.host, "198.51.100.4") && d.port == 443);
    /* IPv4 only, as before. */
    CHECK(parsed(&e, "198.51.100.4", 443, NULL, 0) == 0);
    CHECK_EQ_INT(om_extend_choose_addr(&e, false, &d), OM_EXTEND_ADDR_OK);
    CHECK(d.family == AF_INET && !strcmp(d.host, "198.51.100.4"));
}

static void test_no_address(void)
{
    om_extend2_t e;
    om_extend_dest_t d;
    CHECK(parsed(&e, NULL, 0, NULL, 0) == 0);
    CHECK_EQ_INT(om_extend_choose_addr(&e, true, &d), OM_EXTEND_ADDR_NONE);
    /* Port 0 is no address to connect to. */
    CHECK(parsed(&e, "198.51.100.4", 0, "2001:db8::7", 0) == 0);
    CHECK_EQ_INT(om_extend_choose_addr(&e, true, &d), OM_EXTEND_ADDR_NONE);
    CHECK(parsed(&e, "198.51.100.4", 0, "2001:db8::7", 9001) == 0);
    CHECK_EQ_INT(om_extend_choose_addr(&e, false, &d), OM_EXTEND_ADDR_OK);
    CHECK(d.family == AF_INET6 && d.port == 9001);
}

static void test_private_refused_unless_allowed(void)
{
    om_extend2_t e;
    om_extend_dest_t d;
    static const char *const v6[] = {"::1",
                                     "::",
                                     "fc00::1",
                                     "fd12:3456::1",
                                     "fe80::1",
                                     "febf::1",
                                     "fec0::1",
                                     "ff02::1",
                                     "::ffff:10.1.2.3",
                                     "::ffff:127.0.0.1",
                                     "::ffff:192.168.1.1",
                                     "::10.0.0.1",
                                     "64:ff9b::a00:1"};
    for (size_t i = 0; i < sizeof v6 / sizeof v6[0]; i++) {
        CHECK(parsed(&e, NULL, 0, v6[i], 9001) == 0);
        CHECK_MSG(om_extend_choose_addr(&e, false, &d) == OM_EXTEND_ADDR_PRIVATE, "%s not refused",
                  v6[i]);
        CHECK_MSG(om_extend_choose_addr(&e, true, &d) == OM_EXTEND_ADDR_OK &&
                      d.family == AF_INET6 && d.port == 9001,
                  "%s refused with private extends allowed", v6[i]);
    }
    /* TestingTorNetwork: the [::1] ORPort of a local tor relay. */
    CHECK(parsed(&e, NULL, 0, "::1", 5000) == 0);
    CHECK(om_extend_choose_addr(&e, true, &d) == OM_EXTEND_ADDR_OK && !strcmp(d.host, "::1"));
    /* IPv4 private as before. */
    CHECK(parsed(&e, "10.0.0.1", 443, NULL, 0) == 0);
    CHECK_EQ_INT(om_extend_choose_addr(&e, false, &d), OM_EXTEND_ADDR_PRIVATE);
    CHECK_EQ_INT(om_extend_choose_addr(&e, true, &d), OM_EXTEND_ADDR_OK);
    CHECK(d.family == AF_INET && !strcmp(d.host, "10.0.0.1"));
    /* Both private: refused; allowed: IPv4. */
    CHECK(parsed(&e, "127.0.0.1", 443, "::1", 9001) == 0);
    CHECK_EQ_INT(om_extend_choose_addr(&e, false, &d), OM_EXTEND_ADDR_PRIVATE);
    CHECK(om_extend_choose_addr(&e, true, &d) == OM_EXTEND_ADDR_OK && d.family == AF_INET);
    /* A private IPv4 address beside a public IPv6 one: the IPv6 one is used (as tor does). */
    CHECK(parsed(&e, "192.168.0.9", 443, "2001:db8::7", 9001) == 0);
    CHECK(om_extend_choose_addr(&e, false, &d) == OM_EXTEND_ADDR_OK && d.family == AF_INET6 &&
          !strcmp(d.host, "2001:db8::7"));
}

static void test_private_ranges(void)
{
    static const char *const priv4[] = {"0.0.0.0",      "0.1.2.3",         "10.255.0.1",
                                        "127.0.0.1",    "169.254.3.4",     "172.16.0.1",
                                        "172.31.255.1", "192.168.200.200", "224.0.0.1",
                                        "239.1.1.1",    "240.0.0.1",       "255.255.255.255"};
    static const char *const pub4[] = {"1.2.3.4",     "9.255.255.255",  "11.0.0.1",
                                       "169.253.0.1", "172.15.0.1",     "172.32.0.1",
                                       "192.167.1.1", "223.255.255.255"};
    static const char *const pub6[] = {
        "2001:db8::1",      "2a00:1450::200e", "fbff::1", "fe00::1",  "::ffff:8.8.8.8",
        "64:ff9b::808:808", "64:ff9c::a00:1",  "1::1",    "::1:0:0:1"};
    for (size_t i = 0; i < sizeof priv4 / sizeof priv4[0]; i++)
        CHECK_MSG(v4_private(priv4[i]), "%s not private", priv4[i]);
    for (size_t i = 0; i < sizeof pub4 / sizeof pub4[0]; i++)
        CHECK_MSG(!v4_private(pub4[i]), "%s private", pub4[i]);
    for (size_t i = 0; i < sizeof pub6 / sizeof pub6[0]; i++)
        CHECK_MSG(!v6_private(pub6[i]), "%s private", pub6[i]);
    CHECK(v6_private("fdff:ffff::1") && v6_private("fe80::") && v6_private("ff0e::101"));
}

static const om_test_t tests[] = {
    OM_TEST(test_ipv6_only_extend), OM_TEST(test_ipv4_preferred_when_both),
    OM_TEST(test_no_address),       OM_TEST(test_private_refused_unless_allowed),
    OM_TEST(test_private_ranges),   {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("extend_addr", tests, argc, argv);
}

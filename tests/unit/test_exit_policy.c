/* test_exit_policy.c — src/or/exit_policy.c: tor's ExitPolicy syntax (good and malformed),
 * a relay's effective policy (private networks, own addresses, ExitRelay, IPv6Exit, default and
 * reduced suffixes), first-match decisions, "probably" answers for hostnames, descriptor lines
 * and the ipv6-policy summary. Expected descriptor texts are what tor 0.4.9 writes for the same
 * options (tests/interop/exit-policy-test.sh checks them against a running tor). */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "core/log.h"
#include "or/exit_policy.h"
#include "test.h"

static om_exit_addr_t A(const char *s)
{
    om_exit_addr_t a;
    if (om_exit_addr_parse(&a, s) < 0) {
        fprintf(stderr, "bad test address %s\n", s);
        abort();
    }
    return a;
}

/* Verdict for "ADDR" (or NULL) and port. */
static om_exit_result_t at(const om_exit_policy_t *p, const char *addr, uint16_t port)
{
    om_exit_addr_t a;
    if (!addr) return om_exit_policy_check(p, NULL, port);
    a = A(addr);
    return om_exit_policy_check(p, &a, port);
}

static int parse1(om_exit_policy_t *p, const char *line, char *err, size_t errlen)
{
    const char *lines[1] = {line};
    return om_exit_policy_parse(p, lines, 1, err, errlen);
}

/* Build with ExitRelay 1 and the given lines (NULL-terminated), tor's other defaults. */
static int build(om_exit_policy_t *p, om_exit_policy_options_t *o, char *err, size_t errlen)
{
    return om_exit_policy_build(p, o, err, errlen);
}

static void opts(om_exit_policy_options_t *o, const char *const *lines, size_t n)
{
    om_exit_policy_options_init(o);
    o->exit_relay = 1;
    o->lines = lines;
    o->n_lines = n;
}

static void test_parse_good(void)
{
    om_exit_policy_t p = {0};
    char err[256] = "";
    CHECK(parse1(&p, "accept *:80", err, sizeof err) == 0);
    CHECK_EQ_INT(p.n, 2); /* "*" = IPv4 and IPv6 */
    CHECK(p.rules[0].accept && p.rules[0].addr.family == AF_INET && p.rules[0].maskbits == 0);
    CHECK(p.rules[1].addr.family == AF_INET6 && p.rules[1].port_min == 80 &&
          p.rules[1].port_max == 80);
    p.n = 0;
    CHECK(parse1(&p, "  accept6 *:443 ,, reject *4:* , ", err, sizeof err) == 0);
    CHECK_EQ_INT(p.n, 2);
    CHECK(p.rules[0].addr.family == AF_INET6 && p.rules[0].port_min == 443);
    CHECK(!p.rules[1].accept && p.rules[1].addr.family == AF_INET && p.rules[1].port_min == 1 &&
          p.rules[1].port_max == 65535);
    p.n = 0;
    CHECK(parse1(&p, "reject 192.0.2.77/255.255.0.0:1-1024", err, sizeof err) == 0);
    CHECK_EQ_INT(p.n, 1);
    CHECK_EQ_INT(p.rules[0].maskbits, 16);
    CHECK(p.rules[0].port_min == 1 && p.rules[0].port_max == 1024);
    CHECK(p.rules[0].addr.bytes[3] == 77); /* kept as written, as tor */
    p.n = 0;
    CHECK(parse1(&p, "accept [2001:db8::]/32:443,accept 198.51.100.1,reject6 [::1]", err,
                 sizeof err) == 0);
    CHECK_EQ_INT(p.n, 3);
    CHECK(p.rules[0].addr.family == AF_INET6 && p.rules[0].maskbits == 32);
    CHECK(p.rules[1].maskbits == 32 && p.rules[1].port_min == 1 && p.rules[1].port_max == 65535);
    CHECK(p.rules[2].maskbits == 128 && !p.rules[2].accept);
    p.n = 0;
    CHECK(parse1(&p, "accept private:80-81", err, sizeof err) == 0);
    CHECK_EQ_INT(p.n, 12); /* tor's private networks, 6 IPv4 and 6 IPv6 */
    CHECK(p.rules[0].port_min == 80 && p.rules[11].port_max == 81);
    p.n = 0;
    /* tor reads numbers with strtol: a '+' and leading zeros are fine. */
    CHECK(parse1(&p, "accept *:+8080, accept 192.0.2.1/08:080-0443, accept 192.0.2.1:", err,
                 sizeof err) == 0);
    CHECK_EQ_INT(p.n, 4);
    CHECK(p.rules[0].port_min == 8080 && p.rules[2].maskbits == 8 && p.rules[2].port_min == 80 &&
          p.rules[2].port_max == 443);
    CHECK(p.rules[3].port_min == 1 && p.rules[3].port_max == 65535);
    p.n = 0;
    /* Several ExitPolicy lines are appended in order. */
    const char *lines[] = {"reject *:25", "", "accept *:80,reject *:*"};
    CHECK(om_exit_policy_parse(&p, lines, 3, err, sizeof err) == 0);
    CHECK_EQ_INT(p.n, 6);
    CHECK(!p.rules[0].accept && p.rules[0].port_min == 25 && p.rules[2].accept &&
          p.rules[2].port_min == 80 && p.rules[4].port_max == 65535);
    om_exit_policy_free(&p);
}

static void test_parse_malformed(void)
{
    static const struct {
        const char *in, *why;
    } bad[] = {
        {"accept *:0", "malformed port \"0\""},
        {"accept *:0-80", "malformed port \"0-80\""},
        {"accept *:65536", "malformed port \"65536\""},
        {"accept *:1-65536", "malformed port"},
        {"accept *:80-", "malformed port \"80-\""},
        {"accept *:-80", "malformed port \"-80\""},
        {"accept *:80x", "malformed port"},
        {"accept *:*:*", "malformed port \"*:*\""},
        {"accept *:80-70", "ends before it starts"},
        {"accept 1.2.3.4/33:*", "bad number of mask bits (33)"},
        {"accept [::1]/129:*", "bad number of mask bits (129)"},
        {"accept 1.2.3.4/-1:*", "bad number of mask bits (-1)"},
        {"accept 1.2.3.4/255.0.255.0:*", "not a prefix"},
        {"accept 1.2.3.4/x:*", "malformed mask"},
        {"accept 1.2.3.4/:80", "malformed mask"},
        {"accept */8:*", "mask cannot follow a wildcard"},
        {"accept *4/0:*", "mask cannot follow a wildcard"},
        {"accept [::ffff:1.2.3.4]/64:*", "v4-mapped"},
        {"accept [::1:*", "no closing ']'"},
        {"accept [::1]x:80", "after ']'"},
        {"accept 1.2.3:80", "malformed IP address \"1.2.3\""},
        {"accept 01.2.3.4:80", "malformed IP address"},
        {"accept ::1:80", "malformed IP address"},
        {"accept example.com:80", "malformed IP address"},
        {"accept Private:80", "malformed IP address"},
        {"accept private", "must be followed by :PORTS"},
        {"accept private:0", "malformed port"},
        {"ACCEPT *:80", "expected accept, reject"},
        {"allow *:80", "expected accept, reject"},
        {"accept*:80", "expected accept, reject"},
        {"accept", "missing address pattern"},
        {"accept *:80 extra", "found more"},
        {"accept 1.2.3.4 /8:*", "found more"},
        {"accept "
         "[1111:2222:3333:4444:5555:6666:7777:8888]/128:65535-65535xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
         "too long"},
    };
    om_exit_policy_t p = {0};
    char err[256];
    CHECK(parse1(&p, "accept *:22", err, sizeof err) == 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        const char *lines[] = {"reject *:25", bad[i].in};
        CHECK_MSG(om_exit_policy_parse(&p, lines, 2, err, sizeof err) < 0, "\"%s\" accepted",
                  bad[i].in);
        CHECK_MSG(strstr(err, bad[i].why) != NULL, "\"%s\": error \"%s\", expected \"%s\"",
                  bad[i].in, err, bad[i].why);
        CHECK_MSG(strstr(err, "ExitPolicy \"") == err, "\"%s\": error \"%s\" names no item",
                  bad[i].in, err);
        CHECK_EQ_INT(p.n, 2); /* nothing appended, not even the good first line */
    }
    om_exit_policy_free(&p);
}

static void test_accept6_with_ipv4_ignored(void)
{
    om_log_level_t lvl = om_log_get_level();
    om_log_set_level(OM_LOG_ERR); /* the skipped items are logged as warnings */
    om_exit_policy_t p = {0};
    char err[256];
    int r =
        parse1(&p,
               "accept6 1.2.3.4:80, reject6 *4:*, reject6 private:*, accept6 [::ffff:1.2.3.4]:80,"
               "accept *:1",
               err, sizeof err);
    om_log_set_level(lvl);
    CHECK(r == 0);
    CHECK_EQ_INT(p.n, 3); /* the v4-mapped IPv6 address and the two of "accept *:1" */
    CHECK(p.rules[0].addr.family == AF_INET6 && p.rules[0].maskbits == 128);
    om_exit_policy_free(&p);
}

static void test_rule_limit(void)
{
    size_t n = OM_EXIT_POLICY_MAX_RULES / 2 + 1; /* each "accept *:1" gives 2 rules */
    char *s = malloc(n * 12 + 1);
    CHECK(s);
    s[0] = '\0';
    for (size_t i = 0; i < n; i++)
        strcat(s, "accept *:1,");
    om_exit_policy_t p = {0};
    char err[256];
    int r = parse1(&p, s, err, sizeof err);
    s[(n - 1) * 11] = '\0'; /* one item fewer: exactly the limit */
    int r2 = parse1(&p, s, NULL, 0);
    free(s);
    CHECK(r < 0 && strstr(err, "more than"));
    CHECK(r2 == 0 && p.n == OM_EXIT_POLICY_MAX_RULES);
    om_exit_policy_free(&p);
}

static void test_default_rejects_private(void)
{
    om_exit_policy_options_t o;
    opts(&o, NULL, 0); /* ExitRelay 1, no ExitPolicy: tor's default exit */
    om_exit_policy_t p;
    char err[256];
    CHECK(build(&p, &o, err, sizeof err) == 0);
    CHECK_EQ_INT(at(&p, "8.8.8.8", 80), OM_EXIT_ACCEPTED);
    CHECK_EQ_INT(at(&p, "8.8.8.8", 443), OM_EXIT_ACCEPTED);
    static const char *const priv[] = {"127.0.0.1",   "10.1.2.3",    "172.16.0.1", "172.31.255.255",
                                       "192.168.1.1", "169.254.9.9", "0.1.2.3"};
    for (size_t i = 0; i < sizeof priv / sizeof priv[0]; i++)
        CHECK_MSG(at(&p, priv[i], 80) == OM_EXIT_REJECTED, "%s accepted", priv[i]);
    CHECK_EQ_INT(at(&p, "172.32.0.1", 80), OM_EXIT_ACCEPTED);
    CHECK_EQ_INT(at(&p, "100.64.0.1", 80), OM_EXIT_ACCEPTED); /* not in tor's list */
    /* No IPv6Exit: every IPv6 destination is refused. */
    CHECK_EQ_INT(at(&p, "2001:db8::1", 80), OM_EXIT_REJECTED);
    om_exit_policy_free(&p);

    o.ipv6_exit = true;
    CHECK(build(&p, &o, err, sizeof err) == 0);
    CHECK_EQ_INT(at(&p, "2001:db8::1", 80), OM_EXIT_ACCEPTED);
    CHECK_EQ_INT(at(&p, "::1", 80), OM_EXIT_REJECTED);
    CHECK_EQ_INT(at(&p, "fd00::1", 80), OM_EXIT_REJECTED);
    CHECK_EQ_INT(at(&p, "fe80::1", 80), OM_EXIT_REJECTED);
    CHECK_EQ_INT(at(&p, "ff02::1", 80), OM_EXIT_REJECTED);
    CHECK_EQ_INT(at(&p, "2001:db8::1", 25), OM_EXIT_REJECTED);
    om_exit_policy_free(&p);
}

static void test_reject_private_disabled(void)
{
    const char *lines[] = {"accept *:80, reject *:*"};
    om_exit_policy_options_t o;
    opts(&o, lines, 1);
    o.reject_private = false;
    om_exit_addr_t own = A("198.51.100.7");
    o.own_addrs = &own;
    o.n_own_addrs = 1;
    om_exit_policy_t p;
    char err[256];
    CHECK(build(&p, &o, err, sizeof err) == 0);
    CHECK_EQ_INT(at(&p, "127.0.0.1", 80), OM_EXIT_ACCEPTED);
    CHECK_EQ_INT(at(&p, "192.168.1.1", 80), OM_EXIT_ACCEPTED);
    CHECK_EQ_INT(at(&p, "198.51.100.7", 80), OM_EXIT_ACCEPTED); /* own address too, as tor */
    CHECK_EQ_INT(at(&p, "127.0.0.1", 81), OM_EXIT_REJECTED);
    char *d = om_exit_policy_descriptor_lines(&p);
    CHECK(d && !strcmp(d, "accept *:80\nreject *:*\n"));
    free(d);
    om_exit_policy_free(&p);
}

static void test_own_addresses_rejected(void)
{
    om_exit_addr_t own[] = {A("198.51.100.7"), A("198.51.100.7"), A("10.9.9.9"), A("2001:db8::5"),
                            A("224.1.1.1")};
    om_exit_policy_options_t o;
    opts(&o, NULL, 0);
    o.own_addrs = own;
    o.n_own_addrs = sizeof own / sizeof own[0];
    om_exit_policy_t p;
    char err[256];
    CHECK(build(&p, &o, err, sizeof err) == 0);
    CHECK_EQ_INT(at(&p, "198.51.100.7", 80), OM_EXIT_REJECTED);
    CHECK_EQ_INT(at(&p, "198.51.100.7", 443), OM_EXIT_REJECTED);
    CHECK_EQ_INT(at(&p, "198.51.100.8", 443), OM_EXIT_ACCEPTED);
    /* tor does not reject a multicast own address (nor private ones: covered already); the
     * duplicate comes once. */
    CHECK_EQ_INT(at(&p, "224.1.1.1", 443), OM_EXIT_ACCEPTED);
    char *d = om_exit_policy_descriptor_lines(&p);
    CHECK(d && strstr(d, "reject 172.16.0.0/12:*\nreject 198.51.100.7:*\nreject *:25\n"));
    CHECK(!strstr(d, "224.1.1.1") && !strstr(d, "10.9.9.9"));
    free(d);
    om_exit_policy_free(&p);

    o.ipv6_exit = true; /* own IPv6 addresses only with IPv6Exit */
    CHECK(build(&p, &o, err, sizeof err) == 0);
    CHECK_EQ_INT(at(&p, "2001:db8::5", 443), OM_EXIT_REJECTED);
    CHECK_EQ_INT(at(&p, "2001:db8::6", 443), OM_EXIT_ACCEPTED);
    char *f = om_exit_policy_format(&p, false, true);
    CHECK(f && strstr(f, "reject6 [ff00::]/8:*\nreject6 [2001:db8::5]:*\nreject6 *:25\n"));
    free(f);
    om_exit_policy_free(&p);
}

static void test_first_match(void)
{
    const char *lines[] = {"accept 192.0.2.4:80, reject 192.0.2.0/24:*, accept *:*"};
    om_exit_policy_options_t o;
    opts(&o, lines, 1);
    om_exit_policy_t p;
    char err[256];
    CHECK(build(&p, &o, err, sizeof err) == 0);
    CHECK_EQ_INT(at(&p, "192.0.2.4", 80), OM_EXIT_ACCEPTED);
    CHECK_EQ_INT(at(&p, "192.0.2.4", 81), OM_EXIT_REJECTED);
    CHECK_EQ_INT(at(&p, "192.0.2.5", 80), OM_EXIT_REJECTED);
    CHECK_EQ_INT(at(&p, "192.0.3.5", 80), OM_EXIT_ACCEPTED);
    CHECK_EQ_INT(at(&p, "192.0.3.5", 25), OM_EXIT_ACCEPTED); /* ends in accept *:*: no suffix */
    om_exit_policy_free(&p);

    /* An empty policy accepts everything; a policy of another family's rules too. */
    om_exit_policy_t e = {0};
    CHECK_EQ_INT(at(&e, "192.0.2.1", 25), OM_EXIT_ACCEPTED);
    CHECK(parse1(&e, "reject6 *:*", err, sizeof err) == 0);
    CHECK_EQ_INT(at(&e, "192.0.2.1", 25), OM_EXIT_ACCEPTED);
    CHECK_EQ_INT(at(&e, "::ffff:192.0.2.1", 25), OM_EXIT_REJECTED);
    om_exit_policy_free(&e);
}

static void test_port_ranges_and_masks(void)
{
    om_exit_policy_t p = {0};
    char err[256];
    CHECK(parse1(&p,
                 "reject *:1000-2000, accept 198.51.100.0/255.255.255.128:*, reject *4:*, "
                 "accept 0.0.0.0/0:9",
                 err, sizeof err) == 0);
    CHECK_EQ_INT(at(&p, "198.51.100.1", 999), OM_EXIT_ACCEPTED);
    CHECK_EQ_INT(at(&p, "198.51.100.1", 1000), OM_EXIT_REJECTED);
    CHECK_EQ_INT(at(&p, "198.51.100.1", 2000), OM_EXIT_REJECTED);
    CHECK_EQ_INT(at(&p, "198.51.100.1", 2001), OM_EXIT_ACCEPTED);
    CHECK_EQ_INT(at(&p, "198.51.100.127", 65535), OM_EXIT_ACCEPTED);
    CHECK_EQ_INT(at(&p, "198.51.100.128", 80), OM_EXIT_REJECTED);
    CHECK_EQ_INT(at(&p, "203.0.113.1", 9), OM_EXIT_REJECTED); /* after reject *4:* */
    /* "/0" on an address matches every address of its family, as "*4". */
    p.n = 0;
    CHECK(parse1(&p, "accept 1.2.3.4/0:7, reject *:*", err, sizeof err) == 0);
    CHECK_EQ_INT(at(&p, "203.0.113.1", 7), OM_EXIT_ACCEPTED);
    CHECK_EQ_INT(at(&p, "2001:db8::1", 7), OM_EXIT_REJECTED);
    /* tor maps masks of v4-mapped IPv6 addresses onto 96-128 bits (/128 becomes /96). */
    p.n = 0;
    CHECK(parse1(&p, "accept [::ffff:1.2.3.4]/24:*, accept [::ffff:1.2.3.4]/128:*", err,
                 sizeof err) == 0);
    CHECK(p.rules[0].maskbits == 120 && p.rules[1].maskbits == 96);
    om_exit_policy_free(&p);
}

static void test_ipv6(void)
{
    const char *lines[] = {"accept6 [2001:db8::]/32:443, accept [2001:db8:ffff::1]:22, "
                           "accept6 *:8443, reject *:*"};
    om_exit_policy_options_t o;
    opts(&o, lines, 1);
    o.ipv6_exit = true;
    om_exit_policy_t p;
    char err[256];
    CHECK(build(&p, &o, err, sizeof err) == 0);
    CHECK_EQ_INT(at(&p, "2001:db8:1::1", 443), OM_EXIT_ACCEPTED);
    CHECK_EQ_INT(at(&p, "[2001:db8:ffff::1]", 22), OM_EXIT_ACCEPTED);
    CHECK_EQ_INT(at(&p, "2001:db8:ffff::2", 22), OM_EXIT_REJECTED);
    CHECK_EQ_INT(at(&p, "2001:db9::1", 443), OM_EXIT_REJECTED);
    CHECK_EQ_INT(at(&p, "192.0.2.1", 443), OM_EXIT_REJECTED);
    CHECK_EQ_INT(at(&p, "::ffff:192.0.2.1", 443), OM_EXIT_REJECTED);
    char *f = om_exit_policy_format(&p, false, true);
    CHECK(f && strstr(f, "accept6 [2001:db8::]/32:443\naccept6 [2001:db8:ffff::1]:22\n"
                         "accept6 *:8443\nreject6 *:*\n"));
    free(f);
    /* The summary counts accepts of every address only (tor): 443 and 22 are not in it. */
    char *d = om_exit_policy_descriptor_lines(&p);
    CHECK_MSG(d && !strcmp(d, "reject *:*\nipv6-policy accept 8443\n"), "got %s", d ? d : "-");
    free(d);
    CHECK(!om_exit_policy_is_reject_star(&p, AF_UNSPEC));
    CHECK(om_exit_policy_is_reject_star(&p, AF_INET));
    CHECK(!om_exit_policy_is_reject_star(&p, AF_INET6));
    om_exit_policy_free(&p);
}

static void test_hostnames(void)
{
    om_exit_policy_t p = {0};
    char err[256];
    CHECK(parse1(&p, "accept *:80, reject *:*", err, sizeof err) == 0);
    CHECK_EQ_INT(at(&p, NULL, 80), OM_EXIT_ACCEPTED);
    CHECK_EQ_INT(at(&p, NULL, 22), OM_EXIT_REJECTED);
    CHECK_EQ_INT(at(&p, NULL, 0), OM_EXIT_REJECTED); /* nothing known */
    CHECK_EQ_INT(at(&p, "0.0.0.0", 80), OM_EXIT_ACCEPTED);
    p.n = 0;
    CHECK(parse1(&p, "reject 192.0.2.0/24:*, accept *:80, reject *:*", err, sizeof err) == 0);
    CHECK_EQ_INT(at(&p, NULL, 80), OM_EXIT_PROBABLY_ACCEPTED);
    CHECK_EQ_INT(at(&p, NULL, 81), OM_EXIT_REJECTED);
    p.n = 0;
    CHECK(parse1(&p, "accept 192.0.2.0/24:22, reject *:*", err, sizeof err) == 0);
    CHECK_EQ_INT(at(&p, NULL, 22), OM_EXIT_PROBABLY_REJECTED);
    CHECK_EQ_INT(at(&p, NULL, 23), OM_EXIT_REJECTED);
    p.n = 0;
    CHECK(parse1(&p, "reject 192.0.2.0/24:22", err, sizeof err) == 0);
    CHECK_EQ_INT(at(&p, NULL, 22), OM_EXIT_PROBABLY_ACCEPTED); /* nothing definite: default */
    /* A known address, unknown port. */
    p.n = 0;
    CHECK(parse1(&p, "reject 192.0.2.4:80, accept 192.0.2.0/24:*, reject *:*", err, sizeof err) ==
          0);
    CHECK_EQ_INT(at(&p, "192.0.2.4", 0), OM_EXIT_PROBABLY_ACCEPTED);
    CHECK_EQ_INT(at(&p, "192.0.2.5", 0), OM_EXIT_ACCEPTED);
    CHECK_EQ_INT(at(&p, "192.0.3.5", 0), OM_EXIT_REJECTED);
    om_exit_policy_free(&p);

    /* A relay's default policy without IPv6Exit starts with reject *6:*: tor's answer for an
     * unknown address is REJECTED; asked per family, IPv4 hostnames are probably accepted. */
    om_exit_policy_options_t o;
    opts(&o, NULL, 0);
    CHECK(build(&p, &o, err, sizeof err) == 0);
    CHECK_EQ_INT(at(&p, NULL, 80), OM_EXIT_REJECTED);
    om_exit_addr_t any4 = {.family = AF_INET}, any6 = {.family = AF_INET6};
    CHECK_EQ_INT(om_exit_policy_check(&p, &any4, 80), OM_EXIT_PROBABLY_ACCEPTED);
    CHECK_EQ_INT(om_exit_policy_check(&p, &any4, 25), OM_EXIT_REJECTED);
    CHECK_EQ_INT(om_exit_policy_check(&p, &any6, 80), OM_EXIT_REJECTED);
    om_exit_policy_free(&p);
}

static void test_default_suffix_and_exit_relay(void)
{
    om_exit_policy_t p;
    char err[256];
    om_exit_policy_options_t o;
    /* A policy that does not end in a catch-all gets tor's default after it. */
    const char *l1[] = {"reject *:8080"};
    opts(&o, l1, 1);
    CHECK(build(&p, &o, err, sizeof err) == 0);
    CHECK_EQ_INT(at(&p, "203.0.113.1", 8080), OM_EXIT_REJECTED);
    CHECK_EQ_INT(at(&p, "203.0.113.1", 443), OM_EXIT_ACCEPTED);
    static const uint16_t dflt_rejects[] = {25,   119,  135,  139,  445,  563,  1214,
                                            4661, 4666, 6346, 6429, 6699, 6881, 6999};
    for (size_t i = 0; i < sizeof dflt_rejects / sizeof dflt_rejects[0]; i++)
        CHECK_MSG(at(&p, "203.0.113.1", dflt_rejects[i]) == OM_EXIT_REJECTED, "port %u",
                  dflt_rejects[i]);
    CHECK_EQ_INT(at(&p, "203.0.113.1", 6430), OM_EXIT_ACCEPTED);
    om_exit_policy_free(&p);
    /* One that ends in reject *:* decides everything itself. */
    const char *l2[] = {"accept *:80", "reject *:*"};
    opts(&o, l2, 2);
    CHECK(build(&p, &o, err, sizeof err) == 0);
    CHECK_EQ_INT(at(&p, "203.0.113.1", 80), OM_EXIT_ACCEPTED);
    CHECK_EQ_INT(at(&p, "203.0.113.1", 443), OM_EXIT_REJECTED);
    om_exit_policy_free(&p);
    /* ExitRelay auto: an exit only when something is set. */
    opts(&o, NULL, 0);
    o.exit_relay = -1;
    CHECK(build(&p, &o, err, sizeof err) == 0);
    CHECK(om_exit_policy_is_reject_star(&p, AF_UNSPEC));
    CHECK_EQ_INT(at(&p, "203.0.113.1", 80), OM_EXIT_REJECTED);
    om_exit_policy_free(&p);
    opts(&o, l1, 1);
    o.exit_relay = -1;
    CHECK(build(&p, &o, err, sizeof err) == 0);
    CHECK_EQ_INT(at(&p, "203.0.113.1", 80), OM_EXIT_ACCEPTED);
    om_exit_policy_free(&p);
    /* ExitRelay 0: never an exit, but a malformed ExitPolicy is still an error. */
    const char *l3[] = {"accept *:*"};
    opts(&o, l3, 1);
    o.exit_relay = 0;
    CHECK(build(&p, &o, err, sizeof err) == 0);
    CHECK(om_exit_policy_is_reject_star(&p, AF_UNSPEC));
    om_exit_policy_free(&p);
    const char *l4[] = {"accept *:99999"};
    opts(&o, l4, 1);
    o.exit_relay = 0;
    CHECK(build(&p, &o, err, sizeof err) < 0 && strstr(err, "99999"));
    om_exit_policy_free(&p);
    /* ReducedExitPolicy: a list of accepted ports, then reject *:*. */
    opts(&o, NULL, 0);
    o.reduced_exit_policy = true;
    CHECK(build(&p, &o, err, sizeof err) == 0);
    CHECK_EQ_INT(at(&p, "203.0.113.1", 443), OM_EXIT_ACCEPTED);
    CHECK_EQ_INT(at(&p, "203.0.113.1", 18081), OM_EXIT_ACCEPTED);
    CHECK_EQ_INT(at(&p, "203.0.113.1", 8081), OM_EXIT_REJECTED);
    CHECK_EQ_INT(at(&p, "203.0.113.1", 25), OM_EXIT_REJECTED);
    om_exit_policy_free(&p);
    /* BridgeRelay: reject *:* instead of the default. */
    opts(&o, l1, 1);
    o.bridge_relay = true;
    CHECK(build(&p, &o, err, sizeof err) == 0);
    CHECK_EQ_INT(at(&p, "203.0.113.1", 443), OM_EXIT_REJECTED);
    om_exit_policy_free(&p);
    /* "Not an exit" directly. */
    p = (om_exit_policy_t){0};
    CHECK(parse1(&p, "accept *:*", err, sizeof err) == 0);
    CHECK(!om_exit_policy_is_reject_star(&p, AF_INET));
    CHECK(om_exit_policy_set_reject_all(&p) == 0);
    CHECK(om_exit_policy_is_reject_star(&p, AF_UNSPEC));
    char *d = om_exit_policy_descriptor_lines(&p);
    CHECK(d && !strcmp(d, "reject *:*\n"));
    free(d);
    om_exit_policy_free(&p);
}

/* tor 0.4.9's descriptor for ExitRelay 1 and no ExitPolicy (the interop test's default_exit). */
static const char default_desc[] = "reject 0.0.0.0/8:*\n"
                                   "reject 169.254.0.0/16:*\n"
                                   "reject 127.0.0.0/8:*\n"
                                   "reject 192.168.0.0/16:*\n"
                                   "reject 10.0.0.0/8:*\n"
                                   "reject 172.16.0.0/12:*\n"
                                   "reject *:25\n"
                                   "reject *:119\n"
                                   "reject *:135-139\n"
                                   "reject *:445\n"
                                   "reject *:563\n"
                                   "reject *:1214\n"
                                   "reject *:4661-4666\n"
                                   "reject *:6346-6429\n"
                                   "reject *:6699\n"
                                   "reject *:6881-6999\n"
                                   "accept *:*\n";

static void test_descriptor_lines(void)
{
    om_exit_policy_t p;
    char err[256];
    om_exit_policy_options_t o;
    opts(&o, NULL, 0);
    CHECK(build(&p, &o, err, sizeof err) == 0);
    char *d = om_exit_policy_descriptor_lines(&p);
    CHECK_MSG(d && !strcmp(d, default_desc), "got:\n%s", d ? d : "(null)");
    free(d);
    om_exit_policy_free(&p);

    o.ipv6_exit = true;
    CHECK(build(&p, &o, err, sizeof err) == 0);
    d = om_exit_policy_descriptor_lines(&p);
    CHECK(d && !strncmp(d, default_desc, sizeof default_desc - 1));
    CHECK_MSG(!strcmp(d + sizeof default_desc - 1,
                      "ipv6-policy reject 25,119,135-139,445,563,1214,4661-4666,6346-6429,6699,"
                      "6881-6999\n"),
              "got %s", d + sizeof default_desc - 1);
    free(d);
    om_exit_policy_free(&p);

    /* Redundant rules go as tor drops them: the /24 is decided by accept *:* anyway, the IPv6
     * rule is not in a descriptor, the private /8s stay (accept *:* would take them). */
    const char *l[] = {"accept 1.2.3.0/24:80-90, accept6 [2001:db8::]/32:443, reject *:25",
                       "accept *:*"};
    opts(&o, l, 2);
    CHECK(build(&p, &o, err, sizeof err) == 0);
    d = om_exit_policy_descriptor_lines(&p);
    CHECK_MSG(d && !strcmp(d, "reject 0.0.0.0/8:*\nreject 169.254.0.0/16:*\nreject 127.0.0.0/8:*\n"
                              "reject 192.168.0.0/16:*\nreject 10.0.0.0/8:*\n"
                              "reject 172.16.0.0/12:*\nreject *:25\naccept *:*\n"),
              "got:\n%s", d ? d : "(null)");
    free(d);
    om_exit_policy_free(&p);

    /* Masks are written as bits, the address as given; single ports and ranges. */
    const char *l2[] = {"accept 198.51.100.77/255.255.255.0:1-1024, accept 192.0.2.1:8080,"
                        "reject *:*"};
    opts(&o, l2, 1);
    o.reject_private = false;
    CHECK(build(&p, &o, err, sizeof err) == 0);
    d = om_exit_policy_descriptor_lines(&p);
    CHECK_MSG(d && !strcmp(d, "accept 198.51.100.77/24:1-1024\naccept 192.0.2.1:8080\n"
                              "reject *:*\n"),
              "got:\n%s", d ? d : "(null)");
    free(d);
    om_exit_policy_free(&p);

    /* Everything after reject *:* is dropped: a relay that rejects all. */
    const char *l3[] = {"reject *:*, accept *:80"};
    opts(&o, l3, 1);
    CHECK(build(&p, &o, err, sizeof err) == 0);
    d = om_exit_policy_descriptor_lines(&p);
    CHECK(d && !strcmp(d, "reject *:*\n"));
    free(d);
    om_exit_policy_free(&p);
}

static void summary_is(const char *policy, int family, const char *want)
{
    om_exit_policy_t p = {0};
    char err[256], buf[OM_EXIT_POLICY_SUMMARY_MAX + 8];
    CHECK(parse1(&p, policy, err, sizeof err) == 0);
    CHECK(om_exit_policy_summary(&p, family, buf, sizeof buf) == 0);
    om_exit_policy_free(&p);
    CHECK_MSG(!strcmp(buf, want), "\"%.100s\": summary \"%.100s\", expected \"%s\"", policy, buf,
              want);
}

static void test_summary(void)
{
    summary_is("accept *:80,accept *:443,reject *:*", AF_INET, "accept 80,443");
    summary_is("accept *:80,accept *:443,reject *:*", AF_INET6, "accept 80,443");
    summary_is("accept *4:80,reject *:*", AF_INET6, "reject 1-65535");
    summary_is("reject *:*", AF_INET, "reject 1-65535");
    summary_is("accept *:*", AF_INET, "accept 1-65535");
    summary_is("", AF_INET, "reject 1-65535"); /* nothing accepted by an accept of all */
    summary_is("accept *:20-23,accept *:24,reject *:*", AF_INET, "accept 20-24");
    summary_is("reject *:25,reject *:119,accept *:*", AF_INET, "reject 25,119");
    /* Private networks and small blocks do not count; more than two /8s do (IPv4). */
    summary_is("reject private:*,accept *:*", AF_INET, "accept 1-65535");
    summary_is("reject 11.0.0.0/8:80,reject 12.0.0.0/8:80,accept *:*", AF_INET, "accept 1-65535");
    summary_is("reject 8.0.0.0/6:80,accept *:*", AF_INET, "reject 80");
    summary_is("reject 11.0.0.0/8:80,reject 12.0.0.0/8:80,reject 13.0.0.0/32:80,accept *:*",
               AF_INET, "reject 80");
    /* IPv6: a /16 is the cutoff; narrower than /64 never counts. */
    summary_is("reject6 [2001::]/16:22,accept *:*", AF_INET6, "accept 1-65535");
    summary_is("reject6 [2000::]/15:22,accept *:*", AF_INET6, "reject 22");
    summary_is("reject6 [2001:db8::1]:22,accept6 *:*", AF_INET6, "accept 1-65535");
    /* The shorter list wins; the accepts on a tie. */
    summary_is("accept *:1-100,reject *:*", AF_INET, "accept 1-100");
    summary_is("reject *:1-100,accept *:*", AF_INET, "reject 1-100");

    /* Both lists too long: the accepts, cut at a ',' within 1000 characters. */
    om_exit_policy_t p = {0};
    char err[256], buf[OM_EXIT_POLICY_SUMMARY_MAX + 8];
    char *s = malloc(2000 * 16);
    CHECK(s);
    s[0] = '\0';
    for (int port = 1; port < 4000; port += 2)
        sprintf(s + strlen(s), "accept *:%d,", port);
    strcat(s, "reject *:*");
    int r = parse1(&p, s, err, sizeof err);
    free(s);
    CHECK(r == 0);
    CHECK(om_exit_policy_summary(&p, AF_INET, buf, sizeof buf) == 0);
    CHECK(!strncmp(buf, "accept 1,3,5,7,", 15));
    CHECK(strlen(buf) <= OM_EXIT_POLICY_SUMMARY_MAX && buf[strlen(buf) - 1] != ',');
    CHECK(om_exit_policy_summary(&p, AF_INET, buf, 10) < 0);
    om_exit_policy_free(&p);
}

static void test_addr_helpers(void)
{
    om_exit_addr_t a;
    CHECK(om_exit_addr_parse(&a, "192.0.2.1") == 0 && a.family == AF_INET && a.bytes[3] == 1);
    CHECK(om_exit_addr_parse(&a, "[2001:db8::1]") == 0 && a.family == AF_INET6 && a.bytes[15] == 1);
    CHECK(om_exit_addr_parse(&a, "2001:db8::1") == 0 && a.family == AF_INET6);
    CHECK(om_exit_addr_parse(&a, "example.com") < 0);
    CHECK(om_exit_addr_parse(&a, "[192.0.2.1]") < 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(80)};
    inet_pton(AF_INET, "203.0.113.9", &sin.sin_addr);
    CHECK(om_exit_addr_from_sockaddr(&a, (struct sockaddr *)&sin) == 0 && a.family == AF_INET &&
          a.bytes[0] == 203 && a.bytes[3] == 9);
    struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "2001:db8::9", &sin6.sin6_addr);
    CHECK(om_exit_addr_from_sockaddr(&a, (struct sockaddr *)&sin6) == 0 && a.family == AF_INET6 &&
          a.bytes[15] == 9);
    struct sockaddr bad = {.sa_family = AF_UNIX};
    CHECK(om_exit_addr_from_sockaddr(&a, &bad) < 0);
}

static const om_test_t tests[] = {
    OM_TEST(test_parse_good),
    OM_TEST(test_parse_malformed),
    OM_TEST(test_accept6_with_ipv4_ignored),
    OM_TEST(test_rule_limit),
    OM_TEST(test_default_rejects_private),
    OM_TEST(test_reject_private_disabled),
    OM_TEST(test_own_addresses_rejected),
    OM_TEST(test_first_match),
    OM_TEST(test_port_ranges_and_masks),
    OM_TEST(test_ipv6),
    OM_TEST(test_hostnames),
    OM_TEST(test_default_suffix_and_exit_relay),
    OM_TEST(test_descriptor_lines),
    OM_TEST(test_summary),
    OM_TEST(test_addr_helpers),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("exit_policy", tests, argc, argv);
}

/* test_netdoc.c — unit tests for netdoc.c: the dir-spec 1.2 tokenizer (items, arguments,
 * objects, offsets, limits, malformed and truncated input read from exactly-sized heap buffers
 * so ASan sees any over-read) and the strict value parsers (times, integers, addresses, base64,
 * hex, nicknames). */
#include "test.h"

#include "dir/netdoc.h"

/* A heap copy of exactly n bytes (no NUL terminator), so reading past the end is caught. */
static char *exact(const char *s, size_t n)
{
    char *p = malloc(n ? n : 1);
    if (p && n) memcpy(p, s, n);
    return p;
}

/* Tokenize text; returns the number of items, or -1 on error (err copied to errbuf). */
static int count_items(const char *text, size_t n, char *errbuf, size_t errlen)
{
    char *buf = exact(text, n);
    om_netdoc_iter_t it;
    om_netdoc_item_t item;
    int count = 0, r;
    om_netdoc_init(&it, buf, n);
    while ((r = om_netdoc_next(&it, &item)) == 1) {
        if (item.end > n || item.start >= item.end || item.line_end > item.end) abort();
        count++;
    }
    if (r < 0) {
        if (errbuf) snprintf(errbuf, errlen, "%s", it.err);
        count = -1;
    }
    free(buf);
    return count;
}

static const char sample[] = "network-status-version 3 microdesc\n"
                             "\n"
                             "known-flags\tExit  Fast \n"
                             "dir-identity-key\n"
                             "-----BEGIN RSA PUBLIC KEY-----\n"
                             "AAEC\n"
                             "AwQ=\n"
                             "-----END RSA PUBLIC KEY-----\n"
                             "x-empty\n"
                             "last no-newline";

static void test_items_and_offsets(void)
{
    size_t n = sizeof sample - 1;
    char *buf = exact(sample, n);
    om_netdoc_iter_t it;
    om_netdoc_item_t item;
    om_netdoc_init(&it, buf, n);

    CHECK_EQ_INT(om_netdoc_next(&it, &item), 1);
    CHECK(om_netdoc_kw_is(&item, "network-status-version"));
    CHECK(om_span_eq(item.args, "3 microdesc"));
    CHECK_EQ_INT(item.n_args, 2);
    CHECK_EQ_INT(item.start, 0);
    CHECK_EQ_INT(item.line_end, 35);
    CHECK_EQ_INT(item.end, 35);
    CHECK_EQ_INT(item.line_no, 1);
    CHECK(!item.has_object);

    /* The blank line is skipped; a TAB separates; trailing spaces are not part of args. */
    CHECK_EQ_INT(om_netdoc_next(&it, &item), 1);
    CHECK(om_netdoc_kw_is(&item, "known-flags"));
    CHECK(om_span_eq(item.args, "Exit  Fast"));
    CHECK_EQ_INT(item.n_args, 2);
    CHECK_EQ_INT(item.line_no, 3);
    om_span_t a[4];
    CHECK_EQ_INT(om_netdoc_split(item.args, a, 4), 2);
    CHECK(om_span_eq(a[0], "Exit"));
    CHECK(om_span_eq(a[1], "Fast"));
    CHECK_EQ_INT(om_netdoc_split(item.args, a, 1), 2); /* count beyond max */

    CHECK_EQ_INT(om_netdoc_next(&it, &item), 1);
    CHECK(om_netdoc_kw_is(&item, "dir-identity-key"));
    CHECK_EQ_INT(item.n_args, 0);
    CHECK_EQ_INT(item.args.len, 0);
    CHECK(item.has_object);
    CHECK(om_netdoc_obj_is(&item, "RSA PUBLIC KEY"));
    CHECK(!om_netdoc_obj_is(&item, "RSA PUBLIC"));
    CHECK(om_span_eq(item.obj_body, "AAEC\nAwQ=\n"));
    CHECK_EQ_INT(item.end, (size_t)(strstr(sample, "x-empty") - sample));
    uint8_t dec[8];
    CHECK_EQ_INT(om_netdoc_object_decode(&item, dec, sizeof dec), 5);
    CHECK_MEM(dec, "\x00\x01\x02\x03\x04", 5);
    CHECK_EQ_INT(om_netdoc_object_decode(&item, dec, 4), -1); /* too small */

    CHECK_EQ_INT(om_netdoc_next(&it, &item), 1);
    CHECK(om_netdoc_kw_is(&item, "x-empty"));
    CHECK_EQ_INT(item.line_no, 9);

    /* The last line may lack its NL. */
    CHECK_EQ_INT(om_netdoc_next(&it, &item), 1);
    CHECK(om_netdoc_kw_is(&item, "last"));
    CHECK(om_span_eq(item.args, "no-newline"));
    CHECK_EQ_INT(item.end, n);
    CHECK_EQ_INT(om_netdoc_next(&it, &item), 0);
    CHECK_EQ_INT(om_netdoc_next(&it, &item), 0);
    free(buf);
}

static void test_empty_documents(void)
{
    CHECK_EQ_INT(count_items("", 0, NULL, 0), 0);
    CHECK_EQ_INT(count_items("\n\n\n", 3, NULL, 0), 0);
    om_netdoc_iter_t it;
    om_netdoc_item_t item;
    om_netdoc_init(&it, NULL, 5);
    CHECK_EQ_INT(om_netdoc_next(&it, &item), 0);
}

static int count_str(const char *s)
{
    return count_items(s, strlen(s), NULL, 0);
}

static void expect_error(const char *doc, const char *needle)
{
    char err[160] = "";
    int r = count_items(doc, strlen(doc), err, sizeof err);
    if (r != -1 || !strstr(err, needle)) {
        snprintf(om_test_reason, sizeof om_test_reason, "doc '%.40s': r=%d err='%s' (want '%s')",
                 doc, r, err, needle);
        om_test_failed_flag = 1;
    }
}

static void test_keyword_rules(void)
{
    expect_error("-keyword x\n", "'-'");
    expect_error("-----BEGIN X-----\nAAAA\n-----END X-----\n", "'-'");
    expect_error("key_word x\n", "keyword character 0x5f");
    expect_error("@annotation x\n", "keyword character 0x40");
    expect_error(" leading-space\n", "keyword character 0x20");
    expect_error("ok 1\nbad\rline\n", "line 2");
    expect_error("ok 1\ncarriage 1\r\n", "control character 0x0d");
    expect_error("bell \x07\n", "control character 0x07");
    expect_error("del \x7f\n", "control character 0x7f");
    /* Bytes >= 0x80 are allowed in arguments (contact lines), not in keywords. */
    CHECK_EQ_INT(count_str("contact J\xc3\xa9r\xc3\xb4me\n"), 1);
    expect_error("k\xc3\xa9y 1\n", "keyword character 0xc3");
    CHECK_EQ_INT(count_str("0digit-start-ok\n"), 1);
}

static void test_nul_bytes(void)
{
    static const char d1[] = "a 1\nb \0 2\n";
    static const char d2[] = "a 1\n\0b 2\n";
    static const char d3[] = "k\nkey\n-----BEGIN X-----\nAA\0A\n-----END X-----\n";
    CHECK_EQ_INT(count_items(d1, sizeof d1 - 1, NULL, 0), -1);
    CHECK_EQ_INT(count_items(d2, sizeof d2 - 1, NULL, 0), -1);
    CHECK_EQ_INT(count_items(d3, sizeof d3 - 1, NULL, 0), -1);
}

static void test_objects(void)
{
    CHECK_EQ_INT(count_str("k\n-----BEGIN ID SIGNATURE-----\nAAAA\n-----END ID SIGNATURE-----\n"),
                 1);
    /* Empty body is tokenized (decoding it fails). */
    CHECK_EQ_INT(count_str("k\n-----BEGIN X-----\n-----END X-----\nz\n"), 2);
    expect_error("k\n-----BEGIN X-----\nAAAA\n-----END Y-----\n", "does not match");
    expect_error("k\n-----BEGIN X-----\nAAAA\n-----END X----\n", "does not match");
    expect_error("k\n-----BEGIN X-----\nAAAA\n-----END X-----extra\n", "does not match");
    expect_error("k\n-----BEGIN X-----\nAAAA\n", "without END");
    expect_error("k\n-----BEGIN X-----\nAAAA", "without END");
    expect_error("k\n-----BEGIN X-----", "without end of line");
    expect_error("k\n-----BEGIN X----\nAAAA\n-----END X-----\n", "malformed object BEGIN");
    expect_error("k\n-----BEGIN -----\nAAAA\n-----END -----\n", "malformed object");
    expect_error("k\n-----BEGIN X  Y-----\nAAAA\n-----END X  Y-----\n", "object type");
    expect_error("k\n-----BEGIN x_y-----\nAAAA\n-----END x_y-----\n", "object type");
    expect_error("k\n-----BEGIN X-----\nAA AA\n-----END X-----\n", "bad character 0x20");
    expect_error("k\n-----BEGIN X-----\nAA*A\n-----END X-----\n", "bad character 0x2a");
    expect_error("k\n-----BEGIN X-----\nAAAA\n-----BEGIN X-----\n", "bad character 0x2d");
    /* One object per item: a second BEGIN after the END is not a keyword. */
    expect_error("k\n-----BEGIN X-----\nAA==\n-----END X-----\n-----BEGIN X-----\nAA==\n"
                 "-----END X-----\n",
                 "'-'");
    /* A BEGIN line after a blank line is not the item's object. */
    expect_error("k\n\n-----BEGIN X-----\nAA==\n-----END X-----\n", "'-'");

    /* Size limit: an object just under the limit passes, one over it fails, and an object with
     * no END line stops being scanned at the limit. */
    size_t body = (size_t)OM_NETDOC_MAX_OBJECT * 64 / 65 - 100; /* + NLs + BEGIN/END */
    size_t cap = body + body / 64 + 256;
    char *big = malloc(cap);
    size_t n = 0;
    n += (size_t)sprintf(big + n, "k\n-----BEGIN X-----\n");
    for (size_t i = 0; i < body; i++) {
        big[n++] = 'A';
        if (i % 64 == 63) big[n++] = '\n';
    }
    if (big[n - 1] != '\n') big[n++] = '\n';
    size_t before_end = n;
    n += (size_t)sprintf(big + n, "-----END X-----\n");
    CHECK_EQ_INT(count_items(big, n, NULL, 0), 1);
    char err[160];
    CHECK_EQ_INT(count_items(big, before_end, err, sizeof err), -1);
    CHECK(strstr(err, "without END") != NULL);
    free(big);

    cap = OM_NETDOC_MAX_OBJECT + 4096;
    big = malloc(cap);
    n = (size_t)sprintf(big, "k\n-----BEGIN X-----\n");
    while (n + 66 < cap - 32) {
        memset(big + n, 'B', 64);
        big[n + 64] = '\n';
        n += 65;
    }
    n += (size_t)sprintf(big + n, "-----END X-----\n");
    CHECK_EQ_INT(count_items(big, n, err, sizeof err), -1);
    CHECK(strstr(err, "longer than") != NULL);
    free(big);
}

static void test_line_and_arg_limits(void)
{
    char err[160];
    size_t n = OM_NETDOC_MAX_LINE;
    char *line = malloc(n + 2);
    memset(line, 'a', n);
    line[1] = ' ';
    line[n] = '\n';
    CHECK_EQ_INT(count_items(line, n + 1, NULL, 0), 1); /* exactly the limit */
    memset(line, 'a', n + 1);
    line[1] = ' ';
    line[n + 1] = '\n';
    CHECK_EQ_INT(count_items(line, n + 2, err, sizeof err), -1);
    CHECK(strstr(err, "longer than") != NULL);
    free(line);

    /* 512 arguments pass, 513 fail. */
    char *args = malloc(4 + 2 * 600);
    size_t m = (size_t)sprintf(args, "kw");
    for (int i = 0; i < OM_NETDOC_MAX_ARGS; i++) {
        args[m++] = ' ';
        args[m++] = 'x';
    }
    args[m] = '\n';
    CHECK_EQ_INT(count_items(args, m + 1, NULL, 0), 1);
    args[m++] = ' ';
    args[m++] = 'y';
    args[m] = '\n';
    CHECK_EQ_INT(count_items(args, m + 1, err, sizeof err), -1);
    CHECK(strstr(err, "more than 512 arguments") != NULL);
    free(args);
}

/* Every prefix of a document with objects tokenizes without reading past its end, and the
 * prefixes that cut an object are errors. */
static void test_truncation(void)
{
    static const char doc[] = "dir-key-crosscert\n"
                              "-----BEGIN ID SIGNATURE-----\n"
                              "QUJDRA==\n"
                              "-----END ID SIGNATURE-----\n"
                              "fingerprint ABCD\n";
    size_t n = sizeof doc - 1;
    size_t obj_begin = strlen("dir-key-crosscert\n");
    size_t obj_end = (size_t)(strstr(doc, "fingerprint") - doc);
    for (size_t cut = 0; cut <= n; cut++) {
        int r = count_items(doc, cut, NULL, 0);
        /* A cut inside the BEGIN..END lines (but not right before BEGIN) is an error; the END
         * line may lose only its NL. */
        bool inside = cut > obj_begin && cut < obj_end - 1;
        if (inside)
            CHECK_MSG(r == -1, "cut %zu: r=%d", cut, r);
        else
            CHECK_MSG(r >= 0, "cut %zu: r=%d", cut, r);
    }
}

static void test_next_arg(void)
{
    om_span_t rest = om_span("  a\tbb  c ", 10), a;
    CHECK(om_netdoc_next_arg(&rest, &a));
    CHECK(om_span_eq(a, "a"));
    CHECK(om_netdoc_next_arg(&rest, &a));
    CHECK(om_span_eq(a, "bb"));
    CHECK(om_netdoc_next_arg(&rest, &a));
    CHECK(om_span_eq(a, "c"));
    CHECK(!om_netdoc_next_arg(&rest, &a));
    CHECK(!om_netdoc_next_arg(&rest, &a));
    CHECK(om_span_starts(om_span("abc", 3), "ab"));
    CHECK(!om_span_starts(om_span("abc", 3), "abcd"));
    CHECK(!om_span_eq(om_span("abc", 3), "ab"));
}

static void test_time(void)
{
    time_t t;
    CHECK_EQ_INT(om_netdoc_parse_time(om_span("1970-01-01", 10), om_span("00:00:00", 8), &t), 0);
    CHECK_EQ_INT(t, 0);
    CHECK_EQ_INT(om_netdoc_parse_time(om_span("2026-11-22", 10), om_span("09:14:20", 8), &t), 0);
    CHECK_EQ_INT(t, 1795338860LL); /* independently: calendar.timegm */
    CHECK_EQ_INT(om_netdoc_parse_time(om_span("2000-02-29", 10), om_span("12:34:56", 8), &t), 0);
    CHECK_EQ_INT(t, 951827696LL);
    CHECK_EQ_INT(om_netdoc_parse_time(om_span("2038-01-19", 10), om_span("03:14:08", 8), &t), 0);
    CHECK_EQ_INT(t, 2147483648LL);
    CHECK_EQ_INT(om_netdoc_parse_time(om_span("9999-12-31", 10), om_span("23:59:59", 8), &t), 0);
    CHECK_EQ_INT(t, 253402300799LL);
    char buf[32];
    om_netdoc_format_time(1795338860, buf, sizeof buf);
    CHECK(strcmp(buf, "2026-11-22 09:14:20") == 0);

    static const char *bad[][2] = {
        {"2023-02-29", "00:00:00"}, {"1900-02-29", "00:00:00"},  {"2026-13-01", "00:00:00"},
        {"2026-00-01", "00:00:00"}, {"2026-04-31", "00:00:00"},  {"2026-01-00", "00:00:00"},
        {"2026-01-01", "24:00:00"}, {"2026-01-01", "00:60:00"},  {"2026-01-01", "00:00:61"},
        {"1969-12-31", "23:59:59"}, {"2026-1-01", "00:00:00"},   {"2026-01-01", "0:00:00"},
        {"2026/01/01", "00:00:00"}, {"2026-01-01", "00-00-00"},  {"2026-01-0a", "00:00:00"},
        {"2026-01-01", "+0:00:00"}, {"20260-01-01", "00:00:00"}, {"", ""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(om_netdoc_parse_time(om_span(bad[i][0], strlen(bad[i][0])),
                                       om_span(bad[i][1], strlen(bad[i][1])), &t) == -1,
                  "accepted %s %s", bad[i][0], bad[i][1]);
    CHECK_EQ_INT(om_netdoc_parse_time(om_span("2024-02-29", 10), om_span("23:59:60", 8), &t), 0);
}

static void test_integers(void)
{
    uint32_t u;
    int32_t i;
    CHECK_EQ_INT(om_netdoc_parse_u32(om_span("0", 1), 10, &u), 0);
    CHECK_EQ_INT(u, 0);
    CHECK_EQ_INT(om_netdoc_parse_u32(om_span("4294967295", 10), UINT32_MAX, &u), 0);
    CHECK_EQ_INT(u, 4294967295u);
    CHECK_EQ_INT(om_netdoc_parse_u32(om_span("4294967296", 10), UINT32_MAX, &u), -1);
    CHECK_EQ_INT(om_netdoc_parse_u32(om_span("99999999999", 11), UINT32_MAX, &u), -1);
    CHECK_EQ_INT(om_netdoc_parse_u32(om_span("65536", 5), 65535, &u), -1);
    CHECK_EQ_INT(om_netdoc_parse_u32(om_span("", 0), 65535, &u), -1);
    CHECK_EQ_INT(om_netdoc_parse_u32(om_span("+1", 2), 65535, &u), -1);
    CHECK_EQ_INT(om_netdoc_parse_u32(om_span("-1", 2), 65535, &u), -1);
    CHECK_EQ_INT(om_netdoc_parse_u32(om_span("1x", 2), 65535, &u), -1);
    CHECK_EQ_INT(om_netdoc_parse_i32(om_span("-2147483648", 11), &i), 0);
    CHECK_EQ_INT(i, INT32_MIN);
    CHECK_EQ_INT(om_netdoc_parse_i32(om_span("2147483647", 10), &i), 0);
    CHECK_EQ_INT(i, INT32_MAX);
    CHECK_EQ_INT(om_netdoc_parse_i32(om_span("-7", 2), &i), 0);
    CHECK_EQ_INT(i, -7);
    CHECK_EQ_INT(om_netdoc_parse_i32(om_span("2147483648", 10), &i), -1);
    CHECK_EQ_INT(om_netdoc_parse_i32(om_span("-2147483649", 11), &i), -1);
    CHECK_EQ_INT(om_netdoc_parse_i32(om_span("-", 1), &i), -1);
    CHECK_EQ_INT(om_netdoc_parse_i32(om_span("--1", 3), &i), -1);
}

static void test_addresses(void)
{
    uint8_t ip[4], ip6[16];
    uint16_t port;
    CHECK_EQ_INT(om_netdoc_parse_ipv4(om_span("127.0.0.1", 9), ip), 0);
    CHECK_MEM(ip, "\x7f\x00\x00\x01", 4);
    CHECK_EQ_INT(om_netdoc_parse_ipv4(om_span("255.255.255.255", 15), ip), 0);
    static const char *bad4[] = {"256.1.1.1", "01.2.3.4", "1.2.3",      "1.2.3.4.5", "1..2.3",
                                 "1.2.3.4 ",  "a.b.c.d",  "1.2.3.1000", "",          ".1.2.3"};
    for (size_t k = 0; k < sizeof bad4 / sizeof bad4[0]; k++)
        CHECK_MSG(om_netdoc_parse_ipv4(om_span(bad4[k], strlen(bad4[k])), ip) == -1, "accepted %s",
                  bad4[k]);
    CHECK_EQ_INT(om_netdoc_parse_ipv6_port(om_span("[::1]:27125", 11), ip6, &port), 0);
    CHECK_EQ_INT(port, 27125);
    CHECK_MEM(ip6, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16);
    CHECK_EQ_INT(om_netdoc_parse_ipv6_port(om_span("[2001:db8::7]:1", 15), ip6, &port), 0);
    CHECK_EQ_INT(ip6[0], 0x20);
    CHECK_EQ_INT(ip6[15], 7);
    static const char *bad6[] = {"[::1]",   "[::1]:0", "[::1]:65536", "[zz::]:1",    "::1:80",
                                 "[::1]80", "[]:80",   "[::1]:",      "[1.2.3.4]:80"};
    for (size_t k = 0; k < sizeof bad6 / sizeof bad6[0]; k++)
        CHECK_MSG(om_netdoc_parse_ipv6_port(om_span(bad6[k], strlen(bad6[k])), ip6, &port) == -1,
                  "accepted %s", bad6[k]);
}

static void test_encodings(void)
{
    uint8_t out[32], want[20];
    /* "IymxGfy629Ga09+V6DWUjX4JL28" is relay0's identity 2329B119... from the snapshot. */
    om_test_unhex("2329B119FCBADBD19AD3DF95E835948D7E092F6F", want, sizeof want);
    CHECK_EQ_INT(om_netdoc_b64_exact(om_span("IymxGfy629Ga09+V6DWUjX4JL28", 27), out, 20), 0);
    CHECK_MEM(out, want, 20);
    CHECK_EQ_INT(om_netdoc_b64_exact(om_span("IymxGfy629Ga09+V6DWUjX4JL28=", 28), out, 20), 0);
    CHECK_MEM(out, want, 20);
    CHECK_EQ_INT(om_netdoc_b64_exact(om_span("IymxGfy629Ga09+V6DWUjX4JL2", 26), out, 20), -1);
    CHECK_EQ_INT(om_netdoc_b64_exact(om_span("IymxGfy629Ga09+V6DWUjX4JL28A", 28), out, 20), -1);
    CHECK_EQ_INT(om_netdoc_b64_exact(om_span("IymxGfy629Ga09*V6DWUjX4JL28", 27), out, 20), -1);
    CHECK_EQ_INT(om_netdoc_b64_exact(om_span("IymxGfy629Ga09+V6DW jX4JL28", 27), out, 20), -1);
    CHECK_EQ_INT(
        om_netdoc_hex_exact(om_span("2329b119FCBADBD19AD3DF95E835948D7E092F6F", 40), out, 20), 0);
    CHECK_MEM(out, want, 20);
    CHECK_EQ_INT(
        om_netdoc_hex_exact(om_span("2329B119FCBADBD19AD3DF95E835948D7E092F6", 39), out, 20), -1);
    CHECK_EQ_INT(
        om_netdoc_hex_exact(om_span("G329B119FCBADBD19AD3DF95E835948D7E092F6F", 40), out, 20), -1);
}

static void test_nickname(void)
{
    CHECK(om_netdoc_is_nickname(om_span("relay0", 6)));
    CHECK(om_netdoc_is_nickname(om_span("A123456789012345678", 19)));
    CHECK(!om_netdoc_is_nickname(om_span("A1234567890123456789", 20)));
    CHECK(!om_netdoc_is_nickname(om_span("", 0)));
    CHECK(!om_netdoc_is_nickname(om_span("re-lay", 6)));
    CHECK(!om_netdoc_is_nickname(om_span("re_lay", 6)));
}

static const om_test_t tests[] = {
    OM_TEST(test_items_and_offsets),
    OM_TEST(test_empty_documents),
    OM_TEST(test_keyword_rules),
    OM_TEST(test_nul_bytes),
    OM_TEST(test_objects),
    OM_TEST(test_line_and_arg_limits),
    OM_TEST(test_truncation),
    OM_TEST(test_next_arg),
    OM_TEST(test_time),
    OM_TEST(test_integers),
    OM_TEST(test_addresses),
    OM_TEST(test_encodings),
    OM_TEST(test_nickname),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("netdoc", tests, argc, argv);
}

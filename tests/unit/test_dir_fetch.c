/* test_dir_fetch.c — unit tests for dir_fetch.c: the HTTP/1.0 response-header parser
 * (om_http_response_parse) on tor-style answers, every truncation, malformed and oversized
 * headers; om_inflate on zlib and gzip round trips, truncation, garbage and the output limit. */
#include "test.h"

#include <stdint.h>

#include <zlib.h>

#include "core/dir_fetch.h"

#ifndef OM_TEST_DATA_DIR
#define OM_TEST_DATA_DIR "tests/data"
#endif

/* What Debian's tor 0.4.9 sends for GET /tor/server/authority on its DirPort (captured). */
static const char tor_identity_resp[] = "HTTP/1.0 200 OK\r\n"
                                        "Date: Sun, 22 Nov 2026 08:57:25 GMT\r\n"
                                        "Content-Type: text/plain\r\n"
                                        "Content-Encoding: identity\r\n"
                                        "Expires: Tue, 24 Nov 2026 08:57:25 GMT\r\n"
                                        "\r\n"
                                        "router chantestrelay2 127.0.0.1 39567 0 0\n";
static const char tor_404_resp[] = "HTTP/1.0 404 Servers unavailable\r\n"
                                   "Date: Sun, 22 Nov 2026 08:57:25 GMT\r\n"
                                   "\r\n";

static int parse_str(const char *s, om_http_response_t *r)
{
    return om_http_response_parse((const uint8_t *)s, strlen(s), r);
}

static size_t header_len_of(const char *s)
{
    const char *e = strstr(s, "\r\n\r\n");
    return e ? (size_t)(e - s) + 4 : 0;
}

/* ---------------------------------------------------------------- om_http_response_parse */

static void test_http_tor_identity_response(void)
{
    om_http_response_t r;
    CHECK_EQ_INT(parse_str(tor_identity_resp, &r), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK(strcmp(r.reason, "OK") == 0);
    CHECK_EQ_INT(r.encoding, OM_ENC_IDENTITY);
    CHECK(!r.has_content_length);
    CHECK_EQ_INT(r.header_len, header_len_of(tor_identity_resp));
    CHECK(memcmp(tor_identity_resp + r.header_len, "router ", 7) == 0);
}

static void test_http_tor_404_response(void)
{
    om_http_response_t r;
    CHECK_EQ_INT(parse_str(tor_404_resp, &r), 0);
    CHECK_EQ_INT(r.status, 404);
    CHECK(strcmp(r.reason, "Servers unavailable") == 0);
    CHECK_EQ_INT(r.encoding, OM_ENC_IDENTITY); /* no Content-Encoding header */
    CHECK_EQ_INT(r.header_len, strlen(tor_404_resp));
}

static void test_http_content_encodings(void)
{
    static const struct {
        const char *value;
        om_http_encoding_t enc;
    } cases[] = {
        {"identity", OM_ENC_IDENTITY}, {"deflate", OM_ENC_DEFLATE},
        {"x-zlib", OM_ENC_DEFLATE},    {"gzip", OM_ENC_GZIP},
        {"GZIP", OM_ENC_GZIP},         {"Deflate", OM_ENC_DEFLATE},
        {"x-tor-lzma", OM_ENC_OTHER},  {"x-zstd", OM_ENC_OTHER},
        {"gzipx", OM_ENC_OTHER},       {"", OM_ENC_OTHER},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[256];
        snprintf(buf, sizeof buf, "HTTP/1.0 200 OK\r\nContent-Encoding: %s\r\n\r\n",
                 cases[i].value);
        om_http_response_t r;
        CHECK_MSG(parse_str(buf, &r) == 0, "Content-Encoding '%s' refused", cases[i].value);
        CHECK_MSG(r.encoding == cases[i].enc, "Content-Encoding '%s' gave %d, expected %d",
                  cases[i].value, (int)r.encoding, (int)cases[i].enc);
    }
    /* Header names are case-insensitive; tabs after the colon are skipped. */
    om_http_response_t r;
    CHECK_EQ_INT(parse_str("HTTP/1.1 200 OK\r\ncontent-encoding:\tgzip\r\n\r\n", &r), 0);
    CHECK_EQ_INT(r.encoding, OM_ENC_GZIP);
    CHECK_EQ_INT(parse_str("HTTP/1.0 200 OK\r\nCONTENT-ENCODING:x-zlib\r\n\r\n", &r), 0);
    CHECK_EQ_INT(r.encoding, OM_ENC_DEFLATE);
}

static void test_http_content_length(void)
{
    om_http_response_t r;
    const char *s =
        "HTTP/1.0 200 OK\r\nContent-Length: 1234\r\nContent-Encoding: deflate\r\n\r\nxx";
    CHECK_EQ_INT(parse_str(s, &r), 0);
    CHECK(r.has_content_length);
    CHECK_EQ_INT(r.content_length, 1234);
    CHECK_EQ_INT(r.encoding, OM_ENC_DEFLATE);
    CHECK_EQ_INT(r.header_len, strlen(s) - 2);
    CHECK_EQ_INT(parse_str("HTTP/1.0 200 OK\r\ncontent-length:0\r\n\r\n", &r), 0);
    CHECK(r.has_content_length);
    CHECK_EQ_INT(r.content_length, 0);
    /* 12 digits is the longest accepted. */
    CHECK_EQ_INT(parse_str("HTTP/1.0 200 OK\r\nContent-Length: 999999999999\r\n\r\n", &r), 0);
    CHECK_EQ_INT(r.content_length, 999999999999LL);
}

static void test_http_status_line_forms(void)
{
    om_http_response_t r;
    /* No reason phrase at all. */
    CHECK_EQ_INT(parse_str("HTTP/1.0 503\r\n\r\n", &r), 0);
    CHECK_EQ_INT(r.status, 503);
    CHECK_EQ_INT(r.reason[0], 0);
    /* HTTP/1.1 as well. */
    CHECK_EQ_INT(parse_str("HTTP/1.1 200 OK\r\nX: y\r\n\r\n", &r), 0);
    CHECK_EQ_INT(r.status, 200);
    /* A long reason is cut to fit, NUL-terminated. */
    char buf[400];
    memset(buf, 0, sizeof buf);
    memcpy(buf, "HTTP/1.0 200 ", 13);
    memset(buf + 13, 'R', 200);
    memcpy(buf + 213, "\r\n\r\n", 4);
    CHECK_EQ_INT(parse_str(buf, &r), 0);
    CHECK_EQ_INT(strlen(r.reason), sizeof r.reason - 1);
    /* Control characters in the reason are not passed through to logs. */
    CHECK_EQ_INT(parse_str("HTTP/1.0 200 O\x1b[2JK\r\n\r\n", &r), 0);
    for (size_t i = 0; r.reason[i]; i++)
        CHECK((unsigned char)r.reason[i] >= 0x20 && (unsigned char)r.reason[i] < 0x7f);
    /* Unknown headers and headers without a value are fine. */
    CHECK_EQ_INT(parse_str("HTTP/1.0 200 OK\r\nX-Your-Address-Is: 127.0.0.1\r\nEmpty:\r\n\r\n", &r),
                 0);
    CHECK_EQ_INT(r.encoding, OM_ENC_IDENTITY);
}

static void test_http_incomplete_header(void)
{
    om_http_response_t r;
    CHECK_EQ_INT(om_http_response_parse((const uint8_t *)"", 0, &r), 1);
    CHECK_EQ_INT(parse_str("HTTP/1.0 200 OK\r\n", &r), 1);
    CHECK_EQ_INT(parse_str("HTTP/1.0 200 OK\r\nContent-Encoding: deflate\r\n", &r), 1);
    CHECK_EQ_INT(parse_str("HTTP/1.0 200 OK\r\n\r", &r), 1);
    CHECK_EQ_INT(parse_str("HTTP/1.0 200 OK\n\n", &r), 1); /* bare LF never ends the header */
    CHECK_EQ_INT(parse_str("H", &r), 1);
}

/* Every strict prefix of a valid response that ends before the blank line is "incomplete"; every
 * prefix that includes it gives the same result as the whole response. */
static void test_http_every_truncation(void)
{
    const char *resps[] = {
        tor_identity_resp, tor_404_resp,
        "HTTP/1.0 200 OK\r\nContent-Length: 2\r\nContent-Encoding: gzip\r\n\r\nab"};
    for (size_t k = 0; k < sizeof resps / sizeof resps[0]; k++) {
        const char *s = resps[k];
        size_t n = strlen(s), hl = header_len_of(s);
        om_http_response_t full, r;
        CHECK_EQ_INT(parse_str(s, &full), 0);
        for (size_t i = 0; i <= n; i++) {
            /* A heap copy of exactly i bytes, so ASan catches any read past the prefix. */
            uint8_t *p = malloc(i ? i : 1);
            CHECK(p);
            memcpy(p, s, i);
            int rc = om_http_response_parse(p, i, &r);
            free(p);
            if (i < hl) {
                CHECK_MSG(rc == 1, "response %zu cut at %zu: rc %d, expected 1", k, i, rc);
            } else {
                CHECK_MSG(rc == 0, "response %zu cut at %zu: rc %d, expected 0", k, i, rc);
                CHECK_EQ_INT(r.status, full.status);
                CHECK_EQ_INT(r.header_len, full.header_len);
                CHECK_EQ_INT(r.encoding, full.encoding);
                CHECK_EQ_INT(r.has_content_length, full.has_content_length);
                CHECK_EQ_INT(r.content_length, full.content_length);
                CHECK(strcmp(r.reason, full.reason) == 0);
            }
        }
    }
}

static void test_http_malformed(void)
{
    static const char *bad[] = {
        "HTTP/2.0 200 OK\r\n\r\n",  /* not HTTP/1.x */
        "HTTP/1.2 200 OK\r\n\r\n",  /* only 1.0 and 1.1 */
        "http/1.0 200 OK\r\n\r\n",  /* the protocol name is case-sensitive */
        "HTTP/1.0  200 OK\r\n\r\n", /* two spaces */
        "HTTP/1.0 20 OK\r\n\r\n",   /* two digits */
        "HTTP/1.0 2x0 OK\r\n\r\n",  /* non-digit status */
        "HTTP/1.0 -20 OK\r\n\r\n",  /* sign */
        "HTTP/1.0 abc OK\r\n\r\n",  /* non-digit status */
        "HTTP/1.0 2000 OK\r\n\r\n", /* four digits */
        "HTTP/1.0 200\tOK\r\n\r\n", /* reason not separated by a space */
        "HTTP/1.0\r\n\r\n",         /* no status */
        "GARBAGE\r\n\r\n",          /* not a status line */
        "\r\n\r\n",                 /* empty status line */
        "HTTP/1.0 200 OK\r\nNo colon here\r\n\r\n",
        "HTTP/1.0 200 OK\r\n: empty name\r\n\r\n",
        "HTTP/1.0 200 OK\r\nContent-Length: 12a\r\n\r\n",
        "HTTP/1.0 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.0 200 OK\r\nContent-Length: +1\r\n\r\n",
        "HTTP/1.0 200 OK\r\nContent-Length: 0x10\r\n\r\n",
        "HTTP/1.0 200 OK\r\nContent-Length: \r\n\r\n",
        "HTTP/1.0 200 OK\r\nContent-Length: 1 2\r\n\r\n",
        "HTTP/1.0 200 OK\r\nContent-Length: 1000000000000\r\n\r\n",           /* 13 digits */
        "HTTP/1.0 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", /* overflow */
        "HTTP/1.0 200 OK\r\nX: y\r\nbad line\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        om_http_response_t r;
        int rc = parse_str(bad[i], &r);
        CHECK_MSG(rc == -1, "accepted (rc %d): %s", rc, bad[i]);
    }
}

static void test_http_header_size_limit(void)
{
    om_http_response_t r;
    size_t cap = OM_HTTP_MAX_HEADER + 64;
    char *buf = malloc(cap);
    CHECK(buf);
    const char *status = "HTTP/1.0 200 OK\r\nX-Pad: ";
    size_t sl = strlen(status);
    /* A header of exactly OM_HTTP_MAX_HEADER bytes (blank line included) is accepted... */
    memcpy(buf, status, sl);
    memset(buf + sl, 'a', OM_HTTP_MAX_HEADER - sl - 4);
    memcpy(buf + OM_HTTP_MAX_HEADER - 4, "\r\n\r\n", 4);
    memcpy(buf + OM_HTTP_MAX_HEADER, "body", 4);
    int rc = om_http_response_parse((uint8_t *)buf, OM_HTTP_MAX_HEADER + 4, &r);
    if (rc != 0) {
        free(buf);
        CHECK_EQ_INT(rc, 0);
    }
    CHECK_EQ_INT(r.header_len, OM_HTTP_MAX_HEADER);
    /* ...one byte more is refused, with or without the rest of it buffered. */
    memcpy(buf, status, sl);
    memset(buf + sl, 'a', OM_HTTP_MAX_HEADER - sl - 3);
    memcpy(buf + OM_HTTP_MAX_HEADER - 3, "\r\n\r\n", 4);
    int rc_full = om_http_response_parse((uint8_t *)buf, OM_HTTP_MAX_HEADER + 1, &r);
    int rc_at_limit = om_http_response_parse((uint8_t *)buf, OM_HTTP_MAX_HEADER, &r);
    int rc_below = om_http_response_parse((uint8_t *)buf, OM_HTTP_MAX_HEADER - 1, &r);
    /* A stream of header bytes that never ends: -1 once the limit is reached, not "need more". */
    memset(buf + sl, 'b', cap - sl);
    int rc_endless = om_http_response_parse((uint8_t *)buf, cap, &r);
    free(buf);
    CHECK_EQ_INT(rc_full, -1);
    CHECK_EQ_INT(rc_at_limit, -1);
    CHECK_EQ_INT(rc_below, 1);
    CHECK_EQ_INT(rc_endless, -1);
}

/* The captured answer of tor 0.4.9 to GET /tor/server/authority.z: header, then a zlib body. */
static void test_http_tor_deflate_response_file(void)
{
    const char *dir = getenv("OM_TEST_DATA_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tor-0.4.9-http-response-deflate.bin",
             dir && *dir ? dir : OM_TEST_DATA_DIR);
    FILE *f = fopen(path, "rb");
    CHECK_MSG(f, "cannot open %.400s (set OM_TEST_DATA_DIR)", path);
    uint8_t buf[8192];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    CHECK(n > 100 && n < sizeof buf);
    om_http_response_t r;
    CHECK_EQ_INT(om_http_response_parse(buf, n, &r), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_INT(r.encoding, OM_ENC_DEFLATE);
    CHECK(!r.has_content_length);
    uint8_t *plain = NULL;
    size_t plen = 0;
    CHECK_EQ_INT(om_inflate(buf + r.header_len, n - r.header_len, 1 << 20, &plain, &plen), 0);
    int ok = plen > 1000 && !memcmp(plain, "router chantestrelay2 127.0.0.1 ", 32) &&
             strstr((char *)plain, "-----END SIGNATURE-----\n") != NULL && plain[plen] == 0;
    free(plain);
    CHECK(ok);
}

/* ---------------------------------------------------------------- om_inflate */

static uint8_t *make_text(size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    if (!p) return NULL;
    /* Compressible but not trivial: lines of a descriptor-like text with a counter. */
    size_t off = 0;
    unsigned line = 0;
    while (off < n) {
        char l[64];
        int k = snprintf(l, sizeof l, "line %u of a directory document, abcdefghij\n", line++);
        for (int i = 0; i < k && off < n; i++)
            p[off++] = (uint8_t)l[i];
    }
    return p;
}

/* windowBits 15: zlib (RFC 1950); 31: gzip (RFC 1952); -15: raw deflate. */
static uint8_t *compress_with(const uint8_t *in, size_t n, int window_bits, size_t *outlen)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, 9, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) return NULL;
    size_t cap = deflateBound(&zs, (uLong)n) + 32;
    uint8_t *out = malloc(cap);
    if (!out) {
        deflateEnd(&zs);
        return NULL;
    }
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)n;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    int r = deflate(&zs, Z_FINISH);
    *outlen = cap - zs.avail_out;
    deflateEnd(&zs);
    if (r != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    return out;
}

static void test_inflate_zlib_roundtrip(void)
{
    static const size_t sizes[] = {0, 1, 100, 5000, 200000};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        uint8_t *plain = make_text(n);
        CHECK(plain);
        uLongf clen = compressBound((uLong)n);
        uint8_t *c = malloc(clen);
        CHECK(c);
        CHECK_EQ_INT(compress2(c, &clen, plain, (uLong)n, 9), Z_OK);
        uint8_t *out = NULL;
        size_t outlen = 0;
        int rc = om_inflate(c, clen, 1 << 20, &out, &outlen);
        int same = rc == 0 && outlen == n && (n == 0 || !memcmp(out, plain, n)) && out[n] == 0;
        free(out);
        free(c);
        free(plain);
        CHECK_MSG(same, "zlib round trip of %zu bytes failed (rc %d, got %zu bytes)", n, rc,
                  outlen);
    }
}

static void test_inflate_gzip_roundtrip(void)
{
    static const size_t sizes[] = {0, 1, 777, 100000};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        uint8_t *plain = make_text(n);
        CHECK(plain);
        size_t clen = 0;
        uint8_t *c = compress_with(plain, n, 15 + 16, &clen);
        CHECK(c);
        CHECK(clen >= 18 && c[0] == 0x1f && c[1] == 0x8b); /* really gzip */
        uint8_t *out = NULL;
        size_t outlen = 0;
        int rc = om_inflate(c, clen, 1 << 20, &out, &outlen);
        int same = rc == 0 && outlen == n && (n == 0 || !memcmp(out, plain, n)) && out[n] == 0;
        free(out);
        free(c);
        free(plain);
        CHECK_MSG(same, "gzip round trip of %zu bytes failed (rc %d, got %zu bytes)", n, rc,
                  outlen);
    }
}

/* Every proper prefix of a compressed stream is refused (zlib's adler32 / gzip's CRC+ISIZE
 * trailers make "a prefix that happens to decode" impossible). */
static void test_inflate_truncated_rejected(void)
{
    size_t n = 3000;
    uint8_t *plain = make_text(n);
    CHECK(plain);
    for (int wb = 0; wb < 2; wb++) {
        size_t clen = 0;
        uint8_t *c = compress_with(plain, n, wb ? 31 : 15, &clen);
        CHECK(c);
        for (size_t i = 0; i < clen; i++) {
            uint8_t *p = malloc(i ? i : 1);
            CHECK(p);
            memcpy(p, c, i);
            uint8_t *out = (uint8_t *)"untouched";
            size_t outlen = 12345;
            int rc = om_inflate(p, i, 1 << 20, &out, &outlen);
            free(p);
            if (rc == 0) free(out);
            CHECK_MSG(rc == -1, "%s stream cut at %zu of %zu bytes was accepted",
                      wb ? "gzip" : "zlib", i, clen);
        }
        free(c);
    }
    free(plain);
}

static void test_inflate_output_limit(void)
{
    size_t n = 10000;
    uint8_t *plain = make_text(n);
    CHECK(plain);
    uLongf clen = compressBound((uLong)n);
    uint8_t *c = malloc(clen);
    CHECK(c);
    CHECK_EQ_INT(compress2(c, &clen, plain, (uLong)n, 9), Z_OK);
    uint8_t *out = NULL;
    size_t outlen = 0;
    /* Exactly max bytes is allowed; one fewer allowed byte is refused. */
    int rc_exact = om_inflate(c, clen, n, &out, &outlen);
    int exact_ok = rc_exact == 0 && outlen == n && !memcmp(out, plain, n);
    if (rc_exact == 0) free(out);
    int rc_less = om_inflate(c, clen, n - 1, &out, &outlen);
    if (rc_less == 0) free(out);
    int rc_tiny = om_inflate(c, clen, 0, &out, &outlen);
    if (rc_tiny == 0) free(out);
    free(c);
    free(plain);
    CHECK(exact_ok);
    CHECK_EQ_INT(rc_less, -1);
    CHECK_EQ_INT(rc_tiny, -1);
}

/* A "zip bomb": 64 MiB of zeros compress to about 64 KiB; with a 1 MiB limit it must be refused
 * (and quickly: the limit stops inflation, not the end of the stream). */
static void test_inflate_zip_bomb_refused(void)
{
    size_t n = 64u << 20;
    uint8_t *zeros = calloc(1, n);
    CHECK(zeros);
    for (int wb = 0; wb < 2; wb++) {
        size_t clen = 0;
        uint8_t *c = compress_with(zeros, n, wb ? 31 : 15, &clen);
        if (!c) free(zeros);
        CHECK(c);
        int small = clen < n / 500;
        uint8_t *out = NULL;
        size_t outlen = 0;
        int rc = om_inflate(c, clen, 1 << 20, &out, &outlen);
        if (rc == 0) free(out);
        free(c);
        if (!small || rc != -1) free(zeros);
        CHECK_MSG(small, "test data: %zu bytes compressed to %zu", n, clen);
        CHECK_MSG(rc == -1, "%s bomb of %zu bytes accepted with a 1 MiB limit",
                  wb ? "gzip" : "zlib", n);
    }
    free(zeros);
}

static void test_inflate_garbage_rejected(void)
{
    uint8_t *out = NULL;
    size_t outlen = 0;
    static const uint8_t junk[] = "this is not compressed data at all";
    CHECK_EQ_INT(om_inflate(junk, sizeof junk - 1, 1 << 20, &out, &outlen), -1);
    CHECK_EQ_INT(om_inflate(junk, 0, 1 << 20, &out, &outlen), -1); /* empty input */
    /* A zlib header with a bad check value (FCHECK). */
    static const uint8_t badhdr[] = {0x78, 0x9d, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01};
    CHECK_EQ_INT(om_inflate(badhdr, sizeof badhdr, 1 << 20, &out, &outlen), -1);
    /* A zlib header asking for a preset dictionary (FDICT) is refused. */
    static const uint8_t dict[] = {0x78, 0xbb, 0x00, 0x00, 0x00, 0x01, 0x03, 0x00};
    CHECK_EQ_INT(om_inflate(dict, sizeof dict, 1 << 20, &out, &outlen), -1);

    size_t n = 2000, clen = 0;
    uint8_t *plain = make_text(n);
    CHECK(plain);
    /* Raw deflate (no zlib/gzip wrapper) is not what tor sends: refused. */
    uint8_t *raw = compress_with(plain, n, -15, &clen);
    CHECK(raw);
    int rc_raw = om_inflate(raw, clen, 1 << 20, &out, &outlen);
    if (rc_raw == 0) free(out);
    free(raw);
    /* A corrupted checksum (last byte of the adler32 / of gzip's ISIZE) is refused. */
    int rc_bad[2];
    for (int wb = 0; wb < 2; wb++) {
        uint8_t *c = compress_with(plain, n, wb ? 31 : 15, &clen);
        if (!c) {
            rc_bad[wb] = 99;
            continue;
        }
        c[clen - 1] ^= 0x01;
        rc_bad[wb] = om_inflate(c, clen, 1 << 20, &out, &outlen);
        if (rc_bad[wb] == 0) free(out);
        /* ...and a flipped bit in the middle of the data. */
        c[clen - 1] ^= 0x01;
        c[clen / 2] ^= 0x10;
        int rc_mid = om_inflate(c, clen, 1 << 20, &out, &outlen);
        if (rc_mid == 0) free(out);
        free(c);
        if (rc_mid != -1) rc_bad[wb] = 100 + rc_mid;
    }
    free(plain);
    CHECK_EQ_INT(rc_raw, -1);
    CHECK_EQ_INT(rc_bad[0], -1);
    CHECK_EQ_INT(rc_bad[1], -1);
}

/* "No limit" written as SIZE_MAX must still inflate (and terminate). */
static void test_inflate_max_size_max(void)
{
    size_t n = 5000;
    uint8_t *plain = make_text(n);
    CHECK(plain);
    uLongf clen = compressBound((uLong)n);
    uint8_t *c = malloc(clen);
    CHECK(c);
    CHECK_EQ_INT(compress2(c, &clen, plain, (uLong)n, 9), Z_OK);
    uint8_t *out = NULL;
    size_t outlen = 0;
    int rc = om_inflate(c, clen, SIZE_MAX, &out, &outlen);
    int same = rc == 0 && outlen == n && !memcmp(out, plain, n);
    if (rc == 0) free(out);
    free(c);
    free(plain);
    CHECK(same);
}

static const om_test_t tests[] = {
    OM_TEST(test_http_tor_identity_response), OM_TEST(test_http_tor_404_response),
    OM_TEST(test_http_content_encodings),     OM_TEST(test_http_content_length),
    OM_TEST(test_http_status_line_forms),     OM_TEST(test_http_incomplete_header),
    OM_TEST(test_http_every_truncation),      OM_TEST(test_http_malformed),
    OM_TEST(test_http_header_size_limit),     OM_TEST(test_http_tor_deflate_response_file),
    OM_TEST(test_inflate_zlib_roundtrip),     OM_TEST(test_inflate_gzip_roundtrip),
    OM_TEST(test_inflate_truncated_rejected), OM_TEST(test_inflate_output_limit),
    OM_TEST(test_inflate_zip_bomb_refused),   OM_TEST(test_inflate_garbage_rejected),
    OM_TEST(test_inflate_max_size_max),       {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("dir_fetch", tests, argc, argv);
}

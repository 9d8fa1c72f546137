/* test_dircache.c — src/or/dircache.c: the HTTP request-head parser used on BEGIN_DIR streams
 * (good requests, partial input, malformed and oversized heads) and the answers of a cache that
 * holds nothing yet (404), our own descriptor at /tor/server/authority, and ".z" answers that
 * inflate back to the document. */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/dir_fetch.h"
#include "or/dircache.h"
#include "test.h"

static int parse(const char *req, char *path, size_t pathsz)
{
    return om_dircache_parse_request(req, strlen(req), path, pathsz);
}

static void test_parse_good(void)
{
    char path[256];
    const char *r = "GET /tor/status-vote/current/consensus-microdesc/3D6085+7E3652.z HTTP/1.0\r\n"
                    "Host: 127.0.0.1\r\nAccept-Encoding: deflate, identity\r\n\r\n";
    CHECK_EQ_INT(parse(r, path, sizeof path), (int)strlen(r));
    CHECK(strcmp(path, "/tor/status-vote/current/consensus-microdesc/3D6085+7E3652.z") == 0);
    CHECK_EQ_INT(parse("GET /tor/keys/all HTTP/1.1\r\n\r\nextra", path, sizeof path), 30);
    CHECK(strcmp(path, "/tor/keys/all") == 0);
}

static void test_parse_partial(void)
{
    char path[256];
    CHECK_EQ_INT(parse("", path, sizeof path), 0);
    CHECK_EQ_INT(parse("GET /tor/keys/all HTTP/1.0\r\n", path, sizeof path), 0);
    CHECK_EQ_INT(parse("GET /tor/keys/all HTTP/1.0\r\nHost: x\r\n\r", path, sizeof path), 0);
}

static void test_parse_malformed(void)
{
    char path[256];
    CHECK_EQ_INT(parse("POST /tor/ HTTP/1.0\r\n\r\n", path, sizeof path), -1);
    CHECK_EQ_INT(parse("GET tor/keys HTTP/1.0\r\n\r\n", path, sizeof path), -1);
    CHECK_EQ_INT(parse("GET /tor/keys\r\n\r\n", path, sizeof path), -1);
    CHECK_EQ_INT(parse("GET  HTTP/1.0\r\n\r\n", path, sizeof path), -1);
    CHECK_EQ_INT(parse("GET /a\x01b HTTP/1.0\r\n\r\n", path, sizeof path), -1);
    CHECK_EQ_INT(parse("GET /x SPDY/3\r\n\r\n", path, sizeof path), -1);
    /* a path longer than the caller's buffer */
    CHECK_EQ_INT(parse("GET /0123456789abcdef HTTP/1.0\r\n\r\n", path, 8), -1);
    /* a head that never ends within the limit */
    size_t n = OM_DIRCACHE_MAX_REQUEST + 10;
    char *big = malloc(n + 1);
    CHECK(big);
    memcpy(big, "GET /", 5);
    memset(big + 5, 'a', n - 5);
    big[n] = 0;
    CHECK_EQ_INT(om_dircache_parse_request(big, n, path, sizeof path), -1);
    free(big);
}

static int status_of(const uint8_t *resp, size_t len)
{
    if (len < 12 || memcmp(resp, "HTTP/1.0 ", 9) != 0) return -1;
    return atoi((const char *)resp + 9);
}

static const uint8_t *body_of(const uint8_t *resp, size_t len, size_t *blen)
{
    for (size_t i = 0; i + 3 < len; i++)
        if (!memcmp(resp + i, "\r\n\r\n", 4)) {
            *blen = len - i - 4;
            return resp + i + 4;
        }
    return NULL;
}

static void test_answers(void)
{
    struct event_base *base = event_base_new();
    om_dircache_t *d = om_dircache_new(base, NULL, 0);
    CHECK(d);
    CHECK(!om_dircache_ready(d));
    size_t len = 0;
    uint8_t *r = om_dircache_answer(d, "/tor/status-vote/current/consensus-microdesc.z", &len);
    CHECK(r && status_of(r, len) == 404);
    free(r);
    r = om_dircache_answer(d, "/tor/micro/d/AAAA", &len);
    CHECK(r && status_of(r, len) == 404);
    free(r);
    r = om_dircache_answer(d, "/tor/server/authority", &len);
    CHECK(r && status_of(r, len) == 404);
    free(r);

    const char *desc = "router test 127.0.0.1 9001 0 0\nrouter-signature\n";
    om_dircache_set_own_descriptor(d, desc);
    r = om_dircache_answer(d, "/tor/server/authority", &len);
    size_t blen = 0;
    const uint8_t *b = r ? body_of(r, len, &blen) : NULL;
    CHECK(r && status_of(r, len) == 200 && b && blen == strlen(desc) && !memcmp(b, desc, blen));
    free(r);
    r = om_dircache_answer(d, "/tor/server/authority.z", &len);
    b = r ? body_of(r, len, &blen) : NULL;
    CHECK(r && status_of(r, len) == 200 && b);
    CHECK(strstr((const char *)r, "Content-Encoding: deflate\r\n") != NULL);
    uint8_t *plain = NULL;
    size_t plen = 0;
    CHECK(om_inflate(b, blen, 1 << 20, &plain, &plen) == 0);
    CHECK(plen == strlen(desc) && !memcmp(plain, desc, plen));
    free(plain);
    free(r);
    r = om_dircache_answer(d, "/tor/server/all", &len);
    CHECK(r && status_of(r, len) == 404);
    free(r);
    om_dircache_free(d);
    event_base_free(base);
}

static const om_test_t tests[] = {
    OM_TEST(test_parse_good),
    OM_TEST(test_parse_partial),
    OM_TEST(test_parse_malformed),
    OM_TEST(test_answers),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("dircache", tests, argc, argv);
}

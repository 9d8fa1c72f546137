/* test_dircache.c — src/or/dircache.c: the HTTP request-head parser used on BEGIN_DIR streams
 * (good requests, partial input, malformed and oversized heads) and the answers of a cache that
 * holds nothing yet (404), our own descriptor at /tor/server/authority, and ".z" answers that
 * inflate back to the document; then a cache that fetches the tor 0.4.9 test-network snapshot
 * over HTTP from a fake authority DirPort on 127.0.0.1 with its clock 90 s behind (it used to
 * allow 60 s) and serves every document, ".z" forms straight from those made when each was
 * accepted, by reference (one blob per document version shared by every answer), and refuses a
 * consensus a day past its validity as tor does. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "core/crypto.h"
#include "core/dir_fetch.h"
#include "dir/dir_engine.h"
#include "dir/dir_policy.h"
#include "or/dir_blob.h"
#include "or/dircache.h"
#include "test.h"
#include "test_loop.h"

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

/* ---------------------------------------------------------------- against a fake authority */

#include "dircache_fake.h"

/* An HTTP GET answered from the cache: status, and the body into *body (malloc'd). */
static int get(om_dircache_t *d, const char *path, uint8_t **body, size_t *blen, bool *deflated)
{
    size_t len = 0;
    uint8_t *r = om_dircache_answer(d, path, &len);
    const uint8_t *b = r ? body_of(r, len, blen) : NULL;
    int st = r ? status_of(r, len) : -1;
    *deflated = r && b && memmem(r, (size_t)(b - r), "Content-Encoding: deflate\r\n", 27);
    *body = b ? malloc(*blen + 1) : NULL;
    if (*body) memcpy(*body, b, *blen);
    free(r);
    return st;
}

/* GET path and path.z: both 200, the plain body is want, the deflated one inflates to it and is
 * byte for byte the stored form (z, when given). */
static int serves(om_dircache_t *d, const char *path, const char *want, size_t wlen,
                  const uint8_t *z, size_t zlen)
{
    uint8_t *b = NULL, *bz = NULL, *plain = NULL;
    size_t bl, bzl, pl = 0;
    bool defl, deflz;
    char pz[1200];
    snprintf(pz, sizeof pz, "%s.z", path);
    int ok = get(d, path, &b, &bl, &defl) == 200 && !defl && bl == wlen && !memcmp(b, want, wlen);
    ok = ok && get(d, pz, &bz, &bzl, &deflz) == 200 && deflz;
    ok = ok && om_inflate(bz, bzl, 1 << 24, &plain, &pl) == 0 && pl == wlen &&
         !memcmp(plain, want, wlen);
    if (ok && z) ok = bzl == zlen && !memcmp(bz, z, zlen);
    free(b);
    free(bz);
    free(plain);
    return ok;
}

static void test_fetches_and_serves_snapshot(void)
{
    fake_auth_t a = {0};
    struct event_base *base = event_base_new();
    CHECK(fake_auth_start(base, &a));
    /* The relay's clock is a minute and a half behind the authorities'. */
    clock_now = SNAP_VA - 90;
    om_dircache_t *d = om_dircache_new_with_clock(base, a.auths, 3, test_clock, NULL);
    const om_dir_store_t *st = om_dircache_store(d);
    OM_TEST_WAIT_FOR(base, om_dircache_ready(d) && st->n_mds == 6 && st->cons[1].text, 5000);
    CHECK_MSG(om_dircache_ready(d), "no consensus taken (%d requests)", a.n_requests);
    CHECK_EQ_INT(st->n_mds, 6);
    CHECK(om_dircache_knows_relay(d, st->md_consensus->routers[0].rsa_id));
    CHECK_EQ_INT(om_dircache_param(d, "circwindow", 500, 100, 1000), 1000);
    /* Every document, plain and ".z" (the stored form, not made again per request). */
    const om_dir_doc_t *md = &st->cons[OM_DIR_FLAV_MD], *ns = &st->cons[OM_DIR_FLAV_NS];
    CHECK(
        serves(d, "/tor/status-vote/current/consensus-microdesc", a.md, a.md_len, md->z, md->zlen));
    CHECK(serves(d, "/tor/status-vote/current/consensus-microdesc/D6347C+2294", a.md, a.md_len,
                 md->z, md->zlen));
    CHECK(serves(d, "/tor/status-vote/current/consensus", a.ns, a.ns_len, ns->z, ns->zlen));
    CHECK(serves(d, "/tor/keys/all", a.certs, a.certs_len, st->certs_doc.z, st->certs_doc.zlen));
    /* Two microdescriptors, in the order asked; an unknown digest is skipped. */
    char path[400], b64a[48], b64b[48], want[8192];
    om_base64_encode(st->mds[4].digest, 32, b64a, sizeof b64a, true);
    om_base64_encode(st->mds[1].digest, 32, b64b, sizeof b64b, true);
    snprintf(path, sizeof path, "/tor/micro/d/%s-%s-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
             b64a, b64b);
    memcpy(want, st->mds[4].text, st->mds[4].len);
    memcpy(want + st->mds[4].len, st->mds[1].text, st->mds[1].len);
    CHECK(serves(d, path, want, st->mds[4].len + st->mds[1].len, NULL, 0));
    uint8_t *b;
    size_t bl;
    bool defl;
    CHECK_EQ_INT(get(d, "/tor/micro/d/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &b, &bl, &defl),
                 404);
    free(b);
    /* By reference: two streams answering the same document share one blob (the cache holds the
     * third reference), made once per version, not copied per request. */
    om_dircache_reply_t r1, r2;
    CHECK(om_dircache_reply(d, "/tor/status-vote/current/consensus-microdesc.z", &r1) == 0);
    CHECK(om_dircache_reply(d, "/tor/status-vote/current/consensus-microdesc.z", &r2) == 0);
    CHECK(r1.body && r1.body == r2.body);
    CHECK_EQ_INT(om_dir_blob_refs(r1.body), 3);
    CHECK_EQ_INT(om_dir_blob_len(r1.body), md->zlen);
    CHECK(om_dircache_shared_bytes(d) >= md->zlen);
    om_dircache_reply_clear(&r1);
    CHECK_EQ_INT(om_dir_blob_refs(r2.body), 2);
    om_dircache_reply_clear(&r2);
    /* Like tor, a consensus more than a day past its validity is not served. */
    clock_now = SNAP_VU + OM_DIR_TOLERANCE + 1;
    CHECK(!om_dircache_ready(d));
    size_t len;
    uint8_t *r = om_dircache_answer(d, "/tor/status-vote/current/consensus-microdesc.z", &len);
    CHECK(r && status_of(r, len) == 404 && memmem(r, len, "Consensus is too old", 20));
    free(r);
    om_dircache_free(d);
    fake_auth_stop(&a);
    event_base_free(base);
}

/* The key certificates answered with a body that does not end: the cache stops reading at
 * OM_DIR_MAX_DOC (evhttp's maximum body) and closes the connection, instead of reading (and
 * holding) all of it and refusing it only then. */
static void test_dirport_fetch_bounded_while_reading(void)
{
    fake_auth_t a = {.endless = true};
    signal(SIGPIPE, SIG_IGN); /* the fake authority writes on after the cache closed */
    struct event_base *base = event_base_new();
    CHECK(fake_auth_start(base, &a));
    clock_now = SNAP_VA;
    om_dircache_t *d = om_dircache_new_with_clock(base, a.auths, 3, test_clock, NULL);
    OM_TEST_WAIT_FOR(base, a.endless_closed, 20000);
    CHECK_MSG(a.endless_closed, "still reading after %zu bytes", a.endless_sent);
    CHECK_MSG(a.endless_sent <= OM_DIR_MAX_DOC + (4u << 20), "%zu bytes sent before the close",
              a.endless_sent);
    CHECK(!om_dircache_ready(d));
    om_dircache_free(d);
    fake_auth_stop(&a);
    event_base_free(base);
}

static const om_test_t tests[] = {
    OM_TEST(test_parse_good),
    OM_TEST(test_parse_partial),
    OM_TEST(test_parse_malformed),
    OM_TEST(test_answers),
    OM_TEST(test_fetches_and_serves_snapshot),
    OM_TEST(test_dirport_fetch_bounded_while_reading),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("dircache", tests, argc, argv);
}

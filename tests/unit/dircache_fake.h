/* dircache_fake.h — test helper: a fake directory authority DirPort on 127.0.0.1 (libevent
 * evhttp) serving the tor 0.4.9 test-network snapshot (tests/data/testnet-snapshot), and a relay
 * directory cache (dircache.h) fetching from it with a test clock; optionally answering the key
 * certificates with an endless body (to test the bound on what the cache reads). */
#ifndef OM_TEST_DIRCACHE_FAKE_H
#define OM_TEST_DIRCACHE_FAKE_H

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "core/crypto.h"
#include "or/dircache.h"
#include "test.h"
#include "test_loop.h"

/* libevent 2.1 never frees a server request whose chunked reply the peer cut short (the endless
 * answer below, by design): tell LeakSanitizer that leak is the fixture's, not the cache's. */
#if defined(__SANITIZE_ADDRESS__)
#define FAKE_AUTH_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FAKE_AUTH_LSAN 1
#endif
#endif
#ifdef FAKE_AUTH_LSAN
#include <sanitizer/lsan_interface.h>
#define FAKE_AUTH_IGNORE_LEAK(p) __lsan_ignore_object(p)
#else
#define FAKE_AUTH_IGNORE_LEAK(p) ((void)(p))
#endif

#define SNAP_VA ((time_t)1795338860) /* 2026-11-22 09:14:20 */
#define SNAP_VU (SNAP_VA + 40)

static time_t clock_now;
static inline time_t test_clock(void *arg)
{
    (void)arg;
    return clock_now;
}

typedef struct {
    char *certs, *md, *ns, *mds;
    size_t certs_len, md_len, ns_len, mds_len;
    int n_requests, n_md_consensus;
    /* endless: /tor/keys/all answered with a body that does not stop (until ENDLESS_MAX),
     * sent a chunk at a time as the peer reads; what was sent when the peer closed. */
    bool endless, endless_closed;
    size_t endless_sent;
    struct evhttp *http;
    om_dir_authority_t auths[3];
} fake_auth_t;

#define ENDLESS_CHUNK (256u << 10)
#define ENDLESS_MAX   (96u << 20)

/* The microdescriptors of the snapshot whose digests the request lists. */
static inline void add_mds(const fake_auth_t *a, const char *list, struct evbuffer *out)
{
    size_t p = 0;
    while (p < a->mds_len) {
        const char *next = strstr(a->mds + p + 1, "\nonion-key\n");
        size_t e = next ? (size_t)(next - a->mds) + 1 : a->mds_len;
        uint8_t dg[32];
        char b64[48];
        om_sha256((const uint8_t *)a->mds + p, e - p, dg);
        om_base64_encode(dg, 32, b64, sizeof b64, true);
        if (strstr(list, b64)) evbuffer_add(out, a->mds + p, e - p);
        p = e;
    }
}

static void endless_closed(struct evhttp_connection *c, void *arg)
{
    (void)c;
    ((fake_auth_t *)arg)->endless_closed = true;
}

static void endless_more(struct evhttp_connection *c, void *arg);

static void endless_send(struct evhttp_request *req, fake_auth_t *a)
{
    if (a->endless_sent >= ENDLESS_MAX) {
        evhttp_send_reply_end(req);
        return;
    }
    struct evbuffer *b = evbuffer_new();
    static char zeros[ENDLESS_CHUNK];
    memset(zeros, 'k', sizeof zeros);
    evbuffer_add(b, zeros, sizeof zeros);
    a->endless_sent += sizeof zeros;
    evhttp_send_reply_chunk_with_cb(req, b, endless_more, req);
    evbuffer_free(b);
}

static fake_auth_t *endless_auth;
static void endless_more(struct evhttp_connection *c, void *arg)
{
    (void)c;
    if (!endless_auth->endless_closed) endless_send(arg, endless_auth);
}

static void auth_serve(struct evhttp_request *req, void *arg)
{
    fake_auth_t *a = arg;
    const char *uri = evhttp_request_get_uri(req);
    a->n_requests++;
    if (a->endless && !strcmp(uri, "/tor/keys/all")) {
        endless_auth = a;
        FAKE_AUTH_IGNORE_LEAK(req);
        evhttp_connection_set_closecb(evhttp_request_get_connection(req), endless_closed, a);
        evhttp_send_reply_start(req, 200, "OK");
        endless_send(req, a);
        return;
    }
    struct evbuffer *out = evbuffer_new();
    if (!strcmp(uri, "/tor/keys/all")) {
        evbuffer_add(out, a->certs, a->certs_len);
    } else if (!strcmp(uri, "/tor/status-vote/current/consensus-microdesc")) {
        evbuffer_add(out, a->md, a->md_len);
        a->n_md_consensus++;
    } else if (!strcmp(uri, "/tor/status-vote/current/consensus")) {
        evbuffer_add(out, a->ns, a->ns_len);
    } else if (!strncmp(uri, "/tor/micro/d/", 13)) {
        add_mds(a, uri + 13, out);
    }
    if (evbuffer_get_length(out))
        evhttp_send_reply(req, 200, "OK", out);
    else
        evhttp_send_error(req, 404, "Not found");
    evbuffer_free(out);
}

/* Loads the snapshot into a, serves it on 127.0.0.1 (a->http) and fills a->auths with the three
 * snapshot authorities, all at that DirPort. */
static inline bool fake_auth_start(struct event_base *base, fake_auth_t *a)
{
    a->certs = om_test_read_data("testnet-snapshot/keys-all", &a->certs_len);
    a->md = om_test_read_data("testnet-snapshot/consensus-microdesc", &a->md_len);
    a->ns = om_test_read_data("testnet-snapshot/consensus", &a->ns_len);
    a->mds = om_test_read_data("testnet-snapshot/microdescs", &a->mds_len);
    if (!a->certs || !a->md || !a->ns || !a->mds) return false;
    a->http = evhttp_new(base);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(a->http, "127.0.0.1", 0);
    struct sockaddr_in sin;
    socklen_t sl = sizeof sin;
    if (!bs || getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sin, &sl) != 0)
        return false;
    evhttp_set_gencb(a->http, auth_serve, a);
    static const char *const v3[3] = {"2294432174E7CF2BB0914A509C1E955DCA35EB6E",
                                      "7CBA18A8EED044F5DA4D43D8439C66F0E94519E8",
                                      "44BDAE19610F6045A72216FD5608EE0858B4515D"};
    memset(a->auths, 0, sizeof a->auths);
    for (int i = 0; i < 3; i++) {
        snprintf(a->auths[i].nickname, sizeof a->auths[i].nickname, "auth%d", i);
        snprintf(a->auths[i].ipv4, sizeof a->auths[i].ipv4, "127.0.0.1");
        a->auths[i].dir_port = ntohs(sin.sin_port);
        a->auths[i].has_v3ident = true;
        om_test_unhex(v3[i], a->auths[i].v3ident, 20);
    }
    return true;
}

static inline void fake_auth_stop(fake_auth_t *a)
{
    if (a->http) evhttp_free(a->http);
    free(a->certs);
    free(a->md);
    free(a->ns);
    free(a->mds);
}

#endif

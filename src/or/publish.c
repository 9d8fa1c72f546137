/* publish.c — POST /tor/ of our descriptor (and extra-info document) to each authority's DirPort
 * with libevent's HTTP client (dir-spec 3.1), with a timeout, logging the status line each
 * authority answers. */
#include "or/publish.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "core/log.h"

#define PUBLISH_TIMEOUT_S 60

typedef struct batch {
    unsigned pending, accepted, total;
    om_publish_done_cb done;
    void *arg;
} batch_t;

typedef struct upload {
    batch_t *b;
    struct event_base *base;
    struct evhttp_connection *conn;
    char who[96];
} upload_t;

static void free_conn(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    evhttp_connection_free(arg);
}

static void upload_finished(upload_t *u, bool ok)
{
    batch_t *b = u->b;
    if (ok) b->accepted++;
    /* Not from inside libevent's own callback: free the connection on the next loop turn. */
    event_base_once(u->base, -1, EV_TIMEOUT, free_conn, u->conn, NULL);
    free(u);
    if (--b->pending == 0) {
        if (b->done) b->done(b->accepted, b->total, b->arg);
        free(b);
    }
}

static void on_answer(struct evhttp_request *req, void *arg)
{
    upload_t *u = arg;
    if (!req || evhttp_request_get_response_code(req) == 0) {
        om_warn("Descriptor upload to %s failed: no answer (connection refused or timed out)",
                u->who);
        upload_finished(u, false);
        return;
    }
    int code = evhttp_request_get_response_code(req);
    const char *reason = evhttp_request_get_response_code_line(req);
    /* tor's authorities answer 200 also for descriptors they drop (see doc/relay.md); a
     * refusal they do report comes as 400 with the reason in the status line. */
    if (code >= 200 && code < 300)
        om_notice("Uploaded our descriptor to %s: %d %s", u->who, code, reason ? reason : "");
    else
        om_warn("Authority %s refused our descriptor: %d %s", u->who, code, reason ? reason : "");
    upload_finished(u, code >= 200 && code < 300);
}

int om_publish_descriptor(struct event_base *base, const om_dir_authority_t *auths, size_t n,
                          const char *desc, const char *extra_info, om_publish_done_cb done,
                          void *arg)
{
    batch_t *b = calloc(1, sizeof *b);
    if (!b) return 0;
    b->done = done;
    b->arg = arg;
    b->pending = 1; /* held until every upload is started */
    size_t len = strlen(desc), elen = extra_info ? strlen(extra_info) : 0;
    for (size_t i = 0; i < n; i++) {
        const om_dir_authority_t *a = &auths[i];
        if (a->is_bridge || !a->dir_port) continue;
        upload_t *u = calloc(1, sizeof *u);
        if (!u) continue;
        u->b = b;
        u->base = base;
        snprintf(u->who, sizeof u->who, "%s (%s:%u)", a->nickname[0] ? a->nickname : "authority",
                 a->ipv4, a->dir_port);
        u->conn = evhttp_connection_base_new(base, NULL, a->ipv4, a->dir_port);
        struct evhttp_request *req = u->conn ? evhttp_request_new(on_answer, u) : NULL;
        if (!req) {
            if (u->conn) evhttp_connection_free(u->conn);
            free(u);
            continue;
        }
        evhttp_connection_set_timeout(u->conn, PUBLISH_TIMEOUT_S);
        char host[64];
        snprintf(host, sizeof host, "%s:%u", a->ipv4, a->dir_port);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Host", host);
        struct evbuffer *body = evhttp_request_get_output_buffer(req);
        evbuffer_add(body, desc, len);
        if (elen) evbuffer_add(body, extra_info, elen);
        b->pending++;
        b->total++;
        if (evhttp_make_request(u->conn, req, EVHTTP_REQ_POST, "/tor/") < 0) {
            /* libevent freed req; the callback will not run. */
            om_warn("Descriptor upload to %s could not start", u->who);
            b->total--;
            b->pending--;
            evhttp_connection_free(u->conn);
            free(u);
        }
    }
    int started = (int)b->total;
    if (--b->pending == 0) {
        if (b->done) b->done(b->accepted, b->total, b->arg);
        free(b);
    }
    return started;
}

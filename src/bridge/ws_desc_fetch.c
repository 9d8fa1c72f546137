/* ws_desc_fetch.c — the client side of a WebSocketPort's plain-HTTP descriptor
 * (ws_transport.h, om_ws_descriptor_fetch): one GET of PATH/tor/server/authority with libevent's
 * HTTP client, over TCP for ws:// and over TLS (OpenSSL, no certificate check) for wss://. The
 * answer is not trusted: the caller checks the descriptor's signature against the identity its
 * Bridge line pins (om_router_desc_verify). */
#include "bridge/ws_transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/ssl.h>

#define FETCH_TIMEOUT_S 30

typedef struct {
    struct event_base *base;
    struct evhttp_connection *conn;
    struct event *done_ev; /* reports and frees outside libevent's HTTP callbacks */
    om_ws_descriptor_cb done;
    void *arg;
    size_t max;
    int status;
    char *body;
    size_t len;
    char err[160];
} fetch_t;

static void fetch_free(fetch_t *f)
{
    if (f->conn) evhttp_connection_free(f->conn);
    if (f->done_ev) event_free(f->done_ev);
    free(f->body);
    free(f);
}

static void report_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    fetch_t *f = arg;
    f->done(f->arg, f->status, f->body, f->len, f->err[0] ? f->err : NULL);
    fetch_free(f);
}

static void request_done(struct evhttp_request *req, void *arg)
{
    fetch_t *f = arg;
    if (!req || !evhttp_request_get_response_code(req)) {
        snprintf(f->err, sizeof f->err,
                 "no HTTP answer (connection failed, timed out or the "
                 "body was over the size limit)");
    } else {
        f->status = evhttp_request_get_response_code(req);
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        size_t n = evbuffer_get_length(in);
        if (n > f->max) {
            f->status = 0;
            snprintf(f->err, sizeof f->err, "answer over %zu bytes", f->max);
        } else if ((f->body = malloc(n + 1))) {
            evbuffer_remove(in, f->body, n);
            f->body[n] = 0;
            f->len = n;
        }
    }
    event_active(f->done_ev, EV_TIMEOUT, 1);
}

void *om_ws_descriptor_fetch(struct event_base *base, const char *url, size_t max,
                             om_ws_descriptor_cb done, void *arg)
{
    bool tls;
    char host[256], path[256], uri[300];
    uint16_t port;
    if (om_ws_url_parse(url, &tls, host, sizeof host, &port, path, sizeof path) < 0) return NULL;
    size_t pl = strlen(path);
    while (pl && path[pl - 1] == '/')
        path[--pl] = 0;
    snprintf(uri, sizeof uri, "%s/tor/server/authority", path);
    fetch_t *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->base = base;
    f->done = done;
    f->arg = arg;
    f->max = max;
    f->done_ev = event_new(base, -1, 0, report_cb, f);
    /* evhttp wants the bare address of an IPv6 literal */
    char bare[256];
    size_t hl = strlen(host);
    snprintf(bare, sizeof bare, "%.*s", host[0] == '[' && hl > 2 ? (int)(hl - 2) : (int)hl,
             host[0] == '[' && hl > 2 ? host + 1 : host);
    struct bufferevent *bev = NULL;
    if (tls) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        SSL *ssl = ctx ? SSL_new(ctx) : NULL;
        SSL_CTX_free(ctx); /* the SSL holds its own reference */
        if (ssl) SSL_set_tlsext_host_name(ssl, bare);
        bev = ssl ? bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
                                                   BEV_OPT_CLOSE_ON_FREE)
                  : NULL;
        if (!bev && ssl) SSL_free(ssl);
    } else {
        bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    }
    if (bev && !(f->conn = evhttp_connection_base_bufferevent_new(base, NULL, bev, bare, port)))
        bufferevent_free(bev); /* else the connection owns it */
    struct evhttp_request *req = f->conn ? evhttp_request_new(request_done, f) : NULL;
    if (!f->done_ev || !req) {
        if (req) evhttp_request_free(req);
        fetch_free(f);
        return NULL;
    }
    evhttp_connection_set_timeout(f->conn, FETCH_TIMEOUT_S);
    evhttp_connection_set_max_body_size(f->conn, (ev_ssize_t)max);
    evhttp_connection_set_retries(f->conn, 0);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Host", host);
    if (evhttp_make_request(f->conn, req, EVHTTP_REQ_GET, uri) < 0) { /* frees req */
        fetch_free(f);
        return NULL;
    }
    return f;
}

void om_ws_descriptor_cancel(void *handle)
{
    fetch_t *f = handle;
    if (f) fetch_free(f); /* evhttp_connection_free cancels the request without calling back */
}

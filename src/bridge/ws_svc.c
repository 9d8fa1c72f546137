/* ws_svc.c — the libwebsockets service thread (doc/bridge.md, "Threads"). Debian's lws 4.1.6 has
 * no libevent or external-poll integration and is not thread-safe (LWS_MAX_SMP 1), so one
 * thread per service runs lws_service and owns the context, its vhosts (one per listener, one
 * for client links) and every wsi. The loop reaches it only through ws_svc_kick (a locked list
 * and lws_cancel_service, whose LWS_CALLBACK_EVENT_WAIT_CANCELLED drains the list here); this
 * thread reaches the loop through the link's notifier (ws_conn_notify). Data frames carry whole
 * cells (ws_msg.c; RFC 6455 5.6 binary messages only). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <libwebsockets.h>

#include "bridge/ws_int.h"

#define WS_MAX_LISTEN 8

struct ws_svc {
    struct lws_context *ctx;
    struct lws_vhost *vh[WS_MAX_LISTEN];
    size_t n_vh;
    struct lws_vhost *client_vh;
    ws_svc_opts_t o;
    lws_retry_bo_t retry;
    pthread_t thread;
    bool started, tls;
    atomic_bool stop;
    pthread_mutex_t mu;
    ws_conn_t *pending; /* links the loop asked us to look at; each holds a ref */
};

static ws_svc_t *svc_of(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

/* The wsi is closed: the lws side lets go of the link. */
static void conn_gone(ws_conn_t *c, const char *why)
{
    pthread_mutex_lock(&c->mu);
    bool was = c->lws_gone;
    c->lws_gone = true;
    if (!c->why[0]) snprintf(c->why, sizeof c->why, "%s", why);
    pthread_mutex_unlock(&c->mu);
    if (was) return;
    if (c->wsi) lws_set_opaque_user_data(c->wsi, NULL);
    c->wsi = NULL;
    ws_conn_notify(c);
    ws_conn_unref(c);
}

/* Close this link only: remember why, tell the peer (RFC 6455 7.4.1 status), return -1 to lws. */
static int conn_fail(ws_conn_t *c, struct lws *wsi, enum lws_close_status st, const char *why)
{
    pthread_mutex_lock(&c->mu);
    if (!c->why[0]) snprintf(c->why, sizeof c->why, "%s", why);
    pthread_mutex_unlock(&c->mu);
    lws_close_reason(wsi, st, (unsigned char *)(uintptr_t)why,
                     strlen(why) > 120 ? 120 : strlen(why));
    return -1;
}

static void start_client(ws_svc_t *s, ws_conn_t *c)
{
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = s->ctx;
    ci.vhost = s->client_vh;
    ci.address = c->c_host;
    ci.port = c->c_port;
    ci.path = c->c_path;
    ci.host = c->c_host;
    ci.origin = c->c_origin;
    ci.protocol = OM_WS_SUBPROTOCOL;
    ci.local_protocol_name = OM_WS_SUBPROTOCOL;
    /* wss: any certificate; the relay's identity is proven by its CERTS cell and ntor. */
    if (c->c_tls)
        ci.ssl_connection = LCCSCF_USE_SSL | LCCSCF_ALLOW_SELFSIGNED |
                            LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK | LCCSCF_ALLOW_EXPIRED |
                            LCCSCF_ALLOW_INSECURE;
    ci.opaque_user_data = c;
    ci.retry_and_idle_policy = &s->retry;
    c->c_started = true;
    struct lws *w = lws_client_connect_via_info(&ci);
    if (!w) {
        c->wsi = NULL;
        conn_gone(c, "could not start the WebSocket connection");
        return;
    }
    if (!c->lws_gone) c->wsi = w;
}

/* LWS_CALLBACK_EVENT_WAIT_CANCELLED: what the loop asked for. */
static void drain_pending(ws_svc_t *s)
{
    for (;;) {
        /* One at a time: the loop may list a link again as soon as it is off the list. */
        pthread_mutex_lock(&s->mu);
        ws_conn_t *c = s->pending;
        if (c) {
            s->pending = c->svc_next;
            c->svc_queued = false;
        }
        pthread_mutex_unlock(&s->mu);
        if (!c) break;
        pthread_mutex_lock(&c->mu);
        bool gone = c->lws_gone, close = c->close_req, up = c->lws_up;
        bool tx = evbuffer_get_length(c->txq) > 0;
        bool resume =
            c->rx_paused && c->loop_reading && evbuffer_get_length(c->rxq) < WS_RX_HIGH / 2;
        if (resume) c->rx_paused = false;
        pthread_mutex_unlock(&c->mu);
        if (!gone && !c->wsi && c->c_host && !c->c_started) {
            if (close)
                conn_gone(c, "closed before connecting");
            else
                start_client(s, c);
        } else if (!gone && c->wsi) {
            if (close && !up) /* not established yet: nothing to send, drop it now */
                lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
            else if (tx || close)
                lws_callback_on_writable(c->wsi);
            if (resume) lws_rx_flow_control(c->wsi, 1);
        }
        ws_conn_unref(c);
    }
}

void ws_svc_kick(ws_conn_t *c)
{
    pthread_mutex_lock(&c->mu);
    if (!c->lws_gone && c->svc) {
        ws_svc_t *s = c->svc;
        pthread_mutex_lock(&s->mu);
        if (!c->svc_queued) {
            c->svc_queued = true;
            ws_conn_ref(c);
            c->svc_next = s->pending;
            s->pending = c;
        }
        pthread_mutex_unlock(&s->mu);
        lws_cancel_service(s->ctx);
    }
    pthread_mutex_unlock(&c->mu);
}

/* A data frame (piece of a message): whole messages of whole cells go to rxq. */
static int on_receive(ws_conn_t *c, struct lws *wsi, const uint8_t *in, size_t len)
{
    if (!lws_frame_is_binary(wsi))
        return conn_fail(c, wsi, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE,
                         "text message (only binary messages carry cells)");
    bool first = lws_is_first_fragment(wsi), final = lws_is_final_fragment(wsi);
    const uint8_t *msg = in;
    size_t mlen = len;
    if (!(first && final && c->rxmsg_len == 0)) {
        if (c->rxmsg_len + len > OM_WS_MSG_MAX)
            return conn_fail(c, wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                             "message over the size cap");
        if (!c->rxmsg && !(c->rxmsg = malloc(OM_WS_MSG_MAX)))
            return conn_fail(c, wsi, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
        memcpy(c->rxmsg + c->rxmsg_len, in, len);
        c->rxmsg_len += len;
        if (!final) return 0;
        msg = c->rxmsg;
        mlen = c->rxmsg_len;
    }
    char err[120];
    int r = om_ws_msg_check(&c->rx_scan, msg, mlen, err, sizeof err);
    c->rxmsg_len = 0;
    if (r < 0) {
        free(c->rxmsg);
        c->rxmsg = NULL;
        return conn_fail(c, wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, err);
    }
    pthread_mutex_lock(&c->mu);
    int added = evbuffer_add(c->rxq, msg, mlen);
    bool pause = !c->rx_paused && (evbuffer_get_length(c->rxq) >= WS_RX_HIGH || !c->loop_reading);
    if (pause) c->rx_paused = true;
    pthread_mutex_unlock(&c->mu);
    if (msg == c->rxmsg) {
        free(c->rxmsg);
        c->rxmsg = NULL;
    }
    if (added < 0) return conn_fail(c, wsi, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
    if (pause) lws_rx_flow_control(wsi, 0);
    ws_conn_notify(c);
    return 0;
}

/* Writable: one message of whole cells from txq (lws allows one write per callback). */
static int on_writable(ws_conn_t *c, struct lws *wsi)
{
    static _Thread_local uint8_t buf[LWS_PRE + OM_WS_MSG_MAX];
    uint8_t *p = buf + LWS_PRE;
    pthread_mutex_lock(&c->mu);
    size_t n = (size_t)evbuffer_copyout(c->txq, p, OM_WS_MSG_MAX);
    long take = n ? om_ws_msg_prefix(&c->tx_scan, p, n, OM_WS_MSG_MAX) : 0;
    if (take > 0) evbuffer_drain(c->txq, (size_t)take);
    size_t left = evbuffer_get_length(c->txq);
    bool closing = c->close_req;
    bool low = left < WS_TX_LOW && c->out_waiting && !c->tx_low;
    if (low) c->tx_low = true;
    pthread_mutex_unlock(&c->mu);
    if (low) ws_conn_notify(c);
    if (take < 0)
        return conn_fail(c, wsi, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
                         "internal error: an outgoing cell does not fit a message");
    if (take > 0 && lws_write(wsi, p, (size_t)take, LWS_WRITE_BINARY) < take)
        return conn_fail(c, wsi, LWS_CLOSE_STATUS_ABNORMAL_CLOSE, "write failed");
    if (left > 0) {
        lws_callback_on_writable(wsi);
    } else if (closing) {
        lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
        return -1;
    }
    return 0;
}

static void on_established(ws_conn_t *c)
{
    pthread_mutex_lock(&c->mu);
    c->lws_up = true;
    bool close = c->close_req;
    pthread_mutex_unlock(&c->mu);
    if (close) lws_callback_on_writable(c->wsi);
    ws_conn_notify(c);
}

static int cb_cells(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    (void)user;
    ws_svc_t *s = svc_of(wsi);
    ws_conn_t *c = wsi ? lws_get_opaque_user_data(wsi) : NULL;
    char why[160];
    switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (s) drain_pending(s);
        return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        if (!s || !s->o.accept) return 1;
        c = s->o.accept(s->o.accept_arg, s, wsi);
        if (!c) return 1;
        c->wsi = wsi;
        lws_set_opaque_user_data(wsi, c);
        return 0;
    case LWS_CALLBACK_ESTABLISHED:
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (c) on_established(c);
        return 0;
    case LWS_CALLBACK_RECEIVE:
    case LWS_CALLBACK_CLIENT_RECEIVE:
        return c ? on_receive(c, wsi, in, len) : -1;
    case LWS_CALLBACK_SERVER_WRITEABLE:
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return c ? on_writable(c, wsi) : 0;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (c) {
            unsigned code = len >= 2 ? ((unsigned)((uint8_t *)in)[0] << 8) | ((uint8_t *)in)[1] : 0;
            snprintf(why, sizeof why, "WebSocket closed by the peer (status %u)", code);
            pthread_mutex_lock(&c->mu);
            if (!c->why[0]) snprintf(c->why, sizeof c->why, "%s", why);
            pthread_mutex_unlock(&c->mu);
        }
        return 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        snprintf(why, sizeof why, "WebSocket connection failed: %.*s", (int)(in ? len : 0),
                 in ? (const char *)in : "");
        if (c) conn_gone(c, why);
        return 0;
    case LWS_CALLBACK_CLOSED:
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY:
        if (c) conn_gone(c, "WebSocket closed");
        return 0;
    default:
        return 0;
    }
}

/* A plain HTTP request: the server's answer (ws_svc_opts_t.http) in one response, then the
 * connection may carry the next request; anything it does not serve is 404. */
static int serve_http(struct lws *wsi, ws_svc_t *s, const char *uri)
{
    char *body = NULL;
    size_t blen = 0;
    const char *ctype = "text/plain", *csp = NULL;
    unsigned st =
        s && s->o.http ? s->o.http(s->o.accept_arg, uri, &body, &blen, &ctype, &csp) : 404;
    if (st != HTTP_STATUS_OK) {
        free(body);
        lws_return_http_status(wsi, st ? st : HTTP_STATUS_NOT_FOUND, NULL);
        return -1;
    }
    uint8_t head[LWS_PRE + 2048], *start = head + LWS_PRE, *p = start, *end = head + sizeof head;
    uint8_t *b = malloc(LWS_PRE + blen + 1);
    static const char nosniff[] = "nosniff", nocache[] = "no-cache";
    int rc = -1;
    if (b && !lws_add_http_common_headers(wsi, HTTP_STATUS_OK, ctype, blen, &p, end) &&
        !lws_add_http_header_by_name(wsi, (const uint8_t *)"x-content-type-options:",
                                     (const uint8_t *)nosniff, sizeof nosniff - 1, &p, end) &&
        !lws_add_http_header_by_name(wsi, (const uint8_t *)"cache-control:",
                                     (const uint8_t *)nocache, sizeof nocache - 1, &p, end) &&
        (!csp || !lws_add_http_header_by_name(wsi, (const uint8_t *)"content-security-policy:",
                                              (const uint8_t *)csp, (int)strlen(csp), &p, end)) &&
        !lws_finalize_write_http_header(wsi, start, &p, end)) {
        memcpy(b + LWS_PRE, body, blen);
        if (lws_write(wsi, b + LWS_PRE, blen, LWS_WRITE_HTTP_FINAL) == (int)blen)
            rc = lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    free(b);
    free(body);
    return rc;
}

/* Requests without our subprotocol: plain HTTP gets what serve_http has, else 404; an upgrade gets
 * 400 (RFC 6455 4.2.2: a status other than 101 refuses it). */
static int cb_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    (void)user;
    (void)in;
    (void)len;
    switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (svc_of(wsi)) drain_pending(svc_of(wsi));
        return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        lws_return_http_status(wsi, HTTP_STATUS_BAD_REQUEST, NULL);
        return 1;
    case LWS_CALLBACK_HTTP:
        return serve_http(wsi, svc_of(wsi), in ? (const char *)in : "");
    default:
        return 0;
    }
}

static const struct lws_protocols protocols[] = {
    {"http-only", cb_http, 0, 0, 0, NULL, 0},
    {OM_WS_SUBPROTOCOL, cb_cells, 0, OM_WS_MSG_MAX, 0, NULL, OM_WS_MSG_MAX},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void *svc_main(void *arg)
{
    ws_svc_t *s = arg;
    while (!atomic_load(&s->stop))
        if (lws_service(s->ctx, 0) < 0) break;
    return NULL;
}

static struct lws_vhost *make_vhost(ws_svc_t *s, const om_ws_listen_t *l, char *err, size_t errlen)
{
    struct lws_context_creation_info vi;
    memset(&vi, 0, sizeof vi);
    vi.protocols = protocols;
    vi.retry_and_idle_policy = &s->retry;
    vi.timeout_secs = 10;
    vi.options = s->tls ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0;
    if (!l) {
        vi.port = CONTEXT_PORT_NO_LISTEN;
        vi.vhost_name = "om-client";
    } else {
        vi.vhost_name = "om-ws";
        vi.port = l->port; /* 0: any free port (lws_get_vhost_listen_port says which) */
        vi.iface = l->addr[0] ? l->addr : "0.0.0.0";
        if (strchr(vi.iface, ':'))
            vi.options |=
                LWS_SERVER_OPTION_IPV6_V6ONLY_MODIFY | LWS_SERVER_OPTION_IPV6_V6ONLY_VALUE;
        else
            vi.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
        vi.ssl_cert_filepath = s->o.tls_cert;
        vi.ssl_private_key_filepath = s->o.tls_key;
    }
    struct lws_vhost *vh = lws_create_vhost(s->ctx, &vi);
    if (!vh)
        snprintf(err, errlen, l ? "could not listen on %s:%u (WebSocket)" : "%s",
                 l ? (l->addr[0] ? l->addr : "0.0.0.0") : "could not start the WebSocket client",
                 l ? l->port : 0);
    return vh;
}

ws_svc_t *ws_svc_new(const ws_svc_opts_t *o, char *err, size_t errlen)
{
    if (o->n_listen > WS_MAX_LISTEN) {
        snprintf(err, errlen, "at most %d WebSocketPort lines", WS_MAX_LISTEN);
        return NULL;
    }
    ws_svc_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->o = *o;
    pthread_mutex_init(&s->mu, NULL);
    s->retry.secs_since_valid_ping = (uint16_t)(o->ping_s ? o->ping_s : 60);
    s->retry.secs_since_valid_hangup = (uint16_t)(o->idle_s ? o->idle_s : 120);
    lws_set_log_level(LLL_ERR, NULL);
    struct lws_context_creation_info ci;
    memset(&ci, 0, sizeof ci);
    /* OpenSSL only where needed: lws 4.1.6 leaks a client SSL_CTX (its CA store) when two
     * contexts that both did the global SSL init are alive at once (ws_client.c). */
    s->tls = o->tls_cert || o->tls;
    ci.options =
        LWS_SERVER_OPTION_EXPLICIT_VHOSTS | (s->tls ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0);
    ci.port = CONTEXT_PORT_NO_LISTEN;
    ci.user = s;
    ci.count_threads = 1;
    s->ctx = lws_create_context(&ci);
    if (!s->ctx) {
        snprintf(err, errlen, "could not create the libwebsockets context");
        goto fail;
    }
    for (size_t i = 0; i < o->n_listen; i++) {
        if (!(s->vh[i] = make_vhost(s, &o->listen[i], err, errlen))) goto fail;
        s->n_vh++;
    }
    /* Client links (ws_client.c picks the service). */
    if (!(s->client_vh = make_vhost(s, NULL, err, errlen))) goto fail;
    if (pthread_create(&s->thread, NULL, svc_main, s) != 0) {
        snprintf(err, errlen, "could not start the WebSocket thread");
        goto fail;
    }
    s->started = true;
    return s;
fail:
    ws_svc_free(s);
    return NULL;
}

bool ws_svc_tls(const ws_svc_t *s)
{
    return s->tls;
}

uint16_t ws_svc_port(const ws_svc_t *s, size_t i)
{
    if (i >= s->n_vh) return 0;
    int p = lws_get_vhost_listen_port(s->vh[i]);
    return p > 0 ? (uint16_t)p : 0;
}

void ws_svc_free(ws_svc_t *s)
{
    if (!s) return;
    if (s->started) {
        atomic_store(&s->stop, true);
        lws_cancel_service(s->ctx);
        pthread_join(s->thread, NULL);
    }
    /* This thread owns lws now: closing every wsi lets go of its link (conn_gone). */
    if (s->ctx) lws_context_destroy(s->ctx);
    s->ctx = NULL;
    pthread_mutex_lock(&s->mu);
    ws_conn_t *list = s->pending;
    s->pending = NULL;
    pthread_mutex_unlock(&s->mu);
    while (list) {
        ws_conn_t *c = list;
        list = c->svc_next;
        c->svc_queued = false;
        if (c->c_host && !c->c_started) conn_gone(c, "the WebSocket service stopped");
        ws_conn_unref(c);
    }
    pthread_mutex_destroy(&s->mu);
    free(s);
}

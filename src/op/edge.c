/* edge.c — the OP's application side: each SOCKS request becomes a stream on a circuit from
 * the pool (RELAY_BEGIN for CONNECT, RELAY_RESOLVE for tor's RESOLVE / RESOLVE_PTR), with
 * stream isolation by SOCKS username/password, retries on another circuit for the END reasons
 * tor retries, END reasons mapped to SOCKS reply codes, and data piped both ways with
 * backpressure (flow-control windows or XON/XOFF one way; withheld SENDMEs, or with
 * congestion control the client's output buffer reported for XOFF/XON, the other). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "core/circuit.h"
#include "core/log.h"
#include "core/relay_bodies.h"
#include "op/edge.h"
#include "op/socks.h"

#define BEGIN_TIMEOUT_S 15 /* tor's first stream-attach timeout is 10-15 s */
#define MAX_ATTEMPTS    3
/* Circuits that died under a stream before CONNECTED (DESTROY, or gone when we attached) do not
 * count against MAX_ATTEMPTS up to this many: after a relay dies the pool may still hold several
 * circuits through it whose DESTROYs have not reached us (tor 0.4.9 relays queue DESTROYs in the
 * channel's circuitmux and send them with the channel's next cell, doc/security.md), and each
 * attempt uncovers one. The circuit pool's own wait (WAIT_TIMEOUT_S) bounds the time. */
#define MAX_DEAD_CIRCS  8
#define CLIENT_OUT_HIGH (256 * 1024) /* queued for the client before we withhold SENDMEs */
/* Optimistic data (tor-spec 6.2): client bytes sent after BEGIN before CONNECTED, kept until
 * CONNECTED so a retry on another circuit can send them again. */
#define OPTIMISTIC_MAX (16 * OM_RELAY_PAYLOAD_LEN)

typedef struct {
    om_edge_ctx_t *ctx;
    om_socks_conn_t *conn;
    om_stream_t *stream;
    om_circuit_t *circ;
    void *wait;
    struct event *timer;
    int attempts;
    int dead_circs; /* attempts whose circuit died under them (not counted in attempts) */
    bool connected;
    size_t out_seen;             /* client output length after our last write / drain callback */
    struct evbuffer *optimistic; /* sent before CONNECTED (kept for a retry) */
    uint8_t command;
    uint16_t port;
    char host[OM_SOCKS_MAX_HOSTNAME + 1];
    char *isolation;
} edge_t;

static void edge_attach(edge_t *e);

static void edge_free(edge_t *e)
{
    if (e->wait) om_circpool_cancel(e->ctx->pool, e->wait);
    if (e->timer) event_free(e->timer);
    if (e->optimistic) evbuffer_free(e->optimistic);
    free(e->isolation);
    free(e);
}

/* Fail the request (not yet connected): SOCKS error reply, forget everything. */
static void edge_fail(edge_t *e, uint8_t socks5_code, const char *why)
{
    om_info("SOCKS request for %s:%u failed: %s", om_safe_str_client(e->host), e->port, why);
    if (e->conn) {
        om_socks_conn_set_ctx(e->conn, NULL);
        if (e->command == OM_SOCKS_CMD_CONNECT)
            om_socks_conn_reply_error(e->conn, socks5_code);
        else
            om_socks_conn_reply_resolved(e->conn, OM_SOCKS_ANSWER_ERROR, NULL, 0, 0);
        e->conn = NULL;
    }
    if (e->stream) {
        om_stream_close(e->stream, OM_END_DONE);
        e->stream = NULL;
    }
    edge_free(e);
}

/* Optimistic data: before CONNECTED, send what the client already sent (up to OPTIMISTIC_MAX,
 * which fits the windows) and keep a copy for a retry. */
static void pump_optimistic(edge_t *e)
{
    if (!e->conn || !e->stream || e->connected || e->command != OM_SOCKS_CMD_CONNECT) return;
    struct evbuffer *in = om_socks_conn_input(e->conn);
    size_t have = e->optimistic ? evbuffer_get_length(e->optimistic) : 0;
    size_t n = evbuffer_get_length(in);
    if (n == 0 || have >= OPTIMISTIC_MAX) return;
    if (n > OPTIMISTIC_MAX - have) n = OPTIMISTIC_MAX - have;
    if (!e->optimistic && !(e->optimistic = evbuffer_new())) return;
    const uint8_t *p = evbuffer_pullup(in, (ssize_t)n);
    ssize_t w = om_stream_write(e->stream, p, n);
    if (w > 0) {
        evbuffer_add(e->optimistic, p, (size_t)w);
        evbuffer_drain(in, (size_t)w);
    }
}

/* Move client bytes into the stream as far as the windows allow. */
static void pump_client_to_stream(edge_t *e)
{
    if (!e->connected) {
        pump_optimistic(e);
        return;
    }
    if (!e->conn || !e->stream) return;
    struct evbuffer *in = om_socks_conn_input(e->conn);
    while (evbuffer_get_length(in) > 0) {
        size_t n = evbuffer_get_length(in);
        if (n > 16 * OM_RELAY_PAYLOAD_LEN) n = 16 * OM_RELAY_PAYLOAD_LEN;
        const uint8_t *p = evbuffer_pullup(in, (ssize_t)n);
        ssize_t w = om_stream_write(e->stream, p, n);
        if (w > 0) evbuffer_drain(in, (size_t)w);
        if (w < (ssize_t)n) {
            /* Windows exhausted: stop reading until on_writable. */
            om_socks_conn_set_reading(e->conn, false);
            return;
        }
    }
    om_socks_conn_set_reading(e->conn, true);
}

static void s_connected(om_stream_t *s, void *arg)
{
    edge_t *e = arg;
    (void)s;
    if (e->timer) evtimer_del(e->timer);
    e->connected = true;
    if (e->optimistic) {
        evbuffer_free(e->optimistic);
        e->optimistic = NULL;
    }
    uint8_t atyp = 0;
    const uint8_t *addr = NULL;
    const om_addr_t *ca = om_stream_connected_addr(s, NULL);
    if (ca->type == 4) {
        atyp = OM_SOCKS_ATYP_IPV4;
        addr = ca->addr;
    } else if (ca->type == 6) {
        atyp = OM_SOCKS_ATYP_IPV6;
        addr = ca->addr;
    }
    om_debug("Stream to %s:%u connected", om_safe_str_client(e->host), e->port);
    if (om_socks_conn_reply_connected(e->conn, atyp, addr, 0) < 0) {
        om_socks_conn_close(e->conn);
        e->conn = NULL;
        om_stream_close(e->stream, OM_END_DONE);
        e->stream = NULL;
        edge_free(e);
        return;
    }
    pump_client_to_stream(e);
}

/* Flow control (prop 324 4): tell the stream how many bytes the client took since we last
 * looked, and how many still wait for it. */
static void note_drained(edge_t *e)
{
    size_t now = om_socks_conn_output_len(e->conn);
    if (now < e->out_seen && e->stream) om_stream_note_drained(e->stream, e->out_seen - now, now);
    e->out_seen = now;
}

static void s_data(om_stream_t *s, const uint8_t *data, size_t len, void *arg)
{
    edge_t *e = arg;
    if (!e->conn) return;
    note_drained(e);
    om_socks_conn_write(e->conn, data, len);
    e->out_seen = om_socks_conn_output_len(e->conn);
    if (e->out_seen > CLIENT_OUT_HIGH) om_stream_set_blocked(s, true);
    om_stream_note_buffered(s, e->out_seen);
}

static void s_writable(om_stream_t *s, void *arg)
{
    (void)s;
    pump_client_to_stream(arg);
}

/* Retry a stream on another circuit for these END reasons. Besides tor's (exit policy, timeout,
 * resource limits, a destroyed circuit), MISC: tor exits answer it when they refuse the circuit
 * itself (e.g. "open a stream from unknown relay" while their consensus lags), so another path
 * may work; a destination that really refuses gets MISC again and the same final error. */
static bool retriable(uint8_t reason)
{
    return reason == 0 || reason == OM_END_EXITPOLICY || reason == OM_END_DESTROY ||
           reason == OM_END_TIMEOUT || reason == OM_END_RESOURCELIMIT ||
           reason == OM_END_HIBERNATING || reason == OM_END_MISC;
}

static void s_end(om_stream_t *s, uint8_t reason, const char *why, void *arg)
{
    edge_t *e = arg;
    (void)s;
    e->stream = NULL;
    if (e->timer) evtimer_del(e->timer);
    if (e->connected) {
        /* The exit closed the stream: flush what we have to the client, then close. */
        if (e->conn) {
            om_socks_conn_set_ctx(e->conn, NULL);
            om_socks_conn_close(e->conn);
            e->conn = NULL;
        }
        edge_free(e);
        return;
    }
    if ((reason == 0 || reason == OM_END_DESTROY) && e->dead_circs < MAX_DEAD_CIRCS) {
        e->dead_circs++;
        e->attempts--;
    }
    if (retriable(reason) && e->attempts < MAX_ATTEMPTS) {
        om_info("Stream to %s:%u: %s; retrying on another circuit", om_safe_str_client(e->host),
                e->port, why);
        if (reason == OM_END_EXITPOLICY || reason == OM_END_RESOURCELIMIT ||
            reason == OM_END_HIBERNATING || reason == OM_END_MISC)
            om_circpool_mark_unusable(e->ctx->pool, e->circ);
        e->circ = NULL;
        edge_attach(e);
        return;
    }
    edge_fail(e, om_socks5_code_from_end_reason(reason), why);
}

static void s_resolved(om_stream_t *s, const uint8_t *body, size_t len, void *arg)
{
    edge_t *e = arg;
    (void)s;
    e->stream = NULL;
    if (e->timer) evtimer_del(e->timer);
    om_resolved_t r;
    if (!e->conn) {
        edge_free(e);
        return;
    }
    om_socks_conn_set_ctx(e->conn, NULL);
    if (om_resolved_parse(&r, body, len) < 0 || r.n == 0) {
        om_socks_conn_reply_resolved(e->conn, OM_SOCKS_ANSWER_ERROR, NULL, 0, 0);
    } else {
        /* The first answer of the kind the client can use (tor prefers IPv4 for RESOLVE). */
        const om_resolved_answer_t *a = &r.answers[0];
        for (size_t i = 0; i < r.n; i++)
            if ((e->command == OM_SOCKS_CMD_RESOLVE && r.answers[i].type == OM_RESOLVED_IPV4) ||
                (e->command == OM_SOCKS_CMD_RESOLVE_PTR &&
                 r.answers[i].type == OM_RESOLVED_HOSTNAME)) {
                a = &r.answers[i];
                break;
            }
        om_socks_conn_reply_resolved(e->conn, a->type, a->value, a->len, a->ttl);
    }
    e->conn = NULL;
    edge_free(e);
}

static void begin_timeout(evutil_socket_t fd, short what, void *arg)
{
    edge_t *e = arg;
    (void)fd;
    (void)what;
    if (e->connected || !e->stream) return;
    om_stream_t *s = e->stream;
    e->stream = NULL;
    om_stream_close(s, OM_END_TIMEOUT);
    if (e->attempts < MAX_ATTEMPTS) {
        om_info("Stream to %s:%u: no answer in %d s; retrying on another circuit",
                om_safe_str_client(e->host), e->port, BEGIN_TIMEOUT_S);
        om_circpool_mark_unusable(e->ctx->pool, e->circ);
        e->circ = NULL;
        edge_attach(e);
    } else {
        edge_fail(e, OM_SOCKS5_TTL_EXPIRED, "timed out");
    }
}

/* Build the RESOLVE_PTR name for an address (in-addr.arpa / ip6.arpa). */
static void ptr_name(const char *host, char *out, size_t len)
{
    uint8_t a[16];
    if (inet_pton(AF_INET, host, a) == 1) {
        snprintf(out, len, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]);
    } else if (inet_pton(AF_INET6, host, a) == 1) {
        size_t off = 0;
        for (int i = 15; i >= 0 && off + 5 < len; i--)
            off += (size_t)snprintf(out + off, len - off, "%x.%x.", a[i] & 15, a[i] >> 4);
        snprintf(out + off, len - off, "ip6.arpa");
    } else {
        snprintf(out, len, "%s", host);
    }
}

static void got_circuit(om_circuit_t *circ, const char *err, void *arg)
{
    edge_t *e = arg;
    e->wait = NULL;
    if (!circ) {
        edge_fail(e, OM_SOCKS5_GENERAL_FAILURE, err);
        return;
    }
    e->circ = circ;
    e->attempts++;
    om_info("Stream to %s:%u (isolation \"%s\") attached to circuit %u",
            om_safe_str_client(e->host), e->port, e->isolation ? e->isolation : "",
            om_circuit_id(circ));
    om_stream_callbacks_t cb = {.on_connected = s_connected,
                                .on_data = s_data,
                                .on_end = s_end,
                                .on_resolved = s_resolved,
                                .on_writable = s_writable,
                                .arg = e};
    if (e->command == OM_SOCKS_CMD_CONNECT) {
        e->stream = om_stream_begin(circ, e->host, e->port, OM_BEGIN_FLAG_IPV6_OK, &cb);
    } else {
        char name[OM_SOCKS_MAX_HOSTNAME + 80];
        if (e->command == OM_SOCKS_CMD_RESOLVE_PTR) ptr_name(e->host, name, sizeof name);
        e->stream =
            om_stream_resolve(circ, e->command == OM_SOCKS_CMD_RESOLVE_PTR ? name : e->host, &cb);
    }
    if (!e->stream) {
        /* The pool's circuit was already going away (e.g. a relay on it just died): like a
         * retriable END, try another one while attempts remain. */
        if (e->dead_circs < MAX_DEAD_CIRCS) {
            e->dead_circs++;
            e->attempts--;
        }
        if (e->attempts < MAX_ATTEMPTS) {
            om_info("Stream to %s:%u: circuit %u cannot take a stream; trying another",
                    om_safe_str_client(e->host), e->port, om_circuit_id(circ));
            om_circpool_mark_unusable(e->ctx->pool, circ);
            e->circ = NULL;
            edge_attach(e);
            return;
        }
        edge_fail(e, OM_SOCKS5_GENERAL_FAILURE, "could not open a stream on the circuit");
        return;
    }
    struct timeval tv = {BEGIN_TIMEOUT_S, 0};
    evtimer_add(e->timer, &tv);
    if (e->optimistic && evbuffer_get_length(e->optimistic)) {
        /* A retry: the bytes the previous exit may have dropped go again. */
        size_t n = evbuffer_get_length(e->optimistic);
        om_stream_write(e->stream, evbuffer_pullup(e->optimistic, (ssize_t)n), n);
    }
    pump_optimistic(e);
}

static void edge_attach(edge_t *e)
{
    uint16_t port = e->command == OM_SOCKS_CMD_CONNECT ? e->port : 0;
    /* got_circuit may run (and free e) before this returns; a handle means it has not. */
    void *h = om_circpool_get(e->ctx->pool, port, e->isolation, got_circuit, e);
    if (h) e->wait = h;
}

/* tor's ClientRejectInternalAddresses: an anonymous connection to a private or local address
 * would leave through an exit to *its* local network; refused except on test networks. */
static bool is_internal_destination(const char *host)
{
    uint8_t a[16];
    size_t n = strlen(host);
    if (!strcasecmp(host, "localhost") || (n > 10 && !strcasecmp(host + n - 10, ".localhost")))
        return true;
    if (inet_pton(AF_INET, host, a) == 1)
        return a[0] == 0 || a[0] == 10 || a[0] == 127 || (a[0] == 169 && a[1] == 254) ||
               (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168) ||
               (a[0] == 100 && (a[1] & 0xc0) == 64);
    if (inet_pton(AF_INET6, host, a) == 1) {
        static const uint8_t loop[16] = {[15] = 1}, zero[16] = {0};
        return !memcmp(a, loop, 16) || !memcmp(a, zero, 16) || (a[0] & 0xfe) == 0xfc ||
               (a[0] == 0xfe && (a[1] & 0xc0) == 0x80);
    }
    return false;
}

void om_edge_on_request(om_socks_conn_t *conn, const om_socks_request_t *req, void *arg)
{
    om_edge_ctx_t *ctx = arg;
    if (req->command != OM_SOCKS_CMD_RESOLVE_PTR && !ctx->testing &&
        is_internal_destination(req->host)) {
        om_warn("Rejecting SOCKS request for an anonymous connection to the internal address "
                "%s (allowed only with TestingTorNetwork)",
                om_safe_str_client(req->host));
        if (req->command == OM_SOCKS_CMD_CONNECT)
            om_socks_conn_reply_error(conn, OM_SOCKS5_GENERAL_FAILURE);
        else
            om_socks_conn_reply_resolved(conn, OM_SOCKS_ANSWER_ERROR, NULL, 0, 0);
        return;
    }
    /* RESOLVE of an address literal: the answer is the address itself (as tor does). */
    uint8_t lit[16];
    if (req->command == OM_SOCKS_CMD_RESOLVE && inet_pton(AF_INET, req->host, lit) == 1) {
        om_socks_conn_reply_resolved(conn, OM_SOCKS_ANSWER_IPV4, lit, 4, 0);
        return;
    }
    if (req->command == OM_SOCKS_CMD_RESOLVE && inet_pton(AF_INET6, req->host, lit) == 1) {
        om_socks_conn_reply_resolved(conn, OM_SOCKS_ANSWER_IPV6, lit, 16, 0);
        return;
    }
    edge_t *e = calloc(1, sizeof *e);
    if (!e) {
        om_socks_conn_reply_error(conn, OM_SOCKS5_GENERAL_FAILURE);
        return;
    }
    e->ctx = ctx;
    e->conn = conn;
    e->command = req->command;
    e->port = req->port;
    snprintf(e->host, sizeof e->host, "%s", req->host);
    e->timer = evtimer_new(ctx->base, begin_timeout, e);
    if (req->has_auth && ctx->isolate_socks_auth) {
        /* IsolateSOCKSAuth: streams with different credentials never share a circuit. */
        size_t n = (size_t)req->username_len + req->password_len + 2;
        e->isolation = malloc(n);
        if (e->isolation)
            snprintf(e->isolation, n, "%s:%s", (const char *)req->username,
                     (const char *)req->password);
    }
    om_socks_conn_set_ctx(conn, e);
    om_debug("SOCKS%u request from %s: %s %s:%u", req->version,
             om_safe_str_client(om_socks_conn_peer(conn)),
             req->command == OM_SOCKS_CMD_CONNECT ? "CONNECT" : "RESOLVE",
             om_safe_str_client(e->host), e->port);
    edge_attach(e);
}

void om_edge_on_data(om_socks_conn_t *conn, struct evbuffer *in, void *arg)
{
    (void)in;
    (void)arg;
    edge_t *e = om_socks_conn_ctx(conn);
    if (e) pump_client_to_stream(e); /* before CONNECTED the bytes wait in the buffer */
}

void om_edge_on_close(om_socks_conn_t *conn, void *arg)
{
    (void)arg;
    edge_t *e = om_socks_conn_ctx(conn);
    if (!e) return;
    e->conn = NULL;
    if (e->stream) {
        om_stream_close(e->stream, OM_END_DONE);
        e->stream = NULL;
    }
    edge_free(e);
}

void om_edge_on_drain(om_socks_conn_t *conn, void *arg)
{
    (void)arg;
    edge_t *e = om_socks_conn_ctx(conn);
    if (!e || !e->stream) return;
    note_drained(e);
    if (e->stream && om_socks_conn_output_len(conn) <= CLIENT_OUT_HIGH / 2)
        om_stream_set_blocked(e->stream, false);
}

/* ws_transport.c — the libevent loop's side of a WebSocket link: struct om_transport_ops over
 * the queues of ws_int.h. The channel appends cells to `out` and reads cells from `in`, as over
 * TLS. There is no TLS binding inside the link (the WebSocket's own TLS, for wss://, ends at the
 * bridge or its reverse proxy and is not the relay's link certificate): peer/own certificate
 * digests and the RFC 5705 exporter return -1, so the channel checks CERTS without a link
 * certificate match and an initiator cannot AUTHENTICATE (doc/bridge.md, "Authentication"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "bridge/ws_int.h"
#include "core/log.h"

static struct evbuffer *ws_output(om_transport_t *t)
{
    return ((ws_conn_t *)t)->out;
}

static int ws_no_cert(om_transport_t *t, uint8_t out[32])
{
    (void)t;
    (void)out;
    return -1;
}

static int ws_no_export(om_transport_t *t, uint8_t *out, size_t outlen, const char *label,
                        const uint8_t *context, size_t contextlen)
{
    (void)t;
    (void)out;
    (void)outlen;
    (void)label;
    (void)context;
    (void)contextlen;
    return -1;
}

static void ws_describe(om_transport_t *t, char *buf, size_t len)
{
    (void)t;
    snprintf(buf, len, "WebSocket (%s)", OM_WS_SUBPROTOCOL);
}

static void kick(ws_conn_t *c)
{
    if (c->kicked || !c->kick) return;
    c->kicked = true;
    event_active(c->kick, EV_TIMEOUT, 1);
}

/* How many bytes the rate-limit group lets through now (SIZE_MAX without one); when none, look
 * again after the group's next refill (bandwidth.c refills every 100 ms). */
static size_t rl_allow(ws_conn_t *c, bool write)
{
    if (!c->rl) return SIZE_MAX;
    ev_ssize_t lim = write ? bufferevent_rate_limit_group_get_write_limit(c->rl)
                           : bufferevent_rate_limit_group_get_read_limit(c->rl);
    if (lim > 0) return (size_t)lim;
    if (c->rl_wait && !evtimer_pending(c->rl_wait, NULL)) {
        struct timeval tv = {0, 50 * 1000};
        evtimer_add(c->rl_wait, &tv);
    }
    return 0;
}

static void rl_used(ws_conn_t *c, bool write, size_t n)
{
    if (!n) return;
    if (write)
        c->nf->bytes_out += n;
    else
        c->nf->bytes_in += n;
    if (!c->rl) return;
    if (write)
        bufferevent_rate_limit_group_decrement_write(c->rl, (ev_ssize_t)n);
    else
        bufferevent_rate_limit_group_decrement_read(c->rl, (ev_ssize_t)n);
}

/* Move output into txq up to WS_TX_HIGH; wake lws; tell the channel when output is low. */
static void pump_output(ws_conn_t *c)
{
    size_t olen = evbuffer_get_length(c->out);
    bool wake = false;
    pthread_mutex_lock(&c->mu);
    c->tx_low = false;
    size_t room =
        evbuffer_get_length(c->txq) < WS_TX_HIGH ? WS_TX_HIGH - evbuffer_get_length(c->txq) : 0;
    size_t moved = 0;
    if (olen && room && !c->lws_gone) {
        size_t allow = rl_allow(c, true);
        if (allow < room) room = allow;
    }
    if (olen && room && !c->lws_gone) {
        if (olen <= room) {
            moved = olen;
            evbuffer_add_buffer(c->txq, c->out);
        } else {
            moved = room;
            evbuffer_remove_buffer(c->out, c->txq, room);
        }
        wake = true;
        c->out_drained = true;
    }
    c->out_waiting = evbuffer_get_length(c->out) > 0;
    pthread_mutex_unlock(&c->mu);
    rl_used(c, true, moved);
    if (wake) ws_svc_kick(c);
    if (c->out_drained && evbuffer_get_length(c->out) <= WS_OUT_LOW && c->base.drain_cb &&
        c->connected) {
        c->out_drained = false;
        c->base.drain_cb(&c->base, c->base.cb_arg);
    }
}

static void out_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    (void)buf;
    ws_conn_t *c = arg;
    if (info->n_added && c->connected) kick(c);
}

/* Report EOF or an error once. */
static void report(ws_conn_t *c, int ev, const char *why)
{
    if (c->reported) return;
    c->reported = true;
    if (c->base.event_cb) c->base.event_cb(&c->base, ev, why, c->base.cb_arg);
}

/* Everything the lws side has for us: connection, cells, the end. */
void ws_conn_loop_handle(ws_conn_t *c)
{
    if (c->reported && !c->base.read_cb) return;
    ws_conn_ref(c);
    c->busy++;
    pthread_mutex_lock(&c->mu);
    bool gone_now = c->loop_gone;
    bool up = c->lws_up, gone = c->lws_gone;
    bool resume = false;
    size_t took = 0, waiting = c->loop_reading ? evbuffer_get_length(c->rxq) : 0;
    if (waiting) {
        size_t allow = rl_allow(c, false);
        took = waiting <= allow ? waiting : allow;
        if (took == waiting)
            evbuffer_add_buffer(c->in, c->rxq);
        else if (took)
            evbuffer_remove_buffer(c->rxq, c->in, took);
        resume = took && c->rx_paused && evbuffer_get_length(c->rxq) < WS_RX_HIGH / 2;
    }
    char why[160];
    snprintf(why, sizeof why, "%s", c->why[0] ? c->why : "WebSocket closed");
    pthread_mutex_unlock(&c->mu);
    rl_used(c, false, took);
    if (gone_now) goto out;
    if (resume) ws_svc_kick(c);
    if (up && !c->connected) {
        c->connected = true;
        if (c->base.event_cb)
            c->base.event_cb(&c->base, OM_TRANSPORT_CONNECTED, "connected", c->base.cb_arg);
        if (c->loop_gone) goto out;
    }
    if (c->connected && evbuffer_get_length(c->in) && c->loop_reading && c->base.read_cb)
        c->base.read_cb(&c->base, c->in, c->base.cb_arg);
    if (c->loop_gone) goto out;
    pump_output(c);
    if (c->loop_gone) goto out;
    if (gone && c->loop_reading) {
        pthread_mutex_lock(&c->mu);
        bool empty = evbuffer_get_length(c->rxq) == 0;
        pthread_mutex_unlock(&c->mu);
        if (empty && evbuffer_get_length(c->in) == 0)
            report(c, c->connected ? OM_TRANSPORT_EOF : OM_TRANSPORT_ERROR, why);
    }
out:
    c->busy--;
    ws_conn_unref(c);
}

static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ws_conn_t *c = arg;
    c->kicked = false;
    ws_conn_loop_handle(c);
}

static void rl_wait_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ws_conn_loop_handle(arg);
}

static int ws_set_rate_limit_group(om_transport_t *t, struct bufferevent_rate_limit_group *g)
{
    ws_conn_t *c = (ws_conn_t *)t;
    c->rl = g;
    if (!g) {
        if (c->rl_wait) evtimer_del(c->rl_wait);
        kick(c); /* what waited for tokens moves now */
    }
    return 0;
}

static void ws_set_reading(om_transport_t *t, int enabled)
{
    ws_conn_t *c = (ws_conn_t *)t;
    pthread_mutex_lock(&c->mu);
    c->loop_reading = enabled != 0;
    pthread_mutex_unlock(&c->mu);
    if (enabled) kick(c); /* cells (or the end) that waited: from the loop */
}

static size_t ws_buffered(om_transport_t *t)
{
    ws_conn_t *c = (ws_conn_t *)t;
    pthread_mutex_lock(&c->mu);
    size_t n = evbuffer_get_length(c->rxq) + evbuffer_get_length(c->txq);
    pthread_mutex_unlock(&c->mu);
    return n + evbuffer_get_length(c->in) + evbuffer_get_length(c->out);
}

static void ws_discard_output(om_transport_t *t)
{
    ws_conn_t *c = (ws_conn_t *)t;
    evbuffer_drain(c->out, evbuffer_get_length(c->out));
    evbuffer_drain(c->in, evbuffer_get_length(c->in));
    pthread_mutex_lock(&c->mu);
    evbuffer_drain(c->txq, evbuffer_get_length(c->txq));
    evbuffer_drain(c->rxq, evbuffer_get_length(c->rxq));
    pthread_mutex_unlock(&c->mu);
}

/* Queued cells still go (a DESTROY, an END), then a Close frame; lws owns the rest. */
static void ws_free(om_transport_t *t)
{
    ws_conn_t *c = (ws_conn_t *)t;
    if (!c) return;
    c->base.read_cb = NULL;
    c->base.event_cb = NULL;
    c->base.drain_cb = NULL;
    if (c->kick) event_free(c->kick);
    c->kick = NULL;
    if (c->rl_wait) event_free(c->rl_wait);
    c->rl_wait = NULL;
    c->rl = NULL;
    evbuffer_remove_cb(c->out, out_cb, c);
    pthread_mutex_lock(&c->mu);
    c->loop_gone = true;
    c->loop_reading = false;
    c->close_req = true;
    evbuffer_add_buffer(c->txq, c->out);
    pthread_mutex_unlock(&c->mu);
    ws_svc_kick(c);
    if (c->own_nf) ws_notifier_clear(c->nf);
    ws_conn_unref(c);
}

const struct om_transport_ops om_ws_transport_ops = {
    .name = "websocket",
    .unbound = true,
    .output = ws_output,
    .peer_cert_sha256 = ws_no_cert,
    .own_cert_sha256 = ws_no_cert,
    .export_keying_material = ws_no_export,
    .describe = ws_describe,
    .set_reading = ws_set_reading,
    .set_rate_limit_group = ws_set_rate_limit_group,
    .buffered = ws_buffered,
    .discard_output = ws_discard_output,
    .free = ws_free,
};

/* The loop's half of a new link (loop thread): its kick event and output callback. */
int ws_conn_loop_init(ws_conn_t *c)
{
    c->kick = event_new(c->base_loop, -1, 0, kick_cb, c);
    c->rl_wait = evtimer_new(c->base_loop, rl_wait_cb, c);
    if (!c->kick || !c->rl_wait) return -1;
    evbuffer_add_cb(c->out, out_cb, c);
    return 0;
}

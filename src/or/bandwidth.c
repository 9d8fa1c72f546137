/* bandwidth.c — the relay's token buckets (one libevent rate-limit group for all links, refilled
 * every 100 ms) and its observed bandwidth: per-second byte counts from the group, 10-second
 * sums, the best min(read, write) of each hour kept for 24 hours (tor's bwhist idea). */
#include "or/bandwidth.h"

#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#define TICK_MS    100
#define WINDOW_S   10
#define HOURS_KEPT 24

struct om_relay_bw {
    struct ev_token_bucket_cfg *cfg;
    struct bufferevent_rate_limit_group *group;
    struct event *timer;
    uint64_t last_read, last_written;
    uint64_t r[WINDOW_S], w[WINDOW_S]; /* the last seconds' deltas */
    unsigned slot, seconds;
    uint64_t hour_max[HOURS_KEPT]; /* best 10-second rate of each hour */
    unsigned hour, seconds_in_hour;
    om_relay_bw_extra_fn extra;
    void *extra_arg;
};

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    om_relay_bw_t *b = arg;
    (void)fd;
    (void)what;
    uint64_t rd, wr;
    om_relay_bw_totals(b, &rd, &wr);
    b->r[b->slot] = rd - b->last_read;
    b->w[b->slot] = wr - b->last_written;
    b->last_read = rd;
    b->last_written = wr;
    b->slot = (b->slot + 1) % WINDOW_S;
    if (b->seconds < WINDOW_S) b->seconds++;
    if (b->seconds == WINDOW_S) {
        uint64_t sr = 0, sw = 0;
        for (unsigned i = 0; i < WINDOW_S; i++) {
            sr += b->r[i];
            sw += b->w[i];
        }
        uint64_t rate = (sr < sw ? sr : sw) / WINDOW_S;
        if (rate > b->hour_max[b->hour]) b->hour_max[b->hour] = rate;
    }
    if (++b->seconds_in_hour == 3600) {
        b->seconds_in_hour = 0;
        b->hour = (b->hour + 1) % HOURS_KEPT;
        b->hour_max[b->hour] = 0;
    }
}

om_relay_bw_t *om_relay_bw_new(struct event_base *base, uint64_t rate, uint64_t burst)
{
    om_relay_bw_t *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    struct timeval tick = {0, TICK_MS * 1000};
    size_t per_tick = (size_t)(rate / (1000 / TICK_MS));
    if (per_tick == 0) per_tick = 1;
    size_t bucket = (size_t)(burst > per_tick ? burst : per_tick);
    b->cfg = ev_token_bucket_cfg_new(per_tick, bucket, per_tick, bucket, &tick);
    b->group = b->cfg ? bufferevent_rate_limit_group_new(base, b->cfg) : NULL;
    b->timer = event_new(base, -1, EV_PERSIST, tick_cb, b);
    struct timeval one = {1, 0};
    if (!b->group || !b->timer || event_add(b->timer, &one) < 0) {
        om_relay_bw_free(b);
        return NULL;
    }
    return b;
}

void om_relay_bw_free(om_relay_bw_t *b)
{
    if (!b) return;
    if (b->timer) event_free(b->timer);
    /* libevent requires an empty group here: the owner frees its links first, and a TLS
     * transport leaves the group as soon as it is freed (transport_tls.c). */
    if (b->group) bufferevent_rate_limit_group_free(b->group);
    if (b->cfg) ev_token_bucket_cfg_free(b->cfg);
    free(b);
}

struct bufferevent_rate_limit_group *om_relay_bw_group(om_relay_bw_t *b)
{
    return b->group;
}

uint64_t om_relay_bw_observed(const om_relay_bw_t *b)
{
    uint64_t m = 0;
    for (unsigned i = 0; i < HOURS_KEPT; i++)
        if (b->hour_max[i] > m) m = b->hour_max[i];
    return m;
}

void om_relay_bw_totals(const om_relay_bw_t *b, uint64_t *read, uint64_t *written)
{
    ev_uint64_t rd = 0, wr = 0;
    bufferevent_rate_limit_group_get_totals(b->group, &rd, &wr);
    *read = rd;
    *written = wr;
    if (b->extra) {
        uint64_t xr = 0, xw = 0;
        b->extra(b->extra_arg, &xr, &xw);
        *read += xr;
        *written += xw;
    }
}

void om_relay_bw_set_extra(om_relay_bw_t *b, om_relay_bw_extra_fn fn, void *arg)
{
    b->extra = fn;
    b->extra_arg = arg;
}

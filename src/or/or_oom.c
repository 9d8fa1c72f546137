/* or_oom.c — MaxMemInQueues over every source of memory a peer controls (see or_oom.h). tor
 * kills circuits and directory/edge connections by the age of their oldest queued data; here each
 * source frees its own worst item (the circuit whose oldest queued cell waited longest, the link
 * holding the most bytes, the directory stream with the most bytes pending), the largest source
 * first. */
#include "or/or_oom.h"

#include <stdbool.h>
#include <stdlib.h>

#include <event2/event.h>

#include "core/log.h"

struct om_or_oom {
    uint64_t max;
    om_or_mem_source_t src[OM_OR_OOM_SOURCES_MAX];
    size_t held[OM_OR_OOM_SOURCES_MAX]; /* at the last check */
    unsigned n;
    struct event *timer, *soon;
    om_or_oom_stats_t st;
};

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    om_or_oom_check(arg);
}

om_or_oom_t *om_or_oom_new(struct event_base *base, uint64_t max_bytes)
{
    om_or_oom_t *o = calloc(1, sizeof *o);
    if (!o) return NULL;
    o->max = max_bytes;
    if (!base) return o;
    o->timer = event_new(base, -1, EV_PERSIST, timer_cb, o);
    o->soon = event_new(base, -1, 0, timer_cb, o);
    struct timeval tv = {0, OM_OR_OOM_CHECK_MS * 1000};
    if (!o->timer || !o->soon || event_add(o->timer, &tv) < 0) {
        om_or_oom_free(o);
        return NULL;
    }
    return o;
}

void om_or_oom_free(om_or_oom_t *o)
{
    if (!o) return;
    if (o->timer) event_free(o->timer);
    if (o->soon) event_free(o->soon);
    free(o);
}

int om_or_oom_add(om_or_oom_t *o, const om_or_mem_source_t *src)
{
    if (o->n >= OM_OR_OOM_SOURCES_MAX) return -1;
    o->src[o->n++] = *src;
    return 0;
}

static size_t measure(om_or_oom_t *o)
{
    size_t total = 0;
    for (unsigned i = 0; i < o->n; i++)
        total += o->held[i] = o->src[i].bytes(o->src[i].arg);
    if (total > o->st.peak_total) o->st.peak_total = total;
    return total;
}

/* The largest source not yet found empty-handed. */
static int pick(const om_or_oom_t *o, const bool *spent)
{
    int best = -1;
    for (unsigned i = 0; i < o->n; i++)
        if (!spent[i] && o->held[i] && (best < 0 || o->held[i] > o->held[best])) best = (int)i;
    return best;
}

static size_t sched_bytes(void *arg)
{
    return om_or_sched_queued_bytes(arg);
}

static size_t sched_reclaim(void *arg)
{
    return om_or_sched_kill_oldest(arg);
}

int om_or_oom_add_sched(om_or_oom_t *o, om_or_sched_t *s)
{
    om_or_mem_source_t src = {
        .name = "cells", .bytes = sched_bytes, .reclaim = sched_reclaim, .arg = s};
    if (o->n != 0 || om_or_oom_add(o, &src) < 0) return -1; /* om_or_oom_other: first */
    om_or_sched_set_budget(s, om_or_oom_other, om_or_oom_over, o);
    return 0;
}

static size_t links_bytes(void *arg)
{
    return om_linkmgr_buffered(arg);
}

static size_t links_reclaim(void *arg)
{
    return om_linkmgr_close_fattest(arg);
}

int om_or_oom_add_links(om_or_oom_t *o, om_linkmgr_t *m)
{
    om_or_mem_source_t src = {
        .name = "links", .bytes = links_bytes, .reclaim = links_reclaim, .arg = m};
    return om_or_oom_add(o, &src);
}

size_t om_or_oom_check(om_or_oom_t *o)
{
    o->st.checks++;
    size_t total = measure(o);
    if (total <= o->max) return 0;
    o->st.over++;
    om_notice("Out of memory for queues: %zu bytes held (MaxMemInQueues %llu); freeing the "
              "worst items until under 90%% of it",
              total, (unsigned long long)o->max);
    bool spent[OM_OR_OOM_SOURCES_MAX] = {false};
    size_t freed = 0, target = (size_t)(o->max / 10 * 9);
    while (total > target) {
        int i = pick(o, spent);
        if (i < 0) break;
        size_t n = o->src[i].reclaim(o->src[i].arg);
        if (!n) {
            spent[i] = true;
            continue;
        }
        o->st.reclaimed_items++;
        o->st.reclaimed_bytes += n;
        freed += n;
        total = measure(o);
    }
    return freed;
}

void om_or_oom_request(om_or_oom_t *o)
{
    if (o->soon) event_active(o->soon, EV_TIMEOUT, 1); /* no-op while already active */
}

size_t om_or_oom_total(om_or_oom_t *o)
{
    size_t t = 0;
    for (unsigned i = 0; i < o->n; i++)
        t += o->held[i];
    return t;
}

size_t om_or_oom_other(void *arg)
{
    om_or_oom_t *o = arg;
    size_t t = 0;
    for (unsigned i = 1; i < o->n; i++)
        t += o->held[i];
    return t;
}

void om_or_oom_over(void *arg)
{
    om_or_oom_request(arg);
}

void om_or_oom_stats(const om_or_oom_t *o, om_or_oom_stats_t *out)
{
    *out = o->st;
}

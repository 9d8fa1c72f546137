/* chanmgr.c — one channel per relay identity for the OP (tor-spec 5.3.1 canonical connections,
 * client side): opening, sharing, waiters, and forgetting closed channels. */
#include "op/chanmgr.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/log.h"

typedef struct waiter {
    struct waiter *next;
    om_chanmgr_cb cb;
    void *arg;
    struct entry *e;
} waiter_t;

typedef struct entry {
    struct entry *next;
    om_chanmgr_t *m;
    uint8_t rsa_fp[20];
    om_channel_t *chan;
    bool open;
    waiter_t *waiters;
} entry_t;

struct om_chanmgr {
    struct event_base *base;
    entry_t *entries;
    unsigned count;
};

om_chanmgr_t *om_chanmgr_new(struct event_base *base)
{
    om_chanmgr_t *m = calloc(1, sizeof *m);
    if (m) m->base = base;
    return m;
}

static void entry_unlink(om_chanmgr_t *m, entry_t *e)
{
    for (entry_t **pp = &m->entries; *pp; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            m->count--;
            return;
        }
}

static void fire_waiters(entry_t *e, om_channel_t *chan, const char *err)
{
    waiter_t *w = e->waiters;
    e->waiters = NULL;
    while (w) {
        waiter_t *next = w->next;
        w->cb(chan, err, w->arg);
        free(w);
        w = next;
    }
}

static void on_open(om_channel_t *chan, void *arg)
{
    entry_t *e = arg;
    e->open = true;
    fire_waiters(e, chan, NULL);
}

static void on_close(om_channel_t *chan, const char *reason, void *arg)
{
    entry_t *e = arg;
    (void)chan;
    entry_unlink(e->m, e);
    fire_waiters(e, NULL, reason);
    free(e);
}

void *om_chanmgr_get(om_chanmgr_t *m, const char *host, uint16_t port, const uint8_t rsa_fp[20],
                     const uint8_t *ed_id, om_chanmgr_cb cb, void *arg)
{
    entry_t *e;
    for (e = m->entries; e; e = e->next)
        if (!memcmp(e->rsa_fp, rsa_fp, 20) && !e->chan->closing) break;
    if (e && e->open) {
        cb(e->chan, NULL, arg);
        return NULL;
    }
    if (!e) {
        e = calloc(1, sizeof *e);
        if (!e) {
            cb(NULL, "out of memory", arg);
            return NULL;
        }
        e->m = m;
        memcpy(e->rsa_fp, rsa_fp, 20);
        om_chan_callbacks_t ccb = {.on_open = on_open, .on_close = on_close, .arg = e};
        e->chan = om_channel_connect(m->base, host, port, rsa_fp, ed_id, &ccb);
        if (!e->chan) {
            free(e);
            cb(NULL, "could not start a connection", arg);
            return NULL;
        }
        e->next = m->entries;
        m->entries = e;
        m->count++;
    }
    waiter_t *w = calloc(1, sizeof *w);
    if (!w) {
        cb(NULL, "out of memory", arg);
        return NULL;
    }
    w->cb = cb;
    w->arg = arg;
    w->e = e;
    w->next = e->waiters;
    e->waiters = w;
    return w;
}

void om_chanmgr_cancel(om_chanmgr_t *m, void *handle)
{
    if (!handle) return;
    for (entry_t *e = m->entries; e; e = e->next)
        for (waiter_t **pp = &e->waiters; *pp; pp = &(*pp)->next)
            if (*pp == handle) {
                waiter_t *w = *pp;
                *pp = w->next;
                free(w);
                return;
            }
}

unsigned om_chanmgr_count(const om_chanmgr_t *m)
{
    return m->count;
}

void om_chanmgr_free(om_chanmgr_t *m)
{
    if (!m) return;
    while (m->entries) {
        entry_t *e = m->entries;
        m->entries = e->next;
        waiter_t *w = e->waiters;
        while (w) {
            waiter_t *n = w->next;
            free(w);
            w = n;
        }
        e->waiters = NULL;
        e->chan->cb.on_close = NULL;
        e->chan->cb.on_open = NULL;
        om_channel_free(e->chan);
        free(e);
    }
    free(m);
}

/* or_links.c — the relay's set of links: inbound (ORPort, responder) and outbound (EXTEND2,
 * initiator), one canonical outbound link per peer identity with waiters, and a single close
 * notification to the owner for each link. */
#include "or/or_links.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"

typedef struct waiter {
    struct waiter *next;
    om_or_links_cb cb;
    void *arg;
} waiter_t;

typedef struct link {
    struct link *next;
    om_or_links_t *l;
    om_channel_t *chan;
    bool inbound;
    bool open;
    bool has_id; /* outbound: the identity we asked for (proved by CERTS before open) */
    uint8_t rsa_fp[20];
    waiter_t *waiters;
} link_t;

struct om_or_links {
    struct event_base *base;
    const om_identity_t *identity;
    unsigned max_links;
    om_or_links_owner_t owner;
    link_t *links;
    unsigned count, inbound;
    struct bufferevent_rate_limit_group *rl;
};

void om_or_links_set_rate_limit_group(om_or_links_t *l, struct bufferevent_rate_limit_group *g)
{
    l->rl = g;
}

static void apply_rate_limit(om_or_links_t *l, om_transport_t *t)
{
    if (l->rl && t->ops->set_rate_limit_group && t->ops->set_rate_limit_group(t, l->rl) < 0)
        om_warn("Could not put the link %s under the bandwidth limit", t->peer);
}

om_or_links_t *om_or_links_new(struct event_base *base, const om_identity_t *identity,
                               unsigned max_links, const om_or_links_owner_t *owner)
{
    om_or_links_t *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->base = base;
    l->identity = identity;
    l->max_links = max_links;
    if (owner) l->owner = *owner;
    return l;
}

static void link_unlink(om_or_links_t *l, link_t *k)
{
    for (link_t **pp = &l->links; *pp; pp = &(*pp)->next)
        if (*pp == k) {
            *pp = k->next;
            l->count--;
            if (k->inbound) l->inbound--;
            return;
        }
}

static void fire_waiters(link_t *k, om_channel_t *chan, const char *err)
{
    waiter_t *w = k->waiters;
    k->waiters = NULL;
    while (w) {
        waiter_t *next = w->next;
        w->cb(chan, err, w->arg);
        free(w);
        w = next;
    }
}

static void on_open(om_channel_t *chan, void *arg)
{
    link_t *k = arg;
    k->open = true;
    if (k->inbound && chan->peer_authenticated) {
        /* A relay that proved its identity with AUTHENTICATE: its link is as good as one we
         * open to it, so circuits we extend to that relay reuse it (tor-spec 5.3.1). */
        k->has_id = true;
        memcpy(k->rsa_fp, chan->peer.rsa_fp, 20);
    }
    fire_waiters(k, chan, NULL);
}

static void on_close(om_channel_t *chan, const char *reason, void *arg)
{
    link_t *k = arg;
    om_or_links_t *l = k->l;
    om_info("Link %s %s closed: %s", k->inbound ? "from" : "to", chan->peer_desc, reason);
    link_unlink(l, k);
    fire_waiters(k, NULL, reason);
    if (k->open && l->owner.on_link_closed) l->owner.on_link_closed(chan, reason, l->owner.arg);
    free(k);
}

static void on_unclaimed(om_channel_t *chan, const om_cell_t *cell, void *arg)
{
    link_t *k = arg;
    if (k->l->owner.on_unclaimed_cell) k->l->owner.on_unclaimed_cell(chan, cell, k->l->owner.arg);
}

void om_or_links_accept(om_or_links_t *l, om_transport_t *t)
{
    if (l->count >= l->max_links) {
        om_notice("Refusing a link from %s: already %u links (the limit)", t->peer, l->count);
        t->ops->free(t);
        return;
    }
    link_t *k = calloc(1, sizeof *k);
    if (!k) {
        t->ops->free(t);
        return;
    }
    k->l = l;
    k->inbound = true;
    apply_rate_limit(l, t);
    om_chan_callbacks_t cb = {
        .on_open = on_open, .on_close = on_close, .on_unclaimed_cell = on_unclaimed, .arg = k};
    k->chan = om_channel_new_responder(l->base, t, l->identity, &cb);
    if (!k->chan) {
        t->ops->free(t);
        free(k);
        return;
    }
    k->next = l->links;
    l->links = k;
    l->count++;
    l->inbound++;
}

void *om_or_links_get(om_or_links_t *l, const char *host, uint16_t port, const uint8_t rsa_fp[20],
                      const uint8_t *ed_id, om_or_links_cb cb, void *arg)
{
    link_t *k;
    for (k = l->links; k; k = k->next)
        if (k->has_id && !memcmp(k->rsa_fp, rsa_fp, 20) && !k->chan->closing) break;
    if (k && k->open) {
        cb(k->chan, NULL, arg);
        return NULL;
    }
    if (!k) {
        if (l->count >= l->max_links) {
            cb(NULL, "too many links open", arg);
            return NULL;
        }
        k = calloc(1, sizeof *k);
        if (!k) {
            cb(NULL, "out of memory", arg);
            return NULL;
        }
        k->l = l;
        k->has_id = true;
        memcpy(k->rsa_fp, rsa_fp, 20);
        om_chan_callbacks_t ccb = {
            .on_open = on_open, .on_close = on_close, .on_unclaimed_cell = on_unclaimed, .arg = k};
        /* As a relay we authenticate (tor-spec 4.4, Ed25519-SHA256-RFC5705): tor relays serve
         * exit streams only to circuits whose previous hop proved it is a relay. */
        k->chan = om_channel_connect_auth(l->base, host, port, rsa_fp, ed_id, l->identity, &ccb);
        if (!k->chan) {
            free(k);
            cb(NULL, "could not start a connection", arg);
            return NULL;
        }
        apply_rate_limit(l, k->chan->transport);
        k->next = l->links;
        l->links = k;
        l->count++;
    }
    waiter_t *w = calloc(1, sizeof *w);
    if (!w) {
        cb(NULL, "out of memory", arg);
        return NULL;
    }
    w->cb = cb;
    w->arg = arg;
    w->next = k->waiters;
    k->waiters = w;
    return w;
}

void om_or_links_cancel(om_or_links_t *l, void *handle)
{
    if (!handle) return;
    for (link_t *k = l->links; k; k = k->next)
        for (waiter_t **pp = &k->waiters; *pp; pp = &(*pp)->next)
            if (*pp == handle) {
                waiter_t *w = *pp;
                *pp = w->next;
                free(w);
                return;
            }
}

unsigned om_or_links_count(const om_or_links_t *l)
{
    return l->count;
}

unsigned om_or_links_count_inbound(const om_or_links_t *l)
{
    return l->inbound;
}

void om_or_links_free(om_or_links_t *l)
{
    if (!l) return;
    while (l->links) {
        link_t *k = l->links;
        l->links = k->next;
        waiter_t *w = k->waiters;
        while (w) {
            waiter_t *n = w->next;
            free(w);
            w = n;
        }
        k->chan->cb.on_close = NULL;
        k->chan->cb.on_open = NULL;
        om_channel_free(k->chan);
        free(k);
    }
    free(l);
}

/* linkmgr.c — the link manager (see linkmgr.h): links by peer identity with waiters, the
 * canonical-link rule for reusing inbound links, limits, the transport factory, the bandwidth
 * group, and a single close notification to the owner for each open link. */
#include "core/linkmgr.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/channel_int.h"
#include "core/log.h"

#define DEFAULT_MAX_LINKS 4096

typedef struct waiter {
    struct waiter *next;
    om_linkmgr_cb cb;
    void *arg;
} waiter_t;

typedef struct link {
    struct link *next;
    om_linkmgr_t *m;
    om_channel_t *chan;
    bool inbound;
    bool open;
    bool tracked; /* the accept filter wants to hear when it ends */
    bool has_id;  /* the peer identity is known: asked for (outbound) or proved (inbound) */
    uint8_t rsa_fp[20];
    char addr[48]; /* the peer's IP address without the port (canonical-link rule) */
    waiter_t *waiters;
} link_t;

struct om_linkmgr {
    struct event_base *base;
    om_linkmgr_opts_t o;
    om_linkmgr_owner_t owner;
    link_t *links;
    unsigned count, inbound;
    unsigned half_open; /* inbound links not open yet */
    struct bufferevent_rate_limit_group *rl;
    time_t refused_logged; /* the last notice about refused links (at most one a minute) */
    unsigned refused;      /* refused since that notice */
};

static om_transport_t *tls_connect(void *arg, struct event_base *base, const char *host,
                                   uint16_t port)
{
    (void)arg;
    return om_tls_connect(base, host, port);
}

const om_transport_factory_t om_linkmgr_tls_factory = {.name = "tls", .connect = tls_connect};

static om_transport_t *tls_connect_nagle(void *arg, struct event_base *base, const char *host,
                                         uint16_t port)
{
    (void)arg;
    return om_tls_connect_nagle(base, host, port);
}

const om_transport_factory_t om_linkmgr_tls_client_factory = {.name = "tls",
                                                              .connect = tls_connect_nagle};

om_linkmgr_t *om_linkmgr_new(struct event_base *base, const om_linkmgr_opts_t *opts,
                             const om_linkmgr_owner_t *owner)
{
    om_linkmgr_t *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->base = base;
    if (opts) m->o = *opts;
    if (!m->o.max_links) m->o.max_links = DEFAULT_MAX_LINKS;
    if (!m->o.max_half_open) m->o.max_half_open = OM_LINKMGR_MAX_HALF_OPEN;
    if (!m->o.factory)
        m->o.factory = m->o.identity ? &om_linkmgr_tls_factory : &om_linkmgr_tls_client_factory;
    if (owner) m->owner = *owner;
    return m;
}

void om_linkmgr_set_rate_limit_group(om_linkmgr_t *m, struct bufferevent_rate_limit_group *g)
{
    m->rl = g;
}

static void apply_rate_limit(om_linkmgr_t *m, om_transport_t *t)
{
    if (m->rl && t->ops->set_rate_limit_group && t->ops->set_rate_limit_group(t, m->rl) < 0)
        om_warn("Could not put the link %s under the bandwidth limit", om_safe_str(t->peer));
}

/* A closing link leaves the group at once: the channel and its transport are freed later (on the
 * next loop turn, or never if the loop has stopped), and the group's owner may free it first. */
static void leave_rate_limit(om_linkmgr_t *m, om_channel_t *chan)
{
    om_transport_t *t = chan->transport;
    if (m->rl && t && t->ops->set_rate_limit_group) t->ops->set_rate_limit_group(t, NULL);
}

/* "1.2.3.4:9001" / "[::1]:9001" -> "1.2.3.4" / "::1". */
static void addr_of(const char *peer, char *out, size_t outsz)
{
    const char *b = peer, *e;
    if (*b == '[') {
        b++;
        e = strchr(b, ']');
    } else {
        e = strrchr(b, ':');
    }
    size_t n = e ? (size_t)(e - b) : strlen(b);
    if (n >= outsz) n = outsz - 1;
    memcpy(out, b, n);
    out[n] = 0;
}

static void link_unlink(om_linkmgr_t *m, link_t *k)
{
    for (link_t **pp = &m->links; *pp; pp = &(*pp)->next)
        if (*pp == k) {
            *pp = k->next;
            m->count--;
            if (k->inbound) m->inbound--;
            if (k->inbound && !k->open) m->half_open--;
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
    if (k->inbound && !k->open) k->m->half_open--;
    k->open = true;
    if (k->inbound && chan->peer_authenticated) {
        /* A relay that proved its identity with AUTHENTICATE: its link is as good as one we
         * open to it, for targets at the address it connected from (tor-spec 5.3.1). */
        k->has_id = true;
        memcpy(k->rsa_fp, chan->peer.rsa_fp, 20);
    }
    fire_waiters(k, chan, NULL);
}

static void on_close(om_channel_t *chan, const char *reason, void *arg)
{
    link_t *k = arg;
    om_linkmgr_t *m = k->m;
    om_info("Link %s %s closed: %s", k->inbound ? "from" : "to", om_safe_str(chan->peer_desc),
            reason);
    link_unlink(m, k);
    leave_rate_limit(m, chan);
    if (k->tracked) m->o.accept_filter.closed(m->o.accept_filter.arg, chan->peer_desc);
    fire_waiters(k, NULL, reason);
    if (k->open && m->owner.on_link_closed) m->owner.on_link_closed(chan, reason, m->owner.arg);
    free(k);
}

static void on_unclaimed(om_channel_t *chan, const om_cell_t *cell, void *arg)
{
    link_t *k = arg;
    if (k->m->owner.on_unclaimed_cell) k->m->owner.on_unclaimed_cell(chan, cell, k->m->owner.arg);
}

static link_t *link_new(om_linkmgr_t *m, bool inbound)
{
    link_t *k = calloc(1, sizeof *k);
    if (!k) return NULL;
    k->m = m;
    k->inbound = inbound;
    return k;
}

static void link_add(om_linkmgr_t *m, link_t *k)
{
    k->next = m->links;
    m->links = k;
    m->count++;
    if (k->inbound) m->inbound++;
    if (k->inbound && !k->open) m->half_open++;
}

void om_linkmgr_accept(om_linkmgr_t *m, om_transport_t *t)
{
    if (!m->o.identity) {
        t->ops->free(t);
        return;
    }
    if (m->count >= m->o.max_links || m->half_open >= m->o.max_half_open) {
        /* One notice a minute, with a count: a flood of refusals must not flood the log. */
        time_t now = time(NULL);
        m->refused++;
        if (now - m->refused_logged >= 60) {
            om_notice("Refusing links: already %u links (limit %u) or %u in their handshake "
                      "(limit %u); %u refused in the last minute, the latest from %s",
                      m->count, m->o.max_links, m->half_open, m->o.max_half_open, m->refused,
                      om_safe_str(t->peer));
            m->refused_logged = now;
            m->refused = 0;
        }
        t->ops->free(t);
        return;
    }
    const om_linkmgr_accept_filter_t *f = &m->o.accept_filter;
    om_link_verdict_t v = f->check ? f->check(f->arg, t->peer) : OM_LINK_ACCEPT;
    if (v == OM_LINK_REFUSE) {
        t->ops->free(t);
        return;
    }
    link_t *k = link_new(m, true);
    if (!k) {
        if (v == OM_LINK_ACCEPT_TRACKED && f->closed) f->closed(f->arg, t->peer);
        t->ops->free(t);
        return;
    }
    k->tracked = v == OM_LINK_ACCEPT_TRACKED && f->closed;
    addr_of(t->peer, k->addr, sizeof k->addr);
    apply_rate_limit(m, t);
    om_chan_callbacks_t cb = {
        .on_open = on_open, .on_close = on_close, .on_unclaimed_cell = on_unclaimed, .arg = k};
    k->chan = om_channel_new_responder(m->base, t, m->o.identity, &cb);
    if (!k->chan) {
        if (k->tracked) f->closed(f->arg, t->peer);
        t->ops->free(t);
        free(k);
        return;
    }
    link_add(m, k);
}

/* The usable link to rsa_fp: outbound links we opened to it, or inbound links on which it
 * proved its identity from the address we would connect to (tor's channel_get_for_extend
 * skips non-canonical links whose address does not match the target). */
static link_t *find_link(om_linkmgr_t *m, const char *host, const uint8_t rsa_fp[20])
{
    for (link_t *k = m->links; k; k = k->next) {
        if (!k->has_id || memcmp(k->rsa_fp, rsa_fp, 20) != 0 || k->chan->closing) continue;
        if (k->inbound && strcmp(k->addr, host) != 0) continue;
        return k;
    }
    return NULL;
}

/* Start an outbound link through factory; NULL with *err on failure. */
static link_t *connect_link(om_linkmgr_t *m, const om_transport_factory_t *factory,
                            const char *host, uint16_t port, const uint8_t rsa_fp[20],
                            const uint8_t *ed_id, const char **err)
{
    if (m->count >= m->o.max_links) {
        *err = "too many links open";
        return NULL;
    }
    link_t *k = link_new(m, false);
    om_transport_t *t = k ? factory->connect(factory->arg, m->base, host, port) : NULL;
    if (!t) {
        free(k);
        *err = k ? "could not start a connection" : "out of memory";
        return NULL;
    }
    k->has_id = true;
    memcpy(k->rsa_fp, rsa_fp, 20);
    addr_of(t->peer, k->addr, sizeof k->addr);
    om_chan_callbacks_t ccb = {
        .on_open = on_open, .on_close = on_close, .on_unclaimed_cell = on_unclaimed, .arg = k};
    /* As a relay we authenticate (tor-spec 4.4, Ed25519-SHA256-RFC5705): tor relays serve exit
     * streams only to circuits whose previous hop proved it is a relay. A client does not, and
     * neither does anyone over a transport without TLS (a WebSocket bridge: no exporter). */
    k->chan = om_channel_new_initiator_auth(m->base, t, rsa_fp, ed_id,
                                            t->ops->unbound ? NULL : m->o.identity, &ccb);
    if (!k->chan) {
        t->ops->free(t);
        free(k);
        *err = "out of memory";
        return NULL;
    }
    apply_rate_limit(m, t);
    link_add(m, k);
    return k;
}

void *om_linkmgr_get_via(om_linkmgr_t *m, const om_transport_factory_t *factory, const char *host,
                         uint16_t port, const uint8_t rsa_fp[20], const uint8_t *ed_id,
                         om_linkmgr_cb cb, void *arg)
{
    link_t *k = find_link(m, host, rsa_fp);
    if (k && k->open) {
        cb(k->chan, NULL, arg);
        return NULL;
    }
    if (!k) {
        const char *err = NULL;
        k = connect_link(m, factory ? factory : m->o.factory, host, port, rsa_fp, ed_id, &err);
        if (!k) {
            cb(NULL, err, arg);
            return NULL;
        }
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

void *om_linkmgr_get(om_linkmgr_t *m, const char *host, uint16_t port, const uint8_t rsa_fp[20],
                     const uint8_t *ed_id, om_linkmgr_cb cb, void *arg)
{
    return om_linkmgr_get_via(m, NULL, host, port, rsa_fp, ed_id, cb, arg);
}

void om_linkmgr_cancel(om_linkmgr_t *m, void *handle)
{
    if (!handle) return;
    for (link_t *k = m->links; k; k = k->next)
        for (waiter_t **pp = &k->waiters; *pp; pp = &(*pp)->next)
            if (*pp == handle) {
                waiter_t *w = *pp;
                *pp = w->next;
                free(w);
                return;
            }
}

unsigned om_linkmgr_count(const om_linkmgr_t *m)
{
    return m->count;
}

unsigned om_linkmgr_count_inbound(const om_linkmgr_t *m)
{
    return m->inbound;
}

unsigned om_linkmgr_count_open(const om_linkmgr_t *m)
{
    unsigned n = 0;
    for (const link_t *k = m->links; k; k = k->next)
        n += k->open && !k->chan->closing;
    return n;
}

unsigned om_linkmgr_count_half_open(const om_linkmgr_t *m)
{
    return m->half_open;
}

size_t om_linkmgr_buffered(const om_linkmgr_t *m)
{
    size_t n = 0;
    for (const link_t *k = m->links; k; k = k->next)
        n += om_channel_buffered(k->chan);
    return n;
}

size_t om_linkmgr_close_fattest(om_linkmgr_t *m)
{
    link_t *worst = NULL;
    size_t most = 0;
    for (link_t *k = m->links; k; k = k->next) {
        size_t n = k->chan->closing ? 0 : om_channel_buffered(k->chan);
        if (n > most) {
            most = n;
            worst = k;
        }
    }
    if (!worst) return 0;
    om_notice("Out of memory for queues: closing the link %s %s, which holds %zu bytes",
              worst->inbound ? "from" : "to", om_safe_str(worst->chan->peer_desc), most);
    om_channel_close_discard(worst->chan, "out of memory for queues (MaxMemInQueues)");
    return most;
}

void om_linkmgr_free(om_linkmgr_t *m)
{
    if (!m) return;
    while (m->links) {
        link_t *k = m->links;
        m->links = k->next;
        waiter_t *w = k->waiters;
        while (w) {
            waiter_t *n = w->next;
            free(w);
            w = n;
        }
        om_channel_detach(k->chan);
        leave_rate_limit(m, k->chan);
        om_channel_free(k->chan);
        free(k);
    }
    free(m);
}

/* mem_link.c — the unit tests' in-memory link (see mem_link.h): a transport whose output leaves
 * only when the test takes it, under a real channel set open by hand. */
#include "mem_link.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "core/channel_int.h"

#define LINK_PROTO 5
#define WIRE       OM_CELL_LEN_WIDE

struct mem_transport {
    om_transport_t base;
    struct evbuffer *out, *in;
};

static struct evbuffer *mem_output(om_transport_t *t)
{
    return ((mem_transport_t *)t)->out;
}

static void mem_free(om_transport_t *t)
{
    mem_transport_t *m = (mem_transport_t *)t;
    if (m->out) evbuffer_free(m->out);
    if (m->in) evbuffer_free(m->in);
    free(m);
}

static const struct om_transport_ops mem_ops = {
    .name = "memory", .output = mem_output, .free = mem_free};

bool om_mem_link_open(om_mem_link_t *l, struct event_base *base, om_chan_role_t role,
                      const om_chan_callbacks_t *cb)
{
    memset(l, 0, sizeof *l);
    l->low_water = SIZE_MAX;
    l->own_base = !base;
    l->base = base ? base : event_base_new();
    l->t = calloc(1, sizeof *l->t);
    if (!l->base || !l->t) return false;
    l->t->base.ops = &mem_ops;
    snprintf(l->t->base.peer, sizeof l->t->base.peer, "memory");
    l->t->out = evbuffer_new();
    l->t->in = evbuffer_new();
    if (!l->t->out || !l->t->in) return false;
    l->chan = om_channel_new_initiator(l->base, &l->t->base, NULL, NULL, cb);
    if (!l->chan) return false;
    /* What the skipped handshake would have settled. */
    l->chan->role = role;
    l->chan->state = OM_CHAN_OPEN;
    l->chan->link_proto = LINK_PROTO;
    return true;
}

void om_mem_link_close(om_mem_link_t *l)
{
    if (l->chan)
        om_channel_free(l->chan); /* frees the transport */
    else if (l->t)
        mem_free(&l->t->base);
    if (l->base) {
        event_base_loop(l->base, EVLOOP_NONBLOCK); /* the channel's deferred free */
        if (l->own_base) event_base_free(l->base);
    }
    memset(l, 0, sizeof *l);
}

size_t om_mem_link_queued(om_mem_link_t *l)
{
    return evbuffer_get_length(l->t->out) / WIRE;
}

int om_mem_link_take(om_mem_link_t *l, om_cell_t *c)
{
    uint8_t wire[WIRE];
    if (evbuffer_get_length(l->t->out) < WIRE) return 0;
    evbuffer_remove(l->t->out, wire, WIRE);
    int r = 1;
    if (om_cell_unpack(c, LINK_PROTO, wire, WIRE) < 0) {
        memset(c, 0, sizeof *c);
        r = -1;
    }
    if (l->t->base.drain_cb && evbuffer_get_length(l->t->out) <= l->low_water)
        l->t->base.drain_cb(&l->t->base, l->t->base.cb_arg);
    return r;
}

int om_mem_link_feed(om_mem_link_t *l, const om_cell_t *c)
{
    uint8_t wire[OM_CELL_MAX_LEN];
    int n = om_cell_pack(c, LINK_PROTO, wire);
    if (n < 0 || evbuffer_add(l->t->in, wire, (size_t)n) < 0 || !l->t->base.read_cb) return -1;
    l->t->base.read_cb(&l->t->base, l->t->in, l->t->base.cb_arg);
    return 0;
}

int om_mem_link_feed_raw(om_mem_link_t *l, const void *bytes, size_t n)
{
    if (evbuffer_add(l->t->in, bytes, n) < 0 || !l->t->base.read_cb) return -1;
    l->t->base.read_cb(&l->t->base, l->t->in, l->t->base.cb_arg);
    return 0;
}

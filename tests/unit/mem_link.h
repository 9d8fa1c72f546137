/* mem_link.h — for unit tests: an open channel (handshake skipped, link protocol 5) over an
 * in-memory transport. What the channel sends stays in memory until the test takes it off cell by
 * cell, as the peer would read it (so the link stays backlogged until then), and the test feeds
 * the channel cells as the peer would send them. */
#ifndef OM_TEST_MEM_LINK_H
#define OM_TEST_MEM_LINK_H

#include <stdbool.h>
#include <stddef.h>

#include "core/channel.h"

struct event_base;
typedef struct mem_transport mem_transport_t;

typedef struct {
    struct event_base *base; /* the channel's */
    bool own_base;           /* made by om_mem_link_open, freed by om_mem_link_close */
    mem_transport_t *t;
    om_channel_t *chan;
    size_t low_water; /* after each cell taken, the channel hears that its output drained if at
                       * most this many bytes are left (SIZE_MAX, the default: always) */
} om_mem_link_t;

/* Open a link on base (NULL: one of its own). role: our side of the link (a relay is the
 * responder on a link a client opened). cb may be NULL. False on failure (close it anyway). */
bool om_mem_link_open(om_mem_link_t *l, struct event_base *base, om_chan_role_t role,
                      const om_chan_callbacks_t *cb);
/* Free the channel (circuits still registered on it hear DESTROY) and, if its own, the base. */
void om_mem_link_close(om_mem_link_t *l);
/* Whole cells waiting in the link's output. */
size_t om_mem_link_queued(om_mem_link_t *l);
/* Take the next cell off the link's output into c, then tell the channel its output drained (see
 * low_water), as the TLS transport does. 1: a cell, 0: none waiting, -1: one that did not unpack
 * (taken; c zeroed). */
int om_mem_link_take(om_mem_link_t *l, om_cell_t *c);
/* The peer sends c: the channel reads it now (and hands it to its circuit or on_unclaimed_cell).
 * Returns 0 or -1. */
int om_mem_link_feed(om_mem_link_t *l, const om_cell_t *c);
/* The peer sends these bytes (any framing, e.g. a variable-length cell or part of one): the
 * channel reads them now. Returns 0 or -1. */
int om_mem_link_feed_raw(om_mem_link_t *l, const void *bytes, size_t n);

#endif

/* or_links.h — the relay's links (channels): links accepted on the ORPort and links it opens to
 * other relays for EXTEND2, at most one usable link per peer identity (tor-spec 5.3.1, canonical
 * connections), reused for every circuit to that peer; callers wait for a link being opened. When
 * a link closes, the owner hears about it once (so circuits on it can be torn down). */
#ifndef OM_OR_OR_LINKS_H
#define OM_OR_OR_LINKS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/channel.h"

struct bufferevent_rate_limit_group;
struct event_base;
typedef struct om_or_links om_or_links_t;

/* Called once: chan is open, or NULL with the reason it could not be opened. */
typedef void (*om_or_links_cb)(om_channel_t *chan, const char *err, void *arg);

typedef struct {
    /* A cell for a circuit ID nobody registered on chan (CREATE2, CREATE_FAST, stray cells). */
    void (*on_unclaimed_cell)(om_channel_t *chan, const om_cell_t *cell, void *arg);
    /* chan is closing (any link, inbound or outbound); circuits on it must let go of it. */
    void (*on_link_closed)(om_channel_t *chan, const char *reason, void *arg);
    void *arg;
} om_or_links_owner_t;

/* identity: ours (presented as responder; used to authenticate as initiator). Limits:
 * max_links open or opening at once (accepts beyond it are refused). */
om_or_links_t *om_or_links_new(struct event_base *base, const om_identity_t *identity,
                               unsigned max_links, const om_or_links_owner_t *owner);
void om_or_links_free(om_or_links_t *l);
/* A TLS connection accepted on the ORPort: runs the responder handshake. Takes the transport. */
void om_or_links_accept(om_or_links_t *l, om_transport_t *t);
/* An open link to the relay with identity rsa_fp (and ed_id, if given) at host:port, opening one
 * if none is open or opening. cb may run before this returns. Returns a handle for
 * om_or_links_cancel, or NULL if cb already ran. */
void *om_or_links_get(om_or_links_t *l, const char *host, uint16_t port, const uint8_t rsa_fp[20],
                      const uint8_t *ed_id, om_or_links_cb cb, void *arg);
void om_or_links_cancel(om_or_links_t *l, void *handle);
/* Every link from now on (and none before: call it first) shares these token buckets. */
void om_or_links_set_rate_limit_group(om_or_links_t *l, struct bufferevent_rate_limit_group *g);
/* Links open or opening, inbound and outbound. */
unsigned om_or_links_count(const om_or_links_t *l);
unsigned om_or_links_count_inbound(const om_or_links_t *l);

#endif

/* linkmgr.h — the one link manager, used by every role: the set of channels (links) of one
 * instance, at most one usable link per peer identity (tor-spec 5.3.1, canonical connections)
 * reused by every circuit to that peer, callers waiting for a link being opened, links accepted
 * from others (responder) when we are a relay, limits, the bandwidth group, and one close
 * notification per open link to the owner (so circuits on it can be torn down).
 *
 * Links are opened through a transport factory (TLS by default, om_linkmgr_tls_factory): a new
 * transport — the bridge's WebSocket — is another factory, and channel.c does not change. A
 * client manager (no identity) never authenticates and accepts nothing; a relay's authenticates
 * its outbound links (tor-spec 4.4) and treats an inbound link whose initiator proved a relay
 * identity as a link to that relay. */
#ifndef OM_CORE_LINKMGR_H
#define OM_CORE_LINKMGR_H

#include <stdbool.h>
#include <stdint.h>

#include "core/channel.h"

struct bufferevent_rate_limit_group;
struct event_base;

typedef struct om_linkmgr om_linkmgr_t;

/* How to reach a peer: start a transport to host:port (numeric address). NULL on immediate
 * failure; otherwise the transport reports OM_TRANSPORT_CONNECTED or an error later. */
typedef struct {
    const char *name; /* "tls", "websocket" (for logs) */
    om_transport_t *(*connect)(void *arg, struct event_base *base, const char *host, uint16_t port);
    void *arg;
} om_transport_factory_t;

/* TLS over TCP (transport_tls.c): a relay's links, with TCP_NODELAY. */
extern const om_transport_factory_t om_linkmgr_tls_factory;
/* The same for a client's links (the default without an identity), Nagle's algorithm left on as
 * tor's client leaves it. Measured (issue 11, doc/benchmarks.md): with TCP_NODELAY a tor exit's
 * Vegas saw a ~3 ms lower minimum RTT from our SENDMEs than from tor's client's at the same
 * average RTT, read the difference as queueing and held the window ~15% lower, so downloads
 * through busy relays ran at 0.7-0.8x tor's client; with Nagle on the two match. */
extern const om_transport_factory_t om_linkmgr_tls_client_factory;

/* What an accept filter decides about a new inbound connection. */
typedef enum {
    OM_LINK_REFUSE = -1,        /* close it at once */
    OM_LINK_ACCEPT = 0,         /* go on */
    OM_LINK_ACCEPT_TRACKED = 1, /* go on, and call closed() when this connection ends */
} om_link_verdict_t;

/* A role's policy over inbound connections (a relay's DoS mitigation, src/or/dos.h), asked
 * before the responder handshake starts; peer is the transport's "address:port". closed() runs
 * once for each connection accepted with OM_LINK_ACCEPT_TRACKED when it ends, whatever the stage
 * (handshake or open; not from om_linkmgr_free). */
typedef struct {
    om_link_verdict_t (*check)(void *arg, const char *peer);
    void (*closed)(void *arg, const char *peer);
    void *arg;
} om_linkmgr_accept_filter_t;

typedef struct {
    /* Our relay identity (presented as responder, used to authenticate as initiator); NULL for
     * a client. Must outlive the manager; may be updated in place (key rotation). */
    const om_identity_t *identity;
    unsigned max_links; /* open or opening at once, inbound and outbound; 0: 4096 */
    /* Inbound links whose handshake is not done yet, at once (each also times out after
     * OM_CHAN_HANDSHAKE_TIMEOUT_S); 0: OM_LINKMGR_MAX_HALF_OPEN. */
    unsigned max_half_open;
    /* How outbound links are made; NULL: om_linkmgr_tls_factory with an identity, else
     * om_linkmgr_tls_client_factory. */
    const om_transport_factory_t *factory;
    om_linkmgr_accept_filter_t accept_filter; /* check NULL: every connection (up to max_links) */
} om_linkmgr_opts_t;

typedef struct {
    /* A cell for a circuit ID nobody registered on chan (CREATE2 at a relay, stray cells). */
    void (*on_unclaimed_cell)(om_channel_t *chan, const om_cell_t *cell, void *arg);
    /* An open link is closing (inbound or outbound); circuits on it must let go of it. */
    void (*on_link_closed)(om_channel_t *chan, const char *reason, void *arg);
    void *arg;
} om_linkmgr_owner_t;

/* Called once: chan is open, or NULL with the reason it could not be opened. */
typedef void (*om_linkmgr_cb)(om_channel_t *chan, const char *err, void *arg);

om_linkmgr_t *om_linkmgr_new(struct event_base *base, const om_linkmgr_opts_t *opts,
                             const om_linkmgr_owner_t *owner);
/* Closes every link (no callbacks run). */
void om_linkmgr_free(om_linkmgr_t *m);

/* An open link to the relay with identity rsa_fp (and ed_id, if given) at host:port, opening one
 * if none is open or opening. cb may run before this returns. Returns a handle for
 * om_linkmgr_cancel, or NULL if cb already ran. */
void *om_linkmgr_get(om_linkmgr_t *m, const char *host, uint16_t port, const uint8_t rsa_fp[20],
                     const uint8_t *ed_id, om_linkmgr_cb cb, void *arg);
/* The same through another transport factory (e.g. a WebSocket bridge) for a new link. */
void *om_linkmgr_get_via(om_linkmgr_t *m, const om_transport_factory_t *factory, const char *host,
                         uint16_t port, const uint8_t rsa_fp[20], const uint8_t *ed_id,
                         om_linkmgr_cb cb, void *arg);
/* The waiter will not be called. */
void om_linkmgr_cancel(om_linkmgr_t *m, void *handle);

/* A connection accepted by a listener of any transport: runs the responder handshake (needs an
 * identity). Takes the transport (freed at once if refused). */
void om_linkmgr_accept(om_linkmgr_t *m, om_transport_t *t);

/* Every link from now on shares these token buckets (libevent rate-limit group; NULL: none). */
void om_linkmgr_set_rate_limit_group(om_linkmgr_t *m, struct bufferevent_rate_limit_group *g);

/* Links open or opening: all, and those accepted from others. */
unsigned om_linkmgr_count(const om_linkmgr_t *m);
unsigned om_linkmgr_count_inbound(const om_linkmgr_t *m);
/* Links whose handshake is done (open, not closing). */
unsigned om_linkmgr_count_open(const om_linkmgr_t *m);
/* Inbound links still in their handshake (TLS or in-protocol). */
unsigned om_linkmgr_count_half_open(const om_linkmgr_t *m);

#define OM_LINKMGR_MAX_HALF_OPEN 512

/* Bytes held in the buffers of every link (om_channel_buffered), for MaxMemInQueues. */
size_t om_linkmgr_buffered(const om_linkmgr_t *m);
/* The out-of-memory policy's last resort for links: close the link holding the most bytes in
 * its buffers, dropping what it has queued. Returns the bytes it held (0: no link holds any). */
size_t om_linkmgr_close_fattest(om_linkmgr_t *m);

#endif

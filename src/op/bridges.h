/* bridges.h — the OP's bridges (UseBridges 1): for each Bridge line, a link through its
 * transport to the bridge's address, authenticated to the pinned RSA identity (the link
 * manager checks the CERTS cell), and the bridge's own server descriptor fetched from it over
 * BEGIN_DIR ("/tor/server/authority.z", as tor's bridge clients ask, bridges.c
 * launch_direct_bridge_descriptor_fetch) to learn its ntor onion key and Ed25519 identity: a
 * bridge is not in the consensus. The first bridge whose descriptor is known is every circuit's
 * first hop (handshake ntor, CREATE2) and the directory source. */
#ifndef OM_OP_BRIDGES_H
#define OM_OP_BRIDGES_H

#include <stdbool.h>
#include <stddef.h>

#include "core/linkmgr.h"
#include "dir/consensus.h"
#include "dir/microdesc.h"
#include "op/bridge_conf.h"

struct event_base;
typedef struct om_bridges om_bridges_t;

typedef struct {
    struct event_base *base;
    om_linkmgr_t *links;
    const om_bridge_conf_t *bridges; /* copied */
    size_t n_bridges;
    const om_bridge_transport_t *transports; /* besides plain TLS; the array must outlive */
    size_t n_transports;
    /* A bridge's descriptor became known (the first time, and after each refetch). */
    void (*on_ready)(void *arg);
    void *arg;
} om_bridges_params_t;

/* Checks that every line's transport is known (else NULL with err: "no transport called X")
 * and starts fetching the descriptors on the event loop. */
om_bridges_t *om_bridges_new(const om_bridges_params_t *p, char *err, size_t errlen);
void om_bridges_free(om_bridges_t *b);

/* The bridge to use as first hop: a routerstatus (address, identity, a microdescriptor with its
 * ntor key and Ed25519 identity; not in any consensus) and the factory its links go through.
 * false while no bridge descriptor is known. */
bool om_bridges_first_hop(const om_bridges_t *b, const om_routerstatus_t **rs,
                          const om_transport_factory_t **factory);

/* For tests: the descriptor checks (parse, identity == pinned, has an ntor key) and the
 * routerstatus/microdescriptor made from it. 0, or -1 with err. */
int om_bridges_take_descriptor(const om_bridge_conf_t *conf, const char *text, size_t len,
                               om_routerstatus_t *rs, om_microdesc_t *md, char *err, size_t errlen);

#endif

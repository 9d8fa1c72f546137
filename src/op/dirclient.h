/* dirclient.h — the onion proxy's side of the directory engine (dir/dir_engine.h): it fetches
 * over BEGIN_DIR streams on one-hop CREATE_FAST circuits, keeps the DataDirectory cache files
 * (cached-certs, cached-microdesc-consensus, cached-microdescs; mode 0600), logs bootstrap
 * progress like tor, and hands each new consensus and the microdescriptors to the nodelist. It
 * sees the rest of the OP only through om_dirclient_config_t. */
#ifndef OM_OP_DIRCLIENT_H
#define OM_OP_DIRCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/channel.h"
#include "core/circuit.h"
#include "dir/dir_engine.h"
#include "op/nodelist.h"

struct event_base;
typedef struct dirclient om_dirclient_t;

/* Called once: an open channel, or NULL and why not. */
typedef void (*om_dirclient_chan_cb)(om_channel_t *chan, const char *err, void *arg);

typedef struct {
    struct event_base *base;
    const om_dirsrv_t *auths; /* the directory authorities (copied; or_port and v3ident used) */
    size_t n_auths;
    const char *data_dir; /* copied */
    om_nodelist_t *nodes; /* gets each new consensus and the microdescriptors it lists */
    /* An open channel to the relay with this RSA identity at host:port; cb may run before this
     * returns. Returns a handle for cancel_channel, or NULL if cb already ran. */
    void *(*get_channel)(void *arg, const char *host, uint16_t port, const uint8_t rsa_fp[20],
                         om_dirclient_chan_cb cb, void *cb_arg);
    void (*cancel_channel)(void *arg, void *handle);
    /* With bridges: every request goes to this first hop instead of the source the engine
     * chose (get_channel is asked for its address and identity), over a one-hop ntor circuit
     * (CREATE2, never CREATE_FAST); false: no bridge usable yet (the request fails and the
     * engine retries). NULL: fetch from the engine's sources over CREATE_FAST. */
    bool (*first_hop)(void *arg, om_hop_target_t *hop, om_dirsrv_t *src);
    /* "Bootstrapped pct% (tag): summary" (the callee logs only increasing percentages). */
    void (*progress)(void *arg, int pct, const char *tag, const char *summary);
    /* The nodelist changed; returns true once it is enough to build circuits (then directory
     * caches are used instead of the authorities). */
    bool (*dir_changed)(void *arg);
    void *arg;
} om_dirclient_config_t;

/* Loads the cache files and starts fetching on the event loop. NULL if out of memory. */
om_dirclient_t *om_dirclient_start(const om_dirclient_config_t *cfg);
void om_dirclient_free(om_dirclient_t *d);

#endif

/* reachability.h — the relay's ORPort self-test (tor's router_do_reachability_checks with
 * AssumeReachable 0): a two-hop test circuit through another relay back to our own advertised
 * address, built with the engine's origin circuits over the relay's link manager. The first hop
 * is a directory authority (CREATE_FAST: nothing but its identity needed), which must EXTEND2 to
 * our address:ORPort and complete an ntor-v3 handshake with our onion key: only then do relays
 * out there reach us, and only then does a relay publish its descriptor ("Self-testing indicates
 * your ORPort is reachable from the outside"). Retried every minute until it succeeds; a warning
 * after 20 minutes without success, as tor gives. */
#ifndef OM_OR_REACHABILITY_H
#define OM_OR_REACHABILITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/linkmgr.h"
#include "or/relay_keys.h"

struct event_base;
typedef struct om_reach om_reach_t;

typedef struct {
    struct event_base *base;
    om_linkmgr_t *links;
    const om_relay_keys_t *keys; /* our identities and current ntor key */
    const char *address;         /* our advertised IPv4 address (copied) */
    uint16_t or_port;
    const om_dir_authority_t *auths; /* first-hop candidates: those with an ORPort */
    size_t n_auths;
    /* Called once, the first time a test circuit reached us. */
    void (*on_reachable)(void *arg);
    void *arg;
} om_reach_params_t;

/* Starts testing at once. NULL if there is no authority with an ORPort to test through (the
 * caller must then say why it cannot publish) or on allocation failure. */
om_reach_t *om_reach_start(const om_reach_params_t *p);
void om_reach_free(om_reach_t *r);
bool om_reach_confirmed(const om_reach_t *r);

typedef struct {
    unsigned attempts, failures;
} om_reach_stats_t;
void om_reach_stats(const om_reach_t *r, om_reach_stats_t *out);

#endif

/* reachability.h — the relay's ORPort self-test (tor's router_do_reachability_checks with
 * AssumeReachable 0): a three-hop test circuit through two relays back to our own advertised
 * address, built with the engine's origin circuits over the relay's link manager: two relays of
 * the consensus (ntor: tor refuses CREATE_FAST from a relay, and two of them because tor refuses
 * to extend a circuit back to its previous hop), the second of which must EXTEND2 to our
 * address:ORPort so that an ntor-v3 handshake with our own onion key completes: only then do
 * relays out there reach us, and only then does a relay publish its descriptor ("Self-testing
 * indicates your ORPort is reachable from the outside"). Retried every minute until it succeeds
 * (every 5 s while no first hop is known yet); a warning after 20 minutes, as tor gives. */
#ifndef OM_OR_REACHABILITY_H
#define OM_OR_REACHABILITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/circuit.h"
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
    /* A random relay other than us and other than `exclude` (NULL: none), from the consensus
     * held; false if none is known yet. */
    bool (*pick_hop)(void *arg, const uint8_t *exclude, om_hop_target_t *out);
    /* Called once, the first time a test circuit reached us. */
    void (*on_reachable)(void *arg);
    void *arg;
} om_reach_params_t;

/* Starts testing at once. NULL on allocation failure. */
om_reach_t *om_reach_start(const om_reach_params_t *p);
void om_reach_free(om_reach_t *r);
bool om_reach_confirmed(const om_reach_t *r);

typedef struct {
    unsigned attempts, failures;
} om_reach_stats_t;
void om_reach_stats(const om_reach_t *r, om_reach_stats_t *out);

#endif

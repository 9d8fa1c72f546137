/* path.h — path selection (path-spec 2): bandwidth-weighted choice of guard, middle and exit by
 * the consensus "bandwidth-weights", flags (Guard/Exit/Fast/Stable/Running/Valid/BadExit),
 * exit-policy summaries matched to the request, no two relays of one family or one /16
 * (the /16 rule relaxed in test networks), EntryNodes/MiddleNodes/ExitNodes/ExcludeNodes. */
#ifndef OM_OP_PATH_H
#define OM_OP_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "op/guards.h"
#include "op/nodelist.h"
#include "op/nodesel.h"

typedef struct {
    om_nodeset_t entry_nodes, middle_nodes, exit_nodes, exclude_nodes;
    bool strict_nodes; /* StrictNodes: ExcludeNodes applies even when nothing else works */
    bool enforce_distinct_subnets; /* false under TestingTorNetwork */
} om_path_opts_t;

typedef struct {
    uint16_t port;     /* destination port for the exit (0: any exit, e.g. prebuilt) */
    bool need_stable;  /* long-lived streams (path-spec 2.2) */
    bool want_ntor_v3; /* prefer relays that support ntor-v3 (not required) */
    bool need_conflux; /* an exit that links conflux sets (Conflux=1, prop 329) */
    /* A fixed first hop (a bridge, UseBridges): no guard is picked, and the exit and middle
     * are unrelated to it (not itself, its family or, if enforced, its /16). NULL: a guard. */
    const om_routerstatus_t *first;
    /* A fixed last hop (a DHT node asked over the circuit, doc/dht.md "Transport"): no exit is
     * picked and no exit policy applies (the stream goes to a service of that relay); guard and
     * middle are unrelated to it. NULL: an exit for port. */
    const om_routerstatus_t *last;
} om_path_request_t;

/* Choose a 3-hop path: out[0] guard (from the guard set g, which may sample new guards),
 * out[1] middle, out[2] exit. Returns 0, or -1 with err ("no exit allows port 25"). */
int om_path_select(const om_nodelist_t *nl, om_guards_t *g, const om_path_opts_t *o,
                   const om_path_request_t *req, const om_routerstatus_t *out[3], char *err,
                   size_t errlen);

/* True if a and b may not share a path: same relay, same family (mutual family listing), or
 * (when enforce_distinct_subnets) the same IPv4 /16. */
bool om_path_related(const om_routerstatus_t *a, const om_routerstatus_t *b, bool distinct_subnets);

#endif

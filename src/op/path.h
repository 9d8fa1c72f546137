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

typedef enum { OM_POS_GUARD = 0, OM_POS_MIDDLE = 1, OM_POS_EXIT = 2 } om_position_t;

/* A node set from the configuration (EntryNodes etc.): "$HEX" fingerprints (with or without
 * "$", "~nick" / "=nick" suffixes allowed), nicknames; country codes "{xx}" are kept but never
 * match (no GeoIP). */
#define OM_NODESET_MAX 64
typedef struct {
    size_t n_fp;
    uint8_t fp[OM_NODESET_MAX][20];
    size_t n_nick;
    char nick[OM_NODESET_MAX][20];
} om_nodeset_t;
/* Parse a comma-separated list; -1 with err on a malformed entry. */
int om_nodeset_parse(om_nodeset_t *s, const char *csv, char *err, size_t errlen);
bool om_nodeset_contains(const om_nodeset_t *s, const om_routerstatus_t *rs);
bool om_nodeset_empty(const om_nodeset_t *s);

typedef struct {
    om_nodeset_t entry_nodes, middle_nodes, exit_nodes, exclude_nodes;
    bool strict_nodes; /* StrictNodes: ExcludeNodes applies even when nothing else works */
    bool enforce_distinct_subnets; /* false under TestingTorNetwork */
} om_path_opts_t;

typedef struct {
    uint16_t port;     /* destination port for the exit (0: any exit, e.g. prebuilt) */
    bool need_stable;  /* long-lived streams (path-spec 2.2) */
    bool want_ntor_v3; /* prefer relays that support ntor-v3 (not required) */
} om_path_request_t;

/* Choose a 3-hop path: out[0] guard (from the guard set g, which may sample new guards),
 * out[1] middle, out[2] exit. Returns 0, or -1 with err ("no exit allows port 25"). */
int om_path_select(const om_nodelist_t *nl, om_guards_t *g, const om_path_opts_t *o,
                   const om_path_request_t *req, const om_routerstatus_t *out[3], char *err,
                   size_t errlen);

/* One bandwidth-weighted choice for a position among routers accepted by `ok` (path-spec
 * 2.2/2.3, weights from the consensus). NULL if none. Exposed for tests. */
typedef bool (*om_node_filter_fn)(const om_routerstatus_t *rs, void *arg);
const om_routerstatus_t *om_path_choose_weighted(const om_nodelist_t *nl, om_position_t pos,
                                                 om_node_filter_fn ok, void *arg);
/* The weight (bandwidth x Wxx / 10000) of a router for a position. */
double om_path_weight(const om_consensus_t *c, const om_routerstatus_t *rs, om_position_t pos);
/* True if a and b may not share a path: same relay, same family (mutual family listing), or
 * (when enforce_distinct_subnets) the same IPv4 /16. */
bool om_path_related(const om_routerstatus_t *a, const om_routerstatus_t *b, bool distinct_subnets);

#endif

/* nodesel.h — the primitives of relay selection that path selection (path.c) and the guard
 * sample (guards.c) share: node sets from the configuration (EntryNodes, ExcludeNodes ...), the
 * positions, and the consensus's bandwidth-weighted choice (path-spec 2.2/2.3). */
#ifndef OM_OP_NODESEL_H
#define OM_OP_NODESEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* One bandwidth-weighted choice for a position among routers accepted by `ok` (path-spec
 * 2.2/2.3, weights from the consensus). NULL if none. Exposed for tests. */
typedef bool (*om_node_filter_fn)(const om_routerstatus_t *rs, void *arg);
const om_routerstatus_t *om_path_choose_weighted(const om_nodelist_t *nl, om_position_t pos,
                                                 om_node_filter_fn ok, void *arg);
/* The weight (bandwidth x Wxx / 10000) of a router for a position. */
double om_path_weight(const om_consensus_t *c, const om_routerstatus_t *rs, om_position_t pos);
#endif

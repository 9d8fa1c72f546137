/* snapshot_load.h — test helper: loads the tor 0.4.9 test-network snapshot
 * (tests/data/testnet-snapshot: consensus-microdesc + microdescs) into an om_nodelist_t. */
#ifndef OM_TEST_SNAPSHOT_LOAD_H
#define OM_TEST_SNAPSHOT_LOAD_H

#include <stdio.h>
#include <stdlib.h>

#include "op/nodelist.h"
#include "test.h"

static inline char *snap_read(const char *name, size_t *len)
{
    char rel[256];
    snprintf(rel, sizeof rel, "testnet-snapshot/%s", name);
    return om_test_read_data(rel, len);
}

/* Returns 0 and fills nl with the snapshot consensus and all its microdescriptors. */
static inline int snap_load(om_nodelist_t *nl, int with_mds)
{
    size_t len;
    char err[256];
    char *t = snap_read("consensus-microdesc", &len);
    if (!t) return -1;
    om_consensus_t *c = om_consensus_parse(t, len, err, sizeof err);
    free(t);
    if (!c) return -1;
    om_nodelist_set_consensus(nl, c);
    if (!with_mds) return 0;
    t = snap_read("microdescs", &len);
    if (!t) return -1;
    size_t n;
    om_microdesc_t *mds = om_microdesc_parse_many(t, len, &n, err, sizeof err);
    free(t);
    if (!mds) return -1;
    om_nodelist_add_mds(nl, mds, n);
    free(mds);
    return 0;
}

static inline const om_routerstatus_t *snap_find_nick(const om_nodelist_t *nl, const char *nick)
{
    for (size_t i = 0; i < nl->consensus->n_routers; i++)
        if (!strcmp(nl->consensus->routers[i].nickname, nick)) return &nl->consensus->routers[i];
    return NULL;
}

#endif

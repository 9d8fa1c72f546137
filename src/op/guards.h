/* guards.h — entry guards (guard-spec basics): a small persistent sampled set chosen by guard
 * weight among Guard-flagged relays, primary guards used in order, failures marked with a retry
 * schedule, state kept as JSON (cJSON) in DataDirectory/state.json and reloaded at start. */
#ifndef OM_OP_GUARDS_H
#define OM_OP_GUARDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "op/nodelist.h"
#include "op/nodesel.h"

#define OM_GUARDS_MAX_SAMPLED 20

typedef struct {
    uint8_t rsa_id[20];
    char nickname[20];
    time_t added;
    time_t unreachable_since; /* 0: reachable / unknown */
    time_t last_tried;
    int failures;
    bool confirmed; /* a circuit through it was built */
    bool listed;    /* in the current consensus and usable as a guard */
} om_guard_t;

typedef struct {
    om_guard_t sampled[OM_GUARDS_MAX_SAMPLED];
    size_t n_sampled;
    int n_primary;        /* NumEntryGuards, or the consensus guard-n-primary-guards-to-use */
    char state_path[512]; /* "" = not persisted */
    bool dirty;
} om_guards_t;

/* Load state from path (a missing file is an empty state). */
int om_guards_init(om_guards_t *g, const char *state_path, int n_primary);
int om_guards_save(om_guards_t *g);
/* Refresh `listed` from a new consensus; sample more guards if fewer than needed are usable. */
void om_guards_update(om_guards_t *g, const om_nodelist_t *nl, const om_nodeset_t *entry,
                      const om_nodeset_t *exclude);
/* The guard to use for the next circuit (first usable primary guard; not excluded by filter);
 * NULL if none. */
typedef bool (*om_guard_filter_fn)(const om_routerstatus_t *rs, void *arg);
const om_routerstatus_t *om_guards_pick(om_guards_t *g, const om_nodelist_t *nl,
                                        om_guard_filter_fn ok, void *arg);
/* Report the outcome of using a guard (building the first hop through it). */
void om_guards_note_success(om_guards_t *g, const uint8_t rsa_id[20]);
void om_guards_note_failure(om_guards_t *g, const uint8_t rsa_id[20]);

#endif

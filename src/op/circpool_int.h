/* circpool_int.h — what circpool.c (circuits, waiters, launches) and circpool_sets.c (conflux
 * sets) share inside the OP's circuit pool: its circuits, the pool's state and the functions one
 * calls in the other. Not for other modules: they see circpool.h. */
#ifndef OM_OP_CIRCPOOL_INT_H
#define OM_OP_CIRCPOOL_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "core/conflux.h"
#include "core/congestion.h"
#include "op/circpool.h"

struct event;

typedef struct pcirc {
    struct pcirc *next;
    om_circpool_t *pool;
    om_circuit_t *circ;
    void *chan_req;
    bool built, unusable;
    bool pinned; /* built for om_circpool_get_to: its last hop is path[2], no exit policy */
    uint16_t port_hint;
    om_hop_target_t path[3];
    char names[3][20];
    time_t launched, dirty_since;
    uint64_t last_used; /* om_now_usec() when last handed to a stream */
    bool has_isolation;
    char *isolation;
    struct event *timeout;
    /* conflux: on a primary (want_set: launched as a set, with its second leg), its set (until
     * the primary closes), the second leg while it is built, and whether streams must wait for
     * the legs to link; on a second leg, its primary. */
    om_cfx_set_t *cfx;
    struct pcirc *leg2, *primary;
    bool want_set, is_leg, cfx_wait;
} pcirc_t;

struct om_circpool {
    om_circpool_params_t o;
    bool ready; /* the directory suffices to build */
    om_circpool_stats_t st;
    pcirc_t *circs;
    struct waiter *waiters;
    struct event *tick;
    bool first_built;
    bool launched_once;
    int fails;                 /* consecutive failed builds */
    int period_fails;          /* failed builds in this NewCircuitPeriod */
    bool failed_last_period;   /* the last period ended with too many (tor's did_circs_fail_...) */
    time_t next_period;        /* when the next NewCircuitPeriod starts */
    uint64_t no_launch_before; /* om_now_usec() */
    struct event *retry;       /* runs pool_maintain when the delay is over */
    bool maintaining, again;   /* pool_maintain is running; run it once more when done */
    /* Launch prebuilt circuits and sets on the next pass: set once a second (the tick), at
     * start and after a backoff, as tor's circuit_build_needed_circs runs from its once-a-second
     * housekeeping; so a burst of new streams is not slowed by replacements built meanwhile. */
    bool prebuild_due;
};

/* circpool.c */
void om_cp_maintain(om_circpool_t *p); /* serve waiters, launch what is missing */
void om_cp_unlink(om_circpool_t *p, pcirc_t *pc);
void om_cp_free(pcirc_t *pc);
/* Congestion-control parameters for a new circuit; NULL: none asked for. */
const om_cc_params_t *om_cp_cc_params(om_circpool_t *p, om_cc_params_t *ccp);
bool om_cp_launch_allowed(om_circpool_t *p, int n);
bool om_cp_select_path(om_circpool_t *p, om_path_request_t *req, const om_routerstatus_t *hops[3],
                       const om_transport_factory_t **factory);
pcirc_t *om_cp_new(om_circpool_t *p, uint16_t port, const om_routerstatus_t *hops[3]);
void om_cp_connect(om_circpool_t *p, pcirc_t *pc, const om_transport_factory_t *factory);

/* circpool_sets.c */
bool om_cp_conflux_on(om_circpool_t *p);
int om_cp_prebuilt_sets(om_circpool_t *p);
bool om_cp_conflux_wanted(om_circpool_t *p, const pcirc_t *pc);
bool om_cp_launch_set(om_circpool_t *p);
void om_cp_set_start(om_circpool_t *p, pcirc_t *pc);
void om_cp_set_check_ready(pcirc_t *pc);
void om_cp_set_give_up(pcirc_t *pc);
void om_cp_leg2_built(pcirc_t *leg);
void om_cp_leg_drop(pcirc_t *leg, const char *why);

#endif

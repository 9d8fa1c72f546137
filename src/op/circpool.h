/* circpool.h — the OP's circuit pool: 3-hop circuits chosen by path.c through a guard from
 * guards.c and built over the link manager, kept ready before requests arrive, given build
 * timeouts and a retry backoff, replaced when torn down, and handed to streams by exit port and
 * isolation key until they are too dirty (MaxCircuitDirtiness). It sees the rest of the OP only
 * through om_circpool_params_t, so it runs (and is unit-tested) on its own. */
#ifndef OM_OP_CIRCPOOL_H
#define OM_OP_CIRCPOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/circuit.h"
#include "core/linkmgr.h"
#include "op/guards.h"
#include "op/nodelist.h"
#include "op/path.h"

struct event_base;
typedef struct om_circpool om_circpool_t;

typedef struct {
    struct event_base *base;
    om_linkmgr_t *links;        /* links to guards */
    const om_nodelist_t *nodes; /* the directory: read at every launch */
    om_guards_t *guards;
    const om_path_opts_t *path;
    int congestion_control;      /* CongestionControl: -1 auto (consensus cc_alg), 0 off, 1 on */
    int conflux;                 /* ConfluxEnabled: -1 auto (consensus cfx_enabled), 0 off, 1 on */
    int circuit_build_timeout_s; /* CircuitBuildTimeout */
    int max_circuit_dirtiness_s; /* MaxCircuitDirtiness */
    int prebuilt_circuits;       /* clean circuits kept ready */
    /* NewCircuitPeriod (0: tor's 30 s): how often too-dirty circuits are retired and the count
     * of failed builds starts again (more than 5 failures stop launches until then). */
    int new_circuit_period_s;
    /* With bridges (UseBridges): the first hop of every circuit and the transport factory its
     * link goes through; false while no bridge is usable (nothing is launched). NULL: guards. */
    bool (*first_hop)(void *arg, const om_routerstatus_t **rs,
                      const om_transport_factory_t **factory);
    /* Bootstrap progress, like tor's: 90 at the first launch, 100 at the first circuit built. */
    void (*on_progress)(void *arg, int pct, const char *tag, const char *summary);
    void *arg;
} om_circpool_params_t;

/* The pointers in p must outlive the pool. Nothing is built before om_circpool_dir_changed. */
om_circpool_t *om_circpool_new(const om_circpool_params_t *p);
void om_circpool_free(om_circpool_t *p);
/* The directory suffices to build circuits, now and whenever it changes from now on. */
void om_circpool_dir_changed(om_circpool_t *p);

/* Get an open circuit whose exit allows port (0: any) and whose isolation key matches (NULL key:
 * no isolation). cb runs once: circ, or NULL and a reason. Returns a handle for cancel, or NULL
 * if cb already ran. */
typedef void (*om_circ_wait_cb)(om_circuit_t *circ, const char *err, void *arg);
void *om_circpool_get(om_circpool_t *p, uint16_t port, const char *isolation, om_circ_wait_cb cb,
                      void *arg);
/* The same for a circuit whose last hop is the relay last_hop (RSA fingerprint): a DHT node to
 * ask over a 3-hop circuit (doc/dht.md, "Transport"). Such circuits are built on demand through
 * a guard and a middle unrelated to it, kept and reused only for this relay and isolation key,
 * never given to ordinary streams. cb gets NULL at once if the relay is not running in the
 * consensus. */
void *om_circpool_get_to(om_circpool_t *p, const uint8_t last_hop[20], const char *isolation,
                         om_circ_wait_cb cb, void *arg);
void om_circpool_cancel(om_circpool_t *p, void *handle);
/* A stream on circ failed in a way that says the circuit is bad (timeouts): stop using it. */
void om_circpool_mark_unusable(om_circpool_t *p, om_circuit_t *circ);

typedef struct {
    unsigned circuits, building, waiters;
    unsigned sets_linking, sets_ready; /* clean conflux sets: legs building or linking; ready */
    uint64_t launched, built, failed;
} om_circpool_stats_t;
void om_circpool_stats(const om_circpool_t *p, om_circpool_stats_t *out);

#endif

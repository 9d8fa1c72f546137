/* circpool.c — the OP's circuit pool (circpool.h): 3-hop paths chosen by path.c through a guard
 * from guards.c, built with ntor-v3 where the relay supports it (ntor otherwise) and congestion
 * control with the exit as the consensus says, kept ready before requests arrive, given build
 * timeouts and a retry backoff, replaced when torn down, and handed to streams by exit port and
 * isolation key (IsolateSOCKSAuth) until they are too dirty (MaxCircuitDirtiness). With
 * ConfluxEnabled, a built circuit whose exit offers Conflux=1 gets a second leg to the same exit
 * through another guard and middle, and is handed out once both legs are linked (proposal 329;
 * tor's conflux_pool.c keeps such linked sets ready the same way). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "core/circuit.h"
#include "core/conflux.h"
#include "core/crypto.h"
#include "core/log.h"
#include "op/circpool.h"

#define WAIT_TIMEOUT_S 120
#define MAX_BUILDING   4
#define MAX_CIRCUITS   64
/* After a failed build, no launch for RETRY_BASE_MS, doubling with each consecutive failure up
 * to RETRY_MAX_MS; a built circuit resets it. */
#define RETRY_BASE_MS 100
#define RETRY_MAX_MS  10000
/* tor's MAX_CIRCUIT_FAILURES: after more failed builds than this in one NewCircuitPeriod, no new
 * launch until the next period. */
#define MAX_CIRCUIT_FAILURES    5
#define DEFAULT_NEW_CIRC_PERIOD 30

typedef struct pcirc {
    struct pcirc *next;
    om_circpool_t *pool;
    om_circuit_t *circ;
    void *chan_req;
    bool built, unusable;
    uint16_t port_hint;
    om_hop_target_t path[3];
    char names[3][20];
    time_t launched, dirty_since;
    bool has_isolation;
    char *isolation;
    struct event *timeout;
    /* conflux: on a primary, its set (until the primary closes), the second leg while it is
     * built, and whether streams must wait for the legs to link; on a second leg, its primary. */
    om_cfx_set_t *cfx;
    struct pcirc *leg2, *primary;
    bool is_leg, cfx_wait;
} pcirc_t;

typedef struct waiter {
    struct waiter *next;
    uint16_t port;
    char *isolation; /* NULL: none */
    om_circ_wait_cb cb;
    void *arg;
    time_t since;
    bool *served; /* om_circpool_get's "answered before I returned" flag, while it runs */
} waiter_t;

struct om_circpool {
    om_circpool_params_t o;
    bool ready; /* the directory suffices to build */
    om_circpool_stats_t st;
    pcirc_t *circs;
    waiter_t *waiters;
    struct event *tick;
    bool first_built;
    bool launched_once;
    int fails;                 /* consecutive failed builds */
    int period_fails;          /* failed builds in this NewCircuitPeriod */
    time_t next_period;        /* when the next NewCircuitPeriod starts */
    uint64_t no_launch_before; /* om_now_usec() */
    struct event *retry;       /* runs pool_maintain when the delay is over */
};

static void pool_maintain(om_circpool_t *p);

static void progress(om_circpool_t *p, int pct, const char *tag, const char *summary)
{
    if (p->o.on_progress) p->o.on_progress(p->o.arg, pct, tag, summary);
}

/* A circuit failed to build (refused, timed out, no link to the guard). Without a delay the
 * pool would relaunch at once, and a relay refusing CREATEs (RESOURCELIMIT: too many this
 * second) or a dead hop would get a new attempt per round trip, thousands a second (seen in
 * the relay test). Tor likewise stops launching after MAX_CIRCUIT_FAILURES per NewCircuitPeriod. */
static void note_build_failure(om_circpool_t *p)
{
    p->st.failed++;
    p->period_fails++;
    if (p->fails < 30) p->fails++;
    uint64_t ms = (uint64_t)RETRY_BASE_MS << (p->fails < 8 ? p->fails - 1 : 7);
    if (ms > RETRY_MAX_MS) ms = RETRY_MAX_MS;
    p->no_launch_before = om_now_usec() + ms * 1000;
}

static void cfx_check_ready(pcirc_t *pc);

static void pcirc_free(pcirc_t *pc)
{
    pcirc_t *primary = pc->is_leg ? pc->primary : NULL;
    if (primary) primary->leg2 = NULL;
    if (pc->leg2) pc->leg2->primary = NULL;
    if (pc->timeout) event_free(pc->timeout);
    free(pc->isolation);
    free(pc);
    if (primary) cfx_check_ready(primary); /* it may go on without this leg */
}

static void pcirc_unlink(om_circpool_t *p, pcirc_t *pc)
{
    for (pcirc_t **pp = &p->circs; *pp; pp = &(*pp)->next)
        if (*pp == pc) {
            *pp = pc->next;
            return;
        }
}

static bool exit_allows(om_circpool_t *p, const pcirc_t *pc, uint16_t port)
{
    const om_consensus_t *c = p->o.nodes->consensus;
    if (!c) return false;
    const om_routerstatus_t *rs = om_consensus_find(c, pc->path[2].rsa_fp);
    if (!rs) return false;
    return port == 0 || om_node_allows_exit_port(rs, port, false);
}

static bool isolation_ok(const pcirc_t *pc, const char *iso)
{
    if (!pc->has_isolation) return true;
    if (!pc->isolation || !iso) return !pc->isolation && !iso;
    return strcmp(pc->isolation, iso) == 0;
}

static bool circ_usable_for(om_circpool_t *p, const pcirc_t *pc, uint16_t port, const char *iso)
{
    if (!pc->built || pc->unusable || !pc->circ || pc->is_leg || pc->cfx_wait) return false;
    if (pc->dirty_since && pc->dirty_since + p->o.max_circuit_dirtiness_s < time(NULL))
        return false;
    return isolation_ok(pc, iso) && exit_allows(p, pc, port);
}

/* ---------------------------------------------------------------- building */

static void target_from_rs(om_hop_target_t *t, const om_routerstatus_t *rs)
{
    memset(t, 0, sizeof *t);
    memcpy(t->rsa_fp, rs->rsa_id, 20);
    memcpy(t->ipv4, rs->ipv4, 4);
    t->or_port = rs->or_port;
    if (rs->md) {
        memcpy(t->ntor_key, rs->md->ntor_key, 32);
        if (rs->md->has_ed) {
            t->has_ed = true;
            memcpy(t->ed_id, rs->md->ed_id, 32);
        }
    }
    t->handshake_type = om_node_supports_ntor_v3(rs) && t->has_ed ? OM_HANDSHAKE_TYPE_NTOR_V3
                                                                  : OM_HANDSHAKE_TYPE_NTOR;
    t->flowctrl_cc = om_node_supports_cc(rs);
}

static int32_t cc_param(void *arg, const char *name, int32_t def, int32_t min, int32_t max)
{
    return om_consensus_param(arg, name, def, min, max);
}

/* Congestion-control parameters for a new circuit (prop 324 6.5: the consensus's cc_* values,
 * tor 0.4.9's defaults where absent); NULL: do not ask (CongestionControl 0, or auto with
 * cc_alg 0 in the consensus). */
static const om_cc_params_t *cc_params_for_build(om_circpool_t *p, om_cc_params_t *ccp)
{
    const om_consensus_t *c = p->o.nodes->consensus;
    if (p->o.congestion_control == 0) return NULL;
    om_cc_params_load(ccp, c ? cc_param : NULL, (void *)c);
    if (p->o.congestion_control == 1 && !om_cc_params_enabled(ccp))
        om_cc_params_set(ccp, "cc_alg", OM_CC_ALG_VEGAS);
    return om_cc_params_enabled(ccp) ? ccp : NULL;
}

/* ---------------------------------------------------------------- conflux (proposal 329) */

static bool launch_path(om_circpool_t *p, uint16_t port, const om_routerstatus_t *hops[3],
                        const om_transport_factory_t *factory, pcirc_t *primary);

/* Whether a built circuit should become the primary leg of a conflux set: ConfluxEnabled (auto:
 * the consensus's cfx_enabled, default 1 as tor), congestion control negotiated with the exit
 * (conflux needs it on every leg) and an exit that lists Conflux=1. */
static void pc_timeout(evutil_socket_t fd, short what, void *arg);

static bool conflux_wanted(om_circpool_t *p, const pcirc_t *pc)
{
    const om_consensus_t *c = p->o.nodes->consensus;
    if (p->o.conflux == 0 || !c || !pc->circ || !om_circuit_cc_active(pc->circ)) return false;
    if (p->o.conflux < 0 && !om_consensus_param(c, "cfx_enabled", 1, 0, 1)) return false;
    const om_routerstatus_t *rs = om_consensus_find(c, pc->path[2].rsa_fp);
    return rs && om_node_supports_conflux(rs);
}

/* Streams may use pc once every leg in its set linked and no second leg is still being built. */
static void cfx_check_ready(pcirc_t *pc)
{
    if (!pc->cfx_wait || !pc->circ || om_circuit_state(pc->circ) != OM_CIRC_OPEN) return;
    if (pc->leg2 && !pc->leg2->built) return;
    if (om_cfx_n_linked(pc->cfx) < om_cfx_n_legs(pc->cfx)) return;
    pc->cfx_wait = false;
    if (pc->timeout) evtimer_del(pc->timeout);
    om_info("Circuit %u: conflux set ready with %d linked leg%s", om_circuit_id(pc->circ),
            om_cfx_n_legs(pc->cfx), om_cfx_n_legs(pc->cfx) == 1 ? "" : "s");
    pool_maintain(pc->pool);
}

static void cfx_linked(om_cfx_set_t *set, om_circuit_t *leg, void *arg)
{
    (void)set;
    (void)leg;
    cfx_check_ready(arg);
}

/* The second leg: the same exit, another guard and middle when the path options allow. */
static void cfx_launch_leg2(om_circpool_t *p, pcirc_t *pc)
{
    om_path_opts_t o = *p->o.path;
    memset(&o.exit_nodes, 0, sizeof o.exit_nodes);
    memcpy(o.exit_nodes.fp[0], pc->path[2].rsa_fp, 20);
    o.exit_nodes.n_fp = 1;
    for (int i = 0; i < 2 && o.exclude_nodes.n_fp < OM_NODESET_MAX; i++)
        if (!(i == 0 && p->o.first_hop)) /* a bridge is the only way in: keep it */
            memcpy(o.exclude_nodes.fp[o.exclude_nodes.n_fp++], pc->path[i].rsa_fp, 20);
    o.strict_nodes = true;
    const om_routerstatus_t *hops[3];
    om_path_request_t req = {.port = pc->port_hint, .want_ntor_v3 = true};
    const om_transport_factory_t *factory = NULL;
    char err[200];
    if ((p->o.first_hop && !p->o.first_hop(p->o.arg, &req.first, &factory)) ||
        om_path_select(p->o.nodes, p->o.guards, &o, &req, hops, err, sizeof err) < 0 ||
        !launch_path(p, pc->port_hint, hops, factory, pc))
        om_info("Circuit %u: no second conflux leg to %s; one leg only", om_circuit_id(pc->circ),
                pc->names[2]);
}

static void cfx_start(om_circpool_t *p, pcirc_t *pc)
{
    pc->cfx = om_cfx_start(pc->circ, OM_CFX_UX_HIGH_THROUGHPUT, cfx_linked, pc);
    if (!pc->cfx) return;
    pc->cfx_wait = true;
    struct timeval tv = {p->o.circuit_build_timeout_s, 0};
    evtimer_add(pc->timeout, &tv); /* the legs must link in a build timeout's time */
    cfx_launch_leg2(p, pc);
}

/* A second leg was built: LINK it into its primary's set. */
static void cfx_leg2_built(pcirc_t *leg)
{
    pcirc_t *pc = leg->primary;
    if (!pc || !pc->cfx || !pc->circ || om_circuit_state(pc->circ) != OM_CIRC_OPEN ||
        om_cfx_add_leg(pc->cfx, leg->circ) < 0) {
        om_circuit_close(leg->circ, OM_DESTROY_FINISHED, "conflux leg not needed");
        return;
    }
    cfx_check_ready(pc);
}

/* Give up waiting: legs that did not link leave; with its own LINKED, the primary goes alone. */
static void cfx_give_up(pcirc_t *pc)
{
    om_info("Circuit %u: conflux legs did not link in %d s", om_circuit_id(pc->circ),
            pc->pool->o.circuit_build_timeout_s);
    pcirc_t *leg = pc->leg2;
    if (leg && leg->circ)
        om_circuit_close(leg->circ, OM_DESTROY_FINISHED, "conflux leg too slow");
    else if (leg)
        pc_timeout(-1, 0, leg); /* still waiting for its link: dropped as a timed-out build */
    if (!pc->circ) return;
    if (om_cfx_n_linked(pc->cfx) == 0) {
        om_circuit_close(pc->circ, OM_DESTROY_FINISHED, "the exit did not answer CONFLUX_LINK");
        return;
    }
    cfx_check_ready(pc);
}

static void pc_built(om_circuit_t *circ, void *arg)
{
    pcirc_t *pc = arg;
    om_circpool_t *p = pc->pool;
    (void)circ;
    pc->built = true;
    if (pc->timeout) evtimer_del(pc->timeout);
    om_guards_note_success(p->o.guards, pc->path[0].rsa_fp);
    p->fails = 0;
    p->period_fails = 0; /* tor: circuit_reset_failure_count(0) on "circuit built!" */
    p->no_launch_before = 0;
    p->st.built++;
    om_info("Circuit %u built: %s -> %s -> %s (%.0f ms)", om_circuit_id(circ), pc->names[0],
            pc->names[1], pc->names[2], (double)om_circuit_build_usec(circ) / 1000.0);
    if (!p->first_built) {
        p->first_built = true;
        progress(p, 100, "done", "Done");
    }
    if (pc->is_leg)
        cfx_leg2_built(pc);
    else if (conflux_wanted(p, pc))
        cfx_start(p, pc);
    pool_maintain(p);
}

static void pc_closed(om_circuit_t *circ, const char *reason, void *arg)
{
    pcirc_t *pc = arg;
    om_circpool_t *p = pc->pool;
    (void)circ;
    if (!pc->built) {
        om_info("Circuit through %s, %s, %s failed: %s", pc->names[0], pc->names[1], pc->names[2],
                reason);
        note_build_failure(p);
    }
    pc->circ = NULL;
    pcirc_unlink(p, pc);
    if (pc->leg2 && pc->leg2->circ) /* the primary went: so does a leg not yet in the set */
        om_circuit_close(pc->leg2->circ, OM_DESTROY_FINISHED, "its conflux primary closed");
    pcirc_free(pc);
    pool_maintain(p);
}

static void pc_timeout(evutil_socket_t fd, short what, void *arg)
{
    pcirc_t *pc = arg;
    (void)fd;
    (void)what;
    if (pc->built) {
        if (pc->cfx_wait) cfx_give_up(pc);
        return;
    }
    char why[64];
    snprintf(why, sizeof why, "build timed out after %d s", pc->pool->o.circuit_build_timeout_s);
    if (pc->circ) {
        om_circuit_close(pc->circ, OM_DESTROY_TIMEOUT, why); /* pc_closed frees pc */
        return;
    }
    /* Still waiting for the guard's link. */
    om_circpool_t *p = pc->pool;
    om_linkmgr_cancel(p->o.links, pc->chan_req);
    om_guards_note_failure(p->o.guards, pc->path[0].rsa_fp);
    note_build_failure(p);
    pcirc_unlink(p, pc);
    pcirc_free(pc);
    pool_maintain(p);
}

static void pc_chan(om_channel_t *chan, const char *err, void *arg)
{
    pcirc_t *pc = arg;
    om_circpool_t *p = pc->pool;
    pc->chan_req = NULL;
    if (!chan) {
        om_info("Could not connect to guard %s: %s", pc->names[0], err);
        om_guards_note_failure(p->o.guards, pc->path[0].rsa_fp);
        note_build_failure(p);
        pcirc_unlink(p, pc);
        pcirc_free(pc);
        pool_maintain(p);
        return;
    }
    om_circ_callbacks_t cb = {.on_built = pc_built, .on_closed = pc_closed, .arg = pc};
    om_cc_params_t ccp;
    om_circ_flow_params_t fp = {
        .cc = cc_params_for_build(p, &ccp),
        .sendme_accept_min_version = (uint8_t)om_consensus_param(
            p->o.nodes->consensus, "sendme_accept_min_version", 0, 0, 255),
    };
    pc->circ = om_circuit_build_flow(chan, pc->path, 3, &cb, &fp);
    if (!pc->circ) { /* a failed build like any other: counted, backed off, replaced */
        om_info("Could not start a circuit through %s", pc->names[0]);
        note_build_failure(p);
        pcirc_unlink(p, pc);
        pcirc_free(pc);
        pool_maintain(p);
    }
}

static int count_building(om_circpool_t *p)
{
    int n = 0;
    for (pcirc_t *pc = p->circs; pc; pc = pc->next)
        n += !pc->built;
    return n;
}

static int count_circs(om_circpool_t *p)
{
    int n = 0;
    for (pcirc_t *pc = p->circs; pc; pc = pc->next)
        n++;
    return n;
}

static bool launch(om_circpool_t *p, uint16_t port)
{
    if (count_building(p) >= MAX_BUILDING || count_circs(p) >= MAX_CIRCUITS) return false;
    if (p->period_fails > MAX_CIRCUIT_FAILURES) return false; /* until the next period (tor) */
    uint64_t now = om_now_usec();
    if (now < p->no_launch_before) {
        if (!evtimer_pending(p->retry, NULL)) {
            uint64_t us = p->no_launch_before - now;
            struct timeval tv = {(time_t)(us / 1000000), (suseconds_t)(us % 1000000)};
            evtimer_add(p->retry, &tv);
        }
        return false;
    }
    const om_routerstatus_t *hops[3];
    om_path_request_t req = {.port = port, .want_ntor_v3 = true};
    const om_transport_factory_t *factory = NULL;
    if (p->o.first_hop && !p->o.first_hop(p->o.arg, &req.first, &factory)) {
        om_info("No circuit launched: no bridge descriptor known yet");
        return false;
    }
    char err[200];
    if (om_path_select(p->o.nodes, p->o.guards, p->o.path, &req, hops, err, sizeof err) < 0) {
        om_info("No path for a circuit%s%u: %s", port ? " to port " : "", port, err);
        return false;
    }
    return launch_path(p, port, hops, factory, NULL);
}

/* Build a circuit on hops (through factory's transport if not NULL); primary: this is the second
 * conflux leg of that circuit. */
static bool launch_path(om_circpool_t *p, uint16_t port, const om_routerstatus_t *hops[3],
                        const om_transport_factory_t *factory, pcirc_t *primary)
{
    pcirc_t *pc = calloc(1, sizeof *pc);
    if (!pc) return false;
    pc->pool = p;
    pc->port_hint = port;
    pc->launched = time(NULL);
    if (primary) {
        pc->is_leg = true;
        pc->primary = primary;
        primary->leg2 = pc;
    }
    for (int i = 0; i < 3; i++) {
        target_from_rs(&pc->path[i], hops[i]);
        snprintf(pc->names[i], sizeof pc->names[i], "%s", hops[i]->nickname);
    }
    pc->timeout = evtimer_new(p->o.base, pc_timeout, pc);
    struct timeval tv = {p->o.circuit_build_timeout_s, 0};
    evtimer_add(pc->timeout, &tv);
    pc->next = p->circs;
    p->circs = pc;
    p->st.launched++;
    if (!p->launched_once) progress(p, 90, "circuit_create", "Establishing a Tor circuit");
    p->launched_once = true;
    char host[32];
    snprintf(host, sizeof host, "%u.%u.%u.%u", hops[0]->ipv4[0], hops[0]->ipv4[1], hops[0]->ipv4[2],
             hops[0]->ipv4[3]);
    /* The callback may run at once (an open link to the guard) and may free pc; a non-NULL
     * handle means it has not run yet, so pc is still ours. */
    const uint8_t *ed = pc->path[0].has_ed ? pc->path[0].ed_id : NULL;
    void *h = factory ? om_linkmgr_get_via(p->o.links, factory, host, hops[0]->or_port,
                                           hops[0]->rsa_id, ed, pc_chan, pc)
                      : om_linkmgr_get(p->o.links, host, hops[0]->or_port, hops[0]->rsa_id, ed,
                                       pc_chan, pc);
    if (h) pc->chan_req = h;
    return true;
}

/* ---------------------------------------------------------------- waiters */

static void waiter_free(waiter_t *w)
{
    free(w->isolation);
    free(w);
}

/* tor (circuit_get_open_circ_or_launch): if every relay's exit policy rejects the port, the
 * request is refused at once ("No Tor server allows exit to ...") instead of waiting. */
static bool some_relay_exits_to(const om_circpool_t *p, uint16_t port)
{
    const om_consensus_t *c = p->o.nodes->consensus;
    if (!port || !c) return true;
    for (size_t i = 0; i < c->n_routers; i++)
        if ((c->routers[i].flags & OM_RS_RUNNING) &&
            om_node_allows_exit_port(&c->routers[i], port, false))
            return true;
    return false;
}

/* The circuit for waiter w: one already carrying its isolation key (tor reuses it), then a clean
 * one; NULL if none. */
static pcirc_t *circuit_for(om_circpool_t *p, const waiter_t *w)
{
    for (pcirc_t *pc = p->circs; pc; pc = pc->next)
        if (pc->has_isolation && circ_usable_for(p, pc, w->port, w->isolation)) return pc;
    for (pcirc_t *pc = p->circs; pc; pc = pc->next)
        if (circ_usable_for(p, pc, w->port, w->isolation)) return pc;
    return NULL;
}

/* Answer one waiter that can be answered (unlinked first: its callback may get or cancel other
 * waiters, so the list is walked again from the start after each). false if none can. */
static bool serve_one(om_circpool_t *p, time_t now)
{
    for (waiter_t **pp = &p->waiters; *pp; pp = &(*pp)->next) {
        waiter_t *w = *pp;
        pcirc_t *found = circuit_for(p, w);
        const char *err = NULL;
        if (!found && !some_relay_exits_to(p, w->port))
            err = "no Tor relay allows exits to that port";
        else if (!found && w->since + WAIT_TIMEOUT_S < now)
            err = "no circuit could be built in time";
        if (!found && !err) continue;
        *pp = w->next;
        if (w->served) *w->served = true;
        if (found) {
            if (!found->has_isolation) {
                found->has_isolation = true;
                found->isolation = w->isolation ? strdup(w->isolation) : NULL;
            }
            if (!found->dirty_since) found->dirty_since = now;
            w->cb(found->circ, NULL, w->arg);
        } else {
            if (w->port) om_notice("No Tor relay allows exits to port %u: refusing", w->port);
            w->cb(NULL, err, w->arg);
        }
        waiter_free(w);
        return true;
    }
    return false;
}

static void serve_waiters(om_circpool_t *p)
{
    time_t now = time(NULL);
    while (serve_one(p, now)) {
    }
}

static void pool_maintain(om_circpool_t *p)
{
    if (!p->ready) return;
    serve_waiters(p);
    /* Waiters with no suitable circuit being built get one launched for their port. */
    for (waiter_t *w = p->waiters; w; w = w->next) {
        bool pending = false;
        for (pcirc_t *pc = p->circs; pc && !pending; pc = pc->next)
            pending = (!pc->built || pc->cfx_wait) && !pc->is_leg &&
                      (pc->port_hint == w->port || pc->port_hint == 0) &&
                      exit_allows(p, pc, w->port);
        if (!pending) launch(p, w->port);
    }
    /* Keep clean circuits ready (tor keeps a few preemptive circuits). */
    int clean = 0;
    for (pcirc_t *pc = p->circs; pc; pc = pc->next)
        clean += !pc->dirty_since && !pc->unusable && !pc->is_leg;
    for (int i = clean; i < p->o.prebuilt_circuits; i++)
        if (!launch(p, 0)) break;
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    om_circpool_t *p = arg;
    (void)fd;
    (void)what;
    time_t now = time(NULL);
    /* NewCircuitPeriod (tor's circuit_expire_old_circs_as_needed): every period the failure count
     * starts again and circuits too dirty to take new streams, carrying none, are retired
     * (circ_usable_for stops handing them out at once). */
    if (now < p->next_period) {
        pool_maintain(p);
        return;
    }
    if (p->period_fails > MAX_CIRCUIT_FAILURES)
        om_notice("%d circuit builds failed in the last %d seconds; trying again now",
                  p->period_fails, p->o.new_circuit_period_s);
    p->period_fails = 0;
    p->next_period = now + p->o.new_circuit_period_s;
    for (pcirc_t *pc = p->circs, *next; pc; pc = next) {
        next = pc->next;
        if (pc->built && pc->circ && pc->dirty_since &&
            pc->dirty_since + p->o.max_circuit_dirtiness_s < now &&
            !om_circuit_has_streams(pc->circ))
            om_circuit_close(pc->circ, OM_DESTROY_FINISHED, "too dirty");
    }
    pool_maintain(p);
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    pool_maintain(arg);
}

om_circpool_t *om_circpool_new(const om_circpool_params_t *o)
{
    om_circpool_t *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->o = *o;
    if (p->o.new_circuit_period_s <= 0) p->o.new_circuit_period_s = DEFAULT_NEW_CIRC_PERIOD;
    p->next_period = time(NULL) + p->o.new_circuit_period_s;
    p->tick = event_new(o->base, -1, EV_PERSIST, tick_cb, p);
    p->retry = evtimer_new(o->base, retry_cb, p);
    if (!p->tick || !p->retry) {
        if (p->tick) event_free(p->tick);
        free(p);
        return NULL;
    }
    struct timeval tv = {1, 0};
    event_add(p->tick, &tv);
    return p;
}

void om_circpool_dir_changed(om_circpool_t *p)
{
    p->ready = true;
    pool_maintain(p);
}

void om_circpool_stats(const om_circpool_t *p, om_circpool_stats_t *out)
{
    *out = p->st;
    out->circuits = out->building = out->waiters = 0;
    for (const pcirc_t *pc = p->circs; pc; pc = pc->next) {
        out->circuits++;
        out->building += !pc->built;
    }
    for (const waiter_t *w = p->waiters; w; w = w->next)
        out->waiters++;
}

void *om_circpool_get(om_circpool_t *p, uint16_t port, const char *isolation, om_circ_wait_cb cb,
                      void *arg)
{
    waiter_t *w = calloc(1, sizeof *w);
    if (!w) {
        cb(NULL, "out of memory", arg);
        return NULL;
    }
    w->port = port;
    w->isolation = isolation ? strdup(isolation) : NULL;
    w->cb = cb;
    w->arg = arg;
    w->since = time(NULL);
    /* Append: first come, first served. */
    waiter_t **pp = &p->waiters;
    while (*pp)
        pp = &(*pp)->next;
    *pp = w;
    /* If it is answered at once (pool_maintain may run other waiters' callbacks, which may get
     * and free waiters of their own), the handle is gone: the waiter itself says so. */
    bool served = false;
    w->served = &served;
    pool_maintain(p);
    if (served) return NULL;
    w->served = NULL;
    return w;
}

void om_circpool_cancel(om_circpool_t *p, void *handle)
{
    for (waiter_t **pp = &p->waiters; *pp; pp = &(*pp)->next)
        if (*pp == handle) {
            waiter_t *w = *pp;
            *pp = w->next;
            waiter_free(w);
            return;
        }
}

void om_circpool_mark_unusable(om_circpool_t *p, om_circuit_t *circ)
{
    for (pcirc_t *pc = p->circs; pc; pc = pc->next)
        if (pc->circ == circ) pc->unusable = true;
}

void om_circpool_free(om_circpool_t *p)
{
    if (!p) return;
    while (p->waiters) {
        waiter_t *w = p->waiters;
        p->waiters = w->next;
        waiter_free(w);
    }
    for (pcirc_t *pc = p->circs; pc; pc = pc->next)
        pc->primary = pc->leg2 = NULL; /* freed in any order below */
    while (p->circs) {
        pcirc_t *pc = p->circs;
        p->circs = pc->next;
        if (pc->chan_req) om_linkmgr_cancel(p->o.links, pc->chan_req);
        if (pc->circ) {
            om_circuit_detach(pc->circ);
            om_circuit_close(pc->circ, OM_DESTROY_FINISHED, "shutting down");
        }
        pcirc_free(pc);
    }
    if (p->tick) event_free(p->tick);
    if (p->retry) event_free(p->retry);
    free(p);
}

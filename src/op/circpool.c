/* circpool.c — the OP's circuit pool (circpool.h): 3-hop paths chosen by path.c through a guard
 * from guards.c, built with ntor-v3 where the relay supports it (ntor otherwise) and congestion
 * control with the exit as the consensus says, kept ready before requests arrive, given build
 * timeouts and a retry backoff, replaced when torn down, and handed to streams by exit port and
 * isolation key (IsolateSOCKSAuth) until they are too dirty (MaxCircuitDirtiness). With
 * ConfluxEnabled, conflux sets are kept ready besides (circpool_sets.c). Streams take a ready
 * set first and a plain circuit otherwise, and a stream that finds neither gets a plain circuit
 * launched for it, as tor's circuit_get_open_circ_or_launch does; at the circuit cap the idle
 * circuit used longest ago closes to make room. */
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
#include "op/circpool_int.h"

#define WAIT_TIMEOUT_S 120
#define MAX_BUILDING   8 /* a conflux set launches two circuits at once */
/* Circuits held at most (legs included). At the cap the idle dirty circuit used longest ago is
 * closed to make room (tor has no cap; it keeps dirty circuits until MaxCircuitDirtiness). */
#define MAX_CIRCUITS 128
/* After a failed build, no launch for RETRY_BASE_MS, doubling with each consecutive failure up
 * to RETRY_MAX_MS; a built circuit resets it. */
#define RETRY_BASE_MS 100
#define RETRY_MAX_MS  10000
/* tor's MAX_CIRCUIT_FAILURES (circuit_launch_by_extend_info): once a NewCircuitPeriod has ended
 * with more failed builds than this and none built since, more than this many failures in the
 * next period stop launches until the period after it. */
#define MAX_CIRCUIT_FAILURES    5
#define DEFAULT_NEW_CIRC_PERIOD 30

typedef struct waiter {
    struct waiter *next;
    uint16_t port;
    char *isolation; /* NULL: none */
    om_circ_wait_cb cb;
    void *arg;
    time_t since;
    bool *served; /* om_circpool_get's "answered before I returned" flag, while it runs */
    bool pinned;  /* om_circpool_get_to: the circuit's last hop must be `last` */
    uint8_t last[20];
} waiter_t;

static void progress(om_circpool_t *p, int pct, const char *tag, const char *summary)
{
    if (p->o.on_progress) p->o.on_progress(p->o.arg, pct, tag, summary);
}

/* A circuit failed to build (refused, timed out, no link to the guard). Without a delay the
 * pool would relaunch at once, and a relay refusing CREATEs (RESOURCELIMIT: too many this
 * second) or a dead hop would get a new attempt per round trip, thousands a second (seen in
 * the relay test). Tor has no such delay but stops launching when two periods in a row see more
 * than MAX_CIRCUIT_FAILURES failures; so does the pool (om_cp_launch_allowed). */
static void note_build_failure(om_circpool_t *p)
{
    p->st.failed++;
    p->period_fails++;
    if (p->fails < 30) p->fails++;
    uint64_t ms = (uint64_t)RETRY_BASE_MS << (p->fails < 8 ? p->fails - 1 : 7);
    if (ms > RETRY_MAX_MS) ms = RETRY_MAX_MS;
    p->no_launch_before = om_now_usec() + ms * 1000;
}

void om_cp_free(pcirc_t *pc)
{
    pcirc_t *primary = pc->is_leg ? pc->primary : NULL;
    if (primary) primary->leg2 = NULL;
    if (pc->leg2) pc->leg2->primary = NULL;
    if (pc->timeout) event_free(pc->timeout);
    free(pc->isolation);
    free(pc);
    if (primary) om_cp_set_check_ready(primary); /* it may go on without this leg */
}

void om_cp_unlink(om_circpool_t *p, pcirc_t *pc)
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

/* last: a waiter of om_circpool_get_to (only circuits built to that last hop for such waiters),
 * NULL: an ordinary one (never those). */
static bool circ_usable_for(om_circpool_t *p, const pcirc_t *pc, uint16_t port, const char *iso,
                            const uint8_t *last)
{
    if (!pc->built || pc->unusable || !pc->circ || pc->is_leg || pc->cfx_wait) return false;
    if (pc->dirty_since && pc->dirty_since + p->o.max_circuit_dirtiness_s < time(NULL))
        return false;
    if (pc->pinned != (last != NULL)) return false;
    if (last) return !memcmp(pc->path[2].rsa_fp, last, 20) && isolation_ok(pc, iso);
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
const om_cc_params_t *om_cp_cc_params(om_circpool_t *p, om_cc_params_t *ccp)
{
    const om_consensus_t *c = p->o.nodes->consensus;
    if (p->o.congestion_control == 0) return NULL;
    om_cc_params_load(ccp, c ? cc_param : NULL, (void *)c);
    if (p->o.congestion_control == 1 && !om_cc_params_enabled(ccp))
        om_cc_params_set(ccp, "cc_alg", OM_CC_ALG_VEGAS);
    return om_cc_params_enabled(ccp) ? ccp : NULL;
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
    p->failed_last_period = false;
    p->no_launch_before = 0;
    p->st.built++;
    om_info("Circuit %u built: %s -> %s -> %s (%.0f ms)", om_circuit_id(circ), pc->names[0],
            pc->names[1], pc->names[2], (double)om_circuit_build_usec(circ) / 1000.0);
    if (!p->first_built) {
        p->first_built = true;
        progress(p, 100, "done", "Done");
    }
    if (pc->is_leg) {
        om_cp_leg2_built(pc);
    } else if (om_cp_conflux_wanted(p, pc)) {
        om_cp_set_start(p, pc);
    } else if (pc->want_set) { /* no conflux with this exit after all: a plain circuit */
        pc->want_set = false;
        if (pc->leg2) om_cp_leg_drop(pc->leg2, "conflux leg not needed");
    }
    om_cp_maintain(p);
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
    om_cp_unlink(p, pc);
    if (pc->leg2) /* the primary went: so does a leg not yet in the set */
        om_cp_leg_drop(pc->leg2, "its conflux primary closed");
    om_cp_free(pc);
    om_cp_maintain(p);
}

static void pc_timeout(evutil_socket_t fd, short what, void *arg)
{
    pcirc_t *pc = arg;
    (void)fd;
    (void)what;
    if (pc->built) {
        if (pc->cfx_wait) om_cp_set_give_up(pc);
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
    om_cp_unlink(p, pc);
    om_cp_free(pc);
    om_cp_maintain(p);
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
        om_cp_unlink(p, pc);
        om_cp_free(pc);
        om_cp_maintain(p);
        return;
    }
    om_circ_callbacks_t cb = {.on_built = pc_built, .on_closed = pc_closed, .arg = pc};
    om_cc_params_t ccp;
    om_circ_flow_params_t fp = {
        .cc = om_cp_cc_params(p, &ccp),
        .sendme_accept_min_version = (uint8_t)om_consensus_param(
            p->o.nodes->consensus, "sendme_accept_min_version", 0, 0, 255),
    };
    pc->circ = om_circuit_build_flow(chan, pc->path, 3, &cb, &fp);
    if (!pc->circ) { /* a failed build like any other: counted, backed off, replaced */
        om_info("Could not start a circuit through %s", pc->names[0]);
        note_build_failure(p);
        om_cp_unlink(p, pc);
        om_cp_free(pc);
        om_cp_maintain(p);
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

/* May n more circuits be launched now? Caps, tor's failures per period, the retry backoff. */
bool om_cp_launch_allowed(om_circpool_t *p, int n)
{
    if (count_building(p) + n > MAX_BUILDING || count_circs(p) + n > MAX_CIRCUITS) return false;
    if (p->failed_last_period && p->period_fails > MAX_CIRCUIT_FAILURES)
        return false; /* until the next period (tor) */
    uint64_t now = om_now_usec();
    if (now < p->no_launch_before) {
        if (!evtimer_pending(p->retry, NULL)) {
            uint64_t us = p->no_launch_before - now;
            struct timeval tv = {(time_t)(us / 1000000), (suseconds_t)(us % 1000000)};
            evtimer_add(p->retry, &tv);
        }
        return false;
    }
    return true;
}

/* A circuit on hops, in the pool with its build timeout, not yet connecting. */
pcirc_t *om_cp_new(om_circpool_t *p, uint16_t port, const om_routerstatus_t *hops[3])
{
    pcirc_t *pc = calloc(1, sizeof *pc);
    if (!pc) return NULL;
    pc->timeout = evtimer_new(p->o.base, pc_timeout, pc);
    if (!pc->timeout) {
        free(pc);
        return NULL;
    }
    pc->pool = p;
    pc->port_hint = port;
    pc->launched = time(NULL);
    for (int i = 0; i < 3; i++) {
        target_from_rs(&pc->path[i], hops[i]);
        snprintf(pc->names[i], sizeof pc->names[i], "%s", hops[i]->nickname);
    }
    struct timeval tv = {p->o.circuit_build_timeout_s, 0};
    evtimer_add(pc->timeout, &tv);
    pc->next = p->circs;
    p->circs = pc;
    p->st.launched++;
    if (!p->launched_once) progress(p, 90, "circuit_create", "Establishing a Tor circuit");
    p->launched_once = true;
    return pc;
}

/* Ask for the link to pc's first hop (through factory's transport if not NULL). The callback may
 * run at once (an open link) and may free pc. */
void om_cp_connect(om_circpool_t *p, pcirc_t *pc, const om_transport_factory_t *factory)
{
    const om_hop_target_t *g = &pc->path[0];
    char host[32];
    snprintf(host, sizeof host, "%u.%u.%u.%u", g->ipv4[0], g->ipv4[1], g->ipv4[2], g->ipv4[3]);
    const uint8_t *ed = g->has_ed ? g->ed_id : NULL;
    /* A non-NULL handle means the callback has not run yet, so pc is still ours. */
    void *h = factory ? om_linkmgr_get_via(p->o.links, factory, host, g->or_port, g->rsa_fp, ed,
                                           pc_chan, pc)
                      : om_linkmgr_get(p->o.links, host, g->or_port, g->rsa_fp, ed, pc_chan, pc);
    if (h) pc->chan_req = h;
}

/* A path for a circuit to port (0: any exit); false (logged) if there is none now. */
bool om_cp_select_path(om_circpool_t *p, om_path_request_t *req, const om_routerstatus_t *hops[3],
                       const om_transport_factory_t **factory)
{
    *factory = NULL;
    if (p->o.first_hop && !p->o.first_hop(p->o.arg, &req->first, factory)) {
        om_info("No circuit launched: no bridge descriptor known yet");
        return false;
    }
    char err[200];
    if (om_path_select(p->o.nodes, p->o.guards, p->o.path, req, hops, err, sizeof err) < 0) {
        om_info("No path for a %s%s%u: %s", req->need_conflux ? "conflux set" : "circuit",
                req->port ? " to port " : "", req->port, err);
        return false;
    }
    return true;
}

/* A plain circuit to port (0: a prebuilt one for any web port). */
static bool launch(om_circpool_t *p, uint16_t port)
{
    if (!om_cp_launch_allowed(p, 1)) return false;
    const om_routerstatus_t *hops[3];
    om_path_request_t req = {.port = port, .want_ntor_v3 = true};
    const om_transport_factory_t *factory;
    if (!om_cp_select_path(p, &req, hops, &factory)) return false;
    pcirc_t *pc = om_cp_new(p, port, hops);
    if (!pc) return false;
    om_cp_connect(p, pc, factory);
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
/* A circuit this isolation key already uses, else a ready conflux set (tor's
 * conflux_get_circ_for_conn comes first), else any usable circuit. */
static pcirc_t *circuit_for(om_circpool_t *p, const waiter_t *w)
{
    const uint8_t *last = w->pinned ? w->last : NULL;
    for (pcirc_t *pc = p->circs; pc; pc = pc->next)
        if (pc->has_isolation && circ_usable_for(p, pc, w->port, w->isolation, last)) return pc;
    for (pcirc_t *pc = p->circs; pc; pc = pc->next)
        if (pc->cfx && circ_usable_for(p, pc, w->port, w->isolation, last)) return pc;
    for (pcirc_t *pc = p->circs; pc; pc = pc->next)
        if (circ_usable_for(p, pc, w->port, w->isolation, last)) return pc;
    return NULL;
}

/* The running relay a pinned waiter wants as last hop, NULL if the consensus lacks it. */
static const om_routerstatus_t *pinned_target(const om_circpool_t *p, const waiter_t *w)
{
    const om_consensus_t *c = p->o.nodes->consensus;
    const om_routerstatus_t *rs = c ? om_consensus_find(c, w->last) : NULL;
    return rs && (rs->flags & OM_RS_RUNNING) && rs->md ? rs : NULL;
}

/* A circuit whose last hop is rs (om_circpool_get_to). */
static bool launch_to(om_circpool_t *p, const om_routerstatus_t *rs)
{
    if (!om_cp_launch_allowed(p, 1)) return false;
    const om_routerstatus_t *hops[3];
    om_path_request_t req = {.want_ntor_v3 = true, .last = rs};
    const om_transport_factory_t *factory;
    if (!om_cp_select_path(p, &req, hops, &factory)) return false;
    pcirc_t *pc = om_cp_new(p, 0, hops);
    if (!pc) return false;
    pc->pinned = true;
    om_cp_connect(p, pc, factory);
    return true;
}

/* Answer one waiter that can be answered (unlinked first: its callback may get or cancel other
 * waiters, so the list is walked again from the start after each). false if none can. */
static bool serve_one(om_circpool_t *p, time_t now)
{
    for (waiter_t **pp = &p->waiters; *pp; pp = &(*pp)->next) {
        waiter_t *w = *pp;
        pcirc_t *found = circuit_for(p, w);
        const char *err = NULL;
        if (!found && w->pinned && !pinned_target(p, w))
            err = "that relay is not a running relay of the consensus";
        else if (!found && !some_relay_exits_to(p, w->port))
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
            found->last_used = om_now_usec();
            w->cb(found->circ, NULL, w->arg);
        } else {
            if (w->port && !some_relay_exits_to(p, w->port))
                om_notice("No Tor relay allows exits to port %u: refusing", w->port);
            else
                om_notice("No circuit for a stream to port %u: %s", w->port, err);
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

/* At the circuit cap, close the idle dirty circuit (no streams) used longest ago, so that new
 * isolation keys still get circuits; false if every circuit is clean or carries streams. */
static bool evict_idle(om_circpool_t *p)
{
    pcirc_t *old = NULL;
    for (pcirc_t *pc = p->circs; pc; pc = pc->next)
        if (pc->built && pc->circ && pc->dirty_since && !pc->is_leg &&
            !om_circuit_has_streams(pc->circ) && (!old || pc->last_used < old->last_used))
            old = pc;
    if (!old) return false;
    om_circuit_close(old->circ, OM_DESTROY_FINISHED, "idle, closed to make room for new circuits");
    return true;
}

static void maintain_once(om_circpool_t *p)
{
    serve_waiters(p);
    while (count_circs(p) + 2 > MAX_CIRCUITS && evict_idle(p)) {
    }
    /* Waiters with no suitable plain circuit being built get one launched for their port; sets
     * still linking do not count (tor launches a general circuit, not a set, for a stream). */
    for (waiter_t *w = p->waiters; w; w = w->next) {
        bool pending = false;
        if (w->pinned) {
            for (pcirc_t *pc = p->circs; pc && !pending; pc = pc->next)
                pending = !pc->built && pc->pinned && !memcmp(pc->path[2].rsa_fp, w->last, 20);
            const om_routerstatus_t *rs = pending ? NULL : pinned_target(p, w);
            if (rs) launch_to(p, rs);
            continue;
        }
        for (pcirc_t *pc = p->circs; pc && !pending; pc = pc->next)
            pending = !pc->built && !pc->pinned && !pc->is_leg && !pc->want_set &&
                      (pc->port_hint == w->port || pc->port_hint == 0) &&
                      exit_allows(p, pc, w->port);
        if (!pending) launch(p, w->port);
    }
    /* Keep clean circuits ready (tor keeps a few preemptive circuits) and, with conflux, clean
     * sets (built, linking or ready) as well. */
    int clean = 0, clean_sets = 0;
    for (pcirc_t *pc = p->circs; pc; pc = pc->next) {
        if (pc->dirty_since || pc->unusable || pc->is_leg || pc->pinned) continue;
        if (pc->want_set)
            clean_sets++;
        else
            clean++;
    }
    if (!p->prebuild_due) return;
    p->prebuild_due = false;
    for (int i = clean; i < p->o.prebuilt_circuits; i++)
        if (!launch(p, 0)) break;
    if (!om_cp_conflux_on(p)) return;
    for (int i = clean_sets, n = om_cp_prebuilt_sets(p); i < n; i++)
        if (!om_cp_launch_set(p)) break;
}

/* Serve waiters, launch what is missing. Callbacks it runs (a waiter's, a circuit closing) may
 * ask for it again: that runs once more after this pass, never nested inside it. */
void om_cp_maintain(om_circpool_t *p)
{
    if (!p->ready) return;
    if (p->maintaining) {
        p->again = true;
        return;
    }
    p->maintaining = true;
    do {
        p->again = false;
        maintain_once(p);
    } while (p->again);
    p->maintaining = false;
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    om_circpool_t *p = arg;
    (void)fd;
    (void)what;
    time_t now = time(NULL);
    p->prebuild_due = true;
    /* NewCircuitPeriod (tor's circuit_expire_old_circs_as_needed): every period the failure count
     * starts again and circuits too dirty to take new streams, carrying none, are retired
     * (circ_usable_for stops handing them out at once). */
    if (now < p->next_period) {
        om_cp_maintain(p);
        return;
    }
    bool failing = p->period_fails > MAX_CIRCUIT_FAILURES;
    if (failing)
        om_notice("%d circuit builds failed in the last %d seconds%s", p->period_fails,
                  p->o.new_circuit_period_s, p->failed_last_period ? "; trying again now" : "");
    p->failed_last_period = failing; /* tor: circuit_reset_failure_count(1) */
    p->period_fails = 0;
    p->next_period = now + p->o.new_circuit_period_s;
    for (pcirc_t *pc = p->circs, *next; pc; pc = next) {
        next = pc->next;
        if (pc->built && pc->circ && pc->dirty_since &&
            pc->dirty_since + p->o.max_circuit_dirtiness_s < now &&
            !om_circuit_has_streams(pc->circ))
            om_circuit_close(pc->circ, OM_DESTROY_FINISHED, "too dirty");
    }
    om_cp_maintain(p);
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ((om_circpool_t *)arg)->prebuild_due = true;
    om_cp_maintain(arg);
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
    p->prebuild_due = true;
    om_cp_maintain(p);
}

void om_circpool_stats(const om_circpool_t *p, om_circpool_stats_t *out)
{
    *out = p->st;
    out->circuits = out->building = out->waiters = out->sets_linking = out->sets_ready = 0;
    for (const pcirc_t *pc = p->circs; pc; pc = pc->next) {
        out->circuits++;
        out->building += !pc->built;
        if (!pc->want_set || pc->dirty_since || pc->unusable) continue;
        if (pc->cfx && !pc->cfx_wait)
            out->sets_ready++;
        else
            out->sets_linking++;
    }
    for (const waiter_t *w = p->waiters; w; w = w->next)
        out->waiters++;
}

static void *get_circ(om_circpool_t *p, uint16_t port, const uint8_t *last, const char *isolation,
                      om_circ_wait_cb cb, void *arg)
{
    waiter_t *w = calloc(1, sizeof *w);
    if (!w) {
        cb(NULL, "out of memory", arg);
        return NULL;
    }
    if (last) {
        w->pinned = true;
        memcpy(w->last, last, 20);
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
    /* If it is answered at once (om_cp_maintain may run other waiters' callbacks, which may get
     * and free waiters of their own), the handle is gone: the waiter itself says so. */
    bool served = false;
    w->served = &served;
    om_cp_maintain(p);
    if (served) return NULL;
    w->served = NULL;
    return w;
}

void *om_circpool_get(om_circpool_t *p, uint16_t port, const char *isolation, om_circ_wait_cb cb,
                      void *arg)
{
    return get_circ(p, port, NULL, isolation, cb, arg);
}

void *om_circpool_get_to(om_circpool_t *p, const uint8_t last_hop[20], const char *isolation,
                         om_circ_wait_cb cb, void *arg)
{
    return get_circ(p, 0, last_hop, isolation, cb, arg);
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
        om_cp_free(pc);
    }
    if (p->tick) event_free(p->tick);
    if (p->retry) event_free(p->retry);
    free(p);
}

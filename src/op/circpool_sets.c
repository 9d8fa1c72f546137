/* circpool_sets.c — the circuit pool's conflux sets (proposal 329, as tor 0.4.9's
 * conflux_pool.c on the client): whether sets are kept (ConfluxEnabled, cfx_enabled, congestion
 * control) and how many (cfx_max_prebuilt_set), launching both legs of a set at once to one exit
 * listing Conflux=1 through distinct guards and middles, linking them (core/conflux.c) once built,
 * handing the set to streams only when every leg linked, and giving up on legs that do not. */
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "dir/consensus.h"
#include "core/log.h"
#include "op/circpool_int.h"

/* tor's cfx_max_prebuilt_set default (conflux_params.c): conflux sets kept ready. */
#define DEFAULT_PREBUILT_SETS 3
#define MAX_PREBUILT_SETS     16

/* Whether conflux sets are kept ready: ConfluxEnabled (auto: the consensus's cfx_enabled,
 * default 1 as tor) and congestion control asked for (conflux needs it on every leg). */
bool om_cp_conflux_on(om_circpool_t *p)
{
    const om_consensus_t *c = p->o.nodes->consensus;
    om_cc_params_t ccp;
    if (p->o.conflux == 0 || !c || !om_cp_cc_params(p, &ccp)) return false;
    return p->o.conflux > 0 || om_consensus_param(c, "cfx_enabled", 1, 0, 1);
}

/* How many sets to keep ready: the consensus's cfx_max_prebuilt_set (tor's default 3). */
int om_cp_prebuilt_sets(om_circpool_t *p)
{
    return (int)om_consensus_param(p->o.nodes->consensus, "cfx_max_prebuilt_set",
                                   DEFAULT_PREBUILT_SETS, 0, MAX_PREBUILT_SETS);
}

/* Whether a built primary becomes a set: conflux still on, congestion control negotiated with
 * the exit, and the exit still listing Conflux=1. Otherwise it is a plain circuit. */
bool om_cp_conflux_wanted(om_circpool_t *p, const pcirc_t *pc)
{
    if (!pc->want_set || !om_cp_conflux_on(p) || !pc->circ || !om_circuit_cc_active(pc->circ))
        return false;
    const om_routerstatus_t *rs = om_consensus_find(p->o.nodes->consensus, pc->path[2].rsa_fp);
    return rs && om_node_supports_conflux(rs);
}

/* Drop a second leg that is no longer needed (no failure is counted against its guard). */
void om_cp_leg_drop(pcirc_t *leg, const char *why)
{
    if (leg->circ) {
        om_circuit_close(leg->circ, OM_DESTROY_FINISHED, why); /* pc_closed frees it */
        return;
    }
    om_circpool_t *p = leg->pool;
    if (leg->chan_req) om_linkmgr_cancel(p->o.links, leg->chan_req);
    leg->chan_req = NULL;
    om_cp_unlink(p, leg);
    om_cp_free(leg);
}

/* Streams may use pc once every leg in its set linked and no second leg is still being built. */
void om_cp_set_check_ready(pcirc_t *pc)
{
    if (!pc->cfx_wait || !pc->circ || om_circuit_state(pc->circ) != OM_CIRC_OPEN) return;
    if (pc->leg2 && !pc->leg2->built) return;
    if (om_cfx_n_linked(pc->cfx) < om_cfx_n_legs(pc->cfx)) return;
    pc->cfx_wait = false;
    if (pc->timeout) evtimer_del(pc->timeout);
    char second[96] = "";
    if (pc->leg2 && pc->leg2->circ)
        snprintf(second, sizeof second, " (second leg %s -> %s -> %s)", pc->leg2->names[0],
                 pc->leg2->names[1], pc->leg2->names[2]);
    om_info("Circuit %u: conflux set ready with %d linked leg%s%s", om_circuit_id(pc->circ),
            om_cfx_n_legs(pc->cfx), om_cfx_n_legs(pc->cfx) == 1 ? "" : "s", second);
    om_cp_maintain(pc->pool);
}

static void cfx_linked(om_cfx_set_t *set, om_circuit_t *leg, void *arg)
{
    (void)set;
    (void)leg;
    om_cp_set_check_ready(arg);
}

/* The second leg's path: the same exit, another guard and middle (a bridge, the only way in,
 * stays the first hop). false if the path options leave none. */
static bool leg2_path(om_circpool_t *p, const om_routerstatus_t *first[3],
                      const om_routerstatus_t *out[3], const om_transport_factory_t **factory)
{
    om_path_opts_t o = *p->o.path;
    memset(&o.exit_nodes, 0, sizeof o.exit_nodes);
    memcpy(o.exit_nodes.fp[0], first[2]->rsa_id, 20);
    o.exit_nodes.n_fp = 1;
    for (int i = 0; i < 2 && o.exclude_nodes.n_fp < OM_NODESET_MAX; i++)
        if (!(i == 0 && p->o.first_hop))
            memcpy(o.exclude_nodes.fp[o.exclude_nodes.n_fp++], first[i]->rsa_id, 20);
    o.strict_nodes = true;
    om_path_request_t req = {.port = 0, .want_ntor_v3 = true, .need_conflux = true};
    char err[200];
    if (p->o.first_hop && !p->o.first_hop(p->o.arg, &req.first, factory)) return false;
    if (om_path_select(p->o.nodes, p->o.guards, &o, &req, out, err, sizeof err) < 0) {
        om_info("No second conflux leg to %s: %s", first[2]->nickname, err);
        return false;
    }
    return true;
}

/* The primary was built with conflux wanted: LINK it, and the second leg if it is built. */
void om_cp_set_start(om_circpool_t *p, pcirc_t *pc)
{
    pc->cfx = om_cfx_start(pc->circ, OM_CFX_UX_HIGH_THROUGHPUT, cfx_linked, pc);
    if (!pc->cfx) {
        pc->want_set = false;
        if (pc->leg2) om_cp_leg_drop(pc->leg2, "conflux leg not needed");
        return;
    }
    pc->cfx_wait = true;
    struct timeval tv = {p->o.circuit_build_timeout_s, 0};
    evtimer_add(pc->timeout, &tv); /* the legs must link in a build timeout's time */
    if (pc->leg2 && pc->leg2->built) {
        if (om_cfx_add_leg(pc->cfx, pc->leg2->circ) < 0)
            om_cp_leg_drop(pc->leg2,
                           "conflux leg not needed"); /* frees it: om_cp_set_check_ready runs */
    }
    if (pc->cfx_wait) om_cp_set_check_ready(pc);
}

/* A second leg was built: LINK it into its primary's set, or wait for the primary's build. */
void om_cp_leg2_built(pcirc_t *leg)
{
    pcirc_t *pc = leg->primary;
    if (pc && pc->want_set && !pc->cfx) return; /* the primary is still building */
    if (!pc || !pc->cfx || !pc->circ || om_circuit_state(pc->circ) != OM_CIRC_OPEN ||
        om_cfx_add_leg(pc->cfx, leg->circ) < 0) {
        om_circuit_close(leg->circ, OM_DESTROY_FINISHED, "conflux leg not needed");
        return;
    }
    om_cp_set_check_ready(pc);
}

/* Give up waiting: legs that did not link leave; with its own LINKED, the primary goes alone. */
void om_cp_set_give_up(pcirc_t *pc)
{
    om_info("Circuit %u: conflux legs did not link in %d s", om_circuit_id(pc->circ),
            pc->pool->o.circuit_build_timeout_s);
    if (pc->leg2) om_cp_leg_drop(pc->leg2, "conflux leg too slow");
    if (!pc->circ) return;
    if (om_cfx_n_linked(pc->cfx) == 0) {
        om_circuit_close(pc->circ, OM_DESTROY_FINISHED, "the exit did not answer CONFLUX_LINK");
        return;
    }
    om_cp_set_check_ready(pc);
}

/* A prebuilt conflux set (tor's launch_new_set): an exit offering Conflux=1 and two paths to it
 * through distinct guards and middles, both built at once; each leg LINKs once it and the
 * primary are built. No set if the network has no second path to that exit. */
bool om_cp_launch_set(om_circpool_t *p)
{
    if (!om_cp_launch_allowed(p, 2)) return false;
    const om_routerstatus_t *hops[3], *hops2[3];
    om_path_request_t req = {.port = 0, .want_ntor_v3 = true, .need_conflux = true};
    const om_transport_factory_t *factory, *factory2 = NULL;
    if (!om_cp_select_path(p, &req, hops, &factory) || !leg2_path(p, hops, hops2, &factory2))
        return false;
    pcirc_t *pc = om_cp_new(p, 0, hops);
    pcirc_t *leg = pc ? om_cp_new(p, 0, hops2) : NULL;
    if (!leg) {
        if (pc) {
            om_cp_unlink(p, pc);
            om_cp_free(pc);
        }
        return false;
    }
    pc->want_set = true;
    pc->leg2 = leg;
    leg->is_leg = true;
    leg->primary = pc;
    om_cp_connect(p, pc, factory);
    if (!leg->primary) { /* the primary failed at once (om_cp_free cut the pair) */
        om_cp_unlink(p, leg);
        om_cp_free(leg);
        return true;
    }
    om_cp_connect(p, leg, factory2);
    return true;
}

/* path.c — path selection (path-spec 2): bandwidth-weighted choice per position with the
 * consensus bandwidth-weights, flag requirements, exit-policy summaries matched to the request,
 * family and /16 separation, and the EntryNodes / MiddleNodes / ExitNodes / ExcludeNodes sets. */
#include "op/path.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/crypto.h"

bool om_path_related(const om_routerstatus_t *a, const om_routerstatus_t *b, bool distinct_subnets)
{
    if (!memcmp(a->rsa_id, b->rsa_id, 20)) return true;
    if (distinct_subnets && a->ipv4[0] == b->ipv4[0] && a->ipv4[1] == b->ipv4[1]) return true;
    if (a->md && b->md) {
        /* dir-spec 3.3: one family if each lists the other, or they share a family ID. */
        if (om_microdesc_family_lists(a->md, b->rsa_id) &&
            om_microdesc_family_lists(b->md, a->rsa_id))
            return true;
        if (om_microdesc_share_family_id(a->md, b->md)) return true;
    }
    return false;
}

/* ---------------------------------------------------------------- selection */

typedef struct {
    const om_path_opts_t *o;
    const om_path_request_t *req;
    om_position_t pos;
    const om_routerstatus_t *chosen[3];
    int n_chosen;
    bool need_fast;
    bool relax_sets; /* StrictNodes off and nothing matched the configured set */
} filt_t;

static bool filter(const om_routerstatus_t *rs, void *arg)
{
    filt_t *f = arg;
    if (!om_node_usable(rs)) return false;
    if (f->need_fast && !(rs->flags & OM_RS_FAST)) return false;
    if (f->req->need_stable && !(rs->flags & OM_RS_STABLE)) return false;
    if (om_nodeset_contains(&f->o->exclude_nodes, rs)) return false;
    if (rs->flags & OM_RS_MIDDLEONLY && f->pos != OM_POS_MIDDLE) return false;
    const om_nodeset_t *set = f->pos == OM_POS_GUARD    ? &f->o->entry_nodes
                              : f->pos == OM_POS_MIDDLE ? &f->o->middle_nodes
                                                        : &f->o->exit_nodes;
    if (!om_nodeset_empty(set) && !om_nodeset_contains(set, rs)) return false;
    if (f->pos == OM_POS_EXIT) {
        if (!(rs->flags & OM_RS_EXIT) || (rs->flags & OM_RS_BADEXIT)) return false;
        if (!om_node_allows_exit_port(rs, f->req->port, false)) return false;
        if (f->req->need_conflux && !om_node_supports_conflux(rs)) return false;
    }
    if (f->pos == OM_POS_GUARD && !(rs->flags & OM_RS_GUARD)) return false;
    for (int i = 0; i < f->n_chosen; i++)
        if (f->chosen[i] && om_path_related(rs, f->chosen[i], f->o->enforce_distinct_subnets))
            return false;
    return true;
}

static const om_routerstatus_t *choose(const om_nodelist_t *nl, filt_t *f, om_position_t pos)
{
    f->pos = pos;
    f->need_fast = true;
    const om_routerstatus_t *rs = om_path_choose_weighted(nl, pos, filter, f);
    if (!rs) { /* tor prefers Fast relays but falls back when none qualifies */
        f->need_fast = false;
        rs = om_path_choose_weighted(nl, pos, filter, f);
    }
    return rs;
}

static bool guard_filter(const om_routerstatus_t *rs, void *arg)
{
    filt_t *f = arg;
    f->pos = OM_POS_GUARD;
    f->need_fast = false;
    return filter(rs, f);
}

int om_path_select(const om_nodelist_t *nl, om_guards_t *g, const om_path_opts_t *o,
                   const om_path_request_t *req, const om_routerstatus_t *out[3], char *err,
                   size_t errlen)
{
    if (!nl->consensus) {
        snprintf(err, errlen, "no consensus");
        return -1;
    }
    filt_t f;
    memset(&f, 0, sizeof f);
    f.o = o;
    f.req = req;
    if (req->first) f.chosen[f.n_chosen++] = req->first;
    /* path-spec 2.1: choose the exit first (it is the most constrained), then the guard, then
     * the middle. */
    const om_routerstatus_t *exit = req->last ? req->last : choose(nl, &f, OM_POS_EXIT);
    if (req->last && req->first && om_path_related(req->first, req->last, false)) exit = NULL;
    if (!exit) {
        if (req->port)
            snprintf(err, errlen, "no usable exit allows port %u", req->port);
        else
            snprintf(err, errlen, "no usable exit relay");
        return -1;
    }
    f.chosen[f.n_chosen++] = exit;
    const om_routerstatus_t *guard =
        req->first ? req->first : om_guards_pick(g, nl, guard_filter, &f);
    if (!guard) {
        snprintf(err, errlen, "no usable entry guard (for this exit)");
        return -1;
    }
    if (!req->first) f.chosen[f.n_chosen++] = guard;
    const om_routerstatus_t *mid = choose(nl, &f, OM_POS_MIDDLE);
    if (!mid) {
        snprintf(err, errlen, "no usable middle relay unrelated to %s and %s", guard->nickname,
                 exit->nickname);
        return -1;
    }
    out[0] = guard;
    out[1] = mid;
    out[2] = exit;
    return 0;
}

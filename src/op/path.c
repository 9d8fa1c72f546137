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

/* ---------------------------------------------------------------- node sets */

int om_nodeset_parse(om_nodeset_t *s, const char *csv, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    if (!csv) return 0;
    const char *p = csv;
    while (*p) {
        while (*p == ',' || isspace((unsigned char)*p))
            p++;
        if (!*p) break;
        const char *e = p;
        while (*e && *e != ',' && !isspace((unsigned char)*e))
            e++;
        size_t n = (size_t)(e - p);
        char item[128];
        if (n >= sizeof item) {
            snprintf(err, errlen, "node list entry too long");
            return -1;
        }
        memcpy(item, p, n);
        item[n] = 0;
        p = e;
        if (item[0] == '{') {
            continue; /* country codes: no GeoIP here; they match nothing */
        }
        char *h = item[0] == '$' ? item + 1 : item;
        size_t hl = strcspn(h, "=~");
        if (hl == 40 && item[0] == '$') {
            if (s->n_fp >= OM_NODESET_MAX || om_hex_decode(h, 40, s->fp[s->n_fp], 20) < 0) {
                snprintf(err, errlen, "\"%s\" is not a relay fingerprint", item);
                return -1;
            }
            s->n_fp++;
        } else if (hl == 40 &&
                   om_hex_decode(h, 40, s->fp[s->n_fp < OM_NODESET_MAX ? s->n_fp : 0], 20) == 0) {
            if (s->n_fp >= OM_NODESET_MAX) {
                snprintf(err, errlen, "too many node list entries");
                return -1;
            }
            s->n_fp++;
        } else {
            if (n >= sizeof s->nick[0] || s->n_nick >= OM_NODESET_MAX) {
                snprintf(err, errlen, "\"%s\" is not a nickname or fingerprint", item);
                return -1;
            }
            for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)item[i])) {
                    snprintf(err, errlen, "\"%s\" is not a nickname or fingerprint", item);
                    return -1;
                }
            memcpy(s->nick[s->n_nick], item, n + 1);
            s->n_nick++;
        }
    }
    return 0;
}

bool om_nodeset_empty(const om_nodeset_t *s)
{
    return s->n_fp == 0 && s->n_nick == 0;
}

bool om_nodeset_contains(const om_nodeset_t *s, const om_routerstatus_t *rs)
{
    for (size_t i = 0; i < s->n_fp; i++)
        if (!memcmp(s->fp[i], rs->rsa_id, 20)) return true;
    for (size_t i = 0; i < s->n_nick; i++)
        if (!strcasecmp(s->nick[i], rs->nickname)) return true;
    return false;
}

/* ---------------------------------------------------------------- weights */

double om_path_weight(const om_consensus_t *c, const om_routerstatus_t *rs, om_position_t pos)
{
    bool g = (rs->flags & OM_RS_GUARD) != 0;
    bool e = (rs->flags & OM_RS_EXIT) && !(rs->flags & OM_RS_BADEXIT);
    const char *w;
    /* path-spec 2.2: the weight name by position and by the relay's Guard / Exit flags. */
    switch (pos) {
    case OM_POS_GUARD:
        w = g && e ? "Wgd" : g ? "Wgg" : e ? "Weg" : "Wmg";
        if (!g) return 0;
        break;
    case OM_POS_MIDDLE:
        w = g && e ? "Wmd" : g ? "Wmg" : e ? "Wme" : "Wmm";
        break;
    default:
        if (!e) return 0;
        w = g ? "Wed" : "Wee";
        break;
    }
    double bw = rs->bandwidth;
    return bw * (double)om_consensus_bw_weight(c, w, 10000) / 10000.0;
}

static double rand_unit(void)
{
    uint64_t r;
    om_rand_bytes((uint8_t *)&r, sizeof r);
    return (double)(r >> 11) / (double)(1ull << 53);
}

const om_routerstatus_t *om_path_choose_weighted(const om_nodelist_t *nl, om_position_t pos,
                                                 om_node_filter_fn ok, void *arg)
{
    const om_consensus_t *c = nl->consensus;
    if (!c) return NULL;
    double total = 0;
    size_t n_ok = 0;
    for (size_t i = 0; i < c->n_routers; i++) {
        const om_routerstatus_t *rs = &c->routers[i];
        if (!ok(rs, arg)) continue;
        n_ok++;
        total += om_path_weight(c, rs, pos);
    }
    if (n_ok == 0) return NULL;
    /* All-zero weights: choose uniformly among the candidates, as tor does. */
    bool uniform = total <= 0;
    double target = rand_unit() * (uniform ? (double)n_ok : total);
    const om_routerstatus_t *last = NULL;
    for (size_t i = 0; i < c->n_routers; i++) {
        const om_routerstatus_t *rs = &c->routers[i];
        if (!ok(rs, arg)) continue;
        double w = uniform ? 1.0 : om_path_weight(c, rs, pos);
        if (w <= 0) continue;
        last = rs;
        if (target < w) return rs;
        target -= w;
    }
    return last;
}

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
    /* path-spec 2.1: choose the exit first (it is the most constrained), then the guard, then
     * the middle. */
    const om_routerstatus_t *exit = choose(nl, &f, OM_POS_EXIT);
    if (!exit) {
        if (req->port)
            snprintf(err, errlen, "no usable exit allows port %u", req->port);
        else
            snprintf(err, errlen, "no usable exit relay");
        return -1;
    }
    f.chosen[f.n_chosen++] = exit;
    const om_routerstatus_t *guard = om_guards_pick(g, nl, guard_filter, &f);
    if (!guard) {
        snprintf(err, errlen, "no usable entry guard (for this exit)");
        return -1;
    }
    f.chosen[f.n_chosen++] = guard;
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

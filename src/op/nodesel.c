/* nodesel.c — node sets (EntryNodes-style lists of fingerprints and nicknames) and the
 * bandwidth-weighted choice of a relay for a position (path-spec 2.2/2.3: bandwidth times the
 * consensus's Wxx weight), shared by path.c and guards.c. */
#include "op/nodesel.h"

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

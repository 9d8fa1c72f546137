/* consensus.c — network-status consensus parsing, both flavours (dir-spec 3.4.1, 3.9.1, 3.9.2),
 * and lookups (see consensus.h).
 *
 * Rules enforced (beyond the tokenizer's, netdoc.h):
 *  - the text starts with "network-status-version 3 [ns|microdesc]"; "vote-status consensus";
 *  - sections in order: preamble, authority section (dir-source groups), router entries
 *    ("r" starts each), "directory-footer", then only "directory-signature" items; a preamble
 *    item after the preamble, preamble or authority items among router entries, or an entry
 *    after the footer, are refused;
 *  - exactly-once / at-most-once counts of the items we read; unknown items are ignored;
 *  - router entries sorted strictly by identity, at most OM_CONSENSUS_MAX_ROUTERS, each with
 *    exactly one "s" (flags from "known-flags" only, at most 64 of them) and, in the microdesc
 *    flavour, one "m";
 *  - params strictly sorted by name, values int32; valid-after < fresh-until <= valid-until.
 * Parsing is a single pass without per-line allocation: the router array grows by doubling and
 * identical consecutive "s" and "pr" lines reuse the previous router's parsed value. */
#include "dir/consensus.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "dir/microdesc.h"
#include "dir/netdoc.h"
#include "core/log.h"

static const struct {
    const char *name;
    uint32_t bit;
} flag_names[] = {
    {"Authority", OM_RS_AUTHORITY},
    {"BadExit", OM_RS_BADEXIT},
    {"Exit", OM_RS_EXIT},
    {"Fast", OM_RS_FAST},
    {"Guard", OM_RS_GUARD},
    {"HSDir", OM_RS_HSDIR},
    {"MiddleOnly", OM_RS_MIDDLEONLY},
    {"NoEdConsensus", OM_RS_NOEDCONSENSUS},
    {"Stable", OM_RS_STABLE},
    {"StaleDesc", OM_RS_STALEDESC},
    {"Running", OM_RS_RUNNING},
    {"Valid", OM_RS_VALID},
    {"V2Dir", OM_RS_V2DIR},
    {"Sybil", OM_RS_SYBIL},
};

static uint32_t flag_bit(om_span_t f)
{
    for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++)
        if (om_span_eq(f, flag_names[i].name)) return flag_names[i].bit;
    return 0;
}

static bool span_in(om_span_t needle, const om_span_t *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (list[i].len == needle.len && !memcmp(list[i].p, needle.p, needle.len)) return true;
    return false;
}

static int span_cmp(om_span_t a, om_span_t b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int r = n ? memcmp(a.p, b.p, n) : 0;
    if (r) return r;
    return a.len < b.len ? -1 : a.len > b.len;
}

/* "k=v" int32 list into dst. Returns 0 or -1; sorted: require strictly ascending names. */
static int parse_kv_list(om_span_t args, om_consensus_param_t *dst, size_t max, size_t *n_out,
                         bool sorted)
{
    om_span_t a, prev = {NULL, 0};
    size_t n = 0;
    while (om_netdoc_next_arg(&args, &a)) {
        const char *eq = memchr(a.p, '=', a.len);
        if (!eq || eq == a.p) return -1;
        om_span_t name = om_span(a.p, (size_t)(eq - a.p));
        int32_t v;
        if (om_netdoc_parse_i32(om_span(eq + 1, a.len - name.len - 1), &v) < 0) return -1;
        if (sorted && prev.p && span_cmp(prev, name) >= 0) return -1;
        prev = name;
        if (name.len >= sizeof dst[0].name) continue; /* longer than any name we look up: ignored */
        if (n == max) return -1;
        memcpy(dst[n].name, name.p, name.len);
        dst[n].name[name.len] = '\0';
        dst[n].value = v;
        n++;
    }
    *n_out = n;
    return 0;
}

/* More flags than this in "known-flags" are refused (tor 0.4.9 lists 12; bounds the per-flag
 * lookup of unknown names in "s" lines). */
#define MAX_KNOWN_FLAGS 64

enum section { SEC_PREAMBLE, SEC_AUTH, SEC_ROUTERS, SEC_FOOTER, SEC_SIGS };

/* Preamble items with counts. */
enum {
    P_VOTE_STATUS,
    P_METHOD,
    P_VALID_AFTER,
    P_FRESH_UNTIL,
    P_VALID_UNTIL,
    P_VOTING_DELAY,
    P_CLIENT_VERSIONS,
    P_SERVER_VERSIONS,
    P_KNOWN_FLAGS,
    P_REC_CLIENT,
    P_REC_RELAY,
    P_REQ_CLIENT,
    P_REQ_RELAY,
    P_PARAMS,
    P_SRV_PREV,
    P_SRV_CUR,
    P_N
};
static const char *const preamble_kw[P_N] = {
    "vote-status",
    "consensus-method",
    "valid-after",
    "fresh-until",
    "valid-until",
    "voting-delay",
    "client-versions",
    "server-versions",
    "known-flags",
    "recommended-client-protocols",
    "recommended-relay-protocols",
    "required-client-protocols",
    "required-relay-protocols",
    "params",
    "shared-rand-previous-value",
    "shared-rand-current-value",
};

static int preamble_index(const om_netdoc_item_t *it)
{
    for (int i = 0; i < P_N; i++)
        if (om_netdoc_kw_is(it, preamble_kw[i])) return i;
    return -1;
}

typedef struct {
    om_consensus_t *c;
    size_t cap;
    char *err;
    size_t errlen;
    bool have_known_flags;
    om_span_t unknown_flags[MAX_KNOWN_FLAGS]; /* known-flags entries we have no bit for */
    size_t n_unknown_flags;
    /* current router entry */
    int n_s, n_v, n_pr, n_w, n_p, n_m;
    size_t r_line;
    /* caches of the previous entry's s and pr lines */
    om_span_t last_s, last_pr;
    uint32_t last_s_mask;
    om_protover_t last_pr_val;
} parse_state_t;

static int preamble_item(parse_state_t *st, int k, const om_netdoc_item_t *it)
{
    om_consensus_t *c = st->c;
    om_span_t a[3];
    size_t na = om_netdoc_split(it->args, a, 3);
    uint32_t u, u2;
    om_protover_t *pv = NULL;
    bool *has = NULL;
    switch (k) {
    case P_VOTE_STATUS:
        if (na < 1 || !om_span_eq(a[0], "consensus"))
            return om_errf(st->err, st->errlen,
                           "consensus: line %zu: not a consensus (vote-status)", it->line_no);
        return 0;
    case P_METHOD:
        if (na != 1 || om_netdoc_parse_u32(a[0], 1000000, &u) < 0 || u < 1) break;
        c->consensus_method = (int)u;
        return 0;
    case P_VALID_AFTER:
    case P_FRESH_UNTIL:
    case P_VALID_UNTIL: {
        time_t *t = k == P_VALID_AFTER   ? &c->valid_after
                    : k == P_FRESH_UNTIL ? &c->fresh_until
                                         : &c->valid_until;
        if (na < 2 || om_netdoc_parse_time(a[0], a[1], t) < 0) break;
        return 0;
    }
    case P_VOTING_DELAY:
        if (na < 2 || om_netdoc_parse_u32(a[0], 86400, &u) < 0 ||
            om_netdoc_parse_u32(a[1], 86400, &u2) < 0)
            break;
        c->vote_delay = (int)u;
        c->dist_delay = (int)u2;
        return 0;
    case P_CLIENT_VERSIONS:
    case P_SERVER_VERSIONS:
        return 0;
    case P_KNOWN_FLAGS: {
        om_span_t rest = it->args, f;
        if (it->n_args > MAX_KNOWN_FLAGS) break;
        while (om_netdoc_next_arg(&rest, &f)) {
            uint32_t b = flag_bit(f);
            c->known_flags |= b;
            if (!b) st->unknown_flags[st->n_unknown_flags++] = f;
        }
        st->have_known_flags = true;
        return 0;
    }
    case P_REC_CLIENT:
        pv = &c->recommended_client_proto;
        has = &c->has_recommended_client_proto;
        goto proto;
    case P_REC_RELAY:
        pv = &c->recommended_relay_proto;
        has = &c->has_recommended_relay_proto;
        goto proto;
    case P_REQ_CLIENT:
        pv = &c->required_client_proto;
        has = &c->has_required_client_proto;
        goto proto;
    case P_REQ_RELAY:
        pv = &c->required_relay_proto;
        has = &c->has_required_relay_proto;
    proto:
        if (om_protover_parse(it->args.p, it->args.len, pv) < 0) break;
        *has = true;
        return 0;
    case P_PARAMS:
        if (parse_kv_list(it->args, c->params, OM_CONSENSUS_MAX_PARAMS, &c->n_params, true) < 0)
            break;
        return 0;
    case P_SRV_PREV:
    case P_SRV_CUR: {
        bool prev = k == P_SRV_PREV;
        if (na < 2 || om_netdoc_parse_u32(a[0], UINT32_MAX, &u) < 0 ||
            om_netdoc_b64_exact(a[1], prev ? c->srv_previous : c->srv_current, 32) < 0)
            break;
        if (prev) {
            c->has_srv_previous = true;
            c->srv_previous_reveals = u;
        } else {
            c->has_srv_current = true;
            c->srv_current_reveals = u;
        }
        return 0;
    }
    }
    return om_errf(st->err, st->errlen, "consensus: line %zu: malformed %s", it->line_no,
                   preamble_kw[k]);
}

static int dir_source_item(parse_state_t *st, const om_netdoc_item_t *it)
{
    om_consensus_t *c = st->c;
    om_span_t a[6];
    uint32_t dp, op;
    if (c->n_dir_sources == OM_CONSENSUS_MAX_AUTHORITIES)
        return om_errf(st->err, st->errlen, "consensus: more than %d dir-source entries",
                       OM_CONSENSUS_MAX_AUTHORITIES);
    om_dir_source_t *d = &c->dir_sources[c->n_dir_sources];
    memset(d, 0, sizeof *d);
    if (om_netdoc_split(it->args, a, 6) < 6 || a[0].len == 0 || a[0].len >= sizeof d->nickname ||
        om_netdoc_hex_exact(a[1], d->identity, 20) < 0 || om_netdoc_parse_ipv4(a[3], d->ipv4) < 0 ||
        om_netdoc_parse_u32(a[4], 65535, &dp) < 0 || om_netdoc_parse_u32(a[5], 65535, &op) < 0)
        return om_errf(st->err, st->errlen, "consensus: line %zu: malformed dir-source",
                       it->line_no);
    om_span_t nick = a[0];
    if (om_span_starts(om_span(nick.p + (nick.len > 7 ? nick.len - 7 : 0), 7), "-legacy") &&
        nick.len > 7)
        nick.len -= 7;
    if (!om_netdoc_is_nickname(nick))
        return om_errf(st->err, st->errlen, "consensus: line %zu: bad dir-source nickname",
                       it->line_no);
    memcpy(d->nickname, a[0].p, a[0].len);
    d->dir_port = (uint16_t)dp;
    d->or_port = (uint16_t)op;
    c->n_dir_sources++;
    return 0;
}

static int start_router(parse_state_t *st, const om_netdoc_item_t *it)
{
    om_consensus_t *c = st->c;
    if (c->n_routers == OM_CONSENSUS_MAX_ROUTERS)
        return om_errf(st->err, st->errlen, "consensus: more than %d routers",
                       OM_CONSENSUS_MAX_ROUTERS);
    if (c->n_routers == st->cap) {
        size_t nc = st->cap ? st->cap * 2 : 1024;
        if (nc > OM_CONSENSUS_MAX_ROUTERS) nc = OM_CONSENSUS_MAX_ROUTERS;
        om_routerstatus_t *nr = realloc(c->routers, nc * sizeof *nr);
        if (!nr) return om_errf(st->err, st->errlen, "consensus: out of memory");
        c->routers = nr;
        st->cap = nc;
    }
    om_routerstatus_t *r = &c->routers[c->n_routers];
    memset(r, 0, sizeof *r);
    om_span_t a[8];
    size_t want = c->microdesc_flavor ? 7 : 8, off = c->microdesc_flavor ? 0 : 1;
    uint32_t orp, dirp;
    if (om_netdoc_split(it->args, a, 8) < want || !om_netdoc_is_nickname(a[0]) ||
        om_netdoc_b64_exact(a[1], r->rsa_id, 20) < 0 ||
        (!c->microdesc_flavor && om_netdoc_b64_exact(a[2], r->desc_digest, 20) < 0) ||
        om_netdoc_parse_time(a[2 + off], a[3 + off], &r->published) < 0 ||
        om_netdoc_parse_ipv4(a[4 + off], r->ipv4) < 0 ||
        om_netdoc_parse_u32(a[5 + off], 65535, &orp) < 0 ||
        om_netdoc_parse_u32(a[6 + off], 65535, &dirp) < 0)
        return om_errf(st->err, st->errlen, "consensus: line %zu: malformed r line", it->line_no);
    memcpy(r->nickname, a[0].p, a[0].len);
    r->or_port = (uint16_t)orp;
    r->dir_port = (uint16_t)dirp;
    if (c->n_routers > 0 && memcmp(c->routers[c->n_routers - 1].rsa_id, r->rsa_id, 20) >= 0)
        return om_errf(st->err, st->errlen,
                       "consensus: line %zu: router entries not sorted by identity", it->line_no);
    c->n_routers++;
    st->n_s = st->n_v = st->n_pr = st->n_w = st->n_p = st->n_m = 0;
    st->r_line = it->line_no;
    return 0;
}

static int end_router(parse_state_t *st)
{
    if (st->c->n_routers == 0) return 0;
    if (st->n_s != 1)
        return om_errf(st->err, st->errlen, "consensus: router entry at line %zu: %s s line",
                       st->r_line, st->n_s ? "more than one" : "no");
    if (st->c->microdesc_flavor && st->n_m != 1)
        return om_errf(st->err, st->errlen, "consensus: router entry at line %zu: %s m line",
                       st->r_line, st->n_m ? "more than one" : "no");
    if (st->n_v > 1 || st->n_pr > 1 || st->n_w > 1 || st->n_p > 1)
        return om_errf(st->err, st->errlen,
                       "consensus: router entry at line %zu: v, pr, w or p appears twice",
                       st->r_line);
    return 0;
}

static int router_item(parse_state_t *st, const om_netdoc_item_t *it)
{
    om_consensus_t *c = st->c;
    om_routerstatus_t *r = &c->routers[c->n_routers - 1];
    const om_span_t args = it->args;
    om_span_t a[2], rest, f;
    const char *kw = it->kw.p;
    size_t kl = it->kw.len;
    bool known = (kl == 1 && strchr("smavwp", kw[0])) || (kl == 2 && kw[0] == 'p' && kw[1] == 'r');
    if (known && it->has_object)
        return om_errf(st->err, st->errlen, "consensus: line %zu: unexpected object", it->line_no);
    if (kl == 1 && kw[0] == 's') {
        if (st->n_s++) return 0;
        if (!st->have_known_flags)
            return om_errf(st->err, st->errlen, "consensus: line %zu: missing known-flags",
                           it->line_no);
        if (st->last_s.p && args.len == st->last_s.len && !memcmp(args.p, st->last_s.p, args.len)) {
            r->flags = st->last_s_mask;
            return 0;
        }
        uint32_t mask = 0;
        rest = args;
        while (om_netdoc_next_arg(&rest, &f)) {
            uint32_t b = flag_bit(f);
            if (b ? !(c->known_flags & b) : !span_in(f, st->unknown_flags, st->n_unknown_flags))
                return om_errf(st->err, st->errlen,
                               "consensus: line %zu: flag '%.*s' not in known-flags", it->line_no,
                               (int)(f.len > 32 ? 32 : f.len), f.p);
            mask |= b;
        }
        r->flags = mask;
        st->last_s = args;
        st->last_s_mask = mask;
    } else if (kl == 1 && kw[0] == 'm') {
        if (!c->microdesc_flavor || st->n_m++)
            return 0; /* ns: not a consensus item; duplicates are caught in end_router */
        if (om_netdoc_split(args, a, 1) < 1 || om_netdoc_b64_exact(a[0], r->md_digest, 32) < 0)
            return om_errf(st->err, st->errlen, "consensus: line %zu: malformed m line",
                           it->line_no);
    } else if (kl == 1 && kw[0] == 'a') {
        if (om_netdoc_split(args, a, 1) < 1)
            return om_errf(st->err, st->errlen, "consensus: line %zu: malformed a line",
                           it->line_no);
        if (a[0].len && a[0].p[0] == '[') {
            uint8_t ip6[16];
            uint16_t port;
            if (om_netdoc_parse_ipv6_port(a[0], ip6, &port) < 0)
                return om_errf(st->err, st->errlen, "consensus: line %zu: malformed a line",
                               it->line_no);
            if (!r->has_ipv6) { /* only the first IPv6 address is used (dir-spec 3.4.1) */
                r->has_ipv6 = true;
                memcpy(r->ipv6, ip6, 16);
                r->ipv6_port = port;
            }
        } /* IPv4 "a" addresses are ignored */
    } else if (kl == 1 && kw[0] == 'v') {
        if (st->n_v++) return 0;
        size_t n = args.len < sizeof r->version - 1 ? args.len : sizeof r->version - 1;
        memcpy(r->version, args.p, n);
        r->version[n] = '\0';
    } else if (kl == 2 && kw[0] == 'p' && kw[1] == 'r') {
        if (st->n_pr++) return 0;
        if (st->last_pr.p && args.len == st->last_pr.len &&
            !memcmp(args.p, st->last_pr.p, args.len)) {
            r->proto = st->last_pr_val;
        } else {
            if (om_protover_parse(args.p, args.len, &r->proto) < 0)
                return om_errf(st->err, st->errlen, "consensus: line %zu: malformed pr line",
                               it->line_no);
            st->last_pr = args;
            st->last_pr_val = r->proto;
        }
        r->has_proto = true;
    } else if (kl == 1 && kw[0] == 'w') {
        if (st->n_w++) return 0;
        rest = args;
        while (om_netdoc_next_arg(&rest, &f)) {
            uint32_t v;
            if (om_span_starts(f, "Bandwidth=")) {
                if (om_netdoc_parse_u32(om_span(f.p + 10, f.len - 10), UINT32_MAX, &v) < 0)
                    return om_errf(st->err, st->errlen, "consensus: line %zu: bad Bandwidth",
                                   it->line_no);
                r->bandwidth = v;
            } else if (om_span_starts(f, "Unmeasured=")) {
                if (om_netdoc_parse_u32(om_span(f.p + 11, f.len - 11), UINT32_MAX, &v) < 0)
                    return om_errf(st->err, st->errlen, "consensus: line %zu: bad Unmeasured",
                                   it->line_no);
                r->bw_unmeasured = v == 1;
            } /* other keywords are ignored */
        }
    } else if (kl == 1 && kw[0] == 'p') {
        if (st->n_p++) return 0;
        om_policy_summary_t ps;
        if (om_policy_summary_parse(args.p, args.len, &ps) < 0)
            return om_errf(st->err, st->errlen, "consensus: line %zu: malformed p line",
                           it->line_no);
    }
    /* "id", "stats" (votes only) and unknown items are ignored */
    return 0;
}

static int signature_item(parse_state_t *st, const om_netdoc_item_t *it)
{
    om_consensus_t *c = st->c;
    om_span_t a[3];
    size_t na = om_netdoc_split(it->args, a, 3);
    om_sig_alg_t alg = OM_SIG_SHA1;
    size_t o = 0;
    bool known = true;
    if (na < 2)
        return om_errf(st->err, st->errlen, "consensus: line %zu: malformed directory-signature",
                       it->line_no);
    if (na > 2) {
        o = 1;
        if (om_span_eq(a[0], "sha256"))
            alg = OM_SIG_SHA256;
        else if (!om_span_eq(a[0], "sha1"))
            known = false; /* dir-spec 3.4.1: unknown algorithms are ignored */
    }
    if (!om_netdoc_obj_is(it, "SIGNATURE"))
        return om_errf(st->err, st->errlen,
                       "consensus: line %zu: directory-signature without a "
                       "SIGNATURE object",
                       it->line_no);
    om_consensus_sig_t s;
    memset(&s, 0, sizeof s);
    if (om_netdoc_hex_exact(a[o], s.identity, 20) < 0 ||
        om_netdoc_hex_exact(a[o + 1], s.signing_key_digest, 20) < 0)
        return om_errf(st->err, st->errlen, "consensus: line %zu: malformed directory-signature",
                       it->line_no);
    int sl = om_netdoc_object_decode(it, s.sig, sizeof s.sig);
    if (sl <= 0)
        return om_errf(st->err, st->errlen, "consensus: line %zu: bad signature object",
                       it->line_no);
    if (!known) return 0;
    if (c->n_sigs == OM_CONSENSUS_MAX_SIGS)
        return om_errf(st->err, st->errlen, "consensus: more than %d signatures",
                       OM_CONSENSUS_MAX_SIGS);
    s.alg = alg;
    s.siglen = (size_t)sl;
    c->sigs[c->n_sigs++] = s;
    return 0;
}

static int parse_body(parse_state_t *st, const char *text, size_t len)
{
    om_consensus_t *c = st->c;
    om_netdoc_iter_t it;
    om_netdoc_item_t item;
    int pcount[P_N] = {0};
    enum section sec = SEC_PREAMBLE;
    size_t n_sig_items = 0;
    char *err = st->err;
    size_t errlen = st->errlen;

    om_netdoc_init(&it, text, len);
    int r = om_netdoc_next(&it, &item);
    if (r < 0) return om_errf(err, errlen, "consensus: %s", it.err);
    if (r == 0 || item.start != 0 || !om_netdoc_kw_is(&item, "network-status-version"))
        return om_errf(err, errlen, "consensus: does not start with network-status-version");
    {
        om_span_t a[2];
        size_t na = om_netdoc_split(item.args, a, 2);
        if (na < 1 || !om_span_eq(a[0], "3"))
            return om_errf(err, errlen, "consensus: unsupported network-status-version");
        if (na >= 2 && om_span_eq(a[1], "microdesc"))
            c->microdesc_flavor = true;
        else if (na >= 2 && !om_span_eq(a[1], "ns"))
            return om_errf(err, errlen, "consensus: unsupported flavour '%.*s'",
                           (int)(a[1].len > 32 ? 32 : a[1].len), a[1].p);
    }
    c->consensus_method = 1;

    for (;;) {
        r = om_netdoc_next(&it, &item);
        if (r < 0) return om_errf(err, errlen, "consensus: %s", it.err);
        if (r == 0) break;
        if (om_netdoc_kw_is(&item, "network-status-version"))
            return om_errf(err, errlen, "consensus: line %zu: second network-status-version",
                           item.line_no);
        if (sec == SEC_SIGS) {
            if (!om_netdoc_kw_is(&item, "directory-signature"))
                return om_errf(
                    err, errlen,
                    "consensus: line %zu: only signatures may follow directory-signature",
                    item.line_no);
            n_sig_items++;
            if (signature_item(st, &item) < 0) return -1;
            continue;
        }
        if (om_netdoc_kw_is(&item, "directory-signature")) {
            if (sec != SEC_FOOTER)
                return om_errf(err, errlen,
                               "consensus: line %zu: directory-signature before directory-footer",
                               item.line_no);
            /* dir-spec 3.4.1: the signed portion runs through the space after the keyword of
             * the first signature. */
            if (item.kw.len + 1 > item.line_end - item.start || text[item.start + 19] != ' ')
                return om_errf(err, errlen, "consensus: line %zu: malformed directory-signature",
                               item.line_no);
            c->signed_len = item.start + 20;
            sec = SEC_SIGS;
            n_sig_items++;
            if (signature_item(st, &item) < 0) return -1;
            continue;
        }
        if (om_netdoc_kw_is(&item, "directory-footer")) {
            if (sec == SEC_PREAMBLE || sec == SEC_FOOTER)
                return om_errf(err, errlen, "consensus: line %zu: misplaced directory-footer",
                               item.line_no);
            if (item.n_args != 0 || item.has_object)
                return om_errf(err, errlen, "consensus: line %zu: malformed directory-footer",
                               item.line_no);
            if (sec == SEC_ROUTERS && end_router(st) < 0) return -1;
            sec = SEC_FOOTER;
            continue;
        }
        if (item.kw.len == 1 && item.kw.p[0] == 'r') {
            if (sec == SEC_PREAMBLE || sec == SEC_FOOTER)
                return om_errf(err, errlen, "consensus: line %zu: router entry %s", item.line_no,
                               sec == SEC_FOOTER ? "after directory-footer"
                                                 : "before any dir-source");
            if (sec == SEC_ROUTERS && end_router(st) < 0) return -1;
            sec = SEC_ROUTERS;
            if (start_router(st, &item) < 0) return -1;
            continue;
        }
        int k = preamble_index(&item);
        if (sec == SEC_ROUTERS) {
            if (k >= 0 || om_netdoc_kw_is(&item, "dir-source") ||
                om_netdoc_kw_is(&item, "contact") || om_netdoc_kw_is(&item, "vote-digest"))
                return om_errf(err, errlen, "consensus: line %zu: %.*s among router entries",
                               item.line_no, (int)item.kw.len, item.kw.p);
            if (router_item(st, &item) < 0) return -1;
            continue;
        }
        if (sec == SEC_FOOTER) {
            if (om_netdoc_kw_is(&item, "bandwidth-weights")) {
                if (c->n_bw_weights)
                    return om_errf(err, errlen, "consensus: line %zu: second bandwidth-weights",
                                   item.line_no);
                if (parse_kv_list(item.args, c->bw_weights, OM_CONSENSUS_MAX_BW_WEIGHTS,
                                  &c->n_bw_weights, false) < 0)
                    return om_errf(err, errlen, "consensus: line %zu: malformed bandwidth-weights",
                                   item.line_no);
            } else if (k >= 0 || om_netdoc_kw_is(&item, "dir-source")) {
                return om_errf(err, errlen, "consensus: line %zu: %.*s in the footer", item.line_no,
                               (int)item.kw.len, item.kw.p);
            }
            continue;
        }
        if (om_netdoc_kw_is(&item, "dir-source")) {
            sec = SEC_AUTH;
            if (dir_source_item(st, &item) < 0) return -1;
            continue;
        }
        if (om_netdoc_kw_is(&item, "vote-digest")) {
            if (sec != SEC_AUTH)
                return om_errf(err, errlen,
                               "consensus: line %zu: vote-digest outside the "
                               "authority section",
                               item.line_no);
            om_span_t a[1];
            uint8_t d[32];
            om_dir_source_t *ds = &c->dir_sources[c->n_dir_sources - 1];
            if (om_netdoc_split(item.args, a, 1) < 1 ||
                (om_netdoc_hex_exact(a[0], d, 20) < 0 && om_netdoc_hex_exact(a[0], d, 32) < 0) ||
                ds->has_vote_digest)
                return om_errf(err, errlen, "consensus: line %zu: malformed vote-digest",
                               item.line_no);
            ds->has_vote_digest = true;
            continue;
        }
        if (k < 0) continue; /* unknown or ignored item (contact, package, ...) */
        if (sec != SEC_PREAMBLE)
            return om_errf(err, errlen, "consensus: line %zu: %s after the preamble", item.line_no,
                           preamble_kw[k]);
        if (item.has_object)
            return om_errf(err, errlen, "consensus: line %zu: unexpected object", item.line_no);
        if (pcount[k]++)
            return om_errf(err, errlen, "consensus: line %zu: %s appears twice", item.line_no,
                           preamble_kw[k]);
        if (preamble_item(st, k, &item) < 0) return -1;
    }
    if (sec != SEC_SIGS || n_sig_items == 0)
        return om_errf(err, errlen, "consensus: truncated (%s)",
                       sec == SEC_FOOTER ? "no directory-signature" : "no directory-footer");
    static const int required[] = {P_VOTE_STATUS, P_VALID_AFTER,  P_FRESH_UNTIL,
                                   P_VALID_UNTIL, P_VOTING_DELAY, P_KNOWN_FLAGS};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!pcount[required[i]])
            return om_errf(err, errlen, "consensus: missing %s", preamble_kw[required[i]]);
    if (c->n_dir_sources == 0) return om_errf(err, errlen, "consensus: no dir-source");
    if (!(c->valid_after < c->fresh_until && c->fresh_until <= c->valid_until))
        return om_errf(err, errlen,
                       "consensus: valid-after, fresh-until, valid-until out of order");
    return 0;
}

om_consensus_t *om_consensus_parse(const char *text, size_t len, char *err, size_t errlen)
{
    if (!text || len == 0) {
        om_errf(err, errlen, "consensus: empty document");
        return NULL;
    }
    if (len > OM_CONSENSUS_MAX_SIZE) {
        om_errf(err, errlen, "consensus: document larger than %u bytes", OM_CONSENSUS_MAX_SIZE);
        return NULL;
    }
    if (memchr(text, '\0', len)) {
        om_errf(err, errlen, "consensus: NUL byte in document");
        return NULL;
    }
    om_consensus_t *c = calloc(1, sizeof *c);
    if (!c) {
        om_errf(err, errlen, "consensus: out of memory");
        return NULL;
    }
    parse_state_t st;
    memset(&st, 0, sizeof st);
    st.c = c;
    st.err = err;
    st.errlen = errlen;
    if (parse_body(&st, text, len) < 0) goto bad;
    if (om_sha1((const uint8_t *)text, c->signed_len, c->signed_digest_sha1) < 0 ||
        om_sha256((const uint8_t *)text, c->signed_len, c->signed_digest_sha256) < 0) {
        om_errf(err, errlen, "consensus: digest failed");
        goto bad;
    }
    return c;
bad:
    om_consensus_free(c);
    return NULL;
}

void om_consensus_free(om_consensus_t *c)
{
    if (!c) return;
    free(c->routers);
    free(c);
}

om_consensus_t *om_consensus_dup(const om_consensus_t *c)
{
    om_consensus_t *d = c ? malloc(sizeof *d) : NULL;
    if (!d) return NULL;
    *d = *c;
    d->routers = malloc((c->n_routers ? c->n_routers : 1) * sizeof *d->routers);
    if (!d->routers) {
        free(d);
        return NULL;
    }
    if (c->n_routers) memcpy(d->routers, c->routers, c->n_routers * sizeof *d->routers);
    for (size_t i = 0; i < d->n_routers; i++)
        d->routers[i].md = NULL;
    return d;
}

int32_t om_consensus_param(const om_consensus_t *c, const char *name, int32_t def, int32_t min,
                           int32_t max)
{
    int32_t v = def;
    size_t lo = 0, hi = c ? c->n_params : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = strcmp(name, c->params[mid].name);
        if (r == 0) {
            v = c->params[mid].value;
            break;
        }
        if (r < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    if (v < min) v = min;
    if (v > max) v = max;
    return v;
}

int32_t om_consensus_bw_weight(const om_consensus_t *c, const char *name, int32_t def)
{
    for (size_t i = 0; c && i < c->n_bw_weights; i++)
        if (!strcmp(c->bw_weights[i].name, name)) return c->bw_weights[i].value;
    return def;
}

const om_routerstatus_t *om_consensus_find(const om_consensus_t *c, const uint8_t rsa_id[20])
{
    size_t lo = 0, hi = c ? c->n_routers : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = memcmp(rsa_id, c->routers[mid].rsa_id, 20);
        if (r == 0) return &c->routers[mid];
        if (r < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

static int md_ptr_cmp(const void *a, const void *b)
{
    const om_microdesc_t *x = *(const om_microdesc_t *const *)a;
    const om_microdesc_t *y = *(const om_microdesc_t *const *)b;
    return memcmp(x->digest, y->digest, 32);
}

size_t om_consensus_attach_microdescs(om_consensus_t *c, om_microdesc_t *mds, size_t n)
{
    if (!c || !mds || n == 0) return 0;
    om_microdesc_t **idx = malloc(n * sizeof *idx);
    if (!idx) return 0;
    for (size_t i = 0; i < n; i++)
        idx[i] = &mds[i];
    qsort(idx, n, sizeof *idx, md_ptr_cmp);
    size_t attached = 0;
    for (size_t r = 0; r < c->n_routers; r++) {
        size_t lo = 0, hi = n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            int k = memcmp(c->routers[r].md_digest, idx[mid]->digest, 32);
            if (k == 0) {
                c->routers[r].md = idx[mid];
                attached++;
                break;
            }
            if (k < 0)
                hi = mid;
            else
                lo = mid + 1;
        }
    }
    free(idx);
    return attached;
}

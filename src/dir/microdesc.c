/* microdesc.c — microdescriptors (dir-spec 3.3) and exit policy summaries (dir-spec 3.4.1 "p",
 * 3.8.2) (see microdesc.h). */
#include "dir/microdesc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "dir/netdoc.h"
#include "core/log.h"

/* ---- exit policy summaries ---- */

#define POLICY_PARSE_MAX 1024 /* ranges accepted while parsing (> any 1000-char summary) */

int om_policy_summary_parse(const char *s, size_t len, om_policy_summary_t *out)
{
    uint16_t lo[POLICY_PARSE_MAX], hi[POLICY_PARSE_MAX];
    memset(out, 0, sizeof *out);
    if (len > OM_POLICY_MAX_LEN) return -1;
    om_span_t rest = om_span(s, len), kind, list;
    if (!om_netdoc_next_arg(&rest, &kind) || !om_netdoc_next_arg(&rest, &list)) return -1;
    bool accept;
    if (om_span_eq(kind, "accept"))
        accept = true;
    else if (om_span_eq(kind, "reject"))
        accept = false;
    else
        return -1;
    size_t n = 0, i = 0;
    while (i <= list.len) {
        size_t st = i;
        while (i < list.len && list.p[i] != ',')
            i++;
        om_span_t item = om_span(list.p + st, i - st);
        const char *dash = memchr(item.p, '-', item.len);
        uint32_t a, b;
        if (dash) {
            size_t dl = (size_t)(dash - item.p);
            if (om_netdoc_parse_u32(om_span(item.p, dl), 65535, &a) < 0 ||
                om_netdoc_parse_u32(om_span(dash + 1, item.len - dl - 1), 65535, &b) < 0)
                return -1;
        } else {
            if (om_netdoc_parse_u32(item, 65535, &a) < 0) return -1;
            b = a;
        }
        if (a == 0 || a > b || (n > 0 && a <= hi[n - 1]) || n == POLICY_PARSE_MAX) return -1;
        lo[n] = (uint16_t)a;
        hi[n] = (uint16_t)b;
        n++;
        i++; /* past ',' (or past the end, ending the loop) */
    }
    out->present = true;
    if (n <= OM_POLICY_MAX_RANGES) {
        out->accept = accept;
        out->n = (uint16_t)n;
        memcpy(out->lo, lo, n * sizeof lo[0]);
        memcpy(out->hi, hi, n * sizeof hi[0]);
        return 0;
    }
    /* Too many ranges to store: keep a subset of the allowed ports (see microdesc.h). */
    out->accept = true;
    out->truncated = true;
    if (accept) {
        out->n = OM_POLICY_MAX_RANGES;
        memcpy(out->lo, lo, sizeof out->lo);
        memcpy(out->hi, hi, sizeof out->hi);
        return 0;
    }
    uint32_t next = 1; /* first port not yet known to be rejected */
    for (size_t k = 0; k <= n && out->n < OM_POLICY_MAX_RANGES; k++) {
        uint32_t gap_end = k < n ? (uint32_t)lo[k] - 1 : 65535;
        if (next <= gap_end) {
            out->lo[out->n] = (uint16_t)next;
            out->hi[out->n] = (uint16_t)gap_end;
            out->n++;
        }
        if (k < n) next = (uint32_t)hi[k] + 1;
    }
    return 0;
}

bool om_policy_summary_allows(const om_policy_summary_t *p, uint16_t port)
{
    if (!p || !p->present || port == 0) return false;
    size_t lo = 0, hi = p->n;
    bool listed = false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (port < p->lo[mid]) {
            hi = mid;
        } else if (port > p->hi[mid]) {
            lo = mid + 1;
        } else {
            listed = true;
            break;
        }
    }
    return listed == p->accept;
}

/* ---- microdescriptors ---- */

typedef struct {
    size_t start; /* offset of the current microdesc's "onion-key" */
    int n_ntor, n_family, n_famids, n_p, n_p6, n_ided, n_idrsa;
} md_state_t;

static int finish_md(struct om_microdesc *md, const md_state_t *st, size_t idx, const char *text,
                     size_t end, char *err, size_t errlen)
{
    if (st->n_ntor != 1)
        return om_errf(err, errlen, "microdesc %zu: %s ntor-onion-key", idx,
                       st->n_ntor ? "more than one" : "no");
    if (st->n_family > 1 || st->n_famids > 1 || st->n_p > 1 || st->n_p6 > 1 || st->n_ided > 1 ||
        st->n_idrsa > 1)
        return om_errf(err, errlen, "microdesc %zu: an at-most-once item appears twice", idx);
    md->has_ntor = true;
    if (om_sha256((const uint8_t *)text + st->start, end - st->start, md->digest) < 0)
        return om_errf(err, errlen, "microdesc: digest failed");
    return 0;
}

static int parse_item(struct om_microdesc *md, md_state_t *st, size_t idx,
                      const om_netdoc_item_t *it, char *err, size_t errlen)
{
    om_span_t a[2];
    bool known = true;
    if (om_netdoc_kw_is(it, "ntor-onion-key")) {
        st->n_ntor++;
        if (om_netdoc_split(it->args, a, 1) < 1 || om_netdoc_b64_exact(a[0], md->ntor_key, 32) < 0)
            return om_errf(err, errlen, "microdesc %zu: line %zu: bad ntor-onion-key", idx,
                           it->line_no);
    } else if (om_netdoc_kw_is(it, "id")) {
        if (om_netdoc_split(it->args, a, 2) < 2)
            return om_errf(err, errlen, "microdesc %zu: line %zu: bad id line", idx, it->line_no);
        if (om_span_eq(a[0], "ed25519")) {
            st->n_ided++;
            if (om_netdoc_b64_exact(a[1], md->ed_id, 32) < 0)
                return om_errf(err, errlen, "microdesc %zu: line %zu: bad ed25519 id", idx,
                               it->line_no);
            md->has_ed = true;
        } else if (om_span_eq(a[0], "rsa1024")) {
            uint8_t rsa[20];
            st->n_idrsa++;
            if (om_netdoc_b64_exact(a[1], rsa, 20) < 0)
                return om_errf(err, errlen, "microdesc %zu: line %zu: bad rsa1024 id", idx,
                               it->line_no);
        } /* unknown key types are ignored (dir-spec 3.3) */
    } else if (om_netdoc_kw_is(it, "family")) {
        if (st->n_family++ == 0)
            om_netdoc_copy_list(md->family, sizeof md->family, it->args, &md->family_truncated);
    } else if (om_netdoc_kw_is(it, "family-ids")) {
        if (st->n_famids++ == 0)
            om_netdoc_copy_list(md->family_ids, sizeof md->family_ids, it->args,
                                &md->family_ids_truncated);
    } else if (om_netdoc_kw_is(it, "p")) {
        if (st->n_p++ == 0 && om_policy_summary_parse(it->args.p, it->args.len, &md->p4) < 0)
            return om_errf(err, errlen, "microdesc %zu: line %zu: bad p line", idx, it->line_no);
    } else if (om_netdoc_kw_is(it, "p6")) {
        if (st->n_p6++ == 0 && om_policy_summary_parse(it->args.p, it->args.len, &md->p6) < 0)
            return om_errf(err, errlen, "microdesc %zu: line %zu: bad p6 line", idx, it->line_no);
    } else {
        known = false; /* "a", "pr", and future items are ignored */
    }
    if (known && it->has_object)
        return om_errf(err, errlen, "microdesc %zu: line %zu: unexpected object", idx, it->line_no);
    return 0;
}

struct om_microdesc *om_microdesc_parse_many(const char *text, size_t len, size_t *n, char *err,
                                             size_t errlen)
{
    struct om_microdesc *arr = NULL;
    size_t cnt = 0, cap = 0;
    md_state_t st;
    om_netdoc_iter_t it;
    om_netdoc_item_t item;
    *n = 0;
    memset(&st, 0, sizeof st);
    if (!text || memchr(text, '\0', len)) {
        om_errf(err, errlen, "microdesc: NUL byte in document");
        return NULL;
    }
    om_netdoc_init(&it, text, len);
    for (;;) {
        int r = om_netdoc_next(&it, &item);
        if (r < 0) {
            om_errf(err, errlen, "microdesc: %s", it.err);
            goto bad;
        }
        if (r == 0) break;
        if (om_netdoc_kw_is(&item, "onion-key")) {
            /* dir-spec 3.3: "onion-key" starts each microdescriptor; its (obsolete TAP) key
             * object is optional now; no arguments. */
            if (cnt && finish_md(&arr[cnt - 1], &st, cnt, text, item.start, err, errlen) < 0)
                goto bad;
            if (item.n_args != 0) {
                om_errf(err, errlen, "microdesc: line %zu: onion-key takes no arguments",
                        item.line_no);
                goto bad;
            }
            if (item.has_object) {
                uint8_t der[2048];
                if (!om_netdoc_obj_is(&item, "RSA PUBLIC KEY") ||
                    om_netdoc_object_decode(&item, der, sizeof der) <= 0) {
                    om_errf(err, errlen, "microdesc: line %zu: bad onion-key object", item.line_no);
                    goto bad;
                }
            }
            if (cnt == OM_MICRODESC_MAX_PER_DOC) {
                om_errf(err, errlen, "microdesc: more than %d microdescriptors",
                        OM_MICRODESC_MAX_PER_DOC);
                goto bad;
            }
            if (cnt == cap) {
                size_t nc = cap ? cap * 2 : 16;
                struct om_microdesc *na = realloc(arr, nc * sizeof *na);
                if (!na) {
                    om_errf(err, errlen, "microdesc: out of memory");
                    goto bad;
                }
                arr = na;
                cap = nc;
            }
            memset(&arr[cnt], 0, sizeof arr[0]);
            memset(&st, 0, sizeof st);
            st.start = item.start;
            cnt++;
            continue;
        }
        if (cnt == 0) {
            om_errf(err, errlen, "microdesc: line %zu: expected onion-key", item.line_no);
            goto bad;
        }
        if (parse_item(&arr[cnt - 1], &st, cnt, &item, err, errlen) < 0) goto bad;
    }
    if (cnt == 0) {
        om_errf(err, errlen, "microdesc: no microdescriptor");
        goto bad;
    }
    if (finish_md(&arr[cnt - 1], &st, cnt, text, len, err, errlen) < 0) goto bad;
    *n = cnt;
    return arr;
bad:
    free(arr);
    return NULL;
}

void om_microdesc_free_array(struct om_microdesc *a, size_t n)
{
    (void)n;
    free(a);
}

bool om_microdesc_family_lists(const struct om_microdesc *md, const uint8_t rsa_id[20])
{
    if (md->family_truncated) return true;
    om_span_t rest = om_span(md->family, strlen(md->family)), a;
    while (om_netdoc_next_arg(&rest, &a)) {
        uint8_t id[20];
        if (a.len < 41 || a.p[0] != '$') continue;
        if (a.len > 41 && a.p[41] != '=' && a.p[41] != '~') continue;
        if (om_netdoc_hex_exact(om_span(a.p + 1, 40), id, 20) == 0 && !memcmp(id, rsa_id, 20))
            return true;
    }
    return false;
}

bool om_microdesc_share_family_id(const struct om_microdesc *a, const struct om_microdesc *b)
{
    if (!a->family_ids[0] || !b->family_ids[0]) return false;
    if (a->family_ids_truncated || b->family_ids_truncated) return true;
    om_span_t ra = om_span(a->family_ids, strlen(a->family_ids)), x;
    while (om_netdoc_next_arg(&ra, &x)) {
        om_span_t rb = om_span(b->family_ids, strlen(b->family_ids)), y;
        while (om_netdoc_next_arg(&rb, &y))
            if (x.len == y.len && !memcmp(x.p, y.p, x.len)) return true;
    }
    return false;
}

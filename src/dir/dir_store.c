/* dir_store.c — the documents the directory engine holds and the rules for taking new ones
 * (see dir_store.h): certificates (dir-spec 3.1), consensuses (dir-spec 3.4.1), microdescriptors
 * (dir-spec 3.3). */
#include "dir/dir_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/log.h"
#include "dir/dir_policy.h"
#include "dir/netdoc.h"

static void doc_clear(om_dir_doc_t *d)
{
    free(d->text);
    free(d->z);
    uint64_t gen = d->gen;
    memset(d, 0, sizeof *d);
    d->gen = gen + 1;
}

/* Install text as d's text (a NUL-terminated copy) and, in a cache, its zlib stream. */
static int doc_set(om_dir_doc_t *d, const char *text, size_t len, bool compress)
{
    char *t = malloc(len + 1);
    if (!t) return -1;
    memcpy(t, text, len);
    t[len] = '\0';
    uint8_t *z = NULL;
    size_t zlen = 0;
    if (compress) {
        om_dir_chunk_t ch;
        const om_dir_chunk_t *one = &ch;
        if (om_dir_chunk_make(t, len, &ch) < 0) {
            free(t);
            return -1;
        }
        int r = om_dir_chunks_join(&one, 1, &z, &zlen);
        om_dir_chunk_free(&ch);
        if (r < 0) {
            free(t);
            return -1;
        }
    }
    free(d->text);
    free(d->z);
    d->text = t;
    d->len = len;
    d->z = z;
    d->zlen = zlen;
    d->gen++;
    return 0;
}

int om_dir_store_init(om_dir_store_t *st, bool cache, const uint8_t (*trusted)[20], size_t n)
{
    memset(st, 0, sizeof *st);
    st->cache = cache;
    st->trusted = calloc(n ? n : 1, 20);
    if (!st->trusted) return -1;
    if (n) memcpy(st->trusted, trusted, n * 20);
    st->n_trusted = n;
    return 0;
}

static void drop_mds(om_dir_store_t *st)
{
    for (size_t i = 0; i < st->n_mds; i++) {
        free(st->mds[i].text);
        om_dir_chunk_free(&st->mds[i].chunk);
    }
    free(st->mds);
    st->mds = NULL;
    st->n_mds = 0;
}

void om_dir_store_clear(om_dir_store_t *st)
{
    for (size_t i = 0; i < st->n_certs; i++) {
        om_authcert_free(st->certs[i]);
        free(st->cert_texts[i]);
    }
    free(st->certs);
    free(st->cert_texts);
    free(st->cert_lens);
    doc_clear(&st->certs_doc);
    doc_clear(&st->cons[0]);
    doc_clear(&st->cons[1]);
    om_consensus_free(st->md_consensus);
    drop_mds(st);
    free(st->wanted);
    free(st->trusted);
    memset(st, 0, sizeof *st);
}

/* ---------------------------------------------------------------- certificates */

static bool is_trusted(const om_dir_store_t *st, const uint8_t id[20])
{
    for (size_t i = 0; i < st->n_trusted; i++)
        if (!memcmp(st->trusted[i], id, 20)) return true;
    return false;
}

static bool cert_usable(const om_authcert_t *c, time_t now)
{
    return om_authcert_check_time(c, now, OM_DIR_TOLERANCE, NULL, 0) == 0;
}

/* Split a parsed certificates document into one span per certificate: each starts at a line
 * "dir-key-certificate-version" (objects are base64 and cannot hold such a line). */
static size_t split_certs(const char *text, size_t len, const char **starts, size_t max)
{
    static const char kw[] = "dir-key-certificate-version";
    size_t n = 0;
    for (size_t i = 0; i + sizeof kw - 1 <= len; i++) {
        if ((i == 0 || text[i - 1] == '\n') && !memcmp(text + i, kw, sizeof kw - 1)) {
            if (n < max) starts[n] = text + i;
            n++;
        }
    }
    return n;
}

static int rebuild_certs_doc(om_dir_store_t *st)
{
    size_t total = 0;
    for (size_t i = 0; i < st->n_certs; i++)
        total += st->cert_lens[i];
    char *all = malloc(total + 1);
    if (!all) return -1;
    size_t off = 0;
    for (size_t i = 0; i < st->n_certs; i++) {
        memcpy(all + off, st->cert_texts[i], st->cert_lens[i]);
        off += st->cert_lens[i];
    }
    int r = total ? doc_set(&st->certs_doc, all, total, st->cache) : 0;
    if (!total) doc_clear(&st->certs_doc);
    free(all);
    return r;
}

/* Forget certificates expired beyond the tolerance. */
static void prune_certs(om_dir_store_t *st, time_t now)
{
    size_t w = 0;
    for (size_t i = 0; i < st->n_certs; i++) {
        if (cert_usable(st->certs[i], now) || st->certs[i]->published > now) {
            st->certs[w] = st->certs[i];
            st->cert_texts[w] = st->cert_texts[i];
            st->cert_lens[w++] = st->cert_lens[i];
        } else {
            om_authcert_free(st->certs[i]);
            free(st->cert_texts[i]);
        }
    }
    st->n_certs = w;
}

static bool cert_held(const om_dir_store_t *st, const om_authcert_t *c)
{
    for (size_t j = 0; j < st->n_certs; j++)
        if (!memcmp(st->certs[j]->v3ident, c->v3ident, 20) &&
            !memcmp(st->certs[j]->signing_digest, c->signing_digest, 20))
            return true;
    return false;
}

/* Take certs[i] with its text; false if out of memory. */
static bool keep_cert(om_dir_store_t *st, om_authcert_t *c, const char *text, size_t len)
{
    size_t n = st->n_certs + 1;
    om_authcert_t **a = realloc(st->certs, n * sizeof *a);
    if (a) st->certs = a;
    char **t = realloc(st->cert_texts, n * sizeof *t);
    if (t) st->cert_texts = t;
    size_t *l = realloc(st->cert_lens, n * sizeof *l);
    if (l) st->cert_lens = l;
    char *copy = malloc(len);
    if (!a || !t || !l || !copy) {
        free(copy);
        return false;
    }
    memcpy(copy, text, len);
    st->certs[st->n_certs] = c;
    st->cert_texts[st->n_certs] = copy;
    st->cert_lens[st->n_certs++] = len;
    return true;
}

int om_dir_store_add_certs(om_dir_store_t *st, const char *text, size_t len, time_t now, char *err,
                           size_t errlen)
{
    size_t n = 0;
    om_authcert_t **certs = om_authcert_parse_many(text, len, &n, err, errlen);
    if (!certs) return -1;
    const char *starts[OM_AUTHCERT_MAX_PER_DOC + 1];
    if (split_certs(text, len, starts, OM_AUTHCERT_MAX_PER_DOC + 1) != n) {
        om_authcert_free_array(certs, n);
        return om_errf(err, errlen, "authcert: cannot split the document into certificates");
    }
    prune_certs(st, now);
    int added = 0;
    for (size_t i = 0; i < n; i++) {
        const char *end = i + 1 < n ? starts[i + 1] : text + len;
        if (!is_trusted(st, certs[i]->v3ident) || !cert_usable(certs[i], now) ||
            cert_held(st, certs[i]) ||
            !keep_cert(st, certs[i], starts[i], (size_t)(end - starts[i]))) {
            om_authcert_free(certs[i]);
            continue;
        }
        added++;
    }
    free(certs);
    if (rebuild_certs_doc(st) < 0) return om_errf(err, errlen, "out of memory");
    return added;
}

size_t om_dir_store_usable_certs(const om_dir_store_t *st, time_t now)
{
    size_t n = 0;
    for (size_t a = 0; a < st->n_trusted; a++)
        for (size_t i = 0; i < st->n_certs; i++)
            if (!memcmp(st->certs[i]->v3ident, st->trusted[a], 20) &&
                cert_usable(st->certs[i], now)) {
                n++;
                break;
            }
    return n;
}

bool om_dir_store_have_certs(const om_dir_store_t *st, time_t now)
{
    return st->n_trusted > 0 && om_dir_store_usable_certs(st, now) * 2 > st->n_trusted;
}

/* ---------------------------------------------------------------- consensus */

static int cmp_digest(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

/* The digests the microdesc consensus lists, sorted and unique. */
static int rebuild_wanted(om_dir_store_t *st)
{
    const om_consensus_t *c = st->md_consensus;
    size_t n = c ? c->n_routers : 0;
    struct om_dir_wanted *w = calloc(n ? n : 1, sizeof *w);
    if (!w) return -1;
    for (size_t i = 0; i < n; i++)
        memcpy(w[i].digest, c->routers[i].md_digest, 32);
    if (n) qsort(w, n, sizeof *w, cmp_digest);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || memcmp(w[u - 1].digest, w[i].digest, 32)) w[u++] = w[i];
    free(st->wanted);
    st->wanted = w;
    st->n_wanted = u;
    return 0;
}

static struct om_dir_wanted *find_wanted(const om_dir_store_t *st, const uint8_t digest[32])
{
    if (!st->n_wanted) return NULL;
    return bsearch(digest, st->wanted, st->n_wanted, sizeof *st->wanted, cmp_digest);
}

/* Drop microdescriptors the held consensus no longer lists (order is kept). */
static void prune_mds(om_dir_store_t *st)
{
    size_t w = 0;
    for (size_t i = 0; i < st->n_mds; i++) {
        if (find_wanted(st, st->mds[i].digest)) {
            st->mds[w++] = st->mds[i];
        } else {
            free(st->mds[i].text);
            om_dir_chunk_free(&st->mds[i].chunk);
        }
    }
    st->n_mds = w;
}

om_dir_verdict_t om_dir_store_offer_consensus(om_dir_store_t *st, om_dir_flavour_t fl,
                                              const char *text, size_t len, time_t now, char *err,
                                              size_t errlen)
{
    om_consensus_t *c = om_consensus_parse(text, len, err, errlen);
    if (!c) return OM_DIR_REFUSED;
    om_dir_doc_t *held = &st->cons[fl];
    char t1[32], t2[32];
    if (c->microdesc_flavor != (fl == OM_DIR_FLAV_MD)) {
        om_errf(err, errlen, "consensus: the %s flavour where %s was expected",
                c->microdesc_flavor ? "microdesc" : "ns",
                fl == OM_DIR_FLAV_MD ? "microdesc" : "ns");
        goto refused;
    }
    /* tor (networkstatus_set_current_consensus): one not newer than ours is of no use. */
    if (held->text && c->valid_after <= held->valid_after) {
        om_netdoc_format_time(c->valid_after, t1, sizeof t1);
        om_netdoc_format_time(held->valid_after, t2, sizeof t2);
        om_errf(err, errlen, "consensus: valid-after %s is not newer than ours (%s)", t1, t2);
        om_consensus_free(c);
        return OM_DIR_NOT_NEWER;
    }
    /* dir-spec 3.4.1 signatures; the validity window within the tolerance (dir_policy.h). */
    if (om_consensus_verify(c, st->certs, st->n_certs, (const uint8_t(*)[20])st->trusted,
                            st->n_trusted, now, OM_DIR_TOLERANCE, err, errlen) < 0)
        goto refused;
    if (doc_set(held, text, len, st->cache) < 0) {
        om_errf(err, errlen, "out of memory");
        goto refused;
    }
    held->valid_after = c->valid_after;
    held->fresh_until = c->fresh_until;
    held->valid_until = c->valid_until;
    held->dist_delay = c->dist_delay;
    if (fl == OM_DIR_FLAV_NS) {
        om_consensus_free(c);
        return OM_DIR_TAKEN;
    }
    om_consensus_free(st->md_consensus);
    st->md_consensus = c;
    if (rebuild_wanted(st) < 0) {
        free(st->wanted);
        st->wanted = NULL;
        st->n_wanted = 0;
    }
    prune_mds(st);
    return OM_DIR_TAKEN;
refused:
    om_consensus_free(c);
    return OM_DIR_REFUSED;
}

/* ---------------------------------------------------------------- microdescriptors */

/* Offset of the next line starting with the keyword "onion-key" after pos's line, or len. */
static size_t next_md_start(const char *text, size_t len, size_t pos)
{
    for (;;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        if (!nl) return len;
        pos = (size_t)(nl - text) + 1;
        if (len - pos >= 9 && !memcmp(text + pos, "onion-key", 9) &&
            (len - pos == 9 || text[pos + 9] == '\n' || text[pos + 9] == ' ' ||
             text[pos + 9] == '\t'))
            return pos;
    }
}

const om_dir_md_t *om_dir_store_find_md(const om_dir_store_t *st, const uint8_t digest[32])
{
    /* om_dir_md_t starts with its digest. */
    if (!st->n_mds) return NULL;
    return bsearch(digest, st->mds, st->n_mds, sizeof *st->mds, cmp_digest);
}

bool om_dir_store_has_md(const om_dir_store_t *st, const uint8_t digest[32])
{
    return om_dir_store_find_md(st, digest) != NULL;
}

/* Check and take the microdescriptor text[0..n) with digest dg into e; its parse goes to *md. */
static bool take_md(const om_dir_store_t *st, const char *text, size_t n, const uint8_t dg[32],
                    om_dir_md_t *e, om_microdesc_t *md)
{
    char err[160];
    size_t cnt = 0;
    om_microdesc_t *p = om_microdesc_parse_many(text, n, &cnt, err, sizeof err);
    bool ok = p && cnt == 1 && !memcmp(p[0].digest, dg, 32);
    if (ok)
        *md = p[0];
    else if (p)
        snprintf(err, sizeof err, "%zu microdescriptors in one", cnt);
    free(p);
    if (!ok) {
        om_info("Dropping a listed microdescriptor that does not parse: %s", err);
        return false;
    }
    memset(e, 0, sizeof *e);
    memcpy(e->digest, dg, 32);
    if (!st->cache) return true;
    e->text = malloc(n);
    if (!e->text || om_dir_chunk_make(text, n, &e->chunk) < 0) {
        free(e->text);
        return false;
    }
    memcpy(e->text, text, n);
    e->len = n;
    return true;
}

/* Held already: among the sorted mds[0, sorted) or the new mds[sorted, n_mds). */
static bool held_during_batch(const om_dir_store_t *st, size_t sorted, const uint8_t dg[32])
{
    if (sorted && bsearch(dg, st->mds, sorted, sizeof *st->mds, cmp_digest)) return true;
    for (size_t i = sorted; i < st->n_mds; i++)
        if (!memcmp(st->mds[i].digest, dg, 32)) return true;
    return false;
}

/* Count the microdescriptors in text; *first gets the offset of the first. */
static size_t count_mds(const char *text, size_t len, size_t *first)
{
    size_t pos = 0, n = 0;
    if (len < 9 || memcmp(text, "onion-key", 9) != 0) pos = next_md_start(text, len, 0);
    *first = pos;
    for (; pos < len; pos = next_md_start(text, len, pos))
        n++;
    return n;
}

/* Each requested digest still not held was missed by the server that answered. */
static void count_misses(om_dir_store_t *st, const uint8_t (*requested)[32], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct om_dir_wanted *w = find_wanted(st, requested[i]);
        if (w && !om_dir_store_has_md(st, requested[i]) && w->misses < 255) w->misses++;
    }
}

int om_dir_store_add_mds(om_dir_store_t *st, const char *text, size_t len,
                         const uint8_t (*requested)[32], size_t n_requested,
                         om_dir_mds_taken_t *out)
{
    memset(out, 0, sizeof *out);
    size_t pos;
    out->n_seen = count_mds(text, len, &pos);
    if (out->n_seen > OM_MICRODESC_MAX_PER_DOC) return -1;
    if (out->n_seen == 0) {
        count_misses(st, requested, n_requested);
        return 0;
    }
    out->mds = malloc(out->n_seen * sizeof *out->mds);
    out->text = malloc(len + 1);
    om_dir_md_t *grown = realloc(st->mds, (st->n_mds + out->n_seen) * sizeof *grown);
    if (grown) st->mds = grown;
    if (!out->mds || !out->text || !grown) {
        free(out->mds);
        free(out->text);
        memset(out, 0, sizeof *out);
        return -1;
    }
    size_t sorted = st->n_mds;
    while (pos < len) {
        size_t end = next_md_start(text, len, pos), n = end - pos;
        uint8_t dg[32];
        if (om_sha256((const uint8_t *)text + pos, n, dg) == 0 && find_wanted(st, dg) &&
            !held_during_batch(st, sorted, dg) &&
            take_md(st, text + pos, n, dg, &st->mds[st->n_mds], &out->mds[out->n])) {
            memcpy(out->text + out->len, text + pos, n);
            out->len += n;
            st->n_mds++;
            out->n++;
        }
        pos = end;
    }
    if (st->n_mds > sorted) qsort(st->mds, st->n_mds, sizeof *st->mds, cmp_digest);
    count_misses(st, requested, n_requested);
    out->text[out->len] = '\0';
    if (!out->n) {
        free(out->mds);
        free(out->text);
        out->mds = NULL;
        out->text = NULL;
    }
    return 0;
}

size_t om_dir_store_missing_mds(const om_dir_store_t *st, uint8_t (*out)[32], size_t max,
                                unsigned max_misses)
{
    size_t n = 0;
    for (size_t i = 0; i < st->n_wanted; i++) {
        if (st->wanted[i].misses >= max_misses || om_dir_store_has_md(st, st->wanted[i].digest))
            continue;
        if (out) {
            if (n == max) break;
            memcpy(out[n], st->wanted[i].digest, 32);
        }
        n++;
    }
    return n;
}

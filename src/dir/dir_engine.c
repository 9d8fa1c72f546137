/* dir_engine.c — the directory engine's schedule: what to fetch next, from which source, when to
 * retry, and what to do with each answer (see dir_engine.h). The documents and the rules for
 * taking them are dir_store.c's; the time rules dir_policy.c's. */
#include "dir/dir_engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/crypto.h"
#include "core/log.h"
#include "dir/dir_policy.h"
#include "dir/netdoc.h"

#define MD_BATCH_DEFAULT 92

struct om_dir_engine {
    om_dir_engine_config_t cfg;
    om_dirsrv_t *auths;
    bool has_only; /* cfg.only_source given: every request goes to `only` */
    om_dirsrv_t only;
    om_dir_store_t st;
    struct event *timer;
    /* the request in flight */
    bool busy;
    void *req;
    unsigned gen;
    om_dir_kind_t req_kind;
    uint8_t (*req_mds)[32];
    size_t req_n_mds;
    /* schedule */
    int failures[OM_DIR_N_KINDS];
    time_t retry_at[OM_DIR_N_KINDS];
    time_t refresh_at[2]; /* by om_dir_flavour_t */
    bool want_certs;      /* a consensus failed verification: maybe a key we lack */
    time_t wakeup;
    /* sources */
    size_t auth_idx;
    bool have_src, use_caches;
    om_dirsrv_t src;
    char src_desc[160];
    long clock_behind;
    const char *tag; /* log prefix: "Directory cache: " for a cache, "" for a client */
};

static const char *const kind_names[OM_DIR_N_KINDS] = {
    "authority key certificates", "microdesc consensus", "microdescriptors", "ns consensus"};

time_t om_dir_engine_now(const om_dir_engine_t *e)
{
    return e->cfg.now ? e->cfg.now(e->cfg.now_arg) : time(NULL);
}

static uint32_t rnd32(void)
{
    uint32_t r = 0;
    om_rand_bytes((uint8_t *)&r, sizeof r);
    return r;
}

static void schedule_at(om_dir_engine_t *e, time_t at)
{
    e->wakeup = at;
    if (!e->timer) return;
    time_t now = om_dir_engine_now(e);
    struct timeval tv = {at > now ? at - now : 0, 0};
    evtimer_add(e->timer, &tv);
}

static om_dir_flavour_t flav_of(om_dir_kind_t kind)
{
    return kind == OM_DIR_CONSENSUS_NS ? OM_DIR_FLAV_NS : OM_DIR_FLAV_MD;
}

bool om_dir_engine_live(const om_dir_engine_t *e, om_dir_kind_t kind)
{
    const om_dir_doc_t *d = &e->st.cons[flav_of(kind)];
    return d->text && om_dir_live(d->valid_after, d->valid_until, om_dir_engine_now(e));
}

bool om_dir_engine_usable(const om_dir_engine_t *e, om_dir_kind_t kind)
{
    const om_dir_doc_t *d = &e->st.cons[flav_of(kind)];
    return d->text && om_dir_reasonably_live(d->valid_after, d->valid_until, om_dir_engine_now(e));
}

/* ---------------------------------------------------------------- sources */

static void describe(om_dir_engine_t *e, const om_dirsrv_t *s)
{
    snprintf(e->src_desc, sizeof e->src_desc, "%s %s (%s:%u)",
             s->is_authority ? "authority" : "directory cache", s->nickname, s->address,
             e->cfg.cache ? s->dir_port : s->or_port);
}

/* A random Running, Valid, V2Dir relay whose microdescriptor we hold (dir-spec 5.1). */
static bool pick_cache(om_dir_engine_t *e)
{
    const om_consensus_t *c = e->st.md_consensus;
    const uint32_t need = OM_RS_V2DIR | OM_RS_RUNNING | OM_RS_VALID;
    size_t n = c ? c->n_routers : 0;
    for (size_t tries = 0; tries < n; tries++) {
        const om_routerstatus_t *rs = &c->routers[rnd32() % n];
        if ((rs->flags & need) != need || !rs->or_port ||
            !om_dir_store_has_md(&e->st, rs->md_digest))
            continue;
        memset(&e->src, 0, sizeof e->src);
        snprintf(e->src.nickname, sizeof e->src.nickname, "%s", rs->nickname);
        snprintf(e->src.address, sizeof e->src.address, "%u.%u.%u.%u", rs->ipv4[0], rs->ipv4[1],
                 rs->ipv4[2], rs->ipv4[3]);
        e->src.or_port = rs->or_port;
        e->src.dir_port = rs->dir_port;
        memcpy(e->src.rsa_fp, rs->rsa_id, 20);
        return true;
    }
    return false;
}

static void pick_source(om_dir_engine_t *e)
{
    if (e->have_src) return;
    if (e->has_only) {
        e->src = e->only;
        snprintf(e->src_desc, sizeof e->src_desc, "bridge %s (%s:%u)", e->src.nickname,
                 e->src.address, e->src.or_port);
        e->have_src = true;
        return;
    }
    bool cache = !e->cfg.cache && e->use_caches && om_dir_engine_live(e, OM_DIR_CONSENSUS_MD) &&
                 pick_cache(e);
    if (!cache) e->src = e->auths[e->auth_idx % e->cfg.n_auths];
    describe(e, &e->src);
    e->have_src = true;
}

/* ---------------------------------------------------------------- what next */

static bool consensus_due(const om_dir_engine_t *e, om_dir_kind_t kind, time_t now)
{
    om_dir_flavour_t fl = flav_of(kind);
    return !e->st.cons[fl].text || !om_dir_engine_live(e, kind) || now >= e->refresh_at[fl];
}

/* The kind to fetch now, or -1 with *wake (0: nothing planned) the time something is due. */
static int next_kind(const om_dir_engine_t *e, time_t now, time_t *wake)
{
    bool wants[OM_DIR_N_KINDS] = {false};
    bool certs_ok = om_dir_store_have_certs(&e->st, now);
    wants[OM_DIR_CERTS] = !certs_ok || e->want_certs;
    wants[OM_DIR_CONSENSUS_MD] = certs_ok && consensus_due(e, OM_DIR_CONSENSUS_MD, now);
    wants[OM_DIR_MICRODESCS] =
        e->st.md_consensus && om_dir_store_missing_mds(&e->st, NULL, 0, OM_DIR_MD_MAX_MISSES) > 0;
    wants[OM_DIR_CONSENSUS_NS] =
        e->cfg.cache && certs_ok && consensus_due(e, OM_DIR_CONSENSUS_NS, now);
    *wake = 0;
    for (int k = 0; k < OM_DIR_N_KINDS; k++) {
        if (!wants[k]) continue;
        if (now >= e->retry_at[k]) return k;
        if (!*wake || e->retry_at[k] < *wake) *wake = e->retry_at[k];
    }
    for (int fl = 0; fl < (e->cfg.cache ? 2 : 1); fl++) {
        time_t r = e->refresh_at[fl];
        if (e->st.cons[fl].text && r && (!*wake || r < *wake)) *wake = r;
    }
    return -1;
}

static size_t md_path(om_dir_engine_t *e, char *path, size_t cap)
{
    size_t batch = e->cfg.md_batch ? e->cfg.md_batch : MD_BATCH_DEFAULT;
    free(e->req_mds);
    e->req_mds = malloc(batch * 32);
    e->req_n_mds = 0;
    if (!e->req_mds) return 0;
    size_t n = om_dir_store_missing_mds(&e->st, e->req_mds, batch, OM_DIR_MD_MAX_MISSES);
    size_t off = (size_t)snprintf(path, cap, "/tor/micro/d/");
    for (size_t i = 0; i < n && off + 48 < cap; i++) {
        char b64[48];
        om_base64_encode(e->req_mds[i], 32, b64, sizeof b64, true);
        off += (size_t)snprintf(path + off, cap - off, "%s%s", i ? "-" : "", b64);
        e->req_n_mds = i + 1;
    }
    return e->req_n_mds;
}

static void fetch_done(void *ctx, int status, const char *body, size_t len, const char *err);

void om_dir_engine_step(om_dir_engine_t *e)
{
    if (e->busy || !e->cfg.n_auths) return;
    time_t now = om_dir_engine_now(e), wake;
    int kind = next_kind(e, now, &wake);
    if (kind < 0) {
        if (e->have_src && e->cfg.fetcher.idle) e->cfg.fetcher.idle(e->cfg.fetcher.arg);
        e->have_src = false; /* pick afresh next time */
        if (wake) schedule_at(e, wake);
        return;
    }
    static const char *const paths[OM_DIR_N_KINDS] = {
        "/tor/keys/all", "/tor/status-vote/current/consensus-microdesc", NULL,
        "/tor/status-vote/current/consensus"};
    char mdpath[64 + 1024 * 45];
    const char *path = paths[kind];
    if (kind == OM_DIR_MICRODESCS) {
        if (!md_path(e, mdpath, sizeof mdpath)) return;
        path = mdpath;
    }
    pick_source(e);
    if (e->cfg.events.fetching) e->cfg.events.fetching(e->cfg.events.arg, kind, &e->src);
    om_debug("%sDirectory request to %s: GET %.80s%s", e->tag, e->src_desc, path,
             strlen(path) > 80 ? "..." : "");
    e->busy = true;
    e->req_kind = kind;
    unsigned gen = ++e->gen;
    void *h = e->cfg.fetcher.get(e->cfg.fetcher.arg, &e->src, path, OM_DIR_MAX_DOC, fetch_done, e);
    if (!e->busy || e->gen != gen) return; /* answered already */
    if (h) {
        e->req = h;
        return;
    }
    fetch_done(e, 0, NULL, 0, "could not start the request");
}

time_t om_dir_engine_wakeup(const om_dir_engine_t *e)
{
    return e->busy ? 0 : e->wakeup;
}

/* ---------------------------------------------------------------- answers */

static void failed(om_dir_engine_t *e, om_dir_kind_t kind, const char *why)
{
    int f = ++e->failures[kind];
    long delay = om_dir_retry_delay(f);
    om_info("%sDirectory fetch of %s from %s failed: %s; retrying in %ld s from another source",
            e->tag, kind_names[kind], e->src_desc, why, delay);
    e->retry_at[kind] = om_dir_engine_now(e) + delay;
    if (e->src.is_authority) e->auth_idx++;
    e->have_src = false;
}

static void took_consensus(om_dir_engine_t *e, om_dir_kind_t kind, const char *from)
{
    om_dir_flavour_t fl = flav_of(kind);
    const om_dir_doc_t *d = &e->st.cons[fl];
    time_t now = om_dir_engine_now(e);
    char va[32], when[32];
    om_netdoc_format_time(d->valid_after, va, sizeof va);
    if (fl == OM_DIR_FLAV_MD)
        om_notice("%sAccepted a microdesc consensus from %s: valid-after %s, %zu relays, signed by "
                  "enough of our %zu authorities",
                  e->tag, from, va, e->st.md_consensus->n_routers, e->st.n_trusted);
    else
        om_notice("%sAccepted an ns consensus from %s: valid-after %s", e->tag, from, va);
    e->refresh_at[fl] = 0;
    if (om_dir_live(d->valid_after, d->valid_until, now))
        e->refresh_at[fl] = om_dir_refresh_time(d->valid_after, d->fresh_until, d->valid_until,
                                                e->cfg.cache, rnd32());
    e->clock_behind = om_dir_clock_behind(d->valid_after, d->dist_delay, now);
    if (e->clock_behind) {
        /* tor's warn_early_consensus: a majority of authorities cannot have signed it yet. */
        om_warn("%sOur clock is %ld seconds behind the time published in the %s consensus from %s "
                "(valid-after %s UTC). Directory information needs an accurate clock: please "
                "check the system's time and date.",
                e->tag, e->clock_behind, fl == OM_DIR_FLAV_MD ? "microdesc" : "ns", from, va);
    } else if (now > d->valid_until) {
        om_netdoc_format_time(d->valid_until, when, sizeof when);
        om_notice("%sThe %s consensus from %s expired at %s UTC; using it until a newer one comes",
                  e->tag, fl == OM_DIR_FLAV_MD ? "microdesc" : "ns", from, when);
    }
}

/* Take a document. Returns 1 if it brought something new, 0 if not, -1 if refused. */
static int take(om_dir_engine_t *e, om_dir_kind_t kind, const char *body, size_t len,
                const char *from, bool from_cache, size_t *n_seen)
{
    char err[512];
    const om_dir_events_t *ev = &e->cfg.events;
    time_t now = om_dir_engine_now(e);
    if (kind == OM_DIR_CERTS) {
        int n = om_dir_store_add_certs(&e->st, body, len, now, err, sizeof err);
        if (n < 0) {
            om_warn("%sRejected the authority key certificates from %s: %s", e->tag, from, err);
            return -1;
        }
        om_info("%sGot authority key certificates from %s (%d new)", e->tag, from, n);
        e->want_certs = false;
        if (n > 0 && ev->certs_changed)
            ev->certs_changed(ev->arg, e->st.certs_doc.text, e->st.certs_doc.len, from_cache);
        return n > 0;
    }
    if (kind == OM_DIR_MICRODESCS) {
        om_dir_mds_taken_t t;
        const uint8_t(*req)[32] = from_cache ? NULL : (const uint8_t(*)[32])e->req_mds;
        if (om_dir_store_add_mds(&e->st, body, len, req, from_cache ? 0 : e->req_n_mds, &t) < 0) {
            om_warn("%sRejected the microdescriptors from %s: too many, or out of memory", e->tag,
                    from);
            return -1;
        }
        if (n_seen) *n_seen = t.n_seen;
        om_info("%sGot %zu microdescriptors (%zu new) from %s", e->tag, t.n_seen, t.n, from);
        if (t.n && ev->mds_added) ev->mds_added(ev->arg, t.mds, t.n, t.text, t.len, from_cache);
        free(t.mds);
        free(t.text);
        return t.n > 0;
    }
    om_dir_flavour_t fl = flav_of(kind);
    const char *fname = fl == OM_DIR_FLAV_MD ? "microdesc" : "ns";
    switch (om_dir_store_offer_consensus(&e->st, fl, body, len, now, err, sizeof err)) {
    case OM_DIR_TAKEN:
        took_consensus(e, kind, from);
        if (ev->consensus_changed)
            ev->consensus_changed(ev->arg, kind, fl == OM_DIR_FLAV_MD ? e->st.md_consensus : NULL,
                                  e->st.cons[fl].text, e->st.cons[fl].len, from_cache);
        return 1;
    case OM_DIR_NOT_NEWER:
        om_info("%sThe %s consensus from %s is not newer than ours; keeping ours (%s)", e->tag,
                fname, from, err);
        return 0;
    default:
        om_warn("%sRejected the %s consensus from %s: %s", e->tag, fname, from, err);
        e->want_certs = true;
        return -1;
    }
}

static void fetch_done(void *ctx, int status, const char *body, size_t len, const char *err)
{
    om_dir_engine_t *e = ctx;
    if (!e->busy) return;
    e->busy = false;
    e->req = NULL;
    om_dir_kind_t kind = e->req_kind;
    const om_dir_events_t *ev = &e->cfg.events;
    if (ev->received) ev->received(ev->arg, kind, status, len);
    char why[300];
    int r = -1;
    if (err || status != 200) {
        snprintf(why, sizeof why, "%s", err ? err : "");
        if (!err) snprintf(why, sizeof why, "HTTP status %d", status);
        /* A cache that has none of the microdescriptors asked for answers 404: each missed. */
        if (kind == OM_DIR_MICRODESCS && status == 404) take(e, kind, "", 0, e->src_desc, 0, NULL);
    } else {
        r = take(e, kind, body, len, e->src_desc, false, NULL);
        snprintf(why, sizeof why, "%s",
                 r < 0                       ? "document refused"
                 : kind == OM_DIR_MICRODESCS ? "no requested microdescriptor was served"
                 : kind == OM_DIR_CERTS      ? "still not enough usable certificates"
                                             : "not newer than ours");
        /* New certificates, or none needed, is progress even if nothing was new. */
        if (kind == OM_DIR_CERTS && r == 0 && om_dir_store_have_certs(&e->st, om_dir_engine_now(e)))
            r = 1;
    }
    if (r > 0) {
        e->failures[kind] = 0;
        e->retry_at[kind] = 0;
    } else {
        failed(e, kind, why);
    }
    schedule_at(e, om_dir_engine_now(e));
}

/* ---------------------------------------------------------------- lifecycle */

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    om_dir_engine_step(arg);
}

om_dir_engine_t *om_dir_engine_new(const om_dir_engine_config_t *cfg)
{
    om_dir_engine_t *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->cfg = *cfg;
    size_t n = cfg->n_auths;
    e->auths = calloc(n ? n : 1, sizeof *e->auths);
    uint8_t(*trusted)[20] = calloc(n ? n : 1, 20);
    size_t nt = 0;
    for (size_t i = 0; e->auths && trusted && i < n; i++) {
        e->auths[i] = cfg->auths[i];
        e->auths[i].is_authority = true;
        if (cfg->auths[i].has_v3ident) memcpy(trusted[nt++], cfg->auths[i].v3ident, 20);
    }
    e->cfg.auths = e->auths;
    if (cfg->only_source) {
        e->only = *cfg->only_source;
        e->only.is_authority = false;
        e->has_only = true;
        e->cfg.only_source = NULL;
    }
    e->tag = cfg->cache ? "Directory cache: " : "";
    if (cfg->base) e->timer = evtimer_new(cfg->base, timer_cb, e);
    if (!e->auths || !trusted || (cfg->base && !e->timer) ||
        om_dir_store_init(&e->st, cfg->cache, (const uint8_t(*)[20])trusted, nt) < 0) {
        free(trusted);
        om_dir_engine_free(e);
        return NULL;
    }
    free(trusted);
    e->auth_idx = n ? rnd32() % n : 0;
    return e;
}

void om_dir_engine_free(om_dir_engine_t *e)
{
    if (!e) return;
    if (e->busy && e->req && e->cfg.fetcher.cancel)
        e->cfg.fetcher.cancel(e->cfg.fetcher.arg, e->req);
    e->busy = false;
    if (e->timer) event_free(e->timer);
    om_dir_store_clear(&e->st);
    free(e->req_mds);
    free(e->auths);
    free(e);
}

int om_dir_engine_load(om_dir_engine_t *e, om_dir_kind_t kind, const char *text, size_t len,
                       size_t *n_seen, size_t *n_taken)
{
    size_t before = e->st.n_mds;
    int r = take(e, kind, text, len, "the cache", true, n_seen);
    if (n_taken) *n_taken = e->st.n_mds > before ? e->st.n_mds - before : 0;
    return r > 0 ? 0 : -1;
}

void om_dir_engine_start(om_dir_engine_t *e)
{
    schedule_at(e, om_dir_engine_now(e));
}

void om_dir_engine_use_caches(om_dir_engine_t *e, bool yes)
{
    e->use_caches = yes;
}

const om_dir_store_t *om_dir_engine_store(const om_dir_engine_t *e)
{
    return &e->st;
}

const om_consensus_t *om_dir_engine_consensus(const om_dir_engine_t *e)
{
    return e->st.md_consensus;
}

time_t om_dir_engine_refresh_at(const om_dir_engine_t *e, om_dir_kind_t kind)
{
    return e->refresh_at[flav_of(kind)];
}

long om_dir_engine_clock_behind(const om_dir_engine_t *e)
{
    return e->clock_behind;
}

/* dir_engine_fake.h — test helpers for the directory engine: an injectable clock, and a fake
 * in-memory fetcher that answers like a directory server holding the tor 0.4.9 test-network
 * snapshot (tests/data/testnet-snapshot: keys-all, consensus-microdesc, consensus, microdescs),
 * or whatever a test puts in its documents. Requests stay pending until the test answers them
 * (fake_serve, fake_fail), so a test sees every request the engine makes, in order. */
#ifndef OM_TEST_DIR_ENGINE_FAKE_H
#define OM_TEST_DIR_ENGINE_FAKE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "dir/dir_engine.h"
#include "test.h"

/* 2026-11-22 09:14:20, 09:14:40, 09:15:00: the snapshot consensus's validity. */
#define SNAP_VA ((time_t)1795338860)
#define SNAP_FU (SNAP_VA + 20)
#define SNAP_VU (SNAP_VA + 40)

static time_t fake_now_value;
static inline time_t fake_now(void *arg)
{
    (void)arg;
    return fake_now_value;
}

#define FAKE_MAX_REQS 64
typedef struct {
    /* the server's documents (NULL: answer 404) */
    char *certs, *cons_md, *cons_ns, *mds;
    size_t certs_len, cons_md_len, cons_ns_len, mds_len;
    /* requests seen */
    int n_reqs;
    char paths[FAKE_MAX_REQS][8192];
    om_dirsrv_t srvs[FAKE_MAX_REQS];
    /* the pending one */
    bool pending;
    om_dir_fetch_done_fn done;
    void *ctx;
    bool refuse_next; /* get() returns NULL once */
    int cancels, idles;
} fake_fetcher_t;

static int fake_handle_token;
static inline void *fake_get(void *arg, const om_dirsrv_t *srv, const char *path, size_t max,
                             om_dir_fetch_done_fn done, void *ctx)
{
    fake_fetcher_t *f = arg;
    (void)max;
    if (f->refuse_next) {
        f->refuse_next = false;
        return NULL;
    }
    if (f->n_reqs < FAKE_MAX_REQS) {
        snprintf(f->paths[f->n_reqs], sizeof f->paths[0], "%s", path);
        f->srvs[f->n_reqs] = *srv;
    }
    f->n_reqs++;
    f->pending = true;
    f->done = done;
    f->ctx = ctx;
    return &fake_handle_token;
}

static inline void fake_cancel(void *arg, void *h)
{
    fake_fetcher_t *f = arg;
    (void)h;
    f->pending = false;
    f->cancels++;
}

static inline void fake_idle(void *arg)
{
    ((fake_fetcher_t *)arg)->idles++;
}

static inline const char *fake_last_path(const fake_fetcher_t *f)
{
    return f->n_reqs ? f->paths[(f->n_reqs - 1) % FAKE_MAX_REQS] : "";
}

static inline const om_dirsrv_t *fake_last_srv(const fake_fetcher_t *f)
{
    return &f->srvs[(f->n_reqs - 1) % FAKE_MAX_REQS];
}

/* Offset of the next line "onion-key" after pos's line, or len. */
static inline size_t fake_next_md(const char *t, size_t len, size_t pos)
{
    for (;;) {
        const char *nl = memchr(t + pos, '\n', len - pos);
        if (!nl) return len;
        pos = (size_t)(nl - t) + 1;
        if (len - pos >= 10 && !memcmp(t + pos, "onion-key\n", 10)) return pos;
    }
}

/* The microdescriptors of f->mds whose SHA-256 is in the "-"-separated base64 list. */
static inline char *fake_select_mds(const fake_fetcher_t *f, const char *list, size_t *outlen)
{
    char *out = malloc(f->mds_len + 1);
    size_t n = 0;
    for (size_t p = 0; out && p < f->mds_len;) {
        size_t e = fake_next_md(f->mds, f->mds_len, p);
        uint8_t dg[32];
        char b64[48];
        om_sha256((const uint8_t *)f->mds + p, e - p, dg);
        om_base64_encode(dg, 32, b64, sizeof b64, true);
        if (strstr(list, b64)) {
            memcpy(out + n, f->mds + p, e - p);
            n += e - p;
        }
        p = e;
    }
    *outlen = n;
    return out;
}

/* Answer the pending request as the server would: 200 and the document, or 404. */
static inline void fake_serve(fake_fetcher_t *f)
{
    if (!f->pending) return;
    f->pending = false;
    const char *path = fake_last_path(f);
    const char *body = NULL;
    size_t len = 0;
    char *sel = NULL;
    if (!strcmp(path, "/tor/keys/all")) {
        body = f->certs;
        len = f->certs_len;
    } else if (!strcmp(path, "/tor/status-vote/current/consensus-microdesc")) {
        body = f->cons_md;
        len = f->cons_md_len;
    } else if (!strcmp(path, "/tor/status-vote/current/consensus")) {
        body = f->cons_ns;
        len = f->cons_ns_len;
    } else if (!strncmp(path, "/tor/micro/d/", 13) && f->mds) {
        body = sel = fake_select_mds(f, path + 13, &len);
        if (!len) body = NULL;
    }
    f->done(f->ctx, body ? 200 : 404, body, len, NULL);
    free(sel);
}

static inline void fake_fail(fake_fetcher_t *f, const char *err)
{
    if (!f->pending) return;
    f->pending = false;
    f->done(f->ctx, 0, NULL, 0, err);
}

/* Step, answering every request, until the engine asks for nothing more now (at most n). */
static inline int fake_run(om_dir_engine_t *e, fake_fetcher_t *f, int n)
{
    int served = 0;
    for (; served < n; served++) {
        om_dir_engine_step(e);
        if (!f->pending) break;
        fake_serve(f);
    }
    return served;
}

static inline void fake_load_snapshot(fake_fetcher_t *f)
{
    memset(f, 0, sizeof *f);
    f->certs = om_test_read_data("testnet-snapshot/keys-all", &f->certs_len);
    f->cons_md = om_test_read_data("testnet-snapshot/consensus-microdesc", &f->cons_md_len);
    f->cons_ns = om_test_read_data("testnet-snapshot/consensus", &f->cons_ns_len);
    f->mds = om_test_read_data("testnet-snapshot/microdescs", &f->mds_len);
}

static inline void fake_free(fake_fetcher_t *f)
{
    free(f->certs);
    free(f->cons_md);
    free(f->cons_ns);
    free(f->mds);
    memset(f, 0, sizeof *f);
}

/* The snapshot's three authorities (tests/data/testnet-snapshot/README.txt). */
static inline size_t snap_authorities(om_dirsrv_t out[3])
{
    static const char *const v3[3] = {"2294432174E7CF2BB0914A509C1E955DCA35EB6E",
                                      "7CBA18A8EED044F5DA4D43D8439C66F0E94519E8",
                                      "44BDAE19610F6045A72216FD5608EE0858B4515D"};
    static const char *const fp[3] = {"6EAA0E29C8438B78B85EAE6B2CD5CB9E6BC8574F",
                                      "33D43D370A7653677265526CDC5B7E4654E1248F",
                                      "D6347C81FDB6024AE0C0B6F63C4AA31D4ECFF466"};
    memset(out, 0, 3 * sizeof *out);
    for (int i = 0; i < 3; i++) {
        snprintf(out[i].nickname, sizeof out[i].nickname, "auth%d", i);
        snprintf(out[i].address, sizeof out[i].address, "127.0.0.1");
        out[i].or_port = (uint16_t)(27100 + i);
        out[i].dir_port = (uint16_t)(27110 + i);
        om_test_unhex(fp[i], out[i].rsa_fp, 20);
        om_test_unhex(v3[i], out[i].v3ident, 20);
        out[i].has_v3ident = true;
    }
    return 3;
}

/* What the role heard. */
typedef struct {
    int certs_changed, consensus_changed, mds_events;
    size_t mds_added, last_relays;
    bool last_from_cache;
    time_t last_valid_after;
} fake_events_t;

static inline void fev_certs(void *arg, const char *t, size_t l, bool fc)
{
    (void)t;
    (void)l;
    ((fake_events_t *)arg)->certs_changed++;
    ((fake_events_t *)arg)->last_from_cache = fc;
}

static inline void fev_cons(void *arg, om_dir_kind_t k, const om_consensus_t *c, const char *t,
                            size_t l, bool fc)
{
    fake_events_t *v = arg;
    (void)k;
    (void)t;
    (void)l;
    v->consensus_changed++;
    v->last_from_cache = fc;
    if (c) {
        v->last_relays = c->n_routers;
        v->last_valid_after = c->valid_after;
    }
}

static inline void fev_mds(void *arg, const om_microdesc_t *m, size_t n, const char *t, size_t l,
                           bool fc)
{
    fake_events_t *v = arg;
    (void)m;
    (void)t;
    (void)l;
    v->mds_events++;
    v->mds_added += n;
    v->last_from_cache = fc;
}

/* An engine (client, or cache) over f with the snapshot authorities and the fake clock. */
static inline om_dir_engine_t *fake_engine(fake_fetcher_t *f, fake_events_t *ev, bool cache)
{
    om_dirsrv_t auths[3];
    snap_authorities(auths);
    memset(ev, 0, sizeof *ev);
    om_dir_engine_config_t cfg = {
        .cache = cache,
        .auths = auths,
        .n_auths = 3,
        .fetcher = {.get = fake_get, .cancel = fake_cancel, .idle = fake_idle, .arg = f},
        .events = {.arg = ev,
                   .certs_changed = fev_certs,
                   .consensus_changed = fev_cons,
                   .mds_added = fev_mds},
        .now = fake_now,
    };
    return om_dir_engine_new(&cfg);
}

#endif

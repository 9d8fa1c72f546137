/* dirclient.c — the onion proxy's directory client, an adapter around the shared directory
 * engine (dir/dir_engine.h, which decides what to fetch, verifies and holds the documents):
 *  - the fetcher: HTTP over a BEGIN_DIR stream (core/dir_fetch.h) on a one-hop CREATE_FAST
 *    circuit to the directory source, kept open while requests go to the same source;
 *  - the DataDirectory cache: cached-certs, cached-microdesc-consensus and cached-microdescs
 *    (mode 0600), loaded at start so a restart fetches only what is missing or stale;
 *  - bootstrap progress like tor's ("Bootstrapped N% (tag): ..."), and each new consensus and the
 *    microdescriptors handed to the nodelist. */
#include "op/dirclient.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/circuit.h"
#include "core/dir_fetch.h"
#include "core/log.h"
#include "dir/dir_engine.h"

typedef struct bd_req {
    struct dirclient *d;
    om_dir_fetch_done_fn done;
    void *ctx;
    char path[64 + 1024 * 45];
    size_t max;
    bool in_stream; /* handed to om_dir_fetch: its callback will come */
    bool deferred;  /* a failure report is scheduled */
    bool cancelled;
    char err[256];
} bd_req_t;

struct dirclient {
    om_dirclient_config_t cfg;
    char data_dir[512];
    om_dir_engine_t *engine;
    void *chan_req;
    om_circuit_t *circ; /* the one-hop circuit to circ_fp */
    bool circ_open;
    uint8_t circ_fp[20];
    bool via_hop; /* the circuit goes to hop (a bridge), built with ntor */
    om_hop_target_t hop;
    bd_req_t *req; /* the request in flight, at most one */
    om_dir_kind_t pending_kind;
};

static void progress(struct dirclient *d, int pct, const char *tag, const char *summary)
{
    if (d->cfg.progress) d->cfg.progress(d->cfg.arg, pct, tag, summary);
}

/* ---------------------------------------------------------------- cache files */

static const char *path_of(const struct dirclient *d, const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", d->data_dir, name);
    return buf;
}

static int write_file(const char *path, const void *data, size_t len, bool append)
{
    char tmp[620];
    const char *target = path;
    if (!append) {
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        target = tmp;
    }
    int fd = open(target, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0600);
    if (fd < 0) return -1;
    const uint8_t *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        p += w;
        left -= (size_t)w;
    }
    if (close(fd) < 0) return -1;
    return append ? 0 : rename(tmp, path);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (n < 0 || (unsigned long)n > OM_DIR_MAX_DOC * 4u) {
        fclose(f);
        return NULL;
    }
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = 0;
        *len = (size_t)n;
    }
    return buf;
}

static void save(struct dirclient *d, const char *name, const char *text, size_t len, bool append)
{
    char path[600];
    if (write_file(path_of(d, name, path, sizeof path), text, len, append) < 0)
        om_warn("Could not write %s", path);
}

/* ---------------------------------------------------------------- the BEGIN_DIR fetcher */

static void close_circ(struct dirclient *d, const char *why)
{
    om_circuit_t *c = d->circ;
    if (!c) return;
    d->circ = NULL;
    d->circ_open = false;
    om_circuit_detach(c);
    om_circuit_close(c, OM_DESTROY_FINISHED, why);
}

static void deferred_fail(evutil_socket_t fd, short what, void *arg)
{
    bd_req_t *r = arg;
    (void)fd;
    (void)what;
    if (!r->cancelled) r->done(r->ctx, 0, NULL, 0, r->err);
    free(r);
}

/* Report a failure of the request in flight (later, from the event loop: it may have been
 * started just now, inside the engine's get). */
static void req_fail(struct dirclient *d, const char *err)
{
    bd_req_t *r = d->req;
    if (!r || r->in_stream || r->deferred) return;
    d->req = NULL;
    snprintf(r->err, sizeof r->err, "%s", err);
    r->deferred = true;
    struct timeval zero = {0, 0};
    if (event_base_once(d->cfg.base, -1, EV_TIMEOUT, deferred_fail, r, &zero) < 0) {
        om_warn("could not schedule a directory failure report (request dropped)");
        free(r);
    }
}

static void stream_done(int status, const uint8_t *body, size_t len, const char *err, void *arg)
{
    bd_req_t *r = arg;
    if (r->d->req == r) r->d->req = NULL;
    if (!r->cancelled) r->done(r->ctx, status, (const char *)body, len, err);
    free(r);
}

static void send_req(struct dirclient *d)
{
    static const struct {
        int pct;
        const char *tag, *what;
    } steps[OM_DIR_N_KINDS] = {
        [OM_DIR_CERTS] = {40, "loading_keys", "Loading authority key certs"},
        [OM_DIR_CONSENSUS_MD] = {25, "requesting_status", "Asking for networkstatus consensus"},
        [OM_DIR_MICRODESCS] = {45, "requesting_descriptors", "Asking for relay descriptors"},
    };
    bd_req_t *r = d->req;
    if (steps[d->pending_kind].tag)
        progress(d, steps[d->pending_kind].pct, steps[d->pending_kind].tag,
                 steps[d->pending_kind].what);
    if (om_dir_fetch(d->circ, r->path, r->max, stream_done, r) < 0) {
        req_fail(d, "could not open a BEGIN_DIR stream");
        return;
    }
    r->in_stream = true;
}

static void circ_built(om_circuit_t *circ, void *arg)
{
    struct dirclient *d = arg;
    (void)circ;
    d->circ_open = true;
    progress(d, 20, "onehop_create", "Establishing an encrypted directory connection");
    if (d->req && !d->req->in_stream) send_req(d);
}

static void circ_closed(om_circuit_t *circ, const char *reason, void *arg)
{
    struct dirclient *d = arg;
    (void)circ;
    d->circ = NULL;
    d->circ_open = false;
    req_fail(d, reason); /* a request in a stream hears it from the stream */
}

static void chan_ready(om_channel_t *chan, const char *err, void *arg)
{
    struct dirclient *d = arg;
    d->chan_req = NULL;
    if (!chan) {
        req_fail(d, err ? err : "no channel");
        return;
    }
    progress(d, 15, "handshake_done", "Handshake with a relay done");
    om_circ_callbacks_t cb = {.on_built = circ_built, .on_closed = circ_closed, .arg = d};
    d->circ = d->via_hop ? om_circuit_create(chan, OM_HANDSHAKE_TYPE_NTOR, &d->hop, &cb)
                         : om_circuit_create(chan, OM_HANDSHAKE_TYPE_FAST, NULL, &cb);
    if (!d->circ) req_fail(d, d->via_hop ? "could not send CREATE2" : "could not send CREATE_FAST");
}

static void *bd_get(void *arg, const om_dirsrv_t *srv, const char *path, size_t max_body,
                    om_dir_fetch_done_fn done, void *ctx)
{
    struct dirclient *d = arg;
    if (d->req) return NULL; /* one at a time */
    om_dirsrv_t bridge;
    if (d->cfg.first_hop) { /* UseBridges: the bridge is the only directory source */
        if (!d->cfg.first_hop(d->cfg.arg, &d->hop, &bridge)) return NULL;
        d->hop.handshake_type = OM_HANDSHAKE_TYPE_NTOR;
        d->via_hop = true;
        srv = &bridge;
    }
    bd_req_t *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->d = d;
    r->done = done;
    r->ctx = ctx;
    r->max = max_body;
    /* Ask for the deflated form; om_dir_fetch inflates it. */
    snprintf(r->path, sizeof r->path, "%s.z", path);
    d->req = r;
    if (d->circ && memcmp(d->circ_fp, srv->rsa_fp, 20) != 0)
        close_circ(d, "changing directory source");
    if (d->chan_req && memcmp(d->circ_fp, srv->rsa_fp, 20) != 0) {
        if (d->cfg.cancel_channel) d->cfg.cancel_channel(d->cfg.arg, d->chan_req);
        d->chan_req = NULL;
    }
    if (d->circ && d->circ_open) {
        send_req(d);
    } else if (!d->circ && !d->chan_req) {
        memcpy(d->circ_fp, srv->rsa_fp, 20);
        if (srv->is_authority || d->via_hop) progress(d, 5, "conn", "Connecting to a relay");
        d->chan_req =
            d->cfg.get_channel(d->cfg.arg, srv->address, srv->or_port, srv->rsa_fp, chan_ready, d);
    }
    return r;
}

static void bd_cancel(void *arg, void *handle)
{
    struct dirclient *d = arg;
    bd_req_t *r = handle;
    r->cancelled = true;
    if (r->deferred) return; /* deferred_fail frees it */
    if (d->req == r) d->req = NULL;
    if (r->in_stream) {
        close_circ(d, "directory request cancelled"); /* ends the stream: stream_done frees r */
        return;
    }
    free(r);
}

static void bd_idle(void *arg)
{
    close_circ(arg, "directory fetches done");
}

/* ---------------------------------------------------------------- engine events */

static void dir_changed(struct dirclient *d)
{
    bool enough = d->cfg.dir_changed ? d->cfg.dir_changed(d->cfg.arg) : false;
    om_dir_engine_use_caches(d->engine, enough && !d->cfg.first_hop);
}

static void ev_fetching(void *arg, om_dir_kind_t kind, const om_dirsrv_t *srv)
{
    struct dirclient *d = arg;
    (void)srv;
    d->pending_kind = kind; /* its progress step is logged when the request goes out */
}

static void ev_received(void *arg, om_dir_kind_t kind, int status, size_t len)
{
    (void)len;
    if (kind == OM_DIR_CONSENSUS_MD && status == 200)
        progress(arg, 30, "loading_status", "Loading networkstatus consensus");
}

static void ev_certs(void *arg, const char *text, size_t len, bool from_cache)
{
    if (!from_cache) save(arg, "cached-certs", text, len, false);
}

static void ev_consensus(void *arg, om_dir_kind_t kind, const om_consensus_t *c, const char *text,
                         size_t len, bool from_cache)
{
    struct dirclient *d = arg;
    if (kind != OM_DIR_CONSENSUS_MD || !c) return;
    om_consensus_t *copy = om_consensus_dup(c);
    if (!copy) {
        om_warn("Out of memory copying the consensus for the nodelist");
        return;
    }
    om_nodelist_set_consensus(d->cfg.nodes, copy);
    if (from_cache) return;
    save(d, "cached-microdesc-consensus", text, len, false);
    dir_changed(d);
}

static void ev_mds(void *arg, const om_microdesc_t *mds, size_t n, const char *text, size_t len,
                   bool from_cache)
{
    struct dirclient *d = arg;
    om_nodelist_add_mds(d->cfg.nodes, mds, n);
    if (from_cache) return;
    save(d, "cached-microdescs", text, len, true);
    dir_changed(d);
}

/* ---------------------------------------------------------------- lifecycle */

static void load_cache(struct dirclient *d)
{
    static const struct {
        const char *file;
        om_dir_kind_t kind;
    } files[] = {{"cached-certs", OM_DIR_CERTS},
                 {"cached-microdesc-consensus", OM_DIR_CONSENSUS_MD},
                 {"cached-microdescs", OM_DIR_MICRODESCS}};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[600];
        size_t len, seen = 0, taken = 0;
        char *t = read_file(path_of(d, files[i].file, path, sizeof path), &len);
        if (!t) continue;
        if (files[i].kind != OM_DIR_MICRODESCS || om_dir_engine_consensus(d->engine))
            om_dir_engine_load(d->engine, files[i].kind, t, len, &seen, &taken);
        if (files[i].kind == OM_DIR_MICRODESCS)
            om_info("Loaded %zu cached microdescriptors (%zu listed)", seen, taken);
        free(t);
    }
    if (!om_dir_engine_consensus(d->engine)) return;
    if (!om_dir_engine_live(d->engine, OM_DIR_CONSENSUS_MD))
        om_notice("Cached consensus is not live; fetching a new one");
    dir_changed(d);
}

om_dirclient_t *om_dirclient_start(const om_dirclient_config_t *cfg)
{
    struct dirclient *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->cfg = *cfg;
    snprintf(d->data_dir, sizeof d->data_dir, "%s", cfg->data_dir);
    d->cfg.data_dir = d->data_dir;
    d->cfg.auths = NULL; /* the engine keeps its copy */
    om_dir_engine_config_t ec = {
        .cache = false,
        .base = cfg->base,
        .auths = cfg->auths,
        .n_auths = cfg->n_auths,
        .fetcher = {.get = bd_get, .cancel = bd_cancel, .idle = bd_idle, .arg = d},
        .events = {.arg = d,
                   .fetching = ev_fetching,
                   .received = ev_received,
                   .certs_changed = ev_certs,
                   .consensus_changed = ev_consensus,
                   .mds_added = ev_mds},
    };
    om_dirsrv_t bridge;
    om_hop_target_t hop;
    if (cfg->first_hop && cfg->first_hop(cfg->arg, &hop, &bridge)) ec.only_source = &bridge;
    d->engine = om_dir_engine_new(&ec);
    if (!d->engine) {
        free(d);
        return NULL;
    }
    load_cache(d);
    om_dir_engine_start(d->engine);
    return d;
}

void om_dirclient_free(om_dirclient_t *d)
{
    if (!d) return;
    om_dir_engine_free(d->engine); /* cancels the request in flight */
    if (d->chan_req && d->cfg.cancel_channel) d->cfg.cancel_channel(d->cfg.arg, d->chan_req);
    close_circ(d, "shutting down");
    free(d);
}

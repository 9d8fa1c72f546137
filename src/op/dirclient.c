/* dirclient.c — the OP's directory client: authority key certificates, the microdesc consensus
 * (verified: more than half of the configured authorities must sign, dir-spec 3.4.1) and the
 * microdescriptors it lists, fetched over BEGIN_DIR on one-hop CREATE_FAST circuits — to the
 * authorities while bootstrapping, to directory caches (V2Dir relays) afterwards — cached in the
 * DataDirectory so a restart re-downloads only what is missing or stale, and refreshed on the
 * consensus schedule (dir-spec 5.1). Bootstrap progress is logged like tor's. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/circuit.h"
#include "core/crypto.h"
#include "core/dir_fetch.h"
#include "core/log.h"
#include "op/op_internal.h"

#define MD_BATCH   128
#define MAX_DOC    (16u << 20)
#define CLOCK_SKEW 3600

typedef enum { PHASE_IDLE, PHASE_CERTS, PHASE_CONSENSUS, PHASE_MDS } phase_t;

struct dirclient {
    om_op_t *op;
    struct event *timer;
    phase_t phase;
    bool busy;
    int source_idx; /* rotates over authorities */
    int failures;
    void *chan_req;
    om_circuit_t *circ; /* the one-hop circuit to the current directory source */
    bool circ_open;
    char source_desc[160];
    time_t next_consensus_fetch;
    size_t md_batch_n;
};

static void dir_step(struct dirclient *d);

/* ---------------------------------------------------------------- files */

static int write_file(const char *path, const void *data, size_t len, bool append)
{
    char tmp[600];
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
    if (n < 0 || (unsigned long)n > MAX_DOC * 4u) {
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

/* ---------------------------------------------------------------- state checks */

static const uint8_t (*trusted_ids(const om_op_t *op, uint8_t (*buf)[20]))[20]
{
    for (size_t i = 0; i < op->opt.n_auths; i++)
        memcpy(buf[i], op->opt.auths[i].v3ident, 20);
    return (const uint8_t(*)[20])buf;
}

static size_t usable_certs(const om_op_t *op)
{
    size_t n = 0;
    time_t now = time(NULL);
    for (size_t a = 0; a < op->opt.n_auths; a++)
        for (size_t i = 0; i < op->n_certs; i++)
            if (!memcmp(op->certs[i]->v3ident, op->opt.auths[a].v3ident, 20) &&
                op->certs[i]->expires + CLOCK_SKEW > now) {
                n++;
                break;
            }
    return n;
}

static bool need_certs(const om_op_t *op)
{
    return usable_certs(op) * 2 <= op->opt.n_auths;
}

static bool consensus_live(const om_op_t *op)
{
    const om_consensus_t *c = op->nodes.consensus;
    return c && time(NULL) <= c->valid_until;
}

static void add_certs(om_op_t *op, om_authcert_t **certs, size_t n)
{
    /* Replace certificates of the same authority (keep the newest published). */
    for (size_t i = 0; i < n; i++) {
        bool placed = false;
        for (size_t j = 0; j < op->n_certs; j++)
            if (!memcmp(op->certs[j]->v3ident, certs[i]->v3ident, 20) &&
                !memcmp(op->certs[j]->signing_digest, certs[i]->signing_digest, 20)) {
                om_authcert_free(certs[i]);
                placed = true;
                break;
            }
        if (placed) continue;
        om_authcert_t **na = realloc(op->certs, (op->n_certs + 1) * sizeof *na);
        if (!na) {
            om_authcert_free(certs[i]);
            continue;
        }
        op->certs = na;
        op->certs[op->n_certs++] = certs[i];
    }
    free(certs);
}

/* Parse + verify a consensus document; on success install it. source: "cache" or a server. */
static int accept_consensus(om_op_t *op, const char *text, size_t len, const char *source)
{
    char err[256];
    om_consensus_t *c = om_consensus_parse(text, len, err, sizeof err);
    if (!c) {
        om_warn("Rejected the microdesc consensus from %s: %s", source, err);
        return -1;
    }
    uint8_t ids[OM_OP_MAX_AUTHS][20];
    if (om_consensus_verify(c, op->certs, op->n_certs, trusted_ids(op, ids), op->opt.n_auths,
                            time(NULL), CLOCK_SKEW, err, sizeof err) < 0) {
        om_warn("Rejected the microdesc consensus from %s: %s", source, err);
        om_consensus_free(c);
        return -1;
    }
    if (op->nodes.consensus && c->valid_after <= op->nodes.consensus->valid_after) {
        om_info("Consensus from %s is not newer than ours; keeping ours", source);
        om_consensus_free(c);
        return 0;
    }
    char va[32];
    struct tm tm;
    gmtime_r(&c->valid_after, &tm);
    strftime(va, sizeof va, "%Y-%m-%d %H:%M:%S", &tm);
    om_notice("Accepted a microdesc consensus from %s: valid-after %s, %zu relays, signed by "
              "enough of our %zu authorities",
              source, va, c->n_routers, op->opt.n_auths);
    om_nodelist_set_consensus(&op->nodes, c);
    return 0;
}

static void schedule_refresh(struct dirclient *d)
{
    const om_consensus_t *c = d->op->nodes.consensus;
    if (!c) return;
    /* dir-spec 5.1: a random time after fresh-until, in the first half of the remaining
     * validity. */
    time_t span = c->valid_until - c->fresh_until;
    uint32_t r;
    om_rand_bytes((uint8_t *)&r, sizeof r);
    time_t at = c->fresh_until + (span > 1 ? (time_t)(r % (uint32_t)(span / 2 + 1)) : 0);
    d->next_consensus_fetch = at;
}

static void load_cache(struct dirclient *d)
{
    om_op_t *op = d->op;
    char path[600];
    size_t len;
    char *t = read_file(om_op_path(op, "cached-certs", path, sizeof path), &len);
    if (t) {
        char err[200];
        size_t n;
        om_authcert_t **certs = om_authcert_parse_many(t, len, &n, err, sizeof err);
        if (certs)
            add_certs(op, certs, n);
        else
            om_warn("Ignoring cached authority certificates: %s", err);
        free(t);
    }
    t = read_file(om_op_path(op, "cached-microdesc-consensus", path, sizeof path), &len);
    if (t) {
        if (accept_consensus(op, t, len, "the cache") == 0 && !consensus_live(op)) {
            om_notice("Cached consensus has expired; fetching a new one");
            schedule_refresh(d);
        }
        free(t);
    }
    t = read_file(om_op_path(op, "cached-microdescs", path, sizeof path), &len);
    if (t && op->nodes.consensus) {
        char err[200];
        size_t n;
        om_microdesc_t *mds = om_microdesc_parse_many(t, len, &n, err, sizeof err);
        if (mds) {
            size_t added = om_nodelist_add_mds(&op->nodes, mds, n);
            om_info("Loaded %zu cached microdescriptors (%zu listed)", n, added);
            free(mds);
        } else {
            om_warn("Ignoring cached microdescriptors: %s", err);
        }
    }
    free(t);
    if (op->nodes.consensus) schedule_refresh(d);
}

/* ---------------------------------------------------------------- fetching */

static void source_failed(struct dirclient *d, const char *why)
{
    om_info("Directory fetch from %s failed: %s", d->source_desc, why);
    d->failures++;
    d->source_idx++;
    if (d->circ) {
        om_circuit_t *c = d->circ;
        d->circ = NULL;
        d->circ_open = false;
        om_circuit_detach(c);
        om_circuit_close(c, OM_DESTROY_FINISHED, "directory source failed");
    }
    d->busy = false;
    int delay = d->failures < 6 ? 1 << (d->failures - 1) : 30;
    struct timeval tv = {delay, 0};
    evtimer_add(d->timer, &tv);
}

static void fetch_done(int status, const uint8_t *body, size_t len, const char *err, void *arg);

static const char *phase_path(struct dirclient *d, char *buf, size_t buflen)
{
    om_op_t *op = d->op;
    switch (d->phase) {
    case PHASE_CERTS:
        return "/tor/keys/all.z";
    case PHASE_CONSENSUS:
        return "/tor/status-vote/current/consensus-microdesc.z";
    case PHASE_MDS: {
        uint8_t(*dg)[32] = malloc(MD_BATCH * sizeof *dg);
        if (!dg) return NULL;
        size_t n = om_nodelist_missing_mds(&op->nodes, dg, MD_BATCH);
        d->md_batch_n = n;
        size_t off = (size_t)snprintf(buf, buflen, "/tor/micro/d/");
        for (size_t i = 0; i < n && off + 50 < buflen; i++) {
            char b64[64];
            om_base64_encode(dg[i], 32, b64, sizeof b64, true);
            off += (size_t)snprintf(buf + off, buflen - off, "%s%s", i ? "-" : "", b64);
        }
        snprintf(buf + off, buflen - off, ".z");
        free(dg);
        return n ? buf : NULL;
    }
    default:
        return NULL;
    }
}

static void start_request(struct dirclient *d)
{
    char pathbuf[MD_BATCH * 45 + 64];
    const char *path = phase_path(d, pathbuf, sizeof pathbuf);
    if (!path) {
        d->busy = false;
        dir_step(d);
        return;
    }
    static const struct {
        int pct;
        const char *tag, *what;
    } progress[] = {
        [PHASE_CERTS] = {40, "loading_keys", "Loading authority key certs"},
        [PHASE_CONSENSUS] = {25, "requesting_status", "Asking for networkstatus consensus"},
        [PHASE_MDS] = {45, "requesting_descriptors", "Asking for relay descriptors"},
    };
    if (!d->op->have_enough_dir)
        om_op_bootstrap(d->op, progress[d->phase].pct, progress[d->phase].tag,
                        progress[d->phase].what);
    om_debug("Directory request to %s: GET %.80s%s", d->source_desc, path,
             strlen(path) > 80 ? "..." : "");
    if (om_dir_fetch(d->circ, path, MAX_DOC, fetch_done, d) < 0)
        source_failed(d, "could not open a BEGIN_DIR stream");
}

static void circ_built(om_circuit_t *circ, void *arg)
{
    struct dirclient *d = arg;
    (void)circ;
    d->circ_open = true;
    if (!d->op->have_enough_dir)
        om_op_bootstrap(d->op, 20, "onehop_create",
                        "Establishing an encrypted directory connection");
    start_request(d);
}

static void circ_closed(om_circuit_t *circ, const char *reason, void *arg)
{
    struct dirclient *d = arg;
    (void)circ;
    bool was_busy = d->busy;
    d->circ = NULL;
    d->circ_open = false;
    if (was_busy) source_failed(d, reason);
}

static void chan_ready(om_channel_t *chan, const char *err, void *arg)
{
    struct dirclient *d = arg;
    d->chan_req = NULL;
    if (!chan) {
        source_failed(d, err);
        return;
    }
    if (!d->op->have_enough_dir)
        om_op_bootstrap(d->op, 15, "handshake_done", "Handshake with a relay done");
    om_circ_callbacks_t cb = {.on_built = circ_built, .on_closed = circ_closed, .arg = d};
    d->circ = om_circuit_create(chan, OM_HANDSHAKE_TYPE_FAST, NULL, &cb);
    if (!d->circ) source_failed(d, "could not send CREATE_FAST");
}

/* Pick a directory source: an authority while we have no live consensus, else a directory
 * cache (a V2Dir relay) from the consensus. */
static void connect_source(struct dirclient *d)
{
    om_op_t *op = d->op;
    const char *host;
    char hostbuf[64];
    uint16_t port;
    const uint8_t *fp;
    const om_routerstatus_t *rs = NULL;
    if (consensus_live(op) && op->have_enough_dir) {
        size_t n = op->nodes.consensus->n_routers;
        for (size_t tries = 0; tries < n && !rs; tries++) {
            uint32_t r;
            om_rand_bytes((uint8_t *)&r, sizeof r);
            const om_routerstatus_t *c = &op->nodes.consensus->routers[r % n];
            if ((c->flags & OM_RS_V2DIR) && om_node_usable(c)) rs = c;
        }
    }
    if (rs) {
        snprintf(hostbuf, sizeof hostbuf, "%u.%u.%u.%u", rs->ipv4[0], rs->ipv4[1], rs->ipv4[2],
                 rs->ipv4[3]);
        host = hostbuf;
        port = rs->or_port;
        fp = rs->rsa_id;
        snprintf(d->source_desc, sizeof d->source_desc, "directory cache %s (%s:%u)", rs->nickname,
                 host, port);
    } else {
        const om_op_dirauth_t *a = &op->opt.auths[(size_t)d->source_idx % op->opt.n_auths];
        host = a->address;
        port = a->or_port;
        fp = a->rsa_fp;
        snprintf(d->source_desc, sizeof d->source_desc, "authority %s (%s:%u)", a->nickname, host,
                 port);
        if (!op->have_enough_dir) om_op_bootstrap(op, 5, "conn", "Connecting to a relay");
    }
    d->chan_req = om_linkmgr_get(op->chans, host, port, fp, NULL, chan_ready, d);
}

static void fetch_done(int status, const uint8_t *body, size_t len, const char *err, void *arg)
{
    struct dirclient *d = arg;
    om_op_t *op = d->op;
    char path[600];
    if (err || status != 200) {
        char why[300];
        snprintf(why, sizeof why, "%s", err ? err : "HTTP error");
        if (!err) snprintf(why, sizeof why, "HTTP status %d", status);
        source_failed(d, why);
        return;
    }
    char perr[256];
    switch (d->phase) {
    case PHASE_CERTS: {
        size_t n;
        om_authcert_t **certs =
            om_authcert_parse_many((const char *)body, len, &n, perr, sizeof perr);
        if (!certs) {
            source_failed(d, perr);
            return;
        }
        om_info("Got %zu authority key certificates from %s", n, d->source_desc);
        add_certs(op, certs, n);
        write_file(om_op_path(op, "cached-certs", path, sizeof path), body, len, false);
        break;
    }
    case PHASE_CONSENSUS:
        if (!op->have_enough_dir)
            om_op_bootstrap(op, 30, "loading_status", "Loading networkstatus consensus");
        if (accept_consensus(op, (const char *)body, len, d->source_desc) < 0) {
            source_failed(d, "consensus rejected");
            return;
        }
        write_file(om_op_path(op, "cached-microdesc-consensus", path, sizeof path), body, len,
                   false);
        schedule_refresh(d);
        om_op_dir_changed(op);
        break;
    case PHASE_MDS: {
        size_t n;
        om_microdesc_t *mds =
            om_microdesc_parse_many((const char *)body, len, &n, perr, sizeof perr);
        if (!mds) {
            source_failed(d, perr);
            return;
        }
        size_t added = om_nodelist_add_mds(&op->nodes, mds, n);
        free(mds);
        om_info("Got %zu microdescriptors (%zu new) from %s", n, added, d->source_desc);
        if (added)
            write_file(om_op_path(op, "cached-microdescs", path, sizeof path), body, len, true);
        if (added == 0) {
            /* The server had none of what we asked for: try another. */
            source_failed(d, "no requested microdescriptor was served");
            return;
        }
        om_op_dir_changed(op);
        break;
    }
    default:
        break;
    }
    d->failures = 0;
    d->busy = false;
    dir_step(d);
}

/* Decide what to fetch next. */
static void dir_step(struct dirclient *d)
{
    om_op_t *op = d->op;
    if (d->busy) return;
    phase_t next = PHASE_IDLE;
    if (need_certs(op))
        next = PHASE_CERTS;
    else if (!consensus_live(op) || time(NULL) >= d->next_consensus_fetch)
        next = PHASE_CONSENSUS;
    else if (om_nodelist_missing_mds(&op->nodes, NULL, 0) > 0)
        next = PHASE_MDS;
    if (next == PHASE_IDLE) {
        /* Done for now: close the directory circuit, wake up at the refresh time. */
        if (d->circ) {
            om_circuit_t *c = d->circ;
            d->circ = NULL;
            d->circ_open = false;
            om_circuit_detach(c);
            om_circuit_close(c, OM_DESTROY_FINISHED, "directory fetches done");
        }
        time_t wait = d->next_consensus_fetch - time(NULL);
        struct timeval tv = {wait > 0 ? wait : 1, 0};
        evtimer_add(d->timer, &tv);
        return;
    }
    d->phase = next;
    d->busy = true;
    if (d->circ && d->circ_open)
        start_request(d);
    else if (!d->circ)
        connect_source(d);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    dir_step(arg);
}

struct dirclient *om_dirclient_start(om_op_t *op)
{
    struct dirclient *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->op = op;
    d->timer = evtimer_new(op->base, timer_cb, d);
    uint32_t r;
    om_rand_bytes((uint8_t *)&r, sizeof r);
    d->source_idx = (int)(r % (op->opt.n_auths ? op->opt.n_auths : 1));
    load_cache(d);
    if (op->nodes.consensus) om_op_dir_changed(op);
    struct timeval now = {0, 0};
    evtimer_add(d->timer, &now);
    return d;
}

void om_dirclient_free(struct dirclient *d)
{
    if (!d) return;
    if (d->chan_req) om_linkmgr_cancel(d->op->chans, d->chan_req);
    if (d->circ) {
        om_circuit_detach(d->circ);
        om_circuit_close(d->circ, OM_DESTROY_FINISHED, "shutting down");
    }
    if (d->timer) event_free(d->timer);
    free(d);
}

/* minnet.c — the in-process test network of minnet.h: per relay its keys, link identity and TLS
 * context (made once), and per life (start, revive) its listener, link manager, scheduler,
 * circuits, stream layer and exit, wired as src/or/relay.c wires them; the microdesc consensus
 * and microdescriptors describing the relays, generated as text, parsed and loaded into the
 * nodelist. */
#include "minnet.h"

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "core/crypto.h"
#include "core/link_cells.h"
#include "core/linkmgr.h"
#include "core/listener_tls.h"
#include "core/transport.h"
#include "or/exit_policy.h"
#include "or/or_circuit.h"
#include "or/or_exit.h"
#include "or/or_sched.h"
#include "or/or_streams.h"
#include "or/relay_keys.h"
#include "test_loop.h"

#define MAX_QUEUED_BYTES (64u * 1024 * 1024) /* MaxMemInQueues of each relay */
#define MAX_CIRCUITS     4096
#define CREATE_RING      256 /* client CREATE times kept per relay */

struct minnet_relay {
    minnet_t *net;
    int index;
    char nickname[20];
    char data_dir[128];
    om_relay_keys_t keys;
    bool keys_loaded;
    om_identity_t identity;
    bool identity_ok;
    om_tls_server_ctx_t *tls;
    om_exit_policy_t policy;
    uint16_t or_port;
    /* This life's components (NULL while dead). */
    om_tls_listener_t *listener;
    om_linkmgr_t *links;
    om_or_sched_t *sched;
    om_or_streams_t *streams;
    om_or_exit_t *exit;
    om_or_circuits_t *circuits;
    minnet_relay_stats_t past;          /* counters of the lives before this one */
    uint64_t client_creates;            /* all lives */
    uint64_t create_times[CREATE_RING]; /* the last ones, at [client_creates % CREATE_RING] */
};

static int fail(minnet_t *mn, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(minnet_t *mn, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(mn->err, sizeof mn->err, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---------------------------------------------------------------- a relay's life */

static void on_unclaimed(om_channel_t *chan, const om_cell_t *cell, void *arg)
{
    minnet_relay_t *r = arg;
    /* A client's first hop: the peer proved no relay identity (or_exit.c's test too). */
    if ((cell->command == OM_CELL_CREATE2 || cell->command == OM_CELL_CREATE_FAST) &&
        !om_channel_peer_identity(chan))
        r->create_times[r->client_creates++ % CREATE_RING] = om_now_usec();
    om_or_circuits_unclaimed_cell(r->circuits, chan, cell);
}

static void on_link_closed(om_channel_t *chan, const char *reason, void *arg)
{
    minnet_relay_t *r = arg;
    (void)reason;
    om_or_circuits_link_closed(r->circuits, chan);
    om_or_sched_link_closed(r->sched, chan);
}

/* Congestion control granted with tor 0.4.9's defaults (relay.c asks its consensus). */
static bool cc_params_cb(void *arg, om_cc_params_t *out)
{
    (void)arg;
    om_cc_params_load(out, NULL, NULL);
    return om_cc_params_enabled(out);
}

static int open_listener(minnet_relay_t *r)
{
    char err[256];
    r->listener = om_tls_listener_new(r->net->base, "127.0.0.1", r->or_port, r->tls, r->links, err,
                                      sizeof err);
    if (!r->listener) return fail(r->net, "%s: %s", r->nickname, err);
    r->or_port = om_tls_listener_port(r->listener);
    return 0;
}

static void relay_add_counters(minnet_relay_stats_t *acc, const minnet_relay_t *r);

/* Stop this life (as om_relay_free does, keys kept); counters go to r->past. */
static void relay_down(minnet_relay_t *r)
{
    if (r->circuits) relay_add_counters(&r->past, r);
    om_tls_listener_free(r->listener);
    om_or_circuits_free(r->circuits);
    om_linkmgr_free(r->links);
    om_or_sched_free(r->sched);
    om_or_streams_free(r->streams);
    om_or_exit_free(r->exit);
    r->listener = NULL;
    r->circuits = NULL;
    r->links = NULL;
    r->sched = NULL;
    r->streams = NULL;
    r->exit = NULL;
}

/* Start a life: the components in relay.c's order of om_relay_start, then the listener. */
static int relay_up(minnet_relay_t *r)
{
    minnet_t *mn = r->net;
    char resolv[96], err[256];
    om_linkmgr_owner_t owner = {
        .on_unclaimed_cell = on_unclaimed, .on_link_closed = on_link_closed, .arg = r};
    om_linkmgr_opts_t lo = {.identity = &r->identity, .max_links = 1024};
    r->links = om_linkmgr_new(mn->base, &lo, &owner);
    snprintf(resolv, sizeof resolv, "%s/resolv.conf", mn->dir);
    r->exit = om_or_exit_new(mn->base, &r->policy, resolv, false, NULL, err, sizeof err);
    if (!r->exit) return fail(mn, "%s: exit: %s", r->nickname, err);
    r->streams = om_or_streams_new(NULL, NULL);
    if (!r->streams || om_or_exit_register(r->exit, r->streams) < 0)
        return fail(mn, "%s: stream layer", r->nickname);
    r->sched = om_or_sched_new(MAX_QUEUED_BYTES, om_or_circ_oom, NULL);
    om_or_circ_params_t cp = {
        .keys = &r->keys,
        .links = r->links,
        .allow_private_extend = true,
        .max_circuits = MAX_CIRCUITS,
        .stream_handler = om_or_streams_handle,
        .on_circ_free = om_or_streams_circ_free,
        .stream_arg = r->streams,
        .cc_params = cc_params_cb,
        .cc_arg = r,
        .sched = r->sched,
        .on_writable = om_or_streams_writable,
        .base = mn->base,
    };
    r->circuits = r->links && r->sched ? om_or_circuits_new(&cp) : NULL;
    if (!r->circuits) return fail(mn, "%s: out of memory", r->nickname);
    return open_listener(r);
}

/* What a relay has for all its lives: keys in its DataDirectory, link identity, TLS context,
 * exit policy. */
static int relay_new(minnet_t *mn, int i, const char *policy)
{
    minnet_relay_t *r = calloc(1, sizeof *r);
    if (!r) return fail(mn, "out of memory");
    mn->relays[i] = r;
    r->net = mn;
    r->index = i;
    snprintf(r->nickname, sizeof r->nickname, "minnet%d", i);
    snprintf(r->data_dir, sizeof r->data_dir, "%s/%s", mn->dir, r->nickname);
    char err[256];
    if (om_relay_keys_load(&r->keys, r->data_dir, time(NULL), err, sizeof err) < 0)
        return fail(mn, "%s: keys: %s", r->nickname, err);
    r->keys_loaded = true;
    if (om_relay_keys_link_identity(&r->keys, &r->identity) < 0)
        return fail(mn, "%s: link identity", r->nickname);
    r->identity_ok = true;
    om_addr_from_string(&r->identity.my_addr, "127.0.0.1");
    r->tls = om_tls_server_ctx_new(r->identity.tls_cert, r->identity.tls_cert_len,
                                   om_rsa_evp_pkey(r->identity.tls_key));
    if (!r->tls) return fail(mn, "%s: TLS context", r->nickname);
    const char *lines[] = {policy ? policy : "accept *:*"};
    if (om_exit_policy_parse(&r->policy, lines, 1, err, sizeof err) < 0)
        return fail(mn, "%s: exit policy: %s", r->nickname, err);
    return relay_up(r);
}

static void relay_free(minnet_relay_t *r)
{
    if (!r) return;
    relay_down(r);
    om_exit_policy_free(&r->policy);
    om_tls_server_ctx_free(r->tls);
    if (r->identity_ok) om_identity_free(&r->identity);
    if (r->keys_loaded) om_relay_keys_free(&r->keys);
    free(r);
}

/* ---------------------------------------------------------------- the directory documents */

/* A growing string (printf appends); on out of memory ->s becomes NULL and stays so. */
typedef struct {
    char *s;
    size_t len, cap;
    bool oom;
} sbuf_t;

static void sb_printf(sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf_t *b, const char *fmt, ...)
{
    if (b->oom) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (b->len + (size_t)n + 1 > b->cap) {
        size_t cap = (b->len + (size_t)n + 1) * 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = true;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static void b64(const uint8_t *in, size_t n, char *out, size_t outsz)
{
    om_base64_encode(in, n, out, outsz, true);
}

/* Relay r's microdescriptor (dir-spec 3.3), appended to b; its SHA-256 in digest. */
static void microdesc(sbuf_t *b, const minnet_relay_t *r, uint8_t digest[32])
{
    char ntor[48], ed[48], summary[OM_EXIT_POLICY_SUMMARY_MAX + 8];
    b64(r->keys.ntor.pub, 32, ntor, sizeof ntor);
    b64(r->keys.ed_id.pub, 32, ed, sizeof ed);
    if (om_exit_policy_summary(&r->policy, AF_INET, summary, sizeof summary) < 0)
        snprintf(summary, sizeof summary, "reject 1-65535");
    size_t start = b->len;
    sb_printf(b, "onion-key\nntor-onion-key %s\np %s\nid ed25519 %s\n", ntor, summary, ed);
    if (!b->oom) om_sha256((const uint8_t *)b->s + start, b->len - start, digest);
}

static int cmp_fp(const void *a, const void *b)
{
    const minnet_relay_t *x = *(minnet_relay_t *const *)a, *y = *(minnet_relay_t *const *)b;
    return memcmp(x->keys.rsa_fp, y->keys.rsa_fp, 20);
}

static void consensus_header(sbuf_t *b)
{
    char va[32], fu[32], vu[32];
    time_t now = time(NULL) - 60;
    struct tm tm;
    strftime(va, sizeof va, "%Y-%m-%d %H:%M:%S", gmtime_r(&now, &tm));
    now += 3600;
    strftime(fu, sizeof fu, "%Y-%m-%d %H:%M:%S", gmtime_r(&now, &tm));
    now += 2 * 3600;
    strftime(vu, sizeof vu, "%Y-%m-%d %H:%M:%S", gmtime_r(&now, &tm));
    sb_printf(b,
              "network-status-version 3 microdesc\nvote-status consensus\nconsensus-method 35\n"
              "valid-after %s\nfresh-until %s\nvalid-until %s\nvoting-delay 4 4\n"
              "client-versions \nserver-versions \n"
              "known-flags Exit Fast Guard Running Stable V2Dir Valid\n"
              "recommended-client-protocols Cons=2 Desc=2 FlowCtrl=1-2 Link=4-5 Microdesc=2 "
              "Relay=2-4\n"
              "required-client-protocols Cons=2 Desc=2 FlowCtrl=1 Link=4 Microdesc=2 Relay=2\n"
              "params bwweightscale=10000 cc_alg=2 circwindow=1000 "
              "guard-n-primary-guards-to-use=1 sendme_emit_min_version=1\n"
              "dir-source minnet %040d 127.0.0.1 127.0.0.1 0 0\n"
              "contact minnet@example.invalid\nvote-digest %040d\n",
              va, fu, vu, 0, 0);
}

/* The consensus (router entries sorted by identity) and the microdescriptors, as text. */
static int make_documents(minnet_t *mn)
{
    sbuf_t cons = {0}, mds = {0};
    minnet_relay_t *sorted[MINNET_MAX];
    memcpy(sorted, mn->relays, (size_t)mn->n * sizeof sorted[0]);
    qsort(sorted, (size_t)mn->n, sizeof sorted[0], cmp_fp);
    consensus_header(&cons);
    for (int i = 0; i < mn->n; i++) {
        const minnet_relay_t *r = sorted[i];
        uint8_t digest[32];
        char id[32], dg[48];
        microdesc(&mds, r, digest);
        b64(r->keys.rsa_fp, 20, id, sizeof id);
        b64(digest, 32, dg, sizeof dg);
        /* What relay.c says it implements, as an exit without a directory cache. */
        sb_printf(&cons,
                  "r %s %s 2038-01-01 00:00:00 127.0.0.1 %u 0\nm %s\n"
                  "s Exit Fast Guard Running Stable V2Dir Valid\nv Tor 0.4.9.11\n"
                  "pr %sCons=1-2 Desc=1-2 FlowCtrl=1-2 Link=4-5 LinkAuth=3 Microdesc=1-2 "
                  "Relay=2,4\nw Bandwidth=1000\n",
                  r->nickname, id, r->or_port, dg, mn->conflux_proto ? "Conflux=1 " : "");
    }
    sb_printf(&cons,
              "directory-footer\nbandwidth-weights Wbd=3333 Wbe=0 Wbg=0 Wbm=10000 "
              "Wdb=10000 Web=10000 Wed=3333 Wee=10000 Weg=3333 Wem=10000 Wgb=10000 "
              "Wgd=3333 Wgg=10000 Wgm=10000 Wmb=10000 Wmd=3333 Wme=0 Wmg=0 Wmm=10000\n"
              "directory-signature sha256 %040d %040d\n-----BEGIN SIGNATURE-----\n"
              "bm90IHNpZ25lZA==\n-----END SIGNATURE-----\n",
              0, 0);
    mn->consensus_text = cons.s;
    mn->microdescs_text = mds.s;
    if (cons.oom || mds.oom) return fail(mn, "out of memory");
    return 0;
}

static int load_nodelist(minnet_t *mn)
{
    char err[256];
    om_consensus_t *c =
        om_consensus_parse(mn->consensus_text, strlen(mn->consensus_text), err, sizeof err);
    if (!c) return fail(mn, "generated consensus: %s", err);
    om_nodelist_set_consensus(&mn->nodes, c);
    size_t n;
    om_microdesc_t *mds = om_microdesc_parse_many(mn->microdescs_text, strlen(mn->microdescs_text),
                                                  &n, err, sizeof err);
    if (!mds) return fail(mn, "generated microdescriptors: %s", err);
    size_t added = om_nodelist_add_mds(&mn->nodes, mds, n);
    free(mds);
    if (added != (size_t)mn->n)
        return fail(mn, "%zu of %d microdescriptors matched the consensus", added, mn->n);
    return 0;
}

/* ---------------------------------------------------------------- the network */

static int write_resolv_conf(minnet_t *mn)
{
    char path[96];
    snprintf(path, sizeof path, "%s/resolv.conf", mn->dir);
    FILE *f = fopen(path, "w");
    if (!f) return fail(mn, "%s: %s", path, strerror(errno));
    int r = fputs("nameserver 127.0.0.1\n", f) < 0 ? -1 : 0;
    if (fclose(f) != 0) r = -1;
    return r < 0 ? fail(mn, "cannot write %s", path) : 0;
}

int minnet_start_opts(minnet_t *mn, struct event_base *base, const minnet_opts_t *o)
{
    memset(mn, 0, sizeof *mn);
    mn->base = base;
    if (o->n < 1 || o->n > MINNET_MAX) return fail(mn, "minnet: %d relays", o->n);
    snprintf(mn->dir, sizeof mn->dir, "/tmp/om-minnet-XXXXXX");
    if (!mkdtemp(mn->dir)) {
        mn->dir[0] = 0;
        return fail(mn, "mkdtemp: %s", strerror(errno));
    }
    mn->conflux_proto = o->conflux_proto;
    if (write_resolv_conf(mn) < 0) goto bad;
    for (int i = 0; i < o->n; i++) {
        mn->n = i + 1;
        if (relay_new(mn, i, o->exit_policy[i]) < 0) goto bad;
    }
    if (make_documents(mn) < 0 || load_nodelist(mn) < 0) goto bad;
    return 0;
bad:;
    char err[sizeof mn->err];
    memcpy(err, mn->err, sizeof err);
    minnet_stop(mn);
    memcpy(mn->err, err, sizeof err);
    return -1;
}

int minnet_start(minnet_t *mn, struct event_base *base, int n)
{
    minnet_opts_t o = {.n = n};
    return minnet_start_opts(mn, base, &o);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void minnet_stop(minnet_t *mn)
{
    for (int i = 0; i < mn->n; i++)
        relay_free(mn->relays[i]);
    if (mn->base && mn->n) om_test_spin(mn->base, 50); /* the link managers' deferred frees */
    om_nodelist_clear(&mn->nodes);
    free(mn->consensus_text);
    free(mn->microdescs_text);
    if (mn->dir[0]) nftw(mn->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    memset(mn, 0, sizeof *mn);
}

struct om_linkmgr *minnet_relay_links(minnet_t *mn, int i)
{
    return i >= 0 && i < mn->n ? mn->relays[i]->links : NULL;
}

om_nodelist_t *minnet_nodelist(minnet_t *mn)
{
    return &mn->nodes;
}

void minnet_kill_relay(minnet_t *mn, int i)
{
    if (i >= 0 && i < mn->n) relay_down(mn->relays[i]);
}

int minnet_revive_relay(minnet_t *mn, int i)
{
    if (i < 0 || i >= mn->n) return fail(mn, "no relay %d", i);
    minnet_relay_t *r = mn->relays[i];
    if (r->circuits) return 0;
    if (relay_up(r) < 0) {
        relay_down(r);
        return -1;
    }
    return 0;
}

/* acc += relay r's counters of its current life. */
static void relay_add_counters(minnet_relay_stats_t *acc, const minnet_relay_t *r)
{
    om_or_circ_stats_t cs;
    om_or_streams_stats_t ss;
    om_or_exit_stats_t xs;
    om_or_circuits_stats(r->circuits, &cs);
    om_or_streams_stats(r->streams, &ss);
    om_or_exit_stats(r->exit, &xs);
    acc->circuits += cs.circuits;
    acc->links += om_linkmgr_count(r->links);
    acc->created += cs.created;
    acc->extends += cs.extends;
    acc->streams += ss.streams;
    acc->exit_begins += xs.begins;
    acc->exit_connected += xs.connected;
    acc->exit_refused += xs.refused_policy;
}

void minnet_relay_stats(const minnet_t *mn, int i, minnet_relay_stats_t *out)
{
    memset(out, 0, sizeof *out);
    if (i < 0 || i >= mn->n || !mn->relays[i]) return;
    const minnet_relay_t *r = mn->relays[i];
    *out = r->past;
    out->circuits = out->links = 0; /* "now" counts: this life's only */
    out->alive = r->circuits != NULL;
    if (out->alive) relay_add_counters(out, r);
    snprintf(out->nickname, sizeof out->nickname, "%s", r->nickname);
    memcpy(out->rsa_fp, r->keys.rsa_fp, 20);
    out->or_port = r->or_port;
    out->client_creates = r->client_creates;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int minnet_client_create_times(const minnet_t *mn, uint64_t since, uint64_t *out, int max)
{
    int n = 0;
    for (int i = 0; i < mn->n; i++) {
        const minnet_relay_t *r = mn->relays[i];
        uint64_t kept = r->client_creates < CREATE_RING ? r->client_creates : CREATE_RING;
        for (uint64_t k = r->client_creates - kept; k < r->client_creates && n < max; k++)
            if (r->create_times[k % CREATE_RING] >= since)
                out[n++] = r->create_times[k % CREATE_RING];
    }
    qsort(out, (size_t)n, sizeof *out, cmp_u64);
    return n;
}

int minnet_find(const minnet_t *mn, const uint8_t rsa_fp[20])
{
    for (int i = 0; i < mn->n; i++)
        if (mn->relays[i] && !memcmp(mn->relays[i]->keys.rsa_fp, rsa_fp, 20)) return i;
    return -1;
}

/* op.c — the onion proxy's lifecycle: options and their defaults, the data directory, bootstrap
 * progress, and wiring the SOCKS port, directory client, guards and circuit pool together. */
#include "op/op.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <event2/event.h>

#include "core/linkmgr.h"
#include "core/log.h"
#include "dir/authcert.h"
#include "op/bridges.h"
#include "op/circpool.h"
#include "op/dirclient.h"
#include "op/edge.h"
#include "op/guards.h"
#include "op/nodelist.h"
#include "op/socks_server.h"

struct om_op {
    struct event_base *base;
    om_op_options_t opt;
    om_linkmgr_t *chans;
    bool own_chans; /* made here (else the relay's, shared: om_op_start_shared) */
    om_nodelist_t nodes;
    om_guards_t guards;
    om_socks_server_t *socks;
    int bootstrap_pct;
    bool have_enough_dir; /* consensus + enough microdescriptors to build circuits */
    om_dirclient_t *dir;
    om_bridges_t *bridges; /* UseBridges: first hops and directory source */
    om_circpool_t *pool;
    om_edge_ctx_t edge;
};

void om_op_options_defaults(om_op_options_t *o)
{
    memset(o, 0, sizeof *o);
    snprintf(o->socks_addr, sizeof o->socks_addr, "127.0.0.1");
    o->socks_enabled = true;
    o->socks_port = 9050;
    o->isolate_socks_auth = true;
    o->circuit_build_timeout_s = 60;
    o->max_circuit_dirtiness_s = 600;
    o->new_circuit_period_s = 30;
    o->prebuilt_circuits = 2;
    o->paths_needed = 0.6;
    o->max_socks_conns = 1000;
    o->path.enforce_distinct_subnets = true;
    o->congestion_control = -1;
    o->conflux = -1;
}

static const char *op_path(const om_op_t *op, const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", op->opt.data_dir, name);
    return buf;
}

static void op_bootstrap(om_op_t *op, int pct, const char *tag, const char *summary)
{
    if (pct <= op->bootstrap_pct) return;
    op->bootstrap_pct = pct;
    om_notice("Bootstrapped %d%% (%s): %s", pct, tag, summary);
}

static void op_dir_changed(om_op_t *op)
{
    if (!op->nodes.consensus) return;
    if (!op->bridges) /* with bridges, the bridge is the first hop: no guards */
        om_guards_update(&op->guards, &op->nodes, &op->opt.path.entry_nodes,
                         &op->opt.path.exclude_nodes);
    double frac = om_nodelist_path_fraction(&op->nodes);
    if (!op->have_enough_dir) {
        if (frac >= op->opt.paths_needed) {
            op->have_enough_dir = true;
            op_bootstrap(op, 75, "enough_dirinfo",
                         "Loaded enough directory info to build circuits");
        } else if (op->bootstrap_pct >= 45) {
            op_bootstrap(op, 50, "loading_descriptors", "Loading relay descriptors");
        }
    }
    if (op->have_enough_dir && op->pool) om_circpool_dir_changed(op->pool);
}

/* The directory client's view of the OP (op/dirclient.h). The channel getter is the one call
 * into the link manager. */
static void *dir_get_channel(void *arg, const char *host, uint16_t port, const uint8_t rsa_fp[20],
                             om_dirclient_chan_cb cb, void *cb_arg)
{
    om_op_t *op = arg;
    const om_routerstatus_t *rs;
    const om_transport_factory_t *f;
    if (op->bridges && om_bridges_first_hop(op->bridges, &rs, &f))
        return om_linkmgr_get_via(op->chans, f, host, port, rsa_fp, NULL, cb, cb_arg);
    return om_linkmgr_get(op->chans, host, port, rsa_fp, NULL, cb, cb_arg);
}

/* UseBridges: the bridge is the first hop of circuits and the directory source. */
static bool bridge_first_hop(void *arg, const om_routerstatus_t **rs,
                             const om_transport_factory_t **f)
{
    om_op_t *op = arg;
    return op->bridges && om_bridges_first_hop(op->bridges, rs, f);
}

static bool dir_first_hop(void *arg, om_hop_target_t *hop, om_dirsrv_t *src)
{
    const om_routerstatus_t *rs;
    const om_transport_factory_t *f;
    if (!bridge_first_hop(arg, &rs, &f)) return false;
    memset(hop, 0, sizeof *hop);
    memcpy(hop->rsa_fp, rs->rsa_id, 20);
    memcpy(hop->ipv4, rs->ipv4, 4);
    hop->or_port = rs->or_port;
    memcpy(hop->ntor_key, rs->md->ntor_key, 32);
    memset(src, 0, sizeof *src);
    snprintf(src->nickname, sizeof src->nickname, "%s", rs->nickname);
    snprintf(src->address, sizeof src->address, "%u.%u.%u.%u", rs->ipv4[0], rs->ipv4[1],
             rs->ipv4[2], rs->ipv4[3]);
    src->or_port = rs->or_port;
    memcpy(src->rsa_fp, rs->rsa_id, 20);
    return true;
}

static void dir_cancel_channel(void *arg, void *handle)
{
    om_linkmgr_cancel(((om_op_t *)arg)->chans, handle);
}

/* Bootstrap progress reported by the directory client and the circuit pool. */
static void pool_progress(void *arg, int pct, const char *tag, const char *summary)
{
    op_bootstrap(arg, pct, tag, summary);
}

static bool dir_changed(void *arg)
{
    op_dir_changed(arg);
    return ((om_op_t *)arg)->have_enough_dir;
}

static om_dirclient_t *start_dirclient(om_op_t *op)
{
    om_dirsrv_t auths[OM_OP_MAX_AUTHS];
    memset(auths, 0, sizeof auths);
    for (size_t i = 0; i < op->opt.n_auths && i < OM_OP_MAX_AUTHS; i++) {
        const om_op_dirauth_t *a = &op->opt.auths[i];
        snprintf(auths[i].nickname, sizeof auths[i].nickname, "%s", a->nickname);
        snprintf(auths[i].address, sizeof auths[i].address, "%.45s", a->address);
        auths[i].or_port = a->or_port;
        auths[i].dir_port = a->dir_port;
        memcpy(auths[i].rsa_fp, a->rsa_fp, 20);
        auths[i].has_v3ident = true;
        memcpy(auths[i].v3ident, a->v3ident, 20);
    }
    om_dirclient_config_t dc = {.base = op->base,
                                .auths = auths,
                                .n_auths = op->opt.n_auths,
                                .data_dir = op->opt.data_dir,
                                .nodes = &op->nodes,
                                .get_channel = dir_get_channel,
                                .cancel_channel = dir_cancel_channel,
                                .progress = pool_progress,
                                .dir_changed = dir_changed,
                                .first_hop = op->bridges ? dir_first_hop : NULL,
                                .arg = op};
    return om_dirclient_start(&dc);
}

/* A bridge's descriptor is known: the directory can be fetched through it (the first time), and
 * circuits built through it. */
static void bridge_ready(void *arg)
{
    om_op_t *op = arg;
    if (!op->dir) {
        op->dir = start_dirclient(op);
        if (!op->dir) om_warn("Out of memory starting the directory client");
        return;
    }
    if (op->have_enough_dir && op->pool) om_circpool_dir_changed(op->pool);
}

static int make_data_dir(const char *dir, char *err, size_t errlen)
{
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create DataDirectory %s: %s", dir, strerror(errno));
        return -1;
    }
    struct stat st;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "DataDirectory %s is not a directory", dir);
        return -1;
    }
    if ((st.st_mode & 077) != 0 && chmod(dir, 0700) < 0) {
        snprintf(err, errlen, "cannot make DataDirectory %s private: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

om_op_t *om_op_start(struct event_base *base, const om_op_options_t *opt, char *err, size_t errlen)
{
    return om_op_start_shared(base, opt, NULL, err, errlen);
}

om_op_t *om_op_start_shared(struct event_base *base, const om_op_options_t *opt,
                            om_linkmgr_t *links, char *err, size_t errlen)
{
    if (opt->n_auths == 0) {
        snprintf(err, errlen, "no directory authorities configured");
        return NULL;
    }
    if (!opt->data_dir[0]) {
        snprintf(err, errlen, "no DataDirectory configured");
        return NULL;
    }
    if (make_data_dir(opt->data_dir, err, errlen) < 0) return NULL;
    om_op_t *op = calloc(1, sizeof *op);
    if (!op) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    op->base = base;
    op->opt = *opt;
    op->own_chans = !links;
    op->chans = links ? links : om_linkmgr_new(base, NULL, NULL);
    op->edge = (om_edge_ctx_t){
        .base = base, .testing = opt->testing, .isolate_socks_auth = opt->isolate_socks_auth};
    char path[600];
    om_guards_init(&op->guards, op_path(op, "state.json", path, sizeof path),
                   opt->num_entry_guards);
    op_bootstrap(op, 0, "starting", "Starting");
    if (opt->socks_enabled) {
        om_socks_server_callbacks_t cb = {.on_request = om_edge_on_request,
                                          .on_data = om_edge_on_data,
                                          .on_close = om_edge_on_close,
                                          .on_drain = om_edge_on_drain,
                                          .arg = &op->edge};
        om_socks_server_opts_t so = {.max_conns = opt->max_socks_conns};
        op->socks = om_socks_server_new_opts(base, opt->socks_addr, opt->socks_port, &cb, &so);
        if (!op->socks) {
            snprintf(err, errlen,
                     "could not open SocksPort %s:%u (in use, or not a loopback "
                     "address)",
                     opt->socks_addr, opt->socks_port);
            om_op_free(op);
            return NULL;
        }
        om_notice("Opened Socks listener on %s:%u", opt->socks_addr,
                  om_socks_server_port(op->socks));
    }
    om_circpool_params_t cp = {
        .base = base,
        .links = op->chans,
        .nodes = &op->nodes,
        .guards = &op->guards,
        .path = &op->opt.path,
        .congestion_control = opt->congestion_control,
        .conflux = opt->conflux,
        .circuit_build_timeout_s = opt->circuit_build_timeout_s,
        .max_circuit_dirtiness_s = opt->max_circuit_dirtiness_s,
        .prebuilt_circuits = opt->prebuilt_circuits,
        .new_circuit_period_s = opt->new_circuit_period_s,
        .on_progress = pool_progress,
        .first_hop = opt->use_bridges ? bridge_first_hop : NULL,
        .arg = op,
    };
    op->pool = om_circpool_new(&cp);
    op->edge.pool = op->pool;
    if (opt->use_bridges && op->chans) {
        om_bridges_params_t bp = {.base = base,
                                  .links = op->chans,
                                  .bridges = opt->bridges,
                                  .n_bridges = opt->n_bridges,
                                  .transports = opt->transports,
                                  .n_transports = opt->n_transports,
                                  .on_ready = bridge_ready,
                                  .arg = op};
        char e[300];
        if (!(op->bridges = om_bridges_new(&bp, e, sizeof e))) {
            snprintf(err, errlen, "%s", e);
            om_op_free(op);
            return NULL;
        }
    } else {
        op->dir = start_dirclient(op);
    }
    if (!op->chans || !op->pool || (!op->dir && !op->bridges)) {
        snprintf(err, errlen, "out of memory");
        om_op_free(op);
        return NULL;
    }
    return op;
}

void om_op_free(om_op_t *op)
{
    if (!op) return;
    if (op->socks) om_socks_server_free(op->socks);
    om_dirclient_free(op->dir);
    om_bridges_free(op->bridges);
    om_circpool_free(op->pool);
    if (op->own_chans) om_linkmgr_free(op->chans);
    om_guards_save(&op->guards);
    om_nodelist_clear(&op->nodes);
    free(op);
}

int om_op_bootstrap_percent(const om_op_t *op)
{
    return op->bootstrap_pct;
}

uint16_t om_op_socks_port(const om_op_t *op)
{
    return op->socks ? om_socks_server_port(op->socks) : 0;
}

struct om_circpool *om_op_circpool(om_op_t *op)
{
    return op->pool;
}

const om_consensus_t *om_op_consensus(const om_op_t *op)
{
    return op->have_enough_dir ? op->nodes.consensus : NULL;
}

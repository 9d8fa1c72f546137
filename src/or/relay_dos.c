/* relay_dos.c — the relay's DoS mitigation and heartbeat wiring (see relay_dos.h). */
#include "or/relay_dos.h"

#include <stdlib.h>

#include <event2/event.h>

#include "core/log.h"

#define HOUSEKEEPING_S 60

struct om_relay_dos {
    const om_relay_options_t *opt;
    om_dircache_t *dircache;
    om_dos_t *dos;
    struct event *housekeeping;
    om_heartbeat_t *heartbeat;
    om_heartbeat_status_fn status;
    void *status_arg;
};

static int32_t lookup(void *arg, const char *name, int32_t def, int32_t min, int32_t max)
{
    return om_dircache_param(arg, name, def, min, max);
}

static void log_params(const om_dos_params_t *p)
{
    om_info("DoS mitigation: circuit creation %s (%u/s, burst %u, %u connections, defense %d, "
            "%d s); connections %s (%u concurrent, %u/s, burst %u, defense %d, %d s); streams "
            "%s (%u/s, burst %u, defense %d); single-hop rendezvous refused: %s",
            p->cc_enabled ? "on" : "off", p->cc_rate, p->cc_burst, p->cc_min_connections,
            p->cc_defense_type, p->cc_defense_time_period, p->conn_enabled ? "on" : "off",
            p->conn_max_concurrent, p->conn_connect_rate, p->conn_connect_burst,
            p->conn_defense_type, p->conn_connect_defense_time_period,
            p->stream_enabled ? "on" : "off", p->stream_rate, p->stream_burst,
            p->stream_defense_type, p->refuse_single_hop_rend ? "yes" : "no");
}

/* A new consensus: its parameters and its relays' addresses (tor: dos_consensus_has_changed). */
static void on_consensus(void *arg, const om_consensus_t *c)
{
    om_relay_dos_t *rd = arg;
    om_dos_reload(rd->dos);
    om_dos_set_relays(rd->dos, c, rd->opt->auths, rd->opt->n_auths);
    log_params(om_dos_params(rd->dos));
}

static void housekeeping_cb(evutil_socket_t fd, short what, void *arg)
{
    om_relay_dos_t *rd = arg;
    (void)fd;
    (void)what;
    om_dos_housekeeping(rd->dos);
}

static void heartbeat_status(void *arg, om_heartbeat_status_t *st)
{
    om_relay_dos_t *rd = arg;
    rd->status(rd->status_arg, st);
    om_dos_heartbeat_line(rd->dos, st->dos, sizeof st->dos);
}

om_relay_dos_t *om_relay_dos_new(struct event_base *base, const om_relay_options_t *opt,
                                 om_dircache_t *dircache, om_heartbeat_status_fn status,
                                 void *status_arg)
{
    om_relay_dos_t *rd = calloc(1, sizeof *rd);
    if (!rd) return NULL;
    *rd = (om_relay_dos_t){
        .opt = opt, .dircache = dircache, .status = status, .status_arg = status_arg};
    om_dos_config_t dc = {.opt = opt->dos, .lookup = lookup, .lookup_arg = dircache};
    rd->dos = om_dos_new(&dc);
    rd->housekeeping = event_new(base, -1, EV_PERSIST, housekeeping_cb, rd);
    struct timeval tv = {HOUSEKEEPING_S, 0};
    if (!rd->dos || !rd->housekeeping || event_add(rd->housekeeping, &tv) < 0) {
        om_relay_dos_free(rd);
        return NULL;
    }
    const om_dir_store_t *st = dircache ? om_dircache_store(dircache) : NULL;
    om_dos_set_relays(rd->dos, st ? st->md_consensus : NULL, opt->auths, opt->n_auths);
    if (dircache) om_dircache_on_consensus(dircache, on_consensus, rd);
    log_params(om_dos_params(rd->dos));
    if (opt->heartbeat_period > 0 &&
        !(rd->heartbeat =
              om_heartbeat_new(base, (long)opt->heartbeat_period, heartbeat_status, rd)))
        om_warn("Could not start the heartbeat");
    return rd;
}

void om_relay_dos_free(om_relay_dos_t *rd)
{
    if (!rd) return;
    if (rd->dircache) om_dircache_on_consensus(rd->dircache, NULL, NULL);
    om_heartbeat_free(rd->heartbeat);
    if (rd->housekeeping) event_free(rd->housekeeping);
    om_dos_free(rd->dos);
    free(rd);
}

om_dos_t *om_relay_dos_policy(om_relay_dos_t *rd)
{
    return rd->dos;
}

om_linkmgr_accept_filter_t om_relay_dos_accept_filter(om_relay_dos_t *rd)
{
    return (om_linkmgr_accept_filter_t){
        .check = om_dos_conn_accept, .closed = om_dos_conn_closed, .arg = rd->dos};
}

int om_relay_dos_stream_gate(void *arg, om_dos_bucket_t *circ_bucket)
{
    return om_dos_stream_begin(arg, circ_bucket);
}

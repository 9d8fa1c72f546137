/* main.c — the onionmesh program: registers each role's option table, reads the configuration
 * (command line > environment > torrc-style file > defaults), checks it, optionally forks into
 * the background (RunAsDaemon), then runs the configured roles on one libevent loop until
 * SIGINT/SIGTERM. A new role (bridge, ORDB, DHT) adds its table in register_tables() and its
 * typed options and start-up below. */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/config.h"
#include "core/config_daemon.h"
#include "core/log.h"
#include "bridge/ws_options.h"
#include "bridge/ws_relay.h"
#include "bridge/ws_transport.h"
#include "dht/dht_service.h"
#include "or/bridge_line.h"
#include "or/relay.h"
#include "or/relay_keys.h"
#include "or/relay_options.h"
#include "op/op.h"
#include "op/op_config.h"
#include "op/op_options.h"

/* Transports a Bridge line may name besides plain TLS (op/bridge_conf.h: name -> transport
 * factory): src/bridge's WebSocket transport ("websocket"). */
static const om_bridge_transport_t *const bridge_transports = &om_ws_bridge_transport;
static const size_t n_bridge_transports = 1;

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    om_notice("Caught signal %d, exiting cleanly.", (int)sig);
    event_base_loopbreak(arg);
}

/* The relay's DHT node (dht_service.h): its consensus, and the Ed25519 identities of relays. */
static const om_consensus_t *relay_consensus(void *arg)
{
    return om_relay_consensus(arg);
}

static bool relay_ed_of(void *arg, const uint8_t fp[20], uint8_t ed[32])
{
    return om_relay_node_ed_id(arg, fp, ed);
}

/* DHTServer: the DHT's stream service in the relay's table, its memory under MaxMemInQueues,
 * its heartbeat line. NULL on failure (logged). */
static om_dht_service_t *start_dht_service(struct event_base *base, om_relay_t *rel,
                                           const om_relay_options_t *ro)
{
    om_dht_service_params_t p = {.base = base,
                                 .self = om_relay_rsa_fp(rel),
                                 .data_dir = ro->data_dir,
                                 .consensus = relay_consensus,
                                 .ed_of = relay_ed_of,
                                 .arg = rel};
    om_dht_service_t *v = om_dht_service_new(&p);
    om_stream_service_t e;
    om_or_mem_source_t mem = {
        .name = "dht", .bytes = om_dht_service_bytes, .reclaim = om_dht_service_reclaim, .arg = v};
    if (v) om_dht_service_entry(v, &e);
    if (!v || om_relay_add_stream_service(rel, &e) < 0 || om_relay_add_mem_source(rel, &mem) < 0) {
        om_err("Could not start the DHT service");
        om_dht_service_free(v);
        return NULL;
    }
    om_relay_set_heartbeat_line(rel, om_dht_service_heartbeat, v);
    om_notice("DHT: serving %s (DHTServer 1)", OM_DHT_HOSTNAME);
    return v;
}

/* Every role's option table (the general ones come with om_config_new). */
static int register_tables(om_config_t *cfg, char *err, size_t errlen)
{
    if (om_op_config_register(cfg, err, errlen) < 0) return -1;
    if (om_relay_config_register(cfg, err, errlen) < 0) return -1;
    if (om_ws_config_register(cfg, err, errlen) < 0) return -1;
    return 0;
}

/* --list-fingerprint (as tor): load or create the relay keys, write DataDirectory/fingerprint
 * and fingerprint-ed25519, print "Nickname XXXX XXXX ..." on stdout. */
static int list_fingerprint(const om_relay_options_t *ro)
{
    om_relay_keys_t k;
    char err[512], spaced[50];
    if (om_relay_keys_load(&k, ro->data_dir, time(NULL), err, sizeof err) < 0) {
        fprintf(stderr, "onionmesh: %s\n", err);
        return 1;
    }
    if (om_relay_keys_write_fingerprints(&k, ro->data_dir, ro->nickname) < 0)
        fprintf(stderr, "onionmesh: could not write the fingerprint files in %s\n", ro->data_dir);
    om_relay_fingerprint_spaced(k.rsa_fp, spaced);
    printf("%s %s\n", ro->nickname, spaced);
    om_relay_keys_free(&k);
    return 0;
}

typedef struct {
    om_general_options_t gen;
    bool relay, run_op, ws;
    om_relay_options_t relay_opt;
    om_ws_server_opts_t ws_opt;
    om_op_options_t op_opt;
} roles_t;

/* Parse, validate and fill each role's typed options. Returns -1 to go on, else the exit code
 * (help, version, errors, --verify-config, --list-fingerprint). */
static int configure(om_config_t *cfg, int argc, char **argv, roles_t *r)
{
    char err[512];
    om_config_command_t cmd = OM_CONFIG_CMD_RUN;
    if (register_tables(cfg, err, sizeof err) < 0 ||
        om_config_parse_argv(cfg, argc, argv, &cmd, err, sizeof err) < 0) {
        fprintf(stderr, "onionmesh: %s\n", err);
        return 1;
    }
    if (cmd == OM_CONFIG_CMD_HELP) {
        printf("onionmesh is a Tor implementation: an onion proxy (SocksPort) and a relay\n"
               "(ORPort); a WebSocket bridge, ORDB and DHT as they land. Options are tor's.\n\n");
        om_config_print_help(cfg, stdout);
        return 0;
    }
    if (cmd == OM_CONFIG_CMD_VERSION) {
        printf("onionmesh %s\n", OM_VERSION);
        return 0;
    }
    if (om_config_validate(cfg, err, sizeof err) < 0) {
        fprintf(stderr, "onionmesh: invalid configuration: %s\n", err);
        return 1;
    }
    om_config_general_options(cfg, &r->gen);
    r->relay = om_relay_configured(cfg);
    r->run_op = om_op_wanted(cfg, r->relay);
    r->ws = om_ws_configured(cfg);
    if ((r->relay && om_relay_options_from_config(cfg, &r->relay_opt, err, sizeof err) < 0) ||
        (r->ws && om_ws_options_from_config(cfg, &r->ws_opt, err, sizeof err) < 0) ||
        (r->run_op && (om_op_options_from_config(cfg, &r->op_opt, err, sizeof err) < 0 ||
                       om_op_options_set_transports(&r->op_opt, bridge_transports,
                                                    n_bridge_transports, err, sizeof err) < 0))) {
        fprintf(stderr, "onionmesh: invalid configuration: %s\n", err);
        return 1;
    }
    if (cmd == OM_CONFIG_CMD_LIST_FINGERPRINT) {
        if (r->relay) return list_fingerprint(&r->relay_opt);
        fprintf(stderr, "onionmesh: clients don't have long-term identity keys (set ORPort to "
                        "run a relay)\n");
        return 1;
    }
    if (om_config_fd_limit(r->gen.conn_limit, NULL, err, sizeof err) < 0) {
        fprintf(stderr, "onionmesh: %s\n", err);
        return 1;
    }
    if (cmd == OM_CONFIG_CMD_VERIFY_CONFIG) {
        printf("Configuration was valid\n");
        return 0;
    }
    if (om_config_apply_logging(cfg) < 0) return 1;
    return -1;
}

/* The roles on one loop until a signal. 0, or 1 if a role could not start. */
static int run(const om_config_t *cfg, roles_t *r)
{
    char err[512];
    if (r->gen.run_as_daemon && om_daemon_start(err, sizeof err) < 0) {
        om_err("RunAsDaemon: %s", err);
        return 1;
    }
    om_notice("onionmesh %s starting", OM_VERSION);
    const char *f = om_config_file(cfg);
    if (f) om_notice("Read configuration file \"%s\".", f);
    signal(SIGPIPE, SIG_IGN);
    struct event_base *base = event_base_new();
    struct event *sigint = evsignal_new(base, SIGINT, on_signal, base);
    struct event *sigterm = evsignal_new(base, SIGTERM, on_signal, base);
    event_add(sigint, NULL);
    event_add(sigterm, NULL);
    om_relay_t *rel = NULL;
    om_op_t *op = NULL;
    om_ws_server_t *ws = NULL;
    om_dht_service_t *dht = NULL;
    int rc = 1;
    if (r->relay && !(rel = om_relay_start(base, &r->relay_opt, err, sizeof err))) {
        om_err("Could not start the relay: %s", err);
        goto out;
    }
    if (rel && r->relay_opt.dht_server && !(dht = start_dht_service(base, rel, &r->relay_opt)))
        goto out;
    /* WebSocket links go to the relay's link manager: ordinary links of this relay. */
    if (r->ws && rel &&
        !(ws = om_ws_relay_start(base, &r->ws_opt, rel, r->relay_opt.auths, r->relay_opt.n_auths,
                                 r->gen.testing, err, sizeof err))) {
        om_err("Could not start the WebSocket listeners: %s", err);
        goto out;
    }
    /* With both roles the onion proxy uses the relay's links: one engine, one link per peer. */
    if (r->run_op && !(op = om_op_start_shared(base, &r->op_opt, rel ? om_relay_links(rel) : NULL,
                                               err, sizeof err))) {
        om_err("Could not start the onion proxy: %s", err);
        goto out;
    }
    /* The listeners are up: the foreground process may exit 0 now. */
    if (r->gen.run_as_daemon && om_daemon_finish(r->gen.data_dir) < 0) goto out;
    event_base_dispatch(base);
    rc = 0;
out:
    om_op_free(op);
    om_ws_relay_stop(ws, rel);
    om_relay_free(rel);
    om_dht_service_free(dht); /* after the relay: its streams are released first */
    event_free(sigint);
    event_free(sigterm);
    event_base_free(base);
    om_ws_client_shutdown();
    return rc;
}

int main(int argc, char **argv)
{
    om_config_t *cfg = om_config_new();
    if (!cfg) return 1;
    roles_t roles;
    memset(&roles, 0, sizeof roles);
    int rc = configure(cfg, argc, argv, &roles);
    if (rc < 0) rc = run(cfg, &roles);
    om_relay_options_clear(&roles.relay_opt);
    om_config_free(cfg);
    return rc;
}

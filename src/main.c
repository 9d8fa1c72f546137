/* main.c — the onionmesh program: reads the configuration (torrc-style file and --Option value
 * arguments), then runs the configured roles on one libevent loop until SIGINT/SIGTERM. */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "core/config.h"
#include "core/log.h"
#include "or/relay.h"
#include "or/relay_keys.h"
#include "op/op.h"
#include "op/op_options.h"

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    om_notice("Caught signal %d, exiting cleanly.", (int)sig);
    event_base_loopbreak(arg);
}

/* --list-fingerprint (as tor): load or create the relay keys, write DataDirectory/fingerprint
 * and fingerprint-ed25519, print "Nickname XXXX XXXX ..." on stdout. */
static int list_fingerprint(const om_config_t *cfg)
{
    if (!om_config_is_relay(cfg)) {
        fprintf(stderr, "onionmesh: clients don't have long-term identity keys (set ORPort to "
                        "run a relay)\n");
        return 1;
    }
    const char *dd = om_config_get_string(cfg, "DataDirectory");
    const char *nick = om_config_get_string(cfg, "Nickname");
    om_relay_keys_t k;
    char err[512], spaced[50];
    if (om_relay_keys_load(&k, dd, time(NULL), err, sizeof err) < 0) {
        fprintf(stderr, "onionmesh: %s\n", err);
        return 1;
    }
    if (om_relay_keys_write_fingerprints(&k, dd, nick) < 0)
        fprintf(stderr, "onionmesh: could not write the fingerprint files in %s\n", dd);
    om_relay_fingerprint_spaced(k.rsa_fp, spaced);
    printf("%s %s\n", nick, spaced);
    om_relay_keys_free(&k);
    return 0;
}

int main(int argc, char **argv)
{
    char err[512];
    om_config_t *cfg = om_config_new();
    om_config_command_t cmd = OM_CONFIG_CMD_RUN;
    if (!cfg) return 1;
    if (om_config_parse_argv(cfg, argc, argv, &cmd, err, sizeof err) < 0) {
        fprintf(stderr, "onionmesh: %s\n", err);
        om_config_free(cfg);
        return 1;
    }
    if (cmd == OM_CONFIG_CMD_HELP) {
        printf("Usage: onionmesh [-f FILE] [--Option value ...] [--verify-config] [--version]\n"
               "onionmesh is a Tor implementation: an onion proxy (SocksPort) today; a relay,\n"
               "WebSocket bridge, ORDB and DHT as they land. Options (tor's names):\n\n");
        om_config_print_help(stdout);
        om_config_free(cfg);
        return 0;
    }
    if (cmd == OM_CONFIG_CMD_VERSION) {
        printf("onionmesh %s\n", OM_VERSION);
        om_config_free(cfg);
        return 0;
    }
    if (om_config_validate(cfg, err, sizeof err) < 0) {
        fprintf(stderr, "onionmesh: invalid configuration: %s\n", err);
        om_config_free(cfg);
        return 1;
    }
    if (cmd == OM_CONFIG_CMD_LIST_FINGERPRINT) {
        int rc = list_fingerprint(cfg);
        om_config_free(cfg);
        return rc;
    }
    /* A relay runs an onion proxy too only when a SocksPort is configured explicitly (as tor
     * relays usually set SocksPort 0). */
    bool relay = om_config_is_relay(cfg);
    size_t nsocks = 0;
    om_config_socks_ports(cfg, &nsocks);
    bool run_op = !relay || (om_config_is_set(cfg, "SocksPort") && nsocks > 0);
    om_op_options_t opt;
    if (run_op && om_op_options_from_config(cfg, &opt, err, sizeof err) < 0) {
        fprintf(stderr, "onionmesh: invalid configuration: %s\n", err);
        om_config_free(cfg);
        return 1;
    }
    if (cmd == OM_CONFIG_CMD_VERIFY_CONFIG) {
        printf("Configuration was valid\n");
        om_config_free(cfg);
        return 0;
    }
    om_config_apply_logging(cfg);
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
    if (relay && !(rel = om_relay_start(base, cfg, err, sizeof err))) {
        om_err("Could not start the relay: %s", err);
        om_config_free(cfg);
        return 1;
    }
    if (run_op && !(op = om_op_start(base, &opt, err, sizeof err))) {
        om_err("Could not start the onion proxy: %s", err);
        om_relay_free(rel);
        om_config_free(cfg);
        return 1;
    }
    event_base_dispatch(base);
    om_op_free(op);
    om_relay_free(rel);
    event_free(sigint);
    event_free(sigterm);
    event_base_free(base);
    om_config_free(cfg);
    return 0;
}

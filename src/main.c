/* main.c — the onionmesh program: reads the configuration (torrc-style file and --Option value
 * arguments), then runs the configured roles on one libevent loop until SIGINT/SIGTERM. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/config.h"
#include "core/log.h"
#include "op/op.h"
#include "op/op_options.h"

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    om_notice("Caught signal %d, exiting cleanly.", (int)sig);
    event_base_loopbreak(arg);
}

int main(int argc, char **argv)
{
    char err[512];
    om_config_t *cfg = om_config_new();
    om_config_command_t cmd = OM_CONFIG_CMD_RUN;
    if (!cfg)
        return 1;
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
    if (om_config_is_relay(cfg)) {
        fprintf(stderr, "onionmesh: ORPort is set, but the relay role (OR) is not available in "
                        "this version yet\n");
        om_config_free(cfg);
        return 1;
    }
    om_op_options_t opt;
    if (om_op_options_from_config(cfg, &opt, err, sizeof err) < 0) {
        fprintf(stderr, "onionmesh: invalid configuration: %s\n", err);
        om_config_free(cfg);
        return 1;
    }
    if (cmd == OM_CONFIG_CMD_VERIFY_CONFIG) {
        printf("Configuration was valid\n");
        om_config_free(cfg);
        return 0;
    }
    if (cmd == OM_CONFIG_CMD_LIST_FINGERPRINT) {
        fprintf(stderr, "onionmesh: --list-fingerprint needs the relay role (ORPort)\n");
        om_config_free(cfg);
        return 1;
    }
    om_config_apply_logging(cfg);
    om_notice("onionmesh %s starting", OM_VERSION);
    const char *f = om_config_file(cfg);
    if (f)
        om_notice("Read configuration file \"%s\".", f);
    signal(SIGPIPE, SIG_IGN);
    struct event_base *base = event_base_new();
    struct event *sigint = evsignal_new(base, SIGINT, on_signal, base);
    struct event *sigterm = evsignal_new(base, SIGTERM, on_signal, base);
    event_add(sigint, NULL);
    event_add(sigterm, NULL);
    om_op_t *op = om_op_start(base, &opt, err, sizeof err);
    if (!op) {
        om_err("Could not start the onion proxy: %s", err);
        om_config_free(cfg);
        return 1;
    }
    event_base_dispatch(base);
    om_op_free(op);
    event_free(sigint);
    event_free(sigterm);
    event_base_free(base);
    om_config_free(cfg);
    return 0;
}

/* embed.c — the public embedding API (include/onionmesh/onionmesh.h): configuration text in
 * (the general options and the OP's table; not the process's environment), an onion proxy on
 * the caller's event loop out. */
#include "onionmesh/onionmesh.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/config_daemon.h"
#include "op/op.h"
#include "op/op_config.h"
#include "op/op_options.h"

struct onionmesh {
    om_op_t *op;
};

const char *onionmesh_version(void)
{
    return OM_VERSION;
}

/* The general options that act on the process: RunAsDaemon is refused, ConnLimit checked, Log,
 * SafeLogging and ProtocolWarnings applied. */
static int apply_general(const om_config_t *cfg, char *err, size_t errlen)
{
    om_general_options_t g;
    om_config_general_options(cfg, &g);
    if (g.run_as_daemon)
        return om_errf(err, errlen,
                       "RunAsDaemon: an embedded onion proxy runs in its host's "
                       "process (0 only)");
    if (om_config_fd_limit(g.conn_limit, NULL, err, errlen) < 0) return -1;
    if (om_config_apply_logging(cfg) < 0) return om_errf(err, errlen, "cannot open a Log file");
    return 0;
}

onionmesh_t *onionmesh_start(struct event_base *base, const char *config_text, char *err,
                             size_t errlen)
{
    om_config_t *cfg = om_config_new();
    om_op_options_t opt;
    onionmesh_t *om = NULL;
    if (!cfg) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (om_op_config_register(cfg, err, errlen) < 0 ||
        om_config_parse_string(cfg, config_text ? config_text : "", "config", err, errlen) < 0 ||
        om_config_validate(cfg, err, errlen) < 0 ||
        om_op_options_from_config(cfg, &opt, err, errlen) < 0 ||
        apply_general(cfg, err, errlen) < 0)
        goto done;
    om = calloc(1, sizeof *om);
    if (!om) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    om->op = om_op_start(base, &opt, err, errlen);
    if (!om->op) {
        free(om);
        om = NULL;
    }
done:
    om_config_free(cfg);
    return om;
}

uint16_t onionmesh_socks_port(const onionmesh_t *om)
{
    return om ? om_op_socks_port(om->op) : 0;
}

int onionmesh_bootstrap_percent(const onionmesh_t *om)
{
    return om ? om_op_bootstrap_percent(om->op) : 0;
}

void onionmesh_stop(onionmesh_t *om)
{
    if (!om) return;
    om_op_free(om->op);
    free(om);
}

/* dos_options.c — the relay's DoS option table and om_dos_options_t (see dos_options.h). */
#include "or/dos_options.h"

#include <string.h>

#define I32MAX INT32_MAX

#define CONSENSUS_NUM(what, dflt)                                                                  \
    what " 0 means the consensus parameter of the same name, or " dflt " without one."

/* clang-format off */
static const om_config_option_t dos_options[] = {
    {.name = "DoSCircuitCreationEnabled", .type = OM_CONF_AUTOBOOL, .def = "auto", .min = 0,
     .max = 1,
     .help = "Count CREATE cells per client address and refuse them from addresses that make "
             "circuits too fast while holding DoSCircuitCreationMinConnections connections "
             "(auto: the consensus parameter, 0 without one)."},
    {.name = "DoSCircuitCreationMinConnections", .type = OM_CONF_INT, .def = "0", .min = 0,
     .max = I32MAX, .args = "NUM",
     .help = CONSENSUS_NUM("Concurrent connections an address needs before it can be marked.",
                           "3")},
    {.name = "DoSCircuitCreationRate", .type = OM_CONF_INT, .def = "0", .min = 0, .max = I32MAX,
     .args = "NUM",
     .help = CONSENSUS_NUM("Circuits per second allowed per client address.", "3")},
    {.name = "DoSCircuitCreationBurst", .type = OM_CONF_INT, .def = "0", .min = 0,
     .max = I32MAX, .args = "NUM",
     .help = CONSENSUS_NUM("Circuit burst allowed per client address.", "90")},
    {.name = "DoSCircuitCreationDefenseType", .type = OM_CONF_INT, .def = "0", .min = 0, .max = 2,
     .args = "NUM",
     .help = CONSENSUS_NUM("Against a marked address: 1 nothing, 2 refuse its CREATE cells "
                           "(DESTROY RESOURCELIMIT).", "2")},
    {.name = "DoSCircuitCreationDefenseTimePeriod", .type = OM_CONF_INTERVAL, .def = "0",
     .min = 0, .max = I32MAX,
     .help = CONSENSUS_NUM("How long an address stays marked (plus a random 1 s to half of "
                           "it).", "1 hour")},
    {.name = "DoSConnectionEnabled", .type = OM_CONF_AUTOBOOL, .def = "auto", .min = 0, .max = 1,
     .help = "Limit concurrent connections and the connect rate per client address (auto: the "
             "consensus parameter, 0 without one)."},
    {.name = "DoSConnectionMaxConcurrentCount", .type = OM_CONF_INT, .def = "0", .min = 0,
     .max = I32MAX, .args = "NUM",
     .help = CONSENSUS_NUM("Concurrent inbound connections (handshakes included) per client "
                           "address; more are closed at once.", "100")},
    {.name = "DoSConnectionDefenseType", .type = OM_CONF_INT, .def = "0", .min = 0, .max = 2,
     .args = "NUM",
     .help = CONSENSUS_NUM("1 nothing, 2 close new connections from an address over the "
                           "limits.", "2")},
    {.name = "DoSConnectionConnectRate", .type = OM_CONF_INT, .def = "0", .min = 0,
     .max = I32MAX, .args = "NUM",
     .help = CONSENSUS_NUM("New connections per second allowed per client address.", "20")},
    {.name = "DoSConnectionConnectBurst", .type = OM_CONF_INT, .def = "0", .min = 0,
     .max = I32MAX, .args = "NUM",
     .help = CONSENSUS_NUM("Connection burst allowed per client address; an address that "
                           "empties it is marked.", "40")},
    {.name = "DoSConnectionConnectDefenseTimePeriod", .type = OM_CONF_INTERVAL, .def = "0",
     .min = 0, .max = I32MAX,
     .help = CONSENSUS_NUM("How long an address over the connect rate stays marked (plus a "
                           "random 1 s to half of it; at least 10 s).", "24 hours")},
    {.name = "DoSRefuseSingleHopClientRendezvous", .type = OM_CONF_AUTOBOOL, .def = "auto",
     .min = 0, .max = 1,
     .help = "Drop ESTABLISH_RENDEZVOUS on circuits whose previous hop is a client (auto: the "
             "consensus parameter, 0 without one)."},
    {.name = "DoSStreamCreationEnabled", .type = OM_CONF_AUTOBOOL, .def = "auto", .min = 0,
     .max = 1,
     .help = "Rate-limit BEGIN, BEGIN_DIR and RESOLVE per circuit (auto: the consensus "
             "parameter, 0 without one)."},
    {.name = "DoSStreamCreationRate", .type = OM_CONF_INT, .def = "0", .min = 0, .max = I32MAX,
     .args = "NUM", .help = CONSENSUS_NUM("Streams per second allowed per circuit.", "100")},
    {.name = "DoSStreamCreationBurst", .type = OM_CONF_INT, .def = "0", .min = 0, .max = I32MAX,
     .args = "NUM", .help = CONSENSUS_NUM("Stream burst allowed per circuit.", "300")},
    {.name = "DoSStreamCreationDefenseType", .type = OM_CONF_INT, .def = "0", .min = 0, .max = 3,
     .args = "NUM",
     .help = CONSENSUS_NUM("Over the rate: 1 nothing, 2 refuse the stream (END MISC, as tor), "
                           "3 close the circuit (DESTROY RESOURCELIMIT).", "2")},
};
/* clang-format on */

const om_config_table_t om_dos_config_table = {
    .name = "dos",
    .title = "Relay denial-of-service mitigation options (tor's DoS* options)",
    .options = dos_options,
    .n_options = sizeof dos_options / sizeof dos_options[0],
};

void om_dos_options_defaults(om_dos_options_t *o)
{
    memset(o, 0, sizeof *o);
    o->cc_enabled = o->conn_enabled = o->stream_enabled = o->refuse_single_hop_rend = -1;
}

static uint32_t u32(const om_config_t *cfg, const char *name)
{
    return (uint32_t)om_config_get_int(cfg, name);
}

void om_dos_options_from_config(const om_config_t *cfg, om_dos_options_t *o)
{
    om_dos_options_defaults(o);
    if (!om_config_has_table(cfg, om_dos_config_table.name)) return;
    o->cc_enabled = om_config_get_bool(cfg, "DoSCircuitCreationEnabled");
    o->cc_min_connections = u32(cfg, "DoSCircuitCreationMinConnections");
    o->cc_rate = u32(cfg, "DoSCircuitCreationRate");
    o->cc_burst = u32(cfg, "DoSCircuitCreationBurst");
    o->cc_defense_type = (int)om_config_get_int(cfg, "DoSCircuitCreationDefenseType");
    o->cc_defense_time_period = om_config_get_int(cfg, "DoSCircuitCreationDefenseTimePeriod");
    o->conn_enabled = om_config_get_bool(cfg, "DoSConnectionEnabled");
    o->conn_max_concurrent = u32(cfg, "DoSConnectionMaxConcurrentCount");
    o->conn_defense_type = (int)om_config_get_int(cfg, "DoSConnectionDefenseType");
    o->conn_connect_rate = u32(cfg, "DoSConnectionConnectRate");
    o->conn_connect_burst = u32(cfg, "DoSConnectionConnectBurst");
    o->conn_connect_defense_time_period =
        om_config_get_int(cfg, "DoSConnectionConnectDefenseTimePeriod");
    o->refuse_single_hop_rend = om_config_get_bool(cfg, "DoSRefuseSingleHopClientRendezvous");
    o->stream_enabled = om_config_get_bool(cfg, "DoSStreamCreationEnabled");
    o->stream_rate = u32(cfg, "DoSStreamCreationRate");
    o->stream_burst = u32(cfg, "DoSStreamCreationBurst");
    o->stream_defense_type = (int)om_config_get_int(cfg, "DoSStreamCreationDefenseType");
}

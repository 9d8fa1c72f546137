/* dos_params.c — torrc, then consensus, then tor's defaults (see dos_params.h). */
#include "or/dos_params.h"

#define MAXP INT32_MAX

typedef struct {
    om_cc_param_lookup_fn lookup;
    void *arg;
} src_t;

static int32_t param(const src_t *s, const char *name, int32_t def, int32_t min, int32_t max)
{
    if (!s->lookup) return def;
    return s->lookup(s->arg, name, def, min, max);
}

/* An "auto" boolean: the option if 0 or 1, else the consensus (tor's default 0). */
static bool autobool(const src_t *s, int opt, const char *name)
{
    return opt >= 0 ? opt == 1 : param(s, name, 0, 0, 1) == 1;
}

/* A number where 0 means "the consensus". */
static int64_t num(const src_t *s, int64_t opt, const char *name, int32_t def, int32_t min,
                   int32_t max)
{
    return opt ? opt : param(s, name, def, min, max);
}

void om_dos_params_resolve(om_dos_params_t *p, const om_dos_options_t *o,
                           om_cc_param_lookup_fn lookup, void *arg)
{
    const src_t s = {lookup, arg};
    p->cc_enabled = autobool(&s, o->cc_enabled, "DoSCircuitCreationEnabled");
    p->cc_min_connections =
        (uint32_t)num(&s, o->cc_min_connections, "DoSCircuitCreationMinConnections", 3, 1, MAXP);
    p->cc_rate = (uint32_t)num(&s, o->cc_rate, "DoSCircuitCreationRate", 3, 1, MAXP);
    p->cc_burst = (uint32_t)num(&s, o->cc_burst, "DoSCircuitCreationBurst", 90, 1, MAXP);
    p->cc_defense_type =
        (int)num(&s, o->cc_defense_type, "DoSCircuitCreationDefenseType", OM_DOS_CC_DEFENSE_REFUSE,
                 OM_DOS_CC_DEFENSE_NONE, OM_DOS_CC_DEFENSE_REFUSE);
    p->cc_defense_time_period = (int32_t)num(&s, o->cc_defense_time_period,
                                             "DoSCircuitCreationDefenseTimePeriod", 3600, 0, MAXP);
    p->conn_enabled = autobool(&s, o->conn_enabled, "DoSConnectionEnabled");
    p->conn_max_concurrent =
        (uint32_t)num(&s, o->conn_max_concurrent, "DoSConnectionMaxConcurrentCount", 100, 1, MAXP);
    p->conn_defense_type =
        (int)num(&s, o->conn_defense_type, "DoSConnectionDefenseType", OM_DOS_CONN_DEFENSE_CLOSE,
                 OM_DOS_CONN_DEFENSE_NONE, OM_DOS_CONN_DEFENSE_CLOSE);
    p->conn_connect_rate =
        (uint32_t)num(&s, o->conn_connect_rate, "DoSConnectionConnectRate", 20, 1, MAXP);
    p->conn_connect_burst =
        (uint32_t)num(&s, o->conn_connect_burst, "DoSConnectionConnectBurst", 40, 1, MAXP);
    p->conn_connect_defense_time_period =
        (int32_t)num(&s, o->conn_connect_defense_time_period,
                     "DoSConnectionConnectDefenseTimePeriod", 24 * 3600, 10, MAXP);
    p->stream_enabled = autobool(&s, o->stream_enabled, "DoSStreamCreationEnabled");
    p->stream_rate = (uint32_t)num(&s, o->stream_rate, "DoSStreamCreationRate", 100, 1, MAXP);
    p->stream_burst = (uint32_t)num(&s, o->stream_burst, "DoSStreamCreationBurst", 300, 1, MAXP);
    p->stream_defense_type = (int)num(&s, o->stream_defense_type, "DoSStreamCreationDefenseType",
                                      OM_DOS_STREAM_DEFENSE_REFUSE, OM_DOS_STREAM_DEFENSE_NONE,
                                      OM_DOS_STREAM_DEFENSE_CLOSE_CIRCUIT);
    p->refuse_single_hop_rend =
        autobool(&s, o->refuse_single_hop_rend, "DoSRefuseSingleHopClientRendezvous");
}

/* op_config.c — the onion proxy's option table: what each option means for onionmesh's client,
 * which values it refuses because the client does not do them (country codes and address
 * patterns in node lists, SOCKS flags other than IsolateSOCKSAuth, more than one SocksPort,
 * IPv6 connections to relays, learned build timeouts), and its cross-option checks. */
#include "op/op_config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "op/bridge_conf.h"
#include "op/op.h"

#define NODES "node,node,..."

/* Node lists: what path.c's om_nodeset_parse matches ($fingerprint, nickname). */
static int check_node_item(const char *value, om_config_value_t *v, const char *where, char *reason,
                           size_t reasonlen)
{
    if (om_config_check_routerset_item(value, v, where, reason, reasonlen) < 0) return -1;
    if (value[0] == '{')
        return om_errf(reason, reasonlen,
                       "\"%s\": country codes need GeoIP, which onionmesh does not have", value);
    if (!om_config_is_fingerprint_item(value) &&
        !(value[0] != '$' && om_config_legal_nickname(value, strlen(value))))
        return om_errf(reason, reasonlen,
                       "\"%s\": onionmesh's node lists take $fingerprints and nicknames, not "
                       "address patterns",
                       value);
    return 0;
}

/* Restricted options: only the value onionmesh implements. */
static int only_value(const om_config_value_t *v, int64_t want, const char *why, char *reason,
                      size_t reasonlen)
{
    if (v->i == want || (want == 1 && v->i == -1)) return 0;
    return om_errf(reason, reasonlen, "%s", why);
}

static int check_microdescs(const char *value, om_config_value_t *v, const char *where,
                            char *reason, size_t reasonlen)
{
    (void)value;
    (void)where;
    return only_value(v, 1, "onionmesh always uses microdescriptors (1 or auto)", reason,
                      reasonlen);
}

static int check_extrainfo(const char *value, om_config_value_t *v, const char *where, char *reason,
                           size_t reasonlen)
{
    (void)value;
    (void)where;
    return only_value(v, 0, "onionmesh does not download extra-info documents (0 only)", reason,
                      reasonlen);
}

static int check_learn_cbt(const char *value, om_config_value_t *v, const char *where, char *reason,
                           size_t reasonlen)
{
    (void)value;
    (void)where;
    return only_value(v, 0,
                      "onionmesh does not learn circuit build timeouts: CircuitBuildTimeout is a "
                      "fixed timeout (0 only)",
                      reason, reasonlen);
}

static int check_ipv4(const char *value, om_config_value_t *v, const char *where, char *reason,
                      size_t reasonlen)
{
    (void)value;
    (void)where;
    if (v->i == 1) return 0;
    return om_errf(reason, reasonlen, "onionmesh's client reaches relays over IPv4 only (1 only)");
}

static int check_ipv6(const char *value, om_config_value_t *v, const char *where, char *reason,
                      size_t reasonlen)
{
    (void)value;
    (void)where;
    return only_value(v, 0, "onionmesh's client reaches relays over IPv4 only (0 only)", reason,
                      reasonlen);
}

static int check_bridge(const char *value, om_config_value_t *v, const char *where, char *reason,
                        size_t reasonlen)
{
    (void)v;
    (void)where;
    om_bridge_conf_t b;
    return om_bridge_conf_parse(value, &b, reason, reasonlen);
}

/* clang-format off */
static const om_config_option_t op_options[] = {
    {.name = "SocksPort", .type = OM_CONF_PORT, .def = "9050", .flags = OM_OPT_PORT_SOCKS,
     .args = "[address:]port|auto|0 [IsolateSOCKSAuth|NoIsolateSOCKSAuth]",
     .help = "Listen for SOCKS connections here (address defaults to 127.0.0.1; 0: no SOCKS "
             "port). One line: the client has one SOCKS listener. Of tor's flags only "
             "(No)IsolateSOCKSAuth is implemented; the others are refused."},
    {.name = "IsolateSOCKSAuth", .type = OM_CONF_BOOL, .def = "1", .min = 0, .max = 1,
     .help = "Default of the SocksPort IsolateSOCKSAuth flag: streams with different SOCKS "
             "usernames/passwords never share a circuit. An onionmesh option."},
    {.name = "EntryNodes", .type = OM_CONF_CSV, .check = check_node_item, .args = NODES,
     .help = "Relays ($fingerprint or nickname) to use as first hop."},
    {.name = "MiddleNodes", .type = OM_CONF_CSV, .check = check_node_item, .args = NODES,
     .help = "Relays to use as middle hops."},
    {.name = "ExitNodes", .type = OM_CONF_CSV, .check = check_node_item, .args = NODES,
     .help = "Relays to use as exit."},
    {.name = "ExcludeNodes", .type = OM_CONF_CSV, .check = check_node_item, .args = NODES,
     .help = "Relays never to use in circuits."},
    {.name = "StrictNodes", .type = OM_CONF_BOOL, .def = "0", .min = 0, .max = 1,
     .help = "If 1, ExcludeNodes is a requirement, not a preference."},
    {.name = "NumEntryGuards", .type = OM_CONF_INT, .def = "0", .min = 0, .max = INT_MAX,
     .args = "NUM", .help = "Number of entry guards to use (0 = from the consensus, default 1)."},
    {.name = "CircuitBuildTimeout", .type = OM_CONF_INTERVAL, .def = "60 seconds", .min = 1,
     .max = INT_MAX, .help = "Give up on a circuit not built within this time."},
    {.name = "LearnCircuitBuildTimeout", .type = OM_CONF_BOOL, .def = "0", .min = 0, .max = 1,
     .check = check_learn_cbt, .args = "0",
     .help = "Learn the build timeout from observed build times: not implemented, 0 only "
             "(tor's default is 1)."},
    {.name = "MaxCircuitDirtiness", .type = OM_CONF_INTERVAL, .def = "10 minutes", .min = 1,
     .max = INT_MAX,
     .help = "Attach new streams only to circuits first used less than this long ago (at most "
             "30 days)."},
    {.name = "NewCircuitPeriod", .type = OM_CONF_INTERVAL, .def = "30 seconds", .min = 1,
     .max = INT_MAX,
     .help = "Every this often consider building new circuits, as tor: start a new period of "
             "circuit-failure accounting (after more than 5 failed builds in a period, no circuit is "
             "launched until the next one) and close circuits dirty for "
             "longer than MaxCircuitDirtiness that carry no streams."},
    {.name = "PathsNeededToBuildCircuits", .type = OM_CONF_DOUBLE, .def = "-1", .min = -1,
     .max = 1, .args = "NUM",
     .help = "Fraction of paths (0.25..0.95) needed before building circuits; -1 = consensus "
             "or 0.6."},
    {.name = "ClientUseIPv4", .type = OM_CONF_BOOL, .def = "1", .min = 0, .max = 1,
     .check = check_ipv4, .args = "1",
     .help = "Connect to guards and directories over IPv4 (the only way onionmesh does: 1 only)."},
    {.name = "ClientUseIPv6", .type = OM_CONF_BOOL, .def = "0", .min = 0, .max = 1,
     .check = check_ipv6, .args = "0",
     .help = "Connect to guards and directories over IPv6: not implemented, 0 only."},
    {.name = "CongestionControl", .type = OM_CONF_AUTOBOOL, .def = "auto", .min = 0, .max = 1,
     .args = "0|1|auto",
     .help = "Ask exits for congestion control (proposal 324): auto = as the consensus's cc_alg "
             "says (tor's behaviour), 0 = never (fixed windows), 1 = always. An onionmesh "
             "option."},
    {.name = "ConfluxEnabled", .type = OM_CONF_AUTOBOOL, .def = "auto", .min = 0, .max = 1,
     .args = "0|1|auto",
     .help = "Link two circuits to one exit into a conflux set (proposal 329) and let the exit "
             "spread a stream's cells over both: auto = as the consensus's cfx_enabled says "
             "(default on, tor's behaviour), 0 = never, 1 = always. Needs congestion control "
             "with the exit; only exits listing Conflux=1 are asked."},
    {.name = "UseBridges", .type = OM_CONF_BOOL, .def = "0", .min = 0, .max = 1,
     .help = "Enter the network only through the relays given as Bridge lines: every circuit's "
             "first hop is a bridge, and the consensus, microdescriptors and the bridge's own "
             "descriptor are fetched from it (BEGIN_DIR), never from the authorities."},
    {.name = "Bridge", .type = OM_CONF_LINELIST, .check = check_bridge,
     .args = "[transport] IPv4[:port] fingerprint [key=value ...]",
     .help = "A bridge for UseBridges 1, in tor's syntax. The fingerprint (RSA identity, hex) is "
             "required: the link must prove it. No transport: TLS to the bridge's ORPort; a "
             "transport name (e.g. websocket) takes key=value arguments and must be one this "
             "onionmesh has. An onionmesh extension on any line: ntor-onion-key=BASE64 (the "
             "bridge's ntor key) makes even the first circuit to it ntor instead of CREATE_FAST."},
    {.name = "UseMicrodescriptors", .type = OM_CONF_AUTOBOOL, .def = "auto", .min = 0, .max = 1,
     .check = check_microdescs, .args = "1|auto",
     .help = "Use microdescriptors (onionmesh always does: 1 or auto)."},
    {.name = "DownloadExtraInfo", .type = OM_CONF_BOOL, .def = "0", .min = 0, .max = 1,
     .check = check_extrainfo, .args = "0",
     .help = "Download extra-info documents (not supported: 0 only)."},
};
/* clang-format on */

static bool is_loopback(const om_port_t *p)
{
    if (p->family == 4) return strncmp(p->addr, "127.", 4) == 0;
    return strcmp(p->addr, "::1") == 0;
}

/* SocksPort lines: one listener, IsolateSOCKSAuth's default, the flags the client honours. */
static int validate_socks(om_config_t *cfg, char *err, size_t errlen)
{
    size_t n;
    om_port_t *sp = om_config_ports_mutable(cfg, "SocksPort", &n);
    if (n > 1)
        return om_errf(err, errlen,
                       "SocksPort: %zu listeners configured; onionmesh's client opens one", n);
    bool iso = om_config_get_bool(cfg, "IsolateSOCKSAuth") == 1;
    const uint32_t allowed = OM_PORT_ISOLATE_SOCKS_AUTH;
    for (size_t i = 0; i < n; i++) {
        if (!(sp[i].explicit_flags & OM_PORT_ISOLATE_SOCKS_AUTH)) {
            if (iso)
                sp[i].flags |= OM_PORT_ISOLATE_SOCKS_AUTH;
            else
                sp[i].flags &= ~(uint32_t)OM_PORT_ISOLATE_SOCKS_AUTH;
        }
        uint32_t extra = sp[i].explicit_flags & ~allowed;
        /* NoIsolateClientAddr asks for what the client does anyway. */
        if (!(sp[i].flags & OM_PORT_ISOLATE_CLIENT_ADDR)) extra &= ~OM_PORT_ISOLATE_CLIENT_ADDR;
        if (extra || sp[i].session_group >= 0)
            return om_errf(err, errlen,
                           "SocksPort: of tor's SocksPort flags onionmesh implements only "
                           "(No)IsolateSOCKSAuth; remove the others");
        if (!is_loopback(&sp[i]))
            om_warn("SocksPort on public address %s: other people on the Internet might find it "
                    "and use it as an open proxy; SOCKS is unencrypted and unauthenticated",
                    sp[i].addr);
    }
    return 0;
}

/* The client's cross-option rules (tor's options_validate, client part). */
static int validate_op(om_config_t *cfg, char *err, size_t errlen)
{
    if (validate_socks(cfg, err, errlen) < 0) return -1;
    const int64_t max_dirty = 30 * 86400;
    if (om_config_get_int(cfg, "MaxCircuitDirtiness") > max_dirty) {
        om_warn("MaxCircuitDirtiness is too high; using 30 days");
        if (om_config_adjust(cfg, "MaxCircuitDirtiness", "30 days", err, errlen) < 0) return -1;
    }
    double pn = om_config_get_double(cfg, "PathsNeededToBuildCircuits");
    if (pn >= 0 && (pn < 0.25 || pn > 0.95)) {
        double nd = pn < 0.25 ? 0.25 : 0.95;
        om_warn("PathsNeededToBuildCircuits %g is outside 0.25..0.95; using %g", pn, nd);
        char buf[32];
        snprintf(buf, sizeof buf, "%g", nd);
        if (om_config_adjust(cfg, "PathsNeededToBuildCircuits", buf, err, errlen) < 0) return -1;
    }
    size_t nb;
    om_config_get_lines(cfg, "Bridge", &nb);
    if (om_config_get_bool(cfg, "UseBridges") == 1 && nb == 0)
        return om_errf(err, errlen, "UseBridges is 1 but no Bridge line is given");
    if (nb > OM_OP_MAX_BRIDGES)
        return om_errf(err, errlen, "%zu Bridge lines; onionmesh takes at most %d", nb,
                       OM_OP_MAX_BRIDGES);
    if (om_config_get_int(cfg, "CircuitBuildTimeout") < 10)
        om_warn("CircuitBuildTimeout is shorter than the recommended minimum (10 seconds); if "
                "circuits fail, raise it");
    return 0;
}

const om_config_table_t om_op_config_table = {
    .name = "op",
    .title = "Client (onion proxy) options",
    .options = op_options,
    .n_options = sizeof op_options / sizeof op_options[0],
    .validate = validate_op,
};

int om_op_config_register(om_config_t *cfg, char *err, size_t errlen)
{
    return om_config_register(cfg, &om_op_config_table, err, errlen);
}

/* op_options.c — translates a validated configuration holding the OP's table (op/op_config.h)
 * into the onion proxy's typed options (op/op.h): shared by the onionmesh program and the
 * embedding API. The only place the OP's options are read by name. */
#include "op/op_options.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"

static int nodeset_from(const om_config_t *cfg, const char *name, om_nodeset_t *out, char *err,
                        size_t errlen)
{
    memset(out, 0, sizeof *out);
    size_t n;
    const char *const *items = om_config_get_lines(cfg, name, &n);
    char csv[4096] = "";
    size_t off = 0;
    for (size_t i = 0; i < n && off < sizeof csv - 1; i++)
        off += (size_t)snprintf(csv + off, sizeof csv - off, "%s%s", i ? "," : "", items[i]);
    if (!n) return 0;
    char e[200];
    if (om_nodeset_parse(out, csv, e, sizeof e) < 0) {
        snprintf(err, errlen, "%s: %s", name, e);
        return -1;
    }
    return 0;
}

int om_op_options_from_config(const om_config_t *cfg, om_op_options_t *o, char *err, size_t errlen)
{
    om_op_options_defaults(o);
    const char *dd = om_config_get_string(cfg, "DataDirectory");
    snprintf(o->data_dir, sizeof o->data_dir, "%s", dd ? dd : "");
    size_t n;
    const om_port_t *sp = om_config_ports(cfg, "SocksPort", &n);
    o->socks_port = 0;
    o->socks_enabled = n > 0 && (sp[0].is_auto || sp[0].port != 0);
    if (o->socks_enabled) {
        snprintf(o->socks_addr, sizeof o->socks_addr, "%s", sp[0].addr);
        o->socks_port = sp[0].is_auto ? 0 : sp[0].port;
        o->isolate_socks_auth = (sp[0].flags & OM_PORT_ISOLATE_SOCKS_AUTH) != 0;
    }
    const om_dir_authority_t *a = om_config_dir_authorities(cfg, &n);
    for (size_t i = 0; i < n && o->n_auths < OM_OP_MAX_AUTHS; i++) {
        if (a[i].is_bridge || !a[i].has_v3ident || !a[i].or_port) continue;
        om_op_dirauth_t *d = &o->auths[o->n_auths++];
        snprintf(d->nickname, sizeof d->nickname, "%s", a[i].nickname);
        snprintf(d->address, sizeof d->address, "%s", a[i].ipv4);
        d->or_port = a[i].or_port;
        d->dir_port = a[i].dir_port;
        memcpy(d->rsa_fp, a[i].rsa_fp, 20);
        memcpy(d->v3ident, a[i].v3ident, 20);
    }
    o->testing = om_config_get_bool(cfg, "TestingTorNetwork") == 1;
    o->congestion_control = om_config_get_bool(cfg, "CongestionControl");
    o->conflux = om_config_get_bool(cfg, "ConfluxEnabled");
    o->path.enforce_distinct_subnets = !o->testing;
    o->path.strict_nodes = om_config_get_bool(cfg, "StrictNodes") == 1;
    if (nodeset_from(cfg, "EntryNodes", &o->path.entry_nodes, err, errlen) < 0 ||
        nodeset_from(cfg, "MiddleNodes", &o->path.middle_nodes, err, errlen) < 0 ||
        nodeset_from(cfg, "ExitNodes", &o->path.exit_nodes, err, errlen) < 0 ||
        nodeset_from(cfg, "ExcludeNodes", &o->path.exclude_nodes, err, errlen) < 0)
        return -1;
    o->num_entry_guards = (int)om_config_get_int(cfg, "NumEntryGuards");
    int64_t cbt = om_config_get_int(cfg, "CircuitBuildTimeout");
    if (cbt > 0) o->circuit_build_timeout_s = (int)cbt;
    int64_t dirt = om_config_get_int(cfg, "MaxCircuitDirtiness");
    if (dirt > 0) o->max_circuit_dirtiness_s = (int)dirt;
    int64_t ncp = om_config_get_int(cfg, "NewCircuitPeriod");
    if (ncp > 0) o->new_circuit_period_s = (int)ncp;
    double pn = om_config_get_double(cfg, "PathsNeededToBuildCircuits");
    if (pn > 0) o->paths_needed = pn;
    o->use_bridges = om_config_get_bool(cfg, "UseBridges") == 1;
    const char *const *bl = om_config_get_lines(cfg, "Bridge", &n);
    for (size_t i = 0; i < n && o->n_bridges < OM_OP_MAX_BRIDGES; i++) {
        char e[200];
        if (om_bridge_conf_parse(bl[i], &o->bridges[o->n_bridges], e, sizeof e) < 0) {
            snprintf(err, errlen, "Bridge %s: %s", bl[i], e);
            return -1;
        }
        o->n_bridges++;
    }
    int64_t cl = om_config_get_int(cfg, "ConnLimit");
    if (cl > 0) o->max_socks_conns = (unsigned)cl;
    return 0;
}

int om_op_options_set_transports(om_op_options_t *o, const om_bridge_transport_t *t, size_t n,
                                 char *err, size_t errlen)
{
    o->transports = t;
    o->n_transports = n;
    for (size_t i = 0; i < o->n_bridges; i++) {
        const char *name = o->bridges[i].transport;
        bool found = !name[0];
        for (size_t k = 0; k < n && !found; k++)
            found = !strcmp(t[k].name, name);
        if (!found) {
            char d[128];
            om_bridge_conf_describe(&o->bridges[i], d, sizeof d);
            snprintf(err, errlen,
                     "Bridge %s: this onionmesh has no transport called \"%s\" (it knows plain "
                     "TLS, a Bridge line without a transport%s%s)",
                     d, name, n ? ", and " : "", n ? t[0].name : "");
            return -1;
        }
    }
    return 0;
}

bool om_op_wanted(const om_config_t *cfg, bool relay)
{
    size_t n;
    om_config_ports(cfg, "SocksPort", &n);
    return !relay || (om_config_is_set(cfg, "SocksPort") && n > 0);
}

/* relay_options.c — the relay's option table (what each option means for an onionmesh relay,
 * which values it refuses because the relay does not do them: a second ORPort or ORPort flags,
 * an IPv6 or second Address, a DirPort, publishing as a bridge), the relay's cross-option
 * checks (bandwidth, as tor's options_validate) and om_relay_options_t. */
#include "or/relay_options.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"

static int check_exitpolicy(const char *value, om_config_value_t *v, const char *where,
                            char *reason, size_t reasonlen)
{
    (void)v;
    int rc = 0;
    char *copy = strdup(value);
    if (!copy) return om_errf(reason, reasonlen, "out of memory");
    char *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item && rc == 0;
         item = strtok_r(NULL, ",", &save)) {
        item += strspn(item, " \t\r\n");
        size_t il = strlen(item);
        while (il && strchr(" \t\r\n", item[il - 1]))
            item[--il] = '\0';
        if (!il) continue; /* blank items are skipped, as tor */
        size_t kl = strcspn(item, " \t");
        bool v6 = kl == 7 && (!strncasecmp(item, "accept6", 7) || !strncasecmp(item, "reject6", 7));
        if (!v6 &&
            !(kl == 6 && (!strncasecmp(item, "accept", 6) || !strncasecmp(item, "reject", 6)))) {
            rc = om_errf(reason, reasonlen, "\"%s\": expected accept, reject, accept6 or reject6",
                         item);
            break;
        }
        const char *pat = item + kl + strspn(item + kl, " \t");
        int fam;
        if (!*pat)
            rc = om_errf(reason, reasonlen, "\"%s\": missing address pattern", item);
        else if (om_config_parse_addr_pattern(pat, true, &fam, reason, reasonlen) < 0)
            rc = -1;
        else if (v6 && fam == 4)
            om_warn("%s: ExitPolicy: IPv4 address in \"%s\" ignored (use accept/reject)", where,
                    item);
    }
    free(copy);
    return rc;
}

static int check_relay_address(const char *value, om_config_value_t *v, const char *where,
                               char *reason, size_t reasonlen)
{
    if (om_config_check_address(value, v, where, reason, reasonlen) < 0) return -1;
    if (value[0] == '[' || strchr(value, ':'))
        return om_errf(reason, reasonlen,
                       "\"%s\": onionmesh relays publish an IPv4 address only (no or-address)",
                       value);
    return 0;
}

static int check_publish(const char *value, om_config_value_t *v, const char *where, char *reason,
                         size_t reasonlen)
{
    (void)v;
    (void)where;
    if (!strcasecmp(value, "bridge"))
        return om_errf(reason, reasonlen,
                       "publishing to a bridge authority is not supported: an onionmesh bridge "
                       "(BridgeRelay 1) uploads its descriptor to no authority");
    return 0;
}

static int check_dirport(const char *value, om_config_value_t *v, const char *where, char *reason,
                         size_t reasonlen)
{
    (void)value;
    (void)where;
    if (v->has_obj)
        return om_errf(reason, reasonlen,
                       "onionmesh relays serve directory documents over BEGIN_DIR only "
                       "(DirCache); there is no DirPort (0 only)");
    return 0;
}

#define I64MAX INT64_MAX

/* clang-format off */
static const om_config_option_t relay_options[] = {
    {.name = "ORPort", .type = OM_CONF_PORT, .flags = OM_OPT_PORT_SERVER,
     .args = "[address:]port|auto",
     .help = "Run as a relay, accepting OR connections here (address defaults to 0.0.0.0). One "
             "line; tor's ORPort flags (NoAdvertise, NoListen, IPv4Only, IPv6Only) are refused."},
    {.name = "Address", .type = OM_CONF_LINELIST, .check = check_relay_address,
     .args = "IPv4address|hostname",
     .help = "This relay's public IPv4 address or a host name resolving to it (one line; "
             "default: the ORPort's address or an interface's)."},
    {.name = "Nickname", .type = OM_CONF_STRING, .def = "Unnamed",
     .check = om_config_check_nickname, .args = "name",
     .help = "The relay's nickname: 1-19 characters [A-Za-z0-9]."},
    {.name = "ContactInfo", .type = OM_CONF_STRING, .args = "email_address",
     .help = "Contact information published in the relay's descriptor."},
    {.name = "MyFamily", .type = OM_CONF_CSV, .check = om_config_check_family_item,
     .args = "fingerprint,fingerprint,...",
     .help = "Relays run by the same operator, published as the descriptor's family (lines are "
             "merged)."},
    {.name = "ExitRelay", .type = OM_CONF_AUTOBOOL, .def = "auto", .min = 0, .max = 1,
     .help = "Whether to allow exit traffic (auto: exit only if an ExitPolicy is set)."},
    {.name = "ExitPolicy", .type = OM_CONF_LINELIST, .check = check_exitpolicy,
     .args = "policy,policy,...",
     .help = "Exit policy: accept[6]|reject[6] ADDR[/MASK][:PORT] items, first match wins."},
    {.name = "ExitPolicyRejectPrivate", .type = OM_CONF_BOOL, .def = "1", .testing_def = "0",
     .min = 0, .max = 1,
     .help = "Reject private networks and our own addresses at the start of the exit policy."},
    {.name = "IPv6Exit", .type = OM_CONF_BOOL, .def = "0", .min = 0, .max = 1,
     .help = "Allow exit connections to IPv6 addresses (the exit policy still applies)."},
    {.name = "ReducedExitPolicy", .type = OM_CONF_BOOL, .def = "0", .min = 0, .max = 1,
     .help = "Use tor's reduced exit policy instead of its default exit policy."},
    {.name = "ServerDNSResolvConfFile", .type = OM_CONF_PATH, .args = "filename",
     .help = "resolv.conf-style file naming the nameservers an exit uses (default: the "
             "system's)."},
    {.name = "PublishServerDescriptor", .type = OM_CONF_CSV, .def = "1",
     .flags = OM_OPT_LAST_WINS, .choices = "0|1|v3|bridge", .check = check_publish,
     .args = "0|1|v3",
     .help = "Upload our descriptor to the v3 directory authorities (1 or v3) or not (0)."},
    {.name = "BridgeRelay", .type = OM_CONF_BOOL, .def = "0", .min = 0, .max = 1,
     .help = "Be a bridge: serve clients that name us in a Bridge line (our descriptor at "
             "/tor/server/authority, the directory over BEGIN_DIR) but upload no descriptor to "
             "the directory authorities, so we are not in their consensus; our bridge line is "
             "logged and written to DataDirectory/bridge-line. Needs DirCache 1."},
    {.name = "AssumeReachable", .type = OM_CONF_BOOL, .def = "0", .testing_def = "1", .min = 0,
     .max = 1, .help = "Skip the ORPort self-reachability test and publish at once."},
    {.name = "BandwidthRate", .type = OM_CONF_MEMUNIT, .def = "1 GB", .min = 0, .max = I64MAX,
     .help = "Average bandwidth limit per direction, bytes per second."},
    {.name = "BandwidthBurst", .type = OM_CONF_MEMUNIT, .def = "1 GB", .min = 0, .max = I64MAX,
     .help = "Token bucket size for BandwidthRate."},
    {.name = "RelayBandwidthRate", .type = OM_CONF_MEMUNIT, .def = "0", .min = 0, .max = I64MAX,
     .help = "Bandwidth limit for relayed traffic only (0 = none)."},
    {.name = "RelayBandwidthBurst", .type = OM_CONF_MEMUNIT, .def = "0", .min = 0, .max = I64MAX,
     .help = "Token bucket size for RelayBandwidthRate."},
    {.name = "DirPort", .type = OM_CONF_PORT, .flags = OM_OPT_PORT_SERVER | OM_OPT_PORT_IPV4_ONLY,
     .check = check_dirport, .args = "0",
     .help = "Directory port: onionmesh relays have none (clients use BEGIN_DIR), so only 0 is "
             "accepted."},
    {.name = "DirCache", .type = OM_CONF_BOOL, .def = "1", .min = 0, .max = 1,
     .help = "If 1 (and a relay), cache directory documents and serve them to clients over "
             "BEGIN_DIR."},
    {.name = "DHTServer", .type = OM_CONF_BOOL, .def = "1", .min = 0, .max = 1,
     .help = "If 1 (and a relay), serve onionmesh's DHT (doc/dht.md) on streams to "
             "dht.onionmesh.invalid and say so in the descriptor's proto line (OnionMeshDht=1), "
             "which the authorities carry into the consensus."},
    {.name = "MaxMemInQueues", .type = OM_CONF_MEMUNIT, .def = "0", .min = 0, .max = I64MAX,
     .help = "Memory for queued cells before the relay kills circuits (0 = pick from RAM)."},
    {.name = "HeartbeatPeriod", .type = OM_CONF_INTERVAL, .def = "6 hours", .min = 0,
     .max = INT32_MAX,
     .help = "Log a heartbeat notice (uptime, circuits, traffic, DoS mitigation counts) this "
             "often; 0 = never; at least 30 minutes unless TestingTorNetwork."},
};
/* clang-format on */

/* Bandwidth (`man tor` BandwidthRate, RelayBandwidthRate), as tor's options_validate. */
static int validate_bandwidth(om_config_t *cfg, bool relay, char *err, size_t errlen)
{
    static const char *const bw_opts[] = {"BandwidthRate", "BandwidthBurst", "RelayBandwidthRate",
                                          "RelayBandwidthBurst"};
    for (size_t k = 0; k < 4; k++)
        if (om_config_get_int(cfg, bw_opts[k]) > INT32_MAX)
            return om_errf(err, errlen, "%s must be at most %d bytes", bw_opts[k], INT32_MAX);
    if (om_config_get_int(cfg, "BandwidthBurst") < om_config_get_int(cfg, "BandwidthRate"))
        return om_errf(err, errlen, "BandwidthBurst must be at least equal to BandwidthRate");
    int64_t rr = om_config_get_int(cfg, "RelayBandwidthRate");
    int64_t rb = om_config_get_int(cfg, "RelayBandwidthBurst");
    char buf[32];
    if (rr && !rb) {
        snprintf(buf, sizeof buf, "%lld bytes", (long long)(rb = rr));
        if (om_config_adjust(cfg, "RelayBandwidthBurst", buf, err, errlen) < 0) return -1;
    }
    if (rb && !rr) {
        snprintf(buf, sizeof buf, "%lld bytes", (long long)(rr = rb));
        if (om_config_adjust(cfg, "RelayBandwidthRate", buf, err, errlen) < 0) return -1;
    }
    if (rb < rr)
        return om_errf(err, errlen,
                       "RelayBandwidthBurst must be at least equal to RelayBandwidthRate");
    const int64_t min_bw = 76800; /* 75 KBytes, `man tor` BandwidthRate */
    if (relay && (om_config_get_int(cfg, "BandwidthRate") < min_bw || (rr && rr < min_bw)))
        return om_errf(err, errlen,
                       "a relay's BandwidthRate (and RelayBandwidthRate, if set) must be at "
                       "least 75 KBytes");
    return 0;
}

static int validate_relay(om_config_t *cfg, char *err, size_t errlen)
{
    bool relay = om_relay_configured(cfg);
    if (validate_bandwidth(cfg, relay, err, errlen) < 0) return -1;
    size_t n;
    const om_port_t *orp = om_config_ports(cfg, "ORPort", &n);
    if (n > 1)
        return om_errf(err, errlen, "ORPort: %zu listeners configured; an onionmesh relay has one",
                       n);
    if (n && orp[0].explicit_flags)
        return om_errf(err, errlen,
                       "ORPort: flags (NoAdvertise, NoListen, IPv4Only, IPv6Only) "
                       "are not supported by onionmesh relays");
    om_config_get_lines(cfg, "Address", &n);
    if (n > 1)
        return om_errf(err, errlen,
                       "Address: %zu lines; an onionmesh relay publishes one IPv4 "
                       "address",
                       n);
    if (relay && om_config_is_set(cfg, "MyFamily") && !om_config_get_string(cfg, "ContactInfo"))
        om_warn("MyFamily is set but ContactInfo is not; set ContactInfo too");
    /* tor's options_validate: MIN_HEARTBEAT_PERIOD, except on a testing network. */
    int64_t hb = om_config_get_int(cfg, "HeartbeatPeriod");
    if (hb && hb < 30 * 60 && om_config_get_bool(cfg, "TestingTorNetwork") != 1) {
        om_warn("HeartbeatPeriod option is too short; raising to 1800 seconds.");
        if (om_config_adjust(cfg, "HeartbeatPeriod", "1800 seconds", err, errlen) < 0) return -1;
    }
    if (relay && om_config_get_bool(cfg, "BridgeRelay") == 1 &&
        om_config_get_bool(cfg, "DirCache") != 1)
        return om_errf(err, errlen,
                       "BridgeRelay is 1 but DirCache is 0: a bridge's users fetch the directory "
                       "from it, so it must be a directory cache");
    int64_t mm = om_config_get_int(cfg, "MaxMemInQueues");
    if (mm && mm < (256ll << 20) && om_config_get_bool(cfg, "TestingTorNetwork") != 1)
        om_warn("MaxMemInQueues is set to a low value; if onionmesh doesn't work, this may be "
                "why");
    return 0;
}

const om_config_table_t om_relay_config_table = {
    .name = "relay",
    .title = "Relay (onion router) options; an ORPort makes onionmesh a relay",
    .options = relay_options,
    .n_options = sizeof relay_options / sizeof relay_options[0],
    .validate = validate_relay,
};

int om_relay_config_register(om_config_t *cfg, char *err, size_t errlen)
{
    if (om_config_register(cfg, &om_relay_config_table, err, errlen) < 0) return -1;
    return om_config_register(cfg, &om_dos_config_table, err, errlen);
}

bool om_relay_configured(const om_config_t *cfg)
{
    if (!om_config_has_table(cfg, om_relay_config_table.name)) return false;
    size_t n;
    om_config_ports(cfg, "ORPort", &n);
    return n > 0;
}

/* ------------------------------------------------------------------------------------------ */
/* om_relay_options_t */

static char **copy_lines(const char *const *lines, size_t n)
{
    char **v = calloc(n + 1, sizeof *v);
    for (size_t i = 0; v && i < n; i++) {
        if (!(v[i] = strdup(lines[i]))) {
            for (size_t j = 0; j < i; j++)
                free(v[j]);
            free(v);
            return NULL;
        }
    }
    return v;
}

static void free_lines(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

static bool copy_str(char **dst, const char *src)
{
    *dst = src ? strdup(src) : NULL;
    return !src || *dst;
}

int om_relay_options_from_config(const om_config_t *cfg, om_relay_options_t *o, char *err,
                                 size_t errlen)
{
    memset(o, 0, sizeof *o);
    size_t n;
    const om_port_t *orp = om_config_ports(cfg, "ORPort", &n);
    if (!n) return om_errf(err, errlen, "no ORPort configured");
    o->or_port = orp[0];
    om_general_options_t g;
    om_config_general_options(cfg, &g);
    snprintf(o->data_dir, sizeof o->data_dir, "%s", g.data_dir ? g.data_dir : "");
    o->testing = g.testing;
    const char *const *al = om_config_get_lines(cfg, "Address", &n);
    snprintf(o->address, sizeof o->address, "%s", n ? al[0] : "");
    snprintf(o->nickname, sizeof o->nickname, "%s", om_config_get_string(cfg, "Nickname"));
    const char *const *fam = om_config_get_lines(cfg, "MyFamily", &o->n_my_family);
    const char *const *pol = om_config_get_lines(cfg, "ExitPolicy", &o->n_exit_policy);
    o->my_family = copy_lines(fam, o->n_my_family);
    o->exit_policy = copy_lines(pol, o->n_exit_policy);
    o->exit_relay = om_config_get_bool(cfg, "ExitRelay");
    o->exit_policy_reject_private = om_config_get_bool(cfg, "ExitPolicyRejectPrivate") == 1;
    o->ipv6_exit = om_config_get_bool(cfg, "IPv6Exit") == 1;
    o->reduced_exit_policy = om_config_get_bool(cfg, "ReducedExitPolicy") == 1;
    const char *const *pub = om_config_get_lines(cfg, "PublishServerDescriptor", &n);
    o->publish_server_descriptor = !(n == 1 && strcmp(pub[0], "0") == 0);
    o->assume_reachable = om_config_get_bool(cfg, "AssumeReachable") == 1;
    o->bridge_relay = om_config_get_bool(cfg, "BridgeRelay") == 1;
    o->bandwidth_rate = (uint64_t)om_config_get_int(cfg, "BandwidthRate");
    o->bandwidth_burst = (uint64_t)om_config_get_int(cfg, "BandwidthBurst");
    o->relay_bandwidth_rate = (uint64_t)om_config_get_int(cfg, "RelayBandwidthRate");
    o->relay_bandwidth_burst = (uint64_t)om_config_get_int(cfg, "RelayBandwidthBurst");
    o->dir_cache = om_config_get_bool(cfg, "DirCache") == 1;
    o->dht_server = om_config_get_bool(cfg, "DHTServer") == 1;
    o->max_mem_in_queues = (uint64_t)om_config_get_int(cfg, "MaxMemInQueues");
    o->heartbeat_period = om_config_get_int(cfg, "HeartbeatPeriod");
    om_dos_options_from_config(cfg, &o->dos);
    const om_dir_authority_t *a = om_config_dir_authorities(cfg, &o->n_auths);
    o->auths = malloc((o->n_auths ? o->n_auths : 1) * sizeof *o->auths);
    if (o->auths) memcpy(o->auths, a, o->n_auths * sizeof *a);
    if (!o->my_family || !o->exit_policy || !o->auths ||
        !copy_str(&o->contact_info, om_config_get_string(cfg, "ContactInfo")) ||
        !copy_str(&o->server_dns_resolv_conf,
                  om_config_get_string(cfg, "ServerDNSResolvConfFile"))) {
        om_relay_options_clear(o);
        return om_errf(err, errlen, "out of memory");
    }
    return 0;
}

void om_relay_options_clear(om_relay_options_t *o)
{
    free_lines(o->my_family, o->n_my_family);
    free_lines(o->exit_policy, o->n_exit_policy);
    free(o->contact_info);
    free(o->server_dns_resolv_conf);
    free(o->auths);
    memset(o, 0, sizeof *o);
}

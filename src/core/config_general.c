/* config_general.c — the option tables om_config_new registers in every configuration: "general"
 * (what every role shares: DataDirectory, Log, RunAsDaemon, SafeLogging, ProtocolWarnings,
 * ConnLimit, DirAuthority, TestingTorNetwork, ControlPort; the unsupported GeoIP files are
 * refused) with its cross-option checks, and "authority" (directory-authority options, accepted
 * and ignored so the torrc files of tor test networks load). */
#include "core/config_internal.h"

#include <limits.h>
#include <string.h>

static const char *const default_authorities[] = {
#include "default_authorities.inc"
    NULL,
};

static int check_dirauth(const char *value, om_config_value_t *v, const char *where, char *reason,
                         size_t reasonlen)
{
    char why[REASON_LEN];
    if (om_cfg_parse_dirauth(value, v->obj, where, why) < 0)
        return om_errf(reason, reasonlen, "%s", why);
    v->has_obj = true;
    return 0;
}

static int check_log(const char *value, om_config_value_t *v, const char *where, char *reason,
                     size_t reasonlen)
{
    (void)v;
    (void)where;
    om_log_spec_t spec;
    char why[REASON_LEN];
    if (om_cfg_parse_log(value, &spec, why) < 0) return om_errf(reason, reasonlen, "%s", why);
    return 0;
}

static int check_controlport(const char *value, om_config_value_t *v, const char *where,
                             char *reason, size_t reasonlen)
{
    (void)value;
    (void)where;
    if (v->has_obj)
        return om_errf(reason, reasonlen, "onionmesh has no control port yet; only 0 is accepted");
    return 0;
}

#define NODES "node,node,..."

/* clang-format off */
static const om_config_option_t general_options[] = {
    {.name = "DataDirectory", .type = OM_CONF_PATH, .def = "~/.onionmesh", .args = "DIR",
     .help = "Where onionmesh keeps keys, state and cached directory documents."},
    {.name = "Log", .type = OM_CONF_LINELIST, .check = check_log,
     .args = "minSeverity[-maxSeverity] stderr|stdout|syslog|file FILENAME",
     .help = "Send messages of these severities (debug, info, notice, warn, err) to this "
             "destination; each line is one destination. Without any: notice and up to stderr "
             "(or the level in $OM_LOG). [domain] selectors are accepted; onionmesh has no log "
             "domains, so they apply to every message."},
    {.name = "RunAsDaemon", .type = OM_CONF_BOOL, .def = "0", .min = 0, .max = 1,
     .help = "If 1, fork into the background once the configuration is valid: the command "
             "returns 0 when the background process is running (1 if it failed to start), which "
             "changes its directory to DataDirectory and sends stdin/stdout/stderr to "
             "/dev/null. Log lines to stdout/stderr are skipped; use a file or syslog. Paths "
             "must be absolute."},
    {.name = "SafeLogging", .type = OM_CONF_STRING, .def = "1", .choices = "0|1|relay",
     .args = "0|1|relay",
     .help = "Replace addresses and other sensitive strings in log messages with [scrubbed]: "
             "1 always; relay only in what onionmesh logs as a relay (other people's traffic), "
             "not about its own client's (SOCKS clients and destinations); 0 never."},
    {.name = "ProtocolWarnings", .type = OM_CONF_BOOL, .def = "0", .min = 0, .max = 1,
     .help = "If 1, log protocol violations by other parties (malformed cells, bad SOCKS "
             "requests ...) at warn severity instead of info."},
    {.name = "ConnLimit", .type = OM_CONF_INT, .def = "1000", .min = 1, .max = INT_MAX,
     .args = "NUM",
     .help = "onionmesh raises its open-file limit to the system's maximum and refuses to start "
             "if fewer than NUM file descriptors are available. Also the most SOCKS connections "
             "the client keeps open at once."},
    {.name = "DirAuthority", .type = OM_CONF_LINELIST, .def_lines = default_authorities,
     .check = check_dirauth, .obj_size = sizeof(om_dir_authority_t),
     .args = "[nickname] [flags] ipv4address:dirport fingerprint",
     .help = "A directory authority to trust; the lines replace the public Tor network's "
             "authorities (the default list, as tor 0.4.9 ships it)."},
    {.name = "TestingTorNetwork", .type = OM_CONF_BOOL, .def = "0", .min = 0, .max = 1,
     .help = "Testing network: changes the defaults marked \"TestingTorNetwork\" below, allows "
             "private addresses; needs your own DirAuthority lines."},
    {.name = "ControlPort", .type = OM_CONF_PORT, .flags = OM_OPT_PORT_CONTROL,
     .check = check_controlport, .args = "0",
     .help = "Controller port; onionmesh has none yet, so only 0 is accepted."},
    {.name = "GeoIPFile", .type = OM_CONF_PATH, .flags = OM_OPT_REFUSED, .args = "FILENAME",
     .help = "onionmesh has no GeoIP database (country codes in node lists are refused too)."},
    {.name = "GeoIPv6File", .type = OM_CONF_PATH, .flags = OM_OPT_REFUSED, .args = "FILENAME",
     .help = "onionmesh has no GeoIP database (country codes in node lists are refused too)."},
};

static const om_config_option_t authority_options[] = {
    {.name = "TestingDirAuthVoteExit", .type = OM_CONF_CSV, .flags = OM_OPT_AUTHORITY_ONLY,
     .check = om_config_check_routerset_item, .args = NODES,
     .help = "Authorities: vote these relays Exit."},
    {.name = "TestingDirAuthVoteGuard", .type = OM_CONF_CSV, .flags = OM_OPT_AUTHORITY_ONLY,
     .check = om_config_check_routerset_item, .args = NODES,
     .help = "Authorities: vote these relays Guard."},
    {.name = "TestingDirAuthVoteHSDir", .type = OM_CONF_CSV, .flags = OM_OPT_AUTHORITY_ONLY,
     .check = om_config_check_routerset_item, .args = NODES,
     .help = "Authorities: vote these relays HSDir."},
    {.name = "TestingMinExitFlagThreshold", .type = OM_CONF_MEMUNIT, .def = "0", .min = 0,
     .max = INT64_MAX, .flags = OM_OPT_AUTHORITY_ONLY,
     .help = "Authorities: minimum bandwidth for the Exit flag."},
    {.name = "V3AuthNIntervalsValid", .type = OM_CONF_INT, .def = "3", .min = 2, .max = INT_MAX,
     .flags = OM_OPT_AUTHORITY_ONLY, .args = "NUM",
     .help = "Authorities: voting intervals a consensus is valid for."},
};
/* clang-format on */

/* The general cross-option rules of tor's options_validate. */
static int validate_general(om_config_t *cfg, char *err, size_t errlen)
{
    bool testing = om_config_get_bool(cfg, "TestingTorNetwork") == 1;
    bool own_auths = om_config_is_set(cfg, "DirAuthority");
    if (testing && !own_auths)
        return om_errf(err, errlen,
                       "TestingTorNetwork may only be set together with your own DirAuthority "
                       "lines");
    if (!testing && own_auths)
        om_warn("DirAuthority lines replace the public network's authorities: this makes you "
                "look different from other clients");
    size_t nauth, nv3 = 0;
    const om_dir_authority_t *auths = om_config_dir_authorities(cfg, &nauth);
    for (size_t i = 0; i < nauth; i++)
        if (auths[i].has_v3ident && !auths[i].is_bridge) nv3++;
    if (nv3 == 0)
        return om_errf(err, errlen,
                       "no v3 directory authority: give a DirAuthority line with v3ident=");
    const char *dd = om_config_get_string(cfg, "DataDirectory");
    if (!dd || !*dd)
        return om_errf(err, errlen,
                       "DataDirectory is not set (and $HOME is unknown, so ~/.onionmesh can't be "
                       "used)");
    return 0;
}

const om_config_table_t om_config_general_table = {
    .name = "general",
    .title = "General options",
    .options = general_options,
    .n_options = sizeof general_options / sizeof general_options[0],
    .validate = validate_general,
};

const om_config_table_t om_config_authority_table = {
    .name = "authority",
    .title = "Directory authority options (onionmesh is not an authority: accepted so tor "
             "test-network torrc files load, and ignored)",
    .options = authority_options,
    .n_options = sizeof authority_options / sizeof authority_options[0],
};

/* ws_options.c — the WebSocket bridge's option table and its cross-option checks (ws_options.h).
 * Every option does what --help says: WebSocketPort makes the relay accept Tor links over
 * WebSockets (doc/bridge.md), the others shape that server. */
#include "bridge/ws_options.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"

static int check_path(const char *value, om_config_value_t *v, const char *where, char *reason,
                      size_t reasonlen)
{
    (void)v;
    (void)where;
    if (value[0] != '/' || strlen(value) > 200)
        return om_errf(reason, reasonlen, "\"%s\": a path starts with '/' (at most 200 bytes)",
                       value);
    for (const char *p = value; *p; p++)
        if (*p <= ' ' || *p >= 127 || *p == '?' || *p == '#' || *p == '%')
            return om_errf(reason, reasonlen,
                           "\"%s\": only printable ASCII without spaces, '?', '#' or '%%'", value);
    return 0;
}

static int check_origins(const char *value, om_config_value_t *v, const char *where, char *reason,
                         size_t reasonlen)
{
    (void)v;
    (void)where;
    if (strlen(value) > 2000) return om_errf(reason, reasonlen, "list longer than 2000 bytes");
    for (const char *p = value; *p; p++)
        if (*p < ' ' || *p >= 127)
            return om_errf(reason, reasonlen, "origins are printable ASCII (\"scheme://host\")");
    return 0;
}

/* clang-format off */
static const om_config_option_t ws_options[] = {
    {.name = "WebSocketPort", .type = OM_CONF_PORT, .flags = OM_OPT_PORT_SERVER,
     .args = "[address:]port|auto",
     .help = "Also accept Tor links over WebSockets (subprotocol tor-cells.onionmesh, "
             "doc/bridge.md) here, as ordinary links of this relay (needs an ORPort). Repeatable, "
             "IPv4 or IPv6 (address defaults to 0.0.0.0); no port flags."},
    {.name = "WebSocketPath", .type = OM_CONF_STRING, .check = check_path, .args = "/path",
     .help = "Accept WebSocket upgrades on this path only (a secret path hides the bridge); other "
             "paths are refused. Default: any path."},
    {.name = "WebSocketTLSCert", .type = OM_CONF_STRING, .args = "file",
     .help = "PEM certificate (chain) for wss:// on every WebSocketPort; with WebSocketTLSKey. "
             "Without both: plain ws:// (e.g. behind a TLS reverse proxy)."},
    {.name = "WebSocketTLSKey", .type = OM_CONF_STRING, .args = "file",
     .help = "PEM private key of WebSocketTLSCert."},
    {.name = "WebSocketTrustForwardedFor", .type = OM_CONF_BOOL, .def = "0", .min = 0, .max = 1,
     .help = "If 1, the client address the DoS limits use is the last X-Forwarded-For element "
             "(set 1 only behind a reverse proxy that appends it); if 0, the TCP peer's."},
    {.name = "WebSocketOrigins", .type = OM_CONF_STRING, .check = check_origins,
     .args = "origin,origin,...",
     .help = "Browser origins allowed to connect (\"https://app.example,...\"): an upgrade whose "
             "Origin header is not listed is refused; one without Origin (not a browser) is "
             "accepted. Unset or empty: no Origin check."},
    {.name = "WebSocketWebRoot", .type = OM_CONF_STRING, .args = "directory",
     .help = "Serve the files under this directory over plain HTTP GET on every WebSocketPort "
             "(the browser client's page, doc/web.md; / is index.html), HTML with a "
             "Content-Security-Policy without 'unsafe-eval'. Unset: no files (404)."},
    {.name = "WebSocketPingInterval", .type = OM_CONF_INTERVAL, .def = "60 seconds", .min = 5,
     .max = 3600, .help = "Send a WebSocket PING on a link idle this long."},
    {.name = "WebSocketIdleTimeout", .type = OM_CONF_INTERVAL, .def = "150 seconds", .min = 10,
     .max = 7200,
     .help = "Close a WebSocket link from which nothing (not even a PONG) came for this long."},
};
/* clang-format on */

static int validate(om_config_t *cfg, char *err, size_t errlen)
{
    size_t n, orn;
    const om_port_t *p = om_config_ports(cfg, "WebSocketPort", &n);
    if (!n) return 0;
    om_config_ports(cfg, "ORPort", &orn);
    if (!orn)
        return om_errf(err, errlen,
                       "WebSocketPort needs an ORPort: WebSocket links end at this relay");
    if (n > OM_WS_MAX_PORTS)
        return om_errf(err, errlen, "WebSocketPort: at most %d lines", OM_WS_MAX_PORTS);
    for (size_t i = 0; i < n; i++)
        if (p[i].explicit_flags)
            return om_errf(err, errlen, "WebSocketPort: port flags are not supported");
    const char *cert = om_config_get_string(cfg, "WebSocketTLSCert");
    const char *key = om_config_get_string(cfg, "WebSocketTLSKey");
    if (!cert != !key)
        return om_errf(err, errlen,
                       "WebSocketTLSCert and WebSocketTLSKey go together (both for wss://, "
                       "neither for ws://)");
    if (cert && access(cert, R_OK) != 0)
        return om_errf(err, errlen, "WebSocketTLSCert: cannot read \"%s\"", cert);
    if (key && access(key, R_OK) != 0)
        return om_errf(err, errlen, "WebSocketTLSKey: cannot read \"%s\"", key);
    const char *web = om_config_get_string(cfg, "WebSocketWebRoot");
    struct stat st;
    if (web && (stat(web, &st) != 0 || !S_ISDIR(st.st_mode) || access(web, R_OK | X_OK) != 0))
        return om_errf(err, errlen, "WebSocketWebRoot: \"%s\" is not a readable directory", web);
    if (om_config_get_int(cfg, "WebSocketIdleTimeout") <=
        om_config_get_int(cfg, "WebSocketPingInterval"))
        return om_errf(err, errlen,
                       "WebSocketIdleTimeout must be longer than "
                       "WebSocketPingInterval");
    return 0;
}

const om_config_table_t om_ws_config_table = {
    .name = "bridge",
    .title = "WebSocket options; a WebSocketPort (with an ORPort) accepts Tor links over "
             "WebSockets",
    .options = ws_options,
    .n_options = sizeof ws_options / sizeof ws_options[0],
    .validate = validate,
};

int om_ws_config_register(om_config_t *cfg, char *err, size_t errlen)
{
    return om_config_register(cfg, &om_ws_config_table, err, errlen);
}

bool om_ws_configured(const om_config_t *cfg)
{
    size_t n = 0;
    if (!om_config_has_table(cfg, "bridge")) return false;
    om_config_ports(cfg, "WebSocketPort", &n);
    return n > 0;
}

int om_ws_options_from_config(const om_config_t *cfg, om_ws_server_opts_t *o, char *err,
                              size_t errlen)
{
    memset(o, 0, sizeof *o);
    size_t n;
    const om_port_t *p = om_config_ports(cfg, "WebSocketPort", &n);
    if (!n) return om_errf(err, errlen, "no WebSocketPort configured");
    if (n > OM_WS_MAX_PORTS) n = OM_WS_MAX_PORTS;
    for (size_t i = 0; i < n; i++) {
        snprintf(o->ports[i].addr, sizeof o->ports[i].addr, "%s", p[i].addr);
        o->ports[i].port = p[i].is_auto ? 0 : p[i].port;
    }
    o->n_ports = n;
    o->path = om_config_get_string(cfg, "WebSocketPath");
    o->tls_cert = om_config_get_string(cfg, "WebSocketTLSCert");
    o->tls_key = om_config_get_string(cfg, "WebSocketTLSKey");
    o->trust_xff = om_config_get_bool(cfg, "WebSocketTrustForwardedFor") == 1;
    o->origins = om_config_get_string(cfg, "WebSocketOrigins");
    o->ping_s = (unsigned)om_config_get_int(cfg, "WebSocketPingInterval");
    o->idle_s = (unsigned)om_config_get_int(cfg, "WebSocketIdleTimeout");
    o->web_root = om_config_get_string(cfg, "WebSocketWebRoot");
    return 0;
}

/* ws_options.h — the WebSocket bridge's options (WebSocketPort, WebSocketPath,
 * WebSocketTLSCert/Key, WebSocketTrustForwardedFor, WebSocketOrigins, WebSocketPingInterval,
 * WebSocketIdleTimeout; doc/bridge.md) as a configuration table, and the server's options from
 * a validated configuration. */
#ifndef OM_BRIDGE_WS_OPTIONS_H
#define OM_BRIDGE_WS_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "bridge/ws_transport.h"
#include "core/config.h"

extern const om_config_table_t om_ws_config_table;
int om_ws_config_register(om_config_t *cfg, char *err, size_t errlen);
/* True if cfg has WebSocketPort lines. */
bool om_ws_configured(const om_config_t *cfg);
/* o's strings point into cfg (valid while cfg is). 0, or -1 with err. */
int om_ws_options_from_config(const om_config_t *cfg, om_ws_server_opts_t *o, char *err,
                              size_t errlen);

#endif

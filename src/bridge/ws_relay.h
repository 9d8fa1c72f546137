/* ws_relay.h — a relay's WebSocket server, wired to the relay (the program's glue for
 * WebSocketPort, doc/bridge.md): links go to the relay's link manager, their bytes count in its
 * bandwidth, its descriptor is served over the port's HTTP side, its WebSocket bridge line is
 * logged and written to DataDirectory/bridge-line, and the browser client's settings
 * (WebSocketPath + "/onionmesh.json": that line and the directory authorities to pin) are served
 * beside the page of WebSocketWebRoot. */
#ifndef OM_BRIDGE_WS_RELAY_H
#define OM_BRIDGE_WS_RELAY_H

#include <stdbool.h>
#include <stddef.h>

#include "bridge/ws_transport.h"
#include "core/config.h"
#include "or/relay.h"

struct event_base;

/* Starts the server for rel with the authorities the relay uses (for onionmesh.json). NULL with
 * err when a port cannot be bound. */
om_ws_server_t *om_ws_relay_start(struct event_base *base, const om_ws_server_opts_t *o,
                                  om_relay_t *rel, const om_dir_authority_t *auths, size_t n_auths,
                                  bool testing, char *err, size_t errlen);
/* Unhooks it from rel and frees it (before the relay is freed). */
void om_ws_relay_stop(om_ws_server_t *ws, om_relay_t *rel);
/* The JSON of onionmesh.json (malloc'd): {"bridgeLine": line, "authorities": [{"nickname",
 * "v3ident" (40 hex)}, ...] of the v3 authorities (bridge authorities left out),
 * "testingNetwork": TestingTorNetwork (a client then allows relays of one /16 in a path, as
 * tor's EnforceDistinctSubnets does on test networks)}. */
char *om_ws_relay_client_json(const char *line, const om_dir_authority_t *auths, size_t n_auths,
                              bool testing);

#endif

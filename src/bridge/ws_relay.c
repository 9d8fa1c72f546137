/* ws_relay.c — a relay's WebSocket server wired to the relay (ws_relay.h). */
#include "bridge/ws_relay.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/log.h"
#include "or/bridge_line.h"

static void ws_bytes(void *arg, uint64_t *read, uint64_t *written)
{
    om_ws_server_bytes(arg, read, written);
}

static void ws_descriptor(void *arg, const char *desc)
{
    om_ws_server_set_descriptor(arg, desc);
}

char *om_ws_relay_client_json(const char *line, const om_dir_authority_t *auths, size_t n_auths,
                              bool testing)
{
    cJSON *o = cJSON_CreateObject(), *a = cJSON_CreateArray();
    if (!o || !a || !cJSON_AddStringToObject(o, "bridgeLine", line ? line : "")) {
        cJSON_Delete(o);
        cJSON_Delete(a);
        return NULL;
    }
    cJSON_AddItemToObject(o, "authorities", a);
    for (size_t i = 0; i < n_auths; i++) {
        if (auths[i].is_bridge || !auths[i].has_v3ident) continue;
        char hex[41];
        for (int k = 0; k < 20; k++)
            snprintf(hex + 2 * k, 3, "%02X", auths[i].v3ident[k]);
        cJSON *e = cJSON_CreateObject();
        if (!e) break;
        cJSON_AddStringToObject(e, "nickname", auths[i].nickname);
        cJSON_AddStringToObject(e, "v3ident", hex);
        cJSON_AddItemToArray(a, e);
    }
    cJSON_AddBoolToObject(o, "testingNetwork", testing);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

om_ws_server_t *om_ws_relay_start(struct event_base *base, const om_ws_server_opts_t *o,
                                  om_relay_t *rel, const om_dir_authority_t *auths, size_t n_auths,
                                  bool testing, char *err, size_t errlen)
{
    om_ws_server_t *ws = om_ws_server_new(base, om_relay_links(rel), o, err, errlen);
    if (!ws) return NULL;
    om_relay_set_extra_bytes(rel, ws_bytes, ws);
    om_relay_set_descriptor_cb(rel, ws_descriptor, ws);
    for (size_t i = 0; i < o->n_ports; i++)
        om_notice("Accepting Tor links over WebSockets on %s://%s%s%s:%u%s",
                  o->tls_cert ? "wss" : "ws", strchr(o->ports[i].addr, ':') ? "[" : "",
                  o->ports[i].addr[0] ? o->ports[i].addr : "0.0.0.0",
                  strchr(o->ports[i].addr, ':') ? "]" : "", om_ws_server_port(ws, i),
                  o->path ? o->path : "/");
    /* the line a client's Bridge websocket ... needs (doc/bridge.md) */
    om_relay_bridge_facts_t f;
    om_relay_bridge_facts(rel, &f);
    const char *a =
        o->ports[0].addr[0] && strcmp(o->ports[0].addr, "0.0.0.0") && strcmp(o->ports[0].addr, "::")
            ? o->ports[0].addr
            : f.address;
    bool v6 = strchr(a, ':') != NULL;
    char url[400], line[768];
    snprintf(url, sizeof url, "%s://%s%s%s:%u%s", o->tls_cert ? "wss" : "ws", v6 ? "[" : "", a,
             v6 ? "]" : "", om_ws_server_port(ws, 0), o->path ? o->path : "/");
    om_bridge_line_publish_ws(f.data_dir, f.address, om_ws_server_port(ws, 0), f.rsa_fp, url,
                              f.ntor_pub, f.bridge_relay);
    if (om_bridge_line_format_ws(f.address, om_ws_server_port(ws, 0), f.rsa_fp, url, f.ntor_pub,
                                 line, sizeof line) == 0) {
        char *json = om_ws_relay_client_json(line, auths, n_auths, testing);
        om_ws_server_set_client_json(ws, json);
        free(json);
    }
    return ws;
}

void om_ws_relay_stop(om_ws_server_t *ws, om_relay_t *rel)
{
    if (ws && rel) {
        om_relay_set_extra_bytes(rel, NULL, NULL);
        om_relay_set_descriptor_cb(rel, NULL, NULL);
    }
    om_ws_server_free(ws);
}

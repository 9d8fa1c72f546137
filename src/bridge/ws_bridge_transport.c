/* ws_bridge_transport.c — the "websocket" transport of Bridge lines (op/bridge_conf.h):
 *   Bridge websocket ADDR:PORT FINGERPRINT url=ws[s]://HOST[:PORT]/PATH ntor-onion-key=BASE64
 * Links to such a bridge are WebSocket links to the line's url= (ws_client.c), whatever ADDR:PORT
 * says (tor's pluggable-transport lines carry an address the same way). The transport is not
 * "confidential" (doc/bridge.md: a wss:// certificate is not checked, so an active attacker can
 * sit in the middle and read a CREATE_FAST), so every circuit through it starts with ntor: the
 * key comes from ntor-onion-key= when the line gives one, else (or when that key no longer
 * works) from the descriptor the bridge serves over plain HTTP on the same port
 * (om_ws_descriptor_fetch), whose signature the OP checks against the pinned identity. */
#include "bridge/ws_transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op/bridge_conf.h"

typedef struct {
    om_transport_factory_t f; /* first: the factory pointer is the struct's */
    char url[OM_BRIDGE_VALUE_MAX + 1];
} ws_line_factory_t;

static om_transport_t *line_connect(void *arg, struct event_base *base, const char *host,
                                    uint16_t port)
{
    (void)host;
    (void)port;
    return om_ws_connect(base, ((ws_line_factory_t *)arg)->url);
}

static const om_transport_factory_t *line_factory_new(const om_bridge_conf_t *b, char *err,
                                                      size_t errlen)
{
    const char *url = om_bridge_conf_arg(b, "url");
    if (!url) {
        snprintf(err, errlen, "a websocket bridge needs url=ws://HOST:PORT/PATH (or wss://)");
        return NULL;
    }
    bool tls;
    char host[256], path[256];
    uint16_t port;
    if (om_ws_url_parse(url, &tls, host, sizeof host, &port, path, sizeof path) < 0) {
        snprintf(err, errlen, "url=%s is not a ws:// or wss:// URL", url);
        return NULL;
    }
    ws_line_factory_t *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(f->url, sizeof f->url, "%s", url);
    f->f.name = "websocket";
    f->f.connect = line_connect;
    f->f.arg = f;
    return &f->f;
}

static void *line_descriptor_fetch(
    const om_transport_factory_t *f, struct event_base *base, size_t max,
    void (*done)(void *arg, int status, const char *body, size_t len, const char *err), void *arg)
{
    return om_ws_descriptor_fetch(base, ((const ws_line_factory_t *)f)->url, max, done, arg);
}

static void line_factory_free(const om_transport_factory_t *f)
{
    free((void *)f);
}

const om_bridge_transport_t om_ws_bridge_transport = {.name = "websocket",
                                                      .factory_new = line_factory_new,
                                                      .factory_free = line_factory_free,
                                                      .confidential = false,
                                                      .descriptor_fetch = line_descriptor_fetch,
                                                      .descriptor_cancel = om_ws_descriptor_cancel};

/* ws_transport.h — Tor links over WebSockets (doc/bridge.md): the server a relay runs on its
 * WebSocketPort lines, whose accepted links go to the link manager as ordinary channels
 * (om_linkmgr_accept), and the client transport factory an onion proxy uses for a bridge given
 * by URL (om_linkmgr_get_via). Both use the subprotocol OM_WS_SUBPROTOCOL of ws_msg.h. One
 * libwebsockets service thread per server; client links use a server's service when there is
 * one (for wss://: one with a certificate), else a process-wide client service. */
#ifndef OM_BRIDGE_WS_TRANSPORT_H
#define OM_BRIDGE_WS_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/linkmgr.h"
#include "core/transport.h"
#include "op/bridge_conf.h"

struct event_base;

#define OM_WS_MAX_PORTS 8

typedef struct {
    char addr[64]; /* numeric IPv4 or IPv6; "" = 0.0.0.0 */
    uint16_t port; /* 0: any free port */
} om_ws_listen_t;

typedef struct {
    om_ws_listen_t ports[OM_WS_MAX_PORTS];
    size_t n_ports;
    const char *path;     /* NULL or "": any path; else only this one (others: refused) */
    const char *tls_cert; /* PEM files: wss:// (both or neither) */
    const char *tls_key;
    bool trust_xff;       /* the client address is X-Forwarded-For's last element */
    const char *origins;  /* comma list; NULL or "": no Origin check */
    unsigned ping_s;      /* PING after this many idle seconds (0: 60) */
    unsigned idle_s;      /* close a link silent this long, PONGs included (0: 120) */
    const char *web_root; /* files served over plain HTTP (ws_static.h); NULL: none */
} om_ws_server_opts_t;

typedef struct om_ws_server om_ws_server_t;

/* Listen on every port of o; links go to links (which must outlive the server: free the server
 * first). NULL with err. */
om_ws_server_t *om_ws_server_new(struct event_base *base, om_linkmgr_t *links,
                                 const om_ws_server_opts_t *o, char *err, size_t errlen);
void om_ws_server_free(om_ws_server_t *s);
/* The port listener i bound (0 if none). */
uint16_t om_ws_server_port(const om_ws_server_t *s, size_t i);
/* Upgrades refused so far (path, Origin, subprotocol); for tests and the heartbeat. */
unsigned long om_ws_server_refused(const om_ws_server_t *s);
/* The relay's current server descriptor (loop thread; copied), served over plain HTTP at
 * WebSocketPath + "/tor/server/authority"; NULL: 404. */
void om_ws_server_set_descriptor(om_ws_server_t *s, const char *desc);
/* Cell bytes received and sent over the server's WebSocket links so far (loop thread): the
 * relay adds them to its bandwidth totals, as libevent counts TLS links' bytes in the group. */
void om_ws_server_bytes(const om_ws_server_t *s, uint64_t *in, uint64_t *out);

/* GET url's path + "/tor/server/authority" (the descriptor a WebSocketPort serves) over plain
 * HTTP or HTTPS (any certificate: the caller checks the descriptor's signature); done gets
 * the status (0: no answer, err says why) and the body (at most max bytes) exactly once,
 * unless om_ws_descriptor_cancel(handle) comes first. NULL: could not start (done not
 * called). */
typedef void (*om_ws_descriptor_cb)(void *arg, int status, const char *body, size_t len,
                                    const char *err);
void *om_ws_descriptor_fetch(struct event_base *base, const char *url, size_t max,
                             om_ws_descriptor_cb done, void *arg);
void om_ws_descriptor_cancel(void *handle);

/* "ws://HOST[:PORT][/PATH]" or "wss://..." (HOST may be "[v6]"). 0 or -1. */
int om_ws_url_parse(const char *url, bool *tls, char *host, size_t hostsz, uint16_t *port,
                    char *path, size_t pathsz);

/* A client link to url; the transport reports OM_TRANSPORT_CONNECTED once the WebSocket is
 * up. wss:// accepts any certificate: the relay is authenticated by its CERTS cell and ntor. */
om_transport_t *om_ws_connect(struct event_base *base, const char *url);

/* The transport factory for om_linkmgr_get_via: `host` is the bridge's URL ("ws://..." or
 * "wss://..."; port is then ignored), or a numeric address with port for ws://HOST:PORT/. */
const om_transport_factory_t *om_ws_client_factory(void);

/* The "websocket" transport of Bridge lines (ws_bridge_transport.c; op/bridge_conf.h):
 * links to the line's url=, and ntor-onion-key= is required. */
extern const om_bridge_transport_t om_ws_bridge_transport;

/* At exit: stop the process-wide client service threads and free their lws contexts (links
 * still open on them end with EOF when their loop runs; a server's service ends with the
 * server). New client links can only use a server's service from now on. */
void om_ws_client_shutdown(void);

#endif

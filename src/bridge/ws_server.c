/* ws_server.c — the relay's WebSocketPort (doc/bridge.md): the upgrade policy (path, Origin
 * allow-list, subprotocol, the client address from the socket or a trusted X-Forwarded-For),
 * run on the lws thread, and the hand-over of each established link to the link manager on the
 * loop, where it becomes a responder channel like an ORPort link (same accept filter: the DoS
 * limits see the client address as the transport's peer). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "bridge/ws_http.h"
#include "bridge/ws_int.h"
#include "bridge/ws_static.h"
#include "core/listener_tls.h"
#include "core/log.h"

struct om_ws_server {
    struct event_base *base;
    om_linkmgr_t *links;
    ws_svc_t *svc;
    ws_notifier_t nf;
    bool stopping;
    char *path, *origins, *web_root;
    bool trust_xff;
    atomic_ulong refused;
    pthread_mutex_t desc_mu; /* the relay's descriptor: set on the loop, read on the lws thread */
    char *desc;
};

/* A refused upgrade gets an HTTP status (RFC 6455 4.2.2: any status but 101 refuses it), then
 * lws closes the connection: 404 for another path, 403 for an Origin not on the list, 431 for a
 * header we won't read, 503 when out of memory. */
static ws_conn_t *refuse(om_ws_server_t *sv, struct lws *wsi, const char *peer, unsigned status,
                         const char *why)
{
    atomic_fetch_add(&sv->refused, 1);
    om_info("WebSocket upgrade from %s refused (HTTP %u): %s", om_safe_str(peer), status, why);
    lws_return_http_status(wsi, status, NULL);
    return NULL;
}

/* The socket's peer ("1.2.3.4:5678"), or X-Forwarded-For's when trusted. */
static void client_addr(om_ws_server_t *sv, struct lws *wsi, char *peer, size_t peersz)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    snprintf(peer, peersz, "?");
    int fd = lws_get_socket_fd(wsi);
    if (fd >= 0 && getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
        om_sockaddr_format((struct sockaddr *)&ss, peer, peersz);
    if (!sv->trust_xff) return;
    char xff[512], addr[64];
    int n = lws_hdr_total_length(wsi, WSI_TOKEN_X_FORWARDED_FOR);
    if (n <= 0 || n >= (int)sizeof xff ||
        lws_hdr_copy(wsi, xff, sizeof xff, WSI_TOKEN_X_FORWARDED_FOR) < 0)
        return;
    if (om_ws_xff_client(xff, strlen(xff), addr, sizeof addr) == 0)
        snprintf(peer, peersz, "%s", addr);
}

/* lws thread, at the upgrade (LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION of our subprotocol). */
static ws_conn_t *server_accept(void *arg, ws_svc_t *svc, struct lws *wsi)
{
    om_ws_server_t *sv = arg;
    char peer[64], uri[512], origin[512];
    client_addr(sv, wsi, peer, sizeof peer);
    if (sv->path) {
        int n = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI);
        if (n <= 0 || n >= (int)sizeof uri ||
            lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) < 0)
            return refuse(sv, wsi, peer, 431, "no usable path");
        if (strcmp(uri, sv->path) != 0)
            return refuse(sv, wsi, peer, HTTP_STATUS_NOT_FOUND, "wrong path");
    }
    int olen = lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN);
    if (olen > 0 && sv->origins) {
        if (olen >= (int)sizeof origin ||
            lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) < 0)
            return refuse(sv, wsi, peer, 431, "Origin too long");
        if (!om_ws_origin_allowed(sv->origins, origin, strlen(origin)))
            return refuse(sv, wsi, peer, HTTP_STATUS_FORBIDDEN, "Origin not allowed");
    }
    ws_conn_t *c = ws_conn_new(svc, sv->base, &sv->nf, peer);
    if (!c) return refuse(sv, wsi, peer, HTTP_STATUS_SERVICE_UNAVAILABLE, "out of memory");
    return c;
}

/* lws thread: plain HTTP. The relay's signed server descriptor at
 * WebSocketPath + "/tor/server/authority" (tor's path for a bridge's own descriptor), so a
 * client that knows only the bridge's identity learns its ntor key over the same port and checks
 * the signature itself (om_router_desc_verify: the channel is not authenticated). */
static unsigned server_http(void *arg, const char *uri, char **body, size_t *len,
                            const char **ctype, const char **csp)
{
    om_ws_server_t *sv = arg;
    const char *tail = "/tor/server/authority";
    size_t pl = sv->path && strcmp(sv->path, "/") ? strlen(sv->path) : 0;
    if ((pl && strncmp(uri, sv->path, pl) != 0) || strcmp(uri + pl, tail) != 0) {
        int html = 0; /* the browser client's files (WebSocketWebRoot), if any */
        unsigned st = om_ws_static_get(sv->web_root, uri, body, len, ctype, &html);
        if (html) *csp = OM_WS_STATIC_CSP;
        return st;
    }
    pthread_mutex_lock(&sv->desc_mu);
    *body = sv->desc ? strdup(sv->desc) : NULL;
    pthread_mutex_unlock(&sv->desc_mu);
    if (!*body) return 404;
    *len = strlen(*body);
    *ctype = "text/plain";
    return 200;
}

void om_ws_server_set_descriptor(om_ws_server_t *sv, const char *desc)
{
    char *c = desc ? strdup(desc) : NULL;
    pthread_mutex_lock(&sv->desc_mu);
    free(sv->desc);
    sv->desc = c;
    pthread_mutex_unlock(&sv->desc_mu);
}

/* Drop a link the loop never took (closed before the upgrade finished, or shutting down). */
static void drop(ws_conn_t *c)
{
    c->accepted = true;
    pthread_mutex_lock(&c->mu);
    c->loop_gone = true;
    c->close_req = true;
    pthread_mutex_unlock(&c->mu);
    ws_svc_kick(c);
    ws_conn_unref(c);
}

/* Loop: a new link goes to the link manager (responder handshake); then as any link. */
static void server_handle(ws_conn_t *c, void *arg)
{
    om_ws_server_t *sv = arg;
    if (c->accepted) {
        if (!sv->stopping) ws_conn_loop_handle(c);
        return;
    }
    pthread_mutex_lock(&c->mu);
    bool gone = c->lws_gone;
    pthread_mutex_unlock(&c->mu);
    if (gone || sv->stopping || ws_conn_loop_init(c) < 0) {
        drop(c);
        return;
    }
    c->accepted = true;
    ws_conn_ref(c);
    om_info("WebSocket link from %s", om_safe_str(c->base.peer));
    om_linkmgr_accept(sv->links, &c->base); /* frees the transport if refused */
    if (!c->loop_gone) ws_conn_loop_handle(c);
    ws_conn_unref(c);
}

om_ws_server_t *om_ws_server_new(struct event_base *base, om_linkmgr_t *links,
                                 const om_ws_server_opts_t *o, char *err, size_t errlen)
{
    if (!o->tls_cert != !o->tls_key) {
        snprintf(err, errlen, "WebSocketTLSCert and WebSocketTLSKey go together");
        return NULL;
    }
    om_ws_server_t *sv = calloc(1, sizeof *sv);
    if (!sv) return NULL;
    sv->base = base;
    sv->links = links;
    pthread_mutex_init(&sv->desc_mu, NULL);
    sv->trust_xff = o->trust_xff;
    if (o->path && *o->path) sv->path = strdup(o->path);
    if (o->origins && *o->origins) sv->origins = strdup(o->origins);
    if (o->web_root && *o->web_root) sv->web_root = strdup(o->web_root);
    if (ws_notifier_init(&sv->nf, base, server_handle, sv) < 0) {
        snprintf(err, errlen, "could not set up the WebSocket notifier");
        om_ws_server_free(sv);
        return NULL;
    }
    ws_svc_opts_t so = {.listen = o->ports,
                        .n_listen = o->n_ports,
                        .tls_cert = o->tls_cert,
                        .tls_key = o->tls_key,
                        .accept = server_accept,
                        .accept_arg = sv,
                        .http = server_http,
                        .ping_s = o->ping_s,
                        .idle_s = o->idle_s};
    if (!(sv->svc = ws_svc_new(&so, err, errlen))) {
        om_ws_server_free(sv);
        return NULL;
    }
    ws_client_register(sv->svc);
    return sv;
}

uint16_t om_ws_server_port(const om_ws_server_t *s, size_t i)
{
    return s && s->svc ? ws_svc_port(s->svc, i) : 0;
}

unsigned long om_ws_server_refused(const om_ws_server_t *s)
{
    return atomic_load(&((om_ws_server_t *)s)->refused);
}

void om_ws_server_bytes(const om_ws_server_t *s, uint64_t *in, uint64_t *out)
{
    *in = s->nf.bytes_in;
    *out = s->nf.bytes_out;
}

void om_ws_server_free(om_ws_server_t *sv)
{
    if (!sv) return;
    sv->stopping = true;
    if (sv->svc) ws_client_unregister(sv->svc);
    ws_svc_free(sv->svc); /* every wsi closes: its link sees the end when the loop looks */
    ws_notifier_flush(&sv->nf);
    ws_notifier_clear(&sv->nf);
    if (sv->nf.efd >= 0) close(sv->nf.efd);
    pthread_mutex_destroy(&sv->nf.mu);
    free(sv->path);
    free(sv->origins);
    free(sv->web_root);
    free(sv->desc);
    pthread_mutex_destroy(&sv->desc_mu);
    free(sv);
}

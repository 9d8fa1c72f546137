/* ws_client.c — client WebSocket links (ws_transport.h): URL parsing, the process's client
 * service thread (made on first use, shared by every instance and event loop), and the
 * transport factory for om_linkmgr_get_via. Each client link has its own notifier on the loop
 * that opened it. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridge/ws_int.h"
#include "core/log.h"

static ws_svc_t *client_svc;
static pthread_once_t client_once = PTHREAD_ONCE_INIT;

static void client_init(void)
{
    char err[200];
    ws_svc_opts_t o = {0};
    client_svc = ws_svc_new(&o, err, sizeof err);
    if (!client_svc) om_warn("WebSocket client: %s", err);
}

int om_ws_url_parse(const char *url, bool *tls, char *host, size_t hostsz, uint16_t *port,
                    char *path, size_t pathsz)
{
    const char *p;
    if (!strncmp(url, "ws://", 5)) {
        *tls = false;
        p = url + 5;
    } else if (!strncmp(url, "wss://", 6)) {
        *tls = true;
        p = url + 6;
    } else {
        return -1;
    }
    const char *slash = strchr(p, '/');
    const char *hend = slash ? slash : p + strlen(p);
    const char *colon = NULL;
    const char *hb = p, *he;
    if (*p == '[') {
        const char *rb = memchr(p, ']', (size_t)(hend - p));
        if (!rb) return -1;
        hb = p + 1;
        he = rb;
        if (rb + 1 < hend) {
            if (rb[1] != ':') return -1;
            colon = rb + 1;
        }
    } else {
        colon = memchr(p, ':', (size_t)(hend - p));
        he = colon ? colon : hend;
    }
    size_t hl = (size_t)(he - hb);
    if (hl == 0 || hl >= hostsz) return -1;
    memcpy(host, hb, hl);
    host[hl] = 0;
    *port = *tls ? 443 : 80;
    if (colon) {
        char *e;
        unsigned long v = strtoul(colon + 1, &e, 10);
        if (e != hend || v == 0 || v > 65535 || colon + 1 == hend) return -1;
        *port = (uint16_t)v;
    }
    const char *ps = slash ? slash : "/";
    if (strlen(ps) >= pathsz) return -1;
    snprintf(path, pathsz, "%s", ps);
    return 0;
}

static void client_handle(ws_conn_t *c, void *arg)
{
    (void)arg;
    ws_conn_loop_handle(c);
}

om_transport_t *om_ws_connect(struct event_base *base, const char *url)
{
    bool tls;
    char host[256], path[512], peer[300];
    uint16_t port;
    if (om_ws_url_parse(url, &tls, host, sizeof host, &port, path, sizeof path) < 0) {
        om_warn("WebSocket connect: '%s' is not a ws:// or wss:// URL", om_safe_str(url));
        return NULL;
    }
    pthread_once(&client_once, client_init);
    if (!client_svc) return NULL;
    ws_notifier_t *nf = calloc(1, sizeof *nf);
    if (!nf) return NULL;
    if (ws_notifier_init(nf, base, client_handle, NULL) < 0) {
        ws_notifier_clear(nf);
        if (nf->efd >= 0) close(nf->efd);
        free(nf);
        return NULL;
    }
    snprintf(peer, sizeof peer, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
    ws_conn_t *c = ws_conn_new(client_svc, base, nf, peer);
    if (!c) {
        ws_notifier_clear(nf);
        close(nf->efd);
        free(nf);
        return NULL;
    }
    c->own_nf = true;
    c->accepted = true;
    c->c_host = strdup(host);
    c->c_path = strdup(path);
    c->c_port = port;
    c->c_tls = tls;
    if (!c->c_host || !c->c_path || ws_conn_loop_init(c) < 0) {
        c->c_started = true; /* never handed to lws */
        ws_conn_unref(c);    /* the lws side's */
        c->base.ops->free(&c->base);
        return NULL;
    }
    ws_svc_kick(c); /* the lws thread opens it */
    return &c->base;
}

static om_transport_t *factory_connect(void *arg, struct event_base *base, const char *host,
                                       uint16_t port)
{
    (void)arg;
    if (!strncmp(host, "ws://", 5) || !strncmp(host, "wss://", 6)) return om_ws_connect(base, host);
    char url[300];
    snprintf(url, sizeof url, strchr(host, ':') ? "ws://[%s]:%u/" : "ws://%s:%u/", host, port);
    return om_ws_connect(base, url);
}

static const om_transport_factory_t ws_factory = {.name = "websocket", .connect = factory_connect};

void om_ws_client_shutdown(void)
{
    pthread_once(&client_once, client_init); /* no later first use can start it again */
    ws_svc_t *s = client_svc;
    client_svc = NULL;
    ws_svc_free(s);
}

const om_transport_factory_t *om_ws_client_factory(void)
{
    return &ws_factory;
}

/* ws_client.c — client WebSocket links (ws_transport.h): URL parsing, the process's client
 * service a link uses (a server's when there is one, else one of ours made on first use; shared
 * by every instance and event loop), and the transport factory for om_linkmgr_get_via. Each
 * client link has its own notifier on the loop that opened it. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridge/ws_int.h"
#include "core/log.h"

#define MAX_SERVERS 16

/* The services client links may use (ws_int.h): servers' (registered), else our own, made on
 * first use, with OpenSSL only for wss://. Under reg_mu. */
static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static ws_svc_t *servers[MAX_SERVERS];
static size_t n_servers;
static ws_svc_t *own[2]; /* [0] plain, [1] with OpenSSL */
static bool shut_down;

void ws_client_register(ws_svc_t *s)
{
    pthread_mutex_lock(&reg_mu);
    if (n_servers < MAX_SERVERS) servers[n_servers++] = s;
    pthread_mutex_unlock(&reg_mu);
}

void ws_client_unregister(ws_svc_t *s)
{
    pthread_mutex_lock(&reg_mu);
    for (size_t i = 0; i < n_servers; i++)
        if (servers[i] == s) servers[i] = servers[--n_servers];
    pthread_mutex_unlock(&reg_mu);
}

/* Under reg_mu. */
static ws_svc_t *pick(bool tls)
{
    for (size_t i = 0; i < n_servers; i++)
        if (!tls || ws_svc_tls(servers[i])) return servers[i];
    if (own[1]) return own[1];
    if (!tls && own[0]) return own[0];
    if (shut_down) return NULL;
    char err[200];
    ws_svc_opts_t o = {.tls = tls};
    ws_svc_t *s = ws_svc_new(&o, err, sizeof err);
    if (!s) om_warn("WebSocket client: %s", err);
    own[tls] = s;
    return s;
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
    ws_notifier_t *nf = calloc(1, sizeof *nf);
    if (!nf) return NULL;
    if (ws_notifier_init(nf, base, client_handle, NULL) < 0) {
        ws_notifier_clear(nf);
        if (nf->efd >= 0) close(nf->efd);
        free(nf);
        return NULL;
    }
    snprintf(peer, sizeof peer, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
    pthread_mutex_lock(&reg_mu);
    ws_svc_t *svc = pick(tls);
    ws_conn_t *c = svc ? ws_conn_new(svc, base, nf, peer) : NULL;
    if (!c) {
        pthread_mutex_unlock(&reg_mu);
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
        pthread_mutex_unlock(&reg_mu);
        c->c_started = true; /* never handed to lws */
        ws_conn_unref(c);    /* the lws side's */
        c->base.ops->free(&c->base);
        return NULL;
    }
    ws_svc_kick(c); /* the lws thread opens it (listed before its service can go away) */
    pthread_mutex_unlock(&reg_mu);
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
    pthread_mutex_lock(&reg_mu);
    shut_down = true;
    ws_svc_t *s[2] = {own[0], own[1]};
    own[0] = own[1] = NULL;
    pthread_mutex_unlock(&reg_mu);
    ws_svc_free(s[0]);
    ws_svc_free(s[1]);
}

const om_transport_factory_t *om_ws_client_factory(void)
{
    return &ws_factory;
}

/* ws_conn.c — a WebSocket link's shared half (ws_int.h): creation, references, and the notifier
 * through which the lws service thread wakes the libevent loop (an eventfd per notifier). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "bridge/ws_int.h"

ws_conn_t *ws_conn_new(ws_svc_t *svc, struct event_base *base, ws_notifier_t *nf, const char *peer)
{
    ws_conn_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    atomic_init(&c->refs, 2); /* the loop's side and the lws side */
    c->svc = svc;
    c->nf = nf;
    c->base.ops = &om_ws_transport_ops;
    snprintf(c->base.peer, sizeof c->base.peer, "%s", peer);
    c->base_loop = base;
    c->loop_reading = true;
    pthread_mutex_init(&c->mu, NULL);
    c->rxq = evbuffer_new();
    c->txq = evbuffer_new();
    c->in = evbuffer_new();
    c->out = evbuffer_new();
    if (!c->rxq || !c->txq || !c->in || !c->out) {
        atomic_store(&c->refs, 1);
        ws_conn_unref(c);
        return NULL;
    }
    return c;
}

void ws_conn_ref(ws_conn_t *c)
{
    atomic_fetch_add(&c->refs, 1);
}

void ws_conn_unref(ws_conn_t *c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1) return;
    if (c->own_nf && c->nf) {
        if (c->nf->efd >= 0) close(c->nf->efd);
        pthread_mutex_destroy(&c->nf->mu);
        free(c->nf);
    }
    if (c->rxq) evbuffer_free(c->rxq);
    if (c->txq) evbuffer_free(c->txq);
    if (c->in) evbuffer_free(c->in);
    if (c->out) evbuffer_free(c->out);
    free(c->rxmsg);
    free(c->c_host);
    free(c->c_path);
    free(c->c_origin);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

void ws_conn_notify(ws_conn_t *c)
{
    ws_notifier_t *nf = c->nf;
    bool wake = false;
    pthread_mutex_lock(&nf->mu);
    if (!c->nf_queued && !nf->closed) {
        c->nf_queued = true;
        ws_conn_ref(c);
        c->nf_next = nf->head;
        nf->head = c;
        wake = true;
    }
    pthread_mutex_unlock(&nf->mu);
    if (wake && nf->efd >= 0) {
        uint64_t one = 1;
        ssize_t w = write(nf->efd, &one, sizeof one);
        (void)w; /* EAGAIN: the counter is already non-zero, the loop wakes anyway */
    }
}

void ws_notifier_flush(ws_notifier_t *nf)
{
    for (;;) {
        /* One at a time: the lws thread may list a link again as soon as it is off the list. */
        pthread_mutex_lock(&nf->mu);
        ws_conn_t *c = nf->head;
        if (c) {
            nf->head = c->nf_next;
            c->nf_queued = false;
        }
        pthread_mutex_unlock(&nf->mu);
        if (!c) break;
        nf->handle(c, nf->arg);
        ws_conn_unref(c);
    }
}

/* The loop's side of the eventfd: take the list, look at each link. */
static void notifier_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    uint64_t n;
    ssize_t r = read(fd, &n, sizeof n);
    (void)r;
    ws_notifier_flush(arg);
}

int ws_notifier_init(ws_notifier_t *nf, struct event_base *base,
                     void (*handle)(ws_conn_t *c, void *arg), void *arg)
{
    memset(nf, 0, sizeof *nf);
    pthread_mutex_init(&nf->mu, NULL);
    nf->handle = handle;
    nf->arg = arg;
    nf->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (nf->efd < 0) return -1;
    nf->ev = event_new(base, nf->efd, EV_READ | EV_PERSIST, notifier_cb, nf);
    if (!nf->ev || event_add(nf->ev, NULL) < 0) return -1;
    return 0;
}

void ws_notifier_clear(ws_notifier_t *nf)
{
    if (nf->ev) event_free(nf->ev);
    nf->ev = NULL;
    pthread_mutex_lock(&nf->mu);
    nf->closed = true;
    ws_conn_t *list = nf->head;
    nf->head = NULL;
    for (ws_conn_t *c = list; c; c = c->nf_next)
        c->nf_queued = false;
    pthread_mutex_unlock(&nf->mu);
    while (list) {
        ws_conn_t *c = list;
        list = c->nf_next;
        ws_conn_unref(c);
    }
}

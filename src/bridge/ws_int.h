/* ws_int.h — private to src/bridge: one WebSocket link shared by two threads (doc/bridge.md,
 * "Threads"). The lws service thread owns every lws object (wsi, vhosts, the context); the
 * libevent loop owns the om_transport_t side. Between them, per link, two byte queues and a few
 * flags under the link's mutex:
 *   rxq  lws -> loop: whole cells from validated messages (lws stops reading the socket,
 *        lws_rx_flow_control, while rxq holds WS_RX_HIGH bytes or the channel is not reading);
 *   txq  loop -> lws: cells the channel wrote, moved from the transport's output only while
 *        txq holds less than WS_TX_HIGH bytes (the rest waits in the output evbuffer, where the
 *        relay's scheduler sees it).
 * The loop wakes the lws thread with lws_cancel_service (its pending list is drained in
 * LWS_CALLBACK_EVENT_WAIT_CANCELLED); the lws thread wakes the loop through a notifier: an
 * eventfd watched by a libevent event, with a list of links to look at. A link is freed when
 * both sides and every queue entry have let go of it (refs). */
#ifndef OM_BRIDGE_WS_INT_H
#define OM_BRIDGE_WS_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bridge/ws_msg.h"
#include "bridge/ws_transport.h"
#include "core/transport.h"

struct event;
struct event_base;
struct evbuffer;
struct lws;
struct lws_context;
struct bufferevent_rate_limit_group;

#define WS_RX_HIGH (256 * 1024)
#define WS_TX_HIGH (256 * 1024)
#define WS_TX_LOW  (64 * 1024)
/* Output at or below this calls the channel's drain callback (as TLS_OUT_LOW_WATER). */
#define WS_OUT_LOW (32 * 1024)

typedef struct ws_conn ws_conn_t;
typedef struct ws_svc ws_svc_t;

/* lws thread -> loop. */
typedef struct {
    int efd;
    struct event *ev;
    pthread_mutex_t mu;
    ws_conn_t *head;                         /* links to look at; each entry holds a ref */
    bool closed;                             /* cleared: nothing is listed any more */
    void (*handle)(ws_conn_t *c, void *arg); /* on the loop, for each link taken from the list */
    void *arg;
    uint64_t bytes_in, bytes_out; /* loop only: cell bytes its links moved (bandwidth totals) */
} ws_notifier_t;

struct ws_conn {
    om_transport_t base; /* first: the loop's view */
    atomic_int refs;
    ws_svc_t *svc;
    ws_notifier_t *nf;
    bool own_nf; /* nf is this link's own (a client link) */

    /* ---- shared, under mu */
    pthread_mutex_t mu;
    struct evbuffer *rxq, *txq;
    bool lws_up;       /* the WebSocket is established */
    bool lws_gone;     /* the wsi is closed */
    bool loop_gone;    /* the transport was freed */
    bool loop_reading; /* the channel reads */
    bool close_req;    /* the loop asks to close (after sending txq unless discard) */
    bool rx_paused;    /* lws_rx_flow_control(wsi, 0) is in force */
    bool tx_low;       /* lws took txq below WS_TX_LOW: the loop may move more */
    bool out_waiting;  /* the loop holds output it could not move into txq */
    char why[160];     /* why the wsi closed */

    /* ---- under nf->mu / svc->mu: queue links */
    ws_conn_t *nf_next;
    bool nf_queued;
    ws_conn_t *svc_next;
    bool svc_queued;

    /* ---- lws thread only */
    struct lws *wsi;
    uint8_t *rxmsg; /* a message arriving in several pieces */
    size_t rxmsg_len;
    om_ws_scan_t rx_scan, tx_scan;
    bool closing; /* close once txq is sent */
    /* a client link to open: */
    char *c_host, *c_path, *c_origin;
    uint16_t c_port;
    bool c_tls, c_started;

    /* ---- loop only */
    struct event_base *base_loop;
    struct evbuffer *in, *out;
    struct event *kick;
    /* The relay's bandwidth buckets (BandwidthRate): cells move between the queues and the
     * channel only while they have tokens; rl_wait retries after a refill. */
    struct bufferevent_rate_limit_group *rl;
    struct event *rl_wait;
    bool kicked, connected, reported, out_drained, accepted;
    int busy;
};

/* ---- ws_conn.c (the link's life, queues, notifier) */
ws_conn_t *ws_conn_new(ws_svc_t *svc, struct event_base *base, ws_notifier_t *nf, const char *peer);
void ws_conn_ref(ws_conn_t *c);
void ws_conn_unref(ws_conn_t *c);
/* Ask the loop to look at c (any thread but the loop's own, which may call it too). */
void ws_conn_notify(ws_conn_t *c);
int ws_notifier_init(ws_notifier_t *nf, struct event_base *base,
                     void (*handle)(ws_conn_t *c, void *arg), void *arg);
/* Run the handler for every link listed now (loop thread). */
void ws_notifier_flush(ws_notifier_t *nf);
/* Stop watching (loop thread); entries still listed are dropped. */
void ws_notifier_clear(ws_notifier_t *nf);

/* ---- ws_svc.c (the lws service thread) */
typedef struct {
    const om_ws_listen_t *listen;
    size_t n_listen;
    const char *tls_cert, *tls_key; /* wss:// on every listener (both or neither) */
    bool tls;                       /* OpenSSL for client links (wss://), or with tls_cert */
    /* The server's policy, asked on the lws thread at the upgrade: 0 and a new link, or -1. */
    ws_conn_t *(*accept)(void *arg, ws_svc_t *svc, struct lws *wsi);
    void *accept_arg;
    /* Plain HTTP requests (lws thread): the status and, for 200, a malloc'd body, its type and
     * a Content-Security-Policy to send with it (or NULL); NULL: everything is 404. */
    unsigned (*http)(void *arg, const char *uri, char **body, size_t *len, const char **ctype,
                     const char **csp);
    unsigned ping_s, idle_s; /* keep-alive PING after ping_s idle, hang up after idle_s */
} ws_svc_opts_t;
ws_svc_t *ws_svc_new(const ws_svc_opts_t *o, char *err, size_t errlen);
/* Stops the thread, closes every wsi. Links still held by the loop see EOF. */
void ws_svc_free(ws_svc_t *s);
uint16_t ws_svc_port(const ws_svc_t *s, size_t i); /* the port listener i bound */
bool ws_svc_tls(const ws_svc_t *s);
/* Wake the lws thread about c (loop thread). */
void ws_svc_kick(ws_conn_t *c);

/* ---- ws_client.c: which service carries client links. lws 4.1.6 leaks a client SSL_CTX when
 * two contexts with OpenSSL are alive at once, so a server's service (and its context) also
 * carries the process's client links when it can; a client service is made only otherwise. */
void ws_client_register(ws_svc_t *s);
void ws_client_unregister(ws_svc_t *s);

/* ---- ws_transport.c (the loop side) */
extern const struct om_transport_ops om_ws_transport_ops;
/* The notifier's work for one link (loop thread). */
void ws_conn_loop_handle(ws_conn_t *c);
/* The loop's half of a new link (loop thread): its kick event and output callback. */
int ws_conn_loop_init(ws_conn_t *c);

#endif

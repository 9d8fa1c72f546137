/* edge.h — the OP's application edge: a SOCKS request becomes a stream on a circuit from the
 * pool (BEGIN, RESOLVE, RESOLVE_PTR), with retries on another circuit, backpressure both ways,
 * optimistic data and the SOCKS reply; installed as the SOCKS server's callbacks. */
#ifndef OM_OP_EDGE_H
#define OM_OP_EDGE_H

#include <stdbool.h>

#include "op/circpool.h"
#include "op/socks_server.h"

struct event_base;

typedef struct {
    struct event_base *base;
    om_circpool_t *pool;
    bool testing;            /* TestingTorNetwork: private destinations allowed */
    bool isolate_socks_auth; /* IsolateSOCKSAuth */
} om_edge_ctx_t;

/* Callbacks for om_socks_server_callbacks_t (arg: the om_edge_ctx_t, which must outlive the
 * server). */
void om_edge_on_request(om_socks_conn_t *conn, const om_socks_request_t *req, void *arg);
void om_edge_on_data(om_socks_conn_t *conn, struct evbuffer *in, void *arg);
void om_edge_on_close(om_socks_conn_t *conn, void *arg);
void om_edge_on_drain(om_socks_conn_t *conn, void *arg);

#endif

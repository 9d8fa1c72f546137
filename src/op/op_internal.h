/* op_internal.h — state shared by the OP's modules (op.c, circpool.c, edge.c);
 * not part of any public interface. */
#ifndef OM_OP_OP_INTERNAL_H
#define OM_OP_OP_INTERNAL_H

#include "dir/authcert.h"
#include "op/chanmgr.h"
#include "op/guards.h"
#include "op/nodelist.h"
#include "op/op.h"
#include "op/socks_server.h"

struct dirclient;
struct circpool;

struct om_op {
    struct event_base *base;
    om_op_options_t opt;
    om_chanmgr_t *chans;
    om_nodelist_t nodes;
    om_guards_t guards;
    om_socks_server_t *socks;
    int bootstrap_pct;
    bool have_enough_dir; /* consensus + enough microdescriptors to build circuits */
    struct dirclient *dir;
    struct circpool *pool;
};

/* Log "Bootstrapped N% (tag): summary" once per new percentage, like tor. */
void om_op_bootstrap(om_op_t *op, int pct, const char *tag, const char *summary);
/* Directory information changed (new consensus or microdescriptors). */
void om_op_dir_changed(om_op_t *op);
/* Path (DataDirectory/name) into buf. */
const char *om_op_path(const om_op_t *op, const char *name, char *buf, size_t len);

/* circpool.c: circuits */
struct circpool *om_circpool_new(om_op_t *op);
void om_circpool_free(struct circpool *p);
void om_circpool_dir_changed(struct circpool *p);
/* Get an open circuit whose exit allows port and whose isolation key matches (NULL key: no
 * isolation). cb runs once: circ, or NULL and a reason. Returns a handle for cancel. */
struct om_circuit;
typedef void (*om_circ_wait_cb)(struct om_circuit *circ, const char *err, void *arg);
void *om_circpool_get(struct circpool *p, uint16_t port, const char *isolation, om_circ_wait_cb cb,
                      void *arg);
void om_circpool_cancel(struct circpool *p, void *handle);
/* A stream on circ failed in a way that says the circuit is bad (timeouts): stop using it. */
void om_circpool_mark_unusable(struct circpool *p, struct om_circuit *circ);

/* edge.c: SOCKS requests to streams */
void om_edge_on_request(om_socks_conn_t *conn, const om_socks_request_t *req, void *arg);
void om_edge_on_data(om_socks_conn_t *conn, struct evbuffer *in, void *arg);
void om_edge_on_close(om_socks_conn_t *conn, void *arg);
void om_edge_on_drain(om_socks_conn_t *conn, void *arg);

#endif

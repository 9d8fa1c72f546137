/* op_internal.h — the OP's state and progress calls (op.c). Not a public interface; the directory
 * client, circuit pool and edge have narrow ones (dirclient.h, circpool.h, edge.h). */
#ifndef OM_OP_OP_INTERNAL_H
#define OM_OP_OP_INTERNAL_H

#include "dir/authcert.h"
#include "core/linkmgr.h"
#include "op/guards.h"
#include "op/nodelist.h"
#include "op/op.h"
#include "op/socks_server.h"

#include "op/circpool.h"
#include "op/edge.h"

struct dirclient;

struct om_op {
    struct event_base *base;
    om_op_options_t opt;
    om_linkmgr_t *chans;
    om_nodelist_t nodes;
    om_guards_t guards;
    om_socks_server_t *socks;
    int bootstrap_pct;
    bool have_enough_dir; /* consensus + enough microdescriptors to build circuits */
    struct dirclient *dir;
    om_circpool_t *pool;
    om_edge_ctx_t edge;
};

/* Log "Bootstrapped N% (tag): summary" once per new percentage, like tor. */
void om_op_bootstrap(om_op_t *op, int pct, const char *tag, const char *summary);
/* Directory information changed (new consensus or microdescriptors). */
void om_op_dir_changed(om_op_t *op);
/* Path (DataDirectory/name) into buf. */
const char *om_op_path(const om_op_t *op, const char *name, char *buf, size_t len);

#endif

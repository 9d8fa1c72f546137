/* op.h — the onion proxy (OP): options, lifecycle. An OP bootstraps from the directory
 * authorities, keeps circuits ready, and serves a SOCKS port whose streams leave through Tor
 * exits over 3-hop circuits. */
#ifndef OM_OP_OP_H
#define OM_OP_OP_H

#include <stdbool.h>

#include <stddef.h>
#include <stdint.h>

#include "op/bridge_conf.h"
#include "op/path.h"

struct event_base;

typedef struct {
    char nickname[20];
    char address[64]; /* IPv4 literal */
    uint16_t or_port, dir_port;
    uint8_t rsa_fp[20];
    uint8_t v3ident[20];
} om_op_dirauth_t;

#define OM_OP_MAX_AUTHS   16
#define OM_OP_MAX_BRIDGES 8
typedef struct {
    char data_dir[512];
    char socks_addr[64];     /* default 127.0.0.1 */
    bool socks_enabled;      /* open a SOCKS port (default: yes, 9050) */
    uint16_t socks_port;     /* 0 with socks_enabled: any free port ("auto") */
    bool isolate_socks_auth; /* IsolateSOCKSAuth (default on, as tor) */
    om_op_dirauth_t auths[OM_OP_MAX_AUTHS];
    size_t n_auths;
    bool testing;           /* TestingTorNetwork: relax /16 rule, short schedules */
    int congestion_control; /* CongestionControl: -1 auto (consensus cc_alg), 0 off, 1 on */
    int conflux;            /* ConfluxEnabled: -1 auto (consensus cfx_enabled), 0 off, 1 on */
    om_path_opts_t path;
    int num_entry_guards;        /* 0: from the consensus */
    int circuit_build_timeout_s; /* default 60 */
    int max_circuit_dirtiness_s; /* default 600 */
    int new_circuit_period_s;    /* NewCircuitPeriod (default 30): see circpool.c */
    int prebuilt_circuits;       /* circuits kept ready (default 2) */
    double paths_needed;         /* PathsNeededToBuildCircuits (default 0.6) */
    unsigned max_socks_conns;    /* default 1000 */
    bool use_bridges;            /* UseBridges: first hops and directory through bridges */
    om_bridge_conf_t bridges[OM_OP_MAX_BRIDGES]; /* Bridge lines */
    size_t n_bridges;
    /* Transports Bridge lines may name besides plain TLS (e.g. src/bridge's "websocket"): set
     * by the program (src/main.c); the array must outlive the OP. */
    const om_bridge_transport_t *transports;
    size_t n_transports;
} om_op_options_t;

void om_op_options_defaults(om_op_options_t *o);

typedef struct om_op om_op_t;

/* Create and start (bootstrap begins on the event loop). NULL with err on failure (e.g. the
 * SOCKS port cannot be bound, the data directory cannot be created). */
om_op_t *om_op_start(struct event_base *base, const om_op_options_t *opt, char *err, size_t errlen);
/* The same on a link manager the caller owns (the relay's, when both roles run in one process:
 * one link per peer, authenticated as the relay, as tor does); it must outlive the OP. */
struct om_linkmgr;
om_op_t *om_op_start_shared(struct event_base *base, const om_op_options_t *opt,
                            struct om_linkmgr *links, char *err, size_t errlen);
void om_op_free(om_op_t *op);
int om_op_bootstrap_percent(const om_op_t *op);
uint16_t om_op_socks_port(const om_op_t *op);
/* For modules built on the OP (the DHT client, dht.h): its circuit pool (NULL before the
 * directory is ready) and its verified consensus with microdescriptors (NULL until then). */
struct om_circpool;
struct om_circpool *om_op_circpool(om_op_t *op);
const om_consensus_t *om_op_consensus(const om_op_t *op);

#endif

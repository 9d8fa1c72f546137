/* minnet.h — a test fixture: a tiny onionmesh network inside the test process. N relays on one
 * libevent base, each listening on 127.0.0.1 at a free ORPort and wired from the engine's real
 * components as src/or/relay.c wires them (relay keys in a temporary DataDirectory, a TLS
 * responder, the link manager with the relay identity, the cell scheduler, the circuit layer
 * answering CREATE2 ntor / ntor-v3 and EXTEND2 to private addresses, congestion control granted
 * with tor's defaults, the stream layer with an exit on 127.0.0.1), plus a microdesc consensus
 * and microdescriptors generated for them (unsigned) and loaded into an om_nodelist_t, so an OP
 * (path selection, guards, circuit pool) can build real circuits through them.
 *
 * Relays can be killed (listener, links and circuits gone: to its peers it vanished) and revived
 * (same keys, same port); the consensus keeps listing them either way. Counters per relay sum
 * over all its lives. Use:
 *     minnet_t net;
 *     if (minnet_start(&net, base, 3) < 0) ... net.err ...
 *     ... build circuits with minnet_nodelist(&net) ...
 *     minnet_stop(&net);
 */
#ifndef OM_TEST_MINNET_H
#define OM_TEST_MINNET_H

#include <stdbool.h>
#include <stdint.h>

#include "op/nodelist.h"

struct event_base;

#define MINNET_MAX 8

typedef struct {
    int n; /* relays, 1..MINNET_MAX */
    /* Relay i's ExitPolicy ("reject *:25, accept *:*"); NULL: "accept *:*". Its port summary
     * is the microdescriptor's "p" line. */
    const char *exit_policy[MINNET_MAX];
    /* List Conflux=1 in every relay's protocols (the relays themselves ignore CONFLUX_LINK, as
     * relay.c does: no set ever links), for the client's conflux policy. */
    bool conflux_proto;
} minnet_opts_t;

typedef struct minnet_relay minnet_relay_t; /* minnet.c's */

typedef struct {
    struct event_base *base;
    int n;
    char dir[64]; /* temporary directory: DataDirectories, resolv.conf */
    minnet_relay_t *relays[MINNET_MAX];
    om_nodelist_t nodes;
    char *consensus_text; /* the generated documents, as a directory would serve them */
    char *microdescs_text;
    char err[256]; /* why minnet_start or minnet_revive_relay failed */
    bool conflux_proto;
} minnet_t;

/* What relay i did (all its lives) and is. */
typedef struct {
    bool alive;
    char nickname[20];
    uint8_t rsa_fp[20];
    uint16_t or_port;
    unsigned circuits;       /* open now */
    unsigned links;          /* open or opening now */
    uint64_t created;        /* CREATE2 / CREATE_FAST answered */
    uint64_t client_creates; /* CREATE2 / CREATE_FAST received from clients (first hops) */
    uint64_t extends;        /* EXTEND2 received */
    uint64_t streams;        /* streams opened for a stream service */
    uint64_t exit_begins;    /* BEGINs the exit handled ... */
    uint64_t exit_connected; /* ... connected ... */
    uint64_t exit_refused;   /* ... refused by its exit policy */
} minnet_relay_stats_t;

/* Start n relays (minnet_start_opts: with options). 0, or -1 with mn->err (everything started
 * is stopped again). */
int minnet_start(minnet_t *mn, struct event_base *base, int n);
int minnet_start_opts(minnet_t *mn, struct event_base *base, const minnet_opts_t *o);
/* Stop every relay, remove the temporary directory, free the nodelist. Runs the loop briefly
 * for deferred frees. */
void minnet_stop(minnet_t *mn);
/* The consensus and microdescriptors describing the relays (owned by mn). */
om_nodelist_t *minnet_nodelist(minnet_t *mn);
/* Relay i dies: its listener, links, circuits and streams are gone. */
void minnet_kill_relay(minnet_t *mn, int i);
/* Relay i starts again with the same keys on the same port. 0, or -1 with mn->err. */
int minnet_revive_relay(minnet_t *mn, int i);
void minnet_relay_stats(const minnet_t *mn, int i, minnet_relay_stats_t *out);
/* When (om_now_usec) the relays received a client's CREATE2 / CREATE_FAST (on a link whose
 * peer proved no relay identity), at or after since: all relays' last 256 merged, ascending, at
 * most max. Returns how many. */
int minnet_client_create_times(const minnet_t *mn, uint64_t since, uint64_t *out, int max);
/* Relay i's link manager (NULL while dead): another listener (a WebSocketPort) may feed it. */
struct om_linkmgr *minnet_relay_links(minnet_t *mn, int i);
/* The index of the relay with this RSA identity, or -1. */
int minnet_find(const minnet_t *mn, const uint8_t rsa_fp[20]);

#endif

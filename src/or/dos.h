/* dos.h — the relay's denial-of-service mitigation policy (tor's dos.c; `man tor`, "DENIAL OF
 * SERVICE MITIGATION OPTIONS"), over the per-address table (dos_addr.h), the known-relay
 * exemption (dos_relays.h) and the values in force (dos_params.h):
 *  - connections: the link manager's accept filter counts inbound connections per client address
 *    from accept (handshakes included) and closes new ones from an address at
 *    DoSConnectionMaxConcurrentCount or marked for exceeding the connect rate;
 *  - circuits: each CREATE/CREATE2/CREATE_FAST on a client link takes a token from its address's
 *    bucket; an address with an empty bucket and at least DoSCircuitCreationMinConnections
 *    connections is marked, and its CREATEs are answered DESTROY RESOURCELIMIT (tor command.c);
 *  - streams: BEGIN, BEGIN_DIR and RESOLVE take a token from the circuit's bucket; without one
 *    the stream is refused (END MISC, as tor) or the circuit closed;
 *  - ESTABLISH_RENDEZVOUS from a client's circuit is dropped (DoSRefuseSingleHopClientRendezvous);
 *  - counters for the heartbeat's "DoS mitigation since startup" line.
 * Addresses of relays in the consensus (and of the authorities) are never counted. A client link
 * is one we accepted whose peer did not authenticate as a relay. */
#ifndef OM_OR_DOS_H
#define OM_OR_DOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/channel.h"
#include "core/linkmgr.h"
#include "dir/consensus.h"
#include "or/dos_addr.h"
#include "or/dos_params.h"

typedef struct om_dos om_dos_t;

typedef struct {
    om_dos_options_t opt;         /* torrc (copied) */
    om_cc_param_lookup_fn lookup; /* the consensus's parameters; NULL: none */
    void *lookup_arg;
    time_t (*now)(void *arg); /* NULL: time() */
    void *now_arg;
    size_t max_entries; /* per-address table bound; 0: OM_DOS_TABLE_DEFAULT_MAX */
    time_t idle_expiry; /* 0: OM_DOS_TABLE_DEFAULT_EXPIRY */
} om_dos_config_t;

om_dos_t *om_dos_new(const om_dos_config_t *cfg);
void om_dos_free(om_dos_t *d);
/* Resolve the values in force again (a new consensus arrived; dos_params.h). */
void om_dos_reload(om_dos_t *d);
/* Known relay addresses: the consensus's routers (c may be NULL) and the authorities. */
void om_dos_set_relays(om_dos_t *d, const om_consensus_t *c, const om_dir_authority_t *auths,
                       size_t n_auths);
const om_dos_params_t *om_dos_params(const om_dos_t *d);

/* The link manager's accept filter (om_linkmgr_accept_filter_t, arg = the om_dos_t). */
om_link_verdict_t om_dos_conn_accept(void *arg, const char *peer);
void om_dos_conn_closed(void *arg, const char *peer);
/* A CREATE cell on chan: true if it is to be refused with DESTROY RESOURCELIMIT. */
bool om_dos_cc_create(om_dos_t *d, const om_channel_t *chan);
/* A stream-opening cell on a circuit whose bucket is b: OM_DOS_STREAM_DEFENSE_* to apply. */
int om_dos_stream_begin(om_dos_t *d, om_dos_bucket_t *b);
/* ESTABLISH_RENDEZVOUS on a circuit from p_chan: true if it is to be dropped (counted). */
bool om_dos_refuse_single_hop_rend(om_dos_t *d, const om_channel_t *p_chan);
/* Drop idle entries (call every minute or so). */
void om_dos_housekeeping(om_dos_t *d);
/* True if chan is a client link (accepted, peer not authenticated as a relay). */
bool om_dos_chan_is_client(const om_channel_t *chan);

typedef struct {
    uint64_t cc_rejected;           /* CREATE cells from marked addresses */
    uint64_t cc_marked_addrs;       /* addresses marked for circuit creation */
    uint64_t conn_rejected;         /* connections over the concurrent limit */
    uint64_t conn_connect_rejected; /* connections from addresses marked for the connect rate */
    uint64_t conn_marked_addrs;     /* addresses marked for the connect rate */
    uint64_t single_hop_refused;    /* ESTABLISH_RENDEZVOUS dropped */
    uint64_t stream_rejected;       /* stream-opening cells over the rate */
    om_dos_table_stats_t table;
} om_dos_stats_t;
void om_dos_stats(const om_dos_t *d, om_dos_stats_t *out);
/* tor's heartbeat line after "DoS mitigation since startup: " (dos_log_heartbeat): each
 * mitigation's counts, or "[DoS...Enabled disabled]". */
void om_dos_heartbeat_line(const om_dos_t *d, char *out, size_t outsz);

#endif

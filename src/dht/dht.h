/* dht.h — the DHT's C API for other modules (ORDB, tools): find the relays that provide a key,
 * and announce that a relay provides one (doc/dht.md). Queries go over 3-hop circuits whose last
 * hop is the node asked (the caller's circuit source: an OP's circuit pool), on streams to
 * dht.onionmesh.invalid; members and their keys come from the caller's verified consensus. A
 * provided key is stored at the 8 closest nodes and republished every hour until withdrawn. */
#ifndef OM_DHT_DHT_H
#define OM_DHT_DHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/circuit.h"
#include "core/crypto.h"
#include "dir/consensus.h"
#include "dht/dht_msg.h"

struct event_base;
typedef struct om_dht om_dht_t;

#define OM_DHT_QUERY_TIMEOUT_S 30
#define OM_DHT_REPUBLISH_S     3600
#define OM_DHT_RECORD_LIFETIME (3 * 3600) /* a record outlives two missed republishes */
#define OM_DHT_MAX_PROVIDED    256        /* keys one process announces */

typedef struct {
    struct event_base *base;
    /* A circuit whose last hop is node (cb runs once, maybe at once); a handle for cancel, or
     * NULL if cb already ran. E.g. om_circpool_get_to with an isolation key of its own. */
    void *(*get_circ)(void *arg, const uint8_t node[OM_DHT_ID_LEN],
                      void (*cb)(om_circuit_t *circ, const char *err, void *cbarg), void *cbarg);
    void (*cancel_circ)(void *arg, void *handle);
    /* The verified consensus with its microdescriptors (rs->md), or NULL. */
    const om_consensus_t *(*consensus)(void *arg);
    void *arg;
    int alpha;           /* parallel queries in a lookup (0: OM_DHT_ALPHA) */
    int query_timeout_s; /* 0: OM_DHT_QUERY_TIMEOUT_S */
} om_dht_params_t;

om_dht_t *om_dht_new(const om_dht_params_t *p);
/* Cancels every lookup (their callbacks are not called) and stops republishing. */
void om_dht_free(om_dht_t *d);

/* The providers of key: records that verify, whose publisher is the providing relay's Ed25519
 * identity in the consensus, unexpired, each relay once. cb runs once, later (n 0 and err set
 * if nothing was found or the lookup failed). 0, or -1 (no consensus, out of memory). */
typedef void (*om_dht_providers_cb)(void *arg, const om_dht_record_t *recs, size_t n,
                                    const char *err);
int om_dht_find_providers(om_dht_t *d, const uint8_t key[OM_DHT_ID_LEN], om_dht_providers_cb cb,
                          void *arg);

/* Announce that the relay with identity relay_id (its Ed25519 identity keypair, as its
 * microdescriptor lists it) and RSA fingerprint relay_fp provides key: a signed record stored at
 * the 8 closest nodes, republished every OM_DHT_REPUBLISH_S. cb (may be NULL) runs after the
 * first store with how many nodes accepted it. 0, or -1. */
typedef void (*om_dht_provide_cb)(void *arg, unsigned accepted, unsigned asked, const char *err);
int om_dht_provide(om_dht_t *d, const uint8_t key[OM_DHT_ID_LEN],
                   const om_ed25519_keypair_t *relay_id, const uint8_t relay_fp[OM_DHT_ID_LEN],
                   om_dht_provide_cb cb, void *arg);
/* Stop republishing key (records already stored expire on their own). */
void om_dht_unprovide(om_dht_t *d, const uint8_t key[OM_DHT_ID_LEN]);

typedef struct {
    uint64_t lookups, lookups_ok, queries, query_failures, records_rejected, republished;
    unsigned provided;
} om_dht_stats_t;
void om_dht_stats(const om_dht_t *d, om_dht_stats_t *out);

/* The DHT members of c: Running relays whose "pr" lists OnionMeshDht=1 (doc/dht.md). */
bool om_dht_is_member(const om_routerstatus_t *rs);
/* Whether r is a provider record c vouches for: its VALUE a relay of c whose microdescriptor's
 * Ed25519 identity is r's PUBLISHER. */
bool om_dht_provider_ok(const om_consensus_t *c, const om_dht_record_t *r);

#endif

/* dht_table.h — a node's Kademlia routing table (doc/dht.md): 160 buckets by the length of the
 * prefix a node ID shares with ours, each holding at most k = 8 nodes from least to most
 * recently seen; a full bucket keeps one candidate and asks its caller to ping the least
 * recently seen node first (evicted only if it does not answer); the closest nodes to a target
 * by XOR distance; saved to and loaded from a file so a restart rejoins at once. No I/O but the
 * file; no clock (the caller passes times). */
#ifndef OM_DHT_TABLE_H
#define OM_DHT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dht/dht_msg.h"

#define OM_DHT_K       8
#define OM_DHT_BUCKETS (OM_DHT_ID_LEN * 8)

typedef struct {
    uint8_t id[OM_DHT_ID_LEN];
    uint64_t last_seen; /* the caller's clock */
} om_dht_node_t;

typedef struct {
    om_dht_node_t nodes[OM_DHT_K]; /* [0] least recently seen */
    int n;
    bool has_candidate; /* a node waiting for the ping of nodes[0] */
    om_dht_node_t candidate;
    uint64_t last_lookup; /* when a lookup last touched this bucket (refresh) */
} om_dht_bucket_t;

typedef struct {
    uint8_t self[OM_DHT_ID_LEN];
    om_dht_bucket_t buckets[OM_DHT_BUCKETS];
} om_dht_table_t;

typedef enum {
    OM_DHT_SEEN_ADDED,   /* new in its bucket */
    OM_DHT_SEEN_UPDATED, /* already there: now the most recently seen */
    OM_DHT_SEEN_PING,    /* bucket full: ping *ping_id (its least recently seen), then call
                            om_dht_table_ping_result; id waits as the candidate */
    OM_DHT_SEEN_IGNORED, /* our own ID, or the bucket is full and already has a candidate */
} om_dht_seen_t;

void om_dht_table_init(om_dht_table_t *t, const uint8_t self[OM_DHT_ID_LEN]);
/* The bucket index of id (the length of the prefix it shares with ours), -1 for our own. */
int om_dht_table_bucket_of(const om_dht_table_t *t, const uint8_t id[OM_DHT_ID_LEN]);
/* We heard from id (it answered us, or asked us something over a circuit it built). */
om_dht_seen_t om_dht_table_seen(om_dht_table_t *t, const uint8_t id[OM_DHT_ID_LEN], uint64_t now,
                                uint8_t ping_id[OM_DHT_ID_LEN]);
/* The ping asked for by OM_DHT_SEEN_PING: alive keeps the old node (now most recent) and drops
 * the candidate; dead replaces it with the candidate. */
void om_dht_table_ping_result(om_dht_table_t *t, const uint8_t id[OM_DHT_ID_LEN], bool alive,
                              uint64_t now);
/* id failed (no answer, left the consensus): removed; its bucket's candidate takes its place. */
void om_dht_table_remove(om_dht_table_t *t, const uint8_t id[OM_DHT_ID_LEN]);
/* The up to max nodes closest to target by XOR distance, closest first. Returns how many. */
size_t om_dht_table_closest(const om_dht_table_t *t, const uint8_t target[OM_DHT_ID_LEN],
                            om_dht_node_t *out, size_t max);
size_t om_dht_table_size(const om_dht_table_t *t);
/* XOR distance order: <0 if a is closer to target than b, 0 if equal, >0 if farther. */
int om_dht_distance_cmp(const uint8_t target[OM_DHT_ID_LEN], const uint8_t a[OM_DHT_ID_LEN],
                        const uint8_t b[OM_DHT_ID_LEN]);

/* The table's nodes as text (one "HEX last_seen" line each) written atomically to path, and read
 * back into a table with the same self (lines that do not parse are skipped). 0 or -1. */
int om_dht_table_save(const om_dht_table_t *t, const char *path);
int om_dht_table_load(om_dht_table_t *t, const char *path);

#endif

/* dht_service.h — a relay's DHT node (doc/dht.md, "Transport" and "Membership"): the stream
 * service for BEGIN to "dht.onionmesh.invalid" (or/stream_service.h), reading framed requests
 * from DATA and writing the answers of dht_server.c, with the node's routing table refilled from
 * each verified consensus (the relays whose "pr" line lists OnionMeshDht) and saved in the data
 * directory, and the records it stores. Registered by the program (src/main.c) in the relay's
 * service table; its memory counts toward MaxMemInQueues. */
#ifndef OM_DHT_SERVICE_H
#define OM_DHT_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dir/consensus.h"
#include "dht/dht_table.h"
#include "or/stream_service.h"

#define OM_DHT_HOSTNAME "dht.onionmesh.invalid"
/* The BEGIN's port: tor refuses port 0 with a protocol warning, so any other; 1 by convention. */
#define OM_DHT_PORT 1
/* Per stream: the requests not yet answered (bytes of frames read, at most 8 full frames) and
 * the answers not yet sent (while over this, no more requests are read and the stream's SENDMEs
 * wait: the client is flow-controlled). Over the first, END RESOURCELIMIT. */
#define OM_DHT_STREAM_IN_MAX  (8 * (OM_DHT_FRAME_HDR + OM_DHT_MSG_MAX))
#define OM_DHT_STREAM_OUT_MAX (4 * (OM_DHT_FRAME_HDR + OM_DHT_MSG_MAX))
/* DHT streams open at once on one circuit and in all; a stream with no request for this long is
 * closed (END DONE). */
#define OM_DHT_STREAMS_PER_CIRC 8
#define OM_DHT_STREAMS_MAX      4096
#define OM_DHT_STREAM_IDLE_S    120

typedef struct om_dht_service om_dht_service_t;

typedef struct {
    struct event_base *base; /* the sweep and consensus timer (NULL: tests call _tick) */
    const uint8_t *self;     /* our node ID (the relay's RSA fingerprint), 20 bytes */
    const char *data_dir;    /* the table is saved as DATA_DIR/dht-table (NULL: not saved) */
    /* The verified consensus now (may change or be NULL). */
    const om_consensus_t *(*consensus)(void *arg);
    /* The Ed25519 identity the consensus's microdescriptor lists for relay fp: true and ed
     * filled, or false (unknown relay). A provider record is stored only if its PUBLISHER is
     * its VALUE's identity (doc/dht.md, "Records"). NULL: not checked (tests). */
    bool (*ed_of)(void *arg, const uint8_t fp[OM_DHT_ID_LEN], uint8_t ed[OM_DHT_PUB_LEN]);
    void *arg;
} om_dht_service_params_t;

om_dht_service_t *om_dht_service_new(const om_dht_service_params_t *p);
void om_dht_service_free(om_dht_service_t *v);
/* The service's table entry (om_relay_add_stream_service). */
void om_dht_service_entry(om_dht_service_t *v, om_stream_service_t *out);
/* Refill the table if the consensus changed, close idle streams, drop expired records (every
 * 10 s from the loop). */
void om_dht_service_tick(om_dht_service_t *v, time_t now);
const om_dht_table_t *om_dht_service_table(const om_dht_service_t *v);

/* MaxMemInQueues (or_oom.h; arg: the service): bytes held (records, stream buffers), and freeing
 * the most: the stream with the biggest buffers, else the record expiring first. */
size_t om_dht_service_bytes(void *arg);
size_t om_dht_service_reclaim(void *arg);

typedef struct {
    uint64_t streams_opened, requests, malformed, refused, idle_closed, reclaimed;
    uint64_t by_type[4]; /* PING, FIND_NODE, GET_PROVIDERS, ADD_PROVIDER */
    uint64_t stored;     /* ADD_PROVIDER answered OK */
    unsigned streams;    /* open now */
    size_t table_nodes, records;
} om_dht_service_stats_t;
void om_dht_service_stats(const om_dht_service_t *v, om_dht_service_stats_t *out);
/* The heartbeat's line (om_relay_set_heartbeat_line; arg: the service). */
void om_dht_service_heartbeat(void *arg, char *line, size_t len);

#endif

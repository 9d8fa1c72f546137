/* relay.h — the relay (OR) role as one object on the caller's libevent loop: keys, the ORPort
 * listener and links, circuits, descriptor publication to the authorities on start, on key
 * changes and on tor's schedule, and key maintenance. Configured by om_relay_options_t. */
#ifndef OM_OR_RELAY_H
#define OM_OR_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dir/consensus.h"
#include "or/or_oom.h"
#include "or/relay_options.h"
#include "or/stream_service.h"

struct event_base;
typedef struct om_relay om_relay_t;

/* Starts the relay described by opt (opt must outlive the relay). Returns NULL with err on a
 * start-up error (keys unreadable, port busy...). */
om_relay_t *om_relay_start(struct event_base *base, const om_relay_options_t *opt, char *err,
                           size_t errlen);
void om_relay_free(om_relay_t *r);
/* A stream service (stream_service.h: e.g. the DHT on "dht.onionmesh.invalid") in the relay's
 * service table, and the memory it holds under MaxMemInQueues (or_oom.h). 0 or -1 (table full,
 * name taken). Call after om_relay_start, before the loop runs. */
int om_relay_add_stream_service(om_relay_t *r, const om_stream_service_t *svc);
int om_relay_add_mem_source(om_relay_t *r, const om_or_mem_source_t *src);
/* fn(arg, line, len) fills a line the heartbeat logs after "Heartbeat: DHT: " (one source). */
void om_relay_set_heartbeat_line(om_relay_t *r, void (*fn)(void *arg, char *line, size_t len),
                                 void *arg);
/* The verified microdescriptor consensus the relay's directory cache holds (NULL: none yet, or
 * DirCache 0). Read it again when needed: a newer one replaces it. */
const om_consensus_t *om_relay_consensus(const om_relay_t *r);
/* The Ed25519 identity the consensus's microdescriptor lists for the relay fp: true (ed set),
 * or false (not in the consensus, no microdescriptor, NoEdConsensus). */
bool om_relay_node_ed_id(const om_relay_t *r, const uint8_t fp[20], uint8_t ed[32]);
/* The relay's RSA identity fingerprint (20 bytes): its DHT node ID. */
const uint8_t *om_relay_rsa_fp(const om_relay_t *r);
/* The port the ORPort listener is bound to (useful with "ORPort auto"). */
uint16_t om_relay_or_port(const om_relay_t *r);
/* The relay's link manager, for an onion proxy in the same process to share. */
struct om_linkmgr;
struct om_linkmgr *om_relay_links(om_relay_t *r);
/* fn(arg, text) with each server descriptor the relay builds (at once with the current one);
 * NULL removes it. A WebSocket server serves it to bridge clients. */
void om_relay_set_descriptor_cb(om_relay_t *r, void (*fn)(void *arg, const char *desc), void *arg);
/* Bytes of links outside libevent's rate-limit group totals (a WebSocket server's), added to
 * the relay's bandwidth totals and observed bandwidth; fn(arg, &read, &written) gives running
 * totals. One source; NULL removes it. */
void om_relay_set_extra_bytes(om_relay_t *r,
                              void (*fn)(void *arg, uint64_t *read, uint64_t *written), void *arg);
/* What a bridge line names (bridge_line.h): the published address, the data directory, the RSA
 * identity fingerprint, the current ntor onion key, and whether BridgeRelay is set. */
typedef struct {
    const char *address;
    const char *data_dir;
    uint8_t rsa_fp[20];
    uint8_t ntor_pub[32];
    bool bridge_relay;
} om_relay_bridge_facts_t;
void om_relay_bridge_facts(const om_relay_t *r, om_relay_bridge_facts_t *out);

#endif

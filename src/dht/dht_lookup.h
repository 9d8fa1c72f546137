/* dht_lookup.h — Kademlia's iterative lookup as a state machine (doc/dht.md, "Lookups"): the
 * candidates nearest a target, at most alpha queries in flight, each answer merging the nodes it
 * names, until the k closest candidates that did not fail have all answered. No I/O and no
 * clock: the caller (the stream service over circuits, or the simulator) sends the queries
 * om_dht_lookup_next picks and reports answers and failures; the same code runs in both. */
#ifndef OM_DHT_LOOKUP_H
#define OM_DHT_LOOKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dht/dht_msg.h"

#define OM_DHT_ALPHA 3
/* A lookup for records (GET_PROVIDERS) goes on until this many closest candidates answered (it
 * stops earlier at the first record that verifies): holders that died, or answer without the
 * record, since it was stored do not end it empty-handed. */
#define OM_DHT_VALUE_K    16
#define OM_DHT_LOOKUP_MAX 64 /* candidates kept (the closest) */
/* Queries one lookup sends at most: a node dropped from the candidates and named again is not
 * asked twice, and hostile nodes naming each other cannot keep a lookup going. */
#define OM_DHT_LOOKUP_MAX_QUERIES 128

enum { OM_DHT_CAND_NEW = 0, OM_DHT_CAND_ASKED, OM_DHT_CAND_ANSWERED, OM_DHT_CAND_FAILED };

typedef struct {
    uint8_t id[OM_DHT_ID_LEN];
    uint8_t state;
    uint8_t depth; /* 1 for the seeds, else 1 + the depth of the node that named it */
} om_dht_cand_t;

typedef struct {
    uint8_t target[OM_DHT_ID_LEN];
    uint8_t self[OM_DHT_ID_LEN]; /* never a candidate */
    int alpha, k;
    om_dht_cand_t cand[OM_DHT_LOOKUP_MAX]; /* closest first */
    size_t n;
    int in_flight;
    uint8_t asked[OM_DHT_LOOKUP_MAX_QUERIES][OM_DHT_ID_LEN]; /* everyone queried */
    size_t queries, answers, failures;
    int max_depth; /* deepest answered candidate: the lookup's rounds */
} om_dht_lookup_t;

/* A lookup for target by self, seeded with n nodes (e.g. om_dht_table_closest); alpha and k of
 * 0 take OM_DHT_ALPHA and OM_DHT_K. */
void om_dht_lookup_init(om_dht_lookup_t *l, const uint8_t self[OM_DHT_ID_LEN],
                        const uint8_t target[OM_DHT_ID_LEN], int alpha, int k,
                        const uint8_t (*seeds)[OM_DHT_ID_LEN], size_t n);
/* The next nodes to ask (now marked asked): the closest new candidates, so that at most alpha
 * are in flight. Returns how many were written to out (at most max). */
size_t om_dht_lookup_next(om_dht_lookup_t *l, uint8_t (*out)[OM_DHT_ID_LEN], size_t max);
/* from answered, naming n nodes (NODES, or PROVIDERS' closer nodes). Answers from nodes we did
 * not ask are ignored. */
void om_dht_lookup_answer(om_dht_lookup_t *l, const uint8_t from[OM_DHT_ID_LEN],
                          const uint8_t (*nodes)[OM_DHT_ID_LEN], size_t n);
/* from did not answer (timeout, circuit failed, malformed answer). */
void om_dht_lookup_failed(om_dht_lookup_t *l, const uint8_t from[OM_DHT_ID_LEN]);
/* Done: the k closest candidates that did not fail have all answered, or nothing is left to ask
 * and nothing is in flight, or OM_DHT_LOOKUP_MAX_QUERIES were sent and none is in flight. */
bool om_dht_lookup_done(const om_dht_lookup_t *l);
/* The up to max closest candidates that answered, closest first. Returns how many. */
size_t om_dht_lookup_result(const om_dht_lookup_t *l, uint8_t (*out)[OM_DHT_ID_LEN], size_t max);

#endif

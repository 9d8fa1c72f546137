/* dht_store.h — the records a DHT node holds for others (doc/dht.md, "Records" and "Limits"):
 * only records that pass om_dht_record_check, at most max_per_key per key and
 * max_per_publisher per publisher, max_total in all; a publisher's newer record for the same key
 * and value replaces its older one; expired records are dropped. Memory is bounded by
 * max_total x sizeof(om_dht_record_t). */
#ifndef OM_DHT_STORE_H
#define OM_DHT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "dht/dht_msg.h"

#define OM_DHT_STORE_PER_KEY       64
#define OM_DHT_STORE_PER_PUBLISHER 256
#define OM_DHT_STORE_TOTAL         16384

typedef struct om_dht_store om_dht_store_t;

/* Limits of 0 take the defaults above. NULL if out of memory. */
om_dht_store_t *om_dht_store_new(size_t max_per_key, size_t max_per_publisher, size_t max_total);
void om_dht_store_free(om_dht_store_t *s);
/* Store r (checked here, at time now): an ADDED status (OM_DHT_ADDED_OK, or why not). */
int om_dht_store_add(om_dht_store_t *s, const om_dht_record_t *r, uint64_t now);
/* Up to max unexpired records for key, the latest created first. Returns how many. */
size_t om_dht_store_get(const om_dht_store_t *s, const uint8_t key[OM_DHT_ID_LEN], uint64_t now,
                        om_dht_record_t *out, size_t max);
/* Drop what expired by now; returns how many were dropped. */
size_t om_dht_store_expire(om_dht_store_t *s, uint64_t now);
size_t om_dht_store_count(const om_dht_store_t *s);
/* For MaxMemInQueues: the bytes the store holds, and dropping the record that expires first
 * (bytes freed; 0 if empty). */
size_t om_dht_store_bytes(const om_dht_store_t *s);
size_t om_dht_store_reclaim(om_dht_store_t *s);

#endif

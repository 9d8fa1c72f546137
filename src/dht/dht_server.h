/* dht_server.h — what a DHT node answers (doc/dht.md, "Messages"): PONG with its ID, the k
 * closest nodes it knows for FIND_NODE, the records it holds (and the closest nodes) for
 * GET_PROVIDERS, ADDED with the store's verdict for ADD_PROVIDER, ERROR for anything that is not
 * a request. Pure: the stream service around it reads frames and writes the answer. */
#ifndef OM_DHT_SERVER_H
#define OM_DHT_SERVER_H

#include <stdint.h>

#include "dht/dht_msg.h"
#include "dht/dht_store.h"
#include "dht/dht_table.h"

/* The answer to req at time now into resp (same ID). The table is not changed here: the caller
 * notes the asking node (om_dht_table_seen) when it knows who asked. */
void om_dht_server_answer(const om_dht_table_t *t, om_dht_store_t *s, const om_dht_msg_t *req,
                          uint64_t now, om_dht_msg_t *resp);

#endif

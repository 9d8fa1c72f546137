/* fuzz_dht_msg.c — libFuzzer target for the DHT's wire format (dht_msg.c), record checks
 * (dht_record.c) and a node's answers (dht_server.c over dht_table.c and dht_store.c): the input
 * is a DHT stream, split into frames; each body is parsed, and what parses is encoded again and
 * must give the same bytes back; each record in it is checked (signature, times); the node
 * answers it (its table learning the nodes the message names) and the answer must encode.
 * Invariants: counts within their limits, re-encoding is the identity, every answer fits one
 * message, nothing reads past its input (ASan), nothing crashes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dht/dht_msg.h"
#include "dht/dht_record.h"
#include "dht/dht_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static om_dht_msg_t m, resp;
    static uint8_t out[OM_DHT_FRAME_HDR + OM_DHT_MSG_MAX];
    static om_dht_table_t table;
    static om_dht_store_t *store;
    static const uint8_t self[OM_DHT_ID_LEN] = {0x42};
    char err[96];
    if (!store) store = om_dht_store_new(0, 0, 256);
    om_dht_table_init(&table, self);
    while (size) {
        const uint8_t *body;
        size_t blen;
        long n = om_dht_frame_next(data, size, &body, &blen);
        if (n <= 0) break;
        if (om_dht_msg_parse(body, blen, &m, err, sizeof err) == 0) {
            if (m.n_nodes > OM_DHT_MAX_NODES || m.n_records > OM_DHT_MAX_RECORDS) abort();
            long e = om_dht_msg_encode(&m, out, sizeof out);
            if (e != n || memcmp(out + OM_DHT_FRAME_HDR, body, blen) != 0) abort();
            for (size_t i = 0; i < m.n_records; i++)
                (void)om_dht_record_check(&m.records[i], 1800000000u, err, sizeof err);
            for (size_t i = 0; i < m.n_nodes; i++)
                om_dht_table_seen(&table, m.nodes[i], i, NULL);
            om_dht_server_answer(&table, store, &m, 1800000000u, &resp);
            if (om_dht_msg_encode(&resp, out, sizeof out) <= 0) abort();
        }
        data += n;
        size -= (size_t)n;
    }
    return 0;
}

/* fuzz_dht_msg.c — libFuzzer target for the DHT's wire format (dht_msg.c) and record checks
 * (dht_record.c): the input is a DHT stream, split into frames; each body is parsed, and what
 * parses is encoded again and must give the same bytes back; each record in it is checked
 * (signature, times). Invariants: counts within their limits, re-encoding is the identity,
 * nothing reads past its input (ASan), nothing crashes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dht/dht_msg.h"
#include "dht/dht_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static om_dht_msg_t m;
    static uint8_t out[OM_DHT_FRAME_HDR + OM_DHT_MSG_MAX];
    char err[96];
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
        }
        data += n;
        size -= (size_t)n;
    }
    return 0;
}

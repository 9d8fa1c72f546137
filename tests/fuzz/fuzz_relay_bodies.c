/* fuzz_relay_bodies.c — libFuzzer target for the relay message body parsers (BEGIN, CONNECTED,
 * RESOLVED, EXTEND2, CREATED2): no crash, and what parses re-encodes to something that parses
 * to the same value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/relay_bodies.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t which = data[0] % 5;
    data++;
    size--;
    if (size > OM_RELAY_PAYLOAD_LEN) size = OM_RELAY_PAYLOAD_LEN;
    uint8_t out[OM_RELAY_PAYLOAD_LEN];
    switch (which) {
    case 0: {
        om_begin_t b, b2;
        if (om_begin_parse(&b, data, size) == 0) {
            int n = om_begin_encode(&b, out, sizeof out);
            if (n > 0 && om_begin_parse(&b2, out, (size_t)n) != 0) abort();
        }
        break;
    }
    case 1: {
        om_connected_t c, c2;
        if (om_connected_parse(&c, data, size) == 0) {
            int n = om_connected_encode(&c, out, sizeof out);
            if (n > 0 && (om_connected_parse(&c2, out, (size_t)n) != 0 || c2.ttl != c.ttl)) abort();
        }
        break;
    }
    case 2: {
        om_resolved_t r, r2;
        if (om_resolved_parse(&r, data, size) == 0) {
            int n = om_resolved_encode(&r, out, sizeof out);
            if (n > 0 && (om_resolved_parse(&r2, out, (size_t)n) != 0 || r2.n != r.n)) abort();
        }
        break;
    }
    case 3: {
        om_extend2_t *e = malloc(sizeof *e), *e2 = malloc(sizeof *e2);
        if (e && e2 && om_extend2_parse(e, data, size) == 0) {
            int n = om_extend2_encode(e, out, sizeof out);
            if (n > 0 && (om_extend2_parse(e2, out, (size_t)n) != 0 || e2->hlen != e->hlen ||
                          memcmp(e2->hdata, e->hdata, e->hlen)))
                abort();
        }
        free(e);
        free(e2);
        break;
    }
    default: {
        const uint8_t *h;
        size_t hl;
        if (om_created2_parse(data, size, &h, &hl) == 0 && (h + hl > data + size)) abort();
        break;
    }
    }
    return 0;
}

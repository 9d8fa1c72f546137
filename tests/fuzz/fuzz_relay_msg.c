/* fuzz_relay_msg.c — libFuzzer target: relay header decoding of an arbitrary 509-byte payload
 * (input zero-padded or cut), re-building the payload from what was decoded, names, and dispatch
 * through a table with handlers on a few commands. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/relay_msg.h"

static int seen_len = -1;

static int handler(void *ctx, const om_relay_header_t *hdr, const uint8_t *body, void *arg)
{
    if (ctx != arg || hdr->length > OM_RELAY_PAYLOAD_LEN) abort();
    /* Touch every body byte the header promises (ASan checks the bounds). */
    unsigned sum = 0;
    for (size_t i = 0; i < hdr->length; i++)
        sum += body[i];
    seen_len = hdr->length;
    return sum & 1 ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t payload[OM_CELL_PAYLOAD_LEN] = {0};
    memcpy(payload, data, size < sizeof payload ? size : sizeof payload);

    om_relay_header_t h;
    int r = om_relay_header_unpack(&h, payload);
    if ((r == 0) != (h.length <= OM_RELAY_PAYLOAD_LEN)) abort();
    (void)om_relay_command_name(h.command);
    if (h.command == OM_RELAY_END && h.length > 0)
        (void)om_end_reason_name(payload[OM_RELAY_HEADER_LEN]);

    /* Header re-pack is byte-exact. */
    uint8_t hp[OM_CELL_PAYLOAD_LEN];
    memcpy(hp, payload, sizeof hp);
    memset(hp, 0xA5, OM_RELAY_HEADER_LEN);
    om_relay_header_pack(&h, hp);
    if (memcmp(hp, payload, sizeof hp) != 0) abort();

    if (r != 0) return 0;

    static om_relay_dispatch_t table;
    static bool inited;
    if (!inited) {
        om_relay_dispatch_init(&table);
        static const uint8_t cmds[] = {OM_RELAY_DATA, OM_RELAY_END, OM_RELAY_BEGIN_DIR, 0, 255};
        for (size_t i = 0; i < sizeof cmds; i++)
            if (om_relay_dispatch_set(&table, cmds[i], handler, &table) != 0) abort();
        inited = true;
    }
    seen_len = -1;
    int d = om_relay_dispatch(&table, &table, &h, payload + OM_RELAY_HEADER_LEN);
    if (table.fn[h.command] ? (seen_len != h.length || d < -1 || d > 0) : d != -2) abort();

    /* Re-build from the decoded body: same header (digest/recognized zeroed), same body. */
    uint8_t out[OM_CELL_PAYLOAD_LEN];
    if (om_relay_payload_build(out, h.command, h.stream_id, payload + OM_RELAY_HEADER_LEN,
                               h.length) != 0)
        abort();
    om_relay_header_t g;
    if (om_relay_header_unpack(&g, out) != 0 || g.command != h.command ||
        g.stream_id != h.stream_id || g.length != h.length || g.recognized != 0 ||
        memcmp(g.digest, "\0\0\0\0", 4) != 0)
        abort();
    if (memcmp(out + OM_RELAY_HEADER_LEN, payload + OM_RELAY_HEADER_LEN, h.length) != 0) abort();
    size_t pad = OM_RELAY_PAYLOAD_LEN - h.length;
    for (size_t i = 0; i < pad && i < 4; i++)
        if (out[OM_RELAY_HEADER_LEN + h.length + i] != 0) abort();
    /* In place, as a sender building the body inside the payload would. */
    if (om_relay_payload_build(payload, h.command, h.stream_id, payload + OM_RELAY_HEADER_LEN,
                               h.length) != 0 ||
        memcmp(payload, out, OM_RELAY_HEADER_LEN + h.length) != 0)
        abort();
    return 0;
}

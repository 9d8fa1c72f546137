/* fuzz_var_cell.c — libFuzzer target: om_var_cell_unpack on arbitrary bytes at link protocols
 * 0, 3, 4 and 5 (first byte), checked against om_cell_frame and re-packing; also the fixed
 * unpacker on the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cell.h"

static const int protos[] = {0, 3, 4, 5};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int proto = protos[data[0] & 3];
    data++;
    size--;
    static uint8_t out[OM_VAR_CELL_HDR_WIDE + OM_VAR_CELL_MAX_PAYLOAD];

    om_var_cell_t *v = om_var_cell_unpack(data, size, proto);
    size_t cl = 0;
    bool var = false;
    int fr = om_cell_frame(data, size, proto, &cl, &var);
    if (v) {
        /* A decodable variable cell is exactly one complete frame. */
        if (fr != 1 || !var || cl != size) abort();
        if (v->payload_len + (size_t)om_circ_id_len(proto) + 3 != size) abort();
        if (v->command != OM_CELL_VERSIONS || om_circ_id_len(proto) == 2) {
            if (om_var_cell_wire_len(v, proto) != size) abort();
            int n = om_var_cell_pack(v, proto, out);
            if (n < 0 || (size_t)n != size || memcmp(out, data, size) != 0) abort();
        }
        (void)om_cell_command_name(v->command);
        om_var_cell_free(v);
    } else if (fr == 1 && var && cl == size) {
        abort(); /* framing accepted exactly this cell, so it must decode */
    }

    om_cell_t c;
    if (om_cell_unpack(&c, proto, data, size) == 0) {
        if (size != om_cell_wire_len(proto) || om_cell_command_is_var(c.command, proto)) abort();
        if (om_cell_pack(&c, proto, out) != (int)size || memcmp(out, data, size) != 0) abort();
    }
    return 0;
}

/* fuzz_cell_frame.c — libFuzzer target: a link's input byte stream through om_cell_frame and the
 * fixed/variable unpackers, as the link reader does, at link protocols 0, 3, 4 and 5. The first
 * input byte picks the starting protocol; a VERSIONS cell seen at protocol 0 negotiates the
 * protocol used for the rest of the stream. Every framed cell must unpack and re-pack to the same
 * bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cell.h"
#include "core/link_cells.h"

static const int protos[] = {0, 3, 4, 5};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int proto = protos[data[0] & 3];
    data++;
    size--;
    size_t pos = 0;
    static uint8_t repack[OM_VAR_CELL_HDR_WIDE + OM_VAR_CELL_MAX_PAYLOAD];
    while (pos < size) {
        size_t cl = 12345;
        bool var = false;
        int r = om_cell_frame(data + pos, size - pos, proto, &cl, &var);
        if (r < 0) break;
        if (r == 0) {
            /* Incomplete: a known length must exceed what is available. */
            if (cl != 0 && cl <= size - pos) abort();
            break;
        }
        if (cl == 0 || cl > size - pos) abort();
        const uint8_t *c = data + pos;
        if (var) {
            om_var_cell_t *v = om_var_cell_unpack(c, cl, proto);
            if (!v) abort(); /* framed as a complete variable cell, so it must decode */
            if (proto == 0 && !om_cell_allowed_before_versions(v->command)) abort();
            /* Our VERSIONS cells are always narrow; compare the others (and narrow VERSIONS). */
            if (v->command != OM_CELL_VERSIONS || om_circ_id_len(proto) == 2) {
                int n = om_var_cell_pack(v, proto, repack);
                if (n < 0 || (size_t)n != cl || memcmp(repack, c, cl) != 0) abort();
            }
            if (proto == 0) {
                om_versions_t vs;
                int neg = 0;
                if (om_versions_parse(&vs, v->payload, v->payload_len) == 0)
                    neg = om_versions_negotiate(&vs, OM_LINK_PROTO_MIN, OM_LINK_PROTO_MAX);
                proto = neg;
            }
            om_var_cell_free(v);
            if (proto == 0) break; /* no common version: the link would close */
        } else {
            om_cell_t cell;
            if (proto == 0 || cl != om_cell_wire_len(proto)) abort();
            if (om_cell_unpack(&cell, proto, c, cl) != 0) abort();
            if (om_cell_pack(&cell, proto, repack) != (int)cl || memcmp(repack, c, cl) != 0)
                abort();
            (void)om_cell_command_name(cell.command);
            if (cell.command == OM_CELL_DESTROY) (void)om_destroy_reason_name(cell.payload[0]);
        }
        pos += cl;
    }
    return 0;
}

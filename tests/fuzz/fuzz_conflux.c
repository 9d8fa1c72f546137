/* fuzz_conflux.c — libFuzzer target for conflux.c's codec: CONFLUX_LINK/LINKED and SWITCH bodies
 * on arbitrary bytes. What om_cfx_link_parse accepts re-encodes to the same 50 bytes; what it
 * refuses has a wrong length, version or desired_ux; a SWITCH parses iff it has 4 bytes and its
 * value is their big-endian reading. om_cfx_multiplexed is total over the command byte. The same
 * bytes then drive the out-of-order heap (conflux_order.h) as push/pop events: every pop returns
 * the lowest sequence number held, checked against a count of what was pushed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/conflux.h"
#include "core/conflux_order.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Each byte: low bit 1 pushes sequence number (byte >> 1) + base, 0 pops; byte 0 moves base on. */
static void fuzz_heap(const uint8_t *data, size_t size)
{
    om_cfx_heap_t hp = {0};
    uint32_t held[128] = {0}; /* pushed and not popped, by sequence number - base */
    uint64_t base = 0;
    size_t n = 0;
    for (size_t i = 0; i < size; i++) {
        if (data[i] == 0 && n == 0) {
            base += 1000;
            continue;
        }
        if (data[i] & 1) {
            om_cfx_cell_t *c = malloc(sizeof *c);
            if (!c) abort();
            c->seq = base + (data[i] >> 1);
            c->hop = 2;
            if (om_cfx_heap_push(&hp, c) < 0) abort();
            held[data[i] >> 1]++;
            n++;
        } else {
            om_cfx_cell_t *c = om_cfx_heap_pop(&hp);
            if (!n) {
                if (c || om_cfx_heap_top(&hp)) abort();
                continue;
            }
            int lo = 0;
            while (!held[lo])
                lo++;
            if (!c || c->seq != base + (uint64_t)lo) abort();
            held[lo]--;
            n--;
            free(c);
        }
        if (hp.n != n) abort();
    }
    om_cfx_heap_clear(&hp);
    if (hp.n || hp.cell) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    om_cfx_link_t l;
    uint8_t out[OM_CFX_LINK_BODY_LEN];
    bool well_formed =
        size == OM_CFX_LINK_BODY_LEN && data[0] == 1 && data[49] <= OM_CFX_UX_LOW_MEM_THROUGHPUT;
    if (om_cfx_link_parse(&l, data, size) == 0) {
        if (!well_formed) abort();
        if (om_cfx_link_encode(&l, out, sizeof out) != OM_CFX_LINK_BODY_LEN) abort();
        if (memcmp(out, data, OM_CFX_LINK_BODY_LEN) != 0) abort();
    } else if (well_formed) {
        abort();
    }

    uint32_t rel = 0;
    if (om_cfx_switch_parse(&rel, data, size) == 0) {
        if (size < OM_CFX_SWITCH_LEN) abort();
        uint8_t be[4] = {(uint8_t)(rel >> 24), (uint8_t)(rel >> 16), (uint8_t)(rel >> 8),
                         (uint8_t)rel};
        if (memcmp(be, data, 4) != 0) abort();
    } else if (size >= OM_CFX_SWITCH_LEN) {
        abort();
    }

    if (size) (void)om_cfx_multiplexed(data[0]);
    fuzz_heap(data, size);
    return 0;
}

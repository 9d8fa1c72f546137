/* fuzz_conflux.c — libFuzzer target for conflux.c's codec: CONFLUX_LINK/LINKED and SWITCH bodies
 * on arbitrary bytes. What om_cfx_link_parse accepts re-encodes to the same 50 bytes; what it
 * refuses has a wrong length, version or desired_ux; a SWITCH parses iff it has 4 bytes and its
 * value is their big-endian reading. om_cfx_multiplexed is total over the command byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/conflux.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
    return 0;
}

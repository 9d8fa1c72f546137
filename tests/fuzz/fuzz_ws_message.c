/* fuzz_ws_message.c — libFuzzer target: WebSocket messages through the bridge's cell framing
 * (src/bridge/ws_msg.c). The input is split into messages at 2-byte big-endian lengths; each is
 * checked as a receiver does (state carried from message to message). An accepted message must
 * be whole cells by the sender's rule too (om_ws_msg_prefix takes all of it, from the same
 * state), and a refused one must leave the state unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bridge/ws_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    om_ws_scan_t st = {0};
    size_t pos = 0;
    char err[128];
    while (pos + 2 <= size) {
        size_t len = ((size_t)data[pos] << 8) | data[pos + 1];
        pos += 2;
        if (len > size - pos) len = size - pos;
        const uint8_t *msg = data + pos;
        pos += len;
        om_ws_scan_t before = st, send = st;
        if (om_ws_msg_check(&st, msg, len, err, sizeof err) == 0) {
            if (len == 0 || len > OM_WS_MSG_MAX || !st.versions_done) abort();
            long p = om_ws_msg_prefix(&send, msg, len, OM_WS_MSG_MAX);
            if (p != (long)len || send.versions_done != st.versions_done) abort();
        } else {
            if (memcmp(&before, &st, sizeof st) != 0 || !err[0]) abort();
            long p = om_ws_msg_prefix(&send, msg, len, OM_WS_MSG_MAX);
            if (p > (long)len) abort();
        }
    }
    return 0;
}

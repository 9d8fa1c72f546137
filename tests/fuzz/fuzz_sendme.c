/* fuzz_sendme.c — libFuzzer target for sendme.c, the flow control both circuit ends run on what
 * peers send: a sequence of events read from the input (DATA sent, a SENDME body of arbitrary
 * bytes, DATA received, stream SENDMEs, XON/XOFF bodies) on fixed windows or with congestion
 * control. Invariants: the package window never exceeds 1000 nor the stream window 500, no more
 * digests are outstanding than the windows explain, the deliver window never goes negative while
 * the SENDMEs it asks for are "sent", and nothing crashes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/relay_msg.h"
#include "core/sendme.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    om_sendme_t s;
    om_sendme_init(&s, data[0] & 1);
    if (data[0] & 2) om_sendme_enable_cc(&s, NULL, (uint8_t)(data[1] | 1), OM_CC_PATH_EXIT);
    om_stream_flow_t f;
    om_stream_flow_init(&f, &s, (data[0] & 4) != 0);
    uint64_t now = 1000000;
    const char *why;
    bool ignored;
    for (size_t i = 2; i < size;) {
        uint8_t op = data[i++];
        size_t len = op >> 3;
        if (len > size - i) len = size - i;
        const uint8_t *body = data + i;
        now += 100 * (op & 7);
        switch (op & 7) {
        case 0: /* a DATA cell out, if allowed */
            if (om_sendme_can_package(&s) && om_stream_flow_can_package(&f)) {
                uint8_t *slot = om_sendme_note_packaged(&s, now);
                if (slot) memset(slot, 0x5a, 20);
                om_stream_flow_note_packaged(&f, 498);
            }
            break;
        case 1: /* a circuit SENDME with these bytes */
            om_sendme_process(&s, body, len, now, &why);
            i += len;
            break;
        case 2: /* a DATA cell in, SENDMEs "sent" when due */
            if (om_sendme_note_delivered(&s) < 0 && !om_sendme_cc_active(&s)) abort();
            om_stream_flow_note_delivered(&f);
            break;
        case 3:
            om_stream_flow_process_sendme(&f, &why);
            break;
        case 4:
            om_stream_flow_take_due_sendmes(&f);
            break;
        case 5:
        case 6:
            om_stream_flow_on_xon_xoff(&f, (op & 7) == 5 ? OM_RELAY_XON : OM_RELAY_XOFF, body, len,
                                       &ignored);
            i += len;
            break;
        default:
            om_sendme_set_chan_blocked(&s, len & 1);
            break;
        }
        if (s.package_window > OM_SENDME_CIRC_WINDOW_START) abort();
        if (!f.cc && f.package_window > OM_SENDME_STREAM_WINDOW_START) abort();
        if (!s.cc && s.dig_n > OM_SENDME_FIXED_DIGESTS) abort();
    }
    om_sendme_clear(&s);
    return 0;
}

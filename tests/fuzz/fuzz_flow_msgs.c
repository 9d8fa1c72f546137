/* fuzz_flow_msgs.c — libFuzzer target for congestion.c: the XON/XOFF body parsers and the
 * ntor-v3 CC extension parsers on arbitrary bytes (what parses re-encodes to the same bytes),
 * and the Vegas sender and flow-control state machines driven by arbitrary event sequences
 * (cwnd stays within [cc_cwnd_min, cc_cwnd_max], the send-time FIFO never overflows, acks never
 * exceed what was sent). The first input byte selects the mode. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/congestion.h"

static uint32_t take(const uint8_t **p, size_t *n, int bytes)
{
    uint32_t v = 0;
    for (int i = 0; i < bytes; i++) {
        v <<= 8;
        if (*n) {
            v |= **p;
            (*p)++;
            (*n)--;
        }
    }
    return v;
}

static void fuzz_bodies(const uint8_t *data, size_t size)
{
    uint8_t out[8];
    if (om_xoff_parse(data, size) == 0) {
        if (om_xoff_encode(out, sizeof out) != 1 || memcmp(out, data, 1) != 0) abort();
    }
    uint32_t kbps = 0;
    if (om_xon_parse(data, size, &kbps) == 0) {
        if (om_xon_encode(kbps, out, sizeof out) != 5 || memcmp(out, data, 5) != 0) abort();
    }
}

static void fuzz_extensions(const uint8_t *data, size_t size)
{
    if (size < 1) return;
    int32_t cc_inc = data[0];
    data++;
    size--;
    uint8_t inc = 0;
    int r = om_cc_ext_response_parse(data, size, cc_inc, &inc);
    if (r < -1 || r > 1) abort();
    if (r == 1) {
        if (inc == 0 || inc > cc_inc + 1 || inc < cc_inc - 1) abort();
        uint8_t out[8];
        size_t len = sizeof out;
        uint8_t again = 0;
        if (om_cc_ext_response_encode(inc, out, &len) != 0 ||
            om_cc_ext_response_parse(out, len, cc_inc, &again) != 1 || again != inc)
            abort();
    }
    /* Both go through the same list codec: a list the request parser refuses is refused by the
     * response parser too (which may also refuse a well-formed list for its value). */
    int q = om_cc_ext_request_parse(data, size);
    if (q < -1 || q > 1 || (q < 0 && r != -1)) abort();
}

static const char *const tunables[] = {
    "cc_sendme_inc",       "cc_cwnd_init",          "cc_cwnd_min",         "cc_cwnd_max",
    "cc_cwnd_inc",         "cc_cwnd_inc_pct_ss",    "cc_cwnd_inc_rate",    "cc_cwnd_full_gap",
    "cc_cwnd_full_minpct", "cc_cwnd_full_per_cwnd", "cc_ewma_cwnd_pct",    "cc_ewma_max",
    "cc_ewma_ss",          "cc_rtt_reset_pct",      "cc_ss_max",           "cc_vegas_alpha_exit",
    "cc_vegas_beta_exit",  "cc_vegas_gamma_exit",   "cc_vegas_delta_exit", "cc_sscap_exit",
};
#define N_TUNABLES (sizeof tunables / sizeof tunables[0])

static void fuzz_vegas(const uint8_t *data, size_t size)
{
    om_cc_params_t p;
    om_cc_params_default(&p);
    /* A few parameter overrides first (clamped to tor's ranges). */
    int n_over = (int)take(&data, &size, 1) % 6;
    for (int i = 0; i < n_over; i++) {
        uint32_t which = take(&data, &size, 1) % N_TUNABLES;
        int32_t v = (int32_t)take(&data, &size, 4);
        om_cc_params_set(&p, tunables[which], v);
    }
    uint8_t inc = (uint8_t)take(&data, &size, 1);
    om_cc_t cc;
    if (om_cc_init(&cc, &p, inc) != 0) {
        if (inc != 0) abort();
        return;
    }
    uint64_t now = take(&data, &size, 4);
    uint64_t sent = 0, acked = 0;
    while (size) {
        uint8_t op = (uint8_t)take(&data, &size, 1);
        switch (op % 4) {
        case 0: /* fill (part of) the window */
        case 1: {
            uint32_t k = take(&data, &size, 2);
            while (k-- && om_cc_can_send(&cc)) {
                if (om_cc_note_data_sent(&cc, now) < 0) abort(); /* can_send said yes */
                sent++;
            }
            break;
        }
        case 2: { /* a SENDME after some time (possibly none, possibly backwards) */
            uint32_t dt = take(&data, &size, 3);
            if (op & 0x80)
                now = now > dt ? now - dt : 0;
            else
                now += (uint64_t)dt << (op >> 4 & 7);
            uint64_t pend = cc.pending_n;
            int r = om_cc_note_sendme_received(&cc, now);
            if ((r < 0) != (pend == 0)) abort();
            if (r == 0) acked += cc.sendme_inc;
            break;
        }
        case 3:
            om_cc_set_chan_blocked(&cc, op & 0x80);
            break;
        }
        uint64_t lo = cc.cwnd_min < cc.cwnd_max ? cc.cwnd_min : cc.cwnd_max;
        if (cc.cwnd < lo || cc.cwnd > cc.cwnd_max || cc.pending_n > OM_CC_MAX_PENDING ||
            acked > sent || cc.inflight != sent - acked)
            abort();
    }
    char buf[160];
    om_cc_format(&cc, buf, sizeof buf);
}

static void fuzz_flow(const uint8_t *data, size_t size)
{
    om_flow_recv_t rx;
    om_flow_send_t tx;
    uint8_t mode = (uint8_t)take(&data, &size, 1);
    om_flow_recv_init(&rx, NULL, mode & 1);
    om_flow_send_init(&tx, NULL, mode & 2);
    uint64_t now = take(&data, &size, 4);
    while (size) {
        uint8_t op = (uint8_t)take(&data, &size, 1);
        uint32_t kbps = 0;
        om_flow_action_t a = OM_FLOW_NONE;
        bool was_off = rx.xoff_sent;
        switch (op % 5) {
        case 0:
            now += take(&data, &size, 3);
            a = om_flow_note_buffered(&rx, take(&data, &size, 3) << (op >> 5), now, &kbps);
            break;
        case 1:
            now += take(&data, &size, 3);
            a = om_flow_note_drained(&rx, take(&data, &size, 4), take(&data, &size, 3) >> (op >> 5),
                                     now, &kbps);
            break;
        case 2:
            now = now > 1000 ? now - 1000 : 0; /* a clock going back */
            a = om_flow_note_drained(&rx, 1, 0, now, &kbps);
            break;
        case 3: {
            uint8_t body[6];
            size_t n = take(&data, &size, 1) % 7;
            for (size_t i = 0; i < n; i++)
                body[i] = (uint8_t)take(&data, &size, 1);
            om_flow_msg_t m =
                (op & 0x20) ? om_flow_on_xon(&tx, body, n) : om_flow_on_xoff(&tx, body, n);
            if (m == OM_FLOW_MSG_MALFORMED && n >= 5 && body[0] == 0) abort();
            break;
        }
        case 4:
            om_flow_send_note_sent(&tx, take(&data, &size, 3));
            break;
        }
        /* XOFF only when none is outstanding; XON only as the answer to one or as advice. */
        if (a == OM_FLOW_SEND_XOFF && (was_off || !rx.xoff_sent)) abort();
        if (a == OM_FLOW_SEND_XON && (rx.xoff_sent || kbps != rx.ewma_rate_last_sent)) abort();
        if (tx.total_bytes_xmit > 10u * 1024 * 1024) abort();
        (void)om_flow_rate_bytes_per_sec(&tx);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t mode = data[0] % 4;
    data++;
    size--;
    if (size > 4096) size = 4096;
    switch (mode) {
    case 0:
        fuzz_bodies(data, size);
        break;
    case 1:
        fuzz_extensions(data, size);
        break;
    case 2:
        fuzz_vegas(data, size);
        break;
    default:
        fuzz_flow(data, size);
        break;
    }
    return 0;
}

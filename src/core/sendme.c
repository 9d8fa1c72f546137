/* sendme.c — circuit- and stream-level flow control shared by origin and relay circuits (see
 * sendme.h): windows, the FIFO of digests for authenticated SENDMEs (proposal 289), SENDME
 * validation as tor 0.4.9's sendme_is_valid, and the congestion-control hooks (proposal 324,
 * congestion.c's Vegas and XON/XOFF). */
#include "core/sendme.h"

#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/relay_msg.h"

struct om_sendme_cc {
    om_cc_params_t params; /* as negotiated: a later consensus does not change this hop */
    om_cc_t cc;
    /* Digests of the cells whose SENDMEs are outstanding: congestion.c's send-time FIFO bounds
     * them at OM_CC_MAX_PENDING (om_cc_can_send stops before more). */
    uint8_t digests[OM_CC_MAX_PENDING][20];
    uint32_t dig_head, dig_n;
};

void om_sendme_init(om_sendme_t *s, uint8_t accept_min_version)
{
    memset(s, 0, sizeof *s);
    s->package_window = OM_SENDME_CIRC_WINDOW_START;
    s->deliver_window = OM_SENDME_CIRC_WINDOW_START;
    s->recv_inc = OM_SENDME_CIRC_INCREMENT;
    s->accept_min_version = accept_min_version;
}

int om_sendme_enable_cc(om_sendme_t *s, const om_cc_params_t *params, uint8_t sendme_inc,
                        om_cc_path_t path)
{
    if (!sendme_inc) return -1;
    om_sendme_cc_t *c = calloc(1, sizeof *c);
    if (!c) return -1;
    if (params)
        c->params = *params;
    else
        om_cc_params_default(&c->params);
    if (om_cc_init_path(&c->cc, &c->params, sendme_inc, path) < 0) {
        free(c);
        return -1;
    }
    free(s->cc);
    s->cc = c;
    s->recv_inc = sendme_inc;
    return 0;
}

void om_sendme_clear(om_sendme_t *s)
{
    free(s->cc);
    s->cc = NULL;
    s->recv_inc = OM_SENDME_CIRC_INCREMENT;
}

bool om_sendme_cc_active(const om_sendme_t *s)
{
    return s->cc != NULL;
}

om_cc_t *om_sendme_cc(om_sendme_t *s)
{
    return s->cc ? &s->cc->cc : NULL;
}

const om_cc_params_t *om_sendme_cc_params(const om_sendme_t *s)
{
    return s->cc ? &s->cc->params : NULL;
}

/* ---------------------------------------------------------------- sending */

bool om_sendme_can_package(const om_sendme_t *s)
{
    if (s->cc) return om_cc_can_send(&s->cc->cc);
    return s->package_window > 0;
}

uint8_t *om_sendme_note_packaged(om_sendme_t *s, uint64_t now_usec)
{
    if (s->cc) {
        /* Prop 324 3: inflight/cwnd; the cells whose SENDME will come back have their send time
         * queued for the RTT (congestion.c) and their digest kept here. */
        om_sendme_cc_t *c = s->cc;
        if (om_cc_note_data_sent(&c->cc, now_usec) != 1 || c->dig_n >= OM_CC_MAX_PENDING)
            return NULL;
        return c->digests[(c->dig_head + c->dig_n++) % OM_CC_MAX_PENDING];
    }
    s->package_window--;
    /* Proposal 289: the other end answers the cell that brings our window to a multiple of the
     * increment with a SENDME carrying that cell's digest. */
    if (s->package_window % OM_SENDME_CIRC_INCREMENT != 0 || s->dig_n >= OM_SENDME_FIXED_DIGESTS)
        return NULL;
    return s->digests[(s->dig_head + s->dig_n++) % OM_SENDME_FIXED_DIGESTS];
}

/* Pop the oldest outstanding digest into out; false if none (tor: "We received a SENDME but we
 * have no cell digests to match"). */
static bool pop_digest(om_sendme_t *s, uint8_t out[20])
{
    if (s->cc) {
        om_sendme_cc_t *c = s->cc;
        if (!c->dig_n) return false;
        memcpy(out, c->digests[c->dig_head], 20);
        c->dig_head = (c->dig_head + 1) % OM_CC_MAX_PENDING;
        c->dig_n--;
        return true;
    }
    if (!s->dig_n) return false;
    memcpy(out, s->digests[s->dig_head], 20);
    s->dig_head = (uint8_t)((s->dig_head + 1) % OM_SENDME_FIXED_DIGESTS);
    s->dig_n--;
    return true;
}

/* tor-spec 7.3.1 / tor's trunnel sendme_cell: VERSION (0 or 1), DATA_LEN (u16), DATA; version 1
 * carries exactly the 20-byte digest; an empty body is version 0. */
static int sendme_valid(om_sendme_t *s, const uint8_t *body, size_t len, const char **why)
{
    uint8_t version = 0;
    const uint8_t *digest = NULL;
    if (len > 0) {
        size_t dlen = len >= 3 ? (size_t)body[1] << 8 | body[2] : 0;
        if (len < 3 || body[0] > OM_SENDME_MAX_VERSION || dlen > len - 3 ||
            (body[0] == 1 && dlen != 20)) {
            *why = "unparseable SENDME";
            return -1;
        }
        version = body[0];
        digest = body + 3;
    }
    if (version < s->accept_min_version) {
        *why = "SENDME version below the consensus's sendme_accept_min_version";
        return -1;
    }
    /* Popped whatever the version, so v0 SENDMEs don't let digests pile up (tor). */
    uint8_t expect[20];
    if (!pop_digest(s, expect)) {
        *why = "circuit SENDME without outstanding data";
        return -1;
    }
    if (version == 1 && !om_mem_eq_ct(expect, digest, 20)) {
        *why = "circuit SENDME with a wrong authenticated digest";
        return -1;
    }
    return 0;
}

int om_sendme_process(om_sendme_t *s, const uint8_t *body, size_t len, uint64_t now_usec,
                      const char **why)
{
    if (sendme_valid(s, body, len, why) < 0) return -1;
    if (s->cc) {
        if (om_cc_note_sendme_received(&s->cc->cc, now_usec) < 0) {
            *why = "circuit SENDME without outstanding data";
            return -1;
        }
        return 0;
    }
    if (s->package_window + OM_SENDME_CIRC_INCREMENT > OM_SENDME_CIRC_WINDOW_START) {
        *why = "circuit SENDME beyond the window";
        return -1;
    }
    s->package_window += OM_SENDME_CIRC_INCREMENT;
    return 0;
}

void om_sendme_set_chan_blocked(om_sendme_t *s, bool blocked)
{
    if (s->cc) om_cc_set_chan_blocked(&s->cc->cc, blocked);
}

/* ---------------------------------------------------------------- receiving */

int om_sendme_note_delivered(om_sendme_t *s)
{
    if (--s->deliver_window < 0) return -1;
    /* tor's sendme_circuit_consider_sending: one SENDME each time the window falls to
     * 1000 - inc (the digest is that of the cell just received, so never two at once). */
    if (s->deliver_window > OM_SENDME_CIRC_WINDOW_START - s->recv_inc) return 0;
    s->deliver_window += s->recv_inc;
    return 1;
}

size_t om_sendme_build_v1(uint8_t out[OM_SENDME_V1_BODY_LEN], const uint8_t digest[20])
{
    out[0] = 1;
    out[1] = 0;
    out[2] = 20;
    memcpy(out + 3, digest, 20);
    return OM_SENDME_V1_BODY_LEN;
}

/* ---------------------------------------------------------------- streams */

void om_stream_flow_init(om_stream_flow_t *f, const om_sendme_t *hop, bool edge_is_exit)
{
    memset(f, 0, sizeof *f);
    f->package_window = OM_SENDME_STREAM_WINDOW_START;
    f->deliver_window = OM_SENDME_STREAM_WINDOW_START;
    const om_cc_params_t *p = hop ? om_sendme_cc_params(hop) : NULL;
    if (p) {
        /* Prop 324 4: no stream windows; XON/XOFF. */
        f->cc = true;
        om_flow_recv_init(&f->rx, p, edge_is_exit);
        om_flow_send_init(&f->tx, p, false);
    }
}

bool om_stream_flow_can_package(const om_stream_flow_t *f)
{
    return f->cc ? om_flow_may_read(&f->tx) : f->package_window > 0;
}

void om_stream_flow_note_packaged(om_stream_flow_t *f, size_t len)
{
    if (f->cc)
        om_flow_send_note_sent(&f->tx, len);
    else
        f->package_window--;
}

int om_stream_flow_process_sendme(om_stream_flow_t *f, const char **why)
{
    if (f->cc) {
        /* Prop 324 4: flow control replaces stream SENDMEs (tor: "Congestion control got stream
         * sendme"). */
        *why = "stream SENDME on a congestion-controlled circuit";
        return -1;
    }
    if (f->package_window + OM_SENDME_STREAM_INCREMENT > OM_SENDME_STREAM_WINDOW_START) {
        *why = "stream SENDME beyond the window";
        return -1;
    }
    f->package_window += OM_SENDME_STREAM_INCREMENT;
    return 0;
}

int om_stream_flow_note_delivered(om_stream_flow_t *f)
{
    if (f->cc) return 0;
    return --f->deliver_window < 0 ? -1 : 0;
}

int om_stream_flow_take_due_sendmes(om_stream_flow_t *f)
{
    int n = 0;
    if (f->cc) return 0;
    while (f->deliver_window <= OM_SENDME_STREAM_WINDOW_START - OM_SENDME_STREAM_INCREMENT) {
        f->deliver_window += OM_SENDME_STREAM_INCREMENT;
        n++;
    }
    return n;
}

om_flow_msg_t om_stream_flow_on_xon_xoff(om_stream_flow_t *f, uint8_t command, const uint8_t *body,
                                         size_t len, bool *ignored)
{
    *ignored = !f->cc;
    if (!f->cc) return OM_FLOW_MSG_OK; /* tor: "Got XOFF on invalid stream?", nothing closed */
    return command == OM_RELAY_XOFF ? om_flow_on_xoff(&f->tx, body, len)
                                    : om_flow_on_xon(&f->tx, body, len);
}

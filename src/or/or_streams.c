/* or_streams.c — the last hop's streams on a relay: the stream table of each circuit, circuit and
 * stream windows with authenticated SENDMEs (tor-spec 7.3, 7.4, proposal 289) for what we send
 * and what we receive, END handling, BEGIN_DIR served from the directory cache (tor-spec 6.2:
 * empty CONNECTED, the HTTP exchange, END DONE), and BEGIN/RESOLVE handed to the exit (or_exit.c)
 * or refused with END EXITPOLICY when this relay is no exit. */
#include "or/or_streams.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "or/or_streams_int.h"

#define CIRC_WINDOW_START  1000
#define CIRC_WINDOW_INC    100
#define SENDME_DIGESTS_MAX (CIRC_WINDOW_START / CIRC_WINDOW_INC)

typedef struct {
    or_stream_t *streams;
    unsigned n_streams;
    int package_window, deliver_window;
    uint8_t sendme_digests[SENDME_DIGESTS_MAX][20];
    int n_sendme_digests;
    /* Congestion control (proposal 324), when negotiated in CREATE2: Vegas instead of the
     * package window, a circuit SENDME per sendme_inc DATA cells received. */
    bool cc;
    om_cc_t ccs;
    uint8_t cc_digests[OM_CC_MAX_PENDING][20]; /* of the cells whose SENDMEs are due */
    unsigned dig_head, dig_n;
    uint64_t data_received;
} circ_state_t;

om_or_streams_t *om_or_streams_new(om_dircache_t *dircache, om_or_exit_t *exit)
{
    om_or_streams_t *s = calloc(1, sizeof *s);
    if (s) {
        s->dircache = dircache;
        s->exit = exit;
    }
    return s;
}

void om_or_streams_free(om_or_streams_t *s)
{
    free(s);
}

void om_or_streams_stats(const om_or_streams_t *s, om_or_streams_stats_t *out)
{
    *out = s->st;
}

static circ_state_t *state_of(om_or_circ_t *circ)
{
    if (!circ->stream_state) {
        circ_state_t *cs = calloc(1, sizeof *cs);
        if (!cs) return NULL;
        cs->package_window = CIRC_WINDOW_START;
        cs->deliver_window = CIRC_WINDOW_START;
        if (circ->cc_sendme_inc && om_cc_init(&cs->ccs, circ->cc_params, circ->cc_sendme_inc) == 0)
            cs->cc = true;
        circ->stream_state = cs;
    }
    return circ->stream_state;
}

static or_stream_t *find_stream(circ_state_t *cs, uint16_t id)
{
    for (or_stream_t *s = cs->streams; s; s = s->next)
        if (s->id == id) return s;
    return NULL;
}

void or_stream_free(or_stream_t *s)
{
    circ_state_t *cs = s->circ->stream_state;
    if (cs->cc && s->kind == OR_STREAM_EXIT)
        om_info("Circuit %u stream %u ended: flow control got %u XOFF, %u XON; sent %llu XOFF, "
                "%llu XON",
                s->circ->p_circ_id, s->id, s->flow_tx.num_xoff_recv, s->flow_tx.num_xon_recv,
                (unsigned long long)s->flow_rx.n_xoff_sent,
                (unsigned long long)s->flow_rx.n_xon_sent);
    for (or_stream_t **pp = &cs->streams; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            cs->n_streams--;
            break;
        }
    or_exit_release(s);
    free(s->req);
    free(s->resp);
    free(s);
}

void or_stream_end(or_stream_t *s, uint8_t reason, const uint8_t *extra, size_t extra_len)
{
    uint8_t body[1 + 32];
    body[0] = reason;
    if (extra_len > sizeof body - 1) extra_len = 0;
    if (extra_len) memcpy(body + 1, extra, extra_len);
    om_or_circ_send_back(s->circ, OM_RELAY_END, s->id, body, 1 + extra_len);
    or_stream_free(s);
}

bool or_stream_cc(const or_stream_t *s)
{
    const circ_state_t *cs = s->circ->stream_state;
    return cs->cc;
}

bool or_stream_can_send(const or_stream_t *s)
{
    const circ_state_t *cs = s->circ->stream_state;
    if (om_or_circ_back_blocked(s->circ)) return false; /* until the queue drains */
    if (cs->cc) /* prop 324: cwnd - inflight, and the client's XOFF, replace the windows */
        return om_cc_can_send(&cs->ccs) && om_flow_may_read(&s->flow_tx);
    return s->package_window > 0 && cs->package_window > 0;
}

static void send_flow(or_stream_t *s, om_flow_action_t a, uint32_t kbps)
{
    uint8_t body[8];
    if (a == OM_FLOW_SEND_XOFF) {
        int n = om_xoff_encode(body, sizeof body);
        if (n > 0) om_or_circ_send_back(s->circ, OM_RELAY_XOFF, s->id, body, (size_t)n);
    } else if (a == OM_FLOW_SEND_XON) {
        int n = om_xon_encode(kbps, body, sizeof body);
        if (n > 0) om_or_circ_send_back(s->circ, OM_RELAY_XON, s->id, body, (size_t)n);
    }
}

void or_stream_flow_buffered(or_stream_t *s, size_t buffered)
{
    uint32_t kbps = 0;
    send_flow(s, om_flow_note_buffered(&s->flow_rx, buffered, om_now_usec(), &kbps), kbps);
}

void or_stream_flow_drained(or_stream_t *s, size_t written, size_t buffered)
{
    uint32_t kbps = 0;
    send_flow(s, om_flow_note_drained(&s->flow_rx, written, buffered, om_now_usec(), &kbps), kbps);
}

int or_stream_send_data(or_stream_t *s, const uint8_t *data, size_t len)
{
    circ_state_t *cs = s->circ->stream_state;
    if (!or_stream_can_send(s) || len > OM_RELAY_PAYLOAD_LEN) return -1;
    if (om_or_circ_send_back(s->circ, OM_RELAY_DATA, s->id, data, len) < 0) return -1;
    if (cs->cc) {
        /* The client answers the sendme_inc-th cell with a SENDME carrying its digest. */
        if (om_cc_note_data_sent(&cs->ccs, om_now_usec()) == 1 && cs->dig_n < OM_CC_MAX_PENDING)
            om_relay_crypto_last_digest_back(
                &s->circ->crypto, cs->cc_digests[(cs->dig_head + cs->dig_n++) % OM_CC_MAX_PENDING]);
        om_flow_send_note_sent(&s->flow_tx, len);
        return 0;
    }
    s->package_window--;
    cs->package_window--;
    /* Proposal 289: the client answers every 100th DATA cell with a SENDME carrying the digest
     * of that cell. */
    if (cs->package_window % CIRC_WINDOW_INC == 0 && cs->n_sendme_digests < SENDME_DIGESTS_MAX)
        om_relay_crypto_last_digest_back(&s->circ->crypto,
                                         cs->sendme_digests[cs->n_sendme_digests++]);
    return 0;
}

/* BEGIN_DIR answer: as much as the windows allow; END DONE when all is sent. */
static void dir_pump(or_stream_t *s)
{
    while (s->resp && s->resp_off < s->resp_len && or_stream_can_send(s)) {
        size_t n = s->resp_len - s->resp_off;
        if (n > OM_RELAY_PAYLOAD_LEN) n = OM_RELAY_PAYLOAD_LEN;
        if (or_stream_send_data(s, s->resp + s->resp_off, n) < 0) return;
        s->resp_off += n;
    }
    if (s->resp && s->resp_off == s->resp_len) or_stream_end(s, OM_END_DONE, NULL, 0);
}

/* Windows opened: every stream sends what it has. */
static void pump_all(om_or_circ_t *circ)
{
    circ_state_t *cs = circ->stream_state;
    or_stream_t *s = cs->streams;
    while (s && (cs->cc ? om_cc_can_send(&cs->ccs) : cs->package_window > 0)) {
        or_stream_t *next = s->next; /* s may be freed */
        if (s->kind == OR_STREAM_DIR)
            dir_pump(s);
        else if (s->kind == OR_STREAM_EXIT)
            or_exit_pull(s);
        s = next;
    }
}

static int circuit_sendme(om_or_circ_t *circ, circ_state_t *cs, const uint8_t *body, size_t len)
{
    if (cs->cc) {
        /* Proposal 289 digest of the oldest outstanding cell, then Vegas (prop 324 3). */
        bool ok = cs->dig_n > 0;
        if (ok && len >= 3 && body[0] == 1) {
            size_t dlen = (size_t)body[1] << 8 | body[2];
            ok = dlen >= 20 && len >= 3 + dlen &&
                 om_mem_eq_ct(cs->cc_digests[cs->dig_head], body + 3, 20);
        }
        if (cs->dig_n) {
            cs->dig_head = (cs->dig_head + 1) % OM_CC_MAX_PENDING;
            cs->dig_n--;
        }
        if (!ok || om_cc_note_sendme_received(&cs->ccs, om_now_usec()) < 0) {
            om_info("Circuit %u: bad or unexpected circuit SENDME (congestion control: %u "
                    "outstanding, version %d, length %zu, inflight %llu)",
                    circ->p_circ_id, cs->dig_n, len ? body[0] : -1, len,
                    (unsigned long long)om_cc_inflight(&cs->ccs));
            return -1;
        }
        pump_all(circ);
        return 0;
    }
    /* tor-spec 7.3.1: version 1 carries the digest of our DATA cell that triggered it. */
    if (cs->n_sendme_digests == 0 || cs->package_window + CIRC_WINDOW_INC > CIRC_WINDOW_START) {
        om_info("Circuit %u: unexpected circuit SENDME (window %d)", circ->p_circ_id,
                cs->package_window);
        return -1;
    }
    if (len >= 3 && body[0] == 1) {
        size_t dlen = (size_t)body[1] << 8 | body[2];
        if (dlen < 20 || len < 3 + dlen || !om_mem_eq_ct(cs->sendme_digests[0], body + 3, 20)) {
            om_info("Circuit %u: SENDME with a wrong digest", circ->p_circ_id);
            return -1;
        }
    }
    memmove(cs->sendme_digests[0], cs->sendme_digests[1], (size_t)(cs->n_sendme_digests - 1) * 20);
    cs->n_sendme_digests--;
    cs->package_window += CIRC_WINDOW_INC;
    pump_all(circ);
    return 0;
}

/* A DATA cell for us: count it against the circuit's deliver window, sending SENDME v1. */
static void note_delivered(om_or_circ_t *circ, circ_state_t *cs)
{
    if (cs->cc) {
        /* prop 324: one circuit SENDME per sendme_inc DATA cells. */
        if (om_cc_recv_should_sendme(++cs->data_received, circ->cc_sendme_inc)) {
            uint8_t body[3 + 20] = {1, 0, 20};
            om_relay_crypto_last_digest_fwd(&circ->crypto, body + 3);
            om_or_circ_send_back(circ, OM_RELAY_SENDME, 0, body, sizeof body);
        }
        return;
    }
    if (--cs->deliver_window <= CIRC_WINDOW_START - CIRC_WINDOW_INC) {
        uint8_t body[3 + 20] = {1, 0, 20};
        om_relay_crypto_last_digest_fwd(&circ->crypto, body + 3);
        om_or_circ_send_back(circ, OM_RELAY_SENDME, 0, body, sizeof body);
        cs->deliver_window += CIRC_WINDOW_INC;
    }
}

static or_stream_t *new_stream(om_or_streams_t *m, om_or_circ_t *circ, circ_state_t *cs,
                               uint16_t id, or_stream_kind_t kind)
{
    uint8_t reason = OM_END_RESOURCELIMIT;
    if (cs->n_streams >= OM_OR_MAX_STREAMS_PER_CIRC) {
        om_or_circ_send_back(circ, OM_RELAY_END, id, &reason, 1);
        return NULL;
    }
    or_stream_t *s = calloc(1, sizeof *s);
    if (!s) {
        om_or_circ_send_back(circ, OM_RELAY_END, id, &reason, 1);
        return NULL;
    }
    s->m = m;
    s->circ = circ;
    s->id = id;
    s->kind = kind;
    s->package_window = OR_STREAM_WINDOW_START;
    s->deliver_window = OR_STREAM_WINDOW_START;
    if (cs->cc) {
        om_flow_send_init(&s->flow_tx, circ->cc_params, false);
        om_flow_recv_init(&s->flow_rx, circ->cc_params, true);
    }
    s->next = cs->streams;
    cs->streams = s;
    cs->n_streams++;
    return s;
}

static void begin_dir(om_or_streams_t *m, om_or_circ_t *circ, circ_state_t *cs, uint16_t id)
{
    if (!m->dircache || !om_dircache_ready(m->dircache)) {
        uint8_t reason = OM_END_NOTDIRECTORY;
        om_or_circ_send_back(circ, OM_RELAY_END, id, &reason, 1);
        return;
    }
    if (!new_stream(m, circ, cs, id, OR_STREAM_DIR)) return;
    /* tor-spec 6.2: BEGIN_DIR is answered with an empty CONNECTED. */
    om_or_circ_send_back(circ, OM_RELAY_CONNECTED, id, NULL, 0);
}

static void dir_data(or_stream_t *s, const uint8_t *body, size_t len)
{
    if (!or_stream_cc(s) && --s->deliver_window <= OR_STREAM_WINDOW_START - OR_STREAM_WINDOW_INC) {
        om_or_circ_send_back(s->circ, OM_RELAY_SENDME, s->id, NULL, 0);
        s->deliver_window += OR_STREAM_WINDOW_INC;
    }
    if (s->resp) return; /* already answering: HTTP/1.0, one request per stream */
    if (!s->req && !(s->req = malloc(OM_DIRCACHE_MAX_REQUEST))) {
        or_stream_end(s, OM_END_RESOURCELIMIT, NULL, 0);
        return;
    }
    if (s->req_len + len > OM_DIRCACHE_MAX_REQUEST) {
        om_info("Circuit %u stream %u: directory request longer than %d bytes", s->circ->p_circ_id,
                s->id, OM_DIRCACHE_MAX_REQUEST);
        or_stream_end(s, OM_END_TORPROTOCOL, NULL, 0);
        return;
    }
    memcpy(s->req + s->req_len, body, len);
    s->req_len += len;
    char path[1024];
    int r = om_dircache_parse_request(s->req, s->req_len, path, sizeof path);
    if (r == 0) return;
    if (r < 0) {
        static const char bad[] = "HTTP/1.0 400 Bad request\r\n\r\n";
        s->resp = malloc(sizeof bad - 1);
        if (s->resp) {
            memcpy(s->resp, bad, sizeof bad - 1);
            s->resp_len = sizeof bad - 1;
        }
    } else {
        s->resp = om_dircache_answer(s->m->dircache, path, &s->resp_len);
        s->m->st.dir_requests++;
        om_debug("Circuit %u stream %u: directory GET %.100s -> %zu bytes", s->circ->p_circ_id,
                 s->id, path, s->resp_len);
    }
    if (!s->resp) {
        or_stream_end(s, OM_END_INTERNAL, NULL, 0);
        return;
    }
    s->m->st.dir_bytes += s->resp_len;
    dir_pump(s);
}

static int begin(om_or_streams_t *m, om_or_circ_t *circ, circ_state_t *cs,
                 const om_relay_header_t *hdr, const uint8_t *body)
{
    uint8_t reason = OM_END_EXITPOLICY;
    if (!m->exit) {
        /* Not an exit: tor-spec 6.2 END EXITPOLICY (tor's non-exits answer so). */
        m->st.refused_begin++;
        om_or_circ_send_back(circ, OM_RELAY_END, hdr->stream_id, &reason, 1);
        return 0;
    }
    om_begin_t b;
    if (hdr->command == OM_RELAY_BEGIN) {
        if (om_begin_parse(&b, body, hdr->length) < 0) {
            /* tor-spec 6.2: a malformed BEGIN gets END TORPROTOCOL; the circuit stays. */
            om_info("Circuit %u: malformed BEGIN", circ->p_circ_id);
            reason = OM_END_TORPROTOCOL;
            om_or_circ_send_back(circ, OM_RELAY_END, hdr->stream_id, &reason, 1);
            return 0;
        }
    } else {
        memset(&b, 0, sizeof b);
        size_t n = strnlen((const char *)body, hdr->length);
        if (n == 0 || n >= sizeof b.host || n == hdr->length) {
            reason = OM_END_TORPROTOCOL;
            om_or_circ_send_back(circ, OM_RELAY_END, hdr->stream_id, &reason, 1);
            return 0;
        }
        memcpy(b.host, body, n);
    }
    or_stream_t *s =
        new_stream(m, circ, cs, hdr->stream_id,
                   hdr->command == OM_RELAY_BEGIN ? OR_STREAM_EXIT : OR_STREAM_RESOLVE);
    if (!s) return 0;
    s->begin = b;
    if (s->kind == OR_STREAM_EXIT)
        or_exit_begin(m->exit, s);
    else
        or_exit_resolve(m->exit, s);
    return 0;
}

int om_or_streams_handle(om_or_circ_t *circ, const om_relay_header_t *hdr, const uint8_t *body,
                         bool early, void *arg)
{
    om_or_streams_t *m = arg;
    (void)early;
    circ_state_t *cs = state_of(circ);
    if (!cs) return -1;
    or_stream_t *s = hdr->stream_id ? find_stream(cs, hdr->stream_id) : NULL;
    switch (hdr->command) {
    case OM_RELAY_BEGIN_DIR:
    case OM_RELAY_BEGIN:
    case OM_RELAY_RESOLVE:
        if (!hdr->stream_id || s) {
            om_info("Circuit %u: %s with stream ID %u %s", circ->p_circ_id,
                    om_relay_command_name(hdr->command), hdr->stream_id,
                    s ? "already in use" : "(zero)");
            return -1;
        }
        if (hdr->command == OM_RELAY_BEGIN_DIR) {
            begin_dir(m, circ, cs, hdr->stream_id);
            return 0;
        }
        return begin(m, circ, cs, hdr, body);
    case OM_RELAY_DATA:
        if (!hdr->stream_id) return -1;
        note_delivered(circ, cs);
        if (!s) return 0; /* data for a stream we closed (half-closed): dropped */
        if (s->kind == OR_STREAM_DIR)
            dir_data(s, body, hdr->length);
        else if (s->kind == OR_STREAM_EXIT)
            or_exit_data(s, body, hdr->length);
        return 0;
    case OM_RELAY_END:
        if (s) or_stream_free(s);
        return 0;
    case OM_RELAY_SENDME:
        if (!hdr->stream_id) return circuit_sendme(circ, cs, body, hdr->length);
        if (cs->cc) {
            /* prop 324 4: no stream SENDMEs with congestion control (tor closes the circuit). */
            om_info("Circuit %u: stream SENDME on a congestion-controlled circuit",
                    circ->p_circ_id);
            return -1;
        }
        if (s) {
            if (s->package_window + OR_STREAM_WINDOW_INC > OR_STREAM_WINDOW_START) {
                om_info("Circuit %u stream %u: unexpected stream SENDME", circ->p_circ_id, s->id);
                return -1;
            }
            s->package_window += OR_STREAM_WINDOW_INC;
            if (s->kind == OR_STREAM_DIR)
                dir_pump(s);
            else if (s->kind == OR_STREAM_EXIT)
                or_exit_pull(s);
        }
        return 0;
    case OM_RELAY_XOFF:
    case OM_RELAY_XON: {
        if (!cs->cc) {
            om_info("Circuit %u: %s without congestion control", circ->p_circ_id,
                    om_relay_command_name(hdr->command));
            return -1;
        }
        if (!s) return 0;
        om_flow_msg_t r = hdr->command == OM_RELAY_XOFF
                              ? om_flow_on_xoff(&s->flow_tx, body, hdr->length)
                              : om_flow_on_xon(&s->flow_tx, body, hdr->length);
        if (r == OM_FLOW_MSG_MALFORMED) return -1; /* prop 324 4.1 */
        if (s->kind == OR_STREAM_DIR)
            dir_pump(s);
        else if (s->kind == OR_STREAM_EXIT)
            or_exit_pull(s);
        return 0;
    }
    default:
        om_debug("Circuit %u: ignoring relay command %s", circ->p_circ_id,
                 om_relay_command_name(hdr->command));
        return 0;
    }
}

void om_or_streams_writable(om_or_circ_t *circ, void *arg)
{
    (void)arg;
    if (circ->stream_state) pump_all(circ);
}

void om_or_streams_circ_free(om_or_circ_t *circ, void *arg)
{
    (void)arg;
    circ_state_t *cs = circ->stream_state;
    if (!cs) return;
    while (cs->streams)
        or_stream_free(cs->streams);
    free(cs);
    circ->stream_state = NULL;
}

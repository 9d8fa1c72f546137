/* or_streams.c — the last hop's stream layer on a relay: per circuit, the stream table and the
 * circuit's flow control (sendme.h: package and deliver windows with authenticated SENDMEs,
 * tor-spec 7.3 and proposal 289, or congestion control negotiated in CREATE2, proposal 324); per
 * stream, its windows or XON/XOFF (tor-spec 7.4, proposal 324 4), END and half-closed streams;
 * and the service table (stream_service.h) that answers BEGIN, BEGIN_DIR and RESOLVE. */
#include "or/or_streams.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/sendme.h"

/* tor's connection_outbuf_too_full: stream SENDMEs wait while the edge holds more. */
#define EDGE_SENDME_MAX (10 * OM_RELAY_PAYLOAD_LEN)

struct om_or_stream {
    struct om_or_stream *next;
    struct circ_state *cs;
    om_or_circ_t *circ;
    uint16_t id;
    const om_stream_service_t *svc;
    void *svc_state;
    om_stream_flow_t flow;
};

typedef struct circ_state {
    om_or_stream_t *streams;
    unsigned n_streams;
    om_sendme_t fc;             /* the circuit's flow control towards the client */
    om_dos_bucket_t dos_bucket; /* stream creation rate (the gate's) */
} circ_state_t;

struct om_or_streams {
    om_stream_service_t svcs[OM_OR_MAX_SERVICES];
    size_t n_svcs;
    om_cc_param_lookup_fn param;
    void *param_arg;
    om_or_stream_gate_fn gate;
    void *gate_arg;
    om_or_streams_stats_t st;
};

om_or_streams_t *om_or_streams_new(om_cc_param_lookup_fn param, void *param_arg)
{
    om_or_streams_t *m = calloc(1, sizeof *m);
    if (m) {
        m->param = param;
        m->param_arg = param_arg;
    }
    return m;
}

void om_or_streams_free(om_or_streams_t *m)
{
    free(m);
}

void om_or_streams_set_gate(om_or_streams_t *m, om_or_stream_gate_fn gate, void *arg)
{
    m->gate = gate;
    m->gate_arg = arg;
}

void om_or_streams_stats(const om_or_streams_t *m, om_or_streams_stats_t *out)
{
    *out = m->st;
}

static bool same_claim(const om_stream_service_t *a, const om_stream_service_t *b)
{
    if (a->command != b->command) return false;
    if (!a->hostname || !b->hostname) return !a->hostname && !b->hostname;
    return strcasecmp(a->hostname, b->hostname) == 0;
}

int om_or_streams_add_service(om_or_streams_t *m, const om_stream_service_t *svc)
{
    if (m->n_svcs >= OM_OR_MAX_SERVICES || !svc->begin || !svc->release) return -1;
    for (size_t i = 0; i < m->n_svcs; i++)
        if (same_claim(&m->svcs[i], svc)) return -1;
    m->svcs[m->n_svcs++] = *svc;
    return 0;
}

/* The service for an opening message: a named BEGIN service first, then the catch-all. */
static const om_stream_service_t *route(const om_or_streams_t *m, uint8_t command, const char *host)
{
    const om_stream_service_t *any = NULL;
    for (size_t i = 0; i < m->n_svcs; i++) {
        const om_stream_service_t *v = &m->svcs[i];
        if (v->command != command) continue;
        if (!v->hostname)
            any = v;
        else if (host && strcasecmp(v->hostname, host) == 0)
            return v;
    }
    return any;
}

static circ_state_t *state_of(om_or_streams_t *m, om_or_circ_t *circ)
{
    if (!circ->stream_state) {
        circ_state_t *cs = calloc(1, sizeof *cs);
        if (!cs) return NULL;
        int32_t minv =
            m->param ? m->param(m->param_arg, "sendme_accept_min_version", 0, 0, 255) : 0;
        om_sendme_init(&cs->fc, (uint8_t)minv);
        if (circ->cc_sendme_inc && om_sendme_enable_cc(&cs->fc, circ->cc_params,
                                                       circ->cc_sendme_inc, OM_CC_PATH_EXIT) < 0) {
            free(cs);
            return NULL;
        }
        circ->stream_state = cs;
    }
    return circ->stream_state;
}

static om_or_stream_t *find_stream(circ_state_t *cs, uint16_t id)
{
    for (om_or_stream_t *s = cs->streams; s; s = s->next)
        if (s->id == id) return s;
    return NULL;
}

static void send_end(om_or_circ_t *circ, uint16_t id, uint8_t reason)
{
    om_or_circ_send_back(circ, OM_RELAY_END, id, &reason, 1);
}

/* ---------------------------------------------------------------- the service's interface */

void om_or_stream_finish(om_or_stream_t *s)
{
    circ_state_t *cs = s->cs;
    if (s->flow.cc)
        om_info("Circuit %u stream %u ended: flow control got %u XOFF, %u XON; sent %llu XOFF, "
                "%llu XON",
                s->circ->p_circ_id, s->id, s->flow.tx.num_xoff_recv, s->flow.tx.num_xon_recv,
                (unsigned long long)s->flow.rx.n_xoff_sent,
                (unsigned long long)s->flow.rx.n_xon_sent);
    for (om_or_stream_t **pp = &cs->streams; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            cs->n_streams--;
            break;
        }
    s->svc->release(s->svc->arg, s);
    free(s);
}

void om_or_stream_end(om_or_stream_t *s, uint8_t reason, const uint8_t *extra, size_t extra_len)
{
    uint8_t body[1 + 32];
    body[0] = reason;
    if (extra_len > sizeof body - 1) extra_len = 0;
    if (extra_len) memcpy(body + 1, extra, extra_len);
    om_or_circ_send_back(s->circ, OM_RELAY_END, s->id, body, 1 + extra_len);
    om_or_stream_finish(s);
}

bool om_or_stream_can_send(const om_or_stream_t *s)
{
    if (om_or_circ_back_blocked(s->circ)) return false; /* until the queue drains */
    return om_sendme_can_package(&s->cs->fc) && om_stream_flow_can_package(&s->flow);
}

int om_or_stream_send_data(om_or_stream_t *s, const uint8_t *data, size_t len)
{
    if (!om_or_stream_can_send(s) || len > OM_RELAY_PAYLOAD_LEN) return -1;
    if (om_or_circ_send_back(s->circ, OM_RELAY_DATA, s->id, data, len) < 0) return -1;
    /* Proposal 289: the client answers some of our DATA cells with a SENDME carrying the digest
     * of that cell. */
    uint8_t *slot = om_sendme_note_packaged(&s->cs->fc, om_now_usec());
    if (slot) om_relay_crypto_last_digest_back(&s->circ->crypto, slot);
    om_stream_flow_note_packaged(&s->flow, len);
    return 0;
}

int om_or_stream_send(om_or_stream_t *s, uint8_t command, const uint8_t *body, size_t len)
{
    return om_or_circ_send_back(s->circ, command, s->id, body, len);
}

static void send_flow(om_or_stream_t *s, om_flow_action_t a, uint32_t kbps)
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

/* Fixed windows: the stream SENDMEs that are due, once the edge has room. */
static void consider_sendmes(om_or_stream_t *s, size_t buffered)
{
    if (buffered > EDGE_SENDME_MAX) return;
    for (int n = om_stream_flow_take_due_sendmes(&s->flow); n > 0; n--)
        om_or_circ_send_back(s->circ, OM_RELAY_SENDME, s->id, NULL, 0);
}

void om_or_stream_edge_buffered(om_or_stream_t *s, size_t buffered)
{
    if (!s->flow.cc) {
        consider_sendmes(s, buffered);
        return;
    }
    uint32_t kbps = 0;
    send_flow(s, om_flow_note_buffered(&s->flow.rx, buffered, om_now_usec(), &kbps), kbps);
}

void om_or_stream_edge_drained(om_or_stream_t *s, size_t written, size_t buffered)
{
    if (!s->flow.cc) {
        consider_sendmes(s, buffered);
        return;
    }
    uint32_t kbps = 0;
    send_flow(s, om_flow_note_drained(&s->flow.rx, written, buffered, om_now_usec(), &kbps), kbps);
}

void *om_or_stream_state(const om_or_stream_t *s)
{
    return s->svc_state;
}

void om_or_stream_set_state(om_or_stream_t *s, void *state)
{
    s->svc_state = state;
}

uint16_t om_or_stream_id(const om_or_stream_t *s)
{
    return s->id;
}

om_or_circ_t *om_or_stream_circ(const om_or_stream_t *s)
{
    return s->circ;
}

uint32_t om_or_stream_circ_id(const om_or_stream_t *s)
{
    return s->circ->p_circ_id;
}

/* ---------------------------------------------------------------- streams in */

/* Windows opened: every stream's service packages what it has. */
static void pump_all(om_or_circ_t *circ)
{
    circ_state_t *cs = circ->stream_state;
    om_or_stream_t *s = cs->streams;
    while (s && om_sendme_can_package(&cs->fc)) {
        om_or_stream_t *next = s->next; /* s may be freed */
        if (s->svc->pull) s->svc->pull(s->svc->arg, s);
        s = next;
    }
}

static int circuit_sendme(om_or_circ_t *circ, circ_state_t *cs, const uint8_t *body, size_t len)
{
    const char *why = NULL;
    if (om_sendme_process(&cs->fc, body, len, om_now_usec(), &why) < 0) {
        om_log_protocol("Circuit %u: %s", circ->p_circ_id, why);
        return -1;
    }
    pump_all(circ);
    return 0;
}

/* A DATA cell for us: the circuit's deliver window, with a SENDME v1 when one is due. */
static int note_delivered(om_or_circ_t *circ, circ_state_t *cs)
{
    int r = om_sendme_note_delivered(&cs->fc);
    if (r < 0) {
        om_log_protocol("Circuit %u: circuit deliver window below zero", circ->p_circ_id);
        return -1;
    }
    if (r == 1) {
        uint8_t digest[20], body[OM_SENDME_V1_BODY_LEN];
        om_relay_crypto_last_digest_fwd(&circ->crypto, digest);
        om_or_circ_send_back(circ, OM_RELAY_SENDME, 0, body, om_sendme_build_v1(body, digest));
    }
    return 0;
}

static om_or_stream_t *new_stream(om_or_streams_t *m, om_or_circ_t *circ, circ_state_t *cs,
                                  uint16_t id, const om_stream_service_t *svc)
{
    if (cs->n_streams >= OM_OR_MAX_STREAMS_PER_CIRC) {
        send_end(circ, id, OM_END_RESOURCELIMIT);
        return NULL;
    }
    om_or_stream_t *s = calloc(1, sizeof *s);
    if (!s) {
        send_end(circ, id, OM_END_RESOURCELIMIT);
        return NULL;
    }
    s->cs = cs;
    s->circ = circ;
    s->id = id;
    s->svc = svc;
    /* Our edge is a server connection (cc_xoff_exit); the other end is a client. */
    om_stream_flow_init(&s->flow, &cs->fc, true);
    s->next = cs->streams;
    cs->streams = s;
    cs->n_streams++;
    m->st.streams++;
    return s;
}

/* BEGIN, BEGIN_DIR, RESOLVE: parse, route to a service, open the stream. */
static void open_stream(om_or_streams_t *m, om_or_circ_t *circ, circ_state_t *cs,
                        const om_relay_header_t *hdr, const uint8_t *body)
{
    om_begin_t b;
    memset(&b, 0, sizeof b);
    if (hdr->command == OM_RELAY_BEGIN && om_begin_parse(&b, body, hdr->length) < 0) {
        /* tor-spec 6.2: a malformed BEGIN gets END TORPROTOCOL; the circuit stays. */
        om_log_protocol("Circuit %u: malformed BEGIN", circ->p_circ_id);
        send_end(circ, hdr->stream_id, OM_END_TORPROTOCOL);
        return;
    }
    if (hdr->command == OM_RELAY_RESOLVE) {
        /* tor-spec 6.4: a NUL-terminated name. */
        size_t n = strnlen((const char *)body, hdr->length);
        if (n == 0 || n >= sizeof b.host || n == hdr->length) {
            send_end(circ, hdr->stream_id, OM_END_TORPROTOCOL);
            return;
        }
        memcpy(b.host, body, n);
    }
    const om_stream_service_t *svc = route(m, hdr->command, b.host);
    if (!svc) {
        /* Not a directory cache / not an exit: what tor's relays answer (tor-spec 6.2). */
        bool dir = hdr->command == OM_RELAY_BEGIN_DIR;
        m->st.refused_begin += !dir;
        send_end(circ, hdr->stream_id, dir ? OM_END_NOTDIRECTORY : OM_END_EXITPOLICY);
        return;
    }
    om_or_stream_t *s = new_stream(m, circ, cs, hdr->stream_id, svc);
    if (s) svc->begin(svc->arg, s, hdr->command == OM_RELAY_BEGIN_DIR ? NULL : &b);
}

static int stream_data(om_or_circ_t *circ, circ_state_t *cs, om_or_stream_t *s,
                       const om_relay_header_t *hdr, const uint8_t *body)
{
    if (note_delivered(circ, cs) < 0) return -1;
    if (!s) return 0; /* stream 0, or one we closed (half-closed): dropped */
    if (om_stream_flow_note_delivered(&s->flow) < 0) {
        /* tor: "(relay data) conn deliver_window below 0. Killing." */
        om_log_protocol("Circuit %u stream %u: the client sent past the stream window",
                        circ->p_circ_id, s->id);
        return -1;
    }
    s->svc->data(s->svc->arg, s, body, hdr->length);
    return 0;
}

static int stream_sendme(om_or_circ_t *circ, om_or_stream_t *s)
{
    const char *why = NULL;
    if (!s) return 0;
    if (om_stream_flow_process_sendme(&s->flow, &why) < 0) {
        om_log_protocol("Circuit %u stream %u: %s", circ->p_circ_id, s->id, why);
        return -1;
    }
    if (s->svc->pull) s->svc->pull(s->svc->arg, s);
    return 0;
}

static int stream_xon_xoff(om_or_circ_t *circ, om_or_stream_t *s, const om_relay_header_t *hdr,
                           const uint8_t *body)
{
    if (!s) return 0;
    bool ignored = false;
    om_flow_msg_t r =
        om_stream_flow_on_xon_xoff(&s->flow, hdr->command, body, hdr->length, &ignored);
    if (ignored) {
        om_log_protocol("Circuit %u: %s without congestion control ignored", circ->p_circ_id,
                        om_relay_command_name(hdr->command));
        return 0;
    }
    if (r == OM_FLOW_MSG_MALFORMED) return -1; /* prop 324 4.1 */
    if (s->svc->pull) s->svc->pull(s->svc->arg, s);
    return 0;
}

int om_or_streams_handle(om_or_circ_t *circ, const om_relay_header_t *hdr, const uint8_t *body,
                         bool early, void *arg)
{
    om_or_streams_t *m = arg;
    (void)early;
    circ_state_t *cs = state_of(m, circ);
    if (!cs) return -1;
    om_or_stream_t *s = hdr->stream_id ? find_stream(cs, hdr->stream_id) : NULL;
    switch (hdr->command) {
    case OM_RELAY_BEGIN_DIR:
    case OM_RELAY_BEGIN:
    case OM_RELAY_RESOLVE:
        if (!hdr->stream_id || s) {
            /* tor: "Relay command with zero stream_id. Dropping." / "Begin cell for known
             * stream. Dropping." */
            om_log_protocol("Circuit %u: %s with stream ID %u %s: dropped", circ->p_circ_id,
                            om_relay_command_name(hdr->command), hdr->stream_id,
                            s ? "already in use" : "(zero)");
            return 0;
        }
        if (m->gate) {
            /* tor 0.4.9 (dos_stream_new_begin_or_resolve_cell): refuse with END MISC, not
             * RESOURCELIMIT, which would make the client give up on this exit. */
            int defense = m->gate(m->gate_arg, &cs->dos_bucket);
            m->st.gated += defense > 1;
            if (defense == 2) {
                send_end(circ, hdr->stream_id, OM_END_MISC);
                return 0;
            }
            if (defense == 3) {
                om_or_circ_close(circ, OM_DESTROY_RESOURCELIMIT);
                return 0; /* circ is gone */
            }
        }
        open_stream(m, circ, cs, hdr, body);
        return 0;
    case OM_RELAY_DATA:
        /* Stream 0 counts against the circuit window, then is dropped, as in tor. */
        return stream_data(circ, cs, s, hdr, body);
    case OM_RELAY_END:
        if (s) om_or_stream_finish(s);
        return 0;
    case OM_RELAY_SENDME:
        if (!hdr->stream_id) return circuit_sendme(circ, cs, body, hdr->length);
        return stream_sendme(circ, s);
    case OM_RELAY_XOFF:
    case OM_RELAY_XON:
        return stream_xon_xoff(circ, s, hdr, body);
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
        om_or_stream_finish(cs->streams);
    om_sendme_clear(&cs->fc);
    free(cs);
    circ->stream_state = NULL;
}

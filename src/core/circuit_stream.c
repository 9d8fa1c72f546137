/* circuit_stream.c — streams on origin circuits (tor-spec 6): BEGIN, BEGIN_DIR and RESOLVE to
 * the circuit's last hop, CONNECTED / RESOLVED / END, DATA both ways under the stream's flow
 * control (sendme.h: 500-cell windows with stream SENDMEs withheld while the consumer is blocked,
 * or XON/XOFF with the congestion-controlled exit, proposal 324 4). A stream accepts cells only
 * from its own hop (tor's relay_lookup_conn matches the layer): a middle relay cannot inject
 * data, answers or ENDs into an exit's stream. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/circuit.h"
#include "core/circuit_int.h"
#include "core/log.h"

static om_stream_t *stream_find(om_circuit_t *circ, uint16_t id)
{
    for (om_stream_t *s = circ->streams; s; s = s->next)
        if (s->id == id) return s;
    return NULL;
}

static void stream_unlink(om_stream_t *s)
{
    om_circuit_t *circ = s->circ;
    for (om_stream_t **pp = &circ->streams; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            circ->n_streams--;
            return;
        }
}

static om_sendme_t *hop_fc(const om_stream_t *s)
{
    return &s->circ->hops[s->hop].fc;
}

static bool stream_can_send(const om_stream_t *s)
{
    return om_sendme_can_package(hop_fc(s)) && om_stream_flow_can_package(&s->flow);
}

static void stream_end_local(om_stream_t *s, uint8_t reason, const char *why)
{
    if (s->flow.cc && s->connected)
        om_info("Circuit %u stream %u ended: flow control sent %llu XOFF, %llu XON; got %u XOFF, "
                "%u XON; peak buffered %zu bytes",
                s->circ->circ_id, s->id, (unsigned long long)s->flow.rx.n_xoff_sent,
                (unsigned long long)s->flow.rx.n_xon_sent, s->flow.tx.num_xoff_recv,
                s->flow.tx.num_xon_recv, s->peak_buffered);
    stream_unlink(s);
    s->ended = true;
    if (s->cb.on_end) s->cb.on_end(s, reason, why, s->cb.arg);
    free(s);
}

void om_circ_streams_end_all(om_circuit_t *circ, const char *why)
{
    while (circ->streams)
        stream_end_local(circ->streams, 0, why);
}

static uint16_t stream_alloc_id(om_circuit_t *circ)
{
    for (int tries = 0; tries < 65536; tries++) {
        uint16_t id = circ->next_stream_id++;
        if (circ->next_stream_id == 0) circ->next_stream_id = 1;
        if (id && !stream_find(circ, id)) return id;
    }
    return 0;
}

static om_stream_t *stream_new(om_circuit_t *circ, const om_stream_callbacks_t *cb)
{
    if (circ->n_streams >= OM_CIRC_MAX_STREAMS) return NULL;
    om_stream_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->circ = circ;
    s->id = stream_alloc_id(circ);
    s->hop = circ->n_hops - 1;
    /* Our edge is a local application (cc_xoff_client); the other end is an exit. */
    om_stream_flow_init(&s->flow, hop_fc(s), false);
    if (cb) s->cb = *cb;
    s->next = circ->streams;
    circ->streams = s;
    circ->n_streams++;
    return s;
}

/* Create a stream and send its opening message (BEGIN, BEGIN_DIR, RESOLVE). */
static om_stream_t *stream_open(om_circuit_t *circ, uint8_t command, const uint8_t *body,
                                size_t len, const om_stream_callbacks_t *cb)
{
    if (!circ || circ->state != OM_CIRC_OPEN) return NULL;
    om_stream_t *s = stream_new(circ, cb);
    if (!s) return NULL;
    s->is_resolve = command == OM_RELAY_RESOLVE;
    if (om_circuit_send_relay(circ, s->hop, command, s->id, body, len, false) < 0) {
        stream_unlink(s);
        free(s);
        return NULL;
    }
    return s;
}

om_stream_t *om_stream_begin_dir(om_circuit_t *circ, const om_stream_callbacks_t *cb)
{
    /* tor-spec 6.2.1: BEGIN_DIR has an empty body. */
    return stream_open(circ, OM_RELAY_BEGIN_DIR, NULL, 0, cb);
}

om_stream_t *om_stream_begin(om_circuit_t *circ, const char *host, uint16_t port, uint32_t flags,
                             const om_stream_callbacks_t *cb)
{
    if (!host || strlen(host) > OM_MAX_HOSTNAME_LEN) return NULL;
    om_begin_t b;
    memset(&b, 0, sizeof b);
    snprintf(b.host, sizeof b.host, "%s", host);
    b.port = port;
    b.flags = flags;
    uint8_t body[OM_RELAY_PAYLOAD_LEN];
    int bl = om_begin_encode(&b, body, sizeof body);
    if (bl < 0) return NULL;
    return stream_open(circ, OM_RELAY_BEGIN, body, (size_t)bl, cb);
}

om_stream_t *om_stream_resolve(om_circuit_t *circ, const char *name,
                               const om_stream_callbacks_t *cb)
{
    if (!name) return NULL;
    size_t n = strlen(name);
    if (n == 0 || n > OM_MAX_HOSTNAME_LEN) return NULL;
    /* tor-spec 6.4: the name with a terminating NUL. */
    return stream_open(circ, OM_RELAY_RESOLVE, (const uint8_t *)name, n + 1, cb);
}

ssize_t om_stream_write(om_stream_t *s, const uint8_t *data, size_t len)
{
    if (!s || s->ended) return -1;
    om_circuit_t *circ = s->circ;
    om_hop_t *hp = &circ->hops[s->hop];
    uint64_t now = om_now_usec();
    size_t done = 0;
    while (done < len && stream_can_send(s)) {
        size_t n = len - done;
        if (n > OM_RELAY_PAYLOAD_LEN) n = OM_RELAY_PAYLOAD_LEN;
        if (om_circuit_send_relay(circ, s->hop, OM_RELAY_DATA, s->id, data + done, n, false) < 0)
            return done ? (ssize_t)done : -1;
        done += n;
        /* Proposal 289: keep the digest of the cell the hop will answer with a SENDME. */
        uint8_t *slot = om_sendme_note_packaged(&hp->fc, now);
        if (slot) om_relay_crypto_last_digest_fwd(&hp->crypto, slot);
        om_stream_flow_note_packaged(&s->flow, n);
    }
    if (done < len) s->want_writable = true;
    return (ssize_t)done;
}

void om_stream_close(om_stream_t *s, uint8_t reason)
{
    if (!s || s->ended) return;
    uint8_t r = reason;
    om_circuit_send_relay(s->circ, s->hop, OM_RELAY_END, s->id, &r, 1, false);
    s->cb.on_end = NULL;
    stream_end_local(s, reason, "closed locally");
}

/* tor-spec 7.4: one stream SENDME (empty body) per 50 cells delivered to the consumer. */
static void stream_send_due_sendmes(om_stream_t *s)
{
    for (int n = om_stream_flow_take_due_sendmes(&s->flow); n > 0; n--)
        if (om_circuit_send_relay(s->circ, s->hop, OM_RELAY_SENDME, s->id, NULL, 0, false) < 0)
            return;
}

void om_stream_set_blocked(om_stream_t *s, bool blocked)
{
    if (!s || s->ended) return;
    s->blocked = blocked;
    if (!blocked) stream_send_due_sendmes(s);
}

static void stream_send_flow(om_stream_t *s, om_flow_action_t a, uint32_t kbps)
{
    if (a == OM_FLOW_SEND_XOFF) {
        uint8_t b[OM_XOFF_BODY_LEN];
        if (om_xoff_encode(b, sizeof b) > 0)
            om_circuit_send_relay(s->circ, s->hop, OM_RELAY_XOFF, s->id, b, sizeof b, false);
        om_debug("Circuit %u stream %u: sent XOFF", s->circ->circ_id, s->id);
    } else if (a == OM_FLOW_SEND_XON) {
        uint8_t b[OM_XON_BODY_LEN];
        if (om_xon_encode(kbps, b, sizeof b) > 0)
            om_circuit_send_relay(s->circ, s->hop, OM_RELAY_XON, s->id, b, sizeof b, false);
        om_debug("Circuit %u stream %u: sent XON (%u kB/s)", s->circ->circ_id, s->id, kbps);
    }
}

void om_stream_note_buffered(om_stream_t *s, size_t buffered)
{
    if (!s || s->ended || !s->flow.cc || s->circ->state != OM_CIRC_OPEN) return;
    uint32_t kbps = 0;
    if (buffered > s->peak_buffered) s->peak_buffered = buffered;
    om_flow_action_t a = om_flow_note_buffered(&s->flow.rx, buffered, om_now_usec(), &kbps);
    stream_send_flow(s, a, kbps);
}

void om_stream_note_drained(om_stream_t *s, size_t written, size_t buffered)
{
    if (!s || s->ended || !s->flow.cc || s->circ->state != OM_CIRC_OPEN) return;
    uint32_t kbps = 0;
    om_flow_action_t a = om_flow_note_drained(&s->flow.rx, written, buffered, om_now_usec(), &kbps);
    stream_send_flow(s, a, kbps);
}

/* ---------------------------------------------------------------- receiving */

/* tor's relay.c: a CONNECTED on an open stream closes the circuit ("'connected' unsupported while
 * open. Closing circ."); a malformed one while connecting ends only the stream, with END
 * TORPROTOCOL to the exit ("Got a badly formatted connected cell. Closing."). */
static void on_connected(om_stream_t *s, const om_relay_header_t *h, const uint8_t *body)
{
    om_connected_t c;
    if (s->connected) {
        om_circuit_close(s->circ, OM_DESTROY_PROTOCOL, "repeated CONNECTED");
        return;
    }
    if (om_connected_parse(&c, body, h->length) < 0) {
        om_log_protocol("Circuit %u stream %u: malformed CONNECTED; ending the stream",
                        s->circ->circ_id, s->id);
        uint8_t r = OM_END_TORPROTOCOL;
        om_circuit_send_relay(s->circ, s->hop, OM_RELAY_END, s->id, &r, 1, false);
        stream_end_local(s, OM_END_TORPROTOCOL, "malformed CONNECTED");
        return;
    }
    s->connected = true;
    s->connected_addr = c.addr;
    s->connected_ttl = c.ttl;
    if (s->cb.on_connected) s->cb.on_connected(s, s->cb.arg);
}

static void on_resolved(om_stream_t *s, const om_relay_header_t *h, const uint8_t *body)
{
    if (!s->is_resolve) {
        om_circuit_close(s->circ, OM_DESTROY_PROTOCOL, "RESOLVED on a data stream");
        return;
    }
    stream_unlink(s);
    s->ended = true;
    if (s->cb.on_resolved) s->cb.on_resolved(s, body, h->length, s->cb.arg);
    free(s);
}

static void on_data(om_stream_t *s, const om_relay_header_t *h, const uint8_t *body)
{
    om_circuit_t *circ = s->circ;
    if (om_stream_flow_note_delivered(&s->flow) < 0) {
        om_circuit_close(circ, OM_DESTROY_PROTOCOL, "stream deliver window exceeded");
        return;
    }
    uint16_t id = s->id;
    if (s->cb.on_data && h->length) s->cb.on_data(s, body, h->length, s->cb.arg);
    /* The callback may have closed the stream or the circuit. */
    if (circ->state != OM_CIRC_OPEN || stream_find(circ, id) != s) return;
    if (!s->blocked) stream_send_due_sendmes(s);
}

static void on_stream_sendme(om_stream_t *s)
{
    const char *why = NULL;
    if (om_stream_flow_process_sendme(&s->flow, &why) < 0) {
        om_circuit_close(s->circ, OM_DESTROY_PROTOCOL, why);
        return;
    }
    om_circ_streams_writable(s->circ);
}

static void on_xon_xoff(om_stream_t *s, const om_relay_header_t *h, const uint8_t *body)
{
    om_circuit_t *circ = s->circ;
    const char *name = om_relay_command_name(h->command);
    bool ignored = false;
    om_flow_msg_t m = om_stream_flow_on_xon_xoff(&s->flow, h->command, body, h->length, &ignored);
    if (ignored) {
        om_debug("Circuit %u: %s without congestion control ignored", circ->circ_id, name);
        return;
    }
    if (m == OM_FLOW_MSG_MALFORMED) {
        om_circuit_close(circ, OM_DESTROY_PROTOCOL, "malformed XON/XOFF");
        return;
    }
    if (m == OM_FLOW_MSG_SUSPICIOUS)
        om_log_protocol("Circuit %u stream %u: more %s than the data we sent explains",
                        circ->circ_id, s->id, name);
    om_debug("Circuit %u stream %u: got %s", circ->circ_id, s->id, name);
    if (h->command == OM_RELAY_XON) om_circ_streams_writable(circ);
}

/* What a stream that is not open yet takes of the stream commands: END, and CONNECTED on a data
 * stream (tor's connect_wait) or RESOLVED on a RESOLVE stream (resolve_wait); DATA, SENDME and
 * XON/XOFF are dropped. Other commands go to the owner as before. */
static bool stream_not_open_msg_ok(const om_stream_t *s, uint8_t command)
{
    switch (command) {
    case OM_RELAY_CONNECTED:
        return !s->is_resolve;
    case OM_RELAY_RESOLVED:
        return s->is_resolve;
    case OM_RELAY_DATA:
    case OM_RELAY_SENDME:
    case OM_RELAY_XON:
    case OM_RELAY_XOFF:
        return false;
    default:
        return true;
    }
}

void om_circ_stream_msg(om_circuit_t *circ, int hop, const om_relay_header_t *h,
                        const uint8_t *body)
{
    om_stream_t *s = stream_find(circ, h->stream_id);
    if (s && s->hop != hop) {
        om_log_protocol("Circuit %u: %s for stream %u from hop %d, but the stream ends at hop %d: "
                        "dropped",
                        circ->circ_id, om_relay_command_name(h->command), h->stream_id, hop + 1,
                        s->hop + 1);
        return;
    }
    if (!s) {
        om_debug("Circuit %u: %s for unknown stream %u dropped", circ->circ_id,
                 om_relay_command_name(h->command), h->stream_id);
        return;
    }
    if (!s->connected && !stream_not_open_msg_ok(s, h->command)) {
        /* tor's connection_edge_process_relay_cell_not_open: "Got an unexpected relay command
         * ... Dropping." (DATA, SENDME, XON/XOFF before CONNECTED; a RESOLVED outside
         * resolve_wait; a CONNECTED outside connect_wait): the stream and circuit stay. */
        om_log_protocol("Circuit %u: %s on stream %u before it is open: dropped", circ->circ_id,
                        om_relay_command_name(h->command), h->stream_id);
        return;
    }
    switch (h->command) {
    case OM_RELAY_CONNECTED:
        on_connected(s, h, body);
        return;
    case OM_RELAY_RESOLVED:
        on_resolved(s, h, body);
        return;
    case OM_RELAY_DATA:
        on_data(s, h, body);
        return;
    case OM_RELAY_END: {
        uint8_t reason = h->length >= 1 ? body[0] : OM_END_MISC;
        char why[64];
        snprintf(why, sizeof why, "END from relay: %s", om_end_reason_name(reason));
        stream_end_local(s, reason, why);
        return;
    }
    case OM_RELAY_SENDME:
        on_stream_sendme(s);
        return;
    case OM_RELAY_XOFF:
    case OM_RELAY_XON:
        on_xon_xoff(s, h, body);
        return;
    default:
        om_circ_dispatch_other(circ, h, body);
        return;
    }
}

void om_circ_streams_writable(om_circuit_t *circ)
{
    for (om_stream_t *s = circ->streams; s && circ->state == OM_CIRC_OPEN;) {
        om_stream_t *next = s->next;
        if (s->want_writable && stream_can_send(s)) {
            s->want_writable = false;
            if (s->cb.on_writable) s->cb.on_writable(s, s->cb.arg);
        }
        s = next;
    }
}

const om_addr_t *om_stream_connected_addr(const om_stream_t *s, uint32_t *ttl)
{
    if (ttl) *ttl = s->connected_ttl;
    return &s->connected_addr;
}

uint16_t om_stream_id(const om_stream_t *s)
{
    return s->id;
}

om_circuit_t *om_stream_circuit(const om_stream_t *s)
{
    return s->circ;
}

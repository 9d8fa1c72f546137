/* circuit.c — origin circuits: the first hop's create handshake, layered relay crypto,
 * relay message routing to streams or the dispatch table, SENDME flow control (tor-spec 7.3,
 * 7.4; authenticated SENDME v1 of proposal 289), DESTROY, and directory streams. */
#include "core/circuit.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/crypto.h"
#include "core/log.h"

#define SENDME_VERSION_AUTHENTICATED 1

static void circ_cell_cb(om_channel_t *chan, const om_cell_t *cell, void *arg);

const char *om_circ_state_name(om_circ_state_t s)
{
    return s == OM_CIRC_BUILDING ? "building" : s == OM_CIRC_OPEN ? "open" : "closed";
}

static struct event_base *circ_base;

static void circ_free_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    om_circuit_t *circ = arg;
    for (int i = 0; i < OM_CIRC_MAX_HOPS; i++)
        om_relay_crypto_clear(&circ->hops[i].crypto);
    om_memwipe(&circ->pending, sizeof circ->pending);
    free(circ);
}

static void stream_end_local(om_stream_t *s, uint8_t reason, const char *why);

/* Close locally: notify streams and the owner once, then free later. */
static void circ_closed(om_circuit_t *circ, const char *reason)
{
    if (circ->state == OM_CIRC_CLOSED)
        return;
    circ->state = OM_CIRC_CLOSED;
    snprintf(circ->close_reason, sizeof circ->close_reason, "%s", reason);
    if (circ->chan)
        om_channel_unregister_circ(circ->chan, circ->circ_id);
    while (circ->streams)
        stream_end_local(circ->streams, 0, reason);
    om_info("Circuit %u closed: %s", circ->circ_id, reason);
    if (circ->cb.on_closed)
        circ->cb.on_closed(circ, reason, circ->cb.arg);
    struct event_base *base = circ->chan ? circ->chan->base : circ_base;
    circ->chan = NULL;
    if (!base || event_base_once(base, -1, EV_TIMEOUT, circ_free_cb, circ, NULL) < 0)
        om_warn("could not schedule freeing circuit (leaked)");
}

void om_circuit_close(om_circuit_t *circ, uint8_t reason, const char *why)
{
    if (!circ || circ->state == OM_CIRC_CLOSED)
        return;
    if (circ->chan && circ->chan->state == OM_CHAN_OPEN) {
        om_cell_t d = {.circ_id = circ->circ_id, .command = OM_CELL_DESTROY};
        memset(d.payload, 0, sizeof d.payload);
        d.payload[0] = reason;
        om_channel_send_cell(circ->chan, &d);
    }
    circ_closed(circ, why ? why : om_destroy_reason_name(reason));
}

om_circuit_t *om_circuit_create(om_channel_t *chan, int handshake_type, const om_hop_target_t *target,
                                const om_circ_callbacks_t *cb)
{
    if (!chan || chan->state != OM_CHAN_OPEN)
        return NULL;
    if (handshake_type != OM_HANDSHAKE_TYPE_FAST && !target)
        return NULL;
    om_circuit_t *circ = calloc(1, sizeof *circ);
    if (!circ)
        return NULL;
    circ_base = chan->base;
    circ->chan = chan;
    circ->state = OM_CIRC_BUILDING;
    circ->pending_type = handshake_type;
    circ->package_window = circ->deliver_window = OM_CIRC_WINDOW_START;
    circ->early_left = 8;
    circ->next_stream_id = 1;
    if (cb)
        circ->cb = *cb;
    om_relay_dispatch_init(&circ->dispatch);
    if (target)
        circ->hops[0].target = *target;
    circ->hops[0].handshake_type = handshake_type;
    circ->circ_id = om_channel_alloc_circ_id(chan);
    if (!circ->circ_id || om_channel_register_circ(chan, circ->circ_id, circ_cell_cb, circ) < 0) {
        free(circ);
        return NULL;
    }
    om_cell_t c = {.circ_id = circ->circ_id};
    memset(c.payload, 0, sizeof c.payload);
    int r = -1;
    if (handshake_type == OM_HANDSHAKE_TYPE_FAST) {
        /* tor-spec 5.1.5: CREATE_FAST carries X (20 random bytes). */
        c.command = OM_CELL_CREATE_FAST;
        r = om_fast_client_create(&circ->pending.fast, c.payload);
    } else if (handshake_type == OM_HANDSHAKE_TYPE_NTOR) {
        /* tor-spec 5.1: CREATE2 = HTYPE(2) HLEN(2) HDATA. */
        c.command = OM_CELL_CREATE2;
        c.payload[0] = 0;
        c.payload[1] = OM_HANDSHAKE_TYPE_NTOR;
        c.payload[2] = 0;
        c.payload[3] = OM_NTOR_ONIONSKIN_LEN;
        r = om_ntor_client_create(&circ->pending.ntor, target->rsa_fp, target->ntor_key,
                                  c.payload + 4);
    } else if (handshake_type == OM_HANDSHAKE_TYPE_NTOR_V3) {
        if (!target->has_ed) {
            om_warn("ntor-v3 needs the relay's Ed25519 identity");
        } else {
            c.command = OM_CELL_CREATE2;
            /* An empty extension list (N_EXTENSIONS = 0): no congestion-control request. */
            static const uint8_t empty_ext[1] = {0};
            size_t len = OM_CELL_PAYLOAD_LEN - 4;
            r = om_ntor3_client_create(&circ->pending.ntor3, target->ed_id, target->ntor_key,
                                       (const uint8_t *)OM_NTOR3_CIRC_VERIFICATION,
                                       OM_NTOR3_CIRC_VERIFICATION_LEN, empty_ext, sizeof empty_ext, c.payload + 4, &len);
            c.payload[0] = 0;
            c.payload[1] = OM_HANDSHAKE_TYPE_NTOR_V3;
            c.payload[2] = (uint8_t)(len >> 8);
            c.payload[3] = (uint8_t)len;
        }
    }
    if (r < 0 || om_channel_send_cell(chan, &c) < 0) {
        om_channel_unregister_circ(chan, circ->circ_id);
        om_memwipe(&circ->pending, sizeof circ->pending);
        free(circ);
        return NULL;
    }
    circ->t_create_sent = om_now_usec();
    return circ;
}

static void circ_finish_create(om_circuit_t *circ, const om_cell_t *cell)
{
    om_handshake_keys_t keys;
    int r = -1;
    const char *what = om_cell_command_name(cell->command);
    if (cell->command == OM_CELL_CREATED_FAST && circ->pending_type == OM_HANDSHAKE_TYPE_FAST) {
        r = om_fast_client_finish(&circ->pending.fast, cell->payload, 2 * OM_FAST_LEN, &keys);
        om_fast_client_clear(&circ->pending.fast);
    } else if (cell->command == OM_CELL_CREATED2 && circ->pending_type != OM_HANDSHAKE_TYPE_FAST) {
        size_t hlen = (size_t)cell->payload[0] << 8 | cell->payload[1];
        if (hlen > OM_CELL_PAYLOAD_LEN - 2) {
            om_circuit_close(circ, OM_DESTROY_PROTOCOL, "CREATED2: HLEN too large");
            return;
        }
        if (circ->pending_type == OM_HANDSHAKE_TYPE_NTOR) {
            r = om_ntor_client_finish(&circ->pending.ntor, cell->payload + 2, hlen, &keys);
            om_ntor_client_clear(&circ->pending.ntor);
        } else {
            uint8_t smsg[OM_NTOR3_MAX_MSG];
            size_t smsg_len = sizeof smsg;
            r = om_ntor3_client_finish(&circ->pending.ntor3, cell->payload + 2, hlen, smsg,
                                       &smsg_len, &keys);
            om_ntor3_client_clear(&circ->pending.ntor3);
            if (r == 0)
                om_debug("ntor-v3: relay sent a %zu-byte extension message", smsg_len);
        }
    } else {
        om_circuit_close(circ, OM_DESTROY_PROTOCOL, "unexpected reply to our create cell");
        return;
    }
    if (r < 0) {
        char why[96];
        snprintf(why, sizeof why, "%s: handshake verification failed", what);
        om_circuit_close(circ, OM_DESTROY_PROTOCOL, why);
        return;
    }
    if (om_relay_crypto_init(&circ->hops[0].crypto, keys.keys) < 0) {
        om_memwipe(&keys, sizeof keys);
        om_circuit_close(circ, OM_DESTROY_INTERNAL, "relay crypto init failed");
        return;
    }
    om_memwipe(&keys, sizeof keys);
    circ->n_hops = 1;
    circ->state = OM_CIRC_OPEN;
    circ->t_created = om_now_usec();
    om_info("Circuit %u: first hop established with %s", circ->circ_id, what);
    if (circ->cb.on_built)
        circ->cb.on_built(circ, circ->cb.arg);
}

int om_circuit_send_relay(om_circuit_t *circ, int hop, uint8_t command, uint16_t stream_id,
                          const uint8_t *body, size_t len, bool early)
{
    if (!circ || circ->state != OM_CIRC_OPEN || !circ->chan)
        return -1;
    if (hop < 0)
        hop = circ->n_hops - 1;
    if (hop >= circ->n_hops || len > OM_RELAY_PAYLOAD_LEN)
        return -1;
    om_cell_t c = {.circ_id = circ->circ_id, .command = OM_CELL_RELAY};
    if (early) {
        if (circ->early_left <= 0)
            return -1;
        circ->early_left--;
        c.command = OM_CELL_RELAY_EARLY;
    }
    if (om_relay_payload_build(c.payload, command, stream_id, body, len) < 0)
        return -1;
    /* tor-spec 5.5.2.1: digest for the target hop, then encrypt from that hop back to the first. */
    om_relay_crypto_set_digest_fwd(&circ->hops[hop].crypto, c.payload);
    for (int i = hop; i >= 0; i--)
        om_relay_crypto_encrypt_fwd(&circ->hops[i].crypto, c.payload);
    return om_channel_send_cell(circ->chan, &c);
}

/* ---------------------------------------------------------------- streams */

static om_stream_t *stream_find(om_circuit_t *circ, uint16_t id)
{
    for (om_stream_t *s = circ->streams; s; s = s->next)
        if (s->id == id)
            return s;
    return NULL;
}

static void stream_unlink(om_stream_t *s)
{
    om_circuit_t *circ = s->circ;
    for (om_stream_t **pp = &circ->streams; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            return;
        }
}

static void stream_end_local(om_stream_t *s, uint8_t reason, const char *why)
{
    stream_unlink(s);
    s->ended = true;
    if (s->cb.on_end)
        s->cb.on_end(s, reason, why, s->cb.arg);
    free(s);
}

static uint16_t stream_alloc_id(om_circuit_t *circ)
{
    for (int tries = 0; tries < 65536; tries++) {
        uint16_t id = circ->next_stream_id++;
        if (circ->next_stream_id == 0)
            circ->next_stream_id = 1;
        if (id && !stream_find(circ, id))
            return id;
    }
    return 0;
}

static om_stream_t *stream_new(om_circuit_t *circ, const om_stream_callbacks_t *cb)
{
    int n = 0;
    for (om_stream_t *s = circ->streams; s; s = s->next)
        n++;
    if (n >= OM_CIRC_MAX_STREAMS)
        return NULL;
    om_stream_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->circ = circ;
    s->id = stream_alloc_id(circ);
    s->hop = circ->n_hops - 1;
    s->package_window = OM_STREAM_WINDOW_START;
    s->deliver_window = OM_STREAM_WINDOW_START;
    if (cb)
        s->cb = *cb;
    s->next = circ->streams;
    circ->streams = s;
    return s;
}

om_stream_t *om_stream_begin_dir(om_circuit_t *circ, const om_stream_callbacks_t *cb)
{
    if (!circ || circ->state != OM_CIRC_OPEN)
        return NULL;
    om_stream_t *s = stream_new(circ, cb);
    if (!s)
        return NULL;
    /* tor-spec 6.2.1: BEGIN_DIR has an empty body. */
    if (om_circuit_send_relay(circ, s->hop, OM_RELAY_BEGIN_DIR, s->id, NULL, 0, false) < 0) {
        stream_unlink(s);
        free(s);
        return NULL;
    }
    return s;
}

ssize_t om_stream_write(om_stream_t *s, const uint8_t *data, size_t len)
{
    if (!s || s->ended)
        return -1;
    om_circuit_t *circ = s->circ;
    size_t done = 0;
    while (done < len && s->package_window > 0 && circ->package_window > 0) {
        size_t n = len - done;
        if (n > OM_RELAY_PAYLOAD_LEN)
            n = OM_RELAY_PAYLOAD_LEN;
        if (om_circuit_send_relay(circ, s->hop, OM_RELAY_DATA, s->id, data + done, n, false) < 0)
            return done ? (ssize_t)done : -1;
        s->package_window--;
        circ->package_window--;
        done += n;
    }
    return (ssize_t)done;
}

void om_stream_close(om_stream_t *s, uint8_t reason)
{
    if (!s || s->ended)
        return;
    uint8_t r = reason;
    om_circuit_send_relay(s->circ, s->hop, OM_RELAY_END, s->id, &r, 1, false);
    s->cb.on_end = NULL;
    stream_end_local(s, reason, "closed locally");
}

/* ---------------------------------------------------------------- receiving */

static void send_circuit_sendme(om_circuit_t *circ, int hop)
{
    /* tor-spec 7.3.1 / proposal 289: VERSION 1, DATA_LEN 20, the digest of the cell that
     * triggered this SENDME (the running backward digest after it). */
    uint8_t body[3 + 20];
    body[0] = SENDME_VERSION_AUTHENTICATED;
    body[1] = 0;
    body[2] = 20;
    om_relay_crypto_last_digest_back(&circ->hops[hop].crypto, body + 3);
    om_circuit_send_relay(circ, hop, OM_RELAY_SENDME, 0, body, sizeof body, false);
}

static void handle_stream_msg(om_circuit_t *circ, int hop, const om_relay_header_t *h,
                              const uint8_t *body)
{
    om_stream_t *s = stream_find(circ, h->stream_id);
    if (!s) {
        om_debug("Circuit %u: %s for unknown stream %u dropped", circ->circ_id,
                 om_relay_command_name(h->command), h->stream_id);
        return;
    }
    switch (h->command) {
    case OM_RELAY_CONNECTED:
        s->connected = true;
        if (s->cb.on_connected)
            s->cb.on_connected(s, s->cb.arg);
        return;
    case OM_RELAY_DATA:
        if (--s->deliver_window < 0) {
            om_circuit_close(circ, OM_DESTROY_PROTOCOL, "stream deliver window exceeded");
            return;
        }
        if (s->cb.on_data && h->length)
            s->cb.on_data(s, body, h->length, s->cb.arg);
        /* tor-spec 7.4: a stream SENDME (empty body) per 50 cells consumed. */
        /* The callback may have closed the stream or the circuit. */
        if (circ->state != OM_CIRC_OPEN || stream_find(circ, h->stream_id) != s)
            return;
        if (s->deliver_window <= OM_STREAM_WINDOW_START - OM_STREAM_WINDOW_INCREMENT) {
            s->deliver_window += OM_STREAM_WINDOW_INCREMENT;
            om_circuit_send_relay(circ, hop, OM_RELAY_SENDME, s->id, NULL, 0, false);
        }
        return;
    case OM_RELAY_END: {
        uint8_t reason = h->length >= 1 ? body[0] : OM_END_MISC;
        char why[64];
        snprintf(why, sizeof why, "END from relay: %s", om_end_reason_name(reason));
        stream_end_local(s, reason, why);
        return;
    }
    case OM_RELAY_SENDME:
        s->package_window += OM_STREAM_WINDOW_INCREMENT;
        return;
    default: {
        /* Other stream messages go to the dispatch table (e.g. RESOLVED in the OP). */
        om_relay_header_t hh = *h;
        if (om_relay_dispatch(&circ->dispatch, circ, &hh, body) == -2)
            om_debug("Circuit %u: unhandled %s on stream %u", circ->circ_id,
                     om_relay_command_name(h->command), h->stream_id);
        return;
    }
    }
}

static void handle_relay_cell(om_circuit_t *circ, om_cell_t *cell)
{
    uint8_t *p = cell->payload;
    int hop = -1;
    /* tor-spec 5.5.3: peel layers from the first hop outward until one recognizes the cell. */
    for (int i = 0; i < circ->n_hops; i++) {
        om_relay_crypto_decrypt_back(&circ->hops[i].crypto, p);
        if (om_relay_crypto_check_back(&circ->hops[i].crypto, p)) {
            hop = i;
            break;
        }
    }
    if (hop < 0) {
        om_circuit_close(circ, OM_DESTROY_PROTOCOL, "relay cell not recognized by any hop");
        return;
    }
    om_relay_header_t h;
    if (om_relay_header_unpack(&h, p) < 0) {
        om_circuit_close(circ, OM_DESTROY_PROTOCOL, "relay cell with a bad length");
        return;
    }
    const uint8_t *body = p + OM_RELAY_HEADER_LEN;
    if (h.command == OM_RELAY_DATA) {
        if (--circ->deliver_window < 0) {
            om_circuit_close(circ, OM_DESTROY_PROTOCOL, "circuit deliver window exceeded");
            return;
        }
        if (circ->deliver_window <= OM_CIRC_WINDOW_START - OM_CIRC_WINDOW_INCREMENT) {
            circ->deliver_window += OM_CIRC_WINDOW_INCREMENT;
            send_circuit_sendme(circ, hop);
        }
    }
    if (h.stream_id) {
        handle_stream_msg(circ, hop, &h, body);
        return;
    }
    switch (h.command) {
    case OM_RELAY_SENDME:
        circ->package_window += OM_CIRC_WINDOW_INCREMENT;
        return;
    case OM_RELAY_DROP:
        return;
    case OM_RELAY_TRUNCATED: {
        char why[64];
        snprintf(why, sizeof why, "TRUNCATED: %s",
                 om_destroy_reason_name(h.length ? body[0] : 0));
        om_circuit_close(circ, OM_DESTROY_REQUESTED, why);
        return;
    }
    default:
        if (om_relay_dispatch(&circ->dispatch, circ, &h, body) == -2)
            om_debug("Circuit %u: dropping unhandled %s", circ->circ_id,
                     om_relay_command_name(h.command));
        return;
    }
}

static void circ_cell_cb(om_channel_t *chan, const om_cell_t *cell, void *arg)
{
    om_circuit_t *circ = arg;
    (void)chan;
    if (circ->state == OM_CIRC_CLOSED)
        return;
    switch (cell->command) {
    case OM_CELL_CREATED_FAST:
    case OM_CELL_CREATED2:
        if (circ->state != OM_CIRC_BUILDING || circ->n_hops != 0) {
            om_circuit_close(circ, OM_DESTROY_PROTOCOL, "unexpected CREATED");
            return;
        }
        circ_finish_create(circ, cell);
        return;
    case OM_CELL_DESTROY: {
        char why[300];
        if (cell->payload[0] == OM_DESTROY_CHANNEL_CLOSED && chan->closing)
            snprintf(why, sizeof why, "link closed: %s", chan->close_reason);
        else
            snprintf(why, sizeof why, "DESTROY from relay: %s",
                     om_destroy_reason_name(cell->payload[0]));
        circ_closed(circ, why);
        return;
    }
    case OM_CELL_RELAY:
    case OM_CELL_RELAY_EARLY: {
        if (circ->state != OM_CIRC_OPEN) {
            om_circuit_close(circ, OM_DESTROY_PROTOCOL, "relay cell before the circuit was open");
            return;
        }
        om_cell_t copy = *cell;
        handle_relay_cell(circ, &copy);
        return;
    }
    default:
        om_circuit_close(circ, OM_DESTROY_PROTOCOL, "unexpected cell on an origin circuit");
        return;
    }
}

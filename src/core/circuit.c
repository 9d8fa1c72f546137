/* circuit.c — origin circuits: the first hop's create handshake, layered relay crypto,
 * relay message routing to streams or the dispatch table, flow control (fixed windows with
 * SENDMEs, tor-spec 7.3, 7.4, authenticated SENDME v1 of proposal 289; or congestion control
 * negotiated with the exit, proposal 324, driving congestion.c), DESTROY, and streams. How the
 * CC calls fit in: doc/congestion-control.md. */
#include "core/circuit.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/crypto.h"
#include "core/log.h"

#define SENDME_VERSION_AUTHENTICATED 1

/* Congestion control with the hop cc_hop (prop 324). Allocated when the request is sent; kept
 * only if the exit accepted it. */
struct om_circ_cc {
    om_cc_params_t params; /* copied at build time: a new consensus does not change us */
    bool requested;        /* the request went out in the last hop's ntor-v3 message */
    om_cc_t cc;
    /* Proposal 289 digests of the DATA cells whose SENDMEs are outstanding: with CC up to
     * OM_CC_MAX_PENDING of them (om_cc_can_send stops before more). */
    uint8_t digests[OM_CC_MAX_PENDING][20];
    uint32_t dig_head, dig_n;
};

static bool stream_can_send(const om_stream_t *s)
{
    const om_circuit_t *circ = s->circ;
    if (s->cc) return om_cc_can_send(&circ->cc->cc) && om_flow_may_read(&s->flow_tx);
    return s->package_window > 0 && circ->package_window > 0;
}

static void circ_cell_cb(om_channel_t *chan, const om_cell_t *cell, void *arg);
static void notify_writable(om_circuit_t *circ);

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
    free(circ->cc);
    free(circ);
}

static void stream_end_local(om_stream_t *s, uint8_t reason, const char *why);

/* Close locally: notify streams and the owner once, then free later. */
static void circ_closed(om_circuit_t *circ, const char *reason)
{
    if (circ->state == OM_CIRC_CLOSED) return;
    circ->state = OM_CIRC_CLOSED;
    snprintf(circ->close_reason, sizeof circ->close_reason, "%s", reason);
    if (circ->chan) om_channel_unregister_circ(circ->chan, circ->circ_id);
    while (circ->streams)
        stream_end_local(circ->streams, 0, reason);
    if (om_circuit_cc_active(circ)) {
        char ccs[128];
        om_circuit_cc_format(circ, ccs, sizeof ccs);
        om_info("Circuit %u closed: %s (congestion control: %s)", circ->circ_id, reason, ccs);
    } else {
        om_info("Circuit %u closed: %s", circ->circ_id, reason);
    }
    if (circ->cb.on_closed) circ->cb.on_closed(circ, reason, circ->cb.arg);
    struct event_base *base = circ->chan ? circ->chan->base : circ_base;
    circ->chan = NULL;
    if (!base || event_base_once(base, -1, EV_TIMEOUT, circ_free_cb, circ, NULL) < 0)
        om_warn("could not schedule freeing circuit (leaked)");
}

void om_circuit_close(om_circuit_t *circ, uint8_t reason, const char *why)
{
    if (!circ || circ->state == OM_CIRC_CLOSED) return;
    if (circ->chan && circ->chan->state == OM_CHAN_OPEN) {
        om_cell_t d = {.circ_id = circ->circ_id, .command = OM_CELL_DESTROY};
        memset(d.payload, 0, sizeof d.payload);
        d.payload[0] = reason;
        om_channel_send_cell(circ->chan, &d);
    }
    circ_closed(circ, why ? why : om_destroy_reason_name(reason));
}

/* Make the client handshake for hop `hop` into out (HTYPE/HLEN are the caller's). Returns the
 * handshake data length, or -1. */
static int make_onionskin(om_circuit_t *circ, int hop, uint8_t *out, size_t cap)
{
    const om_hop_target_t *t = &circ->hops[hop].target;
    int type = circ->hops[hop].handshake_type;
    circ->pending_type = type;
    if (type == OM_HANDSHAKE_TYPE_FAST) {
        /* tor-spec 5.1.5: CREATE_FAST carries X (20 random bytes). */
        if (cap < OM_FAST_LEN || om_fast_client_create(&circ->pending.fast, out) < 0) return -1;
        return OM_FAST_LEN;
    }
    if (type == OM_HANDSHAKE_TYPE_NTOR) {
        if (cap < OM_NTOR_ONIONSKIN_LEN ||
            om_ntor_client_create(&circ->pending.ntor, t->rsa_fp, t->ntor_key, out) < 0)
            return -1;
        return OM_NTOR_ONIONSKIN_LEN;
    }
    if (type == OM_HANDSHAKE_TYPE_NTOR_V3) {
        if (!t->has_ed) {
            om_warn("ntor-v3 needs the relay's Ed25519 identity");
            return -1;
        }
        /* Proposal 324 10.3: the last hop of a circuit built with CC parameters gets the
         * request (01 01 00); any other hop an empty extension list (N_EXTENSIONS = 0). */
        uint8_t ext[8] = {0};
        size_t ext_len = 1;
        bool want_cc = circ->cc && hop == circ->path_len - 1;
        if (want_cc) {
            ext_len = sizeof ext;
            if (om_cc_ext_request_encode(ext, &ext_len) < 0) return -1;
            circ->cc->requested = true;
        }
        size_t len = cap;
        if (om_ntor3_client_create(&circ->pending.ntor3, t->ed_id, t->ntor_key,
                                   (const uint8_t *)OM_NTOR3_CIRC_VERIFICATION,
                                   OM_NTOR3_CIRC_VERIFICATION_LEN, ext, ext_len, out, &len) < 0)
            return -1;
        return (int)len;
    }
    return -1;
}

static const char *htype_name(int type)
{
    return type == OM_HANDSHAKE_TYPE_FAST   ? "CREATE_FAST"
           : type == OM_HANDSHAKE_TYPE_NTOR ? "ntor"
                                            : "ntor-v3";
}

/* The relay's ntor-v3 reply message (prop 324 10.3, 10.5): enable CC if it accepted our
 * request. -1 (close the circuit) on a malformed reply or a CC reply we did not ask for. */
static int cc_negotiated(om_circuit_t *circ, const uint8_t *smsg, size_t smsg_len)
{
    int hop = circ->n_hops;
    bool asked = circ->cc && circ->cc->requested && hop == circ->path_len - 1;
    /* Without a request any CC reply closes the circuit; 31 (tor's default) only picks the reason.
     */
    int32_t our_inc = circ->cc ? circ->cc->params.sendme_inc : 31;
    uint8_t inc = 0;
    int r = om_cc_ext_response_parse(smsg, smsg_len, our_inc, &inc);
    if (r < 0) {
        om_info("Circuit %u: hop %d sent a malformed or out-of-range congestion-control reply",
                circ->circ_id, hop + 1);
        return -1;
    }
    if (r == 1 && !asked) {
        om_info("Circuit %u: hop %d sent congestion-control parameters we did not ask for",
                circ->circ_id, hop + 1);
        return -1;
    }
    if (r == 1) {
        if (om_cc_init_path(&circ->cc->cc, &circ->cc->params, inc, OM_CC_PATH_EXIT) < 0) return -1;
        circ->cc_hop = hop;
        om_info("Circuit %u: congestion control negotiated with hop %d (sendme_inc %u)",
                circ->circ_id, hop + 1, inc);
    } else if (asked) {
        om_info("Circuit %u: hop %d declined congestion control; fixed windows", circ->circ_id,
                hop + 1);
        free(circ->cc);
        circ->cc = NULL;
    }
    return 0;
}

/* Finish the pending handshake for the next hop with the relay's reply. */
static int finish_handshake(om_circuit_t *circ, const uint8_t *reply, size_t len,
                            om_handshake_keys_t *keys)
{
    int r = -1;
    switch (circ->pending_type) {
    case OM_HANDSHAKE_TYPE_FAST:
        r = om_fast_client_finish(&circ->pending.fast, reply, len, keys);
        om_fast_client_clear(&circ->pending.fast);
        break;
    case OM_HANDSHAKE_TYPE_NTOR:
        r = om_ntor_client_finish(&circ->pending.ntor, reply, len, keys);
        om_ntor_client_clear(&circ->pending.ntor);
        break;
    case OM_HANDSHAKE_TYPE_NTOR_V3: {
        uint8_t smsg[OM_NTOR3_MAX_MSG];
        size_t smsg_len = sizeof smsg;
        r = om_ntor3_client_finish(&circ->pending.ntor3, reply, len, smsg, &smsg_len, keys);
        om_ntor3_client_clear(&circ->pending.ntor3);
        if (r == 0) {
            om_debug("ntor-v3: relay sent a %zu-byte extension message", smsg_len);
            if (cc_negotiated(circ, smsg, smsg_len) < 0) {
                om_memwipe(keys, sizeof *keys);
                r = -2;
            }
        }
        break;
    }
    }
    return r;
}

static int send_extend2(om_circuit_t *circ);

/* A hop's handshake completed: install its keys, then extend further or report built. */
static void hop_established(om_circuit_t *circ, const uint8_t *reply, size_t len)
{
    int hop = circ->n_hops;
    om_handshake_keys_t keys;
    int fr = finish_handshake(circ, reply, len, &keys);
    if (fr < 0) {
        char why[96];
        if (fr == -2)
            snprintf(why, sizeof why, "hop %d: bad congestion-control reply in ntor-v3", hop + 1);
        else
            snprintf(why, sizeof why, "hop %d: %s handshake verification failed", hop + 1,
                     htype_name(circ->hops[hop].handshake_type));
        om_circuit_close(circ, OM_DESTROY_PROTOCOL, why);
        return;
    }
    int r = om_relay_crypto_init(&circ->hops[hop].crypto, keys.keys);
    om_memwipe(&keys, sizeof keys);
    if (r < 0) {
        om_circuit_close(circ, OM_DESTROY_INTERNAL, "relay crypto init failed");
        return;
    }
    circ->n_hops++;
    om_debug("Circuit %u: hop %d established (%s)", circ->circ_id, circ->n_hops,
             htype_name(circ->hops[hop].handshake_type));
    if (circ->n_hops < circ->path_len) {
        circ->state = OM_CIRC_OPEN; /* so relay cells can be sent to the built hops */
        if (send_extend2(circ) < 0) {
            om_circuit_close(circ, OM_DESTROY_INTERNAL, "could not send EXTEND2");
            return;
        }
        circ->state = OM_CIRC_BUILDING;
        return;
    }
    circ->state = OM_CIRC_OPEN;
    circ->t_created = om_now_usec();
    if (circ->cb.on_built) circ->cb.on_built(circ, circ->cb.arg);
}

static int send_extend2(om_circuit_t *circ)
{
    int hop = circ->n_hops;
    const om_hop_target_t *t = &circ->hops[hop].target;
    if (t->ipv6_only && !t->has_ipv6) return -1;
    om_extend2_t *e = calloc(1, sizeof *e);
    if (!e) return -1;
    /* tor-spec 5.1.2: IPv4 [00] and/or IPv6 [01]; an IPv6-only target gets no IPv4 specifier. */
    e->has_ipv4 = !t->ipv6_only;
    memcpy(e->ipv4, t->ipv4, 4);
    e->ipv4_port = t->or_port;
    e->has_rsa_id = true;
    memcpy(e->rsa_id, t->rsa_fp, 20);
    /* tor-spec 5.1.2: include the Ed25519 identity whenever the target has one. */
    e->has_ed_id = t->has_ed;
    memcpy(e->ed_id, t->ed_id, 32);
    if (t->has_ipv6) {
        e->has_ipv6 = true;
        memcpy(e->ipv6, t->ipv6, 16);
        e->ipv6_port = t->ipv6_port;
    }
    e->htype = (uint16_t)circ->hops[hop].handshake_type;
    int hl = make_onionskin(circ, hop, e->hdata, sizeof e->hdata - 100);
    uint8_t body[OM_RELAY_PAYLOAD_LEN];
    int bl = -1;
    if (hl > 0) {
        e->hlen = (uint16_t)hl;
        bl = om_extend2_encode(e, body, sizeof body);
    }
    free(e);
    if (bl < 0) return -1;
    /* tor-spec 5.6: EXTEND2 goes in a RELAY_EARLY cell to the last established hop. */
    return om_circuit_send_relay(circ, hop - 1, OM_RELAY_EXTEND2, 0, body, (size_t)bl, true);
}

static om_circuit_t *circuit_start(om_channel_t *chan, const om_hop_target_t *path, int n,
                                   int first_type, const om_circ_callbacks_t *cb,
                                   const om_cc_params_t *ccp)
{
    if (!chan || chan->state != OM_CHAN_OPEN || n < 1 || n > OM_CIRC_MAX_HOPS) return NULL;
    om_circuit_t *circ = calloc(1, sizeof *circ);
    if (!circ) return NULL;
    circ_base = chan->base;
    circ->chan = chan;
    circ->state = OM_CIRC_BUILDING;
    circ->path_len = n;
    circ->package_window = circ->deliver_window = OM_CIRC_WINDOW_START;
    circ->early_left = 8;
    circ->next_stream_id = 1;
    circ->cc_hop = -1;
    /* Prop 324 10.1: ask only the last hop of a multi-hop circuit (never one-hop directory
     * circuits), only over ntor-v3, only if it lists FlowCtrl=2 and the consensus has cc_alg. */
    if (ccp && om_cc_params_enabled(ccp) && path && n > 1 &&
        path[n - 1].handshake_type == OM_HANDSHAKE_TYPE_NTOR_V3 && path[n - 1].flowctrl_cc) {
        circ->cc = calloc(1, sizeof *circ->cc);
        if (!circ->cc) {
            free(circ);
            return NULL;
        }
        circ->cc->params = *ccp;
    }
    if (cb) circ->cb = *cb;
    om_relay_dispatch_init(&circ->dispatch);
    for (int i = 0; i < n; i++) {
        if (path) circ->hops[i].target = path[i];
        circ->hops[i].handshake_type = path ? path[i].handshake_type : first_type;
    }
    circ->hops[0].handshake_type = first_type;
    circ->circ_id = om_channel_alloc_circ_id(chan);
    if (!circ->circ_id || om_channel_register_circ(chan, circ->circ_id, circ_cell_cb, circ) < 0) {
        free(circ->cc);
        free(circ);
        return NULL;
    }
    om_cell_t c = {.circ_id = circ->circ_id};
    memset(c.payload, 0, sizeof c.payload);
    int hl;
    if (first_type == OM_HANDSHAKE_TYPE_FAST) {
        c.command = OM_CELL_CREATE_FAST;
        hl = make_onionskin(circ, 0, c.payload, OM_CELL_PAYLOAD_LEN);
    } else {
        /* tor-spec 5.1: CREATE2 = HTYPE(2) HLEN(2) HDATA. */
        c.command = OM_CELL_CREATE2;
        hl = make_onionskin(circ, 0, c.payload + 4, OM_CELL_PAYLOAD_LEN - 4);
        c.payload[0] = (uint8_t)(first_type >> 8);
        c.payload[1] = (uint8_t)first_type;
        c.payload[2] = (uint8_t)(hl >> 8);
        c.payload[3] = (uint8_t)hl;
    }
    if (hl < 0 || om_channel_send_cell(chan, &c) < 0) {
        om_channel_unregister_circ(chan, circ->circ_id);
        om_memwipe(&circ->pending, sizeof circ->pending);
        free(circ->cc);
        free(circ);
        return NULL;
    }
    circ->t_create_sent = om_now_usec();
    return circ;
}

om_circuit_t *om_circuit_create(om_channel_t *chan, int handshake_type,
                                const om_hop_target_t *target, const om_circ_callbacks_t *cb)
{
    if (handshake_type != OM_HANDSHAKE_TYPE_FAST && !target) return NULL;
    return circuit_start(chan, target, 1, handshake_type, cb, NULL);
}

om_circuit_t *om_circuit_build(om_channel_t *chan, const om_hop_target_t *path, int n,
                               const om_circ_callbacks_t *cb)
{
    if (!path) return NULL;
    return circuit_start(chan, path, n, path[0].handshake_type, cb, NULL);
}

om_circuit_t *om_circuit_build_cc(om_channel_t *chan, const om_hop_target_t *path, int n,
                                  const om_circ_callbacks_t *cb, const om_cc_params_t *cc)
{
    if (!path) return NULL;
    return circuit_start(chan, path, n, path[0].handshake_type, cb, cc);
}

bool om_circuit_cc_active(const om_circuit_t *circ)
{
    return circ && circ->cc && circ->cc_hop >= 0;
}

void om_circuit_cc_format(const om_circuit_t *circ, char *buf, size_t len)
{
    if (!len) return;
    buf[0] = 0;
    if (om_circuit_cc_active(circ)) om_cc_format(&circ->cc->cc, buf, len);
}

static void circ_finish_create(om_circuit_t *circ, const om_cell_t *cell)
{
    if (cell->command == OM_CELL_CREATED_FAST) {
        if (circ->pending_type != OM_HANDSHAKE_TYPE_FAST) {
            om_circuit_close(circ, OM_DESTROY_PROTOCOL, "CREATED_FAST in reply to CREATE2");
            return;
        }
        hop_established(circ, cell->payload, 2 * OM_FAST_LEN);
        return;
    }
    if (circ->pending_type == OM_HANDSHAKE_TYPE_FAST) {
        om_circuit_close(circ, OM_DESTROY_PROTOCOL, "CREATED2 in reply to CREATE_FAST");
        return;
    }
    const uint8_t *hdata;
    size_t hlen;
    if (om_created2_parse(cell->payload, OM_CELL_PAYLOAD_LEN, &hdata, &hlen) < 0) {
        om_circuit_close(circ, OM_DESTROY_PROTOCOL, "CREATED2: HLEN too large");
        return;
    }
    hop_established(circ, hdata, hlen);
}

int om_circuit_send_relay(om_circuit_t *circ, int hop, uint8_t command, uint16_t stream_id,
                          const uint8_t *body, size_t len, bool early)
{
    if (!circ || circ->state != OM_CIRC_OPEN || !circ->chan) return -1;
    if (hop < 0) hop = circ->n_hops - 1;
    if (hop >= circ->n_hops || len > OM_RELAY_PAYLOAD_LEN) return -1;
    om_cell_t c = {.circ_id = circ->circ_id, .command = OM_CELL_RELAY};
    if (early) {
        if (circ->early_left <= 0) return -1;
        circ->early_left--;
        c.command = OM_CELL_RELAY_EARLY;
    }
    if (om_relay_payload_build(c.payload, command, stream_id, body, len) < 0) return -1;
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
        if (s->id == id) return s;
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
    if (s->cc && s->connected)
        om_info("Circuit %u stream %u ended: flow control sent %llu XOFF, %llu XON; got %u XOFF, "
                "%u XON; peak buffered %zu bytes",
                s->circ->circ_id, s->id, (unsigned long long)s->flow_rx.n_xoff_sent,
                (unsigned long long)s->flow_rx.n_xon_sent, s->flow_tx.num_xoff_recv,
                s->flow_tx.num_xon_recv, s->peak_buffered);
    stream_unlink(s);
    s->ended = true;
    if (s->cb.on_end) s->cb.on_end(s, reason, why, s->cb.arg);
    free(s);
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
    int n = 0;
    for (om_stream_t *s = circ->streams; s; s = s->next)
        n++;
    if (n >= OM_CIRC_MAX_STREAMS) return NULL;
    om_stream_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->circ = circ;
    s->id = stream_alloc_id(circ);
    s->hop = circ->n_hops - 1;
    s->package_window = OM_STREAM_WINDOW_START;
    s->deliver_window = OM_STREAM_WINDOW_START;
    if (om_circuit_cc_active(circ) && s->hop == circ->cc_hop) {
        /* Prop 324 4: no stream windows; XON/XOFF. Our edge is a local application
         * (cc_xoff_client); the other end is an exit. */
        s->cc = true;
        om_flow_recv_init(&s->flow_rx, &circ->cc->params, false);
        om_flow_send_init(&s->flow_tx, &circ->cc->params, false);
    }
    if (cb) s->cb = *cb;
    s->next = circ->streams;
    circ->streams = s;
    return s;
}

om_stream_t *om_stream_begin_dir(om_circuit_t *circ, const om_stream_callbacks_t *cb)
{
    if (!circ || circ->state != OM_CIRC_OPEN) return NULL;
    om_stream_t *s = stream_new(circ, cb);
    if (!s) return NULL;
    /* tor-spec 6.2.1: BEGIN_DIR has an empty body. */
    if (om_circuit_send_relay(circ, s->hop, OM_RELAY_BEGIN_DIR, s->id, NULL, 0, false) < 0) {
        stream_unlink(s);
        free(s);
        return NULL;
    }
    return s;
}

om_stream_t *om_stream_begin(om_circuit_t *circ, const char *host, uint16_t port, uint32_t flags,
                             const om_stream_callbacks_t *cb)
{
    if (!circ || circ->state != OM_CIRC_OPEN || !host) return NULL;
    om_begin_t b;
    memset(&b, 0, sizeof b);
    if (strlen(host) > OM_MAX_HOSTNAME_LEN) return NULL;
    snprintf(b.host, sizeof b.host, "%s", host);
    b.port = port;
    b.flags = flags;
    uint8_t body[OM_RELAY_PAYLOAD_LEN];
    int bl = om_begin_encode(&b, body, sizeof body);
    if (bl < 0) return NULL;
    om_stream_t *s = stream_new(circ, cb);
    if (!s) return NULL;
    if (om_circuit_send_relay(circ, s->hop, OM_RELAY_BEGIN, s->id, body, (size_t)bl, false) < 0) {
        stream_unlink(s);
        free(s);
        return NULL;
    }
    return s;
}

om_stream_t *om_stream_resolve(om_circuit_t *circ, const char *name,
                               const om_stream_callbacks_t *cb)
{
    if (!circ || circ->state != OM_CIRC_OPEN || !name) return NULL;
    size_t n = strlen(name);
    if (n == 0 || n > OM_MAX_HOSTNAME_LEN) return NULL;
    om_stream_t *s = stream_new(circ, cb);
    if (!s) return NULL;
    s->is_resolve = true;
    /* tor-spec 6.4: the name with a terminating NUL. */
    if (om_circuit_send_relay(circ, s->hop, OM_RELAY_RESOLVE, s->id, (const uint8_t *)name, n + 1,
                              false) < 0) {
        stream_unlink(s);
        free(s);
        return NULL;
    }
    return s;
}

ssize_t om_stream_write(om_stream_t *s, const uint8_t *data, size_t len)
{
    if (!s || s->ended) return -1;
    om_circuit_t *circ = s->circ;
    size_t done = 0;
    while (done < len && stream_can_send(s)) {
        size_t n = len - done;
        if (n > OM_RELAY_PAYLOAD_LEN) n = OM_RELAY_PAYLOAD_LEN;
        if (om_circuit_send_relay(circ, s->hop, OM_RELAY_DATA, s->id, data + done, n, false) < 0)
            return done ? (ssize_t)done : -1;
        done += n;
        if (s->cc) {
            /* Prop 324 3: inflight/cwnd instead of windows; the cells whose SENDME will come
             * back have their send time queued for the RTT and (proposal 289) their digest
             * kept to check the SENDME. */
            struct om_circ_cc *c = circ->cc;
            if (om_cc_note_data_sent(&c->cc, om_now_usec()) == 1 && c->dig_n < OM_CC_MAX_PENDING) {
                uint32_t slot = (c->dig_head + c->dig_n++) % OM_CC_MAX_PENDING;
                om_relay_crypto_last_digest_fwd(&circ->hops[s->hop].crypto, c->digests[slot]);
            }
            om_flow_send_note_sent(&s->flow_tx, n);
            continue;
        }
        s->package_window--;
        circ->package_window--;
        /* Proposal 289: the hop will answer this cell with a SENDME carrying its digest. */
        if (circ->package_window % OM_CIRC_WINDOW_INCREMENT == 0) {
            om_hop_t *hp = &circ->hops[s->hop];
            if (hp->n_sendme_digests < OM_SENDME_DIGESTS_MAX)
                om_relay_crypto_last_digest_fwd(&hp->crypto,
                                                hp->sendme_digests[hp->n_sendme_digests++]);
        }
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

/* tor-spec 7.4: one stream SENDME (empty body) per 50 cells delivered to the consumer. With
 * CC there are no stream SENDMEs (prop 324 4). */
static void stream_send_due_sendmes(om_stream_t *s)
{
    if (s->cc) return;
    while (s->deliver_window <= OM_STREAM_WINDOW_START - OM_STREAM_WINDOW_INCREMENT) {
        s->deliver_window += OM_STREAM_WINDOW_INCREMENT;
        if (om_circuit_send_relay(s->circ, s->hop, OM_RELAY_SENDME, s->id, NULL, 0, false) < 0)
            return;
    }
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
    if (!s || s->ended || !s->cc || s->circ->state != OM_CIRC_OPEN) return;
    uint32_t kbps = 0;
    if (buffered > s->peak_buffered) s->peak_buffered = buffered;
    om_flow_action_t a = om_flow_note_buffered(&s->flow_rx, buffered, om_now_usec(), &kbps);
    stream_send_flow(s, a, kbps);
}

void om_stream_note_drained(om_stream_t *s, size_t written, size_t buffered)
{
    if (!s || s->ended || !s->cc || s->circ->state != OM_CIRC_OPEN) return;
    uint32_t kbps = 0;
    om_flow_action_t a = om_flow_note_drained(&s->flow_rx, written, buffered, om_now_usec(), &kbps);
    stream_send_flow(s, a, kbps);
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
    case OM_RELAY_CONNECTED: {
        om_connected_t c;
        if (s->connected || om_connected_parse(&c, body, h->length) < 0) {
            om_circuit_close(circ, OM_DESTROY_PROTOCOL, "malformed or repeated CONNECTED");
            return;
        }
        s->connected = true;
        s->connected_addr = c.addr;
        s->connected_ttl = c.ttl;
        if (s->cb.on_connected) s->cb.on_connected(s, s->cb.arg);
        return;
    }
    case OM_RELAY_RESOLVED:
        if (!s->is_resolve) {
            om_circuit_close(circ, OM_DESTROY_PROTOCOL, "RESOLVED on a data stream");
            return;
        }
        stream_unlink(s);
        s->ended = true;
        if (s->cb.on_resolved) s->cb.on_resolved(s, body, h->length, s->cb.arg);
        free(s);
        return;
    case OM_RELAY_DATA:
        if (!s->cc && --s->deliver_window < 0) {
            om_circuit_close(circ, OM_DESTROY_PROTOCOL, "stream deliver window exceeded");
            return;
        }
        if (s->cb.on_data && h->length) s->cb.on_data(s, body, h->length, s->cb.arg);
        /* tor-spec 7.4: a stream SENDME (empty body) per 50 cells consumed. */
        /* The callback may have closed the stream or the circuit. */
        if (circ->state != OM_CIRC_OPEN || stream_find(circ, h->stream_id) != s) return;
        if (!s->blocked) stream_send_due_sendmes(s);
        return;
    case OM_RELAY_END: {
        uint8_t reason = h->length >= 1 ? body[0] : OM_END_MISC;
        char why[64];
        snprintf(why, sizeof why, "END from relay: %s", om_end_reason_name(reason));
        stream_end_local(s, reason, why);
        return;
    }
    case OM_RELAY_SENDME:
        if (s->cc) {
            /* Prop 324 4: flow control replaces stream SENDMEs (tor: "Congestion control got
             * stream sendme"). */
            om_circuit_close(circ, OM_DESTROY_PROTOCOL,
                             "stream SENDME on a congestion-controlled circuit");
            return;
        }
        s->package_window += OM_STREAM_WINDOW_INCREMENT;
        if (s->package_window > OM_STREAM_WINDOW_START) {
            om_circuit_close(circ, OM_DESTROY_PROTOCOL, "stream SENDME beyond the window");
            return;
        }
        notify_writable(circ);
        return;
    case OM_RELAY_XOFF:
    case OM_RELAY_XON: {
        if (!s->cc) {
            /* tor ignores XON/XOFF on circuits without CC. */
            om_debug("Circuit %u: %s without congestion control ignored", circ->circ_id,
                     om_relay_command_name(h->command));
            return;
        }
        om_flow_msg_t m = h->command == OM_RELAY_XOFF
                              ? om_flow_on_xoff(&s->flow_tx, body, h->length)
                              : om_flow_on_xon(&s->flow_tx, body, h->length);
        if (m == OM_FLOW_MSG_MALFORMED) {
            om_circuit_close(circ, OM_DESTROY_PROTOCOL, "malformed XON/XOFF");
            return;
        }
        if (m == OM_FLOW_MSG_SUSPICIOUS)
            om_info("Circuit %u stream %u: more %s than the data we sent explains", circ->circ_id,
                    s->id, om_relay_command_name(h->command));
        om_debug("Circuit %u stream %u: got %s", circ->circ_id, s->id,
                 om_relay_command_name(h->command));
        if (h->command == OM_RELAY_XON) notify_writable(circ);
        return;
    }
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

/* Proposal 289: a version-1 circuit SENDME carries the digest of the DATA cell of ours that
 * triggered it; it must match the one we recorded when sending that cell. Version 0 (no digest)
 * is accepted as tor does unless the consensus raises sendme_accept_min_version. */
static bool circuit_sendme_valid(om_circuit_t *circ, int hop, const uint8_t *body, size_t len)
{
    om_hop_t *hp = &circ->hops[hop];
    struct om_circ_cc *c = hop == circ->cc_hop ? circ->cc : NULL;
    uint8_t expect[20];
    bool have = false;
    if (c) {
        /* The oldest outstanding digest leaves the ring whatever the version. */
        if (c->dig_n) {
            memcpy(expect, c->digests[c->dig_head], 20);
            c->dig_head = (c->dig_head + 1) % OM_CC_MAX_PENDING;
            c->dig_n--;
            have = true;
        }
    }
    if (len < 3 || body[0] == 0) return true;
    if (body[0] != 1) return true; /* unknown future versions are accepted (tor-spec 7.3.1) */
    size_t dlen = (size_t)body[1] << 8 | body[2];
    if (c) return dlen >= 20 && len >= 3 + dlen && have && om_mem_eq_ct(expect, body + 3, 20);
    if (dlen < 20 || len < 3 + dlen || hp->n_sendme_digests == 0) return false;
    bool ok = om_mem_eq_ct(hp->sendme_digests[0], body + 3, 20);
    memmove(hp->sendme_digests[0], hp->sendme_digests[1], (size_t)(hp->n_sendme_digests - 1) * 20);
    hp->n_sendme_digests--;
    return ok;
}

/* Windows reopened: tell streams that were short of window. */
static void notify_writable(om_circuit_t *circ)
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
        /* tor-spec 7.3: a SENDME per 100 DATA cells; with CC one per sendme_inc (prop 324 2.2),
         * sent at once since the exit measures its RTT by it. */
        int inc = hop == circ->cc_hop ? (int)circ->cc->cc.sendme_inc : OM_CIRC_WINDOW_INCREMENT;
        if (--circ->deliver_window < 0) {
            om_circuit_close(circ, OM_DESTROY_PROTOCOL, "circuit deliver window exceeded");
            return;
        }
        if (circ->deliver_window <= OM_CIRC_WINDOW_START - inc) {
            circ->deliver_window += inc;
            send_circuit_sendme(circ, hop);
        }
    }
    if (h.stream_id) {
        handle_stream_msg(circ, hop, &h, body);
        return;
    }
    switch (h.command) {
    case OM_RELAY_EXTENDED2: {
        const uint8_t *hdata;
        size_t hlen;
        if (circ->state != OM_CIRC_BUILDING || hop != circ->n_hops - 1 ||
            circ->n_hops >= circ->path_len) {
            om_circuit_close(circ, OM_DESTROY_PROTOCOL, "unexpected EXTENDED2");
            return;
        }
        if (om_created2_parse(body, h.length, &hdata, &hlen) < 0) {
            om_circuit_close(circ, OM_DESTROY_PROTOCOL, "malformed EXTENDED2");
            return;
        }
        hop_established(circ, hdata, hlen);
        return;
    }
    case OM_RELAY_SENDME:
        if (!circuit_sendme_valid(circ, hop, body, h.length)) {
            om_circuit_close(circ, OM_DESTROY_PROTOCOL,
                             "circuit SENDME with a wrong authenticated digest");
            return;
        }
        if (hop == circ->cc_hop) {
            /* Prop 324 3.3: a tor exit treats a backed-up local channel as congestion. */
            om_cc_set_chan_blocked(&circ->cc->cc,
                                   circ->chan && om_channel_outbuf_len(circ->chan) > 32 * 1024);
            if (om_cc_note_sendme_received(&circ->cc->cc, om_now_usec()) < 0) {
                om_circuit_close(circ, OM_DESTROY_PROTOCOL, "SENDME without outstanding data");
                return;
            }
            notify_writable(circ);
            return;
        }
        circ->package_window += OM_CIRC_WINDOW_INCREMENT;
        if (circ->package_window > OM_CIRC_WINDOW_START) {
            om_circuit_close(circ, OM_DESTROY_PROTOCOL, "circuit SENDME beyond the window");
            return;
        }
        notify_writable(circ);
        return;
    case OM_RELAY_DROP:
        return;
    case OM_RELAY_TRUNCATED: {
        char why[64];
        snprintf(why, sizeof why, "TRUNCATED: %s", om_destroy_reason_name(h.length ? body[0] : 0));
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
    if (circ->state == OM_CIRC_CLOSED) return;
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
        if (circ->n_hops == 0) {
            om_circuit_close(circ, OM_DESTROY_PROTOCOL, "relay cell before the first hop was up");
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

/* circuit.c — origin circuits: the first hop's create handshake, EXTEND2 to the next hops
 * (tor-spec 5.1), layered relay crypto (5.5), relay messages to and from each hop, per-hop flow
 * control through sendme.c (fixed windows with authenticated SENDMEs, tor-spec 7.3 and proposal
 * 289; or congestion control negotiated with the exit, proposal 324), DESTROY, TRUNCATED and the
 * owner's dispatch table. Streams: circuit_stream.c. How the CC calls fit in:
 * doc/congestion-control.md. */
#include "core/circuit.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/circuit_int.h"
#include "core/crypto.h"
#include "core/log.h"

static void circ_cell_cb(om_channel_t *chan, const om_cell_t *cell, void *arg);

const char *om_circ_state_name(om_circ_state_t s)
{
    return s == OM_CIRC_BUILDING ? "building" : s == OM_CIRC_OPEN ? "open" : "closed";
}

static void circ_free(om_circuit_t *circ)
{
    for (int i = 0; i < OM_CIRC_MAX_HOPS; i++) {
        om_relay_crypto_clear(&circ->hops[i].crypto);
        om_sendme_clear(&circ->hops[i].fc);
    }
    om_memwipe(&circ->pending, sizeof circ->pending);
    free(circ->cc_request);
    free(circ);
}

static void circ_free_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    circ_free(arg);
}

/* Close locally: notify streams and the owner once, then free from the event loop. */
static void circ_closed(om_circuit_t *circ, const char *reason)
{
    if (circ->state == OM_CIRC_CLOSED) return;
    circ->state = OM_CIRC_CLOSED;
    snprintf(circ->close_reason, sizeof circ->close_reason, "%s", reason);
    if (circ->chan) om_channel_unregister_circ(circ->chan, circ->circ_id);
    om_circ_streams_end_all(circ, reason);
    if (circ->cfx) om_cfx_leg_closed(circ);
    if (om_circuit_cc_active(circ)) {
        char ccs[128];
        om_circuit_cc_format(circ, ccs, sizeof ccs);
        om_info("Circuit %u closed: %s (congestion control: %s)", circ->circ_id, reason, ccs);
    } else {
        om_info("Circuit %u closed: %s", circ->circ_id, reason);
    }
    if (circ->cb.on_closed) circ->cb.on_closed(circ, reason, circ->cb.arg);
    circ->chan = NULL;
    if (event_base_once(circ->base, -1, EV_TIMEOUT, circ_free_cb, circ, NULL) < 0)
        om_warn("could not schedule freeing circuit (leaked)");
}

void om_circuit_close(om_circuit_t *circ, uint8_t reason, const char *why)
{
    if (!circ || circ->state == OM_CIRC_CLOSED) return;
    if (circ->chan && om_channel_state(circ->chan) == OM_CHAN_OPEN) {
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
        bool want_cc = circ->cc_request && hop == circ->path_len - 1;
        if (want_cc) {
            ext_len = sizeof ext;
            if (om_cc_ext_request_encode(ext, &ext_len) < 0) return -1;
            circ->cc_requested = true;
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
    bool asked = circ->cc_request && circ->cc_requested && hop == circ->path_len - 1;
    /* Without a request any CC reply closes the circuit; 31 (tor's default) only picks the
     * reason. */
    int32_t our_inc = circ->cc_request ? circ->cc_request->sendme_inc : 31;
    uint8_t inc = 0;
    int r = om_cc_ext_response_parse(smsg, smsg_len, our_inc, &inc);
    if (r < 0) {
        om_log_protocol(
            "Circuit %u: hop %d sent a malformed or out-of-range congestion-control reply",
            circ->circ_id, hop + 1);
        return -1;
    }
    if (r == 1 && !asked) {
        om_log_protocol("Circuit %u: hop %d sent congestion-control parameters we did not ask for",
                        circ->circ_id, hop + 1);
        return -1;
    }
    if (r == 1) {
        if (om_sendme_enable_cc(&circ->hops[hop].fc, circ->cc_request, inc, OM_CC_PATH_EXIT) < 0)
            return -1;
        circ->cc_hop = hop;
        om_info("Circuit %u: congestion control negotiated with hop %d (sendme_inc %u)",
                circ->circ_id, hop + 1, inc);
    } else if (asked) {
        om_info("Circuit %u: hop %d declined congestion control; fixed windows", circ->circ_id,
                hop + 1);
    }
    if (hop == circ->path_len - 1) { /* the request's answer is in: not needed any more */
        free(circ->cc_request);
        circ->cc_request = NULL;
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
                                   const om_circ_flow_params_t *fp)
{
    if (!chan || om_channel_state(chan) != OM_CHAN_OPEN || n < 1 || n > OM_CIRC_MAX_HOPS)
        return NULL;
    om_circuit_t *circ = calloc(1, sizeof *circ);
    if (!circ) return NULL;
    circ->base = om_channel_base(chan);
    circ->chan = chan;
    circ->state = OM_CIRC_BUILDING;
    circ->path_len = n;
    circ->early_left = 8;
    circ->next_stream_id = 1;
    circ->cc_hop = -1;
    circ->sendme_accept_min_version = fp ? fp->sendme_accept_min_version : 0;
    for (int i = 0; i < OM_CIRC_MAX_HOPS; i++)
        om_sendme_init(&circ->hops[i].fc, circ->sendme_accept_min_version);
    /* Prop 324 10.1: ask only the last hop of a multi-hop circuit (never one-hop directory
     * circuits), only over ntor-v3, only if it lists FlowCtrl=2 and the consensus has cc_alg. */
    if (fp && fp->cc && om_cc_params_enabled(fp->cc) && path && n > 1 &&
        path[n - 1].handshake_type == OM_HANDSHAKE_TYPE_NTOR_V3 && path[n - 1].flowctrl_cc) {
        circ->cc_request = malloc(sizeof *circ->cc_request);
        if (!circ->cc_request) {
            free(circ);
            return NULL;
        }
        *circ->cc_request = *fp->cc;
    }
    if (cb) circ->cb = *cb;
    for (int i = 0; i < n; i++) {
        if (path) circ->hops[i].target = path[i];
        circ->hops[i].handshake_type = path ? path[i].handshake_type : first_type;
    }
    circ->hops[0].handshake_type = first_type;
    circ->circ_id = om_channel_alloc_circ_id(chan);
    if (!circ->circ_id || om_channel_register_circ(chan, circ->circ_id, circ_cell_cb, circ) < 0) {
        circ_free(circ);
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
        circ_free(circ);
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

om_circuit_t *om_circuit_build_flow(om_channel_t *chan, const om_hop_target_t *path, int n,
                                    const om_circ_callbacks_t *cb, const om_circ_flow_params_t *fp)
{
    if (!path) return NULL;
    return circuit_start(chan, path, n, path[0].handshake_type, cb, fp);
}

bool om_circuit_cc_active(const om_circuit_t *circ)
{
    return circ && circ->cc_hop >= 0;
}

void om_circuit_cc_format(const om_circuit_t *circ, char *buf, size_t len)
{
    if (!len) return;
    buf[0] = 0;
    if (om_circuit_cc_active(circ))
        om_cc_format(om_sendme_cc((om_sendme_t *)&circ->hops[circ->cc_hop].fc), buf, len);
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

/* ---------------------------------------------------------------- receiving */

/* A relay message for hop `hop` that no stream and no built-in handling took: the owner's
 * dispatch table; its -1 closes the circuit. */
static void dispatch_other(om_circuit_t *circ, const om_relay_header_t *h, const uint8_t *body)
{
    int r = circ->dispatch ? om_relay_dispatch(circ->dispatch, circ, h, body) : -2;
    if (r == -2)
        om_debug("Circuit %u: dropping unhandled %s (stream %u)", circ->circ_id,
                 om_relay_command_name(h->command), h->stream_id);
    else if (r < 0)
        om_circuit_close(circ, OM_DESTROY_PROTOCOL, "relay message refused by its handler");
}

/* tor-spec 7.3: count a DATA cell against hop's deliver window, answering with a SENDME (v1,
 * the digest of this cell) when one is due. -1 if the circuit was closed. */
static int data_delivered(om_circuit_t *circ, int hop)
{
    om_hop_t *hp = &circ->hops[hop];
    int r = om_sendme_note_delivered(&hp->fc);
    if (r < 0) {
        om_circuit_close(circ, OM_DESTROY_PROTOCOL, "circuit deliver window exceeded");
        return -1;
    }
    if (r == 1) {
        uint8_t digest[20], body[OM_SENDME_V1_BODY_LEN];
        om_relay_crypto_last_digest_back(&hp->crypto, digest);
        size_t n = om_sendme_build_v1(body, digest);
        om_circuit_send_relay(circ, hop, OM_RELAY_SENDME, 0, body, n, false);
    }
    return 0;
}

static void circuit_sendme(om_circuit_t *circ, int hop, const uint8_t *body, size_t len)
{
    om_sendme_t *fc = &circ->hops[hop].fc;
    /* Prop 324 3.3: a tor exit treats a backed-up local channel as congestion. */
    om_sendme_set_chan_blocked(fc, circ->chan && om_channel_outbuf_len(circ->chan) > 32 * 1024);
    const char *why = NULL;
    if (om_sendme_process(fc, body, len, om_now_usec(), &why) < 0) {
        om_circuit_close(circ, OM_DESTROY_PROTOCOL, why);
        return;
    }
    om_circ_streams_writable(circ);
}

static void handle_extended2(om_circuit_t *circ, int hop, const om_relay_header_t *h,
                             const uint8_t *body)
{
    const uint8_t *hdata;
    size_t hlen;
    if (circ->state != OM_CIRC_BUILDING || hop != circ->n_hops - 1 ||
        circ->n_hops >= circ->path_len) {
        om_circuit_close(circ, OM_DESTROY_PROTOCOL, "unexpected EXTENDED2");
        return;
    }
    if (om_created2_parse(body, h->length, &hdata, &hlen) < 0) {
        om_circuit_close(circ, OM_DESTROY_PROTOCOL, "malformed EXTENDED2");
        return;
    }
    hop_established(circ, hdata, hlen);
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
    /* Windows count on the leg a cell arrived on, before conflux orders it (tor's relay.c). */
    if (h.command == OM_RELAY_DATA && data_delivered(circ, hop) < 0) return;
    if ((circ->cfx ||
         (h.command >= OM_RELAY_CONFLUX_LINK && h.command <= OM_RELAY_CONFLUX_SWITCH)) &&
        om_cfx_on_relay(circ, hop, &h, body))
        return;
    om_circ_deliver(circ, hop, &h, body);
}

void om_circ_deliver(om_circuit_t *circ, int hop, const om_relay_header_t *hp, const uint8_t *body)
{
    om_relay_header_t h = *hp;
    if (h.stream_id) {
        om_circ_stream_msg(circ, hop, &h, body);
        return;
    }
    switch (h.command) {
    case OM_RELAY_EXTENDED2:
        handle_extended2(circ, hop, &h, body);
        return;
    case OM_RELAY_SENDME:
        circuit_sendme(circ, hop, body, h.length);
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
        dispatch_other(circ, &h, body);
        return;
    }
}

void om_circ_dispatch_other(om_circuit_t *circ, const om_relay_header_t *h, const uint8_t *body)
{
    dispatch_other(circ, h, body);
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
        if (cell->payload[0] == OM_DESTROY_CHANNEL_CLOSED && om_channel_is_closing(chan))
            snprintf(why, sizeof why, "link closed: %s", om_channel_close_reason(chan));
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
    case OM_CELL_CREATE:
    case OM_CELL_CREATE2:
    case OM_CELL_CREATE_FAST:
        /* tor's command_process_create_cell: "for known circ. Dropping": the circuit stays. */
        om_log_protocol("Circuit %u: %s for its ID dropped", circ->circ_id,
                        om_cell_command_name(cell->command));
        return;
    default:
        om_circuit_close(circ, OM_DESTROY_PROTOCOL, "unexpected cell on an origin circuit");
        return;
    }
}

/* ---------------------------------------------------------------- owner interface */

void om_circuit_detach(om_circuit_t *circ)
{
    if (circ) memset(&circ->cb, 0, sizeof circ->cb);
}

void om_circuit_set_dispatch(om_circuit_t *circ, const om_relay_dispatch_t *table)
{
    circ->dispatch = table;
}

uint32_t om_circuit_id(const om_circuit_t *circ)
{
    return circ->circ_id;
}

om_circ_state_t om_circuit_state(const om_circuit_t *circ)
{
    return circ->state;
}

int om_circuit_n_hops(const om_circuit_t *circ)
{
    return circ->n_hops;
}

uint64_t om_circuit_build_usec(const om_circuit_t *circ)
{
    return circ->t_created ? circ->t_created - circ->t_create_sent : 0;
}

bool om_circuit_has_streams(const om_circuit_t *circ)
{
    return circ->streams != NULL;
}

om_channel_t *om_circuit_channel(const om_circuit_t *circ)
{
    return circ->chan;
}

/* or_circuit.c — a relay's circuits: CREATE2/CREATE_FAST answered (tor-spec 5.1), relay cells
 * decrypted and recognized or passed on (tor-spec 5.5, 6.1), EXTEND2 -> CREATE2 to the next hop
 * (at the IPv4 or else the IPv6 address its link specifiers give) and CREATED2 -> EXTENDED2
 * back (5.1.2), DESTROY and TRUNCATE (5.4), RELAY_EARLY limits (5.6). */
#include "or/or_circuit.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>

#include <event2/event.h>

#include "core/log.h"
#include "core/onion_handshake.h"
#include "core/relay_bodies.h"
#include "or/extend_addr.h"

typedef struct create_rate {
    struct create_rate *next;
    om_channel_t *chan;
    time_t window;
    unsigned count;
} create_rate_t;

struct om_or_circuits {
    om_or_circ_params_t p;
    om_or_circ_t *circs;
    create_rate_t *rates;
    om_or_circ_stats_t st;
    struct event *reaper; /* frees marked circuits */
};

static void p_cell_cb(om_channel_t *chan, const om_cell_t *cell, void *arg);
static void n_cell_cb(om_channel_t *chan, const om_cell_t *cell, void *arg);

static void circ_free(om_or_circ_t *circ);

static void reap_cb(evutil_socket_t fd, short what, void *arg)
{
    om_or_circuits_t *m = arg;
    (void)fd;
    (void)what;
    for (om_or_circ_t *c = m->circs, *next; c; c = next) {
        next = c->next;
        if (c->marked) circ_free(c);
    }
}

om_or_circuits_t *om_or_circuits_new(const om_or_circ_params_t *p)
{
    om_or_circuits_t *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->p = *p;
    if (p->base && !(m->reaper = event_new(p->base, -1, 0, reap_cb, m))) {
        free(m);
        return NULL;
    }
    return m;
}

void om_or_circuits_stats(const om_or_circuits_t *m, om_or_circ_stats_t *out)
{
    *out = m->st;
}

static void send_destroy(om_channel_t *chan, uint32_t circ_id, uint8_t reason)
{
    if (!chan || om_channel_is_closing(chan) || om_channel_state(chan) != OM_CHAN_OPEN) return;
    om_cell_t c = {.circ_id = circ_id, .command = OM_CELL_DESTROY};
    memset(c.payload, 0, sizeof c.payload);
    c.payload[0] = reason;
    om_channel_send_cell(chan, &c);
}

/* Forget the next hop (after DESTROY from it, or its link closing, or TRUNCATE). */
static void drop_next_hop(om_or_circ_t *circ)
{
    if (circ->link_wait) {
        om_linkmgr_cancel(circ->owner->p.links, circ->link_wait);
        circ->link_wait = NULL;
    }
    if (circ->n_chan) om_channel_unregister_circ(circ->n_chan, circ->n_circ_id);
    om_or_cellq_clear(circ->q_fwd);
    circ->n_chan = NULL;
    circ->n_circ_id = 0;
    circ->n_pending = false;
    free(circ->pending_create);
    circ->pending_create = NULL;
}

static void circ_free(om_or_circ_t *circ)
{
    om_or_circuits_t *m = circ->owner;
    if (m->p.on_circ_free) m->p.on_circ_free(circ, m->p.stream_arg);
    drop_next_hop(circ);
    om_or_cellq_free(circ->q_fwd);
    om_or_cellq_free(circ->q_back);
    free(circ->cc_params);
    circ->q_fwd = circ->q_back = NULL;
    if (circ->p_chan) om_channel_unregister_circ(circ->p_chan, circ->p_circ_id);
    if (circ->prev)
        circ->prev->next = circ->next;
    else
        m->circs = circ->next;
    if (circ->next) circ->next->prev = circ->prev;
    m->st.circuits--;
    om_relay_crypto_clear(&circ->crypto);
    free(circ);
}

static void back_drained(void *owner, void *arg)
{
    om_or_circ_t *circ = owner;
    (void)arg;
    om_or_circuits_t *m = circ->owner;
    if (m->p.on_writable) m->p.on_writable(circ, m->p.stream_arg);
}

/* A relay cell towards the next hop (back = false) or the client (back = true), through the
 * circuit's queue for that link. -1 if the queue is full (the caller closes the circuit). */
static int circ_send(om_or_circ_t *circ, bool back, const om_cell_t *c)
{
    om_or_cellq_t **qp = back ? &circ->q_back : &circ->q_fwd;
    om_channel_t *chan = back ? circ->p_chan : circ->n_chan;
    if (!chan) return -1;
    if (!circ->owner->p.sched) return om_channel_send_cell(chan, c);
    if (!*qp) {
        *qp = om_or_cellq_new(circ->owner->p.sched, circ);
        if (!*qp) return -1;
        if (back) om_or_cellq_set_drain_cb(*qp, back_drained, NULL);
    }
    return om_or_cellq_send(*qp, chan, c);
}

bool om_or_circ_back_blocked(const om_or_circ_t *circ)
{
    return om_or_cellq_len(circ->q_back) >= OM_OR_QUEUE_HIGH;
}

void om_or_circ_oom(void *arg_circ, void *arg)
{
    om_or_circ_t *circ = arg_circ;
    om_or_circuits_t *m = circ->owner;
    (void)arg;
    if (!m->reaper) {
        om_or_circ_close(circ, OM_DESTROY_RESOURCELIMIT);
        return;
    }
    if (circ->marked) return;
    circ->marked = true;
    send_destroy(circ->n_chan, circ->n_circ_id, OM_DESTROY_RESOURCELIMIT);
    send_destroy(circ->p_chan, circ->p_circ_id, OM_DESTROY_RESOURCELIMIT);
    drop_next_hop(circ);
    om_or_cellq_clear(circ->q_back);
    if (circ->p_chan) om_channel_unregister_circ(circ->p_chan, circ->p_circ_id);
    circ->p_chan = NULL; /* later sends fail: the caller closes, which waits for the reaper */
    event_active(m->reaper, 0, 0);
}

void om_or_circ_close(om_or_circ_t *circ, uint8_t reason)
{
    if (circ->marked) return;
    send_destroy(circ->n_chan, circ->n_circ_id, reason);
    send_destroy(circ->p_chan, circ->p_circ_id, reason);
    circ_free(circ);
}

int om_or_circ_send_back(om_or_circ_t *circ, uint8_t command, uint16_t stream_id,
                         const uint8_t *body, size_t len)
{
    if (!circ->p_chan) return -1;
    om_cell_t c = {.circ_id = circ->p_circ_id, .command = OM_CELL_RELAY};
    if (om_relay_payload_build(c.payload, command, stream_id, body, len) < 0) return -1;
    om_relay_crypto_set_digest_back(&circ->crypto, c.payload);
    om_relay_crypto_encrypt_back(&circ->crypto, c.payload);
    circ->cells_back++;
    return circ_send(circ, true, &c);
}

/* ---------------------------------------------------------------- CREATE */

static bool create_rate_ok(om_or_circuits_t *m, om_channel_t *chan)
{
    time_t now = time(NULL);
    create_rate_t *r;
    for (r = m->rates; r; r = r->next)
        if (r->chan == chan) break;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r) return false;
        r->chan = chan;
        r->next = m->rates;
        m->rates = r;
    }
    if (r->window != now) {
        r->window = now;
        r->count = 0;
    }
    return ++r->count <= OM_OR_CREATE_BURST_PER_LINK;
}

/* Answer a CREATE2 body (HTYPE HLEN HDATA) into reply (CREATED2 body: HLEN HDATA). */
static int answer_create2(om_or_circuits_t *m, const uint8_t *p, uint8_t *reply, size_t *replylen,
                          om_handshake_keys_t *keys, const char **why, uint8_t *cc_inc,
                          om_cc_params_t *cc_params)
{
    const om_relay_keys_t *k = m->p.keys;
    uint16_t htype = (uint16_t)(p[0] << 8 | p[1]);
    uint16_t hlen = (uint16_t)(p[2] << 8 | p[3]);
    if (hlen > OM_CELL_PAYLOAD_LEN - 4) {
        *why = "HLEN longer than the cell";
        return -1;
    }
    om_x25519_keypair_t onion[2];
    size_t nkeys = 0;
    onion[nkeys++] = k->ntor;
    if (k->has_ntor_old) onion[nkeys++] = k->ntor_old;
    int rc = -1;
    if (htype == OM_HANDSHAKE_TYPE_NTOR) {
        if (hlen != OM_NTOR_ONIONSKIN_LEN) {
            *why = "ntor onionskin of the wrong length";
        } else if (om_ntor_server(k->rsa_fp, onion, nkeys, p + 4, reply + 2, keys) < 0) {
            *why = "ntor handshake failed (not our identity or onion key, or bad DH)";
        } else {
            reply[0] = 0;
            reply[1] = OM_NTOR_REPLY_LEN;
            *replylen = 2 + OM_NTOR_REPLY_LEN;
            rc = 0;
        }
    } else if (htype == OM_HANDSHAKE_TYPE_NTOR_V3) {
        om_ntor3_server_t st;
        uint8_t cmsg[OM_NTOR3_MAX_MSG];
        size_t cmsg_len = sizeof cmsg;
        if (om_ntor3_server_recv(
                &st, k->ed_id.pub, onion, nkeys, (const uint8_t *)OM_NTOR3_CIRC_VERIFICATION,
                OM_NTOR3_CIRC_VERIFICATION_LEN, p + 4, hlen, cmsg, &cmsg_len) < 0) {
            *why = "ntor-v3 handshake failed (not our identity or onion key, or bad MAC)";
        } else {
            /* The client's extensions (proposal 332). A congestion-control request (proposal
             * 324 10.3) is granted when we are an exit with cc_alg on: the reply carries our
             * sendme_inc; otherwise the reply is an empty list (tor's servers always answer
             * with a list). */
            int want_cc = cmsg_len > 0 ? om_cc_ext_request_parse(cmsg, cmsg_len) : 0;
            if (want_cc < 0) {
                om_ntor3_server_clear(&st);
                *why = "ntor-v3 client message is not an extension list";
                return -1;
            }
            uint8_t smsg[8] = {0};
            size_t smsg_len = 1;
            *cc_inc = 0;
            if (want_cc == 1 && m->p.cc_params && m->p.cc_params(m->p.cc_arg, cc_params)) {
                uint8_t inc = (uint8_t)cc_params->sendme_inc;
                smsg_len = sizeof smsg;
                if (om_cc_ext_response_encode(inc, smsg, &smsg_len) == 0)
                    *cc_inc = inc;
                else
                    smsg_len = 1;
            }
            size_t rl = OM_CELL_PAYLOAD_LEN - 2;
            if (om_ntor3_server_reply(&st, NULL, smsg, smsg_len, reply + 2, &rl, keys) < 0) {
                *why = "ntor-v3 reply failed";
            } else {
                reply[0] = (uint8_t)(rl >> 8);
                reply[1] = (uint8_t)rl;
                *replylen = 2 + rl;
                rc = 0;
            }
        }
        om_ntor3_server_clear(&st);
    } else {
        /* TAP (0) is gone (proposal 350); CREATE_FAST's type (1) only comes in CREATE_FAST. */
        *why = "unsupported handshake type";
    }
    om_memwipe(onion, sizeof onion);
    return rc;
}

static void handle_create(om_or_circuits_t *m, om_channel_t *chan, const om_cell_t *c)
{
    /* tor-spec 5.1.1: IDs a link's initiator chooses have the high bit set (link protocol 4+). */
    bool hibit = om_circ_id_len(om_channel_link_proto(chan)) == 4 ? (c->circ_id & 0x80000000u) != 0
                                                                  : (c->circ_id & 0x8000u) != 0;
    bool want_hibit = om_channel_role(chan) == OM_CHAN_RESPONDER;
    const char *cmd = om_cell_command_name(c->command);
    /* tor command.c: every CREATE counts for the DoS mitigation first, valid or not. */
    bool dos_refuse = m->p.dos && om_dos_cc_create(m->p.dos, chan);
    if (hibit != want_hibit) {
        om_log_protocol("%s from %s with circuit ID %u of the peer's wrong half: refused", cmd,
                        om_safe_str(om_channel_peer_desc(chan)), c->circ_id);
        send_destroy(chan, c->circ_id, OM_DESTROY_PROTOCOL);
        m->st.refused++;
        return;
    }
    if (dos_refuse) {
        send_destroy(chan, c->circ_id, OM_DESTROY_RESOURCELIMIT);
        m->st.refused++;
        return;
    }
    if (m->st.circuits >= m->p.max_circuits || !create_rate_ok(m, chan)) {
        om_log_protocol("%s from %s refused: %s", cmd, om_safe_str(om_channel_peer_desc(chan)),
                        m->st.circuits >= m->p.max_circuits
                            ? "circuit limit reached"
                            : "too many CREATEs on this link this second");
        send_destroy(chan, c->circ_id, OM_DESTROY_RESOURCELIMIT);
        m->st.refused++;
        return;
    }
    om_handshake_keys_t keys;
    uint8_t cc_inc = 0;
    om_cc_params_t cc_params;
    om_cell_t reply = {.circ_id = c->circ_id};
    memset(reply.payload, 0, sizeof reply.payload);
    const char *why = NULL;
    int rc;
    const om_transport_t *tr = om_channel_transport(chan);
    if (c->command == OM_CELL_CREATE_FAST && tr && tr->ops->unbound) {
        /* doc/bridge.md: no TLS under a WebSocket link, so CREATE_FAST would prove nothing about
         * this relay; first hops there are CREATE2 ntor / ntor-v3 only. */
        rc = -1;
        why = "CREATE_FAST over a link without TLS (WebSocket): use CREATE2";
    } else if (c->command == OM_CELL_CREATE_FAST) {
        /* tor-spec 5.1.5: CREATE_FAST's key material is X (20 bytes). */
        rc = om_fast_server(c->payload, reply.payload, &keys);
        reply.command = OM_CELL_CREATED_FAST;
        if (rc < 0) why = "CREATE_FAST failed";
    } else if (c->command == OM_CELL_CREATE2) {
        size_t rl = 0;
        rc = answer_create2(m, c->payload, reply.payload, &rl, &keys, &why, &cc_inc, &cc_params);
        reply.command = OM_CELL_CREATED2;
    } else {
        rc = -1;
        why = "CREATE (TAP) is no longer supported (proposal 350)";
    }
    if (rc < 0) {
        om_log_protocol("%s from %s (circuit %u) refused: %s", cmd,
                        om_safe_str(om_channel_peer_desc(chan)), c->circ_id, why);
        send_destroy(chan, c->circ_id, OM_DESTROY_PROTOCOL);
        m->st.refused++;
        return;
    }
    om_or_circ_t *circ = calloc(1, sizeof *circ);
    if (!circ || om_relay_crypto_init(&circ->crypto, keys.keys) < 0 ||
        (cc_inc && !(circ->cc_params = malloc(sizeof cc_params))) || /* only CC circuits pay */
        om_channel_register_circ(chan, c->circ_id, p_cell_cb, circ) < 0) {
        if (circ) {
            om_relay_crypto_clear(&circ->crypto);
            free(circ->cc_params);
        }
        free(circ);
        om_memwipe(&keys, sizeof keys);
        send_destroy(chan, c->circ_id, OM_DESTROY_RESOURCELIMIT);
        m->st.refused++;
        return;
    }
    om_memwipe(&keys, sizeof keys);
    circ->owner = m;
    circ->p_chan = chan;
    circ->p_circ_id = c->circ_id;
    circ->cc_sendme_inc = cc_inc;
    if (cc_inc) {
        *circ->cc_params = cc_params;
        om_info("Circuit %u from %s: congestion control granted (sendme_inc %u)", c->circ_id,
                om_safe_str(om_channel_peer_desc(chan)), cc_inc);
    }
    circ->next = m->circs;
    if (m->circs) m->circs->prev = circ;
    m->circs = circ;
    m->st.circuits++;
    m->st.created++;
    om_channel_send_cell(chan, &reply);
    om_debug("Circuit %u from %s created (%s)", c->circ_id, om_safe_str(om_channel_peer_desc(chan)),
             cmd);
}

void om_or_circuits_unclaimed_cell(om_or_circuits_t *m, om_channel_t *chan, const om_cell_t *c)
{
    switch (c->command) {
    case OM_CELL_CREATE:
    case OM_CELL_CREATE2:
    case OM_CELL_CREATE_FAST:
        handle_create(m, chan, c);
        return;
    case OM_CELL_DESTROY: /* for a circuit we already forgot */
        om_debug("Link %s: DESTROY for unknown circuit %u", om_safe_str(om_channel_peer_desc(chan)),
                 c->circ_id);
        return;
    default:
        /* tor drops cells for unknown circuits (a DESTROY may have crossed them). */
        om_debug("Link %s: dropping %s for unknown circuit %u",
                 om_safe_str(om_channel_peer_desc(chan)), om_cell_command_name(c->command),
                 c->circ_id);
        return;
    }
}

/* ---------------------------------------------------------------- EXTEND2 */

static void extend_link_ready(om_channel_t *chan, const char *err, void *arg)
{
    om_or_circ_t *circ = arg;
    om_or_circuits_t *m = circ->owner;
    circ->link_wait = NULL;
    if (!chan) {
        om_info("Circuit %u from %s: could not extend: %s", circ->p_circ_id,
                circ->p_chan ? om_safe_str(om_channel_peer_desc(circ->p_chan)) : "?",
                err ? err : "link failed");
        m->st.extend_failures++;
        om_or_circ_close(circ, OM_DESTROY_CONNECTFAILED);
        return;
    }
    uint32_t id = om_channel_alloc_circ_id(chan);
    if (!id || om_channel_register_circ(chan, id, n_cell_cb, circ) < 0) {
        m->st.extend_failures++;
        om_or_circ_close(circ, OM_DESTROY_RESOURCELIMIT);
        return;
    }
    circ->n_chan = chan;
    circ->n_circ_id = id;
    om_cell_t c = {.circ_id = id, .command = OM_CELL_CREATE2};
    memset(c.payload, 0, sizeof c.payload);
    memcpy(c.payload, circ->pending_create, circ->pending_create_len);
    free(circ->pending_create);
    circ->pending_create = NULL;
    om_channel_send_cell(chan, &c);
}

static int handle_extend2(om_or_circ_t *circ, const uint8_t *body, size_t len, bool early)
{
    om_or_circuits_t *m = circ->owner;
    const char *from = om_safe_str(om_channel_peer_desc(circ->p_chan));
    if (!early) {
        /* tor-spec 5.6: EXTEND2 must come in RELAY_EARLY. */
        om_log_protocol("Circuit %u from %s: EXTEND2 not in a RELAY_EARLY cell", circ->p_circ_id,
                        from);
        return -1;
    }
    if (circ->n_chan || circ->n_pending) {
        om_log_protocol("Circuit %u from %s: EXTEND2 on a circuit already extended",
                        circ->p_circ_id, from);
        return -1;
    }
    om_extend2_t e;
    if (om_extend2_parse(&e, body, len) < 0) {
        om_log_protocol("Circuit %u from %s: malformed EXTEND2", circ->p_circ_id, from);
        return -1;
    }
    if (!e.has_rsa_id) {
        /* We need the RSA identity to name the link (as tor 0.4.9 does). */
        om_log_protocol("Circuit %u from %s: EXTEND2 without an RSA identity", circ->p_circ_id,
                        from);
        return -1;
    }
    /* tor-spec 5.1.2: the first IPv4 [00] and the first IPv6 [01] link specifier; we connect to
     * the IPv4 address, or to the IPv6 one when there is no usable IPv4 address. */
    om_extend_dest_t dest;
    om_extend_addr_result_t ar = om_extend_choose_addr(&e, m->p.allow_private_extend, &dest);
    if (ar == OM_EXTEND_ADDR_NONE) {
        om_log_protocol("Circuit %u from %s: EXTEND2 without an IPv4 or IPv6 address",
                        circ->p_circ_id, from);
        return -1;
    }
    if (!memcmp(e.rsa_id, m->p.keys->rsa_fp, 20)) {
        om_log_protocol("Circuit %u from %s: EXTEND2 to ourselves", circ->p_circ_id, from);
        return -1;
    }
    const om_peer_identity_t *prev = om_channel_peer_identity(circ->p_chan);
    if (prev && !memcmp(e.rsa_id, prev->rsa_fp, 20)) {
        om_log_protocol("Circuit %u from %s: EXTEND2 back to the previous hop", circ->p_circ_id,
                        from);
        return -1;
    }
    if (ar == OM_EXTEND_ADDR_PRIVATE) {
        om_log_protocol("Circuit %u from %s: EXTEND2 to a private address refused", circ->p_circ_id,
                        from);
        om_or_circ_close(circ, OM_DESTROY_CONNECTFAILED);
        return 1;
    }
    if ((size_t)e.hlen + 4 > OM_CELL_PAYLOAD_LEN) {
        om_log_protocol("Circuit %u from %s: EXTEND2 handshake too long", circ->p_circ_id, from);
        return -1;
    }
    circ->pending_create_len = 4 + (size_t)e.hlen;
    circ->pending_create = malloc(circ->pending_create_len);
    if (!circ->pending_create) return -1;
    circ->pending_create[0] = (uint8_t)(e.htype >> 8);
    circ->pending_create[1] = (uint8_t)e.htype;
    circ->pending_create[2] = (uint8_t)(e.hlen >> 8);
    circ->pending_create[3] = (uint8_t)e.hlen;
    memcpy(circ->pending_create + 4, e.hdata, e.hlen);
    circ->n_pending = true;
    m->st.extends++;
    om_debug(dest.family == AF_INET6 ? "Circuit %u from %s: extending to [%s]:%u"
                                     : "Circuit %u from %s: extending to %s:%u",
             circ->p_circ_id, from, dest.host, dest.port);
    /* An open (canonical) link to that identity is reused (tor-spec 5.3.1). The callback may run
     * before this returns and free circ (e.g. the link table is full, or the connect fails at
     * once): a handle comes back only if it has not, and only then is circ still ours. */
    void *h = om_linkmgr_get(m->p.links, dest.host, dest.port, e.rsa_id,
                             e.has_ed_id ? e.ed_id : NULL, extend_link_ready, circ);
    if (h) circ->link_wait = h;
    return 1; /* circ may be gone now */
}

/* ---------------------------------------------------------------- relay cells */

/* A relay cell recognized at this hop. Returns 0, -1 (close the circuit: protocol), or 1 (the
 * circuit may be gone: caller must not touch it). */
static int handle_local(om_or_circ_t *circ, const uint8_t *payload, bool early)
{
    om_relay_header_t h;
    if (om_relay_header_unpack(&h, payload) < 0) {
        om_log_protocol("Circuit %u: relay cell with length %u > 498", circ->p_circ_id, h.length);
        return -1;
    }
    const uint8_t *body = payload + OM_RELAY_HEADER_LEN;
    switch (h.command) {
    case OM_RELAY_EXTEND2:
        return handle_extend2(circ, body, h.length, early);
    case OM_RELAY_EXTEND:
        om_log_protocol("Circuit %u: EXTEND (TAP) is no longer supported", circ->p_circ_id);
        return -1;
    case OM_RELAY_TRUNCATE: {
        /* tor-spec 5.4: tear down the rest of the circuit, answer TRUNCATED. */
        send_destroy(circ->n_chan, circ->n_circ_id, OM_DESTROY_REQUESTED);
        drop_next_hop(circ);
        uint8_t reason = OM_DESTROY_REQUESTED;
        om_or_circ_send_back(circ, OM_RELAY_TRUNCATED, 0, &reason, 1);
        return 0;
    }
    case OM_RELAY_DROP:
    case OM_RELAY_PADDING_NEGOTIATE:
        return 0;
    case OM_RELAY_ESTABLISH_RENDEZVOUS:
        /* We are no rendezvous point (no HSRend in our protocols): dropped, as before. From a
         * client's circuit tor drops it silently too (DoSRefuseSingleHopClientRendezvous, which
         * counts it). */
        if (circ->owner->p.dos) om_dos_refuse_single_hop_rend(circ->owner->p.dos, circ->p_chan);
        return 0;
    default:
        break;
    }
    om_or_circuits_t *m = circ->owner;
    if (m->p.stream_handler)
        return m->p.stream_handler(circ, &h, body, early, m->p.stream_arg) < 0 ? -1 : 1;
    /* Not an exit and no directory cache: refuse streams as tor's non-exits do. */
    if (h.command == OM_RELAY_BEGIN || h.command == OM_RELAY_BEGIN_DIR ||
        h.command == OM_RELAY_RESOLVE) {
        uint8_t reason = h.command == OM_RELAY_BEGIN_DIR ? OM_END_NOTDIRECTORY : OM_END_EXITPOLICY;
        om_or_circ_send_back(circ, OM_RELAY_END, h.stream_id, &reason, 1);
    }
    return 0;
}

static void p_cell_cb(om_channel_t *chan, const om_cell_t *cell, void *arg)
{
    om_or_circ_t *circ = arg;
    (void)chan;
    switch (cell->command) {
    case OM_CELL_RELAY:
    case OM_CELL_RELAY_EARLY: {
        bool early = cell->command == OM_CELL_RELAY_EARLY;
        if (early && ++circ->relay_early_in > OM_OR_MAX_RELAY_EARLY) {
            om_log_protocol("Circuit %u from %s: more than %d RELAY_EARLY cells", circ->p_circ_id,
                            om_safe_str(om_channel_peer_desc(chan)), OM_OR_MAX_RELAY_EARLY);
            om_or_circ_close(circ, OM_DESTROY_PROTOCOL);
            return;
        }
        om_cell_t c = *cell;
        om_relay_crypto_decrypt_fwd(&circ->crypto, c.payload);
        circ->cells_fwd++;
        if (om_relay_crypto_check_fwd(&circ->crypto, c.payload)) {
            int r = handle_local(circ, c.payload, early);
            if (r < 0) om_or_circ_close(circ, OM_DESTROY_PROTOCOL);
            return;
        }
        if (!circ->n_chan || circ->n_pending) {
            /* tor-spec 5.5.2: unrecognized at the last hop is a protocol violation. */
            om_log_protocol("Circuit %u from %s: relay cell not recognized and no next hop",
                            circ->p_circ_id, om_safe_str(om_channel_peer_desc(chan)));
            om_or_circ_close(circ, OM_DESTROY_PROTOCOL);
            return;
        }
        c.circ_id = circ->n_circ_id;
        circ->owner->st.cells_relayed++;
        if (circ_send(circ, false, &c) < 0) {
            om_info("Circuit %u from %s: queue towards the next hop is full", circ->p_circ_id,
                    om_safe_str(om_channel_peer_desc(chan)));
            om_or_circ_close(circ, OM_DESTROY_RESOURCELIMIT);
        }
        return;
    }
    case OM_CELL_DESTROY:
        om_debug("Circuit %u from %s: DESTROY (reason %u)", circ->p_circ_id,
                 om_safe_str(om_channel_peer_desc(chan)), cell->payload[0]);
        /* tor-spec 5.4: pass it on (the reason is not forwarded: tor sends NONE onward). */
        send_destroy(circ->n_chan, circ->n_circ_id, OM_DESTROY_NONE);
        circ_free(circ);
        return;
    case OM_CELL_PADDING:
        return;
    case OM_CELL_CREATE:
    case OM_CELL_CREATE2:
    case OM_CELL_CREATE_FAST:
        /* tor's command_process_create_cell: "for known circ. Dropping": the circuit stays. */
        om_log_protocol("Circuit %u from %s: %s for a circuit ID in use dropped", circ->p_circ_id,
                        om_safe_str(om_channel_peer_desc(chan)),
                        om_cell_command_name(cell->command));
        return;
    default:
        om_log_protocol("Circuit %u from %s: unexpected %s", circ->p_circ_id,
                        om_safe_str(om_channel_peer_desc(chan)),
                        om_cell_command_name(cell->command));
        om_or_circ_close(circ, OM_DESTROY_PROTOCOL);
        return;
    }
}

static void n_cell_cb(om_channel_t *chan, const om_cell_t *cell, void *arg)
{
    om_or_circ_t *circ = arg;
    (void)chan;
    switch (cell->command) {
    case OM_CELL_CREATED2: {
        if (!circ->n_pending) {
            om_or_circ_close(circ, OM_DESTROY_PROTOCOL);
            return;
        }
        circ->n_pending = false;
        const uint8_t *hdata;
        size_t hlen;
        if (om_created2_parse(cell->payload, OM_CELL_PAYLOAD_LEN, &hdata, &hlen) < 0 ||
            hlen + 2 > OM_RELAY_PAYLOAD_LEN) {
            om_or_circ_close(circ, OM_DESTROY_PROTOCOL);
            return;
        }
        /* EXTENDED2 carries the CREATED2 body unchanged (tor-spec 5.1.2). */
        om_or_circ_send_back(circ, OM_RELAY_EXTENDED2, 0, cell->payload, 2 + hlen);
        return;
    }
    case OM_CELL_RELAY: {
        if (circ->n_pending || !circ->p_chan) return;
        om_cell_t c = *cell;
        c.circ_id = circ->p_circ_id;
        om_relay_crypto_encrypt_back(&circ->crypto, c.payload);
        circ->cells_back++;
        circ->owner->st.cells_relayed++;
        if (circ_send(circ, true, &c) < 0) {
            om_info("Circuit %u: queue towards the client is full", circ->p_circ_id);
            om_or_circ_close(circ, OM_DESTROY_RESOURCELIMIT);
        }
        return;
    }
    case OM_CELL_DESTROY: {
        /* The rest of the circuit is gone: tell the client with TRUNCATED (tor-spec 5.4). */
        uint8_t reason = cell->payload[0];
        bool was_pending = circ->n_pending;
        drop_next_hop(circ);
        if (was_pending) {
            om_or_circ_close(circ, OM_DESTROY_CONNECTFAILED);
            return;
        }
        om_or_circ_send_back(circ, OM_RELAY_TRUNCATED, 0, &reason, 1);
        return;
    }
    case OM_CELL_PADDING:
        return;
    default:
        /* RELAY_EARLY backwards, a second CREATED2, anything else: protocol violation. */
        om_info("Circuit %u: unexpected %s from the next hop %s", circ->p_circ_id,
                om_cell_command_name(cell->command), om_safe_str(om_channel_peer_desc(chan)));
        om_or_circ_close(circ, OM_DESTROY_PROTOCOL);
        return;
    }
}

void om_or_circuits_link_closed(om_or_circuits_t *m, om_channel_t *chan)
{
    for (create_rate_t **pp = &m->rates; *pp;) {
        if ((*pp)->chan == chan) {
            create_rate_t *r = *pp;
            *pp = r->next;
            free(r);
        } else {
            pp = &(*pp)->next;
        }
    }
    om_or_circ_t *circ = m->circs;
    while (circ) {
        om_or_circ_t *next = circ->next;
        if (circ->p_chan == chan) {
            circ->p_chan = NULL; /* nothing more to send that way */
            send_destroy(circ->n_chan, circ->n_circ_id, OM_DESTROY_CHANNEL_CLOSED);
            circ_free(circ);
        } else if (circ->n_chan == chan) {
            circ->n_chan = NULL;
            bool was_pending = circ->n_pending;
            drop_next_hop(circ);
            if (was_pending) {
                om_or_circ_close(circ, OM_DESTROY_CHANNEL_CLOSED);
            } else {
                uint8_t reason = OM_DESTROY_CHANNEL_CLOSED;
                om_or_circ_send_back(circ, OM_RELAY_TRUNCATED, 0, &reason, 1);
            }
        }
        circ = next;
    }
}

void om_or_circuits_free(om_or_circuits_t *m)
{
    if (!m) return;
    if (m->reaper) event_free(m->reaper);
    while (m->circs)
        circ_free(m->circs);
    while (m->rates) {
        create_rate_t *r = m->rates;
        m->rates = r->next;
        free(r);
    }
    free(m);
}

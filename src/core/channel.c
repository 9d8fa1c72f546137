/* channel.c — a Tor link's life over an om_transport_t: creation as initiator or responder,
 * cell framing on the input evbuffer and output in large chains, padding cells, the circuit-ID
 * table that routes circuit cells to their owners, closing and the deferred free, and the
 * accessors of channel.h. The in-protocol handshake itself: channel_handshake.c. */
#include "core/channel.h"

#include "core/channel_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "core/crypto.h"
#include "core/log.h"

struct chan_circ_slot {
    uint32_t id;
    uint8_t used; /* 0 empty, 1 used, 2 deleted */
    om_chan_circ_cb cb;
    void *arg;
};

static void channel_schedule_free(om_channel_t *chan);

uint64_t om_now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

const char *om_chan_state_name(om_chan_state_t s)
{
    static const char *const names[] = {"connecting",
                                        "waiting for VERSIONS",
                                        "waiting for CERTS",
                                        "waiting for AUTH_CHALLENGE",
                                        "waiting for NETINFO",
                                        "open",
                                        "closed"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

/* ---------------------------------------------------------------- circuit-ID table */

static uint32_t circ_hash(uint32_t id)
{
    id ^= id >> 16;
    id *= 0x7feb352dU;
    id ^= id >> 15;
    return id;
}

static struct chan_circ_slot *circ_find(om_channel_t *chan, uint32_t id)
{
    if (!chan->circs_cap) return NULL;
    uint32_t mask = chan->circs_cap - 1;
    for (uint32_t i = circ_hash(id) & mask, n = 0; n < chan->circs_cap; i = (i + 1) & mask, n++) {
        struct chan_circ_slot *s = &chan->circs[i];
        if (s->used == 0) return NULL;
        if (s->used == 1 && s->id == id) return s;
    }
    return NULL;
}

/* Rehash into a table big enough for the live entries (dropping tombstones). */
static int circ_grow(om_channel_t *chan)
{
    uint32_t ncap = 16;
    while (ncap < (chan->circs_count + 1) * 4)
        ncap *= 2;
    struct chan_circ_slot *n = calloc(ncap, sizeof *n);
    if (!n) return -1;
    for (uint32_t i = 0; i < chan->circs_cap; i++) {
        struct chan_circ_slot *s = &chan->circs[i];
        if (s->used != 1) continue;
        uint32_t j = circ_hash(s->id) & (ncap - 1);
        while (n[j].used)
            j = (j + 1) & (ncap - 1);
        n[j] = *s;
    }
    free(chan->circs);
    chan->circs = n;
    chan->circs_cap = ncap;
    chan->circs_deleted = 0;
    return 0;
}

int om_channel_register_circ(om_channel_t *chan, uint32_t circ_id, om_chan_circ_cb cb, void *arg)
{
    if (circ_id == 0 || circ_find(chan, circ_id)) return -1;
    if (chan->circs_count >= OM_CHAN_MAX_CIRCUITS) return -1;
    /* Keep live entries plus tombstones under half the table, so probes stay short. */
    if ((chan->circs_count + chan->circs_deleted + 1) * 2 > chan->circs_cap && circ_grow(chan) < 0)
        return -1;
    uint32_t mask = chan->circs_cap - 1;
    uint32_t i = circ_hash(circ_id) & mask;
    while (chan->circs[i].used == 1)
        i = (i + 1) & mask;
    if (chan->circs[i].used == 2) chan->circs_deleted--;
    chan->circs[i] = (struct chan_circ_slot){.id = circ_id, .used = 1, .cb = cb, .arg = arg};
    chan->circs_count++;
    return 0;
}

void om_channel_unregister_circ(om_channel_t *chan, uint32_t circ_id)
{
    struct chan_circ_slot *s = circ_find(chan, circ_id);
    if (!s) return;
    s->used = 2;
    s->cb = NULL;
    chan->circs_count--;
    chan->circs_deleted++;
}

uint32_t om_channel_alloc_circ_id(om_channel_t *chan)
{
    /* tor-spec 5.1.1: with 4-byte circuit IDs the initiator of the link uses IDs with the most
     * significant bit set, the responder IDs with it clear; with 2-byte IDs, likewise for bit 15.
     */
    int wide = om_circ_id_len(chan->link_proto) == 4;
    uint32_t hibit = wide ? 0x80000000u : 0x8000u;
    uint32_t mask = wide ? 0x7fffffffu : 0x7fffu;
    for (int tries = 0; tries < 64; tries++) {
        uint32_t r;
        om_rand_bytes((uint8_t *)&r, sizeof r);
        r &= mask;
        if (chan->role == OM_CHAN_INITIATOR) r |= hibit;
        if (r == 0 || circ_find(chan, r)) continue;
        return r;
    }
    return 0;
}

/* Tell every circuit on this channel it is gone (a synthesized DESTROY, reason CHANNEL_CLOSED). */
static void circ_notify_all_closed(om_channel_t *chan)
{
    for (uint32_t i = 0; i < chan->circs_cap; i++) {
        struct chan_circ_slot *s = &chan->circs[i];
        if (s->used != 1 || !s->cb) continue;
        om_cell_t d = {.circ_id = s->id, .command = OM_CELL_DESTROY};
        memset(d.payload, 0, sizeof d.payload);
        d.payload[0] = OM_DESTROY_CHANNEL_CLOSED;
        om_chan_circ_cb cb = s->cb;
        void *arg = s->arg;
        s->used = 2;
        s->cb = NULL;
        chan->circs_count--;
        chan->circs_deleted++;
        cb(chan, &d, arg);
    }
}

/* ---------------------------------------------------------------- sending */

size_t om_channel_outbuf_len(om_channel_t *chan)
{
    if (!chan->transport) return 0;
    return evbuffer_get_length(chan->transport->ops->output(chan->transport));
}

void om_channel_set_drain_cb(om_channel_t *chan, void (*cb)(om_channel_t *chan, void *arg),
                             void *arg)
{
    chan->drain_cb = cb;
    chan->drain_arg = arg;
}

size_t om_channel_buffered(om_channel_t *chan)
{
    om_transport_t *t = chan->transport;
    if (!t) return 0;
    return t->ops->buffered ? t->ops->buffered(t) : om_channel_outbuf_len(chan);
}

bool om_channel_read_paused(const om_channel_t *chan)
{
    return chan->read_paused;
}

static void chan_read_cb(om_transport_t *t, struct evbuffer *in, void *arg);

/* The peer does not read: read nothing more from it (see OM_CHAN_OUTBUF_PAUSE). */
static void maybe_pause(om_channel_t *chan)
{
    if (chan->read_paused || chan->closing || om_channel_outbuf_len(chan) <= OM_CHAN_OUTBUF_PAUSE)
        return;
    chan->read_paused = true;
    om_debug("Link %s: %zu bytes wait for the peer; not reading from it until they drain",
             om_safe_str(chan->peer_desc), om_channel_outbuf_len(chan));
    if (chan->transport->ops->set_reading) chan->transport->ops->set_reading(chan->transport, 0);
}

static void chan_drain_cb(om_transport_t *t, void *arg)
{
    om_channel_t *chan = arg;
    (void)t;
    if (chan->read_paused && !chan->closing &&
        om_channel_outbuf_len(chan) <= OM_CHAN_OUTBUF_PAUSE) {
        chan->read_paused = false;
        if (t->ops->set_reading)
            t->ops->set_reading(t, 1); /* the transport hands us what waits, from its loop */
        else if (chan->input)
            chan_read_cb(t, chan->input, chan);
        if (chan->closing) return;
    }
    if (chan->drain_cb && chan->state == OM_CHAN_OPEN && !chan->closing)
        chan->drain_cb(chan, chan->drain_arg);
}

/* Append to the transport's output in chains of OUT_CHAIN_SIZE: libevent would give every cell
 * its own ~1 KB chain, and the TLS layer writes one TLS record per chain; large chains mean
 * large records (one AEAD setup per 16 KB instead of per cell). chain_room tracks the free space
 * we left in the last chain; an empty buffer may have had its chains freed. */
#define OUT_CHAIN_SIZE 16384
static int out_add(om_channel_t *chan, const uint8_t *data, size_t n)
{
    struct evbuffer *out = chan->transport->ops->output(chan->transport);
    if (evbuffer_get_length(out) == 0) chan->chain_room = 0;
    if (chan->chain_room < n) {
        if (evbuffer_expand(out, OUT_CHAIN_SIZE) == 0)
            chan->chain_room = OUT_CHAIN_SIZE;
        else
            chan->chain_room = 0;
    }
    chan->chain_room = chan->chain_room >= n ? chan->chain_room - n : 0;
    return evbuffer_add(out, data, n);
}

int om_chan_send_fixed(om_channel_t *chan, const om_cell_t *cell)
{
    uint8_t wire[OM_CELL_MAX_LEN];
    int n = om_cell_pack(cell, chan->link_proto, wire);
    if (n < 0) return -1;
    om_chan_hs_record(chan->hs_sent, wire, (size_t)n);
    chan->cells_out++;
    int r = out_add(chan, wire, (size_t)n);
    maybe_pause(chan);
    return r;
}

int om_chan_send_var(om_channel_t *chan, const om_var_cell_t *cell)
{
    size_t len = om_var_cell_wire_len(cell, chan->link_proto);
    uint8_t stackbuf[1024];
    uint8_t *wire = len <= sizeof stackbuf ? stackbuf : malloc(len);
    if (!wire) return -1;
    int n = om_var_cell_pack(cell, chan->link_proto, wire);
    int r = -1;
    if (n >= 0) {
        om_chan_hs_record(chan->hs_sent, wire, (size_t)n);
        r = out_add(chan, wire, (size_t)n);
    }
    if (wire != stackbuf) free(wire);
    chan->cells_out++;
    maybe_pause(chan);
    return r;
}

int om_channel_send_cell(om_channel_t *chan, const om_cell_t *cell)
{
    if (!chan || chan->state != OM_CHAN_OPEN || chan->closing) return -1;
    return om_chan_send_fixed(chan, cell);
}

int om_channel_send_var_cell(om_channel_t *chan, const om_var_cell_t *cell)
{
    if (!chan || chan->state != OM_CHAN_OPEN || chan->closing) return -1;
    return om_chan_send_var(chan, cell);
}

/* ---------------------------------------------------------------- closing */

void om_channel_close(om_channel_t *chan, const char *fmt, ...)
{
    if (!chan || chan->closing) return;
    chan->closing = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(chan->close_reason, sizeof chan->close_reason, fmt, ap);
    va_end(ap);
    om_chan_state_t was = chan->state;
    chan->state = OM_CHAN_CLOSED;
    if (chan->timeout_ev) event_del(chan->timeout_ev);
    om_chan_hs_drop(chan);
    if (chan->transport && chan->transport->ops->set_reading)
        chan->transport->ops->set_reading(chan->transport, 0);
    /* A link of ours that failed to come up is news (notice); one that closes after opening is
     * not (info); a peer's failed handshake is the peer's affair — a flood of them must not
     * flood the log (tor: LOG_PROTOCOL_WARN). */
    const char *dir = chan->role == OM_CHAN_INITIATOR ? "to" : "from";
    if (chan->role == OM_CHAN_RESPONDER && was != OM_CHAN_OPEN)
        om_log_protocol("Link from %s closed (%s): %s", om_safe_str(chan->peer_desc),
                        om_chan_state_name(was), chan->close_reason);
    else
        om_log(was == OM_CHAN_OPEN ? OM_LOG_INFO : OM_LOG_NOTICE, "Link %s %s closed (%s): %s", dir,
               om_safe_str(chan->peer_desc), om_chan_state_name(was), chan->close_reason);
    circ_notify_all_closed(chan);
    if (chan->cb.on_close) chan->cb.on_close(chan, chan->close_reason, chan->cb.arg);
    channel_schedule_free(chan);
}

void om_channel_close_discard(om_channel_t *chan, const char *reason)
{
    if (!chan) return;
    om_transport_t *t = chan->transport;
    if (t && t->ops->discard_output) t->ops->discard_output(t);
    om_channel_close(chan, "%s", reason);
}

static void channel_free_now(om_channel_t *chan)
{
    if (chan->transport) chan->transport->ops->free(chan->transport);
    if (chan->timeout_ev) event_free(chan->timeout_ev);
    free(chan->circs);
    free(chan->peer_certs_buf);
    om_chan_hs_drop(chan);
    free(chan);
}

static void deferred_free_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    channel_free_now(arg);
}

static void channel_schedule_free(om_channel_t *chan)
{
    if (event_base_once(chan->base, -1, EV_TIMEOUT, deferred_free_cb, chan, NULL) < 0)
        om_warn("could not schedule freeing a channel (leaked)");
}

void om_channel_free(om_channel_t *chan)
{
    if (!chan) return;
    if (!chan->closing) {
        chan->cb.on_close = NULL; /* the owner is going away: no callback */
        om_channel_close(chan, "closed by owner");
    }
    /* Freed by the deferred event scheduled in om_channel_close. */
}

/* The fixed-size commands that belong to a circuit (tor-spec 3); an open link drops others. */
static bool is_circuit_command(uint8_t command)
{
    switch (command) {
    case OM_CELL_CREATE:
    case OM_CELL_CREATED:
    case OM_CELL_RELAY:
    case OM_CELL_DESTROY:
    case OM_CELL_CREATE_FAST:
    case OM_CELL_CREATED_FAST:
    case OM_CELL_RELAY_EARLY:
    case OM_CELL_CREATE2:
    case OM_CELL_CREATED2:
        return true;
    default:
        return false;
    }
}

static void handle_fixed_cell(om_channel_t *chan, const om_cell_t *c)
{
    if (c->command == OM_CELL_PADDING) return;
    if (chan->state != OM_CHAN_OPEN) {
        if (c->command == OM_CELL_NETINFO) {
            om_chan_handle_netinfo(chan, c);
            return;
        }
        om_channel_close(chan, "%s: unexpected in state %s", om_cell_command_name(c->command),
                         om_chan_state_name(chan->state));
        return;
    }
    if (c->command == OM_CELL_PADDING_NEGOTIATE || c->command == OM_CELL_NETINFO) {
        /* We do not pad (padding-spec allows declining); a second NETINFO is ignored. */
        return;
    }
    if (!is_circuit_command(c->command)) {
        /* tor's channel_tls_handle_cell: "Cell of unknown type ... Dropping." */
        om_debug("Link %s: dropping a cell of unknown command %u", om_safe_str(chan->peer_desc),
                 c->command);
        return;
    }
    if (c->circ_id == 0) {
        /* tor ignores a CREATE with circuit ID 0 and finds no circuit for any other cell. */
        om_log_protocol("Link %s: %s cell with circuit ID 0 dropped", om_safe_str(chan->peer_desc),
                        om_cell_command_name(c->command));
        return;
    }
    struct chan_circ_slot *s = circ_find(chan, c->circ_id);
    if (s && s->cb) {
        s->cb(chan, c, s->arg);
        return;
    }
    if (chan->cb.on_unclaimed_cell)
        chan->cb.on_unclaimed_cell(chan, c, chan->cb.arg);
    else
        om_debug("Link %s: dropping %s for unknown circuit %u", om_safe_str(chan->peer_desc),
                 om_cell_command_name(c->command), c->circ_id);
}

/* ---------------------------------------------------------------- reading */

static void chan_read_cb(om_transport_t *t, struct evbuffer *in, void *arg)
{
    om_channel_t *chan = arg;
    (void)t;
    chan->input = in;
    /* Paused: what was read already waits in `in` until the output drains. */
    while (!chan->closing && !chan->read_paused) {
        size_t len = evbuffer_get_length(in);
        if (len == 0) return;
        size_t hlen = len < OM_VAR_CELL_HDR_WIDE ? len : OM_VAR_CELL_HDR_WIDE;
        const uint8_t *hdr = evbuffer_pullup(in, (ssize_t)hlen);
        size_t cell_len = 0;
        bool is_var = false;
        int framing_proto = chan->state == OM_CHAN_WAIT_VERSIONS ? 0 : chan->link_proto;
        int r = om_cell_frame(hdr, hlen, framing_proto, &cell_len, &is_var);
        if (r < 0) {
            om_channel_close(chan, "malformed cell framing from peer (state %s)",
                             om_chan_state_name(chan->state));
            return;
        }
        if (cell_len == 0 || len < cell_len) return; /* need more bytes */
        const uint8_t *p = evbuffer_pullup(in, (ssize_t)cell_len);
        chan->cells_in++;
        if (is_var) {
            om_var_cell_t *vc = om_var_cell_unpack(p, cell_len, framing_proto);
            /* CLOG leaves out the AUTHENTICATE cell itself (tor-spec 4.4.2). */
            if (vc && vc->command != OM_CELL_AUTHENTICATE)
                om_chan_hs_record(chan->hs_received, p, cell_len);
            evbuffer_drain(in, cell_len);
            if (!vc) {
                om_channel_close(chan, "malformed variable-length cell");
                return;
            }
            om_chan_handle_var_cell(chan, vc);
            om_var_cell_free(vc);
        } else {
            om_cell_t c;
            if (om_cell_unpack(&c, framing_proto, p, cell_len) < 0) {
                evbuffer_drain(in, cell_len);
                om_channel_close(chan, "malformed cell");
                return;
            }
            om_chan_hs_record(chan->hs_received, p, cell_len);
            evbuffer_drain(in, cell_len);
            handle_fixed_cell(chan, &c);
        }
    }
}

static void chan_event_cb(om_transport_t *t, int event, const char *why, void *arg)
{
    om_channel_t *chan = arg;
    (void)t;
    if (event == OM_TRANSPORT_CONNECTED) {
        chan->timings.transport_up = om_now_usec();
        chan->state = OM_CHAN_WAIT_VERSIONS;
        if (chan->role == OM_CHAN_INITIATOR && om_chan_send_versions(chan) < 0)
            om_channel_close(chan, "internal error sending VERSIONS");
        return;
    }
    if (chan->state == OM_CHAN_CONNECTING)
        om_channel_close(chan, "could not connect: %s", why);
    else
        om_channel_close(chan, "%s", why);
}

static void chan_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    om_channel_t *chan = arg;
    (void)fd;
    (void)what;
    if (chan->state != OM_CHAN_OPEN)
        om_channel_close(chan, "handshake timed out after %d s (%s)", OM_CHAN_HANDSHAKE_TIMEOUT_S,
                         om_chan_state_name(chan->state));
}

/* handshake_logs: keep SLOG/CLOG digests (responders, and initiators that authenticate). */
static om_channel_t *channel_new(struct event_base *base, om_transport_t *t, om_chan_role_t role,
                                 bool handshake_logs, const om_chan_callbacks_t *cb)
{
    om_channel_t *chan = calloc(1, sizeof *chan);
    if (!chan) return NULL;
    if (handshake_logs) {
        chan->hs_sent = om_digest_new(OM_DIGEST_SHA256);
        chan->hs_received = om_digest_new(OM_DIGEST_SHA256);
        if (!chan->hs_sent || !chan->hs_received) {
            om_chan_hs_drop(chan);
            free(chan);
            return NULL;
        }
    }
    chan->base = base;
    chan->transport = t;
    chan->role = role;
    chan->state = OM_CHAN_CONNECTING;
    chan->timings.start = om_now_usec();
    if (cb) chan->cb = *cb;
    snprintf(chan->peer_desc, sizeof chan->peer_desc, "%s", t->peer);
    chan->timeout_ev = event_new(base, -1, 0, chan_timeout_cb, chan);
    struct timeval tv = {OM_CHAN_HANDSHAKE_TIMEOUT_S, 0};
    if (chan->timeout_ev) event_add(chan->timeout_ev, &tv);
    om_transport_set_callbacks(t, chan_read_cb, chan_event_cb, chan_drain_cb, chan);
    return chan;
}

om_channel_t *om_channel_new_initiator_auth(struct event_base *base, om_transport_t *t,
                                            const uint8_t *expected_rsa_fp,
                                            const uint8_t *expected_ed_id,
                                            const om_identity_t *our_identity,
                                            const om_chan_callbacks_t *cb)
{
    om_channel_t *chan = channel_new(base, t, OM_CHAN_INITIATOR, our_identity != NULL, cb);
    if (!chan) return NULL;
    chan->identity = our_identity;
    chan->authenticate = our_identity != NULL;
    if (expected_rsa_fp) {
        chan->expect_rsa = true;
        memcpy(chan->expected_rsa_fp, expected_rsa_fp, 20);
    }
    if (expected_ed_id) {
        chan->expect_ed = true;
        memcpy(chan->expected_ed_id, expected_ed_id, 32);
    }
    return chan;
}

om_channel_t *om_channel_new_initiator(struct event_base *base, om_transport_t *t,
                                       const uint8_t *expected_rsa_fp,
                                       const uint8_t *expected_ed_id, const om_chan_callbacks_t *cb)
{
    return om_channel_new_initiator_auth(base, t, expected_rsa_fp, expected_ed_id, NULL, cb);
}

om_channel_t *om_channel_connect_auth(struct event_base *base, const char *host, uint16_t port,
                                      const uint8_t *expected_rsa_fp, const uint8_t *expected_ed_id,
                                      const om_identity_t *our_identity,
                                      const om_chan_callbacks_t *cb)
{
    om_transport_t *t = om_tls_connect(base, host, port);
    if (!t) return NULL;
    om_channel_t *chan =
        om_channel_new_initiator_auth(base, t, expected_rsa_fp, expected_ed_id, our_identity, cb);
    if (!chan) t->ops->free(t);
    return chan;
}

om_channel_t *om_channel_connect(struct event_base *base, const char *host, uint16_t port,
                                 const uint8_t *expected_rsa_fp, const uint8_t *expected_ed_id,
                                 const om_chan_callbacks_t *cb)
{
    return om_channel_connect_auth(base, host, port, expected_rsa_fp, expected_ed_id, NULL, cb);
}

om_channel_t *om_channel_new_responder(struct event_base *base, om_transport_t *t,
                                       const om_identity_t *identity, const om_chan_callbacks_t *cb)
{
    if (!identity) return NULL;
    om_channel_t *chan = channel_new(base, t, OM_CHAN_RESPONDER, true, cb);
    if (chan) chan->identity = identity;
    return chan;
}

/* ---------------------------------------------------------------- accessors */

const om_peer_identity_t *om_channel_peer_identity(const om_channel_t *chan)
{
    return chan->peer_verified ? &chan->peer : NULL;
}

bool om_channel_peer_authenticated(const om_channel_t *chan)
{
    return chan->peer_authenticated;
}

const char *om_channel_peer_desc(const om_channel_t *chan)
{
    return chan->peer_desc;
}

om_chan_state_t om_channel_state(const om_channel_t *chan)
{
    return chan->state;
}

bool om_channel_is_closing(const om_channel_t *chan)
{
    return chan->closing;
}

const char *om_channel_close_reason(const om_channel_t *chan)
{
    return chan->close_reason;
}

int om_channel_link_proto(const om_channel_t *chan)
{
    return chan->link_proto;
}

om_chan_role_t om_channel_role(const om_channel_t *chan)
{
    return chan->role;
}

struct event_base *om_channel_base(const om_channel_t *chan)
{
    return chan->base;
}

om_transport_t *om_channel_transport(const om_channel_t *chan)
{
    return chan->transport;
}

const om_chan_timings_t *om_channel_timings(const om_channel_t *chan)
{
    return &chan->timings;
}

const om_netinfo_t *om_channel_peer_netinfo(const om_channel_t *chan)
{
    return &chan->peer_netinfo;
}

const om_certs_list_t *om_channel_peer_certs(const om_channel_t *chan)
{
    return &chan->peer_certs_raw;
}

const om_auth_challenge_t *om_channel_auth_challenge(const om_channel_t *chan)
{
    return &chan->auth_challenge;
}

uint64_t om_channel_cells_in(const om_channel_t *chan)
{
    return chan->cells_in;
}

uint64_t om_channel_cells_out(const om_channel_t *chan)
{
    return chan->cells_out;
}

void om_channel_detach(om_channel_t *chan)
{
    if (chan) memset(&chan->cb, 0, sizeof chan->cb);
}

void om_channel_set_auth_test_hooks(om_channel_t *chan, const om_link_auth_test_hooks_t *hooks)
{
    chan->auth_test_hooks = hooks;
}

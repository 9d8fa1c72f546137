/* channel.c — a Tor link: the in-protocol handshake (tor-spec 4.1-4.5) as initiator or
 * responder over an om_transport_t, including the handshake logs and the AUTHENTICATE exchange
 * of an authenticating initiator (4.4), cell framing on the input evbuffer, padding cells, and
 * the circuit-ID table that routes circuit cells to their owners. */
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

/* ---------------------------------------------------------------- handshake logs */

/* tor-spec 4.4.2: SLOG and CLOG are SHA-256 digests of the bytes each side sent during the
 * handshake. Both are kept as cells go out and come in, and dropped once used. */
static void hs_record(om_digest_t *d, const uint8_t *wire, size_t n)
{
    if (d) om_digest_update(d, wire, n);
}

/* The digest so far into out, then drop it. -1 if there is none. */
static int hs_take(om_digest_t **d, uint8_t out[32])
{
    int r = *d ? om_digest_peek(*d, out, 32) : -1;
    om_digest_free(*d);
    *d = NULL;
    return r;
}

static void hs_drop(om_channel_t *chan)
{
    om_digest_free(chan->hs_sent);
    om_digest_free(chan->hs_received);
    chan->hs_sent = chan->hs_received = NULL;
}

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

static void chan_drain_cb(om_transport_t *t, void *arg)
{
    om_channel_t *chan = arg;
    (void)t;
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

static int send_fixed(om_channel_t *chan, const om_cell_t *cell)
{
    uint8_t wire[OM_CELL_MAX_LEN];
    int n = om_cell_pack(cell, chan->link_proto, wire);
    if (n < 0) return -1;
    hs_record(chan->hs_sent, wire, (size_t)n);
    chan->cells_out++;
    return out_add(chan, wire, (size_t)n);
}

static int send_var(om_channel_t *chan, const om_var_cell_t *cell)
{
    size_t len = om_var_cell_wire_len(cell, chan->link_proto);
    uint8_t stackbuf[1024];
    uint8_t *wire = len <= sizeof stackbuf ? stackbuf : malloc(len);
    if (!wire) return -1;
    int n = om_var_cell_pack(cell, chan->link_proto, wire);
    int r = -1;
    if (n >= 0) {
        hs_record(chan->hs_sent, wire, (size_t)n);
        r = out_add(chan, wire, (size_t)n);
    }
    if (wire != stackbuf) free(wire);
    chan->cells_out++;
    return r;
}

int om_channel_send_cell(om_channel_t *chan, const om_cell_t *cell)
{
    if (!chan || chan->state != OM_CHAN_OPEN || chan->closing) return -1;
    return send_fixed(chan, cell);
}

int om_channel_send_var_cell(om_channel_t *chan, const om_var_cell_t *cell)
{
    if (!chan || chan->state != OM_CHAN_OPEN || chan->closing) return -1;
    return send_var(chan, cell);
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
    hs_drop(chan);
    if (chan->transport && chan->transport->ops->set_reading)
        chan->transport->ops->set_reading(chan->transport, 0);
    om_log(was == OM_CHAN_OPEN ? OM_LOG_INFO : OM_LOG_NOTICE, "Link %s %s closed (%s): %s",
           chan->role == OM_CHAN_INITIATOR ? "to" : "from", chan->peer_desc,
           om_chan_state_name(was), chan->close_reason);
    circ_notify_all_closed(chan);
    if (chan->cb.on_close) chan->cb.on_close(chan, chan->close_reason, chan->cb.arg);
    channel_schedule_free(chan);
}

static void channel_free_now(om_channel_t *chan)
{
    if (chan->transport) chan->transport->ops->free(chan->transport);
    if (chan->timeout_ev) event_free(chan->timeout_ev);
    free(chan->circs);
    free(chan->peer_certs_buf);
    hs_drop(chan);
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

/* ---------------------------------------------------------------- handshake */

static int send_versions(om_channel_t *chan)
{
    om_var_cell_t *v = om_versions_cell(OM_LINK_PROTO_MIN, OM_LINK_PROTO_MAX);
    if (!v) return -1;
    int r = send_var(chan, v);
    om_var_cell_free(v);
    return r;
}

static void peer_addr(om_channel_t *chan, om_addr_t *a)
{
    char host[64];
    snprintf(host, sizeof host, "%s", chan->peer_desc);
    char *colon = strrchr(host, ':');
    if (colon) *colon = 0;
    char *h = host;
    if (*h == '[') {
        h++;
        char *rb = strchr(h, ']');
        if (rb) *rb = 0;
    }
    if (om_addr_from_string(a, h) < 0) memset(a, 0, sizeof *a);
}

static int send_netinfo(om_channel_t *chan)
{
    om_netinfo_t ni;
    memset(&ni, 0, sizeof ni);
    /* tor-spec 4.5: a client need not reveal its clock or addresses; a relay (a responder, or an
     * initiator that authenticates) sends the current time and the address it advertises. */
    bool relay = chan->role == OM_CHAN_RESPONDER || chan->authenticate;
    ni.timestamp = relay ? (uint32_t)time(NULL) : 0;
    peer_addr(chan, &ni.other);
    ni.n_my_addrs = 0;
    if (relay && chan->identity && chan->identity->my_addr.type) {
        ni.my_addrs[0] = chan->identity->my_addr;
        ni.n_my_addrs = 1;
    }
    om_cell_t c = {.circ_id = 0, .command = OM_CELL_NETINFO};
    if (om_netinfo_encode(&ni, c.payload) < 0) return -1;
    return send_fixed(chan, &c);
}

static void channel_opened(om_channel_t *chan)
{
    chan->state = OM_CHAN_OPEN;
    chan->timings.open = om_now_usec();
    if (chan->timeout_ev) event_del(chan->timeout_ev);
    hs_drop(chan);
    om_info("Link %s %s open (link protocol %d%s)", chan->role == OM_CHAN_INITIATOR ? "to" : "from",
            chan->peer_desc, chan->link_proto,
            chan->authenticate || chan->peer_authenticated ? ", authenticated relay link" : "");
    if (chan->cb.on_open) chan->cb.on_open(chan, chan->cb.arg);
}

static void handle_versions(om_channel_t *chan, const om_var_cell_t *vc)
{
    om_versions_t v;
    if (om_versions_parse(&v, vc->payload, vc->payload_len) < 0) {
        om_channel_close(chan, "VERSIONS: malformed cell (%u bytes)", vc->payload_len);
        return;
    }
    int proto = om_versions_negotiate(&v, OM_LINK_PROTO_MIN, OM_LINK_PROTO_MAX);
    if (!proto) {
        om_channel_close(chan, "VERSIONS: no link protocol in common (we speak %d-%d)",
                         OM_LINK_PROTO_MIN, OM_LINK_PROTO_MAX);
        return;
    }
    chan->link_proto = proto;
    chan->timings.versions = om_now_usec();
    if (chan->role == OM_CHAN_INITIATOR) {
        chan->state = OM_CHAN_WAIT_CERTS;
        return;
    }
    /* Responder (tor-spec 4): VERSIONS, CERTS, AUTH_CHALLENGE, NETINFO. */
    om_var_cell_t *certs = om_identity_certs_cell(chan->identity);
    om_auth_challenge_t ac;
    memset(&ac, 0, sizeof ac);
    om_rand_bytes(ac.challenge, sizeof ac.challenge);
    ac.n_methods = 1;
    ac.methods[0] = OM_AUTHTYPE_ED25519_SHA256_RFC5705;
    chan->auth_challenge = ac;
    om_var_cell_t *acc = om_auth_challenge_cell(&ac);
    int r = send_versions(chan);
    if (r == 0 && certs) r = send_var(chan, certs);
    if (r == 0 && acc) r = send_var(chan, acc);
    /* SLOG covers what we sent up to and including AUTH_CHALLENGE, not NETINFO (tor-spec
     * 4.4.2; tor stops its digest before NETINFO too). */
    if (r == 0) r = hs_take(&chan->hs_sent, chan->hs_slog);
    if (r == 0) r = send_netinfo(chan);
    om_var_cell_free(certs);
    om_var_cell_free(acc);
    if (r < 0 || !certs || !acc) {
        om_channel_close(chan, "internal error sending our handshake cells");
        return;
    }
    chan->state = OM_CHAN_WAIT_NETINFO;
}

static void hexstr(const uint8_t *b, size_t n, char *out)
{
    om_hex_encode(b, n, out);
}

/* Keep a copy of a CERTS cell's body and parse it into peer_certs_raw. 0, or -1 (closed). */
static int keep_peer_certs(om_channel_t *chan, const om_var_cell_t *vc)
{
    free(chan->peer_certs_buf);
    chan->peer_certs_buf = malloc(vc->payload_len ? vc->payload_len : 1);
    if (!chan->peer_certs_buf) {
        om_channel_close(chan, "out of memory");
        return -1;
    }
    memcpy(chan->peer_certs_buf, vc->payload, vc->payload_len);
    chan->peer_certs_len = vc->payload_len;
    if (om_certs_list_parse(&chan->peer_certs_raw, chan->peer_certs_buf, chan->peer_certs_len) <
        0) {
        om_channel_close(chan, "CERTS: malformed cell");
        return -1;
    }
    return 0;
}

/* Responder: an initiator that authenticates sends CERTS (types 2, 4, 6, 7) and AUTHENTICATE
 * after our AUTH_CHALLENGE (tor-spec 4.4). Its CERTS only claims an identity; AUTHENTICATE
 * proves it. */
static void handle_initiator_certs(om_channel_t *chan, const om_var_cell_t *vc)
{
    if (chan->state != OM_CHAN_WAIT_NETINFO) {
        om_channel_close(chan, "CERTS: unexpected in state %s", om_chan_state_name(chan->state));
        return;
    }
    if (chan->got_initiator_certs) {
        om_channel_close(chan, "CERTS: sent twice");
        return;
    }
    chan->timings.certs = om_now_usec();
    if (keep_peer_certs(chan, vc) < 0) return;
    char err[256] = "";
    if (om_certs_verify_initiator(&chan->peer_certs_raw, time(NULL), &chan->initiator_claim, err,
                                  sizeof err) < 0) {
        om_channel_close(chan, "%s", err[0] ? err : "CERTS: verification failed");
        return;
    }
    chan->got_initiator_certs = true;
    om_debug("Link from %s: initiator's CERTS verified; waiting for AUTHENTICATE", chan->peer_desc);
}

static void handle_authenticate(om_channel_t *chan, const om_var_cell_t *vc)
{
    if (chan->role != OM_CHAN_RESPONDER || chan->state != OM_CHAN_WAIT_NETINFO) {
        om_channel_close(chan, "AUTHENTICATE: unexpected in state %s",
                         om_chan_state_name(chan->state));
        return;
    }
    if (chan->peer_authenticated) {
        om_channel_close(chan, "AUTHENTICATE: sent twice");
        return;
    }
    if (!chan->got_initiator_certs) {
        om_channel_close(chan, "AUTHENTICATE: no CERTS cell came before it");
        return;
    }
    /* CLOG: everything the initiator sent before this cell (the read loop leaves it out). */
    uint8_t clog[32];
    if (hs_take(&chan->hs_received, clog) < 0) {
        om_channel_close(chan, "AUTHENTICATE: internal error (no handshake log)");
        return;
    }
    char err[256] = "";
    if (om_link_auth_check(vc->payload, vc->payload_len, chan->transport, chan->identity,
                           &chan->initiator_claim, chan->hs_slog, clog, err, sizeof err) < 0) {
        om_channel_close(chan, "%s", err[0] ? err : "AUTHENTICATE: verification failed");
        return;
    }
    chan->peer = chan->initiator_claim;
    chan->peer_authenticated = true;
    chan->peer_verified = true;
    char fp[41], ed[64];
    om_hex_encode(chan->peer.rsa_fp, 20, fp);
    om_base64_encode(chan->peer.ed_id, 32, ed, sizeof ed, true);
    om_info("Link from %s: initiator authenticated as relay %s (Ed25519 %s)", chan->peer_desc, fp,
            ed);
}

static void handle_certs(om_channel_t *chan, const om_var_cell_t *vc)
{
    if (chan->role == OM_CHAN_RESPONDER) {
        handle_initiator_certs(chan, vc);
        return;
    }
    if (chan->state != OM_CHAN_WAIT_CERTS) {
        om_channel_close(chan, "CERTS: unexpected in state %s", om_chan_state_name(chan->state));
        return;
    }
    chan->timings.certs = om_now_usec();
    if (keep_peer_certs(chan, vc) < 0) return;
    uint8_t tls_hash[32];
    if (chan->transport->ops->peer_cert_sha256(chan->transport, tls_hash) < 0) {
        om_channel_close(chan, "CERTS: the peer presented no TLS certificate");
        return;
    }
    char err[256] = "";
    if (om_certs_verify_responder(&chan->peer_certs_raw, tls_hash, time(NULL), &chan->peer, err,
                                  sizeof err) < 0) {
        om_channel_close(chan, "%s", err[0] ? err : "CERTS: verification failed");
        return;
    }
    char got[65], want[65];
    if (chan->expect_rsa && !om_mem_eq_ct(chan->expected_rsa_fp, chan->peer.rsa_fp, 20)) {
        hexstr(chan->peer.rsa_fp, 20, got);
        hexstr(chan->expected_rsa_fp, 20, want);
        om_channel_close(chan, "identity mismatch: expected RSA fingerprint %s, relay proved %s",
                         want, got);
        return;
    }
    if (chan->expect_ed && !om_mem_eq_ct(chan->expected_ed_id, chan->peer.ed_id, 32)) {
        char gotb[64], wantb[64];
        om_base64_encode(chan->peer.ed_id, 32, gotb, sizeof gotb, true);
        om_base64_encode(chan->expected_ed_id, 32, wantb, sizeof wantb, true);
        om_channel_close(chan, "identity mismatch: expected Ed25519 identity %s, relay proved %s",
                         wantb, gotb);
        return;
    }
    chan->peer_verified = true;
    chan->state = OM_CHAN_WAIT_AUTH_CHALLENGE;
}

/* Initiator that authenticates, on the responder's AUTH_CHALLENGE (whose CERTS we verified
 * already, as tor-spec 4.4 requires): CERTS, then AUTHENTICATE. */
static void send_authentication(om_channel_t *chan)
{
    if (!om_auth_challenge_has_method(&chan->auth_challenge, OM_AUTHTYPE_ED25519_SHA256_RFC5705)) {
        om_channel_close(chan, "AUTH_CHALLENGE: the responder does not offer "
                               "Ed25519-SHA256-RFC5705 (method 3); cannot authenticate");
        return;
    }
    /* SLOG: what the responder sent through AUTH_CHALLENGE (this cell was the last recorded). */
    uint8_t slog[32], clog[32];
    if (hs_take(&chan->hs_received, slog) < 0) {
        om_channel_close(chan, "AUTHENTICATE: internal error (no handshake log)");
        return;
    }
    om_var_cell_t *certs = om_identity_initiator_certs_cell(chan->identity);
    int r = certs ? send_var(chan, certs) : -1;
    om_var_cell_free(certs);
    /* CLOG: what we sent so far, VERSIONS and CERTS. */
    if (r < 0 || hs_take(&chan->hs_sent, clog) < 0) {
        om_channel_close(chan, "internal error sending our CERTS");
        return;
    }
    char err[256] = "";
    om_var_cell_t *auth =
        om_link_auth_initiator_cell(chan->transport, chan->identity, &chan->peer, slog, clog,
                                    chan->auth_test_hooks, err, sizeof err);
    r = auth ? send_var(chan, auth) : -1;
    om_var_cell_free(auth);
    if (r < 0) {
        om_channel_close(chan, "%s", err[0] ? err : "internal error sending AUTHENTICATE");
        return;
    }
    om_debug("Link to %s: sent CERTS and AUTHENTICATE (Ed25519-SHA256-RFC5705)", chan->peer_desc);
}

static void handle_auth_challenge(om_channel_t *chan, const om_var_cell_t *vc)
{
    if (chan->role != OM_CHAN_INITIATOR || chan->state != OM_CHAN_WAIT_AUTH_CHALLENGE) {
        om_channel_close(chan, "AUTH_CHALLENGE: unexpected in state %s",
                         om_chan_state_name(chan->state));
        return;
    }
    if (om_auth_challenge_parse(&chan->auth_challenge, vc->payload, vc->payload_len) < 0) {
        om_channel_close(chan, "AUTH_CHALLENGE: malformed cell");
        return;
    }
    chan->timings.auth_challenge = om_now_usec();
    chan->state = OM_CHAN_WAIT_NETINFO;
    if (chan->authenticate) send_authentication(chan);
}

static void handle_netinfo(om_channel_t *chan, const om_cell_t *c)
{
    if (chan->role == OM_CHAN_INITIATOR && chan->state == OM_CHAN_WAIT_CERTS) {
        om_channel_close(chan, "NETINFO before CERTS: the responder did not authenticate");
        return;
    }
    if (chan->authenticate && chan->state == OM_CHAN_WAIT_AUTH_CHALLENGE) {
        om_channel_close(chan, "NETINFO before AUTH_CHALLENGE: cannot authenticate to the "
                               "responder");
        return;
    }
    if (chan->state != OM_CHAN_WAIT_NETINFO && chan->state != OM_CHAN_WAIT_AUTH_CHALLENGE) {
        om_channel_close(chan, "NETINFO: unexpected in state %s", om_chan_state_name(chan->state));
        return;
    }
    if (om_netinfo_parse(&chan->peer_netinfo, c->payload, OM_CELL_PAYLOAD_LEN) < 0) {
        om_channel_close(chan, "NETINFO: malformed cell");
        return;
    }
    chan->timings.netinfo = om_now_usec();
    if (chan->role == OM_CHAN_RESPONDER && chan->got_initiator_certs && !chan->peer_authenticated)
        om_info("Link from %s: initiator sent CERTS but no AUTHENTICATE; the link is "
                "unauthenticated (a client)",
                chan->peer_desc);
    if (chan->role == OM_CHAN_INITIATOR && send_netinfo(chan) < 0) {
        om_channel_close(chan, "internal error sending NETINFO");
        return;
    }
    channel_opened(chan);
}

static void handle_var_cell(om_channel_t *chan, const om_var_cell_t *vc)
{
    if (vc->command == OM_CELL_VPADDING || vc->command == OM_CELL_AUTHORIZE)
        return; /* padding; AUTHORIZE is reserved (tor-spec 4) and ignored */
    if (chan->state == OM_CHAN_WAIT_VERSIONS) {
        if (vc->command != OM_CELL_VERSIONS) {
            om_channel_close(chan, "expected VERSIONS, got %s", om_cell_command_name(vc->command));
            return;
        }
        handle_versions(chan, vc);
        return;
    }
    switch (vc->command) {
    case OM_CELL_CERTS:
        handle_certs(chan, vc);
        return;
    case OM_CELL_AUTH_CHALLENGE:
        handle_auth_challenge(chan, vc);
        return;
    case OM_CELL_AUTHENTICATE:
        handle_authenticate(chan, vc);
        return;
    case OM_CELL_VERSIONS:
        om_channel_close(chan, "VERSIONS: sent twice");
        return;
    default:
        if (chan->state == OM_CHAN_OPEN) {
            om_debug("Link %s: ignoring var cell %s", chan->peer_desc,
                     om_cell_command_name(vc->command));
            return;
        }
        break;
    }
    om_channel_close(chan, "%s: unexpected in state %s", om_cell_command_name(vc->command),
                     om_chan_state_name(chan->state));
}

static void handle_fixed_cell(om_channel_t *chan, const om_cell_t *c)
{
    if (c->command == OM_CELL_PADDING) return;
    if (chan->state != OM_CHAN_OPEN) {
        if (c->command == OM_CELL_NETINFO) {
            handle_netinfo(chan, c);
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
    if (c->circ_id == 0) {
        om_channel_close(chan, "%s cell with circuit ID 0", om_cell_command_name(c->command));
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
        om_debug("Link %s: dropping %s for unknown circuit %u", chan->peer_desc,
                 om_cell_command_name(c->command), c->circ_id);
}

/* ---------------------------------------------------------------- reading */

static void chan_read_cb(om_transport_t *t, struct evbuffer *in, void *arg)
{
    om_channel_t *chan = arg;
    (void)t;
    while (!chan->closing) {
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
                hs_record(chan->hs_received, p, cell_len);
            evbuffer_drain(in, cell_len);
            if (!vc) {
                om_channel_close(chan, "malformed variable-length cell");
                return;
            }
            handle_var_cell(chan, vc);
            om_var_cell_free(vc);
        } else {
            om_cell_t c;
            if (om_cell_unpack(&c, framing_proto, p, cell_len) < 0) {
                evbuffer_drain(in, cell_len);
                om_channel_close(chan, "malformed cell");
                return;
            }
            hs_record(chan->hs_received, p, cell_len);
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
        if (chan->role == OM_CHAN_INITIATOR && send_versions(chan) < 0)
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
            hs_drop(chan);
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

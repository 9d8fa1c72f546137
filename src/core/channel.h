/* channel.h — a Tor link ("channel"): the in-protocol handshake of tor-spec 4 (VERSIONS, CERTS,
 * AUTH_CHALLENGE, AUTHENTICATE, NETINFO) as initiator or responder over any om_transport_t, then
 * cell framing, link padding cells, and delivery of circuit cells to whoever owns each circuit
 * ID. An initiator either stays unauthenticated (a client) or, given our relay identity,
 * authenticates with AUTHENTICATE method 3 (tor-spec 4.4.2, link_auth.h); a responder verifies
 * an initiator that does. Bad input closes this channel only, with a logged reason. */
#ifndef OM_CORE_CHANNEL_H
#define OM_CORE_CHANNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/cell.h"
#include "core/cert.h"
#include "core/link_auth.h"
#include "core/link_cells.h"
#include "core/transport.h"

struct event_base;

typedef enum {
    OM_CHAN_INITIATOR,
    OM_CHAN_RESPONDER,
} om_chan_role_t;

typedef enum {
    OM_CHAN_CONNECTING, /* transport (TLS) handshake */
    OM_CHAN_WAIT_VERSIONS,
    OM_CHAN_WAIT_CERTS, /* initiator: peer's CERTS */
    OM_CHAN_WAIT_AUTH_CHALLENGE,
    OM_CHAN_WAIT_NETINFO,
    OM_CHAN_OPEN,
    OM_CHAN_CLOSED,
} om_chan_state_t;

/* Microsecond timestamps of each handshake step (0 if not reached), for the probe tool. */
typedef struct {
    uint64_t start, transport_up, versions, certs, auth_challenge, netinfo, open;
} om_chan_timings_t;

typedef struct om_channel om_channel_t;

/* A circuit's receiver: called for every cell on its circuit ID (fixed cells only; var cells on
 * a circuit are a protocol error). */
typedef void (*om_chan_circ_cb)(om_channel_t *chan, const om_cell_t *cell, void *arg);

typedef struct {
    void (*on_open)(om_channel_t *chan, void *arg);
    /* Called once when the channel closes (after on_open or instead of it). reason is human
     * readable, e.g. "CERTS: type 5 certificate does not match the TLS link certificate". */
    void (*on_close)(om_channel_t *chan, const char *reason, void *arg);
    /* Cells with a circuit ID nobody registered (e.g. CREATE2 at a relay). */
    void (*on_unclaimed_cell)(om_channel_t *chan, const om_cell_t *cell, void *arg);
    void *arg;
} om_chan_callbacks_t;

/* Limits a peer cannot exceed on one link. */
#define OM_CHAN_MAX_CIRCUITS        8192
#define OM_CHAN_HANDSHAKE_TIMEOUT_S 30

struct om_channel {
    om_transport_t *transport;
    struct event_base *base;
    om_chan_role_t role;
    om_chan_state_t state;
    int link_proto; /* negotiated version, 0 before VERSIONS */
    bool closing;
    char close_reason[256];
    char peer_desc[64];

    /* Initiator: what we expect the responder to prove (either may be absent). */
    bool expect_rsa;
    uint8_t expected_rsa_fp[20];
    bool expect_ed;
    uint8_t expected_ed_id[32];
    /* What the peer proved: the responder's CERTS (initiator), or an authenticating
     * initiator's CERTS + AUTHENTICATE (responder; then peer_authenticated is set too). */
    bool peer_verified;
    om_peer_identity_t peer;
    om_certs_list_t peer_certs_raw; /* entries point into peer_certs_buf */
    uint8_t *peer_certs_buf;
    size_t peer_certs_len;
    om_auth_challenge_t auth_challenge;
    om_netinfo_t peer_netinfo;

    /* Our relay identity: always for a responder; for an initiator only if it authenticates. */
    const om_identity_t *identity;
    bool authenticate; /* initiator: answer AUTH_CHALLENGE with CERTS + AUTHENTICATE */
    /* Responder: the initiator proved the identity in `peer` (tor-spec 4.4). False for a client
     * link, i.e. an initiator that sent NETINFO without authenticating. */
    bool peer_authenticated;
    bool got_initiator_certs;           /* responder: the initiator's CERTS verified ... */
    om_peer_identity_t initiator_claim; /* ... claiming this (proved only by AUTHENTICATE) */
    /* SHA-256 of every byte sent / received during the handshake, for AUTHENTICATE's SLOG and
     * CLOG (tor-spec 4.4.2). Only while they are needed; freed at the latest when the link opens
     * or closes (NULL then). */
    om_digest_t *hs_sent, *hs_received;
    uint8_t hs_slog[32]; /* responder: SHA-256 of what we sent through AUTH_CHALLENGE */
    const om_link_auth_test_hooks_t *auth_test_hooks; /* tests only: a wrong AUTHENTICATE */

    om_chan_timings_t timings;
    om_chan_callbacks_t cb;

    /* circuit-id -> receiver (open addressing). */
    struct chan_circ_slot *circs;
    uint32_t circs_cap, circs_count, circs_deleted;
    uint32_t next_circ_id;

    struct event *timeout_ev;
    uint64_t cells_in, cells_out;
    size_t chain_room; /* free bytes left in the output's last chain (see channel.c out_add) */
    /* Output drained below the transport's low-water mark (see om_channel_set_drain_cb). */
    void (*drain_cb)(om_channel_t *chan, void *arg);
    void *drain_arg;
};

/* Start a link as initiator to host:port over TLS. expected_rsa_fp / expected_ed_id may be NULL.
 * Returns NULL on immediate failure. The channel frees itself after on_close returns unless the
 * owner calls om_channel_free earlier. */
om_channel_t *om_channel_connect(struct event_base *base, const char *host, uint16_t port,
                                 const uint8_t *expected_rsa_fp, const uint8_t *expected_ed_id,
                                 const om_chan_callbacks_t *cb);
/* Same over an existing transport (e.g. a WebSocket), which is already connected or will send
 * OM_TRANSPORT_CONNECTED. */
om_channel_t *om_channel_new_initiator(struct event_base *base, om_transport_t *t,
                                       const uint8_t *expected_rsa_fp,
                                       const uint8_t *expected_ed_id,
                                       const om_chan_callbacks_t *cb);
/* An initiator that authenticates as our_identity (a relay's link to another relay, tor-spec
 * 4.4): after verifying the responder's CERTS and receiving its AUTH_CHALLENGE, which must offer
 * method 3 (Ed25519-SHA256-RFC5705), it sends CERTS (types 2, 4, 6, 7) and AUTHENTICATE, then
 * NETINFO. our_identity must outlive the channel; NULL makes these the plain (client) calls. */
om_channel_t *om_channel_connect_auth(struct event_base *base, const char *host, uint16_t port,
                                      const uint8_t *expected_rsa_fp, const uint8_t *expected_ed_id,
                                      const om_identity_t *our_identity,
                                      const om_chan_callbacks_t *cb);
om_channel_t *om_channel_new_initiator_auth(struct event_base *base, om_transport_t *t,
                                            const uint8_t *expected_rsa_fp,
                                            const uint8_t *expected_ed_id,
                                            const om_identity_t *our_identity,
                                            const om_chan_callbacks_t *cb);
/* Responder over an accepted transport. identity must outlive the channel. An initiator that
 * sends CERTS + AUTHENTICATE is verified (tor-spec 4.2, 4.4.2): on success peer_authenticated
 * and peer (rsa_fp, ed_id) say which relay the link is from; a failure closes the link. */
om_channel_t *om_channel_new_responder(struct event_base *base, om_transport_t *t,
                                       const om_identity_t *identity,
                                       const om_chan_callbacks_t *cb);

/* Send a fixed cell (circ_id, command, payload). Returns 0, or -1 if the channel is not open. */
int om_channel_send_cell(om_channel_t *chan, const om_cell_t *cell);
int om_channel_send_var_cell(om_channel_t *chan, const om_var_cell_t *cell);
/* Bytes queued for the transport (for backpressure decisions). */
size_t om_channel_outbuf_len(om_channel_t *chan);
/* Called whenever the output drained below the transport's low-water mark (a scheduler's cue to
 * send more). cb NULL: none. */
void om_channel_set_drain_cb(om_channel_t *chan, void (*cb)(om_channel_t *chan, void *arg),
                             void *arg);

/* Circuit IDs: allocate a fresh one for a circuit we originate on this channel (tor-spec 5.1.1:
 * with link protocol >= 4 the initiator sets the high bit, the responder clears it). */
uint32_t om_channel_alloc_circ_id(om_channel_t *chan);
int om_channel_register_circ(om_channel_t *chan, uint32_t circ_id, om_chan_circ_cb cb, void *arg);
void om_channel_unregister_circ(om_channel_t *chan, uint32_t circ_id);

/* Close with a reason (logged, given to on_close). Safe to call more than once. */
void om_channel_close(om_channel_t *chan, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void om_channel_free(om_channel_t *chan);

const char *om_chan_state_name(om_chan_state_t s);
uint64_t om_now_usec(void);

#endif

/* channel_int.h — the state of a channel (link), shared by the files of src/core that implement
 * or manage links (channel.c, linkmgr.c). Private to src/core (and core's unit tests): everyone
 * else uses channel.h's functions. */
#ifndef OM_CORE_CHANNEL_INT_H
#define OM_CORE_CHANNEL_INT_H

#include "core/channel.h"

struct event;

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
    /* Backpressure: more than OM_CHAN_OUTBUF_PAUSE bytes wait for the peer, so we read nothing
     * more from it (every cell it sends may make us answer) until the output drains. */
    bool read_paused;
    struct evbuffer *input; /* the transport's input, as last handed to us */
};

/* channel.c, for channel_handshake.c: a cell onto the wire (recorded in the handshake log). */
int om_chan_send_fixed(om_channel_t *chan, const om_cell_t *cell);
int om_chan_send_var(om_channel_t *chan, const om_var_cell_t *cell);

/* channel_handshake.c, for channel.c */
void om_chan_hs_record(om_digest_t *d, const uint8_t *wire, size_t n);
void om_chan_hs_drop(om_channel_t *chan);
int om_chan_send_versions(om_channel_t *chan);
void om_chan_handle_var_cell(om_channel_t *chan, const om_var_cell_t *vc);
void om_chan_handle_netinfo(om_channel_t *chan, const om_cell_t *c);

#endif

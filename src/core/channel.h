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

/* Opaque outside src/core (its state: core/channel_int.h). */
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
/* Output waiting for the peer above which we stop reading from it (and resume once the transport
 * says the output drained): a peer that sends without reading cannot make us hold more than this
 * plus one read's worth of answers (DESTROY, CREATED2, ...). Circuit traffic never gets here on
 * its own: the relay's scheduler queues cells once a link holds 64 KiB (or_sched.h). */
#define OM_CHAN_OUTBUF_PAUSE (256 * 1024)

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
/* Every byte the link holds in buffers, both ways (the transport's count when it has one, else
 * the output queue): what the relay's MaxMemInQueues counts for it. */
size_t om_channel_buffered(om_channel_t *chan);
/* Reading stopped because the peer does not read what we send (OM_CHAN_OUTBUF_PAUSE). */
bool om_channel_read_paused(const om_channel_t *chan);
/* Close without delivering what is still queued (the out-of-memory policy: a lingering close
 * would keep the buffers for seconds). */
void om_channel_close_discard(om_channel_t *chan, const char *reason);
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
/* Tests only: make this initiator's AUTHENTICATE wrong in the ways hooks say (link_auth.h). */
void om_channel_set_auth_test_hooks(om_channel_t *chan, const om_link_auth_test_hooks_t *hooks);
/* The owner lets go: none of the callbacks given at creation runs any more. */
void om_channel_detach(om_channel_t *chan);

const char *om_chan_state_name(om_chan_state_t s);

/* ---- read-only facts about a channel ---- */
/* The identity the peer proved: a responder's CERTS (when we initiated), or an authenticated
 * initiator's CERTS + AUTHENTICATE (when we responded). NULL if it proved none (a client). */
const om_peer_identity_t *om_channel_peer_identity(const om_channel_t *chan);
/* We are the responder and the initiator authenticated as a relay (tor-spec 4.4). */
bool om_channel_peer_authenticated(const om_channel_t *chan);
const char *om_channel_peer_desc(const om_channel_t *chan); /* "127.0.0.1:9001" (for logs) */
om_chan_state_t om_channel_state(const om_channel_t *chan);
bool om_channel_is_closing(const om_channel_t *chan);
const char *om_channel_close_reason(const om_channel_t *chan);
int om_channel_link_proto(const om_channel_t *chan); /* 0 before VERSIONS */
om_chan_role_t om_channel_role(const om_channel_t *chan);
struct event_base *om_channel_base(const om_channel_t *chan);
om_transport_t *om_channel_transport(const om_channel_t *chan);
const om_chan_timings_t *om_channel_timings(const om_channel_t *chan);
const om_netinfo_t *om_channel_peer_netinfo(const om_channel_t *chan);
/* The peer's CERTS cell as received (entries valid while the channel lives), and its
 * AUTH_CHALLENGE (initiator). For diagnostics (the probe tool). */
const om_certs_list_t *om_channel_peer_certs(const om_channel_t *chan);
const om_auth_challenge_t *om_channel_auth_challenge(const om_channel_t *chan);
uint64_t om_channel_cells_in(const om_channel_t *chan);
uint64_t om_channel_cells_out(const om_channel_t *chan);
uint64_t om_now_usec(void);

#endif

/* circuit.h — circuits we originate (tor-spec 5): creating the first hop with CREATE_FAST,
 * CREATE2-ntor or CREATE2-ntor-v3, EXTEND2 to the next hops, layered relay crypto per hop,
 * sending and receiving relay messages with per-hop flow control (sendme.h: windows with
 * authenticated SENDMEs, or congestion control negotiated with the exit), DESTROY with reasons,
 * and streams (BEGIN, BEGIN_DIR, RESOLVE) at any hop. Relay messages that are not stream traffic
 * go to a dispatch table the owner supplies. Implementation: circuit.c (lifecycle, handshakes,
 * cells), circuit_stream.c (streams). */
#ifndef OM_CORE_CIRCUIT_H
#define OM_CORE_CIRCUIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/channel.h"
#include "core/congestion.h"
#include "core/onion_handshake.h"
#include "core/relay_crypto.h"
#include "core/relay_bodies.h"
#include "core/relay_msg.h"

#define OM_CIRC_MAX_HOPS       8
#define OM_CIRC_MAX_STREAMS    1024
#define OM_STREAM_MAX_BUFFERED (1u << 20) /* bytes received but not yet consumed */

/* What we know about a relay we build a hop to. The address is used for EXTEND2 (hops after
 * the first); the first hop is the relay at the other end of the channel. */
typedef struct {
    uint8_t rsa_fp[20];
    bool has_ed;
    uint8_t ed_id[32];
    uint8_t ntor_key[32];
    uint8_t ipv4[4];
    uint16_t or_port;
    bool has_ipv6;
    uint8_t ipv6[16];
    uint16_t ipv6_port;
    bool ipv6_only;     /* EXTEND2 gives the IPv6 address alone (no IPv4 link specifier) */
    int handshake_type; /* for om_circuit_build: OM_HANDSHAKE_TYPE_NTOR or _NTOR_V3 */
    bool flowctrl_cc;   /* FlowCtrl=2 in its protocols: may be asked for congestion control */
} om_hop_target_t;

/* Circuits and streams are opaque outside src/core (their state: core/circuit_int.h). */
typedef struct om_circuit om_circuit_t;
typedef struct om_stream om_stream_t;

typedef struct {
    void (*on_built)(om_circuit_t *circ, void *arg);
    /* Once; reason is text ("DESTROY from relay: PROTOCOL", "channel closed", ...). */
    void (*on_closed)(om_circuit_t *circ, const char *reason, void *arg);
    void *arg;
} om_circ_callbacks_t;

typedef enum { OM_CIRC_BUILDING, OM_CIRC_OPEN, OM_CIRC_CLOSED } om_circ_state_t;

/* Flow-control parameters from the consensus for a circuit we build (copied at build time). */
typedef struct {
    /* Congestion control with the last hop (proposal 324): NULL or cc_alg 0 asks for none. */
    const om_cc_params_t *cc;
    uint8_t sendme_accept_min_version; /* consensus param sendme_accept_min_version (default 0) */
} om_circ_flow_params_t;

/* Send the create cell for the first hop. handshake_type: OM_HANDSHAKE_TYPE_FAST, _NTOR or
 * _NTOR_V3. target may be NULL for CREATE_FAST. The channel must be open. on_built fires when
 * the hop is established. */
om_circuit_t *om_circuit_create(om_channel_t *chan, int handshake_type,
                                const om_hop_target_t *target, const om_circ_callbacks_t *cb);
/* Build a whole path: CREATE2 to path[0] (the relay at the other end of chan), then EXTEND2 (in
 * RELAY_EARLY) to each next hop, each with path[i].handshake_type. on_built fires when all n hops
 * are established; on_closed if any step fails (reason says which hop and why). */
om_circuit_t *om_circuit_build(om_channel_t *chan, const om_hop_target_t *path, int n,
                               const om_circ_callbacks_t *cb);
/* As om_circuit_build, with the consensus's flow-control parameters: asks the last hop for
 * congestion control (proposal 324) if fp->cc has cc_alg != 0, n > 1, and the last hop uses
 * ntor-v3 and has flowctrl_cc. Whether the exit agreed: om_circuit_cc_active() once built. */
om_circuit_t *om_circuit_build_flow(om_channel_t *chan, const om_hop_target_t *path, int n,
                                    const om_circ_callbacks_t *cb, const om_circ_flow_params_t *fp);
/* Congestion control runs on this circuit (the exit accepted the request). */
bool om_circuit_cc_active(const om_circuit_t *circ);
/* The CC state as "SS=0 CWND=... INFL=... RTT=... MIN_RTT=... BDP=..." ("" without CC). */
void om_circuit_cc_format(const om_circuit_t *circ, char *buf, size_t len);
/* Send a relay message to hop `hop` (0-based; -1 = last hop). early: send as RELAY_EARLY. */
int om_circuit_send_relay(om_circuit_t *circ, int hop, uint8_t command, uint16_t stream_id,
                          const uint8_t *body, size_t len, bool early);
/* Send DESTROY (reason) and close locally. The circuit is freed after on_closed returns. */
void om_circuit_close(om_circuit_t *circ, uint8_t reason, const char *why);
const char *om_circ_state_name(om_circ_state_t s);

/* The owner lets go: no callback of cb runs any more (the circuit itself stays as it is). */
void om_circuit_detach(om_circuit_t *circ);
/* Relay messages that are not stream traffic and not handled here (stream ID 0 or no stream)
 * go to this table (shared, owned by the caller; NULL: none). A handler's -1 closes the
 * circuit (DESTROY PROTOCOL). */
void om_circuit_set_dispatch(om_circuit_t *circ, const om_relay_dispatch_t *table);

/* Read-only facts about a circuit. */
uint32_t om_circuit_id(const om_circuit_t *circ);
om_circ_state_t om_circuit_state(const om_circuit_t *circ);
int om_circuit_n_hops(const om_circuit_t *circ); /* hops whose keys are established */
/* Microseconds from the first create cell to the last hop's handshake (0 until built). */
uint64_t om_circuit_build_usec(const om_circuit_t *circ);
bool om_circuit_has_streams(const om_circuit_t *circ);
om_channel_t *om_circuit_channel(const om_circuit_t *circ);

/* ---- streams ---- */
struct om_resolved_s;
typedef struct {
    void (*on_connected)(om_stream_t *s, void *arg);
    void (*on_data)(om_stream_t *s, const uint8_t *data, size_t len, void *arg);
    /* RESOLVE streams: the answer (the stream is then gone; on_end is not called). */
    void (*on_resolved)(om_stream_t *s, const uint8_t *body, size_t len, void *arg);
    /* The package windows reopened after om_stream_write accepted less than it was given. */
    void (*on_writable)(om_stream_t *s, void *arg);
    /* Once: END from the exit (reason), or the circuit closed (reason 0, text says why). */
    void (*on_end)(om_stream_t *s, uint8_t reason, const char *why, void *arg);
    void *arg;
} om_stream_callbacks_t;

/* The address the exit connected to, from RELAY_CONNECTED (type 0 if it did not say), and its
 * TTL. */
const om_addr_t *om_stream_connected_addr(const om_stream_t *s, uint32_t *ttl);
uint16_t om_stream_id(const om_stream_t *s);
om_circuit_t *om_stream_circuit(const om_stream_t *s);

/* Open a directory stream (RELAY_BEGIN_DIR, tor-spec 6.2.1) to the last hop. */
om_stream_t *om_stream_begin_dir(om_circuit_t *circ, const om_stream_callbacks_t *cb);
/* Open a stream to host:port at the last hop (RELAY_BEGIN, tor-spec 6.2). host: hostname,
 * dotted quad, or IPv6 text. flags: OM_BEGIN_FLAG_*. */
om_stream_t *om_stream_begin(om_circuit_t *circ, const char *host, uint16_t port, uint32_t flags,
                             const om_stream_callbacks_t *cb);
/* RELAY_RESOLVE (tor-spec 6.4) of a hostname, or of an in-addr.arpa / ip6.arpa name. */
om_stream_t *om_stream_resolve(om_circuit_t *circ, const char *name,
                               const om_stream_callbacks_t *cb);
/* Backpressure from the consumer: while blocked, stream SENDMEs are withheld so the exit stops
 * after the window; unblocking sends the SENDMEs that are due. (Fixed windows only.) */
void om_stream_set_blocked(om_stream_t *s, bool blocked);
/* Flow control with CC (proposal 324 4): the consumer reports its buffer towards the
 * application — after on_data was buffered (buffered = bytes now waiting), and after the
 * application took bytes (written = bytes it took, buffered = bytes left). They send XOFF when
 * the buffer stays too full and XON once it drains, with the drain rate. No-ops without CC. */
void om_stream_note_buffered(om_stream_t *s, size_t buffered);
void om_stream_note_drained(om_stream_t *s, size_t written, size_t buffered);
/* Queue data on a stream (split into RELAY_DATA cells). Returns bytes accepted (all, unless the
 * windows are exhausted — the rest must be retried after a SENDME), or -1. */
ssize_t om_stream_write(om_stream_t *s, const uint8_t *data, size_t len);
/* Send RELAY_END (reason) and forget the stream. */
void om_stream_close(om_stream_t *s, uint8_t reason);

#endif

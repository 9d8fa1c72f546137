/* circuit.h — circuits we originate (tor-spec 5): creating the first hop with CREATE_FAST,
 * CREATE2-ntor or CREATE2-ntor-v3, layered relay crypto per hop, sending and receiving relay
 * messages, flow control — fixed windows with authenticated SENDMEs (proposal 289), or
 * congestion control negotiated with the exit (proposal 324: Vegas, XON/XOFF) — DESTROY with
 * reasons, and streams (BEGIN, BEGIN_DIR, RESOLVE). Relay messages that are not stream traffic
 * go through a dispatch table other modules extend. */
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

#define OM_CIRC_MAX_HOPS           8
#define OM_CIRC_WINDOW_START       1000 /* tor-spec 7.3 */
#define OM_CIRC_WINDOW_INCREMENT   100
#define OM_STREAM_WINDOW_START     500 /* tor-spec 7.4 */
#define OM_STREAM_WINDOW_INCREMENT 50
#define OM_CIRC_MAX_STREAMS        1024
#define OM_STREAM_MAX_BUFFERED     (1u << 20) /* bytes received but not yet consumed */

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

typedef struct om_circuit om_circuit_t;
typedef struct om_stream om_stream_t;

typedef struct {
    void (*on_built)(om_circuit_t *circ, void *arg);
    /* Once; reason is text ("DESTROY from relay: PROTOCOL", "channel closed", ...). */
    void (*on_closed)(om_circuit_t *circ, const char *reason, void *arg);
    void *arg;
} om_circ_callbacks_t;

#define OM_SENDME_DIGESTS_MAX 16
typedef struct {
    om_relay_crypto_t crypto;
    om_hop_target_t target;
    int handshake_type;
    /* Authenticated SENDMEs (proposal 289): digests of the DATA cells we sent to this hop that
     * will trigger its next SENDMEs, oldest first. */
    uint8_t sendme_digests[OM_SENDME_DIGESTS_MAX][20];
    int n_sendme_digests;
} om_hop_t;

typedef enum { OM_CIRC_BUILDING, OM_CIRC_OPEN, OM_CIRC_CLOSED } om_circ_state_t;

/* Congestion control with one hop (circuit.c; allocated only for circuits that ask for it). */
typedef struct om_circ_cc om_circ_cc_t;

struct om_circuit {
    om_channel_t *chan;
    uint32_t circ_id;
    om_circ_state_t state;
    int n_hops;   /* hops whose keys are established */
    int path_len; /* hops wanted (om_circuit_build) */
    om_hop_t hops[OM_CIRC_MAX_HOPS];
    int pending_type;
    union {
        om_fast_client_t fast;
        om_ntor_client_t ntor;
        om_ntor3_client_t ntor3;
    } pending;
    om_circ_callbacks_t cb;
    om_relay_dispatch_t dispatch; /* non-stream relay messages (stream_id 0 or unknown) */
    int package_window, deliver_window;
    int early_left;   /* RELAY_EARLY cells we may still send (tor-spec 5.6: 8) */
    om_circ_cc_t *cc; /* congestion-control state, NULL if never requested */
    int cc_hop;       /* the hop CC was negotiated with, -1 if none (fixed windows) */
    om_stream_t *streams;
    uint16_t next_stream_id;
    uint64_t t_create_sent, t_created;
    char close_reason[320];
    int refs;
};

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
/* As om_circuit_build, and ask the last hop for congestion control (proposal 324) if cc is
 * non-NULL with cc_alg != 0, n > 1, and the last hop uses ntor-v3 and has flowctrl_cc. The
 * parameters are copied. Whether the exit agreed: om_circuit_cc_active() once built. */
om_circuit_t *om_circuit_build_cc(om_channel_t *chan, const om_hop_target_t *path, int n,
                                  const om_circ_callbacks_t *cb, const om_cc_params_t *cc);
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

struct om_stream {
    om_stream_t *next;
    om_circuit_t *circ;
    uint16_t id;
    int hop; /* the hop the stream ends at */
    bool connected, ended, is_resolve;
    bool blocked;       /* the consumer cannot take more: withhold stream SENDMEs */
    bool want_writable; /* om_stream_write was short: call on_writable when windows reopen */
    bool cc;            /* on the circuit's CC hop: XON/XOFF instead of stream windows */
    int package_window, deliver_window;
    om_flow_recv_t flow_rx;   /* CC: our buffer towards the consumer (we send XOFF/XON) */
    om_flow_send_t flow_tx;   /* CC: what the exit told us (XOFF stops om_stream_write) */
    size_t peak_buffered;     /* CC: most bytes the consumer reported waiting */
    om_addr_t connected_addr; /* from RELAY_CONNECTED, if the exit said */
    uint32_t connected_ttl;
    om_stream_callbacks_t cb;
};

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

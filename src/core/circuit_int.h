/* circuit_int.h — the state of an origin circuit and its streams, shared by circuit.c
 * (lifecycle, handshakes, cells in and out) and circuit_stream.c (streams). Private to
 * src/core: everyone else uses circuit.h's functions. */
#ifndef OM_CORE_CIRCUIT_INT_H
#define OM_CORE_CIRCUIT_INT_H

#include "core/circuit.h"
#include "core/sendme.h"

typedef struct {
    om_relay_crypto_t crypto;
    om_hop_target_t target;
    int handshake_type;
    om_sendme_t fc; /* flow control with this hop (windows or congestion control) */
} om_hop_t;

struct om_circuit {
    om_channel_t *chan;
    struct event_base *base; /* for the deferred free (the channel may be gone by then) */
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
    const om_relay_dispatch_t *dispatch; /* the owner's table for other relay messages */
    int early_left;                      /* RELAY_EARLY cells we may still send (tor-spec 5.6: 8) */
    om_cc_params_t *cc_request;          /* CC asked of the last hop with these (NULL: not asked) */
    bool cc_requested; /* the request went out in the last hop's ntor-v3 message */
    int cc_hop;        /* the hop CC was negotiated with, -1 if none (fixed windows) */
    uint8_t sendme_accept_min_version;
    om_stream_t *streams;
    unsigned n_streams;
    uint16_t next_stream_id;
    uint64_t t_create_sent, t_created;
    struct om_cfx_set *cfx; /* the conflux set this circuit is a leg of (conflux.c), or NULL */
    char close_reason[320];
};

struct om_stream {
    om_stream_t *next;
    om_circuit_t *circ;
    uint16_t id;
    int hop; /* the hop the stream ends at: only its cells are this stream's */
    bool connected, ended, is_resolve;
    bool blocked;             /* the consumer cannot take more: withhold stream SENDMEs */
    bool want_writable;       /* om_stream_write was short: call on_writable when windows reopen */
    om_stream_flow_t flow;    /* windows, or XON/XOFF on the circuit's CC hop */
    size_t peak_buffered;     /* CC: most bytes the consumer reported waiting */
    om_addr_t connected_addr; /* from RELAY_CONNECTED, if the exit said */
    uint32_t connected_ttl;
    om_stream_callbacks_t cb;
};

/* circuit.c, for circuit_stream.c: the owner's dispatch table (its -1 closes the circuit). */
void om_circ_dispatch_other(om_circuit_t *circ, const om_relay_header_t *h, const uint8_t *body);

/* circuit.c, for conflux.c: hand a relay message (from hop `hop`, already counted against the
 * arrival leg's windows) to circ's streams or owner. */
void om_circ_deliver(om_circuit_t *circ, int hop, const om_relay_header_t *h, const uint8_t *body);

/* conflux.c, for circuit.c */
/* A relay message from hop `hop` of circ: 1 if conflux took it (a conflux command, or a
 * multiplexed cell of a set, delivered in order or queued), 0 if it is not conflux's. */
int om_cfx_on_relay(om_circuit_t *circ, int hop, const om_relay_header_t *h, const uint8_t *body);
/* circ closed: its set loses the leg (or ends). */
void om_cfx_leg_closed(om_circuit_t *circ);

/* circuit_stream.c, for circuit.c */
/* A relay message with a stream ID from hop `hop`. */
void om_circ_stream_msg(om_circuit_t *circ, int hop, const om_relay_header_t *h,
                        const uint8_t *body);
/* Windows reopened: tell streams that were short of window. */
void om_circ_streams_writable(om_circuit_t *circ);
/* The circuit closed: end every stream (on_end with reason 0 and the text). */
void om_circ_streams_end_all(om_circuit_t *circ, const char *why);

#endif

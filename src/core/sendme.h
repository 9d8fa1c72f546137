/* sendme.h — flow control of circuits and streams, one module for both ends of a circuit (as
 * tor's sendme.c): origin circuits (circuit.c, one om_sendme_t per hop) and relay circuits at
 * their last hop (src/or, one per circuit) use the same windows, digest FIFO, authenticated
 * SENDMEs and congestion-control hooks, with the same limits.
 *
 * Circuit level (tor-spec 7.3, proposal 289, proposal 324):
 * - sending: with fixed windows a 1000-cell package window that each circuit SENDME reopens by
 *   100; with congestion control the Vegas window of congestion.c (cwnd - inflight). Every DATA
 *   cell whose receipt makes the other end send a SENDME has its running digest recorded (FIFO);
 *   a SENDME is checked as tor's sendme_is_valid does: version 0 or 1 only, not below the
 *   consensus's sendme_accept_min_version, a recorded digest must be outstanding (popped
 *   whatever the version), and a v1 SENDME must carry exactly that 20-byte digest.
 * - receiving: a deliver window of 1000 cells; a SENDME is due when it falls to 1000 - inc
 *   (inc = 100, or the sendme_inc negotiated for congestion control); below zero is a protocol
 *   violation. SENDMEs go out at once, one at a time, always version 1.
 *
 * Stream level (tor-spec 7.4, proposal 324 4): 500-cell windows with 50-cell stream SENDMEs, or
 * XON/XOFF (congestion.c's om_flow_*) on congestion-controlled hops, where stream SENDMEs are a
 * protocol violation.
 *
 * Pure state: no I/O; the caller sends what these functions say and passes monotonic time. */
#ifndef OM_CORE_SENDME_H
#define OM_CORE_SENDME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/congestion.h"

#define OM_SENDME_CIRC_WINDOW_START   1000 /* tor-spec 7.3: CIRCWINDOW_START */
#define OM_SENDME_CIRC_INCREMENT      100  /* CIRCWINDOW_INCREMENT */
#define OM_SENDME_STREAM_WINDOW_START 500  /* tor-spec 7.4: STREAMWINDOW_START */
#define OM_SENDME_STREAM_INCREMENT    50
#define OM_SENDME_V1_BODY_LEN         23 /* VERSION 1, DATA_LEN 20, digest */
#define OM_SENDME_MAX_VERSION         1  /* tor 0.4.9's SENDME_MAX_SUPPORTED_VERSION */
/* Digests outstanding at most: 1000 / 100 with fixed windows; with congestion control the
 * send-time FIFO of congestion.c bounds them (OM_CC_MAX_PENDING). */
#define OM_SENDME_FIXED_DIGESTS (OM_SENDME_CIRC_WINDOW_START / OM_SENDME_CIRC_INCREMENT)

/* Congestion control state of a hop (sendme.c; allocated only when negotiated). */
typedef struct om_sendme_cc om_sendme_cc_t;

/* One hop's circuit-level flow control. */
typedef struct {
    int package_window;         /* fixed windows: DATA cells we may still send */
    int deliver_window;         /* DATA cells we may still receive before a SENDME is due */
    uint16_t recv_inc;          /* cells per SENDME we send: 100, or the negotiated sendme_inc */
    uint8_t accept_min_version; /* the consensus's sendme_accept_min_version */
    /* FIFO of the digests of our DATA cells whose SENDMEs are outstanding (fixed windows). */
    uint8_t digests[OM_SENDME_FIXED_DIGESTS][20];
    uint8_t dig_head, dig_n;
    om_sendme_cc_t *cc; /* congestion control, or NULL for fixed windows */
} om_sendme_t;

/* Fixed windows. accept_min_version: sendme_accept_min_version from the consensus (0 if none). */
void om_sendme_init(om_sendme_t *s, uint8_t accept_min_version);
/* Congestion control was negotiated with this hop (proposal 324): Vegas with these parameters
 * (copied; NULL: defaults) and path thresholds replaces the package window, SENDMEs are sent and
 * expected every sendme_inc cells. -1 (nothing changed) on a zero sendme_inc or no memory. */
int om_sendme_enable_cc(om_sendme_t *s, const om_cc_params_t *params, uint8_t sendme_inc,
                        om_cc_path_t path);
/* Frees the congestion-control state; s is fixed-window state again. */
void om_sendme_clear(om_sendme_t *s);

bool om_sendme_cc_active(const om_sendme_t *s);
/* The hop's congestion-control state and the parameters it runs with; NULL without CC. */
om_cc_t *om_sendme_cc(om_sendme_t *s);
const om_cc_params_t *om_sendme_cc_params(const om_sendme_t *s);

/* ---- sending side ---- */

/* May one more DATA cell be sent to this hop? */
bool om_sendme_can_package(const om_sendme_t *s);
/* A DATA cell to this hop has just been sent (at now_usec). If the other end will answer it with
 * a SENDME, returns the 20-byte slot the caller must fill with the cell's running digest
 * (om_relay_crypto_last_digest_fwd at an origin, _back at a relay); otherwise NULL. */
uint8_t *om_sendme_note_packaged(om_sendme_t *s, uint64_t now_usec);
/* A circuit-level SENDME from this hop (body of len bytes) arrived at now_usec. 0: valid, the
 * window (or Vegas) updated; -1: close the circuit (TORPROTOCOL), *why says why. */
int om_sendme_process(om_sendme_t *s, const uint8_t *body, size_t len, uint64_t now_usec,
                      const char **why);
/* Optional congestion signal for Vegas (prop 324 3.3): the link towards this hop is backed up. */
void om_sendme_set_chan_blocked(om_sendme_t *s, bool blocked);

/* ---- receiving side ---- */

/* A DATA cell from this hop arrived. -1: the deliver window went below zero (close the
 * circuit); 1: a SENDME is due now — send om_sendme_build_v1 with this cell's running digest
 * (_back at an origin, _fwd at a relay); 0: nothing to send. */
int om_sendme_note_delivered(om_sendme_t *s);
/* A version-1 SENDME body carrying digest. Returns OM_SENDME_V1_BODY_LEN. */
size_t om_sendme_build_v1(uint8_t out[OM_SENDME_V1_BODY_LEN], const uint8_t digest[20]);

/* ---- streams ---- */

typedef struct {
    bool cc;            /* the stream's hop runs congestion control: XON/XOFF */
    int package_window; /* fixed windows */
    int deliver_window; /* fixed windows */
    om_flow_send_t tx;  /* cc: what the other end told us (XOFF stops packaging) */
    om_flow_recv_t rx;  /* cc: our buffer towards our edge (we send XOFF/XON) */
} om_stream_flow_t;

/* Windows, or XON/XOFF if hop runs congestion control. edge_is_exit: our edge is a server
 * connection (an exit's, cc_xoff_exit) rather than a local application (cc_xoff_client). */
void om_stream_flow_init(om_stream_flow_t *f, const om_sendme_t *hop, bool edge_is_exit);
/* May this stream package one more DATA cell (its own window / the peer's XOFF)? The circuit's
 * om_sendme_can_package must allow it too. */
bool om_stream_flow_can_package(const om_stream_flow_t *f);
void om_stream_flow_note_packaged(om_stream_flow_t *f, size_t len);
/* A stream-level SENDME. -1: close the circuit (on a CC hop, or beyond the window), *why set. */
int om_stream_flow_process_sendme(om_stream_flow_t *f, const char **why);
/* A DATA cell for the stream. -1: the stream deliver window went below zero (the peer ignored
 * our withheld SENDMEs): close the circuit (tor: "conn deliver_window below 0"). */
int om_stream_flow_note_delivered(om_stream_flow_t *f);
/* Stream SENDMEs to send now (fixed windows; 0 with CC): the window is updated as if they were
 * sent. Call when the consumer has room (tor withholds them while the edge's buffer is full). */
int om_stream_flow_take_due_sendmes(om_stream_flow_t *f);
/* An XON/XOFF for the stream (command OM_RELAY_XON / _XOFF). Without CC it is ignored
 * (OM_FLOW_MSG_OK, *ignored set), as tor does; MALFORMED: close the circuit. */
om_flow_msg_t om_stream_flow_on_xon_xoff(om_stream_flow_t *f, uint8_t command, const uint8_t *body,
                                         size_t len, bool *ignored);

#endif

/* or_circuit.h — circuits at a relay (tor-spec 5): answering CREATE2 (ntor, ntor-v3) and
 * CREATE_FAST, one layer of relay crypto per circuit, relay cells recognized here or passed on,
 * EXTEND2 to the next relay (reusing a link to it or opening one) with EXTENDED2 back,
 * RELAY_EARLY counted and limited, DESTROY propagated and TRUNCATE/TRUNCATED. Streams (exit,
 * BEGIN_DIR) are handed to a stream handler when one is installed. */
#ifndef OM_OR_OR_CIRCUIT_H
#define OM_OR_OR_CIRCUIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/channel.h"

#include "core/congestion.h"
#include "core/relay_crypto.h"
#include "core/relay_msg.h"
#include "core/linkmgr.h"
#include "or/dos.h"
#include "or/or_sched.h"
#include "or/relay_keys.h"

/* tor's MAX_RELAY_EARLY_CELLS_PER_CIRCUIT: a client may send at most this many RELAY_EARLY. */
#define OM_OR_MAX_RELAY_EARLY 8
/* CREATE2 answered per second from one link before we refuse more (RESOURCELIMIT): a cheap
 * guard against handshake floods, like tor's DoS circuit-creation defence. */
#define OM_OR_CREATE_BURST_PER_LINK 200

typedef struct om_or_circuits om_or_circuits_t;
typedef struct om_or_circ om_or_circ_t;

/* A relay message for this hop (recognized): the stream layer's entry point. Return 0, or -1 to
 * close the circuit (protocol violation; the handler logged why). */
typedef int (*om_or_stream_handler_fn)(om_or_circ_t *circ, const om_relay_header_t *hdr,
                                       const uint8_t *body, bool early, void *arg);
/* The circuit is going away: the stream layer drops what it kept for it. */
typedef void (*om_or_circ_free_fn)(om_or_circ_t *circ, void *arg);

typedef struct {
    const om_relay_keys_t *keys; /* our identities and onion keys (current and previous) */
    om_linkmgr_t *links;
    bool allow_private_extend; /* EXTEND2 to private addresses (tor: TestingTorNetwork) */
    unsigned max_circuits;     /* all circuits at this relay */
    om_or_stream_handler_fn stream_handler; /* NULL: no exit, no BEGIN_DIR */
    om_or_circ_free_fn on_circ_free;
    void *stream_arg;
    /* Congestion control (proposal 324): fills the consensus's parameters and returns true if a
     * client's ntor-v3 request for it is to be granted (we are an exit and cc_alg is on). NULL:
     * never. */
    bool (*cc_params)(void *arg, om_cc_params_t *out);
    void *cc_arg;
    om_or_sched_t *sched; /* cell queues and EWMA scheduling on backlogged links */
    /* The circuit's queue towards the client drained after it had grown: the stream layer may
     * package again (stream_arg). */
    void (*on_writable)(om_or_circ_t *circ, void *arg);
    /* For deferred frees (om_or_circ_oom); NULL: the OOM policy frees at once. */
    struct event_base *base;
    /* DoS mitigation (dos.h): CREATEs from marked client addresses get DESTROY RESOURCELIMIT,
     * ESTABLISH_RENDEZVOUS from clients is counted as refused. NULL: none. */
    om_dos_t *dos;
} om_or_circ_params_t;

struct om_or_circ {
    om_or_circuits_t *owner;
    om_channel_t *p_chan; /* towards the client */
    uint32_t p_circ_id;
    om_channel_t *n_chan; /* towards the next relay (NULL at the last hop) */
    uint32_t n_circ_id;
    om_relay_crypto_t crypto;
    bool n_pending;          /* EXTEND2 in progress: waiting for a link or CREATED2 */
    void *link_wait;         /* link manager waiter handle while waiting for the link */
    uint8_t *pending_create; /* CREATE2 body to send when the link opens */
    size_t pending_create_len;
    unsigned relay_early_in;
    uint64_t cells_fwd, cells_back;
    void *stream_state;            /* the stream layer's */
    om_or_cellq_t *q_fwd, *q_back; /* cells towards n_chan / p_chan while those links are busy */
    uint8_t cc_sendme_inc;         /* congestion control negotiated: its sendme_inc (0: windows) */
    om_cc_params_t *cc_params;     /* the parameters it was negotiated with (malloc'd; NULL) */
    bool marked;                   /* closed (DESTROYs sent, links let go), freed from the loop */
    struct om_or_circ *next, *prev;
};

om_or_circuits_t *om_or_circuits_new(const om_or_circ_params_t *p);
void om_or_circuits_free(om_or_circuits_t *m); /* DESTROYs nothing: links go away too */
/* A cell on chan with a circuit ID no circuit registered (om_linkmgr_owner_t hook). */
void om_or_circuits_unclaimed_cell(om_or_circuits_t *m, om_channel_t *chan, const om_cell_t *c);
/* chan closed: circuits coming from it are destroyed onward; circuits going through it send
 * TRUNCATED back to their client. */
void om_or_circuits_link_closed(om_or_circuits_t *m, om_channel_t *chan);

/* Send a relay message originated at this hop back to the client (digest, one layer of
 * encryption). Returns 0 or -1 (no client link / body too long). */
int om_or_circ_send_back(om_or_circ_t *circ, uint8_t command, uint16_t stream_id,
                         const uint8_t *body, size_t len);
/* True while the queue towards the client is long (OM_OR_QUEUE_HIGH): stop packaging data
 * (tor stops reading from edge connections) until on_writable. */
bool om_or_circ_back_blocked(const om_or_circ_t *circ);
/* The scheduler's out-of-memory policy picked this circuit (om_or_sched_oom_fn, arg unused).
 * That happens inside a send, possibly one on this very circuit by code that goes on using it,
 * so the circuit is only marked: DESTROY RESOURCELIMIT both ways, its queues dropped, its links
 * let go, later sends fail; it is freed from the event loop (with params.base). */
void om_or_circ_oom(void *circ, void *arg);
/* Close the circuit: DESTROY (reason) to both sides that exist, then free it (a marked circuit:
 * nothing, it is freed from the event loop). */
void om_or_circ_close(om_or_circ_t *circ, uint8_t reason);

typedef struct {
    unsigned circuits;
    uint64_t created, refused, cells_relayed, extends, extend_failures;
} om_or_circ_stats_t;
void om_or_circuits_stats(const om_or_circuits_t *m, om_or_circ_stats_t *out);

#endif

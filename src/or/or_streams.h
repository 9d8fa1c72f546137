/* or_streams.h — streams at the last hop of a circuit through this relay (tor-spec 6, 7): the
 * stream table of each circuit, circuit- and stream-level flow control through sendme.h (windows
 * with authenticated SENDMEs both ways, or congestion control with XON/XOFF), END and half-closed
 * streams, limits per circuit, and the table of stream services (stream_service.h) that answer
 * BEGIN, BEGIN_DIR and RESOLVE. Installed as the circuits' stream handler (om_or_circ_params_t). */
#ifndef OM_OR_OR_STREAMS_H
#define OM_OR_OR_STREAMS_H

#include "core/congestion.h"
#include "or/dos_bucket.h"
#include "or/or_circuit.h"
#include "or/stream_service.h"

#define OM_OR_MAX_STREAMS_PER_CIRC 256
#define OM_OR_MAX_SERVICES         16

typedef struct om_or_streams om_or_streams_t;

/* param: the consensus's parameters (sendme_accept_min_version), NULL for defaults. */
om_or_streams_t *om_or_streams_new(om_cc_param_lookup_fn param, void *param_arg);
void om_or_streams_free(om_or_streams_t *s);
/* Register a service (copied). -1 if the table is full or another service already claims the
 * same command and hostname. */
int om_or_streams_add_service(om_or_streams_t *m, const om_stream_service_t *svc);

/* A gate on stream-opening cells (BEGIN, BEGIN_DIR, RESOLVE): called with the circuit's own
 * bucket before the cell is parsed or routed; returns OM_DOS_STREAM_DEFENSE_* (dos_params.h):
 * 1 go on, 2 refuse the stream (END MISC), 3 close the circuit (DESTROY RESOURCELIMIT). The
 * relay's DoS mitigation installs om_dos_stream_begin here (tor 0.4.9's DoSStreamCreation). */
typedef int (*om_or_stream_gate_fn)(void *arg, om_dos_bucket_t *circ_bucket);
void om_or_streams_set_gate(om_or_streams_t *m, om_or_stream_gate_fn gate, void *arg);

/* Hooks for om_or_circ_params_t (arg = the om_or_streams_t). */
int om_or_streams_handle(om_or_circ_t *circ, const om_relay_header_t *hdr, const uint8_t *body,
                         bool early, void *arg);
void om_or_streams_circ_free(om_or_circ_t *circ, void *arg);
void om_or_streams_writable(om_or_circ_t *circ, void *arg); /* on_writable */

typedef struct {
    uint64_t refused_begin; /* BEGIN / RESOLVE no service claimed (END EXITPOLICY) */
    uint64_t streams;       /* streams opened for a service */
    uint64_t gated;         /* stream-opening cells the gate refused (or closed the circuit) */
} om_or_streams_stats_t;
void om_or_streams_stats(const om_or_streams_t *s, om_or_streams_stats_t *out);

#endif

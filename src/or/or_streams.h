/* or_streams.h — streams at the last hop of a circuit through this relay (tor-spec 6, 7):
 * BEGIN_DIR answered from the directory cache, BEGIN/RESOLVE served by the exit (or refused with
 * END EXITPOLICY when this relay is no exit), stream and circuit windows with authenticated SENDMEs
 * (proposal 289) in both directions, END and half-closed streams, limits per circuit. Installed as
 * the circuits' stream handler (om_or_circ_params_t). */
#ifndef OM_OR_OR_STREAMS_H
#define OM_OR_OR_STREAMS_H

#include "or/dircache.h"
#include "or/or_exit.h"
#include "or/or_circuit.h"

#define OM_OR_MAX_STREAMS_PER_CIRC 256

typedef struct om_or_streams om_or_streams_t;

/* dircache may be NULL (BEGIN_DIR is then refused with END NOTDIRECTORY); exit may be NULL (not
 * an exit: BEGIN and RESOLVE get END EXITPOLICY). */
om_or_streams_t *om_or_streams_new(om_dircache_t *dircache, om_or_exit_t *exit);
void om_or_streams_free(om_or_streams_t *s);
/* Hooks for om_or_circ_params_t (arg = the om_or_streams_t). */
int om_or_streams_handle(om_or_circ_t *circ, const om_relay_header_t *hdr, const uint8_t *body,
                         bool early, void *arg);
void om_or_streams_circ_free(om_or_circ_t *circ, void *arg);
void om_or_streams_writable(om_or_circ_t *circ, void *arg); /* on_writable */

typedef struct {
    uint64_t dir_requests, dir_bytes, refused_begin;
} om_or_streams_stats_t;
void om_or_streams_stats(const om_or_streams_t *s, om_or_streams_stats_t *out);

#endif

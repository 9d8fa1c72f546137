/* svc_dir.h — the BEGIN_DIR stream service: tor clients' directory requests over a circuit,
 * answered from the relay's directory cache (dircache.h) by reference. Registered in the stream
 * layer's service table (stream_service.h) by the relay when DirCache is 1. */
#ifndef OM_OR_SVC_DIR_H
#define OM_OR_SVC_DIR_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "or/dircache.h"
#include "or/stream_service.h"

struct event_base;

/* Directory streams open at once on one circuit (tor clients use one at a time). */
#define OM_SVC_DIR_MAX_PER_CIRC 8
/* A stream whose request is not complete this long after BEGIN_DIR, or whose answer has not
 * moved for this long (the client does not read), is closed (END TIMEOUT). */
#define OM_SVC_DIR_REQUEST_TIMEOUT_S 30
#define OM_SVC_DIR_IDLE_TIMEOUT_S    60

typedef struct om_svc_dir om_svc_dir_t;

/* base: for the timeout sweep (NULL: tests call om_svc_dir_sweep). */
om_svc_dir_t *om_svc_dir_new(struct event_base *base, om_dircache_t *dircache);
void om_svc_dir_free(om_svc_dir_t *v);
/* The service's table entry (for om_or_streams_add_service). */
void om_svc_dir_service(om_svc_dir_t *v, om_stream_service_t *out);
/* Close the streams past their timeouts (run every 5 s from the loop). */
void om_svc_dir_sweep(om_svc_dir_t *v);
/* Tests: the clock of the timeouts (NULL: time()). */
void om_svc_dir_set_clock(om_svc_dir_t *v, time_t (*now)(void));

/* For MaxMemInQueues (or_oom.h; arg: the service): the bytes the directory streams hold (the
 * shared document blobs once, each stream's own request and answer), and closing the stream
 * holding the most (bytes freed; 0: none open). */
size_t om_svc_dir_pending_bytes(void *arg);
size_t om_svc_dir_reclaim(void *arg);

typedef struct {
    uint64_t requests, bytes, refused, timeouts, reclaimed;
    unsigned streams; /* open now */
} om_svc_dir_stats_t;
void om_svc_dir_stats(const om_svc_dir_t *v, om_svc_dir_stats_t *out);

#endif

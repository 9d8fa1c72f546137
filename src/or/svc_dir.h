/* svc_dir.h — the BEGIN_DIR stream service: tor clients' directory requests over a circuit,
 * answered from the relay's directory cache (dircache.h). Registered in the stream layer's
 * service table (stream_service.h) by the relay when DirCache is 1. */
#ifndef OM_OR_SVC_DIR_H
#define OM_OR_SVC_DIR_H

#include <stdint.h>

#include "or/dircache.h"
#include "or/stream_service.h"

typedef struct om_svc_dir om_svc_dir_t;

om_svc_dir_t *om_svc_dir_new(om_dircache_t *dircache);
void om_svc_dir_free(om_svc_dir_t *v);
/* The service's table entry (for om_or_streams_add_service). */
void om_svc_dir_service(om_svc_dir_t *v, om_stream_service_t *out);

typedef struct {
    uint64_t requests, bytes;
} om_svc_dir_stats_t;
void om_svc_dir_stats(const om_svc_dir_t *v, om_svc_dir_stats_t *out);

#endif

/* or_oom.h — the relay's MaxMemInQueues over everything a peer can make it hold (tor's
 * cell_queues_check_size / circuits_handle_oom): sources of memory (the cell queues of
 * or_sched.h, the links' buffers, the directory streams' pending answers, ...) each say how many
 * bytes they hold and can free their worst item. A check — every OM_OR_OOM_CHECK_MS, and on the
 * next loop turn when the scheduler finds the total over the limit — frees items, largest source
 * first, until the total is under 90% of the limit. */
#ifndef OM_OR_OR_OOM_H
#define OM_OR_OR_OOM_H

#include <stddef.h>
#include <stdint.h>

#include "core/linkmgr.h"
#include "or/or_sched.h"

struct event_base;

#define OM_OR_OOM_CHECK_MS    250
#define OM_OR_OOM_SOURCES_MAX 8

typedef struct {
    const char *name;             /* "cells", "links", "dir" (for logs) */
    size_t (*bytes)(void *arg);   /* held now */
    size_t (*reclaim)(void *arg); /* free the worst item: bytes freed, 0 if none */
    void *arg;
} om_or_mem_source_t;

typedef struct om_or_oom om_or_oom_t;

/* base NULL: no timer (tests call om_or_oom_check). */
om_or_oom_t *om_or_oom_new(struct event_base *base, uint64_t max_bytes);
void om_or_oom_free(om_or_oom_t *o);
int om_or_oom_add(om_or_oom_t *o, const om_or_mem_source_t *src);
/* The usual sources: the scheduler's cell queues (first: it also gets om_or_sched_set_budget so
 * a queued cell that puts the total over the limit asks for a check), every link's buffers. */
int om_or_oom_add_sched(om_or_oom_t *o, om_or_sched_t *s);
int om_or_oom_add_links(om_or_oom_t *o, om_linkmgr_t *m);
/* Over the limit: free items until under 90% of it. Returns the bytes freed. */
size_t om_or_oom_check(om_or_oom_t *o);
/* Check on the next loop turn (safe inside any callback). */
void om_or_oom_request(om_or_oom_t *o);
/* The bytes every source held at the last check (or now, if src is -1: all, summed now). */
size_t om_or_oom_total(om_or_oom_t *o);
/* Bytes held, at the last check, by every source but the first (the cell queues), for
 * om_or_sched_set_budget. */
size_t om_or_oom_other(void *o);
/* om_or_sched_set_budget's over hook: om_or_oom_request. */
void om_or_oom_over(void *o);

typedef struct {
    uint64_t checks, over, reclaimed_items, reclaimed_bytes;
    size_t peak_total;
} om_or_oom_stats_t;
void om_or_oom_stats(const om_or_oom_t *o, om_or_oom_stats_t *out);

#endif

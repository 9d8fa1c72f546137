/* or_sched.h — the relay's cell scheduler: per-circuit cell queues on each outgoing link, used
 * only while that link is backlogged, served in order of each circuit's recent activity (an
 * exponentially weighted cell count, tor's CircuitPriorityHalflife "EWMA" circuit priority), so a
 * quiet (interactive) circuit's cells overtake a bulk transfer's; queue limits per circuit; and an
 * out-of-memory policy like tor's MaxMemInQueues: when all queues together pass the limit, the
 * circuits whose oldest queued cell waited longest are closed until they are back under it. */
#ifndef OM_OR_OR_SCHED_H
#define OM_OR_OR_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/channel.h"

#define OM_OR_QUEUE_MAX_CELLS  50000       /* tor's circ_max_cell_queue_size default */
#define OM_OR_QUEUE_HIGH       256         /* tor's CELL_QUEUE_HIGHWATER_SIZE: stop packaging */
#define OM_OR_QUEUE_LOW        128         /* tor's CELL_QUEUE_LOWWATER_SIZE: resume */
#define OM_OR_EWMA_HALFLIFE_MS 30000       /* tor's CircuitPriorityHalflifeMsec default */
#define OM_OR_LINK_HIGH_WATER  (64 * 1024) /* link output above this: queue and schedule */

typedef struct om_or_sched om_or_sched_t;
typedef struct om_or_cellq om_or_cellq_t;

/* A queue that went above OM_OR_QUEUE_HIGH drained to OM_OR_QUEUE_LOW (owner, arg). */
typedef void (*om_or_cellq_drain_fn)(void *owner, void *arg);
/* The owner closes a circuit the OOM policy picked (its queues are cleared by then). */
typedef void (*om_or_sched_oom_fn)(void *circ, void *arg);

/* max_queued_bytes: MaxMemInQueues (0: 3/4 of physical memory, at most 8 GB, like tor). */
om_or_sched_t *om_or_sched_new(uint64_t max_queued_bytes, om_or_sched_oom_fn oom, void *arg);
void om_or_sched_free(om_or_sched_t *s);

/* A queue of cells from one circuit (owner: an opaque pointer given back to the OOM callback)
 * towards one link. */
om_or_cellq_t *om_or_cellq_new(om_or_sched_t *s, void *owner);
void om_or_cellq_free(om_or_cellq_t *q); /* drops what it still holds */
/* Send a cell on chan through q: at once if q is empty and chan is not backlogged, else queued
 * (in order) and sent as the link drains. Returns 0, or -1 if q is full (the circuit must be
 * closed: its next hop is not reading). */
int om_or_cellq_send(om_or_cellq_t *q, om_channel_t *chan, const om_cell_t *cell);
void om_or_cellq_set_drain_cb(om_or_cellq_t *q, om_or_cellq_drain_fn fn, void *arg);
/* Cells waiting in q. */
unsigned om_or_cellq_len(const om_or_cellq_t *q);
/* The link went away: drop q's cells for it. */
void om_or_cellq_clear(om_or_cellq_t *q);
/* Hook for om_channel_set_drain_cb (arg: the scheduler). */
void om_or_sched_link_drained(om_channel_t *chan, void *arg);
/* Forget a closed link. */
void om_or_sched_link_closed(om_or_sched_t *s, om_channel_t *chan);

typedef struct {
    uint64_t queued_cells, max_queued_cells, cells_sent_from_queues, oom_kills, full_kills;
} om_or_sched_stats_t;
void om_or_sched_stats(const om_or_sched_t *s, om_or_sched_stats_t *out);

/* The relay's whole memory budget (or_oom.h): the limit, the bytes the cell queues hold, and
 * closing the circuit whose oldest queued cell waited longest (bytes freed; 0: no queued cell). */
uint64_t om_or_sched_max_bytes(const om_or_sched_t *s);
size_t om_or_sched_queued_bytes(const om_or_sched_t *s);
size_t om_or_sched_kill_oldest(om_or_sched_t *s);
/* Count other memory against the limit too: after a cell is queued, if the queues plus
 * other(arg) pass it, over(arg) runs (it must not close links or circuits at once: the caller
 * is inside a send; the queues alone over the limit still close circuits at once). */
void om_or_sched_set_budget(om_or_sched_t *s, size_t (*other)(void *arg), void (*over)(void *arg),
                            void *arg);

/* Bytes one queued cell counts against max_queued_bytes. */
size_t om_or_sched_cell_cost(void);
/* Tests: the clock (microseconds) for EWMA decay and the age of queued cells, instead of
 * om_now_usec; NULL restores it. */
void om_or_sched_set_clock(om_or_sched_t *s, uint64_t (*now_usec)(void *arg), void *arg);

#endif

/* or_sched.c — per-circuit cell queues on backlogged links, served lowest-EWMA first (tor's
 * circuit priority), with a per-queue limit, a drain notification for the circuit's own packaging
 * (an exit stops reading from servers while its queue is long), and the MaxMemInQueues-style
 * out-of-memory policy (close the circuits holding the oldest queued cells). */
#include "or/or_sched.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

#define BURST_CELLS 8 /* cells sent from one queue before choosing again */

typedef struct qcell {
    struct qcell *next;
    uint64_t enq_usec;
    om_cell_t cell;
} qcell_t;

typedef struct link_state {
    struct link_state *next;
    om_channel_t *chan;
    om_or_cellq_t *active; /* queues holding cells for this link */
} link_state_t;

struct om_or_cellq {
    om_or_sched_t *s;
    void *owner;
    om_channel_t *chan; /* the link the queued cells are for */
    link_state_t *ls;   /* its state, while active */
    qcell_t *head, *tail;
    unsigned n;
    double ewma; /* decayed cell count at ewma_usec */
    uint64_t ewma_usec;
    struct om_or_cellq *anext, *aprev;
    bool active;
    om_or_cellq_drain_fn on_drain;
    void *drain_arg;
    bool above_high; /* crossed OM_OR_QUEUE_HIGH: tell the owner when it falls below LOW */
};

struct om_or_sched {
    uint64_t max_bytes;
    om_or_sched_oom_fn oom;
    void *oom_arg;
    link_state_t *links;
    om_or_sched_stats_t st;
    uint64_t (*clock)(void *arg); /* NULL: om_now_usec */
    void *clock_arg;
    size_t (*other)(void *arg); /* memory held elsewhere (om_or_sched_set_budget) */
    void (*over)(void *arg);
    void *budget_arg;
};

static uint64_t sched_now(const om_or_sched_t *s)
{
    return s->clock ? s->clock(s->clock_arg) : om_now_usec();
}

static uint64_t default_max_bytes(void)
{
    /* tor: 3/4 of physical memory, at most 8 GB (MaxMemInQueues 0). */
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    uint64_t total = pages > 0 && psz > 0 ? (uint64_t)pages * (uint64_t)psz : (1ull << 31);
    uint64_t m = total / 4 * 3;
    return m > (8ull << 30) ? (8ull << 30) : m;
}

om_or_sched_t *om_or_sched_new(uint64_t max_queued_bytes, om_or_sched_oom_fn oom, void *arg)
{
    om_or_sched_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->max_bytes = max_queued_bytes ? max_queued_bytes : default_max_bytes();
    s->oom = oom;
    s->oom_arg = arg;
    return s;
}

void om_or_sched_free(om_or_sched_t *s)
{
    if (!s) return;
    while (s->links) {
        link_state_t *l = s->links;
        s->links = l->next;
        free(l);
    }
    free(s);
}

void om_or_sched_stats(const om_or_sched_t *s, om_or_sched_stats_t *out)
{
    *out = s->st;
}

size_t om_or_sched_cell_cost(void)
{
    return sizeof(qcell_t);
}

void om_or_sched_set_clock(om_or_sched_t *s, uint64_t (*now_usec)(void *arg), void *arg)
{
    s->clock = now_usec;
    s->clock_arg = arg;
}

static link_state_t *link_find(om_or_sched_t *s, om_channel_t *chan, bool create)
{
    for (link_state_t *l = s->links; l; l = l->next)
        if (l->chan == chan) return l;
    if (!create) return NULL;
    link_state_t *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->chan = chan;
    l->next = s->links;
    s->links = l;
    om_channel_set_drain_cb(chan, om_or_sched_link_drained, s);
    return l;
}

/* ---------------------------------------------------------------- EWMA */

static double ewma_now(const om_or_cellq_t *q, uint64_t now)
{
    if (now <= q->ewma_usec) return q->ewma;
    double dt_ms = (double)(now - q->ewma_usec) / 1000.0;
    return q->ewma * exp2(-dt_ms / OM_OR_EWMA_HALFLIFE_MS);
}

static void ewma_count(om_or_cellq_t *q, uint64_t now, unsigned cells)
{
    q->ewma = ewma_now(q, now) + cells;
    q->ewma_usec = now;
}

/* ---------------------------------------------------------------- queues */

om_or_cellq_t *om_or_cellq_new(om_or_sched_t *s, void *owner)
{
    om_or_cellq_t *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    q->s = s;
    q->owner = owner;
    return q;
}

void om_or_cellq_set_drain_cb(om_or_cellq_t *q, om_or_cellq_drain_fn fn, void *arg)
{
    q->on_drain = fn;
    q->drain_arg = arg;
}

unsigned om_or_cellq_len(const om_or_cellq_t *q)
{
    return q ? q->n : 0;
}

static void deactivate(om_or_cellq_t *q)
{
    if (!q->active) return;
    if (q->aprev)
        q->aprev->anext = q->anext;
    else
        q->ls->active = q->anext;
    if (q->anext) q->anext->aprev = q->aprev;
    q->anext = q->aprev = NULL;
    q->active = false;
    q->ls = NULL;
}

void om_or_cellq_clear(om_or_cellq_t *q)
{
    if (!q) return;
    deactivate(q);
    while (q->head) {
        qcell_t *c = q->head;
        q->head = c->next;
        free(c);
    }
    q->s->st.queued_cells -= q->n;
    q->tail = NULL;
    q->n = 0;
    q->chan = NULL;
    q->above_high = false;
}

void om_or_cellq_free(om_or_cellq_t *q)
{
    if (!q) return;
    om_or_cellq_clear(q);
    free(q);
}

/* Send up to max cells from q's head; returns how many. */
static unsigned send_from(om_or_cellq_t *q, unsigned max, uint64_t now)
{
    unsigned sent = 0;
    while (q->head && sent < max) {
        qcell_t *c = q->head;
        q->head = c->next;
        if (!q->head) q->tail = NULL;
        q->n--;
        q->s->st.queued_cells--;
        om_channel_send_cell(q->chan, &c->cell);
        free(c);
        sent++;
    }
    q->s->st.cells_sent_from_queues += sent;
    ewma_count(q, now, sent);
    return sent;
}

static void notify_drained(om_or_cellq_t *q)
{
    if (q->above_high && q->n <= OM_OR_QUEUE_LOW) {
        q->above_high = false;
        if (q->on_drain) q->on_drain(q->owner, q->drain_arg);
    }
}

/* Serve the link's queues, quietest circuit first, while the link takes more. */
static void flush_link(om_or_sched_t *s, link_state_t *l)
{
    uint64_t now = sched_now(s);
    while (l->active && om_channel_outbuf_len(l->chan) < OM_OR_LINK_HIGH_WATER) {
        om_or_cellq_t *best = NULL;
        double best_v = 0;
        for (om_or_cellq_t *q = l->active; q; q = q->anext) {
            double v = ewma_now(q, now);
            if (!best || v < best_v) {
                best = q;
                best_v = v;
            }
        }
        send_from(best, BURST_CELLS, now);
        if (!best->n) deactivate(best);
        notify_drained(best); /* may close the circuit and free best */
    }
}

void om_or_sched_link_drained(om_channel_t *chan, void *arg)
{
    om_or_sched_t *s = arg;
    link_state_t *l = link_find(s, chan, false);
    if (l) flush_link(s, l);
}

void om_or_sched_link_closed(om_or_sched_t *s, om_channel_t *chan)
{
    for (link_state_t **pp = &s->links; *pp; pp = &(*pp)->next)
        if ((*pp)->chan == chan) {
            link_state_t *l = *pp;
            while (l->active)
                om_or_cellq_clear(l->active);
            *pp = l->next;
            free(l);
            return;
        }
}

uint64_t om_or_sched_max_bytes(const om_or_sched_t *s)
{
    return s->max_bytes;
}

size_t om_or_sched_queued_bytes(const om_or_sched_t *s)
{
    return (size_t)s->st.queued_cells * om_or_sched_cell_cost();
}

void om_or_sched_set_budget(om_or_sched_t *s, size_t (*other)(void *arg), void (*over)(void *arg),
                            void *arg)
{
    s->other = other;
    s->over = over;
    s->budget_arg = arg;
}

size_t om_or_sched_kill_oldest(om_or_sched_t *s)
{
    om_or_cellq_t *oldest = NULL;
    for (link_state_t *l = s->links; l; l = l->next)
        for (om_or_cellq_t *q = l->active; q; q = q->anext)
            if (q->head && (!oldest || q->head->enq_usec < oldest->head->enq_usec)) oldest = q;
    if (!oldest) return 0;
    s->st.oom_kills++;
    om_warn("Out of memory for queued cells (%llu cells, limit %llu bytes): closing the "
            "circuit whose cells waited longest",
            (unsigned long long)s->st.queued_cells, (unsigned long long)s->max_bytes);
    void *owner = oldest->owner;
    size_t freed = oldest->n * om_or_sched_cell_cost();
    om_or_cellq_clear(oldest);
    if (s->oom) s->oom(owner, s->oom_arg);
    return freed;
}

/* MaxMemInQueues: close the circuits whose oldest queued cell is oldest until the queues hold
 * less than 90% of the limit (tor's circuits_handle_oom). */
static void handle_oom(om_or_sched_t *s)
{
    while (om_or_sched_queued_bytes(s) > s->max_bytes / 10 * 9)
        if (!om_or_sched_kill_oldest(s)) return;
}

int om_or_cellq_send(om_or_cellq_t *q, om_channel_t *chan, const om_cell_t *cell)
{
    om_or_sched_t *s = q->s;
    uint64_t now = sched_now(s);
    if (q->n && q->chan != chan) om_or_cellq_clear(q); /* the circuit moved to another link */
    if (!q->n && om_channel_outbuf_len(chan) < OM_OR_LINK_HIGH_WATER) {
        om_channel_send_cell(chan, cell);
        ewma_count(q, now, 1);
        return 0;
    }
    if (q->n >= OM_OR_QUEUE_MAX_CELLS) {
        s->st.full_kills++;
        return -1;
    }
    qcell_t *c = malloc(sizeof *c);
    if (!c) return -1;
    c->next = NULL;
    c->enq_usec = now;
    c->cell = *cell;
    if (q->tail)
        q->tail->next = c;
    else
        q->head = c;
    q->tail = c;
    q->n++;
    q->chan = chan;
    if (q->n >= OM_OR_QUEUE_HIGH) q->above_high = true;
    if (++s->st.queued_cells > s->st.max_queued_cells) s->st.max_queued_cells = s->st.queued_cells;
    if (!q->active) {
        link_state_t *l = link_find(s, chan, true);
        if (!l) return -1;
        q->ls = l;
        q->active = true;
        q->aprev = NULL;
        q->anext = l->active;
        if (l->active) l->active->aprev = q;
        l->active = q;
    }
    if (om_or_sched_queued_bytes(s) > s->max_bytes) {
        handle_oom(s); /* may have closed q's circuit: touch nothing after it */
        return 0;
    }
    if (s->over && om_or_sched_queued_bytes(s) + s->other(s->budget_arg) > s->max_bytes)
        s->over(s->budget_arg); /* a check from the loop (or_oom.c) */
    /* The link may have room already (our queue was non-empty for ordering only). */
    if (om_channel_outbuf_len(chan) < OM_OR_LINK_HIGH_WATER) flush_link(s, q->ls);
    return 0;
}

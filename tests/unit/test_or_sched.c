/* test_or_sched.c — unit tests for or_sched.c, the relay's cell scheduler, on real channels over
 * an in-memory transport whose output the test takes cell by cell (so a link stays backlogged
 * until the test drains it) and on an injected clock: a quiet circuit's cells overtake a bulk
 * circuit's and order within a circuit is kept; equal circuits share a link; the 30 s EWMA
 * half-life; the 256/128 packaging water marks; the 50000-cell queue limit; the MaxMemInQueues
 * policy (oldest queued cell first, until under the limit); freeing queues that hold cells. */
#include "core/channel_int.h"
#include "core/channel.h"
#include "mem_link.h"
#include "or/or_sched.h"
#include "test.h"

#define WIRE       OM_CELL_LEN_WIDE /* link protocol 5 */
#define BURST      8                /* or_sched.c's BURST_CELLS: cells per turn of a queue */
#define FILLER     0x7fff           /* circuit ID of cells put on a link around the scheduler */
#define SEC        1000000ull
#define HALF_LIFE  ((uint64_t)OM_OR_EWMA_HALFLIFE_MS * 1000u)
#define LINK_CELLS ((OM_OR_LINK_HIGH_WATER + WIRE - 1) / WIRE) /* cells that make a link busy */
#define TLS_LOW    (32 * 1024) /* transport_tls.c's TLS_OUT_LOW_WATER */

/* ---------------------------------------------------------------- clock */

static uint64_t now_usec;

static uint64_t test_clock(void *arg)
{
    (void)arg;
    return now_usec;
}

/* ---------------------------------------------------------------- cells */

/* A relay cell whose every byte follows from (circuit, sequence number). */
static void make_cell(om_cell_t *c, uint32_t circ, uint32_t seq)
{
    memset(c, 0, sizeof *c);
    c->circ_id = circ;
    c->command = OM_CELL_RELAY;
    c->payload[0] = (uint8_t)(seq >> 24);
    c->payload[1] = (uint8_t)(seq >> 16);
    c->payload[2] = (uint8_t)(seq >> 8);
    c->payload[3] = (uint8_t)seq;
    for (size_t i = 4; i < OM_CELL_PAYLOAD_LEN; i++)
        c->payload[i] = (uint8_t)(circ * 97u + seq * 31u + i * 7u);
}

static uint32_t cell_seq(const om_cell_t *c)
{
    return (uint32_t)c->payload[0] << 24 | (uint32_t)c->payload[1] << 16 |
           (uint32_t)c->payload[2] << 8 | c->payload[3];
}

/* ---------------------------------------------------------------- an in-memory link */

typedef struct {
    uint32_t circ, seq;
} left_t;

/* mem_link.h's link, and what left it. */
typedef struct {
    om_mem_link_t io;
    left_t *left; /* the cells that left the link, in order */
    size_t n_left, cap;
    unsigned bad; /* cells that did not leave as they were sent */
    uint32_t filler_seq;
} link_t;

/* An open channel on its own event base (the test's side of the link is the initiator). */
static bool link_open(link_t *l)
{
    memset(l, 0, sizeof *l);
    return om_mem_link_open(&l->io, NULL, OM_CHAN_INITIATOR, NULL);
}

static void link_close(link_t *l)
{
    om_mem_link_close(&l->io);
    free(l->left);
    memset(l, 0, sizeof *l);
}

static size_t link_queued(link_t *l)
{
    return om_mem_link_queued(&l->io);
}

/* Take up to n cells off the link as the peer would read them, checking each is byte for byte
 * the cell make_cell gave; after each the channel hears its output drained if it is at most
 * io.low_water bytes, as the TLS transport does (by default after every cell, so the scheduler
 * tops the link up to OM_OR_LINK_HIGH_WATER whenever it can). Returns how many were taken. */
static size_t link_pop(link_t *l, size_t n)
{
    size_t got = 0;
    om_cell_t c, want;
    int r;
    while (got < n && (r = om_mem_link_take(&l->io, &c)) != 0) {
        if (r < 0) l->bad++;
        make_cell(&want, c.circ_id, cell_seq(&c));
        if (c.command != want.command || memcmp(c.payload, want.payload, sizeof c.payload))
            l->bad++;
        if (l->n_left == l->cap) {
            size_t cap = l->cap ? l->cap * 2 : 1024;
            left_t *p = realloc(l->left, cap * sizeof *p);
            if (!p) abort();
            l->left = p;
            l->cap = cap;
        }
        l->left[l->n_left++] = (left_t){c.circ_id, cell_seq(&c)};
        got++;
    }
    return got;
}

static void link_pop_all(link_t *l)
{
    while (link_pop(l, 1))
        ;
}

/* Make the link busy with cells sent around the scheduler (circuit FILLER). */
static void link_fill(link_t *l)
{
    om_cell_t c;
    while (om_channel_outbuf_len(l->io.chan) < OM_OR_LINK_HIGH_WATER) {
        make_cell(&c, FILLER, l->filler_seq++);
        om_channel_send_cell(l->io.chan, &c);
    }
}

/* How many of circ's cells left the link; -1 unless they are seq first, first+1, ... in order. */
static long left_fifo(const link_t *l, uint32_t circ, uint32_t first)
{
    long n = 0;
    for (size_t i = 0; i < l->n_left; i++)
        if (l->left[i].circ == circ) {
            if (l->left[i].seq != first + (uint32_t)n) return -1;
            n++;
        }
    return n;
}

/* Index of the first cell of circ that left, or -1. */
static long left_first(const link_t *l, uint32_t circ)
{
    for (size_t i = 0; i < l->n_left; i++)
        if (l->left[i].circ == circ) return (long)i;
    return -1;
}

/* A scheduler on the test clock (set to 1 s) and an open link for it; NULL on failure. */
static om_or_sched_t *start(link_t *l, uint64_t max_bytes, om_or_sched_oom_fn oom)
{
    now_usec = 1 * SEC;
    om_or_sched_t *s = om_or_sched_new(max_bytes, oom, NULL);
    if (!link_open(l) || !s) {
        om_or_sched_free(s);
        return NULL;
    }
    om_or_sched_set_clock(s, test_clock, NULL);
    return s;
}

static void finish(om_or_sched_t *s, link_t *l)
{
    om_or_sched_free(s);
    link_close(l);
}

static int send_one(om_or_cellq_t *q, link_t *l, uint32_t circ, uint32_t seq)
{
    om_cell_t c;
    make_cell(&c, circ, seq);
    return om_or_cellq_send(q, l->io.chan, &c);
}

/* Send cells seq first.. first+n-1 of circ through q; the number accepted (0 returned). */
static unsigned send_n(om_or_cellq_t *q, link_t *l, uint32_t circ, uint32_t first, unsigned n)
{
    unsigned ok = 0;
    for (unsigned i = 0; i < n; i++)
        ok += send_one(q, l, circ, first + i) == 0;
    return ok;
}

/* Send n cells through q while the link is idle (each goes out at once and is taken off the
 * link), which is how a circuit builds up its EWMA. False if one was queued instead. */
static bool send_idle(om_or_cellq_t *q, link_t *l, uint32_t circ, uint32_t first, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (send_one(q, l, circ, first + i) != 0 || om_or_cellq_len(q) != 0) return false;
        link_pop_all(l);
    }
    l->n_left = 0;
    return true;
}

/* ---------------------------------------------------------------- EWMA: who goes first */

enum { BULK = 1, QUIET = 2, CIRC_A = 3, CIRC_B = 4, CIRC_C = 5, CIRC_D = 6, CIRC_X = 7 };

/* A bulk circuit fills the link and queues the rest of 1000 cells; while they drain, a quiet
 * circuit sends 20 cells: they leave right after what is already on the link, ahead of all the
 * bulk circuit's queued cells, and each circuit's cells leave in the order they were sent. */
static void quiet_overtakes_bulk(size_t low_water)
{
    link_t l;
    om_or_sched_t *s = start(&l, 1ull << 30, NULL);
    CHECK(s);
    l.io.low_water = low_water;
    om_or_cellq_t *bulk = om_or_cellq_new(s, NULL), *quiet = om_or_cellq_new(s, NULL);
    CHECK(bulk && quiet);

    CHECK_RET(send_n(bulk, &l, BULK, 0, 1000), 1000);
    /* The first cells went out at once, until the link held OM_OR_LINK_HIGH_WATER bytes. */
    CHECK_EQ_INT(link_queued(&l), LINK_CELLS);
    CHECK_EQ_INT(om_or_cellq_len(bulk), 1000 - LINK_CELLS);

    now_usec += SEC / 10;
    CHECK_RET(link_pop(&l, 300), 300);
    while (om_channel_outbuf_len(l.io.chan) < OM_OR_LINK_HIGH_WATER) /* until topped up */
        CHECK_RET(link_pop(&l, 1), 1);
    size_t ahead = l.n_left + link_queued(&l); /* bulk cells already given to the link */
    size_t bulk_waiting = om_or_cellq_len(bulk);
    CHECK_EQ_INT(ahead + bulk_waiting, 1000);
    CHECK(bulk_waiting > 500);
    CHECK_RET(send_n(quiet, &l, QUIET, 0, 20), 20);
    CHECK_EQ_INT(om_or_cellq_len(quiet), 20); /* queued behind the busy link */

    now_usec += SEC / 10;
    link_pop_all(&l);
    CHECK_EQ_INT(l.bad, 0);
    CHECK_EQ_INT(l.n_left, 1020);
    for (size_t i = 0; i < l.n_left; i++) {
        left_t want = i < ahead        ? (left_t){BULK, (uint32_t)i}
                      : i < ahead + 20 ? (left_t){QUIET, (uint32_t)(i - ahead)}
                                       : (left_t){BULK, (uint32_t)(i - 20)};
        CHECK_MSG(l.left[i].circ == want.circ && l.left[i].seq == want.seq,
                  "cell %zu that left: circuit %u seq %u, expected circuit %u seq %u", i,
                  l.left[i].circ, l.left[i].seq, want.circ, want.seq);
    }
    CHECK_EQ_INT(om_or_cellq_len(bulk), 0);
    om_or_sched_stats_t st;
    om_or_sched_stats(s, &st);
    CHECK_EQ_INT(st.queued_cells, 0);
    CHECK_EQ_INT(st.cells_sent_from_queues, 1000 - LINK_CELLS + 20);

    om_or_cellq_free(bulk);
    om_or_cellq_free(quiet);
    finish(s, &l);
}

static void test_quiet_circuit_overtakes_bulk(void)
{
    quiet_overtakes_bulk(SIZE_MAX);
    if (om_test_failed_flag) return;
    quiet_overtakes_bulk(TLS_LOW);
}

/* With the TLS transport's low-water mark the link can have room while cells still wait (no
 * drain callback yet): a cell the circuit sends then must not overtake its own queued cells ... */
static void test_fifo_while_link_has_room(void)
{
    link_t l;
    om_or_sched_t *s = start(&l, 1ull << 30, NULL);
    CHECK(s);
    l.io.low_water = TLS_LOW;
    om_or_cellq_t *q = om_or_cellq_new(s, NULL);
    CHECK(q);
    link_fill(&l);
    CHECK_RET(send_n(q, &l, CIRC_A, 0, 200), 200);
    CHECK_RET(link_pop(&l, 40), 40);
    CHECK(om_channel_outbuf_len(l.io.chan) < OM_OR_LINK_HIGH_WATER);
    CHECK(om_channel_outbuf_len(l.io.chan) > TLS_LOW);
    CHECK_EQ_INT(om_or_cellq_len(q), 200); /* no drain reported yet */
    CHECK_RET(send_one(q, &l, CIRC_A, 200), 0);
    /* ... and the link's room is used at once, not at the next drain report. */
    CHECK(om_channel_outbuf_len(l.io.chan) >= OM_OR_LINK_HIGH_WATER);
    CHECK(om_or_cellq_len(q) < 200);
    link_pop_all(&l);
    CHECK_EQ_INT(l.bad, 0);
    CHECK_EQ_INT(left_fifo(&l, CIRC_A, 0), 201);
    om_or_cellq_free(q);
    finish(s, &l);
}

/* Two circuits with the same history and 200 queued cells each take turns: at no point has one
 * sent more than one burst more than the other. */
static void test_equal_circuits_share_link(void)
{
    link_t l;
    om_or_sched_t *s = start(&l, 1ull << 30, NULL);
    CHECK(s);
    om_or_cellq_t *a = om_or_cellq_new(s, NULL), *b = om_or_cellq_new(s, NULL);
    CHECK(a && b);
    link_fill(&l);
    CHECK_RET(send_n(a, &l, CIRC_A, 0, 200), 200);
    CHECK_RET(send_n(b, &l, CIRC_B, 0, 200), 200);
    link_pop_all(&l);
    CHECK_EQ_INT(l.bad, 0);
    CHECK_EQ_INT(left_fifo(&l, CIRC_A, 0), 200);
    CHECK_EQ_INT(left_fifo(&l, CIRC_B, 0), 200);
    long na = 0, nb = 0;
    for (size_t i = 0; i < l.n_left; i++) {
        na += l.left[i].circ == CIRC_A;
        nb += l.left[i].circ == CIRC_B;
        CHECK_MSG(labs(na - nb) <= BURST, "after %zu cells: %ld from A, %ld from B", i, na, nb);
    }
    om_or_cellq_free(a);
    om_or_cellq_free(b);
    finish(s, &l);
}

/* ---------------------------------------------------------------- EWMA decay */

/* Circuit B sends b_cells while the link is idle at t0, circuit X sends x_cells at t0 + idle;
 * then the link is busy and B queues 5 cells, X x_queued (B's queue is activated first, so X's
 * is the first in the link's list). Returns the circuit whose queued cells left first, having
 * checked that all of one circuit's queued cells left before any of the other's; 0 if anything
 * else happened. */
static uint32_t first_served(unsigned b_cells, uint64_t idle, unsigned x_cells, unsigned x_queued)
{
    uint32_t first = 0;
    link_t l;
    om_or_sched_t *s = start(&l, 1ull << 30, NULL);
    if (!s) return 0;
    om_or_cellq_t *b = om_or_cellq_new(s, NULL), *x = om_or_cellq_new(s, NULL);
    if (b && x && send_idle(b, &l, CIRC_B, 0, b_cells)) {
        now_usec += idle;
        if (send_idle(x, &l, CIRC_X, 0, x_cells)) {
            link_fill(&l);
            send_n(b, &l, CIRC_B, b_cells, 5);
            send_n(x, &l, CIRC_X, x_cells, x_queued);
            link_pop_all(&l);
            long fb = left_first(&l, CIRC_B), fx = left_first(&l, CIRC_X);
            bool whole = left_fifo(&l, CIRC_B, b_cells) == 5 &&
                         left_fifo(&l, CIRC_X, x_cells) == (long)x_queued;
            if (l.bad == 0 && whole && fb >= 0 && fx >= 0) {
                if (fx == fb + 5) first = CIRC_B;
                if (fb == fx + (long)x_queued) first = CIRC_X;
            }
        }
    }
    om_or_cellq_free(b);
    om_or_cellq_free(x);
    finish(s, &l);
    return first;
}

/* One half-life (30 s) after B sent 400 cells its EWMA is 200: a circuit that just sent 199
 * cells goes first, one that just sent 201 goes after B. */
static void test_half_life(void)
{
    CHECK_RET(first_served(400, HALF_LIFE, 199, 1), CIRC_X);
    CHECK_RET(first_served(400, HALF_LIFE, 201, 1), CIRC_B);
    /* Without the 30 s of decay, B's 400 count in full. */
    CHECK_RET(first_served(400, 0, 201, 1), CIRC_X);
    /* Nor is the half-life much longer: after two, B's 100 lose to 99, beat 101. */
    CHECK_RET(first_served(400, 2 * HALF_LIFE, 99, 1), CIRC_X);
    CHECK_RET(first_served(400, 2 * HALF_LIFE, 101, 1), CIRC_B);
}

/* A circuit that sent 5000 cells is still behind all 50 queued cells of a 100-cell circuit 10 s
 * later, but 10 minutes later its cells go first, exactly as a circuit's with no history do. */
static void test_busy_circuit_recovers(void)
{
    CHECK_RET(first_served(5000, 10 * SEC, 100, 50), CIRC_X);
    CHECK_RET(first_served(5000, 600 * SEC, 100, 50), CIRC_B);
    CHECK_RET(first_served(0, 600 * SEC, 100, 50), CIRC_B);
}

/* ---------------------------------------------------------------- water marks */

static int drain_calls;
static unsigned len_at_drain;
static void *drain_owner;

static void on_drain(void *owner, void *arg)
{
    drain_calls++;
    drain_owner = owner;
    len_at_drain = om_or_cellq_len(arg);
}

/* Queue n cells on a busy link and drain it cell by cell: the drain callback must have fired
 * exactly `fires` more times by the time the queue holds OM_OR_QUEUE_LOW cells, and never while
 * it holds more. */
static bool drain_and_watch(om_or_cellq_t *q, link_t *l, uint32_t first, unsigned n, int fires)
{
    int before = drain_calls;
    link_fill(l);
    if (send_n(q, l, CIRC_A, first, n) != n || drain_calls != before) return false;
    while (link_pop(l, 1)) {
        int want = om_or_cellq_len(q) > OM_OR_QUEUE_LOW ? 0 : fires;
        if (drain_calls - before != want) return false;
    }
    return om_or_cellq_len(q) == 0 && drain_calls - before == fires;
}

static void test_water_marks(void)
{
    link_t l;
    om_or_sched_t *s = start(&l, 1ull << 30, NULL);
    CHECK(s);
    static int owner;
    om_or_cellq_t *q = om_or_cellq_new(s, &owner);
    CHECK(q);
    om_or_cellq_set_drain_cb(q, on_drain, q);
    drain_calls = 0;

    /* 264 cells: down to 128 after 17 bursts of 8, where it must fire, not before. */
    CHECK(drain_and_watch(q, &l, 0, 264, 1));
    CHECK_EQ_INT(len_at_drain, OM_OR_QUEUE_LOW);
    CHECK(drain_owner == &owner);
    /* 255 never reached OM_OR_QUEUE_HIGH: the owner never stopped packaging, no callback. */
    CHECK(drain_and_watch(q, &l, 264, OM_OR_QUEUE_HIGH - 1, 0));
    /* Exactly OM_OR_QUEUE_HIGH is what om_or_circ_back_blocked stops at: it must be told. */
    CHECK(drain_and_watch(q, &l, 264 + 255, OM_OR_QUEUE_HIGH, 1));
    CHECK_EQ_INT(len_at_drain, OM_OR_QUEUE_LOW);
    /* 300: fires once at the first burst that leaves at most 128 (124). */
    CHECK(drain_and_watch(q, &l, 264 + 255 + 256, 300, 1));
    CHECK(len_at_drain <= OM_OR_QUEUE_LOW && len_at_drain > OM_OR_QUEUE_LOW - BURST);
    CHECK_EQ_INT(l.bad, 0);
    CHECK_EQ_INT(left_fifo(&l, CIRC_A, 0), 264 + 255 + 256 + 300);

    om_or_cellq_free(q);
    finish(s, &l);
}

/* ---------------------------------------------------------------- queue limit */

static void test_queue_limit(void)
{
    link_t l;
    om_or_sched_t *s = start(&l, 1ull << 30, NULL);
    CHECK(s);
    om_or_cellq_t *q = om_or_cellq_new(s, NULL);
    CHECK(q);
    link_fill(&l);
    for (uint32_t i = 0; i < OM_OR_QUEUE_MAX_CELLS; i++)
        CHECK_MSG(send_one(q, &l, CIRC_A, i) == 0, "cell %u refused", i);
    CHECK_EQ_INT(om_or_cellq_len(q), OM_OR_QUEUE_MAX_CELLS);
    CHECK_RET(send_one(q, &l, CIRC_A, OM_OR_QUEUE_MAX_CELLS), -1);
    CHECK_RET(send_one(q, &l, CIRC_A, OM_OR_QUEUE_MAX_CELLS), -1);
    CHECK_EQ_INT(om_or_cellq_len(q), OM_OR_QUEUE_MAX_CELLS);
    om_or_sched_stats_t st;
    om_or_sched_stats(s, &st);
    CHECK_EQ_INT(st.full_kills, 2);
    CHECK_EQ_INT(st.queued_cells, OM_OR_QUEUE_MAX_CELLS);
    CHECK_EQ_INT(st.oom_kills, 0);
    /* What was accepted leaves, in order; the refused cells never do. */
    link_pop_all(&l);
    CHECK_EQ_INT(l.bad, 0);
    CHECK_EQ_INT(left_fifo(&l, CIRC_A, 0), OM_OR_QUEUE_MAX_CELLS);
    om_or_cellq_free(q);
    finish(s, &l);
}

/* ---------------------------------------------------------------- out of memory */

/* A circuit as the OOM callback sees it: closing it frees its queue, as om_or_circ_close does. */
typedef struct {
    om_or_cellq_t *q;
} tcirc_t;

static tcirc_t *oom_victims[8];
static unsigned oom_len_seen[8];
static int oom_calls;

static void on_oom(void *owner, void *arg)
{
    tcirc_t *c = owner;
    (void)arg;
    if (oom_calls < 8) {
        oom_victims[oom_calls] = c;
        oom_len_seen[oom_calls] = om_or_cellq_len(c->q);
    }
    oom_calls++;
    om_or_cellq_free(c->q);
    c->q = NULL;
}

/* Limit: 100 queued cells. A (5 cells, the oldest), B (40), C (40), D (15) fill it on two busy
 * links; D's next cell passes it: A then B are closed (oldest queued cell first, not the
 * biggest queue nor the newest), which leaves 56 cells, under 90% of the limit, so C and D stay
 * and their cells all leave intact. */
static void test_oom_oldest_first(void)
{
    link_t l1, l2;
    om_or_sched_t *s = start(&l1, 100 * om_or_sched_cell_cost(), on_oom);
    CHECK(s);
    CHECK(link_open(&l2));
    tcirc_t a, b, c, d;
    c.q = om_or_cellq_new(s, &c); /* created first */
    a.q = om_or_cellq_new(s, &a);
    d.q = om_or_cellq_new(s, &d);
    b.q = om_or_cellq_new(s, &b);
    CHECK(a.q && b.q && c.q && d.q);
    oom_calls = 0;
    link_fill(&l1);
    link_fill(&l2);

    CHECK_RET(send_n(a.q, &l1, CIRC_A, 0, 5), 5);
    now_usec += SEC;
    CHECK_RET(send_n(b.q, &l2, CIRC_B, 0, 40), 40);
    now_usec += SEC;
    CHECK_RET(send_n(c.q, &l1, CIRC_C, 0, 40), 40);
    now_usec += SEC;
    CHECK_RET(send_n(d.q, &l2, CIRC_D, 0, 15), 15);
    CHECK_EQ_INT(oom_calls, 0); /* exactly at the limit */
    now_usec += SEC;
    CHECK_RET(send_one(d.q, &l2, CIRC_D, 15), 0);

    CHECK_EQ_INT(oom_calls, 2);
    CHECK(oom_victims[0] == &a);
    CHECK(oom_victims[1] == &b);
    CHECK_EQ_INT(oom_len_seen[0], 0); /* queues are cleared before the owner is told */
    CHECK_EQ_INT(oom_len_seen[1], 0);
    om_or_sched_stats_t st;
    om_or_sched_stats(s, &st);
    CHECK_EQ_INT(st.oom_kills, 2);
    CHECK_EQ_INT(st.queued_cells, 56);
    CHECK_EQ_INT(om_or_cellq_len(c.q), 40);
    CHECK_EQ_INT(om_or_cellq_len(d.q), 16);

    link_pop_all(&l1);
    link_pop_all(&l2);
    CHECK_EQ_INT(l1.bad + l2.bad, 0);
    CHECK_EQ_INT(left_fifo(&l1, CIRC_C, 0), 40);
    CHECK_EQ_INT(left_fifo(&l2, CIRC_D, 0), 16);
    CHECK_EQ_INT(left_fifo(&l1, CIRC_A, 0), 0);
    CHECK_EQ_INT(left_fifo(&l2, CIRC_B, 0), 0);
    CHECK_EQ_INT(l1.n_left + l2.n_left, 2 * LINK_CELLS + 56);

    om_or_cellq_free(c.q);
    om_or_cellq_free(d.q);
    finish(s, &l1);
    link_close(&l2);
}

/* The circuit whose cell passes the limit holds the oldest cells: it is closed (its queue freed)
 * inside its own om_or_cellq_send, which must touch nothing afterwards (ASan) and return 0. */
static void test_oom_closes_sender(void)
{
    link_t l;
    om_or_sched_t *s = start(&l, 100 * om_or_sched_cell_cost(), on_oom);
    CHECK(s);
    tcirc_t e, f;
    e.q = om_or_cellq_new(s, &e);
    f.q = om_or_cellq_new(s, &f);
    CHECK(e.q && f.q);
    oom_calls = 0;
    link_fill(&l);
    CHECK_RET(send_n(e.q, &l, CIRC_A, 0, 50), 50);
    now_usec += SEC;
    CHECK_RET(send_n(f.q, &l, CIRC_B, 0, 50), 50);
    now_usec += SEC;
    CHECK_RET(send_one(e.q, &l, CIRC_A, 50), 0);
    CHECK_EQ_INT(oom_calls, 1);
    CHECK(oom_victims[0] == &e && e.q == NULL);
    link_pop_all(&l);
    CHECK_EQ_INT(l.bad, 0);
    CHECK_EQ_INT(left_fifo(&l, CIRC_A, 0), 0);
    CHECK_EQ_INT(left_fifo(&l, CIRC_B, 0), 50);
    om_or_cellq_free(f.q);
    finish(s, &l);
}

/* ---------------------------------------------------------------- freeing */

/* Freeing a queue that holds cells (the middle one of three on a link) drops its cells only;
 * a closed link drops the cells queued for it; nothing leaks (the sanitizer build checks). */
static void test_free_with_cells(void)
{
    link_t l;
    om_or_sched_t *s = start(&l, 1ull << 30, NULL);
    CHECK(s);
    om_or_cellq_t *a = om_or_cellq_new(s, NULL), *b = om_or_cellq_new(s, NULL);
    om_or_cellq_t *c = om_or_cellq_new(s, NULL), *d = om_or_cellq_new(s, NULL);
    CHECK(a && b && c && d);
    link_fill(&l);
    CHECK_RET(send_n(a, &l, CIRC_A, 0, 30), 30);
    CHECK_RET(send_n(b, &l, CIRC_B, 0, 100), 100);
    CHECK_RET(send_n(c, &l, CIRC_C, 0, 30), 30);
    om_or_cellq_free(b);
    om_or_sched_stats_t st;
    om_or_sched_stats(s, &st);
    CHECK_EQ_INT(st.queued_cells, 60);
    link_pop_all(&l);
    CHECK_EQ_INT(l.bad, 0);
    CHECK_EQ_INT(left_fifo(&l, CIRC_A, 0), 30);
    CHECK_EQ_INT(left_fifo(&l, CIRC_B, 0), 0);
    CHECK_EQ_INT(left_fifo(&l, CIRC_C, 0), 30);

    /* The link closes with cells queued for it. */
    link_fill(&l);
    CHECK_RET(send_n(a, &l, CIRC_A, 30, 20), 20);
    CHECK_RET(send_n(d, &l, CIRC_D, 0, 40), 40);
    om_or_sched_link_closed(s, l.io.chan);
    CHECK_EQ_INT(om_or_cellq_len(a), 0);
    CHECK_EQ_INT(om_or_cellq_len(d), 0);
    om_or_sched_stats(s, &st);
    CHECK_EQ_INT(st.queued_cells, 0);

    /* A queue freed with cells in it just before the scheduler. */
    link_t l2;
    CHECK(link_open(&l2));
    link_fill(&l2);
    CHECK_RET(send_n(c, &l2, CIRC_C, 30, 25), 25);
    CHECK_EQ_INT(om_or_cellq_len(c), 25);
    om_or_cellq_free(a);
    om_or_cellq_free(c);
    om_or_cellq_free(d);
    finish(s, &l);
    link_close(&l2);
}

static const om_test_t tests[] = {
    OM_TEST(test_quiet_circuit_overtakes_bulk),
    OM_TEST(test_fifo_while_link_has_room),
    OM_TEST(test_equal_circuits_share_link),
    OM_TEST(test_half_life),
    OM_TEST(test_busy_circuit_recovers),
    OM_TEST(test_water_marks),
    OM_TEST(test_queue_limit),
    OM_TEST(test_oom_oldest_first),
    OM_TEST(test_oom_closes_sender),
    OM_TEST(test_free_with_cells),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("or_sched", tests, argc, argv);
}

/* test_conflux.c — conflux (conflux.h, proposal 329): the CONFLUX_LINK/LINKED and SWITCH body
 * codec (round trip, malformed bodies refused) and the set of multiplexed relay commands against
 * tor 0.4.9's conflux_should_multiplex; then sets of two circuits with congestion control built
 * through the fake relays (fake_relays.h): linking (LINK with one nonce and desired_ux 3, LINKED,
 * LINKED_ACK), an exit spreading a stream over both legs with SWITCH and out-of-order arrival
 * (bytes in order, circuit SENDMEs on the arriving leg), and hostile exits: each offending
 * circuit or set closes and another circuit on the same link still carries a stream. */
#include <string.h>

#include "core/conflux.h"
#include "core/relay_msg.h"
#include "fake_relays.h"
#include "test.h"

static void fill_link(om_cfx_link_t *l, uint8_t ux)
{
    for (int i = 0; i < OM_CFX_NONCE_LEN; i++)
        l->nonce[i] = (uint8_t)(0xa0 + i);
    l->last_seq_sent = 0x0102030405060708ull;
    l->last_seq_recv = 0xfffffffffffffffeull;
    l->desired_ux = ux;
}

static void test_link_round_trip(void)
{
    for (uint8_t ux = 0; ux <= OM_CFX_UX_LOW_MEM_THROUGHPUT; ux++) {
        om_cfx_link_t a, b;
        fill_link(&a, ux);
        uint8_t body[OM_CFX_LINK_BODY_LEN + 8];
        CHECK_RET(om_cfx_link_encode(&a, body, sizeof body), OM_CFX_LINK_BODY_LEN);
        /* version 1, nonce, two big-endian u64, desired_ux */
        CHECK_EQ_INT(body[0], 1);
        CHECK_MEM(body + 1, a.nonce, OM_CFX_NONCE_LEN);
        CHECK_EQ_INT(body[33], 0x01);
        CHECK_EQ_INT(body[40], 0x08);
        CHECK_EQ_INT(body[41], 0xff);
        CHECK_EQ_INT(body[48], 0xfe);
        CHECK_EQ_INT(body[49], ux);
        memset(&b, 0x55, sizeof b);
        CHECK_RET(om_cfx_link_parse(&b, body, OM_CFX_LINK_BODY_LEN), 0);
        CHECK_MEM(b.nonce, a.nonce, OM_CFX_NONCE_LEN);
        CHECK(b.last_seq_sent == a.last_seq_sent);
        CHECK(b.last_seq_recv == a.last_seq_recv);
        CHECK_EQ_INT(b.desired_ux, ux);
    }
}

static void test_link_encode_refuses(void)
{
    om_cfx_link_t a;
    uint8_t body[OM_CFX_LINK_BODY_LEN];
    fill_link(&a, OM_CFX_UX_HIGH_THROUGHPUT);
    CHECK_RET(om_cfx_link_encode(&a, body, OM_CFX_LINK_BODY_LEN - 1), -1);
    fill_link(&a, 5);
    CHECK_RET(om_cfx_link_encode(&a, body, sizeof body), -1);
}

static void test_link_parse_refuses(void)
{
    om_cfx_link_t a, b;
    uint8_t body[OM_CFX_LINK_BODY_LEN + 1];
    fill_link(&a, OM_CFX_UX_HIGH_THROUGHPUT);
    CHECK_RET(om_cfx_link_encode(&a, body, sizeof body), OM_CFX_LINK_BODY_LEN);
    body[OM_CFX_LINK_BODY_LEN] = 0;
    /* wrong lengths */
    CHECK_RET(om_cfx_link_parse(&b, body, 0), -1);
    CHECK_RET(om_cfx_link_parse(&b, body, 1), -1);
    CHECK_RET(om_cfx_link_parse(&b, body, OM_CFX_LINK_BODY_LEN - 1), -1);
    CHECK_RET(om_cfx_link_parse(&b, body, OM_CFX_LINK_BODY_LEN + 1), -1);
    /* versions other than 1 */
    body[0] = 0;
    CHECK_RET(om_cfx_link_parse(&b, body, OM_CFX_LINK_BODY_LEN), -1);
    body[0] = 2;
    CHECK_RET(om_cfx_link_parse(&b, body, OM_CFX_LINK_BODY_LEN), -1);
    body[0] = 1;
    CHECK_RET(om_cfx_link_parse(&b, body, OM_CFX_LINK_BODY_LEN), 0);
    /* desired_ux beyond LOW_MEM_THROUGHPUT */
    for (int ux = 5; ux < 256; ux++) {
        body[49] = (uint8_t)ux;
        CHECK_MSG(om_cfx_link_parse(&b, body, OM_CFX_LINK_BODY_LEN) == -1, "ux %d accepted", ux);
    }
}

static void test_switch_parse(void)
{
    static const uint8_t body[] = {0x80, 0x01, 0x02, 0xff, 0x77};
    uint32_t rel = 0;
    CHECK_RET(om_cfx_switch_parse(&rel, body, 4), 0);
    CHECK(rel == 0x800102ffu);
    rel = 0;
    CHECK_RET(om_cfx_switch_parse(&rel, body, 5), 0); /* trailing bytes are not looked at */
    CHECK(rel == 0x800102ffu);
    for (size_t n = 0; n < 4; n++) {
        rel = 12345;
        CHECK_MSG(om_cfx_switch_parse(&rel, body, n) == -1, "%zu-byte SWITCH accepted", n);
        CHECK(rel == 12345);
    }
}

static void test_multiplexed_list(void)
{
    /* tor 0.4.9 conflux.c conflux_should_multiplex(): true for these, false otherwise (the
     * conflux commands themselves, SENDME, the EXTEND family, BEGIN_DIR, onion-service and
     * padding commands, and unknown ones). */
    static const uint8_t yes[] = {OM_RELAY_BEGIN,     OM_RELAY_DATA,    OM_RELAY_END,
                                  OM_RELAY_CONNECTED, OM_RELAY_RESOLVE, OM_RELAY_RESOLVED,
                                  OM_RELAY_XOFF,      OM_RELAY_XON};
    for (int c = 0; c < 256; c++) {
        bool want = memchr(yes, c, sizeof yes) != NULL;
        CHECK_MSG(om_cfx_multiplexed((uint8_t)c) == want, "command %d multiplexed %d, want %d", c,
                  !want, want);
    }
    CHECK(!om_cfx_multiplexed(OM_RELAY_CONFLUX_SWITCH));
    CHECK(!om_cfx_multiplexed(OM_RELAY_SENDME));
    CHECK(!om_cfx_multiplexed(OM_RELAY_BEGIN_DIR));
}

/* ---------------------------------------------------------------- sets over the fake relays */

typedef struct {
    int linked;
} cfx_ev_t;

static void on_cfx(om_cfx_set_t *set, om_circuit_t *leg, void *arg)
{
    (void)set, (void)leg;
    cfx_ev_t *ev = arg;
    ev->linked++;
}

/* The exit answers a LINK: CONFLUX_LINKED with nonce and its last sent sequence number 0. */
static int exit_linked(fcirc_t *f, int hop, const uint8_t nonce[OM_CFX_NONCE_LEN])
{
    om_cfx_link_t l = {.desired_ux = OM_CFX_UX_HIGH_THROUGHPUT};
    memcpy(l.nonce, nonce, OM_CFX_NONCE_LEN);
    uint8_t b[OM_CFX_LINK_BODY_LEN];
    if (om_cfx_link_encode(&l, b, sizeof b) < 0) return -1;
    return fsend(f, hop, OM_RELAY_CONFLUX_LINKED, 0, b, sizeof b);
}

static int exit_switch(fcirc_t *f, uint32_t rel)
{
    uint8_t b[4] = {(uint8_t)(rel >> 24), (uint8_t)(rel >> 16), (uint8_t)(rel >> 8), (uint8_t)rel};
    return fsend(f, HOPS - 1, OM_RELAY_CONFLUX_SWITCH, 0, b, 4);
}

/* A test's circuits: a (primary) and b in a set, c outside it, on the same link. */
static ccirc_t a, b, c;
static om_cfx_set_t *set;
static cfx_ev_t ev;
static om_cfx_link_t la, lb; /* the LINKs seen at a's and b's exits */

/* setup, c built, a and b built with congestion control, a set started on a with b added; the
 * LINKs seen at their exits parsed into la, lb. */
static bool start_pair(void)
{
    memset(&ev, 0, sizeof ev);
    if (!setup() || !build(&c, 0) || !build_ex(&a, 1, true) || !build_ex(&b, 1, true)) return false;
    set = om_cfx_start(a.circ, OM_CFX_UX_HIGH_THROUGHPUT, on_cfx, &ev);
    if (!set || om_cfx_add_leg(set, b.circ) < 0) return false;
    pump();
    if (find_msg(a.f, 0, HOPS - 1, OM_RELAY_CONFLUX_LINK) != 0 ||
        find_msg(b.f, 0, HOPS - 1, OM_RELAY_CONFLUX_LINK) != 0)
        return false;
    return om_cfx_link_parse(&la, a.f->cfx_body, a.f->cfx_len) == 0 &&
           om_cfx_link_parse(&lb, b.f->cfx_body, b.f->cfx_len) == 0;
}

/* start_pair, then the exit answers LINKED on a (and on b if both); LINKED_ACK seen. */
static bool linked_pair(bool both)
{
    if (!start_pair()) return false;
    int from_a = a.f->n, from_b = b.f->n;
    exit_linked(a.f, HOPS - 1, la.nonce);
    if (both) exit_linked(b.f, HOPS - 1, lb.nonce);
    pump();
    return ev.linked == 1 + both && om_cfx_n_linked(set) == 1 + both &&
           find_msg(a.f, from_a, HOPS - 1, OM_RELAY_CONFLUX_LINKED_ACK) == 0 &&
           (!both || find_msg(b.f, from_b, HOPS - 1, OM_RELAY_CONFLUX_LINKED_ACK) == 0);
}

#define CHECK_SET_GONE()                                                                           \
    do {                                                                                           \
        CHECK_MSG(a.closed &&b.closed, "a closed %d, b closed %d", a.closed, b.closed);            \
        CHECK_WORKS(&c, "another circuit");                                                        \
    } while (0)

/* only b closed; the set goes on with a */
#define CHECK_B_GONE()                                                                             \
    do {                                                                                           \
        CHECK(b.closed);                                                                           \
        CHECK_EQ_INT(om_cfx_n_legs(set), 1);                                                       \
        CHECK_WORKS(&a, "the primary");                                                            \
    } while (0)

static void test_link_two_legs(void)
{
    CHECK(start_pair());
    CHECK_MEM(la.nonce, lb.nonce, OM_CFX_NONCE_LEN);
    CHECK_EQ_INT(la.desired_ux, OM_CFX_UX_HIGH_THROUGHPUT);
    CHECK_EQ_INT(lb.desired_ux, OM_CFX_UX_HIGH_THROUGHPUT);
    CHECK(la.last_seq_sent == 0 && la.last_seq_recv == 0);
    CHECK_EQ_INT(om_cfx_n_legs(set), 2);
    CHECK_EQ_INT(om_cfx_n_linked(set), 0);
    CHECK(om_cfx_primary(set) == a.circ);
    int from_a = a.f->n, from_b = b.f->n;
    CHECK_RET(exit_linked(a.f, HOPS - 1, la.nonce), 0);
    pump();
    CHECK_EQ_INT(ev.linked, 1);
    CHECK_EQ_INT(find_msg(a.f, from_a, HOPS - 1, OM_RELAY_CONFLUX_LINKED_ACK), 0);
    CHECK_EQ_INT(find_msg(b.f, from_b, HOPS - 1, OM_RELAY_CONFLUX_LINKED_ACK), -1);
    CHECK_RET(exit_linked(b.f, HOPS - 1, lb.nonce), 0);
    pump();
    CHECK_EQ_INT(ev.linked, 2);
    CHECK_EQ_INT(find_msg(b.f, from_b, HOPS - 1, OM_RELAY_CONFLUX_LINKED_ACK), 0);
    CHECK_EQ_INT(om_cfx_n_linked(set), 2);
    CHECK(!a.closed && !b.closed);
    teardown();
}

#define N_B 31 /* DATA cells on the second leg: one circuit SENDME's worth (CC_INC) */

/* The exit sends CONNECTED and DATA 0 on a (seq 1, 2), SWITCH 2 and DATA 1..N_B on b (seq 3..),
 * then SWITCH N_B, the last DATA and END on a; b's cells arrive first. */
static void test_stream_over_two_legs(void)
{
    CHECK(linked_pair(true));
    cstream_t cs;
    CHECK(begin(&a, &cs));
    uint8_t want[4096], cb[OM_RELAY_PAYLOAD_LEN];
    size_t wl = 0;
    for (int i = 0; i < N_B + 2; i++) { /* DATA i: 100 bytes */
        memset(want + wl, 'A' + i % 50, 100);
        wl += 100;
    }
    int from_a = a.f->n, from_b = b.f->n;
    /* leg b: its count was 0, a has sent 2 by then: SWITCH 2 - 0 */
    CHECK_RET(exit_switch(b.f, 2), 0);
    for (int i = 1; i <= N_B; i++)
        CHECK_RET(fsend(b.f, HOPS - 1, OM_RELAY_DATA, cs.id, want + 100 * i, 100), 0);
    pump();
    CHECK_EQ_INT(cs.connected, 0);
    CHECK_EQ_INT(cs.len, 0);
    om_cfx_stats_t st;
    om_cfx_stats(set, &st);
    CHECK(st.queued_ooo == N_B && st.delivered == 0 && st.switches == 1);
    /* the SENDME for b's DATA goes out on b, none on a */
    CHECK_EQ_INT(find_msg(b.f, from_b, HOPS - 1, OM_RELAY_SENDME), 0);
    CHECK_EQ_INT(find_msg(a.f, from_a, HOPS - 1, OM_RELAY_SENDME), -1);
    /* leg a: CONNECTED (1), DATA 0 (2): everything up to 2 + N_B comes out in order */
    CHECK_RET(fsend(a.f, HOPS - 1, OM_RELAY_CONNECTED, cs.id, cb, (size_t)connected_body(cb)), 0);
    CHECK_RET(fsend(a.f, HOPS - 1, OM_RELAY_DATA, cs.id, want, 100), 0);
    pump();
    CHECK_EQ_INT(cs.connected, 1);
    CHECK_EQ_INT(cs.len, 100 * (N_B + 1));
    CHECK_MEM(cs.data, want, 100 * (N_B + 1));
    /* back to a: it sent 2, b's count is 2 + N_B */
    uint8_t done = OM_END_DONE;
    CHECK_RET(exit_switch(a.f, N_B), 0);
    CHECK_RET(fsend(a.f, HOPS - 1, OM_RELAY_DATA, cs.id, want + 100 * (N_B + 1), 100), 0);
    CHECK_RET(fsend(a.f, HOPS - 1, OM_RELAY_END, cs.id, &done, 1), 0);
    pump();
    CHECK_EQ_INT(cs.len, wl);
    CHECK_MEM(cs.data, want, wl);
    CHECK_EQ_INT(cs.ends, 1);
    CHECK_EQ_INT(cs.end_reason, OM_END_DONE);
    om_cfx_stats(set, &st);
    CHECK(st.delivered == (uint64_t)N_B + 4 && st.switches == 2 && st.max_ooo == N_B);
    CHECK_EQ_INT(find_msg(a.f, from_a, HOPS - 1, OM_RELAY_SENDME), -1); /* a got only 3 DATA */
    CHECK(!a.closed && !b.closed && !c.closed);
    teardown();
}

/* LINKED naming another nonce: that leg closes, the set goes on with the other leg. */
static void test_linked_other_nonce(void)
{
    CHECK(linked_pair(false));
    lb.nonce[7] ^= 1;
    exit_linked(b.f, HOPS - 1, lb.nonce);
    pump();
    CHECK_EQ_INT(ev.linked, 1);
    CHECK_B_GONE();
    teardown();
}

/* A second LINKED on a linked leg: the leg closes and with it the set. */
static void test_second_linked(void)
{
    CHECK(linked_pair(true));
    exit_linked(b.f, HOPS - 1, lb.nonce);
    pump();
    CHECK_SET_GONE();
    teardown();
}

/* SWITCH on a leg that has not linked yet closes it; the set goes on. */
static void test_switch_before_linked(void)
{
    CHECK(linked_pair(false));
    exit_switch(b.f, 1);
    pump();
    CHECK_B_GONE();
    teardown();
}

/* LINKED, SWITCH, LINK, LINKED_ACK on circuits in no set: each closes. */
static void test_conflux_without_set(void)
{
    CHECK(setup());
    ccirc_t x[4];
    CHECK(build(&c, 0));
    uint8_t nonce[OM_CFX_NONCE_LEN] = {1};
    for (int i = 0; i < 4; i++)
        CHECK(build_ex(&x[i], 1, true));
    exit_linked(x[0].f, HOPS - 1, nonce);
    exit_switch(x[1].f, 1);
    uint8_t body[OM_CFX_LINK_BODY_LEN] = {1};
    fsend(x[2].f, HOPS - 1, OM_RELAY_CONFLUX_LINK, 0, body, sizeof body);
    fsend(x[3].f, HOPS - 1, OM_RELAY_CONFLUX_LINKED_ACK, 0, NULL, 0);
    pump();
    for (int i = 0; i < 4; i++)
        CHECK_MSG(x[i].closed, "circuit %d not closed", i);
    CHECK_WORKS(&c, "another circuit");
    teardown();
}

/* A conflux message recognized at the middle hop closes the circuit. */
static void test_conflux_from_middle(void)
{
    CHECK(linked_pair(false));
    exit_linked(b.f, HOPS - 2, lb.nonce);
    pump();
    CHECK_EQ_INT(ev.linked, 1);
    CHECK_B_GONE();
    teardown();
}

/* A leg resending a sequence number already delivered: the set closes. */
static void test_old_sequence_number(void)
{
    CHECK(linked_pair(true));
    cstream_t cs;
    CHECK(begin(&a, &cs));
    uint8_t cb[OM_RELAY_PAYLOAD_LEN];
    int n = connected_body(cb);
    fsend(a.f, HOPS - 1, OM_RELAY_CONNECTED, cs.id, cb, (size_t)n); /* seq 1 */
    pump();
    CHECK_EQ_INT(cs.connected, 1);
    fsend(b.f, HOPS - 1, OM_RELAY_DATA, cs.id, "x", 1); /* seq 1 again, on b */
    pump();
    CHECK_EQ_INT(cs.len, 0);
    CHECK_SET_GONE();
    teardown();
}

/* More than OM_CFX_MAX_OOO cells held out of order: the set closes, nothing else. */
static void test_ooo_queue_full(void)
{
    CHECK(linked_pair(true));
    cstream_t cs;
    CHECK(begin(&a, &cs));
    exit_switch(b.f, 1); /* seq 1 never comes */
    for (int i = 0; i <= OM_CFX_MAX_OOO && !b.closed; i++) {
        fsend(b.f, HOPS - 1, OM_RELAY_DATA, cs.id, "y", 1);
        if (i % 64 == 63) pump();
        if (i == OM_CFX_MAX_OOO - 1) {
            pump();
            om_cfx_stats_t st;
            om_cfx_stats(set, &st);
            CHECK_MSG(!a.closed && !b.closed && st.max_ooo == OM_CFX_MAX_OOO,
                      "closed before the limit (max_ooo %llu)", (unsigned long long)st.max_ooo);
        }
    }
    pump();
    CHECK_EQ_INT(cs.len, 0);
    CHECK_SET_GONE();
    teardown();
}

/* The process-wide limit on cells held out of order (lowered to 100 here): a second set going
 * over it closes the set holding the most (the first), then itself once it holds the most; the
 * total follows every queue, push, delivery and close. */
static void test_ooo_total_limit(void)
{
    CHECK(linked_pair(true));
    om_cfx_set_ooo_total_limit(100);
    static ccirc_t d;
    CHECK(build_ex(&d, 1, true));
    cfx_ev_t ev_d = {0};
    om_cfx_set_t *set_d = om_cfx_start(d.circ, OM_CFX_UX_HIGH_THROUGHPUT, on_cfx, &ev_d);
    CHECK(set_d != NULL);
    pump();
    om_cfx_link_t ld;
    CHECK_RET(find_msg(d.f, 0, HOPS - 1, OM_RELAY_CONFLUX_LINK), 0);
    CHECK_RET(om_cfx_link_parse(&ld, d.f->cfx_body, d.f->cfx_len), 0);
    exit_linked(d.f, HOPS - 1, ld.nonce);
    pump();
    CHECK_EQ_INT(ev_d.linked, 1);
    /* 60 cells held by (a, b): b's SWITCH skips number 1 */
    exit_switch(b.f, 1);
    for (int i = 0; i < 60; i++)
        fsend(b.f, HOPS - 1, OM_RELAY_DATA, 1, "y", 1);
    pump();
    CHECK_EQ_INT(om_cfx_ooo_total(), 60);
    /* d's set (one leg) skips number 1 too: its 41st held cell reaches 100, (a, b) closes */
    CHECK_RET(fsend(d.f, HOPS - 1, OM_RELAY_CONFLUX_SWITCH, 0, "\0\0\0\1", 4), 0);
    for (int i = 0; i < 50; i++)
        fsend(d.f, HOPS - 1, OM_RELAY_DATA, 1, "z", 1);
    pump();
    CHECK_SET_GONE();
    CHECK(!d.closed);
    CHECK_EQ_INT(om_cfx_ooo_total(), 50);
    /* now d's set holds the most: going over again closes it */
    for (int i = 0; i < 60; i++)
        fsend(d.f, HOPS - 1, OM_RELAY_DATA, 1, "z", 1);
    pump();
    CHECK(d.closed);
    CHECK_EQ_INT(om_cfx_ooo_total(), 0);
    om_cfx_set_ooo_total_limit(0);
    teardown();
}

static void destroy_from_guard(fcirc_t *f)
{
    om_cell_t d = {.circ_id = f->id, .command = OM_CELL_DESTROY};
    memset(d.payload, 0, sizeof d.payload);
    om_mem_link_feed(&fr_link, &d);
}

/* A linked secondary leg closing closes the primary. */
static void test_linked_leg_closes(void)
{
    CHECK(linked_pair(true));
    destroy_from_guard(b.f);
    pump();
    CHECK_SET_GONE();
    teardown();
}

/* A leg that never linked closing leaves the set working (its stream cells go through it). */
static void test_unlinked_leg_closes(void)
{
    CHECK(linked_pair(false));
    destroy_from_guard(b.f);
    pump();
    CHECK_EQ_INT(om_cfx_n_linked(set), 1);
    CHECK_B_GONE();
    om_cfx_stats_t st;
    om_cfx_stats(set, &st);
    CHECK(st.delivered == 4); /* CONNECTED, two DATA, END */
    teardown();
}

/* Stream cells from a leg that has not linked yet never reach the primary's streams (tor orders
 * a leg's cells through the set only once it linked): they are that leg's own, which has none. */
static void test_unlinked_leg_cells_not_delivered(void)
{
    CHECK(linked_pair(false));
    cstream_t cs;
    CHECK(begin(&a, &cs));
    uint8_t cb[OM_RELAY_PAYLOAD_LEN], d[3] = {'x', 'y', 'z'};
    CHECK_RET(fsend(b.f, HOPS - 1, OM_RELAY_CONNECTED, cs.id, cb, (size_t)connected_body(cb)), 0);
    CHECK_RET(fsend(b.f, HOPS - 1, OM_RELAY_DATA, cs.id, d, sizeof d), 0);
    pump();
    CHECK_EQ_INT(cs.connected, 0);
    CHECK_EQ_INT(cs.len, 0);
    om_cfx_stats_t st;
    om_cfx_stats(set, &st);
    CHECK(st.delivered == 0 && st.queued_ooo == 0);
    CHECK(!a.closed);
    teardown();
}

static const om_test_t tests[] = {
    OM_TEST(test_link_round_trip),
    OM_TEST(test_link_encode_refuses),
    OM_TEST(test_link_parse_refuses),
    OM_TEST(test_switch_parse),
    OM_TEST(test_multiplexed_list),
    OM_TEST(test_link_two_legs),
    OM_TEST(test_stream_over_two_legs),
    OM_TEST(test_linked_other_nonce),
    OM_TEST(test_second_linked),
    OM_TEST(test_switch_before_linked),
    OM_TEST(test_conflux_without_set),
    OM_TEST(test_conflux_from_middle),
    OM_TEST(test_old_sequence_number),
    OM_TEST(test_ooo_queue_full),
    OM_TEST(test_ooo_total_limit),
    OM_TEST(test_linked_leg_closes),
    OM_TEST(test_unlinked_leg_closes),
    OM_TEST(test_unlinked_leg_cells_not_delivered),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("conflux", tests, argc, argv);
}

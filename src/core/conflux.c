/* conflux.c — client-side conflux sets (conflux.h): the LINK/LINKED/SWITCH codec, linking legs
 * by nonce, per-leg receive sequence numbers, the out-of-order queue (conflux_order.c, by absolute
 * sequence number) and in-order delivery to the primary leg's streams. Follows tor-spec
 * "Conflux" (proposal 329) as tor 0.4.9 implements it (conflux.c, conflux_pool.c). */
#include "core/conflux.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/circuit_int.h"
#include "core/conflux_order.h"
#include "core/crypto.h"
#include "core/log.h"

typedef struct {
    om_circuit_t *circ;
    uint64_t seq_recv; /* absolute sequence number of the last multiplexed cell on this leg */
    bool linked;
    uint64_t link_sent_usec;
} cfx_leg_t;

struct om_cfx_set {
    uint8_t nonce[OM_CFX_NONCE_LEN];
    uint8_t ux;
    cfx_leg_t legs[OM_CFX_MAX_LEGS]; /* legs[0]: the primary, where the streams are */
    int n_legs;
    uint64_t last_seq_delivered;
    om_cfx_heap_t ooo;
    bool delivering;    /* inside a delivery to the streams */
    bool closing;       /* set_close runs */
    bool close_pending; /* a leg whose loss ends the set closed during a delivery */
    om_cfx_linked_fn fn;
    void *arg;
    om_cfx_stats_t st;
    struct om_cfx_set *prev, *next; /* every set of the process, for the total limit */
};

/* Out-of-order cells held by every set, and the limit on them (process-wide, as tor's
 * total_ooo_q_bytes; the OP's event loop is the only thread touching sets). */
static om_cfx_set_t *all_sets;
static size_t ooo_total, ooo_total_limit = OM_CFX_MAX_OOO_TOTAL;

size_t om_cfx_ooo_total(void)
{
    return ooo_total;
}

void om_cfx_set_ooo_total_limit(size_t cells)
{
    ooo_total_limit = cells ? cells : OM_CFX_MAX_OOO_TOTAL;
}

/* ---------------------------------------------------------------- codec */

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

int om_cfx_link_encode(const om_cfx_link_t *l, uint8_t *out, size_t cap)
{
    if (cap < OM_CFX_LINK_BODY_LEN || l->desired_ux > OM_CFX_UX_LOW_MEM_THROUGHPUT) return -1;
    out[0] = 1; /* version */
    memcpy(out + 1, l->nonce, OM_CFX_NONCE_LEN);
    put_u64(out + 33, l->last_seq_sent);
    put_u64(out + 41, l->last_seq_recv);
    out[49] = l->desired_ux;
    return OM_CFX_LINK_BODY_LEN;
}

int om_cfx_link_parse(om_cfx_link_t *l, const uint8_t *body, size_t len)
{
    /* trunnel: version IN [1], then the v1 payload; tor parses the payload from the rest of the
     * body and ignores nothing after it, so a body of another length is refused here. */
    if (len != OM_CFX_LINK_BODY_LEN || body[0] != 1) return -1;
    if (body[49] > OM_CFX_UX_LOW_MEM_THROUGHPUT) return -1;
    memcpy(l->nonce, body + 1, OM_CFX_NONCE_LEN);
    l->last_seq_sent = get_u64(body + 33);
    l->last_seq_recv = get_u64(body + 41);
    l->desired_ux = body[49];
    return 0;
}

int om_cfx_switch_parse(uint32_t *rel_seq, const uint8_t *body, size_t len)
{
    if (len < OM_CFX_SWITCH_LEN) return -1;
    *rel_seq = (uint32_t)body[0] << 24 | (uint32_t)body[1] << 16 | (uint32_t)body[2] << 8 | body[3];
    return 0;
}

bool om_cfx_multiplexed(uint8_t cmd)
{
    switch (cmd) {
    case OM_RELAY_BEGIN:
    case OM_RELAY_DATA:
    case OM_RELAY_END:
    case OM_RELAY_CONNECTED:
    case OM_RELAY_RESOLVE:
    case OM_RELAY_RESOLVED:
    case OM_RELAY_XOFF:
    case OM_RELAY_XON:
        return true;
    default:
        return false;
    }
}

/* ---------------------------------------------------------------- set */

static cfx_leg_t *leg_of(om_cfx_set_t *s, const om_circuit_t *circ)
{
    for (int i = 0; i < s->n_legs; i++)
        if (s->legs[i].circ == circ) return &s->legs[i];
    return NULL;
}

static int send_link(om_cfx_set_t *s, cfx_leg_t *leg)
{
    /* tor's client: last_seqno_sent = the most sent on any leg (we send only on the primary and
     * count nothing before linking: 0), last_seqno_recv = last delivered. */
    om_cfx_link_t l = {
        .last_seq_sent = 0, .last_seq_recv = s->last_seq_delivered, .desired_ux = s->ux};
    memcpy(l.nonce, s->nonce, sizeof l.nonce);
    uint8_t body[OM_CFX_LINK_BODY_LEN];
    if (om_cfx_link_encode(&l, body, sizeof body) < 0) return -1;
    leg->link_sent_usec = om_now_usec();
    return om_circuit_send_relay(leg->circ, -1, OM_RELAY_CONFLUX_LINK, 0, body, sizeof body, false);
}

static void set_free(om_cfx_set_t *s)
{
    ooo_total -= s->ooo.n;
    if (s->prev)
        s->prev->next = s->next;
    else
        all_sets = s->next;
    if (s->next) s->next->prev = s->prev;
    om_cfx_heap_clear(&s->ooo);
    om_memwipe(s->nonce, sizeof s->nonce);
    free(s);
}

static void remove_leg(om_cfx_set_t *s, om_circuit_t *circ)
{
    for (int i = 0; i < s->n_legs; i++)
        if (s->legs[i].circ == circ) {
            memmove(&s->legs[i], &s->legs[i + 1], (size_t)(s->n_legs - i - 1) * sizeof s->legs[0]);
            s->n_legs--;
            break;
        }
    circ->cfx = NULL;
}

om_cfx_set_t *om_cfx_start(om_circuit_t *primary, uint8_t desired_ux, om_cfx_linked_fn fn,
                           void *arg)
{
    if (!primary || primary->cfx || om_circuit_state(primary) != OM_CIRC_OPEN ||
        !om_circuit_cc_active(primary))
        return NULL;
    om_cfx_set_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    if (om_rand_bytes(s->nonce, sizeof s->nonce) < 0) {
        free(s);
        return NULL;
    }
    s->ux = desired_ux;
    s->fn = fn;
    s->arg = arg;
    s->next = all_sets;
    if (all_sets) all_sets->prev = s;
    all_sets = s;
    if (om_cfx_add_leg(s, primary) < 0) {
        set_free(s);
        return NULL;
    }
    return s;
}

int om_cfx_add_leg(om_cfx_set_t *s, om_circuit_t *circ)
{
    if (!circ || circ->cfx || s->n_legs >= OM_CFX_MAX_LEGS || s->closing ||
        om_circuit_state(circ) != OM_CIRC_OPEN || !om_circuit_cc_active(circ))
        return -1;
    cfx_leg_t *leg = &s->legs[s->n_legs++];
    memset(leg, 0, sizeof *leg);
    leg->circ = circ;
    circ->cfx = s;
    if (send_link(s, leg) < 0) {
        remove_leg(s, circ);
        return -1;
    }
    om_info("Circuit %u: CONFLUX_LINK sent (set of %d leg%s)", om_circuit_id(circ), s->n_legs,
            s->n_legs == 1 ? "" : "s");
    return 0;
}

int om_cfx_n_linked(const om_cfx_set_t *s)
{
    int n = 0;
    for (int i = 0; i < s->n_legs; i++)
        n += s->legs[i].linked;
    return n;
}

int om_cfx_n_legs(const om_cfx_set_t *s)
{
    return s->n_legs;
}

om_circuit_t *om_cfx_primary(const om_cfx_set_t *s)
{
    return s->n_legs ? s->legs[0].circ : NULL;
}

void om_cfx_stats(const om_cfx_set_t *s, om_cfx_stats_t *out)
{
    *out = s->st;
}

/* Close every leg and free the set (it ends with the primary or with a linked leg). The owner
 * hears of it through each leg's on_closed. */
static void set_close(om_cfx_set_t *s, const char *why)
{
    if (s->closing) return;
    s->closing = true;
    om_info("Conflux set closes: %s (%llu cells delivered in order, %llu held out of order, at "
            "most %llu at once; %llu SWITCH)",
            why, (unsigned long long)s->st.delivered, (unsigned long long)s->st.queued_ooo,
            (unsigned long long)s->st.max_ooo, (unsigned long long)s->st.switches);
    while (s->n_legs) {
        om_circuit_t *c = s->legs[s->n_legs - 1].circ;
        remove_leg(s, c);
        om_circuit_close(c, OM_DESTROY_FINISHED, why);
    }
    set_free(s);
}

/* circuit.c: circ (a leg) closed. */
void om_cfx_leg_closed(om_circuit_t *circ)
{
    om_cfx_set_t *s = circ->cfx;
    if (!s) return;
    cfx_leg_t *leg = leg_of(s, circ);
    bool fatal = leg && (leg == &s->legs[0] || leg->linked);
    remove_leg(s, circ);
    if (s->closing || !fatal) return; /* a leg that never linked: the set goes on without it */
    if (s->delivering) { /* finish the delivery first; om_cfx_on_relay closes the set */
        s->close_pending = true;
        return;
    }
    char why[128];
    snprintf(why, sizeof why, "leg circuit %u closed", om_circuit_id(circ));
    set_close(s, why);
}

/* ---------------------------------------------------------------- receiving */

static void on_linked(om_cfx_set_t *s, om_circuit_t *circ, const uint8_t *body, size_t len)
{
    cfx_leg_t *leg = leg_of(s, circ);
    om_cfx_link_t l;
    if (om_cfx_link_parse(&l, body, len) < 0) {
        om_circuit_close(circ, OM_DESTROY_PROTOCOL, "malformed CONFLUX_LINKED");
        return;
    }
    if (!leg || leg->linked || !om_mem_eq_ct(l.nonce, s->nonce, OM_CFX_NONCE_LEN)) {
        om_circuit_close(circ, OM_DESTROY_PROTOCOL,
                         leg && leg->linked ? "second CONFLUX_LINKED"
                                            : "CONFLUX_LINKED for another set");
        return;
    }
    /* tor's cfx_add_leg: the leg's receive count starts at what the exit says it sent. */
    leg->seq_recv = l.last_seq_sent;
    leg->linked = true;
    om_circuit_send_relay(circ, -1, OM_RELAY_CONFLUX_LINKED_ACK, 0, NULL, 0, false);
    om_info("Circuit %u: CONFLUX_LINKED in %.1f ms (%d of %d legs linked)", om_circuit_id(circ),
            (double)(om_now_usec() - leg->link_sent_usec) / 1000.0, om_cfx_n_linked(s), s->n_legs);
    if (s->fn) s->fn(s, circ, s->arg);
}

/* Deliver cell (sequence number last_seq_delivered + 1) to the primary's streams, then what the
 * queue holds in order. The set may be gone afterwards: returns false then. */
static bool deliver(om_cfx_set_t *s, int hop, const om_relay_header_t *h, const uint8_t *body)
{
    s->delivering = true;
    s->last_seq_delivered++;
    s->st.delivered++;
    om_circ_deliver(s->legs[0].circ, hop, h, body);
    while (!s->close_pending && s->ooo.n &&
           om_cfx_heap_top(&s->ooo)->seq == s->last_seq_delivered + 1) {
        om_cfx_cell_t *c = om_cfx_heap_pop(&s->ooo);
        ooo_total--;
        s->last_seq_delivered++;
        s->st.delivered++;
        om_circ_deliver(s->legs[0].circ, c->hop, &c->h, c->body);
        free(c);
    }
    s->delivering = false;
    if (s->close_pending) {
        set_close(s, "a leg closed");
        return false;
    }
    return true;
}

/* The process holds ooo_total_limit cells out of order and s wants to queue one more: the set
 * holding the most closes (s itself, or another one, which s then goes on next to). false if
 * that was s. */
static bool make_room(om_cfx_set_t *s)
{
    om_cfx_set_t *worst = s;
    for (om_cfx_set_t *o = all_sets; o; o = o->next)
        if (o->ooo.n > worst->ooo.n && !o->delivering && !o->closing) worst = o;
    om_warn("Conflux sets hold %zu cells out of order (the limit): closing the set holding %zu",
            ooo_total, worst->ooo.n);
    set_close(worst, "conflux out-of-order cells over the process-wide limit");
    return worst != s;
}

/* A relay message from circ's hop `hop`: 1 if conflux took it, 0 if it is not conflux's. */
int om_cfx_on_relay(om_circuit_t *circ, int hop, const om_relay_header_t *h, const uint8_t *body)
{
    om_cfx_set_t *s = circ->cfx;
    bool cmd_cfx = h->command >= OM_RELAY_CONFLUX_LINK && h->command <= OM_RELAY_CONFLUX_SWITCH;
    if (!cmd_cfx && (!s || !om_cfx_multiplexed(h->command))) return 0;
    if (cmd_cfx &&
        (!s || h->command == OM_RELAY_CONFLUX_LINK || h->command == OM_RELAY_CONFLUX_LINKED_ACK)) {
        /* tor: LINK/LINKED_ACK never reach an origin circuit; LINKED/SWITCH need a set. */
        om_circuit_close(circ, OM_DESTROY_PROTOCOL, "conflux message on a circuit not in a set");
        return 1;
    }
    if (hop != om_circuit_n_hops(circ) - 1) { /* tor's conflux_validate_source_hop */
        om_circuit_close(circ, OM_DESTROY_PROTOCOL, "conflux cell from a hop other than the exit");
        return 1;
    }
    cfx_leg_t *leg = leg_of(s, circ);
    if (!leg) return 0;
    if (h->command == OM_RELAY_CONFLUX_LINKED) {
        on_linked(s, circ, body, h->length);
        return 1;
    }
    if (h->command == OM_RELAY_CONFLUX_SWITCH) {
        uint32_t rel;
        if (!leg->linked || om_cfx_switch_parse(&rel, body, h->length) < 0) {
            om_circuit_close(circ, OM_DESTROY_PROTOCOL, "malformed or early CONFLUX_SWITCH");
            return 1;
        }
        leg->seq_recv += rel; /* not a multiplexed cell itself: no +1 (tor) */
        s->st.switches++;
        return 1;
    }
    /* tor orders a circuit's cells through its set only once the leg linked: before, they are the
     * leg's own (it has no streams: dropped there), never the primary's. */
    if (!leg->linked) return 0;
    /* A multiplexed cell: its absolute sequence number is this leg's count plus one. */
    uint64_t seq = ++leg->seq_recv;
    if (seq <= s->last_seq_delivered) {
        om_circuit_close(circ, OM_DESTROY_PROTOCOL, "conflux cell with an old sequence number");
        return 1;
    }
    if (seq == s->last_seq_delivered + 1 && !s->delivering) {
        deliver(s, hop, h, body);
        return 1;
    }
    if (s->ooo.n >= OM_CFX_MAX_OOO) {
        set_close(s, "conflux out-of-order queue full");
        return 1;
    }
    if (ooo_total >= ooo_total_limit && !make_room(s)) return 1;
    om_cfx_cell_t *c = malloc(sizeof *c);
    if (c) {
        c->seq = seq;
        c->hop = hop;
        c->h = *h;
        memcpy(c->body, body, h->length <= sizeof c->body ? h->length : sizeof c->body);
    }
    if (!c || om_cfx_heap_push(&s->ooo, c) < 0) {
        free(c);
        set_close(s, "out of memory for conflux cells");
        return 1;
    }
    s->st.queued_ooo++;
    ooo_total++;
    if (s->ooo.n > s->st.max_ooo) s->st.max_ooo = s->ooo.n;
    return 1;
}

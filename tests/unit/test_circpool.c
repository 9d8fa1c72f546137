/* test_circpool.c — the OP's circuit pool (src/op/circpool.c) building real 3-hop circuits on a
 * minnet (minnet.h: relays in this process on 127.0.0.1) through a client link manager, guards
 * and path selection: nothing before the directory suffices, prebuilt circuits and bootstrap
 * progress, a stream end to end through a circuit it hands out, isolation keys, circuits marked
 * unusable, dirtiness, exit ports (relays whose policy rejects one, a port no exit allows, cancel),
 * back-off while builds fail and recovery, freeing the pool with waiters and circuits pending, and
 * circuits to a chosen last hop (om_circpool_get_to).
 * Every relay rejects port 9 (NO_EXIT_PORT); an echo server on 127.0.0.1 is the destination. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "core/circuit.h"
#include "core/linkmgr.h"
#include "core/log.h"
#include "minnet.h"
#include "op/circpool.h"
#include "op/guards.h"
#include "op/path.h"
#include "test.h"
#include "test_loop.h"

#define PREBUILT     3
#define WAIT_MS      30000 /* generous: a loaded 2-core machine under ASan */
#define NO_EXIT_PORT 9
#define MAX_ECHO     16

static struct event_base *base;

/* ---------------------------------------------------------------- an echo server */

typedef struct {
    struct evconnlistener *lis;
    uint16_t port;
    struct bufferevent *conns[MAX_ECHO];
} echo_t;

static void echo_read(struct bufferevent *bev, void *arg)
{
    (void)arg;
    evbuffer_add_buffer(bufferevent_get_output(bev), bufferevent_get_input(bev));
}

static void echo_event(struct bufferevent *bev, short what, void *arg)
{
    echo_t *e = arg;
    if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))) return;
    for (int i = 0; i < MAX_ECHO; i++)
        if (e->conns[i] == bev) e->conns[i] = NULL;
    bufferevent_free(bev);
}

static void echo_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa, int sl,
                        void *arg)
{
    echo_t *e = arg;
    (void)lis;
    (void)sa;
    (void)sl;
    for (int i = 0; i < MAX_ECHO; i++)
        if (!e->conns[i]) {
            e->conns[i] = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
            if (!e->conns[i]) break;
            bufferevent_setcb(e->conns[i], echo_read, NULL, echo_event, e);
            bufferevent_enable(e->conns[i], EV_READ | EV_WRITE);
            return;
        }
    evutil_closesocket(fd);
}

static void echo_stop(echo_t *e)
{
    for (int i = 0; i < MAX_ECHO; i++)
        if (e->conns[i]) bufferevent_free(e->conns[i]);
    if (e->lis) evconnlistener_free(e->lis);
    memset(e, 0, sizeof *e);
}

/* ---------------------------------------------------------------- the fixture */

typedef struct {
    int relays;                /* 0: 4 */
    unsigned reject_echo_mask; /* relays whose exit policy also rejects the echo port */
    int dirtiness_s;           /* 0: 600 */
    int period_s;              /* NewCircuitPeriod; 0: tor's 30 s */
    bool no_dir;               /* do not call om_circpool_dir_changed */
    int conflux;               /* ConfluxEnabled (0: off) */
    bool conflux_proto;        /* the relays list Conflux=1 */
} cfg_t;

typedef struct {
    echo_t echo;
    minnet_t net;
    bool net_up;
    om_linkmgr_t *links;
    om_guards_t guards;
    om_path_opts_t path;
    om_circpool_t *pool;
    time_t created; /* just before om_circpool_new */
    int progress[8], n_progress;
    char tags[8][32];
} fix_t;

static void on_progress(void *arg, int pct, const char *tag, const char *summary)
{
    fix_t *f = arg;
    (void)summary;
    if (f->n_progress < 8) {
        snprintf(f->tags[f->n_progress], sizeof f->tags[0], "%s", tag);
        f->progress[f->n_progress] = pct;
    }
    f->n_progress++;
}

static om_circpool_stats_t stats(const fix_t *f)
{
    om_circpool_stats_t st;
    om_circpool_stats(f->pool, &st);
    return st;
}

/* The relays' counters summed. */
static minnet_relay_stats_t net_total(const fix_t *f)
{
    minnet_relay_stats_t t = {0}, rs;
    for (int i = 0; i < f->net.n; i++) {
        minnet_relay_stats(&f->net, i, &rs);
        t.circuits += rs.circuits;
        t.created += rs.created;
        t.extends += rs.extends;
        t.exit_begins += rs.exit_begins;
        t.exit_refused += rs.exit_refused;
    }
    return t;
}

static bool fix_setup(fix_t *f, const cfg_t *c)
{
    memset(f, 0, sizeof *f);
    f->echo.lis = om_test_listen_loopback(base, echo_accept, &f->echo, &f->echo.port);
    if (!f->echo.lis) return false;
    static char policies[MINNET_MAX][64];
    minnet_opts_t o = {.n = c->relays ? c->relays : 4, .conflux_proto = c->conflux_proto};
    for (int i = 0; i < o.n; i++) {
        if (c->reject_echo_mask & (1u << i))
            snprintf(policies[i], sizeof policies[i], "reject *:%d, reject *:%u, accept *:*",
                     NO_EXIT_PORT, f->echo.port);
        else
            snprintf(policies[i], sizeof policies[i], "reject *:%d, accept *:*", NO_EXIT_PORT);
        o.exit_policy[i] = policies[i];
    }
    if (minnet_start_opts(&f->net, base, &o) < 0) {
        snprintf(om_test_reason, sizeof om_test_reason, "minnet: %s", f->net.err);
        om_test_failed_flag = 1;
        return false;
    }
    f->net_up = true;
    f->links = om_linkmgr_new(base, NULL, NULL);
    om_guards_init(&f->guards, NULL, 1);
    om_guards_update(&f->guards, minnet_nodelist(&f->net), NULL, NULL);
    f->path.enforce_distinct_subnets = false;
    om_circpool_params_t p = {
        .base = base,
        .links = f->links,
        .nodes = minnet_nodelist(&f->net),
        .guards = &f->guards,
        .path = &f->path,
        .congestion_control = -1,
        .conflux = c->conflux,
        .circuit_build_timeout_s = 60,
        .max_circuit_dirtiness_s = c->dirtiness_s ? c->dirtiness_s : 600,
        .prebuilt_circuits = PREBUILT,
        .new_circuit_period_s = c->period_s,
        .on_progress = on_progress,
        .arg = f,
    };
    f->created = time(NULL);
    f->pool = f->links ? om_circpool_new(&p) : NULL;
    if (!f->pool) return false;
    if (!c->no_dir) om_circpool_dir_changed(f->pool);
    return true;
}

static void fix_teardown(fix_t *f)
{
    om_circpool_free(f->pool);
    om_linkmgr_free(f->links);
    om_test_spin(base, 50);
    if (f->net_up) minnet_stop(&f->net);
    echo_stop(&f->echo);
}

/* A test with a fixture: body runs between setup and teardown (a CHECK ends the body only). */
#define FIX_TEST(name, ...)                                                                        \
    static void name##_body(fix_t *f);                                                             \
    static void name(void)                                                                         \
    {                                                                                              \
        fix_t f;                                                                                   \
        cfg_t c = {__VA_ARGS__};                                                                   \
        if (fix_setup(&f, &c))                                                                     \
            name##_body(&f);                                                                       \
        else if (!om_test_failed_flag) {                                                           \
            om_test_failed_flag = 1;                                                               \
            if (!om_test_reason[0]) snprintf(om_test_reason, sizeof om_test_reason, "setup");      \
        }                                                                                          \
        fix_teardown(&f);                                                                          \
    }                                                                                              \
    static void name##_body(fix_t *f)

/* Until the pool holds exactly `circuits`, all built. */
#define WAIT_SETTLED(f, n)                                                                         \
    OM_TEST_WAIT_FOR(base, stats(f).circuits == (n) && stats(f).building == 0, WAIT_MS)

/* ---------------------------------------------------------------- waiters and streams */

typedef struct {
    int calls;
    om_circuit_t *circ;
    char err[200];
    om_circpool_t *cancel_pool; /* when answered, cancel this waiter of the pool (as an edge */
    void *cancel_handle;        /* closing another stream might) */
} got_t;

static void got_cb(om_circuit_t *circ, const char *err, void *arg)
{
    got_t *g = arg;
    g->calls++;
    g->circ = circ;
    snprintf(g->err, sizeof g->err, "%s", err ? err : "");
    if (g->cancel_handle) om_circpool_cancel(g->cancel_pool, g->cancel_handle);
}

static void *get(fix_t *f, uint16_t port, const char *iso, got_t *g)
{
    memset(g, 0, sizeof *g);
    return om_circpool_get(f->pool, port, iso, got_cb, g);
}

/* A circuit for the echo port with isolation key iso, or NULL (reason in g->err). */
static om_circuit_t *get_wait(fix_t *f, const char *iso, got_t *g)
{
    get(f, f->echo.port, iso, g);
    OM_TEST_WAIT_FOR(base, g->calls, WAIT_MS);
    return g->calls == 1 ? g->circ : NULL;
}

/* A stream sending `len` bytes to the echo server and reading them back. */
typedef struct {
    om_stream_t *s;
    bool connected, ended;
    uint8_t end_reason;
    uint8_t out[65536], in[65536];
    size_t len, sent, got;
} xfer_t;

static void x_send(om_stream_t *s, void *arg)
{
    xfer_t *x = arg;
    ssize_t w = om_stream_write(s, x->out + x->sent, x->len - x->sent);
    if (w > 0) x->sent += (size_t)w;
}

static void x_connected(om_stream_t *s, void *arg)
{
    ((xfer_t *)arg)->connected = true;
    x_send(s, arg);
}

static void x_data(om_stream_t *s, const uint8_t *data, size_t len, void *arg)
{
    xfer_t *x = arg;
    (void)s;
    size_t n = len < sizeof x->in - x->got ? len : sizeof x->in - x->got;
    memcpy(x->in + x->got, data, n);
    x->got += len;
}

static void x_end(om_stream_t *s, uint8_t reason, const char *why, void *arg)
{
    xfer_t *x = arg;
    (void)s;
    (void)why;
    x->ended = true;
    x->end_reason = reason;
    x->s = NULL;
}

/* Open x's stream on circ and send len bytes (after CONNECTED, as windows allow). */
static bool xfer_start(xfer_t *x, om_circuit_t *circ, uint16_t port, size_t len, uint8_t seed)
{
    memset(x, 0, sizeof *x);
    x->len = len;
    for (size_t i = 0; i < len; i++)
        x->out[i] = (uint8_t)(i * 131u + seed);
    om_stream_callbacks_t cb = {.on_connected = x_connected,
                                .on_data = x_data,
                                .on_writable = x_send,
                                .on_end = x_end,
                                .arg = x};
    x->s = om_stream_begin(circ, "127.0.0.1", port, 0, &cb);
    return x->s != NULL;
}

/* Echo `len` bytes through circ; the index of the relay whose exit connected (-1: none or more
 * than one); NULL, or what went wrong. The stream stays open (x->s) unless it failed. */
static const char *echo_through(fix_t *f, xfer_t *x, om_circuit_t *circ, size_t len, int *exit)
{
    uint64_t before[MINNET_MAX];
    for (int i = 0; i < f->net.n; i++) {
        minnet_relay_stats_t rs;
        minnet_relay_stats(&f->net, i, &rs);
        before[i] = rs.exit_connected;
    }
    if (!xfer_start(x, circ, f->echo.port, len, (uint8_t)len)) return "om_stream_begin failed";
    OM_TEST_WAIT_FOR(base, x->got >= len || x->ended, WAIT_MS);
    int changed = 0;
    *exit = -1;
    for (int i = 0; i < f->net.n; i++) {
        minnet_relay_stats_t rs;
        minnet_relay_stats(&f->net, i, &rs);
        if (rs.exit_connected == before[i]) continue;
        changed++;
        *exit = rs.exit_connected == before[i] + 1 ? i : -1;
    }
    if (changed != 1) *exit = -1;
    if (x->ended) return x->connected ? "stream ended early" : "stream refused";
    if (x->got != len) return "timed out";
    if (memcmp(x->in, x->out, len) != 0) return "echoed bytes differ";
    return *exit >= 0 ? NULL : "no single minnet exit connected";
}

/* ---------------------------------------------------------------- tests */

/* Before om_circpool_dir_changed nothing is launched, not even for a waiter (ticks run); after
 * it the waiter gets a circuit and the pool fills up. */
FIX_TEST(test_nothing_before_dir_changed, .no_dir = true)
{
    got_t g;
    CHECK(get(f, f->echo.port, NULL, &g) != NULL);
    om_test_spin(base, 1500); /* the pool's 1 s tick runs */
    om_circpool_stats_t st = stats(f);
    CHECK_EQ_INT(st.launched, 0);
    CHECK_EQ_INT(st.circuits, 0);
    CHECK_EQ_INT(st.waiters, 1);
    CHECK_EQ_INT(g.calls, 0);
    CHECK_EQ_INT(f->n_progress, 0);
    CHECK_EQ_INT(om_linkmgr_count(f->links), 0);
    CHECK_EQ_INT(net_total(f).created, 0);
    om_circpool_dir_changed(f->pool);
    OM_TEST_WAIT_FOR(base, g.calls, WAIT_MS);
    CHECK_MSG(g.calls == 1 && g.circ, "waiter: %d calls, %s", g.calls, g.err);
    CHECK_EQ_INT(om_circuit_state(g.circ), OM_CIRC_OPEN);
    CHECK_EQ_INT(om_circuit_n_hops(g.circ), 3);
    /* The one handed out is dirty: PREBUILT clean ones besides it. */
    WAIT_SETTLED(f, PREBUILT + 1);
    CHECK_EQ_INT(stats(f).circuits, PREBUILT + 1);
    CHECK_EQ_INT(stats(f).waiters, 0);
}

/* After dir_changed: PREBUILT 3-hop circuits built through the relays (each CREATE2'd at three
 * of them), progress 90 then 100 once each, and no more launches once the pool is full. */
FIX_TEST(test_prebuilt_and_progress)
{
    WAIT_SETTLED(f, PREBUILT);
    om_circpool_stats_t st = stats(f);
    CHECK_EQ_INT(st.circuits, PREBUILT);
    CHECK_EQ_INT(st.building, 0);
    CHECK_EQ_INT(st.launched, PREBUILT);
    CHECK_EQ_INT(st.built, PREBUILT);
    CHECK_EQ_INT(st.failed, 0);
    CHECK_EQ_INT(net_total(f).created, 3 * PREBUILT);
    CHECK_EQ_INT(net_total(f).extends, 2 * PREBUILT);
    CHECK_EQ_INT(net_total(f).circuits, 3 * PREBUILT);
    om_test_spin(base, 1500);
    st = stats(f);
    CHECK_EQ_INT(st.launched, PREBUILT);
    CHECK_EQ_INT(st.circuits, PREBUILT);
    /* 90 (circuit_create) first, 100 (done) once and last. circpool.c reports 90 at each launch
     * before the first circuit is built, not only at the first (op.c ignores repeats). */
    CHECK(f->n_progress >= 2 && f->n_progress <= 8);
    int last = f->n_progress - 1;
    for (int i = 0; i < last; i++) {
        CHECK_EQ_INT(f->progress[i], 90);
        CHECK(!strcmp(f->tags[i], "circuit_create"));
    }
    CHECK_EQ_INT(f->progress[last], 100);
    CHECK(!strcmp(f->tags[last], "done"));
}

/* A circuit for the echo port carries a stream end to end: 60 KB out and back byte-exact,
 * through exactly one minnet exit, with congestion control granted by it. */
FIX_TEST(test_stream_end_to_end)
{
    got_t g;
    om_circuit_t *c = get_wait(f, NULL, &g);
    CHECK_MSG(c, "no circuit: %s", g.err);
    CHECK_EQ_INT(om_circuit_n_hops(c), 3);
    static xfer_t x;
    int exit;
    const char *err = echo_through(f, &x, c, 60000, &exit);
    CHECK_MSG(!err, "%s (got %zu of 60000 bytes)", err, x.got);
    CHECK(om_circuit_cc_active(c));
    CHECK_EQ_INT(net_total(f).exit_begins, 1);
    CHECK(om_circuit_has_streams(c));
    om_stream_close(x.s, OM_END_DONE);
    CHECK(!om_circuit_has_streams(c));
}

/* om_circpool_get_to (the DHT's queries): a 3-hop circuit whose last hop is the relay asked (the
 * echo stream leaves through that relay, for two different relays), reused for the same relay
 * and key, never handed to an ordinary stream; a relay not in the consensus is refused at once. */
FIX_TEST(test_get_to_pins_last_hop)
{
    WAIT_SETTLED(f, PREBUILT);
    for (int want = 0; want < 4; want += 3) {
        minnet_relay_stats_t rs;
        minnet_relay_stats(&f->net, want, &rs);
        got_t g, again, plain;
        memset(&g, 0, sizeof g);
        om_circpool_get_to(f->pool, rs.rsa_fp, "dht", got_cb, &g);
        OM_TEST_WAIT_FOR(base, g.calls, WAIT_MS);
        CHECK_MSG(g.calls == 1 && g.circ, "no circuit to relay %d: %s", want, g.err);
        CHECK_EQ_INT(om_circuit_n_hops(g.circ), 3);
        static xfer_t x;
        int exit;
        const char *err = echo_through(f, &x, g.circ, 1000, &exit);
        CHECK_MSG(!err, "%s", err);
        CHECK_EQ_INT(exit, want);
        om_stream_close(x.s, OM_END_DONE);
        memset(&again, 0, sizeof again);
        om_circpool_get_to(f->pool, rs.rsa_fp, "dht", got_cb, &again);
        OM_TEST_WAIT_FOR(base, again.calls, WAIT_MS);
        CHECK(again.circ == g.circ);
        for (int i = 0; i < 3; i++) { /* ordinary streams never get it */
            CHECK(get_wait(f, NULL, &plain) != NULL);
            CHECK(plain.circ != g.circ);
        }
    }
    uint8_t nobody[20];
    memset(nobody, 0x5a, sizeof nobody);
    got_t none;
    memset(&none, 0, sizeof none);
    CHECK(om_circpool_get_to(f->pool, nobody, "dht", got_cb, &none) == NULL);
    CHECK(none.calls == 1 && !none.circ && strstr(none.err, "not a running relay"));
}

/* Different isolation keys get different circuits, the same key the same one; no key is its
 * own class. */
FIX_TEST(test_isolation)
{
    WAIT_SETTLED(f, PREBUILT);
    got_t ga, gb, ga2, gn, gb2;
    om_circuit_t *a = get_wait(f, "alice", &ga), *b = get_wait(f, "bob", &gb);
    CHECK_MSG(a && b, "no circuit: %s %s", ga.err, gb.err);
    CHECK(a != b);
    CHECK(get_wait(f, "alice", &ga2) == a);
    om_circuit_t *n = get_wait(f, NULL, &gn);
    CHECK_MSG(n, "no circuit: %s", gn.err);
    CHECK(n != a && n != b);
    CHECK(get_wait(f, "bob", &gb2) == b);
    CHECK(get_wait(f, NULL, &gn) == n);
    /* All still open: none was closed to make room. */
    CHECK_EQ_INT(om_circuit_state(a), OM_CIRC_OPEN);
    CHECK_EQ_INT(om_circuit_state(b), OM_CIRC_OPEN);
}

/* ConfluxEnabled with exits listing Conflux=1: conflux sets (both legs launched at once) are kept
 * ready besides the plain circuits, and no stream waits for a set to link. Here no set ever links
 * (minnet's relays ignore CONFLUX_LINK), yet every new isolation key gets a circuit at once: the
 * plain prebuilt ones, then plain ones launched for it (tor's circuit_get_open_circ_or_launch).
 * Before, every prebuilt circuit became a set and streams waited for the legs to link. */
FIX_TEST(test_conflux_sets_never_hold_streams, .relays = 6, .conflux = 1, .conflux_proto = true)
{
    OM_TEST_WAIT_FOR(base, stats(f).sets_linking == 3 && stats(f).building == 0, WAIT_MS);
    om_circpool_stats_t s = stats(f);
    CHECK_EQ_INT(s.sets_linking, 3); /* tor's cfx_max_prebuilt_set */
    CHECK_EQ_INT(s.sets_ready, 0);
    CHECK_EQ_INT(s.circuits, PREBUILT + 2 * 3);
    CHECK_EQ_INT((int)s.launched, PREBUILT + 2 * 3);
    for (int i = 0; i < PREBUILT + 2; i++) {
        char iso[8];
        snprintf(iso, sizeof iso, "u%d", i);
        got_t g;
        uint64_t t0 = om_now_usec();
        om_circuit_t *c = get_wait(f, iso, &g);
        CHECK_MSG(c, "no circuit for isolation %s: %s", iso, g.err);
        CHECK_MSG(om_now_usec() - t0 < 10 * 1000000ull, "isolation %s waited %.1f s", iso,
                  (double)(om_now_usec() - t0) / 1e6);
    }
    s = stats(f);
    CHECK_EQ_INT(s.sets_ready, 0);
    CHECK_EQ_INT(s.failed, 0);
}

/* More isolation keys than the pool holds circuits (128): each still gets a circuit, the idle
 * dirty circuits used longest ago closing to make room (before, the pool stopped launching at its
 * cap and the stream failed after 120 s). */
FIX_TEST(test_cap_evicts_idle_dirty)
{
    WAIT_SETTLED(f, PREBUILT);
    om_circuit_t *first = NULL;
    for (int i = 0; i < 140; i++) {
        char iso[8];
        snprintf(iso, sizeof iso, "k%d", i);
        got_t g;
        om_circuit_t *c = get_wait(f, iso, &g);
        CHECK_MSG(c, "no circuit for isolation %s: %s", iso, g.err);
        if (!first) first = c;
    }
    om_circpool_stats_t s = stats(f);
    CHECK_MSG(s.circuits <= 128, "%u circuits", s.circuits);
    CHECK_EQ_INT(s.failed, 0);
    /* The first key's circuit was the oldest idle one: closed, so the key gets a new circuit. */
    got_t g;
    om_circuit_t *again = get_wait(f, "k0", &g);
    CHECK_MSG(again, "no circuit for k0: %s", g.err);
    CHECK(again != first);
}

/* ConfluxEnabled 1 but no exit lists Conflux=1: no set is launched (and nothing is launched over
 * and over looking for one), plain circuits only. */
FIX_TEST(test_conflux_no_conflux_exits, .relays = 6, .conflux = 1, .conflux_proto = false)
{
    WAIT_SETTLED(f, PREBUILT);
    om_test_spin(base, 2500); /* two once-a-second passes */
    om_circpool_stats_t s = stats(f);
    CHECK_EQ_INT(s.circuits, PREBUILT);
    CHECK_EQ_INT((int)s.launched, PREBUILT);
    CHECK_EQ_INT(s.sets_linking + s.sets_ready, 0);
}

/* ConfluxEnabled 0: the same network, plain circuits only. */
FIX_TEST(test_conflux_off_no_sets, .relays = 6, .conflux = 0, .conflux_proto = true)
{
    WAIT_SETTLED(f, PREBUILT);
    om_test_spin(base, 300);
    om_circpool_stats_t s = stats(f);
    CHECK_EQ_INT(s.circuits, PREBUILT);
    CHECK_EQ_INT(s.sets_linking + s.sets_ready, 0);
}

/* A circuit marked unusable is not handed out again (it stays open: its streams may finish). */
FIX_TEST(test_mark_unusable)
{
    WAIT_SETTLED(f, PREBUILT);
    got_t g1, g2, g3;
    om_circuit_t *a = get_wait(f, NULL, &g1);
    CHECK_MSG(a, "no circuit: %s", g1.err);
    CHECK(get_wait(f, NULL, &g2) == a);
    om_circpool_mark_unusable(f->pool, a);
    om_circuit_t *b = get_wait(f, NULL, &g3);
    CHECK_MSG(b, "no circuit: %s", g3.err);
    CHECK(b != a);
    CHECK_EQ_INT(om_circuit_state(a), OM_CIRC_OPEN);
    CHECK(get_wait(f, NULL, &g3) == b);
}

/* MaxCircuitDirtiness 1 s: a circuit handed out is reused within it, not after it (though its
 * stream keeps it open and working); each one handed out is replaced by a clean one, and once
 * the dirty ones have no streams they are closed (NewCircuitPeriod 1 s): the pool is back to
 * PREBUILT clean circuits. */
FIX_TEST(test_dirtiness, .dirtiness_s = 1, .period_s = 1)
{
    WAIT_SETTLED(f, PREBUILT);
    got_t g1, g2, g3;
    om_circuit_t *a = get_wait(f, NULL, &g1);
    time_t t = time(NULL);
    CHECK_MSG(a, "no circuit: %s", g1.err);
    CHECK(get_wait(f, NULL, &g2) == a);
    static xfer_t x;
    int exit;
    const char *err = echo_through(f, &x, a, 1000, &exit);
    CHECK_MSG(!err, "%s", err);
    OM_TEST_WAIT_FOR(base, time(NULL) > t + 2, 5000);
    om_circuit_t *b = get_wait(f, NULL, &g3);
    CHECK_MSG(b, "no circuit: %s", g3.err);
    CHECK(b != a);
    /* a is too dirty but carries a stream: still open, and the stream still works. */
    CHECK_EQ_INT(om_circuit_state(a), OM_CIRC_OPEN);
    x.got = 0;
    x.sent = 0;
    x_send(x.s, &x);
    OM_TEST_WAIT_FOR(base, x.got >= x.len || x.ended, WAIT_MS);
    CHECK_EQ_INT(x.got, 1000);
    CHECK(!memcmp(x.in, x.out, 1000));
    om_stream_close(x.s, OM_END_DONE);
    /* a and b are retired by the tick; replacements keep PREBUILT clean circuits. */
    OM_TEST_WAIT_FOR(base, stats(f).circuits == PREBUILT && stats(f).building == 0, WAIT_MS);
    CHECK_EQ_INT(stats(f).circuits, PREBUILT);
    /* a's and b's replacements were launched when they were handed out; none since. */
    CHECK_EQ_INT(stats(f).launched, PREBUILT + 2);
    CHECK_EQ_INT(stats(f).built, PREBUILT + 2);
}

/* Relays 0-2 reject the echo port: every circuit handed out for it (fresh ones, isolated by
 * key) exits at relay 3, whose exit connects; no refused BEGIN anywhere. */
FIX_TEST(test_exit_policy_port, .reject_echo_mask = 7)
{
    WAIT_SETTLED(f, PREBUILT);
    static const char *keys[] = {"k1", "k2", "k3", "k4", "k5"};
    for (int k = 0; k < 5; k++) {
        got_t g;
        om_circuit_t *c = get_wait(f, keys[k], &g);
        CHECK_MSG(c, "key %s: no circuit: %s", keys[k], g.err);
        static xfer_t x;
        int exit;
        const char *err = echo_through(f, &x, c, 2000, &exit);
        CHECK_MSG(!err, "key %s: %s (exit %d)", keys[k], err, exit);
        CHECK_EQ_INT(exit, 3);
        om_stream_close(x.s, OM_END_DONE);
    }
    CHECK_EQ_INT(net_total(f).exit_refused, 0);
}

/* A request for a port every relay's exit policy rejects is refused at once with the reason, as
 * tor does ("No Tor server allows exit to ..."), and launches nothing; it does not hold up a
 * request behind it. A waiter cancelled while its circuit is being built never hears back. */
FIX_TEST(test_no_exit_for_port_refused_and_cancel)
{
    WAIT_SETTLED(f, PREBUILT);
    got_t g, g2;
    CHECK(get(f, NO_EXIT_PORT, NULL, &g) == NULL);
    CHECK_EQ_INT(g.calls, 1);
    CHECK(g.circ == NULL);
    CHECK_MSG(strstr(g.err, "allows exits to that port") != NULL, "error: %s", g.err);
    om_circuit_t *c = get_wait(f, NULL, &g2);
    CHECK_MSG(c, "request behind it: %s", g2.err);
    om_test_spin(base, 1500); /* replacements are launched once a second, as tor's */
    CHECK_EQ_INT(stats(f).launched, PREBUILT + 1); /* the replacement for c only */
    /* Four isolation keys for three clean circuits: the fourth waits for a new one. */
    static const char *keys[] = {"k1", "k2", "k3", "k4"};
    got_t gk[4];
    void *h = NULL;
    for (int k = 0; k < 4; k++)
        h = get(f, f->echo.port, keys[k], &gk[k]);
    CHECK(h != NULL);
    CHECK_EQ_INT(gk[3].calls, 0);
    om_circpool_cancel(f->pool, h);
    OM_TEST_WAIT_FOR(base, stats(f).building == 0, WAIT_MS);
    om_test_spin(base, 300);
    CHECK_EQ_INT(gk[3].calls, 0);
    CHECK_EQ_INT(stats(f).waiters, 0);
}

/* A waiter's callback cancels another pending waiter of the same pool (the pool walked its list
 * with a pointer into the freed waiter before: ASan saw the use-after-free). */
FIX_TEST(test_callback_cancels_other_waiter)
{
    WAIT_SETTLED(f, PREBUILT);
    static const char *keys[] = {"k1", "k2", "k3"};
    got_t gk[3], a, b;
    for (int k = 0; k < 3; k++) /* the clean circuits are taken */
        CHECK(get(f, f->echo.port, keys[k], &gk[k]) == NULL);
    void *hb = get(f, f->echo.port, "b", &b);
    void *ha = get(f, f->echo.port, "a", &a);
    CHECK(ha && hb);
    b.cancel_pool = f->pool;
    b.cancel_handle = ha; /* b is answered first (first come), and cancels a */
    OM_TEST_WAIT_FOR(base, b.calls, WAIT_MS);
    CHECK_MSG(b.calls == 1 && b.circ, "b: %s", b.err);
    OM_TEST_WAIT_FOR(base, stats(f).building == 0, WAIT_MS);
    om_test_spin(base, 300);
    CHECK_EQ_INT(a.calls, 0);
    CHECK_EQ_INT(stats(f).waiters, 0);
}

/* The same with the cancelled waiter ahead of the one answered: a waiter for the echo port,
 * which only relay 3 (dead) would serve, waits; a request for any port, answered at once from a
 * clean circuit, cancels it from its callback (the pool's walk kept a pointer into it before:
 * ASan saw the use-after-free). The prebuilt circuits may all have gone through relay 3, and
 * new paths would pick it at random: it is excluded (ExcludeNodes), so a waits with no path at
 * all and b is asked for once a clean circuit is built. */
FIX_TEST(test_callback_cancels_earlier_waiter, .reject_echo_mask = 7)
{
    WAIT_SETTLED(f, PREBUILT);
    minnet_relay_stats_t r3;
    minnet_relay_stats(&f->net, 3, &r3);
    char err[128];
    CHECK_MSG(om_nodeset_parse(&f->path.exclude_nodes, r3.nickname, err, sizeof err) == 0, "%s",
              err);
    minnet_kill_relay(&f->net, 3);
    om_test_spin(base, 300); /* circuits through it close */
    got_t a, b;
    void *ha = get(f, f->echo.port, "a", &a);
    CHECK(ha != NULL);
    OM_TEST_WAIT_FOR(base, stats(f).circuits > stats(f).building, WAIT_MS);
    CHECK_MSG(stats(f).circuits > stats(f).building, "no circuit avoiding relay 3 was built");
    CHECK_EQ_INT(a.calls, 0);
    memset(&b, 0, sizeof b);
    b.cancel_pool = f->pool;
    b.cancel_handle = ha;
    void *hb = om_circpool_get(f->pool, 0, NULL, got_cb, &b);
    OM_TEST_WAIT_FOR(base, b.calls, WAIT_MS);
    CHECK_MSG(b.calls == 1 && b.circ, "b: %d calls, %s", b.calls, b.err);
    (void)hb;
    om_test_spin(base, 300);
    CHECK_EQ_INT(a.calls, 0);
    CHECK_EQ_INT(stats(f).waiters, 0);
}

/* The most of the ascending times t[0..n) that fall within any window of w microseconds. */
static int max_in_window(const uint64_t *t, int n, uint64_t w)
{
    int best = 0;
    for (int i = 0, j = 0; j < n; j++) {
        while (t[j] - t[i] >= w)
            i++;
        if (j - i + 1 > best) best = j - i + 1;
    }
    return best;
}

/* Relay 2 of 3 dies: every path needs it, so every build fails (at the link to it as a guard, or
 * at the EXTEND2 to it), and failures are counted. Launches back off: a failed circuit's slot is
 * not relaunched for at least RETRY_BASE_MS (100 ms), doubling with each failure, so the relays
 * never see more than PREBUILT client CREATE2s within 100 ms. More than 5 failures in the first
 * failing NewCircuitPeriod (tor's 30 s) do not stop launches: tor stops only when the period
 * before also failed (did_circs_fail_last_period), so a stream still gets a circuit as soon as a
 * path works again. Revived, the relay makes the pool full again and a stream works. */
FIX_TEST(test_build_failures_back_off, .relays = 3)
{
    WAIT_SETTLED(f, PREBUILT);
    om_circpool_stats_t s0 = stats(f);
    uint64_t killed = om_now_usec();
    minnet_kill_relay(&f->net, 2);
    /* 100 + 200 + 400 ms apart, then 3.2 s: the ninth failure comes about 4 s after the kill. */
    OM_TEST_WAIT_FOR(base, stats(f).failed >= s0.failed + 9, WAIT_MS);
    om_circpool_stats_t s1 = stats(f);
    CHECK_MSG(s1.failed >= s0.failed + 9,
              "only %llu failures: launches stopped in the first period",
              (unsigned long long)(s1.failed - s0.failed));
    CHECK_EQ_INT(s1.built, s0.built);
    CHECK(time(NULL) < f->created + 30); /* still the first period */
    OM_TEST_WAIT_FOR(base, stats(f).building == 0, WAIT_MS);
    om_circpool_stats_t s2 = stats(f);
    /* Every launch since the kill failed; never a burst of relaunches. */
    CHECK_EQ_INT(s2.launched - s0.launched, s2.failed - s0.failed);
    uint64_t t[256];
    int n = minnet_client_create_times(&f->net, killed, t, 256);
    CHECK(n >= PREBUILT);
    CHECK_MSG(max_in_window(t, n, 100000) <= PREBUILT, "%d client CREATE2s within 100 ms",
              max_in_window(t, n, 100000));
    CHECK_MSG(minnet_revive_relay(&f->net, 2) == 0, "%s", f->net.err);
    OM_TEST_WAIT_FOR(base, stats(f).built >= s0.built + PREBUILT && stats(f).building == 0,
                     WAIT_MS);
    CHECK_EQ_INT(stats(f).circuits, PREBUILT);
    CHECK_EQ_INT(stats(f).built, s0.built + PREBUILT);
    got_t g;
    om_circuit_t *c = get_wait(f, NULL, &g);
    CHECK_MSG(c, "no circuit: %s", g.err);
    static xfer_t x;
    int exit;
    const char *err = echo_through(f, &x, c, 3000, &exit);
    CHECK_MSG(!err, "%s", err);
}

/* Freeing the pool while links to guards are being opened and waiters wait: no callback runs
 * afterwards, nothing leaks or is touched after it is freed (ASan), and no circuit is created
 * on the links once they are open. */
FIX_TEST(test_free_while_connecting)
{
    got_t g1, g2;
    CHECK(get(f, f->echo.port, NULL, &g1) != NULL);
    CHECK(get(f, f->echo.port, "x", &g2) != NULL);
    CHECK(stats(f).building > 0);
    om_circpool_free(f->pool);
    f->pool = NULL;
    om_test_spin(base, 1000);
    CHECK_EQ_INT(g1.calls + g2.calls, 0);
    /* The link requests were cancelled: whatever links opened carry no circuit. */
    CHECK_EQ_INT(net_total(f).created, 0);
    CHECK_EQ_INT(net_total(f).circuits, 0);
}

/* Freeing the pool with built circuits (one carrying a stream), circuits being built and waiters
 * pending: the same, and the pool's DESTROYs (not the links closing: they stay) clear the
 * relays' circuits. */
FIX_TEST(test_free_with_circuits)
{
    WAIT_SETTLED(f, PREBUILT);
    got_t g, gk[4], gn;
    om_circuit_t *c = get_wait(f, NULL, &g);
    CHECK_MSG(c, "no circuit: %s", g.err);
    static xfer_t x;
    int exit;
    const char *err = echo_through(f, &x, c, 1000, &exit);
    CHECK_MSG(!err, "%s", err);
    static const char *keys[] = {"k1", "k2", "k3", "k4"};
    for (int k = 0; k < 4; k++)
        get(f, f->echo.port, keys[k], &gk[k]);
    CHECK(get(f, f->echo.port, "k5", &gn) != NULL);
    om_circpool_stats_t st = stats(f);
    CHECK(st.waiters >= 2 && st.building > 0);
    int calls = gk[0].calls + gk[1].calls + gk[2].calls + gk[3].calls + gn.calls;
    unsigned links = om_linkmgr_count(f->links);
    om_circpool_free(f->pool);
    f->pool = NULL;
    OM_TEST_WAIT_FOR(base, net_total(f).circuits == 0, WAIT_MS);
    CHECK_EQ_INT(net_total(f).circuits, 0);
    CHECK_EQ_INT(om_linkmgr_count(f->links), links);
    CHECK_EQ_INT(gk[0].calls + gk[1].calls + gk[2].calls + gk[3].calls + gn.calls, calls);
}

static const om_test_t tests[] = {
    OM_TEST(test_nothing_before_dir_changed),
    OM_TEST(test_prebuilt_and_progress),
    OM_TEST(test_stream_end_to_end),
    OM_TEST(test_isolation),
    OM_TEST(test_get_to_pins_last_hop),
    OM_TEST(test_mark_unusable),
    OM_TEST(test_conflux_sets_never_hold_streams),
    OM_TEST(test_conflux_off_no_sets),
    OM_TEST(test_conflux_no_conflux_exits),
    OM_TEST(test_cap_evicts_idle_dirty),
    OM_TEST(test_dirtiness),
    OM_TEST(test_exit_policy_port),
    OM_TEST(test_no_exit_for_port_refused_and_cancel),
    OM_TEST(test_callback_cancels_other_waiter),
    OM_TEST(test_callback_cancels_earlier_waiter),
    OM_TEST(test_build_failures_back_off),
    OM_TEST(test_free_while_connecting),
    OM_TEST(test_free_with_circuits),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    if (!getenv("OM_LOG")) om_log_set_level(OM_LOG_WARN);
    base = event_base_new();
    int r = om_test_main("circpool", tests, argc, argv);
    event_base_free(base);
    return r;
}

/* test_linkmgr.c — the link manager (src/core/linkmgr.c) in process over real TLS on 127.0.0.1:
 * a client manager and two relay managers (each with an identity and a core TLS listener,
 * listener_tls.c, feeding om_linkmgr_accept). One link per identity reused by later callers,
 * waiters while it opens and cancelling them, a wrong identity refused, the link limit, a relay
 * reusing the authenticated link another relay opened to it only for that relay's own address
 * (canonical-link rule), the owner's unclaimed-cell and link-closed hooks, links through a custom
 * transport factory, and freeing with waiters pending. */
#include <event2/event.h>
#include <event2/listener.h>

#include "core/channel.h"
#include "core/crypto.h"
#include "core/linkmgr.h"
#include "core/listener_tls.h"
#include "core/log.h"
#include "test.h"
#include "test_loop.h"

static struct event_base *base;

/* A relay: identity, ORPort listener, link manager, and what its owner hooks saw. */
typedef struct {
    om_identity_t id;
    om_tls_server_ctx_t *tls;
    om_tls_listener_t *lis; /* the core ORPort listener, feeding om_linkmgr_accept */
    uint16_t port;
    om_linkmgr_t *m;
    int unclaimed, closed;
    uint8_t last_cmd;
} relay_t;

static void r_unclaimed(om_channel_t *chan, const om_cell_t *cell, void *arg)
{
    relay_t *r = arg;
    (void)chan;
    r->unclaimed++;
    r->last_cmd = cell->command;
}

static void r_closed(om_channel_t *chan, const char *reason, void *arg)
{
    (void)chan;
    (void)reason;
    ((relay_t *)arg)->closed++;
}

static bool relay_start(relay_t *r, unsigned max_links)
{
    memset(r, 0, sizeof *r);
    if (om_identity_generate(&r->id) < 0) return false;
    r->tls =
        om_tls_server_ctx_new(r->id.tls_cert, r->id.tls_cert_len, om_rsa_evp_pkey(r->id.tls_key));
    om_linkmgr_opts_t o = {.identity = &r->id, .max_links = max_links};
    om_linkmgr_owner_t ow = {
        .on_unclaimed_cell = r_unclaimed, .on_link_closed = r_closed, .arg = r};
    r->m = om_linkmgr_new(base, &o, &ow);
    char err[256];
    r->lis = r->tls && r->m
                 ? om_tls_listener_new(base, "127.0.0.1", 0, r->tls, r->m, err, sizeof err)
                 : NULL;
    if (r->lis) r->port = om_tls_listener_port(r->lis);
    return r->lis != NULL;
}

static void relay_stop(relay_t *r)
{
    om_tls_listener_free(r->lis);
    om_linkmgr_free(r->m);
    om_tls_server_ctx_free(r->tls);
    om_identity_free(&r->id);
    om_test_spin(base, 20); /* deferred frees */
}

/* A caller of om_linkmgr_get. */
typedef struct {
    int calls;
    om_channel_t *chan;
    char err[200];
} got_t;

static void got(om_channel_t *chan, const char *err, void *arg)
{
    got_t *g = arg;
    g->calls++;
    g->chan = chan;
    snprintf(g->err, sizeof g->err, "%s", err ? err : "");
}

static void *get(om_linkmgr_t *m, const relay_t *to, const char *host, got_t *g)
{
    memset(g, 0, sizeof *g);
    return om_linkmgr_get(m, host, to->port, to->id.rsa_fp, to->id.ed_id.pub, got, g);
}

static void test_one_link_per_identity(void)
{
    relay_t b;
    CHECK(relay_start(&b, 0));
    om_linkmgr_t *cli = om_linkmgr_new(base, NULL, NULL);
    got_t g1, g2, g3, g4;
    /* Two callers while the link opens, one of them cancelled: one connection, one callback. */
    CHECK(get(cli, &b, "127.0.0.1", &g1) != NULL);
    void *h2 = get(cli, &b, "127.0.0.1", &g2);
    CHECK(h2 != NULL);
    CHECK(get(cli, &b, "127.0.0.1", &g3) != NULL);
    om_linkmgr_cancel(cli, h2);
    CHECK_EQ_INT(om_linkmgr_count(cli), 1);
    OM_TEST_WAIT_FOR(base, g1.calls && g3.calls, 5000);
    CHECK_MSG(g1.chan, "link failed: %s", g1.err);
    CHECK(g3.chan == g1.chan);
    CHECK_EQ_INT(g2.calls, 0);
    CHECK(om_channel_peer_identity(g1.chan) != NULL);
    CHECK_MEM(om_channel_peer_identity(g1.chan)->rsa_fp, b.id.rsa_fp, 20);
    /* Later: the open link at once (the callback runs before get returns). */
    CHECK(get(cli, &b, "127.0.0.1", &g4) == NULL);
    CHECK(g4.calls == 1 && g4.chan == g1.chan);
    CHECK_EQ_INT(om_linkmgr_count(cli), 1);
    CHECK_EQ_INT(om_linkmgr_count(b.m), 1);
    CHECK_EQ_INT(om_linkmgr_count_inbound(b.m), 1);
    /* A client link: B's owner hears of cells for unknown circuits on it... */
    om_cell_t c = {.circ_id = 0x80000001u, .command = OM_CELL_CREATE_FAST};
    memset(c.payload, 0, sizeof c.payload);
    CHECK_RET(om_channel_send_cell(g1.chan, &c), 0);
    OM_TEST_WAIT_FOR(base, b.unclaimed, 5000);
    CHECK_EQ_INT(b.last_cmd, OM_CELL_CREATE_FAST);
    /* ...and once of its closing. */
    om_linkmgr_free(cli);
    OM_TEST_WAIT_FOR(base, b.closed, 5000);
    CHECK_EQ_INT(b.closed, 1);
    CHECK_EQ_INT(om_linkmgr_count(b.m), 0);
    relay_stop(&b);
}

static void test_wrong_identity_refused(void)
{
    relay_t b, other;
    CHECK(relay_start(&b, 0));
    CHECK(relay_start(&other, 0));
    om_linkmgr_t *cli = om_linkmgr_new(base, NULL, NULL);
    got_t g;
    memset(&g, 0, sizeof g);
    /* Ask for `other` at b's port: b proves a different identity. */
    CHECK(om_linkmgr_get(cli, "127.0.0.1", b.port, other.id.rsa_fp, NULL, got, &g) != NULL);
    OM_TEST_WAIT_FOR(base, g.calls, 5000);
    CHECK(g.calls == 1 && g.chan == NULL);
    CHECK_MSG(strstr(g.err, "identity") || strstr(g.err, "fingerprint"), "error: %s", g.err);
    OM_TEST_WAIT_FOR(base, om_linkmgr_count(cli) == 0, 2000);
    CHECK_EQ_INT(om_linkmgr_count(cli), 0);
    om_linkmgr_free(cli);
    relay_stop(&b);
    relay_stop(&other);
}

static void test_link_limit(void)
{
    relay_t b;
    CHECK(relay_start(&b, 1));
    om_linkmgr_t *c1 = om_linkmgr_new(base, NULL, NULL);
    om_linkmgr_t *c2 = om_linkmgr_new(base, NULL, NULL);
    got_t g1, g2;
    get(c1, &b, "127.0.0.1", &g1);
    OM_TEST_WAIT_FOR(base, g1.calls, 5000);
    CHECK(g1.chan);
    /* B holds one link (its limit): the second client is refused. */
    get(c2, &b, "127.0.0.1", &g2);
    OM_TEST_WAIT_FOR(base, g2.calls, 5000);
    CHECK(g2.calls == 1 && g2.chan == NULL);
    CHECK_EQ_INT(om_linkmgr_count(b.m), 1);
    /* The client side's own limit: a manager with max_links 1 does not start a second link. */
    om_linkmgr_opts_t o = {.max_links = 1};
    om_linkmgr_t *c3 = om_linkmgr_new(base, &o, NULL);
    got_t g3, g4;
    relay_t d;
    CHECK(relay_start(&d, 0));
    get(c3, &b, "127.0.0.1", &g3);
    CHECK(get(c3, &d, "127.0.0.1", &g4) == NULL);
    CHECK(g4.chan == NULL && strstr(g4.err, "too many") != NULL);
    om_linkmgr_free(c1);
    om_linkmgr_free(c2);
    om_linkmgr_free(c3);
    relay_stop(&b);
    relay_stop(&d);
}

static void test_relay_reuses_authenticated_inbound_link(void)
{
    relay_t b, c;
    CHECK(relay_start(&b, 0));
    CHECK(relay_start(&c, 0));
    /* B (a relay) opens a link to C: it authenticates (tor-spec 4.4). */
    got_t g;
    get(b.m, &c, "127.0.0.1", &g);
    OM_TEST_WAIT_FOR(base, g.calls, 5000);
    CHECK_MSG(g.chan, "link failed: %s", g.err);
    /* C's side opens when B's NETINFO arrives, a moment after B's did. */
    OM_TEST_WAIT_FOR(base, om_linkmgr_count_open(c.m) == 1, 5000);
    CHECK_EQ_INT(om_linkmgr_count_inbound(c.m), 1);
    /* C extending to B at the address B came from uses that link (once it is open on C's side
     * too): no new connection. */
    got_t back;
    get(c.m, &b, "127.0.0.1", &back);
    OM_TEST_WAIT_FOR(base, back.calls, 5000);
    CHECK(back.calls == 1 && back.chan != NULL);
    CHECK(om_channel_peer_authenticated(back.chan));
    CHECK_MEM(om_channel_peer_identity(back.chan)->rsa_fp, b.id.rsa_fp, 20);
    CHECK_EQ_INT(om_linkmgr_count(c.m), 1);
    /* At another address it is not canonical: C opens a link of its own (which fails here:
     * nothing listens on 127.0.0.2 at that port). */
    got_t other;
    get(c.m, &b, "127.0.0.2", &other);
    CHECK_EQ_INT(om_linkmgr_count(c.m), 2);
    OM_TEST_WAIT_FOR(base, other.calls, 5000);
    CHECK(other.calls == 1 && other.chan == NULL);
    relay_stop(&b);
    OM_TEST_WAIT_FOR(base, c.closed >= 1, 5000);
    CHECK_EQ_INT(c.closed, 1); /* the inbound link from B; the failed one never opened */
    relay_stop(&c);
}

/* A transport factory that counts its connections and hands them to TLS. */
static int factory_calls;
static om_transport_t *counting_connect(void *arg, struct event_base *b, const char *host,
                                        uint16_t port)
{
    (void)arg;
    factory_calls++;
    return om_linkmgr_tls_factory.connect(NULL, b, host, port);
}

static void test_transport_factory(void)
{
    relay_t b;
    CHECK(relay_start(&b, 0));
    om_transport_factory_t f = {.name = "counting", .connect = counting_connect};
    om_linkmgr_opts_t o = {.factory = &f};
    om_linkmgr_t *cli = om_linkmgr_new(base, &o, NULL);
    factory_calls = 0;
    got_t g;
    get(cli, &b, "127.0.0.1", &g);
    OM_TEST_WAIT_FOR(base, g.calls, 5000);
    CHECK(g.chan != NULL);
    CHECK_EQ_INT(factory_calls, 1);
    /* om_linkmgr_get_via: another factory for one request (the link exists: not called). */
    got_t g2;
    memset(&g2, 0, sizeof g2);
    CHECK(om_linkmgr_get_via(cli, &om_linkmgr_tls_factory, "127.0.0.1", b.port, b.id.rsa_fp, NULL,
                             got, &g2) == NULL);
    CHECK(g2.chan == g.chan);
    CHECK_EQ_INT(factory_calls, 1);
    om_linkmgr_free(cli);
    relay_stop(&b);
}

static void test_free_with_waiters(void)
{
    relay_t b;
    CHECK(relay_start(&b, 0));
    om_linkmgr_t *cli = om_linkmgr_new(base, NULL, NULL);
    got_t g;
    CHECK(get(cli, &b, "127.0.0.1", &g) != NULL);
    om_linkmgr_free(cli); /* the waiter is dropped: no callback, nothing leaked (ASan) */
    om_test_spin(base, 100);
    CHECK_EQ_INT(g.calls, 0);
    relay_stop(&b);
}

static const om_test_t tests[] = {
    OM_TEST(test_one_link_per_identity),
    OM_TEST(test_wrong_identity_refused),
    OM_TEST(test_link_limit),
    OM_TEST(test_relay_reuses_authenticated_inbound_link),
    OM_TEST(test_transport_factory),
    OM_TEST(test_free_with_waiters),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    if (!getenv("OM_LOG")) om_log_set_level(OM_LOG_WARN);
    base = event_base_new();
    int r = om_test_main("linkmgr", tests, argc, argv);
    event_base_free(base);
    return r;
}

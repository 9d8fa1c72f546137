/* test_interop_circuit.c — multi-hop circuits through three standalone Debian tor relays:
 * CREATE2 to the first, EXTEND2 (in RELAY_EARLY) to the second and third with ntor and ntor-v3,
 * three layers of relay crypto checked by a BEGIN_DIR at the third hop, and a refused EXTEND. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/channel.h"
#include "core/circuit.h"
#include "core/crypto.h"
#include "core/dir_fetch.h"
#include "core/log.h"
#include "core/relay_bodies.h"
#include "dir/router_desc.h"
#include "test.h"
#include "tor_runner.h"

#define N_RELAYS 3
static om_tor_proc_t relays[N_RELAYS];
static om_router_desc_t descs[N_RELAYS];
static int relays_ok;
static struct event_base *base;

typedef struct {
    int opened, closed;
    char reason[300];
} link_ctx_t;

static void l_open(om_channel_t *c, void *arg)
{
    (void)c;
    ((link_ctx_t *)arg)->opened = 1;
}

static void l_close(om_channel_t *c, const char *reason, void *arg)
{
    link_ctx_t *l = arg;
    (void)c;
    l->closed = 1;
    snprintf(l->reason, sizeof l->reason, "%s", reason);
}

static void target_from_desc(om_hop_target_t *t, const om_router_desc_t *d, int htype)
{
    memset(t, 0, sizeof *t);
    memcpy(t->rsa_fp, d->rsa_fp, 20);
    memcpy(t->ed_id, d->ed_id, 32);
    t->has_ed = d->has_ed;
    memcpy(t->ntor_key, d->ntor_key, 32);
    t->ipv4[0] = 127;
    t->ipv4[3] = 1;
    t->or_port = d->or_port;
    t->handshake_type = htype;
}

typedef struct {
    int built, closed;
    char reason[320];
    om_circuit_t *circ;
} circ_ctx_t;

static void c_built(om_circuit_t *circ, void *arg)
{
    circ_ctx_t *x = arg;
    x->built = 1;
    x->circ = circ;
}

static void c_closed(om_circuit_t *circ, const char *reason, void *arg)
{
    circ_ctx_t *x = arg;
    (void)circ;
    x->closed = 1;
    x->circ = NULL;
    snprintf(x->reason, sizeof x->reason, "%s", reason);
}

/* Open a link to relay 0 and build relay0 -> relay1 -> relay2 with the given handshakes. */
static om_channel_t *build_three_hops(link_ctx_t *l, circ_ctx_t *x, int t0, int t1, int t2)
{
    memset(l, 0, sizeof *l);
    memset(x, 0, sizeof *x);
    om_chan_callbacks_t cb = {.on_open = l_open, .on_close = l_close, .arg = l};
    om_channel_t *c = om_channel_connect(base, "127.0.0.1", descs[0].or_port, descs[0].rsa_fp,
                                         descs[0].ed_id, &cb);
    if (!c) return NULL;
    om_test_run_until(base, &l->opened, 30);
    if (!l->opened) return c;
    om_hop_target_t path[3];
    target_from_desc(&path[0], &descs[0], t0);
    target_from_desc(&path[1], &descs[1], t1);
    target_from_desc(&path[2], &descs[2], t2);
    om_circ_callbacks_t ccb = {.on_built = c_built, .on_closed = c_closed, .arg = x};
    if (!om_circuit_build(c, path, 3, &ccb)) {
        snprintf(x->reason, sizeof x->reason, "om_circuit_build failed");
        x->closed = 1;
        return c;
    }
    uint64_t end = om_now_usec() + 30000000u;
    while (!x->built && !x->closed && om_now_usec() < end)
        om_test_run_until(base, &x->built, 1);
    return c;
}

static void finish(om_channel_t *c)
{
    if (c) om_channel_free(c);
    int z = 0;
    om_test_run_until(base, &z, 0);
    struct timeval tv = {0, 20000};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
}

static void test_relays_started(void)
{
    printf("# interop against: %s\n", om_tor_version());
    CHECK_MSG(relays_ok, "tor relays did not start (logs in /tmp/om-tor-*)");
    CHECK(descs[2].has_ntor && descs[2].has_ed);
}

static void test_three_hops_ntor(void)
{
    CHECK(relays_ok);
    link_ctx_t l;
    circ_ctx_t x;
    om_channel_t *c = build_three_hops(&l, &x, OM_HANDSHAKE_TYPE_NTOR, OM_HANDSHAKE_TYPE_NTOR,
                                       OM_HANDSHAKE_TYPE_NTOR);
    int ok = x.built && x.circ && om_circuit_n_hops(x.circ) == 3;
    char why[400];
    snprintf(why, sizeof why, "%.150s / %.200s", l.reason, x.reason);
    if (x.circ) om_circuit_close(x.circ, OM_DESTROY_FINISHED, "done");
    finish(c);
    CHECK_MSG(ok, "3-hop circuit not built: %s", why);
}

static void test_three_hops_ntor_v3(void)
{
    CHECK(relays_ok);
    link_ctx_t l;
    circ_ctx_t x;
    om_channel_t *c = build_three_hops(&l, &x, OM_HANDSHAKE_TYPE_NTOR_V3, OM_HANDSHAKE_TYPE_NTOR_V3,
                                       OM_HANDSHAKE_TYPE_NTOR_V3);
    int ok = x.built && x.circ && om_circuit_n_hops(x.circ) == 3;
    char why[400];
    snprintf(why, sizeof why, "%.150s / %.200s", l.reason, x.reason);
    if (x.circ) om_circuit_close(x.circ, OM_DESTROY_FINISHED, "done");
    finish(c);
    CHECK_MSG(ok, "3-hop ntor-v3 circuit not built: %s", why);
}

/* ---------------------------------------------------------------- BEGIN_DIR at hop 3 */

typedef struct {
    int fetched, status;
    char err[200];
    char *body;
    size_t len;
} fetch_ctx_t;

static void fetch_cb(int status, const uint8_t *body, size_t len, const char *err, void *arg)
{
    fetch_ctx_t *f = arg;
    f->fetched = 1;
    f->status = status;
    if (err) snprintf(f->err, sizeof f->err, "%s", err);
    if (body) {
        f->body = malloc(len + 1);
        memcpy(f->body, body, len);
        f->body[len] = 0;
        f->len = len;
    }
}

/* The third hop's own descriptor over BEGIN_DIR through two other relays: three layers of relay
 * crypto each way, and the answer must be byte-identical to what its DirPort serves. (Exits
 * refuse RELAY_BEGIN from relays missing from their consensus, so BEGIN to the Internet is
 * tested on the full test network, in interop-network.) */
static void test_begin_dir_at_third_hop(void)
{
    CHECK(relays_ok);
    link_ctx_t l;
    circ_ctx_t x;
    om_channel_t *c = build_three_hops(&l, &x, OM_HANDSHAKE_TYPE_NTOR, OM_HANDSHAKE_TYPE_NTOR_V3,
                                       OM_HANDSHAKE_TYPE_NTOR);
    fetch_ctx_t f;
    memset(&f, 0, sizeof f);
    if (x.built && om_dir_fetch(x.circ, "/tor/server/authority", 1 << 20, fetch_cb, &f) == 0) {
        uint64_t end = om_now_usec() + 30000000u;
        while (!f.fetched && !x.closed && om_now_usec() < end)
            om_test_run_until(base, &f.fetched, 1);
    }
    if (x.circ) om_circuit_close(x.circ, OM_DESTROY_FINISHED, "done");
    finish(c);
    CHECK_MSG(x.built, "circuit: %.150s %.150s", l.reason, x.reason);
    CHECK_MSG(f.fetched && f.status == 200, "fetch: %d %s", f.status, f.err);
    size_t plen;
    char *plain = om_http_get_local(relays[2].dir_port, "/tor/server/authority", &plen);
    CHECK(plain);
    int same = plen == f.len && !memcmp(plain, f.body, plen);
    free(plain);
    free(f.body);
    CHECK_MSG(same, "descriptor over 3 hops differs from the exit's DirPort copy");
}

/* A circuit through the same relay twice is refused by tor (EXTEND2 to itself): we must see it
 * closed with a reason, not hang. */
static void test_extend_to_previous_hop_refused(void)
{
    CHECK(relays_ok);
    link_ctx_t l;
    memset(&l, 0, sizeof l);
    om_chan_callbacks_t cb = {.on_open = l_open, .on_close = l_close, .arg = &l};
    om_channel_t *c = om_channel_connect(base, "127.0.0.1", descs[0].or_port, descs[0].rsa_fp,
                                         descs[0].ed_id, &cb);
    CHECK(c);
    om_test_run_until(base, &l.opened, 30);
    circ_ctx_t x;
    memset(&x, 0, sizeof x);
    om_hop_target_t path[2];
    target_from_desc(&path[0], &descs[0], OM_HANDSHAKE_TYPE_NTOR);
    target_from_desc(&path[1], &descs[0], OM_HANDSHAKE_TYPE_NTOR);
    om_circ_callbacks_t ccb = {.on_built = c_built, .on_closed = c_closed, .arg = &x};
    if (l.opened && om_circuit_build(c, path, 2, &ccb)) {
        uint64_t end = om_now_usec() + 30000000u;
        while (!x.built && !x.closed && om_now_usec() < end)
            om_test_run_until(base, &x.closed, 1);
    }
    if (x.circ) om_circuit_close(x.circ, OM_DESTROY_FINISHED, "done");
    finish(c);
    CHECK(l.opened);
    CHECK_MSG(!x.built && x.closed, "extend to self: built=%d closed=%d", x.built, x.closed);
    printf("# refused as expected: %s\n", x.reason);
}

static const om_test_t tests[] = {
    OM_TEST(test_relays_started),
    OM_TEST(test_three_hops_ntor),
    OM_TEST(test_three_hops_ntor_v3),
    OM_TEST(test_begin_dir_at_third_hop),
    OM_TEST(test_extend_to_previous_hop_refused),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    base = event_base_new();
    relays_ok = 1;
    for (int i = 0; i < N_RELAYS && relays_ok; i++) {
        char name[16];
        snprintf(name, sizeof name, "circ%d", i);
        relays_ok = om_tor_start(&relays[i], name, i == N_RELAYS - 1 ? 2 : 1, NULL) == 0;
    }
    for (int i = 0; i < N_RELAYS && relays_ok; i++) {
        char *d = om_tor_wait_descriptor(&relays[i], 60);
        char err[128];
        relays_ok = d && om_router_desc_parse(d, strlen(d), &descs[i], err, sizeof err) == 0;
        free(d);
    }
    int r = om_test_main("interop_circuit", tests, argc, argv);
    for (int i = 0; i < N_RELAYS; i++)
        om_tor_stop(&relays[i]);
    event_base_free(base);
    return r;
}

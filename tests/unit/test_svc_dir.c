/* test_svc_dir.c — src/or/svc_dir.c, the BEGIN_DIR service of a relay (the or_fixture relay,
 * its directory cache fetching the tor 0.4.9 test-network snapshot from a fake authority):
 * at most OM_SVC_DIR_MAX_PER_CIRC (8) directory streams at once per circuit (the 9th END
 * RESOURCELIMIT, another accepted once one closed); a stream without a complete request is closed
 * OM_SVC_DIR_REQUEST_TIMEOUT_S (30 s) after BEGIN_DIR, and one whose answer cannot move (the
 * client reads nothing) OM_SVC_DIR_IDLE_TIMEOUT_S (60 s) after its last progress, not at 30 s
 * (END TIMEOUT), on the service's test clock. */
#include <stdlib.h>
#include <string.h>

#include "dircache_fake.h"
#include "or/svc_dir.h"
#include "or_fixture.h"
#include "test.h"

static time_t svc_now;
static time_t svc_clock(void)
{
    return svc_now;
}

typedef struct {
    fix_relay_t r;
    fake_auth_t a;
    om_dircache_t *cache;
    om_svc_dir_t *svc;
    fix_client_t c;
} env_t;

static bool env_start(env_t *e)
{
    memset(e, 0, sizeof *e);
    if (!fix_relay_start(&e->r, NULL, NULL) || !fake_auth_start(e->r.base, &e->a)) return false;
    clock_now = SNAP_VA;
    e->cache = om_dircache_new_with_clock(e->r.base, e->a.auths, 3, test_clock, NULL);
    const om_dir_store_t *st = om_dircache_store(e->cache);
    OM_TEST_WAIT_FOR(e->r.base, om_dircache_ready(e->cache) && st->n_mds == 6, 5000);
    e->svc = om_svc_dir_new(NULL, e->cache);
    om_svc_dir_set_clock(e->svc, svc_clock);
    svc_now = 1000;
    om_stream_service_t s;
    om_svc_dir_service(e->svc, &s);
    return om_dircache_ready(e->cache) && st->n_mds == 6 &&
           om_or_streams_add_service(e->r.streams, &s) == 0 &&
           fix_client_create(&e->r, &e->c, FIX_CIRC);
}

static void env_stop(env_t *e)
{
    fix_relay_stop(&e->r); /* closes the streams first */
    om_svc_dir_free(e->svc);
    om_dircache_free(e->cache);
    fake_auth_stop(&e->a);
}

/* Everything waiting for the client: per stream, CONNECTED seen and the END reason (0: none). */
typedef struct {
    bool connected[64];
    uint8_t end[64];
} seen_t;

static void drain(env_t *e, seen_t *s)
{
    om_relay_header_t h;
    uint8_t body[OM_RELAY_PAYLOAD_LEN];
    while (fix_client_recv(&e->r, &e->c, &h, body, NULL) != 0) {
        if (h.stream_id >= 64) continue;
        if (h.command == OM_RELAY_CONNECTED) s->connected[h.stream_id] = true;
        if (h.command == OM_RELAY_END) s->end[h.stream_id] = body[0];
    }
}

static void begin_dir(env_t *e, uint16_t sid, const char *req)
{
    CHECK(fix_client_send(&e->r, &e->c, OM_RELAY_BEGIN_DIR, sid, NULL, 0, false) == 0);
    size_t len = req ? strlen(req) : 0;
    for (size_t off = 0; off < len; off += OM_RELAY_PAYLOAD_LEN) {
        size_t n = len - off < OM_RELAY_PAYLOAD_LEN ? len - off : OM_RELAY_PAYLOAD_LEN;
        CHECK(fix_client_send(&e->r, &e->c, OM_RELAY_DATA, sid, req + off, n, false) == 0);
    }
}

static unsigned open_streams(const env_t *e)
{
    om_svc_dir_stats_t st;
    om_svc_dir_stats(e->svc, &st);
    return st.streams;
}

static void test_eight_per_circuit(void)
{
    env_t e;
    CHECK(env_start(&e));
    seen_t s = {0};
    for (uint16_t sid = 1; sid <= OM_SVC_DIR_MAX_PER_CIRC; sid++)
        begin_dir(&e, sid, NULL); /* no request yet: each stays open */
    drain(&e, &s);
    for (int sid = 1; sid <= OM_SVC_DIR_MAX_PER_CIRC; sid++)
        CHECK(s.connected[sid] && !s.end[sid]);
    begin_dir(&e, 9, NULL);
    drain(&e, &s);
    CHECK(!s.connected[9]);
    CHECK_EQ_INT(s.end[9], OM_END_RESOURCELIMIT);
    CHECK_EQ_INT(open_streams(&e), 8);
    /* One closes (the client's END): another may open. */
    uint8_t reason = OM_END_DONE;
    CHECK(fix_client_send(&e.r, &e.c, OM_RELAY_END, 1, &reason, 1, false) == 0);
    begin_dir(&e, 10, NULL);
    drain(&e, &s);
    CHECK(s.connected[10] && !s.end[10]);
    CHECK_EQ_INT(open_streams(&e), 8);
    env_stop(&e);
}

static void test_request_timeout(void)
{
    env_t e;
    CHECK(env_start(&e));
    seen_t s = {0};
    begin_dir(&e, 1, "GET /tor/status-vote/"); /* incomplete head */
    begin_dir(&e, 2, NULL);                    /* nothing */
    begin_dir(&e, 3, "GET /tor/status-vote/current/consensus HTTP/1.0\r\n\r\n");
    svc_now += OM_SVC_DIR_REQUEST_TIMEOUT_S - 1;
    om_svc_dir_sweep(e.svc);
    drain(&e, &s);
    CHECK(!s.end[1] && !s.end[2]);
    CHECK_EQ_INT(s.end[3], OM_END_DONE); /* answered at once */
    svc_now += 1;
    om_svc_dir_sweep(e.svc);
    drain(&e, &s);
    CHECK_EQ_INT(s.end[1], OM_END_TIMEOUT);
    CHECK_EQ_INT(s.end[2], OM_END_TIMEOUT);
    CHECK_EQ_INT(open_streams(&e), 0);
    env_stop(&e);
}

/* A request for 22 microdescriptors (~10 KB of answer); the client takes nothing from the link,
 * so the relay's link and then the circuit's queue fill and answers stop moving. */
static void big_request(env_t *e, char *out, size_t outsz)
{
    const om_dir_store_t *st = om_dircache_store(e->cache);
    size_t n = (size_t)snprintf(out, outsz, "GET /tor/micro/d/");
    for (int i = 0; i < 22; i++) {
        char b64[48];
        om_base64_encode(st->mds[i % st->n_mds].digest, 32, b64, sizeof b64, true);
        n += (size_t)snprintf(out + n, outsz - n, "%s%s", i ? "-" : "", b64);
    }
    snprintf(out + n, outsz - n, " HTTP/1.0\r\n\r\n");
}

static void test_idle_timeout(void)
{
    env_t e;
    CHECK(env_start(&e));
    static char req[2048];
    big_request(&e, req, sizeof req);
    /* Streams one after another until 8 are stuck mid-answer (the ones before finished). */
    uint16_t sid = 1;
    while (open_streams(&e) < OM_SVC_DIR_MAX_PER_CIRC && sid < 60)
        begin_dir(&e, sid++, req);
    CHECK_EQ_INT(open_streams(&e), OM_SVC_DIR_MAX_PER_CIRC);
    /* Past the request timeout: answering streams stay. */
    svc_now += OM_SVC_DIR_REQUEST_TIMEOUT_S + 1;
    om_svc_dir_sweep(e.svc);
    CHECK_EQ_INT(open_streams(&e), OM_SVC_DIR_MAX_PER_CIRC);
    svc_now = 1000 + OM_SVC_DIR_IDLE_TIMEOUT_S - 1;
    om_svc_dir_sweep(e.svc);
    CHECK_EQ_INT(open_streams(&e), OM_SVC_DIR_MAX_PER_CIRC);
    svc_now += 1;
    om_svc_dir_sweep(e.svc);
    CHECK_EQ_INT(open_streams(&e), 0);
    om_svc_dir_stats_t st;
    om_svc_dir_stats(e.svc, &st);
    CHECK_EQ_INT(st.timeouts, OM_SVC_DIR_MAX_PER_CIRC);
    /* The client reads now: the stuck streams ended TIMEOUT. */
    seen_t s = {0};
    drain(&e, &s);
    CHECK_EQ_INT(s.end[sid - 1], OM_END_TIMEOUT);
    CHECK_EQ_INT(s.end[1], OM_END_DONE);
    env_stop(&e);
}

static const om_test_t tests[] = {
    OM_TEST(test_eight_per_circuit),
    OM_TEST(test_request_timeout),
    OM_TEST(test_idle_timeout),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("svc_dir", tests, argc, argv);
}

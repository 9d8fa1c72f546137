/* test_or_limits.c — the limits and rules a relay applies to a client's cells
 * (src/or/or_circuit.c, src/or/or_streams.c), each at its exact bound, over the in-memory link of
 * or_fixture.h: a CREATE whose circuit ID is of the relay's half (tor-spec 5.1.1), the circuit
 * limit (the fixture's relay allows 16: the 17th CREATE gets DESTROY RESOURCELIMIT), 200 CREATEs
 * per link per second, a CREATE2 ntor HLEN of exactly 84, at most 8
 * RELAY_EARLY cells per circuit (tor-spec 5.6: the 9th closes it), at most 256 streams per
 * circuit (the 257th BEGIN gets END RESOURCELIMIT), a BEGIN on a stream ID in use (the circuit
 * closes), a RESOLVE without its NUL (END TORPROTOCOL) and, with congestion control, a malformed
 * XON (the circuit closes). The cases a mutation of the check would let through
 * (tools/mutations.txt) are the ones asserted. */
#include <event2/event.h>

#include "core/cell.h"
#include "core/congestion.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/onion_handshake.h"
#include "core/relay_bodies.h"
#include "or/or_circuit.h"
#include "or/or_streams.h"
#include "or/relay_keys.h"
#include "or/stream_service.h"
#include "or_fixture.h"
#include "test.h"

/* A service that opens every stream (CONNECTED) and keeps it. */
static void keep_begin(void *arg, om_or_stream_t *s, const om_begin_t *b)
{
    (void)arg;
    (void)b;
    om_or_stream_send(s, OM_RELAY_CONNECTED, NULL, 0);
}

static void keep_release(void *arg, om_or_stream_t *s)
{
    (void)arg;
    (void)s;
}

static const om_stream_service_t keep_svc = {
    .name = "keep", .command = OM_RELAY_BEGIN, .begin = keep_begin, .release = keep_release};
static const om_stream_service_t keep_resolve = {.name = "keep-resolve",
                                                 .command = OM_RELAY_RESOLVE,
                                                 .begin = keep_begin,
                                                 .release = keep_release};

/* The relay's answer to a CREATE_FAST with this circuit ID: its command, and a DESTROY's reason. */
static int create_fast_answer(fix_relay_t *r, uint32_t id, uint8_t *reason)
{
    om_cell_t cell = {.circ_id = id, .command = OM_CELL_CREATE_FAST}, reply;
    om_rand_bytes(cell.payload, 20);
    if (om_mem_link_feed(&r->link, &cell) < 0) return -1;
    if (om_mem_link_take(&r->link, &reply) != 1 || reply.circ_id != id) return -1;
    *reason = reply.payload[0];
    return reply.command;
}

static void test_circ_id_of_our_half_refused(void)
{
    fix_relay_t r;
    uint8_t reason = 0;
    CHECK(fix_relay_start(&r, NULL, NULL));
    int cmd = create_fast_answer(&r, 0x00000005u, &reason); /* no high bit: the relay's half */
    int ok = create_fast_answer(&r, 0x80000005u, &reason);
    fix_relay_stop(&r);
    CHECK_EQ_INT(cmd, OM_CELL_DESTROY);
    CHECK_EQ_INT(ok, OM_CELL_CREATED_FAST);
}

static void test_circuit_limit_exact(void)
{
    fix_relay_t r;
    uint8_t reason = 0;
    int n_ok = 0, last = -1;
    CHECK(fix_relay_start(&r, NULL, NULL));
    for (uint32_t i = 0; i < 17; i++) {
        last = create_fast_answer(&r, 0x80000100u + i, &reason);
        n_ok += last == OM_CELL_CREATED_FAST;
    }
    fix_relay_stop(&r);
    CHECK_EQ_INT(n_ok, 16);
    CHECK_EQ_INT(last, OM_CELL_DESTROY);
    CHECK_EQ_INT(reason, OM_DESTROY_RESOURCELIMIT);
}

/* RELAY_EARLY DROP cells: the 8th is taken, the 9th closes the circuit with PROTOCOL. */
static void test_ninth_relay_early_closes(void)
{
    fix_relay_t r;
    fix_client_t c;
    om_relay_header_t h;
    uint8_t body[OM_RELAY_PAYLOAD_LEN], reason = 0;
    CHECK(fix_relay_start(&r, NULL, NULL));
    CHECK(fix_client_create(&r, &c, FIX_CIRC));
    int t8 = 0, t9 = 0;
    for (int i = 1; i <= 9; i++) {
        fix_client_send(&r, &c, OM_RELAY_DROP, 0, NULL, 0, true);
        int t = fix_client_recv(&r, &c, &h, body, &reason);
        if (i == 8) t8 = t;
        if (i == 9) t9 = t;
    }
    fix_relay_stop(&r);
    CHECK_EQ_INT(t8, 0);
    CHECK_EQ_INT(t9, 2);
    CHECK_EQ_INT(reason, OM_DESTROY_PROTOCOL);
}

static void test_stream_limit_exact(void)
{
    fix_relay_t r;
    fix_client_t c;
    CHECK(fix_relay_start(&r, NULL, NULL));
    CHECK_RET(om_or_streams_add_service(r.streams, &keep_svc), 0);
    CHECK(fix_client_create(&r, &c, FIX_CIRC));
    uint8_t body[OM_RELAY_PAYLOAD_LEN];
    om_begin_t b = {.host = "limit.example", .port = 80};
    int n = om_begin_encode(&b, body, sizeof body);
    CHECK(n > 0);
    int connected = 0;
    for (uint16_t id = 1; id <= OM_OR_MAX_STREAMS_PER_CIRC; id++) {
        fix_client_send(&r, &c, OM_RELAY_BEGIN, id, body, (size_t)n, false);
        connected += fix_drain(&r, &c, OM_RELAY_CONNECTED, NULL, NULL);
    }
    uint8_t end_reason = 0;
    bool destroyed = false;
    fix_client_send(&r, &c, OM_RELAY_BEGIN, OM_OR_MAX_STREAMS_PER_CIRC + 1, body, (size_t)n, false);
    int ends = fix_drain(&r, &c, OM_RELAY_END, &destroyed, &end_reason);
    int more = fix_drain(&r, &c, OM_RELAY_CONNECTED, NULL, NULL);
    fix_relay_stop(&r);
    CHECK_EQ_INT(connected, OM_OR_MAX_STREAMS_PER_CIRC);
    CHECK_EQ_INT(ends, 1);
    CHECK_EQ_INT(end_reason, OM_END_RESOURCELIMIT);
    CHECK_EQ_INT(more, 0);
    CHECK(!destroyed);
}

static void test_stream_id_in_use_dropped(void)
{
    fix_relay_t r;
    fix_client_t c;
    CHECK(fix_relay_start(&r, NULL, NULL));
    CHECK_RET(om_or_streams_add_service(r.streams, &keep_svc), 0);
    CHECK(fix_client_create(&r, &c, FIX_CIRC));
    uint8_t body[OM_RELAY_PAYLOAD_LEN];
    om_begin_t b = {.host = "twice.example", .port = 80};
    int n = om_begin_encode(&b, body, sizeof body);
    CHECK(n > 0);
    bool destroyed = false;
    fix_client_send(&r, &c, OM_RELAY_BEGIN, FIX_STREAM, body, (size_t)n, false);
    int first = fix_drain(&r, &c, OM_RELAY_CONNECTED, &destroyed, NULL);
    fix_client_send(&r, &c, OM_RELAY_BEGIN, FIX_STREAM, body, (size_t)n, false);
    int second = fix_drain(&r, &c, OM_RELAY_CONNECTED, &destroyed, NULL);
    fix_relay_stop(&r);
    /* tor: "Begin cell for known stream. Dropping." (the circuit stays) */
    CHECK_EQ_INT(first, 1);
    CHECK_EQ_INT(second, 0);
    CHECK(!destroyed);
}

static void test_resolve_without_nul(void)
{
    fix_relay_t r;
    fix_client_t c;
    CHECK(fix_relay_start(&r, NULL, NULL));
    CHECK_RET(om_or_streams_add_service(r.streams, &keep_resolve), 0);
    CHECK(fix_client_create(&r, &c, FIX_CIRC));
    uint8_t end_reason = 0;
    bool destroyed = false;
    fix_client_send(&r, &c, OM_RELAY_RESOLVE, FIX_STREAM, "no-nul.example", 14, false);
    int ends = fix_drain(&r, &c, OM_RELAY_END, &destroyed, &end_reason);
    /* Control: the same name with its NUL reaches the service. */
    fix_client_send(&r, &c, OM_RELAY_RESOLVE, FIX_STREAM + 1, "no-nul.example", 15, false);
    int served = fix_drain(&r, &c, OM_RELAY_CONNECTED, &destroyed, NULL);
    fix_relay_stop(&r);
    CHECK_EQ_INT(ends, 1);
    CHECK_EQ_INT(end_reason, OM_END_TORPROTOCOL);
    CHECK_EQ_INT(served, 1);
    CHECK(!destroyed);
}

/* With congestion control, a malformed XON (unknown version) closes the circuit (prop 324 4.1);
 * a well-formed one on another circuit does not. */
static void test_malformed_xon_closes(void)
{
    for (int bad = 0; bad <= 1; bad++) {
        fix_relay_t r;
        fix_client_t c;
        CHECK(fix_relay_start(&r, NULL, NULL));
        r.cc_sendme_inc = 31;
        CHECK_RET(om_or_streams_add_service(r.streams, &keep_svc), 0);
        CHECK(fix_client_create(&r, &c, FIX_CIRC));
        uint8_t body[OM_RELAY_PAYLOAD_LEN];
        om_begin_t b = {.host = "xon.example", .port = 80};
        int n = om_begin_encode(&b, body, sizeof body);
        CHECK(n > 0);
        bool destroyed = false;
        fix_client_send(&r, &c, OM_RELAY_BEGIN, FIX_STREAM, body, (size_t)n, false);
        int connected = fix_drain(&r, &c, OM_RELAY_CONNECTED, &destroyed, NULL);
        n = om_xon_encode(0, body, sizeof body);
        CHECK(n == OM_XON_BODY_LEN);
        if (bad) body[0] = OM_FLOW_VERSION + 1;
        fix_client_send(&r, &c, OM_RELAY_XON, FIX_STREAM, body, (size_t)n, false);
        fix_drain(&r, &c, OM_RELAY_END, &destroyed, NULL);
        fix_relay_stop(&r);
        CHECK_EQ_INT(connected, 1);
        CHECK_MSG(destroyed == (bool)bad, "%s XON: circuit %s", bad ? "malformed" : "good",
                  destroyed ? "closed" : "left open");
    }
}

/* At most 200 CREATEs per link per second (or_circuit.h): within one second the 201st gets
 * DESTROY RESOURCELIMIT. Retried if the second changed while they were sent. */
static void test_create_burst_exact(void)
{
    for (int attempt = 0; attempt < 5; attempt++) {
        fix_relay_t r;
        uint8_t reason = 0;
        int n_ok = 0, last = -1;
        CHECK(fix_relay_start_limit(&r, NULL, NULL, 1000));
        time_t t0 = time(NULL);
        for (uint32_t i = 0; i <= OM_OR_CREATE_BURST_PER_LINK; i++) {
            last = create_fast_answer(&r, 0x80001000u + i, &reason);
            n_ok += last == OM_CELL_CREATED_FAST;
        }
        bool same_second = time(NULL) == t0;
        fix_relay_stop(&r);
        if (!same_second) continue;
        CHECK_EQ_INT(n_ok, OM_OR_CREATE_BURST_PER_LINK);
        CHECK_EQ_INT(last, OM_CELL_DESTROY);
        CHECK_EQ_INT(reason, OM_DESTROY_RESOURCELIMIT);
        return;
    }
    CHECK_MSG(0, "201 CREATEs never fitted in one second");
}

/* CREATE2 ntor (tor-spec 5.1.4): HLEN must be exactly 84. A valid onionskin for the relay's
 * onion key is answered; the same with one byte more (HLEN 85) is refused. */
static void test_ntor_hlen_exact(void)
{
    om_relay_keys_t keys;
    memset(&keys, 0, sizeof keys);
    om_rand_bytes(keys.rsa_fp, 20);
    CHECK(om_x25519_keygen(&keys.ntor) == 0);
    int got[2];
    for (int extra = 0; extra <= 1; extra++) {
        fix_relay_t r;
        CHECK(fix_relay_start(&r, NULL, &keys));
        om_ntor_client_t st;
        om_cell_t cell = {.circ_id = FIX_CIRC, .command = OM_CELL_CREATE2}, reply;
        uint16_t hlen = (uint16_t)(OM_NTOR_ONIONSKIN_LEN + extra);
        cell.payload[0] = 0;
        cell.payload[1] = OM_HANDSHAKE_TYPE_NTOR;
        cell.payload[2] = (uint8_t)(hlen >> 8);
        cell.payload[3] = (uint8_t)hlen;
        CHECK(om_ntor_client_create(&st, keys.rsa_fp, keys.ntor.pub, cell.payload + 4) == 0);
        om_ntor_client_clear(&st);
        got[extra] = om_mem_link_feed(&r.link, &cell) == 0 && om_mem_link_take(&r.link, &reply) == 1
                         ? reply.command
                         : -1;
        fix_relay_stop(&r);
    }
    CHECK_EQ_INT(got[0], OM_CELL_CREATED2);
    CHECK_EQ_INT(got[1], OM_CELL_DESTROY);
}

static const om_test_t tests[] = {
    OM_TEST(test_circ_id_of_our_half_refused), OM_TEST(test_circuit_limit_exact),
    OM_TEST(test_create_burst_exact),          OM_TEST(test_ntor_hlen_exact),
    OM_TEST(test_ninth_relay_early_closes),    OM_TEST(test_stream_limit_exact),
    OM_TEST(test_stream_id_in_use_dropped),    OM_TEST(test_resolve_without_nul),
    OM_TEST(test_malformed_xon_closes),        {NULL, NULL},
};

int main(int argc, char **argv)
{
    if (!getenv("OM_LOG")) om_log_set_level(OM_LOG_WARN);
    return om_test_main("or_limits", tests, argc, argv);
}

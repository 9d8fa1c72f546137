/* test_or_streams.c — the relay's stream layer (src/or/or_streams.c) and its service table over
 * an in-memory link: a client builds a one-hop circuit (CREATE_FAST) to a relay whose stream layer
 * has test services registered, and talks relay cells to it. Routing (a named service, the
 * catch-all, nothing for BEGIN_DIR/BEGIN), a service's stream life (CONNECTED, data both ways,
 * END, release on END and on circuit close), the windows (a service stopped at 500 cells and
 * pulled again by a stream SENDME), the client's violations (past the stream window without our
 * SENDMEs, a forged circuit SENDME) closing the circuit, and the table's refusals. */
#include <event2/event.h>

#include "core/channel_int.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/onion_handshake.h"
#include "core/relay_crypto.h"
#include "core/sendme.h"
#include "or_fixture.h"
#include "or/or_circuit.h"
#include "or/or_sched.h"
#include "or/or_streams.h"
#include "test.h"

#define CIRC   FIX_CIRC
#define STREAM FIX_STREAM

/* ---------------------------------------------------------------- test services */

/* "echo": CONNECTED, then every DATA cell back at once (or when the windows allow). "sink":
 * CONNECTED, keeps everything, never drains its edge (so no stream SENDMEs). "bulk": sends
 * `bulk_cells` DATA cells as the windows allow. */
typedef struct {
    int begins, releases, data_cells;
    char last_host[256];
    uint16_t last_port;
    unsigned bulk_cells, bulk_sent;
    uint8_t pending[OM_RELAY_PAYLOAD_LEN];
    size_t pending_len;
} svc_t;

static svc_t svc;

static void bulk_pull(void *arg, om_or_stream_t *s)
{
    (void)arg;
    uint8_t body[OM_RELAY_PAYLOAD_LEN];
    while (svc.bulk_sent < svc.bulk_cells) {
        memset(body, (int)(svc.bulk_sent & 0xff), sizeof body);
        if (om_or_stream_send_data(s, body, sizeof body) < 0) return;
        svc.bulk_sent++;
    }
}

static void svc_begin(void *arg, om_or_stream_t *s, const om_begin_t *b)
{
    (void)arg;
    svc.begins++;
    snprintf(svc.last_host, sizeof svc.last_host, "%s", b ? b->host : "");
    svc.last_port = b ? b->port : 0;
    om_or_stream_set_state(s, &svc);
    om_or_stream_send(s, OM_RELAY_CONNECTED, NULL, 0);
    if (svc.bulk_cells) bulk_pull(arg, s);
}

static void echo_data(void *arg, om_or_stream_t *s, const uint8_t *d, size_t n)
{
    (void)arg;
    svc.data_cells++;
    if (om_or_stream_send_data(s, d, n) < 0) {
        memcpy(svc.pending, d, n);
        svc.pending_len = n;
    }
    om_or_stream_edge_buffered(s, 0);
}

static void sink_data(void *arg, om_or_stream_t *s, const uint8_t *d, size_t n)
{
    (void)arg;
    (void)d;
    svc.data_cells++;
    om_or_stream_edge_buffered(s, (size_t)svc.data_cells * n); /* never drains */
}

static void svc_release(void *arg, om_or_stream_t *s)
{
    (void)arg;
    CHECK(om_or_stream_state(s) == &svc);
    svc.releases++;
}

/* ---------------------------------------------------------------- the relay */

typedef fix_relay_t relay_t;
typedef fix_client_t client_t;

static bool relay_start(relay_t *r)
{
    memset(&svc, 0, sizeof svc);
    return fix_relay_start(r, NULL, NULL);
}

static int add(relay_t *r, uint8_t command, const char *host,
               void (*data)(void *, om_or_stream_t *, const uint8_t *, size_t),
               void (*pull)(void *, om_or_stream_t *))
{
    om_stream_service_t v = {.name = "test",
                             .command = command,
                             .hostname = host,
                             .begin = svc_begin,
                             .data = data,
                             .pull = pull,
                             .release = svc_release};
    return om_or_streams_add_service(r->streams, &v);
}

/* ---------------------------------------------------------------- the client */

static bool client_create(relay_t *r, client_t *c)
{
    return fix_client_create(r, c, CIRC);
}

static int client_send(relay_t *r, client_t *c, uint8_t command, uint16_t stream, const void *body,
                       size_t len)
{
    return fix_client_send(r, c, command, stream, body, len, false);
}

static int client_begin(relay_t *r, client_t *c, const char *host, uint16_t port)
{
    return fix_client_begin(r, c, host, port);
}

static int client_recv(relay_t *r, client_t *c, om_relay_header_t *h, uint8_t *body)
{
    return fix_client_recv(r, c, h, body, NULL);
}

#define drain      fix_drain
#define relay_stop fix_relay_stop

/* ---------------------------------------------------------------- tests */

static void test_routing(void)
{
    relay_t r;
    client_t c;
    CHECK(relay_start(&r));
    CHECK_RET(add(&r, OM_RELAY_BEGIN, "echo.onionmesh.invalid", echo_data, NULL), 0);
    CHECK(client_create(&r, &c));
    /* A named service gets its name (any case) ... */
    CHECK_RET(client_begin(&r, &c, "ECHO.onionmesh.invalid", 9), 0);
    CHECK_EQ_INT(svc.begins, 1);
    CHECK_EQ_INT(svc.last_port, 9);
    CHECK_EQ_INT(drain(&r, &c, OM_RELAY_CONNECTED, NULL, NULL), 1);
    /* ... other names find no service: END EXITPOLICY, as a non-exit answers. */
    uint8_t reason = 0;
    om_begin_t b;
    memset(&b, 0, sizeof b);
    snprintf(b.host, sizeof b.host, "example.com");
    b.port = 80;
    uint8_t body[OM_RELAY_PAYLOAD_LEN];
    int n = om_begin_encode(&b, body, sizeof body);
    CHECK_RET(client_send(&r, &c, OM_RELAY_BEGIN, STREAM + 1, body, (size_t)n), 0);
    CHECK_EQ_INT(drain(&r, &c, OM_RELAY_END, NULL, &reason), 1);
    CHECK_EQ_INT(reason, OM_END_EXITPOLICY);
    /* No BEGIN_DIR service: END NOTDIRECTORY. */
    CHECK_RET(client_send(&r, &c, OM_RELAY_BEGIN_DIR, STREAM + 2, NULL, 0), 0);
    CHECK_EQ_INT(drain(&r, &c, OM_RELAY_END, NULL, &reason), 1);
    CHECK_EQ_INT(reason, OM_END_NOTDIRECTORY);
    /* With a catch-all, the unnamed BEGIN goes there; the named one still to its own. */
    CHECK_RET(add(&r, OM_RELAY_BEGIN, NULL, echo_data, NULL), 0);
    CHECK_RET(client_send(&r, &c, OM_RELAY_BEGIN, STREAM + 3, body, (size_t)n), 0);
    CHECK_EQ_INT(svc.begins, 2);
    CHECK(!strcmp(svc.last_host, "example.com"));
    /* Malformed BEGIN: END TORPROTOCOL, the circuit stays. */
    CHECK_RET(client_send(&r, &c, OM_RELAY_BEGIN, STREAM + 4, "x", 1), 0);
    bool destroyed = false;
    CHECK_EQ_INT(drain(&r, &c, OM_RELAY_END, &destroyed, &reason), 1);
    CHECK_EQ_INT(reason, OM_END_TORPROTOCOL);
    CHECK(!destroyed);
    /* The table refuses a second claim on the same name, and a service without release. */
    CHECK_RET(add(&r, OM_RELAY_BEGIN, "echo.onionmesh.INVALID", echo_data, NULL), -1);
    CHECK_RET(add(&r, OM_RELAY_BEGIN, NULL, echo_data, NULL), -1);
    om_stream_service_t bad = {.command = OM_RELAY_BEGIN_DIR, .begin = svc_begin};
    CHECK_RET(om_or_streams_add_service(r.streams, &bad), -1);
    relay_stop(&r);
}

static void test_echo_and_release(void)
{
    relay_t r;
    client_t c;
    CHECK(relay_start(&r));
    CHECK_RET(add(&r, OM_RELAY_BEGIN, "echo.onionmesh.invalid", echo_data, NULL), 0);
    CHECK(client_create(&r, &c));
    CHECK_RET(client_begin(&r, &c, "echo.onionmesh.invalid", 1), 0);
    CHECK_EQ_INT(drain(&r, &c, OM_RELAY_CONNECTED, NULL, NULL), 1);
    /* 200 cells out, 200 back byte for byte; stream SENDMEs come back every 50. */
    int back = 0, sendmes = 0;
    for (int i = 0; i < 200; i++) {
        uint8_t d[OM_RELAY_PAYLOAD_LEN];
        memset(d, i, sizeof d);
        CHECK_RET(client_send(&r, &c, OM_RELAY_DATA, STREAM, d, sizeof d), 0);
        om_relay_header_t h;
        uint8_t body[OM_RELAY_PAYLOAD_LEN];
        int t;
        while ((t = client_recv(&r, &c, &h, body)) == 1) {
            if (h.command == OM_RELAY_SENDME && h.stream_id == STREAM) sendmes++;
            if (h.command != OM_RELAY_DATA) continue;
            CHECK(h.length == sizeof d && body[0] == (uint8_t)back && body[497] == (uint8_t)back);
            back++;
        }
        CHECK_EQ_INT(t, 0);
    }
    CHECK_EQ_INT(back, 200);
    CHECK_EQ_INT(sendmes, 4);
    /* END from the client: the service releases the stream; later DATA is dropped quietly. */
    uint8_t done = OM_END_DONE;
    CHECK_RET(client_send(&r, &c, OM_RELAY_END, STREAM, &done, 1), 0);
    CHECK_EQ_INT(svc.releases, 1);
    CHECK_RET(client_send(&r, &c, OM_RELAY_DATA, STREAM, "late", 4), 0);
    CHECK_EQ_INT(svc.data_cells, 200);
    /* Closing the circuit releases open streams too. */
    CHECK_RET(client_begin(&r, &c, "echo.onionmesh.invalid", 1), 0);
    om_cell_t d = {.circ_id = CIRC, .command = OM_CELL_DESTROY};
    memset(d.payload, 0, sizeof d.payload);
    CHECK_RET(om_mem_link_feed(&r.link, &d), 0);
    CHECK_EQ_INT(svc.releases, 2);
    relay_stop(&r);
}

static void test_windows_stop_and_resume_a_service(void)
{
    relay_t r;
    client_t c;
    CHECK(relay_start(&r));
    CHECK_RET(add(&r, OM_RELAY_BEGIN, "bulk.onionmesh.invalid", echo_data, bulk_pull), 0);
    CHECK(client_create(&r, &c));
    svc.bulk_cells = 800;
    CHECK_RET(client_begin(&r, &c, "bulk.onionmesh.invalid", 1), 0);
    /* The stream window stops the service at 500 (our circuit SENDMEs keep the circuit's open). */
    CHECK_EQ_INT(drain(&r, &c, OM_RELAY_DATA, NULL, NULL), 500);
    CHECK_EQ_INT(svc.bulk_sent, 500);
    /* Each stream SENDME lets it send 50 more, through its pull. */
    for (int i = 0; i < 6; i++)
        CHECK_RET(client_send(&r, &c, OM_RELAY_SENDME, STREAM, NULL, 0), 0);
    CHECK_EQ_INT(drain(&r, &c, OM_RELAY_DATA, NULL, NULL), 300);
    CHECK_EQ_INT(svc.bulk_sent, 800);
    /* Ten more SENDMEs fill the window to 500; the eleventh is a violation: DESTROY. */
    for (int i = 0; i < 10; i++)
        CHECK_RET(client_send(&r, &c, OM_RELAY_SENDME, STREAM, NULL, 0), 0);
    bool destroyed = false;
    drain(&r, &c, OM_RELAY_DATA, &destroyed, NULL);
    CHECK(!destroyed);
    CHECK_RET(client_send(&r, &c, OM_RELAY_SENDME, STREAM, NULL, 0), 0);
    drain(&r, &c, OM_RELAY_DATA, &destroyed, NULL);
    CHECK(destroyed);
    CHECK_EQ_INT(svc.releases, 1);
    relay_stop(&r);
}

static void test_client_past_stream_window_closes_circuit(void)
{
    relay_t r;
    client_t c;
    CHECK(relay_start(&r));
    CHECK_RET(add(&r, OM_RELAY_BEGIN, "sink.onionmesh.invalid", sink_data, NULL), 0);
    CHECK(client_create(&r, &c));
    CHECK_RET(client_begin(&r, &c, "sink.onionmesh.invalid", 1), 0);
    /* The sink never drains, so we send no stream SENDME: 500 cells are all the client may
     * send (tor-spec 7.4); the 501st closes the circuit (tor: "conn deliver_window below 0"). */
    bool destroyed = false;
    uint8_t d[OM_RELAY_PAYLOAD_LEN] = {0};
    for (int i = 0; i < 500; i++)
        CHECK_RET(client_send(&r, &c, OM_RELAY_DATA, STREAM, d, sizeof d), 0);
    CHECK_EQ_INT(drain(&r, &c, OM_RELAY_SENDME, &destroyed, NULL), 5); /* circuit-level only */
    CHECK(!destroyed);
    CHECK_RET(client_send(&r, &c, OM_RELAY_DATA, STREAM, d, sizeof d), 0);
    drain(&r, &c, OM_RELAY_DATA, &destroyed, NULL);
    CHECK(destroyed);
    CHECK_EQ_INT(svc.data_cells, 500);
    relay_stop(&r);
}

static void test_forged_circuit_sendme_closes_circuit(void)
{
    relay_t r;
    client_t c;
    CHECK(relay_start(&r));
    CHECK_RET(add(&r, OM_RELAY_BEGIN, "bulk.onionmesh.invalid", echo_data, bulk_pull), 0);
    CHECK(client_create(&r, &c));
    c.no_sendmes = true;
    svc.bulk_cells = 100;
    CHECK_RET(client_begin(&r, &c, "bulk.onionmesh.invalid", 1), 0);
    CHECK_EQ_INT(drain(&r, &c, OM_RELAY_DATA, NULL, NULL), 100);
    /* Proposal 289: the SENDME must carry the 100th cell's digest; one bit off is fatal. */
    uint8_t sb[OM_SENDME_V1_BODY_LEN];
    c.last_digest[19] ^= 1;
    om_sendme_build_v1(sb, c.last_digest);
    CHECK_RET(client_send(&r, &c, OM_RELAY_SENDME, 0, sb, sizeof sb), 0);
    bool destroyed = false;
    drain(&r, &c, OM_RELAY_DATA, &destroyed, NULL);
    CHECK(destroyed);
    relay_stop(&r);
}

static void test_right_circuit_sendme_accepted(void)
{
    relay_t r;
    client_t c;
    CHECK(relay_start(&r));
    CHECK_RET(add(&r, OM_RELAY_BEGIN, "bulk.onionmesh.invalid", echo_data, bulk_pull), 0);
    CHECK(client_create(&r, &c));
    c.no_sendmes = true;
    svc.bulk_cells = 100;
    CHECK_RET(client_begin(&r, &c, "bulk.onionmesh.invalid", 1), 0);
    CHECK_EQ_INT(drain(&r, &c, OM_RELAY_DATA, NULL, NULL), 100);
    uint8_t sb[OM_SENDME_V1_BODY_LEN];
    om_sendme_build_v1(sb, c.last_digest);
    CHECK_RET(client_send(&r, &c, OM_RELAY_SENDME, 0, sb, sizeof sb), 0);
    bool destroyed = false;
    drain(&r, &c, OM_RELAY_DATA, &destroyed, NULL);
    CHECK(!destroyed);
    relay_stop(&r);
}

static const om_test_t tests[] = {
    OM_TEST(test_routing),
    OM_TEST(test_echo_and_release),
    OM_TEST(test_windows_stop_and_resume_a_service),
    OM_TEST(test_client_past_stream_window_closes_circuit),
    OM_TEST(test_forged_circuit_sendme_closes_circuit),
    OM_TEST(test_right_circuit_sendme_accepted),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    if (!getenv("OM_LOG")) om_log_set_level(OM_LOG_WARN);
    return om_test_main("or_streams", tests, argc, argv);
}

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
#include "mem_link.h"
#include "or/or_circuit.h"
#include "or/or_sched.h"
#include "or/or_streams.h"
#include "test.h"

#define CIRC   0x80000001u
#define STREAM 7

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

typedef struct {
    struct event_base *base;
    om_or_sched_t *sched;
    om_or_circuits_t *circs;
    om_or_streams_t *streams;
    om_mem_link_t link;
} relay_t;

static void on_unclaimed(om_channel_t *chan, const om_cell_t *cell, void *arg)
{
    relay_t *r = arg;
    om_or_circuits_unclaimed_cell(r->circs, chan, cell);
}

static bool relay_start(relay_t *r)
{
    memset(r, 0, sizeof *r);
    memset(&svc, 0, sizeof svc);
    r->base = event_base_new();
    r->sched = om_or_sched_new(0, om_or_circ_oom, NULL);
    r->streams = om_or_streams_new(NULL, NULL);
    if (!r->base || !r->sched || !r->streams) return false;
    om_or_circ_params_t p = {
        .max_circuits = 16,
        .stream_handler = om_or_streams_handle,
        .on_circ_free = om_or_streams_circ_free,
        .stream_arg = r->streams,
        .sched = r->sched,
        .on_writable = om_or_streams_writable,
        .base = r->base,
    };
    r->circs = om_or_circuits_new(&p);
    om_chan_callbacks_t cb = {.on_unclaimed_cell = on_unclaimed, .arg = r};
    /* The client link comes from a relay (exits serve only those; a named service does not ask). */
    return r->circs && om_mem_link_open(&r->link, r->base, OM_CHAN_RESPONDER, &cb);
}

static void relay_stop(relay_t *r)
{
    om_or_circuits_free(r->circs);
    om_or_streams_free(r->streams);
    if (r->link.base) om_mem_link_close(&r->link);
    om_or_sched_free(r->sched);
    if (r->base) event_base_free(r->base);
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

typedef struct {
    om_relay_crypto_t crypto;
    om_sendme_t fc;          /* our side's circuit flow control (SENDMEs to the relay) */
    bool no_sendmes;         /* do not answer DATA with circuit SENDMEs */
    uint8_t last_digest[20]; /* running digest after the last DATA cell */
} client_t;

static bool client_create(relay_t *r, client_t *c)
{
    memset(c, 0, sizeof *c);
    om_sendme_init(&c->fc, 0);
    om_fast_client_t fc;
    uint8_t x[OM_FAST_LEN];
    om_cell_t cell = {.circ_id = CIRC, .command = OM_CELL_CREATE_FAST}, reply;
    memset(cell.payload, 0, sizeof cell.payload);
    if (om_fast_client_create(&fc, x) < 0) return false;
    memcpy(cell.payload, x, sizeof x);
    om_handshake_keys_t keys;
    bool ok = om_mem_link_feed(&r->link, &cell) == 0 && om_mem_link_take(&r->link, &reply) == 1 &&
              reply.command == OM_CELL_CREATED_FAST &&
              om_fast_client_finish(&fc, reply.payload, 2 * OM_FAST_LEN, &keys) == 0 &&
              om_relay_crypto_init(&c->crypto, keys.keys) == 0;
    om_fast_client_clear(&fc);
    return ok;
}

static int client_send(relay_t *r, client_t *c, uint8_t command, uint16_t stream, const void *body,
                       size_t len)
{
    om_cell_t cell = {.circ_id = CIRC, .command = OM_CELL_RELAY};
    if (om_relay_payload_build(cell.payload, command, stream, body, len) < 0) return -1;
    om_relay_crypto_set_digest_fwd(&c->crypto, cell.payload);
    om_relay_crypto_encrypt_fwd(&c->crypto, cell.payload);
    return om_mem_link_feed(&r->link, &cell);
}

static int client_begin(relay_t *r, client_t *c, const char *host, uint16_t port)
{
    om_begin_t b;
    memset(&b, 0, sizeof b);
    snprintf(b.host, sizeof b.host, "%s", host);
    b.port = port;
    uint8_t body[OM_RELAY_PAYLOAD_LEN];
    int n = om_begin_encode(&b, body, sizeof body);
    return n < 0 ? -1 : client_send(r, c, OM_RELAY_BEGIN, STREAM, body, (size_t)n);
}

/* The next cell from the relay: 1 a relay message (h, body), 2 DESTROY, 0 none, -1 garbage.
 * DATA is answered with circuit SENDMEs as an origin does. */
static int client_recv(relay_t *r, client_t *c, om_relay_header_t *h, uint8_t *body)
{
    om_cell_t cell;
    int t = om_mem_link_take(&r->link, &cell);
    if (t <= 0) return t;
    if (cell.command == OM_CELL_DESTROY) return 2;
    if (cell.command != OM_CELL_RELAY) return -1;
    om_relay_crypto_decrypt_back(&c->crypto, cell.payload);
    if (!om_relay_crypto_check_back(&c->crypto, cell.payload) ||
        om_relay_header_unpack(h, cell.payload) < 0)
        return -1;
    memcpy(body, cell.payload + OM_RELAY_HEADER_LEN, h->length);
    if (h->command == OM_RELAY_DATA) om_relay_crypto_last_digest_back(&c->crypto, c->last_digest);
    if (h->command == OM_RELAY_DATA && !c->no_sendmes && om_sendme_note_delivered(&c->fc) == 1) {
        uint8_t d[20], sb[OM_SENDME_V1_BODY_LEN];
        om_relay_crypto_last_digest_back(&c->crypto, d);
        client_send(r, c, OM_RELAY_SENDME, 0, sb, om_sendme_build_v1(sb, d));
    }
    return 1;
}

/* Read everything waiting; count messages of `command` on the stream and note a DESTROY. */
static int drain(relay_t *r, client_t *c, uint8_t command, bool *destroyed, uint8_t *end_reason)
{
    om_relay_header_t h;
    uint8_t body[OM_RELAY_PAYLOAD_LEN];
    int n = 0, t;
    while ((t = client_recv(r, c, &h, body)) != 0) {
        if (t == 2 && destroyed) *destroyed = true;
        if (t != 1) continue;
        if (h.command == command) n++;
        if (h.command == OM_RELAY_END && end_reason) *end_reason = body[0];
    }
    return n;
}

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

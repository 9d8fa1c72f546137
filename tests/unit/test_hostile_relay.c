/* test_hostile_relay.c — hostile input at a relay, over the in-memory link (or_fixture.h): a
 * victim client's circuit and an offender's circuit share one link to the relay; each case sends
 * the offender's bad input and asserts the outcome tor has (checked against tor's relay.c,
 * command.c and channeltls.c) and that only the offending stream, circuit or link died: the
 * victim's circuit then still carries a stream byte for byte. Cases: END and TRUNCATE with an
 * empty body; truncated and odd BEGINs; BEGIN on stream 0 or on a stream in use; DATA, END,
 * SENDME on unknown and half-closed streams; CERTS and VERSIONS after the handshake; circuit IDs
 * 0, in use, and of the wrong half (tor-spec "CREATE and CREATED cells"); circuit and stream
 * SENDME floods; congestion-control SENDMEs that would wedge Vegas (too early, too many, v0,
 * wrong digest) and XON/XOFF floods; variable-length cells with huge lengths, PADDING_NEGOTIATE
 * with odd bodies, unknown cell and relay commands. */
#include <event2/event.h>

#include "core/crypto.h"
#include "core/relay_bodies.h"
#include "core/sendme.h"
#include "or_fixture.h"
#include "test.h"

#define VICTIM 0x80000001u
#define EVIL   0x80000002u

/* ---------------------------------------------------------------- an echo service */

static int releases;

static void echo_begin(void *arg, om_or_stream_t *s, const om_begin_t *b)
{
    (void)arg;
    (void)b;
    om_or_stream_send(s, OM_RELAY_CONNECTED, NULL, 0);
}

static void echo_data(void *arg, om_or_stream_t *s, const uint8_t *d, size_t n)
{
    (void)arg;
    om_or_stream_send_data(s, d, n);
    om_or_stream_edge_buffered(s, 0);
}

static void echo_release(void *arg, om_or_stream_t *s)
{
    (void)arg;
    (void)s;
    releases++;
}

/* ---------------------------------------------------------------- clients and what they got */

#define CL_MAX 256

typedef struct {
    fix_client_t c;
    int n; /* relay messages received (the first CL_MAX are kept) */
    uint8_t cmd[CL_MAX];
    uint16_t stream[CL_MAX], len[CL_MAX];
    uint8_t body[CL_MAX][64]; /* the first 64 bytes of each */
    bool destroyed;
    uint8_t destroy_reason;
    int n_data;           /* DATA cells received, all of them */
    uint8_t dig[128][20]; /* the running backward digest after DATA cell i + 1 */
} cl_t;

static cl_t *cls[8];
static int n_cls;
/* Cells for circuits no client has (DESTROYs answering refused CREATEs). */
static int n_stray;
static uint32_t stray_id;
static uint8_t stray_cmd, stray_reason;

static bool start(fix_relay_t *r)
{
    n_cls = 0;
    n_stray = 0;
    releases = 0;
    if (!fix_relay_start(r, NULL, NULL)) return false;
    om_stream_service_t v = {.name = "echo",
                             .command = OM_RELAY_BEGIN,
                             .begin = echo_begin,
                             .data = echo_data,
                             .release = echo_release};
    return om_or_streams_add_service(r->streams, &v) == 0;
}

static bool client(fix_relay_t *r, cl_t *c, uint32_t id)
{
    memset(c, 0, sizeof *c);
    cls[n_cls++] = c;
    return fix_client_create(r, &c->c, id);
}

static cl_t *client_of(uint32_t id)
{
    for (int i = 0; i < n_cls; i++)
        if (cls[i]->c.id == id) return cls[i];
    return NULL;
}

/* Take every cell the relay sent and file it with its client. */
static void pump(fix_relay_t *r)
{
    om_cell_t cell;
    event_base_loop(r->base, EVLOOP_NONBLOCK);
    while (om_mem_link_take(&r->link, &cell) == 1) {
        cl_t *c = client_of(cell.circ_id);
        if (!c) {
            n_stray++;
            stray_id = cell.circ_id;
            stray_cmd = cell.command;
            stray_reason = cell.payload[0];
            continue;
        }
        if (cell.command == OM_CELL_DESTROY) {
            c->destroyed = true;
            c->destroy_reason = cell.payload[0];
            continue;
        }
        om_relay_header_t h;
        if (cell.command != OM_CELL_RELAY) continue;
        om_relay_crypto_decrypt_back(&c->c.crypto, cell.payload);
        if (!om_relay_crypto_check_back(&c->c.crypto, cell.payload) ||
            om_relay_header_unpack(&h, cell.payload) < 0)
            continue;
        if (h.command == OM_RELAY_DATA && c->n_data < 128)
            om_relay_crypto_last_digest_back(&c->c.crypto, c->dig[c->n_data++]);
        if (c->n >= CL_MAX) continue;
        c->cmd[c->n] = h.command;
        c->stream[c->n] = h.stream_id;
        c->len[c->n] = h.length;
        memcpy(c->body[c->n], cell.payload + OM_RELAY_HEADER_LEN, h.length < 64 ? h.length : 64);
        c->n++;
        event_base_loop(r->base, EVLOOP_NONBLOCK);
    }
}

/* Messages of `command` on `stream` since message `from`; *first_byte gets the last one's. */
static int count(const cl_t *c, int from, uint8_t command, uint16_t stream, uint8_t *first_byte)
{
    int n = 0;
    for (int i = from; i < c->n; i++)
        if (c->cmd[i] == command && c->stream[i] == stream) {
            n++;
            if (first_byte) *first_byte = c->len[i] ? c->body[i][0] : 0xff;
        }
    return n;
}

static int send_msg(fix_relay_t *r, cl_t *c, uint8_t command, uint16_t stream, const void *body,
                    size_t len)
{
    int rc = fix_client_send(r, &c->c, command, stream, body, len, false);
    pump(r);
    return rc;
}

static int send_begin(fix_relay_t *r, cl_t *c, uint16_t stream)
{
    om_begin_t b;
    memset(&b, 0, sizeof b);
    snprintf(b.host, sizeof b.host, "echo.example");
    b.port = 7;
    uint8_t body[OM_RELAY_PAYLOAD_LEN];
    int n = om_begin_encode(&b, body, sizeof body);
    return n < 0 ? -1 : send_msg(r, c, OM_RELAY_BEGIN, stream, body, (size_t)n);
}

/* A stream on c's circuit: CONNECTED, "hello <stream>" echoed byte for byte, END. NULL if all
 * of that worked, else what did not. */
static const char *stream_works(fix_relay_t *r, cl_t *c, uint16_t stream)
{
    static char why[96];
    int from = c->n;
    if (c->destroyed) return "the circuit was destroyed";
    if (om_channel_state(r->link.chan) != OM_CHAN_OPEN) return "the link is not open";
    send_begin(r, c, stream);
    if (count(c, from, OM_RELAY_CONNECTED, stream, NULL) != 1) return "no CONNECTED";
    char msg[32];
    int ml = snprintf(msg, sizeof msg, "hello %u", stream);
    from = c->n;
    send_msg(r, c, OM_RELAY_DATA, stream, msg, (size_t)ml);
    if (count(c, from, OM_RELAY_DATA, stream, NULL) != 1 || c->len[c->n - 1] != ml ||
        memcmp(c->body[c->n - 1], msg, (size_t)ml)) {
        snprintf(why, sizeof why, "echo on stream %u not returned byte for byte", stream);
        return why;
    }
    int before = releases;
    uint8_t done = OM_END_DONE;
    send_msg(r, c, OM_RELAY_END, stream, &done, 1);
    if (releases != before + 1) return "END did not release the stream";
    return c->destroyed ? "destroyed" : NULL;
}

#define CHECK_WORKS(r, c, stream)                                                                  \
    do {                                                                                           \
        const char *w_ = stream_works((r), (c), (stream));                                         \
        CHECK_MSG(w_ == NULL, "%s: %s", #c, w_);                                                   \
    } while (0)

/* ---------------------------------------------------------------- relay messages */

/* tor reads END's reason (and TRUNCATE's) from the payload; an empty body is END MISC / a
 * TRUNCATE all the same: only that stream ends, TRUNCATE is answered with TRUNCATED. */
static void test_end_and_truncate_with_empty_body(void)
{
    fix_relay_t r;
    cl_t v, e;
    CHECK(start(&r));
    CHECK(client(&r, &v, VICTIM) && client(&r, &e, EVIL));
    CHECK_RET(send_begin(&r, &e, 3), 0);
    CHECK_EQ_INT(count(&e, 0, OM_RELAY_CONNECTED, 3, NULL), 1);
    int before = releases;
    CHECK_RET(send_msg(&r, &e, OM_RELAY_END, 3, NULL, 0), 0);
    CHECK_EQ_INT(releases, before + 1);
    int from = e.n;
    CHECK_RET(send_msg(&r, &e, OM_RELAY_TRUNCATE, 0, NULL, 0), 0);
    CHECK_EQ_INT(count(&e, from, OM_RELAY_TRUNCATED, 0, NULL), 1);
    CHECK(!e.destroyed);
    CHECK_WORKS(&r, &e, 4);
    CHECK_WORKS(&r, &v, 1);
    fix_relay_stop(&r);
}

/* tor-spec 6.2 / tor's begin_cell_parse: a BEGIN whose ADDRPORT does not parse gets END
 * TORPROTOCOL on that stream; the circuit stays. */
static void test_truncated_and_odd_begins(void)
{
    static const struct {
        const char *body;
        size_t len;
    } bad[] = {
        {"example.com:80", 14},      /* no NUL */
        {"example.com", 11},         /* no NUL, no port */
        {"example.com\0", 12},       /* no port */
        {"example.com:\0", 13},      /* empty port */
        {"example.com:0\0", 14},     /* port 0 */
        {"example.com:65536\0", 18}, /* port too big */
        {"example.com:99999\0", 18},
        {"example.com:123456\0", 19},
        {"example.com:8a\0", 15},
        {":80\0", 4},    /* empty host */
        {"[]:80\0", 6},  /* empty IPv6 host */
        {"::1:80\0", 7}, /* IPv6 without brackets */
        {"\0", 1},       /* empty */
        {"", 0},         /* no body */
    };
    fix_relay_t r;
    cl_t v, e;
    CHECK(start(&r));
    CHECK(client(&r, &v, VICTIM) && client(&r, &e, EVIL));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint16_t sid = (uint16_t)(10 + i);
        int from = e.n;
        uint8_t reason = 0;
        CHECK_RET(send_msg(&r, &e, OM_RELAY_BEGIN, sid, bad[i].body, bad[i].len), 0);
        CHECK_MSG(count(&e, from, OM_RELAY_END, sid, &reason) == 1 && reason == OM_END_TORPROTOCOL,
                  "BEGIN body %zu: no END TORPROTOCOL", i);
        CHECK_MSG(count(&e, from, OM_RELAY_CONNECTED, sid, NULL) == 0, "BEGIN body %zu opened", i);
        CHECK_MSG(!e.destroyed, "BEGIN body %zu destroyed the circuit", i);
    }
    CHECK_EQ_INT(releases, 0);
    CHECK_WORKS(&r, &e, 40);
    CHECK_WORKS(&r, &v, 1);
    fix_relay_stop(&r);
}

/* tor drops BEGIN with stream ID 0 ("Relay command with zero stream_id") and BEGIN for a stream
 * it has ("Begin cell for known stream"): the open stream and the circuit go on. */
static void test_begin_on_stream_zero_or_in_use(void)
{
    fix_relay_t r;
    cl_t v, e;
    CHECK(start(&r));
    CHECK(client(&r, &v, VICTIM) && client(&r, &e, EVIL));
    int from = e.n;
    CHECK_RET(send_begin(&r, &e, 0), 0);
    CHECK_EQ_INT(e.n, from);
    CHECK(!e.destroyed);
    CHECK_RET(send_begin(&r, &e, 5), 0);
    CHECK_EQ_INT(count(&e, from, OM_RELAY_CONNECTED, 5, NULL), 1);
    from = e.n;
    CHECK_RET(send_begin(&r, &e, 5), 0); /* again */
    CHECK_EQ_INT(e.n, from);
    CHECK(!e.destroyed);
    /* stream 5 still echoes */
    CHECK_RET(send_msg(&r, &e, OM_RELAY_DATA, 5, "abc", 3), 0);
    CHECK_EQ_INT(count(&e, from, OM_RELAY_DATA, 5, NULL), 1);
    CHECK_MEM(e.body[e.n - 1], "abc", 3);
    CHECK_WORKS(&r, &e, 6);
    CHECK_WORKS(&r, &v, 1);
    fix_relay_stop(&r);
}

/* Spoofed stream messages for streams the relay does not have (never opened, or closed by an
 * END: half-closed) and for stream 0 are dropped (tor: "data cell dropped, unknown stream", "end
 * cell dropped, unknown stream", "SENDME cell dropped, unknown stream", "Relay data cell with
 * zero stream_id. Dropping."). */
static void test_stream_messages_for_unknown_streams(void)
{
    fix_relay_t r;
    cl_t v, e;
    CHECK(start(&r));
    CHECK(client(&r, &v, VICTIM) && client(&r, &e, EVIL));
    CHECK_WORKS(&r, &e, 9); /* stream 9 is now closed by our END */
    uint8_t misc = OM_END_MISC, xon[2] = {0, 0};
    static const uint16_t ids[] = {9, 77, 0};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        int from = e.n;
        CHECK_RET(send_msg(&r, &e, OM_RELAY_DATA, ids[i], "spoof", 5), 0);
        CHECK_RET(send_msg(&r, &e, OM_RELAY_END, ids[i], &misc, 1), 0);
        CHECK_RET(send_msg(&r, &e, OM_RELAY_END, ids[i], NULL, 0), 0);
        if (ids[i]) CHECK_RET(send_msg(&r, &e, OM_RELAY_SENDME, ids[i], NULL, 0), 0);
        CHECK_RET(send_msg(&r, &e, OM_RELAY_XON, ids[i], xon, sizeof xon), 0);
        CHECK_RET(send_msg(&r, &e, OM_RELAY_CONNECTED, ids[i], NULL, 0), 0);
        CHECK_RET(send_msg(&r, &e, OM_RELAY_RESOLVED, ids[i], NULL, 0), 0);
        CHECK_MSG(!e.destroyed, "stream %u: circuit destroyed", ids[i]);
        CHECK_MSG(e.n == from, "stream %u: %d answers", ids[i], e.n - from);
    }
    CHECK_EQ_INT(releases, 1);
    CHECK_WORKS(&r, &e, 9); /* the ID can be used again */
    CHECK_WORKS(&r, &v, 1);
    fix_relay_stop(&r);
}

/* Relay commands this relay does not know, with and without a stream, are dropped (tor:
 * "Received unknown relay command ... Dropping."); a length field over 498 closes the circuit
 * (tor: "Relay cell length field too long. Closing circuit."). */
static void test_unknown_relay_commands(void)
{
    static const uint8_t cmds[] = {0, 16, 31, 39, 60, 99, 200, 255};
    fix_relay_t r;
    cl_t v, e, e2;
    CHECK(start(&r));
    CHECK(client(&r, &v, VICTIM) && client(&r, &e, EVIL) && client(&r, &e2, EVIL + 1));
    CHECK_RET(send_begin(&r, &e, 5), 0);
    for (size_t i = 0; i < sizeof cmds; i++) {
        int from = e.n;
        CHECK_RET(send_msg(&r, &e, cmds[i], 0, "junk", 4), 0);
        CHECK_RET(send_msg(&r, &e, cmds[i], 5, "junk", 4), 0);
        CHECK_RET(send_msg(&r, &e, cmds[i], 1234, NULL, 0), 0);
        CHECK_MSG(!e.destroyed && e.n == from, "relay command %u not dropped", cmds[i]);
    }
    CHECK_RET(send_msg(&r, &e, OM_RELAY_DATA, 5, "x", 1), 0);
    CHECK_EQ_INT(count(&e, 0, OM_RELAY_DATA, 5, NULL), 1);
    CHECK_WORKS(&r, &e, 6);
    /* A length field of 499: the circuit (only it) dies. */
    om_cell_t cell = {.circ_id = e2.c.id, .command = OM_CELL_RELAY};
    memset(cell.payload, 0, sizeof cell.payload);
    cell.payload[0] = OM_RELAY_DATA;
    cell.payload[4] = 5;
    cell.payload[9] = 0x01;
    cell.payload[10] = 0xf3; /* 499 */
    om_relay_crypto_set_digest_fwd(&e2.c.crypto, cell.payload);
    om_relay_crypto_encrypt_fwd(&e2.c.crypto, cell.payload);
    CHECK_RET(om_mem_link_feed(&r.link, &cell), 0);
    pump(&r);
    CHECK(e2.destroyed);
    CHECK_EQ_INT(e2.destroy_reason, OM_DESTROY_PROTOCOL);
    CHECK_WORKS(&r, &e, 7);
    CHECK_WORKS(&r, &v, 1);
    fix_relay_stop(&r);
}

/* ---------------------------------------------------------------- flow control */

/* tor-spec 7.3/7.4: a SENDME the relay's windows cannot explain (no data was sent: the package
 * window would pass its start) closes that circuit (tor: "Unexpected sendme cell from client",
 * "Unexpected stream sendme cell"); v0 and v1 alike. */
static void test_sendme_floods(void)
{
    fix_relay_t r;
    cl_t v, e1, e2, e3;
    CHECK(start(&r));
    CHECK(client(&r, &v, VICTIM) && client(&r, &e1, EVIL) && client(&r, &e2, EVIL + 1) &&
          client(&r, &e3, EVIL + 2));
    /* a v1 circuit SENDME before any data: its digest matches nothing sent */
    uint8_t body[OM_SENDME_V1_BODY_LEN], digest[20];
    memset(digest, 0x5a, sizeof digest);
    CHECK_RET(send_msg(&r, &e1, OM_RELAY_SENDME, 0, body, om_sendme_build_v1(body, digest)), 0);
    CHECK(e1.destroyed);
    CHECK_EQ_INT(e1.destroy_reason, OM_DESTROY_PROTOCOL);
    /* v0 (empty) circuit SENDMEs: the first already exceeds the window */
    CHECK_RET(send_msg(&r, &e2, OM_RELAY_SENDME, 0, NULL, 0), 0);
    CHECK(e2.destroyed);
    /* a stream SENDME on a stream that sent nothing: window 500 + 50 > 500 */
    CHECK_RET(send_begin(&r, &e3, 5), 0);
    CHECK_EQ_INT(count(&e3, 0, OM_RELAY_CONNECTED, 5, NULL), 1);
    CHECK_RET(send_msg(&r, &e3, OM_RELAY_SENDME, 5, NULL, 0), 0);
    CHECK(e3.destroyed);
    CHECK_EQ_INT(e3.destroy_reason, OM_DESTROY_PROTOCOL);
    CHECK_WORKS(&r, &v, 1);
    CHECK_WORKS(&r, &v, 2);
    fix_relay_stop(&r);
}

/* ---------------------------------------------------------------- congestion control */

#define CC_INC 31 /* tor's cc_sendme_inc */

static int32_t min_version_1(void *arg, const char *name, int32_t def, int32_t min, int32_t max)
{
    (void)arg, (void)min, (void)max;
    return strcmp(name, "sendme_accept_min_version") == 0 ? 1 : def;
}

static om_relay_keys_t cc_keys;

/* start(), for circuits with congestion control negotiated in CREATE2 ntor-v3 (client_cc: the
 * relay grants it with tor's default parameters, sendme_inc 31) and, if min_v1, the consensus's
 * sendme_accept_min_version 1. */
static bool start_cc(fix_relay_t *r, bool min_v1)
{
    n_cls = 0;
    n_stray = 0;
    releases = 0;
    memset(&cc_keys, 0, sizeof cc_keys);
    om_rand_bytes(cc_keys.rsa_fp, 20);
    if (om_x25519_keygen(&cc_keys.ntor) < 0 || om_ed25519_keygen(&cc_keys.ed_id) < 0 ||
        !fix_relay_start(r, NULL, &cc_keys))
        return false;
    r->cc_grant = true;
    if (min_v1) {
        om_or_streams_free(r->streams);
        if (!(r->streams = om_or_streams_new(min_version_1, NULL))) return false;
    }
    om_stream_service_t v = {.name = "echo",
                             .command = OM_RELAY_BEGIN,
                             .begin = echo_begin,
                             .data = echo_data,
                             .release = echo_release};
    return om_or_streams_add_service(r->streams, &v) == 0;
}

/* A client whose CREATE2 ntor-v3 asked for congestion control and got sendme_inc 31. */
static bool client_cc(fix_relay_t *r, cl_t *c, uint32_t id)
{
    uint8_t inc = 0;
    memset(c, 0, sizeof *c);
    cls[n_cls++] = c;
    return fix_client_create_cc(r, &c->c, id, &inc) && inc == CC_INC;
}

/* The exit sends n DATA cells on c's stream (the echo of n one-byte cells); true if all came. */
static bool exit_sends(fix_relay_t *r, cl_t *c, uint16_t stream, int n)
{
    int before = c->n_data;
    for (int i = 0; i < n && !c->destroyed; i++)
        send_msg(r, c, OM_RELAY_DATA, stream, "z", 1);
    return c->n_data == before + n;
}

static int send_sendme_v1(fix_relay_t *r, cl_t *c, const uint8_t digest[20])
{
    uint8_t body[OM_SENDME_V1_BODY_LEN];
    return send_msg(r, c, OM_RELAY_SENDME, 0, body, om_sendme_build_v1(body, digest));
}

/* Proposal 324 at the exit: SENDMEs that would wedge congestion control close only their circuit
 * (tor's sendme_process_circuit_level -> congestion_control_vegas_process_sendme; a SENDME with
 * no timestamp queued, "We received a congestion control SENDME without a timestamp" in
 * congestion_control_common.c's dequeue_timestamp, and sendme_is_valid's digest and version
 * checks all return -END_CIRC_REASON_TORPROTOCOL, and the circuit is closed): a SENDME before
 * sendme_inc DATA cells went out (none, or 30 of 31), a second SENDME for one sendme_inc of data,
 * a v0 SENDME under sendme_accept_min_version 1, a v1 SENDME with the wrong digest. The victim
 * circuit, with congestion control too, goes through two whole SENDME rounds afterwards. */
static void test_cc_sendmes_that_wedge(void)
{
    for (int min_v1 = 0; min_v1 <= 1; min_v1++) {
        fix_relay_t r;
        cl_t v, early0, early30, twice, v0, wrong;
        CHECK(start_cc(&r, min_v1));
        CHECK(client_cc(&r, &v, VICTIM) && client_cc(&r, &early0, EVIL) &&
              client_cc(&r, &early30, EVIL + 1) && client_cc(&r, &twice, EVIL + 2) &&
              client_cc(&r, &v0, EVIL + 3) && client_cc(&r, &wrong, EVIL + 4));
        CHECK_RET(send_begin(&r, &v, 1), 0);
        CHECK_RET(send_begin(&r, &early0, 1), 0);
        CHECK_RET(send_begin(&r, &early30, 1), 0);
        CHECK_RET(send_begin(&r, &twice, 1), 0);
        CHECK_RET(send_begin(&r, &v0, 1), 0);
        uint8_t junk[20];
        memset(junk, 0x5a, sizeof junk);
        CHECK_RET(send_sendme_v1(&r, &early0, junk), 0);
        CHECK_MSG(early0.destroyed, "a SENDME before any data kept the circuit");
        CHECK_EQ_INT(early0.destroy_reason, OM_DESTROY_PROTOCOL);
        CHECK(exit_sends(&r, &early30, 1, CC_INC - 1));
        CHECK_RET(send_sendme_v1(&r, &early30, early30.dig[CC_INC - 2]), 0);
        CHECK_MSG(early30.destroyed, "a SENDME after 30 of 31 cells kept the circuit");
        CHECK_EQ_INT(early30.destroy_reason, OM_DESTROY_PROTOCOL);
        CHECK(exit_sends(&r, &twice, 1, CC_INC));
        CHECK_RET(send_sendme_v1(&r, &twice, twice.dig[CC_INC - 1]), 0);
        CHECK_MSG(!twice.destroyed, "the due SENDME closed the circuit");
        CHECK_RET(send_sendme_v1(&r, &twice, twice.dig[CC_INC - 1]), 0);
        CHECK_MSG(twice.destroyed, "a second SENDME for one sendme_inc kept the circuit");
        CHECK(exit_sends(&r, &v0, 1, CC_INC));
        CHECK_RET(send_msg(&r, &v0, OM_RELAY_SENDME, 0, NULL, 0), 0);
        CHECK_MSG(v0.destroyed == (bool)min_v1, "v0 SENDME with sendme_accept_min_version %d: %s",
                  min_v1, v0.destroyed ? "closed" : "kept");
        CHECK_RET(send_begin(&r, &wrong, 1), 0);
        CHECK(exit_sends(&r, &wrong, 1, CC_INC));
        uint8_t bad[20];
        memcpy(bad, wrong.dig[CC_INC - 1], 20);
        bad[19] ^= 1;
        CHECK_RET(send_sendme_v1(&r, &wrong, bad), 0);
        CHECK_MSG(wrong.destroyed, "a v1 SENDME with a wrong digest kept the circuit");
        CHECK_EQ_INT(wrong.destroy_reason, OM_DESTROY_PROTOCOL);
        /* the victim: two rounds of sendme_inc cells, each answered by its due SENDME */
        for (int round = 1; round <= 2; round++) {
            CHECK(exit_sends(&r, &v, 1, CC_INC));
            CHECK_RET(send_sendme_v1(&r, &v, v.dig[round * CC_INC - 1]), 0);
            CHECK_MSG(!v.destroyed, "victim round %d", round);
        }
        CHECK_WORKS(&r, &v, 2);
        fix_relay_stop(&r);
    }
}

static int send_xoff(fix_relay_t *r, cl_t *c, uint16_t stream)
{
    uint8_t b[8];
    return send_msg(r, c, OM_RELAY_XOFF, stream, b, (size_t)om_xoff_encode(b, sizeof b));
}

static int send_xon(fix_relay_t *r, cl_t *c, uint16_t stream, uint32_t kbps)
{
    uint8_t b[8];
    return send_msg(r, c, OM_RELAY_XON, stream, b, (size_t)om_xon_encode(kbps, b, sizeof b));
}

/* Proposal 324 flow control abused, at the exit. tor 0.4.9 (congestion_control_flow.c
 * circuit_process_stream_xoff / _xon, relay.c) never closes anything for XON/XOFF: a repeated XOFF
 * ("Got multiple XOFF on connection"), XOFF/XON beyond what the data sent explains ("Got extra
 * XOFF for bytes sent", checked at clients only), a malformed XON and XON/XOFF for unknown streams
 * are logged and dropped, and an XON rate of 0 or above INT32_MAX bytes/s means unlimited. So
 * here: 500 XOFFs, 500 XOFF/XON pairs and an XON of 0xffffffff kbps leave the circuit open; while
 * XOFF holds, the stream sends nothing, after the XON it echoes again; XON/XOFF for unknown
 * streams and stream 0 are dropped. (One difference: a malformed XON/XOFF closes the circuit
 * here, as proposal 324 4.1 says, where tor drops it: test_or_limits test_malformed_xon_closes.) */
static void test_cc_xon_xoff_abuse(void)
{
    fix_relay_t r;
    cl_t v, e;
    CHECK(start_cc(&r, false));
    CHECK(client_cc(&r, &v, VICTIM) && client_cc(&r, &e, EVIL));
    CHECK_RET(send_begin(&r, &v, 1), 0);
    CHECK_RET(send_begin(&r, &e, 5), 0);
    CHECK_EQ_INT(count(&e, 0, OM_RELAY_CONNECTED, 5, NULL), 1);
    for (int i = 0; i < 500; i++)
        CHECK_RET(send_xoff(&r, &e, 5), 0);
    CHECK(!e.destroyed);
    int from = e.n;
    CHECK_RET(send_msg(&r, &e, OM_RELAY_DATA, 5, "held", 4), 0);
    CHECK_MSG(count(&e, from, OM_RELAY_DATA, 5, NULL) == 0, "data sent despite XOFF");
    for (int i = 0; i < 500; i++) {
        CHECK_RET(send_xon(&r, &e, 5, (uint32_t)i), 0);
        CHECK_RET(send_xoff(&r, &e, 5), 0);
    }
    CHECK_RET(send_xon(&r, &e, 5, 0xffffffffu), 0);
    CHECK(!e.destroyed);
    from = e.n;
    CHECK_RET(send_msg(&r, &e, OM_RELAY_DATA, 5, "again", 5), 0);
    CHECK_MSG(count(&e, from, OM_RELAY_DATA, 5, NULL) == 1, "no echo after the XON");
    CHECK_MEM(e.body[e.n - 1], "again", 5);
    static const uint16_t unknown[] = {0, 77};
    for (size_t i = 0; i < 2; i++) {
        from = e.n;
        CHECK_RET(send_xoff(&r, &e, unknown[i]), 0);
        CHECK_RET(send_xon(&r, &e, unknown[i], 1), 0);
        CHECK_MSG(!e.destroyed && e.n == from, "XON/XOFF for stream %u not dropped", unknown[i]);
    }
    CHECK_WORKS(&r, &e, 6);
    CHECK_WORKS(&r, &v, 2);
    fix_relay_stop(&r);
}

/* ---------------------------------------------------------------- circuit IDs */

static int feed_create_fast(fix_relay_t *r, uint32_t id)
{
    om_cell_t cell = {.circ_id = id, .command = OM_CELL_CREATE_FAST};
    memset(cell.payload, 0x11, sizeof cell.payload);
    int rc = om_mem_link_feed(&r->link, &cell);
    pump(r);
    return rc;
}

/* tor's command_process_create_cell: circuit ID 0 is ignored, an ID in use is dropped ("for known
 * circ"), an ID of the wrong half (the link's initiator picks IDs with the high bit set, tor-spec
 * "CREATE and CREATED cells") gets DESTROY PROTOCOL; the link and its circuits stay. Other cells
 * for circuit 0 or for unknown circuits are dropped as well. */
static void test_chosen_circuit_ids(void)
{
    fix_relay_t r;
    cl_t v;
    CHECK(start(&r));
    CHECK(client(&r, &v, VICTIM));
    CHECK_WORKS(&r, &v, 1);
    om_or_circ_stats_t st;
    om_or_circuits_stats(r.circs, &st);
    uint64_t created = st.created;

    CHECK_RET(feed_create_fast(&r, 0), 0);
    CHECK_EQ_INT(n_stray, 0);
    CHECK_EQ_INT(om_channel_state(r.link.chan), OM_CHAN_OPEN);
    om_cell_t cell = {.circ_id = 0, .command = OM_CELL_DESTROY};
    memset(cell.payload, 0, sizeof cell.payload);
    CHECK_RET(om_mem_link_feed(&r.link, &cell), 0);
    cell.command = OM_CELL_RELAY;
    CHECK_RET(om_mem_link_feed(&r.link, &cell), 0);
    cell.circ_id = 0x80001234u; /* unknown circuit */
    CHECK_RET(om_mem_link_feed(&r.link, &cell), 0);
    cell.command = OM_CELL_DESTROY;
    CHECK_RET(om_mem_link_feed(&r.link, &cell), 0);
    pump(&r);
    CHECK_EQ_INT(n_stray, 0);
    CHECK_EQ_INT(om_channel_state(r.link.chan), OM_CHAN_OPEN);

    CHECK_RET(feed_create_fast(&r, VICTIM), 0); /* in use */
    CHECK_EQ_INT(n_stray, 0);
    CHECK(!v.destroyed);
    CHECK_WORKS(&r, &v, 2);

    CHECK_RET(feed_create_fast(&r, 0x00000005u), 0); /* the responder's half */
    CHECK_EQ_INT(n_stray, 1);
    CHECK_EQ_INT(stray_id, 0x00000005u);
    CHECK_EQ_INT(stray_cmd, OM_CELL_DESTROY);
    CHECK_EQ_INT(stray_reason, OM_DESTROY_PROTOCOL);
    om_or_circuits_stats(r.circs, &st);
    CHECK_EQ_INT(st.created, created);
    CHECK_EQ_INT(om_channel_state(r.link.chan), OM_CHAN_OPEN);
    CHECK_WORKS(&r, &v, 3);
    fix_relay_stop(&r);
}

/* ---------------------------------------------------------------- link cells */

static void on_unclaimed2(om_channel_t *chan, const om_cell_t *cell, void *arg)
{
    om_or_circuits_unclaimed_cell(((fix_relay_t *)arg)->circs, chan, cell);
}

/* A variable-length cell as the peer sends it (link protocol 5: 4-byte circuit ID). */
static int feed_var(om_mem_link_t *l, uint8_t command, uint32_t circ_id, size_t len, uint8_t fill)
{
    uint8_t *b = malloc(7 + len);
    if (!b) return -1;
    b[0] = (uint8_t)(circ_id >> 24), b[1] = (uint8_t)(circ_id >> 16);
    b[2] = (uint8_t)(circ_id >> 8), b[3] = (uint8_t)circ_id;
    b[4] = command;
    b[5] = (uint8_t)(len >> 8), b[6] = (uint8_t)len;
    memset(b + 7, fill, len);
    int rc = om_mem_link_feed_raw(l, b, 7 + len);
    free(b);
    return rc;
}

/* tor (channeltls.c) ignores VPADDING, AUTHORIZE and unknown variable-length cells of any
 * length on an open link, PADDING_NEGOTIATE it cannot parse ("Received malformed channelpadding
 * negotiate cell; dropping"), and fixed cells of unknown command ("Cell of unknown type ...
 * Dropping.") even when they name a live circuit. */
static void test_odd_link_cells_are_dropped(void)
{
    fix_relay_t r;
    cl_t v;
    CHECK(start(&r));
    CHECK(client(&r, &v, VICTIM));
    CHECK_RET(feed_var(&r.link, OM_CELL_VPADDING, 0, 65535, 0xff), 0);
    CHECK_RET(feed_var(&r.link, OM_CELL_AUTHORIZE, 0, 65535, 0), 0);
    CHECK_RET(feed_var(&r.link, 200, VICTIM, 65535, 0xaa), 0);
    CHECK_RET(feed_var(&r.link, 255, 0, 0, 0), 0);
    CHECK_RET(feed_var(&r.link, 133, VICTIM, 1, 0), 0);
    CHECK_EQ_INT(om_channel_state(r.link.chan), OM_CHAN_OPEN);
    /* PADDING_NEGOTIATE: empty, unknown version, unknown command, low > high, all ones */
    static const uint8_t pn[][6] = {{0, 0, 0, 0, 0, 0},
                                    {1, 3, 0, 10, 0, 20},
                                    {0, 99, 0, 0, 0, 0},
                                    {0, 3, 0xff, 0xff, 0, 1},
                                    {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
    for (size_t i = 0; i < sizeof pn / sizeof pn[0]; i++) {
        om_cell_t cell = {.circ_id = i == 1 ? VICTIM : 0, .command = OM_CELL_PADDING_NEGOTIATE};
        memset(cell.payload, i == 4 ? 0xff : 0, sizeof cell.payload);
        memcpy(cell.payload, pn[i], sizeof pn[i]);
        CHECK_RET(om_mem_link_feed(&r.link, &cell), 0);
    }
    /* unknown fixed-cell commands, for the victim's circuit and for none */
    static const uint8_t unknown[] = {13, 42, 100, 127};
    for (size_t i = 0; i < sizeof unknown; i++) {
        om_cell_t cell = {.circ_id = VICTIM, .command = unknown[i]};
        memset(cell.payload, 0x42, sizeof cell.payload);
        CHECK_RET(om_mem_link_feed(&r.link, &cell), 0);
        cell.circ_id = 0;
        CHECK_RET(om_mem_link_feed(&r.link, &cell), 0);
        cell.circ_id = 0x80000777u;
        CHECK_RET(om_mem_link_feed(&r.link, &cell), 0);
    }
    CHECK(!om_channel_is_closing(r.link.chan)); /* before the loop could free it */
    pump(&r);
    CHECK_EQ_INT(om_channel_state(r.link.chan), OM_CHAN_OPEN);
    CHECK(!v.destroyed);
    CHECK_EQ_INT(n_stray, 0);
    CHECK_WORKS(&r, &v, 1);
    fix_relay_stop(&r);
}

/* Link-level violations close the offending link only (tor: CERTS after the handshake, "We're
 * not doing a v3 handshake!"; a second VERSIONS): the victim's link and circuit go on. A
 * variable-length cell announcing 65535 bytes and sending a few keeps its link waiting, no
 * more. */
static void test_certs_and_versions_after_handshake(void)
{
    fix_relay_t r;
    cl_t v;
    CHECK(start(&r));
    CHECK(client(&r, &v, VICTIM));
    om_chan_callbacks_t cb = {.on_unclaimed_cell = on_unclaimed2, .arg = &r};
    static const uint8_t cmds[] = {OM_CELL_CERTS, OM_CELL_VERSIONS, OM_CELL_AUTH_CHALLENGE,
                                   OM_CELL_AUTHENTICATE};
    for (size_t i = 0; i < sizeof cmds; i++) {
        om_mem_link_t bad;
        CHECK(om_mem_link_open(&bad, r.base, OM_CHAN_RESPONDER, &cb));
        /* VERSIONS framed as the link now frames variable-length cells (4-byte circuit ID) */
        CHECK_RET(feed_var(&bad, cmds[i], 0, cmds[i] == OM_CELL_VERSIONS ? 4 : 40, 0x05), 0);
        CHECK_MSG(om_channel_is_closing(bad.chan), "%s after the handshake kept the link",
                  om_cell_command_name(cmds[i]));
        om_mem_link_close(&bad);
        CHECK_WORKS(&r, &v, (uint16_t)(1 + i));
    }
    /* a huge announced length, then silence */
    om_mem_link_t slow;
    CHECK(om_mem_link_open(&slow, r.base, OM_CHAN_RESPONDER, &cb));
    uint8_t hdr[17] = {0, 0, 0, 0, OM_CELL_VPADDING, 0xff, 0xff};
    CHECK_RET(om_mem_link_feed_raw(&slow, hdr, sizeof hdr), 0);
    CHECK_EQ_INT(om_channel_state(slow.chan), OM_CHAN_OPEN);
    CHECK_WORKS(&r, &v, 10);
    om_mem_link_close(&slow);
    CHECK_WORKS(&r, &v, 11);
    fix_relay_stop(&r);
}

static const om_test_t tests[] = {
    OM_TEST(test_end_and_truncate_with_empty_body),
    OM_TEST(test_truncated_and_odd_begins),
    OM_TEST(test_begin_on_stream_zero_or_in_use),
    OM_TEST(test_stream_messages_for_unknown_streams),
    OM_TEST(test_unknown_relay_commands),
    OM_TEST(test_sendme_floods),
    OM_TEST(test_cc_sendmes_that_wedge),
    OM_TEST(test_cc_xon_xoff_abuse),
    OM_TEST(test_chosen_circuit_ids),
    OM_TEST(test_odd_link_cells_are_dropped),
    OM_TEST(test_certs_and_versions_after_handshake),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("hostile_relay", tests, argc, argv);
}

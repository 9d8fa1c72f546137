/* test_hostile_client.c — hostile input at a client (origin circuits, src/core/circuit.c and
 * circuit_stream.c), over the in-memory link: the test plays all three relays of each circuit
 * (CREATE_FAST to the first, EXTEND2 with ntor to the others, one layer of relay crypto per hop)
 * and sends what a hostile hop could. Each case asserts the outcome tor has (tor's relay.c) and
 * that only the offending stream or circuit died: another circuit on the same link still carries
 * a stream byte for byte. Cases: stream cells (CONNECTED, DATA, RESOLVED, END) recognized at a
 * hop other than the stream's own; END and TRUNCATED with an empty body; spoofed stream messages
 * for closed, unknown and zero streams; RESOLVED on a data stream and a repeated CONNECTED;
 * circuit and stream SENDME floods and a v0 SENDME where version 1 is required; DATA, SENDME,
 * XON and RESOLVED before a stream is open, CONNECTED on a RESOLVE stream, a malformed
 * CONNECTED; on circuits with congestion control (the exit answers ntor-v3 with the CC
 * extension) SENDMEs that would wedge Vegas and XON/XOFF floods; junk cells on the link and a
 * CREATE naming an origin circuit. */
#include <event2/event.h>

#include "core/circuit.h"
#include "core/onion_handshake.h"
#include "core/relay_bodies.h"
#include "core/sendme.h"
#include "mem_link.h"
#include "test.h"

#define HOPS 3

/* ---------------------------------------------------------------- the fake relays */

typedef struct {
    uint32_t id;
    int hops; /* established */
    om_relay_crypto_t rc[HOPS];
    int n; /* messages recognized, other than EXTEND2 */
    uint8_t hop[256], cmd[256];
    uint16_t stream[256];
    int data_at_exit;       /* DATA cells recognized at the last hop */
    uint8_t digest_100[20]; /* the last hop's forward digest after the 100th */
    uint8_t dig[128][20];   /* ... after DATA cell i + 1 (the first 128) */
    bool cc;                /* the exit granted congestion control (ntor-v3 extension) */
    bool destroyed;
} fcirc_t;

static om_mem_link_t link;
static fcirc_t fcs[8];
static int n_fcs;
static om_x25519_keypair_t onion[HOPS];
static uint8_t rid[HOPS][20];
static uint8_t ed_id[HOPS][32];

#define CC_INC 31 /* the exit's sendme_inc (tor's cc_sendme_inc) */

/* An ntor-v3 EXTEND2 to the exit: answer it as tor's exit does, granting congestion control with
 * sendme_inc 31 when the client's extension list asks for it (proposal 324 10.3). */
static int answer_ntor3(fcirc_t *f, int hop, const om_extend2_t *e, uint8_t *reply, size_t *rl,
                        om_handshake_keys_t *keys)
{
    om_ntor3_server_t st;
    uint8_t cmsg[OM_NTOR3_MAX_MSG], smsg[8] = {0};
    size_t cmsg_len = sizeof cmsg, smsg_len = 1;
    if (om_ntor3_server_recv(
            &st, ed_id[hop + 1], &onion[hop + 1], 1, (const uint8_t *)OM_NTOR3_CIRC_VERIFICATION,
            OM_NTOR3_CIRC_VERIFICATION_LEN, e->hdata, e->hlen, cmsg, &cmsg_len) < 0)
        return -1;
    if (cmsg_len && om_cc_ext_request_parse(cmsg, cmsg_len) == 1) {
        smsg_len = sizeof smsg;
        if (om_cc_ext_response_encode(CC_INC, smsg, &smsg_len) < 0) return -1;
        f->cc = true;
    }
    return om_ntor3_server_reply(&st, NULL, smsg, smsg_len, reply, rl, keys);
}

static fcirc_t *fc_of(uint32_t id)
{
    for (int i = 0; i < n_fcs; i++)
        if (fcs[i].id == id) return &fcs[i];
    return NULL;
}

/* hop sends a relay message towards the origin */
static int fsend(fcirc_t *f, int hop, uint8_t command, uint16_t stream, const void *body,
                 size_t len)
{
    om_cell_t c = {.circ_id = f->id, .command = OM_CELL_RELAY};
    if (om_relay_payload_build(c.payload, command, stream, body, len) < 0) return -1;
    om_relay_crypto_set_digest_back(&f->rc[hop], c.payload);
    for (int i = hop; i >= 0; i--)
        om_relay_crypto_encrypt_back(&f->rc[i], c.payload);
    return om_mem_link_feed(&link, &c);
}

static void answer_extend2(fcirc_t *f, int hop, const uint8_t *body, size_t len)
{
    om_extend2_t *e = calloc(1, sizeof *e);
    uint8_t reply[OM_RELAY_PAYLOAD_LEN];
    size_t rl = sizeof reply - 2;
    om_handshake_keys_t keys;
    if (!e || hop + 1 >= HOPS || om_extend2_parse(e, body, len) < 0) {
        free(e);
        return;
    }
    int ok = -1;
    if (e->htype == OM_HANDSHAKE_TYPE_NTOR && e->hlen == OM_NTOR_ONIONSKIN_LEN) {
        ok = om_ntor_server(rid[hop + 1], &onion[hop + 1], 1, e->hdata, reply + 2, &keys);
        rl = OM_NTOR_REPLY_LEN;
    } else if (e->htype == OM_HANDSHAKE_TYPE_NTOR_V3) {
        ok = answer_ntor3(f, hop, e, reply + 2, &rl, &keys);
    }
    if (ok == 0 && om_relay_crypto_init(&f->rc[hop + 1], keys.keys) == 0) {
        f->hops++;
        reply[0] = (uint8_t)(rl >> 8);
        reply[1] = (uint8_t)rl;
        fsend(f, hop, OM_RELAY_EXTENDED2, 0, reply, 2 + rl);
    }
    free(e);
}

static void take_relay(fcirc_t *f, om_cell_t *c)
{
    for (int h = 0; h < f->hops; h++) {
        om_relay_crypto_decrypt_fwd(&f->rc[h], c->payload);
        if (!om_relay_crypto_check_fwd(&f->rc[h], c->payload)) continue;
        om_relay_header_t rh;
        if (om_relay_header_unpack(&rh, c->payload) < 0) return;
        if (rh.command == OM_RELAY_EXTEND2) {
            answer_extend2(f, h, c->payload + OM_RELAY_HEADER_LEN, rh.length);
            return;
        }
        if (rh.command == OM_RELAY_DATA && h == HOPS - 1) {
            if (f->data_at_exit < 128)
                om_relay_crypto_last_digest_fwd(&f->rc[h], f->dig[f->data_at_exit]);
            if (++f->data_at_exit == 100) om_relay_crypto_last_digest_fwd(&f->rc[h], f->digest_100);
        }
        if (f->n < 256) {
            f->hop[f->n] = (uint8_t)h;
            f->cmd[f->n] = rh.command;
            f->stream[f->n] = rh.stream_id;
            f->n++;
        }
        return;
    }
}

/* The relays read everything the client sent, answering handshakes. */
static void pump(void)
{
    om_cell_t c;
    event_base_loop(link.base, EVLOOP_NONBLOCK);
    while (om_mem_link_take(&link, &c) == 1) {
        fcirc_t *f = fc_of(c.circ_id);
        if (c.command == OM_CELL_CREATE_FAST && !f && n_fcs < 8) {
            f = &fcs[n_fcs++];
            memset(f, 0, sizeof *f);
            f->id = c.circ_id;
            om_cell_t r = {.circ_id = c.circ_id, .command = OM_CELL_CREATED_FAST};
            memset(r.payload, 0, sizeof r.payload);
            om_handshake_keys_t keys;
            if (om_fast_server(c.payload, r.payload, &keys) == 0 &&
                om_relay_crypto_init(&f->rc[0], keys.keys) == 0) {
                f->hops = 1;
                om_mem_link_feed(&link, &r);
            }
        } else if (f && c.command == OM_CELL_DESTROY) {
            f->destroyed = true;
        } else if (f && (c.command == OM_CELL_RELAY || c.command == OM_CELL_RELAY_EARLY)) {
            take_relay(f, &c);
        }
        event_base_loop(link.base, EVLOOP_NONBLOCK);
    }
}

/* The last message fcirc got (command, stream) at hop, since index from; -1 if none. */
static int find_msg(const fcirc_t *f, int from, int hop, uint8_t command)
{
    for (int i = f->n - 1; i >= from; i--)
        if (f->hop[i] == hop && f->cmd[i] == command) return f->stream[i];
    return -1;
}

/* ---------------------------------------------------------------- the client */

typedef struct {
    om_circuit_t *circ;
    fcirc_t *f;
    bool built, closed;
    char why[128];
} ccirc_t;

typedef struct {
    om_stream_t *s;
    uint16_t id;
    int connected, ends, resolved;
    uint8_t end_reason;
    uint8_t data[4096];
    size_t len;
} cstream_t;

static void c_built(om_circuit_t *circ, void *arg)
{
    (void)circ;
    ((ccirc_t *)arg)->built = true;
}

static void c_closed(om_circuit_t *circ, const char *why, void *arg)
{
    (void)circ;
    ccirc_t *c = arg;
    c->closed = true;
    snprintf(c->why, sizeof c->why, "%s", why);
}

static void s_connected(om_stream_t *s, void *arg)
{
    (void)s;
    ((cstream_t *)arg)->connected++;
}

static void s_data(om_stream_t *s, const uint8_t *d, size_t n, void *arg)
{
    (void)s;
    cstream_t *cs = arg;
    if (cs->len + n <= sizeof cs->data) memcpy(cs->data + cs->len, d, n);
    cs->len += n;
}

static void s_resolved(om_stream_t *s, const uint8_t *b, size_t n, void *arg)
{
    (void)s;
    (void)b;
    (void)n;
    cstream_t *cs = arg;
    cs->resolved++;
    cs->s = NULL;
}

static void s_end(om_stream_t *s, uint8_t reason, const char *why, void *arg)
{
    (void)s;
    (void)why;
    cstream_t *cs = arg;
    cs->ends++;
    cs->end_reason = reason;
    cs->s = NULL;
}

static bool setup(void)
{
    n_fcs = 0;
    for (int i = 0; i < HOPS; i++) {
        if (om_x25519_keygen(&onion[i]) < 0) return false;
        memset(rid[i], 0x10 + i, 20);
        memset(ed_id[i], 0x30 + i, 32);
    }
    return om_mem_link_open(&link, NULL, OM_CHAN_INITIATOR, NULL);
}

static void teardown(void)
{
    om_mem_link_close(&link);
    for (int i = 0; i < n_fcs; i++)
        for (int h = 0; h < HOPS; h++)
            om_relay_crypto_clear(&fcs[i].rc[h]);
}

static bool build_ex(ccirc_t *c, uint8_t min_sendme_version, bool cc);

static bool build(ccirc_t *c, uint8_t min_sendme_version)
{
    return build_ex(c, min_sendme_version, false);
}

/* cc: the exit hop over ntor-v3, asked for congestion control with tor's default parameters. */
static bool build_ex(ccirc_t *c, uint8_t min_sendme_version, bool cc)
{
    memset(c, 0, sizeof *c);
    om_hop_target_t path[HOPS];
    memset(path, 0, sizeof path);
    for (int i = 0; i < HOPS; i++) {
        memcpy(path[i].rsa_fp, rid[i], 20);
        memcpy(path[i].ntor_key, onion[i].pub, 32);
        path[i].ipv4[0] = 127, path[i].ipv4[3] = 1;
        path[i].or_port = (uint16_t)(9001 + i);
        path[i].handshake_type = i ? OM_HANDSHAKE_TYPE_NTOR : OM_HANDSHAKE_TYPE_FAST;
        memcpy(path[i].ed_id, ed_id[i], 32);
    }
    if (cc) {
        path[HOPS - 1].handshake_type = OM_HANDSHAKE_TYPE_NTOR_V3;
        path[HOPS - 1].flowctrl_cc = true;
        path[HOPS - 1].has_ed = true;
    }
    static om_cc_params_t ccp;
    om_cc_params_default(&ccp);
    om_circ_callbacks_t cb = {.on_built = c_built, .on_closed = c_closed, .arg = c};
    om_circ_flow_params_t fp = {.cc = cc ? &ccp : NULL,
                                .sendme_accept_min_version = min_sendme_version};
    c->circ = om_circuit_build_flow(link.chan, path, HOPS, &cb, &fp);
    if (!c->circ) return false;
    pump();
    c->f = fc_of(om_circuit_id(c->circ));
    return c->built && c->f && c->f->hops == HOPS && c->f->cc == cc &&
           om_circuit_cc_active(c->circ) == cc;
}

static const om_stream_callbacks_t stream_cb = {
    .on_connected = s_connected, .on_data = s_data, .on_resolved = s_resolved, .on_end = s_end};

static bool begin(ccirc_t *c, cstream_t *cs)
{
    memset(cs, 0, sizeof *cs);
    om_stream_callbacks_t cb = stream_cb;
    cb.arg = cs;
    int from = c->f->n;
    cs->s = om_stream_begin(c->circ, "example.com", 80, 0, &cb);
    if (!cs->s) return false;
    pump();
    int id = find_msg(c->f, from, HOPS - 1, OM_RELAY_BEGIN);
    cs->id = (uint16_t)id;
    return id > 0 && id == om_stream_id(cs->s);
}

static int connected_body(uint8_t *b)
{
    om_connected_t ok = {.addr = {.type = 4, .addr = {93, 184, 216, 34}}, .ttl = 300};
    return om_connected_encode(&ok, b, OM_RELAY_PAYLOAD_LEN);
}

/* A new stream on c: CONNECTED, "<tag>" in two DATA cells, END DONE from the exit; NULL if the
 * client saw exactly that. */
static const char *stream_works(ccirc_t *c, const char *tag)
{
    cstream_t cs;
    if (c->closed) return "circuit closed";
    if (!begin(c, &cs)) return "no BEGIN at the exit";
    uint8_t b[OM_RELAY_PAYLOAD_LEN];
    size_t tl = strlen(tag), half = tl / 2;
    uint8_t done = OM_END_DONE;
    fsend(c->f, HOPS - 1, OM_RELAY_CONNECTED, cs.id, b, (size_t)connected_body(b));
    fsend(c->f, HOPS - 1, OM_RELAY_DATA, cs.id, tag, half);
    fsend(c->f, HOPS - 1, OM_RELAY_DATA, cs.id, tag + half, tl - half);
    fsend(c->f, HOPS - 1, OM_RELAY_END, cs.id, &done, 1);
    pump();
    if (cs.connected != 1) return "not connected once";
    if (cs.len != tl || memcmp(cs.data, tag, tl)) return "data not byte for byte";
    if (cs.ends != 1 || cs.end_reason != OM_END_DONE) return "no END DONE";
    return c->closed ? "circuit closed" : NULL;
}

#define CHECK_WORKS(c, tag)                                                                        \
    do {                                                                                           \
        const char *w_ = stream_works((c), (tag));                                                 \
        CHECK_MSG(w_ == NULL, "%s: %s (%s)", #c, w_, (c)->why);                                    \
    } while (0)

/* ---------------------------------------------------------------- tests */

/* A stream takes cells only from its own hop (tor's relay_lookup_conn matches the layer): a
 * middle relay's CONNECTED, DATA, RESOLVED, END for an exit's stream are not delivered, and
 * the stream then completes byte for byte from the exit. */
static void test_stream_cells_from_wrong_hop(void)
{
    ccirc_t a, b;
    cstream_t s, r;
    CHECK(setup());
    CHECK(build(&a, 0) && build(&b, 0));
    CHECK(begin(&a, &s));
    om_stream_callbacks_t cb = stream_cb;
    cb.arg = &r;
    memset(&r, 0, sizeof r);
    int from = a.f->n;
    r.s = om_stream_resolve(a.circ, "example.org", &cb);
    CHECK(r.s != NULL);
    pump();
    r.id = (uint16_t)find_msg(a.f, from, HOPS - 1, OM_RELAY_RESOLVE);
    CHECK(r.id > 0);
    uint8_t conn[OM_RELAY_PAYLOAD_LEN], res[] = {4, 4, 10, 0, 0, 1, 0, 0, 1, 0};
    int cl = connected_body(conn);
    uint8_t done = OM_END_DONE;
    for (int hop = 0; hop < HOPS - 1; hop++) {
        fsend(a.f, hop, OM_RELAY_CONNECTED, s.id, conn, (size_t)cl);
        fsend(a.f, hop, OM_RELAY_DATA, s.id, "EVIL", 4);
        fsend(a.f, hop, OM_RELAY_RESOLVED, s.id, res, sizeof res);
        fsend(a.f, hop, OM_RELAY_END, s.id, &done, 1);
        fsend(a.f, hop, OM_RELAY_CONNECTED, r.id, conn, (size_t)cl);
        fsend(a.f, hop, OM_RELAY_DATA, r.id, "EVIL", 4);
        fsend(a.f, hop, OM_RELAY_RESOLVED, r.id, res, sizeof res);
        fsend(a.f, hop, OM_RELAY_END, r.id, &done, 1);
        pump();
        CHECK_MSG(!a.closed, "hop %d closed the circuit: %s", hop + 1, a.why);
        CHECK_MSG(s.connected == 0 && s.len == 0 && s.ends == 0,
                  "hop %d reached the stream (connected %d, %zu bytes, %d ENDs)", hop + 1,
                  s.connected, s.len, s.ends);
        CHECK_MSG(r.resolved == 0 && r.ends == 0 && r.len == 0 && r.connected == 0,
                  "hop %d reached the RESOLVE stream", hop + 1);
    }
    /* the exit's own cells */
    fsend(a.f, HOPS - 1, OM_RELAY_CONNECTED, s.id, conn, (size_t)cl);
    fsend(a.f, HOPS - 1, OM_RELAY_DATA, s.id, "hello ", 6);
    fsend(a.f, HOPS - 1, OM_RELAY_DATA, s.id, "world", 5);
    fsend(a.f, HOPS - 1, OM_RELAY_END, s.id, &done, 1);
    fsend(a.f, HOPS - 1, OM_RELAY_RESOLVED, r.id, res, sizeof res);
    pump();
    CHECK_EQ_INT(s.connected, 1);
    CHECK_EQ_INT(s.len, 11);
    CHECK_MEM(s.data, "hello world", 11);
    CHECK_EQ_INT(s.ends, 1);
    CHECK_EQ_INT(s.end_reason, OM_END_DONE);
    CHECK_EQ_INT(r.resolved, 1);
    CHECK_EQ_INT(r.ends, 0);
    CHECK(!a.closed);
    CHECK_WORKS(&a, "after the middle's try");
    CHECK_WORKS(&b, "the other circuit");
    teardown();
}

/* tor: END's reason is MISC when the body is empty; TRUNCATED (any body) closes the origin
 * circuit. */
static void test_end_and_truncated_with_empty_body(void)
{
    ccirc_t a, b;
    cstream_t s;
    CHECK(setup());
    CHECK(build(&a, 0) && build(&b, 0));
    CHECK(begin(&a, &s));
    uint8_t conn[OM_RELAY_PAYLOAD_LEN];
    fsend(a.f, HOPS - 1, OM_RELAY_CONNECTED, s.id, conn, (size_t)connected_body(conn));
    fsend(a.f, HOPS - 1, OM_RELAY_END, s.id, NULL, 0);
    pump();
    CHECK_EQ_INT(s.connected, 1);
    CHECK_EQ_INT(s.ends, 1);
    CHECK_EQ_INT(s.end_reason, OM_END_MISC);
    CHECK_WORKS(&a, "after an empty END");
    fsend(a.f, 1, OM_RELAY_TRUNCATED, 0, NULL, 0);
    pump();
    CHECK(a.closed);
    CHECK_WORKS(&b, "the other circuit");
    teardown();
}

/* Stream messages for a stream the client closed, for one it never had and for stream 0 are
 * dropped (tor: "end cell dropped, unknown stream", "'connected' received ... no conn attached
 * anymore. Ignoring.", "Relay command with zero stream_id. Dropping."). RESOLVED on an open data
 * stream and a second CONNECTED close the circuit, as in tor ("'resolved' unsupported while
 * open", "'connected' unsupported while open. Closing circ."). */
static void test_spoofed_stream_messages(void)
{
    ccirc_t a, b, c, d;
    cstream_t s;
    CHECK(setup());
    CHECK(build(&a, 0) && build(&b, 0) && build(&c, 0) && build(&d, 0));
    CHECK(begin(&a, &s));
    uint8_t conn[OM_RELAY_PAYLOAD_LEN], res[] = {4, 4, 10, 0, 0, 1, 0, 0, 1, 0};
    int cl = connected_body(conn);
    uint8_t done = OM_END_DONE;
    fsend(a.f, HOPS - 1, OM_RELAY_CONNECTED, s.id, conn, (size_t)cl);
    pump();
    om_stream_close(s.s, OM_END_DONE);
    pump();
    CHECK(find_msg(a.f, 0, HOPS - 1, OM_RELAY_END) == s.id);
    uint16_t ids[] = {s.id, 999, 0};
    for (size_t i = 0; i < 3; i++) {
        fsend(a.f, HOPS - 1, OM_RELAY_DATA, ids[i], "late", 4);
        fsend(a.f, HOPS - 1, OM_RELAY_CONNECTED, ids[i], conn, (size_t)cl);
        fsend(a.f, HOPS - 1, OM_RELAY_RESOLVED, ids[i], res, sizeof res);
        fsend(a.f, HOPS - 1, OM_RELAY_END, ids[i], &done, 1);
        fsend(a.f, HOPS - 1, OM_RELAY_END, ids[i], NULL, 0);
        if (ids[i]) fsend(a.f, HOPS - 1, OM_RELAY_SENDME, ids[i], NULL, 0);
        pump();
        CHECK_MSG(!a.closed, "stream %u: %s", ids[i], a.why);
    }
    CHECK_EQ_INT(s.len, 0);
    CHECK_WORKS(&a, "after spoofing");
    /* RESOLVED on an open data stream */
    CHECK(begin(&b, &s));
    fsend(b.f, HOPS - 1, OM_RELAY_CONNECTED, s.id, conn, (size_t)cl);
    fsend(b.f, HOPS - 1, OM_RELAY_RESOLVED, s.id, res, sizeof res);
    pump();
    CHECK(b.closed);
    CHECK_EQ_INT(s.resolved, 0);
    /* a second CONNECTED */
    CHECK(begin(&c, &s));
    fsend(c.f, HOPS - 1, OM_RELAY_CONNECTED, s.id, conn, (size_t)cl);
    fsend(c.f, HOPS - 1, OM_RELAY_CONNECTED, s.id, conn, (size_t)cl);
    pump();
    CHECK(c.closed);
    CHECK_EQ_INT(s.connected, 1);
    CHECK_WORKS(&a, "circuit a");
    CHECK_WORKS(&d, "circuit d");
    teardown();
}

/* Stream messages before the stream is open. tor's client (relay.c,
 * connection_edge_process_relay_cell_not_open) drops DATA, SENDME and XON/XOFF on a stream in
 * connect_wait ("Got an unexpected relay command ... Dropping."), a RESOLVED outside resolve_wait
 * ("Got a 'resolved' cell while not in state resolve_wait. Dropping.") and a CONNECTED outside
 * connect_wait, i.e. on a RESOLVE stream ("Got 'connected' while not in state connect_wait.
 * Dropping."); the stream then completes normally. A malformed CONNECTED ends only that stream
 * with END TORPROTOCOL ("Got a badly formatted connected cell. Closing."). */
static void test_stream_messages_before_open(void)
{
    ccirc_t a, b;
    cstream_t s, r, m;
    CHECK(setup());
    CHECK(build(&a, 0) && build(&b, 0));
    CHECK(begin(&a, &s));
    uint8_t conn[OM_RELAY_PAYLOAD_LEN], res[] = {4, 4, 10, 0, 0, 1, 0, 0, 1, 0};
    int cl = connected_body(conn);
    uint8_t xon[OM_XON_BODY_LEN], done = OM_END_DONE;
    om_xon_encode(0, xon, sizeof xon);
    fsend(a.f, HOPS - 1, OM_RELAY_DATA, s.id, "early", 5);
    fsend(a.f, HOPS - 1, OM_RELAY_RESOLVED, s.id, res, sizeof res);
    fsend(a.f, HOPS - 1, OM_RELAY_SENDME, s.id, NULL, 0);
    fsend(a.f, HOPS - 1, OM_RELAY_XON, s.id, xon, sizeof xon);
    pump();
    CHECK_MSG(!a.closed, "%s", a.why);
    CHECK_EQ_INT(s.len, 0);
    CHECK_EQ_INT(s.resolved + s.ends + s.connected, 0);
    /* a RESOLVE stream: CONNECTED and DATA are not for it */
    om_stream_callbacks_t cb = stream_cb;
    cb.arg = &r;
    memset(&r, 0, sizeof r);
    int from = a.f->n;
    r.s = om_stream_resolve(a.circ, "example.org", &cb);
    CHECK(r.s != NULL);
    pump();
    r.id = (uint16_t)find_msg(a.f, from, HOPS - 1, OM_RELAY_RESOLVE);
    fsend(a.f, HOPS - 1, OM_RELAY_CONNECTED, r.id, conn, (size_t)cl);
    fsend(a.f, HOPS - 1, OM_RELAY_DATA, r.id, "early", 5);
    pump();
    CHECK_MSG(!a.closed, "%s", a.why);
    CHECK_EQ_INT(r.connected + r.resolved + r.ends + (int)r.len, 0);
    /* the real answers still work */
    fsend(a.f, HOPS - 1, OM_RELAY_RESOLVED, r.id, res, sizeof res);
    fsend(a.f, HOPS - 1, OM_RELAY_CONNECTED, s.id, conn, (size_t)cl);
    fsend(a.f, HOPS - 1, OM_RELAY_DATA, s.id, "late", 4);
    fsend(a.f, HOPS - 1, OM_RELAY_END, s.id, &done, 1);
    pump();
    CHECK_EQ_INT(r.resolved, 1);
    CHECK_EQ_INT(s.connected, 1);
    CHECK_EQ_INT(s.len, 4);
    CHECK_MEM(s.data, "late", 4);
    CHECK_EQ_INT(s.ends, 1);
    /* a malformed CONNECTED (address type 4 with no address): END TORPROTOCOL, stream only */
    CHECK(begin(&a, &m));
    uint8_t badconn[] = {0, 0, 0, 0, 4};
    from = a.f->n;
    fsend(a.f, HOPS - 1, OM_RELAY_CONNECTED, m.id, badconn, sizeof badconn);
    pump();
    CHECK_MSG(!a.closed, "%s", a.why);
    CHECK_EQ_INT(m.connected, 0);
    CHECK_EQ_INT(m.ends, 1);
    CHECK_EQ_INT(m.end_reason, OM_END_TORPROTOCOL);
    CHECK_EQ_INT(find_msg(a.f, from, HOPS - 1, OM_RELAY_END), m.id);
    CHECK_WORKS(&a, "after the early messages");
    CHECK_WORKS(&b, "the other circuit");
    teardown();
}

/* tor-spec 7.3/7.4, proposal 289: a SENDME the client's windows cannot explain closes the
 * circuit (tor: "Unexpected sendme cell from exit relay", "Unexpected stream sendme"); with
 * sendme_accept_min_version 1, a v0 SENDME is refused even when due, a v1 with the right digest
 * accepted. */
static void test_sendme_floods_and_versions(void)
{
    ccirc_t a, b, c, d, e;
    cstream_t s;
    CHECK(setup());
    CHECK(build(&a, 0) && build(&b, 0) && build(&c, 0) && build(&d, 1) && build(&e, 1));
    uint8_t body[OM_SENDME_V1_BODY_LEN], digest[20];
    memset(digest, 0x77, sizeof digest);
    /* circuit SENDMEs with nothing sent: v0, v1 */
    fsend(a.f, HOPS - 1, OM_RELAY_SENDME, 0, NULL, 0);
    fsend(b.f, 1, OM_RELAY_SENDME, 0, body, om_sendme_build_v1(body, digest));
    pump();
    CHECK(a.closed && b.closed);
    /* a stream SENDME on a stream that sent nothing */
    CHECK(begin(&c, &s));
    uint8_t conn[OM_RELAY_PAYLOAD_LEN];
    int cl = connected_body(conn);
    fsend(c.f, HOPS - 1, OM_RELAY_CONNECTED, s.id, conn, (size_t)cl);
    fsend(c.f, HOPS - 1, OM_RELAY_SENDME, s.id, NULL, 0);
    pump();
    CHECK(c.closed);
    /* 100 DATA cells sent on d and e: a circuit SENDME is due */
    ccirc_t *due[2] = {&d, &e};
    uint8_t chunk[OM_RELAY_PAYLOAD_LEN];
    memset(chunk, 'x', sizeof chunk);
    for (int k = 0; k < 2; k++) {
        CHECK(begin(due[k], &s));
        fsend(due[k]->f, HOPS - 1, OM_RELAY_CONNECTED, s.id, conn, (size_t)cl);
        pump();
        for (int i = 0; i < 100; i++)
            CHECK_RET(om_stream_write(s.s, chunk, sizeof chunk), (ssize_t)sizeof chunk);
        pump();
        CHECK_EQ_INT(due[k]->f->data_at_exit, 100);
    }
    fsend(d.f, HOPS - 1, OM_RELAY_SENDME, 0, NULL, 0); /* v0 */
    fsend(e.f, HOPS - 1, OM_RELAY_SENDME, 0, body, om_sendme_build_v1(body, e.f->digest_100));
    pump();
    CHECK_MSG(d.closed, "v0 SENDME accepted with sendme_accept_min_version 1");
    CHECK_MSG(!e.closed, "%s", e.why);
    CHECK_WORKS(&e, "after a good SENDME");
    teardown();
}

/* s on c, connected, with n one-byte DATA cells sent by the client (all seen at the exit). */
static bool client_sends(ccirc_t *c, cstream_t *s, int n)
{
    if (!s->s) {
        uint8_t conn[OM_RELAY_PAYLOAD_LEN];
        if (!begin(c, s)) return false;
        fsend(c->f, HOPS - 1, OM_RELAY_CONNECTED, s->id, conn, (size_t)connected_body(conn));
        pump();
    }
    int before = c->f->data_at_exit;
    for (int i = 0; i < n; i++)
        if (om_stream_write(s->s, (const uint8_t *)"y", 1) != 1) return false;
    pump();
    return c->f->data_at_exit == before + n;
}

static void exit_sendme_v1(ccirc_t *c, const uint8_t digest[20])
{
    uint8_t body[OM_SENDME_V1_BODY_LEN];
    fsend(c->f, HOPS - 1, OM_RELAY_SENDME, 0, body, om_sendme_build_v1(body, digest));
    pump();
}

/* Proposal 324 at the client, on circuits whose exit granted congestion control in its ntor-v3
 * reply: a circuit SENDME from the exit that would wedge Vegas closes only that circuit, as in
 * tor (sendme_process_circuit_level: sendme_is_valid's version and digest checks, and
 * congestion_control_vegas_process_sendme's "without a timestamp", return
 * -END_CIRC_REASON_TORPROTOCOL; connection_edge_process_relay_cell closes the circuit): one before
 * any data, one after 30 of the 31 cells it acknowledges, a second one for 31 cells, a v0 under
 * sendme_accept_min_version 1 and a v1 with the wrong digest. The victim (also with congestion
 * control) then acks two rounds of 31 cells with nothing in flight left, and carries a stream. */
static void test_cc_sendmes_that_wedge(void)
{
    ccirc_t v, early0, early30, twice, v0, wrong;
    cstream_t sv, s30, stw, s0, swr;
    memset(&sv, 0, sizeof sv), memset(&s30, 0, sizeof s30), memset(&stw, 0, sizeof stw);
    memset(&s0, 0, sizeof s0), memset(&swr, 0, sizeof swr);
    CHECK(setup());
    CHECK(build_ex(&v, 1, true) && build_ex(&early0, 1, true) && build_ex(&early30, 1, true) &&
          build_ex(&twice, 1, true) && build_ex(&v0, 1, true) && build_ex(&wrong, 1, true));
    uint8_t junk[20];
    memset(junk, 0x77, sizeof junk);
    exit_sendme_v1(&early0, junk);
    CHECK_MSG(early0.closed, "a SENDME before any data kept the circuit");
    CHECK(client_sends(&early30, &s30, CC_INC - 1));
    exit_sendme_v1(&early30, early30.f->dig[CC_INC - 2]);
    CHECK_MSG(early30.closed, "a SENDME after 30 of 31 cells kept the circuit");
    CHECK(client_sends(&twice, &stw, CC_INC));
    exit_sendme_v1(&twice, twice.f->dig[CC_INC - 1]);
    CHECK_MSG(!twice.closed, "the due SENDME closed the circuit: %s", twice.why);
    exit_sendme_v1(&twice, twice.f->dig[CC_INC - 1]);
    CHECK_MSG(twice.closed, "a second SENDME for one sendme_inc kept the circuit");
    CHECK(client_sends(&v0, &s0, CC_INC));
    fsend(v0.f, HOPS - 1, OM_RELAY_SENDME, 0, NULL, 0);
    pump();
    CHECK_MSG(v0.closed, "a v0 SENDME under sendme_accept_min_version 1 kept the circuit");
    CHECK(client_sends(&wrong, &swr, CC_INC));
    uint8_t bad[20];
    memcpy(bad, wrong.f->dig[CC_INC - 1], 20);
    bad[0] ^= 0x80;
    exit_sendme_v1(&wrong, bad);
    CHECK_MSG(wrong.closed, "a v1 SENDME with a wrong digest kept the circuit");
    for (int round = 1; round <= 2; round++) {
        CHECK(client_sends(&v, &sv, CC_INC));
        exit_sendme_v1(&v, v.f->dig[round * CC_INC - 1]);
        CHECK_MSG(!v.closed, "victim round %d: %s", round, v.why);
    }
    char st[160];
    om_circuit_cc_format(v.circ, st, sizeof st);
    CHECK_MSG(strstr(st, " INFL=0 ") != NULL, "victim's congestion state: %s", st);
    om_stream_close(sv.s, OM_END_DONE);
    CHECK_WORKS(&v, "the victim");
    teardown();
}

/* XON/XOFF from the exit at the client. tor's client (congestion_control_flow.c) logs "Got
 * multiple XOFF on connection" and "Got extra XOFF/XON for bytes sent" and goes on: nothing is
 * closed; an XOFF stops the stream's sending until an XON, whose rate 0 or over INT32_MAX bytes/s
 * means unlimited. XON/XOFF for unknown streams are dropped. */
static void test_cc_xon_xoff_abuse(void)
{
    ccirc_t a, b;
    cstream_t s;
    memset(&s, 0, sizeof s);
    CHECK(setup());
    CHECK(build_ex(&a, 0, true) && build_ex(&b, 0, true));
    CHECK(client_sends(&a, &s, 1));
    uint8_t xoff[8], xon[8];
    int xoff_len = om_xoff_encode(xoff, sizeof xoff);
    for (int i = 0; i < 300; i++)
        fsend(a.f, HOPS - 1, OM_RELAY_XOFF, s.id, xoff, (size_t)xoff_len);
    pump();
    CHECK_MSG(!a.closed, "%s", a.why);
    CHECK_EQ_INT(om_stream_write(s.s, (const uint8_t *)"held", 4), 0);
    for (uint32_t i = 0; i < 300; i++) {
        fsend(a.f, HOPS - 1, OM_RELAY_XON, s.id, xon, (size_t)om_xon_encode(i, xon, sizeof xon));
        fsend(a.f, HOPS - 1, OM_RELAY_XOFF, s.id, xoff, (size_t)xoff_len);
    }
    fsend(a.f, HOPS - 1, OM_RELAY_XON, s.id, xon,
          (size_t)om_xon_encode(0xffffffffu, xon, sizeof xon));
    fsend(a.f, HOPS - 1, OM_RELAY_XOFF, 999, xoff, (size_t)xoff_len);
    fsend(a.f, HOPS - 1, OM_RELAY_XON, 999, xon, (size_t)om_xon_encode(1, xon, sizeof xon));
    pump();
    CHECK_MSG(!a.closed, "%s", a.why);
    CHECK(client_sends(&a, &s, 1));
    om_stream_close(s.s, OM_END_DONE);
    CHECK_WORKS(&a, "after the XON/XOFF flood");
    CHECK_WORKS(&b, "the other circuit");
    teardown();
}

/* Junk on the client's link: unknown cell commands (also naming a live circuit), circuit ID 0,
 * huge variable-length cells, odd PADDING_NEGOTIATE are dropped; a CREATE_FAST naming an origin
 * circuit is dropped (tor: "for known circ. Dropping"). */
static void test_link_junk_at_the_client(void)
{
    ccirc_t a, b;
    CHECK(setup());
    CHECK(build(&a, 0) && build(&b, 0));
    uint32_t ida = om_circuit_id(a.circ);
    static const uint8_t cmds[] = {
        13, 42, 127, OM_CELL_PADDING_NEGOTIATE, OM_CELL_CREATE_FAST, OM_CELL_CREATE2};
    for (size_t i = 0; i < sizeof cmds; i++) {
        om_cell_t cell = {.circ_id = ida, .command = cmds[i]};
        memset(cell.payload, 0xee, sizeof cell.payload);
        CHECK_RET(om_mem_link_feed(&link, &cell), 0);
        cell.circ_id = 0;
        CHECK_RET(om_mem_link_feed(&link, &cell), 0);
    }
    uint8_t *big = calloc(1, 7 + 65535);
    CHECK(big != NULL);
    big[4] = 200, big[5] = 0xff, big[6] = 0xff;
    CHECK_RET(om_mem_link_feed_raw(&link, big, 7 + 65535), 0);
    big[4] = OM_CELL_VPADDING;
    CHECK_RET(om_mem_link_feed_raw(&link, big, 7 + 65535), 0);
    free(big);
    CHECK(!om_channel_is_closing(link.chan));
    pump();
    CHECK_MSG(!a.closed, "%s", a.why);
    CHECK_WORKS(&a, "circuit a");
    CHECK_WORKS(&b, "circuit b");
    teardown();
}

static const om_test_t tests[] = {
    OM_TEST(test_stream_cells_from_wrong_hop),
    OM_TEST(test_end_and_truncated_with_empty_body),
    OM_TEST(test_spoofed_stream_messages),
    OM_TEST(test_stream_messages_before_open),
    OM_TEST(test_sendme_floods_and_versions),
    OM_TEST(test_cc_sendmes_that_wedge),
    OM_TEST(test_cc_xon_xoff_abuse),
    OM_TEST(test_link_junk_at_the_client),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("hostile_client", tests, argc, argv);
}

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

#include "fake_relays.h"
#include "test.h"

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
        CHECK_RET(om_mem_link_feed(&fr_link, &cell), 0);
        cell.circ_id = 0;
        CHECK_RET(om_mem_link_feed(&fr_link, &cell), 0);
    }
    uint8_t *big = calloc(1, 7 + 65535);
    CHECK(big != NULL);
    big[4] = 200, big[5] = 0xff, big[6] = 0xff;
    CHECK_RET(om_mem_link_feed_raw(&fr_link, big, 7 + 65535), 0);
    big[4] = OM_CELL_VPADDING;
    CHECK_RET(om_mem_link_feed_raw(&fr_link, big, 7 + 65535), 0);
    free(big);
    CHECK(!om_channel_is_closing(fr_link.chan));
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

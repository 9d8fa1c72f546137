/* test_or_circuit_oom.c — the relay's out-of-memory policy (or_sched.c's MaxMemInQueues) acting on
 * real circuits (or_circuit.c) built by CREATE_FAST over an in-memory client link that the test
 * keeps backlogged. The policy runs inside a send (om_or_circ_send_back -> om_or_cellq_send ->
 * om_or_circ_oom), possibly for the very circuit that sends, whose caller goes on using it: the
 * circuit is only marked (DESTROY RESOURCELIMIT to the client, queue dropped, later sends fail,
 * closing it does nothing) and freed from the event loop, where it used to be freed at once
 * (heap-use-after-free under ASan, fixed in 54eed11). Also: an older circuit picked while another
 * sends is marked and reaped while the sender's cells all arrive intact; without an event base
 * (params.base NULL) the picked circuit is freed at once; with the real stream layer, an exit
 * stream packaging a local server's bytes (or_exit_pull -> or_stream_send_data) when the policy
 * picks its circuit: the stream and circuit last until the loop frees them with the connection. */
#include <stdlib.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "core/channel_int.h"
#include "core/channel.h"
#include "core/onion_handshake.h"
#include "core/relay_crypto.h"
#include "core/relay_bodies.h"
#include "core/relay_msg.h"
#include "mem_link.h"
#include "or/or_circuit.h"
#include "or/or_exit.h"
#include "or/or_sched.h"
#include "or/or_streams.h"
#include "test.h"

#define LIMIT   100 /* cells all queues may hold (MaxMemInQueues) */
#define SEC     1000000ull
#define STREAM  1
#define CIRC_A  0x80000001u /* a client's circuit IDs have the high bit (it opened the link) */
#define CIRC_B  0x80000002u
#define DATALEN OM_RELAY_PAYLOAD_LEN

/* ---------------------------------------------------------------- the relay */

static uint64_t now_usec;

static uint64_t test_clock(void *arg)
{
    (void)arg;
    return now_usec;
}

typedef struct {
    struct event_base *base;
    om_or_sched_t *sched;
    om_or_circuits_t *circs;
    om_mem_link_t link;       /* from the client; we are the responder */
    om_or_streams_t *streams; /* the stream layer, or NULL: the test is the stream layer */
    om_or_exit_t *exit;       /* its exit */
    int freed;                /* on_circ_free calls */
    uint32_t freed_id;        /* the client's ID of the circuit freed last ... */
    bool freed_marked;        /* ... and whether the OOM policy had marked it */
    om_or_circ_t *seen;       /* the circuit of the last relay cell for the stream layer */
} relay_t;

/* The stream layer's hooks: remember the circuit (as streams do), count frees; with `streams`,
 * pass them on to it. */
static int on_relay_cell(om_or_circ_t *circ, const om_relay_header_t *hdr, const uint8_t *body,
                         bool early, void *arg)
{
    relay_t *r = arg;
    r->seen = circ;
    return r->streams ? om_or_streams_handle(circ, hdr, body, early, r->streams) : 0;
}

static void on_circ_free(om_or_circ_t *circ, void *arg)
{
    relay_t *r = arg;
    r->freed++;
    r->freed_id = circ->p_circ_id;
    r->freed_marked = circ->marked;
    if (r->streams) om_or_streams_circ_free(circ, r->streams);
}

static void on_writable(om_or_circ_t *circ, void *arg)
{
    relay_t *r = arg;
    if (r->streams) om_or_streams_writable(circ, r->streams);
}

static void on_unclaimed(om_channel_t *chan, const om_cell_t *cell, void *arg)
{
    relay_t *r = arg;
    om_or_circuits_unclaimed_cell(r->circs, chan, cell);
}

/* A relay's circuits and scheduler (LIMIT cells, on the test clock at 1 s) and a client's link
 * to it. with_base: params.base set (the OOM policy defers frees to the loop). */
static bool relay_start(relay_t *r, bool with_base)
{
    memset(r, 0, sizeof *r);
    now_usec = 1 * SEC;
    r->base = event_base_new();
    r->sched = om_or_sched_new(LIMIT * om_or_sched_cell_cost(), om_or_circ_oom, NULL);
    if (!r->base || !r->sched) return false;
    om_or_sched_set_clock(r->sched, test_clock, NULL);
    om_or_circ_params_t p = {
        .keys = NULL, /* CREATE_FAST needs no onion key */
        .max_circuits = 16,
        .stream_handler = on_relay_cell,
        .on_circ_free = on_circ_free,
        .stream_arg = r,
        .sched = r->sched,
        .on_writable = on_writable,
        .base = with_base ? r->base : NULL,
    };
    r->circs = om_or_circuits_new(&p);
    om_chan_callbacks_t cb = {.on_unclaimed_cell = on_unclaimed, .arg = r};
    return r->circs && om_mem_link_open(&r->link, r->base, OM_CHAN_RESPONDER, &cb);
}

static void relay_stop(relay_t *r)
{
    om_or_circuits_free(r->circs);
    om_or_streams_free(r->streams);
    om_or_exit_free(r->exit);
    if (r->link.base) om_mem_link_close(&r->link);
    om_or_sched_free(r->sched);
    if (r->base) event_base_free(r->base);
    memset(r, 0, sizeof *r);
}

static unsigned relay_circuits(const relay_t *r)
{
    om_or_circ_stats_t st;
    om_or_circuits_stats(r->circs, &st);
    return st.circuits;
}

static om_or_sched_stats_t sched_stats(const relay_t *r)
{
    om_or_sched_stats_t st;
    om_or_sched_stats(r->sched, &st);
    return st;
}

/* Make the client's link busy (cells put on it around the scheduler: PADDING), so what circuits
 * send from now on waits in their queues. */
static void link_fill(relay_t *r)
{
    om_cell_t c = {.circ_id = 0, .command = OM_CELL_PADDING};
    memset(c.payload, 0, sizeof c.payload);
    while (om_channel_outbuf_len(r->link.chan) < OM_OR_LINK_HIGH_WATER)
        om_channel_send_cell(r->link.chan, &c);
}

/* ---------------------------------------------------------------- the client */

typedef struct {
    uint32_t id;
    om_relay_crypto_t crypto; /* the client's side of the hop */
    om_or_circ_t *circ;       /* the relay's, as its stream layer holds it */
    unsigned got;             /* DATA cells that arrived intact and in order */
    unsigned bad;             /* relay cells that did not */
    unsigned destroys;        /* DESTROY cells for it ... */
    uint8_t reason;           /* ... the last one's reason */
} client_circ_t;

/* The body of DATA cell seq of circuit id: every byte follows from (id, seq). */
static void data_body(uint8_t *b, uint32_t id, uint32_t seq)
{
    b[0] = (uint8_t)(seq >> 24);
    b[1] = (uint8_t)(seq >> 16);
    b[2] = (uint8_t)(seq >> 8);
    b[3] = (uint8_t)seq;
    for (size_t i = 4; i < DATALEN; i++)
        b[i] = (uint8_t)(id * 97u + seq * 31u + i * 7u);
}

/* The relay sends DATA cell seq back on c's circuit (as an exit packages a server's bytes). */
static int relay_send_data(client_circ_t *c, uint32_t seq)
{
    uint8_t body[DATALEN];
    data_body(body, c->id, seq);
    return om_or_circ_send_back(c->circ, OM_RELAY_DATA, STREAM, body, sizeof body);
}

/* Send n DATA cells from seq first; returns how many were accepted (0 returned). */
static unsigned relay_send_n(client_circ_t *c, uint32_t first, unsigned n)
{
    unsigned ok = 0;
    for (unsigned i = 0; i < n; i++)
        ok += relay_send_data(c, first + i) == 0;
    return ok;
}

/* The client sends a relay cell to the relay (its only hop) on c. */
static int client_send(relay_t *r, client_circ_t *c, uint8_t command, const uint8_t *body,
                       size_t len)
{
    om_cell_t cell = {.circ_id = c->id, .command = OM_CELL_RELAY};
    if (om_relay_payload_build(cell.payload, command, STREAM, body, len) < 0) return -1;
    om_relay_crypto_set_digest_fwd(&c->crypto, cell.payload);
    om_relay_crypto_encrypt_fwd(&c->crypto, cell.payload);
    return om_mem_link_feed(&r->link, &cell);
}

/* Build a circuit with CREATE_FAST on the client's (idle) link. */
static bool client_create(relay_t *r, client_circ_t *c, uint32_t id)
{
    memset(c, 0, sizeof *c);
    c->id = id;
    om_fast_client_t fc;
    uint8_t x[OM_FAST_LEN];
    om_cell_t cell = {.circ_id = id, .command = OM_CELL_CREATE_FAST}, reply;
    memset(cell.payload, 0, sizeof cell.payload);
    if (om_fast_client_create(&fc, x) < 0) return false;
    memcpy(cell.payload, x, sizeof x);
    om_handshake_keys_t keys;
    bool ok = om_mem_link_feed(&r->link, &cell) == 0 && om_mem_link_take(&r->link, &reply) == 1 &&
              reply.circ_id == id && reply.command == OM_CELL_CREATED_FAST &&
              om_fast_client_finish(&fc, reply.payload, 2 * OM_FAST_LEN, &keys) == 0 &&
              om_relay_crypto_init(&c->crypto, keys.keys) == 0;
    om_fast_client_clear(&fc);
    return ok;
}

/* The client opens a stream (command: BEGIN_DIR, BEGIN) on c, which tells the test the relay's
 * circuit, as the stream layer keeps it. */
static bool client_begin(relay_t *r, client_circ_t *c, uint8_t command, const uint8_t *body,
                         size_t len)
{
    r->seen = NULL;
    if (client_send(r, c, command, body, len) < 0 || !r->seen) return false;
    c->circ = r->seen;
    r->seen = NULL;
    return true;
}

/* A circuit with a BEGIN_DIR stream whose answer the test packages (the relay sends nothing). */
static bool client_circuit(relay_t *r, client_circ_t *c, uint32_t id)
{
    return client_create(r, c, id) && client_begin(r, c, OM_RELAY_BEGIN_DIR, NULL, 0) &&
           om_mem_link_queued(&r->link) == 0;
}

/* Take everything off the client's link as the client reads it: PADDING is the filler; DESTROYs
 * and DATA cells are counted on their circuit (cs[0..n)), DATA checked against data_body in
 * order. Returns the number of cells that belong to nothing of that. */
static unsigned client_read(relay_t *r, client_circ_t **cs, size_t n)
{
    unsigned stray = 0;
    om_cell_t cell;
    int got;
    while ((got = om_mem_link_take(&r->link, &cell)) != 0) {
        client_circ_t *c = NULL;
        for (size_t i = 0; i < n; i++)
            if (cs[i]->id == cell.circ_id) c = cs[i];
        if (got < 0 || (!c && cell.command != OM_CELL_PADDING)) {
            stray++;
        } else if (!c) {
            continue; /* filler */
        } else if (cell.command == OM_CELL_DESTROY) {
            c->destroys++;
            c->reason = cell.payload[0];
        } else if (cell.command != OM_CELL_RELAY) {
            c->bad++;
        } else {
            om_relay_header_t h;
            uint8_t want[DATALEN];
            data_body(want, c->id, c->got);
            om_relay_crypto_decrypt_back(&c->crypto, cell.payload);
            bool ok = om_relay_crypto_check_back(&c->crypto, cell.payload) &&
                      om_relay_header_unpack(&h, cell.payload) == 0 && h.command == OM_RELAY_DATA &&
                      h.stream_id == STREAM && h.length == DATALEN &&
                      !memcmp(cell.payload + OM_RELAY_HEADER_LEN, want, DATALEN);
            if (ok)
                c->got++;
            else
                c->bad++;
        }
    }
    return stray;
}

/* ---------------------------------------------------------------- the sender is picked */

/* A's LIMIT+1st queued cell passes the limit and A holds the oldest cells: it is picked inside
 * its own om_or_circ_send_back. It must still be there afterwards, marked, until the loop runs. */
static void test_oom_marks_sending_circuit(void)
{
    relay_t r;
    client_circ_t a, a2;
    client_circ_t *cs[] = {&a};
    CHECK(relay_start(&r, true));
    CHECK(client_circuit(&r, &a, CIRC_A));
    CHECK_EQ_INT(relay_circuits(&r), 1);
    link_fill(&r);

    CHECK_RET(relay_send_n(&a, 0, LIMIT), LIMIT);
    CHECK_EQ_INT(sched_stats(&r).queued_cells, LIMIT); /* exactly at the limit */
    CHECK_EQ_INT(sched_stats(&r).oom_kills, 0);
    now_usec += SEC;
    CHECK_RET(relay_send_data(&a, LIMIT), 0);
    /* The caller (an exit's packaging loop, say) goes on using the circuit: without the deferred
     * free this is a heap-use-after-free. */
    CHECK(a.circ->marked);
    CHECK(a.circ->p_chan == NULL);
    CHECK_EQ_INT(r.freed, 0);
    CHECK_EQ_INT(relay_circuits(&r), 1);
    CHECK_EQ_INT(sched_stats(&r).oom_kills, 1);
    CHECK_EQ_INT(sched_stats(&r).queued_cells, 0); /* its queue was dropped */
    /* Later sends fail; closing it (as a caller does after a failed send) waits for the loop. */
    CHECK_RET(relay_send_data(&a, LIMIT + 1), -1);
    om_or_circ_close(a.circ, OM_DESTROY_PROTOCOL);
    CHECK_EQ_INT(r.freed, 0);
    CHECK(a.circ->marked);
    /* Its circuit ID on the link is let go: the client's cells reach no circuit. */
    CHECK_RET(client_send(&r, &a, OM_RELAY_DATA, (const uint8_t *)"x", 1), 0);
    CHECK(r.seen == NULL);

    /* The client got the filler, then one DESTROY RESOURCELIMIT and none of A's DATA. */
    CHECK_RET(client_read(&r, cs, 1), 0);
    CHECK_EQ_INT(a.destroys, 1);
    CHECK_EQ_INT(a.reason, OM_DESTROY_RESOURCELIMIT);
    CHECK_EQ_INT(a.got + a.bad, 0);

    CHECK_RET(event_base_loop(r.base, EVLOOP_NONBLOCK), 0);
    CHECK_EQ_INT(r.freed, 1);
    CHECK_EQ_INT(r.freed_id, CIRC_A);
    CHECK(r.freed_marked);
    CHECK_EQ_INT(relay_circuits(&r), 0);
    CHECK_EQ_INT(om_mem_link_queued(&r.link), 0); /* nothing more was sent */

    /* The link goes on: the client can build a circuit with the same ID again. */
    CHECK(client_circuit(&r, &a2, CIRC_A));
    CHECK_RET(relay_send_data(&a2, 0), 0);
    client_circ_t *cs2[] = {&a2};
    CHECK_RET(client_read(&r, cs2, 1), 0);
    CHECK_EQ_INT(a2.got, 1);
    om_relay_crypto_clear(&a.crypto);
    om_relay_crypto_clear(&a2.crypto);
    relay_stop(&r);
}

/* ---------------------------------------------------------------- another circuit is picked */

/* A queues 60 cells at 1 s, B 40 at 2 s (the limit); B's next cell passes it and A, whose cells
 * are older, is picked inside B's send, which leaves 41 cells (under 90%). with_base: A is
 * marked and freed from the loop; without: freed at once (the old behaviour, safe here because
 * B is the one sending). Either way B carries on and all its 50 cells arrive intact. */
static void older_circuit_picked(bool with_base)
{
    relay_t r;
    client_circ_t a, b;
    client_circ_t *cs[] = {&a, &b};
    CHECK(relay_start(&r, with_base));
    CHECK(client_circuit(&r, &a, CIRC_A));
    CHECK(client_circuit(&r, &b, CIRC_B));
    link_fill(&r);

    CHECK_RET(relay_send_n(&a, 0, 60), 60);
    now_usec += SEC;
    CHECK_RET(relay_send_n(&b, 0, 40), 40);
    CHECK_EQ_INT(sched_stats(&r).oom_kills, 0);
    now_usec += SEC;
    CHECK_RET(relay_send_data(&b, 40), 0);
    CHECK_EQ_INT(sched_stats(&r).oom_kills, 1);
    CHECK_EQ_INT(sched_stats(&r).queued_cells, 41);
    CHECK(!b.circ->marked);
    if (with_base) {
        CHECK(a.circ->marked);
        CHECK_EQ_INT(r.freed, 0);
        CHECK_EQ_INT(relay_circuits(&r), 2);
        CHECK_RET(relay_send_data(&a, 60), -1);
    } else {
        CHECK_EQ_INT(r.freed, 1); /* A is gone: not touched again */
        CHECK_EQ_INT(r.freed_id, CIRC_A);
        CHECK_EQ_INT(relay_circuits(&r), 1);
    }
    CHECK_RET(relay_send_n(&b, 41, 9), 9);

    CHECK_RET(client_read(&r, cs, 2), 0);
    CHECK_EQ_INT(a.destroys, 1);
    CHECK_EQ_INT(a.reason, OM_DESTROY_RESOURCELIMIT);
    CHECK_EQ_INT(a.got + a.bad, 0);
    CHECK_EQ_INT(b.destroys, 0);
    CHECK_EQ_INT(b.bad, 0);
    CHECK_EQ_INT(b.got, 50);

    CHECK_RET(event_base_loop(r.base, EVLOOP_NONBLOCK), 0);
    CHECK_EQ_INT(r.freed, 1);
    CHECK_EQ_INT(r.freed_id, CIRC_A);
    CHECK_EQ_INT(r.freed_marked, with_base);
    CHECK_EQ_INT(relay_circuits(&r), 1);
    /* B still works after the reaper ran. */
    CHECK(!b.circ->marked);
    CHECK_RET(relay_send_data(&b, 50), 0);
    CHECK_RET(client_read(&r, cs, 2), 0);
    CHECK_EQ_INT(b.got, 51);
    CHECK_EQ_INT(b.bad + b.destroys, 0);
    CHECK_EQ_INT(sched_stats(&r).oom_kills, 1);
    om_relay_crypto_clear(&a.crypto);
    om_relay_crypto_clear(&b.crypto);
    relay_stop(&r);
}

static void test_oom_marks_older_circuit(void)
{
    older_circuit_picked(true);
}

static void test_oom_without_base_frees_older_circuit(void)
{
    older_circuit_picked(false);
}

/* ---------------------------------------------------------------- an exit stream */

#define SERVER_BYTES (200 * DATALEN) /* what the server sends at once */

/* A TCP server on 127.0.0.1 that sends SERVER_BYTES to whoever connects. */
typedef struct {
    struct evconnlistener *lis;
    struct bufferevent *conn;
    uint16_t port;
} server_t;

static void on_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
    server_t *sv = arg;
    (void)sa;
    (void)salen;
    if (sv->conn) {
        evutil_closesocket(fd);
        return;
    }
    sv->conn = bufferevent_socket_new(evconnlistener_get_base(lis), fd, BEV_OPT_CLOSE_ON_FREE);
    if (!sv->conn) {
        evutil_closesocket(fd);
        return;
    }
    uint8_t *bytes = calloc(1, SERVER_BYTES);
    if (bytes) bufferevent_write(sv->conn, bytes, SERVER_BYTES);
    free(bytes);
}

static bool server_start(server_t *sv, struct event_base *base)
{
    memset(sv, 0, sizeof *sv);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sin;
    sv->lis = evconnlistener_new_bind(base, on_accept, sv, LEV_OPT_CLOSE_ON_FREE, -1,
                                      (struct sockaddr *)&sin, sizeof sin);
    if (!sv->lis || getsockname(evconnlistener_get_fd(sv->lis), (struct sockaddr *)&sin, &sl) < 0)
        return false;
    sv->port = ntohs(sin.sin_port);
    return true;
}

static void server_stop(server_t *sv)
{
    if (sv->conn) bufferevent_free(sv->conn);
    if (sv->lis) evconnlistener_free(sv->lis);
    memset(sv, 0, sizeof *sv);
}

/* An exit that accepts everything; its resolver is never asked (the BEGIN names an address). */
static om_or_exit_t *exit_new(struct event_base *base)
{
    char path[] = "/tmp/om-test-resolv-XXXXXX", err[256];
    static const char conf[] = "nameserver 127.0.0.1\n";
    const char *accept_all[] = {"accept *:*"};
    om_exit_policy_t policy = {0};
    int fd = mkstemp(path);
    if (fd < 0) return NULL;
    bool ok = write(fd, conf, sizeof conf - 1) == (ssize_t)(sizeof conf - 1);
    close(fd);
    om_or_exit_t *x = NULL;
    if (ok && om_exit_policy_parse(&policy, accept_all, 1, err, sizeof err) == 0)
        x = om_or_exit_new(base, &policy, path, false, NULL, err, sizeof err);
    om_exit_policy_free(&policy);
    unlink(path);
    return x;
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

/* Run the event loop until *count reaches want (false after 10 s). */
static bool loop_until(struct event_base *base, const int *count, int want)
{
    struct event *t = event_new(base, -1, EV_PERSIST, tick, NULL);
    struct timeval tv = {0, 20000};
    if (!t || event_add(t, &tv) < 0) {
        if (t) event_free(t);
        return false;
    }
    uint64_t end = om_now_usec() + 10 * SEC;
    while (*count < want && om_now_usec() < end)
        event_base_loop(base, EVLOOP_ONCE);
    event_free(t);
    return *count >= want;
}

/* The exit stream of a circuit packages a server's bytes into DATA cells (or_exit_pull ->
 * or_stream_send_data) on a busy link; the LIMIT+1st queued cell makes the OOM policy pick that
 * circuit in the middle of the loop, which goes on with the stream and circuit: they must last
 * until the event loop frees them, the server connection with them. */
static void test_oom_during_exit_packaging(void)
{
    relay_t r;
    server_t sv;
    client_circ_t a;
    client_circ_t *cs[] = {&a};
    CHECK(relay_start(&r, true));
    CHECK(server_start(&sv, r.base));
    CHECK((r.exit = exit_new(r.base)) != NULL);
    CHECK((r.streams = om_or_streams_new(NULL, NULL)) != NULL);
    CHECK_RET(om_or_exit_register(r.exit, r.streams), 0);
    r.link.chan->peer_verified = true; /* the previous hop is a relay: exits serve only those */
    CHECK(client_create(&r, &a, CIRC_A));
    link_fill(&r);

    om_begin_t b = {.port = sv.port};
    snprintf(b.host, sizeof b.host, "127.0.0.1");
    uint8_t body[OM_RELAY_PAYLOAD_LEN];
    int n = om_begin_encode(&b, body, sizeof body);
    CHECK(n > 0);
    CHECK(client_begin(&r, &a, OM_RELAY_BEGIN, body, (size_t)n));
    CHECK_EQ_INT(r.freed, 0);
    CHECK(loop_until(r.base, &r.freed, 1));
    CHECK_EQ_INT(r.freed_id, CIRC_A);
    CHECK(r.freed_marked);
    CHECK_EQ_INT(relay_circuits(&r), 0);
    CHECK_EQ_INT(sched_stats(&r).oom_kills, 1);
    om_or_exit_stats_t xs;
    om_or_exit_stats(r.exit, &xs);
    CHECK_EQ_INT(xs.begins, 1);
    CHECK_EQ_INT(xs.connected, 1);
    CHECK_EQ_INT(xs.open, 0); /* the server connection went with the stream */
    /* The client got the filler and DESTROY RESOURCELIMIT; CONNECTED and DATA were dropped. */
    CHECK_RET(client_read(&r, cs, 1), 0);
    CHECK_EQ_INT(a.destroys, 1);
    CHECK_EQ_INT(a.reason, OM_DESTROY_RESOURCELIMIT);
    CHECK_EQ_INT(a.got + a.bad, 0);
    om_relay_crypto_clear(&a.crypto);
    server_stop(&sv);
    relay_stop(&r);
}

static const om_test_t tests[] = {
    OM_TEST(test_oom_marks_sending_circuit),
    OM_TEST(test_oom_marks_older_circuit),
    OM_TEST(test_oom_without_base_frees_older_circuit),
    OM_TEST(test_oom_during_exit_packaging),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("or_circuit_oom", tests, argc, argv);
}

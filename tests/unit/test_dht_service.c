/* test_dht_service.c — src/dht/dht_service.c, a relay's DHT node on the or_fixture relay (a
 * one-hop circuit of raw relay cells), with a consensus of 12 relays made here (10 Running
 * members listing OnionMeshDht=1, one relay without it, one member not Running): the routing
 * table holds exactly the other members and is saved and read back by a new service; PING,
 * FIND_NODE (the 8 closest members, by brute force), ADD_PROVIDER then GET_PROVIDERS; a record
 * whose publisher is not the named relay's identity refused (ADDED 1); two requests in one DATA
 * cell and one split over two cells; a malformed frame ending only its stream; the 9th stream on
 * a circuit refused; an idle stream closed; requests piling up while the answers cannot leave
 * (the client sends no SENDMEs) ending the stream at OM_DHT_STREAM_IN_MAX; MaxMemInQueues
 * reclaiming a stream; the heartbeat line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dht/dht_record.h"
#include "dht/dht_service.h"
#include "or_fixture.h"
#include "test.h"

#define N_RELAYS  12
#define N_MEMBERS 10
#define NOW       1800000000u

typedef struct {
    fix_relay_t r;
    om_consensus_t cons;
    om_routerstatus_t rs[N_RELAYS];
    om_ed25519_keypair_t ed[N_RELAYS];
    uint8_t self[20];
    char dir[64];
    om_dht_service_t *svc;
    fix_client_t c;
} env_t;

static int by_id(const void *a, const void *b)
{
    return memcmp(((const om_routerstatus_t *)a)->rsa_id, ((const om_routerstatus_t *)b)->rsa_id,
                  20);
}

static const om_consensus_t *get_cons(void *arg)
{
    return &((env_t *)arg)->cons;
}

static bool ed_of(void *arg, const uint8_t fp[20], uint8_t ed[32])
{
    env_t *e = arg;
    for (int i = 0; i < N_RELAYS; i++)
        if (!memcmp(e->rs[i].rsa_id, fp, 20)) {
            memcpy(ed, e->ed[i].pub, 32);
            return true;
        }
    return false;
}

static bool is_member(const om_routerstatus_t *rs)
{
    return (rs->flags & OM_RS_RUNNING) && rs->proto.onionmesh_dht == 2;
}

/* What the table should hold: the members, at most k per bucket (Kademlia's bound: with a random
 * ID for us, more than 8 of 10 members can share bucket 0). */
static int expected_table(const env_t *e)
{
    om_dht_table_t t;
    om_dht_table_init(&t, e->self);
    int per[OM_DHT_BUCKETS] = {0}, n = 0;
    for (int i = 0; i < N_RELAYS; i++) {
        int b = om_dht_table_bucket_of(&t, e->rs[i].rsa_id);
        if (is_member(&e->rs[i]) && b >= 0 && per[b]++ < OM_DHT_K) n++;
    }
    return n;
}

static bool in_table(const env_t *e, const uint8_t id[20])
{
    om_dht_node_t all[N_RELAYS];
    const om_dht_table_t *t = om_dht_service_table(e->svc);
    size_t n = om_dht_table_closest(t, id, all, N_RELAYS);
    return n && !memcmp(all[0].id, id, 20);
}

static om_dht_service_t *new_service(env_t *e, bool with_consensus)
{
    om_dht_service_params_t p = {.self = e->self,
                                 .data_dir = e->dir,
                                 .consensus = with_consensus ? get_cons : NULL,
                                 .ed_of = ed_of,
                                 .arg = e};
    return om_dht_service_new(&p);
}

static bool env_start(env_t *e)
{
    memset(e, 0, sizeof *e);
    om_rand_bytes(e->self, 20);
    for (int i = 0; i < N_RELAYS; i++) {
        om_rand_bytes(e->rs[i].rsa_id, 20);
        e->rs[i].flags = OM_RS_RUNNING | OM_RS_VALID;
        e->rs[i].proto.onionmesh_dht = 2; /* version 1 */
    }
    e->rs[N_MEMBERS].proto.onionmesh_dht = 0;       /* a relay not serving the DHT */
    e->rs[N_MEMBERS + 1].flags = OM_RS_VALID;       /* a member not Running */
    qsort(e->rs, N_RELAYS, sizeof e->rs[0], by_id); /* the consensus's order */
    for (int i = 0; i < N_RELAYS; i++)
        om_ed25519_keygen(&e->ed[i]);
    e->cons.routers = e->rs;
    e->cons.n_routers = N_RELAYS;
    e->cons.valid_after = 1000;
    snprintf(e->dir, sizeof e->dir, "/tmp/om-dhtsvc-XXXXXX");
    if (!mkdtemp(e->dir) || !fix_relay_start(&e->r, NULL, NULL)) return false;
    e->svc = new_service(e, true);
    om_stream_service_t s;
    if (!e->svc) return false;
    om_dht_service_entry(e->svc, &s);
    return om_or_streams_add_service(e->r.streams, &s) == 0 &&
           fix_client_create(&e->r, &e->c, FIX_CIRC);
}

static void env_stop(env_t *e)
{
    fix_relay_stop(&e->r); /* releases the streams first */
    om_dht_service_free(e->svc);
    char path[96];
    snprintf(path, sizeof path, "%s/dht-table", e->dir);
    unlink(path);
    rmdir(e->dir);
}

/* What arrived for the client: per stream, CONNECTED, the END reason, DATA bytes. */
typedef struct {
    bool connected[32];
    uint8_t end[32];
    uint8_t data[32][8192];
    size_t len[32];
    bool destroyed;
} seen_t;

static void drain(env_t *e, seen_t *s)
{
    om_relay_header_t h;
    uint8_t body[OM_RELAY_PAYLOAD_LEN];
    int t;
    while ((t = fix_client_recv(&e->r, &e->c, &h, body, NULL)) != 0) {
        if (t == 2) s->destroyed = true;
        if (t != 1 || h.stream_id >= 32) continue;
        if (h.command == OM_RELAY_CONNECTED) s->connected[h.stream_id] = true;
        if (h.command == OM_RELAY_END) s->end[h.stream_id] = body[0];
        if (h.command == OM_RELAY_DATA && s->len[h.stream_id] + h.length <= 8192) {
            memcpy(s->data[h.stream_id] + s->len[h.stream_id], body, h.length);
            s->len[h.stream_id] += h.length;
        }
    }
}

static void open_dht(env_t *e, uint16_t sid)
{
    om_begin_t b;
    memset(&b, 0, sizeof b);
    snprintf(b.host, sizeof b.host, "%s", OM_DHT_HOSTNAME);
    b.port = OM_DHT_PORT;
    uint8_t body[OM_RELAY_PAYLOAD_LEN];
    int n = om_begin_encode(&b, body, sizeof body);
    CHECK(n > 0 && fix_client_send(&e->r, &e->c, OM_RELAY_BEGIN, sid, body, (size_t)n, 0) == 0);
}

static void send_bytes(env_t *e, uint16_t sid, const uint8_t *p, size_t len)
{
    for (size_t off = 0; off < len; off += OM_RELAY_PAYLOAD_LEN) {
        size_t n = len - off < OM_RELAY_PAYLOAD_LEN ? len - off : OM_RELAY_PAYLOAD_LEN;
        CHECK(fix_client_send(&e->r, &e->c, OM_RELAY_DATA, sid, p + off, n, false) == 0);
    }
}

static size_t frame_of(om_dht_msg_t *m, uint8_t *out)
{
    long n = om_dht_msg_encode(m, out, OM_DHT_FRAME_HDR + OM_DHT_MSG_MAX);
    return n > 0 ? (size_t)n : 0; /* 0: nothing sent, and the answers checked are missing */
}

static void request(env_t *e, uint16_t sid, om_dht_msg_t *m)
{
    uint8_t f[OM_DHT_FRAME_HDR + OM_DHT_MSG_MAX];
    send_bytes(e, sid, f, frame_of(m, f));
}

/* The k-th answer frame of stream sid in s (0, or -1 if there is none). */
static int answer(const seen_t *s, uint16_t sid, int k, om_dht_msg_t *out)
{
    size_t off = 0;
    for (;;) {
        const uint8_t *body;
        size_t blen;
        long took = om_dht_frame_next(s->data[sid] + off, s->len[sid] - off, &body, &blen);
        if (took <= 0) return -1;
        if (k-- == 0) return om_dht_msg_parse(body, blen, out, NULL, 0);
        off += (size_t)took;
    }
}

static om_dht_msg_t req, resp; /* ~10 KB each */
static seen_t seen;

static void msg(uint8_t type, uint32_t id, const uint8_t target[20])
{
    memset(&req, 0, sizeof req);
    req.type = type;
    req.id = id;
    if (target) memcpy(req.target, target, 20);
}

static void record(env_t *e, int publisher, int named, const uint8_t key[20])
{
    msg(OM_DHT_ADD_PROVIDER, 50, NULL);
    req.n_records = 1;
    om_dht_record_t *r = &req.records[0];
    r->kind = OM_DHT_KIND_PROVIDER;
    memcpy(r->key, key, 20);
    r->created = (uint64_t)time(NULL);
    r->expires = r->created + 3600;
    r->value_len = 20;
    memcpy(r->value, e->rs[named].rsa_id, 20);
    CHECK(om_dht_record_sign(r, &e->ed[publisher]) == 0);
}

static void test_table_from_consensus(void)
{
    env_t e;
    CHECK(env_start(&e));
    const om_dht_table_t *t = om_dht_service_table(e.svc);
    int want = expected_table(&e);
    CHECK(want >= N_MEMBERS - 2);
    CHECK_EQ_INT((int)om_dht_table_size(t), want);
    om_dht_node_t all[OM_DHT_K * 4];
    size_t n = om_dht_table_closest(t, e.self, all, sizeof all / sizeof all[0]);
    for (size_t i = 0; i < n; i++) {
        const om_routerstatus_t *rs = NULL;
        for (int k = 0; k < N_RELAYS; k++)
            if (!memcmp(e.rs[k].rsa_id, all[i].id, 20)) rs = &e.rs[k];
        CHECK(rs && is_member(rs));
    }
    /* A restart without a consensus yet: the saved table. */
    om_dht_service_t *again = new_service(&e, false);
    CHECK(again && (int)om_dht_table_size(om_dht_service_table(again)) == want);
    om_dht_service_free(again);
    /* A new consensus without one member: the table follows. */
    e.rs[0].flags &= ~OM_RS_RUNNING;
    e.cons.valid_after = 2000;
    om_dht_service_tick(e.svc, time(NULL));
    CHECK_EQ_INT((int)om_dht_table_size(t), expected_table(&e));
    CHECK(!in_table(&e, e.rs[0].rsa_id));
    env_stop(&e);
}

static void test_ping_and_find_node(void)
{
    env_t e;
    CHECK(env_start(&e));
    memset(&seen, 0, sizeof seen);
    open_dht(&e, 1);
    msg(OM_DHT_PING, 7, NULL);
    request(&e, 1, &req);
    uint8_t target[20];
    om_rand_bytes(target, 20);
    msg(OM_DHT_FIND_NODE, 8, target);
    request(&e, 1, &req);
    drain(&e, &seen);
    CHECK(seen.connected[1] && !seen.end[1]);
    CHECK(answer(&seen, 1, 0, &resp) == 0 && resp.type == OM_DHT_PONG && resp.id == 7 &&
          !memcmp(resp.target, e.self, 20));
    CHECK(answer(&seen, 1, 1, &resp) == 0 && resp.type == OM_DHT_NODES && resp.id == 8);
    CHECK_EQ_INT((int)resp.n_nodes, OM_DHT_K);
    /* The 8 closest members the table holds, by brute force: each named node is a member, and no
     * member of the table left out is closer than the farthest named. */
    for (size_t i = 0; i < resp.n_nodes; i++) {
        bool member = false;
        for (int k = 0; k < N_RELAYS; k++)
            member |= !memcmp(e.rs[k].rsa_id, resp.nodes[i], 20) && is_member(&e.rs[k]);
        CHECK(member);
        if (i) CHECK(om_dht_distance_cmp(target, resp.nodes[i - 1], resp.nodes[i]) < 0);
    }
    for (int k = 0; k < N_RELAYS; k++) {
        bool named = false;
        for (size_t i = 0; i < resp.n_nodes; i++)
            named |= !memcmp(e.rs[k].rsa_id, resp.nodes[i], 20);
        if (is_member(&e.rs[k]) && in_table(&e, e.rs[k].rsa_id) && !named)
            CHECK(om_dht_distance_cmp(target, e.rs[k].rsa_id, resp.nodes[OM_DHT_K - 1]) > 0);
    }
    env_stop(&e);
}

static void test_provider_records(void)
{
    env_t e;
    CHECK(env_start(&e));
    memset(&seen, 0, sizeof seen);
    uint8_t key[20], f[2][OM_DHT_FRAME_HDR + OM_DHT_MSG_MAX];
    om_rand_bytes(key, 20);
    open_dht(&e, 2);
    record(&e, 3, 3, key); /* relay 3 says it provides key */
    request(&e, 2, &req);
    record(&e, 4, 3, key); /* relay 4 signs a record naming relay 3: refused */
    request(&e, 2, &req);
    /* Two requests in one DATA cell. */
    msg(OM_DHT_GET_PROVIDERS, 60, key);
    size_t a = frame_of(&req, f[0]);
    msg(OM_DHT_PING, 61, NULL);
    size_t b = frame_of(&req, f[1]);
    uint8_t both[64];
    memcpy(both, f[0], a);
    memcpy(both + a, f[1], b);
    send_bytes(&e, 2, both, a + b);
    /* One request split over two cells. */
    msg(OM_DHT_GET_PROVIDERS, 62, key);
    a = frame_of(&req, f[0]);
    send_bytes(&e, 2, f[0], 5);
    drain(&e, &seen);
    CHECK(answer(&seen, 2, 4, &resp) < 0); /* not answered yet */
    send_bytes(&e, 2, f[0] + 5, a - 5);
    drain(&e, &seen);
    CHECK(answer(&seen, 2, 0, &resp) == 0 && resp.type == OM_DHT_ADDED &&
          resp.code == OM_DHT_ADDED_OK);
    CHECK(answer(&seen, 2, 1, &resp) == 0 && resp.type == OM_DHT_ADDED &&
          resp.code == OM_DHT_ADDED_BAD_RECORD);
    for (int k = 2; k <= 4; k += 2) {
        CHECK(answer(&seen, 2, k, &resp) == 0 && resp.type == OM_DHT_PROVIDERS);
        CHECK_EQ_INT((int)resp.n_records, 1);
        CHECK(!memcmp(resp.records[0].value, e.rs[3].rsa_id, 20) &&
              !memcmp(resp.records[0].publisher, e.ed[3].pub, 32) &&
              om_dht_record_check(&resp.records[0], (uint64_t)time(NULL), NULL, 0) ==
                  OM_DHT_ADDED_OK);
    }
    CHECK(answer(&seen, 2, 3, &resp) == 0 && resp.type == OM_DHT_PONG && resp.id == 61);
    om_dht_service_stats_t st;
    om_dht_service_stats(e.svc, &st);
    CHECK(st.requests == 5 && st.stored == 1 && st.records == 1);
    char line[256], want[64];
    om_dht_service_heartbeat(e.svc, line, sizeof line);
    snprintf(want, sizeof want, "%d nodes in the routing table, 1 records stored; 5 requests",
             expected_table(&e));
    CHECK(strstr(line, want) != NULL);
    env_stop(&e);
}

static void test_malformed_and_limits(void)
{
    env_t e;
    CHECK(env_start(&e));
    memset(&seen, 0, sizeof seen);
    for (uint16_t sid = 1; sid <= OM_DHT_STREAMS_PER_CIRC + 1; sid++)
        open_dht(&e, sid);
    drain(&e, &seen);
    CHECK(seen.connected[1] && seen.connected[OM_DHT_STREAMS_PER_CIRC]);
    CHECK_EQ_INT(seen.end[OM_DHT_STREAMS_PER_CIRC + 1], OM_END_RESOURCELIMIT);
    /* Malformed: a frame of length 0, a bad version, a truncated FIND_NODE. */
    const uint8_t zero[] = {0, 0}, badver[] = {0, 6, 9, 1, 0, 0, 0, 1},
                  trunc[] = {0, 10, 1, 2, 0, 0, 0, 1, 0xaa, 0xbb, 0xcc, 0xdd};
    send_bytes(&e, 1, zero, sizeof zero);
    send_bytes(&e, 2, badver, sizeof badver);
    send_bytes(&e, 3, trunc, sizeof trunc);
    msg(OM_DHT_PING, 9, NULL);
    request(&e, 4, &req);
    drain(&e, &seen);
    for (int sid = 1; sid <= 3; sid++)
        CHECK_EQ_INT(seen.end[sid], OM_END_TORPROTOCOL);
    CHECK(!seen.destroyed && !seen.end[4]);
    CHECK(answer(&seen, 4, 0, &resp) == 0 && resp.type == OM_DHT_PONG);
    /* An idle stream is closed after OM_DHT_STREAM_IDLE_S. */
    om_dht_service_tick(e.svc, time(NULL) + OM_DHT_STREAM_IDLE_S + 1);
    drain(&e, &seen);
    CHECK_EQ_INT(seen.end[4], OM_END_DONE);
    /* MaxMemInQueues: half a frame held, the stream holding it closed by a reclaim. */
    memset(&seen, 0, sizeof seen);
    open_dht(&e, 20);
    const uint8_t part[] = {0x10, 0x00, 1};
    send_bytes(&e, 20, part, sizeof part);
    size_t before = om_dht_service_bytes(e.svc);
    CHECK(before > sizeof part);
    CHECK(om_dht_service_reclaim(e.svc) > 0);
    drain(&e, &seen);
    CHECK_EQ_INT(seen.end[20], OM_END_RESOURCELIMIT);
    CHECK(om_dht_service_bytes(e.svc) < before);
    env_stop(&e);
}

/* Requests that keep coming while the answers cannot leave: the stream ends at the bound. */
static void test_requests_pile_up(void)
{
    env_t e;
    CHECK(env_start(&e));
    e.c.no_sendmes = true; /* the relay's windows close */
    memset(&seen, 0, sizeof seen);
    uint8_t key[20];
    om_rand_bytes(key, 20);
    open_dht(&e, 3);
    for (int i = 0; i < 12; i++) { /* 12 records: each PROVIDERS answer is about 2 KB */
        record(&e, i % N_RELAYS, i % N_RELAYS, key);
        request(&e, 3, &req);
    }
    drain(&e, &seen);
    msg(OM_DHT_GET_PROVIDERS, 70, key);
    uint8_t f[64];
    size_t n = frame_of(&req, f);
    uint8_t cell[OM_RELAY_PAYLOAD_LEN];
    size_t per = sizeof cell / n;
    for (size_t k = 0; k < per; k++)
        memcpy(cell + k * n, f, n);
    size_t sent = 0, peak = 0, base = om_dht_service_bytes(e.svc);
    for (int i = 0; i < 400 && !seen.end[3] && !seen.destroyed; i++) {
        send_bytes(&e, 3, cell, per * n);
        sent += per * n;
        size_t held = om_dht_service_bytes(e.svc);
        if (held > peak) peak = held;
        drain(&e, &seen);
    }
    /* Held at most: the requests' bound, the answers' bound and the frame that crossed it. */
    CHECK(peak <= base + OM_DHT_STREAM_IN_MAX + OM_DHT_STREAM_OUT_MAX +
                      2 * (OM_DHT_FRAME_HDR + OM_DHT_MSG_MAX) + 1024);
    CHECK_EQ_INT(seen.end[3], OM_END_RESOURCELIMIT);
    CHECK(!seen.destroyed);
    CHECK(sent > OM_DHT_STREAM_IN_MAX);
    CHECK(om_dht_service_bytes(e.svc) < OM_DHT_STREAM_IN_MAX);
    env_stop(&e);
}

static const om_test_t tests[] = {
    OM_TEST(test_table_from_consensus), OM_TEST(test_ping_and_find_node),
    OM_TEST(test_provider_records),     OM_TEST(test_malformed_and_limits),
    OM_TEST(test_requests_pile_up),     {NULL, NULL},
};

int main(int argc, char **argv)
{
    return om_test_main("dht_service", tests, argc, argv);
}

/* dht_sim.c — onionmesh-dht-sim: the DHT's own code (routing tables, the iterative lookup, a
 * node's answers, the record store and its signature checks: src/dht) over a simulated
 * transport and clock, to measure lookups at sizes no test network reaches (doc/dht.md,
 * "Simulation"). Phases: N nodes join one by one (a lookup of their own ID through one live
 * node, then a lookup in every bucket farther than their closest neighbour's); M provider records
 * are published, each at the 8 nodes closest to its key; a fraction F of the nodes is replaced
 * (killed at random, the same number joining); then M lookups from random live nodes ask for those
 * keys (GET_PROVIDERS, stopping at the first answer whose records verify). --hostile P makes P% of
 * the nodes hostile: half of them drop every query, the other half answer GET_PROVIDERS with a
 * forged record (signed by another key) and FIND_NODE with hostile nodes only; a forged record
 * never counts as found. A query to a dead node fails; every answered query makes each side note
 * the other (om_dht_table_seen; a full bucket pings its least recently seen node, synchronously).
 * Prints: nodes=N churn=F lookups=M success=S median_rounds=R p99_rounds=R2 msgs_per_lookup=X
 * Usage: onionmesh-dht-sim --nodes N --churn F --lookups M [--seed S] [--hostile P]
 *        [--seeds consensus|table] */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "dht/dht_lookup.h"
#include "dht/dht_record.h"
#include "dht/dht_server.h"
#include "dht/dht_store.h"
#include "dht/dht_table.h"

#define NOW 1800000000ull
enum { HONEST = 0, DROPS, FORGES };

typedef struct {
    uint8_t id[OM_DHT_ID_LEN];
    bool alive;
    int kind; /* HONEST, DROPS, FORGES */
    om_dht_table_t *table;
    om_dht_store_t *store; /* made at the first record it is given */
} node_t;

static node_t *nodes;
static int n_nodes, cap_nodes, hostile_pct;
static bool seed_consensus = true; /* --seeds consensus (default) or table */
static uint64_t rng = 88172645463325252ull;
static om_ed25519_keypair_t publisher, forger;
static uint8_t publisher_value[OM_DHT_ID_LEN]; /* the provider's fingerprint in every record */

/* ID -> node index: open addressing over a power-of-two table at most half full. */
static int *slots;
static uint32_t n_slots;

static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint32_t slot_of(const uint8_t id[OM_DHT_ID_LEN])
{
    uint32_t h = (uint32_t)id[0] << 24 | (uint32_t)id[1] << 16 | (uint32_t)id[2] << 8 | id[3];
    for (uint32_t s = h & (n_slots - 1);; s = (s + 1) & (n_slots - 1))
        if (slots[s] < 0 || !memcmp(nodes[slots[s]].id, id, OM_DHT_ID_LEN)) return s;
}

static int find_node(const uint8_t id[OM_DHT_ID_LEN])
{
    return slots[slot_of(id)];
}

static int add_node(void)
{
    if (n_nodes == cap_nodes) return -1;
    node_t *x = &nodes[n_nodes];
    do {
        for (int j = 0; j < OM_DHT_ID_LEN; j++)
            x->id[j] = (uint8_t)next_rand();
    } while (find_node(x->id) >= 0);
    slots[slot_of(x->id)] = n_nodes;
    x->alive = true;
    x->kind = n_nodes && (int)(next_rand() % 100) < hostile_pct ? (next_rand() & 1 ? DROPS : FORGES)
                                                                : HONEST; /* the first: honest */
    x->table = malloc(sizeof *x->table);
    if (!x->table) return -1;
    om_dht_table_init(x->table, x->id);
    return n_nodes++;
}

/* a heard from b: b goes into a's table; a full bucket pings its oldest node at once. */
static void note(node_t *a, const node_t *b)
{
    uint8_t ping[OM_DHT_ID_LEN];
    if (om_dht_table_seen(a->table, b->id, 0, ping) == OM_DHT_SEEN_PING) {
        int o = find_node(ping);
        om_dht_table_ping_result(a->table, ping, o >= 0 && nodes[o].alive, 0);
    }
}

/* One query from a to the node with ID `to`: false if it fails (dead, or drops queries). */
static bool rpc(node_t *a, const uint8_t to[OM_DHT_ID_LEN], const om_dht_msg_t *req,
                om_dht_msg_t *resp, size_t *msgs)
{
    (*msgs)++;
    int bi = find_node(to);
    if (bi < 0 || !nodes[bi].alive || nodes[bi].kind == DROPS) return false;
    node_t *b = &nodes[bi];
    note(b, a);
    note(a, b);
    if (req->type == OM_DHT_ADD_PROVIDER && !b->store) b->store = om_dht_store_new(0, 0, 256);
    static om_dht_store_t *empty;
    if (!empty) empty = om_dht_store_new(0, 0, 1);
    om_dht_server_answer(b->table, b->store ? b->store : empty, req, NOW, resp);
    if (b->kind == FORGES && req->type != OM_DHT_ADD_PROVIDER) {
        resp->n_nodes = 0; /* name only fellow hostile nodes */
        for (int i = 0; i < n_nodes && resp->n_nodes < OM_DHT_K; i += 1 + (int)(next_rand() % 7))
            if (nodes[i].kind == FORGES) memcpy(resp->nodes[resp->n_nodes++], nodes[i].id, 20);
        if (req->type == OM_DHT_GET_PROVIDERS) {
            om_dht_record_t *r = &resp->records[0];
            memset(r, 0, sizeof *r);
            r->kind = OM_DHT_KIND_PROVIDER;
            memcpy(r->key, req->target, OM_DHT_ID_LEN);
            r->created = NOW;
            r->expires = NOW + 3600;
            r->value_len = OM_DHT_ID_LEN;
            memcpy(r->value, publisher_value, OM_DHT_ID_LEN);
            om_dht_record_sign(r, &forger);
            memcpy(r->publisher, publisher.pub, OM_DHT_PUB_LEN); /* claims the real publisher */
            resp->n_records = 1;
        }
    }
    return true;
}

/* The n IDs of the consensus closest to target: every node that ever joined (a consensus lags,
 * so nodes that died since are in it), as a client knows them from the consensus it verified. */
static size_t consensus_closest(const uint8_t target[OM_DHT_ID_LEN], uint8_t (*out)[OM_DHT_ID_LEN],
                                size_t n)
{
    size_t w = 0;
    for (int i = 0; i < n_nodes; i++) {
        size_t pos = w;
        while (pos > 0 && om_dht_distance_cmp(target, nodes[i].id, out[pos - 1]) < 0)
            pos--;
        if (pos >= n) continue;
        size_t keep = w < n ? w : n - 1;
        memmove(out[pos + 1], out[pos], (keep - pos) * OM_DHT_ID_LEN);
        memcpy(out[pos], nodes[i].id, OM_DHT_ID_LEN);
        if (w < n) w++;
    }
    return w;
}

/* An iterative lookup by a for target with request type; for GET_PROVIDERS it stops at the
 * first answer holding a record that verifies and is by our publisher (*found). Returns the
 * lookup's rounds; out gets the k closest that answered. */
static int lookup(node_t *a, const uint8_t target[OM_DHT_ID_LEN], uint8_t type, bool *found,
                  size_t *msgs, uint8_t (*out)[OM_DHT_ID_LEN], size_t *n_out)
{
    om_dht_node_t seeds[OM_DHT_K];
    size_t ns = om_dht_table_closest(a->table, target, seeds, OM_DHT_K);
    uint8_t seed_ids[2 * OM_DHT_K][OM_DHT_ID_LEN];
    for (size_t i = 0; i < ns; i++)
        memcpy(seed_ids[i], seeds[i].id, OM_DHT_ID_LEN);
    if (seed_consensus && (type == OM_DHT_GET_PROVIDERS || out)) { /* publish and query */
        size_t nc = consensus_closest(target, seed_ids + ns, OM_DHT_K);
        ns += nc;
    }
    static om_dht_lookup_t l;
    om_dht_lookup_init(&l, a->id, target, 0, type == OM_DHT_GET_PROVIDERS ? OM_DHT_VALUE_K : 0,
                       (const uint8_t(*)[OM_DHT_ID_LEN])seed_ids, ns);
    static om_dht_msg_t req, resp;
    memset(&req, 0, sizeof req);
    req.type = type;
    memcpy(req.target, target, OM_DHT_ID_LEN);
    if (found) *found = false;
    int rounds = 0;
    while (!om_dht_lookup_done(&l)) {
        uint8_t ask[OM_DHT_ALPHA][OM_DHT_ID_LEN];
        size_t q = om_dht_lookup_next(&l, ask, OM_DHT_ALPHA);
        if (!q) break;
        for (size_t i = 0; i < q; i++) {
            if (!rpc(a, ask[i], &req, &resp, msgs)) {
                om_dht_lookup_failed(&l, ask[i]);
                continue;
            }
            om_dht_lookup_answer(&l, ask[i], (const uint8_t(*)[OM_DHT_ID_LEN])resp.nodes,
                                 resp.n_nodes);
            for (size_t r = 0; found && r < resp.n_records; r++) {
                const om_dht_record_t *rec = &resp.records[r];
                if (!memcmp(rec->publisher, publisher.pub, OM_DHT_PUB_LEN) &&
                    !memcmp(rec->key, target, OM_DHT_ID_LEN) &&
                    om_dht_record_check(rec, NOW, NULL, 0) == OM_DHT_ADDED_OK)
                    *found = true;
            }
            if (found && *found) {
                int idx = -1;
                for (size_t c = 0; c < l.n; c++)
                    if (!memcmp(l.cand[c].id, ask[i], OM_DHT_ID_LEN)) idx = (int)c;
                rounds = idx >= 0 ? l.cand[idx].depth : l.max_depth;
                return rounds;
            }
        }
    }
    if (out) *n_out = om_dht_lookup_result(&l, out, OM_DHT_K);
    return l.max_depth;
}

/* A random live node; honest_only: one that is not hostile (publishers, askers, bootstraps).
 * -1 if there is none. */
static int random_alive(bool honest_only)
{
    for (int tries = 0; tries < 1000; tries++) {
        int i = (int)(next_rand() % (uint64_t)n_nodes);
        if (nodes[i].alive && (!honest_only || nodes[i].kind == HONEST)) return i;
    }
    for (int i = 0; i < n_nodes; i++)
        if (nodes[i].alive && (!honest_only || nodes[i].kind == HONEST)) return i;
    return -1;
}

static int join(void)
{
    int boot = n_nodes ? random_alive(true) : -1;
    int x = add_node();
    if (x < 0) return -1;
    if (boot < 0) return x;
    node_t *me = &nodes[x];
    note(me, &nodes[boot]);
    size_t msgs = 0;
    lookup(me, me->id, OM_DHT_FIND_NODE, NULL, &msgs, NULL, NULL);
    /* Kademlia's join: refresh every bucket farther than the closest neighbour's, with a lookup
     * of a random ID in each bucket's range (so far-away nodes learn of us and we of them). */
    om_dht_node_t closest;
    if (om_dht_table_closest(me->table, me->id, &closest, 1) == 1) {
        int near = om_dht_table_bucket_of(me->table, closest.id);
        for (int b = 0; b < near; b++) {
            uint8_t id[OM_DHT_ID_LEN];
            for (int j = 0; j < OM_DHT_ID_LEN; j++)
                id[j] = (uint8_t)next_rand();
            for (int bit = 0; bit <= b; bit++) { /* our first b bits, then bit b flipped */
                uint8_t mask = (uint8_t)(0x80 >> (bit % 8));
                uint8_t want = (uint8_t)((me->id[bit / 8] & mask) ^ (bit == b ? mask : 0));
                id[bit / 8] = (uint8_t)((id[bit / 8] & ~mask) | want);
            }
            lookup(me, id, OM_DHT_FIND_NODE, NULL, &msgs, NULL, NULL);
        }
    }
    return x;
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

int main(int argc, char **argv)
{
    int n = 1000, m = 1000;
    double churn = 0;
    bool bad = false;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--nodes"))
            n = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--churn"))
            churn = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--lookups"))
            m = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seed"))
            rng = strtoull(argv[i + 1], NULL, 10) * 2654435761ull + 1;
        else if (!strcmp(argv[i], "--hostile"))
            hostile_pct = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seeds") && !strcmp(argv[i + 1], "table"))
            seed_consensus = false;
        else if (!strcmp(argv[i], "--seeds") && !strcmp(argv[i + 1], "consensus"))
            seed_consensus = true;
        else
            bad = true;
    }
    if (bad || argc % 2 == 0 || n < 2 || m < 1 || churn < 0 || churn > 1 || hostile_pct < 0 ||
        hostile_pct > 50) {
        fprintf(stderr,
                "usage: %s --nodes N (>= 2) --churn F (0..1) --lookups M [--seed S] "
                "[--hostile P (0..50)] [--seeds consensus|table]\n",
                argv[0]);
        return 2;
    }
    int replaced = (int)(churn * n + 0.5);
    cap_nodes = n + replaced;
    nodes = calloc((size_t)cap_nodes, sizeof *nodes);
    for (n_slots = 1; n_slots < 2u * (uint32_t)cap_nodes; n_slots <<= 1) {
    }
    slots = malloc(sizeof *slots * n_slots);
    if (!nodes || !slots || om_ed25519_keygen(&publisher) < 0 || om_ed25519_keygen(&forger) < 0)
        return 1;
    memset(slots, 0xff, sizeof *slots * n_slots);
    memset(publisher_value, 0x5a, sizeof publisher_value);
    for (int i = 0; i < n; i++)
        if (join() < 0) return 1;
    /* Publish: one key per lookup, stored at the 8 closest nodes a publisher's lookup finds. */
    uint8_t(*keys)[OM_DHT_ID_LEN] = malloc((size_t)m * OM_DHT_ID_LEN);
    static om_dht_msg_t add, resp;
    for (int k = 0; k < m; k++) {
        for (int j = 0; j < OM_DHT_ID_LEN; j++)
            keys[k][j] = (uint8_t)next_rand();
        int pi = random_alive(true);
        if (pi < 0) return 1;
        node_t *p = &nodes[pi];
        uint8_t near[OM_DHT_K][OM_DHT_ID_LEN];
        size_t nn = 0, msgs = 0;
        lookup(p, keys[k], OM_DHT_FIND_NODE, NULL, &msgs, near, &nn);
        memset(&add, 0, sizeof add);
        add.type = OM_DHT_ADD_PROVIDER;
        add.n_records = 1;
        om_dht_record_t *r = &add.records[0];
        r->kind = OM_DHT_KIND_PROVIDER;
        memcpy(r->key, keys[k], OM_DHT_ID_LEN);
        r->created = NOW - 60;
        r->expires = NOW + 3600;
        r->value_len = OM_DHT_ID_LEN;
        memcpy(r->value, publisher_value, OM_DHT_ID_LEN);
        om_dht_record_sign(r, &publisher);
        for (size_t i = 0; i < nn; i++)
            rpc(p, near[i], &add, &resp, &msgs);
    }
    /* Churn: replace a fraction of the nodes. */
    for (int i = 0; i < replaced; i++) {
        int victim = random_alive(false);
        if (victim >= 0) nodes[victim].alive = false;
        if (join() < 0) return 1;
    }
    /* Lookups. */
    int *rounds = malloc(sizeof *rounds * (size_t)m);
    int ok = 0;
    size_t msgs = 0;
    for (int k = 0; k < m; k++) {
        bool found;
        int asker = random_alive(true);
        if (asker < 0) return 1;
        rounds[k] = lookup(&nodes[asker], keys[k], OM_DHT_GET_PROVIDERS, &found, &msgs, NULL, NULL);
        ok += found;
    }
    qsort(rounds, (size_t)m, sizeof *rounds, cmp_int);
    int p99 = rounds[(int)((int64_t)m * 99 / 100)];
    printf("nodes=%d churn=%.2f lookups=%d success=%.4f median_rounds=%d p99_rounds=%d "
           "msgs_per_lookup=%.1f",
           n, churn, m, (double)ok / m, rounds[m / 2], p99, (double)msgs / m);
    if (hostile_pct) printf(" hostile=%d%%", hostile_pct);
    if (!seed_consensus) printf(" seeds=table");
    printf("\n");
    return 0;
}

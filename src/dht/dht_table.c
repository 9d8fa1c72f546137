/* dht_table.c — the Kademlia routing table (dht_table.h): buckets by shared prefix, least
 * recently seen first, ping-before-evict with one candidate per full bucket, XOR-closest
 * queries, and the table file. */
#include "dht/dht_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"

void om_dht_table_init(om_dht_table_t *t, const uint8_t self[OM_DHT_ID_LEN])
{
    memset(t, 0, sizeof *t);
    memcpy(t->self, self, OM_DHT_ID_LEN);
}

int om_dht_table_bucket_of(const om_dht_table_t *t, const uint8_t id[OM_DHT_ID_LEN])
{
    for (int i = 0; i < OM_DHT_ID_LEN; i++) {
        uint8_t x = t->self[i] ^ id[i];
        if (!x) continue;
        int lead = 0;
        while (!(x & 0x80)) {
            x = (uint8_t)(x << 1);
            lead++;
        }
        return i * 8 + lead;
    }
    return -1;
}

int om_dht_distance_cmp(const uint8_t target[OM_DHT_ID_LEN], const uint8_t a[OM_DHT_ID_LEN],
                        const uint8_t b[OM_DHT_ID_LEN])
{
    for (int i = 0; i < OM_DHT_ID_LEN; i++) {
        uint8_t da = a[i] ^ target[i], db = b[i] ^ target[i];
        if (da != db) return da < db ? -1 : 1;
    }
    return 0;
}

static int find(const om_dht_bucket_t *b, const uint8_t id[OM_DHT_ID_LEN])
{
    for (int i = 0; i < b->n; i++)
        if (!memcmp(b->nodes[i].id, id, OM_DHT_ID_LEN)) return i;
    return -1;
}

/* Remove entry i, keeping the order. */
static void drop(om_dht_bucket_t *b, int i)
{
    memmove(&b->nodes[i], &b->nodes[i + 1], (size_t)(b->n - i - 1) * sizeof b->nodes[0]);
    b->n--;
}

static void append(om_dht_bucket_t *b, const uint8_t id[OM_DHT_ID_LEN], uint64_t now)
{
    memcpy(b->nodes[b->n].id, id, OM_DHT_ID_LEN);
    b->nodes[b->n].last_seen = now;
    b->n++;
}

om_dht_seen_t om_dht_table_seen(om_dht_table_t *t, const uint8_t id_in[OM_DHT_ID_LEN], uint64_t now,
                                uint8_t ping_id[OM_DHT_ID_LEN])
{
    uint8_t id[OM_DHT_ID_LEN]; /* id_in may point into the bucket we reorder */
    memcpy(id, id_in, OM_DHT_ID_LEN);
    int bi = om_dht_table_bucket_of(t, id);
    if (bi < 0) return OM_DHT_SEEN_IGNORED;
    om_dht_bucket_t *b = &t->buckets[bi];
    int i = find(b, id);
    if (i >= 0) { /* most recently seen goes last */
        drop(b, i);
        append(b, id, now);
        return OM_DHT_SEEN_UPDATED;
    }
    if (b->n < OM_DHT_K) {
        append(b, id, now);
        return OM_DHT_SEEN_ADDED;
    }
    if (b->has_candidate) return OM_DHT_SEEN_IGNORED;
    b->has_candidate = true;
    memcpy(b->candidate.id, id, OM_DHT_ID_LEN);
    b->candidate.last_seen = now;
    if (ping_id) memcpy(ping_id, b->nodes[0].id, OM_DHT_ID_LEN);
    return OM_DHT_SEEN_PING;
}

void om_dht_table_ping_result(om_dht_table_t *t, const uint8_t id_in[OM_DHT_ID_LEN], bool alive,
                              uint64_t now)
{
    uint8_t id[OM_DHT_ID_LEN]; /* id_in may point into the bucket we reorder */
    memcpy(id, id_in, OM_DHT_ID_LEN);
    int bi = om_dht_table_bucket_of(t, id);
    if (bi < 0) return;
    om_dht_bucket_t *b = &t->buckets[bi];
    int i = find(b, id);
    if (alive) {
        if (i >= 0) {
            drop(b, i);
            append(b, id, now);
        }
        b->has_candidate = false; /* Kademlia keeps the old node: it has proven it stays */
        return;
    }
    om_dht_table_remove(t, id);
}

void om_dht_table_remove(om_dht_table_t *t, const uint8_t id_in[OM_DHT_ID_LEN])
{
    uint8_t id[OM_DHT_ID_LEN];
    memcpy(id, id_in, OM_DHT_ID_LEN);
    int bi = om_dht_table_bucket_of(t, id);
    if (bi < 0) return;
    om_dht_bucket_t *b = &t->buckets[bi];
    int i = find(b, id);
    if (i < 0) return;
    drop(b, i);
    if (b->has_candidate) {
        append(b, b->candidate.id, b->candidate.last_seen);
        b->has_candidate = false;
    }
}

size_t om_dht_table_size(const om_dht_table_t *t)
{
    size_t n = 0;
    for (int i = 0; i < OM_DHT_BUCKETS; i++)
        n += (size_t)t->buckets[i].n;
    return n;
}

size_t om_dht_table_closest(const om_dht_table_t *t, const uint8_t target[OM_DHT_ID_LEN],
                            om_dht_node_t *out, size_t max)
{
    /* Insertion into the sorted output: at most 160 x 8 nodes, max is small (k or 20). */
    size_t n = 0;
    for (int bi = 0; bi < OM_DHT_BUCKETS; bi++) {
        const om_dht_bucket_t *b = &t->buckets[bi];
        for (int i = 0; i < b->n; i++) {
            const om_dht_node_t *c = &b->nodes[i];
            size_t pos = n;
            while (pos > 0 && om_dht_distance_cmp(target, c->id, out[pos - 1].id) < 0)
                pos--;
            if (pos >= max) continue;
            size_t keep = n < max ? n : max - 1;
            memmove(&out[pos + 1], &out[pos], (keep - pos) * sizeof *out);
            out[pos] = *c;
            if (n < max) n++;
        }
    }
    return n;
}

int om_dht_table_save(const om_dht_table_t *t, const char *path)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) return -1;
    FILE *f = fopen(tmp, "w");
    if (!f) return -1;
    int bad = fprintf(f, "# onionmesh DHT routing table: fingerprint last-seen\n") < 0;
    for (int bi = 0; bi < OM_DHT_BUCKETS && !bad; bi++) {
        const om_dht_bucket_t *b = &t->buckets[bi];
        for (int i = 0; i < b->n && !bad; i++) {
            char hex[2 * OM_DHT_ID_LEN + 1];
            om_hex_encode(b->nodes[i].id, OM_DHT_ID_LEN, hex);
            bad = fprintf(f, "%s %llu\n", hex, (unsigned long long)b->nodes[i].last_seen) < 0;
        }
    }
    if (fclose(f) != 0) bad = 1;
    if (bad || rename(tmp, path) != 0) {
        remove(tmp);
        return -1;
    }
    return 0;
}

int om_dht_table_load(om_dht_table_t *t, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[128];
    while (fgets(line, sizeof line, f)) {
        uint8_t id[OM_DHT_ID_LEN];
        char *end = NULL;
        if (strlen(line) < 2 * OM_DHT_ID_LEN + 2 || line[2 * OM_DHT_ID_LEN] != ' ' ||
            om_hex_decode(line, 2 * OM_DHT_ID_LEN, id, OM_DHT_ID_LEN) < 0)
            continue;
        unsigned long long seen = strtoull(line + 2 * OM_DHT_ID_LEN + 1, &end, 10);
        if (end == line + 2 * OM_DHT_ID_LEN + 1) continue;
        if (om_dht_table_seen(t, id, seen, NULL) == OM_DHT_SEEN_PING)
            t->buckets[om_dht_table_bucket_of(t, id)].has_candidate = false; /* full: skipped */
    }
    fclose(f);
    return 0;
}

/* dos_addr.c — the DoS mitigation's bounded per-address table (see dos_addr.h): a chained hash
 * table with a keyed hash, and a least-recently-used list for eviction and expiry. */
#include "or/dos_addr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "core/crypto.h"

/* Entries looked at from the old end of the LRU list for one that can be evicted. */
#define EVICT_SCAN 256

struct om_dos_table {
    om_dos_entry_t **buckets;
    size_t n_buckets; /* a power of two */
    size_t count, max;
    time_t expiry;
    uint64_t key[2];
    om_dos_entry_t *newest, *oldest;
    om_dos_table_stats_t st;
};

int om_dos_addr_parse(om_dos_addr_t *out, const char *peer)
{
    char buf[64];
    memset(out, 0, sizeof *out);
    if (!peer) return -1;
    const char *b = peer, *e;
    if (*b == '[') {
        b++;
        e = strchr(b, ']');
        if (!e) return -1;
    } else {
        const char *c = strchr(b, ':');
        /* One colon: IPv4 with a port; more: a bare IPv6 address. */
        e = c && !strchr(c + 1, ':') ? c : b + strlen(b);
    }
    size_t n = (size_t)(e - b);
    if (n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, b, n);
    buf[n] = 0;
    if (inet_pton(AF_INET, buf, out->a) == 1) {
        out->family = 4;
        return 0;
    }
    if (inet_pton(AF_INET6, buf, out->a) == 1) {
        out->family = 6;
        return 0;
    }
    return -1;
}

bool om_dos_addr_eq(const om_dos_addr_t *a, const om_dos_addr_t *b)
{
    return a->family == b->family && memcmp(a->a, b->a, 16) == 0;
}

int om_dos_addr_cmp(const om_dos_addr_t *a, const om_dos_addr_t *b)
{
    if (a->family != b->family) return a->family < b->family ? -1 : 1;
    return memcmp(a->a, b->a, 16);
}

void om_dos_addr_format(const om_dos_addr_t *a, char *out, size_t outsz)
{
    if (!inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->a, out, (socklen_t)outsz))
        snprintf(out, outsz, "?");
}

om_dos_table_t *om_dos_table_new(size_t max_entries, time_t idle_expiry)
{
    om_dos_table_t *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->max = max_entries ? max_entries : OM_DOS_TABLE_DEFAULT_MAX;
    t->expiry = idle_expiry;
    t->n_buckets = 64;
    while (t->n_buckets < t->max / 2)
        t->n_buckets <<= 1;
    t->buckets = calloc(t->n_buckets, sizeof *t->buckets);
    if (!t->buckets) {
        free(t);
        return NULL;
    }
    om_rand_bytes((uint8_t *)t->key, sizeof t->key);
    return t;
}

void om_dos_table_free(om_dos_table_t *t)
{
    if (!t) return;
    for (om_dos_entry_t *e = t->newest, *next; e; e = next) {
        next = e->older;
        free(e);
    }
    free(t->buckets);
    free(t);
}

/* A keyed mix of the address (not cryptographic; the secret keeps chains unpredictable). */
static size_t hash_of(const om_dos_table_t *t, const om_dos_addr_t *a)
{
    uint64_t h = t->key[0] ^ a->family;
    for (size_t i = 0; i < 16; i += 8) {
        uint64_t w;
        memcpy(&w, a->a + i, 8);
        h ^= w + t->key[1];
        h *= 0x9e3779b97f4a7c15ull;
        h ^= h >> 29;
    }
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return (size_t)h & (t->n_buckets - 1);
}

static void lru_unlink(om_dos_table_t *t, om_dos_entry_t *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        t->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        t->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void lru_push(om_dos_table_t *t, om_dos_entry_t *e)
{
    e->older = t->newest;
    e->newer = NULL;
    if (t->newest) t->newest->newer = e;
    t->newest = e;
    if (!t->oldest) t->oldest = e;
}

static void entry_drop(om_dos_table_t *t, om_dos_entry_t *e)
{
    for (om_dos_entry_t **pp = &t->buckets[hash_of(t, &e->addr)]; *pp; pp = &(*pp)->hnext)
        if (*pp == e) {
            *pp = e->hnext;
            break;
        }
    lru_unlink(t, e);
    t->count--;
    free(e);
}

static bool marked(const om_dos_entry_t *e, time_t now)
{
    return e->cc_marked_until >= now || e->conn_marked_until >= now;
}

/* Make room for one entry: the least recently used entry without connections, unmarked first. */
static bool evict_one(om_dos_table_t *t, time_t now)
{
    om_dos_entry_t *fallback = NULL;
    size_t k = 0;
    for (om_dos_entry_t *e = t->oldest; e && k < EVICT_SCAN; e = e->newer, k++) {
        if (e->concurrent) continue;
        if (!marked(e, now)) {
            entry_drop(t, e);
            t->st.evicted++;
            return true;
        }
        if (!fallback) fallback = e;
    }
    if (!fallback) return false;
    entry_drop(t, fallback);
    t->st.evicted++;
    return true;
}

om_dos_entry_t *om_dos_table_get(om_dos_table_t *t, const om_dos_addr_t *addr, time_t now,
                                 bool create)
{
    size_t h = hash_of(t, addr);
    for (om_dos_entry_t *e = t->buckets[h]; e; e = e->hnext)
        if (om_dos_addr_eq(&e->addr, addr)) {
            e->last_used = now;
            lru_unlink(t, e);
            lru_push(t, e);
            return e;
        }
    if (!create) return NULL;
    om_dos_entry_t *e = NULL;
    if ((t->count < t->max || evict_one(t, now)) && (e = calloc(1, sizeof *e))) {
        e->addr = *addr;
        e->last_used = now;
        e->hnext = t->buckets[h];
        t->buckets[h] = e;
        lru_push(t, e);
        t->count++;
    }
    if (!e) t->st.untracked++;
    return e;
}

size_t om_dos_table_expire(om_dos_table_t *t, time_t now)
{
    size_t n = 0;
    for (om_dos_entry_t *e = t->oldest, *newer; e; e = newer) {
        newer = e->newer;
        if (now - e->last_used < t->expiry) break; /* the rest are newer still */
        if (e->concurrent || marked(e, now)) continue;
        entry_drop(t, e);
        n++;
    }
    t->st.expired += n;
    return n;
}

void om_dos_table_stats(const om_dos_table_t *t, om_dos_table_stats_t *out)
{
    *out = t->st;
    out->entries = t->count;
    out->max_entries = t->max;
    out->bytes = sizeof *t + t->n_buckets * sizeof *t->buckets + t->count * sizeof(om_dos_entry_t);
}

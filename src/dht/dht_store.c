/* dht_store.c — the records a DHT node holds (dht_store.h). One array, scanned linearly: at most
 * OM_DHT_STORE_TOTAL records, and adds and gets are rare next to the cells a relay moves. The
 * array grows as records arrive (doubling), so an idle node holds next to nothing. */
#include "dht/dht_store.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dht/dht_record.h"

struct om_dht_store {
    size_t per_key, per_publisher, total;
    size_t n, cap;
    om_dht_record_t *recs; /* cap entries, n used */
};

om_dht_store_t *om_dht_store_new(size_t max_per_key, size_t max_per_publisher, size_t max_total)
{
    om_dht_store_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->per_key = max_per_key ? max_per_key : OM_DHT_STORE_PER_KEY;
    s->per_publisher = max_per_publisher ? max_per_publisher : OM_DHT_STORE_PER_PUBLISHER;
    s->total = max_total ? max_total : OM_DHT_STORE_TOTAL;
    return s;
}

void om_dht_store_free(om_dht_store_t *s)
{
    if (!s) return;
    free(s->recs);
    free(s);
}

static void drop(om_dht_store_t *s, size_t i)
{
    s->recs[i] = s->recs[--s->n]; /* order does not matter: get sorts */
}

size_t om_dht_store_expire(om_dht_store_t *s, uint64_t now)
{
    size_t before = s->n;
    for (size_t i = 0; i < s->n;)
        if (s->recs[i].expires <= now)
            drop(s, i);
        else
            i++;
    return before - s->n;
}

int om_dht_store_add(om_dht_store_t *s, const om_dht_record_t *r, uint64_t now)
{
    int st = om_dht_record_check(r, now, NULL, 0);
    if (st != OM_DHT_ADDED_OK) return st;
    size_t same_key = 0, same_pub = 0;
    for (size_t i = 0; i < s->n; i++) {
        const om_dht_record_t *o = &s->recs[i];
        bool key = !memcmp(o->key, r->key, OM_DHT_ID_LEN);
        bool pub = !memcmp(o->publisher, r->publisher, OM_DHT_PUB_LEN);
        if (key && pub && o->kind == r->kind && o->value_len == r->value_len &&
            !memcmp(o->value, r->value, r->value_len)) {
            /* The same claim again: keep the latest (a republish). */
            if (r->created >= o->created) s->recs[i] = *r;
            return OM_DHT_ADDED_OK;
        }
        same_key += key;
        same_pub += pub;
    }
    if (same_key >= s->per_key || same_pub >= s->per_publisher) return OM_DHT_ADDED_LIMIT;
    if (s->n >= s->total) {
        om_dht_store_expire(s, now);
        if (s->n >= s->total) return OM_DHT_ADDED_LIMIT;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        if (cap > s->total) cap = s->total;
        om_dht_record_t *g = realloc(s->recs, cap * sizeof *g);
        if (!g) return OM_DHT_ADDED_LIMIT;
        s->recs = g;
        s->cap = cap;
    }
    s->recs[s->n++] = *r;
    return OM_DHT_ADDED_OK;
}

size_t om_dht_store_get(const om_dht_store_t *s, const uint8_t key[OM_DHT_ID_LEN], uint64_t now,
                        om_dht_record_t *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++) {
        const om_dht_record_t *r = &s->recs[i];
        if (r->expires <= now || memcmp(r->key, key, OM_DHT_ID_LEN)) continue;
        /* Insert by creation time, latest first, keeping at most max. */
        size_t pos = n;
        while (pos > 0 && out[pos - 1].created < r->created)
            pos--;
        if (pos >= max) continue;
        size_t keep = n < max ? n : max - 1;
        memmove(&out[pos + 1], &out[pos], (keep - pos) * sizeof *out);
        out[pos] = *r;
        if (n < max) n++;
    }
    return n;
}

size_t om_dht_store_count(const om_dht_store_t *s)
{
    return s->n;
}

size_t om_dht_store_bytes(const om_dht_store_t *s)
{
    return sizeof *s + s->cap * sizeof *s->recs;
}

size_t om_dht_store_reclaim(om_dht_store_t *s)
{
    if (!s->n) return 0;
    size_t worst = 0;
    for (size_t i = 1; i < s->n; i++)
        if (s->recs[i].expires < s->recs[worst].expires) worst = i;
    drop(s, worst);
    if (s->n <= s->cap / 4) { /* give memory back once mostly empty */
        size_t cap = s->cap / 2;
        om_dht_record_t *g = cap ? realloc(s->recs, cap * sizeof *g) : NULL;
        if (!cap) {
            free(s->recs);
            s->recs = NULL;
            s->cap = 0;
        } else if (g) {
            s->recs = g;
            s->cap = cap;
        }
    }
    return sizeof *s->recs;
}

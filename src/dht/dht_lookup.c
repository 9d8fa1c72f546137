/* dht_lookup.c — Kademlia's iterative lookup (dht_lookup.h): a sorted candidate list of at most
 * OM_DHT_LOOKUP_MAX nodes, the farthest dropped when full. */
#include "dht/dht_lookup.h"

#include <string.h>

#include "dht/dht_table.h"

static int find(const om_dht_lookup_t *l, const uint8_t id[OM_DHT_ID_LEN])
{
    for (size_t i = 0; i < l->n; i++)
        if (!memcmp(l->cand[i].id, id, OM_DHT_ID_LEN)) return (int)i;
    return -1;
}

/* Add id (if new, not ourselves, and closer than the farthest when full) in distance order. */
static bool was_asked(const om_dht_lookup_t *l, const uint8_t id[OM_DHT_ID_LEN])
{
    for (size_t i = 0; i < l->queries; i++)
        if (!memcmp(l->asked[i], id, OM_DHT_ID_LEN)) return true;
    return false;
}

static void add(om_dht_lookup_t *l, const uint8_t id[OM_DHT_ID_LEN], uint8_t depth)
{
    if (!memcmp(id, l->self, OM_DHT_ID_LEN) || find(l, id) >= 0 || was_asked(l, id)) return;
    size_t pos = l->n;
    while (pos > 0 && om_dht_distance_cmp(l->target, id, l->cand[pos - 1].id) < 0)
        pos--;
    if (pos >= OM_DHT_LOOKUP_MAX) return;
    if (l->n == OM_DHT_LOOKUP_MAX) { /* the farthest goes (if it is in flight, so be it) */
        if (l->cand[l->n - 1].state == OM_DHT_CAND_ASKED) l->in_flight--;
        l->n--;
    }
    memmove(&l->cand[pos + 1], &l->cand[pos], (l->n - pos) * sizeof l->cand[0]);
    memcpy(l->cand[pos].id, id, OM_DHT_ID_LEN);
    l->cand[pos].state = OM_DHT_CAND_NEW;
    l->cand[pos].depth = depth;
    l->n++;
}

void om_dht_lookup_init(om_dht_lookup_t *l, const uint8_t self[OM_DHT_ID_LEN],
                        const uint8_t target[OM_DHT_ID_LEN], int alpha, int k,
                        const uint8_t (*seeds)[OM_DHT_ID_LEN], size_t n)
{
    memset(l, 0, sizeof *l);
    memcpy(l->self, self, OM_DHT_ID_LEN);
    memcpy(l->target, target, OM_DHT_ID_LEN);
    l->alpha = alpha > 0 ? alpha : OM_DHT_ALPHA;
    l->k = k > 0 ? k : OM_DHT_K;
    for (size_t i = 0; i < n; i++)
        add(l, seeds[i], 1);
}

size_t om_dht_lookup_next(om_dht_lookup_t *l, uint8_t (*out)[OM_DHT_ID_LEN], size_t max)
{
    size_t w = 0;
    for (size_t i = 0;
         i < l->n && l->in_flight < l->alpha && w < max && l->queries < OM_DHT_LOOKUP_MAX_QUERIES;
         i++) {
        if (l->cand[i].state != OM_DHT_CAND_NEW) continue;
        l->cand[i].state = OM_DHT_CAND_ASKED;
        l->in_flight++;
        memcpy(l->asked[l->queries++], l->cand[i].id, OM_DHT_ID_LEN);
        memcpy(out[w++], l->cand[i].id, OM_DHT_ID_LEN);
    }
    return w;
}

void om_dht_lookup_answer(om_dht_lookup_t *l, const uint8_t from[OM_DHT_ID_LEN],
                          const uint8_t (*nodes)[OM_DHT_ID_LEN], size_t n)
{
    int i = find(l, from);
    if (i < 0 || l->cand[i].state != OM_DHT_CAND_ASKED) return;
    l->cand[i].state = OM_DHT_CAND_ANSWERED;
    l->in_flight--;
    l->answers++;
    uint8_t depth = l->cand[i].depth;
    if (depth > l->max_depth) l->max_depth = depth;
    for (size_t j = 0; j < n; j++)
        add(l, nodes[j], (uint8_t)(depth < 255 ? depth + 1 : 255));
}

void om_dht_lookup_failed(om_dht_lookup_t *l, const uint8_t from[OM_DHT_ID_LEN])
{
    int i = find(l, from);
    if (i < 0 || l->cand[i].state != OM_DHT_CAND_ASKED) return;
    l->cand[i].state = OM_DHT_CAND_FAILED;
    l->in_flight--;
    l->failures++;
}

bool om_dht_lookup_done(const om_dht_lookup_t *l)
{
    if (l->queries >= OM_DHT_LOOKUP_MAX_QUERIES && l->in_flight == 0) return true;
    int good = 0;
    bool pending = false;
    for (size_t i = 0; i < l->n && good < l->k; i++) {
        if (l->cand[i].state == OM_DHT_CAND_FAILED) continue;
        if (l->cand[i].state != OM_DHT_CAND_ANSWERED) pending = true;
        good++;
    }
    if (!pending) return l->in_flight == 0 || good >= l->k;
    /* Something among the k closest is new or in flight: done only if nothing can move. */
    return false;
}

size_t om_dht_lookup_result(const om_dht_lookup_t *l, uint8_t (*out)[OM_DHT_ID_LEN], size_t max)
{
    size_t w = 0;
    for (size_t i = 0; i < l->n && w < max; i++)
        if (l->cand[i].state == OM_DHT_CAND_ANSWERED)
            memcpy(out[w++], l->cand[i].id, OM_DHT_ID_LEN);
    return w;
}

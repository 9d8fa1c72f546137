/* exit_share.c — per-client shares of the exit's connections (see exit_share.h). */
#include "or/exit_share.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "or/dos.h"

#define N_BUCKETS 1024

typedef struct {
    const void *circ; /* NULL when keyed by address */
    om_dos_addr_t addr;
} share_key_t;

struct om_exit_share_entry {
    om_exit_share_entry_t *next;
    share_key_t key;
    unsigned count;
    size_t bucket;
};

struct om_exit_share {
    om_exit_share_entry_t *b[N_BUCKETS];
    unsigned max;
    size_t keys;
};

om_exit_share_t *om_exit_share_new(unsigned max_per_key)
{
    om_exit_share_t *s = calloc(1, sizeof *s);
    if (s) s->max = max_per_key ? max_per_key : OM_EXIT_SHARE_MAX;
    return s;
}

void om_exit_share_free(om_exit_share_t *s)
{
    if (!s) return;
    for (size_t i = 0; i < N_BUCKETS; i++)
        for (om_exit_share_entry_t *e = s->b[i], *n; e; e = n) {
            n = e->next;
            free(e);
        }
    free(s);
}

static void key_of(const om_or_circ_t *circ, share_key_t *k)
{
    memset(k, 0, sizeof *k);
    if (om_dos_chan_is_client(circ->p_chan) &&
        om_dos_addr_parse(&k->addr, om_channel_peer_desc(circ->p_chan)) == 0)
        return;
    memset(&k->addr, 0, sizeof k->addr);
    k->circ = circ;
}

static size_t bucket_of(const share_key_t *k)
{
    uint64_t h = (uint64_t)(uintptr_t)k->circ * 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < sizeof k->addr.a; i++)
        h = (h ^ k->addr.a[i]) * 0x100000001b3ull;
    return (size_t)(h >> 20) % N_BUCKETS;
}

bool om_exit_share_take(om_exit_share_t *s, const om_or_circ_t *circ, om_exit_share_entry_t **slot)
{
    share_key_t k;
    key_of(circ, &k);
    size_t b = bucket_of(&k);
    om_exit_share_entry_t *e = s->b[b];
    while (e && memcmp(&e->key, &k, sizeof k) != 0)
        e = e->next;
    if (!e) {
        if (!(e = calloc(1, sizeof *e))) return false;
        memcpy(&e->key, &k, sizeof k);
        e->bucket = b;
        e->next = s->b[b];
        s->b[b] = e;
        s->keys++;
    }
    if (e->count >= s->max) return false;
    e->count++;
    *slot = e;
    return true;
}

void om_exit_share_put(om_exit_share_t *s, om_exit_share_entry_t **slot)
{
    om_exit_share_entry_t *e = *slot;
    if (!e) return;
    *slot = NULL;
    if (--e->count) return;
    for (om_exit_share_entry_t **pp = &s->b[e->bucket]; *pp; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            break;
        }
    s->keys--;
    free(e);
}

size_t om_exit_share_keys(const om_exit_share_t *s)
{
    return s->keys;
}

/* conflux_order.c — the out-of-order min-heap of conflux_order.h (moved out of conflux.c). */
#include "core/conflux_order.h"

#include <stdlib.h>

static void heap_swap(om_cfx_heap_t *hp, size_t a, size_t b)
{
    om_cfx_cell_t *t = hp->cell[a];
    hp->cell[a] = hp->cell[b];
    hp->cell[b] = t;
}

int om_cfx_heap_push(om_cfx_heap_t *hp, om_cfx_cell_t *c)
{
    if (hp->n == hp->cap) {
        size_t cap = hp->cap ? hp->cap * 2 : 64;
        om_cfx_cell_t **h = realloc(hp->cell, cap * sizeof *h);
        if (!h) return -1;
        hp->cell = h;
        hp->cap = cap;
    }
    size_t i = hp->n++;
    hp->cell[i] = c;
    while (i && hp->cell[(i - 1) / 2]->seq > hp->cell[i]->seq) {
        heap_swap(hp, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    return 0;
}

const om_cfx_cell_t *om_cfx_heap_top(const om_cfx_heap_t *hp)
{
    return hp->n ? hp->cell[0] : NULL;
}

om_cfx_cell_t *om_cfx_heap_pop(om_cfx_heap_t *hp)
{
    if (!hp->n) return NULL;
    om_cfx_cell_t *top = hp->cell[0];
    hp->cell[0] = hp->cell[--hp->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < hp->n && hp->cell[l]->seq < hp->cell[m]->seq) m = l;
        if (r < hp->n && hp->cell[r]->seq < hp->cell[m]->seq) m = r;
        if (m == i) break;
        heap_swap(hp, i, m);
        i = m;
    }
    return top;
}

void om_cfx_heap_clear(om_cfx_heap_t *hp)
{
    for (size_t i = 0; i < hp->n; i++)
        free(hp->cell[i]);
    free(hp->cell);
    hp->cell = NULL;
    hp->n = hp->cap = 0;
}

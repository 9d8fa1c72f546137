/* conflux_order.h — the out-of-order queue of a conflux set (conflux.c): relay cells that arrived
 * ahead of their turn, kept in a min-heap by absolute sequence number. Pure (no circuits), so
 * tests/fuzz/fuzz_conflux.c drives it directly. */
#ifndef OM_CORE_CONFLUX_ORDER_H
#define OM_CORE_CONFLUX_ORDER_H

#include <stddef.h>
#include <stdint.h>

#include "core/relay_msg.h"

typedef struct {
    uint64_t seq;
    int hop;
    om_relay_header_t h;
    uint8_t body[OM_RELAY_PAYLOAD_LEN];
} om_cfx_cell_t;

typedef struct {
    om_cfx_cell_t **cell;
    size_t n, cap;
} om_cfx_heap_t;

/* Add c (malloc'd; the heap owns it afterwards). 0, or -1 if out of memory (c not taken). */
int om_cfx_heap_push(om_cfx_heap_t *hp, om_cfx_cell_t *c);
/* The cell with the lowest sequence number, or NULL if empty. */
const om_cfx_cell_t *om_cfx_heap_top(const om_cfx_heap_t *hp);
/* Remove and return that cell (the caller frees it); NULL if empty. */
om_cfx_cell_t *om_cfx_heap_pop(om_cfx_heap_t *hp);
/* Free every cell and the array. */
void om_cfx_heap_clear(om_cfx_heap_t *hp);

#endif

/* dos_addr.h — the relay's per-client-address table for the DoS mitigation (tor keeps the same
 * statistics in its geoip client cache, dos.h dos_client_stats_t): per IPv4/IPv6 address the
 * number of concurrent inbound connections, the circuit-creation bucket and mark, the
 * connect-rate bucket and mark. The table is bounded: at most max_entries entries, a new
 * address evicts the least recently used entry without connections (unmarked ones first); an
 * entry without connections or marks expires idle_expiry seconds after its last use. Its memory
 * is accounted (om_dos_table_bytes). The hash is keyed with a random secret. */
#ifndef OM_OR_DOS_ADDR_H
#define OM_OR_DOS_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "or/dos_bucket.h"

typedef struct {
    uint8_t family; /* 4 or 6 */
    uint8_t a[16];  /* IPv4 in the first 4 bytes, the rest zero */
} om_dos_addr_t;

/* "1.2.3.4", "1.2.3.4:9001", "::1", "[::1]:9001" -> addr. 0, or -1 if not a numeric address. */
int om_dos_addr_parse(om_dos_addr_t *out, const char *peer);
bool om_dos_addr_eq(const om_dos_addr_t *a, const om_dos_addr_t *b);
/* Total order (for sorted sets). */
int om_dos_addr_cmp(const om_dos_addr_t *a, const om_dos_addr_t *b);
void om_dos_addr_format(const om_dos_addr_t *a, char *out, size_t outsz);

typedef struct om_dos_entry {
    om_dos_addr_t addr;
    uint32_t concurrent;      /* inbound connections counted and not yet closed */
    om_dos_bucket_t cc;       /* CREATE cells */
    time_t cc_marked_until;   /* 0: not marked */
    om_dos_bucket_t connect;  /* new connections */
    time_t conn_marked_until; /* 0: not marked */
    time_t last_used;
    struct om_dos_entry *hnext, *newer, *older; /* hash chain; LRU list */
} om_dos_entry_t;

typedef struct om_dos_table om_dos_table_t;

#define OM_DOS_TABLE_DEFAULT_MAX    65536
#define OM_DOS_TABLE_DEFAULT_EXPIRY 600 /* seconds */

/* NULL on allocation failure. max_entries 0: OM_DOS_TABLE_DEFAULT_MAX. */
om_dos_table_t *om_dos_table_new(size_t max_entries, time_t idle_expiry);
void om_dos_table_free(om_dos_table_t *t);
/* The entry for addr, marked used at now; created if create (evicting if the table is full).
 * NULL if absent (create false) or if the table is full of entries with connections. */
om_dos_entry_t *om_dos_table_get(om_dos_table_t *t, const om_dos_addr_t *addr, time_t now,
                                 bool create);
/* Drop entries without connections whose marks have run out and which were last used
 * idle_expiry seconds or more before now. Returns how many were dropped. */
size_t om_dos_table_expire(om_dos_table_t *t, time_t now);

typedef struct {
    size_t entries, max_entries;
    size_t bytes;       /* the table's memory: buckets, entries and the table itself */
    uint64_t evicted;   /* entries dropped to make room */
    uint64_t expired;   /* entries dropped as idle */
    uint64_t untracked; /* lookups that could not create an entry (full of connections) */
} om_dos_table_stats_t;
void om_dos_table_stats(const om_dos_table_t *t, om_dos_table_stats_t *out);

#endif

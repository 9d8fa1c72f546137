/* dos_bucket.h — the whole-second token buckets of the relay's DoS mitigation (tor's dos.c
 * cc_stats_refill_bucket and token_bucket_ctr): a bucket starts full (burst tokens), gains rate
 * tokens per elapsed second up to burst, is refilled to burst if the clock went backwards, and
 * loses one token per counted event. Used per client address (circuit creation, connect rate)
 * and per circuit (stream creation). */
#ifndef OM_OR_DOS_BUCKET_H
#define OM_OR_DOS_BUCKET_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

typedef struct {
    uint32_t tokens;
    time_t last; /* when it was last refilled */
    bool started;
} om_dos_bucket_t;

/* Add the tokens earned since the last refill (the first call fills it to burst). A burst
 * lowered since the last refill caps the tokens at once. */
void om_dos_bucket_refill(om_dos_bucket_t *b, uint32_t rate, uint32_t burst, time_t now);
/* Refill, then take one token if there is one. Returns the tokens left (0: empty). */
uint32_t om_dos_bucket_take(om_dos_bucket_t *b, uint32_t rate, uint32_t burst, time_t now);

#endif

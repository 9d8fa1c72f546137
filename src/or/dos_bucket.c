/* dos_bucket.c — whole-second token buckets for the DoS mitigation (see dos_bucket.h). */
#include "or/dos_bucket.h"

void om_dos_bucket_refill(om_dos_bucket_t *b, uint32_t rate, uint32_t burst, time_t now)
{
    if (!b->started || now < b->last) {
        /* First use, or the clock jumped backwards: full (as tor, not to punish a client). */
        b->tokens = burst;
        b->last = now;
        b->started = true;
        return;
    }
    if (b->tokens > burst) b->tokens = burst;
    if (now == b->last) return;
    uint64_t elapsed = (uint64_t)(now - b->last);
    uint64_t add = elapsed > UINT32_MAX ? UINT64_MAX : elapsed * rate;
    uint64_t sum = (uint64_t)b->tokens + add;
    b->tokens = sum > burst || sum < add ? burst : (uint32_t)sum;
    b->last = now;
}

uint32_t om_dos_bucket_take(om_dos_bucket_t *b, uint32_t rate, uint32_t burst, time_t now)
{
    om_dos_bucket_refill(b, rate, burst, now);
    if (b->tokens > 0) b->tokens--;
    return b->tokens;
}

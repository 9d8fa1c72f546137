/* dir_policy.c — liveness, tolerance, refresh windows and retry delays (see dir_policy.h). */
#include "dir/dir_policy.h"

bool om_dir_live(time_t valid_after, time_t valid_until, time_t now)
{
    return valid_after <= now && now <= valid_until;
}

bool om_dir_reasonably_live(time_t valid_after, time_t valid_until, time_t now)
{
    return now >= valid_after - OM_DIR_TOLERANCE && now <= valid_until + OM_DIR_TOLERANCE;
}

void om_dir_refresh_window(time_t valid_after, time_t fresh_until, time_t valid_until, bool cache,
                           time_t *lo, time_t *hi)
{
    long interval = (long)(fresh_until - valid_after);
    time_t start;
    long span;
    if (cache) {
        /* dir-spec 4: caches fetch in the first half-interval after a short slop. */
        long slop = 120;
        if (slop > interval / 16) slop = interval / 16 > 0 ? interval / 16 : 1;
        start = fresh_until + slop;
        span = interval / 2;
    } else {
        /* dir-spec 5.1: clients give the caches 3/4 of an interval to fetch it first, and
         * fetch it well before their own expires. */
        start = fresh_until + (interval * 3) / 4;
        span = (long)((valid_until - start) * 7 / 8);
    }
    if (span < 1) span = 1;
    if (start + span >= valid_until) start = valid_until - span - 1;
    if (start <= fresh_until) start = fresh_until + 1; /* never replace a fresh consensus */
    *lo = start;
    *hi = start + span;
}

time_t om_dir_refresh_time(time_t valid_after, time_t fresh_until, time_t valid_until, bool cache,
                           uint32_t rnd)
{
    time_t lo, hi;
    om_dir_refresh_window(valid_after, fresh_until, valid_until, cache, &lo, &hi);
    return lo + (time_t)(rnd % (uint32_t)(hi - lo));
}

long om_dir_retry_delay(int failures)
{
    if (failures <= 0) return 0;
    if (failures > 5) return OM_DIR_RETRY_MAX_S;
    long d = 1L << (failures - 1);
    return d < OM_DIR_RETRY_MAX_S ? d : OM_DIR_RETRY_MAX_S;
}

long om_dir_clock_behind(time_t valid_after, int dist_delay, time_t now)
{
    time_t earliest = valid_after - dist_delay;
    if (now >= earliest - OM_DIR_EARLY_NOTICE_SKEW) return 0;
    return (long)(earliest - now);
}

/* dir_policy.h — the time rules of the directory engine, the same for the onion proxy and the
 * relay's directory cache: when a consensus is live or still usable despite clock skew, when
 * to fetch the next one (dir-spec 5.1 for clients, dir-spec 4 for caches), how long to wait
 * after a failed download, and when to warn that our clock is behind. Pure functions. */
#ifndef OM_DIR_DIR_POLICY_H
#define OM_DIR_DIR_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* How far outside its validity a consensus (and the certificates signing it) may be and still be
 * accepted, used and served: tor's REASONABLY_LIVE_TIME (networkstatus.c), one day either way.
 * A clock that is a minute, or a few hours, off therefore still works. */
#define OM_DIR_TOLERANCE (24 * 3600L)

/* Warn about our clock when a consensus arrives more than this many seconds before it could have
 * been signed (valid-after minus the distribution delay): tor's EARLY_CONSENSUS_NOTICE_SKEW. */
#define OM_DIR_EARLY_NOTICE_SKEW 60

/* Retry delays after consecutive failures of one kind of download: 1, 2, 4, ... seconds, at most
 * this many (dir-spec 5.5 asks for exponential backoff). */
#define OM_DIR_RETRY_MAX_S 30

/* dir-spec 5.1: live if valid-after <= now <= valid-until. */
bool om_dir_live(time_t valid_after, time_t valid_until, time_t now);
/* Usable: now within [valid-after - OM_DIR_TOLERANCE, valid-until + OM_DIR_TOLERANCE]. */
bool om_dir_reasonably_live(time_t valid_after, time_t valid_until, time_t now);

/* The window [*lo, *hi) in which to fetch the consensus that replaces a live one (tor's
 * update_consensus_networkstatus_fetch_time):
 *  - a client (dir-spec 5.1) starts 3/4 of an interval (fresh-until - valid-after) after
 *    fresh-until and spreads over 7/8 of the time left before valid-until;
 *  - a cache (dir-spec 4) starts right after fresh-until (2 minutes, or 1/16 of the interval if
 *    that is less, at least 1 s) and spreads over half an interval;
 * in both cases the window is at least 1 s long and ends before valid-until. */
void om_dir_refresh_window(time_t valid_after, time_t fresh_until, time_t valid_until, bool cache,
                           time_t *lo, time_t *hi);
/* A time in that window chosen with rnd (uniform in [lo, hi) for a uniform rnd). */
time_t om_dir_refresh_time(time_t valid_after, time_t fresh_until, time_t valid_until, bool cache,
                           uint32_t rnd);

/* Seconds to wait after `failures` consecutive failures (0 for none). */
long om_dir_retry_delay(int failures);

/* How many seconds our clock is behind, judging by a consensus that says when it became valid
 * and how long the authorities took to distribute it: valid-after - dist_delay - now when that
 * exceeds OM_DIR_EARLY_NOTICE_SKEW (no authority majority could have signed it yet), else 0. */
long om_dir_clock_behind(time_t valid_after, int dist_delay, time_t now);

#endif

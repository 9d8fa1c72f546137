/* bandwidth.h — a relay's bandwidth: token buckets shared by all its links
 * (BandwidthRate/BandwidthBurst, or RelayBandwidthRate/Burst when set lower), and the observed
 * bandwidth its descriptor reports (dir-spec 2.1.1 "bandwidth": as tor measures it, the largest
 * rate sustained both reading and writing over any 10 seconds, here within the last 24 hours). */
#ifndef OM_OR_BANDWIDTH_H
#define OM_OR_BANDWIDTH_H

#include <stdint.h>

struct bufferevent_rate_limit_group;
struct event_base;
typedef struct om_relay_bw om_relay_bw_t;

/* rate and burst in bytes per second / bytes (each direction). NULL on failure. */
om_relay_bw_t *om_relay_bw_new(struct event_base *base, uint64_t rate, uint64_t burst);
void om_relay_bw_free(om_relay_bw_t *b);
/* The group links join (om_linkmgr_set_rate_limit_group). */
struct bufferevent_rate_limit_group *om_relay_bw_group(om_relay_bw_t *b);
/* Observed bandwidth, bytes per second (0 until 10 seconds of traffic were seen). */
uint64_t om_relay_bw_observed(const om_relay_bw_t *b);
/* Bytes read and written by all links so far. */
void om_relay_bw_totals(const om_relay_bw_t *b, uint64_t *read, uint64_t *written);
/* Links whose bytes libevent's group does not count (WebSocket links take tokens with
 * bufferevent_rate_limit_group_decrement_*): fn adds its running totals to the group's. */
typedef void (*om_relay_bw_extra_fn)(void *arg, uint64_t *read, uint64_t *written);
void om_relay_bw_set_extra(om_relay_bw_t *b, om_relay_bw_extra_fn fn, void *arg);

#endif

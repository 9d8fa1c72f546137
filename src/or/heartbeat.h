/* heartbeat.h — the relay's heartbeat (tor's status.c log_heartbeat, `man tor` HeartbeatPeriod):
 * every period a notice "Heartbeat: Tor's uptime is ..., with N circuits open. I've sent ... and
 * received ...", then tor's "Heartbeat: DoS mitigation since startup: ..." line, then (when the
 * relay serves the DHT) a "Heartbeat: DHT: ..." line. The first one
 * comes one period after start, as tor's. The numbers come from the owner's status callback. */
#ifndef OM_OR_HEARTBEAT_H
#define OM_OR_HEARTBEAT_H

#include <stddef.h>
#include <stdint.h>

struct event_base;

typedef struct {
    long uptime; /* seconds */
    unsigned circuits;
    uint64_t bytes_written, bytes_read;
    unsigned links, links_inbound; /* open or opening now */
    char dos[768];                 /* the DoS line after "DoS mitigation since startup: " */
    char dht[256]; /* if not empty: the DHT's line after "Heartbeat: DHT: " (dht_service.h) */
} om_heartbeat_status_t;

typedef void (*om_heartbeat_status_fn)(void *arg, om_heartbeat_status_t *st);
typedef struct om_heartbeat om_heartbeat_t;

/* period_s 0: no heartbeat (NULL is returned, as on allocation failure). */
om_heartbeat_t *om_heartbeat_new(struct event_base *base, long period_s,
                                 om_heartbeat_status_fn status, void *arg);
void om_heartbeat_free(om_heartbeat_t *h);
/* Log the two lines now (the timer's work; tests call it). */
void om_heartbeat_log(om_heartbeat_t *h);
/* tor's secs_to_uptime ("2:05 hours", "1 day 0:10 hours", "3 days 1:00 hours") and
 * bytes_to_usage ("512 kB", "1.50 MB", "2.00 GB"). */
void om_heartbeat_format_uptime(long secs, char *out, size_t outsz);
void om_heartbeat_format_bytes(uint64_t bytes, char *out, size_t outsz);

#endif

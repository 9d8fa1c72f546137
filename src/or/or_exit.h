/* or_exit.h — the exit role, a stream service (stream_service.h) (tor-spec 6.2-6.4): RELAY_BEGIN to
 * host names, IPv4 and IPv6 addresses under the relay's exit policy, DNS through libevent's evdns
 * (RELAY_RESOLVE and RESOLVED too, reverse lookups included), CONNECTED, END with tor-spec's
 * reasons, data both ways with the stream windows, backpressure on the server socket. Streams are
 * only served on circuits whose previous hop is a relay listed in our consensus, as tor's exits do.
 * Each client (or circuit) holds at most its share of the connections (exit_share.h). */
#ifndef OM_OR_OR_EXIT_H
#define OM_OR_OR_EXIT_H

#include <stdbool.h>
#include <stddef.h>

#include "or/dircache.h"
#include "or/exit_policy.h"
#include "or/or_streams.h"

struct event_base;
typedef struct om_or_exit om_or_exit_t;

#define OM_OR_EXIT_MAX_CONNECTIONS   4096 /* open or opening server connections at once */
#define OM_OR_EXIT_CONNECT_TIMEOUT_S 20

/* policy: the effective exit policy (copied). resolv_conf: NULL for /etc/resolv.conf.
 * dircache (may be NULL): to tell whether a circuit's previous hop is a known relay. */
om_or_exit_t *om_or_exit_new(struct event_base *base, const om_exit_policy_t *policy,
                             const char *resolv_conf, bool ipv6_exit, om_dircache_t *dircache,
                             char *err, size_t errlen);
void om_or_exit_free(om_or_exit_t *x);
/* Register the exit's BEGIN (any host name not claimed by another service) and RESOLVE services
 * in the relay's stream layer. */
int om_or_exit_register(om_or_exit_t *x, om_or_streams_t *streams);

typedef struct {
    uint64_t begins, connected, refused_policy, refused_client, resolve_failed, connect_failed;
    uint64_t refused_share; /* BEGIN over the client's share of connections (exit_share.h) */
    unsigned open;
} om_or_exit_stats_t;
void om_or_exit_stats(const om_or_exit_t *x, om_or_exit_stats_t *out);

#endif

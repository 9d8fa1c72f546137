/* relay_dos.h — wires the DoS mitigation (dos.h) and the heartbeat (heartbeat.h) into the relay:
 * the policy built from the relay's DoS options with the consensus parameters of its directory
 * cache, re-read (with the known relay addresses) whenever a new consensus is held, the table's
 * expiry every minute, the hooks for the link manager, the circuits and the stream layer, and
 * the HeartbeatPeriod timer. Without a directory cache (DirCache 0) there is no consensus: the
 * torrc values and tor's defaults apply and only the authorities' addresses are exempt. */
#ifndef OM_OR_RELAY_DOS_H
#define OM_OR_RELAY_DOS_H

#include "core/linkmgr.h"
#include "or/dircache.h"
#include "or/dos.h"
#include "or/heartbeat.h"
#include "or/relay_options.h"

struct event_base;
typedef struct om_relay_dos om_relay_dos_t;

/* status: the relay's numbers for the heartbeat (the DoS line is filled here). dircache may be
 * NULL. NULL on allocation failure. */
om_relay_dos_t *om_relay_dos_new(struct event_base *base, const om_relay_options_t *opt,
                                 om_dircache_t *dircache, om_heartbeat_status_fn status,
                                 void *status_arg);
void om_relay_dos_free(om_relay_dos_t *rd);
om_dos_t *om_relay_dos_policy(om_relay_dos_t *rd);
/* For om_linkmgr_opts_t.accept_filter. */
om_linkmgr_accept_filter_t om_relay_dos_accept_filter(om_relay_dos_t *rd);
/* An om_or_stream_gate_fn (arg = om_relay_dos_policy(rd)). */
int om_relay_dos_stream_gate(void *arg, om_dos_bucket_t *circ_bucket);

#endif

/* chanmgr.h — the OP's links: at most one open channel per relay identity, reused by every
 * circuit through that relay; callers wait for a channel being opened; closed channels are
 * forgotten. */
#ifndef OM_OP_CHANMGR_H
#define OM_OP_CHANMGR_H

#include <stdbool.h>
#include <stdint.h>

#include "core/channel.h"

struct event_base;
typedef struct om_chanmgr om_chanmgr_t;

/* Called once: chan is open, or NULL with the reason it could not be opened. */
typedef void (*om_chanmgr_cb)(om_channel_t *chan, const char *err, void *arg);

om_chanmgr_t *om_chanmgr_new(struct event_base *base);
void om_chanmgr_free(om_chanmgr_t *m);
/* Get an open channel to the relay (identity rsa_fp, optional ed_id) at host:port, opening one if
 * needed. cb may run before this returns (channel already open). Returns a request handle that
 * om_chanmgr_cancel accepts, or NULL if cb already ran. */
void *om_chanmgr_get(om_chanmgr_t *m, const char *host, uint16_t port, const uint8_t rsa_fp[20],
                     const uint8_t *ed_id, om_chanmgr_cb cb, void *arg);
/* The waiter will not be called. */
void om_chanmgr_cancel(om_chanmgr_t *m, void *handle);
/* Number of channels (open or opening). */
unsigned om_chanmgr_count(const om_chanmgr_t *m);

#endif

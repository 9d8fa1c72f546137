/* relay.h — the relay (OR) role as one object on the caller's libevent loop: keys, the ORPort
 * listener and links, circuits, descriptor publication to the authorities on start, on key
 * changes and on tor's schedule, and key maintenance. Configured by om_relay_options_t. */
#ifndef OM_OR_RELAY_H
#define OM_OR_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "or/relay_options.h"

struct event_base;
typedef struct om_relay om_relay_t;

/* Starts the relay described by opt (opt must outlive the relay). Returns NULL with err on a
 * start-up error (keys unreadable, port busy...). */
om_relay_t *om_relay_start(struct event_base *base, const om_relay_options_t *opt, char *err,
                           size_t errlen);
void om_relay_free(om_relay_t *r);
/* The port the ORPort listener is bound to (useful with "ORPort auto"). */
uint16_t om_relay_or_port(const om_relay_t *r);
/* The relay's link manager, for an onion proxy in the same process to share. */
struct om_linkmgr;
struct om_linkmgr *om_relay_links(om_relay_t *r);
/* fn(arg, text) with each server descriptor the relay builds (at once with the current one);
 * NULL removes it. A WebSocket server serves it to bridge clients. */
void om_relay_set_descriptor_cb(om_relay_t *r, void (*fn)(void *arg, const char *desc), void *arg);
/* Bytes of links outside libevent's rate-limit group totals (a WebSocket server's), added to
 * the relay's bandwidth totals and observed bandwidth; fn(arg, &read, &written) gives running
 * totals. One source; NULL removes it. */
void om_relay_set_extra_bytes(om_relay_t *r,
                              void (*fn)(void *arg, uint64_t *read, uint64_t *written), void *arg);
/* What a bridge line names (bridge_line.h): the published address, the data directory, the RSA
 * identity fingerprint, the current ntor onion key, and whether BridgeRelay is set. */
typedef struct {
    const char *address;
    const char *data_dir;
    uint8_t rsa_fp[20];
    uint8_t ntor_pub[32];
    bool bridge_relay;
} om_relay_bridge_facts_t;
void om_relay_bridge_facts(const om_relay_t *r, om_relay_bridge_facts_t *out);

#endif

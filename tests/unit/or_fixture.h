/* or_fixture.h — for unit tests of the relay's circuit and stream layers: a relay (scheduler,
 * circuits, stream layer; optionally a link manager and keys for EXTEND2) with a client's link to
 * it over the in-memory transport, and the client's side of a one-hop CREATE_FAST circuit (or
 * CREATE2 ntor-v3 asking for congestion control): sending relay cells, reading the relay's
 * (decrypted, DATA answered with circuit SENDMEs as an origin does unless told not to). */
#ifndef OM_TEST_OR_FIXTURE_H
#define OM_TEST_OR_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/linkmgr.h"
#include "core/relay_crypto.h"
#include "core/relay_msg.h"
#include "core/sendme.h"
#include "mem_link.h"
#include "or/or_circuit.h"
#include "or/or_sched.h"
#include "or/or_streams.h"

#define FIX_CIRC   0x80000001u /* the client's circuit ID (it opened the link: high bit) */
#define FIX_STREAM 7

typedef struct {
    struct event_base *base;
    om_or_sched_t *sched;
    om_or_circuits_t *circs;
    om_or_streams_t *streams;
    om_mem_link_t link;
    om_linkmgr_t *links;            /* NULL unless given to fix_relay_start */
    om_relay_keys_t *keys;          /* ditto */
    struct fix_client *clients[16]; /* cleared by fix_relay_stop */
    int n_clients;
    /* Non-zero: circuits get congestion control with this sendme_inc (and tor's default
     * parameters) before their first relay message, as if their CREATE2 had negotiated it. */
    uint8_t cc_sendme_inc;
    /* True: the relay grants congestion control (tor's default parameters) to a CREATE2 ntor-v3
     * that asks for it (needs keys; fix_client_create_cc). */
    bool cc_grant;
} fix_relay_t;

/* links and keys may be NULL (no EXTEND2). The relay extends to private addresses (as with
 * TestingTorNetwork) unless started with fix_relay_start_public. */
bool fix_relay_start(fix_relay_t *r, om_linkmgr_t *links, om_relay_keys_t *keys);
bool fix_relay_start_public(fix_relay_t *r, om_linkmgr_t *links, om_relay_keys_t *keys);
/* The same as fix_relay_start with another circuit limit than 16. */
bool fix_relay_start_limit(fix_relay_t *r, om_linkmgr_t *links, om_relay_keys_t *keys,
                           unsigned max_circuits);
void fix_relay_stop(fix_relay_t *r);

typedef struct fix_client {
    uint32_t id;
    om_relay_crypto_t crypto;
    om_sendme_t fc;          /* our side's circuit flow control (SENDMEs to the relay) */
    bool no_sendmes;         /* do not answer DATA with circuit SENDMEs */
    uint8_t last_digest[20]; /* running digest after the last DATA cell */
} fix_client_t;

/* A one-hop circuit with CREATE_FAST (id: FIX_CIRC, or another with the high bit). c must live
 * until fix_relay_stop, which clears it. */
bool fix_client_create(fix_relay_t *r, fix_client_t *c, uint32_t id);
/* The same with CREATE2 ntor-v3 (r must have keys with an Ed25519 identity) asking for
 * congestion control (proposal 324 10.3). *sendme_inc: what the relay's reply granted (0: none). */
bool fix_client_create_cc(fix_relay_t *r, fix_client_t *c, uint32_t id, uint8_t *sendme_inc);
int fix_client_send(fix_relay_t *r, fix_client_t *c, uint8_t command, uint16_t stream,
                    const void *body, size_t len, bool early);
int fix_client_begin(fix_relay_t *r, fix_client_t *c, const char *host, uint16_t port);
/* The next cell for c from the relay: 1 a relay message (h, body), 2 DESTROY (*reason), 0 none,
 * -1 garbage or another circuit's cell. */
int fix_client_recv(fix_relay_t *r, fix_client_t *c, om_relay_header_t *h, uint8_t *body,
                    uint8_t *reason);
/* Read everything waiting; count messages of `command`; note a DESTROY and an END reason. */
int fix_drain(fix_relay_t *r, fix_client_t *c, uint8_t command, bool *destroyed,
              uint8_t *end_reason);

#endif

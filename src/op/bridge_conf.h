/* bridge_conf.h — one "Bridge" line in tor's syntax (tor(1), Bridge; tor's parse_bridge_line):
 *     Bridge [TRANSPORT] IPV4[:PORT] FINGERPRINT [KEY=VALUE ...]
 * TRANSPORT is a C identifier naming how the link is carried (none: TLS to the ORPort; e.g.
 * "websocket", whose factory another module provides); PORT defaults to 443 as in tor;
 * FINGERPRINT is the bridge's RSA identity in hex (without a transport it may be written in
 * spaced groups, as tor allows). Unlike tor, onionmesh requires the fingerprint: it is what the
 * link's CERTS cell is checked against. KEY=VALUE arguments go to the transport (e.g.
 * url=ws://127.0.0.1:8080/path) and need one, except one onionmesh extension allowed on any
 * line: ntor-onion-key=BASE64 (the bridge's curve25519 ntor key as its descriptor writes it),
 * which lets the client build even its first circuit to the bridge with ntor CREATE2 (see
 * doc/bridges.md). Pure: no I/O, bounds-checked. */
#ifndef OM_OP_BRIDGE_CONF_H
#define OM_OP_BRIDGE_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/linkmgr.h"

struct event_base;

#define OM_BRIDGE_MAX_ARGS      8
#define OM_BRIDGE_KEY_MAX       31
#define OM_BRIDGE_VALUE_MAX     255
#define OM_BRIDGE_TRANSPORT_MAX 31
#define OM_BRIDGE_LINE_MAX      2048 /* longer lines are refused */

typedef struct {
    char key[OM_BRIDGE_KEY_MAX + 1];
    char value[OM_BRIDGE_VALUE_MAX + 1];
} om_bridge_arg_t;

typedef struct {
    char transport[OM_BRIDGE_TRANSPORT_MAX + 1]; /* "" : none (TLS to the ORPort) */
    char host[16];                               /* dotted IPv4 */
    uint16_t port;
    uint8_t rsa_fp[20];
    size_t n_args; /* KEY=VALUE arguments for the transport (ntor-onion-key among them) */
    om_bridge_arg_t args[OM_BRIDGE_MAX_ARGS];
    bool has_ntor_key; /* ntor-onion-key=BASE64 was given */
    uint8_t ntor_key[32];
} om_bridge_conf_t;

/* A transport a Bridge line may name: how links to such a bridge are made. The OP knows plain
 * TLS (a line with no transport); the program adds the others (src/main.c: the WebSocket
 * transport of src/bridge) through om_op_options_t.transports. */
typedef struct {
    const char *name; /* as written in Bridge lines, e.g. "websocket" */
    /* A factory that reaches bridge b (reading its KEY=VALUE arguments); NULL with err when the
     * arguments do not do. Released with factory_free (may be NULL: nothing to free). */
    const om_transport_factory_t *(*factory_new)(const om_bridge_conf_t *b, char *err,
                                                 size_t errlen);
    void (*factory_free)(const om_transport_factory_t *f);
    /* The transport itself encrypts the link and binds it to the bridge (TLS does). Only then
     * is the bridge's descriptor fetched over a CREATE_FAST circuit, as tor's bridge clients do,
     * before its ntor key is known; otherwise the line must give the key (ntor-onion-key=). */
    bool confidential;
    /* Optional, for a transport that is not confidential: fetch the bridge's server descriptor
     * by the transport's own means (a WebSocketPort serves it over plain HTTP), when neither its
     * descriptor nor a working ntor-onion-key= is known. done gets the HTTP status (0: none,
     * err says why) and the body, exactly once unless descriptor_cancel(handle) comes first;
     * the caller checks the signature against the pinned identity. NULL: not started. */
    void *(*descriptor_fetch)(const om_transport_factory_t *f, struct event_base *base, size_t max,
                              void (*done)(void *arg, int status, const char *body, size_t len,
                                           const char *err),
                              void *arg);
    void (*descriptor_cancel)(void *handle);
} om_bridge_transport_t;

/* Parse the value of a Bridge line (without the word "Bridge"). 0, or -1 with err. */
int om_bridge_conf_parse(const char *line, om_bridge_conf_t *out, char *err, size_t errlen);
/* The value of argument key (the first one), or NULL. */
const char *om_bridge_conf_arg(const om_bridge_conf_t *b, const char *key);
/* "websocket 127.0.0.1:8080 HEX" / "127.0.0.1:9001 HEX" for logs. */
void om_bridge_conf_describe(const om_bridge_conf_t *b, char *out, size_t outlen);

#endif

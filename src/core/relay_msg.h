/* relay_msg.h — relay cells (tor-spec 6.1): the 11-byte relay header inside a RELAY or
 * RELAY_EARLY payload, the relay command numbers and names, END reasons (6.3), and the relay
 * command dispatch table that modules (OP streams, OR exit, ORDB, DHT) extend with their own
 * commands. */
#ifndef OM_CORE_RELAY_MSG_H
#define OM_CORE_RELAY_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cell.h"

#define OM_RELAY_HEADER_LEN  11
#define OM_RELAY_PAYLOAD_LEN 498 /* RELAY_PAYLOAD_SIZE = 509 - 11 */

enum om_relay_command {
    OM_RELAY_BEGIN = 1,
    OM_RELAY_DATA = 2,
    OM_RELAY_END = 3,
    OM_RELAY_CONNECTED = 4,
    OM_RELAY_SENDME = 5,
    OM_RELAY_EXTEND = 6,
    OM_RELAY_EXTENDED = 7,
    OM_RELAY_TRUNCATE = 8,
    OM_RELAY_TRUNCATED = 9,
    OM_RELAY_DROP = 10,
    OM_RELAY_RESOLVE = 11,
    OM_RELAY_RESOLVED = 12,
    OM_RELAY_BEGIN_DIR = 13,
    OM_RELAY_EXTEND2 = 14,
    OM_RELAY_EXTENDED2 = 15,
    OM_RELAY_CONNECT_UDP = 16, /* 16..18 reserved for UDP (prop339) */
    OM_RELAY_CONNECTED_UDP = 17,
    OM_RELAY_DATAGRAM = 18,
    OM_RELAY_CONFLUX_LINK = 19,
    OM_RELAY_CONFLUX_LINKED = 20,
    OM_RELAY_CONFLUX_LINKED_ACK = 21,
    OM_RELAY_CONFLUX_SWITCH = 22,
    OM_RELAY_ESTABLISH_INTRO = 32,
    OM_RELAY_ESTABLISH_RENDEZVOUS = 33,
    OM_RELAY_INTRODUCE1 = 34,
    OM_RELAY_INTRODUCE2 = 35,
    OM_RELAY_RENDEZVOUS1 = 36,
    OM_RELAY_RENDEZVOUS2 = 37,
    OM_RELAY_INTRO_ESTABLISHED = 38,
    OM_RELAY_RENDEZVOUS_ESTABLISHED = 39,
    OM_RELAY_INTRODUCE_ACK = 40,
    OM_RELAY_PADDING_NEGOTIATE = 41,
    OM_RELAY_PADDING_NEGOTIATED = 42,
    OM_RELAY_XOFF = 43,
    OM_RELAY_XON = 44,
};

/* RELAY_END reasons, tor-spec 6.3. */
enum om_end_reason {
    OM_END_MISC = 1,
    OM_END_RESOLVEFAILED = 2,
    OM_END_CONNECTREFUSED = 3,
    OM_END_EXITPOLICY = 4,
    OM_END_DESTROY = 5,
    OM_END_DONE = 6,
    OM_END_TIMEOUT = 7,
    OM_END_NOROUTE = 8,
    OM_END_HIBERNATING = 9,
    OM_END_INTERNAL = 10,
    OM_END_RESOURCELIMIT = 11,
    OM_END_CONNRESET = 12,
    OM_END_TORPROTOCOL = 13,
    OM_END_NOTDIRECTORY = 14,
};

typedef struct {
    uint8_t command;
    uint16_t recognized;
    uint16_t stream_id;
    uint8_t digest[4];
    uint16_t length;
} om_relay_header_t;

const char *om_relay_command_name(uint8_t command); /* "BEGIN_DIR", or "UNKNOWN" */
const char *om_end_reason_name(uint8_t reason);

/* Encode header into payload[0..11). */
void om_relay_header_pack(const om_relay_header_t *h, uint8_t payload[OM_CELL_PAYLOAD_LEN]);
/* Decode header; -1 if length > OM_RELAY_PAYLOAD_LEN (malformed; h is still filled in). */
int om_relay_header_unpack(om_relay_header_t *h, const uint8_t payload[OM_CELL_PAYLOAD_LEN]);
/* Build a whole relay payload: header (digest zeroed, recognized 0) + body + padding
 * (tor-spec 6.1: 4 zero bytes then random bytes after the body, om_rand_bytes). body may point
 * into payload itself (e.g. payload + 11: it is moved, not copied). -1 if bodylen > 498, body is
 * NULL with bodylen > 0, or the random source fails. */
int om_relay_payload_build(uint8_t payload[OM_CELL_PAYLOAD_LEN], uint8_t command,
                           uint16_t stream_id, const uint8_t *body, size_t bodylen);

/* ---- dispatch table ----
 * A table maps relay commands to handlers. `ctx` is the circuit/hop the message arrived on
 * (opaque here); a handler returns 0, or -1 to have the caller close what the message belongs to
 * (the stream or circuit, per the handler's own decision logged in the handler). */
typedef int (*om_relay_handler_fn)(void *ctx, const om_relay_header_t *hdr, const uint8_t *body,
                                   void *arg);
typedef struct {
    om_relay_handler_fn fn[256];
    void *arg[256];
} om_relay_dispatch_t;
void om_relay_dispatch_init(om_relay_dispatch_t *t);
/* Returns -1 if a handler is already registered for that command (modules must not collide),
 * or fn is NULL. */
int om_relay_dispatch_set(om_relay_dispatch_t *t, uint8_t command, om_relay_handler_fn fn,
                          void *arg);
/* Returns the handler's result, or -2 if no handler is registered for the command, or -1 without
 * calling anything if hdr->length > OM_RELAY_PAYLOAD_LEN. body holds hdr->length bytes. */
int om_relay_dispatch(const om_relay_dispatch_t *t, void *ctx, const om_relay_header_t *hdr,
                      const uint8_t *body);

#endif

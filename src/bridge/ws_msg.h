/* ws_msg.h — the cells inside WebSocket messages of the "tor-cells.onionmesh" subprotocol
 * (doc/bridge.md, "Wire format"): every binary message carries one or more WHOLE cells of the
 * link protocol. The first cell of each direction is VERSIONS with a 2-byte circuit ID; every
 * later cell has a 4-byte circuit ID (the subprotocol requires link protocol 4 or later). This
 * is a pure parser over network input: no I/O, no allocation. */
#ifndef OM_BRIDGE_WS_MSG_H
#define OM_BRIDGE_WS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The subprotocol name (Sec-WebSocket-Protocol). */
#define OM_WS_SUBPROTOCOL "tor-cells.onionmesh"
/* Largest message either side sends or accepts: 16 KiB (31 fixed cells, or a variable cell of up
 * to 16377 payload bytes). A larger message closes the link. */
#define OM_WS_MSG_MAX 16384

/* One direction of a link: has its VERSIONS cell gone by? */
typedef struct {
    bool versions_done;
} om_ws_scan_t;

/* A received message: 0 if msg[0..len) is one or more whole, well-framed cells (advancing st),
 * else -1 with err ("empty message", "partial cell", "message of N bytes over the cap", ...). */
int om_ws_msg_check(om_ws_scan_t *st, const uint8_t *msg, size_t len, char *err, size_t errlen);

/* The sender's side: the length of the longest prefix of buf[0..len) that is whole cells and at
 * most max bytes (advancing st over them). 0 if the first cell is not complete yet; -1 if the
 * first cell is malformed or larger than max (it can never be sent). */
long om_ws_msg_prefix(om_ws_scan_t *st, const uint8_t *buf, size_t len, size_t max);

#endif

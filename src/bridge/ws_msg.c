/* ws_msg.c — framing cells inside WebSocket messages (ws_msg.h, doc/bridge.md "Wire format").
 * Cell framing is the engine's (om_cell_frame, tor-spec 3): link protocol 0 (narrow circuit IDs,
 * VERSIONS only) for the first cell of a direction, protocol 4 (4-byte circuit IDs) after it. */
#include "bridge/ws_msg.h"

#include <stdio.h>

#include "core/cell.h"

/* The next cell of buf: 1 and *clen if whole, 0 if incomplete, -1 if malformed. */
static int next_cell(const om_ws_scan_t *st, const uint8_t *buf, size_t len, size_t *clen)
{
    bool var = false;
    *clen = 0;
    return om_cell_frame(buf, len, st->versions_done ? 4 : 0, clen, &var);
}

int om_ws_msg_check(om_ws_scan_t *st, const uint8_t *msg, size_t len, char *err, size_t errlen)
{
    if (len == 0) {
        snprintf(err, errlen, "empty message");
        return -1;
    }
    if (len > OM_WS_MSG_MAX) {
        snprintf(err, errlen, "message of %zu bytes over the cap of %d", len, OM_WS_MSG_MAX);
        return -1;
    }
    om_ws_scan_t s = *st;
    size_t pos = 0;
    while (pos < len) {
        size_t clen = 0;
        int r = next_cell(&s, msg + pos, len - pos, &clen);
        if (r < 0) {
            snprintf(err, errlen, "malformed cell at byte %zu%s", pos,
                     s.versions_done ? "" : " (the first cell must be VERSIONS)");
            return -1;
        }
        if (r == 0 || clen == 0 || clen > len - pos) {
            snprintf(err, errlen, "partial cell at byte %zu of a %zu-byte message", pos, len);
            return -1;
        }
        pos += clen;
        s.versions_done = true;
    }
    *st = s;
    return 0;
}

long om_ws_msg_prefix(om_ws_scan_t *st, const uint8_t *buf, size_t len, size_t max)
{
    size_t pos = 0;
    om_ws_scan_t s = *st;
    while (pos < len) {
        size_t clen = 0;
        int r = next_cell(&s, buf + pos, len - pos, &clen);
        if (r < 0) return pos ? (long)pos : -1;
        if (r == 0) {
            /* A cell whose known size is over max can never go. */
            if (pos == 0 && clen > max) return -1;
            break;
        }
        if (pos + clen > max) {
            if (pos == 0) return -1;
            break;
        }
        pos += clen;
        s.versions_done = true;
        *st = s;
    }
    return (long)pos;
}

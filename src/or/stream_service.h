/* stream_service.h — the relay's extension point for streams: what a stream service at the last
 * hop of a circuit implements, and what it may do with its streams. The stream layer
 * (or_streams.c) owns the stream table, windows and SENDMEs (sendme.h), END and half-closed
 * streams; it routes each opening message through a table of services:
 *   BEGIN_DIR                       -> the service registered for OM_RELAY_BEGIN_DIR (svc_dir.c)
 *   RESOLVE                         -> the service registered for OM_RELAY_RESOLVE (or_exit.c)
 *   BEGIN to a registered hostname  -> that service (e.g. a reserved ".invalid" name for our own
 *                                      protocols, which tor exits refuse without connecting)
 *   any other BEGIN                 -> the service registered with hostname NULL (the exit)
 * and answers END NOTDIRECTORY (BEGIN_DIR) or END EXITPOLICY (BEGIN, RESOLVE) when none claims
 * the stream. A new service (DHT, ORDB) is one om_stream_service_t passed to
 * om_or_streams_add_service; nothing else changes. */
#ifndef OM_OR_STREAM_SERVICE_H
#define OM_OR_STREAM_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/relay_bodies.h"

typedef struct om_or_stream om_or_stream_t;
typedef struct om_or_circ om_or_circ_t;

typedef struct {
    const char *name;     /* for logs: "exit", "dir", "dht" ... */
    uint8_t command;      /* OM_RELAY_BEGIN, OM_RELAY_BEGIN_DIR or OM_RELAY_RESOLVE */
    const char *hostname; /* BEGIN only: the one name served (case-insensitive); NULL: the rest */
    /* A new stream for the service. b: the parsed BEGIN (host, port, flags) or, for RESOLVE, the
     * name in b->host; NULL for BEGIN_DIR. The service answers — CONNECTED, RESOLVED (then
     * om_or_stream_finish) or END — now or later. */
    void (*begin)(void *arg, om_or_stream_t *s, const om_begin_t *b);
    /* DATA from the client (already counted against the windows). */
    void (*data)(void *arg, om_or_stream_t *s, const uint8_t *data, size_t len);
    /* The windows opened or the client sent XON: package what is waiting (may be NULL). */
    void (*pull)(void *arg, om_or_stream_t *s);
    /* The stream is going away (END from the client, circuit closed, or the service ended it):
     * free what the service keeps for it. Must not call back into the stream. */
    void (*release)(void *arg, om_or_stream_t *s);
    void *arg;
} om_stream_service_t;

/* ---- what a service does with its streams ---- */

/* Send DATA (len <= OM_RELAY_PAYLOAD_LEN) if the windows allow: 0, or -1 (keep the bytes; pull
 * is called when the windows open). */
int om_or_stream_send_data(om_or_stream_t *s, const uint8_t *data, size_t len);
/* May one DATA cell be sent now (windows, the client's XOFF, our queue towards the client)? */
bool om_or_stream_can_send(const om_or_stream_t *s);
/* Another relay message on the stream (CONNECTED, RESOLVED ...). 0 or -1. */
int om_or_stream_send(om_or_stream_t *s, uint8_t command, const uint8_t *body, size_t len);
/* Send END (reason, then extra bytes, at most 32) and free the stream (release is called). */
void om_or_stream_end(om_or_stream_t *s, uint8_t reason, const uint8_t *extra, size_t extra_len);
/* Free the stream without sending anything (after RESOLVED, which ends it: tor-spec 6.4). */
void om_or_stream_finish(om_or_stream_t *s);
/* Our edge's buffer (towards a server, say) now holds `buffered` bytes after the client's data
 * was added / after `written` bytes left it. The layer sends stream SENDMEs once it is small
 * again (tor withholds them while the edge's output is over 10 cells), or, with congestion
 * control, XOFF and XON (proposal 324 4). A service without a buffer calls
 * om_or_stream_edge_buffered(s, 0) once it has consumed the data. */
void om_or_stream_edge_buffered(om_or_stream_t *s, size_t buffered);
void om_or_stream_edge_drained(om_or_stream_t *s, size_t written, size_t buffered);

/* The service's own state for the stream. */
void *om_or_stream_state(const om_or_stream_t *s);
void om_or_stream_set_state(om_or_stream_t *s, void *state);
uint16_t om_or_stream_id(const om_or_stream_t *s);
om_or_circ_t *om_or_stream_circ(const om_or_stream_t *s);
uint32_t om_or_stream_circ_id(const om_or_stream_t *s); /* for logs */

#endif

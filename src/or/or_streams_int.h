/* or_streams_int.h — what or_streams.c (stream table, windows, SENDMEs, BEGIN_DIR) and
 * or_exit.c (BEGIN/RESOLVE to the Internet) share about a last-hop stream. Not a public API. */
#ifndef OM_OR_OR_STREAMS_INT_H
#define OM_OR_OR_STREAMS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/relay_bodies.h"
#include "or/or_exit.h"
#include "or/or_streams.h"

#define OR_STREAM_WINDOW_START 500
#define OR_STREAM_WINDOW_INC   50

typedef enum {
    OR_STREAM_DIR,     /* BEGIN_DIR: answered from the directory cache */
    OR_STREAM_EXIT,    /* BEGIN: a TCP connection we open */
    OR_STREAM_RESOLVE, /* RESOLVE: one DNS lookup, then RESOLVED */
} or_stream_kind_t;

typedef struct or_stream {
    struct or_stream *next;
    om_or_streams_t *m;
    om_or_circ_t *circ;
    uint16_t id;
    or_stream_kind_t kind;
    int package_window, deliver_window;
    /* BEGIN_DIR */
    char *req;
    size_t req_len;
    uint8_t *resp;
    size_t resp_len, resp_off;
    /* BEGIN / RESOLVE (or_exit.c) */
    om_begin_t begin;
    struct bufferevent *bev;
    struct exit_dns *dns; /* pending lookup */
    bool connected;       /* CONNECTED sent */
    bool target_eof;      /* the server closed: END DONE once its bytes are sent */
} or_stream_t;

struct om_or_streams {
    om_dircache_t *dircache;
    om_or_exit_t *exit;
    om_or_streams_stats_t st;
};

/* Send DATA on the stream if both windows allow (len <= 498). Returns 0, or -1 (no window or the
 * circuit cannot send: the caller keeps the bytes). */
int or_stream_send_data(or_stream_t *s, const uint8_t *data, size_t len);
bool or_stream_can_send(const or_stream_t *s);
/* Send END (reason, optional extra body bytes after it) and free the stream. */
void or_stream_end(or_stream_t *s, uint8_t reason, const uint8_t *extra, size_t extra_len);
/* Free without sending anything (the client ended it, or the circuit is going away). */
void or_stream_free(or_stream_t *s);

/* or_exit.c */
void or_exit_begin(om_or_exit_t *x, or_stream_t *s);
void or_exit_resolve(om_or_exit_t *x, or_stream_t *s);
void or_exit_data(or_stream_t *s, const uint8_t *data, size_t len);
void or_exit_pull(or_stream_t *s);            /* windows opened: send what the server sent */
void or_exit_consider_sendme(or_stream_t *s); /* stream SENDME once our output drained */
void or_exit_release(or_stream_t *s);         /* drop the connection / lookup of a stream */

#endif

/* svc_dir.c — the BEGIN_DIR stream service (tor-spec 6.2, dir-spec 6): an empty CONNECTED, then
 * one HTTP/1.0 request read from the client's DATA, answered from the directory cache
 * (om_dircache_reply: a document by reference, never a copy per stream) as fast as the windows
 * allow, then END DONE. Bounded: at most OM_SVC_DIR_MAX_PER_CIRC streams per circuit, a request
 * must arrive within OM_SVC_DIR_REQUEST_TIMEOUT_S and an answer make progress every
 * OM_SVC_DIR_IDLE_TIMEOUT_S, and the bytes pending count toward MaxMemInQueues (or_oom.h). */
#include "or/svc_dir.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/log.h"
#include "or/dir_blob.h"
#include "or/stream_service.h"

#define SWEEP_S 5

typedef struct dir_stream {
    struct dir_stream *next, *prev;
    om_or_stream_t *s;
    om_or_circ_t *circ;
    char *req;
    size_t req_len;
    bool answering;
    om_dircache_reply_t rep;
    size_t off; /* of head + body sent */
    time_t last_progress;
} dir_stream_t;

struct om_svc_dir {
    om_dircache_t *dircache;
    om_svc_dir_stats_t st;
    dir_stream_t *streams;
    struct event *sweep;
    time_t (*now)(void);
};

static time_t now_s(const om_svc_dir_t *v)
{
    return v->now ? v->now() : time(NULL);
}

static size_t total_len(const dir_stream_t *d)
{
    return d->rep.head_len + om_dir_blob_len(d->rep.body);
}

/* The answer, as much as the windows allow; END DONE when all is sent. */
static void dir_pull(void *arg, om_or_stream_t *s)
{
    om_svc_dir_t *v = arg;
    dir_stream_t *d = om_or_stream_state(s);
    if (!d || !d->answering) return;
    size_t total = total_len(d);
    while (d->off < total && om_or_stream_can_send(s)) {
        uint8_t chunk[OM_RELAY_PAYLOAD_LEN];
        size_t n = 0;
        while (n < sizeof chunk && d->off + n < total) {
            size_t at = d->off + n, k;
            if (at < d->rep.head_len) {
                k = d->rep.head_len - at;
                if (k > sizeof chunk - n) k = sizeof chunk - n;
                memcpy(chunk + n, d->rep.head + at, k);
            } else {
                at -= d->rep.head_len;
                k = om_dir_blob_len(d->rep.body) - at;
                if (k > sizeof chunk - n) k = sizeof chunk - n;
                memcpy(chunk + n, om_dir_blob_data(d->rep.body) + at, k);
            }
            n += k;
        }
        if (om_or_stream_send_data(s, chunk, n) < 0) return;
        d->off += n;
        d->last_progress = now_s(v);
    }
    if (d->off == total) om_or_stream_end(s, OM_END_DONE, NULL, 0);
}

static unsigned count_on_circ(const om_svc_dir_t *v, const om_or_circ_t *circ)
{
    unsigned n = 0;
    for (const dir_stream_t *d = v->streams; d; d = d->next)
        n += d->circ == circ;
    return n;
}

static void dir_begin(void *arg, om_or_stream_t *s, const om_begin_t *b)
{
    om_svc_dir_t *v = arg;
    (void)b;
    om_or_circ_t *circ = om_or_stream_circ(s);
    if (count_on_circ(v, circ) >= OM_SVC_DIR_MAX_PER_CIRC) {
        v->st.refused++;
        om_or_stream_set_state(s, NULL);
        om_or_stream_end(s, OM_END_RESOURCELIMIT, NULL, 0);
        return;
    }
    dir_stream_t *d = om_dircache_ready(v->dircache) ? calloc(1, sizeof *d) : NULL;
    om_or_stream_set_state(s, d);
    if (!d) {
        om_or_stream_end(s, OM_END_NOTDIRECTORY, NULL, 0);
        return;
    }
    d->s = s;
    d->circ = circ;
    d->last_progress = now_s(v);
    d->next = v->streams;
    if (v->streams) v->streams->prev = d;
    v->streams = d;
    /* tor-spec 6.2: BEGIN_DIR is answered with an empty CONNECTED. */
    om_or_stream_send(s, OM_RELAY_CONNECTED, NULL, 0);
}

/* Once the request head is complete: the HTTP answer (or 400 for a malformed request) in
 * d->rep. 0: more bytes needed; 1: answer ready; -1: no answer could be made. */
static int answer(om_svc_dir_t *v, om_or_stream_t *s, dir_stream_t *d)
{
    char path[1024];
    int r = om_dircache_parse_request(d->req, d->req_len, path, sizeof path);
    if (r == 0) return 0;
    if (r < 0) {
        static const char bad[] = "HTTP/1.0 400 Bad request\r\n\r\n";
        memcpy(d->rep.head, bad, sizeof bad - 1);
        d->rep.head_len = sizeof bad - 1;
        return 1;
    }
    if (om_dircache_reply(v->dircache, path, &d->rep) < 0) return -1;
    v->st.requests++;
    om_debug("Circuit %u stream %u: directory GET %.100s -> %zu bytes", om_or_stream_circ_id(s),
             om_or_stream_id(s), path, total_len(d));
    return 1;
}

static void dir_data(void *arg, om_or_stream_t *s, const uint8_t *body, size_t len)
{
    om_svc_dir_t *v = arg;
    dir_stream_t *d = om_or_stream_state(s);
    om_or_stream_edge_buffered(s, 0); /* consumed at once: stream SENDMEs as they fall due */
    if (!d || d->answering) return;   /* already answering: HTTP/1.0, one request per stream */
    if (d->req_len + len > OM_DIRCACHE_MAX_REQUEST) {
        om_info("Circuit %u stream %u: directory request longer than %d bytes",
                om_or_stream_circ_id(s), om_or_stream_id(s), OM_DIRCACHE_MAX_REQUEST);
        om_or_stream_end(s, OM_END_TORPROTOCOL, NULL, 0);
        return;
    }
    char *g = realloc(d->req, d->req_len + len); /* only what came: not 8 KiB per stream */
    if (!g) {
        om_or_stream_end(s, OM_END_RESOURCELIMIT, NULL, 0);
        return;
    }
    d->req = g;
    memcpy(d->req + d->req_len, body, len);
    d->req_len += len;
    int r = answer(v, s, d);
    if (r == 0) return;
    if (r < 0) {
        om_or_stream_end(s, OM_END_INTERNAL, NULL, 0);
        return;
    }
    free(d->req); /* the request is not needed any more */
    d->req = NULL;
    d->req_len = 0;
    d->answering = true;
    v->st.bytes += total_len(d);
    dir_pull(v, s);
}

static void dir_release(void *arg, om_or_stream_t *s)
{
    om_svc_dir_t *v = arg;
    dir_stream_t *d = om_or_stream_state(s);
    if (!d) return;
    if (d->prev)
        d->prev->next = d->next;
    else
        v->streams = d->next;
    if (d->next) d->next->prev = d->prev;
    free(d->req);
    om_dircache_reply_clear(&d->rep);
    free(d);
}

/* Bytes this stream alone holds: its request so far, and an answer not shared with others. */
static size_t own_bytes(const dir_stream_t *d)
{
    size_t n = sizeof *d + d->req_len;
    if (d->rep.body && om_dir_blob_refs(d->rep.body) == 1) n += om_dir_blob_len(d->rep.body);
    return n;
}

size_t om_svc_dir_pending_bytes(void *arg)
{
    om_svc_dir_t *v = arg;
    size_t n = om_dircache_shared_bytes(v->dircache);
    for (const dir_stream_t *d = v->streams; d; d = d->next)
        n += own_bytes(d);
    return n;
}

size_t om_svc_dir_reclaim(void *arg)
{
    om_svc_dir_t *v = arg;
    dir_stream_t *worst = NULL;
    for (dir_stream_t *d = v->streams; d; d = d->next)
        if (!worst || own_bytes(d) > own_bytes(worst)) worst = d;
    if (!worst) return 0;
    size_t n = own_bytes(worst);
    v->st.reclaimed++;
    om_or_stream_end(worst->s, OM_END_RESOURCELIMIT, NULL, 0); /* releases it */
    return n;
}

void om_svc_dir_sweep(om_svc_dir_t *v)
{
    time_t now = now_s(v);
    for (dir_stream_t *d = v->streams, *next; d; d = next) {
        next = d->next;
        int limit = d->answering ? OM_SVC_DIR_IDLE_TIMEOUT_S : OM_SVC_DIR_REQUEST_TIMEOUT_S;
        if (now - d->last_progress < limit) continue;
        v->st.timeouts++;
        om_info("Circuit %u stream %u: directory stream %s for %d s: closing",
                om_or_stream_circ_id(d->s), om_or_stream_id(d->s),
                d->answering ? "made no progress" : "sent no request", limit);
        om_or_stream_end(d->s, OM_END_TIMEOUT, NULL, 0); /* releases d (next stays valid) */
    }
}

static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    om_svc_dir_sweep(arg);
}

om_svc_dir_t *om_svc_dir_new(struct event_base *base, om_dircache_t *dircache)
{
    om_svc_dir_t *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    v->dircache = dircache;
    if (!base) return v;
    struct timeval tv = {SWEEP_S, 0};
    v->sweep = event_new(base, -1, EV_PERSIST, sweep_cb, v);
    if (!v->sweep || event_add(v->sweep, &tv) < 0) {
        om_svc_dir_free(v);
        return NULL;
    }
    return v;
}

void om_svc_dir_free(om_svc_dir_t *v)
{
    if (!v) return;
    if (v->sweep) event_free(v->sweep);
    free(v);
}

void om_svc_dir_set_clock(om_svc_dir_t *v, time_t (*now)(void))
{
    v->now = now;
}

void om_svc_dir_service(om_svc_dir_t *v, om_stream_service_t *out)
{
    memset(out, 0, sizeof *out);
    out->name = "dir";
    out->command = OM_RELAY_BEGIN_DIR;
    out->begin = dir_begin;
    out->data = dir_data;
    out->pull = dir_pull;
    out->release = dir_release;
    out->arg = v;
}

void om_svc_dir_stats(const om_svc_dir_t *v, om_svc_dir_stats_t *out)
{
    *out = v->st;
    out->streams = 0;
    for (const dir_stream_t *d = v->streams; d; d = d->next)
        out->streams++;
}

/* svc_dir.c — the BEGIN_DIR stream service (tor-spec 6.2, dir-spec 6): an empty CONNECTED, then
 * one HTTP/1.0 request read from the client's DATA, answered from the directory cache
 * (om_dircache_answer) as fast as the windows allow, then END DONE. */
#include "or/svc_dir.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "or/stream_service.h"

struct om_svc_dir {
    om_dircache_t *dircache;
    om_svc_dir_stats_t st;
};

typedef struct {
    char *req;
    size_t req_len;
    uint8_t *resp;
    size_t resp_len, resp_off;
} dir_stream_t;

/* The answer, as much as the windows allow; END DONE when all is sent. */
static void dir_pull(void *arg, om_or_stream_t *s)
{
    (void)arg;
    dir_stream_t *d = om_or_stream_state(s);
    while (d->resp && d->resp_off < d->resp_len && om_or_stream_can_send(s)) {
        size_t n = d->resp_len - d->resp_off;
        if (n > OM_RELAY_PAYLOAD_LEN) n = OM_RELAY_PAYLOAD_LEN;
        if (om_or_stream_send_data(s, d->resp + d->resp_off, n) < 0) return;
        d->resp_off += n;
    }
    if (d->resp && d->resp_off == d->resp_len) om_or_stream_end(s, OM_END_DONE, NULL, 0);
}

static void dir_begin(void *arg, om_or_stream_t *s, const om_begin_t *b)
{
    om_svc_dir_t *v = arg;
    (void)b;
    dir_stream_t *d = om_dircache_ready(v->dircache) ? calloc(1, sizeof *d) : NULL;
    om_or_stream_set_state(s, d);
    if (!d) {
        om_or_stream_end(s, OM_END_NOTDIRECTORY, NULL, 0);
        return;
    }
    /* tor-spec 6.2: BEGIN_DIR is answered with an empty CONNECTED. */
    om_or_stream_send(s, OM_RELAY_CONNECTED, NULL, 0);
}

/* Once the request head is complete: the HTTP answer (or 400 for a malformed request) in
 * d->resp. 0: more bytes needed; 1: answer ready; -1: no answer could be made. */
static int answer(om_svc_dir_t *v, om_or_stream_t *s, dir_stream_t *d)
{
    char path[1024];
    int r = om_dircache_parse_request(d->req, d->req_len, path, sizeof path);
    if (r == 0) return 0;
    if (r < 0) {
        static const char bad[] = "HTTP/1.0 400 Bad request\r\n\r\n";
        d->resp = malloc(sizeof bad - 1);
        if (d->resp) memcpy(d->resp, bad, sizeof bad - 1);
        d->resp_len = sizeof bad - 1;
    } else {
        d->resp = om_dircache_answer(v->dircache, path, &d->resp_len);
        v->st.requests++;
        om_debug("Circuit %u stream %u: directory GET %.100s -> %zu bytes", om_or_stream_circ_id(s),
                 om_or_stream_id(s), path, d->resp_len);
    }
    return d->resp ? 1 : -1;
}

static void dir_data(void *arg, om_or_stream_t *s, const uint8_t *body, size_t len)
{
    om_svc_dir_t *v = arg;
    dir_stream_t *d = om_or_stream_state(s);
    om_or_stream_edge_buffered(s, 0); /* consumed at once: stream SENDMEs as they fall due */
    if (d->resp) return;              /* already answering: HTTP/1.0, one request per stream */
    if (!d->req && !(d->req = malloc(OM_DIRCACHE_MAX_REQUEST))) {
        om_or_stream_end(s, OM_END_RESOURCELIMIT, NULL, 0);
        return;
    }
    if (d->req_len + len > OM_DIRCACHE_MAX_REQUEST) {
        om_info("Circuit %u stream %u: directory request longer than %d bytes",
                om_or_stream_circ_id(s), om_or_stream_id(s), OM_DIRCACHE_MAX_REQUEST);
        om_or_stream_end(s, OM_END_TORPROTOCOL, NULL, 0);
        return;
    }
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
    v->st.bytes += d->resp_len;
    dir_pull(v, s);
}

static void dir_release(void *arg, om_or_stream_t *s)
{
    (void)arg;
    dir_stream_t *d = om_or_stream_state(s);
    if (!d) return;
    free(d->req);
    free(d->resp);
    free(d);
}

om_svc_dir_t *om_svc_dir_new(om_dircache_t *dircache)
{
    om_svc_dir_t *v = calloc(1, sizeof *v);
    if (v) v->dircache = dircache;
    return v;
}

void om_svc_dir_free(om_svc_dir_t *v)
{
    free(v);
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
}

/* dircache.c — the relay's directory cache (dir-spec 4), an adapter around the shared directory
 * engine (dir/dir_engine.h, which decides what to fetch, verifies and holds the documents and
 * their compressed forms): the fetcher, plain HTTP GETs to the authorities' DirPorts with
 * libevent's evhttp (dir-spec 4: caches fetch from the authorities directly), and the answers to
 * the HTTP GETs tor clients send over BEGIN_DIR streams (dir-spec 6), ".z" ones deflated from the
 * forms made when each document was accepted. */
#include "or/dircache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "core/crypto.h"
#include "core/log.h"
#include "dir/dir_deflate.h"
#include "dir/dir_engine.h"
#include "dir/dir_policy.h"
#include "or/dir_blob.h"

#define FETCH_TIMEOUT_S 30

/* The documents served by reference (dir_blob.h), each plain and deflated. */
enum { SLOT_MD, SLOT_NS, SLOT_CERTS, SLOT_OWN, SLOT_N };

struct om_dircache {
    struct event_base *base;
    om_dir_engine_t *engine;
    om_dir_doc_t own; /* our server descriptor, and its compressed form */
    om_dir_blob_slot_t slots[SLOT_N][2];
    void (*on_consensus)(void *arg, const om_consensus_t *c);
    void *on_consensus_arg;
};

static void consensus_changed(void *arg, om_dir_kind_t kind, const om_consensus_t *c,
                              const char *text, size_t len, bool from_cache)
{
    om_dircache_t *d = arg;
    (void)text;
    (void)len;
    (void)from_cache;
    if (kind == OM_DIR_CONSENSUS_MD && d->on_consensus) d->on_consensus(d->on_consensus_arg, c);
}

void om_dircache_on_consensus(om_dircache_t *d, void (*fn)(void *arg, const om_consensus_t *c),
                              void *arg)
{
    d->on_consensus = fn;
    d->on_consensus_arg = arg;
}

/* ---------------------------------------------------------------- the DirPort fetcher */

typedef struct {
    om_dircache_t *d;
    struct evhttp_connection *conn;
    struct evhttp_request *req;
    om_dir_fetch_done_fn done;
    void *ctx;
    size_t max;
    bool too_long; /* evhttp stopped reading at max */
} get_t;

static void free_conn(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    evhttp_connection_free(arg);
}

/* evhttp's reason a request failed (EVREQ_HTTP_DATA_TOO_LONG: past max_body); on_get follows. */
static void on_get_error(enum evhttp_request_error e, void *arg)
{
    get_t *g = arg;
    g->too_long = e == EVREQ_HTTP_DATA_TOO_LONG;
}

static void on_get(struct evhttp_request *req, void *arg)
{
    get_t *g = arg;
    int code = req ? evhttp_request_get_response_code(req) : 0;
    char *body = NULL;
    size_t len = 0;
    const char *err = g->too_long ? "answer too large"
                      : code      ? NULL
                                  : "no answer (connection failed or timed out)";
    if (req && code) {
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        len = evbuffer_get_length(in);
        if (len > g->max) {
            err = "answer too large";
        } else if ((body = malloc(len + 1)) != NULL) {
            evbuffer_remove(in, body, len);
            body[len] = 0;
        } else {
            err = "out of memory";
        }
    }
    /* The connection cannot be freed from inside its own callback. */
    event_base_once(g->d->base, -1, EV_TIMEOUT, free_conn, g->conn, NULL);
    g->done(g->ctx, err ? 0 : code, body, err ? 0 : len, err);
    free(body);
    free(g);
}

static void *dirport_get(void *arg, const om_dirsrv_t *srv, const char *path, size_t max_body,
                         om_dir_fetch_done_fn done, void *ctx)
{
    om_dircache_t *d = arg;
    get_t *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    *g = (get_t){.d = d, .done = done, .ctx = ctx, .max = max_body};
    g->conn = evhttp_connection_base_new(d->base, NULL, srv->address, srv->dir_port);
    g->req = g->conn ? evhttp_request_new(on_get, g) : NULL;
    if (!g->req) {
        if (g->conn) evhttp_connection_free(g->conn);
        free(g);
        return NULL;
    }
    evhttp_connection_set_timeout(g->conn, FETCH_TIMEOUT_S);
    /* Bounded while reading: evhttp stops at max_body (the request then fails) instead of
     * buffering a whole oversized answer before we look at its length. */
    evhttp_connection_set_max_body_size(g->conn,
                                        max_body > 0x7fffffff ? 0x7fffffff : (ev_ssize_t)max_body);
    evhttp_connection_set_max_headers_size(g->conn, 64 * 1024);
    evhttp_request_set_error_cb(g->req, on_get_error);
    char host[64];
    snprintf(host, sizeof host, "%s:%u", srv->address, srv->dir_port);
    evhttp_add_header(evhttp_request_get_output_headers(g->req), "Host", host);
    if (evhttp_make_request(g->conn, g->req, EVHTTP_REQ_GET, path) < 0) {
        evhttp_connection_free(g->conn); /* frees the request too */
        free(g);
        return NULL;
    }
    return g;
}

static void dirport_cancel(void *arg, void *handle)
{
    get_t *g = handle;
    (void)arg;
    evhttp_cancel_request(g->req); /* its callback will not run */
    evhttp_connection_free(g->conn);
    free(g);
}

/* ---------------------------------------------------------------- lifecycle */

om_dircache_t *om_dircache_new(struct event_base *base, const om_dir_authority_t *auths,
                               size_t n_auths)
{
    return om_dircache_new_with_clock(base, auths, n_auths, NULL, NULL);
}

om_dircache_t *om_dircache_new_with_clock(struct event_base *base, const om_dir_authority_t *auths,
                                          size_t n_auths, time_t (*now)(void *), void *now_arg)
{
    om_dircache_t *d = calloc(1, sizeof *d);
    om_dirsrv_t *srv = calloc(n_auths ? n_auths : 1, sizeof *srv);
    if (!d || !srv) {
        free(d);
        free(srv);
        return NULL;
    }
    d->base = base;
    size_t n = 0;
    for (size_t i = 0; i < n_auths; i++) {
        const om_dir_authority_t *a = &auths[i];
        if (a->is_bridge || !a->dir_port) continue;
        om_dirsrv_t *s = &srv[n++];
        snprintf(s->nickname, sizeof s->nickname, "%s", a->nickname);
        snprintf(s->address, sizeof s->address, "%s", a->ipv4);
        s->dir_port = a->dir_port;
        s->or_port = a->or_port;
        memcpy(s->rsa_fp, a->rsa_fp, 20);
        s->has_v3ident = a->has_v3ident;
        memcpy(s->v3ident, a->v3ident, 20);
    }
    om_dir_engine_config_t ec = {
        .cache = true,
        .base = base,
        .auths = srv,
        .n_auths = n,
        .fetcher = {.get = dirport_get, .cancel = dirport_cancel, .arg = d},
        .events = {.arg = d, .consensus_changed = consensus_changed},
        .now = now,
        .now_arg = now_arg,
    };
    d->engine = om_dir_engine_new(&ec);
    free(srv);
    if (!d->engine) {
        free(d);
        return NULL;
    }
    om_dir_engine_start(d->engine);
    return d;
}

void om_dircache_free(om_dircache_t *d)
{
    if (!d) return;
    om_dir_engine_free(d->engine);
    free(d->own.text);
    free(d->own.z);
    for (int i = 0; i < SLOT_N; i++)
        for (int z = 0; z < 2; z++)
            om_dir_blob_slot_clear(&d->slots[i][z]);
    free(d);
}

void om_dircache_set_own_descriptor(om_dircache_t *d, const char *desc)
{
    size_t len = strlen(desc);
    char *c = strdup(desc);
    om_dir_chunk_t ch;
    const om_dir_chunk_t *one = &ch;
    uint8_t *z = NULL;
    size_t zlen = 0;
    if (!c || om_dir_chunk_make(c, len, &ch) < 0) {
        free(c);
        return;
    }
    int r = om_dir_chunks_join(&one, 1, &z, &zlen);
    om_dir_chunk_free(&ch);
    if (r < 0) {
        free(c);
        return;
    }
    free(d->own.text);
    free(d->own.z);
    d->own.text = c;
    d->own.len = len;
    d->own.z = z;
    d->own.zlen = zlen;
    d->own.gen++;
}

int32_t om_dircache_param(const om_dircache_t *d, const char *name, int32_t def, int32_t min,
                          int32_t max)
{
    const om_consensus_t *c = d ? om_dir_engine_consensus(d->engine) : NULL;
    if (!c) return def < min ? min : def > max ? max : def;
    return om_consensus_param(c, name, def, min, max);
}

bool om_dircache_knows_relay(const om_dircache_t *d, const uint8_t rsa_id[20])
{
    const om_consensus_t *c = d ? om_dir_engine_consensus(d->engine) : NULL;
    return c && om_consensus_find(c, rsa_id) != NULL;
}

const om_dir_store_t *om_dircache_store(const om_dircache_t *d)
{
    return om_dir_engine_store(d->engine);
}

bool om_dircache_ready(const om_dircache_t *d)
{
    return d && om_dir_engine_usable(d->engine, OM_DIR_CONSENSUS_MD);
}

/* ---------------------------------------------------------------- answering */

int om_dircache_parse_request(const char *req, size_t len, char *path, size_t pathsz)
{
    size_t scan = len < OM_DIRCACHE_MAX_REQUEST ? len : OM_DIRCACHE_MAX_REQUEST;
    const char *end = NULL;
    for (size_t i = 0; i + 3 < scan; i++)
        if (!memcmp(req + i, "\r\n\r\n", 4)) {
            end = req + i + 4;
            break;
        }
    if (!end) return len >= OM_DIRCACHE_MAX_REQUEST ? -1 : 0;
    if (len < 4 || memcmp(req, "GET ", 4) != 0) return -1;
    const char *p = req + 4;
    const char *sp = memchr(p, ' ', (size_t)(end - p));
    const char *crlf = memchr(p, '\r', (size_t)(end - p));
    if (!sp || !crlf || sp > crlf || sp == p || *p != '/') return -1;
    if ((size_t)(crlf - sp) < 9 || memcmp(sp + 1, "HTTP/1.", 7) != 0) return -1;
    size_t plen = (size_t)(sp - p);
    if (plen + 1 > pathsz) return -1;
    for (size_t i = 0; i < plen; i++)
        if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f) return -1;
    memcpy(path, p, plen);
    path[plen] = 0;
    return (int)(end - req);
}

/* Status line and headers; deflated: the body is a zlib stream already. */
static void reply_head(om_dircache_reply_t *out, int code, const char *reason, bool deflated)
{
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    int hl = snprintf(out->head, sizeof out->head,
                      "HTTP/1.0 %d %s\r\nDate: %s\r\nContent-Type: text/plain\r\n%s\r\n", code,
                      reason, date, deflated ? "Content-Encoding: deflate\r\n" : "");
    out->head_len = hl > 0 && (size_t)hl < sizeof out->head ? (size_t)hl : 0;
}

static int not_found(const char *reason, om_dircache_reply_t *out)
{
    reply_head(out, 404, reason, false);
    return 0;
}

/* The document by reference: the slot's blob of this version and form. */
static int reply_doc(om_dircache_t *d, int slot, const om_dir_doc_t *doc, bool z,
                     om_dircache_reply_t *out)
{
    if (!doc->text) return not_found("Not found", out);
    om_dir_blob_slot_t *sl = &d->slots[slot][z];
    out->body = z ? om_dir_blob_slot_get(sl, doc->gen, doc->z, doc->zlen)
                  : om_dir_blob_slot_get(sl, doc->gen, doc->text, doc->len);
    if (!out->body) return -1;
    reply_head(out, 200, "OK", z);
    return 0;
}

/* tor serves a consensus while it is reasonably live (dircache.c: "Consensus is too new/old"). */
static int reply_consensus(om_dircache_t *d, int slot, const om_dir_doc_t *doc, bool z,
                           om_dircache_reply_t *out)
{
    time_t now = om_dir_engine_now(d->engine);
    if (!doc->text) return not_found("Consensus not found", out);
    if (now < doc->valid_after - OM_DIR_TOLERANCE) return not_found("Consensus is too new", out);
    if (now > doc->valid_until + OM_DIR_TOLERANCE) return not_found("Consensus is too old", out);
    return reply_doc(d, slot, doc, z, out);
}

/* The microdescriptors of a /tor/micro/d/D1-D2-... list that we hold, in the order asked. */
static size_t find_mds(const om_dir_store_t *st, char *list, const om_dir_md_t **found, size_t max)
{
    size_t n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(list, "-", &save); tok && n < max; tok = strtok_r(NULL, "-", &save)) {
        uint8_t dg[33];
        if (strlen(tok) != 43 || om_base64_decode(tok, 43, dg, sizeof dg) != 32) continue;
        const om_dir_md_t *e = om_dir_store_find_md(st, dg);
        if (e && e->text) found[n++] = e;
    }
    return n;
}

/* An answer made for this request alone (its own blob). */
static int reply_mds(const om_dir_store_t *st, char *list, bool z, om_dircache_reply_t *out)
{
    /* A path of at most 1 KiB lists fewer than 1024 / 44 digests. */
    const om_dir_md_t *found[32];
    size_t n = find_mds(st, list, found, sizeof found / sizeof found[0]);
    if (!n) return not_found("Not found", out);
    if (z) {
        const om_dir_chunk_t *chunks[32];
        uint8_t *body = NULL;
        size_t blen = 0;
        for (size_t i = 0; i < n; i++)
            chunks[i] = &found[i]->chunk;
        if (om_dir_chunks_join(chunks, n, &body, &blen) < 0) return -1;
        out->body = om_dir_blob_new(body, blen);
        free(body);
    } else {
        size_t len = 0, off = 0;
        for (size_t i = 0; i < n; i++)
            len += found[i]->len;
        if ((out->body = om_dir_blob_alloc(len)) != NULL)
            for (size_t i = 0; i < n; i++) {
                memcpy(om_dir_blob_wdata(out->body) + off, found[i]->text, found[i]->len);
                off += found[i]->len;
            }
    }
    if (!out->body) return -1;
    reply_head(out, 200, "OK", z);
    return 0;
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

int om_dircache_reply(om_dircache_t *d, const char *path_in, om_dircache_reply_t *out)
{
    memset(out, 0, sizeof *out);
    char path[1024];
    snprintf(path, sizeof path, "%s", path_in);
    size_t pl = strlen(path);
    bool z = pl > 2 && !strcmp(path + pl - 2, ".z");
    if (z) path[pl - 2] = 0;
    const om_dir_store_t *st = om_dir_engine_store(d->engine);
    if (has_prefix(path, "/tor/status-vote/current/consensus-microdesc") &&
        (path[44] == 0 || path[44] == '/'))
        return reply_consensus(d, SLOT_MD, &st->cons[OM_DIR_FLAV_MD], z, out);
    if (has_prefix(path, "/tor/status-vote/current/consensus") &&
        (path[34] == 0 || path[34] == '/'))
        return reply_consensus(d, SLOT_NS, &st->cons[OM_DIR_FLAV_NS], z, out);
    /* Every certificate we hold (a few at most): the client keeps the ones it asked for. */
    if (has_prefix(path, "/tor/keys/")) return reply_doc(d, SLOT_CERTS, &st->certs_doc, z, out);
    if (!strcmp(path, "/tor/server/authority") && d->own.text)
        return reply_doc(d, SLOT_OWN, &d->own, z, out);
    if (has_prefix(path, "/tor/micro/d/")) return reply_mds(st, path + 13, z, out);
    return not_found("Not found", out);
}

void om_dircache_reply_clear(om_dircache_reply_t *r)
{
    om_dir_blob_unref(r->body);
    memset(r, 0, sizeof *r);
}

size_t om_dircache_shared_bytes(const om_dircache_t *d)
{
    size_t n = 0;
    for (int i = 0; i < SLOT_N; i++)
        for (int z = 0; z < 2; z++)
            n += om_dir_blob_len(d->slots[i][z].blob);
    return n;
}

uint8_t *om_dircache_answer(om_dircache_t *d, const char *path, size_t *outlen)
{
    om_dircache_reply_t r;
    if (om_dircache_reply(d, path, &r) < 0) return NULL;
    size_t blen = om_dir_blob_len(r.body);
    uint8_t *out = malloc(r.head_len + blen + 1);
    if (out) {
        memcpy(out, r.head, r.head_len);
        if (blen) memcpy(out + r.head_len, om_dir_blob_data(r.body), blen);
        *outlen = r.head_len + blen;
    }
    om_dircache_reply_clear(&r);
    return out;
}

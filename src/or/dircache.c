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

#define FETCH_TIMEOUT_S 30

struct om_dircache {
    struct event_base *base;
    om_dir_engine_t *engine;
    char *own_desc; /* our server descriptor, and its compressed form */
    size_t own_len;
    uint8_t *own_z;
    size_t own_zlen;
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
} get_t;

static void free_conn(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    evhttp_connection_free(arg);
}

static void on_get(struct evhttp_request *req, void *arg)
{
    get_t *g = arg;
    int code = req ? evhttp_request_get_response_code(req) : 0;
    char *body = NULL;
    size_t len = 0;
    const char *err = code ? NULL : "no answer (connection failed or timed out)";
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
    free(d->own_desc);
    free(d->own_z);
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
    free(d->own_desc);
    free(d->own_z);
    d->own_desc = c;
    d->own_len = len;
    d->own_z = z;
    d->own_zlen = zlen;
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

/* Status line, headers and body; deflated: the body is a zlib stream already. */
static uint8_t *response(int code, const char *reason, const void *body, size_t blen, bool deflated,
                         size_t *outlen)
{
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    char head[256];
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.0 %d %s\r\nDate: %s\r\nContent-Type: text/plain\r\n%s\r\n", code,
                      reason, date, deflated ? "Content-Encoding: deflate\r\n" : "");
    uint8_t *out = malloc((size_t)hl + blen);
    if (out) {
        memcpy(out, head, (size_t)hl);
        if (blen) memcpy(out + hl, body, blen);
        *outlen = (size_t)hl + blen;
    }
    return out;
}

static uint8_t *not_found(const char *reason, size_t *outlen)
{
    return response(404, reason, NULL, 0, false, outlen);
}

static uint8_t *answer_doc(const om_dir_doc_t *doc, bool z, size_t *outlen)
{
    if (!doc->text) return not_found("Not found", outlen);
    if (z) return response(200, "OK", doc->z, doc->zlen, true, outlen);
    return response(200, "OK", doc->text, doc->len, false, outlen);
}

/* tor serves a consensus while it is reasonably live (dircache.c: "Consensus is too new/old"). */
static uint8_t *answer_consensus(const om_dir_doc_t *doc, time_t now, bool z, size_t *outlen)
{
    if (!doc->text) return not_found("Consensus not found", outlen);
    if (now < doc->valid_after - OM_DIR_TOLERANCE) return not_found("Consensus is too new", outlen);
    if (now > doc->valid_until + OM_DIR_TOLERANCE) return not_found("Consensus is too old", outlen);
    return answer_doc(doc, z, outlen);
}

/* /tor/micro/d/D1-D2-...: the ones we hold, in the order asked. */
static uint8_t *answer_mds(const om_dir_store_t *st, char *list, bool z, size_t *outlen)
{
    size_t n = 0, cap = 0, len = 0;
    const om_dir_md_t **found = NULL;
    char *save = NULL;
    for (char *tok = strtok_r(list, "-", &save); tok; tok = strtok_r(NULL, "-", &save)) {
        uint8_t dg[33];
        if (strlen(tok) != 43 || om_base64_decode(tok, 43, dg, sizeof dg) != 32) continue;
        const om_dir_md_t *e = om_dir_store_find_md(st, dg);
        if (!e || !e->text) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            const om_dir_md_t **g = realloc(found, cap * sizeof *g);
            if (!g) break;
            found = g;
        }
        found[n++] = e;
        len += e->len;
    }
    uint8_t *r = NULL, *body = NULL;
    size_t blen = 0;
    if (n && z) {
        const om_dir_chunk_t **chunks = malloc(n * sizeof *chunks);
        for (size_t i = 0; chunks && i < n; i++)
            chunks[i] = &found[i]->chunk;
        if (chunks && om_dir_chunks_join(chunks, n, &body, &blen) == 0)
            r = response(200, "OK", body, blen, true, outlen);
        free(chunks);
    } else if (n && (body = malloc(len)) != NULL) {
        for (size_t i = 0; i < n; i++) {
            memcpy(body + blen, found[i]->text, found[i]->len);
            blen += found[i]->len;
        }
        r = response(200, "OK", body, blen, false, outlen);
    } else if (!n) {
        r = not_found("Not found", outlen);
    }
    free(body);
    free(found);
    return r;
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

uint8_t *om_dircache_answer(om_dircache_t *d, const char *path_in, size_t *outlen)
{
    char path[1024];
    snprintf(path, sizeof path, "%s", path_in);
    size_t pl = strlen(path);
    bool z = pl > 2 && !strcmp(path + pl - 2, ".z");
    if (z) path[pl - 2] = 0;
    const om_dir_store_t *st = om_dir_engine_store(d->engine);
    time_t now = om_dir_engine_now(d->engine);
    if (has_prefix(path, "/tor/status-vote/current/consensus-microdesc") &&
        (path[44] == 0 || path[44] == '/'))
        return answer_consensus(&st->cons[OM_DIR_FLAV_MD], now, z, outlen);
    if (has_prefix(path, "/tor/status-vote/current/consensus") &&
        (path[34] == 0 || path[34] == '/'))
        return answer_consensus(&st->cons[OM_DIR_FLAV_NS], now, z, outlen);
    /* Every certificate we hold (a few at most): the client keeps the ones it asked for. */
    if (has_prefix(path, "/tor/keys/")) return answer_doc(&st->certs_doc, z, outlen);
    if (!strcmp(path, "/tor/server/authority") && d->own_desc) {
        if (z) return response(200, "OK", d->own_z, d->own_zlen, true, outlen);
        return response(200, "OK", d->own_desc, d->own_len, false, outlen);
    }
    if (has_prefix(path, "/tor/micro/d/")) return answer_mds(st, path + 13, z, outlen);
    return not_found("Not found", outlen);
}
